//! The `confirma` binary run as a user runs it: help text, and output, exit codes and error
//! messages against an in-process sandbox (`confirma-sandbox`) on a loopback port, one per
//! test. One test binary, one module per concern.

mod help;
mod run;
mod sandbox;
