//! How `src/store/documents/dictionary-3.zstd` was made, and can be made again: a sandbox is
//! given varied clients, invoices, payments, actions, credit notes, settlements and accounting
//! submissions, its clock moved through distribution, reminders, demands and settlement runs,
//! and zstd's trainer is given every document it stored.
//!
//! The documents start from the spec's examples with their names, addresses, rows, amounts,
//! dates, methods and terms varied (drawn from a fixed seed), so that the dictionary holds what
//! every document repeats (keys, stages, event texts, number and date shapes) and the statistics
//! of their values rather than the values of one data set. The bench's documents are the example
//! unvaried; none of them is among these.
//!
//! ```text
//! CONFIRMA_WRITE_DICTIONARY=/tmp/dictionary cargo test -p confirma-sandbox --features testing \
//!     --test it -- --ignored write_dictionary_samples
//! ```
//!
//! writes `samples/` (each stored document's JSON) and `dictionary.zstd` into that directory
//! (without the variable, into a temporary one: CI runs it so), and requires the dictionary to
//! be the one in use, byte for byte (trained with zstd 1.6.0, the `zstd-sys` of `Cargo.lock`:
//! another zstd may train another, which would be a new format).
//! A dictionary in use is never replaced: documents packed with it are read with it (see
//! `store/documents.rs`); a new one is a new format beside it. Format 2's was made by this test
//! as it stood at commit 452f8c0, before cases escalated by rows (migration 10) and their
//! documents stopped being rewritten at each escalation.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::{BUSINESS_IDS, TestSandbox, example_body, send};
use confirma_sandbox::Location;

/// The dictionary's most bytes: the documents are small, and a larger one measured no smaller.
const DICTIONARY_BYTES: usize = 8192;

/// A fixed sequence of numbers (xorshift64*): the same documents on every run.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Mikko", "Anna", "Juha", "Liisa", "Pekka", "Sari", "Erik", "Maria", "Ville", "Aino", "Oskari",
    "Helmi", "Lars", "Johanna",
];
const LAST: &[&str] = &[
    "Virtanen",
    "Korhonen",
    "Mäkelä",
    "Nieminen",
    "Lindqvist",
    "Heikkinen",
    "Koskinen",
    "Järvinen",
    "Lehtonen",
    "Salo",
];
const TRADE: &[&str] = &[
    "Rakennus",
    "Putki",
    "Sähkö",
    "Kuljetus",
    "Metalli",
    "Puutarha",
    "Siivous",
    "Konsultointi",
    "Maalaus",
    "Kiinteistö",
];
const FORM: &[&str] = &["Oy", "Ky", "Tmi", "Oy Ab", "Ay"];
const STREET: &[&str] = &[
    "Kauppakatu",
    "Teollisuuskatu",
    "Rantatie",
    "Koulukatu",
    "Asemantie",
    "Mannerheimintie",
    "Hämeenkatu",
    "Satamakatu",
];
const TOWN: &[(&str, &str)] = &[
    ("00100", "HELSINKI"),
    ("33100", "TAMPERE"),
    ("20100", "TURKU"),
    ("90100", "OULU"),
    ("40100", "JYVÄSKYLÄ"),
    ("65100", "VAASA"),
    ("15110", "LAHTI"),
    ("70100", "KUOPIO"),
];
const WORK: &[(&str, &str, &str)] = &[
    ("Huoltotyö", "h", "HUR"),
    ("Asennustyö", "h", "HUR"),
    ("Suodatinsarja F7", "kpl", "C62"),
    ("Kaapeli MMJ 3x2,5", "m", "MTR"),
    ("Matkakulut", "km", "KMT"),
    ("Konsultointi", "h", "HUR"),
    ("Maali 10 l", "kpl", "C62"),
    ("Kuljetus", "kpl", "C62"),
    ("Lisenssi, vuosi", "kpl", "C62"),
];
const VAT: &[(&str, &str)] = &[("25.5", "S"), ("14", "S"), ("10", "S"), ("0", "Z")];

/// Cents as a decimal amount.
fn amount(cents: i64) -> Value {
    let text = format!("{}.{:02}", cents / 100, cents % 100);
    serde_json::from_str(&text).unwrap()
}

/// An invoice request of the spec's shape with values drawn from `draw`.
fn varied_invoice(draw: &mut Draw, number: i64, day: u32) -> Value {
    let mut body = example_body("createInvoice");
    let invoice = &mut body["invoice"];
    let (first, last) = (draw.pick(FIRST), draw.pick(LAST));
    let person = draw.below(4) == 0;
    let company = format!("{}{} {}", draw.pick(TRADE), last, draw.pick(FORM));
    let (postal, town) = TOWN[draw.below(TOWN.len() as u64) as usize];
    let buyer = &mut invoice["parties"]["buyerParty"];
    buyer["name"] = json!(if person {
        format!("{first} {last}")
    } else {
        company.clone()
    });
    buyer["entityType"] = json!(if person { "CONSUMER" } else { "BUSINESS" });
    if person {
        buyer["businessId"] = Value::Null;
        buyer["vatCode"] = Value::Null;
    }
    buyer["customerAccountId"] = json!(draw.below(100_000).to_string());
    buyer["address"]["street"] = json!(format!("{} {}", draw.pick(STREET), 1 + draw.below(90)));
    buyer["address"]["postalCode"] = json!(postal);
    buyer["address"]["postalDistrict"] = json!(town);
    let ascii = |name: &str| name.to_lowercase().replace('ä', "a").replace('ö', "o");
    let domain = format!("{}.fi", ascii(last));
    buyer["contact"]["email"] = json!(format!("laskut@{domain}"));
    buyer["contact"]["phone"] = json!(format!("+35840{:07}", draw.below(10_000_000)));
    buyer["contact"]["contactPerson"]["name"] = json!(format!("{first} {last}"));
    buyer["contact"]["contactPerson"]["email"] =
        json!(format!("{}.{}@{domain}", ascii(first), ascii(last)));
    let header = &mut invoice["header"];
    header["number"] = json!(number);
    header["date"] = json!(format!("2026-03-{day:02}"));
    let terms = [7, 14, 14, 21, 30][draw.below(5) as usize];
    let due = chrono::NaiveDate::from_ymd_opt(2026, 3, day).unwrap() + chrono::Days::new(terms);
    header["dueDate"] = json!(due.to_string());
    header["description"] = json!(format!("{} {}", draw.pick(TRADE), draw.below(500)));
    invoice["terms"]["paymentTerms"]["paymentTermsDays"] = json!(terms);
    invoice["terms"]["paymentTerms"]["freeText"] = json!(format!("{terms} päivää netto"));
    invoice["references"] = json!({
        "buyer": format!("TK-{}", draw.below(10_000)),
        "orderNumber": format!("PO-{}", draw.below(100_000)),
        "sales": format!("SF{:04}", draw.below(10_000)),
    });
    // Rows: net = quantity × price, VAT rounded to the cent, totals and breakdown summed.
    let (percent, category) = VAT[draw.below(VAT.len() as u64) as usize];
    let rate: i64 = (percent.parse::<f64>().unwrap() * 10.0) as i64; // tenths of a percent
    let mut rows = Vec::new();
    let (mut net_total, mut vat_total) = (0, 0);
    for row in 1..=1 + draw.below(4) as i64 {
        let (name, unit, code) = WORK[draw.below(WORK.len() as u64) as usize];
        let quantity = 1 + draw.below(12) as i64;
        let price = 50 * (1 + draw.below(400) as i64); // cents
        let net = quantity * price;
        let vat = (net * rate + 500) / 1000;
        net_total += net;
        vat_total += vat;
        rows.push(json!({
            "rowNumber": row, "name": name, "quantity": quantity, "unit": unit, "unitCode": code,
            "unitPrice": amount(price), "netAmount": amount(net), "vatAmount": amount(vat),
            "grossAmount": amount(net + vat), "vatPercentage": serde_json::from_str::<Value>(percent).unwrap(),
            "vatCategoryCode": category, "productCode": format!("P-{}", draw.below(1000)),
        }));
    }
    invoice["rows"] = Value::Array(rows);
    invoice["amounts"] = json!({
        "totalNetAmount": amount(net_total), "totalVatAmount": amount(vat_total),
        "totalGrossAmount": amount(net_total + vat_total),
        "vatBreakdown": [{"baseAmount": amount(net_total), "vatAmount": amount(vat_total),
            "vatPercentage": serde_json::from_str::<Value>(percent).unwrap(), "vatCategoryCode": category}],
    });
    let fee = [0, 5, 5, 7, 10][draw.below(5) as usize];
    invoice["collection"]["costs"]["reminderFeeAmount"] = json!(fee);
    invoice["collection"]["interest"]["percentage"] =
        serde_json::from_str::<Value>(["8", "10.5", "11.5", "14"][draw.below(4) as usize]).unwrap();
    invoice["collection"]["startDelayDays"] = json!([5, 7, 14][draw.below(3) as usize]);
    invoice["collection"]["enabled"] = json!(draw.below(5) != 0);
    body["distribution"]["method"] = json!(["EMAIL", "EMAIL", "LETTER"][draw.below(3) as usize]);
    body["processing"]["paymentControlEnabled"] = json!(draw.below(5) != 0);
    body
}

/// Every stored document of the sandbox's file, as JSON.
async fn stored_documents(db: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    use sqlx::{Connection, Row};
    let dictionaries: [&[u8]; 3] = [
        include_bytes!("../../src/store/documents/dictionary-1.json"),
        include_bytes!("../../src/store/documents/dictionary-2.zstd"),
        include_bytes!("../../src/store/documents/dictionary-3.zstd"),
    ];
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let mut documents = Vec::new();
    for table in [
        "clients",
        "invoices",
        "cases",
        "payments",
        "settlements",
        "accounting",
    ] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT body FROM {table}")))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        for row in rows {
            let body: Vec<u8> = row.get(0);
            // A format byte (1 to 3) and a frame packed against that dictionary, or JSON text
            // (what `store/documents.rs` reads; a format 4 would be added here too).
            let json = match body.split_first() {
                Some((&format @ (1..=3), frame)) => {
                    zstd::bulk::Decompressor::with_dictionary(dictionaries[format as usize - 1])
                        .unwrap()
                        .decompress(frame, 1 << 20)
                        .unwrap()
                }
                _ => body,
            };
            serde_json::from_slice::<Value>(&json).expect("a stored document is JSON");
            documents.push((table.to_string(), json));
        }
    }
    documents
}

#[tokio::test]
#[ignore = "a minute long: makes the documents and trains the dictionary again"]
async fn write_dictionary_samples() {
    let scratch = tempfile::tempdir().unwrap();
    let target = std::env::var("CONFIRMA_WRITE_DICTIONARY")
        .map(PathBuf::from)
        .unwrap_or_else(|_| scratch.path().to_path_buf());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.db");
    let sb = TestSandbox::on(Location::File(db.clone())).await;
    let mut draw = Draw(0x5EED_D1C7_1042_0002);
    let mut tokens = vec![sb.demo_token().await];
    for (i, id) in BUSINESS_IDS.iter().enumerate().skip(1) {
        let name = format!("{}{} {}", TRADE[i], LAST[i], FORM[i]);
        tokens.push(sb.onboard(id, &name).await.1);
    }
    let mut references = Vec::new();
    let mut number = 7_000_000;
    for day in [2u32, 3, 4] {
        for token in &tokens {
            for _ in 0..120 {
                number += 1 + draw.below(5) as i64;
                let request = varied_invoice(&mut draw, number, day);
                let (status, answer) = send(
                    &sb,
                    "POST",
                    "/api/v1/partner/invoice",
                    token,
                    Some(&request),
                )
                .await;
                assert_eq!(status, 200, "{answer}");
                if let Some(reference) = answer["paymentReference"].as_str() {
                    references.push((token.clone(), number, reference.to_string()));
                }
            }
        }
        sb.advance_days(1).await;
    }
    // Actions on some, payments (partial and whole) on others, credit notes for a few.
    for (i, (token, number, reference)) in references.iter().enumerate() {
        match i % 11 {
            0 => {
                let code = ["COMMENT", "PAUSE", "EXTEND_DUE_DATE"][draw.below(3) as usize];
                let mut action = json!({"code": code, "comment": format!("Soitettu asiakkaalle {}", draw.below(100)),
                    "data": {"invoiceNumber": number}});
                if code == "EXTEND_DUE_DATE" {
                    action["data"]["dueDate"] = json!("2026-04-20");
                }
                send(
                    &sb,
                    "POST",
                    "/api/v1/partner/invoice/action",
                    token,
                    Some(&json!({"actions": [action]})),
                )
                .await;
            }
            1 | 2 => {
                let cents = 100 * (1 + draw.below(300) as i64);
                sb.control(
                    "/sandbox/payments",
                    json!({"reference": reference, "amount": amount(cents)}),
                )
                .await;
            }
            3 => {
                let mut credit = varied_invoice(&mut draw, number + 500_000_000, 5);
                credit["invoice"]["header"]["type"] = json!("CREDIT_NOTE");
                credit["invoice"]["references"]["creditedInvoiceNumber"] = json!(number);
                send(&sb, "POST", "/api/v1/partner/invoice", token, Some(&credit)).await;
            }
            _ => {}
        }
    }
    for step in [9, 5, 7, 14] {
        sb.advance_days(step).await;
        for (token, number, reference) in references.iter().step_by(7) {
            let cents = 100 * (1 + draw.below(200) as i64);
            sb.control(
                "/sandbox/payments",
                json!({"reference": reference, "amount": amount(cents)}),
            )
            .await;
            if number % 3 == 0 {
                send(
                    &sb,
                    "GET",
                    "/api/v1/partner/settlements?unfetchedOnly=true",
                    token,
                    None,
                )
                .await;
            }
        }
    }
    for token in &tokens {
        for (path, operation) in [
            ("/api/v1/partner/accounting/ledger", "submitLedger"),
            (
                "/api/v1/partner/accounting/invoice",
                "submitAccountingInvoice",
            ),
        ] {
            send(&sb, "POST", path, token, Some(&example_body(operation))).await;
        }
    }
    sb.advance_days(2).await;
    sb.stop().await;

    let documents = stored_documents(&db).await;
    let samples = target.join("samples");
    std::fs::create_dir_all(&samples).unwrap();
    for (i, (table, json)) in documents.iter().enumerate() {
        std::fs::write(samples.join(format!("{table}-{i:05}.json")), json).unwrap();
    }
    let bodies: Vec<&[u8]> = documents.iter().map(|(_, json)| json.as_slice()).collect();
    let dictionary = zstd::dict::from_samples(&bodies, DICTIONARY_BYTES).unwrap();
    std::fs::write(target.join("dictionary.zstd"), &dictionary).unwrap();
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for (table, _) in &documents {
        *kinds.entry(table).or_default() += 1;
    }
    eprintln!(
        "{} documents {kinds:?}, dictionary of {} bytes",
        documents.len(),
        dictionary.len()
    );
    assert!(documents.len() > 1_000, "too few documents to train on");
    assert!(
        dictionary == include_bytes!("../../src/store/documents/dictionary-3.zstd"),
        "the dictionary trained now is not the one in use: a new one is a new format"
    );
}
