//! How SQLite stores the logical types: the declared type drizzle-orm's sqlite-core writes for each.
//!
//! SQLite keeps a column's declared type as text and derives a storage
//! affinity from it; it has no booleans, timestamps, enums or UUIDs of its
//! own. drizzle-orm maps those onto `integer` and `text` with a JS-side mode,
//! and so do we. Two logical types with the same declared type are the same
//! column to SQLite: a change between them needs no migration.

use std::fmt;

use serde_json::Value;

use crate::{Column, ColumnDefault, ColumnType, ScalarType, Table, js};

/// The declared type of a SQLite column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SqliteType {
    Integer,
    Real,
    Numeric,
    /// `text`, or `text(n)` (the length documents intent; SQLite does not enforce it).
    Text {
        length: Option<u32>,
    },
    Blob,
    /// A custom type, spelled as the definition wrote it.
    Custom(String),
}

impl SqliteType {
    /// The declared type of a logical column type. Arrays, and the types
    /// validation refuses for SQLite (dates, intervals, network types,
    /// vectors), have no SQLite type.
    pub fn of(ty: &ColumnType) -> Option<SqliteType> {
        if ty.is_array() {
            return None;
        }
        Some(match &ty.scalar {
            ScalarType::SmallInt
            | ScalarType::Integer
            | ScalarType::BigInt
            | ScalarType::SmallSerial
            | ScalarType::Serial
            | ScalarType::BigSerial
            | ScalarType::Boolean
            | ScalarType::Timestamp { .. } => SqliteType::Integer,
            ScalarType::Real | ScalarType::DoublePrecision => SqliteType::Real,
            ScalarType::Numeric { .. } => SqliteType::Numeric,
            ScalarType::Text | ScalarType::Json | ScalarType::Jsonb | ScalarType::Uuid | ScalarType::Enum(_) => {
                SqliteType::Text { length: None }
            }
            ScalarType::Varchar { length } | ScalarType::Char { length } => SqliteType::Text { length: *length },
            ScalarType::Bytea => SqliteType::Blob,
            ScalarType::Custom { sql } => SqliteType::Custom(sql.clone()),
            ScalarType::Date
            | ScalarType::Time { .. }
            | ScalarType::Interval { .. }
            | ScalarType::Inet
            | ScalarType::Cidr
            | ScalarType::MacAddr
            | ScalarType::Vector { .. } => return None,
        })
    }

    /// The declared type a foreign database's column most likely meant, by
    /// SQLite's affinity rules (`VARCHAR(20)` is text, `DOUBLE` is real).
    pub fn parse(declared: &str) -> SqliteType {
        let lower = declared.trim().to_ascii_lowercase();
        let (base, parameters) = match lower.split_once('(') {
            Some((base, rest)) => (base.trim().to_string(), Some(rest.trim_end_matches(')').trim().to_string())),
            None => (lower.clone(), None),
        };
        match (base.as_str(), parameters.as_deref()) {
            ("integer", None) => SqliteType::Integer,
            ("real", None) => SqliteType::Real,
            ("numeric", None) => SqliteType::Numeric,
            ("text", None) => SqliteType::Text { length: None },
            ("text", Some(n)) if n.parse::<u32>().is_ok_and(|n| n > 0) => SqliteType::Text { length: n.parse().ok() },
            ("blob", None) => SqliteType::Blob,
            _ => SqliteType::Custom(declared.trim().to_string()),
        }
    }
}

impl fmt::Display for SqliteType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqliteType::Integer => f.write_str("integer"),
            SqliteType::Real => f.write_str("real"),
            SqliteType::Numeric => f.write_str("numeric"),
            SqliteType::Text { length: None } => f.write_str("text"),
            SqliteType::Text { length: Some(n) } => write!(f, "text({n})"),
            SqliteType::Blob => f.write_str("blob"),
            SqliteType::Custom(sql) => f.write_str(sql),
        }
    }
}

/// Quotes a string literal: the only place SQLite string literals are written.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A JSON literal of type `ty` as the SQLite literal stored for it:
/// JSON documents as their text, booleans as `true`/`false` (which SQLite
/// reads as 1 and 0), numbers and strings as themselves.
pub fn literal(ty: &ColumnType, value: &Value) -> String {
    match (&ty.scalar, value) {
        (ScalarType::Json | ScalarType::Jsonb, v) => quote_literal(&js::stringify(v)),
        (_, Value::Number(n)) => js::number(n),
        (_, Value::Bool(b)) => b.to_string(),
        (_, Value::String(s)) => quote_literal(s),
        (_, Value::Null) => "NULL".to_string(),
        (_, other) => quote_literal(&js::stringify(other)),
    }
}

/// What follows `DEFAULT` for `column`: a literal, or an expression in the
/// parentheses SQLite's grammar requires of it.
pub fn default_sql(column: &Column) -> Option<String> {
    match column.default.as_ref()? {
        ColumnDefault::Sql(sql) => Some(format!("({sql})")),
        ColumnDefault::Value(value) => Some(literal(&column.ty, value)),
    }
}

/// Whether SQLite numbers the column itself (`PRIMARY KEY AUTOINCREMENT`):
/// a serial or identity column that is the table's sole primary key.
pub fn autoincrement(table: &Table, column: &Column) -> bool {
    (column.ty.scalar.is_serial() || column.identity.is_some())
        && table.primary_key.as_ref().is_some_and(|pk| pk.columns.len() == 1 && pk.columns[0] == column.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_round_trip() {
        for ty in [
            SqliteType::Integer,
            SqliteType::Real,
            SqliteType::Numeric,
            SqliteType::Text { length: None },
            SqliteType::Text { length: Some(255) },
            SqliteType::Blob,
        ] {
            assert_eq!(SqliteType::parse(&ty.to_string()), ty);
        }
        assert_eq!(SqliteType::parse("VARCHAR(20)"), SqliteType::Custom("VARCHAR(20)".into()));
    }

    #[test]
    fn logical_types_map_as_drizzle_does() {
        let of = |scalar| SqliteType::of(&ColumnType::scalar(scalar));
        assert_eq!(of(ScalarType::Boolean), Some(SqliteType::Integer));
        assert_eq!(of(ScalarType::Serial), Some(SqliteType::Integer));
        assert_eq!(of(ScalarType::Varchar { length: Some(255) }), Some(SqliteType::Text { length: Some(255) }));
        assert_eq!(of(ScalarType::Jsonb), Some(SqliteType::Text { length: None }));
        assert_eq!(of(ScalarType::Bytea), Some(SqliteType::Blob));
        assert_eq!(of(ScalarType::Date), None);
    }
}
