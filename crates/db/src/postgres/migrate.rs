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
//! Two histories are kept: ours (`schemaforge.migrations`: name, checksum,
//! status, times, who, duration, error, progress) and drizzle-orm's
//! (`drizzle.__drizzle_migrations`: hash, created_at), so drizzle-orm's
//! `migrate()` and ours agree on what is applied.

use std::time::Instant;

use schemaforge_kit::folder::MigrationFile;
use sqlx::{Connection, Executor, PgConnection};

/// The advisory lock key: the bytes of "sfmigrat". Advisory locks are per
/// database, so one key serialises every migrator of one target.
pub const LOCK_KEY: i64 = i64::from_be_bytes(*b"sfmigrat");

const HISTORY_DDL: [&str; 4] = [
    "CREATE SCHEMA IF NOT EXISTS schemaforge",
    "CREATE TABLE IF NOT EXISTS schemaforge.migrations (
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
    // Exactly as drizzle-orm creates it.
    "CREATE SCHEMA IF NOT EXISTS drizzle",
    "CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)",
];

/// Where a migration of the folder stands in a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Applied,
    Pending,
    /// It failed (after `done` statements, when it runs outside a transaction).
    Failed {
        done: i32,
    },
    /// Applied, but the file has changed since.
    Edited,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Failed { .. } => "failed",
            State::Edited => "edited",
        }
    }
}

/// One migration's standing, for `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub tag: String,
    pub state: State,
    /// Recorded for it: when it finished (applied) or the error (failed).
    pub applied_at: Option<String>,
    pub applied_by: Option<String>,
    pub error: Option<String>,
}

/// What `migrate` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Tags applied by this run, in order.
    pub applied: Vec<String>,
    /// Tags found applied by drizzle-orm and recorded in our history.
    pub adopted: Vec<String>,
}

/// Why the folder cannot be applied. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "{tag}.sql was applied with checksum {applied} but the file's is now {current}: applied migrations must not change; restore the file, and put the change in a new migration (`schemaforge generate`)"
    )]
    Edited { tag: String, applied: String, current: String },
    #[error("{tag} is recorded as applied, but the folder has no such migration; restore its file (and journal entry) before migrating")]
    Missing { tag: String },
    #[error(
        "the database has a migration applied at {created_at} (drizzle hash {hash}) that the folder does not have; migrate from the folder that applied it"
    )]
    UnknownApplied { hash: String, created_at: i64 },
    #[error(
        "{tag} is not applied, but {later} after it is: the folder gained a migration behind the database (a merge?); regenerate it after the applied ones"
    )]
    OutOfOrder { tag: String, later: String },
    #[error(
        "{tag} failed at statement {number} of {total}:\n{statement}\n{error}\nNothing of it was kept; fix the cause and run migrate again"
    )]
    Failed { tag: String, number: usize, total: usize, statement: String, error: String },
    #[error(
        "{tag} (outside a transaction) failed at statement {number} of {total}:\n{statement}\n{error}\nThe {done} statements before it are applied and recorded; fix the cause and run migrate again to resume at statement {number}"
    )]
    FailedPartway { tag: String, number: usize, total: usize, done: usize, statement: String, error: String },
    #[error(
        "{tag} stopped partway outside a transaction and its file has changed since; the database holds its first {done} statements. Restore the file to resume, or repair the database by hand and remove its row from schemaforge.migrations"
    )]
    EditedPartway { tag: String, done: i32 },
    #[error("the migration history cannot be read or written: {0}")]
    Database(#[from] sqlx::Error),
}

/// Takes the migration lock, waiting for any other migrator of this database.
pub async fn lock(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_lock($1)").bind(LOCK_KEY).execute(&mut *conn).await.map(|_| ())
}

pub async fn unlock(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(LOCK_KEY).execute(&mut *conn).await.map(|_| ())
}

async fn ensure_history(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    for ddl in HISTORY_DDL {
        conn.execute(ddl).await?;
    }
    Ok(())
}

struct HistoryRow {
    name: String,
    checksum: String,
    status: String,
    finished_at: Option<String>,
    applied_by: String,
    statements_done: i32,
    error: Option<String>,
}

async fn read_history(conn: &mut PgConnection) -> Result<Vec<HistoryRow>, sqlx::Error> {
    type Row = (String, String, String, Option<String>, String, i32, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT name, checksum, status, to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), applied_by,
                statements_done, error
         FROM schemaforge.migrations ORDER BY name",
    )
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

async fn read_drizzle(conn: &mut PgConnection) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT hash, created_at FROM drizzle.__drizzle_migrations WHERE created_at IS NOT NULL ORDER BY id")
        .fetch_all(&mut *conn)
        .await
}

/// Each migration's standing, checked against the folder. Needs the history
/// tables (`migrate` creates them; without them everything is pending).
async fn assess(conn: &mut PgConnection, files: &[MigrationFile]) -> Result<(Vec<Standing>, Vec<String>), MigrateError> {
    let history = read_history(conn).await?;
    let drizzle = read_drizzle(conn).await?;
    for row in &history {
        if row.status != "rolled back" && !files.iter().any(|f| f.tag == row.name) {
            return Err(MigrateError::Missing { tag: row.name.clone() });
        }
    }
    for (hash, created_at) in &drizzle {
        if !files.iter().any(|f| i64::try_from(f.when).ok() == Some(*created_at)) {
            return Err(MigrateError::UnknownApplied { hash: hash.clone(), created_at: *created_at });
        }
    }
    let mut standings = Vec::with_capacity(files.len());
    let mut adopted = Vec::new();
    for file in files {
        let ours = history.iter().find(|r| r.name == file.tag);
        let theirs = drizzle.iter().find(|(_, created_at)| i64::try_from(file.when).ok() == Some(*created_at));
        let checksum = file.checksum();
        let state = match (ours, theirs) {
            (Some(row), _) if row.status == "applied" => {
                if row.checksum == checksum {
                    State::Applied
                } else {
                    State::Edited
                }
            }
            (_, Some((hash, _))) => {
                // Applied by drizzle-orm's migrator.
                if ours.is_none() {
                    adopted.push(file.tag.clone());
                }
                if *hash == checksum { State::Applied } else { State::Edited }
            }
            (Some(row), None) if row.status == "failed" || row.status == "running" => {
                if row.statements_done > 0 && row.checksum != checksum {
                    return Err(MigrateError::EditedPartway { tag: file.tag.clone(), done: row.statements_done });
                }
                State::Failed { done: row.statements_done }
            }
            _ => State::Pending,
        };
        standings.push(Standing {
            tag: file.tag.clone(),
            state,
            applied_at: ours.and_then(|r| r.finished_at.clone()),
            applied_by: ours.map(|r| r.applied_by.clone()),
            error: ours.and_then(|r| r.error.clone()),
        });
    }
    Ok((standings, adopted))
}

async fn history_exists(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT to_regclass('schemaforge.migrations') IS NOT NULL AND to_regclass('drizzle.__drizzle_migrations') IS NOT NULL",
    )
    .fetch_one(&mut *conn)
    .await
}

/// Where each migration of the folder stands, without changing anything.
pub async fn status(conn: &mut PgConnection, files: &[MigrationFile]) -> Result<Vec<Standing>, MigrateError> {
    // Reading needs both tables; where they are missing (nothing applied
    // yet, or only drizzle-orm's), they are created in a transaction that is
    // rolled back.
    let mut tx = conn.begin().await?;
    if !history_exists(&mut tx).await? {
        for ddl in HISTORY_DDL {
            tx.execute(ddl).await?;
        }
    }
    let result = assess(&mut tx, files).await.map(|(standings, _)| standings);
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
    files: &[MigrationFile],
    applied_by: &str,
    until: Option<&str>,
    mut on_start: impl FnMut(&MigrationFile),
) -> Result<Report, MigrateError> {
    lock(conn).await?;
    let result = migrate_locked(conn, files, applied_by, until, &mut on_start).await;
    // The lock also goes with the session; a failed unlock must not hide the result.
    let _ = unlock(conn).await;
    result
}

async fn migrate_locked(
    conn: &mut PgConnection,
    files: &[MigrationFile],
    applied_by: &str,
    until: Option<&str>,
    on_start: &mut impl FnMut(&MigrationFile),
) -> Result<Report, MigrateError> {
    ensure_history(conn).await?;
    let (standings, adopted) = assess(conn, files).await?;
    for standing in &standings {
        if standing.state == State::Edited {
            let file = files.iter().find(|f| f.tag == standing.tag);
            let applied: Option<String> = sqlx::query_scalar("SELECT checksum FROM schemaforge.migrations WHERE name = $1")
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
        sqlx::query(
            "INSERT INTO schemaforge.migrations (name, checksum, status, started_at, finished_at, applied_by, statements_done, statements_total)
             VALUES ($1, $2, 'applied', to_timestamp($3 / 1000.0), to_timestamp($3 / 1000.0), 'drizzle-orm', $4, $4)
             ON CONFLICT (name) DO NOTHING",
        )
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
            apply_in_transaction(conn, file, applied_by).await?;
        } else {
            apply_statement_by_statement(conn, file, applied_by, resume_at).await?;
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

async fn record(conn: &mut PgConnection, file: &MigrationFile, progress: &Progress<'_>) -> Result<(), sqlx::Error> {
    let Progress { status, applied_by, started, done, total, error } = *progress;
    sqlx::query(
        "INSERT INTO schemaforge.migrations
            (name, checksum, status, started_at, finished_at, applied_by, duration_ms, statements_done, statements_total, error)
         VALUES ($1, $2, $3, now() - make_interval(secs => $4 / 1000.0), CASE WHEN $3 = 'running' THEN NULL ELSE now() END, $5, $4, $6, $7, $8)
         ON CONFLICT (name) DO UPDATE SET checksum = $2, status = $3, finished_at = EXCLUDED.finished_at, applied_by = $5,
            started_at = CASE WHEN migrations.status = 'running' THEN migrations.started_at ELSE EXCLUDED.started_at END,
            duration_ms = $4, statements_done = $6, statements_total = $7, error = $8",
    )
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

async fn record_drizzle(conn: &mut PgConnection, file: &MigrationFile) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)")
        .bind(file.checksum())
        .bind(when(file))
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

async fn apply_in_transaction(conn: &mut PgConnection, file: &MigrationFile, applied_by: &str) -> Result<(), MigrateError> {
    let started = Instant::now();
    let statements = statements(file);
    let total = statements.len();
    let mut tx = conn.begin().await?;
    for (i, statement) in statements.iter().enumerate() {
        // The simple query protocol: DDL is run once, so preparing it first
        // (the extended protocol) would only add round trips.
        if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone())).execute(&mut *tx).await {
            tx.rollback().await?;
            let message = error.to_string();
            let progress = Progress { status: "failed", applied_by, started, done: 0, total, error: Some(&message) };
            record(conn, file, &progress).await?;
            return Err(MigrateError::Failed { tag: file.tag.clone(), number: i + 1, total, statement: statement.clone(), error: message });
        }
    }
    // The bookkeeping commits with the migration, or neither does: a
    // migration is never applied twice (sqlx's migrator does the same, see
    // https://github.com/launchbadge/sqlx/issues/1966).
    record_drizzle(&mut tx, file).await?;
    record(&mut tx, file, &Progress { status: "applied", applied_by, started, done: total, total, error: None }).await?;
    tx.commit().await?;
    Ok(())
}

async fn apply_statement_by_statement(
    conn: &mut PgConnection,
    file: &MigrationFile,
    applied_by: &str,
    resume_at: usize,
) -> Result<(), MigrateError> {
    let started = Instant::now();
    let statements = statements(file);
    let total = statements.len();
    record(conn, file, &Progress { status: "running", applied_by, started, done: resume_at, total, error: None }).await?;
    for (i, statement) in statements.iter().enumerate().skip(resume_at) {
        if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone())).execute(&mut *conn).await {
            let message = error.to_string();
            record(conn, file, &Progress { status: "failed", applied_by, started, done: i, total, error: Some(&message) }).await?;
            return Err(MigrateError::FailedPartway {
                tag: file.tag.clone(),
                number: i + 1,
                total,
                done: i,
                statement: statement.clone(),
                error: message,
            });
        }
        record(conn, file, &Progress { status: "running", applied_by, started, done: i + 1, total, error: None }).await?;
    }
    let mut tx = conn.begin().await?;
    record_drizzle(&mut tx, file).await?;
    record(&mut tx, file, &Progress { status: "applied", applied_by, started, done: total, total, error: None }).await?;
    tx.commit().await?;
    Ok(())
}

/// Undoes one applied migration with its down statements, in one
/// transaction (statement by statement when it is marked non-transactional),
/// and forgets it in both histories.
pub async fn roll_back(conn: &mut PgConnection, file: &MigrationFile, down: &[String], applied_by: &str) -> Result<(), MigrateError> {
    let total = down.len();
    let transactional = schemaforge_kit::folder::is_transactional(file.down.as_deref().unwrap_or_default());
    if transactional {
        let mut tx = conn.begin().await?;
        for (i, statement) in down.iter().enumerate() {
            if let Err(error) = tx.execute(sqlx::AssertSqlSafe(statement.clone())).await {
                tx.rollback().await?;
                return Err(MigrateError::Failed {
                    tag: file.tag.clone(),
                    number: i + 1,
                    total,
                    statement: statement.clone(),
                    error: error.to_string(),
                });
            }
        }
        forget(&mut tx, file, applied_by).await?;
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
        forget(conn, file, applied_by).await?;
    }
    Ok(())
}

/// Removes a rolled-back migration from drizzle-orm's history and marks it in ours.
async fn forget(conn: &mut PgConnection, file: &MigrationFile, applied_by: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM drizzle.__drizzle_migrations WHERE created_at = $1").bind(when(file)).execute(&mut *conn).await?;
    sqlx::query(
        "UPDATE schemaforge.migrations SET status = 'rolled back', finished_at = now(), applied_by = $2, error = NULL WHERE name = $1",
    )
    .bind(&file.tag)
    .bind(applied_by)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// Every migration of `files` that is applied, in folder order, after checking the folder.
pub async fn applied(conn: &mut PgConnection, files: &[MigrationFile]) -> Result<Vec<String>, MigrateError> {
    Ok(status(conn, files).await?.into_iter().filter(|s| s.state == State::Applied).map(|s| s.tag).collect())
}
