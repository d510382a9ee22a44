//! Running the binary, and the server it talks to.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The key every test run uses; no output may ever contain it.
pub const SECRET: &str = "cfis_test_do_not_print_me";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `confirma args...` with `stdin`, no API key in the environment, output piped.
pub fn confirma(args: &[&str], stdin: Option<&str>) -> Run {
    run(args, stdin, None)
}

/// Runs `confirma --env <ExampleApi> args...` with the test key in `CONFIRMA_API_KEY`.
pub fn against_stub(args: &[&str], stdin: Option<&str>) -> Run {
    let mut all = vec!["--env", example_api()];
    all.extend_from_slice(args);
    run(&all, stdin, Some(SECRET))
}

/// Runs `confirma args...` with the test key in `CONFIRMA_API_KEY`.
pub fn with_key(args: &[&str], stdin: Option<&str>) -> Run {
    run(args, stdin, Some(SECRET))
}

fn run(args: &[&str], stdin: Option<&str>, key: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_confirma"));
    command
        .args(args)
        .env_remove("CONFIRMA_API_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(key) = key {
        command.env("CONFIRMA_API_KEY", key);
    }
    let mut child = command.spawn().expect("run confirma");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .expect("write stdin");
    drop(input);
    let output = child.wait_with_output().expect("wait for confirma");
    let run = Run {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    };
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "the API key was printed:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    run
}

/// Base URL of `confirma_server::ExampleApi` (every operation answers with its documented
/// example), served for the whole test binary from a thread of its own.
pub fn example_api() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind loopback");
                let url = format!("http://{}", listener.local_addr().expect("addr"));
                sender.send(url).expect("report the URL");
                let app = confirma_server::router(confirma_server::ExampleApi);
                axum::serve(listener, app).await.expect("serve");
            });
        });
        receiver.recv().expect("the server starts")
    })
}
