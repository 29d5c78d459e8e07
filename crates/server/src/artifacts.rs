//! A tenant's artifacts in the object store, laid out as the seed did:
//!
//! ```text
//! drizzle/{userID}/schema.ts
//! drizzle/{userID}/migrations/…            (drizzle-kit folder, with down scripts and schemaforge.sum)
//! drizzle/{userID}/versions/{version}/definition.json
//! drizzle/{userID}/versions/{version}/changelog.md
//! drizzle/{userID}/logs/generation.log     (one JSON line per request)
//! ```
//!
//! They are a projection of the version records in the database: `sync`
//! writes whatever the store lacks, so a request that failed after its commit
//! is repaired by the next one. Each object is written whole (the local
//! store stages and renames), so a reader never sees half a file.

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use schemaforge_kit::folder::{JournalEntry, definition_path, snapshot_path};
use schemaforge_kit::{Journal, snapshot, sum};
use schemaforge_model::Dialect;

use crate::error::ApiError;
use crate::state::Shared;
use crate::tenant::UserId;
use crate::versions::VersionRow;

pub fn tenant_root(user: &UserId) -> String {
    format!("drizzle/{}", user.as_str())
}

fn path(user: &UserId, rest: &str) -> Path {
    Path::from(format!("{}/{rest}", tenant_root(user)))
}

async fn put(store: &dyn ObjectStore, location: &Path, contents: &str) -> Result<(), ApiError> {
    store.put(location, PutPayload::from(contents.as_bytes().to_vec())).await?;
    Ok(())
}

pub async fn read(store: &dyn ObjectStore, user: &UserId, rest: &str) -> Result<Option<String>, ApiError> {
    match store.get(&path(user, rest)).await {
        Ok(result) => Ok(Some(String::from_utf8_lossy(&result.bytes().await?).into_owned())),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// The journal of `rows`, as the tenant's folder holds it: drizzle-kit's
/// journal for the backend's dialect (snapshots version 7 for PostgreSQL, 6 for SQLite).
pub fn journal(dialect: Dialect, rows: &[VersionRow]) -> Journal {
    let version = snapshot::version(dialect);
    Journal {
        dialect: dialect.as_str().into(),
        entries: rows
            .iter()
            .map(|r| JournalEntry { idx: r.idx, version: version.into(), when: r.when_millis, tag: r.tag.clone(), breakpoints: true })
            .collect(),
    }
}

/// Where the artifacts of the latest version are, for responses.
pub fn locations(user: &UserId, version: &str) -> serde_json::Value {
    let root = tenant_root(user);
    serde_json::json!({
        "schemaTs": format!("{root}/schema.ts"),
        "migrations": format!("{root}/migrations/"),
        "definition": format!("{root}/versions/{version}/definition.json"),
        "changelog": format!("{root}/versions/{version}/changelog.md"),
        "log": format!("{root}/logs/generation.log"),
    })
}

/// Writes every artifact of `rows` the store lacks, then the folder's index
/// files (journal, sum) and `schema.ts` of the latest version.
pub async fn sync(store: &dyn ObjectStore, dialect: Dialect, user: &UserId, rows: &[VersionRow], schema_ts: &str) -> Result<(), ApiError> {
    let existing = read(store, user, "migrations/meta/_journal.json").await?.and_then(|text| Journal::parse(&text).ok());
    let written: Vec<&str> = existing.as_ref().map(|j| j.entries.iter().map(|e| e.tag.as_str()).collect()).unwrap_or_default();
    for row in rows.iter().filter(|r| !written.contains(&r.tag.as_str())) {
        put(store, &path(user, &format!("migrations/{}.sql", row.tag)), &row.up_sql).await?;
        put(store, &path(user, &format!("migrations/{}.down.sql", row.tag)), &row.down_sql).await?;
        put(store, &path(user, &format!("migrations/{}", snapshot_path(row.idx))), &row.snapshot).await?;
        put(store, &path(user, &format!("migrations/{}", definition_path(&row.tag))), &row.folder_definition).await?;
        put(store, &path(user, &format!("versions/{}/definition.json", row.version)), &row.definition).await?;
        put(store, &path(user, &format!("versions/{}/changelog.md", row.version)), &row.changelog).await?;
    }
    let files: Vec<(String, String)> = rows
        .iter()
        .flat_map(|r| {
            [
                (format!("{}.sql", r.tag), r.up_sql.clone()),
                (format!("{}.down.sql", r.tag), r.down_sql.clone()),
                (definition_path(&r.tag), r.folder_definition.clone()),
            ]
        })
        .collect();
    put(store, &path(user, &format!("migrations/{}", sum::SUM_FILE)), &sum::compute(&files)).await?;
    put(store, &path(user, "schema.ts"), schema_ts).await?;
    // The journal last: it is the folder's index.
    put(store, &path(user, "migrations/meta/_journal.json"), &journal(dialect, rows).to_json_text()).await?;
    Ok(())
}

/// Adds one line to the tenant's generation log.
///
/// An object store has no append, so this reads the log and writes it back
/// whole (atomically, on the file system and on S3 alike). Two writers doing
/// that at once would lose a line, so every writer, on every replica, holds a
/// lock of the log's own while it does (`Backend::lock_log`): not the
/// tenant's migration lock, so a refused or invalid request is logged without
/// waiting for a migration to finish. When the database is unreachable the
/// line is still written, unlocked: a record, best effort.
pub async fn log(state: &Shared, user: &UserId, line: &serde_json::Value) -> Result<(), ApiError> {
    let lock = state.backend.lock_log(user).await.ok();
    let store = state.store.as_ref();
    let written = async {
        let mut text = read(store, user, "logs/generation.log").await?.unwrap_or_default();
        text.push_str(&line.to_string());
        text.push('\n');
        put(store, &path(user, "logs/generation.log"), &text).await
    }
    .await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    written
}
