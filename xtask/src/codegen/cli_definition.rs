//! What the hand-written part of `confirma` (crates/confirma-cli) already defines, read from its
//! own clap definition (the source, parsed with syn), so that the checker ([`super::spec`])
//! refuses a parameter whose flag would clash with one, and no list of them is kept by hand.

use anyhow::{Context, Result, anyhow};

/// The structs whose flags every generated subcommand has: the global options, and the body
/// flags of the operations that take a body.
const FLAG_STRUCTS: &[(&str, &str)] = &[
    ("crates/confirma-cli/src/cli.rs", "Global"),
    ("crates/confirma-cli/src/body.rs", "Body"),
];

/// The flags clap adds itself (`#[command(version)]` adds `--version`).
const CLAP_FLAGS: &[&str] = &["help", "version"];

/// Every long flag the hand-written command line has.
pub fn reserved_flags() -> Result<Vec<String>> {
    let mut flags: Vec<String> = CLAP_FLAGS.iter().map(|f| f.to_string()).collect();
    for (file, name) in FLAG_STRUCTS {
        let path = crate::project_root().join(file);
        let source = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let found = long_flags(&source, name).with_context(|| format!("{file}: struct {name}"))?;
        flags.extend(found);
    }
    Ok(flags)
}

/// The long flags of struct `name` in `source`: each field whose `#[arg(...)]` says `long`,
/// named as clap names it (the field in kebab case) unless `long = "..."` names it.
pub fn long_flags(source: &str, name: &str) -> Result<Vec<String>> {
    let file = syn::parse_file(source)?;
    let item = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == name => Some(s),
            _ => None,
        })
        .ok_or_else(|| anyhow!("no struct {name}"))?;
    let mut flags = Vec::new();
    for field in &item.fields {
        let Some(ident) = &field.ident else { continue };
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("arg")) {
            let mut long = None;
            attr.parse_nested_meta(|meta| {
                let value = if meta.input.peek(syn::Token![=]) {
                    Some(meta.value()?.parse::<syn::Expr>()?)
                } else {
                    None
                };
                if meta.path.is_ident("long") {
                    long = Some(match value {
                        Some(syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        })) => s.value(),
                        _ => flag(&ident.to_string()),
                    });
                }
                Ok(())
            })?;
            flags.extend(long);
        }
    }
    Ok(flags)
}

/// clap's name for the flag of a field or a query parameter: the snake-case Rust name in kebab
/// case (`invoiceNumber` → `invoice_number` → `--invoice-number`).
pub fn flag(name: &str) -> String {
    heck::ToKebabCase::to_kebab_case(heck::ToSnakeCase::to_snake_case(name).as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_read_from_the_clap_definition() {
        let source = r#"
            struct Other { #[arg(long)] not_this: bool }
            struct Global {
                #[arg(long, global = true, value_name = "ENV", help_heading = GLOBAL)]
                base_url: Option<String>,
                #[arg(long = "api-key-file", default_value_t = Output::Json)]
                key: String,
                #[arg(short)]
                short_only: bool,
                plain: bool,
            }"#;
        assert_eq!(
            long_flags(source, "Global").unwrap(),
            ["base-url", "api-key-file"]
        );
        assert!(long_flags(source, "Missing").is_err());
    }

    #[test]
    fn the_command_lines_own_flags_are_all_found() {
        let flags = reserved_flags().unwrap();
        for flag in [
            "env",
            "base-url",
            "api-key",
            "output",
            "body",
            "body-template",
            "help",
            "version",
        ] {
            assert!(flags.iter().any(|f| f == flag), "--{flag} not in {flags:?}");
        }
    }
}
