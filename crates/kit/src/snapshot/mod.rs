//! `meta/NNNN_snapshot.json`: what drizzle-kit's serializer computes from our `schema.ts`.
//!
//! The snapshot is field for field what drizzle-kit derives, in its key order
//! (`JSON.stringify` keeps insertion order), one module per dialect:
//! PostgreSQL's version 7 (`postgres`) and SQLite's version 6 (`sqlite`).
//! Tables (and PostgreSQL's enums, schemas and roles) appear in the order of
//! their export names, sorted the way esbuild lists a module's exports,
//! because that is the order drizzle-kit walks them in.

mod postgres;
mod sqlite;

use serde_json::Value;
use sha2::{Digest, Sha256};

use schemaforge_model::{Dialect, Schema};

use crate::names::DrizzleNames;

pub use postgres::{drizzle_type, unique_is_column_style};
pub use sqlite::{foreign_key_is_column_style, index_element};

/// `prevId` of the first snapshot in a folder.
pub const ORIGIN_ID: &str = "00000000-0000-0000-0000-000000000000";

/// The snapshot of `schema`, chained to `prev_id`. Its `id` is derived from its
/// content and parent, so the same schema after the same parent always gets
/// the same id (drizzle-kit uses a random UUID; any UUID-shaped string works).
pub fn snapshot(schema: &Schema, names: &DrizzleNames, prev_id: &str) -> Value {
    match schema.dialect {
        Dialect::Postgresql => postgres::snapshot(schema, names, prev_id),
        Dialect::Sqlite => sqlite::snapshot(schema, names, prev_id),
    }
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

fn content_id(prev_id: &str, body: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_id.as_bytes());
    hasher.update(b"\n");
    // Serialized straight into the hash: the text itself (megabytes) is never needed.
    let _ = serde_json::to_writer(HashWriter(&mut hasher), body);
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Shape it as a version-4, RFC 4122 variant UUID, like crypto.randomUUID().
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Feeds what is written to it into a hash.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// esbuild lists a module's exports sorted by name (byte order); drizzle-kit
/// visits them in that order.
fn by_export<'a, T>(items: impl Iterator<Item = (&'a str, T)>) -> Vec<T> {
    let mut items: Vec<(&str, T)> = items.collect();
    items.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    items.into_iter().map(|(_, t)| t).collect()
}
