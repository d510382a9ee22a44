//! The `confirma` binary run as a user runs it: help text, and output, exit codes and error
//! messages against the server stub's `ExampleApi` on a loopback port. One test binary, one
//! module per concern.

mod help;
mod run;
mod stub;
