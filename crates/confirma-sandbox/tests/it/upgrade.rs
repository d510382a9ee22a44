//! Databases written by earlier releases open in this one and answer the same.
//!
//! Each directory of `tests/fixtures/` holds one earlier release's database, as an SQLite file
//! (`sandbox.db`) and as a PostgreSQL dump (`postgres.sql`), both holding the same rich state
//! (clients, tokens, invoices with a failed distribution, cases reminded and paid, payments, a
//! settlement fetched, accounting synced), and `answers.json`: how it was made (seed, start,
//! tokens), every read the partner API answered on it then, and one invoice request it holds.
//! This release opens each, must answer every read the same (as JSON), must answer the stored
//! invoice's identical re-submission `DUPLICATE`, and must take new writes and clock moves on it.
//!
//! A fixture is written once, by the release it is named after, and never again: a release that
//! changes what is stored adds a directory (`CONFIRMA_WRITE_UPGRADE_FIXTURE=tests/fixtures/NAME
//! cargo test -p confirma-sandbox --test it -- --ignored write_upgrade_fixture`, with
//! `CONFIRMA_SANDBOX_TEST_DATABASE_URL` set and `pg_dump` on the path for the dump).

use std::path::{Path, PathBuf};

use confirma_sandbox::{Config, Location};
use serde_json::{Value, json};

use crate::{BUSINESS_IDS, TEST_DATABASE_URL, TestSandbox, example_body, invoice, send};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// The fixture directories holding `file`, with what each recorded.
fn fixtures(file: &str) -> Vec<(String, PathBuf, Value)> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .expect("tests/fixtures holds the earlier releases' databases")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join(file).exists())
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no {file} in {FIXTURES}");
    found
        .into_iter()
        .map(|dir| {
            let recorded =
                serde_json::from_slice(&std::fs::read(dir.join("answers.json")).unwrap()).unwrap();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            (name, dir, recorded)
        })
        .collect()
}

#[tokio::test]
async fn every_earlier_release_s_sqlite_database_answers_the_same_and_takes_writes() {
    for (name, dir, recorded) in fixtures("sandbox.db") {
        let copy = tempfile::tempdir().unwrap();
        let db = copy.path().join("sandbox.db");
        std::fs::copy(dir.join("sandbox.db"), &db).unwrap();
        answers_the_same_and_takes_writes(&name, Location::File(db), &recorded).await;
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn every_earlier_release_s_postgres_database_answers_the_same_and_takes_writes() {
    for (name, dir, recorded) in fixtures("postgres.sql") {
        answers_the_same_and_takes_writes(&name, load(&dir).await, &recorded).await;
    }
}

async fn answers_the_same_and_takes_writes(name: &str, storage: Location, recorded: &Value) {
    let sb = open(storage, recorded).await;
    let now = reads(&sb, recorded).await;
    for (then, now) in recorded["reads"].as_array().unwrap().iter().zip(&now) {
        assert_eq!(
            now, then,
            "{name}: {} answers otherwise than when the database was written",
            then["get"]
        );
    }
    assert_eq!(now.len(), recorded["reads"].as_array().unwrap().len());

    // The invoice it holds, sent again as it was sent then, is recognised as the same one.
    let token = recorded["tokens"]["demo"].as_str().unwrap();
    let (status, answer) = send(
        &sb,
        "POST",
        "/api/v1/partner/invoice",
        token,
        Some(&recorded["resubmitted"]),
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("DUPLICATE")),
        "{name}: {answer}"
    );

    // It takes writes: a new invoice, and a month of the clock over every stored case.
    let body = serde_json::to_value(invoice(710_001)).unwrap();
    let (status, answer) = send(&sb, "POST", "/api/v1/partner/invoice", token, Some(&body)).await;
    assert_eq!(status, 200, "{name}: {answer}");
    sb.advance_days(30).await;
    let (status, answer) = send(
        &sb,
        "GET",
        "/api/v1/partner/invoice/distribution?fromInvDate=2020-01-01",
        token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{name}: {answer}");
    sb.stop().await;
}

/// Writes what a fixture directory lacks (see the module's documentation: only for a release
/// whose storage changed, never over an earlier fixture): the SQLite file and the answers, and
/// the PostgreSQL dump when a server is given, whose answers must be those recorded.
#[tokio::test]
#[ignore = "a tool, not a test: writes a fixture for tests/fixtures (CONFIRMA_WRITE_UPGRADE_FIXTURE)"]
async fn write_upgrade_fixture() {
    let target = std::env::var("CONFIRMA_WRITE_UPGRADE_FIXTURE")
        .expect("CONFIRMA_WRITE_UPGRADE_FIXTURE names the fixture directory to write");
    let target = PathBuf::from(target);
    std::fs::create_dir_all(&target).unwrap();
    let config = Config::for_tests();
    if !target.join("sandbox.db").exists() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sandbox.db");
        let sb = TestSandbox::on(Location::File(db.clone())).await;
        let (tokens, resubmitted) = build_state(&sb).await;
        sb.stop().await;
        // One compact file, the write-ahead log folded in.
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}", db.display());
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query("VACUUM INTO $1")
            .bind(target.join("sandbox.db").display().to_string())
            .execute(&mut conn)
            .await
            .unwrap();
        let mut recorded = json!({
            "seed": config.seed,
            "start": config.start,
            "provisioningToken": config.provisioning_token,
            "adminToken": config.admin_token,
            "tokens": tokens,
            "resubmitted": resubmitted,
        });
        // The reads are taken from a copy of the written file, as the test takes them.
        let copy = tempfile::tempdir().unwrap();
        let db = copy.path().join("sandbox.db");
        std::fs::copy(target.join("sandbox.db"), &db).unwrap();
        let sb = open(Location::File(db), &recorded).await;
        recorded["reads"] = Value::Array(reads(&sb, &recorded).await);
        sb.stop().await;
        std::fs::write(
            target.join("answers.json"),
            serde_json::to_string_pretty(&recorded).unwrap() + "\n",
        )
        .unwrap();
    }
    if !target.join("postgres.sql").exists() && std::env::var(TEST_DATABASE_URL).is_ok() {
        let recorded: Value =
            serde_json::from_slice(&std::fs::read(target.join("answers.json")).unwrap()).unwrap();
        let storage = crate::postgres_storage().await;
        let sb = TestSandbox::on(storage.clone()).await;
        let (tokens, _) = build_state(&sb).await;
        assert_eq!(
            tokens, recorded["tokens"],
            "the same state on both backends"
        );
        sb.stop().await;
        let Location::Postgres(url) = storage else {
            unreachable!("a PostgreSQL location")
        };
        let dump = std::process::Command::new("pg_dump")
            .args([
                "--inserts",
                "--no-owner",
                "--no-privileges",
                "--dbname",
                &url,
            ])
            .output()
            .expect("run pg_dump");
        assert!(
            dump.status.success(),
            "{}",
            String::from_utf8_lossy(&dump.stderr)
        );
        // Plain SQL, without psql's meta-commands (`\restrict`), which no driver runs.
        let sql: String = String::from_utf8(dump.stdout)
            .unwrap()
            .lines()
            .filter(|line| !line.starts_with('\\'))
            .map(|line| format!("{line}\n"))
            .collect();
        std::fs::write(target.join("postgres.sql"), sql).unwrap();
        // Loaded as the test loads it, it answers as recorded.
        let name = target.display().to_string();
        answers_the_same_and_takes_writes(&name, load(&target).await, &recorded).await;
    }
}

/// A new database on the suite's PostgreSQL server, holding the fixture's dump.
async fn load(fixture: &Path) -> Location {
    let storage = crate::postgres_storage().await;
    let Location::Postgres(url) = &storage else {
        unreachable!("a PostgreSQL location")
    };
    let dump = std::fs::read_to_string(fixture.join("postgres.sql")).unwrap();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(dump))
        .execute(&mut conn)
        .await
        .unwrap();
    storage
}

/// A sandbox on `storage`, configured as when the fixture was written.
async fn open(storage: Location, recorded: &Value) -> TestSandbox {
    let text = |key: &str| recorded[key].as_str().map(str::to_owned);
    let config = Config {
        storage,
        seed: recorded["seed"].as_u64().unwrap(),
        start: text("start").unwrap().parse().unwrap(),
        provisioning_token: text("provisioningToken"),
        admin_token: text("adminToken"),
        ..Config::for_tests()
    };
    TestSandbox::start_with(config, confirma_sandbox::Limits::default()).await
}

/// A month of a sandbox's life: a client onboarded, invoices created (one distribution failing),
/// actions, reminders, payments, a settlement fetched, accounting submitted and synced. The
/// tokens, and the request of one invoice it holds.
async fn build_state(sb: &TestSandbox) -> (Value, Value) {
    let (demo_client, demo) = sb.sandbox.demo().await.unwrap().unwrap();
    let (_, onboarded) = sb.onboard(BUSINESS_IDS[1], "Fixture Oy").await;
    let (status, body) = sb
        .control(
            "/sandbox/distribution/fail-next",
            json!({"clientId": demo_client, "invoiceNumber": 700_005}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut references = Vec::new();
    let mut requests = Vec::new();
    for n in 700_001..=700_005 {
        let request = serde_json::to_value(invoice(n)).unwrap();
        let (status, answer) =
            send(sb, "POST", "/api/v1/partner/invoice", &demo, Some(&request)).await;
        assert_eq!(status, 200, "{answer}");
        references.push(answer["paymentReference"].clone());
        requests.push(request);
    }
    let request = serde_json::to_value(invoice(1)).unwrap();
    let (status, answer) = send(
        sb,
        "POST",
        "/api/v1/partner/invoice",
        &onboarded,
        Some(&request),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    sb.advance_days(1).await;
    let actions = json!({"actions": [
        {"code": "COMMENT", "comment": "Called the debtor", "data": {"invoiceNumber": 700_001}},
        {"code": "PAUSE", "comment": "Disputed", "data": {"invoiceNumber": 700_004}},
    ]});
    let (status, answer) = send(
        sb,
        "POST",
        "/api/v1/partner/invoice/action",
        &demo,
        Some(&actions),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    sb.advance_days(22).await; // 2026-03-25: overdue, reminded
    for (reference, amount) in [
        (&references[0], json!(300.00)),
        (&references[1], json!(2000)),
    ] {
        let (status, body) = sb
            .control(
                "/sandbox/payments",
                json!({"reference": reference, "amount": amount}),
            )
            .await;
        // The second is more than is owed: refused, and the whole balance is paid instead.
        if status == 402 {
            let (_, case) = send(
                sb,
                "GET",
                "/api/v1/partner/invoice/case?invoiceNumber=700002",
                &demo,
                None,
            )
            .await;
            let total = case["case"]["balance"]["totalAmount"].clone();
            let (status, body) = sb
                .control(
                    "/sandbox/payments",
                    json!({"reference": reference, "amount": total}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        } else {
            assert_eq!(status, 200, "{body}");
        }
    }
    sb.advance_days(5).await; // 2026-03-30, a Monday: the settlement
    let (status, _) = send(
        sb,
        "GET",
        "/api/v1/partner/settlements?unfetchedOnly=true",
        &demo,
        None,
    )
    .await;
    assert_eq!(status, 200);
    for (path, operation) in [
        ("/api/v1/partner/accounting/ledger", "submitLedger"),
        (
            "/api/v1/partner/accounting/invoice",
            "submitAccountingInvoice",
        ),
    ] {
        let (status, answer) = send(sb, "POST", path, &demo, Some(&example_body(operation))).await;
        assert_eq!(status, 200, "{operation}: {answer}");
    }
    let mut payments = example_body("submitAccountingPayments");
    payments["payments"].as_array_mut().unwrap().truncate(1);
    payments["payments"][0]["invoiceNumber"] = json!("700001");
    let (status, answer) = send(
        sb,
        "POST",
        "/api/v1/partner/accounting/payment",
        &demo,
        Some(&payments),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    sb.advance_days(1).await;
    (
        json!({"demo": demo, "onboarded": onboarded}),
        requests.swap_remove(2),
    )
}

/// Every read of the partner API on the state [`build_state`] makes, with its answer.
async fn reads(sb: &TestSandbox, recorded: &Value) -> Vec<Value> {
    let demo = recorded["tokens"]["demo"].as_str().unwrap();
    let onboarded = recorded["tokens"]["onboarded"].as_str().unwrap();
    let since = "fromDate=2020-01-01&toDate=2026-12-31";
    let mut gets = vec![
        (demo, "/api/v1/partner/validate".to_owned()),
        (onboarded, "/api/v1/partner/validate".to_owned()),
        (
            demo,
            "/api/v1/partner/invoice/distribution?fromInvDate=2020-01-01".to_owned(),
        ),
        (
            demo,
            "/api/v1/partner/invoice/distribution/v2?fromInvDate=2020-01-01&pageSize=3&page=2"
                .to_owned(),
        ),
        (
            onboarded,
            "/api/v1/partner/invoice/distribution/v2?fromInvDate=2020-01-01".to_owned(),
        ),
        (demo, format!("/api/v1/partner/payments?{since}")),
        (demo, format!("/api/v1/partner/settlements?{since}")),
        (demo, format!("/api/v1/partner/accounting/ledger?{since}")),
        (demo, format!("/api/v1/partner/accounting/payment?{since}")),
        (
            demo,
            "/api/v1/partner/finvoice/credentials?businessId=0112038-9".to_owned(),
        ),
    ];
    for n in 700_001..=700_005 {
        gets.push((
            demo,
            format!("/api/v1/partner/invoice/case?invoiceNumber={n}"),
        ));
    }
    let mut answers = Vec::new();
    for (token, path) in gets {
        let (status, body) = send(sb, "GET", &path, token, None).await;
        answers.push(json!({"get": path, "status": status, "body": body}));
    }
    answers
}
