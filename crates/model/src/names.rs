//! Default names of constraints, indexes and sequences: the one place their
//! formulas live. They follow drizzle-orm (and, for inline primary keys and
//! serial sequences, PostgreSQL), so a definition, its SQL and its `schema.ts`
//! agree on every name without spelling any of them out.

/// PostgreSQL's name for a primary key declared inline on a column.
pub fn inline_primary_key(table: &str) -> String {
    format!("{table}_pkey")
}

/// drizzle's `primaryKey({ columns })` name: `<table>_<columns>_pk`.
pub fn primary_key<S: AsRef<str>>(table: &str, columns: &[S]) -> String {
    format!("{table}_{}_pk", join(columns))
}

/// drizzle's `.unique()` / `unique().on(…)` name: `<table>_<columns>_unique`.
pub fn unique<S: AsRef<str>>(table: &str, columns: &[S]) -> String {
    format!("{table}_{}_unique", join(columns))
}

/// drizzle's foreign key name: `<table>_<columns>_<target>_<target columns>_fk`.
pub fn foreign_key<S: AsRef<str>, T: AsRef<str>>(table: &str, columns: &[S], target: &str, target_columns: &[T]) -> String {
    format!("{table}_{}_{target}_{}_fk", join(columns), join(target_columns))
}

/// drizzle's index name for an index on columns: `<table>_<columns>_index`.
pub fn index<S: AsRef<str>>(table: &str, columns: &[S]) -> String {
    format!("{table}_{}_index", join(columns))
}

/// The check that keeps an enum column's labels on SQLite, which has no
/// enum types: `<table>_<column>_check` (PostgreSQL's name for a column check).
pub fn enum_check(table: &str, column: &str) -> String {
    format!("{table}_{column}_check")
}

/// The sequence behind a serial or identity column: `<table>_<column>_seq`.
pub fn sequence(table: &str, column: &str) -> String {
    format!("{table}_{column}_seq")
}

fn join<S: AsRef<str>>(parts: &[S]) -> String {
    parts.iter().map(AsRef::as_ref).collect::<Vec<_>>().join("_")
}
