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

use decimal::Decimal;

pub(crate) use decimal_places::KEYWORD as DECIMAL_PLACES;

/// `options` with our checks in place of the crate's for the keywords they cover.
pub(crate) fn exact_numbers(options: ValidationOptions<'static>) -> ValidationOptions<'static> {
    options
        .with_keyword(decimal_places::KEYWORD, decimal_places::factory)
        .with_keyword(bounds::MINIMUM, bounds::minimum)
        .with_keyword(bounds::MAXIMUM, bounds::maximum)
}

/// A keyword's check of a number, on its text.
trait OnText: Send + Sync {
    /// Whether `number` satisfies the keyword.
    fn holds(&self, number: &Decimal<'_>) -> bool;

    /// The answer for an instance [`OnText::holds`] refused: an error, or the crate's word
    /// that it is valid after all.
    fn refuse<'i>(&self, instance: &'i Value) -> Result<(), ValidationError<'i>>;
}

/// A keyword checked on numbers by `C`; anything but a number satisfies it, as for the crate's.
struct Numeric<C>(C);

impl<C: OnText> Numeric<C> {
    fn holds(&self, instance: &Value) -> bool {
        match instance {
            Value::Number(n) => self.0.holds(&Decimal::parse(n.as_str())),
            _ => true,
        }
    }
}

impl<'i, C: OnText> Keyword<'i> for Numeric<C> {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.holds(instance) {
            Ok(())
        } else {
            self.0.refuse(instance)
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        self.holds(instance) || self.0.refuse(instance).is_ok()
    }
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
