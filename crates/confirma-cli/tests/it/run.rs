//! Running the binary, and the sandbox it talks to.

use std::io::Write;
use std::process::{Child, Command, Stdio};

use confirma_sandbox::{Config, Sandbox};
use serde_json::Value;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `confirma args...` with `stdin`, no API key in the environment, output piped.
pub fn confirma(args: &[&str], stdin: Option<&str>) -> Run {
    finish(spawn(args, stdin, None), None)
}

/// Runs `confirma args...` with these environment variables (and no others of its own).
pub fn confirma_env(args: &[&str], vars: &[(&str, &str)]) -> Run {
    confirma_env_stdin(args, vars, None)
}

/// The same with `stdin`.
pub fn confirma_env_stdin(args: &[&str], vars: &[(&str, &str)], stdin: Option<&str>) -> Run {
    finish(spawn_with(args, stdin, None, vars), None)
}

/// Starts `confirma args...` with `stdin` and `key` (if any) in `CONFIRMA_API_KEY`, output
/// piped; [`finish`] collects it.
fn spawn(args: &[&str], stdin: Option<&str>, key: Option<&str>) -> Child {
    spawn_with(args, stdin, key, &[])
}

fn spawn_with(
    args: &[&str],
    stdin: Option<&str>,
    key: Option<&str>,
    vars: &[(&str, &str)],
) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_confirma"));
    command
        .args(args)
        .env_remove("CONFIRMA_API_KEY")
        .env_remove("CONFIRMA_ENV")
        .env_remove("CONFIRMA_BASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(key) = key {
        command.env("CONFIRMA_API_KEY", key);
    }
    command.envs(vars.iter().copied());
    let mut child = command.spawn().expect("run confirma");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .expect("write stdin");
    drop(input);
    child
}

/// Waits for a run to end; checks that `key` was never printed.
fn finish(child: Child, key: Option<&str>) -> Run {
    let output = child.wait_with_output().expect("wait for confirma");
    let run = Run {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    };
    if let Some(key) = key {
        assert!(
            !run.stdout.contains(key) && !run.stderr.contains(key),
            "the API key was printed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

/// A sandbox of its own for one test, served on 127.0.0.1:0 by a runtime of its own (so that
/// it answers while the test waits for the binary). Seed, start time and tokens are fixed
/// (`Config::for_tests`), so the same requests give the same bytes: snapshots need no
/// redactions. Dropping it stops the server.
pub struct TestSandbox {
    pub base: String,
    /// The seeded demo client's (1000) token, sent as `CONFIRMA_API_KEY`.
    pub demo_token: String,
    admin_token: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl TestSandbox {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let config = Config::for_tests();
        let admin_token = config.admin_token.clone().expect("fixed in tests");
        let (base, demo_token) = runtime.block_on(async move {
            let sandbox = Sandbox::open(config).await.expect("open the sandbox");
            let (_, demo_token) = sandbox
                .demo()
                .await
                .expect("read the demo client")
                .expect("the seed creates a demo client");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind loopback");
            let base = format!("http://{}", listener.local_addr().expect("addr"));
            let app = confirma_sandbox::router(sandbox);
            tokio::spawn(async move {
                confirma_sandbox::serve(listener, app, std::future::pending())
                    .await
                    .expect("serve")
            });
            (base, demo_token)
        });
        Self {
            base,
            demo_token,
            admin_token,
            http: reqwest::Client::new(),
            runtime,
        }
    }

    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["--env", self.base.as_str()];
        all.extend_from_slice(args);
        all
    }

    /// Runs `confirma --env <sandbox> args...` as the demo client (`CONFIRMA_API_KEY`).
    pub fn confirma(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let key = Some(self.demo_token.as_str());
        finish(spawn(&self.args(args), stdin, key), key)
    }

    /// Runs `confirma --env <sandbox> --api-key <demo token> args...`, nothing in the
    /// environment.
    pub fn confirma_with_key_flag(&self, args: &[&str]) -> Run {
        let mut all = vec!["--api-key", self.demo_token.as_str()];
        all.extend_from_slice(args);
        finish(spawn(&self.args(&all), None, None), Some(&self.demo_token))
    }

    /// Starts `confirma --env <sandbox> args...` as the demo client; [`Self::finish`] waits.
    pub fn start_confirma(&self, args: &[&str]) -> Child {
        spawn(&self.args(args), None, Some(&self.demo_token))
    }

    pub fn finish(&self, child: Child) -> Run {
        finish(child, Some(&self.demo_token))
    }

    /// Runs the command and expects success with nothing on standard error; its output.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.confirma(args, None);
        assert_eq!(run.code, 0, "stderr: {}", run.stderr);
        assert_eq!(run.stderr, "", "nothing on stderr when all is well");
        run.stdout
    }

    /// A call to the control API (`/sandbox/...`) with the admin token, which must succeed.
    pub fn control(&self, path: &str, body: Value) -> Value {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-admin-token", &self.admin_token)
            .json(&body);
        self.runtime.block_on(async {
            let response = request.send().await.expect("control API");
            let status = response.status();
            let answer: Value = response.json().await.expect("JSON answer");
            assert!(status.is_success(), "{path}: {status} {answer}");
            answer
        })
    }

    /// How many `operation` requests the sandbox has answered (its request journal).
    pub fn answered(&self, operation: &str) -> usize {
        let request = self
            .http
            .get(format!(
                "{}/sandbox/requests?limit=1000&operation={operation}",
                self.base
            ))
            .header("x-admin-token", &self.admin_token);
        self.runtime.block_on(async {
            let answer: Value = request
                .send()
                .await
                .expect("the request journal")
                .json()
                .await
                .expect("JSON answer");
            answer.as_array().expect("a list").len()
        })
    }

    pub fn advance(&self, step: Value) {
        self.control("/sandbox/clock/advance", step);
    }

    /// The request example of `operation_id` from the sandbox's `/openapi.json`.
    pub fn example(&self, operation_id: &str) -> Value {
        let spec: Value = self.runtime.block_on(async {
            self.http
                .get(format!("{}/openapi.json", self.base))
                .send()
                .await
                .expect("GET /openapi.json")
                .json()
                .await
                .expect("JSON")
        });
        spec["paths"]
            .as_object()
            .expect("paths")
            .values()
            .flat_map(|methods| methods.as_object().expect("methods").values())
            .find(|op| op["operationId"] == operation_id)
            .map(|op| op["requestBody"]["content"]["application/json"]["example"].clone())
            .unwrap_or_else(|| panic!("no operation {operation_id}"))
    }
}
