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
                    let key = if is_identifier(key) { key.clone() } else { Value::String(key.clone()).to_string() };
                    format!("{key}: {}", literal(item))
                })
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        other => stringify(other),
    }
}

/// A JSON number as JavaScript's `Number.prototype.toString` prints it:
/// shortest round-trip digits, exponent notation below 1e-6 and from 1e21.
pub fn number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f == 0.0 {
        return "0".to_string();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `1.2345e-7`.
    let scientific = format!("{:e}", f.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = exponent + 1; // value = 0.digits × 10^n
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let sign = if e < 0 { '-' } else { '+' };
        let mantissa = if k == 1 { digits.clone() } else { format!("{}.{}", &digits[..1], &digits[1..]) };
        format!("{mantissa}e{sign}{}", e.abs())
    };
    if f < 0.0 { format!("-{body}") } else { body }
}

/// The largest integer a JavaScript number holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Whether a JSON integer survives a round trip through a JavaScript number.
pub fn is_safe_integer(n: &serde_json::Number) -> bool {
    n.as_i64().is_some_and(|i| (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i))
}

/// Whether `key` can be written as a bare JavaScript property name.
pub fn is_identifier(key: &str) -> bool {
    key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Whether JavaScript would hold this JSON object differently from how it is
/// written: integer-like keys are reordered first, `__proto__` sets the
/// prototype. Such a value cannot travel as a JS literal unchanged.
pub fn reorders(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| k == "__proto__" || is_array_index(k) || reorders(v)),
        Value::Array(items) => items.iter().any(reorders),
        _ => false,
    }
}

fn is_array_index(key: &str) -> bool {
    key.parse::<u32>().is_ok_and(|i| i < u32::MAX && i.to_string() == key)
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
    fn numbers_read_like_javascript() {
        let js = |text: &str| number(&serde_json::from_str::<serde_json::Number>(text).unwrap());
        assert_eq!(js("1.0"), "1");
        assert_eq!(js("1.5"), "1.5");
        assert_eq!(js("-0.25"), "-0.25");
        assert_eq!(js("1e-7"), "1e-7");
        assert_eq!(js("0.000001"), "0.000001");
        assert_eq!(js("1e21"), "1e+21");
        assert_eq!(js("1.5e300"), "1.5e+300");
        assert_eq!(js("123456789012345680000"), "123456789012345680000");
        assert_eq!(js("1e20"), "100000000000000000000");
    }

    #[test]
    fn reordering_objects_are_detected() {
        assert!(reorders(&serde_json::json!({"b": 1, "10": 2})));
        assert!(reorders(&serde_json::json!([{"__proto__": {}}])));
        assert!(!reorders(&serde_json::json!({"a": [1, {"b": 2}], "1a": 3})));
    }

    #[test]
    fn stringify_matches_javascript() {
        let v: Value = serde_json::from_str(r#"{"a": 1.0, "b": [true, null, "x\"y"], "c": 0.5}"#).unwrap();
        assert_eq!(stringify(&v), r#"{"a":1,"b":[true,null,"x\"y"],"c":0.5}"#);
    }
}
