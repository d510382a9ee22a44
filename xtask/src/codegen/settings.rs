//! The one set of type-generation settings: the model types (generated once, in the client crate,
//! and re-exported by the server stub) come from typify through progenitor with exactly these
//! settings, and so do the query parameters' types the server and the CLI take from its builders.

use progenitor_impl::{GenerationSettings, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;
use schemars::schema::{InstanceType, NumberValidation, SchemaObject, SingleOrVec};

use super::spec::{DECIMAL_SHAPES, DecimalShape, INVOICE_NUMBER_RANGE};

pub fn generation_settings() -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        // The client's hand-written layer keeps the API key and retry policy in this state and
        // applies them in its `ClientHooks` implementation.
        .with_inner_type(quote!(crate::ClientState))
        .with_hooks(HooksMode::Expected)
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq")
        .with_map_type("::std::collections::BTreeMap");
    for nullable in [false, true] {
        for shape in DECIMAL_SHAPES {
            settings.with_conversion(
                decimal_schema(shape, nullable),
                "::rust_decimal::Decimal",
                [TypeImpl::Display, TypeImpl::FromStr, TypeImpl::Default].into_iter(),
            );
        }
        settings.with_conversion(
            invoice_number_schema(nullable),
            "i64",
            [TypeImpl::Display, TypeImpl::FromStr, TypeImpl::Default].into_iter(),
        );
    }
    settings
}

fn number_schema(
    instance: InstanceType,
    nullable: bool,
    format: &str,
    range: (f64, f64),
) -> SchemaObject {
    let instance_type = if nullable {
        SingleOrVec::Vec(vec![instance, InstanceType::Null])
    } else {
        SingleOrVec::Single(Box::new(instance))
    };
    SchemaObject {
        instance_type: Some(instance_type),
        format: Some(format.to_string()),
        number: Some(Box::new(NumberValidation {
            minimum: Some(range.0),
            maximum: Some(range.1),
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// The schemars form of a decimal shape (`{type: number, format: decimal, minimum, maximum}`;
/// the `x-decimal-places` extension is stripped before progenitor) as progenitor hands it to
/// typify, which matches conversions on the whole schema, metadata aside.
fn decimal_schema(shape: DecimalShape, nullable: bool) -> SchemaObject {
    let bound = |b: &str| b.parse().expect("decimal bounds are numbers");
    number_schema(
        InstanceType::Number,
        nullable,
        "decimal",
        (bound(shape.minimum), bound(shape.maximum)),
    )
}

/// The schemars form of an invoice number, `{type: integer, format: int64, minimum, maximum}`.
fn invoice_number_schema(nullable: bool) -> SchemaObject {
    let (min, max) = INVOICE_NUMBER_RANGE;
    number_schema(
        InstanceType::Integer,
        nullable,
        "int64",
        (min as f64, max as f64),
    )
}
