//! A tenant's versions, kept in its own schema (`__schemaforge_versions`) so a
//! new version commits in the same transaction as its migration: the latest
//! version is always what the database holds.

use schemaforge_kit::folder::MigrationFile;
use schemaforge_plan::Version;
use sqlx::{Executor, PgConnection};

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
    /// The definition as the tenant's folder keeps it (in the tenant's schema).
    pub folder_definition: String,
    pub up_sql: String,
    pub down_sql: String,
    pub hazards: Vec<String>,
    pub statements: i32,
    pub applied_by: String,
}

impl VersionRow {
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

fn table(namespace: &str) -> String {
    format!("{}.\"__schemaforge_versions\"", schemaforge_sql::postgres::quote_ident(namespace))
}

pub async fn ensure_table(conn: &mut PgConnection, namespace: &str) -> Result<(), sqlx::Error> {
    conn.execute(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE IF NOT EXISTS {} (
            version text PRIMARY KEY,
            major integer NOT NULL, minor integer NOT NULL, patch integer NOT NULL,
            status text NOT NULL CHECK (status IN ('current', 'rolled back')),
            created_at timestamptz NOT NULL DEFAULT now(),
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
            hazards text[] NOT NULL,
            statements integer NOT NULL,
            applied_by text NOT NULL
        )",
        table(namespace)
    )))
    .await
    .map(|_| ())
}

/// Every version still current, oldest first.
pub async fn current(conn: &mut PgConnection, namespace: &str) -> Result<Vec<VersionRow>, sqlx::Error> {
    use sqlx::Row;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT version, status, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS created_at, bump,
                message, definition, changelog, tag, idx, when_millis, snapshot, snapshot_id, folder_definition, up_sql, down_sql,
                hazards, statements, applied_by
         FROM {} WHERE status = 'current' ORDER BY idx",
        table(namespace)
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in rows {
        let version: String = row.try_get("version")?;
        let idx: i32 = row.try_get("idx")?;
        let when_millis: i64 = row.try_get("when_millis")?;
        let (Some(version), Ok(idx), Ok(when_millis)) = (Version::parse(&version), u32::try_from(idx), u64::try_from(when_millis)) else {
            continue;
        };
        versions.push(VersionRow {
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
            hazards: row.try_get("hazards")?,
            statements: row.try_get("statements")?,
            applied_by: row.try_get("applied_by")?,
        });
    }
    Ok(versions)
}

pub async fn insert(conn: &mut PgConnection, namespace: &str, row: &VersionRow) -> Result<(), sqlx::Error> {
    let to_i32 = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {} (version, major, minor, patch, status, bump, message, definition, changelog, tag, idx, when_millis,
                         snapshot, snapshot_id, folder_definition, up_sql, down_sql, hazards, statements, applied_by)
         VALUES ($1, $2, $3, $4, 'current', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         ON CONFLICT (version) DO UPDATE SET status = 'current', created_at = now(), bump = $5, message = $6, definition = $7,
            changelog = $8, tag = $9, idx = $10, when_millis = $11, snapshot = $12, snapshot_id = $13, folder_definition = $14,
            up_sql = $15, down_sql = $16, hazards = $17, statements = $18, applied_by = $19",
        table(namespace)
    )))
    .bind(row.version.to_string())
    .bind(to_i32(row.version.major))
    .bind(to_i32(row.version.minor))
    .bind(to_i32(row.version.patch))
    .bind(&row.bump)
    .bind(&row.message)
    .bind(&row.definition)
    .bind(&row.changelog)
    .bind(&row.tag)
    .bind(i32::try_from(row.idx).unwrap_or(i32::MAX))
    .bind(i64::try_from(row.when_millis).unwrap_or(i64::MAX))
    .bind(&row.snapshot)
    .bind(&row.snapshot_id)
    .bind(&row.folder_definition)
    .bind(&row.up_sql)
    .bind(&row.down_sql)
    .bind(&row.hazards)
    .bind(row.statements)
    .bind(&row.applied_by)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// Marks versions rolled back: they leave the history the tenant is at.
pub async fn mark_rolled_back(conn: &mut PgConnection, namespace: &str, versions: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {} SET status = 'rolled back' WHERE version = ANY($1)", table(namespace))))
        .bind(versions)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}
