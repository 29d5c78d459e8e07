//! JavaScript's spelling of JSON values (`JSON.stringify`, `Number.prototype.toString`).
//!
//! drizzle-orm computes defaults in JavaScript; where our SQL or snapshot must
//! hold the exact string drizzle derives from a literal, it is formatted here.

use serde_json::Value;

/// `JSON.stringify(value)`: compact, numbers in JavaScript's spelling.
pub fn stringify(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// A JSON number as JavaScript prints it: integral floats lose their `.0`.
pub fn number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e21 { format!("{f:.0}") } else { format!("{f}") }
}

/// Whether a JSON integer survives a round trip through a JavaScript number.
pub fn is_safe_integer(n: &serde_json::Number) -> bool {
    const MAX_SAFE: i64 = (1 << 53) - 1;
    n.as_i64().is_some_and(|i| (-MAX_SAFE..=MAX_SAFE).contains(&i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stringify_matches_javascript() {
        let v: Value = serde_json::from_str(r#"{"a": 1.0, "b": [true, null, "x\"y"], "c": 0.5}"#).unwrap();
        assert_eq!(stringify(&v), r#"{"a":1,"b":[true,null,"x\"y"],"c":0.5}"#);
    }
}
