//! `tests/it/schema_names.rs`: the name of every component schema, for the schema snapshot tests
//! (they need one `schema_for!` per type, and the list must follow the spec, not a hand copy).

use anyhow::Result;
use quote::{format_ident, quote};

use super::{GeneratedFile, rust_file, spec::Spec};

pub const SCHEMA_LIST_FILE: &str = "tests/it/schema_names.rs";

pub fn generate(spec: &Spec) -> Result<Vec<GeneratedFile>> {
    let names = spec
        .openapi
        .components
        .iter()
        .flat_map(|c| c.schemas.keys())
        .map(|name| format_ident!("{}", name));
    let tokens = quote! {
        //! The component schemas of the spec, as a macro that hands their names to another macro.

        /// Calls `$m!` with the name of every component schema of the spec, in spec order.
        macro_rules! with_schema_names {
            ($m:ident) => { $m!(#(#names),*); };
        }
        pub(crate) use with_schema_names;
    };
    Ok(vec![GeneratedFile {
        path: SCHEMA_LIST_FILE.into(),
        contents: rust_file(tokens)?,
    }])
}
