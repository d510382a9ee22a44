//! Spaces: isolated sandboxes inside one. Nothing of one space is seen in, or changed from,
//! another; a fork answers as its origin and then goes its own way; a deleted space leaves no
//! row behind; spaces and their tokens survive a restart and are served by every replica.

use serde_json::{Value, json};

use crate::{ADMIN, TestSandbox, invoice};

const SPACES_TOKEN: &str = "test-spaces-token";

/// A control call with `token` in `X-Admin-Token`: the status and the JSON answer (null when
/// there is none).
async fn call(
    sb: &TestSandbox,
    method: &str,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let request = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{}{path}", sb.base))
        .header("x-admin-token", token);
    let request = if body.is_null() {
        request
    } else {
        request.json(&body)
    };
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A new space made with the sandbox admin token.
async fn space(sb: &TestSandbox, body: Value) -> Value {
    let (status, made) = call(sb, "POST", "/sandbox/spaces", ADMIN, body).await;
    assert_eq!(status, 201, "{made}");
    made
}

fn demo_token(space: &Value) -> String {
    space["demoClient"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string()
}

fn admin_of(space: &Value) -> &str {
    space["adminToken"].as_str().unwrap()
}

/// A Partner API GET with an access token: status and JSON.
async fn get(sb: &TestSandbox, path: &str, token: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/partner/{path}", sb.base))
        .header("x-api-key", token)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn create(sb: &TestSandbox, token: &str, number: i64) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/partner/invoice", sb.base))
        .header("x-api-key", token)
        .json(&invoice(number))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn clock(sb: &TestSandbox, admin: &str) -> String {
    let (status, body) = call(sb, "GET", "/sandbox/clock", admin, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    body["now"].as_str().unwrap().to_string()
}

/// Two spaces driven at once on `a` and `b` (one sandbox, or two replicas of one database): an
/// advance, a reset, a fault, the journal, tokens and onboarding of one never reach the other.
async fn two_spaces_stay_apart(a: &TestSandbox, b: &TestSandbox) {
    let (space_a, space_b) = tokio::join!(
        space(a, json!({"name": "A"})),
        space(b, json!({"name": "B"}))
    );
    let (token_a, token_b) = (demo_token(&space_a), demo_token(&space_b));
    let (admin_a, admin_b) = (admin_of(&space_a), admin_of(&space_b));
    // The same seed and start: the same ids in both, different tokens.
    assert_eq!(
        space_a["demoClient"]["clientId"],
        space_b["demoClient"]["clientId"]
    );
    assert_ne!(token_a, token_b);
    let ((created_a, _), (created_b, _)) =
        tokio::join!(create(a, &token_a, 900001), create(b, &token_b, 900002));
    assert_eq!((created_a, created_b), (200, 200));
    // Each sees its own invoice only, and each token works on either replica.
    for sb in [a, b] {
        let (_, in_a) = get(sb, "invoice/distribution?invoiceNumber=900002", &token_a).await;
        assert_eq!(
            in_a["distributions"].as_array().map(Vec::len),
            Some(0),
            "{in_a}"
        );
        let (_, in_b) = get(sb, "invoice/distribution?invoiceNumber=900002", &token_b).await;
        assert_eq!(
            in_b["distributions"].as_array().map(Vec::len),
            Some(1),
            "{in_b}"
        );
    }
    // An advance of A moves A's clock only.
    let before_b = clock(b, admin_b).await;
    let (status, _) = call(
        a,
        "POST",
        "/sandbox/clock/advance",
        admin_a,
        json!({"days": 20}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(clock(a, admin_b).await, before_b);
    assert_ne!(clock(b, admin_a).await, before_b);
    let (_, b_invoice) = get(b, "invoice/distribution?invoiceNumber=900002", &token_b).await;
    assert_eq!(
        b_invoice["distributions"][0]["status"], "PENDING",
        "{b_invoice}"
    );
    // A fault in A never answers B.
    let (status, _) = call(
        a,
        "POST",
        "/sandbox/faults",
        admin_a,
        json!({"operation": "getPayments", "status": 503, "times": 5}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(get(a, "payments", &token_b).await.0, 200);
    assert_eq!(get(a, "payments", &token_a).await.0, 503);
    // A's journal holds none of B's requests (and B's none of A's fault).
    let (_, journal_a) = call(
        a,
        "GET",
        "/sandbox/requests?limit=1000",
        admin_a,
        Value::Null,
    )
    .await;
    let journal_a = journal_a.as_array().unwrap().clone();
    assert!(journal_a.iter().any(|e| e["status"] == 503));
    assert!(
        journal_a
            .iter()
            .all(|e| e["query"].as_str() != Some("invoiceNumber=900002") || e["status"] == 200),
        "{journal_a:?}"
    );
    let (_, journal_b) = call(
        a,
        "GET",
        "/sandbox/requests?limit=1000",
        admin_b,
        Value::Null,
    )
    .await;
    assert!(
        journal_b
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] != 503),
        "{journal_b}"
    );
    if std::ptr::eq(a, b) {
        // Journals are each process's own: on one, every request is in one of the two.
        assert_eq!(
            journal_a.len() + journal_b.as_array().unwrap().len(),
            9,
            "{journal_a:?} {journal_b}"
        );
    }
    // A's admin token is refused on B and on space management.
    let b_id = space_b["spaceId"].as_str().unwrap();
    for (method, path) in [
        ("GET", format!("/sandbox/spaces/{b_id}")),
        ("DELETE", format!("/sandbox/spaces/{b_id}")),
        ("POST", format!("/sandbox/spaces/{b_id}/fork")),
        ("POST", "/sandbox/spaces".to_string()),
    ] {
        let (status, body) = call(a, method, &path, admin_a, Value::Null).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
        assert_eq!(body["code"], "FORBIDDEN", "{body}");
    }
    let (_, listed) = call(b, "GET", "/sandbox/spaces", admin_a, Value::Null).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["spaceId"], space_a["spaceId"]);
    // A's provisioning token onboards into A only.
    let onboarded = a
        .onboard_with(space_a["provisioningToken"].as_str().unwrap(), "2942108-7")
        .await;
    // (A's fault still stands for getPayments: the new client is A's.)
    assert_eq!(get(a, "payments", &onboarded).await.0, 503);
    assert_eq!(get(b, "settlements", &onboarded).await.0, 200);
    let (_, b_onboarding) = call(
        b,
        "GET",
        "/sandbox/requests?operation=createClient",
        admin_b,
        Value::Null,
    )
    .await;
    assert_eq!(b_onboarding.as_array().unwrap().len(), 0);
    // A reset of A leaves B whole; A's onboarded client is gone.
    let (status, _) = call(b, "POST", "/sandbox/reset", admin_a, Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(get(a, "settlements", &onboarded).await.0, 401);
    let (_, b_invoice) = get(a, "invoice/distribution?invoiceNumber=900002", &token_b).await;
    assert_eq!(
        b_invoice["distributions"].as_array().map(Vec::len),
        Some(1),
        "{b_invoice}"
    );
    assert_eq!(clock(a, admin_b).await, before_b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_spaces_of_one_sandbox_never_see_or_disturb_each_other() {
    let sb = TestSandbox::start(None).await;
    two_spaces_stay_apart(&sb, &sb).await;
    // The default space saw none of it but the one request whose token no space knew any more.
    let default = sb.journal("limit=1000").await;
    assert_eq!(default.len(), 1, "{default:?}");
    assert_eq!(default[0]["credential"], "unknown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn two_spaces_on_two_postgres_replicas_never_see_or_disturb_each_other() {
    let storage = crate::postgres_storage().await;
    let a = TestSandbox::on(storage.clone()).await;
    let b = TestSandbox::on(storage).await;
    two_spaces_stay_apart(&a, &b).await;
}

/// Every answer of a script, tokens left out.
async fn script(sb: &TestSandbox, made: &Value) -> Vec<Value> {
    let token = demo_token(made);
    let admin = admin_of(made);
    let mut answers = vec![
        create(sb, &token, 910001).await.1,
        create(sb, &token, 910002).await.1,
    ];
    answers.push(
        call(
            sb,
            "POST",
            "/sandbox/clock/advance",
            admin,
            json!({"days": 30}),
        )
        .await
        .1,
    );
    answers.push(get(sb, "invoice/distribution", &token).await.1);
    answers.push(get(sb, "invoice/case?invoiceNumber=910001", &token).await.1);
    answers.push(get(sb, "payments", &token).await.1);
    answers
}

#[tokio::test]
async fn one_script_in_two_fresh_spaces_answers_the_same() {
    let sb = TestSandbox::start(None).await;
    let one = space(&sb, json!({"seed": 7, "start": "2026-05-04T09:00:00Z"})).await;
    let two = space(&sb, json!({"seed": 7, "start": "2026-05-04T09:00:00Z"})).await;
    assert_ne!(demo_token(&one), demo_token(&two));
    assert_eq!(one["now"], "2026-05-04T09:00:00Z");
    let (first, second) = (script(&sb, &one).await, script(&sb, &two).await);
    assert_eq!(first, second);
    assert!(
        first[4]["case"]["summary"]["caseId"].is_i64(),
        "{}",
        first[4]
    );
    // Another start gives other answers: the comparison can tell.
    let other = space(&sb, json!({"seed": 7, "start": "2026-05-05T09:00:00Z"})).await;
    assert_ne!(script(&sb, &other).await, first);
}

#[tokio::test]
async fn a_fork_answers_as_its_origin_then_each_goes_its_own_way() {
    let sb = TestSandbox::start(None).await;
    let origin = space(&sb, json!({"name": "rich"})).await;
    let token = demo_token(&origin);
    for n in 0..5 {
        assert_eq!(create(&sb, &token, 920000 + n).await.0, 200);
    }
    let (status, _) = call(
        &sb,
        "POST",
        "/sandbox/clock/advance",
        admin_of(&origin),
        json!({"days": 9}),
    )
    .await;
    assert_eq!(status, 200);
    let origin_id = origin["spaceId"].as_str().unwrap();
    let (status, fork) = call(
        &sb,
        "POST",
        &format!("/sandbox/spaces/{origin_id}/fork"),
        admin_of(&origin),
        json!({"name": "copy"}),
    )
    .await;
    assert_eq!(status, 201, "{fork}");
    assert_eq!(fork["name"], "copy");
    let fork_token = demo_token(&fork);
    assert_ne!(fork_token, token);
    assert_eq!(fork["clients"].as_array().unwrap().len(), 1, "{fork}");
    assert_eq!(
        fork["clients"][0]["accessToken"],
        fork["demoClient"]["accessToken"]
    );
    let reads = [
        "invoice/distribution",
        "invoice/distribution/v2?page=1&pageSize=3",
        "invoice/case?invoiceNumber=920003",
        "payments",
        "settlements",
        "accounting/ledger",
    ];
    for path in reads {
        assert_eq!(
            get(&sb, path, &token).await,
            get(&sb, path, &fork_token).await,
            "{path}"
        );
    }
    assert_eq!(
        clock(&sb, admin_of(&origin)).await,
        clock(&sb, admin_of(&fork)).await
    );
    // The origin's token does not open the fork, nor the fork's the origin.
    let (_, journal) = call(
        &sb,
        "GET",
        "/sandbox/requests",
        admin_of(&fork),
        Value::Null,
    )
    .await;
    assert_eq!(journal.as_array().unwrap().len(), reads.len(), "{journal}");
    // Later writes to either never show in the other; the same next number is free in both.
    assert_eq!(create(&sb, &token, 929999).await.0, 200);
    assert_eq!(create(&sb, &fork_token, 929998).await.0, 200);
    let (_, in_fork) = get(
        &sb,
        "invoice/distribution?invoiceNumber=929999",
        &fork_token,
    )
    .await;
    assert_eq!(in_fork["distributions"].as_array().map(Vec::len), Some(0));
    let (_, in_origin) = get(&sb, "invoice/distribution?invoiceNumber=929998", &token).await;
    assert_eq!(in_origin["distributions"].as_array().map(Vec::len), Some(0));
    let (status, _) = call(
        &sb,
        "POST",
        "/sandbox/clock/advance",
        admin_of(&fork),
        json!({"days": 3}),
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(
        clock(&sb, admin_of(&origin)).await,
        clock(&sb, admin_of(&fork)).await
    );
}

#[tokio::test]
async fn a_deleted_space_leaves_no_row_and_its_tokens_stop_at_once() {
    let sb = TestSandbox::start(None).await;
    let made = space(&sb, json!({})).await;
    let id = made["spaceId"].as_str().unwrap().to_string();
    let token = demo_token(&made);
    for n in 0..30 {
        assert_eq!(create(&sb, &token, 930000 + n).await.0, 200);
    }
    call(
        &sb,
        "POST",
        "/sandbox/clock/advance",
        admin_of(&made),
        json!({"days": 40}),
    )
    .await;
    let rows = sb.sandbox.rows_of_space(&id).await.unwrap();
    assert!(rows.iter().filter(|(_, n)| *n > 0).count() >= 6, "{rows:?}");
    let default_rows = sb.sandbox.rows_of_space("default").await.unwrap();
    // Its own admin token deletes it.
    let (status, body) = call(
        &sb,
        "DELETE",
        &format!("/sandbox/spaces/{id}"),
        admin_of(&made),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let rows = sb.sandbox.rows_of_space(&id).await.unwrap();
    assert!(rows.iter().all(|(_, n)| *n == 0), "{rows:?}");
    assert_eq!(
        sb.sandbox.rows_of_space("default").await.unwrap(),
        default_rows
    );
    assert_eq!(get(&sb, "payments", &token).await.0, 401);
    assert_eq!(
        call(&sb, "GET", "/sandbox/clock", admin_of(&made), Value::Null)
            .await
            .0,
        401
    );
    let (status, _) = call(
        &sb,
        "GET",
        &format!("/sandbox/spaces/{id}"),
        ADMIN,
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &sb,
        "DELETE",
        &format!("/sandbox/spaces/{id}"),
        ADMIN,
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = call(&sb, "DELETE", "/sandbox/spaces/default", ADMIN, Value::Null).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn the_spaces_token_makes_spaces_and_nothing_else_and_the_limit_answers_429() {
    let sb = TestSandbox::start_with(
        confirma_sandbox::Config {
            max_spaces: 2,
            ..confirma_sandbox::Config::for_tests()
        },
        Default::default(),
    )
    .await;
    let (status, made) = call(
        &sb,
        "POST",
        "/sandbox/spaces",
        SPACES_TOKEN,
        json!({"demo": false}),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    assert!(made["demoClient"].is_null());
    let id = made["spaceId"].as_str().unwrap();
    for (method, path) in [
        ("GET", "/sandbox/spaces".to_string()),
        ("GET", format!("/sandbox/spaces/{id}")),
        ("DELETE", format!("/sandbox/spaces/{id}")),
    ] {
        assert_eq!(
            call(&sb, method, &path, SPACES_TOKEN, Value::Null).await.0,
            403,
            "{path}"
        );
    }
    assert_eq!(
        call(&sb, "GET", "/sandbox/clock", SPACES_TOKEN, Value::Null)
            .await
            .0,
        401
    );
    assert_eq!(
        call(&sb, "POST", "/sandbox/spaces", "nobody", Value::Null)
            .await
            .0,
        401
    );
    // Without a demo client, its provisioning token onboards the first client.
    let token = sb
        .onboard_with(made["provisioningToken"].as_str().unwrap(), "1234567-1")
        .await;
    assert_eq!(get(&sb, "payments", &token).await.0, 200);
    assert_eq!(
        call(&sb, "POST", "/sandbox/spaces", SPACES_TOKEN, Value::Null)
            .await
            .0,
        201
    );
    let (status, full) = call(&sb, "POST", "/sandbox/spaces", ADMIN, Value::Null).await;
    assert_eq!(status, 429, "{full}");
    assert!(
        full["message"].as_str().unwrap().contains("--max-spaces"),
        "{full}"
    );
    // Bad input is a 400 in the error format.
    for body in [
        json!({"name": ""}),
        json!({"idleExpirySeconds": 0}),
        json!({"colour": "red"}),
        json!({"seed": -1}),
    ] {
        let (status, answer) = call(&sb, "POST", "/sandbox/spaces", ADMIN, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["code"].is_string(), "{answer}");
    }
}

#[tokio::test]
async fn a_space_unused_past_its_idle_expiry_is_deleted_and_a_used_one_is_kept() {
    let sb = TestSandbox::start(None).await;
    let idle = space(&sb, json!({"idleExpirySeconds": 1})).await;
    let used = space(&sb, json!({"idleExpirySeconds": 2})).await;
    let used_token = demo_token(&used);
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(5) {
        assert_eq!(
            get(&sb, "payments", &used_token).await.0,
            200,
            "a used space was deleted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert_eq!(get(&sb, "payments", &demo_token(&idle)).await.0, 401);
    let rows = sb
        .sandbox
        .rows_of_space(idle["spaceId"].as_str().unwrap())
        .await
        .unwrap();
    assert!(rows.iter().all(|(_, n)| *n == 0), "{rows:?}");
    let (_, listed) = call(&sb, "GET", "/sandbox/spaces", ADMIN, Value::Null).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn spaces_and_their_tokens_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spaces.db");
    let sb = TestSandbox::start(Some(path.clone())).await;
    let made = space(&sb, json!({"start": "2027-01-01T00:00:00Z"})).await;
    let token = demo_token(&made);
    assert_eq!(create(&sb, &token, 940001).await.0, 200);
    sb.stop().await;
    let sb = TestSandbox::start(Some(path)).await;
    let (_, found) = get(&sb, "invoice/distribution?invoiceNumber=940001", &token).await;
    assert_eq!(
        found["distributions"].as_array().map(Vec::len),
        Some(1),
        "{found}"
    );
    assert_eq!(clock(&sb, admin_of(&made)).await, "2027-01-01T00:00:00Z");
}

/// `confirma-sandbox space ...` with `args`: its standard output, after it succeeded.
async fn cli(args: Vec<String>) -> String {
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_confirma-sandbox"))
            .arg("space")
            .args(&args)
            .env_remove("CONFIRMA_SANDBOX_ADMIN_TOKEN")
            .env_remove("CONFIRMA_SANDBOX_SPACES_TOKEN")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The value at the end of the banner line that contains `label`.
fn banner(text: &str, label: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no {label} in {text}"));
    line.rsplit(' ').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_space_commands_make_list_fork_and_delete_spaces() {
    let sb = TestSandbox::start(None).await;
    let url = ["--url".to_string(), sb.base.clone()];
    let with = |extra: &[&str]| -> Vec<String> {
        extra
            .iter()
            .map(|s| s.to_string())
            .chain(url.iter().cloned())
            .collect()
    };
    let made = cli(with(&[
        "create",
        "--spaces-token",
        SPACES_TOKEN,
        "--name",
        "cli",
    ]))
    .await;
    let id = made.split_whitespace().nth(1).unwrap().to_string();
    assert!(id.starts_with("sp_"), "{made}");
    let token = banner(&made, "demo client");
    let admin = banner(&made, "admin token");
    assert_eq!(get(&sb, "payments", &token).await.0, 200);
    let listed = cli(with(&["list", "--admin-token", ADMIN, "--json"])).await;
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["spaceId"], id.as_str());
    assert_eq!(listed[0]["name"], "cli");
    let table = cli(with(&["list", "--admin-token", &admin])).await;
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&id) && l.ends_with("cli")),
        "{table}"
    );
    let fork = cli(with(&["fork", &id, "--admin-token", &admin, "--json"])).await;
    let fork: Value = serde_json::from_str(&fork).unwrap();
    assert_eq!(fork["clients"].as_array().unwrap().len(), 1, "{fork}");
    assert_eq!(get(&sb, "payments", &demo_token(&fork)).await.0, 200);
    let deleted = cli(with(&["delete", &id, "--admin-token", &admin])).await;
    assert!(deleted.contains("deleted"), "{deleted}");
    assert_eq!(get(&sb, "payments", &token).await.0, 401);
    assert_eq!(get(&sb, "payments", &demo_token(&fork)).await.0, 200);
}

#[tokio::test]
async fn a_space_without_the_demo_client_is_whole_after_a_reset() {
    let sb = TestSandbox::start(None).await;
    let made = space(&sb, json!({"demo": false, "start": "2026-07-01T00:00:00Z"})).await;
    let admin = admin_of(&made);
    let (status, _) = call(&sb, "POST", "/sandbox/reset", admin, Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(clock(&sb, admin).await, "2026-07-01T00:00:00Z");
    let token = sb
        .onboard_with(made["provisioningToken"].as_str().unwrap(), "1234567-1")
        .await;
    assert_eq!(get(&sb, "payments", &token).await.0, 200);
    let (status, _) = call(&sb, "POST", "/sandbox/reset", admin, Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(get(&sb, "payments", &token).await.0, 401);
    assert_eq!(clock(&sb, admin).await, "2026-07-01T00:00:00Z");
}
