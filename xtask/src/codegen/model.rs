//! The one model of the spec's operations, built once from the parsed spec (`openapiv3`) and read
//! by every generator: method, path, parameters, request body and responses of each operation, and
//! the naming rules that turn them into Rust names. The checker ([`super::spec`]) refuses what
//! this model cannot represent, from the same lists ([`Method::ALL`]), so a construct either
//! reaches every generator or stops `cargo xtask codegen` with a sentence.

use anyhow::{Result, anyhow, bail};
use heck::{ToSnakeCase, ToUpperCamelCase};
use openapiv3::{
    IntegerFormat, OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, SchemaKind,
    StatusCode, StringFormat, Type, VariantOrUnknownOrEmpty,
};
use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

pub use super::spec::Method;
use super::spec::Spec;

/// One operation of the spec, as the generators need it.
#[derive(Debug)]
pub struct Operation {
    /// The `operationId`, lowerCamelCase (the checker holds it to that).
    pub id: String,
    pub method: Method,
    pub path: String,
    pub summary: String,
    /// The spec's longer description of the operation (may be empty).
    pub details: String,
    /// The operation object as the spec writes it (extensions kept), its parameters inlined, as
    /// compact JSON: what the server validates against and serves as its description.
    pub spec_json: String,
    /// The query parameters, in spec order.
    pub params: Vec<Param>,
    /// The request body's schema name under `components/schemas`, if the operation takes one.
    pub body: Option<String>,
    /// The spec's example of the request body, as pretty JSON.
    pub body_example: Option<String>,
    /// One per documented status, in status order.
    pub responses: Vec<Response>,
}

/// One query parameter.
#[derive(Debug)]
pub struct Param {
    /// The name on the wire (`invoiceNumber`).
    pub name: String,
    pub required: bool,
    pub description: String,
    /// What the spec says it is (a date, an integer, a component, ...).
    pub kind: ParamKind,
    /// Its Rust type as typify chose it for progenitor's client (`::chrono::naive::NaiveDate`,
    /// `::std::num::NonZeroU32`, `types::GetPaymentsInvoiceNumber` for a constrained string),
    /// `Option` taken off an optional one: client, server and CLI hold it in one type.
    pub ty: TokenStream,
    /// Its JSON Schema type (`integer`, `string`, `boolean`, `number`): how a query-string value
    /// is read before validation.
    pub json_type: &'static str,
    /// The values of an enum parameter, in spec order (empty for any other).
    pub values: Vec<String>,
}

/// What the spec says a query parameter is (its Rust type is [`Param::ty`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A schema under `components/schemas`, by its name.
    Named(String),
    Date,
    DateTime,
    String,
    I32,
    I64,
    Bool,
    Decimal,
}

/// One documented answer of an operation.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The variant of the operation's response enum: the name of the shared response it refers to
    /// (`Unauthorized`), `Ok` for an inline success, `Status{n}` for an inline failure.
    pub variant: String,
    /// The body's schema name under `components/schemas`.
    pub schema: String,
    pub description: String,
    /// The spec's example of the body, as compact JSON.
    pub example: Option<String>,
}

impl Operation {
    /// The operation's name in types (`createInvoice` → `CreateInvoice`).
    pub fn pascal(&self) -> String {
        pascal(&self.id)
    }

    /// The operation's name as a function (`create_invoice`).
    pub fn fn_name(&self) -> String {
        self.id.to_snake_case()
    }

    /// The struct holding everything the operation receives.
    pub fn request_type(&self) -> String {
        format!("{}Request", self.pascal())
    }

    /// The enum of everything the operation may answer.
    pub fn response_type(&self) -> String {
        format!("{}Response", self.pascal())
    }

    /// The struct of the operation's query parameters (only generated when it has some).
    pub fn query_type(&self) -> String {
        format!("{}Query", self.pascal())
    }

    /// The one success answer; the checker refuses an operation without exactly one.
    pub fn success(&self) -> &Response {
        self.responses
            .iter()
            .find(|r| (200..300).contains(&r.status))
            .expect("the checker holds every operation to one 2xx response")
    }

    /// The answer to unexpected failures; the checker refuses an operation without one.
    pub fn internal_error(&self) -> Option<&Response> {
        self.responses.iter().find(|r| r.status == 500)
    }
}

impl Param {
    /// The field's name in the query struct (`invoice_number`).
    pub fn field(&self) -> String {
        field(&self.name)
    }
}

/// The naming rule of [`Operation::pascal`], for an operationId.
fn pascal(id: &str) -> String {
    id.to_upper_camel_case()
}

/// The naming rule of [`Param::field`], for a parameter's wire name.
fn field(name: &str) -> String {
    name.to_snake_case()
}

/// Every operation of `spec`, sorted by path and method; the parameters' Rust types are read
/// from `client`, progenitor's client for the same spec ([`super::client::progenitor`]).
pub fn operations(spec: &Spec, client: &syn::File) -> Result<Vec<Operation>> {
    let api = &spec.openapi;
    let mut out = Vec::new();
    for (path, item) in api.paths.iter() {
        let item = item
            .as_item()
            .ok_or_else(|| anyhow!("paths.{path}: path items must be inline"))?;
        for (key, op) in item.iter() {
            let method = Method::from_key(key).ok_or_else(|| {
                anyhow!("paths.{path}.{key}: the generators do not mount `{key}`")
            })?;
            out.push(operation(spec, client, path, method, op)?);
        }
    }
    out.sort_by(|a, b| (&a.path, a.method).cmp(&(&b.path, b.method)));
    Ok(out)
}

fn operation(
    spec: &Spec,
    client: &syn::File,
    path: &str,
    method: Method,
    op: &openapiv3::Operation,
) -> Result<Operation> {
    let api = &spec.openapi;
    let id = op
        .operation_id
        .clone()
        .ok_or_else(|| anyhow!("paths.{path}.{}: missing operationId", method.key()))?;
    let components = api.components.as_ref();

    let mut params = Vec::new();
    for param in &op.parameters {
        let (param, _) = resolve(param, |name| components?.parameters.get(name))?;
        let Parameter::Query { parameter_data, .. } = param else {
            bail!(
                "{id}: parameter `{}` is not in the query; the generators handle query parameters only",
                param.parameter_data_ref().name
            );
        };
        let ParameterSchemaOrContent::Schema(schema) = &parameter_data.format else {
            bail!("{id}: parameter `{}` needs a `schema`", parameter_data.name);
        };
        let kind = param_kind(&id, &parameter_data.name, schema)?;
        let (json_type, values) = match &kind {
            ParamKind::Named(name) => named_type(api, &id, name)?,
            ParamKind::Date | ParamKind::DateTime | ParamKind::String => ("string", Vec::new()),
            ParamKind::I32 | ParamKind::I64 => ("integer", Vec::new()),
            ParamKind::Bool => ("boolean", Vec::new()),
            ParamKind::Decimal => ("number", Vec::new()),
        };
        let (builder, field) = (pascal(&id), field(&parameter_data.name));
        let ty = builder_field_type(client, &builder, &field, parameter_data.required)
            .ok_or_else(|| {
                anyhow!(
                    "{id}: progenitor's builder `{builder}` has no field `{field}` for parameter `{}`",
                    parameter_data.name
                )
            })?;
        params.push(Param {
            name: parameter_data.name.clone(),
            required: parameter_data.required,
            description: parameter_data.description.clone().unwrap_or_default(),
            kind,
            ty,
            json_type,
            values,
        });
    }

    let (body, body_example) = match &op.request_body {
        None => (None, None),
        Some(body) => {
            let (body, _) = resolve(body, |name| components?.request_bodies.get(name))?;
            let media = body
                .content
                .get("application/json")
                .ok_or_else(|| anyhow!("{id}: the request body is not application/json"))?;
            let example = media
                .example
                .as_ref()
                .map(serde_json::to_string_pretty)
                .transpose()?;
            (
                Some(schema_name(&id, "the request body", media.schema.as_ref())?),
                example,
            )
        }
    };

    let mut responses = Vec::new();
    for (status, response) in &op.responses.responses {
        let StatusCode::Code(status) = *status else {
            bail!("{id}: status `{status}` is a range; document explicit statuses");
        };
        let (resolved, shared) = resolve(response, |name| components?.responses.get(name))?;
        let media = resolved
            .content
            .get("application/json")
            .ok_or_else(|| anyhow!("{id}: response {status} has no JSON body"))?;
        let schema = schema_name(&id, &format!("response {status}"), media.schema.as_ref())?;
        let variant = match shared {
            Some(name) => name.to_upper_camel_case(),
            None if (200..300).contains(&status) => "Ok".to_string(),
            None => format!("Status{status}"),
        };
        responses.push(Response {
            status,
            variant,
            schema,
            description: resolved.description.clone(),
            example: media
                .example
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?,
        });
    }
    responses.sort_by_key(|r| r.status);

    Ok(Operation {
        summary: op.summary.clone().unwrap_or_default(),
        details: op.description.clone().unwrap_or_default(),
        spec_json: spec_json(&spec.raw, path, method)?,
        id,
        method,
        path: path.to_string(),
        params,
        body,
        body_example,
        responses,
    })
}

/// The type of field `field` of progenitor's request builder `builder::{builder}`: it is
/// `Result<T, String>`, `T` being `Option<U>` for an optional parameter (then `U` is returned).
fn builder_field_type(
    client: &syn::File,
    builder: &str,
    field: &str,
    required: bool,
) -> Option<TokenStream> {
    let (_, items) = client.items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
        _ => None,
    })?;
    let strukt = items.iter().find_map(|item| match item {
        syn::Item::Struct(s) if s.ident == builder => Some(s),
        _ => None,
    })?;
    let field = strukt
        .fields
        .iter()
        .find(|f| f.ident.as_ref().is_some_and(|i| i == field))?;
    let ty = generic_argument(&field.ty, "Result")?;
    let ty = if required {
        ty
    } else {
        generic_argument(ty, "Option")?
    };
    Some(quote!(#ty))
}

/// `T` of `Outer<T, ...>`.
fn generic_argument<'a>(ty: &'a syn::Type, outer: &str) -> Option<&'a syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let segment = path.path.segments.last()?;
    if segment.ident != outer {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// The operation object of the raw spec (extensions kept), each `$ref`'d parameter replaced by
/// the parameter it names.
fn spec_json(raw: &Value, path: &str, method: Method) -> Result<String> {
    let mut op = raw
        .get("paths")
        .and_then(|paths| paths.get(path))
        .and_then(|item| item.get(method.key()))
        .cloned()
        .ok_or_else(|| anyhow!("paths.{path}.{} is not in the spec", method.key()))?;
    if let Some(Value::Array(params)) = op.get_mut("parameters") {
        for param in params {
            if let Some(reference) = param.get("$ref").and_then(Value::as_str) {
                let target = raw
                    .pointer(reference.trim_start_matches('#'))
                    .ok_or_else(|| anyhow!("`$ref: {reference}` does not resolve"))?;
                *param = target.clone();
            }
        }
    }
    Ok(serde_json::to_string(&op)?)
}

/// The JSON type and enum values of a parameter whose schema is a component.
fn named_type(api: &OpenAPI, id: &str, name: &str) -> Result<(&'static str, Vec<String>)> {
    let schema = api
        .components
        .as_ref()
        .and_then(|c| c.schemas.get(name))
        .and_then(ReferenceOr::as_item)
        .ok_or_else(|| anyhow!("{id}: parameter schema `{name}` is not an inline component"))?;
    Ok(match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => {
            ("string", s.enumeration.iter().flatten().cloned().collect())
        }
        SchemaKind::Type(Type::Integer(_)) => ("integer", Vec::new()),
        SchemaKind::Type(Type::Boolean(_)) => ("boolean", Vec::new()),
        SchemaKind::Type(Type::Number(_)) => ("number", Vec::new()),
        _ => bail!("{id}: parameter schema `{name}` must be a string, integer, boolean or number"),
    })
}

/// An item, following one `$ref` into its components map, with the component's name if it was a
/// reference.
fn resolve<'a, T>(
    item: &'a ReferenceOr<T>,
    lookup: impl FnOnce(&str) -> Option<&'a ReferenceOr<T>>,
) -> Result<(&'a T, Option<&'a str>)> {
    match item {
        ReferenceOr::Item(item) => Ok((item, None)),
        ReferenceOr::Reference { reference } => {
            let name = ref_name(reference);
            let target = lookup(name)
                .and_then(ReferenceOr::as_item)
                .ok_or_else(|| anyhow!("`$ref: {reference}` does not resolve to an inline item"))?;
            Ok((target, Some(name)))
        }
    }
}

/// The component a `$ref` names: its last segment (`#/components/schemas/Invoice` → `Invoice`).
fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or_default()
}

/// The name of a body's schema, which the checker holds to a `$ref` into `components/schemas`.
fn schema_name(
    id: &str,
    what: &str,
    schema: Option<&ReferenceOr<openapiv3::Schema>>,
) -> Result<String> {
    match schema {
        Some(ReferenceOr::Reference { reference }) => Ok(ref_name(reference).to_string()),
        _ => bail!("{id}: {what} has no `$ref` schema"),
    }
}

fn param_kind(id: &str, name: &str, schema: &ReferenceOr<openapiv3::Schema>) -> Result<ParamKind> {
    let schema = match schema {
        ReferenceOr::Reference { reference } => {
            return Ok(ParamKind::Named(ref_name(reference).to_string()));
        }
        ReferenceOr::Item(schema) => schema,
    };
    let inline_enum = || {
        anyhow!(
            "{id}: parameter `{name}` has an inline enum; define it under components/schemas and `$ref` it"
        )
    };
    Ok(match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => return Err(inline_enum()),
        SchemaKind::Type(Type::String(s)) => match s.format {
            VariantOrUnknownOrEmpty::Item(StringFormat::Date) => ParamKind::Date,
            VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => ParamKind::DateTime,
            _ => ParamKind::String,
        },
        SchemaKind::Type(Type::Integer(i)) if !i.enumeration.is_empty() => {
            return Err(inline_enum());
        }
        SchemaKind::Type(Type::Integer(i)) => match i.format {
            VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32) => ParamKind::I32,
            _ => ParamKind::I64,
        },
        SchemaKind::Type(Type::Boolean(b)) if !b.enumeration.is_empty() => {
            return Err(inline_enum());
        }
        SchemaKind::Type(Type::Boolean(_)) => ParamKind::Bool,
        SchemaKind::Type(Type::Number(_)) => ParamKind::Decimal,
        _ => bail!("{id}: parameter `{name}` must be a string, integer, boolean or decimal"),
    })
}
