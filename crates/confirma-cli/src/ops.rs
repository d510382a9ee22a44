//! Running an operation's subcommand: every one the same way, through the client's one path for
//! an operation given as flags and a body ([`Client::send_json`]): the same key, headers, retry
//! policy (a renewal is never sent twice) and errors as the typed builders, and the API's own
//! field problems for a bad body.

use confirma_client::Client;
use serde_json::Value;

use crate::Failure;
use crate::cli::Output;
use crate::generated::OperationCommand;
use crate::output::{self, pretty, render};

pub async fn run(client: &Client, command: OperationCommand, out: Output) -> Result<(), Failure> {
    let body = command.body().map(|b| b.read()).transpose()?;
    let answer = client
        .send_json(command.operation_id(), &command.query(), body)
        .await?;
    let view = output::view(&command);
    let answer = match (answer, view.empty) {
        // The real service answers some lists with 204 No Content: show the empty list.
        (Value::Null, Some(empty)) => empty(),
        (answer, _) => answer,
    };
    match (out, view.table) {
        (Output::Table, Some(table)) => print!("{}", render(&answer, table)),
        _ => println!("{}", pretty(&answer)),
    }
    Ok(())
}

/// With `--body-template`: the spec's example body of the subcommand's operation.
pub fn body_template(command: &OperationCommand) -> Option<&'static str> {
    if !command.body()?.body_template {
        return None;
    }
    confirma_client::operation(command.operation_id()).and_then(|op| op.request_example)
}
