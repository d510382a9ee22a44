//! The drift report (`GET /proxy/report`, and Markdown with `?format=markdown` or on exit with
//! `--report FILE`): per operation, side and JSON path, how many exchanges had it, which kinds of
//! violation it showed how often with a masked example, and the spec's evidence there. Paths
//! that were seen and always agreed are listed too: an agreed guess is a confirmed one.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use confirma_server::Operation;
use serde::Serialize;
use serde_json::Value;

use super::{Kind, Side, Violation, evidence};

/// What the proxy has seen since it started.
#[derive(Debug)]
pub struct Report {
    upstream: String,
    since: DateTime<Utc>,
    totals: Mutex<BTreeMap<String, OperationTotals>>,
}

#[derive(Debug, Default)]
struct OperationTotals {
    exchanges: u64,
    violating: u64,
    sides: BTreeMap<Side, SideTotals>,
}

#[derive(Debug, Default)]
struct SideTotals {
    exchanges: u64,
    paths: BTreeMap<String, PathTotals>,
}

#[derive(Debug)]
struct PathTotals {
    evidence: &'static str,
    present: u64,
    kinds: BTreeMap<Kind, KindTotals>,
}

#[derive(Debug)]
struct KindTotals {
    times: u64,
    example: Option<Value>,
}

/// One side of one exchange, as the report takes it in.
pub struct Seen<'a> {
    pub side: Side,
    /// The body, when it was JSON and checked.
    pub body: Option<&'a Value>,
    pub violations: &'a [&'a Violation],
}

impl Report {
    pub fn new(upstream: String) -> Self {
        Self {
            upstream,
            since: Utc::now(),
            totals: Mutex::default(),
        }
    }

    /// Takes in one exchange of `operation` (the spec's, or none for `key`, a method and path it
    /// does not have).
    pub fn add(&self, key: &str, operation: Option<Operation>, sides: &[Seen<'_>]) {
        // The paths each side has, found before the lock is taken.
        let present: Vec<Vec<String>> = sides
            .iter()
            .map(|seen| seen.body.map(present_paths).unwrap_or_default())
            .collect();
        let mut totals = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        let op = match totals.get_mut(key) {
            Some(op) => op,
            None => totals.entry(key.to_string()).or_default(),
        };
        op.exchanges += 1;
        if sides.iter().any(|s| !s.violations.is_empty()) {
            op.violating += 1;
        }
        for (seen, present) in sides.iter().zip(present) {
            let side = op.sides.entry(seen.side).or_default();
            side.exchanges += 1;
            for path in present {
                match side.paths.get_mut(&path) {
                    Some(totals) => totals.present += 1,
                    None => {
                        let evidence = match operation {
                            Some(operation) => evidence::at(operation, seen.side, &path),
                            None => "documented",
                        };
                        let mut totals = PathTotals::new(evidence);
                        totals.present = 1;
                        side.paths.insert(path, totals);
                    }
                }
            }
            for violation in seen.violations {
                let path = normalized(&violation.path);
                let entry = side
                    .paths
                    .entry(path)
                    .or_insert_with(|| PathTotals::new(violation.evidence));
                let kind = entry.kinds.entry(violation.kind).or_insert(KindTotals {
                    times: 0,
                    example: None,
                });
                kind.times += 1;
                if kind.example.is_none() {
                    kind.example = violation.example.clone();
                }
            }
        }
    }

    /// The report as JSON.
    pub fn summary(&self) -> Summary {
        let totals = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        let operations: Vec<OperationSummary> = totals
            .iter()
            .map(|(name, op)| OperationSummary {
                operation: name.clone(),
                exchanges: op.exchanges,
                exchanges_with_violations: op.violating,
                statuses: op
                    .sides
                    .iter()
                    .filter_map(|(side, t)| match side {
                        Side::Response(status) => Some((*status, t.exchanges)),
                        Side::Request => None,
                    })
                    .collect(),
                paths: op
                    .sides
                    .iter()
                    .flat_map(|(side, totals)| {
                        totals.paths.iter().map(move |(path, p)| PathSummary {
                            side: *side,
                            path: path.clone(),
                            evidence: p.evidence,
                            exchanges: totals.exchanges,
                            present: p.present,
                            agreed: p.kinds.is_empty(),
                            violations: p
                                .kinds
                                .iter()
                                .map(|(kind, k)| KindSummary {
                                    kind: *kind,
                                    times: k.times,
                                    example: k.example.clone(),
                                })
                                .collect(),
                        })
                    })
                    .collect(),
            })
            .collect();
        Summary {
            upstream: self.upstream.clone(),
            since: self.since,
            exchanges: operations.iter().map(|o| o.exchanges).sum(),
            exchanges_with_violations: operations.iter().map(|o| o.exchanges_with_violations).sum(),
            violations: operations
                .iter()
                .flat_map(|o| &o.paths)
                .flat_map(|p| &p.violations)
                .map(|v| v.times)
                .sum(),
            operations,
        }
    }

    /// The report as Markdown, for the spec's maintainers.
    pub fn markdown(&self) -> String {
        let summary = self.summary();
        let mut out = String::new();
        let _ = writeln!(out, "# Drift report: {}\n", summary.upstream);
        let _ = writeln!(
            out,
            "Since {}: {} exchanges through the validating proxy, {} of them broke the spec ({} violations). Each finding is at a JSON path with `[]` for any item, on the request or the answer of a status, with the spec's evidence there: `documented` on the Partner pages, or guessed from the `sibling` API, `finvoice`, or `inferred`. Example values are masked (letters as `x`, digits as `9`).\n",
            summary.since.to_rfc3339_opts(SecondsFormat::Secs, true),
            summary.exchanges,
            summary.exchanges_with_violations,
            summary.violations,
        );
        out.push_str("## Where the service contradicts the spec\n\n");
        let mut contradicted = Vec::new();
        for op in &summary.operations {
            for path in &op.paths {
                for v in &path.violations {
                    contradicted.push((op, path, v));
                }
            }
        }
        if contradicted.is_empty() {
            out.push_str("Nothing: every exchange agreed with the spec.\n\n");
        } else {
            out.push_str("| operation | where | path | evidence | kind | times | example |\n|---|---|---|---|---|---:|---|\n");
            // The guesses first: they are what a report can settle.
            contradicted.sort_by_key(|(op, path, v)| {
                (
                    path.evidence == "documented",
                    op.operation.clone(),
                    path.side,
                    path.path.clone(),
                    v.kind,
                )
            });
            for (op, path, v) in contradicted {
                let _ = writeln!(
                    out,
                    "| {} | {} | `{}` | {} | {} | {} of {} | {} |",
                    op.operation,
                    path.side,
                    path.path,
                    path.evidence,
                    v.kind.words(),
                    v.times,
                    path.exchanges,
                    v.example
                        .as_ref()
                        .map_or(String::new(), |e| format!("`{}`", cell(&e.to_string()))),
                );
            }
            out.push('\n');
        }
        out.push_str("## Guesses the service confirmed\n\nPaths the spec does not have from the Partner pages, seen and always as the spec says.\n\n");
        let confirmed: Vec<_> = summary
            .operations
            .iter()
            .flat_map(|op| op.paths.iter().map(move |p| (op, p)))
            .filter(|(_, p)| p.agreed && p.present > 0 && p.evidence != "documented")
            .collect();
        if confirmed.is_empty() {
            out.push_str("None yet.\n\n");
        } else {
            out.push_str(
                "| operation | where | path | evidence | seen in |\n|---|---|---|---|---:|\n",
            );
            for (op, path) in &confirmed {
                let _ = writeln!(
                    out,
                    "| {} | {} | `{}` | {} | {} of {} |",
                    op.operation, path.side, path.path, path.evidence, path.present, path.exchanges
                );
            }
            out.push('\n');
        }
        let documented = summary
            .operations
            .iter()
            .flat_map(|op| &op.paths)
            .filter(|p| p.agreed && p.present > 0 && p.evidence == "documented")
            .count();
        let _ = writeln!(
            out,
            "{documented} documented paths were seen and agreed.\n\n## Exchanges\n\n| operation | exchanges | with violations | statuses |\n|---|---:|---:|---|"
        );
        for op in &summary.operations {
            let statuses: Vec<String> = op
                .statuses
                .iter()
                .map(|(status, n)| format!("{status} ×{n}"))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                op.operation,
                op.exchanges,
                op.exchanges_with_violations,
                statuses.join(", ")
            );
        }
        out
    }
}

impl PathTotals {
    fn new(evidence: &'static str) -> Self {
        Self {
            evidence,
            present: 0,
            kinds: BTreeMap::new(),
        }
    }
}

/// A Markdown table cell's text: no `|` or line break, at most 60 characters.
fn cell(text: &str) -> String {
    confirma_server::clip(&text.replace('|', "\\|").replace(['\n', '\r'], " "))
}

/// `$.a[3].b` as `$.a[].b`: a path for any item.
fn normalized(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

/// Every path a JSON document has (objects' fields, `[]` for items), each once.
fn present_paths(value: &Value) -> Vec<String> {
    fn walk(value: &Value, path: &mut String, out: &mut HashSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let len = path.len();
                    path.push('.');
                    path.push_str(key);
                    if !out.contains(path.as_str()) {
                        out.insert(path.clone());
                    }
                    walk(child, path, out);
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                let len = path.len();
                path.push_str("[]");
                for item in items {
                    walk(item, path, out);
                }
                path.truncate(len);
            }
            _ => {}
        }
    }
    let mut out = HashSet::new();
    walk(value, &mut "$".to_string(), &mut out);
    out.into_iter().collect()
}

/// The drift report as JSON.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub upstream: String,
    pub since: DateTime<Utc>,
    pub exchanges: u64,
    pub exchanges_with_violations: u64,
    pub violations: u64,
    pub operations: Vec<OperationSummary>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationSummary {
    /// The spec's operation id, or the method and path of one it does not have.
    pub operation: String,
    pub exchanges: u64,
    pub exchanges_with_violations: u64,
    /// How many answers of each status.
    pub statuses: BTreeMap<u16, u64>,
    pub paths: Vec<PathSummary>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PathSummary {
    pub side: Side,
    pub path: String,
    pub evidence: &'static str,
    /// Exchanges of this operation with this side (the request, or an answer of this status).
    pub exchanges: u64,
    /// How many of them had the path.
    pub present: u64,
    /// Seen and never contradicted.
    pub agreed: bool,
    pub violations: Vec<KindSummary>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindSummary {
    pub kind: Kind,
    pub times: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_are_counted_once_per_exchange_for_any_item() {
        let mut paths = present_paths(&json!({"items": [{"a": 1}, {"a": 2, "b": [3]}]}));
        paths.sort();
        assert_eq!(paths, ["$.items", "$.items[].a", "$.items[].b"]);
        assert_eq!(normalized("$.items[12].b[0]"), "$.items[].b[]");
    }
}
