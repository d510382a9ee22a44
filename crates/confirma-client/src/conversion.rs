//! What a struct builder says when a value does not convert into one of its fields: the field's
//! whole path, then why (`invoice.header.number: longer than 35 characters`). The generated
//! builders call [`at`] (the generator puts it in place of typify's wording).

use std::fmt::Display;

/// The message of `error` converting a value into `field`: `field: <why>`, or
/// `field.<path>: <why>` when the value was a builder that already named a field of its own.
pub(crate) fn at(field: &str, error: impl Display) -> String {
    let inner = error.to_string();
    match inner.split_once(": ") {
        Some((path, _)) if is_path(path) => format!("{field}.{inner}"),
        _ => format!("{field}: {inner}"),
    }
}

/// Whether `text` is a field path a builder wrote (`header`, `rows[0].amount`), not the start
/// of a sentence.
fn is_path(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
        && text.starts_with(|c: char| c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_fields_make_one_path() {
        let leaf = at("number", "longer than 35 characters");
        assert_eq!(leaf, "number: longer than 35 characters");
        assert_eq!(
            at("invoice", at("header", leaf)),
            "invoice.header.number: longer than 35 characters"
        );
        assert_eq!(
            at("date", "input contains invalid characters"),
            "date: input contains invalid characters"
        );
        assert_eq!(
            at("reference", "doesn't match pattern \"^[0-9]+$\""),
            "reference: doesn't match pattern \"^[0-9]+$\""
        );
    }
}
