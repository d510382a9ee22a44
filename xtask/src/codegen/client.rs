//! The progenitor client, `crates/confirma-client/src/generated.rs`, and beside it the table of
//! operations (`operations.rs`) that lets callers send an operation's body as raw JSON and
//! shows each operation's example body.

use anyhow::{Context, Result, anyhow};
use quote::quote;

use super::{
    GeneratedFile, model, rust_file, settings::generation_settings, spec::Spec, types_file,
};

pub const CLIENT_FILE: &str = "crates/confirma-client/src/generated.rs";
pub const OPERATIONS_FILE: &str = "crates/confirma-client/src/operations.rs";
pub const CALLS_FILE: &str = "crates/confirma-client/src/calls.rs";

/// progenitor's client for the spec, with the model types (typify, through progenitor, with our
/// one set of settings). The model reads its parameter types from it too.
pub fn progenitor(spec: &Spec) -> Result<syn::File> {
    let mut generator = progenitor_impl::Generator::new(&generation_settings());
    let tokens = generator
        .generate_tokens(&spec.openapi)
        .map_err(|e| anyhow!("progenitor could not generate the client: {e}"))?;
    syn::parse2(tokens).context("progenitor's client does not parse")
}

pub fn generate(client: syn::File, operations: &[model::Operation]) -> Result<Vec<GeneratedFile>> {
    Ok(vec![
        GeneratedFile {
            path: CLIENT_FILE.into(),
            contents: types_file(client)?,
        },
        GeneratedFile {
            path: OPERATIONS_FILE.into(),
            contents: rust_file(operation_table(operations))?,
        },
        GeneratedFile {
            path: CALLS_FILE.into(),
            contents: rust_file(calls(operations))?,
        },
    ])
}

/// `call()` on every operation's request builder: `send()` with the answer's body on success
/// and an [`ApiError`] otherwise, so that `?` into any error type reads like the API.
fn calls(operations: &[model::Operation]) -> proc_macro2::TokenStream {
    let impls = operations.iter().map(|op| {
        let builder = quote::format_ident!("{}", op.pascal());
        let answer = quote::format_ident!("{}", op.success().schema);
        let doc = format!(
            " `{}`: {} Sends the request and answers the body of its `{}` answer; any other \
             outcome is an [`ApiError`](crate::ApiError), whose message is the API's own.",
            op.id,
            op.summary.trim_end_matches('.').to_string() + ".",
            op.success().status
        );
        quote! {
            impl builder::#builder<'_> {
                #[doc = #doc]
                pub async fn call(self) -> Result<types::#answer, crate::ApiError> {
                    crate::answer(self.send()).await
                }
            }
        }
    });
    quote! {
        //! `call()` for every operation: the one way to send a request whose error reads like
        //! the API's own through `?`, into [`ApiError`](crate::ApiError), `anyhow::Error` or
        //! `Box<dyn Error>` alike.

        use crate::{builder, types};

        #(#impls)*
    }
}

fn operation_table(operations: &[model::Operation]) -> proc_macro2::TokenStream {
    let rows = operations.iter().map(|op| {
        let id = &op.id;
        let method = op.method.http();
        let path = &op.path;
        let has_body = op.body.is_some();
        let example = match &op.body_example {
            Some(text) => quote!(Some(#text)),
            None => quote!(None),
        };
        quote! {
            Operation { operation_id: #id, method: #method, path: #path, has_body: #has_body, request_example: #example },
        }
    });
    let name_arms = operations.iter().map(|op| {
        let (id, name) = (&op.id, op.fn_name());
        quote!(#id => Some(#name),)
    });
    quote! {
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

        /// Every operation, sorted by path and method.
        pub const OPERATIONS: &[Operation] = &[#(#rows)*];

        /// The operation with this operationId.
        pub fn operation(operation_id: &str) -> Option<&'static Operation> {
            OPERATIONS.iter().find(|op| op.operation_id == operation_id)
        }

        /// The name the generated client gives the operation in `OperationInfo` (its builder
        /// method's, `renew_token`), which hooks and the retry policy go by.
        pub(crate) fn method_name(operation_id: &str) -> Option<&'static str> {
            match operation_id { #(#name_arms)* _ => None }
        }
    }
}
