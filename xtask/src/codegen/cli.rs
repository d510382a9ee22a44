//! The `confirma` command's operations: `crates/confirma-cli/src/generated.rs`.
//!
//! One clap subcommand per operation of the model, named after its operationId, documented with
//! the operation's summary and description; each query parameter a typed flag (its Rust type from
//! the model, its help the parameter's description, an enum's values as the possible values);
//! each body operation `--body` and `--body-template` (the hand-written `crate::body::Body`). The
//! hand-written CLI sends every one of them the same way (`Client::send_json`), so a new
//! operation or parameter in the spec reaches the command line with `cargo xtask codegen` alone.

use anyhow::Result;
use proc_macro2::TokenStream;
use quote::quote;

use super::{
    GeneratedFile, doc_lines, ident,
    model::{Operation, ParamKind},
    rust_file,
};

pub const CLI_FILE: &str = "crates/confirma-cli/src/generated.rs";

pub fn generate(operations: &[Operation]) -> Result<Vec<GeneratedFile>> {
    Ok(vec![GeneratedFile {
        path: CLI_FILE.into(),
        contents: rust_file(commands(operations)?)?,
    }])
}

fn commands(ops: &[Operation]) -> Result<TokenStream> {
    let mut variants = Vec::new();
    let mut structs = Vec::new();
    let mut id_arms = Vec::new();
    let mut query_arms = Vec::new();
    let mut body_arms = Vec::new();
    // Listed by name in `confirma --help`, so that the verbs group (create-, get-, submit-).
    let mut ops: Vec<&Operation> = ops.iter().collect();
    ops.sort_by(|a, b| a.id.cmp(&b.id));
    for op in ops {
        let variant = ident(&op.pascal());
        let args = ident(&format!("{}Args", op.pascal()));
        let op_id = &op.id;
        let mut help = op.summary.trim_end_matches('.').to_string();
        help.push('.');
        if !op.details.trim().is_empty() {
            help.push_str("\n\n");
            help.push_str(op.details.trim());
        }
        let doc = doc_lines(&help);
        variants.push(quote! { #doc #variant(#args), });
        id_arms.push(quote! { Self::#variant(_) => #op_id, });

        let mut fields = Vec::new();
        let mut pushes = Vec::new();
        for param in &op.params {
            let field = ident(&param.field());
            let name = &param.name;
            let doc = doc_lines(param.description.trim());
            let ty = &param.ty;
            let mut attrs = vec![quote!(long)];
            match &param.kind {
                ParamKind::Date => attrs.push(quote!(value_name = "DATE")),
                ParamKind::DateTime => attrs.push(quote!(value_name = "DATETIME")),
                _ => {}
            }
            if param.json_type == "boolean" {
                if param.required {
                    // Always sent, so always given: `--flag true` or `--flag false`.
                    attrs.push(quote!(action = ::clap::ArgAction::Set, required = true));
                } else {
                    // `--flag` alone is `true`; `--flag false` says it explicitly.
                    attrs.push(quote!(num_args = 0..=1, default_missing_value = "true"));
                }
            }
            if !param.values.is_empty() {
                let values = &param.values;
                attrs.push(quote! {
                    value_parser = ::clap::builder::PossibleValuesParser::new([#(#values),*])
                        .try_map(|value| value.parse::<#ty>())
                });
            }
            // As the client's builders send it: what serde writes, a string without its quotes.
            let text = quote!(query_text(value));
            if param.required {
                fields.push(quote! { #doc #[arg(#(#attrs),*)] pub #field: #ty, });
                pushes.push(quote! { { let value = &args.#field; query.push((#name, #text)); } });
            } else {
                // clap's derive recognises an optional flag by the bare name `Option`.
                fields.push(quote! {
                    #doc #[arg(#(#attrs),*)] pub #field: Option<#ty>,
                });
                pushes.push(quote! {
                    if let Some(value) = &args.#field { query.push((#name, #text)); }
                });
            }
        }
        if op.body.is_some() {
            fields.push(quote! { #[command(flatten)] pub body: crate::body::Body, });
            body_arms.push(quote! { Self::#variant(args) => Some(&args.body), });
        }
        let doc = format!(" The flags of `{op_id}`.");
        structs.push(quote! {
            #[doc = #doc]
            #[derive(Debug, ::clap::Args)]
            pub struct #args { #(#fields)* }
        });
        let bind = if pushes.is_empty() {
            quote!(_)
        } else {
            quote!(args)
        };
        query_arms.push(quote! { Self::#variant(#bind) => { #(#pushes)* } });
    }
    Ok(quote! {
        //! One subcommand per operation of the spec, named after its operationId, with its query
        //! parameters as typed flags and, for a body operation, `--body` and `--body-template`.
        #![allow(clippy::large_enum_variant)]
        use ::clap::builder::TypedValueParser as _;
        use ::confirma_client::types;

        /// The operations of the spec.
        #[derive(Debug, ::clap::Subcommand)]
        pub enum OperationCommand { #(#variants)* }

        #(#structs)*

        /// A flag's value as the query string carries it: its JSON form (as the client's builders
        /// serialize query values), a string without its quotes.
        fn query_text(value: &impl ::serde::Serialize) -> ::std::string::String {
            match ::serde_json::to_value(value) {
                Ok(::serde_json::Value::String(text)) => text,
                Ok(other) => other.to_string(),
                Err(error) => error.to_string(),
            }
        }

        impl OperationCommand {
            /// The operation's `operationId`.
            pub fn operation_id(&self) -> &'static str { match self { #(#id_arms)* } }

            /// The query string the flags give: each parameter given, by its name on the wire.
            pub fn query(&self) -> ::std::vec::Vec<(&'static str, ::std::string::String)> {
                let mut query = ::std::vec::Vec::new();
                match self { #(#query_arms)* }
                query
            }

            /// The body flags, for an operation that takes a body.
            pub fn body(&self) -> ::std::option::Option<&crate::body::Body> {
                match self { #(#body_arms)* _ => None }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// A parameter added to the spec reaches the command line through `cargo xtask codegen`
    /// alone: a typed flag with the parameter's description and enum values, sent by its wire
    /// name. Proved on a modified copy of the spec.
    #[test]
    fn a_new_parameter_appears_as_a_flag() {
        let root = crate::project_root();
        let text = std::fs::read_to_string(root.join(super::super::SPEC_PATH)).unwrap();
        let mut spec = super::super::yaml::to_json(&text).unwrap();
        let params = spec
            .pointer_mut("/paths/~1api~1v1~1partner~1payments/get/parameters")
            .and_then(|p| p.as_array_mut())
            .expect("getPayments has parameters");
        params.push(json!({
            "name": "minimumAmountCents",
            "in": "query",
            "required": false,
            "description": "Only payments of at least this many cents (a test's parameter).",
            "schema": {"type": "integer", "format": "int64", "minimum": 0},
            "x-evidence": "inferred"
        }));
        params.push(json!({
            "name": "agencyStatus",
            "in": "query",
            "required": true,
            "description": "Only payments whose distribution is in this status.",
            "schema": {"$ref": "#/components/schemas/DistributionStatus"},
            "x-evidence": "inferred"
        }));
        params.push(json!({
            "name": "paymentReference",
            "in": "query",
            "required": false,
            "description": "Only payments with this reference.",
            "schema": {"type": "string", "pattern": "^[0-9]{4,20}$"},
            "x-evidence": "inferred"
        }));
        let dir = std::env::temp_dir().join(format!("xtask-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("partner-api.json");
        std::fs::write(&path, serde_json::to_string(&spec).unwrap()).unwrap();
        let files = super::super::generate_from(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        let cli = &files
            .iter()
            .find(|f| f.path.as_path() == std::path::Path::new(super::CLI_FILE))
            .unwrap()
            .contents;
        let args = cli
            .split("pub struct GetPaymentsArgs {")
            .nth(1)
            .and_then(|rest| rest.split("\n}\n").next())
            .expect("the flags of getPayments");
        assert!(
            args.contains("/// Only payments of at least this many cents (a test's parameter).")
                && args.contains("pub minimum_amount_cents: Option<i64>,"),
            "{args}"
        );
        // A constrained string is typify's type of it, the one the client's builder takes.
        assert!(
            args.contains("pub payment_reference: Option<types::GetPaymentsPaymentReference>,"),
            "{args}"
        );
        let client = &files
            .iter()
            .find(|f| f.path.as_path() == std::path::Path::new(super::super::client::CLIENT_FILE))
            .unwrap()
            .contents;
        assert!(
            client.contains("pub struct GetPaymentsPaymentReference("),
            "the client has it"
        );
        // Required, so not optional; an enum, so its values are the flag's possible values.
        assert!(
            args.contains("pub agency_status: types::DistributionStatus,"),
            "{args}"
        );
        let compact: String = args.split_whitespace().collect();
        assert!(
            compact.contains(r#"PossibleValuesParser::new(["PENDING","PROCESSING","SENT","DELIVERED","FAILED"]).try_map(|value|value.parse::<types::DistributionStatus>())"#),
            "{args}"
        );
        // Sent by its wire name.
        assert!(
            cli.contains(r#"query.push(("minimumAmountCents", query_text(value)))"#),
            "{cli}"
        );
        assert!(
            cli.contains(r#"query.push(("agencyStatus", query_text(value)))"#),
            "{cli}"
        );
        // The checked-in CLI has neither (the test changed only its copy).
        let checked_in = std::fs::read_to_string(root.join(super::CLI_FILE)).unwrap();
        assert!(!checked_in.contains("minimumAmountCents"));
    }
}
