//! What the model types need beyond typify's output, applied to its syntax tree:
//!
//! - every `Decimal` (or `Option<Decimal>`) field is (de)serialized through `crate::decimal`
//!   (`exact`, `exact_option`), so that amounts travel as exact JSON numbers without any crate
//!   turning on a serde feature for the whole dependency graph of its user (the client crate,
//!   which holds the types, provides that module);
//! - the `schemars::JsonSchema` derive is behind a `schemars` feature of the crate;
//! - a string newtype (a constrained string: `PaymentReference(String)`) shows as its text
//!   (`Display`), as typify's enums already do.

use syn::visit_mut::VisitMut;
use syn::{Attribute, Field, Type, parse_quote};

/// Applies both changes to a generated file.
pub fn finish(file: &mut syn::File) {
    ExactDecimals.visit_file_mut(file);
    OptionalSchemars.visit_file_mut(file);
    display_string_newtypes(&mut file.items);
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
