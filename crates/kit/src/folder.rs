//! The migration folder layout of drizzle-kit 0.31: `NNNN_tag.sql`,
//! `meta/_journal.json`, `meta/NNNN_snapshot.json`.
//!
//! Byte for byte as drizzle-kit writes them: statements joined by
//! `--> statement-breakpoint\n`, JSON pretty-printed with two spaces, and no
//! trailing newline on any file.

use schemaforge_diff::Step;
use schemaforge_model::{Dialect, Schema};
use schemaforge_sql::Statement;
use serde_json::{Value, json};

use crate::names::DrizzleNames;
use crate::snapshot::{self, ORIGIN_ID};

/// The marker drizzle-orm's migrator splits migration files on.
pub const BREAKPOINT: &str = "--> statement-breakpoint\n";

/// Version of drizzle-kit's journal format (the same for every dialect).
pub const JOURNAL_VERSION: &str = "7";

/// One file of the folder, relative to the folder root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitFile {
    pub path: String,
    pub contents: String,
}

/// What a migration is called and when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration<'a> {
    /// The name after the index prefix: `init` in `0000_init.sql`.
    pub name: &'a str,
    /// Milliseconds since the Unix epoch (the journal's `when`). Passed in:
    /// this crate never reads the clock.
    pub when_millis: u64,
    /// Join statements with breakpoints (drizzle-kit's default).
    pub breakpoints: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FolderError {
    #[error("migration name `{0}` may only contain letters, digits, `_` and `-` (at most 100 characters)")]
    InvalidName(String),
    #[error("there is nothing to migrate: the schema is empty")]
    Empty,
}

/// Checks a migration name for use in file names.
pub fn check_name(name: &str) -> Result<(), FolderError> {
    let ok = !name.is_empty() && name.len() <= 100 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok { Ok(()) } else { Err(FolderError::InvalidName(name.to_string())) }
}

/// The files of a folder holding only the initial migration of `schema`.
pub fn initial_migration(schema: &Schema, statements: &[Statement], migration: &Migration<'_>) -> Result<Vec<KitFile>, FolderError> {
    check_name(migration.name)?;
    if statements.is_empty() {
        return Err(FolderError::Empty);
    }
    let tag = format!("{:04}_{}", 0, migration.name);
    let names = DrizzleNames::assign(schema);
    let snapshot = snapshot::snapshot(schema, &names, ORIGIN_ID);
    let journal = json!({
        "version": JOURNAL_VERSION,
        "dialect": schema.dialect.as_str(),
        "entries": [journal_entry(0, schema.dialect, migration, &tag)],
    });
    Ok(vec![
        KitFile { path: format!("{tag}.sql"), contents: migration_sql(statements, migration.breakpoints) },
        KitFile { path: "meta/_journal.json".into(), contents: snapshot::to_json_text(&journal) },
        KitFile { path: "meta/0000_snapshot.json".into(), contents: snapshot::to_json_text(&snapshot) },
    ])
}

fn journal_entry(idx: u32, dialect: Dialect, migration: &Migration<'_>, tag: &str) -> Value {
    json!({
        "idx": idx,
        "version": snapshot_version(dialect),
        "when": migration.when_millis,
        "tag": tag,
        "breakpoints": migration.breakpoints,
    })
}

fn snapshot_version(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgresql => "7",
    }
}

/// The text of a migration file: each statement terminated by `;`, joined with
/// breakpoints. Like drizzle-kit, a `CREATE TABLE` or `CREATE SCHEMA` ends with
/// a newline so its breakpoint sits on a line of its own.
pub fn migration_sql(statements: &[Statement], breakpoints: bool) -> String {
    let parts: Vec<String> = statements
        .iter()
        .map(|s| match s.step {
            Step::CreateTable { .. } | Step::CreateSchema { .. } => format!("{};\n", s.sql),
            _ => format!("{};", s.sql),
        })
        .collect();
    parts.join(if breakpoints { BREAKPOINT } else { "\n" })
}
