//! The progenitor client: `crates/confirma-client/src/generated.rs`.

use anyhow::{Result, anyhow};

use super::{GeneratedFile, rust_file, settings::generation_settings, spec::Spec};

pub const CLIENT_FILE: &str = "crates/confirma-client/src/generated.rs";

pub fn generate(spec: &Spec) -> Result<Vec<GeneratedFile>> {
    let mut generator = progenitor_impl::Generator::new(&generation_settings());
    let tokens = generator
        .generate_tokens(&spec.openapi)
        .map_err(|e| anyhow!("progenitor could not generate the client: {e}"))?;
    Ok(vec![GeneratedFile {
        path: CLIENT_FILE.into(),
        contents: rust_file(tokens)?,
    }])
}
