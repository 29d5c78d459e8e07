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

/// A JSON value as a TypeScript literal, formatted the way Prettier would:
/// `["a", "b"]`, `{ theme: "dark", beta: false }`.
pub fn literal(value: &Value) -> String {
    match value {
        Value::Array(items) => format!("[{}]", items.iter().map(literal).collect::<Vec<_>>().join(", ")),
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(key, item)| {
                    let identifier = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
                        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
                    let key = if identifier { key.clone() } else { Value::String(key.clone()).to_string() };
                    format!("{key}: {}", literal(item))
                })
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        other => stringify(other),
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
    fn literals_read_like_prettier() {
        let v: Value = serde_json::from_str(r#"{"a": [1, 2], "b-c": {}, "d": {"e": null}}"#).unwrap();
        assert_eq!(literal(&v), r#"{ a: [1, 2], "b-c": {}, d: { e: null } }"#);
    }

    #[test]
    fn stringify_matches_javascript() {
        let v: Value = serde_json::from_str(r#"{"a": 1.0, "b": [true, null, "x\"y"], "c": 0.5}"#).unwrap();
        assert_eq!(stringify(&v), r#"{"a":1,"b":[true,null,"x\"y"],"c":0.5}"#);
    }
}
