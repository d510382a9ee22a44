//! `cargo xtask`: project automation, in Rust so it runs wherever cargo does.
//!
//! Commands:
//! - `cargo xtask codegen` regenerates every generated file from `openapi/partner-api.yaml`.
//! - `cargo xtask codegen --check` writes nothing and fails when a generated file is stale.
//! - `cargo xtask bench` measures the sandbox beside Prism and a bare axum ceiling and writes
//!   `docs/benchmarks.md`; with `--profiles docs/profiles`, a flame graph of the sandbox under
//!   each workload too.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => xtask::codegen::run(xtask::codegen::Mode::Write),
        ["codegen", "--check"] => xtask::codegen::run(xtask::codegen::Mode::Check),
        ["bench", rest @ ..] => xtask::bench::Options::parse(rest).and_then(xtask::bench::run),
        _ => {
            eprintln!(
                "usage: cargo xtask codegen [--check] | cargo xtask bench {}",
                xtask::bench::USAGE
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
