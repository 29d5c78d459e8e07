//! Column defaults: a literal must fit the column's type; SQL must be one expression.

use schemaforge_fragment::ExpressionSlot;
use schemaforge_model::{ColumnDefault, ColumnType, ScalarType, TypeFamily};
use serde_json::Value;

use super::Lowerer;
use super::expressions::Scope;
use crate::diagnostic::{Code, Diagnostic, Pointer, describe_value};
use crate::document::DefaultDef;
use crate::suggest;

/// The bare strings recognised as SQL on date/time columns (the seed example
/// uses one), each with the column types its value can be stored in.
fn keyword_default(scalar: &ScalarType, text: &str) -> Option<Result<&'static str, &'static str>> {
    let keyword =
        ["CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIMESTAMP"].into_iter().find(|k| k.eq_ignore_ascii_case(text))?;
    let fits = matches!(
        (keyword, scalar),
        ("CURRENT_TIMESTAMP" | "LOCALTIMESTAMP", ScalarType::Date | ScalarType::Time { .. } | ScalarType::Timestamp { .. })
            | ("CURRENT_DATE", ScalarType::Date | ScalarType::Timestamp { .. })
            | ("CURRENT_TIME", ScalarType::Time { .. })
    );
    Some(if fits { Ok(keyword) } else { Err(keyword) })
}

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
                let (text, facts) = self.expression(&sql_path, ExpressionSlot::ColumnDefault, &sql.sql)?;
                self.references(&sql_path, ExpressionSlot::ColumnDefault, &facts, &Scope::NoColumns).then_some(ColumnDefault::Sql(text))
            }
            DefaultDef::Value(Value::String(s)) if ty.array_dimensions == 0 && ty.scalar.family() == TypeFamily::Temporal => {
                match keyword_default(&ty.scalar, s) {
                    Some(Ok(keyword)) => Some(ColumnDefault::Sql(keyword.to_string())),
                    Some(Err(keyword)) => {
                        self.push(Diagnostic::new(
                            path,
                            Code::InvalidDefault,
                            format!("`{keyword}` does not fit a {} column", temporal_word(&ty.scalar)),
                        ));
                        None
                    }
                    None => self.literal_default(path, ty, &Value::String(s.clone()), enum_values),
                }
            }
            DefaultDef::Value(value) => self.literal_default(path, ty, value, enum_values),
        }
    }

    fn literal_default(&mut self, path: &Pointer, ty: &ColumnType, value: &Value, enum_values: Option<&[String]>) -> Option<ColumnDefault> {
        if !self.sql_value(path, value, "the default") {
            return None;
        }
        match literal_problem(ty, value, enum_values, 0) {
            None => Some(ColumnDefault::Value(value.clone())),
            Some((message, hint)) => {
                self.push(Diagnostic::new(path, Code::InvalidDefault, message).with_hint_opt(hint));
                None
            }
        }
    }
}

fn temporal_word(scalar: &ScalarType) -> &'static str {
    match scalar {
        ScalarType::Date => "date",
        ScalarType::Time { .. } => "time",
        ScalarType::Timestamp { .. } => "timestamp",
        _ => "interval",
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
        TypeFamily::Decimal => {
            let text = match value {
                Value::Number(n) => {
                    let text = n.to_string();
                    // JSON numbers pass through a double: past 15 significant
                    // digits the value the user wrote may not be the one stored.
                    if significant_digits(&text) > 15 {
                        return Some((
                            format!("{n} has more digits than a JSON number carries exactly"),
                            Some(format!("write it as a string: \"{n}\" is stored digit for digit")),
                        ));
                    }
                    text
                }
                Value::String(s) if is_decimal(s) => s.clone(),
                _ => {
                    return Some((
                        format!("expected a number or a decimal string for a numeric column, found {}", describe_value(value)),
                        None,
                    ));
                }
            };
            let ScalarType::Numeric { precision: Some(precision), scale } = scalar else { return None };
            let integer_digits = integer_digits(&text);
            let allowed = precision.saturating_sub(scale.unwrap_or(0)) as usize;
            (integer_digits > allowed).then(|| {
                (
                    format!(
                        "{text} does not fit numeric({precision}, {}): at most {allowed} digits before the decimal point",
                        scale.unwrap_or(0)
                    ),
                    None,
                )
            })
        }
        TypeFamily::Float => match value {
            Value::Number(n) if *scalar == ScalarType::Real && n.as_f64().is_some_and(|f| f.abs() > f64::from(f32::MAX)) => {
                Some((format!("{n} is out of range for real"), Some("use `doublePrecision`".into())))
            }
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
            (ScalarType::Interval { .. }, Value::String(s)) if is_interval(s) => None,
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
            (ScalarType::Cidr, Value::String(s)) if is_inet(s) && !has_host_bits(s) => None,
            (ScalarType::Cidr, Value::String(s)) if is_inet(s) => Some((
                format!("`{s}` has bits set to the right of its netmask"),
                Some("a cidr value is a network: zero the host part, e.g. `10.0.0.0/8`".into()),
            )),
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

/// The digits that carry information: leading zeros and the exponent aside.
fn significant_digits(number: &str) -> usize {
    let mantissa = number.split(['e', 'E']).next().unwrap_or(number);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').trim_end_matches('0').len().max(1)
}

/// Digits before the decimal point, without sign and leading zeros.
fn integer_digits(number: &str) -> usize {
    if number.contains(['e', 'E']) {
        // Only reachable for very large or small JSON numbers; treat as wide.
        return number.parse::<f64>().map(|f| if f.abs() < 1.0 { 0 } else { f.abs().log10().floor() as usize + 1 }).unwrap_or(usize::MAX);
    }
    let unsigned = number.trim_start_matches(['-', '+']);
    unsigned.split('.').next().unwrap_or("").trim_start_matches('0').len()
}

fn number(s: &str) -> Option<u32> {
    s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse().ok()).flatten()
}

fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return false };
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (number(y), number(m), number(d)) else { return false };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// PostgreSQL's interval input: `1 day`, `2 hours 30 minutes`, `-1 year ago`,
/// `1 day 02:00:00`, or ISO 8601 (`P1DT2H`).
fn is_interval(s: &str) -> bool {
    const UNITS: [&str; 16] = [
        "microsecond",
        "millisecond",
        "second",
        "sec",
        "minute",
        "min",
        "hour",
        "hr",
        "day",
        "week",
        "month",
        "mon",
        "year",
        "yr",
        "decade",
        "century",
    ];
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('P') {
        return !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || "YMWDTHS.,-".contains(c));
    }
    let mut tokens = s.split_whitespace().peekable();
    let mut parts = 0;
    while let Some(token) = tokens.next() {
        if token.eq_ignore_ascii_case("ago") && tokens.peek().is_none() && parts > 0 {
            return true;
        }
        let unsigned = token.trim_start_matches(['-', '+']);
        if unsigned.contains(':') {
            if !is_time(unsigned) {
                return false;
            }
        } else {
            if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return false;
            }
            let Some(unit) = tokens.next() else { return false };
            let unit = unit.to_ascii_lowercase();
            let known = UNITS.iter().any(|u| unit == *u || unit.strip_suffix('s') == Some(u))
                || matches!(unit.as_str(), "centuries" | "millennium" | "millennia" | "millenniums" | "decades");
            if !known {
                return false;
            }
        }
        parts += 1;
    }
    parts > 0
}

fn has_host_bits(s: &str) -> bool {
    let (address, prefix) = s.split_once('/').unwrap_or((s, ""));
    let Ok(ip) = address.parse::<std::net::IpAddr>() else { return false };
    let (bits, width): (u128, u32) = match ip {
        std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        std::net::IpAddr::V6(v6) => (u128::from(v6), 128),
    };
    let prefix: u32 = if prefix.is_empty() { width } else { prefix.parse().unwrap_or(width) };
    let host_bits = width.saturating_sub(prefix);
    host_bits > 0 && bits & ((1u128 << host_bits) - 1) != 0
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
    let (hours, minutes, seconds) = match parts.as_slice() {
        [h, m] if digits(h, 2) && digits(m, 2) => (number(h), number(m), Some(0)),
        [h, m, sec] => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, "0"));
            if !(digits(h, 2) && digits(m, 2) && digits(whole, 2) && !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit())) {
                return false;
            }
            (number(h), number(m), number(whole))
        }
        _ => return false,
    };
    let (Some(h), Some(m), Some(sec)) = (hours, minutes, seconds) else { return false };
    // 24:00:00 is the end of a day; 60 seconds is a leap second.
    let clock_ok = (h < 24 || (h == 24 && m == 0 && sec == 0)) && m < 60 && sec <= 60;
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
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2024-13-01"));
        assert!(!is_date("2024-1-31"));
        assert!(!is_time("99:99"));
        assert!(!is_timestamp("2024-01-01 25:00:00"));
        assert!(is_interval("3 days"));
        assert!(is_interval("1 year 2 months -3 days 04:05:06 ago"));
        assert!(is_interval("P1DT2H"));
        assert!(!is_interval("banana"));
        assert!(!is_interval("3"));
        assert!(has_host_bits("10.0.0.1/8"));
        assert!(!has_host_bits("10.0.0.0/8"));
        assert_eq!(significant_digits("12345678901234567000"), 17);
        assert_eq!(significant_digits("0.0012"), 2);
        assert_eq!(integer_digits("-00123.45"), 3);
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
