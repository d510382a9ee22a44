//! Invoices and their distribution as stored, and the facts of them alone (when they distribute
//! and fall due).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How long after creation the print and distribution service has delivered an invoice.
pub const DISTRIBUTION_DELAY: Duration = Duration::minutes(5);

/// One invoice, with what the sandbox needs of it after creation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InvoiceRecord {
    pub client_id: i64,
    pub number: i64,
    pub invoice_type: InvoiceType,
    pub date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub total: Decimal,
    pub payment_reference: String,
    pub status: InvoiceStatus,
    pub payment_control: bool,
    pub buyer_name: String,
    pub received_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<DistributionRecord>,
    /// SHA-256 (hex) of its request's canonical JSON ([`canonical_json`]), which recognises an
    /// identical re-submission whatever the generated types make of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_sha256: Option<String>,
    /// Records stored before `request_sha256` hold this instead: the SHA-256 of the typed
    /// request as then serialized (32 numbers), still compared for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_hash: Option<[u8; 32]>,
    /// The distribution status the database holds for it (wire name), to keep the counts of
    /// distributions in step when it changes; none for an invoice not stored yet.
    #[serde(skip)]
    pub stored_status: Option<String>,
}

impl InvoiceRecord {
    /// When its pending distribution completes (none pending: `None`).
    pub fn distributes_at(&self) -> Option<DateTime<Utc>> {
        self.distribution
            .as_ref()
            .filter(|d| d.status == DistributionStatus::Pending)
            .map(|d| d.created_at + DISTRIBUTION_DELAY)
    }

    /// The day it becomes overdue, while it is payment-controlled, invoiced and unpaid: the day
    /// after its due date.
    pub fn overdue_on(&self) -> Option<NaiveDate> {
        (self.payment_control && self.status == InvoiceStatus::Invoiced)
            .then(|| self.due_date.succ_opt().unwrap_or(self.due_date))
    }

    /// Its pending distribution completes (as of when it was due: [`InvoiceRecord::distributes_at`]):
    /// delivered (sent, for a letter), and the invoice goes on to payment monitoring (invoiced)
    /// or is intermediated; or, undeliverable, failed with the reason, and the invoice in error.
    /// Whether it was delivered; `None` when none was pending.
    pub fn complete_distribution(&mut self) -> Option<bool> {
        let d = self
            .distribution
            .as_mut()
            .filter(|d| d.status == DistributionStatus::Pending)?;
        match d.undeliverable.take() {
            Some(reason) => {
                d.status = DistributionStatus::Failed;
                d.error_message = Some(reason);
                self.status = InvoiceStatus::Error;
                Some(false)
            }
            None => {
                d.status = match d.method {
                    DistributionMethod::Letter => DistributionStatus::Sent,
                    _ => DistributionStatus::Delivered,
                };
                d.distributed_at = Some(d.created_at + DISTRIBUTION_DELAY);
                self.status = if self.payment_control {
                    InvoiceStatus::Invoiced
                } else {
                    InvoiceStatus::Intermediated
                };
                Some(true)
            }
        }
    }

    /// The day it reaches the debtor, if it will: decided at creation (its distribution is
    /// pending and deliverable).
    pub fn delivers_on(&self) -> Option<NaiveDate> {
        self.distribution
            .as_ref()
            .filter(|d| d.status == DistributionStatus::Pending && d.undeliverable.is_none())
            .map(|d| (d.created_at + DISTRIBUTION_DELAY).date_naive())
    }
}

/// The distribution of one invoice.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DistributionRecord {
    pub method: DistributionMethod,
    pub status: DistributionStatus,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// Why delivery will fail, decided at creation from the delivery data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) undeliverable: Option<String>,
}

impl DistributionRecord {
    pub fn succeeded(&self) -> bool {
        self.status.succeeded()
    }

    pub fn failed(&self) -> bool {
        self.status.failed()
    }
}

impl DistributionStatus {
    /// A distribution succeeded once it is sent (a letter) or delivered: the one place this is
    /// decided (the filters, the counts and the queries all ask here).
    pub fn succeeded(self) -> bool {
        matches!(self, Self::Sent | Self::Delivered)
    }

    pub fn failed(self) -> bool {
        self == Self::Failed
    }
}

stored_enum! {
    /// What kind of document an invoice is.
    pub enum InvoiceType {
        Invoice = "INVOICE",
        CreditNote = "CREDIT_NOTE",
        Reminder = "REMINDER",
        AutoPaymentInvoice = "AUTO_PAYMENT_INVOICE",
        Collection = "COLLECTION",
        Factoring = "FACTORING",
    }
}

stored_enum! {
    /// Where an invoice stands.
    pub enum InvoiceStatus {
        Paused = "PAUSED",
        Draft = "DRAFT",
        Accepted = "ACCEPTED",
        Invoiced = "INVOICED",
        Credited = "CREDITED",
        Intermediated = "INTERMEDIATED",
        Manual = "MANUAL",
        Error = "ERROR",
        Duplicate = "DUPLICATE",
        Overdue = "OVERDUE",
        PartiallyPaid = "PARTIALLY_PAID",
        Paid = "PAID",
        InCollection = "IN_COLLECTION",
        Withdrawn = "WITHDRAWN",
        Cancelled = "CANCELLED",
    }
}

stored_enum! {
    /// How an invoice is delivered.
    pub enum DistributionMethod {
        Email = "EMAIL",
        Letter = "LETTER",
        Einvoice = "EINVOICE",
    }
}

stored_enum! {
    /// Where a distribution stands.
    pub enum DistributionStatus {
        Pending = "PENDING",
        Processing = "PROCESSING",
        Sent = "SENT",
        Delivered = "DELIVERED",
        Failed = "FAILED",
    }
}

/// What recognises a submitted invoice request again: the SHA-256 (hex) of its canonical JSON,
/// and, when the stored invoice of its number was recorded before that
/// ([`InvoiceRecord::needs_legacy_digest`]), the SHA-256 of its typed serialization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestDigest {
    pub canonical: String,
    pub legacy: Option<[u8; 32]>,
}

impl InvoiceRecord {
    /// Whether `digest` is of the very request this invoice was created from.
    pub fn is_same_request(&self, digest: &RequestDigest) -> bool {
        match (&self.request_sha256, &self.request_hash) {
            (Some(canonical), _) => *canonical == digest.canonical,
            (None, Some(legacy)) => digest.legacy.as_ref() == Some(legacy),
            (None, None) => false,
        }
    }

    /// Whether this invoice recognises its request only by the digest of the typed request
    /// (stored before the canonical digest): [`RequestDigest::legacy`] is needed to compare.
    pub fn needs_legacy_digest(&self) -> bool {
        self.request_sha256.is_none() && self.request_hash.is_some()
    }
}

/// The SHA-256 (hex) of the canonical JSON of a request as received ([`canonical_json`]): what
/// recognises it when it is sent again, whatever order its members came in.
pub fn request_sha256(received: &serde_json::Value) -> String {
    use sha2::Digest;
    super::hex(&sha2::Sha256::digest(canonical_json(received).as_bytes()))
}

/// A JSON value in canonical form: object members sorted by name and those that are `null`
/// left out, at every depth; arrays keep their order. Two requests that say the same thing give
/// the same text, whether a field was absent or null, and whatever order it came in.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = Vec::with_capacity(1024);
    write_canonical(value, &mut out);
    // Only JSON text was written: member names and strings through serde_json, the rest ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// Writes `value` in canonical form to `out`, as `serde_json` writes the canonical value (the
/// same bytes: test `canonical_json_is_the_text_of_the_canonical_value`), without building it.
fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    let text = |s: &str, out: &mut Vec<u8>| {
        // Writing a string to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    };
    match value {
        Value::Object(members) => {
            let write = |sorted: &mut dyn Iterator<Item = (&String, &Value)>, out: &mut Vec<u8>| {
                out.push(b'{');
                for (i, (name, member)) in sorted.filter(|(_, v)| !v.is_null()).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    text(name, out);
                    out.push(b':');
                    write_canonical(member, out);
                }
                out.push(b'}');
            };
            // serde_json keeps members sorted by name, unless some crate of the application
            // turns on its `preserve_order`.
            if members.keys().is_sorted() {
                write(&mut members.iter(), out);
            } else {
                let mut sorted: Vec<_> = members.iter().collect();
                sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
                write(&mut sorted.into_iter(), out);
            }
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::String(s) => text(s, out),
        Value::Number(n) => out.extend_from_slice(n.as_str().as_bytes()),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Null => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_ignores_member_order_and_null_members_at_every_depth() {
        let a = json!({"b": 1, "a": {"y": [1, {"q": null, "p": "x"}], "x": null}});
        let b = json!({"a": {"y": [1, {"p": "x"}]}, "b": 1});
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&a), r#"{"a":{"y":[1,{"p":"x"}]},"b":1}"#);
        // Array order and values still count.
        let c = json!({"a": {"y": [{"p": "x"}, 1]}, "b": 1});
        assert_ne!(canonical_json(&a), canonical_json(&c));
        // Exact decimals are kept as written.
        assert_ne!(
            canonical_json(&serde_json::from_str(r#"{"n": 1.50}"#).unwrap()),
            canonical_json(&serde_json::from_str(r#"{"n": 1.5}"#).unwrap())
        );
    }

    #[test]
    fn canonical_json_is_the_text_of_the_canonical_value() {
        // What `canonical_json` wrote before it streamed: the value rebuilt, then serialized.
        fn rebuilt(value: &serde_json::Value) -> serde_json::Value {
            match value {
                serde_json::Value::Object(members) => {
                    let mut sorted: Vec<_> = members.iter().filter(|(_, v)| !v.is_null()).collect();
                    sorted.sort_by(|a, b| a.0.cmp(b.0));
                    serde_json::Value::Object(
                        sorted
                            .into_iter()
                            .map(|(k, v)| (k.clone(), rebuilt(v)))
                            .collect(),
                    )
                }
                serde_json::Value::Array(items) => {
                    serde_json::Value::Array(items.iter().map(rebuilt).collect())
                }
                other => other.clone(),
            }
        }
        let texts = [
            r#"{"z": [1, 2.50, -3e-2, 1E+400, true, false, null, {}], "a": {"é\"\\\n\u0001\u2028😀": "x\ty"}, "m": null}"#,
            r#"[{"b": {"d": null, "c": [[], [null]]}, "a": "</script>"}, 0, -0, 12345678901234567890123]"#,
            r#""just a string""#,
            r#"{"":{"":""}}"#,
        ];
        for t in texts {
            let value: serde_json::Value = serde_json::from_str(t).unwrap();
            assert_eq!(canonical_json(&value), rebuilt(&value).to_string(), "{t}");
        }
    }

    #[test]
    fn a_record_recognises_its_request_by_the_digest_it_was_stored_with() {
        let stored: InvoiceRecord = serde_json::from_value(json!({
            "client_id": 1, "number": 7, "invoice_type": "INVOICE", "date": "2026-03-02",
            "due_date": "2026-03-16", "currency": "EUR", "total": 10, "payment_reference": "70",
            "status": "INVOICED", "payment_control": false, "buyer_name": "B",
            "received_at": "2026-03-02T08:00:00Z", "case_id": null, "distribution": null,
            "request_hash": vec![7; 32]
        }))
        .unwrap();
        let digest = |canonical: &str, legacy: u8| RequestDigest {
            canonical: canonical.into(),
            legacy: Some([legacy; 32]),
        };
        // Stored before the canonical digest: its hash of the typed request decides.
        assert!(stored.is_same_request(&digest("abc", 7)));
        assert!(!stored.is_same_request(&digest("abc", 8)));
        assert!(stored.needs_legacy_digest());
        let not_computed = RequestDigest {
            legacy: None,
            ..digest("abc", 7)
        };
        assert!(!stored.is_same_request(&not_computed));
        // Stored with the canonical digest: that decides, and is written back as text.
        let current = InvoiceRecord {
            request_sha256: Some("abc".into()),
            request_hash: None,
            ..stored
        };
        assert!(current.is_same_request(&digest("abc", 8)));
        assert!(!current.needs_legacy_digest());
        assert!(!current.is_same_request(&digest("abd", 7)));
        let written = serde_json::to_value(&current).unwrap();
        assert_eq!(written["request_sha256"], "abc");
        assert!(written.get("request_hash").is_none());
    }
}
