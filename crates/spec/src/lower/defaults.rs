//! Column defaults: a literal must fit the column's type; SQL must be one expression.

use schemaforge_fragment::{self as fragment, ExpressionSlot};
use schemaforge_model::{ColumnDefault, ColumnType, Dialect, ScalarType, TypeFamily};
use serde_json::Value;

use super::Lowerer;
use super::types::fragment_code;
use crate::diagnostic::{Code, Diagnostic, Pointer, describe_value};
use crate::document::DefaultDef;
use crate::suggest;

/// Bare strings recognised as SQL on date/time columns (the seed example uses one).
pub const SQL_KEYWORD_DEFAULTS: [&str; 4] = ["CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIMESTAMP"];

impl Lowerer {
    pub(super) fn lower_default(
        &mut self,
        path: &Pointer,
        ty: &ColumnType,
        default: &DefaultDef,
        enum_values: Option<&[String]>,
    ) -> Option<ColumnDefault> {
        match default {
            DefaultDef::Sql(sql) => {
                let sql_path = path.key("sql");
                match fragment::check_expression(Dialect::Postgresql, ExpressionSlot::ColumnDefault, &sql.sql) {
                    Ok(()) => Some(ColumnDefault::Sql(sql.sql.trim().to_string())),
                    Err(error) => {
                        self.push(Diagnostic::new(sql_path, fragment_code(&error), format!("default: {error}")));
                        None
                    }
                }
            }
            DefaultDef::Value(Value::String(s))
                if ty.array_dimensions == 0
                    && matches!(ty.scalar, ScalarType::Date | ScalarType::Time { .. } | ScalarType::Timestamp { .. })
                    && SQL_KEYWORD_DEFAULTS.iter().any(|k| k.eq_ignore_ascii_case(s)) =>
            {
                Some(ColumnDefault::Sql(s.to_ascii_uppercase()))
            }
            DefaultDef::Value(value) => match literal_problem(ty, value, enum_values, 0) {
                None => Some(ColumnDefault::Value(value.clone())),
                Some((message, hint)) => {
                    self.push(Diagnostic::new(path, Code::InvalidDefault, message).with_hint_opt(hint));
                    None
                }
            },
        }
    }
}

/// Why `value` is not a literal of `ty`, with a hint; `None` when it fits.
fn literal_problem(ty: &ColumnType, value: &Value, enum_values: Option<&[String]>, depth: u8) -> Option<(String, Option<String>)> {
    if depth < ty.array_dimensions {
        let Value::Array(items) = value else {
            return Some((
                format!("the default of an array column must be a JSON array, found {}", describe_value(value)),
                Some("e.g. `[]`".into()),
            ));
        };
        return items.iter().find_map(|item| {
            if item.is_null() {
                return None;
            }
            literal_problem(ty, item, enum_values, depth + 1).map(|(m, h)| (format!("array element: {m}"), h))
        });
    }
    let scalar = &ty.scalar;
    let sql_hint = || Some("use `{\"sql\": \"…\"}` for an SQL expression".to_string());
    match scalar.family() {
        TypeFamily::Integer => {
            if scalar.is_serial() {
                return Some((
                    "a serial column takes its default from its sequence".into(),
                    Some("remove `default`, or use `integer`".into()),
                ));
            }
            let (low, high) = scalar.integer_range().unwrap_or((i64::MIN, i64::MAX));
            match value.as_i64() {
                Some(v) if v >= low && v <= high => None,
                Some(v) => Some((format!("{v} does not fit a {}", type_word(scalar)), Some(format!("the range is {low} to {high}")))),
                None => Some((
                    format!("expected a whole number for a {} column, found {}", type_word(scalar), describe_value(value)),
                    sql_hint(),
                )),
            }
        }
        TypeFamily::Decimal => match value {
            Value::Number(_) => None,
            Value::String(s) if is_decimal(s) => None,
            _ => Some((format!("expected a number or a decimal string for a numeric column, found {}", describe_value(value)), None)),
        },
        TypeFamily::Float => match value {
            Value::Number(_) => None,
            _ => Some((format!("expected a number, found {}", describe_value(value)), sql_hint())),
        },
        TypeFamily::Boolean => match value {
            Value::Bool(_) => None,
            _ => Some((format!("expected true or false, found {}", describe_value(value)), None)),
        },
        TypeFamily::String => match value {
            Value::String(s) => {
                let limit = match scalar {
                    ScalarType::Varchar { length: Some(n) } | ScalarType::Char { length: Some(n) } => Some(*n as usize),
                    ScalarType::Char { length: None } => Some(1),
                    _ => None,
                };
                match limit {
                    Some(n) if s.chars().count() > n => {
                        Some((format!("the default is {} characters long; the column holds {n}", s.chars().count()), None))
                    }
                    _ => None,
                }
            }
            _ => Some((format!("expected a string, found {}", describe_value(value)), None)),
        },
        TypeFamily::Temporal => match (scalar, value) {
            (ScalarType::Date, Value::String(s)) if is_date(s) => None,
            (ScalarType::Date, _) => Some(("expected a date string `YYYY-MM-DD`".into(), Some("or `CURRENT_DATE`".into()))),
            (ScalarType::Timestamp { .. }, Value::String(s)) if is_timestamp(s) => None,
            (ScalarType::Timestamp { .. }, _) => {
                Some(("expected a timestamp string `YYYY-MM-DD HH:MM:SS`".into(), Some("or `CURRENT_TIMESTAMP`".into())))
            }
            (ScalarType::Time { .. }, Value::String(s)) if is_time(s) => None,
            (ScalarType::Time { .. }, _) => Some(("expected a time string `HH:MM:SS`".into(), Some("or `CURRENT_TIME`".into()))),
            (ScalarType::Interval { .. }, Value::String(s)) if !s.trim().is_empty() => None,
            _ => Some((format!("expected an interval string such as `1 day`, found {}", describe_value(value)), None)),
        },
        TypeFamily::Json => None,
        TypeFamily::Uuid => match value {
            Value::String(s) if is_uuid(s) => None,
            _ => Some((
                format!("expected a UUID string, found {}", describe_value(value)),
                Some("use `{\"sql\": \"gen_random_uuid()\"}` for a random UUID".into()),
            )),
        },
        TypeFamily::Binary => {
            Some(("a bytea default cannot be written as JSON".into(), Some("use `{\"sql\": \"'\\\\x0102'::bytea\"}`".into())))
        }
        TypeFamily::Network => match (scalar, value) {
            (ScalarType::MacAddr, Value::String(s)) if is_macaddr(s) => None,
            (ScalarType::MacAddr, _) => Some(("expected a MAC address such as `08:00:2b:01:02:03`".into(), None)),
            (_, Value::String(s)) if is_inet(s) => None,
            _ => Some(("expected an IP address or network such as `192.168.0.0/16`".into(), None)),
        },
        TypeFamily::Vector => {
            let ScalarType::Vector { dimensions } = scalar else { return None };
            match value {
                Value::Array(items) if items.iter().all(Value::is_number) && items.len() == *dimensions as usize => None,
                Value::Array(items) if items.iter().all(Value::is_number) => {
                    Some((format!("the vector has {} elements; the column has {dimensions} dimensions", items.len()), None))
                }
                _ => Some(("expected an array of numbers".into(), None)),
            }
        }
        TypeFamily::Enum => match (value, enum_values) {
            (Value::String(s), Some(values)) if values.iter().any(|v| v == s) => None,
            (Value::String(s), Some(values)) => Some((
                format!("`{s}` is not a value of the column's enum"),
                suggest::did_you_mean(s, values.iter().map(String::as_str))
                    .or_else(|| Some(format!("values: {}", values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")))),
            )),
            (Value::String(_), None) => None,
            _ => Some((format!("expected one of the enum's values as a string, found {}", describe_value(value)), None)),
        },
        TypeFamily::Custom => match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => None,
            _ => Some((format!("a custom-type default must be a string, number or boolean, found {}", describe_value(value)), sql_hint())),
        },
    }
}

fn type_word(scalar: &ScalarType) -> &'static str {
    match scalar.storage_type() {
        ScalarType::SmallInt => "smallint",
        ScalarType::BigInt => "bigint",
        _ => "integer",
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    !(int.is_empty() && frac.is_empty()) && int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit())
}

fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    matches!(parts.as_slice(), [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2))
}

fn is_time(s: &str) -> bool {
    // HH:MM[:SS[.ffffff]] with an optional zone (Z, +HH, +HH:MM).
    let end = s.find(['Z', '+', '-']).unwrap_or(s.len());
    let (clock, zone) = s.split_at(end);
    let zone_ok = zone.is_empty() || zone == "Z" || {
        let z = &zone[1..];
        digits(z, 2) || digits(z, 4) || matches!(z.split_once(':'), Some((h, m)) if digits(h, 2) && digits(m, 2))
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let clock_ok = match parts.as_slice() {
        [h, m] => digits(h, 2) && digits(m, 2),
        [h, m, sec] => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, "0"));
            digits(h, 2) && digits(m, 2) && digits(whole, 2) && !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    };
    clock_ok && zone_ok
}

fn is_timestamp(s: &str) -> bool {
    match s.split_once([' ', 'T']) {
        None => is_date(s),
        Some((date, time)) => is_date(date) && is_time(time),
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5 && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_inet(s: &str) -> bool {
    let (address, prefix) = s.split_once('/').unwrap_or((s, ""));
    let Ok(ip) = address.parse::<std::net::IpAddr>() else { return false };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    prefix.is_empty() || prefix.parse::<u8>().is_ok_and(|p| p <= max)
}

fn is_macaddr(s: &str) -> bool {
    let groups: Vec<&str> = s.split([':', '-']).collect();
    groups.len() == 6 && groups.iter().all(|g| g.len() == 2 && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_shapes() {
        assert!(is_date("2024-01-31"));
        assert!(!is_date("2024-1-31"));
        assert!(is_timestamp("2024-01-31 10:00:00"));
        assert!(is_timestamp("2024-01-31T10:00:00.123Z"));
        assert!(is_timestamp("2024-01-31 10:00:00+02:00"));
        assert!(!is_timestamp("yesterday"));
        assert!(is_time("10:30"));
        assert!(!is_time("10:3"));
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_uuid("123e4567"));
        assert!(is_inet("10.0.0.0/8"));
        assert!(is_inet("::1"));
        assert!(!is_inet("10.0.0.0/33"));
        assert!(is_macaddr("08:00:2b:01:02:03"));
        assert!(is_decimal("-12.50"));
        assert!(!is_decimal("1e5"));
    }
}
