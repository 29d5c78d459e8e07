//! `meta/NNNN_snapshot.json`: what drizzle-kit's serializer computes from our `schema.ts`.
//!
//! The snapshot is field for field what drizzle-kit derives, in its key order
//! (`JSON.stringify` keeps insertion order), one module per dialect:
//! PostgreSQL's version 7 (`postgres`) and SQLite's version 6 (`sqlite`).
//! Tables (and PostgreSQL's enums, schemas and roles) appear in the order of
//! their export names, sorted the way esbuild lists a module's exports,
//! because that is the order drizzle-kit walks them in. The text is written
//! directly (`text`), not built as a JSON value first, and a large table
//! list is written in halves on two threads.

mod postgres;
mod sqlite;
mod text;

use serde_json::Value;
use sha2::{Digest, Sha256};

use schemaforge_model::{Column, Dialect, ForeignKey, Schema, Table};

use text::JsonText;

use crate::defaults::drizzle_default;
use crate::names::DrizzleNames;

pub use postgres::{drizzle_type, unique_is_column_style};
pub use sqlite::{foreign_key_is_column_style, index_element};

/// `prevId` of the first snapshot in a folder.
pub const ORIGIN_ID: &str = "00000000-0000-0000-0000-000000000000";

/// A snapshot before its `id` is known: the fields written before `id` and
/// `prevId` (plain strings), and the body after them, which the id hashes,
/// as its pretty text and its compact text.
pub(crate) struct Body {
    head: &'static [(&'static str, &'static str)],
    text: (String, String),
}

/// The snapshot file's text for `schema`, chained to `prev_id`:
/// `JSON.stringify(snapshot, null, 2)` of what drizzle-kit would hold. Its
/// `id` is derived from its content and parent, so the same schema after the
/// same parent always gets the same id (drizzle-kit uses a random UUID; any
/// UUID-shaped string works).
pub fn snapshot_text(schema: &Schema, names: &DrizzleNames, prev_id: &str) -> String {
    let Body { head, text: (body, compact) } = match schema.dialect {
        Dialect::Postgresql => postgres::body(schema, names),
        Dialect::Sqlite => sqlite::body(schema, names),
    };
    let id = content_id(prev_id, &compact);
    drop(compact);
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut text = String::with_capacity(body.len() + 160);
    text.push_str("{\n");
    for (key, value) in head {
        text.push_str(&format!("  {}: {},\n", quoted(key), quoted(value)));
    }
    text.push_str(&format!("  \"id\": {},\n  \"prevId\": {},\n", quoted(&id), quoted(prev_id)));
    // The body's own text without its opening `{` line: its fields follow `prevId`.
    text.push_str(body.strip_prefix("{\n").unwrap_or(&body));
    text
}

/// A generated column's `generated` (stored, the only kind drizzle-kit records).
fn generated_field(w: &mut JsonText, expression: &str) {
    w.key("generated");
    w.begin_object();
    w.str_field("as", expression);
    w.str_field("type", "stored");
    w.end_object();
}

/// A column's `default`, when `schema.ts` declares one.
fn default_field(w: &mut JsonText, dialect: Dialect, column: &Column) {
    if let Some(default) = drizzle_default(dialect, column) {
        w.key("default");
        w.value(&default.snapshot_value());
    }
}

/// A foreign key's entry under `foreignKeys` (both dialects write the same
/// fields; only PostgreSQL has a `schemaTo` to write).
fn foreign_key(w: &mut JsonText, table: &Table, fk: &ForeignKey) {
    w.key(&fk.name);
    w.begin_object();
    w.str_field("name", &fk.name);
    w.str_field("tableFrom", &table.name.name);
    w.str_field("tableTo", &fk.referenced_table.name);
    if let Some(schema) = &fk.referenced_table.schema {
        w.str_field("schemaTo", schema);
    }
    w.strings_field("columnsFrom", &fk.columns);
    w.strings_field("columnsTo", &fk.referenced_columns);
    w.str_field("onDelete", fk.on_delete.as_sql());
    w.str_field("onUpdate", fk.on_update.as_sql());
    w.end_object();
}

/// A table's `checkConstraints`, the same in both dialects.
fn check_constraints(w: &mut JsonText, table: &Table) {
    w.key("checkConstraints");
    w.begin_object();
    for check in &table.checks {
        w.key(&check.name);
        w.begin_object();
        w.str_field("name", &check.name);
        w.str_field("value", &check.expression);
        w.end_object();
    }
    w.end_object();
}

/// The snapshot format version drizzle-kit writes for `dialect` (also each journal entry's `version`).
pub fn version(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgresql => "7",
        Dialect::Sqlite => "6",
    }
}

/// `JSON.stringify(value, null, 2)`: what drizzle-kit writes, without a trailing newline.
pub fn to_json_text(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// The id of a snapshot whose body is `compact` (its compact JSON text).
fn content_id(prev_id: &str, compact: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_id.as_bytes());
    hasher.update(b"\n");
    hasher.update(compact.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Shape it as a version-4, RFC 4122 variant UUID, like crypto.randomUUID().
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// esbuild lists a module's exports sorted by name (byte order); drizzle-kit
/// visits them in that order.
fn by_export<'a, T>(items: impl Iterator<Item = (&'a str, T)>) -> Vec<T> {
    let mut items: Vec<(&str, T)> = items.collect();
    items.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    items.into_iter().map(|(_, t)| t).collect()
}
