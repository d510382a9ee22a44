//! Help text, as users see it.

use crate::run::confirma;

fn help(args: &[&str]) -> String {
    let run = confirma(args, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!(help(&["--help"]));
}

#[test]
fn short_help_lists_every_subcommand() {
    insta::assert_snapshot!(help(&["-h"]));
}

#[test]
fn list_operation_help() {
    insta::assert_snapshot!(help(&["get-payments", "--help"]));
}

#[test]
fn body_operation_help() {
    insta::assert_snapshot!(help(&["create-invoice", "-h"]));
}

#[test]
fn wait_distributed_help() {
    insta::assert_snapshot!(help(&["wait-distributed", "--help"]));
}

#[test]
fn invoice_status_help() {
    insta::assert_snapshot!(help(&["invoice-status", "-h"]));
}
