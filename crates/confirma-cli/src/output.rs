//! Printing answers: pretty JSON, or a compact table of the records of a list operation.

use serde::Serialize;
use serde_json::{Value, json};

use crate::generated::OperationCommand;

/// Which records of an answer make up a table, and which of their fields are its columns.
pub struct Table {
    /// JSON pointer to the array of records (`""` when the answer is the array).
    pub rows: &'static str,
    /// Column headers and the JSON pointer of each column's value within a record.
    pub columns: &'static [(&'static str, &'static str)],
}

pub const PAYMENTS: Table = Table {
    rows: "",
    columns: &[
        ("INVOICE", "/invoiceNumber"),
        ("CASE", "/caseId"),
        ("DATE", "/paymentDate"),
        ("AMOUNT", "/paymentAmount"),
        ("CURRENCY", "/currency"),
        ("TYPE", "/paymentType"),
    ],
};

pub const SETTLEMENTS: Table = Table {
    rows: "/settlements",
    columns: &[
        ("SETTLEMENT", "/settlementId"),
        ("DATE", "/settlementDate"),
        ("AMOUNT", "/settlementAmount"),
        ("CURRENCY", "/currency"),
        ("AGENCY", "/agency"),
        ("FETCHED", "/apiFetchDate"),
    ],
};

const DISTRIBUTION_COLUMNS: &[(&str, &str)] = &[
    ("INVOICE", "/invoiceNumber"),
    ("METHOD", "/method"),
    ("STATUS", "/status"),
    ("INVOICE STATUS", "/invoiceStatus"),
    ("CASE", "/caseId"),
    ("DISTRIBUTED", "/distributedAt"),
    ("ERROR", "/errorMessage"),
];

pub const DISTRIBUTIONS: Table = Table {
    rows: "/distributions",
    columns: DISTRIBUTION_COLUMNS,
};

pub const DISTRIBUTION_PAGE: Table = Table {
    rows: "/data",
    columns: DISTRIBUTION_COLUMNS,
};

/// A bare list of distribution records (as `wait-distributed` and `invoice-status` print).
pub const DISTRIBUTION_RECORDS: Table = Table {
    rows: "",
    columns: DISTRIBUTION_COLUMNS,
};

pub const LEDGER_STATUS: Table = Table {
    rows: "/ledgers",
    columns: &[
        ("SOURCE", "/sourceIdentifier"),
        ("DOCUMENT", "/documentName"),
        ("DATE", "/documentDate"),
        ("STATUS", "/status"),
        ("SYNCED", "/syncDate"),
        ("DESCRIPTION", "/description"),
    ],
};

pub const ACCOUNTING_PAYMENT_STATUS: Table = Table {
    rows: "/payments",
    columns: &[
        ("SOURCE", "/sourceIdentifier"),
        ("INVOICE", "/invoiceNumber"),
        ("DATE", "/paymentDate"),
        ("STATUS", "/status"),
        ("SYNCED", "/syncDate"),
        ("DESCRIPTION", "/description"),
    ],
};

pub const FINVOICE_CREDENTIALS: Table = Table {
    rows: "",
    columns: &[
        ("ADDRESS", "/eInvoiceAddress"),
        ("TYPE", "/eInvoiceAddressType"),
        ("OPERATOR", "/eInvoiceOperatorId"),
        ("OPERATOR NAME", "/eInvoiceOperatorName"),
        ("NAME", "/eInvoiceAddressName"),
    ],
};

/// Case summaries and balances (as `invoice-status` prints them).
pub const CASE_SUMMARIES: Table = Table {
    rows: "",
    columns: &[
        ("CASE", "/summary/caseId"),
        ("STATUS", "/summary/status"),
        ("STAGE", "/summary/stage"),
        ("OPENED", "/summary/createdAt"),
        ("CLOSED", "/summary/closedAt"),
        ("DAYS", "/summary/activeDays"),
        ("OPEN BALANCE", "/balance/totalAmount"),
        ("PAID", "/balance/paidAmount"),
        ("CURRENCY", "/summary/currency"),
    ],
};

/// How an operation's answer is shown: its table for `--output table`, and what an empty answer
/// stands for (the real service sends 204 No Content instead of some empty lists).
#[derive(Default)]
pub struct View {
    pub table: Option<&'static Table>,
    pub empty: Option<fn() -> Value>,
}

impl View {
    fn table(table: &'static Table) -> Self {
        Self {
            table: Some(table),
            empty: None,
        }
    }
}

/// The view of each list operation; any other operation (a new one too) prints its JSON.
pub fn view(command: &OperationCommand) -> View {
    use OperationCommand as C;
    match command {
        C::GetDistributionInformation(_) => View::table(&DISTRIBUTIONS),
        C::GetDistributionInformationV2(_) => View::table(&DISTRIBUTION_PAGE),
        C::GetPayments(_) => View::table(&PAYMENTS),
        C::GetSettlements(_) => View::table(&SETTLEMENTS),
        C::GetLedgerStatus(_) => View {
            empty: Some(|| json!({"ledgers": []})),
            ..View::table(&LEDGER_STATUS)
        },
        C::GetAccountingPaymentStatus(_) => View {
            empty: Some(|| json!({"payments": []})),
            ..View::table(&ACCOUNTING_PAYMENT_STATUS)
        },
        C::GetFinvoiceCredentials(_) => View::table(&FINVOICE_CREDENTIALS),
        _ => View::default(),
    }
}

/// The answer as JSON, for printing or tabulating.
pub fn to_value(answer: &impl Serialize) -> Value {
    serde_json::to_value(answer).expect("API types serialize to JSON")
}

/// Prints an answer as pretty JSON.
pub fn print_json(answer: &impl Serialize) {
    println!("{}", pretty(&to_value(answer)));
}

pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON values print")
}

/// The records at `table.rows` as aligned columns, a header line first; `(no records)` when
/// there are none.
pub fn render(value: &Value, table: &Table) -> String {
    let records = value
        .pointer(table.rows)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if records.is_empty() {
        return "(no records)\n".to_string();
    }
    let mut rows: Vec<Vec<String>> = vec![
        table
            .columns
            .iter()
            .map(|(header, _)| header.to_string())
            .collect(),
    ];
    for record in records {
        rows.push(
            table
                .columns
                .iter()
                .map(|(_, pointer)| cell(record.pointer(pointer)))
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..table.columns.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, text) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(text);
            line.extend(std::iter::repeat_n(' ', widths[i] - text.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One table cell: strings as they are, numbers as sent (amounts keep their decimals), `-` for
/// null or absent; long texts cut at 60 characters.
fn cell(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => return "-".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let text = text.replace(['\n', '\r', '\t'], " ");
    if text.chars().count() > 60 {
        let mut cut: String = text.chars().take(59).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align_and_mark_missing_values() {
        let answer = json!({"ledgers": [
            {"sourceIdentifier": "a", "documentName": "202600145", "documentDate": "2026-02-02",
             "status": 1, "syncDate": null, "description": "Successfully synced"},
            {"sourceIdentifier": "bbbbbbbbbb", "status": 0, "description": "Pending"}
        ]});
        assert_eq!(
            render(&answer, &LEDGER_STATUS),
            "\
SOURCE      DOCUMENT   DATE        STATUS  SYNCED  DESCRIPTION
a           202600145  2026-02-02  1       -       Successfully synced
bbbbbbbbbb  -          -           0       -       Pending
"
        );
    }

    #[test]
    fn amounts_keep_their_decimals() {
        // Through the typed answer, as the commands print it: decimals are not floats.
        let answer: confirma_client::types::PaymentList = serde_json::from_str(
            r#"[{"invoiceNumber":"1","caseId":2,"paymentDate":"2026-03-27T00:00:00Z","paymentAmount":1240.50,"costsAmount":0.00,"currency":"EUR"}]"#,
        )
        .unwrap();
        let value = to_value(&answer);
        assert!(render(&value, &PAYMENTS).contains("1240.50"));
        let json = pretty(&value);
        assert!(json.contains(r#""paymentAmount": 1240.50"#), "{json}");
        assert!(json.contains(r#""costsAmount": 0.00"#), "{json}");
    }

    #[test]
    fn empty_lists_and_long_texts() {
        assert_eq!(render(&json!([]), &PAYMENTS), "(no records)\n");
        assert_eq!(render(&json!({}), &SETTLEMENTS), "(no records)\n");
        let long = "x".repeat(100);
        assert_eq!(cell(Some(&json!(long))).chars().count(), 60);
        assert_eq!(cell(Some(&json!("two\nlines"))), "two lines");
    }
}
