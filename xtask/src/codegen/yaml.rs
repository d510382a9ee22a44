//! Reading the spec's YAML into JSON without losing how numbers are written: `5.00` stays `5.00`
//! (a YAML library that reads floats as `f64` would make it `5.0`, and examples would lose their
//! decimals wherever the JSON is served).

use anyhow::{Result, anyhow, bail};
use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// The single YAML document in `text`, as JSON with exact numbers.
pub fn to_json(text: &str) -> Result<Value> {
    let mut documents = YamlLoader::load_from_str(text).map_err(|e| anyhow!("{e}"))?;
    match documents.len() {
        1 => convert(documents.remove(0)),
        n => bail!("expected one YAML document, found {n}"),
    }
}

fn convert(yaml: Yaml) -> Result<Value> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Integer(i) => Value::from(i),
        // With `arbitrary_precision`, a Number keeps the digits as written.
        Yaml::Real(text) => Value::Number(
            text.parse()
                .map_err(|_| anyhow!("`{text}` is not a number JSON can carry"))?,
        ),
        Yaml::String(s) => Value::String(s),
        Yaml::Array(items) => Value::Array(items.into_iter().map(convert).collect::<Result<_>>()?),
        Yaml::Hash(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let key = match key {
                    Yaml::String(s) | Yaml::Real(s) => s,
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => bail!("a mapping key must be a scalar, not {other:?}"),
                };
                map.insert(key, convert(value)?);
            }
            Value::Object(map)
        }
        // The loader resolves aliases itself; one left over points nowhere.
        Yaml::Alias(_) => bail!("a YAML alias points nowhere"),
        Yaml::BadValue => bail!("a YAML value could not be read"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_written_form() {
        let value =
            to_json("a: 5.00\nb: -2382.47\nd: 7\n'200': {x: [0.10, true, null]}\n").unwrap();
        assert_eq!(
            value.to_string(),
            r#"{"200":{"x":[0.10,true,null]},"a":5.00,"b":-2382.47,"d":7}"#
        );
    }

    #[test]
    fn what_json_cannot_carry_is_refused() {
        assert!(to_json("a: .inf\n").is_err());
        assert!(to_json("a: 1\n---\nb: 2\n").is_err(), "two documents");
    }
}
