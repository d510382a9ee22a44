//! The progenitor client, `crates/confirma-client/src/generated.rs`, and beside it the table of
//! operations (`operations.rs`) that lets callers send an operation's body as raw JSON and
//! shows each operation's example body.

use anyhow::{Result, anyhow};
use openapiv3::ReferenceOr;
use quote::quote;
use serde_json::Value;

use super::{GeneratedFile, rust_file, settings::generation_settings, spec::Spec, types_file};

pub const CLIENT_FILE: &str = "crates/confirma-client/src/generated.rs";
pub const OPERATIONS_FILE: &str = "crates/confirma-client/src/operations.rs";

pub fn generate(spec: &Spec) -> Result<Vec<GeneratedFile>> {
    let mut generator = progenitor_impl::Generator::new(&generation_settings());
    let tokens = generator
        .generate_tokens(&spec.openapi)
        .map_err(|e| anyhow!("progenitor could not generate the client: {e}"))?;
    Ok(vec![
        GeneratedFile {
            path: CLIENT_FILE.into(),
            contents: types_file(tokens)?,
        },
        GeneratedFile {
            path: OPERATIONS_FILE.into(),
            contents: rust_file(operations(spec)?)?,
        },
    ])
}

/// The example request body of the operation at `path`/`method` in the raw spec, following a
/// `$ref` to `components/requestBodies`.
fn request_example(spec: &Spec, path: &str, method: &str) -> Option<String> {
    let at = format!(
        "/paths/{}/{method}/requestBody",
        path.replace('~', "~0").replace('/', "~1")
    );
    let mut body = spec.raw.pointer(&at)?;
    if let Some(reference) = body.get("$ref").and_then(Value::as_str) {
        body = spec.raw.pointer(reference.trim_start_matches('#'))?;
    }
    serde_json::to_string_pretty(body.pointer("/content/application~1json/example")?).ok()
}

fn operations(spec: &Spec) -> Result<proc_macro2::TokenStream> {
    let mut rows = Vec::new();
    for (path, item) in &spec.openapi.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, op) in item.iter() {
            let id = op
                .operation_id
                .as_deref()
                .ok_or_else(|| anyhow!("{method} {path} has no operationId"))?;
            let example = match request_example(spec, path, method) {
                Some(text) => quote!(Some(#text)),
                None => quote!(None),
            };
            let method = method.to_uppercase();
            let has_body = op.request_body.is_some();
            rows.push(quote! {
                Operation { operation_id: #id, method: #method, path: #path, has_body: #has_body, request_example: #example },
            });
        }
    }
    Ok(quote! {
        //! Every operation of the spec with what sending it needs besides the typed builder: for
        //! [`Client::send_json`](crate::Client::send_json) and for showing example bodies.

        /// One operation of the spec.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct Operation {
            /// The operationId (`createInvoice`).
            pub operation_id: &'static str,
            /// The HTTP method, upper case.
            pub method: &'static str,
            /// The path below the base URL (`/api/v1/partner/invoice`).
            pub path: &'static str,
            /// Whether it takes a JSON request body.
            pub has_body: bool,
            /// The spec's example request body, as pretty JSON.
            pub request_example: Option<&'static str>,
        }

        /// Every operation, in spec order.
        pub const OPERATIONS: &[Operation] = &[#(#rows)*];

        /// The operation with this operationId.
        pub fn operation(operation_id: &str) -> Option<&'static Operation> {
            OPERATIONS.iter().find(|op| op.operation_id == operation_id)
        }
    })
}
