//! Tidy checks over the workspace's own source, run as tests (as rust-analyzer keeps its own).
//!
//! **No import circles.** Inside each crate, a module may use its ancestors (the parent that
//! declares it, the crate root) freely; every other import between two modules of one crate
//! goes one way. A circle (`tables` uses `invoices`, which uses `tables`) means neither can be
//! understood, tested or changed without the other: it fails the test, which names the files.
//! Imports are read from `use` items and from paths written in the code (`crate::a::b`,
//! `super::a`); comments and doc links are not imports.

//!
//! **Layers.** The sandbox's domain is layered (ARCHITECTURE.md): its records and its rules
//! import only the plain modules beside them (records, rules, check digits, money, refusals,
//! stored values) and no database or HTTP crate, and nothing in `world/` knows HTTP. [`layers`]
//! lists what breaks that, naming the module and what it imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A crate's modules (by path, `world::tables`) and, for each, the modules it imports.
pub type Imports = BTreeMap<String, BTreeSet<String>>;

/// Every module of the crate whose `src` directory is `src`, with what it imports.
pub fn imports(src: &Path) -> std::io::Result<Imports> {
    let mut files = Vec::new();
    collect(src, &mut files)?;
    let modules: BTreeMap<String, PathBuf> = files
        .into_iter()
        .filter_map(|file| module_of(src, &file).map(|m| (m, file)))
        .collect();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    let mut code = BTreeMap::new();
    for (module, file) in &modules {
        code.insert(module.clone(), code_only(&std::fs::read_to_string(file)?));
    }
    // What each module re-exports (`pub use tables::put;` in `world`): an import of
    // `world::put` is an import of `world::tables`.
    let mut reexports = BTreeMap::new();
    for (module, text) in &code {
        for path in reexported_paths(text) {
            let Some((item, _)) = path.split_last() else {
                continue;
            };
            let path = qualified(module, &path);
            if let Some(source) = resolve(module, &path, &known, &BTreeMap::new()) {
                reexports.insert((module.clone(), item.clone()), source);
            }
        }
    }
    let mut out = Imports::new();
    for (module, text) in &code {
        let mut targets = BTreeSet::new();
        for path in paths_in(text) {
            if let Some(target) = resolve(module, &path, &known, &reexports)
                && &target != module
            {
                targets.insert(target);
            }
        }
        out.insert(module.clone(), targets);
    }
    Ok(out)
}

/// The paths of the `pub use` items of a module's code (a relative `pub use tables::put;` as
/// `self`-relative: `self::tables::put`).
fn reexported_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for statement in code.split(';') {
        let statement = statement.trim();
        let Some(rest) = statement
            .strip_prefix("pub use ")
            .or_else(|| statement.strip_prefix("pub(crate) use "))
        else {
            continue;
        };
        let rest = rest.trim();
        let text: Vec<char> = if rest.starts_with("crate::") || rest.starts_with("super::") {
            rest.chars().collect()
        } else {
            format!("self::{rest}").chars().collect()
        };
        out.extend(parse_path(&text, 0).0);
    }
    out
}

/// `self::a::b` written in `module` as a path from the crate (`crate::<module>::a::b`); other
/// paths as they are.
fn qualified(module: &str, path: &[String]) -> Vec<String> {
    if path.first().map(String::as_str) != Some("self") {
        return path.to_vec();
    }
    let mut full = vec!["crate".to_string()];
    full.extend(
        module
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    full.extend(path[1..].iter().cloned());
    full
}

/// The circles among `imports`, each as the modules around it, ignoring every import of an
/// ancestor.
pub fn circles(imports: &Imports) -> Vec<Vec<String>> {
    let edges: BTreeMap<&str, Vec<&str>> = imports
        .iter()
        .map(|(from, to)| {
            let to = to
                .iter()
                .filter(|t| !is_ancestor(t, from))
                .map(String::as_str)
                .collect();
            (from.as_str(), to)
        })
        .collect();
    // Tarjan's strongly connected components: each component of more than one module is a circle.
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(v: &'a str, edges: &BTreeMap<&'a str, Vec<&'a str>>, s: &mut State<'a>) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, edges, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for &v in edges.keys() {
        if !state.index.contains_key(v) {
            visit(v, &edges, &mut state);
        }
    }
    state.found
}

/// Whether `ancestor` is `module`'s parent, grandparent, ... or the crate root (`""`).
fn is_ancestor(ancestor: &str, module: &str) -> bool {
    ancestor.is_empty() || module.starts_with(&format!("{ancestor}::"))
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// The module a file is (`world/tables.rs` → `world::tables`, `world/mod.rs` → `world`, the
/// crate root → `""`); binaries beside the library (`main.rs`, `bin/`) are crates of their own.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    let stem = last.strip_suffix(".rs")?;
    if parts.is_empty() && (stem == "lib") {
        return Some(String::new());
    }
    if parts.first().is_some_and(|p| p == "bin") || (parts.is_empty() && stem == "main") {
        return None;
    }
    if stem != "mod" {
        parts.push(stem.to_string());
    }
    Some(parts.join("::"))
}

/// The source without comments (line comments, doc comments and block comments).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut previous = ' ';
                for c in chars.by_ref() {
                    if previous == '*' && c == '/' {
                        break;
                    }
                    previous = c;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every path that starts at `crate` or `super` (`crate::world::tables::put`,
/// `super::super::cli`), as its segments; a `use` group (`super::{a, b::c}`) gives one path per
/// member.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let bytes: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < bytes.len() {
        let starts = |word: &str| {
            let w: Vec<char> = word.chars().collect();
            bytes[i..].starts_with(&w)
                && (i == 0 || !(ident(bytes[i - 1]) || bytes[i - 1] == ':'))
                && bytes.get(i + w.len()).is_some_and(|c| *c == ':')
        };
        if starts("crate") || starts("super") {
            let (paths, end) = parse_path(&bytes, i);
            out.extend(paths);
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Reads a path (with `::{...}` groups) starting at `start`; the paths and where it ended.
fn parse_path(chars: &[char], start: usize) -> (Vec<Vec<String>>, usize) {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut prefix = Vec::new();
    let mut i = start;
    loop {
        let begin = i;
        while i < chars.len() && ident(chars[i]) {
            i += 1;
        }
        if i > begin {
            prefix.push(chars[begin..i].iter().collect::<String>());
        }
        if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
            i += 2;
            while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            if chars.get(i) == Some(&'{') {
                // A group: each member continues the prefix.
                let mut depth = 0;
                let mut member_start = i + 1;
                let mut paths = Vec::new();
                let mut j = i;
                while j < chars.len() {
                    match chars[j] {
                        '{' => depth += 1,
                        '}' | ',' if depth == 1 => {
                            let member: String = chars[member_start..j].iter().collect();
                            let member = member.trim();
                            if !member.is_empty() {
                                let inner: Vec<char> = format!("x::{member}").chars().collect();
                                let (members, _) = parse_path(&inner, 0);
                                for mut m in members {
                                    m.remove(0);
                                    let mut full = prefix.clone();
                                    full.extend(m);
                                    paths.push(full);
                                }
                            }
                            member_start = j + 1;
                            if chars[j] == '}' {
                                return (paths, j + 1);
                            }
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                return (paths, j);
            }
            continue;
        }
        return (vec![prefix], i);
    }
}

/// The module of the crate that `path`, written in `module`, names: the longest prefix of it
/// that is a module, or the module an item re-exported there comes from.
fn resolve(
    module: &str,
    path: &[String],
    known: &BTreeSet<String>,
    reexports: &BTreeMap<(String, String), String>,
) -> Option<String> {
    let mut base: Vec<String> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").map(str::to_string).collect()
    };
    // `super` in `a/mod.rs` (module `a`) is the crate root; in `a/b.rs` (module `a::b`) it is
    // `a`: the same rule, since a `mod.rs` file is its directory's module.
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    let mut best = base.join("::");
    let mut current = base;
    for segment in rest {
        current.push(segment.clone());
        let name = current.join("::");
        if known.contains(&name) {
            best = name;
            continue;
        }
        // An item of `best`: where it comes from, if `best` re-exports it.
        if let Some(source) = reexports.get(&(best.clone(), segment.clone())) {
            best = source.clone();
        }
        break;
    }
    known.contains(&best).then_some(best)
}

/// A layer: the modules under `prefix` may import only modules under the `allowed` prefixes
/// (and their own ancestors) and no crate of `forbidden_crates`.
pub struct Layer {
    pub prefix: &'static str,
    pub allowed: &'static [&'static str],
    pub forbidden_crates: &'static [&'static str],
}

/// What breaks `layers` in the crate whose `src` directory is `src`: one line per module and
/// import.
pub fn layer_breaches(src: &Path, layers: &[Layer]) -> std::io::Result<Vec<String>> {
    let found = imports(src)?;
    let under =
        |module: &str, prefix: &str| module == prefix || module.starts_with(&format!("{prefix}::"));
    let mut breaches = Vec::new();
    for layer in layers {
        for (module, targets) in found.iter().filter(|(m, _)| under(m, layer.prefix)) {
            for target in targets {
                if !is_ancestor(target, module) && !layer.allowed.iter().any(|a| under(target, a)) {
                    breaches.push(format!("{module} imports {target}"));
                }
            }
        }
    }
    let mut files = Vec::new();
    collect(src, &mut files)?;
    for file in files {
        let Some(module) = module_of(src, &file) else {
            continue;
        };
        let code = code_only(&std::fs::read_to_string(&file)?);
        for layer in layers.iter().filter(|l| under(&module, l.prefix)) {
            for name in layer.forbidden_crates {
                if uses_crate(&code, name) {
                    breaches.push(format!("{module} uses the crate {name}"));
                }
            }
        }
    }
    breaches.sort();
    breaches.dedup();
    Ok(breaches)
}

/// Whether the code names the crate `name` as a path's first segment (`sqlx::query`,
/// `use sqlx::Row`, `::sqlx::Any`).
fn uses_crate(code: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(&format!("{name}::")).any(|(at, _)| {
        let before = &code[..at];
        // `::name::` is the crate only when nothing names a path before it (`a::name::` is not).
        let before = before.strip_suffix("::").unwrap_or(before);
        before
            .chars()
            .next_back()
            .is_none_or(|c| !ident(c) && c != ':')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crates of the workspace, by their `src` directories.
    fn crates() -> Vec<PathBuf> {
        let root = crate::project_root();
        let mut dirs = vec![root.join("xtask/src"), root.join("tests/src")];
        for entry in std::fs::read_dir(root.join("crates")).unwrap() {
            dirs.push(entry.unwrap().path().join("src"));
        }
        dirs.into_iter().filter(|d| d.is_dir()).collect()
    }

    #[test]
    fn no_crate_has_an_import_circle() {
        let mut found = Vec::new();
        for src in crates() {
            for circle in circles(&imports(&src).unwrap()) {
                found.push(format!("{}: {}", src.display(), circle.join(" ⇄ ")));
            }
        }
        assert!(
            found.is_empty(),
            "modules that import each other (directly or round a circle):\n{}",
            found.join("\n")
        );
    }

    /// The sandbox's layers as ARCHITECTURE.md draws them.
    const SANDBOX_LAYERS: &[Layer] = &[
        Layer {
            prefix: "world::records",
            allowed: &[
                "world::records",
                "world::checks",
                "world::money",
                "world::refusal",
                "world::stored",
            ],
            // Records are the sandbox's own: the wire types are mapped in `world::wire`.
            forbidden_crates: &["sqlx", "axum", "tokio", "confirma_server"],
        },
        Layer {
            prefix: "world::rules",
            allowed: &[
                "world::records",
                "world::rules",
                "world::checks",
                "world::money",
                "world::refusal",
                "world::stored",
            ],
            forbidden_crates: &["sqlx", "axum", "tokio"],
        },
        Layer {
            prefix: "world",
            allowed: &["world", "store"],
            forbidden_crates: &["axum"],
        },
    ];

    #[test]
    fn the_sandbox_s_layers_import_only_what_is_below_them() {
        let src = crate::project_root().join("crates/confirma-sandbox/src");
        let breaches = layer_breaches(&src, SANDBOX_LAYERS).unwrap();
        assert!(
            breaches.is_empty(),
            "imports that break the sandbox's layers (ARCHITECTURE.md):\n{}",
            breaches.join("\n")
        );
    }

    #[test]
    fn a_layer_breach_is_found_and_named() {
        let dir = tempdir().join("layers");
        let write = |file: &str, text: &str| {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("lib.rs", "mod world;");
        write("world/mod.rs", "mod rules;\nmod tables;");
        write("world/tables.rs", "pub fn put() {}");
        write(
            "world/rules/mod.rs",
            "use crate::world::tables::put;\nfn f() { sqlx::query(\"\"); }",
        );
        let breaches = layer_breaches(&dir, &SANDBOX_LAYERS[1..2]).unwrap();
        assert_eq!(
            breaches,
            [
                "world::rules imports world::tables",
                "world::rules uses the crate sqlx"
            ]
        );
        write("world/rules/mod.rs", "pub fn decide() {}");
        assert!(
            layer_breaches(&dir, &SANDBOX_LAYERS[1..2])
                .unwrap()
                .is_empty()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_circle_is_found_and_named_and_ancestors_are_not_one() {
        let dir = tempdir();
        let write = |file: &str, text: &str| {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("lib.rs", "mod world;\npub use world::World;");
        write(
            "world/mod.rs",
            "mod a;\nmod b;\npub struct World;\n// crate::world::c is a comment\n",
        );
        write(
            "world/a.rs",
            "use super::{World, b::thing};\n/// [`super::c`]\nfn f() {}",
        );
        write(
            "world/b.rs",
            "use crate::world::{a, World};\npub fn thing() {}",
        );
        write("world/c.rs", "use super::super::world::b;");
        let found = imports(&dir).unwrap();
        assert_eq!(
            found["world::a"],
            BTreeSet::from(["world".to_string(), "world::b".to_string()])
        );
        assert_eq!(
            circles(&found),
            vec![vec!["world::a".to_string(), "world::b".to_string()]]
        );
        write("world/b.rs", "use crate::world::World;\npub fn thing() {}");
        assert!(circles(&imports(&dir).unwrap()).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tidy-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
