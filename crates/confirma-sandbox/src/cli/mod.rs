//! The binary's commands beyond serving (the library does not use this module).

pub mod space;

/// Where the running sandbox is.
#[derive(clap::Args)]
pub struct SandboxUrl {
    /// Base URL of the running sandbox.
    #[arg(
        long,
        env = "CONFIRMA_SANDBOX_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
}
