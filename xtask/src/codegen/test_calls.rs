//! `tests/it/client_calls.rs`: one typed client call per operation for the cross-crate tests,
//! every query parameter set from its example and the body from the request example, so that a
//! new operation or parameter is exercised by those tests without a hand edit.

use anyhow::Result;
use quote::quote;

use super::{GeneratedFile, ident, model::Operation, rust_file};

pub const CALLS_FILE: &str = "tests/it/client_calls.rs";

pub fn generate(operations: &[Operation]) -> Result<Vec<GeneratedFile>> {
    let arms = operations.iter().map(|op| {
        let id = &op.id;
        let method = ident(&op.fn_name());
        let params = op.params.iter().map(|p| {
            let (name, setter, ty) = (&p.name, ident(&p.field()), &p.ty);
            quote! { if let Some(v) = q::<#ty>(op, #name) { b = b.#setter(v); } }
        });
        let body = op.body.as_ref().map(|body| {
            let body = ident(body);
            quote! { b = b.body(body::<types::#body>(op)); }
        });
        quote! {
            #id => {
                #[allow(unused_mut)]
                let mut b = client.#method();
                #(#params)*
                #body
                outcome(b.send().await)
            }
        }
    });
    let tokens = quote! {
        //! One call per operation through the generated client's typed builder: the query
        //! parameters from their examples, the body from the request example.
        use confirma_client::{Client, types};

        use crate::calls::{Outcome, body, outcome, q};

        /// Calls operation `op` through the generated client.
        pub async fn call(client: &Client, op: &str) -> Outcome {
            match op {
                #(#arms)*
                other => panic!("{other} is not an operation of the spec"),
            }
        }
    };
    Ok(vec![GeneratedFile {
        path: CALLS_FILE.into(),
        contents: rust_file(tokens)?,
    }])
}
