//! `multipleOf: 10^-N`, what `x-decimal-places: N` becomes (see [`crate::openapi`]): a number
//! has at most N decimals when, written without trailing zeros and with its exponent applied, it
//! has at most N digits after the point. A `multipleOf` of any other value is left to the crate.

use jsonschema::{Keyword, ValidationError, paths::Location};
use serde_json::{Map, Value};

use super::decimal::Decimal;
use super::{Builtin, Numeric, OnText};

/// The keyword this module overrides.
pub(crate) const KEYWORD: &str = "multipleOf";

/// The validator of `multipleOf: value`: [`DecimalPlaces`] for a power of ten of at
/// most one, the validator's own check for anything else.
pub(super) fn factory<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    match value
        .as_number()
        .and_then(|n| Decimal::parse(n.as_str()).places_of_unit())
    {
        Some(places) => Ok(Box::new(Numeric(DecimalPlaces { places }))),
        None => Ok(Box::new(Builtin::new(KEYWORD, value)?)),
    }
}

/// At most `places` decimals.
struct DecimalPlaces {
    places: u32,
}

impl OnText for DecimalPlaces {
    fn holds(&self, number: &Decimal<'_>) -> bool {
        number.decimals() <= u128::from(self.places)
    }

    fn refuse<'i>(&self, _instance: &'i Value) -> Result<(), ValidationError<'i>> {
        Err(ValidationError::custom(message(self.places)))
    }
}

/// What a refusal of [`DecimalPlaces`] says (its problem code is `decimalPlaces`: see
/// `runtime::problem`).
fn message(places: u32) -> String {
    format!("must have at most {places} decimals")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_check_agrees_with_the_validators_exact_multiple_of() {
        let own = |multiple: &str| {
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&serde_json::json!({ "multipleOf": number(multiple) }))
                .unwrap()
        };
        let fast = |multiple: &str| {
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .with_keyword(KEYWORD, factory)
                .build(&serde_json::json!({ "multipleOf": number(multiple) }))
                .unwrap()
        };
        let instances = [
            "0",
            "1",
            "-1",
            "70.71",
            "912.390",
            "0.001",
            "0.30000000000000004",
            "1.5e2",
            "1.2345e2",
            "1.23456e2",
            "1.5e-2",
            "99999999.9999",
            "-99999999.99999",
            "12E+3",
            "0.5",
            "\"text\"",
            "null",
            "1e-400",
        ];
        for multiple in ["1", "0.01", "0.0001", "0.25", "3", "0.02"] {
            let (own, fast) = (own(multiple), fast(multiple));
            for instance in instances {
                let value = number(instance);
                assert_eq!(
                    fast.is_valid(&value),
                    own.is_valid(&value),
                    "{instance} multipleOf {multiple}"
                );
                assert_eq!(
                    fast.validate(&value).is_ok(),
                    own.is_valid(&value),
                    "{instance} multipleOf {multiple}"
                );
            }
        }
        // Beyond a double's digits the validator's `multipleOf: 1` answers in floating point
        // (it takes this number for an integer); the text does not lose the cents.
        let big = number("123456789012345678901234567890.12");
        assert!(own("1").is_valid(&big));
        assert!(!fast("1").is_valid(&big));
        assert!(fast("0.01").is_valid(&big));
        assert!(!fast("0.1").is_valid(&big));
    }
}
