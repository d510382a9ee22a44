//! The spec's numeric keywords checked on each number's text, registered over the `jsonschema`
//! crate's own: `multipleOf: 10^-N` (what `x-decimal-places` becomes), `minimum` and `maximum`.
//! With `arbitrary-precision`, the crate checks these exactly by parsing every number into
//! big fractions, for every amount of every request; comparing the digits gives the same answers
//! (tested side by side) at a fraction of the cost. What the text cannot settle is left to the
//! crate's own check.

mod bounds;
mod decimal;
mod decimal_places;

use jsonschema::{Keyword, ValidationError, ValidationOptions};
use serde_json::Value;

pub(crate) use decimal_places::KEYWORD as DECIMAL_PLACES;

/// `options` with our checks in place of the crate's for the keywords they cover.
pub(crate) fn exact_numbers(options: ValidationOptions<'static>) -> ValidationOptions<'static> {
    options
        .with_keyword(decimal_places::KEYWORD, decimal_places::factory)
        .with_keyword(bounds::MINIMUM, bounds::minimum)
        .with_keyword(bounds::MAXIMUM, bounds::maximum)
}

/// The crate's own check of `keyword: value` alone.
struct Builtin(jsonschema::Validator);

impl Builtin {
    fn new<'a>(keyword: &str, value: &Value) -> Result<Self, ValidationError<'a>> {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&serde_json::json!({ keyword: value }))
            .map(Self)
            .map_err(|e| ValidationError::schema(e.to_string()))
    }
}

impl<'i> Keyword<'i> for Builtin {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        // The crate's own error (its kind, message and masking), placed by the caller.
        self.0.validate(instance)
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        self.0.is_valid(instance)
    }
}
