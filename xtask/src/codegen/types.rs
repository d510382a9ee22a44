//! What the model types need beyond typify's output, applied to its syntax tree:
//!
//! - every `Decimal` (or `Option<Decimal>`) field is (de)serialized through `crate::decimal`
//!   (`exact`, `exact_option`), so that amounts travel as exact JSON numbers without any crate
//!   turning on a serde feature for the whole dependency graph of its user (the client crate,
//!   which holds the types, provides that module);
//! - the `schemars::JsonSchema` derive is behind a `schemars` feature of the crate;
//! - a string newtype (a constrained string: `PaymentReference(String)`) shows as its text
//!   (`Display`), as typify's enums already do;
//! - a struct builder's conversion error names the field's whole path
//!   (`invoice.header.number: longer than 35 characters`) through `crate::conversion::at`,
//!   instead of typify's nested "error converting supplied value for ...".

use syn::visit_mut::VisitMut;
use syn::{Attribute, Field, Type, parse_quote};

/// Applies both changes to a generated file.
pub fn finish(file: &mut syn::File) {
    ExactDecimals.visit_file_mut(file);
    OptionalSchemars.visit_file_mut(file);
    display_string_newtypes(&mut file.items);
    FieldPaths.visit_file_mut(file);
    builders_build(&mut file.items, false);
}

/// `build()` on every struct builder of `types::builder` (not the request builders of the root
/// `builder`): the `TryFrom` typify writes, by a name that says what it does
/// (`InvoiceHeader::builder().number(5)....build()?`). `in_types`: whether `items` are the
/// `types` module's.
fn builders_build(items: &mut [syn::Item], in_types: bool) {
    for item in items.iter_mut() {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        let Some((_, inner)) = &mut module.content else {
            continue;
        };
        if module.ident == "types" {
            builders_build(inner, true);
            continue;
        }
        if !in_types || module.ident != "builder" {
            continue;
        }
        let names: Vec<syn::Ident> = inner
            .iter()
            .filter_map(|i| match i {
                syn::Item::Struct(s) if matches!(s.fields, syn::Fields::Named(_)) => {
                    Some(s.ident.clone())
                }
                _ => None,
            })
            .collect();
        for name in names {
            let doc = format!(
                " The [`{name}`](super::{name}) with the values set, or the first that is missing or refused (its field's path and why)."
            );
            inner.push(parse_quote! {
                impl #name {
                    #[doc = #doc]
                    pub fn build(self) -> ::std::result::Result<super::#name, super::error::ConversionError> {
                        ::std::convert::TryFrom::try_from(self)
                    }
                }
            });
        }
    }
}

/// How typify words a builder's conversion error: `format!("{PREFIX}{field}: {e}")`.
const PREFIX: &str = "error converting supplied value for ";

struct FieldPaths;

impl VisitMut for FieldPaths {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::Macro(m) = expr
            && m.mac.path.is_ident("format")
            && let Ok(args) = m.mac.parse_body_with(
                syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
            )
            && let Some(syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            })) = args.first()
            && let Some(rest) = text.value().strip_prefix(PREFIX)
        {
            // Inline (`{PREFIX}business_id: {e}`) or positional (`{PREFIX}{}: {}`, field, e).
            let (field, error): (syn::Expr, syn::Expr) = match rest.strip_suffix(": {e}") {
                Some(field) if !field.contains('{') => (parse_quote!(#field), parse_quote!(e)),
                _ => match (args.get(1), args.get(2)) {
                    (Some(field), Some(error)) => (parse_quote!(#field), parse_quote!(#error)),
                    _ => return,
                },
            };
            *expr = parse_quote!(crate::conversion::at(#field, #error));
            return;
        }
        // A required field never set: `"no value supplied for number"` → `"number: no value
        // supplied"`, a path like any other.
        if let syn::Expr::MethodCall(call) = expr
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) = &*call.receiver
            && let Some(field) = text.value().strip_prefix("no value supplied for ")
        {
            let worded = format!("{field}: no value supplied");
            *call.receiver = parse_quote!(#worded);
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// `Display` for every tuple struct around one `String` in `items` (and the modules in them)
/// that has none yet.
fn display_string_newtypes(items: &mut Vec<syn::Item>) {
    let shown: std::collections::HashSet<String> = items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(i) => {
                let trait_path = &i.trait_.as_ref()?.1;
                let self_ty = &i.self_ty;
                let is_display = trait_path.segments.last()?.ident == "Display";
                is_display.then(|| quote::quote!(#self_ty).to_string())
            }
            _ => None,
        })
        .collect();
    let mut added = Vec::new();
    for item in items.iter_mut() {
        match item {
            syn::Item::Mod(module) => {
                if let Some((_, inner)) = &mut module.content {
                    display_string_newtypes(inner);
                }
            }
            syn::Item::Struct(s) => {
                let syn::Fields::Unnamed(fields) = &s.fields else {
                    continue;
                };
                let ty = fields.unnamed.first().map(|f| &f.ty);
                let is_string = fields.unnamed.len() == 1
                    && matches!(last_segment(ty.expect("one field")), Some((n, None)) if n == "String");
                let name = &s.ident;
                if is_string && !shown.contains(&name.to_string()) {
                    added.push(parse_quote! {
                        impl ::std::fmt::Display for #name {
                            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                                f.write_str(&self.0)
                            }
                        }
                    });
                }
            }
            _ => {}
        }
    }
    items.extend(added);
}

/// The last path segment of `ty` and its generic argument, if any: `Option<Decimal>` gives
/// `("Option", Some(Decimal))`.
fn last_segment(ty: &Type) -> Option<(String, Option<&Type>)> {
    let Type::Path(path) = ty else {
        return None;
    };
    let segment = path.path.segments.last()?;
    let argument = match &segment.arguments {
        syn::PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    };
    Some((segment.ident.to_string(), argument))
}

fn is_decimal(ty: &Type) -> bool {
    matches!(last_segment(ty), Some((name, None)) if name == "Decimal")
        && quote::quote!(#ty).to_string().contains("rust_decimal")
}

struct ExactDecimals;

impl VisitMut for ExactDecimals {
    fn visit_field_mut(&mut self, field: &mut Field) {
        let (module, optional) = if is_decimal(&field.ty) {
            ("crate::decimal::exact", false)
        } else {
            match last_segment(&field.ty) {
                Some((name, Some(inner))) if name == "Option" && is_decimal(inner) => {
                    ("crate::decimal::exact_option", true)
                }
                _ => return,
            }
        };
        {
            // schemars reads `serde(with)` as the type to describe; it is still the field's.
            let ty = &field.ty;
            let ty = quote::quote!(#ty).to_string().replace(' ', "");
            let has_default = field.attrs.iter().any(|a| {
                a.path().is_ident("serde") && quote::quote!(#a).to_string().contains("default")
            });
            if optional && !has_default {
                // `with` takes away serde's "a missing Option is None"; `default` gives it back.
                field
                    .attrs
                    .push(parse_quote!(#[serde(with = #module, default)]));
            } else {
                field.attrs.push(parse_quote!(#[serde(with = #module)]));
            }
            field
                .attrs
                .push(parse_quote!(#[cfg_attr(feature = "schemars", schemars(with = #ty))]));
        }
    }
}

struct OptionalSchemars;

impl OptionalSchemars {
    /// Takes `schemars::JsonSchema` out of the derives in `attrs`; whether it was there.
    fn take_derive(attrs: &mut [Attribute]) -> bool {
        let mut found = false;
        for attr in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
            let Ok(paths) = attr.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            ) else {
                continue;
            };
            let kept: Vec<&syn::Path> = paths
                .iter()
                .filter(|p| {
                    let is_schema = p.segments.last().is_some_and(|s| s.ident == "JsonSchema");
                    found |= is_schema;
                    !is_schema
                })
                .collect();
            *attr = parse_quote!(#[derive(#(#kept),*)]);
        }
        found
    }

    fn apply(attrs: &mut Vec<Attribute>) {
        if Self::take_derive(attrs) {
            attrs.push(parse_quote!(
                #[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]
            ));
        }
    }
}

impl VisitMut for OptionalSchemars {
    fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
        Self::apply(&mut item.attrs);
        syn::visit_mut::visit_item_struct_mut(self, item);
    }

    fn visit_item_enum_mut(&mut self, item: &mut syn::ItemEnum) {
        Self::apply(&mut item.attrs);
        syn::visit_mut::visit_item_enum_mut(self, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_conversion_errors_go_through_the_path_helper() {
        let mut file: syn::File = parse_quote! {
            fn a(value: u8) {
                let x = value.try_into().map_err(|e| format!("error converting supplied value for header: {e}"));
                let y = value.try_into().map_err(|e| format!("error converting supplied value for {}: {}", "number", e));
                let z = format!("something else: {}", 1);
                let w = Err("no value supplied for company_identifier".to_string());
            }
        };
        finish(&mut file);
        let text = quote::quote!(#file).to_string();
        assert!(
            text.contains(r#"crate :: conversion :: at ("header" , e)"#),
            "{text}"
        );
        assert!(
            text.contains(r#"crate :: conversion :: at ("number" , e)"#),
            "{text}"
        );
        assert!(text.contains("something else"), "{text}");
        assert!(!text.contains("error converting"), "{text}");
        assert!(
            text.contains(r#""company_identifier: no value supplied""#),
            "{text}"
        );
    }

    #[test]
    fn string_newtypes_show_as_their_text_once() {
        let mut file: syn::File = parse_quote! {
            pub mod types {
                pub struct Reference(::std::string::String);
                pub struct Shown(::std::string::String);
                impl ::std::fmt::Display for Shown {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str("x") }
                }
                pub struct Count(i64);
                pub struct Named { pub text: ::std::string::String }
            }
        };
        finish(&mut file);
        let text = quote::quote!(#file).to_string();
        assert_eq!(text.matches("Display for Reference").count(), 1, "{text}");
        assert_eq!(text.matches("Display for Shown").count(), 1, "{text}");
        assert!(!text.contains("Display for Count"), "{text}");
        assert!(!text.contains("Display for Named"), "{text}");
    }

    #[test]
    fn decimals_get_the_exact_module_and_schemars_its_feature() {
        let mut file: syn::File = parse_quote! {
            #[derive(Clone, schemars::JsonSchema, Debug)]
            pub struct A {
                pub amount: ::rust_decimal::Decimal,
                #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                pub maybe: ::std::option::Option<::rust_decimal::Decimal>,
                pub count: i64,
            }
        };
        finish(&mut file);
        let text = quote::quote!(#file).to_string();
        let syn::Item::Struct(item) = &file.items[0] else {
            panic!("a struct")
        };
        let attrs = |name: &str| -> String {
            let field = item
                .fields
                .iter()
                .find(|f| f.ident.as_ref().is_some_and(|i| i == name))
                .unwrap();
            field
                .attrs
                .iter()
                .map(|a| quote::quote!(#a).to_string())
                .collect()
        };
        assert!(
            attrs("amount").contains(r#"serde (with = "crate::decimal::exact")"#),
            "{text}"
        );
        assert!(
            attrs("amount").contains(r#"schemars (with = "::rust_decimal::Decimal")"#),
            "{text}"
        );
        assert!(
            attrs("maybe").contains(r#"serde (with = "crate::decimal::exact_option")"#),
            "the existing `default` is not repeated: {text}"
        );
        assert!(!attrs("count").contains("with"), "{text}");
        assert!(text.contains("# [derive (Clone , Debug)]"), "{text}");
        assert!(
            text.contains(
                r#"cfg_attr (feature = "schemars" , derive (:: schemars :: JsonSchema))"#
            ),
            "{text}"
        );
    }
}
