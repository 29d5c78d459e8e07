//! When two versions of an object are the same, and what a type change costs.
//!
//! Comparisons normalise what PostgreSQL treats as equal so that `diff(a, a)`
//! is empty and a definition does not churn: SQL expressions are compared in
//! canonical form (parsed and deparsed, with renamed columns followed), and
//! `now()` / `CURRENT_TIMESTAMP` / `transaction_timestamp()` are one default.

use std::collections::BTreeMap;

use schemaforge_fragment as fragment;
use schemaforge_model::{Column, ColumnDefault, ColumnType, Dialect, ScalarType, TypeFamily, sqlite};

/// Canonical form of an SQL expression, following column renames (old → new).
pub(crate) fn canonical(dialect: Dialect, sql: &str, renames: &BTreeMap<String, String>) -> String {
    let text = fragment::canonical_expression(dialect, sql, renames);
    match dialect {
        // The same instant, spelled three ways.
        Dialect::Postgresql => match text.to_ascii_lowercase().as_str() {
            "now()" | "current_timestamp" | "transaction_timestamp()" => "CURRENT_TIMESTAMP".to_string(),
            _ => text,
        },
        Dialect::Sqlite => text,
    }
}

/// Whether two expressions mean the same, following column `renames` (old →
/// new; asked for only when the texts differ: a large diff compares
/// thousands of equal ones).
pub(crate) fn same_expression<'r>(dialect: Dialect, old: &str, new: &str, renames: impl FnOnce() -> &'r BTreeMap<String, String>) -> bool {
    old == new || canonical(dialect, old, renames()) == canonical(dialect, new, &BTreeMap::new())
}

/// Whether two versions of a column have the same default. SQLite compares
/// what it stores (`DEFAULT true` on a boolean and on an integer column is
/// one default); PostgreSQL compares the typed values.
pub(crate) fn same_default<'r>(
    dialect: Dialect,
    old: &Column,
    new: &Column,
    renames: impl FnOnce() -> &'r BTreeMap<String, String>,
) -> bool {
    match dialect {
        Dialect::Postgresql => match (old.default.as_ref(), new.default.as_ref()) {
            (None, None) => true,
            (Some(ColumnDefault::Value(a)), Some(ColumnDefault::Value(b))) => a == b,
            (Some(ColumnDefault::Sql(a)), Some(ColumnDefault::Sql(b))) => same_expression(dialect, a, b, renames),
            _ => false,
        },
        Dialect::Sqlite => match (sqlite::default_sql(old).map(sqlite_truth), sqlite::default_sql(new).map(sqlite_truth)) {
            (None, None) => true,
            (Some(a), Some(b)) => same_expression(dialect, &a, &b, renames),
            _ => false,
        },
    }
}

/// SQLite reads `TRUE` and `FALSE` as the integers 1 and 0.
fn sqlite_truth(default: String) -> String {
    match default.to_ascii_lowercase().as_str() {
        "true" => "1".to_string(),
        "false" => "0".to_string(),
        _ => default,
    }
}

/// What changing a column's type does to the table and its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeChange {
    /// Binary compatible (`varchar(10)` → `varchar(20)`, `varchar` → `text`):
    /// catalog only, no rewrite.
    Relabel,
    /// Every value converts: the table is rewritten.
    Widen,
    /// Some values may not fit (`bigint` → `integer`, `text` → `varchar(10)`):
    /// the conversion fails on them; rewrites the table.
    Narrow,
    /// Values are converted through text or a cast that may fail or lose
    /// information (`text` → `integer`, numeric scale reduced).
    Convert,
}

/// Classifies a change from `old` to `new` (which differ).
pub fn classify_type_change(old: &ColumnType, new: &ColumnType) -> TypeChange {
    if old.array_dimensions != new.array_dimensions {
        return TypeChange::Convert;
    }
    let (a, b) = (old.scalar.storage_type(), new.scalar.storage_type());
    if a == b {
        // serial ↔ integer: the same storage, only the default differs.
        return TypeChange::Relabel;
    }
    match (&a, &b) {
        (ScalarType::Varchar { length: Some(x) }, ScalarType::Varchar { length: Some(y) }) if y >= x => TypeChange::Relabel,
        (ScalarType::Varchar { .. }, ScalarType::Varchar { length: None } | ScalarType::Text) => TypeChange::Relabel,
        (ScalarType::Text, ScalarType::Varchar { length: None }) => TypeChange::Relabel,
        (
            ScalarType::Varchar { length: Some(_) } | ScalarType::Varchar { length: None } | ScalarType::Text,
            ScalarType::Varchar { length: Some(_) },
        ) => TypeChange::Narrow,
        (ScalarType::Char { length: x }, ScalarType::Char { length: y }) if y.unwrap_or(1) >= x.unwrap_or(1) => TypeChange::Widen,
        (ScalarType::Char { .. }, ScalarType::Text | ScalarType::Varchar { length: None }) => TypeChange::Widen,
        (ScalarType::Numeric { precision: p1, scale: s1 }, ScalarType::Numeric { precision: p2, scale: s2 }) => match (p1, p2) {
            (_, None) => TypeChange::Relabel,
            (Some(p1), Some(p2)) if s1.unwrap_or(0) == s2.unwrap_or(0) && p2 >= p1 => TypeChange::Relabel,
            _ if s2.unwrap_or(0) < s1.unwrap_or(0) => TypeChange::Convert,
            _ => TypeChange::Narrow,
        },
        (ScalarType::Timestamp { precision: p1, with_time_zone: z1 }, ScalarType::Timestamp { precision: p2, with_time_zone: z2 })
            if z1 == z2 =>
        {
            if p2.unwrap_or(6) >= p1.unwrap_or(6) {
                TypeChange::Relabel
            } else {
                TypeChange::Convert
            }
        }
        (ScalarType::Time { precision: p1, with_time_zone: z1 }, ScalarType::Time { precision: p2, with_time_zone: z2 }) if z1 == z2 => {
            if p2.unwrap_or(6) >= p1.unwrap_or(6) {
                TypeChange::Relabel
            } else {
                TypeChange::Convert
            }
        }
        (ScalarType::SmallInt, ScalarType::Integer | ScalarType::BigInt) | (ScalarType::Integer, ScalarType::BigInt) => TypeChange::Widen,
        (ScalarType::BigInt, ScalarType::Integer | ScalarType::SmallInt) | (ScalarType::Integer, ScalarType::SmallInt) => {
            TypeChange::Narrow
        }
        (ScalarType::Real, ScalarType::DoublePrecision) => TypeChange::Widen,
        (ScalarType::Json, ScalarType::Jsonb) => TypeChange::Widen,
        _ if a.family() == TypeFamily::Integer && matches!(b, ScalarType::Numeric { .. } | ScalarType::DoublePrecision) => {
            TypeChange::Widen
        }
        _ => TypeChange::Convert,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(scalar: ScalarType) -> ColumnType {
        ColumnType::scalar(scalar)
    }

    #[test]
    fn type_changes() {
        assert_eq!(
            classify_type_change(&ty(ScalarType::Varchar { length: Some(10) }), &ty(ScalarType::Varchar { length: Some(20) })),
            TypeChange::Relabel
        );
        assert_eq!(classify_type_change(&ty(ScalarType::Varchar { length: Some(320) }), &ty(ScalarType::Text)), TypeChange::Relabel);
        assert_eq!(classify_type_change(&ty(ScalarType::Text), &ty(ScalarType::Varchar { length: Some(200) })), TypeChange::Narrow);
        assert_eq!(classify_type_change(&ty(ScalarType::Integer), &ty(ScalarType::BigInt)), TypeChange::Widen);
        assert_eq!(classify_type_change(&ty(ScalarType::BigInt), &ty(ScalarType::Integer)), TypeChange::Narrow);
        assert_eq!(classify_type_change(&ty(ScalarType::Text), &ty(ScalarType::Integer)), TypeChange::Convert);
        assert_eq!(classify_type_change(&ty(ScalarType::Serial), &ty(ScalarType::Integer)), TypeChange::Relabel);
    }

    #[test]
    fn timestamps_are_one_default() {
        let none = BTreeMap::new();
        assert!(same_expression(Dialect::Postgresql, "now()", "CURRENT_TIMESTAMP", || &none));
        assert!(!same_expression(Dialect::Postgresql, "now()", "CURRENT_DATE", || &none));
    }
}
