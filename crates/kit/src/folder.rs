//! The migration folder layout of drizzle-kit 0.31: `NNNN_tag.sql`,
//! `meta/_journal.json`, `meta/NNNN_snapshot.json`.
//!
//! Byte for byte as drizzle-kit writes them: statements joined by
//! `--> statement-breakpoint\n`, JSON pretty-printed with two spaces, and no
//! trailing newline on any file.

use schemaforge_diff::Step;
use schemaforge_model::Schema;
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
    #[error("meta/_journal.json cannot be read: {0}")]
    Journal(String),
    #[error("the last snapshot cannot be read: {0}")]
    Snapshot(String),
}

/// Checks a migration name for use in file names.
pub fn check_name(name: &str) -> Result<(), FolderError> {
    let ok = !name.is_empty() && name.len() <= 100 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok { Ok(()) } else { Err(FolderError::InvalidName(name.to_string())) }
}

/// The folder's journal (`meta/_journal.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    pub dialect: String,
    pub entries: Vec<JournalEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub idx: u32,
    pub version: String,
    pub when: u64,
    pub tag: String,
    pub breakpoints: bool,
}

impl Journal {
    /// Reads a journal written by drizzle-kit or schemaforge.
    pub fn parse(text: &str) -> Result<Journal, FolderError> {
        let bad = |why: &str| FolderError::Journal(why.to_string());
        let value: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        let dialect = value.get("dialect").and_then(Value::as_str).ok_or_else(|| bad("no `dialect`"))?.to_string();
        let entries = value.get("entries").and_then(Value::as_array).ok_or_else(|| bad("no `entries` list"))?;
        let entries = entries
            .iter()
            .map(|e| {
                Ok(JournalEntry {
                    idx: e
                        .get("idx")
                        .and_then(Value::as_u64)
                        .and_then(|i| u32::try_from(i).ok())
                        .ok_or_else(|| bad("an entry without `idx`"))?,
                    version: e.get("version").and_then(Value::as_str).unwrap_or("7").to_string(),
                    when: e.get("when").and_then(Value::as_u64).ok_or_else(|| bad("an entry without `when`"))?,
                    tag: e.get("tag").and_then(Value::as_str).ok_or_else(|| bad("an entry without `tag`"))?.to_string(),
                    breakpoints: e.get("breakpoints").and_then(Value::as_bool).unwrap_or(true),
                })
            })
            .collect::<Result<Vec<_>, FolderError>>()?;
        Ok(Journal { dialect, entries })
    }

    /// The journal file's text, as drizzle-kit writes it.
    pub fn to_json_text(&self) -> String {
        snapshot::to_json_text(&self.to_value())
    }

    fn to_value(&self) -> Value {
        json!({
            "version": JOURNAL_VERSION,
            "dialect": self.dialect,
            "entries": self.entries.iter().map(|e| json!({
                "idx": e.idx,
                "version": e.version,
                "when": e.when,
                "tag": e.tag,
                "breakpoints": e.breakpoints,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The snapshot file of journal entry `idx`.
pub fn snapshot_path(idx: u32) -> String {
    format!("meta/{idx:04}_snapshot.json")
}

/// The definition a migration was generated from, kept so the next one can
/// be planned against it (drizzle-kit's snapshot cannot say everything a
/// definition does: extensions, comments, custom SQL, renames).
pub fn definition_path(tag: &str) -> String {
    format!("definitions/{tag}.json")
}

/// The `id` of a snapshot file's contents.
pub fn snapshot_id(text: &str) -> Result<String, FolderError> {
    // The id comes first in every snapshot drizzle-kit or we write: the
    // top-level members are read one at a time and the search stops at
    // `id`, so the rest of the snapshot (megabytes for a large schema) is
    // not even scanned. A member before it is skipped by serde_json whole.
    let bad = |why: &str| FolderError::Snapshot(why.to_string());
    let mut rest = text.trim_start().strip_prefix('{').ok_or_else(|| bad("not a JSON object"))?;
    loop {
        let (key, after) = next_json::<String>(rest).map_err(|e| bad(&e))?;
        rest = after.trim_start().strip_prefix(':').ok_or_else(|| bad("a member without `:`"))?;
        if key == "id" {
            return match next_json::<Value>(rest).map_err(|e| bad(&e))?.0 {
                Value::String(id) => Ok(id),
                _ => Err(bad("`id` is not a string")),
            };
        }
        rest = next_json::<serde::de::IgnoredAny>(rest).map_err(|e| bad(&e))?.1.trim_start();
        rest = match rest.as_bytes().first() {
            Some(b',') => &rest[1..],
            _ => return Err(bad("no `id`")),
        };
    }
}

/// The JSON value at the start of `text` (after white space), and the text after it.
fn next_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<(T, &str), String> {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<T>();
    match values.next() {
        Some(Ok(value)) => Ok((value, &text[values.byte_offset()..])),
        Some(Err(error)) => Err(error.to_string()),
        None => Err("the text ends early".to_string()),
    }
}

/// Where the folder stands before a new migration: its journal and the id of
/// its last snapshot. `None` for an empty folder.
pub struct Previous<'a> {
    pub journal: &'a Journal,
    pub snapshot_id: &'a str,
}

/// A migration to write: its SQL both ways and the definition it came from.
pub struct NewMigration<'a> {
    pub schema: &'a Schema,
    pub up: &'a [Statement],
    pub down: &'a [Statement],
    pub definition: &'a str,
}

/// The files a new migration writes into the folder (the journal rewritten
/// with one more entry). The `when` recorded is never below the previous
/// entry's: drizzle-orm's migrator skips an entry whose `when` is not above
/// the last one applied.
pub fn next_migration(
    previous: Option<Previous<'_>>,
    new: &NewMigration<'_>,
    migration: &Migration<'_>,
) -> Result<Vec<KitFile>, FolderError> {
    let snapshot = next_snapshot(previous.as_ref(), new.schema, &DrizzleNames::assign(new.schema));
    next_migration_with_snapshot(previous, new, migration, snapshot)
}

/// The text of the snapshot a new migration after `previous` writes. It
/// depends on nothing but the schema and its parent, and it is the largest
/// file of a migration, so a caller may build it beside the plans and pass it
/// to `next_migration_with_snapshot`. `names` are `DrizzleNames::assign(schema)`
/// (`schema.ts` is written with the same ones).
pub fn next_snapshot(previous: Option<&Previous<'_>>, schema: &Schema, names: &DrizzleNames) -> String {
    let prev_id = previous.map_or(ORIGIN_ID, |p| p.snapshot_id);
    snapshot::snapshot_text(schema, names, prev_id)
}

/// `next_migration` with its snapshot built already (by `next_snapshot`
/// with the same `previous` and `new.schema`).
pub fn next_migration_with_snapshot(
    previous: Option<Previous<'_>>,
    new: &NewMigration<'_>,
    migration: &Migration<'_>,
    snapshot: String,
) -> Result<Vec<KitFile>, FolderError> {
    check_name(migration.name)?;
    if new.up.is_empty() {
        return Err(FolderError::Empty);
    }
    let dialect = new.schema.dialect;
    let mut journal = match previous {
        Some(p) => {
            if p.journal.dialect != dialect.as_str() {
                return Err(FolderError::Journal(format!(
                    "the folder is for `{}`, the definition for `{}`",
                    p.journal.dialect,
                    dialect.as_str()
                )));
            }
            p.journal.clone()
        }
        None => Journal { dialect: dialect.as_str().to_string(), entries: Vec::new() },
    };
    let idx = journal.entries.last().map_or(0, |e| e.idx + 1);
    let when = journal.entries.last().map_or(migration.when_millis, |e| migration.when_millis.max(e.when + 1));
    let tag = format!("{idx:04}_{}", migration.name);
    journal.entries.push(JournalEntry {
        idx,
        version: snapshot::version(dialect).to_string(),
        when,
        tag: tag.clone(),
        breakpoints: migration.breakpoints,
    });
    Ok(vec![
        KitFile { path: format!("{tag}.sql"), contents: migration_sql(new.up, migration.breakpoints) },
        KitFile { path: format!("{tag}.down.sql"), contents: migration_sql(new.down, migration.breakpoints) },
        KitFile { path: snapshot_path(idx), contents: snapshot },
        KitFile { path: definition_path(&tag), contents: new.definition.to_string() },
        KitFile { path: "meta/_journal.json".into(), contents: snapshot::to_json_text(&journal.to_value()) },
    ])
}

/// The first line of a migration that cannot run inside a transaction (it
/// builds or drops an index `CONCURRENTLY`). Whoever applies the file runs its
/// statements one by one, each committed on its own; drizzle-orm's migrator,
/// which wraps every pending migration in one transaction, cannot apply it.
pub const NO_TRANSACTION: &str = "-- schemaforge:no-transaction";

/// Whether a migration file may run inside a transaction (it does not start
/// with the `NO_TRANSACTION` line).
pub fn is_transactional(sql: &str) -> bool {
    sql.lines().next().map(str::trim_end) != Some(NO_TRANSACTION)
}

/// The text of a migration file: each statement terminated by `;`, joined with
/// breakpoints. Like drizzle-kit, a `CREATE TABLE` or `CREATE SCHEMA` ends with
/// a newline so its breakpoint sits on a line of its own. A migration that
/// cannot run in a transaction starts with the `NO_TRANSACTION` line.
pub fn migration_sql(statements: &[Statement], breakpoints: bool) -> String {
    let parts: Vec<String> = statements
        .iter()
        .map(|s| match s.step {
            Step::CreateTable { .. } | Step::CreateSchema { .. } => format!("{};\n", s.sql),
            _ => format!("{};", s.sql),
        })
        .collect();
    let sql = parts.join(if breakpoints { BREAKPOINT } else { "\n" });
    if statements.iter().all(|s| s.step.transactional()) { sql } else { format!("{NO_TRANSACTION}\n{sql}") }
}

/// One migration of a folder, read for applying: its journal entry and files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    pub idx: u32,
    pub tag: String,
    /// The journal's `when`: drizzle-orm records it as `created_at`.
    pub when: u64,
    pub breakpoints: bool,
    /// `NNNN_tag.sql`.
    pub sql: String,
    /// `NNNN_tag.down.sql`, when the folder has one.
    pub down: Option<String>,
}

impl MigrationFile {
    /// The SHA-256 of the file in hex: drizzle-orm's `hash` for it, and our checksum.
    pub fn checksum(&self) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.sql.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether the migration may run in a transaction (see `NO_TRANSACTION`).
    pub fn transactional(&self) -> bool {
        is_transactional(&self.sql)
    }

    /// The up statements, split as drizzle-orm splits them (on breakpoints;
    /// the whole file when it has none).
    pub fn statements(&self) -> Vec<String> {
        split_statements(&self.sql)
    }

    /// The down statements, when there is a down file.
    pub fn down_statements(&self) -> Option<Vec<String>> {
        self.down.as_deref().map(split_statements)
    }
}

fn split_statements(sql: &str) -> Vec<String> {
    sql.split(BREAKPOINT.trim_end()).map(str::trim).filter(|s| !s.is_empty() && *s != NO_TRANSACTION).map(String::from).collect()
}

/// The files `schemaforge.sum` covers, in folder order: each migration's up
/// and down script and the definition it was generated from.
pub fn summed_paths(journal: &Journal) -> Vec<String> {
    journal.entries.iter().flat_map(|e| [format!("{}.sql", e.tag), format!("{}.down.sql", e.tag), definition_path(&e.tag)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_id_is_read_wherever_it_is_and_refused_when_missing_or_malformed() {
        assert_eq!(snapshot_id(r#"{"id": "a", "tables": {"x": [1, {"id": "inner"}]}}"#).ok(), Some("a".to_string()));
        assert_eq!(
            snapshot_id(r#" { "version": "6", "dialect": "sqlite", "tables": {"t": {"id": "inner"}}, "i\u0064": "b" }"#).ok(),
            Some("b".to_string())
        );
        assert_eq!(snapshot_id(r#"{"version": 7, "id": "c", "rest": "#).ok(), Some("c".to_string()));
        for bad in [
            "",
            "[]",
            r#"{"version": "7"}"#,
            r#"{}"#,
            r#"{"id": 7}"#,
            r#"{"id" "x"}"#,
            r#"{"version": "7" "id": "x"}"#,
            r#"{"tables": {"id": "x"}"#,
            r#"{"version": tru, "id": "x"}"#,
        ] {
            assert!(matches!(snapshot_id(bad), Err(FolderError::Snapshot(_))), "{bad:?} was accepted");
        }
    }
}
