//! `multipleOf: 10^-N` — what `x-decimal-places: N` becomes (see [`crate::openapi`]) — checked
//! on the number's text: a number has at most N decimals when, written without trailing zeros
//! and with its exponent applied, it has at most N digits after the point. The validator's own
//! `multipleOf` reaches the same answer through arbitrary-precision fractions, parsed and divided
//! for every amount of every request; a `multipleOf` of any other value is left to it.

use jsonschema::{Keyword, ValidationError, paths::Location};
use serde_json::{Map, Value};

/// The keyword this module overrides.
pub(crate) const KEYWORD: &str = "multipleOf";

/// The validator of `multipleOf: value`: [`DecimalPlaces`] for a power of ten of at
/// most one, the validator's own check for anything else.
pub(crate) fn factory<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    match value
        .as_number()
        .and_then(|n| places_of_unit(&n.to_string()))
    {
        Some(places) => Ok(Box::new(DecimalPlaces { places })),
        None => {
            let own = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&serde_json::json!({ KEYWORD: value }))
                .map_err(|e| ValidationError::schema(e.to_string()))?;
            Ok(Box::new(Builtin(own)))
        }
    }
}

/// `N` when `text` writes `10^-N` (`1`, `0.01`, `1e-2`, `0.10`), `None` otherwise.
fn places_of_unit(text: &str) -> Option<u32> {
    let (mantissa, _) = text.split_once(['e', 'E']).unwrap_or((text, ""));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if mantissa.starts_with('-') || digits.trim_matches('0') != "1" {
        return None;
    }
    u32::try_from(-lowest_power(text)?).ok()
}

/// The power of ten of the lowest non-zero digit of the number `text` writes (`-2` for `70.71`
/// and for `7071e-2`, `1` for `1.50e2`); `None` for zero. An exponent beyond `i128` is clamped,
/// which answers every question asked of it here the same way.
fn lowest_power(text: &str) -> Option<i128> {
    let (mantissa, exponent) = text.split_once(['e', 'E']).unwrap_or((text, "0"));
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let exponent = exponent
        .parse::<i128>()
        .unwrap_or(if exponent.starts_with('-') {
            -(1 << 100)
        } else {
            1 << 100
        });
    let mantissa = mantissa.strip_prefix('-').unwrap_or(mantissa);
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let fraction = fraction.trim_end_matches('0');
    let shift = if fraction.is_empty() {
        let significant = whole.trim_end_matches('0');
        if significant.trim_start_matches('0').is_empty() {
            return None;
        }
        i128::try_from(whole.len() - significant.len()).ok()?
    } else {
        -i128::try_from(fraction.len()).ok()?
    };
    Some(exponent + shift)
}

/// How many decimals the number `text` writes exactly has (`2` for `912.390`, `0` for `1.5e2`).
fn decimals(text: &str) -> u128 {
    lowest_power(text).map_or(0, |power| u128::try_from(-power).unwrap_or(0))
}

/// At most `places` decimals.
struct DecimalPlaces {
    places: u32,
}

impl DecimalPlaces {
    fn holds(&self, instance: &Value) -> bool {
        match instance {
            Value::Number(n) => decimals(n.as_str()) <= u128::from(self.places),
            _ => true,
        }
    }
}

impl<'i> Keyword<'i> for DecimalPlaces {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.holds(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(message(self.places)))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        self.holds(instance)
    }
}

/// What a refusal of [`DecimalPlaces`] says.
fn message(places: u32) -> String {
    format!("{TOO_MANY} {places} decimals")
}

const TOO_MANY: &str = "must have at most";

/// The problem code of a refusal of this keyword: `decimalPlaces` for too many decimals,
/// `multipleOf` for another multiple.
pub(crate) fn code(message: &str) -> &'static str {
    if message.starts_with(TOO_MANY) {
        "decimalPlaces"
    } else {
        KEYWORD
    }
}

/// The validator's own `multipleOf`, for a multiple that is not a power of ten.
struct Builtin(jsonschema::Validator);

impl<'i> Keyword<'i> for Builtin {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.0
            .validate(instance)
            .map_err(|e| ValidationError::custom(e.masked_with("the value").to_string()))
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        self.0.is_valid(instance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_power_of_ten_is_recognised_in_every_spelling() {
        for (text, places) in [
            ("1", Some(0)),
            ("0.01", Some(2)),
            ("0.0100", Some(2)),
            ("1e-4", Some(4)),
            ("10e-5", Some(4)),
            ("-0.01", None),
            ("0.011", None),
            ("0.1E-1", Some(2)),
            ("0.02", None),
            ("0.25", None),
            ("10", None),
            ("100e-2", Some(0)),
        ] {
            assert_eq!(places_of_unit(text), places, "{text}");
        }
    }

    #[test]
    fn decimals_are_counted_on_the_text_as_an_exact_value() {
        for (text, expected) in [
            ("0", 0),
            ("70.71", 2),
            ("912.390", 2),
            ("-0.010", 2),
            ("0.30000000000000004", 17),
            ("1.5e2", 0),
            ("1.2345e2", 2),
            ("1.50e1", 0),
            ("1.5e-2", 3),
            ("15e-1", 1),
            ("1500e-2", 0),
            ("1e-99999999999999999999", 99999999999999999999),
            ("1e-9999999999999999999999999999999999999999", 1 << 100),
            ("1e+9999999999999999999999999999999999999999", 0),
            ("0e-7", 0),
            ("0.000", 0),
            ("12E+3", 0),
            ("-0.5E-1", 2),
        ] {
            assert_eq!(decimals(text), expected, "{text}");
        }
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
