//! PostgreSQL spelling of identifiers, types and literal values: the one
//! place identifiers are quoted and string literals written.

use schemaforge_model::{Column, ColumnDefault, ColumnType, QualifiedName, ScalarType};
use serde_json::Value;

use crate::js;

/// Quotes an identifier: the only place PostgreSQL identifiers are quoted.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Quotes a string literal (standard-conforming strings): the only place
/// PostgreSQL string literals are written.
pub fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A table (or other relation) as drizzle-kit writes it: `"t"` in the default
/// schema, `"s"."t"` elsewhere.
pub fn relation(name: &QualifiedName) -> String {
    match &name.schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(&name.name)),
        None => quote_ident(&name.name),
    }
}

/// Always schema-qualified: `"public"."users"`.
pub fn qualified(name: &QualifiedName) -> String {
    format!("{}.{}", quote_ident(name.namespace()), quote_ident(&name.name))
}

/// The column type as written in DDL.
pub fn type_sql(ty: &ColumnType) -> String {
    let mut out = match &ty.scalar {
        ScalarType::SmallInt => "smallint".to_string(),
        ScalarType::Integer => "integer".to_string(),
        ScalarType::BigInt => "bigint".to_string(),
        ScalarType::SmallSerial => "smallserial".to_string(),
        ScalarType::Serial => "serial".to_string(),
        ScalarType::BigSerial => "bigserial".to_string(),
        ScalarType::Boolean => "boolean".to_string(),
        ScalarType::Text => "text".to_string(),
        ScalarType::Varchar { length } => with_length("varchar", *length),
        ScalarType::Char { length } => with_length("char", *length),
        ScalarType::Numeric { precision, scale } => match (precision, scale) {
            (Some(p), Some(s)) => format!("numeric({p}, {s})"),
            (Some(p), None) => format!("numeric({p})"),
            (None, _) => "numeric".to_string(),
        },
        ScalarType::Real => "real".to_string(),
        ScalarType::DoublePrecision => "double precision".to_string(),
        ScalarType::Date => "date".to_string(),
        ScalarType::Time { precision, with_time_zone } => {
            format!("time{}{}", precision.map(|p| format!("({p})")).unwrap_or_default(), zone(*with_time_zone))
        }
        ScalarType::Timestamp { precision, with_time_zone } => {
            // drizzle-orm's spelling, space included: `timestamp (3) with time zone`.
            format!("timestamp{}{}", precision.map(|p| format!(" ({p})")).unwrap_or_default(), zone(*with_time_zone))
        }
        ScalarType::Interval { precision } => format!("interval{}", precision.map(|p| format!("({p})")).unwrap_or_default()),
        ScalarType::Json => "json".to_string(),
        ScalarType::Jsonb => "jsonb".to_string(),
        ScalarType::Uuid => "uuid".to_string(),
        ScalarType::Bytea => "bytea".to_string(),
        ScalarType::Inet => "inet".to_string(),
        ScalarType::Cidr => "cidr".to_string(),
        ScalarType::MacAddr => "macaddr".to_string(),
        ScalarType::Vector { dimensions } => format!("vector({dimensions})"),
        ScalarType::Enum(name) => match &name.schema {
            Some(_) => qualified(name),
            None => quote_ident(&name.name),
        },
        ScalarType::Custom { sql } => sql.clone(),
    };
    for _ in 0..ty.array_dimensions {
        out.push_str("[]");
    }
    out
}

fn with_length(name: &str, length: Option<u32>) -> String {
    match length {
        Some(n) => format!("{name}({n})"),
        None => name.to_string(),
    }
}

fn zone(with_time_zone: bool) -> &'static str {
    if with_time_zone { " with time zone" } else { "" }
}

/// The `DEFAULT` expression of a column, as SQL.
pub fn default_sql(column: &Column) -> Option<String> {
    match column.default.as_ref()? {
        ColumnDefault::Sql(sql) => Some(sql.clone()),
        ColumnDefault::Value(value) => Some(literal_sql(&column.ty, value)),
    }
}

/// A JSON literal of type `ty` as a PostgreSQL literal.
pub fn literal_sql(ty: &ColumnType, value: &Value) -> String {
    if ty.is_array() {
        let literal = match &ty.scalar {
            // A json element is a whole JSON document, arrays included: one
            // quoted element each, never a nested dimension.
            ScalarType::Json | ScalarType::Jsonb => match value {
                Value::Array(items) => {
                    format!("{{{}}}", items.iter().map(|item| quote_array_element(&js::stringify(item))).collect::<Vec<_>>().join(","))
                }
                other => array_literal(other),
            },
            _ => array_literal(value),
        };
        return quote_literal(&literal);
    }
    match (&ty.scalar, value) {
        (ScalarType::Json | ScalarType::Jsonb, v) => {
            format!("{}::{}", quote_literal(&js::stringify(v)), if ty.scalar == ScalarType::Json { "json" } else { "jsonb" })
        }
        (ScalarType::Vector { .. }, v) => quote_literal(&js::stringify(v)),
        (ScalarType::Numeric { .. }, Value::Number(n)) => quote_literal(&js::number(n)),
        (_, Value::Number(n)) => js::number(n),
        (_, Value::Bool(b)) => b.to_string(),
        (_, Value::String(s)) => quote_literal(s),
        (_, other) => quote_literal(&js::stringify(other)),
    }
}

/// PostgreSQL's array input syntax: `{1,2}`, `{"a","b\"c"}`, nested `{{1},{2}}`.
fn array_literal(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(array_literal).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Null => "NULL".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => js::number(n),
        Value::String(s) => quote_array_element(s),
        Value::Object(_) => quote_array_element(&js::stringify(value)),
    }
}

fn quote_array_element(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemaforge_model::{ColumnType, ScalarType};

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn array_literals_escape_elements() {
        let ty = ColumnType { scalar: ScalarType::Text, array_dimensions: 1 };
        assert_eq!(literal_sql(&ty, &serde_json::json!(["a", "b\"c", "it's"])), r#"'{"a","b\"c","it''s"}'"#);
        assert_eq!(literal_sql(&ty, &serde_json::json!([])), "'{}'");
    }
}
