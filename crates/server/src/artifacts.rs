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
use crate::versions::{Entry, VersionRow};

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

/// The journal of `entries`, as the tenant's folder holds it: drizzle-kit's
/// journal for the backend's dialect (snapshots version 7 for PostgreSQL, 6 for SQLite).
pub fn journal(dialect: Dialect, entries: &[Entry]) -> Journal {
    let version = snapshot::version(dialect);
    Journal {
        dialect: dialect.as_str().into(),
        entries: entries
            .iter()
            .map(|e| JournalEntry { idx: e.idx, version: version.into(), when: e.when_millis, tag: e.tag.clone(), breakpoints: true })
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

const JOURNAL: &str = "migrations/meta/_journal.json";

/// The paths `schemaforge.sum` lists for a version, in folder order.
fn summed_paths(tag: &str) -> [String; 3] {
    [format!("{tag}.sql"), format!("{tag}.down.sql"), definition_path(tag)]
}

/// The files `schemaforge.sum` covers for a version, in folder order.
fn summed(row: &VersionRow) -> [(String, String); 3] {
    let [up, down, definition] = summed_paths(&row.tag);
    [(up, row.up_sql.clone()), (down, row.down_sql.clone()), (definition, row.folder_definition.clone())]
}

/// Writes a version's own files: its migration, down script, snapshot and
/// folder definition, and its definition and changelog as sent. At once:
/// no file names another, and each is a round trip to the store (a blocking
/// task on the file system, a request to S3); only the index files, written
/// after all of them, make them part of the folder.
async fn put_version(store: &dyn ObjectStore, user: &UserId, row: &VersionRow) -> Result<(), ApiError> {
    let [up, down, snapshot, folder_definition, definition, changelog] = [
        format!("migrations/{}.sql", row.tag),
        format!("migrations/{}.down.sql", row.tag),
        format!("migrations/{}", snapshot_path(row.idx)),
        format!("migrations/{}", definition_path(&row.tag)),
        format!("versions/{}/definition.json", row.version),
        format!("versions/{}/changelog.md", row.version),
    ]
    .map(|rest| path(user, &rest));
    tokio::try_join!(
        put(store, &up, &row.up_sql),
        put(store, &down, &row.down_sql),
        put(store, &snapshot, &row.snapshot),
        put(store, &folder_definition, &row.folder_definition),
        put(store, &definition, &row.definition),
        put(store, &changelog, &row.changelog),
    )?;
    Ok(())
}

/// What `extend` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extended {
    /// The folder holds every version of `entries`.
    Done,
    /// The store does not hold the folder of the versions before the new
    /// ones (a write that failed after its commit, a rollback, a folder
    /// written by another release): nothing was written; `sync` it whole.
    Repair,
}

/// Extends the tenant's folder by `new`, the last versions of `entries`
/// (every current version, oldest first), whole: writes their files, the
/// sum file extended from the stored one, `schema.ts` and the journal, in
/// the order `sync` writes them, so the folder holds the same bytes as a
/// `sync` of every version would write, for a cost that grows with the
/// change rather than with the tenant's history (no earlier file is read,
/// hashed or written; only the index files are, whole).
///
/// It does so only when the store holds the folder of exactly the versions
/// before: the stored journal is the one they make (tags and times, so a
/// version rolled back and made again under the same tag is told apart),
/// and the stored sum file is intact and lists exactly their files. The
/// journal is written last, after the sum, by every writer (each holding
/// the tenant's lock), so that journal was written by the last complete
/// write of those versions, which wrote their sum just before; a later
/// write that stopped half way lists other files, and is caught. Otherwise
/// it writes nothing and answers `Repair`.
pub async fn extend(
    store: &dyn ObjectStore,
    dialect: Dialect,
    user: &UserId,
    entries: &[Entry],
    new: &[VersionRow],
    schema_ts: &str,
) -> Result<Extended, ApiError> {
    if entries.is_empty() {
        return Ok(Extended::Done);
    }
    let Some(before) = entries.len().checked_sub(new.len()) else { return Ok(Extended::Repair) };
    let (previous, added) = entries.split_at(before);
    if added.iter().zip(new).any(|(entry, row)| *entry != row.entry()) {
        return Ok(Extended::Repair);
    }
    let sum_at = format!("migrations/{}", sum::SUM_FILE);
    let (stored_journal, stored_sum) = tokio::try_join!(read(store, user, JOURNAL), read(store, user, &sum_at))?;
    // Before the first version there is nothing to trust or keep: whatever
    // the store holds (nothing, or what a tenant of the same name left), the
    // folder is written from the new versions alone, as `sync` would.
    if !previous.is_empty() && stored_journal != Some(journal(dialect, previous).to_json_text()) {
        return Ok(Extended::Repair);
    }
    let files: Vec<(String, String)> = new.iter().flat_map(summed).collect();
    let sum_text = if previous.is_empty() {
        sum::compute(&files)
    } else {
        let Some(stored) = stored_sum else { return Ok(Extended::Repair) };
        let paths: Vec<String> = previous.iter().flat_map(|e| summed_paths(&e.tag)).collect();
        if sum::listed(&stored) != Some(paths.iter().map(String::as_str).collect()) {
            return Ok(Extended::Repair);
        }
        if new.is_empty() {
            // The folder is whole: only `schema.ts`, which is not indexed, may lack.
            put(store, &path(user, "schema.ts"), schema_ts).await?;
            return Ok(Extended::Done);
        }
        sum::extend(&stored, &files)
    };
    for row in new {
        put_version(store, user, row).await?;
    }
    let (sum_path, schema_ts_path) = (path(user, &sum_at), path(user, "schema.ts"));
    tokio::try_join!(put(store, &sum_path, &sum_text), put(store, &schema_ts_path, schema_ts))?;
    // The journal last, once the rest is written: it is the folder's index.
    put(store, &path(user, JOURNAL), &journal(dialect, entries).to_json_text()).await?;
    Ok(Extended::Done)
}

/// Writes every artifact of `rows` (every current version, whole) the store
/// lacks, then the folder's index files (journal, sum, recomputed from
/// every version) and `schema.ts` of the latest version: the repair path,
/// and what a rollback writes. A version counts as written when the stored
/// journal lists its tag with its time: one rolled back and made again
/// under the same tag is a different version, whose files are written.
pub async fn sync(store: &dyn ObjectStore, dialect: Dialect, user: &UserId, rows: &[VersionRow], schema_ts: &str) -> Result<(), ApiError> {
    let existing = read(store, user, JOURNAL).await?.and_then(|text| Journal::parse(&text).ok());
    let written: Vec<(&str, u64)> =
        existing.as_ref().map(|j| j.entries.iter().map(|e| (e.tag.as_str(), e.when)).collect()).unwrap_or_default();
    for row in rows.iter().filter(|r| !written.contains(&(r.tag.as_str(), r.when_millis))) {
        put_version(store, user, row).await?;
    }
    let files: Vec<(String, String)> = rows.iter().flat_map(summed).collect();
    put(store, &path(user, &format!("migrations/{}", sum::SUM_FILE)), &sum::compute(&files)).await?;
    put(store, &path(user, "schema.ts"), schema_ts).await?;
    // The journal last: it is the folder's index.
    let entries: Vec<Entry> = rows.iter().map(VersionRow::entry).collect();
    put(store, &path(user, JOURNAL), &journal(dialect, &entries).to_json_text()).await?;
    Ok(())
}

const LOG: &str = "logs/generation.log";

/// The name of the `n`th closed segment of the generation log (from 1,
/// oldest first; zero-padded so that names sort in order).
pub fn log_segment(n: u64) -> String {
    format!("logs/generation.{n:06}.log")
}

/// The number the next closed segment takes: one past the largest there is.
async fn next_segment(store: &dyn ObjectStore, user: &UserId) -> Result<u64, ApiError> {
    let listed = store.list_with_delimiter(Some(&path(user, "logs"))).await?;
    let largest = listed
        .objects
        .iter()
        .filter_map(|object| object.location.filename()?.strip_prefix("generation.")?.strip_suffix(".log")?.parse::<u64>().ok())
        .max();
    Ok(largest.unwrap_or(0) + 1)
}

/// Appends `line` to the log, closing the log into the next numbered
/// segment first when the line would take it past `segment_bytes`: what a
/// request reads and writes back is bounded by that, whatever the tenant's
/// history. A line longer than that alone still goes in, alone. The caller
/// holds the log's lock.
pub async fn append(store: &dyn ObjectStore, user: &UserId, line: &str, segment_bytes: u64) -> Result<(), ApiError> {
    let current = read(store, user, LOG).await?.unwrap_or_default();
    let size = u64::try_from(current.len() + line.len() + 1).unwrap_or(u64::MAX);
    if current.is_empty() || size <= segment_bytes {
        let mut text = current;
        text.push_str(line);
        text.push('\n');
        return put(store, &path(user, LOG), &text).await;
    }
    // Moved, not copied: a failure after the move leaves no current log
    // (the next line starts one), not the closed lines in two places. On
    // the file system the move is one rename; on S3 it is a copy and a
    // delete, and a failed delete leaves them in both (this line is then
    // not logged: the log is a record, best effort).
    let segment = next_segment(store, user).await?;
    store.rename(&path(user, LOG), &path(user, &log_segment(segment))).await?;
    put(store, &path(user, LOG), &format!("{line}\n")).await
}

/// Adds one line to the tenant's generation log (`append`).
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
    let written = append(state.store.as_ref(), user, &line.to_string(), state.config.log_segment_bytes).await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    written
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use object_store::memory::InMemory;
    use schemaforge_plan::Version;

    use super::*;

    fn user() -> UserId {
        UserId::parse("ann").unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// A version whose files say which version made them (`when` tells
    /// versions made again under one tag apart).
    fn row(idx: u32, name: &str, when: u64) -> VersionRow {
        let tag = format!("{idx:04}_{name}");
        VersionRow {
            version: Version { major: 1, minor: u64::from(idx), patch: 0 },
            created_at: String::new(),
            bump: "minor".into(),
            message: None,
            definition: format!("{{\"made\": {when}}}"),
            changelog: format!("## {tag} at {when}\n"),
            idx,
            when_millis: when,
            snapshot: format!("{{\"snapshot\": \"{tag}\", \"at\": {when}}}"),
            snapshot_id: format!("id-{when}"),
            folder_definition: format!("{{\"folder\": {when}}}"),
            up_sql: format!("CREATE TABLE t{when} (id integer);"),
            down_sql: format!("DROP TABLE t{when};"),
            hazards: Vec::new(),
            statements: 1,
            applied_by: "admin".into(),
            tag,
        }
    }

    async fn contents(store: &InMemory) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        let mut pending = vec![None];
        while let Some(prefix) = pending.pop() {
            let listed = store.list_with_delimiter(prefix.as_ref()).await.unwrap_or_else(|e| panic!("{e}"));
            pending.extend(listed.common_prefixes.into_iter().map(Some));
            for object in listed.objects {
                let bytes =
                    store.get(&object.location).await.unwrap_or_else(|e| panic!("{e}")).bytes().await.unwrap_or_else(|e| panic!("{e}"));
                files.insert(object.location.to_string(), String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        files
    }

    fn entries(rows: &[VersionRow]) -> Vec<Entry> {
        rows.iter().map(VersionRow::entry).collect()
    }

    /// What a change writes: the folder extended by its new version, or
    /// repaired from every version when that is refused.
    async fn change(store: &InMemory, rows: &[VersionRow], new: usize) -> Extended {
        let (dialect, user) = (Dialect::Postgresql, user());
        let schema_ts = format!("// schema.ts of {}\n", rows.len());
        let tail = &rows[rows.len() - new..];
        let extended = extend(store, dialect, &user, &entries(rows), tail, &schema_ts).await.unwrap_or_else(|e| panic!("{e}"));
        if extended == Extended::Repair {
            sync(store, dialect, &user, rows, &schema_ts).await.unwrap_or_else(|e| panic!("{e}"));
        }
        extended
    }

    /// What every write did before the folder was extended: a whole `sync`.
    async fn whole(store: &InMemory, rows: &[VersionRow]) {
        let schema_ts = format!("// schema.ts of {}\n", rows.len());
        sync(store, Dialect::Postgresql, &user(), rows, &schema_ts).await.unwrap_or_else(|e| panic!("{e}"));
    }

    fn sum_of(rows: &[VersionRow]) -> String {
        sum::compute(&rows.iter().flat_map(summed).collect::<Vec<_>>())
    }

    const SUM: &str = "drizzle/ann/migrations/schemaforge.sum";
    const JOURNAL_AT: &str = "drizzle/ann/migrations/meta/_journal.json";

    #[tokio::test]
    async fn extending_writes_the_bytes_a_whole_sync_writes() {
        let (extended, synced) = (InMemory::new(), InMemory::new());
        let mut rows = Vec::new();
        for idx in 0..6 {
            rows.push(row(idx, "step", 1000 + u64::from(idx)));
            assert_eq!(change(&extended, &rows, 1).await, Extended::Done, "version {idx} was not extended");
            whole(&synced, &rows).await;
            assert_eq!(contents(&extended).await, contents(&synced).await, "after version {idx}");
            assert_eq!(contents(&extended).await.get(SUM), Some(&sum_of(&rows)), "the sum differs from a full recompute");
        }
        // An unchanged request writes nothing new, and the folder stays whole.
        assert_eq!(change(&extended, &rows, 0).await, Extended::Done);
        whole(&synced, &rows).await;
        assert_eq!(contents(&extended).await, contents(&synced).await);
    }

    #[tokio::test]
    async fn a_lost_write_is_repaired_by_the_next_change() {
        let store = InMemory::new();
        let user = user();
        let mut rows = vec![row(0, "init", 1000)];
        change(&store, &rows, 1).await;
        // Version 1 committed, but none of its artifacts were written.
        rows.push(row(1, "lost", 1001));
        rows.push(row(2, "next", 1002));
        assert_eq!(change(&store, &rows, 1).await, Extended::Repair);
        let reference = InMemory::new();
        whole(&reference, &rows).await;
        assert_eq!(contents(&store).await, contents(&reference).await);

        // Written up to the sum, then stopped before the journal: the
        // journal still names the versions before, the sum does not.
        rows.push(row(3, "half", 1003));
        let files: Vec<(String, String)> = rows.iter().flat_map(summed).collect();
        put(&store, &path(&user, &format!("migrations/{}", sum::SUM_FILE)), &sum::compute(&files)).await.unwrap_or_else(|e| panic!("{e}"));
        rows.push(row(4, "after", 1004));
        assert_eq!(change(&store, &rows, 1).await, Extended::Repair);
        whole(&reference, &rows).await;
        assert_eq!(contents(&store).await, contents(&reference).await);

        // A sum file edited by hand, or gone, is rewritten from the versions.
        let edited = sum_of(&rows).replace("0001_lost.sql", "0001_x.sql");
        put(&store, &path(&user, &format!("migrations/{}", sum::SUM_FILE)), &edited).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(change(&store, &rows, 0).await, Extended::Repair);
        assert_eq!(contents(&store).await.get(SUM), Some(&sum_of(&rows)));
        store.delete(&Path::from(SUM)).await.unwrap_or_else(|e| panic!("{e}"));
        rows.push(row(5, "more", 1005));
        assert_eq!(change(&store, &rows, 1).await, Extended::Repair);
        whole(&reference, &rows).await;
        assert_eq!(contents(&store).await, contents(&reference).await);

        // The journal gone: every version is written again.
        store.delete(&Path::from(JOURNAL_AT)).await.unwrap_or_else(|e| panic!("{e}"));
        store.delete(&Path::from("drizzle/ann/migrations/0002_next.sql")).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(change(&store, &rows, 0).await, Extended::Repair);
        assert_eq!(contents(&store).await, contents(&reference).await);
    }

    #[tokio::test]
    async fn a_version_made_again_under_its_tag_after_a_rollback_is_written() {
        let (store, reference) = (InMemory::new(), InMemory::new());
        let mut rows = vec![row(0, "init", 1000), row(1, "add", 1001)];
        change(&store, &rows[..1], 1).await;
        change(&store, &rows, 1).await;
        // Rolled back to version 0, and the rollback's write was lost: the
        // journal still lists 0001_add as made at 1001.
        rows.pop();
        // Made again: the same tag, another version.
        rows.push(row(1, "add", 2001));
        assert_eq!(change(&store, &rows, 1).await, Extended::Repair);
        whole(&reference, &rows).await;
        let written = contents(&store).await;
        assert_eq!(written.get("drizzle/ann/migrations/0001_add.sql").map(String::as_str), Some("CREATE TABLE t2001 (id integer);"));
        assert_eq!(written.get(SUM), Some(&sum_of(&rows)));
        assert_eq!(written.get(JOURNAL_AT), contents(&reference).await.get(JOURNAL_AT));

        // Rolled back with its write done, then made again: extended.
        rows.pop();
        whole(&store, &rows).await;
        rows.push(row(1, "add", 3001));
        assert_eq!(change(&store, &rows, 1).await, Extended::Done);
        assert_eq!(contents(&store).await.get(SUM), Some(&sum_of(&rows)));
    }

    #[tokio::test]
    async fn a_sum_listing_more_than_the_journal_is_not_extended() {
        let (store, user) = (InMemory::new(), user());
        let mut rows = vec![row(0, "init", 1000), row(1, "add", 1001)];
        change(&store, &rows, 2).await;
        // Version 2's write stopped after the sum, and version 2 was rolled
        // back with the rollback's write lost: the journal is the one of
        // the versions before the next change, the sum lists one more.
        let with_two: Vec<VersionRow> = rows.iter().cloned().chain([row(2, "gone", 1002)]).collect();
        put(&store, &path(&user, &format!("migrations/{}", sum::SUM_FILE)), &sum_of(&with_two)).await.unwrap_or_else(|e| panic!("{e}"));
        rows.push(row(2, "other", 2002));
        assert_eq!(change(&store, &rows, 1).await, Extended::Repair);
        assert_eq!(contents(&store).await.get(SUM), Some(&sum_of(&rows)));
    }

    async fn log_of(store: &InMemory) -> BTreeMap<String, String> {
        contents(store).await.into_iter().filter(|(path, _)| path.starts_with("drizzle/ann/logs/")).collect()
    }

    #[tokio::test]
    async fn the_log_is_closed_into_numbered_segments_at_its_size() {
        let store = InMemory::new();
        let user = user();
        // Lines of 9 bytes with their newline; segments of 27 bytes hold three.
        for n in 0..7 {
            append(&store, &user, &format!("line-{n:03}"), 27).await.unwrap_or_else(|e| panic!("{e}"));
        }
        let expected: BTreeMap<String, String> = [
            ("drizzle/ann/logs/generation.000001.log", "line-000\nline-001\nline-002\n"),
            ("drizzle/ann/logs/generation.000002.log", "line-003\nline-004\nline-005\n"),
            ("drizzle/ann/logs/generation.log", "line-006\n"),
        ]
        .into_iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect();
        assert_eq!(log_of(&store).await, expected);

        // One byte more than a segment holds: the line starts the next one.
        let store = InMemory::new();
        append(&store, &user, "0123456789", 21).await.unwrap_or_else(|e| panic!("{e}"));
        append(&store, &user, "0123456789", 21).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(log_of(&store).await.len(), 2, "a line that does not fit closed the log");
        assert_eq!(log_of(&store).await.get("drizzle/ann/logs/generation.log").map(String::len), Some(11));
        // A line longer than a segment goes in alone.
        append(&store, &user, &"x".repeat(40), 21).await.unwrap_or_else(|e| panic!("{e}"));
        let log = log_of(&store).await;
        assert_eq!(log.get("drizzle/ann/logs/generation.log").map(String::len), Some(41));
        assert_eq!(log.get("drizzle/ann/logs/generation.000002.log").map(String::len), Some(11));
    }

    #[tokio::test]
    async fn segments_are_numbered_on_the_file_system_too() {
        let dir = std::env::temp_dir().join(format!("schemaforge-segments-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let store = object_store::local::LocalFileSystem::new_with_prefix(&dir).unwrap_or_else(|e| panic!("{e}"));
        let user = user();
        for n in 0..7 {
            append(&store, &user, &format!("line-{n:03}"), 27).await.unwrap_or_else(|e| panic!("{e}"));
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.join("drizzle/ann/logs"))
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        names.sort();
        let text: Vec<String> =
            names.iter().map(|n| std::fs::read_to_string(dir.join("drizzle/ann/logs").join(n)).unwrap_or_default()).collect();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(names, ["generation.000001.log", "generation.000002.log", "generation.log"]);
        assert_eq!(text.concat(), (0..7).map(|n| format!("line-{n:03}\n")).collect::<String>());
    }

    #[tokio::test]
    async fn a_new_segment_takes_the_number_after_the_largest() {
        let store = InMemory::new();
        let user = user();
        put(&store, &path(&user, &log_segment(7)), "old\n").await.unwrap_or_else(|e| panic!("{e}"));
        put(&store, &path(&user, "logs/notes.txt"), "not a segment\n").await.unwrap_or_else(|e| panic!("{e}"));
        append(&store, &user, "first", 8).await.unwrap_or_else(|e| panic!("{e}"));
        append(&store, &user, "second", 8).await.unwrap_or_else(|e| panic!("{e}"));
        let log = log_of(&store).await;
        assert_eq!(log.get("drizzle/ann/logs/generation.000008.log").map(String::as_str), Some("first\n"));
        assert_eq!(log.get("drizzle/ann/logs/generation.log").map(String::as_str), Some("second\n"));
    }
}
