//! End-to-end tests of the sandbox through the generated client over real HTTP on loopback.

mod concurrency;
mod control;
mod corpus;
mod dictionary;
mod durability;
mod faults;
mod hostile;
mod invoices;
mod isolation;
mod lifecycle;
mod matrix;
mod onboarding;
mod proxy;
mod replicas;
mod spaces;
mod storage;
mod upgrade;

use std::path::PathBuf;
use std::sync::Arc;

use confirma_client::{ApiKey, Client, ClientState, types};
use confirma_sandbox::{Config, Location, Sandbox};
use serde_json::Value;

pub const PROVISIONING: &str = "test-provisioning-token";
pub const ADMIN: &str = "test-admin-token";

/// The variable that runs the suite on PostgreSQL: a URL of a server where the suite may create
/// databases (`postgres://postgres@127.0.0.1:5432/postgres`). CI sets it for a second run.
pub const TEST_DATABASE_URL: &str = "CONFIRMA_SANDBOX_TEST_DATABASE_URL";

/// Where a test's sandbox keeps its state: a new database of its own on the PostgreSQL server
/// that [`TEST_DATABASE_URL`] names, or memory when it names none.
pub async fn fresh_storage() -> Location {
    let Ok(server) = std::env::var(TEST_DATABASE_URL) else {
        return Location::Memory;
    };
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("sandbox_test_{}_{n}", std::process::id());
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&server)
        .await
        .expect("connect to the test PostgreSQL server");
    if n == 0 {
        drop_databases_of_ended_runs(&mut admin).await;
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a database for the test");
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    Location::Postgres(format!("{base}/{name}"))
}

/// Drops the databases that earlier runs of the suite made on the server (named after their
/// process, which has ended), so that a developer's server does not fill up with them: the
/// server is on this machine (tests use loopback only), where an ended process has no `/proc`.
async fn drop_databases_of_ended_runs(admin: &mut sqlx::AnyConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(datname AS TEXT) FROM pg_database WHERE datname LIKE 'sandbox_test_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .expect("list the test databases");
    for name in names {
        let pid = name.strip_prefix("sandbox_test_").and_then(|rest| {
            let (pid, n) = rest.split_once('_')?;
            n.parse::<u32>().ok()?;
            pid.parse::<u32>().ok()
        });
        let ended = pid.is_some_and(|pid| {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        });
        if ended {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut *admin)
            .await
            .expect("drop a database of an ended run");
        }
    }
}

/// A new database on the suite's PostgreSQL server, for the tests that need PostgreSQL (marked
/// `#[ignore]`, which CI's PostgreSQL run includes): without a server they fail, saying how to
/// give one, instead of passing unrun.
pub async fn postgres_storage() -> Location {
    match fresh_storage().await {
        Location::Memory => {
            panic!("this test needs PostgreSQL: set {TEST_DATABASE_URL} (CI's PostgreSQL run does)")
        }
        storage => storage,
    }
}

/// Waits until `done()` holds, looking every few milliseconds; fails saying what never happened
/// after a minute (far beyond what a loaded machine needs), instead of hanging.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} never happened"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// A sandbox served on 127.0.0.1:0 for one test.
pub struct TestSandbox {
    pub base: String,
    pub sandbox: Arc<Sandbox>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl TestSandbox {
    /// A sandbox on the SQLite file `db`, or else on the suite's backend ([`fresh_storage`]).
    pub async fn start(db: Option<PathBuf>) -> Self {
        let storage = match db {
            Some(path) => Location::File(path),
            None => fresh_storage().await,
        };
        Self::on(storage).await
    }

    /// A sandbox on `storage`, with the test configuration.
    pub async fn on(storage: Location) -> Self {
        Self::start_with(
            Config {
                storage,
                ..Config::for_tests()
            },
            confirma_sandbox::Limits::default(),
        )
        .await
    }

    pub async fn start_with(config: Config, limits: confirma_sandbox::Limits) -> Self {
        let sandbox = Sandbox::open(config).await.expect("open the sandbox");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = confirma_sandbox::router(sandbox.clone());
        let served = tokio::spawn(async move {
            confirma_sandbox::serve_with(listener, app, limits, async {
                stopped.await.ok();
            })
            .await
            .unwrap();
        });
        Self {
            base,
            sandbox,
            stop: Some(stop),
            served: Some(served),
        }
    }

    /// Stops serving and waits until the server is gone, and the writer with the sandbox (the
    /// store closes with both).
    pub async fn stop(mut self) {
        let writer = self.sandbox.writer_stopped().expect("the writer's end");
        self.stop.take().unwrap().send(()).ok();
        self.served.take().unwrap().await.unwrap();
        drop(self);
        writer.wait().await;
    }

    /// Every distribution of the token's client, whatever its invoice date.
    pub async fn all_distributions(&self, token: &str) -> types::DistributionInformationResponse {
        self.client(token)
            .get_distribution_information()
            .from_inv_date("2020-01-01".parse::<chrono::NaiveDate>().unwrap())
            .send()
            .await
            .unwrap()
            .into_inner()
    }

    pub fn client(&self, token: &str) -> Client {
        Client::new(&self.base, ClientState::new(ApiKey::new(token)))
    }

    pub async fn demo_token(&self) -> String {
        self.sandbox
            .demo()
            .await
            .unwrap()
            .expect("the seed creates a demo client")
            .1
    }

    /// The sandbox's request journal (`GET /sandbox/requests?{query}`), newest first.
    pub async fn journal(&self, query: &str) -> Vec<Value> {
        let answer: Value = reqwest::Client::new()
            .get(format!("{}/sandbox/requests?{query}", self.base))
            .header("x-admin-token", ADMIN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer.as_array().cloned().unwrap()
    }

    /// POST to the control API with the admin token; the JSON answer.
    pub async fn control(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .header("x-admin-token", ADMIN)
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    pub async fn advance_days(&self, days: i64) {
        let (status, body) = self
            .control("/sandbox/clock/advance", serde_json::json!({"days": days}))
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Onboards a client with `provisioning` (a space's provisioning token); returns its token.
    pub async fn onboard_with(&self, provisioning: &str, business_id: &str) -> String {
        self.client(provisioning)
            .create_client()
            .body(client_request(business_id))
            .send()
            .await
            .expect("onboard")
            .into_inner()
            .access_token
    }

    /// Onboards a new client with a valid business ID; returns (client id, token).
    pub async fn onboard(&self, business_id: &str, name: &str) -> (i64, String) {
        let mut request = client_request(business_id);
        request.client.name = name.parse().unwrap();
        let created = self
            .client(PROVISIONING)
            .create_client()
            .body(request)
            .send()
            .await
            .expect("onboard")
            .into_inner();
        (created.client_id, created.access_token)
    }
}

/// The spec's onboarding example for another business ID (and its VAT number).
pub fn client_request(business_id: &str) -> types::CreateClientRequest {
    let mut request = example::<types::CreateClientRequest>("createClient");
    request.client.business_code = business_id.parse().unwrap();
    request.client.vat_reg_nbr = Some(
        format!("FI{}", business_id.replace('-', ""))
            .parse()
            .unwrap(),
    );
    request
}

/// The request example of `operation` from the spec, as a client type.
pub fn example<T: serde::de::DeserializeOwned>(operation: &str) -> T {
    serde_json::from_value(example_body(operation)).expect("the example fits the client type")
}

/// The request example of the operation with this operationId, as JSON.
pub fn example_body(operation: &str) -> Value {
    let op = confirma_server::Operation::from_id(operation)
        .unwrap_or_else(|| panic!("{operation} is not an operation of the spec"));
    confirma_server::runtime::example_request(op)
        .unwrap_or_else(|| panic!("{operation} has no request example"))
}

/// One partner API request with the token (and a JSON body); the status and the JSON answer
/// (null when empty).
pub async fn send(
    sb: &TestSandbox,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{}{path}", sb.base))
        .header("x-api-key", token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    let bytes = answer.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, body)
}

/// The spec's example invoice under another number, dated at the sandbox start (2026-03-02).
pub fn invoice(number: i64) -> types::SalesInvoiceRequest {
    let mut request: types::SalesInvoiceRequest = example("createInvoice");
    request.invoice.header.number = number;
    request.invoice.header.date = "2026-03-02".parse().unwrap();
    request.invoice.header.due_date = "2026-03-16".parse().unwrap();
    if let Some(r) = request.invoice.references.as_mut() {
        r.payment = None;
    }
    request
}

/// Renews the client's token; the new token.
pub async fn renewed(client: &Client) -> String {
    client
        .renew_token()
        .send()
        .await
        .unwrap()
        .into_inner()
        .access_token
        .unwrap()
}

/// One new settlement for the token's client: an invoice created on `creating`, paid 10.00 and
/// settled through `paying` (the same sandbox, or another replica).
pub async fn one_more_settlement(
    creating: &TestSandbox,
    paying: &TestSandbox,
    token: &str,
    number: i64,
) {
    let created = creating
        .client(token)
        .create_invoice()
        .body(invoice(number))
        .send()
        .await
        .unwrap()
        .into_inner();
    let (status, body) = paying
        .control(
            "/sandbox/payments",
            serde_json::json!({"reference": created.payment_reference, "amount": 10.00}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = paying
        .control("/sandbox/settlements/run", serde_json::json!({}))
        .await;
    assert_eq!(status, 200);
}

/// Fetches the unfetched settlements once through each of `clients`, all released at once;
/// how many times each settlement was delivered.
pub async fn fetch_unfetched_at_once(
    clients: Vec<Client>,
) -> std::collections::BTreeMap<i64, usize> {
    let start = Arc::new(tokio::sync::Barrier::new(clients.len()));
    let calls = clients.into_iter().map(|client| {
        let start = start.clone();
        tokio::spawn(async move {
            start.wait().await;
            client
                .get_settlements()
                .unfetched_only(true)
                .send()
                .await
                .unwrap()
                .into_inner()
                .settlements
        })
    });
    let mut deliveries = std::collections::BTreeMap::new();
    for answer in futures::future::join_all(calls).await {
        for s in answer.unwrap() {
            *deliveries.entry(s.settlement_id).or_default() += 1;
        }
    }
    deliveries
}

/// The status and decoded error body of a failed call.
pub fn api_error<T: std::fmt::Debug>(
    result: Result<T, confirma_client::Error<types::ErrorResponse>>,
) -> (u16, types::ErrorResponse) {
    match result {
        Err(confirma_client::Error::ErrorResponse(resp)) => {
            (resp.status().as_u16(), resp.into_inner())
        }
        other => panic!("expected an error response, got {other:?}"),
    }
}

/// Business IDs with valid check digits for test clients.
pub const BUSINESS_IDS: [&str; 4] = ["0646115-8", "3120495-4", "1572860-0", "0112038-9"];

/// An invoice action with only the invoice number set (and a comment).
pub fn action(code: types::ActionCode, invoice_number: i64) -> types::InvoiceAction {
    types::InvoiceAction {
        code,
        comment: Some("From the lifecycle test".parse().unwrap()),
        data: types::InvoiceActionData {
            amount: None,
            case_id: None,
            currency: None,
            due_date: None,
            invoice_number,
            outstanding_capital_amount: None,
            outstanding_costs_amount: None,
            outstanding_interest_amount: None,
            payment_date: None,
            payment_method: None,
            reference: None,
        },
    }
}

/// The real `confirma-sandbox` binary on a database of its own, with the tests' fixed tokens.
pub struct Binary {
    pub child: std::process::Child,
    pub base: String,
    /// The demo client's token, from the start-up banner.
    pub token: String,
}

impl Binary {
    /// Starts the binary on `db` and waits for its banner.
    pub fn start(db: &std::path::Path, seed: u64) -> Self {
        Self::start_logging(db, seed, None)
    }

    /// The same, with the log (stderr) at its most verbose level written to `log`.
    pub fn start_logging(db: &std::path::Path, seed: u64, log: Option<&std::path::Path>) -> Self {
        Self::launch(&["--db", db.to_str().unwrap()], seed, log)
    }

    /// Starts the binary on `storage` (`--db <file>` or `--database-url <url>`), waits for its
    /// banner, and writes its log to `log` if given.
    pub fn launch(storage: &[&str], seed: u64, log: Option<&std::path::Path>) -> Self {
        use std::io::BufRead;
        let stderr = match log {
            Some(path) => std::fs::File::create(path).unwrap().into(),
            None => std::process::Stdio::null(),
        };
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_confirma-sandbox"))
            .args(["--listen", "127.0.0.1:0"])
            .args(storage)
            .args(["--seed", &seed.to_string()])
            .args(["--provisioning-token", PROVISIONING, "--admin-token", ADMIN])
            .env("RUST_LOG", "trace")
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut base, mut token) = (String::new(), String::new());
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("Confirma Partner API sandbox listening on ") {
                base = rest.trim().to_string();
            }
            if line.contains("demo client") {
                token = line.rsplit(' ').next().unwrap().to_string();
                break;
            }
        }
        Self { child, base, token }
    }

    pub fn client(&self, token: &str) -> Client {
        Client::new(&self.base, ClientState::new(ApiKey::new(token)))
    }
}

/// Starts the binary with `args` (on a free port) and returns what it said on standard error
/// when it refused to start; fails the test if it is still running after 20 s.
pub fn refused_at_start(args: &[&str]) -> String {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_confirma-sandbox"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("confirma-sandbox {args:?} started instead of refusing");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut said = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut said).unwrap();
    said
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
