//! Amounts (`rust_decimal::Decimal`) as exact JSON numbers, field by field: every amount of the
//! generated types is (de)serialized through [`exact`] or [`exact_option`], so that nothing has
//! to turn on `serde_json/arbitrary_precision` or `rust_decimal/serde-float` for the whole
//! dependency graph of an application that uses this crate (cargo unifies features, so such a
//! switch would change how the application's own types are read and written).
//!
//! - Writing: the digits as the decimal holds them (`1240.50` stays `1240.50`), through
//!   `serde_json`'s additive `raw_value` feature.
//! - Reading: a JSON number is read as the shortest decimal that round-trips its binary value,
//!   which is the number as written for up to 15 significant digits, which covers every amount
//!   the API allows (at most 999,999,999,999.99); strings with a decimal are accepted too, and
//!   so is `serde_json`'s arbitrary-precision form, should the application turn that on.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{self, Serialize, Serializer};

/// `serde_json`'s key for a number in its arbitrary-precision form.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

fn parse<E: de::Error>(text: &str) -> Result<Decimal, E> {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| E::invalid_value(de::Unexpected::Str(text), &"a decimal number"))
}

struct DecimalVisitor;

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Decimal, E> {
        if !value.is_finite() {
            return Err(E::invalid_value(de::Unexpected::Float(value), &self));
        }
        // `Display` of an `f64` is the shortest text that reads back as the same binary value.
        parse(&value.to_string())
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Decimal, E> {
        parse(value)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == NUMBER_TOKEN => parse(&map.next_value::<String>()?),
            _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }
}

/// Writes `value` as a JSON number with exactly its digits.
fn write<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serde_json::value::RawValue::from_string(value.to_string())
        .map_err(ser::Error::custom)?
        .serialize(serializer)
}

/// `#[serde(with = "crate::decimal::exact")]` for a `Decimal` field.
pub mod exact {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        write(value, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        deserializer.deserialize_any(DecimalVisitor)
    }
}

/// `#[serde(with = "crate::decimal::exact_option")]` for an `Option<Decimal>` field.
pub mod exact_option {
    use super::*;

    struct Exact<'a>(&'a Decimal);

    impl Serialize for Exact<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            write(self.0, serializer)
        }
    }

    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<Decimal>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal number or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(DecimalVisitor).map(Some)
        }
    }

    pub fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_some(&Exact(value)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        deserializer.deserialize_option(OptionVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Row {
        #[serde(with = "exact")]
        amount: Decimal,
        #[serde(with = "exact_option", default)]
        maybe: Option<Decimal>,
    }

    #[test]
    fn amounts_are_written_with_their_digits_and_read_back_exactly() {
        let row = Row {
            amount: "1240.50".parse().unwrap(),
            maybe: Some("0.10".parse::<Decimal>().unwrap() + "0.20".parse::<Decimal>().unwrap()),
        };
        let text = serde_json::to_string(&row).unwrap();
        assert_eq!(text, r#"{"amount":1240.50,"maybe":0.30}"#);
        let back: Row = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back, row,
            "equal values (the scale of 1240.50 may read as 1240.5)"
        );
        let edge: Row =
            serde_json::from_str(r#"{"amount": -999999999999.99, "maybe": null}"#).unwrap();
        assert_eq!(edge.amount.to_string(), "-999999999999.99");
        assert_eq!(edge.maybe, None);
        let missing: Row = serde_json::from_str(r#"{"amount": "70.71"}"#).unwrap();
        assert_eq!(missing.amount.to_string(), "70.71");
        // Through a `Value`, as generic code does.
        let value: serde_json::Value = serde_json::from_str(r#"{"amount": 38.44}"#).unwrap();
        let via: Row = serde_json::from_value(value).unwrap();
        assert_eq!(via.amount.to_string(), "38.44");
        assert!(serde_json::from_str::<Row>(r#"{"amount": true}"#).is_err());
    }
}
