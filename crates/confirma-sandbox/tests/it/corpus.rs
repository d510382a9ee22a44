//! The hostile corpus: `tests/hostile/*.http`, one raw HTTP request per file, sent over plain TCP
//! to the real binary. Each gets its expected 4xx in the error format (also where hyper refuses the
//! bytes before any application code runs), the sandbox keeps serving after every case, and the
//! stored data is the same before and after the whole corpus.
//!
//! A file starts with `#` lines: a description, then `expect: STATUS CODE`, optionally
//! `field: PATH CODE` (one of the field problems), `max-answer-bytes: N`, `no-field-errors`, `raw`
//! (send the bytes as written: no Host, Content-Length or Connection added), `hold` (keep the
//! connection open after sending) and `half-close` (close the sending side). Templates:
//! `{{token}}`, `{{other}}` (another client's token), `{{admin}}`, `{{provisioning}}`,
//! `{{repeat N TEXT}}`, `{{byte HH}}` and `{{example OPERATION path=JSON ...}}` (the spec's
//! request example of the operation with fields replaced).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{ADMIN, BUSINESS_IDS, Binary, PROVISIONING};

struct Case {
    name: String,
    status: u16,
    /// The error code of the answer.
    code: String,
    field: Option<(String, String)>,
    max_answer: Option<usize>,
    no_field_errors: bool,
    raw: bool,
    hold: bool,
    half_close: bool,
    request: Vec<u8>,
}

struct Tokens {
    token: String,
    other: String,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

/// `{{example OPERATION path=JSON ...}}`: the request example with fields replaced.
fn example(args: &str) -> String {
    let mut parts = args.split_whitespace();
    let operation = parts.next().expect("an operation");
    let mut value: Value = crate::example_body(operation);
    for assignment in parts {
        let (path, json) = assignment.split_once('=').expect("path=JSON");
        let pointer = format!("/{}", path.replace('.', "/"));
        *value
            .pointer_mut(&pointer)
            .unwrap_or_else(|| panic!("{pointer} is in the {operation} example")) =
            serde_json::from_str(json).expect("JSON value");
    }
    value.to_string()
}

fn expand(text: &str, tokens: &Tokens) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.extend_from_slice(&rest.as_bytes()[..start]);
        let end = rest[start..].find("}}").expect("a closing }}") + start;
        let template = &rest[start + 2..end];
        let (name, args) = template.split_once(' ').unwrap_or((template, ""));
        match name {
            "token" => out.extend_from_slice(tokens.token.as_bytes()),
            "other" => out.extend_from_slice(tokens.other.as_bytes()),
            "admin" => out.extend_from_slice(ADMIN.as_bytes()),
            "provisioning" => out.extend_from_slice(PROVISIONING.as_bytes()),
            "byte" => out.push(u8::from_str_radix(args, 16).expect("two hex digits")),
            "repeat" => {
                let (n, what) = args.split_once(' ').expect("repeat N TEXT");
                out.extend_from_slice(what.repeat(n.parse().expect("a count")).as_bytes());
            }
            "example" => out.extend_from_slice(example(args).as_bytes()),
            other => panic!("unknown template {{{{{other}}}}}"),
        }
        rest = &rest[end + 2..];
    }
    out.extend_from_slice(rest.as_bytes());
    out
}

fn load(path: &Path, tokens: &Tokens) -> Case {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut case = Case {
        name: name.clone(),
        status: 0,
        code: String::new(),
        field: None,
        max_answer: None,
        no_field_errors: false,
        raw: false,
        hold: false,
        half_close: false,
        request: Vec::new(),
    };
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next_if(|l| l.starts_with('#')) {
        let meta = line.trim_start_matches('#').trim();
        if let Some(expect) = meta.strip_prefix("expect:") {
            let mut words = expect.split_whitespace();
            case.status = words.next().unwrap().parse().unwrap();
            case.code = words.next().expect("expect: STATUS CODE").to_string();
        } else if let Some(field) = meta.strip_prefix("field:") {
            let (path, code) = field.trim().rsplit_once(' ').unwrap();
            case.field = Some((path.to_string(), code.to_string()));
        } else if let Some(n) = meta.strip_prefix("max-answer-bytes:") {
            case.max_answer = Some(n.trim().parse().unwrap());
        } else {
            match meta {
                "raw" => case.raw = true,
                "hold" => case.hold = true,
                "half-close" => case.half_close = true,
                "no-field-errors" => case.no_field_errors = true,
                _ => {}
            }
        }
    }
    assert!(case.status >= 400, "{name} has no `# expect:` line");
    let request: String = lines.collect();
    let (head, body) = request.split_once("\n\n").unwrap_or((&request, ""));
    let mut head = head.replace('\n', "\r\n");
    if !case.raw {
        let body_len = expand(body, tokens).len();
        head.push_str("\r\nHost: sandbox\r\nConnection: close");
        if body_len > 0 || head.starts_with("POST") {
            head.push_str(&format!("\r\nContent-Length: {body_len}"));
        }
    }
    case.request = expand(&format!("{head}\r\n\r\n{body}"), tokens);
    case
}

/// Sends the raw request and reads the answer: status and body.
async fn send(addr: &str, case: &Case) -> (u16, Vec<u8>) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let request = case.request.clone();
    let half_close = case.half_close;
    // Written while the answer is read: the server may answer (413, say) before all is sent.
    let writer = tokio::spawn(async move {
        let _ = write.write_all(&request).await;
        if half_close {
            let _ = write.shutdown().await;
        }
        write
    });
    let mut answer = Vec::new();
    let reading = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), reading)
        .await
        .unwrap_or_else(|_| panic!("{}: no answer within 30 s", case.name));
    drop(writer.await);
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{}: not an HTTP answer: {text:.200}", case.name));
    let body = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| answer[i + 4..].to_vec())
        .unwrap_or_default();
    (status, body)
}

/// What the sandbox holds for both clients, as the API shows it: the data a refused request must
/// not change.
async fn stored(sandbox: &Binary, tokens: &Tokens) -> String {
    let mut all = Vec::new();
    for token in [&tokens.token, &tokens.other] {
        let c = sandbox.client(token);
        let distribution = c
            .get_distribution_information()
            .from_inv_date("2000-01-01".parse::<chrono::NaiveDate>().unwrap())
            .send()
            .await
            .unwrap()
            .into_inner();
        for d in &distribution.distributions {
            if let Some(case_id) = d.case_id {
                let case = c.get_case_details().case_id(case_id).send().await.unwrap();
                all.push(serde_json::to_string(&case.into_inner()).unwrap());
            }
        }
        all.push(serde_json::to_string(&distribution).unwrap());
        let payments = c
            .get_payments()
            .from_date("2000-01-01".parse::<chrono::NaiveDate>().unwrap())
            .send()
            .await
            .unwrap();
        all.push(serde_json::to_string(&payments.into_inner()).unwrap());
    }
    let clock = reqwest::Client::new()
        .get(format!("{}/sandbox/clock", sandbox.base))
        .header("x-admin-token", ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    all.push(clock);
    all.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_of_the_hostile_corpus_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Binary::start(&dir.path().join("corpus.db"), 3);
    let other = {
        let mut request: confirma_client::types::CreateClientRequest =
            crate::example("createClient");
        request.client.business_code = BUSINESS_IDS[0].parse().unwrap();
        request.client.vat_reg_nbr = Some("FI06461158".parse().unwrap());
        sandbox
            .client(PROVISIONING)
            .create_client()
            .body(request)
            .send()
            .await
            .unwrap()
            .into_inner()
            .access_token
    };
    let tokens = Tokens {
        token: sandbox.token.clone(),
        other,
    };
    let before = stored(&sandbox, &tokens).await;
    let addr = sandbox.base.trim_start_matches("http://").to_string();

    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "http"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus is in tests/hostile");
    let mut failures = Vec::new();
    for file in &files {
        let case = load(file, &tokens);
        let (status, body) = send(&addr, &case).await;
        let mut problems = Vec::new();
        if status != case.status {
            problems.push(format!("status {status}, expected {}", case.status));
        }
        match serde_json::from_slice::<Value>(&body) {
            Err(e) => problems.push(format!(
                "not JSON ({e}): {:.200}",
                String::from_utf8_lossy(&body)
            )),
            Ok(answer) => {
                if answer["code"] != case.code.as_str() {
                    problems.push(format!("code {}, expected {}", answer["code"], case.code));
                }
                if serde_json::from_value::<confirma_client::types::ErrorResponse>(answer.clone())
                    .is_err()
                {
                    problems.push(format!("not an ErrorResponse: {answer}"));
                }
                let fields = answer["fieldErrors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if case.no_field_errors && !fields.is_empty() {
                    problems.push(format!("field problems given away: {answer}"));
                }
                if let Some((path, code)) = &case.field
                    && !fields
                        .iter()
                        .any(|f| f["path"] == path.as_str() && f["code"] == code.as_str())
                {
                    problems.push(format!("no field problem {path} {code} in {answer}"));
                }
            }
        }
        if let Some(max) = case.max_answer
            && body.len() > max
        {
            problems.push(format!("an answer of {} bytes (at most {max})", body.len()));
        }
        // The sandbox keeps serving.
        let alive = sandbox.client(&tokens.token).validate_token().send().await;
        if alive.is_err() {
            problems.push(format!("the sandbox stopped serving: {alive:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", case.name, problems.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    assert_eq!(
        stored(&sandbox, &tokens).await,
        before,
        "the corpus changed stored data"
    );
}
