//! The body flags of every operation that takes a JSON body: `--body FILE` (or `-` for standard
//! input), sent as it is, and `--body-template`, the spec's example body as a starting point.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::Failure;

/// A request body.
#[derive(Debug, Args)]
pub struct Body {
    /// JSON request body: a file, or `-` for standard input. Sent as it is: the API checks it
    /// and reports every problem with its path.
    #[arg(long, value_name = "FILE", required_unless_present = "body_template")]
    pub body: Option<PathBuf>,
    /// Print the spec's example body of this operation (a starting point for --body) and exit.
    #[arg(long, conflicts_with = "body")]
    pub body_template: bool,
}

impl Body {
    /// Reads `--body` as it is: the API validates it.
    pub fn read(&self) -> Result<Vec<u8>, Failure> {
        let path = self
            .body
            .as_deref()
            .ok_or_else(|| Failure::Usage("no --body given".into()))?;
        let (name, bytes) = if path == Path::new("-") {
            let mut bytes = Vec::new();
            let read = std::io::stdin().read_to_end(&mut bytes);
            ("standard input".to_string(), read.map(|_| bytes))
        } else {
            (path.display().to_string(), std::fs::read(path))
        };
        bytes.map_err(|e| Failure::Usage(format!("cannot read --body {name}: {e}")))
    }
}
