//! A tenant's versions, kept where its tables are (`__schemaforge_versions`
//! in its PostgreSQL schema, or in its SQLite file) so a new version commits
//! in the same transaction as its migration: the latest version is always
//! what the database holds.
//!
//! The table and its queries are spelled here once for both dialects; each
//! backend runs them on its own connection (`backend::postgres`,
//! `backend::sqlite`). Values go in and out as both drivers read them:
//! numbers as 64-bit integers, the hazards as a JSON array in text.

use schemaforge_kit::folder::MigrationFile;
use schemaforge_model::Dialect;
use schemaforge_plan::Version;
use sqlx::{ColumnIndex, Database, Decode, Encode, Row, Type};

/// One recorded version.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub version: Version,
    pub created_at: String,
    pub bump: String,
    pub message: Option<String>,
    /// The definition as the user sent it (JSON text).
    pub definition: String,
    pub changelog: String,
    pub tag: String,
    pub idx: u32,
    pub when_millis: u64,
    /// The drizzle-kit snapshot written for it, and that snapshot's id.
    pub snapshot: String,
    pub snapshot_id: String,
    /// The definition as the tenant's folder keeps it (in the tenant's schema on PostgreSQL).
    pub folder_definition: String,
    pub up_sql: String,
    pub down_sql: String,
    pub hazards: Vec<String>,
    pub statements: i32,
    pub applied_by: String,
}

/// A version's place in the tenant's folder: what the journal and the sum
/// file's order need of every version, without its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub version: Version,
    pub tag: String,
    pub idx: u32,
    pub when_millis: u64,
}

/// A tenant's current versions as a change reads them: every version's
/// place in the folder, and the latest one whole. A change plans from the
/// latest version and extends the folder after it, so it never needs the
/// files of the versions before (which are most of a tenant's bytes, and
/// grow with its history); repairing the folder reads them (`versions`).
#[derive(Debug, Clone, Default)]
pub struct Recent {
    /// Oldest first.
    pub entries: Vec<Entry>,
    pub latest: Option<VersionRow>,
}

impl VersionRow {
    pub fn entry(&self) -> Entry {
        Entry { version: self.version, tag: self.tag.clone(), idx: self.idx, when_millis: self.when_millis }
    }

    /// The migration of this version, as the tenant's folder holds it.
    pub fn migration_file(&self) -> MigrationFile {
        MigrationFile {
            idx: self.idx,
            tag: self.tag.clone(),
            when: self.when_millis,
            breakpoints: true,
            sql: self.up_sql.clone(),
            down: Some(self.down_sql.clone()),
        }
    }
}

/// The versions table of one tenant, spelled for its dialect.
pub struct Table {
    dialect: Dialect,
    /// The table's name, quoted (and qualified on PostgreSQL).
    name: String,
}

impl Table {
    pub fn new(dialect: Dialect, name: String) -> Table {
        Table { dialect, name }
    }

    /// The current time as the table stores it (UTC, milliseconds).
    fn now(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgresql => "now()",
            Dialect::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        }
    }

    pub fn ddl(&self) -> String {
        let (timestamp, hazards) = match self.dialect {
            Dialect::Postgresql => ("timestamptz", "text[]"),
            Dialect::Sqlite => ("text", "text"),
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {} (
                version text PRIMARY KEY,
                major integer NOT NULL, minor integer NOT NULL, patch integer NOT NULL,
                status text NOT NULL CHECK (status IN ('current', 'rolled back')),
                created_at {timestamp} NOT NULL DEFAULT ({now}),
                bump text NOT NULL,
                message text,
                definition text NOT NULL,
                changelog text NOT NULL,
                tag text NOT NULL,
                idx integer NOT NULL,
                when_millis bigint NOT NULL,
                snapshot text NOT NULL,
                snapshot_id text NOT NULL,
                folder_definition text NOT NULL,
                up_sql text NOT NULL,
                down_sql text NOT NULL,
                hazards {hazards} NOT NULL,
                statements integer NOT NULL,
                applied_by text NOT NULL
            )",
            self.name,
            now = self.now()
        )
    }

    /// Every version still current, oldest first (read with `decode`).
    pub fn select_current(&self) -> String {
        format!("{} ORDER BY idx", self.select_whole("status = 'current'"))
    }

    /// Whole versions (read with `decode`) where `condition` holds.
    fn select_whole(&self, condition: &str) -> String {
        let (created_at, hazards) = match self.dialect {
            Dialect::Postgresql => {
                ("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')", "array_to_json(hazards)::text")
            }
            Dialect::Sqlite => ("created_at", "hazards"),
        };
        format!(
            "SELECT version, {created_at} AS created_at, bump, message, definition, changelog, tag, CAST(idx AS bigint) AS idx,
                    when_millis, snapshot, snapshot_id, folder_definition, up_sql, down_sql, {hazards} AS hazards,
                    CAST(statements AS bigint) AS statements, applied_by
             FROM {} WHERE {condition}",
            self.name
        )
    }

    /// Every current version's place in the folder, oldest first (read with `decode_entry`).
    pub fn select_entries(&self) -> String {
        format!("SELECT version, tag, CAST(idx AS bigint) AS idx, when_millis FROM {} WHERE status = 'current' ORDER BY idx", self.name)
    }

    /// The latest current version whole (read with `decode`): the one row
    /// whose `idx` is the largest, found without reading the others' files
    /// (an `ORDER BY … LIMIT 1` would read and sort every row's columns).
    pub fn select_latest(&self) -> String {
        self.select_whole(&format!("status = 'current' AND idx = (SELECT max(idx) FROM {} WHERE status = 'current')", self.name))
    }

    /// Records a version (`$1`…`$19`, bound by `bind`); a version number
    /// used before (and rolled back since) is taken over.
    pub fn insert(&self) -> String {
        let hazards = match self.dialect {
            Dialect::Postgresql => "ARRAY(SELECT jsonb_array_elements_text($19::jsonb))",
            Dialect::Sqlite => "$19",
        };
        format!(
            "INSERT INTO {} (version, major, minor, patch, status, bump, message, definition, changelog, tag, idx, when_millis,
                             snapshot, snapshot_id, folder_definition, up_sql, down_sql, statements, applied_by, hazards)
             VALUES ($1, $2, $3, $4, 'current', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, {hazards})
             ON CONFLICT (version) DO UPDATE SET status = 'current', created_at = {now}, bump = $5, message = $6, definition = $7,
                changelog = $8, tag = $9, idx = $10, when_millis = $11, snapshot = $12, snapshot_id = $13, folder_definition = $14,
                up_sql = $15, down_sql = $16, statements = $17, applied_by = $18, hazards = {hazards}",
            self.name,
            now = self.now()
        )
    }

    /// Marks the versions of a JSON array (`$1`) rolled back: they leave the
    /// history the tenant is at.
    pub fn mark_rolled_back(&self) -> String {
        let listed = match self.dialect {
            Dialect::Postgresql => "SELECT jsonb_array_elements_text($1::jsonb)",
            Dialect::Sqlite => "SELECT value FROM json_each($1)",
        };
        format!("UPDATE {} SET status = 'rolled back' WHERE version IN ({listed})", self.name)
    }
}

/// The values `Table::insert` takes, in order.
pub fn bind<'q, DB>(query: sqlx::query::Query<'q, DB, DB::Arguments>, row: &VersionRow) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let number = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    query
        .bind(row.version.to_string())
        .bind(number(row.version.major))
        .bind(number(row.version.minor))
        .bind(number(row.version.patch))
        .bind(row.bump.clone())
        .bind(row.message.clone())
        .bind(row.definition.clone())
        .bind(row.changelog.clone())
        .bind(row.tag.clone())
        .bind(i64::from(row.idx))
        .bind(number(row.when_millis))
        .bind(row.snapshot.clone())
        .bind(row.snapshot_id.clone())
        .bind(row.folder_definition.clone())
        .bind(row.up_sql.clone())
        .bind(row.down_sql.clone())
        .bind(i64::from(row.statements))
        .bind(row.applied_by.clone())
        .bind(serde_json::Value::from(row.hazards.clone()).to_string())
}

/// The JSON array `Table::mark_rolled_back` takes.
pub fn listed(versions: &[String]) -> String {
    serde_json::Value::from(versions.to_vec()).to_string()
}

/// A row of `Table::select_current`; `None` for one that does not read as
/// a version (a number or counter out of range).
pub fn decode<R>(row: &R) -> Result<Option<VersionRow>, sqlx::Error>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let version: String = row.try_get("version")?;
    let idx: i64 = row.try_get("idx")?;
    let when_millis: i64 = row.try_get("when_millis")?;
    let statements: i64 = row.try_get("statements")?;
    let hazards: String = row.try_get("hazards")?;
    let (Some(version), Ok(idx), Ok(when_millis), Ok(statements), Ok(hazards)) = (
        Version::parse(&version),
        u32::try_from(idx),
        u64::try_from(when_millis),
        i32::try_from(statements),
        serde_json::from_str::<Vec<String>>(&hazards),
    ) else {
        return Ok(None);
    };
    Ok(Some(VersionRow {
        version,
        created_at: row.try_get("created_at")?,
        bump: row.try_get("bump")?,
        message: row.try_get("message")?,
        definition: row.try_get("definition")?,
        changelog: row.try_get("changelog")?,
        tag: row.try_get("tag")?,
        idx,
        when_millis,
        snapshot: row.try_get("snapshot")?,
        snapshot_id: row.try_get("snapshot_id")?,
        folder_definition: row.try_get("folder_definition")?,
        up_sql: row.try_get("up_sql")?,
        down_sql: row.try_get("down_sql")?,
        hazards,
        statements,
        applied_by: row.try_get("applied_by")?,
    }))
}

/// A row of `Table::select_entries`; `None` for one whose number or
/// counters do not read (as `decode` skips it).
pub fn decode_entry<R>(row: &R) -> Result<Option<Entry>, sqlx::Error>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let version: String = row.try_get("version")?;
    let idx: i64 = row.try_get("idx")?;
    let when_millis: i64 = row.try_get("when_millis")?;
    let (Some(version), Ok(idx), Ok(when_millis)) = (Version::parse(&version), u32::try_from(idx), u64::try_from(when_millis)) else {
        return Ok(None);
    };
    Ok(Some(Entry { version, tag: row.try_get("tag")?, idx, when_millis }))
}

/// One entry of a tenant's migration history, for `GET /migrations`.
#[derive(Debug, Clone)]
pub struct MigrationRecord {
    pub name: String,
    /// The version it made, when one is recorded (a failed migration has none).
    pub version: Option<String>,
    pub status: String,
    pub checksum: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub applied_by: String,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
}

impl Table {
    /// The migration history `history` (our history table, quoted), each
    /// entry with the version it made (read with `decode_migration`).
    pub fn select_history(&self, history: &str) -> String {
        let time = |column: &str| match self.dialect {
            Dialect::Postgresql => format!("to_char(m.{column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"),
            Dialect::Sqlite => format!("m.{column}"),
        };
        format!(
            "SELECT m.name, m.status, m.checksum, m.applied_by, CAST(m.duration_ms AS bigint) AS duration_ms, m.error,
                    {} AS started_at, {} AS finished_at,
                    (SELECT v.version FROM {} v WHERE v.tag = m.name ORDER BY v.created_at DESC LIMIT 1) AS version
             FROM {history} m ORDER BY m.name",
            time("started_at"),
            time("finished_at"),
            self.name
        )
    }
}

/// A row of `Table::select_history`.
pub fn decode_migration<R>(row: &R) -> Result<MigrationRecord, sqlx::Error>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database>,
    for<'r> Option<i64>: Decode<'r, R::Database>,
    for<'r> i64: Type<R::Database>,
{
    Ok(MigrationRecord {
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        status: row.try_get("status")?,
        checksum: row.try_get("checksum")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        applied_by: row.try_get("applied_by")?,
        duration_ms: row.try_get("duration_ms")?,
        error: row.try_get("error")?,
    })
}
