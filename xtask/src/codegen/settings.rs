//! The one set of type-generation settings shared by the client and the server stub.
//!
//! Both crates get their model types from typify through progenitor with exactly these settings,
//! so the same spec always yields the same Rust types on both sides of the wire.

use progenitor_impl::{GenerationSettings, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;
use schemars::schema::{InstanceType, NumberValidation, SchemaObject, SingleOrVec};

use super::spec::DECIMAL_MULTIPLES;

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
    for multiple in DECIMAL_MULTIPLES {
        for nullable in [false, true] {
            settings.with_conversion(
                decimal_schema(multiple, nullable),
                "::rust_decimal::Decimal",
                [TypeImpl::Display, TypeImpl::FromStr, TypeImpl::Default].into_iter(),
            );
        }
    }
    settings
}

/// The schemars form of `{type: number, format: decimal, multipleOf: M}` as progenitor hands it
/// to typify (typify matches conversions on the whole schema, metadata aside).
fn decimal_schema(multiple: &str, nullable: bool) -> SchemaObject {
    let instance_type = if nullable {
        SingleOrVec::Vec(vec![InstanceType::Number, InstanceType::Null])
    } else {
        SingleOrVec::Single(Box::new(InstanceType::Number))
    };
    SchemaObject {
        instance_type: Some(instance_type),
        format: Some("decimal".to_string()),
        number: Some(Box::new(NumberValidation {
            multiple_of: Some(multiple.parse().expect("decimal multiples are numbers")),
            ..Default::default()
        })),
        ..Default::default()
    }
}
