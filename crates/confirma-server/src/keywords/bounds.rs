//! `minimum` and `maximum` (every amount of the spec has both): the number's text compared with
//! the limit's, exactly. A number within the limit is let through here; one beyond it is handed
//! to the crate's own check, which answers (with its own error) as it always did.

use std::cmp::Ordering;

use jsonschema::{Keyword, ValidationError, paths::Location};
use serde_json::{Map, Value};

use super::decimal::Decimal;
use super::{Builtin, Numeric, OnText};

pub(super) const MINIMUM: &str = "minimum";
pub(super) const MAXIMUM: &str = "maximum";

/// The validator of `minimum: value`.
pub(super) fn minimum<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    bound(MINIMUM, value, Ordering::Less)
}

/// The validator of `maximum: value`.
pub(super) fn maximum<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    bound(MAXIMUM, value, Ordering::Greater)
}

fn bound<'a>(
    keyword: &str,
    value: &'a Value,
    beyond: Ordering,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let builtin = Builtin::new(keyword, value)?;
    Ok(match value.as_number() {
        Some(limit) => Box::new(Numeric(Bound {
            limit: limit.clone(),
            beyond,
            builtin,
        })),
        None => Box::new(builtin),
    })
}

/// A number may not compare `beyond` the limit.
struct Bound {
    limit: serde_json::Number,
    beyond: Ordering,
    builtin: Builtin,
}

impl OnText for Bound {
    fn holds(&self, number: &Decimal<'_>) -> bool {
        number.compare(&Decimal::parse(self.limit.as_str())) != self.beyond
    }

    fn refuse<'i>(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.builtin.validate(instance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_agree_with_the_validators_exact_check_and_its_errors() {
        let schema = |keyword: &str, limit: &str| serde_json::json!({ keyword: serde_json::from_str::<Value>(limit).unwrap() });
        let own = |s: &Value| {
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(s)
                .unwrap()
        };
        let fast = |s: &Value| {
            super::super::exact_numbers(jsonschema::options())
                .with_draft(jsonschema::Draft::Draft202012)
                .build(s)
                .unwrap()
        };
        let instances = [
            "0",
            "-0",
            "1",
            "-1",
            "100",
            "100.00",
            "100.01",
            "1e2",
            "1.0001e2",
            "-999999999999.99",
            "-999999999999.991",
            "999999999999.99",
            "999999999999.990",
            "999999999999.991",
            "99999999999999",
            "100000000000000",
            "99999999.9999",
            "99999999.99991",
            "0.5",
            "365",
            "366",
            "-1e-400",
            "1e-400",
            "1e400",
            "\"text\"",
            "null",
            "[1]",
        ];
        for keyword in [MINIMUM, MAXIMUM] {
            for limit in [
                "0",
                "1",
                "100",
                "365",
                "-999999999999.99",
                "999999999999.99",
                "99999999.9999",
                "99999999999999",
            ] {
                let s = schema(keyword, limit);
                let (own, fast) = (own(&s), fast(&s));
                for text in instances {
                    let value: Value = serde_json::from_str(text).unwrap();
                    let case = format!("{text} against {keyword} {limit}");
                    assert_eq!(fast.is_valid(&value), own.is_valid(&value), "{case}");
                    let (a, b) = (fast.validate(&value), own.validate(&value));
                    assert_eq!(a.is_ok(), b.is_ok(), "{case}");
                    if let (Err(a), Err(b)) = (a, b) {
                        assert_eq!(a.to_string(), b.to_string(), "{case}");
                        assert_eq!(a.kind().keyword(), b.kind().keyword(), "{case}");
                    }
                }
            }
        }
    }
}
