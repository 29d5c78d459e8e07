//! Applying a migration folder to SQLite: locked, tracked, checksummed, foreign keys kept whole.
//!
//! SQLite has no advisory locks; its write lock is the lock. Each migration
//! runs in its own `BEGIN IMMEDIATE` transaction, which waits (busy timeout)
//! while another connection writes, then re-reads the history *inside* the
//! transaction: a migration another process applied meanwhile is skipped, so
//! two `migrate` runs never both apply one. The migration and its
//! bookkeeping (our `__schemaforge_migrations`, drizzle-orm's
//! `__drizzle_migrations`) commit together or not at all.
//!
//! A migration holding `PRAGMA foreign_keys=OFF` (a table rebuild, a drop of
//! a referenced table) cannot get that pragma from inside a transaction,
//! where SQLite ignores it — which is how drizzle-orm's migrator loses child
//! rows of a rebuilt parent. So the pragma lines are lifted out: foreign keys
//! are turned off before the transaction, `PRAGMA foreign_key_check` must
//! find nothing before it commits, and enforcement is restored after.
//!
//! A caller that splits its work at the commit point (the service applies a
//! migration and records its version, then commits outside its deadline)
//! holds the same transaction itself: `WriteTransaction`, with
//! `apply_within`, `roll_back_within` and `record_failure`, under the same
//! rules.

use std::time::Instant;

use schemaforge_kit::folder::MigrationFile;
use schemaforge_sql::sqlite::{FOREIGN_KEYS_OFF, FOREIGN_KEYS_ON, quote_ident};
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, Executor, Row};

use super::{DRIZZLE_MIGRATIONS, HISTORY};
use crate::history::{self, HistoryRow, MigrateError, Report, Standing, State};

/// The bookkeeping tables, ours and exactly drizzle-orm's.
fn history_ddl() -> [String; 2] {
    [
        format!(
            "CREATE TABLE IF NOT EXISTS {} (
                name text PRIMARY KEY,
                checksum text NOT NULL,
                status text NOT NULL CHECK (status IN ('running', 'applied', 'failed', 'rolled back')),
                started_at text NOT NULL,
                finished_at text,
                applied_by text NOT NULL,
                duration_ms integer,
                statements_done integer NOT NULL DEFAULT 0,
                statements_total integer NOT NULL,
                error text
            )",
            quote_ident(HISTORY)
        ),
        format!("CREATE TABLE IF NOT EXISTS \"{DRIZZLE_MIGRATIONS}\" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)"),
    ]
}

/// The current time as our history writes it (UTC, ISO 8601).
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

/// Whether `statement` is one of the foreign-key pragmas the migrator lifts out of the transaction.
pub fn is_foreign_keys_pragma(statement: &str) -> bool {
    let compact: String = statement.chars().filter(|c| !c.is_whitespace()).collect::<String>().trim_end_matches(';').to_ascii_uppercase();
    compact == FOREIGN_KEYS_OFF.replace(' ', "").to_ascii_uppercase() || compact == FOREIGN_KEYS_ON.replace(' ', "").to_ascii_uppercase()
}

/// Whether `statements` must run with foreign-key enforcement off.
pub fn needs_foreign_keys_off(statements: &[String]) -> bool {
    statements.iter().any(|s| {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().trim_end_matches(';').to_ascii_uppercase();
        compact == FOREIGN_KEYS_OFF.replace(' ', "").to_ascii_uppercase()
    })
}

/// Why a write transaction did not commit: the work's own error, or foreign
/// keys left dangling by it.
pub enum Outcome<E> {
    Work(E),
    ForeignKeys(String),
    Database(sqlx::Error),
}

/// Why committing a write transaction failed (it was rolled back).
#[derive(Debug)]
pub enum CommitError {
    /// `PRAGMA foreign_key_check` found rows pointing nowhere (summarised).
    ForeignKeys(String),
    Database(sqlx::Error),
}

impl<E> From<CommitError> for Outcome<E> {
    fn from(error: CommitError) -> Self {
        match error {
            CommitError::ForeignKeys(violations) => Outcome::ForeignKeys(violations),
            CommitError::Database(error) => Outcome::Database(error),
        }
    }
}

/// Runs `work` in a `BEGIN IMMEDIATE` transaction (the database's write
/// lock), with foreign-key enforcement turned off around it when asked and
/// every foreign key checked before it commits. Rolled back on any error.
pub async fn in_write_transaction<T, E>(
    conn: &mut SqliteConnection,
    foreign_keys_off: bool,
    work: impl AsyncFnOnce(&mut SqliteConnection) -> Result<T, E>,
) -> Result<T, Outcome<E>> {
    if foreign_keys_off {
        conn.execute(FOREIGN_KEYS_OFF).await.map_err(Outcome::Database)?;
    }
    let result = async {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(Outcome::Database)?;
        let value = work(&mut tx).await.map_err(Outcome::Work)?;
        if foreign_keys_off {
            check_foreign_keys(&mut tx).await?;
        }
        tx.commit().await.map_err(Outcome::Database)?;
        Ok(value)
    }
    .await;
    if foreign_keys_off {
        // Restored whatever happened; a failure here must not hide the result.
        let _ = conn.execute(FOREIGN_KEYS_ON).await;
    }
    result
}

/// A write transaction (`BEGIN IMMEDIATE`) its caller holds open across work
/// of its own, for work split at its commit point: the same lock, foreign-key
/// handling and check as `in_write_transaction`. It borrows nothing: the
/// caller passes the connection it began on to `commit` or `roll_back`. A
/// connection closed with one open rolls it back.
#[derive(Debug)]
#[must_use = "a write transaction must be committed or rolled back"]
pub struct WriteTransaction {
    foreign_keys_off: bool,
}

impl WriteTransaction {
    /// Takes the write lock (waiting up to the connection's busy timeout),
    /// with foreign-key enforcement turned off first when asked: SQLite
    /// ignores that pragma inside a transaction.
    pub async fn begin(conn: &mut SqliteConnection, foreign_keys_off: bool) -> Result<WriteTransaction, sqlx::Error> {
        if foreign_keys_off {
            conn.execute(FOREIGN_KEYS_OFF).await?;
        }
        if let Err(error) = conn.execute("BEGIN IMMEDIATE").await {
            if foreign_keys_off {
                let _ = conn.execute(FOREIGN_KEYS_ON).await;
            }
            return Err(error);
        }
        Ok(WriteTransaction { foreign_keys_off })
    }

    /// Whether foreign-key enforcement is off for this transaction.
    pub fn foreign_keys_off(&self) -> bool {
        self.foreign_keys_off
    }

    /// Checks every foreign key (when enforcement is off) and commits; rolled
    /// back instead when a key dangles or the commit fails. Enforcement is
    /// restored either way.
    pub async fn commit(self, conn: &mut SqliteConnection) -> Result<(), CommitError> {
        let result = async {
            if self.foreign_keys_off {
                check_foreign_keys(conn).await?;
            }
            conn.execute("COMMIT").await.map(|_| ()).map_err(CommitError::Database)
        }
        .await;
        if result.is_err() {
            // A failed COMMIT may leave the transaction open: end it.
            let _ = conn.execute("ROLLBACK").await;
        }
        self.restore(conn).await;
        result
    }

    /// Rolls back; `false` when the connection could not even do that (it
    /// is gone, and took the transaction with it).
    pub async fn roll_back(self, conn: &mut SqliteConnection) -> bool {
        let rolled_back = conn.execute("ROLLBACK").await.is_ok();
        self.restore(conn).await;
        rolled_back
    }

    async fn restore(self, conn: &mut SqliteConnection) {
        if self.foreign_keys_off {
            // A failure here must not hide the outcome; the connection is the caller's to close.
            let _ = conn.execute(FOREIGN_KEYS_ON).await;
        }
    }
}

/// Refuses to let a transaction commit while `PRAGMA foreign_key_check` finds rows pointing nowhere.
async fn check_foreign_keys(conn: &mut SqliteConnection) -> Result<(), CommitError> {
    let violations = foreign_key_violations(conn).await.map_err(CommitError::Database)?;
    if violations.is_empty() { Ok(()) } else { Err(CommitError::ForeignKeys(violations)) }
}

/// What `PRAGMA foreign_key_check` finds, summarised (empty when nothing dangles).
async fn foreign_key_violations(conn: &mut SqliteConnection) -> Result<String, sqlx::Error> {
    let rows = sqlx::query("SELECT \"table\", \"parent\", count(*) AS n FROM pragma_foreign_key_check GROUP BY 1, 2 ORDER BY 1, 2")
        .fetch_all(&mut *conn)
        .await?;
    let parts: Vec<String> = rows
        .iter()
        .map(|r| {
            let table: String = r.try_get(0).unwrap_or_default();
            let parent: String = r.try_get(1).unwrap_or_default();
            let n: i64 = r.try_get(2).unwrap_or_default();
            format!("{n} row{} of {table} reference{} missing rows of {parent}", plural(n), if n == 1 { "s" } else { "" })
        })
        .collect();
    Ok(parts.join("; "))
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

async fn history_exists(conn: &mut SqliteConnection) -> Result<(bool, bool), sqlx::Error> {
    let exists = |name: &'static str| {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?").bind(name)
    };
    let ours = exists(HISTORY).fetch_one(&mut *conn).await? > 0;
    let theirs = exists(DRIZZLE_MIGRATIONS).fetch_one(&mut *conn).await? > 0;
    Ok((ours, theirs))
}

async fn ensure_history(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    for ddl in history_ddl() {
        conn.execute(sqlx::AssertSqlSafe(ddl)).await?;
    }
    Ok(())
}

/// Both histories, as far as they exist.
async fn read_histories(conn: &mut SqliteConnection) -> Result<(Vec<HistoryRow>, Vec<(String, i64)>), sqlx::Error> {
    let (ours, theirs) = history_exists(conn).await?;
    let mut history = Vec::new();
    if ours {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name, checksum, status, finished_at, applied_by, statements_done, error FROM {} ORDER BY name",
            quote_ident(HISTORY)
        )))
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            history.push(HistoryRow {
                name: row.try_get(0)?,
                checksum: row.try_get(1)?,
                status: row.try_get(2)?,
                finished_at: row.try_get(3)?,
                applied_by: row.try_get(4)?,
                statements_done: row.try_get(5)?,
                error: row.try_get(6)?,
            });
        }
    }
    let drizzle = if theirs {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT hash, CAST(created_at AS INTEGER) FROM \"{DRIZZLE_MIGRATIONS}\" WHERE created_at IS NOT NULL ORDER BY rowid"
        )))
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };
    Ok((history, drizzle))
}

async fn assess(conn: &mut SqliteConnection, files: &[MigrationFile]) -> Result<(Vec<Standing>, Vec<String>), MigrateError> {
    let (history, drizzle) = read_histories(conn).await?;
    history::assess(&history, &drizzle, files)
}

/// Where each migration of the folder stands, without changing anything.
pub async fn status(conn: &mut SqliteConnection, files: &[MigrationFile]) -> Result<Vec<Standing>, MigrateError> {
    Ok(assess(conn, files).await?.0)
}

/// Every migration of `files` that is applied, in folder order, after checking the folder.
pub async fn applied(conn: &mut SqliteConnection, files: &[MigrationFile]) -> Result<Vec<String>, MigrateError> {
    Ok(status(conn, files).await?.into_iter().filter(|s| s.state == State::Applied).map(|s| s.tag).collect())
}

/// The statements of a migration as they run: split on breakpoints, the
/// foreign-key pragmas lifted out (`in_write_transaction` does their work).
fn runnable(statements: Vec<String>) -> Vec<String> {
    statements.into_iter().filter(|s| !is_foreign_keys_pragma(s)).collect()
}

/// Refuses a folder that disagrees with what was applied: an edited applied
/// migration, or one left unapplied behind an applied one.
fn refuse_disagreement(standings: &[Standing], files: &[MigrationFile], history: &[HistoryRow]) -> Result<(), MigrateError> {
    if let Some(edited) = standings.iter().find(|s| s.state == State::Edited) {
        let applied = history.iter().find(|r| r.name == edited.tag).map(|r| r.checksum.clone());
        return Err(MigrateError::Edited {
            tag: edited.tag.clone(),
            applied: applied.unwrap_or_else(|| "(recorded by drizzle-orm)".into()),
            current: files.iter().find(|f| f.tag == edited.tag).map(MigrationFile::checksum).unwrap_or_default(),
        });
    }
    if let Some(last_applied) = standings.iter().rposition(|s| s.state == State::Applied)
        && let Some(gap) = standings[..last_applied].iter().find(|s| s.state != State::Applied)
    {
        return Err(MigrateError::OutOfOrder { tag: gap.tag.clone(), later: standings[last_applied].tag.clone() });
    }
    Ok(())
}

/// Applies every pending migration of `files` (up to and including `until`,
/// when given) in order. `on_start` is told before each migration runs.
pub async fn migrate(
    conn: &mut SqliteConnection,
    files: &[MigrationFile],
    applied_by: &str,
    until: Option<&str>,
    mut on_start: impl FnMut(&MigrationFile),
) -> Result<Report, MigrateError> {
    let limit = match until {
        Some(tag) => files.iter().position(|f| f.tag == tag).map_or(files.len(), |i| i + 1),
        None => files.len(),
    };
    let mut report = Report::default();
    let adopted = adopt_drizzle_entries(conn, files).await?;
    report.adopted = adopted;
    loop {
        let (history, drizzle) = read_histories(conn).await?;
        let (standings, _) = history::assess(&history, &drizzle, files)?;
        refuse_disagreement(&standings, files, &history)?;
        let Some(index) = standings[..limit].iter().position(|s| s.state != State::Applied) else { break };
        let file = &files[index];
        if apply_one(conn, files, file, applied_by, &mut on_start).await? {
            report.applied.push(file.tag.clone());
        }
    }
    Ok(report)
}

/// Records in our history what drizzle-orm's migrator applied alone.
async fn adopt_drizzle_entries(conn: &mut SqliteConnection, files: &[MigrationFile]) -> Result<Vec<String>, MigrateError> {
    let (_, adopted) = assess(conn, files).await?;
    if adopted.is_empty() {
        return Ok(adopted);
    }
    let result = in_write_transaction(conn, false, async |tx| {
        ensure_history(tx).await?;
        for tag in &adopted {
            let Some(file) = files.iter().find(|f| &f.tag == tag) else { continue };
            let total = i64::try_from(runnable(file.statements()).len()).unwrap_or(i64::MAX);
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT OR IGNORE INTO {} (name, checksum, status, started_at, finished_at, applied_by, statements_done, statements_total)
                 VALUES (?, ?, 'applied', {NOW}, {NOW}, 'drizzle-orm', ?, ?)",
                quote_ident(HISTORY)
            )))
            .bind(tag)
            .bind(file.checksum())
            .bind(total)
            .bind(total)
            .execute(&mut *tx)
            .await?;
        }
        Ok::<(), sqlx::Error>(())
    })
    .await;
    match result {
        Ok(()) => Ok(adopted),
        Err(Outcome::Work(error) | Outcome::Database(error)) => Err(MigrateError::Database(error)),
        Err(Outcome::ForeignKeys(_)) => Ok(adopted),
    }
}

/// Applies `file` unless another migrator did meanwhile; `true` when this
/// call applied it. `on_start` is told once the write lock is held and the
/// migration is known to be still pending.
async fn apply_one(
    conn: &mut SqliteConnection,
    files: &[MigrationFile],
    file: &MigrationFile,
    applied_by: &str,
    on_start: &mut impl FnMut(&MigrationFile),
) -> Result<bool, MigrateError> {
    let started = Instant::now();
    let statements = file.statements();
    let foreign_keys_off = needs_foreign_keys_off(&statements);
    let statements = runnable(statements);
    let result = in_write_transaction(conn, foreign_keys_off, async |tx| {
        ensure_history(tx).await?;
        // Re-read under the write lock: another migrator may have applied it.
        let (standings, _) = assess(tx, files).await?;
        if standings.iter().any(|s| s.tag == file.tag && s.state == State::Applied) {
            return Ok(false);
        }
        on_start(file);
        run(tx, &file.tag, &statements).await?;
        record_applied(tx, file, applied_by, started, statements.len()).await?;
        Ok(true)
    })
    .await;
    match result {
        Ok(applied) => Ok(applied),
        Err(Outcome::Work(MigrateError::Failed { tag, number, total, statement, error })) => {
            record_failure(conn, file, applied_by, started, &error).await?;
            Err(MigrateError::Failed { tag, number, total, statement, error })
        }
        Err(Outcome::Work(other)) => Err(other),
        Err(Outcome::Database(error)) => Err(MigrateError::Database(error)),
        Err(Outcome::ForeignKeys(violations)) => {
            let error = format!("the migration would leave foreign keys pointing nowhere: {violations}");
            record_failure(conn, file, applied_by, started, &error).await?;
            Err(MigrateError::ForeignKeysBroken { tag: file.tag.clone(), violations })
        }
    }
}

/// Runs `statements` (pragmas already lifted out) in order; the first that
/// fails is reported with its number.
async fn run(conn: &mut SqliteConnection, tag: &str, statements: &[String]) -> Result<(), MigrateError> {
    let total = statements.len();
    for (i, statement) in statements.iter().enumerate() {
        if let Err(error) = conn.execute(sqlx::AssertSqlSafe(statement.clone())).await {
            return Err(MigrateError::Failed {
                tag: tag.to_string(),
                number: i + 1,
                total,
                statement: statement.clone(),
                error: error.to_string(),
            });
        }
    }
    Ok(())
}

/// Refuses statements that need foreign keys off in a transaction begun with them on.
fn refuse_enforced(tx: &WriteTransaction, tag: &str, statements: &[String]) -> Result<(), MigrateError> {
    if needs_foreign_keys_off(statements) && !tx.foreign_keys_off() {
        return Err(MigrateError::ForeignKeysEnforced { tag: tag.to_string() });
    }
    Ok(())
}

/// Applies `file` in the caller's open write transaction `tx` (begun with
/// foreign keys off when `needs_foreign_keys_off(&file.statements())`, else
/// refused), recording it in both histories; the caller commits (the
/// foreign keys are checked then) or rolls back. Nothing is re-read: the
/// caller decided under the lock that `file` is next.
pub async fn apply_within(
    conn: &mut SqliteConnection,
    tx: &WriteTransaction,
    file: &MigrationFile,
    applied_by: &str,
) -> Result<(), MigrateError> {
    let started = Instant::now();
    let statements = file.statements();
    refuse_enforced(tx, &file.tag, &statements)?;
    let statements = runnable(statements);
    ensure_history(conn).await?;
    run(conn, &file.tag, &statements).await?;
    record_applied(conn, file, applied_by, started, statements.len()).await?;
    Ok(())
}

fn millis(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

async fn record_applied(
    conn: &mut SqliteConnection,
    file: &MigrationFile,
    applied_by: &str,
    started: Instant,
    total: usize,
) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO \"{DRIZZLE_MIGRATIONS}\" (hash, created_at) VALUES (?, ?)")))
        .bind(file.checksum())
        .bind(i64::try_from(file.when).unwrap_or(i64::MAX))
        .execute(&mut *conn)
        .await?;
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {history} (name, checksum, status, started_at, finished_at, applied_by, duration_ms, statements_done, statements_total, error)
         VALUES (?1, ?2, 'applied', {NOW}, {NOW}, ?3, ?4, ?5, ?5, NULL)
         ON CONFLICT (name) DO UPDATE SET checksum = ?2, status = 'applied', finished_at = {NOW}, applied_by = ?3,
            duration_ms = ?4, statements_done = ?5, statements_total = ?5, error = NULL",
        history = quote_ident(HISTORY)
    )))
    .bind(&file.tag)
    .bind(file.checksum())
    .bind(applied_by)
    .bind(millis(started))
    .bind(total)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// Records a failed migration in a write transaction of its own (the
/// migration's was rolled back, taking its record with it), started at
/// `started`. A migration recorded as applied meanwhile (by another writer)
/// keeps that record: a failure never overwrites a success.
pub async fn record_failure(
    conn: &mut SqliteConnection,
    file: &MigrationFile,
    applied_by: &str,
    started: Instant,
    error: &str,
) -> Result<(), MigrateError> {
    let total = runnable(file.statements()).len();
    let result = in_write_transaction(conn, false, async |tx| {
        ensure_history(tx).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {history} (name, checksum, status, started_at, finished_at, applied_by, duration_ms, statements_done, statements_total, error)
             VALUES (?1, ?2, 'failed', {NOW}, {NOW}, ?3, ?4, 0, ?5, ?6)
             ON CONFLICT (name) DO UPDATE SET checksum = ?2, status = 'failed', finished_at = {NOW}, applied_by = ?3,
                duration_ms = ?4, statements_done = 0, statements_total = ?5, error = ?6
             WHERE status <> 'applied'",
            history = quote_ident(HISTORY)
        )))
        .bind(&file.tag)
        .bind(file.checksum())
        .bind(applied_by)
        .bind(millis(started))
        .bind(i64::try_from(total).unwrap_or(i64::MAX))
        .bind(error)
        .execute(&mut *tx)
        .await
        .map(|_| ())
    })
    .await;
    match result {
        Ok(()) | Err(Outcome::ForeignKeys(_)) => Ok(()),
        Err(Outcome::Work(error) | Outcome::Database(error)) => Err(MigrateError::Database(error)),
    }
}

/// Undoes one applied migration with its down statements, in one
/// transaction with its bookkeeping: removed from drizzle-orm's history,
/// marked rolled back in ours.
pub async fn roll_back(conn: &mut SqliteConnection, file: &MigrationFile, down: &[String], applied_by: &str) -> Result<(), MigrateError> {
    let foreign_keys_off = needs_foreign_keys_off(down);
    let statements = runnable(down.to_vec());
    let result = in_write_transaction(conn, foreign_keys_off, async |tx| {
        run(tx, &file.tag, &statements).await?;
        forget(tx, file, applied_by).await?;
        Ok(())
    })
    .await;
    match result {
        Ok(()) => Ok(()),
        Err(Outcome::Work(error)) => Err(error),
        Err(Outcome::Database(error)) => Err(MigrateError::Database(error)),
        Err(Outcome::ForeignKeys(violations)) => Err(MigrateError::ForeignKeysBroken { tag: file.tag.clone(), violations }),
    }
}

/// `roll_back` in the caller's open write transaction `tx` (begun with
/// foreign keys off when `needs_foreign_keys_off(down)`, else refused); the
/// caller commits or rolls back, so several migrations can be undone at once.
pub async fn roll_back_within(
    conn: &mut SqliteConnection,
    tx: &WriteTransaction,
    file: &MigrationFile,
    down: &[String],
    applied_by: &str,
) -> Result<(), MigrateError> {
    refuse_enforced(tx, &file.tag, down)?;
    run(conn, &file.tag, &runnable(down.to_vec())).await?;
    forget(conn, file, applied_by).await?;
    Ok(())
}

/// Removes a rolled-back migration from drizzle-orm's history and marks it in ours.
async fn forget(conn: &mut SqliteConnection, file: &MigrationFile, applied_by: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM \"{DRIZZLE_MIGRATIONS}\" WHERE CAST(created_at AS INTEGER) = ?")))
        .bind(i64::try_from(file.when).unwrap_or(i64::MAX))
        .execute(&mut *conn)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET status = 'rolled back', finished_at = {NOW}, applied_by = ?2, error = NULL WHERE name = ?1",
        quote_ident(HISTORY)
    )))
    .bind(&file.tag)
    .bind(applied_by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_key_pragmas_are_recognised_however_spelled() {
        assert!(is_foreign_keys_pragma("PRAGMA foreign_keys=OFF"));
        assert!(is_foreign_keys_pragma("pragma foreign_keys = on;"));
        assert!(!is_foreign_keys_pragma("PRAGMA foreign_key_check"));
        assert!(needs_foreign_keys_off(&["CREATE TABLE t (a)".into(), "PRAGMA  foreign_keys=OFF".into()]));
        assert!(!needs_foreign_keys_off(&["PRAGMA foreign_keys=ON".into()]));
    }
}
