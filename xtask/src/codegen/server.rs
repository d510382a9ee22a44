//! The axum server stub: `crates/confirma-server/src/generated/`.
//!
//! progenitor generates clients only, so the server side is ours. The model types are not among
//! what it writes: they are generated once, in the client crate (`confirma_client::types`), and
//! the server crate re-exports them. It writes:
//! - `api.rs`: per operation a query struct, a request struct and a response enum with one variant
//!   per documented status, and the `PartnerApi` trait with one async method per operation;
//! - `router.rs`: one handler per operation and `openapi_router`, which registers every route
//!   together with its OpenAPI description (utoipa), so the served description follows the routes;
//! - `openapi.json`: the spec as JSON, embedded for request validation and the served description.

use anyhow::Result;
use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use super::{GeneratedFile, HEADER, doc_lines, ident, model::Operation, rust_file, spec::Spec};

pub const SERVER_DIR: &str = "crates/confirma-server/src/generated";

pub fn generate(spec: &Spec, operations: &[Operation]) -> Result<Vec<GeneratedFile>> {
    let mut embedded = spec.raw.clone();
    if let Some(map) = embedded.as_object_mut() {
        map.insert(
            "x-generated".into(),
            Value::String(HEADER.trim_start_matches("// ").trim_end().to_string()),
        );
    }

    Ok(vec![
        GeneratedFile {
            path: format!("{SERVER_DIR}/api.rs").into(),
            contents: rust_file(api(operations))?,
        },
        GeneratedFile {
            path: format!("{SERVER_DIR}/router.rs").into(),
            contents: rust_file(router(operations))?,
        },
        GeneratedFile {
            path: format!("{SERVER_DIR}/examples.rs").into(),
            contents: rust_file(examples(operations)?)?,
        },
        GeneratedFile {
            path: format!("{SERVER_DIR}/openapi.json").into(),
            contents: serde_json::to_string_pretty(&embedded)? + "\n",
        },
    ])
}

fn api(ops: &[Operation]) -> TokenStream {
    let mut items = Vec::new();
    let mut trait_methods = Vec::new();
    let mut op_infos = Vec::new();
    let mut op_variants = Vec::new();
    let mut op_id_arms = Vec::new();
    let mut from_id_arms = Vec::new();
    let mut info_arms = Vec::new();
    for op in ops {
        let fn_name = ident(&op.fn_name());
        let request = ident(&op.request_type());
        let response = ident(&op.response_type());
        let op_id = &op.id;
        let method = &op.method.http();
        let path = &op.path;
        let summary = doc_lines(&format!("`{method} {path}` ({op_id}): {}", op.summary));

        items.push(request_items(op));
        items.push(response_items(op));

        let variant = ident(&op.pascal());
        op_variants.push(quote! { #summary #variant, });
        op_id_arms.push(quote! { Self::#variant => #op_id, });
        from_id_arms.push(quote! { #op_id => Some(Self::#variant), });
        let index = op_infos.len();
        info_arms.push(quote! { Self::#variant => &INFOS[#index], });
        trait_methods.push(quote! {
            #summary
            fn #fn_name(&self, caller: Self::Caller, request: #request) -> impl ::std::future::Future<Output = #response> + Send;
        });
        let has_body = op.body.is_some();
        let statuses = op.responses.iter().map(|r| r.status);
        let params = op.params.iter().map(|p| {
            let (name, json_type, required) = (&p.name, p.json_type, p.required);
            quote!(QueryParam { name: #name, json_type: #json_type, required: #required })
        });
        let spec_json = &op.spec_json;
        let example = match &op.body_example {
            Some(text) => quote!(Some(#text)),
            None => quote!(None),
        };
        op_infos.push(quote! {
            OperationInfo {
                operation: Operation::#variant,
                operation_id: #op_id,
                method: #method,
                path: #path,
                has_body: #has_body,
                query: &[#(#params),*],
                statuses: &[#(#statuses),*],
                spec: #spec_json,
                request_example: #example,
            },
        });
    }
    let count = ops.len();
    quote! {
        //! Typed requests and responses of every operation, and the `PartnerApi` trait.
        #![allow(clippy::large_enum_variant, clippy::too_many_arguments)]
        use crate::types;

        #(#items)*

        /// The Partner API as one trait: one method per operation of `openapi/partner-api.yaml`.
        ///
        /// Implement it and hand it to [`router`](crate::router): requests reach a method only
        /// after they have been parsed and validated against the spec, and each method can only
        /// answer with a status and body the spec documents for that operation.
        pub trait PartnerApi: Send + Sync + 'static {
            /// Who is calling, as [`authorize`](Self::authorize) found them. The operation is
            /// handed the caller, so that a request is authenticated once.
            type Caller: Send + 'static;

            /// Decides whether the caller may call `operation`: from `api_key`, and from what an
            /// outer layer put in the request's `extensions` (an authentication middleware's
            /// answer, say). It runs before anything else of the request is read, so a caller
            /// who is refused (401, 403, ...) learns nothing about how the server would treat
            /// the query or body.
            fn authorize(
                &self,
                operation: Operation,
                api_key: ::std::option::Option<&crate::ApiKey>,
                extensions: &::axum::http::Extensions,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<Self::Caller, crate::ApiError>> + Send;

            #(#trait_methods)*
        }

        /// Every operation of the spec, for [`PartnerApi::authorize`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Operation { #(#op_variants)* }

        impl Operation {
            /// The operation's `operationId` in the spec.
            pub const fn id(self) -> &'static str { match self { #(#op_id_arms)* } }

            /// The operation with this `operationId`, if the spec has one.
            pub fn from_id(id: &str) -> ::std::option::Option<Self> {
                match id { #(#from_id_arms)* _ => None }
            }

            /// Everything the spec says of this operation.
            pub const fn info(self) -> &'static OperationInfo { match self { #(#info_arms)* } }
        }

        /// Static facts about one operation: what the runtime routes, parses, validates and
        /// describes it by (nothing is looked up by name at run time), and what tests read.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct OperationInfo {
            pub operation: Operation,
            pub operation_id: &'static str,
            /// The HTTP method, upper case.
            pub method: &'static str,
            pub path: &'static str,
            pub has_body: bool,
            /// The query parameters, in spec order.
            pub query: &'static [QueryParam],
            /// Every documented status, in order.
            pub statuses: &'static [u16],
            /// The operation object of the spec (extensions kept), its parameters inlined, as JSON.
            pub spec: &'static str,
            /// The spec's example request body, as pretty JSON.
            pub request_example: ::std::option::Option<&'static str>,
        }

        /// One query parameter of an operation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct QueryParam {
            /// The name on the wire (`invoiceNumber`).
            pub name: &'static str,
            /// Its JSON Schema type: `integer`, `number`, `boolean` or `string`.
            pub json_type: &'static str,
            pub required: bool,
        }

        const INFOS: [OperationInfo; #count] = [#(#op_infos)*];

        /// Every operation of the spec, sorted by path and method.
        pub const OPERATIONS: &[OperationInfo] = &INFOS;
    }
}

/// The operation's query struct (when it has parameters) and its request struct.
fn request_items(op: &Operation) -> TokenStream {
    let op_id = &op.id;
    let request = ident(&op.request_type());
    let mut query_item = quote! {};
    let mut request_fields = vec![quote! {
        /// The caller's credential from `X-Api-Key`, if the request carried one.
        pub api_key: ::std::option::Option<crate::ApiKey>,
    }];
    if !op.params.is_empty() {
        let query = ident(&op.query_type());
        let fields = op.params.iter().map(|p| {
            let field = ident(&p.field());
            let name = &p.name;
            let doc = doc_lines(&p.description);
            let ty = &p.ty;
            if p.required {
                quote! { #doc #[serde(rename = #name)] pub #field: #ty, }
            } else {
                quote! {
                    #doc
                    #[serde(rename = #name, default, skip_serializing_if = "::std::option::Option::is_none")]
                    pub #field: ::std::option::Option<#ty>,
                }
            }
        });
        let doc = format!(" Query parameters of `{op_id}`.");
        // `Default` (every parameter absent) only where no parameter is required.
        let default = if op.params.iter().any(|p| p.required) {
            quote!()
        } else {
            quote!(Default,)
        };
        query_item = quote! {
            #[doc = #doc]
            #[derive(Clone, Debug, #default PartialEq, ::serde::Deserialize, ::serde::Serialize, ::schemars::JsonSchema)]
            pub struct #query { #(#fields)* }
        };
        request_fields.push(quote! { pub query: #query, });
    }
    if let Some(body) = &op.body {
        let body = ident(body);
        request_fields.push(quote! {
            pub body: types::#body,
            /// The body as received (parsed and validated, before the generated types read it),
            /// for what must not depend on them: a digest of the request, say.
            pub received: ::serde_json::Value,
        });
    }
    let doc = format!(" Everything `{op_id}` receives, parsed and validated against the spec.");
    quote! {
        #query_item
        #[doc = #doc]
        #[derive(Clone, Debug)]
        pub struct #request { #(#request_fields)* }
    }
}

/// The operation's response enum: one variant per documented status, its status code, its
/// axum answer and its conversion from an `ApiError`.
fn response_items(op: &Operation) -> TokenStream {
    let op_id = &op.id;
    let response = ident(&op.response_type());
    let variants = op.responses.iter().map(|r| {
        let v = ident(&r.variant);
        let s = ident(&r.schema);
        let doc = doc_lines(&format!("{}: {}", r.status, r.description));
        quote! { #doc #v(types::#s), }
    });
    // The success answer's twin carrying its body already encoded (`crate::Encoded`).
    let ok = op.success();
    let ok_status = ok.status;
    let encoded = ident(&format!("{}Encoded", ok.variant));
    let ok_schema = ident(&ok.schema);
    let encoded_doc = format!(
        " {ok_status}, its body already encoded: what [`Self::{}`] answers, as bytes kept earlier.",
        ok.variant
    );
    let status_arms = op.responses.iter().map(|r| {
        let v = ident(&r.variant);
        let status = r.status;
        quote! { Self::#v(_) => #status, }
    });
    let into_arms = op.responses.iter().map(|r| {
        let v = ident(&r.variant);
        quote! { Self::#v(body) => crate::json_response(status, &body), }
    });
    let from_error_arms = op
        .responses
        .iter()
        .filter(|r| r.schema == "ErrorResponse")
        .map(|r| {
            let v = ident(&r.variant);
            let status = r.status;
            quote! { #status => Self::#v(error.body), }
        });
    // Statuses the operation does not document fall back to its 500 answer; the spec
    // checker guarantees every operation documents one.
    let internal = op.internal_error().map(|r| ident(&r.variant));
    let fallback = match internal {
        Some(v) => quote! { _ => Self::#v(crate::ApiError::internal().body), },
        None => quote! {},
    };
    let doc = format!(
        " Every answer `{op_id}` may give: one variant per status code the spec documents."
    );
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq)]
        pub enum #response {
            #(#variants)*
            #[doc = #encoded_doc]
            #encoded(crate::Encoded<types::#ok_schema>),
        }

        impl #response {
            /// The HTTP status code of this answer.
            pub fn status(&self) -> u16 { match self { #(#status_arms)* Self::#encoded(_) => #ok_status, } }
        }

        impl ::axum::response::IntoResponse for #response {
            fn into_response(self) -> ::axum::response::Response {
                let status = self.status();
                match self { #(#into_arms)* Self::#encoded(body) => body.into_response_with(status), }
            }
        }

        /// An [`ApiError`](crate::ApiError) becomes the variant of its status; a status this
        /// operation does not document becomes its 500 answer.
        impl ::std::convert::From<crate::ApiError> for #response {
            fn from(error: crate::ApiError) -> Self {
                match error.status { #(#from_error_arms)* #fallback }
            }
        }
    }
}

fn examples(ops: &[Operation]) -> Result<TokenStream> {
    let methods = ops
        .iter()
        .map(|op| {
            let fn_name = ident(&op.fn_name());
            let request = ident(&op.request_type());
            let response = ident(&op.response_type());
            let op_id = &op.id;
            let ok = op.success();
            let variant = ident(&ok.variant);
            let status = ok.status;
            let Some(example) = &ok.example else {
                anyhow::bail!(
                    "{op_id}: its {status} response has no example, which ExampleApi answers with"
                );
            };
            Ok(quote! {
                async fn #fn_name(&self, _caller: (), _request: api::#request) -> api::#response {
                    api::#response::#variant(crate::openapi::example(#op_id, #status, #example))
                }
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(quote! {
        //! `ExampleApi`: answers every operation with the example the spec gives for its success
        //! response. A test double for client tests and documentation, not a sandbox.
        use super::api;

        /// Answers every operation with its documented success example, whatever the request.
        #[derive(Clone, Copy, Debug, Default)]
        pub struct ExampleApi;

        impl api::PartnerApi for ExampleApi {
            type Caller = ();

            /// Every request is let through, whatever its credential.
            async fn authorize(
                &self,
                _operation: api::Operation,
                _api_key: ::std::option::Option<&crate::ApiKey>,
                _extensions: &::axum::http::Extensions,
            ) -> ::std::result::Result<(), crate::ApiError> {
                Ok(())
            }

            #(#methods)*
        }
    })
}

fn router(ops: &[Operation]) -> TokenStream {
    let mut handlers = Vec::new();
    let mut routes = Vec::new();
    let mut validator_arms = Vec::new();
    for op in ops {
        let fn_name = ident(&op.fn_name());
        let request = ident(&op.request_type());
        let method = ident(&op.method.variant());
        let variant = ident(&op.pascal());
        let mut fields = vec![quote!(api_key,)];
        let mut extract = Vec::new();
        if !op.params.is_empty() {
            let query = ident(&op.query_type());
            extract.push(quote! {
                let query = match crate::runtime::query::<api::#query>(api::Operation::#variant, parts.uri.query()) {
                    Ok(query) => query,
                    Err(error) => return error.into_response(),
                };
            });
            fields.push(quote!(query,));
        }
        if let Some(body) = &op.body {
            let body = ident(body);
            extract.push(quote! {
                let (body, received) = match crate::runtime::json_body::<types::#body>(api::Operation::#variant, &parts.headers, body).await {
                    Ok(body) => body,
                    Err(error) => return error.into_response(),
                };
            });
            fields.push(quote!(body, received,));
        }
        handlers.push(quote! {
            async fn #fn_name<A: PartnerApi>(
                ::axum::extract::State(api): ::axum::extract::State<::std::sync::Arc<A>>,
                request: ::axum::extract::Request,
            ) -> ::axum::response::Response {
                #[allow(unused_variables)]
                let (parts, body) = request.into_parts();
                let api_key = crate::runtime::api_key(&parts.headers);
                let caller = match api.authorize(api::Operation::#variant, api_key.as_ref(), &parts.extensions).await {
                    Ok(caller) => caller,
                    Err(error) => return error.into_response(),
                };
                #(#extract)*
                api.#fn_name(caller, api::#request { #(#fields)* }).await.into_response()
            }
        });
        routes.push(quote! {
            .routes(crate::runtime::route(api::Operation::#variant, ::utoipa::openapi::HttpMethod::#method, #fn_name::<A>))
        });
        validator_arms.push(quote! {
            api::Operation::#variant => {
                static VALIDATORS: ::std::sync::OnceLock<crate::runtime::Validators> = ::std::sync::OnceLock::new();
                VALIDATORS.get_or_init(|| crate::runtime::Validators::new(self.info()))
            }
        });
    }
    quote! {
        //! One handler per operation, and the router that mounts them with their descriptions.
        use ::axum::response::IntoResponse;
        use super::api;
        use crate::types;
        use api::PartnerApi;

        /// Every operation mounted at its documented method and path, each registered together
        /// with its OpenAPI description, which [`OpenApiRouter::split_for_parts`]
        /// (::utoipa_axum::router::OpenApiRouter::split_for_parts) hands back.
        pub fn openapi_router<A: PartnerApi>(api: ::std::sync::Arc<A>) -> ::utoipa_axum::router::OpenApiRouter {
            ::utoipa_axum::router::OpenApiRouter::with_openapi(crate::runtime::base_openapi())
                #(#routes)*
                .with_state(api)
        }

        impl api::Operation {
            /// This operation's compiled validators, built on first use.
            pub(crate) fn validators(self) -> &'static crate::runtime::Validators {
                match self { #(#validator_arms)* }
            }
        }

        #(#handlers)*
    }
}
