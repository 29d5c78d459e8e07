//! Applying a migration folder: locked, tracked, checksummed.
//!
//! The loop, as sqlx's and Atlas's migrators do it: take a session advisory
//! lock (so two `migrate` runs never both apply), make sure the history tables
//! exist, refuse a folder that disagrees with what was applied (an edited or
//! missing file, an entry left behind an applied one), then apply what is
//! pending, each migration in its own transaction together with its
//! bookkeeping, so a migration is never half applied nor applied twice.
//! A migration marked `-- schemaforge:no-transaction` runs statement by
//! statement instead, its progress recorded after each one so a rerun resumes.
//!
//! Two histories are kept (by default; `History` says where): ours
//! (`schemaforge.migrations`: name, checksum,
//! status, times, who, duration, error, progress) and drizzle-orm's
//! (`drizzle.__drizzle_migrations`: hash, created_at), so drizzle-orm's
//! `migrate()` and ours agree on what is applied.

use std::time::Instant;

use crate::history::HistoryRow;
pub use crate::history::{MigrateError, Report, Standing, State};
use schemaforge_kit::folder::MigrationFile;
use schemaforge_sql::postgres::quote_ident;
use sqlx::{Connection, Executor, PgConnection};

/// Where a database keeps its migration history, and the lock that guards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// Our table, quoted and qualified.
    ours: String,
    /// drizzle-orm's table, quoted and qualified.
    drizzle: String,
    /// The schemas the tables live in, created when missing.
    schemas: Vec<String>,
    lock_key: i64,
}

impl History {
    /// `schemaforge.migrations` and drizzle-orm's default
    /// `drizzle.__drizzle_migrations`, under one lock per database (advisory
    /// locks are per database; the key is the bytes of "sfmigrat").
    pub fn standard() -> Self {
        History {
            ours: "\"schemaforge\".\"migrations\"".into(),
            drizzle: "\"drizzle\".\"__drizzle_migrations\"".into(),
            schemas: vec!["schemaforge".into(), "drizzle".into()],
            lock_key: i64::from_be_bytes(*b"sfmigrat"),
        }
    }

    /// Both tables inside `schema` (drizzle-orm's `migrationsSchema` option),
    /// under a lock of their own: one tenant of a shared database. The schema
    /// must exist (its owner need not be allowed to create schemas).
    pub fn in_schema(schema: &str) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("schemaforge migrations {schema}").as_bytes());
        let mut key = [0u8; 8];
        key.copy_from_slice(&digest[..8]);
        let quoted = quote_ident(schema);
        History {
            ours: format!("{quoted}.\"__schemaforge_migrations\""),
            drizzle: format!("{quoted}.\"__drizzle_migrations\""),
            schemas: Vec::new(),
            lock_key: i64::from_be_bytes(key),
        }
    }

    /// Our table, quoted and qualified (for reports and queries).
    pub fn ours(&self) -> &str {
        &self.ours
    }

    /// drizzle-orm's table, quoted and qualified.
    pub fn drizzle(&self) -> &str {
        &self.drizzle
    }

    fn ddl(&self) -> Vec<String> {
        let mut ddl: Vec<String> = self.schemas.iter().map(|s| format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(s))).collect();
        ddl.push(format!(
            "CREATE TABLE IF NOT EXISTS {} (
                name text PRIMARY KEY,
                checksum text NOT NULL,
                status text NOT NULL CHECK (status IN ('running', 'applied', 'failed', 'rolled back')),
                started_at timestamptz NOT NULL,
                finished_at timestamptz,
                applied_by text NOT NULL,
                duration_ms bigint,
                statements_done integer NOT NULL DEFAULT 0,
                statements_total integer NOT NULL,
                error text
            )",
            self.ours
        ));
        // Exactly as drizzle-orm creates it.
        ddl.push(format!("CREATE TABLE IF NOT EXISTS {} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)", self.drizzle));
        ddl
    }
}

/// Takes the migration lock, waiting for any other migrator of this history.
pub async fn lock(conn: &mut PgConnection, history: &History) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_lock($1)").bind(history.lock_key).execute(&mut *conn).await.map(|_| ())
}

pub async fn unlock(conn: &mut PgConnection, history: &History) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(history.lock_key).execute(&mut *conn).await.map(|_| ())
}

async fn ensure_history(conn: &mut PgConnection, history: &History) -> Result<(), sqlx::Error> {
    for ddl in history.ddl() {
        conn.execute(sqlx::AssertSqlSafe(ddl)).await?;
    }
    Ok(())
}

async fn read_history(conn: &mut PgConnection, history: &History) -> Result<Vec<HistoryRow>, sqlx::Error> {
    type Row = (String, String, String, Option<String>, String, i32, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT name, checksum, status, to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), applied_by,
                statements_done, error
         FROM {} ORDER BY name",
        history.ours
    )))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, checksum, status, finished_at, applied_by, statements_done, error)| HistoryRow {
            name,
            checksum,
            status,
            finished_at,
            applied_by,
            statements_done,
            error,
        })
        .collect())
}

async fn read_drizzle(conn: &mut PgConnection, history: &History) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT hash, created_at FROM {} WHERE created_at IS NOT NULL ORDER BY id",
        history.drizzle
    )))
    .fetch_all(&mut *conn)
    .await
}

/// Each migration's standing, checked against the folder. Needs the history
/// tables (`migrate` creates them; without them everything is pending).
async fn assess(
    conn: &mut PgConnection,
    history_tables: &History,
    files: &[MigrationFile],
) -> Result<(Vec<Standing>, Vec<String>), MigrateError> {
    let history = read_history(conn, history_tables).await?;
    let drizzle = read_drizzle(conn, history_tables).await?;
    crate::history::assess(&history, &drizzle, files)
}

async fn history_exists(conn: &mut PgConnection, history: &History) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL")
        .bind(&history.ours)
        .bind(&history.drizzle)
        .fetch_one(&mut *conn)
        .await
}

/// Where each migration of the folder stands, without changing anything.
pub async fn status(conn: &mut PgConnection, history: &History, files: &[MigrationFile]) -> Result<Vec<Standing>, MigrateError> {
    // Reading needs both tables; where they are missing (nothing applied
    // yet, or only drizzle-orm's), they are created in a transaction that is
    // rolled back.
    let mut tx = conn.begin().await?;
    if !history_exists(&mut tx, history).await? {
        for ddl in history.ddl() {
            tx.execute(sqlx::AssertSqlSafe(ddl)).await?;
        }
    }
    let result = assess(&mut tx, history, files).await.map(|(standings, _)| standings);
    tx.rollback().await?;
    result
}

/// The statements of `file` as they are run: split on breakpoints, or, for a
/// migration outside a transaction without them, by the server's grammar
/// (one query string of several statements would run as one transaction).
fn statements(file: &MigrationFile) -> Vec<String> {
    let statements = file.statements();
    if !file.transactional() && !file.breakpoints {
        let body: String = file.sql.lines().skip(1).collect::<Vec<_>>().join("\n");
        if let Ok(split) = schemaforge_fragment::split_script(schemaforge_model::Dialect::Postgresql, &body) {
            return split;
        }
    }
    statements
}

/// Applies every pending migration of `files` (up to and including `until`,
/// when given) in order. `on_start` is told before each migration runs.
pub async fn migrate(
    conn: &mut PgConnection,
    history: &History,
    files: &[MigrationFile],
    applied_by: &str,
    until: Option<&str>,
    mut on_start: impl FnMut(&MigrationFile),
) -> Result<Report, MigrateError> {
    lock(conn, history).await?;
    let result = migrate_locked(conn, history, files, applied_by, until, &mut on_start).await;
    // The lock also goes with the session; a failed unlock must not hide the result.
    let _ = unlock(conn, history).await;
    result
}

async fn migrate_locked(
    conn: &mut PgConnection,
    history: &History,
    files: &[MigrationFile],
    applied_by: &str,
    until: Option<&str>,
    on_start: &mut impl FnMut(&MigrationFile),
) -> Result<Report, MigrateError> {
    ensure_history(conn, history).await?;
    let (standings, adopted) = assess(conn, history, files).await?;
    for standing in &standings {
        if standing.state == State::Edited {
            let file = files.iter().find(|f| f.tag == standing.tag);
            let applied: Option<String> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT checksum FROM {} WHERE name = $1", history.ours)))
                    .bind(&standing.tag)
                    .fetch_optional(&mut *conn)
                    .await?;
            return Err(MigrateError::Edited {
                tag: standing.tag.clone(),
                applied: applied.unwrap_or_else(|| "(recorded by drizzle-orm)".into()),
                current: file.map(MigrationFile::checksum).unwrap_or_default(),
            });
        }
    }
    if let Some(last_applied) = standings.iter().rposition(|s| s.state == State::Applied)
        && let Some(gap) = standings[..last_applied].iter().find(|s| s.state != State::Applied)
    {
        return Err(MigrateError::OutOfOrder { tag: gap.tag.clone(), later: standings[last_applied].tag.clone() });
    }
    let mut report = Report { applied: Vec::new(), adopted: adopted.clone() };
    for tag in &adopted {
        let Some(file) = files.iter().find(|f| &f.tag == tag) else { continue };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {} (name, checksum, status, started_at, finished_at, applied_by, statements_done, statements_total)
             VALUES ($1, $2, 'applied', to_timestamp($3 / 1000.0), to_timestamp($3 / 1000.0), 'drizzle-orm', $4, $4)
             ON CONFLICT (name) DO NOTHING",
            history.ours
        )))
        .bind(tag)
        .bind(file.checksum())
        .bind(i64::try_from(file.when).unwrap_or(i64::MAX))
        .bind(i32::try_from(statements(file).len()).unwrap_or(i32::MAX))
        .execute(&mut *conn)
        .await?;
    }
    for (file, standing) in files.iter().zip(&standings) {
        if standing.state == State::Applied {
            if until == Some(file.tag.as_str()) {
                break;
            }
            continue;
        }
        on_start(file);
        let resume_at = match standing.state {
            State::Failed { done } => usize::try_from(done).unwrap_or(0),
            State::Applied | State::Pending | State::Edited => 0,
        };
        if file.transactional() {
            apply_in_transaction(conn, history, file, applied_by).await?;
        } else {
            apply_statement_by_statement(conn, history, file, applied_by, resume_at).await?;
        }
        report.applied.push(file.tag.clone());
        if until == Some(file.tag.as_str()) {
            break;
        }
    }
    Ok(report)
}

fn when(file: &MigrationFile) -> i64 {
    i64::try_from(file.when).unwrap_or(i64::MAX)
}

/// One row of our history, as it is written.
struct Progress<'a> {
    status: &'a str,
    applied_by: &'a str,
    started: Instant,
    done: usize,
    total: usize,
    error: Option<&'a str>,
}

async fn record(conn: &mut PgConnection, history: &History, file: &MigrationFile, progress: &Progress<'_>) -> Result<(), sqlx::Error> {
    let Progress { status, applied_by, started, done, total, error } = *progress;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {} AS history
            (name, checksum, status, started_at, finished_at, applied_by, duration_ms, statements_done, statements_total, error)
         VALUES ($1, $2, $3, now() - make_interval(secs => $4 / 1000.0), CASE WHEN $3 = 'running' THEN NULL ELSE now() END, $5, $4, $6, $7, $8)
         ON CONFLICT (name) DO UPDATE SET checksum = $2, status = $3, finished_at = EXCLUDED.finished_at, applied_by = $5,
            started_at = CASE WHEN history.status = 'running' THEN history.started_at ELSE EXCLUDED.started_at END,
            duration_ms = $4, statements_done = $6, statements_total = $7, error = $8",
        history.ours
    )))
    .bind(&file.tag)
    .bind(file.checksum())
    .bind(status)
    .bind(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX))
    .bind(applied_by)
    .bind(i32::try_from(done).unwrap_or(i32::MAX))
    .bind(i32::try_from(total).unwrap_or(i32::MAX))
    .bind(error)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

async fn record_drizzle(conn: &mut PgConnection, history: &History, file: &MigrationFile) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO {} (hash, created_at) VALUES ($1, $2)", history.drizzle)))
        .bind(file.checksum())
        .bind(when(file))
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

async fn apply_in_transaction(
    conn: &mut PgConnection,
    history: &History,
    file: &MigrationFile,
    applied_by: &str,
) -> Result<(), MigrateError> {
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    match apply_within(&mut tx, history, file, applied_by).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(())
        }
        Err(MigrateError::Failed { tag, number, total, statement, error }) => {
            tx.rollback().await?;
            let progress = Progress { status: "failed", applied_by, started, done: 0, total, error: Some(&error) };
            record(conn, history, file, &progress).await?;
            Err(MigrateError::Failed { tag, number, total, statement, error })
        }
        Err(other) => Err(other),
    }
}

/// Whether the history tables are made sure of (`CREATE TABLE IF NOT
/// EXISTS`, one round trip each) where a migration is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    /// Made sure of: the first migration recorded on a connection.
    Ensure,
    /// Known to exist: a caller that made sure of them on this connection
    /// earlier, and committed since. Should they be gone after all (dropped
    /// by hand since), recording fails with `MigrateError::HistoryMissing`
    /// and nothing is recorded: the caller rolls back and applies again
    /// with `Ensure`, so the result is the same either way.
    Known,
}

/// Runs a transactional migration and its bookkeeping inside a transaction
/// the caller owns (and commits, or rolls back on error): the service commits
/// a tenant's new version in the same transaction.
pub async fn apply_within(conn: &mut PgConnection, history: &History, file: &MigrationFile, applied_by: &str) -> Result<(), MigrateError> {
    apply_within_tables(conn, history, file, applied_by, Tables::Ensure).await
}

/// `apply_within`, with the history tables made sure of or not (`Tables`).
pub async fn apply_within_tables(
    conn: &mut PgConnection,
    history: &History,
    file: &MigrationFile,
    applied_by: &str,
    tables: Tables,
) -> Result<(), MigrateError> {
    let started = Instant::now();
    let statements = statements(file);
    let total = statements.len();
    for (i, statement) in statements.iter().enumerate() {
        // The simple query protocol: DDL is run once, so preparing it first
        // (the extended protocol) would only add round trips.
        if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone())).execute(&mut *conn).await {
            return Err(MigrateError::Failed {
                tag: file.tag.clone(),
                number: i + 1,
                total,
                statement: statement.clone(),
                error: error.to_string(),
            });
        }
    }
    // The bookkeeping commits with the migration, or neither does: a
    // migration is never applied twice (sqlx's migrator does the same, see
    // https://github.com/launchbadge/sqlx/issues/1966).
    // The tables are made sure of after the migration's statements, as
    // they were before `Tables` existed.
    let known = match tables {
        Tables::Ensure => {
            ensure_history(conn, history).await?;
            false
        }
        Tables::Known => true,
    };
    let progress = Progress { status: "applied", applied_by, started, done: total, total, error: None };
    let recorded = match record_drizzle(conn, history, file).await {
        Ok(()) => record(conn, history, file, &progress).await,
        Err(error) => Err(error),
    };
    match recorded {
        Ok(()) => Ok(()),
        Err(error) if known && undefined_table(&error) => Err(MigrateError::HistoryMissing { tag: file.tag.clone() }),
        Err(error) => Err(error.into()),
    }
}

/// Whether PostgreSQL refused a statement for naming a table that does not
/// exist (`42P01`, undefined_table).
fn undefined_table(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().is_some_and(|c| c == "42P01"))
}

async fn apply_statement_by_statement(
    conn: &mut PgConnection,
    history: &History,
    file: &MigrationFile,
    applied_by: &str,
    resume_at: usize,
) -> Result<(), MigrateError> {
    let started = Instant::now();
    let statements = statements(file);
    let total = statements.len();
    record(conn, history, file, &Progress { status: "running", applied_by, started, done: resume_at, total, error: None }).await?;
    for (i, statement) in statements.iter().enumerate().skip(resume_at) {
        if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone())).execute(&mut *conn).await {
            let message = error.to_string();
            record(conn, history, file, &Progress { status: "failed", applied_by, started, done: i, total, error: Some(&message) }).await?;
            return Err(MigrateError::FailedPartway {
                tag: file.tag.clone(),
                number: i + 1,
                total,
                done: i,
                statement: statement.clone(),
                error: message,
            });
        }
        record(conn, history, file, &Progress { status: "running", applied_by, started, done: i + 1, total, error: None }).await?;
    }
    let mut tx = conn.begin().await?;
    record_drizzle(&mut tx, history, file).await?;
    record(&mut tx, history, file, &Progress { status: "applied", applied_by, started, done: total, total, error: None }).await?;
    tx.commit().await?;
    Ok(())
}

/// Undoes one applied migration with its down statements, in one
/// transaction (statement by statement when it is marked non-transactional),
/// and forgets it in both histories.
pub async fn roll_back(
    conn: &mut PgConnection,
    history: &History,
    file: &MigrationFile,
    down: &[String],
    applied_by: &str,
) -> Result<(), MigrateError> {
    let total = down.len();
    let transactional = schemaforge_kit::folder::is_transactional(file.down.as_deref().unwrap_or_default());
    if transactional {
        let mut tx = conn.begin().await?;
        if let Err(error) = roll_back_within(&mut tx, history, file, down, applied_by).await {
            tx.rollback().await?;
            return Err(error);
        }
        tx.commit().await?;
    } else {
        for (i, statement) in down.iter().enumerate() {
            if let Err(error) = conn.execute(sqlx::AssertSqlSafe(statement.clone())).await {
                return Err(MigrateError::FailedPartway {
                    tag: file.tag.clone(),
                    number: i + 1,
                    total,
                    done: i,
                    statement: statement.clone(),
                    error: error.to_string(),
                });
            }
        }
        forget(conn, history, file, applied_by).await?;
    }
    Ok(())
}

/// Runs a migration's down statements and forgets it in both histories,
/// inside a transaction the caller owns (the service rolls back several
/// versions as one).
pub async fn roll_back_within(
    conn: &mut PgConnection,
    history: &History,
    file: &MigrationFile,
    down: &[String],
    applied_by: &str,
) -> Result<(), MigrateError> {
    let total = down.len();
    for (i, statement) in down.iter().enumerate() {
        if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone())).execute(&mut *conn).await {
            return Err(MigrateError::Failed {
                tag: file.tag.clone(),
                number: i + 1,
                total,
                statement: statement.clone(),
                error: error.to_string(),
            });
        }
    }
    forget(conn, history, file, applied_by).await?;
    Ok(())
}

/// Removes a rolled-back migration from drizzle-orm's history and marks it in ours.
async fn forget(conn: &mut PgConnection, history: &History, file: &MigrationFile, applied_by: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {} WHERE created_at = $1", history.drizzle)))
        .bind(when(file))
        .execute(&mut *conn)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET status = 'rolled back', finished_at = now(), applied_by = $2, error = NULL WHERE name = $1",
        history.ours
    )))
    .bind(&file.tag)
    .bind(applied_by)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// Every migration of `files` that is applied, in folder order, after checking the folder.
pub async fn applied(conn: &mut PgConnection, history: &History, files: &[MigrationFile]) -> Result<Vec<String>, MigrateError> {
    Ok(status(conn, history, files).await?.into_iter().filter(|s| s.state == State::Applied).map(|s| s.tag).collect())
}

/// Records that `file` failed with `error`, after the caller rolled back the
/// transaction it ran in (which took the migration's own record with it), so
/// the history shows the failure. Never overwrites a record of the migration
/// as applied: a caller that lost its connection (and with it the lock) may
/// be late.
pub async fn record_failure(
    conn: &mut PgConnection,
    history: &History,
    file: &MigrationFile,
    applied_by: &str,
    started: Instant,
    error: &str,
) -> Result<(), sqlx::Error> {
    ensure_history(conn, history).await?;
    let total = statements(file).len();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {} AS history
            (name, checksum, status, started_at, finished_at, applied_by, duration_ms, statements_done, statements_total, error)
         VALUES ($1, $2, 'failed', now() - make_interval(secs => $3 / 1000.0), now(), $4, $3, 0, $5, $6)
         ON CONFLICT (name) DO UPDATE SET checksum = $2, status = 'failed', started_at = EXCLUDED.started_at,
            finished_at = EXCLUDED.finished_at, applied_by = $4, duration_ms = $3, statements_done = 0, statements_total = $5, error = $6
         WHERE history.status <> 'applied'",
        history.ours
    )))
    .bind(&file.tag)
    .bind(file.checksum())
    .bind(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX))
    .bind(applied_by)
    .bind(i32::try_from(total).unwrap_or(i32::MAX))
    .bind(error)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}
