//! Tenants in SQLite files, the default when no database is configured:
//! each tenant is `<data-dir>/tenants/<userID>.sqlite` (see
//! `UserId::file_stem`), isolated by file, and the service's own tables
//! (tokens, tenants) are in `<data-dir>/service.sqlite`.
//!
//! A request that changes a tenant holds its file's write lock (`BEGIN
//! IMMEDIATE`, waiting for another writer, on any replica sharing the data
//! directory, until the request's deadline) from the moment it reads the latest
//! version until its commit, so the plan, the measured facts, the migration
//! and the version's record all see one state and commit together. A
//! migration that rebuilds tables needs foreign keys off, which SQLite only
//! allows before a transaction begins: a request that finds it needs them
//! off under the lock starts over with them off (`begin_apply`), and every
//! foreign key is checked before the commit (`db::sqlite::migrate`).
//!
//! There is no server process to end at a deadline. A request given up
//! before its commit interrupts its connection's running statement (a
//! progress handler sees the flag) and closes the connection, which rolls
//! back what it had begun; one waiting for the lock stops waiting when its
//! busy timeout (a little past the deadline) ends. Nothing of it is ever committed:
//! the commit is never reached under the deadline, and never cut off after.
//!
//! A tenant's connection that ended its request cleanly (its transaction
//! rolled back or committed, nothing failed on it) stays open for the same
//! tenant's next request (`idle`), sparing the file's opening: its worker
//! thread, its pragmas and its schema read anew. An expression cannot
//! change a SQLite session (no settings, locks or temporary tables reach
//! past the statement), so there is nothing else to reset.
//!
//! Files use SQLite's write-ahead log, so reads (versions, clients, drift)
//! go on while a tenant migrates. Replicas may share a data directory on one
//! machine (SQLite's locks do not reach across a network file system).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use schemaforge_db::history::MigrateError;
use schemaforge_db::sqlite::migrate::{self, CommitError, WriteTransaction, needs_foreign_keys_off};
use schemaforge_db::sqlite::{HISTORY, VERSIONS};
use schemaforge_diff::Step;
use schemaforge_kit::folder::MigrationFile;
use schemaforge_model::{Dialect, Schema};
use schemaforge_plan::Fact;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, Sqlite as Lite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::OnceCell;

use super::idle::{self, Idle};
use super::{CommitFailed, Failed};
use crate::ServeError;
use crate::error::ApiError;
use crate::tenant::UserId;
use crate::versions::{self, MigrationRecord, Recent, VersionRow};

pub struct Sqlite {
    tenants: PathBuf,
    /// `service.sqlite`; use through `service()`, which sets it up first.
    service: SqlitePool,
    set_up: OnceCell<()>,
    /// How long a statement waits for another writer: a little longer than
    /// the request timeout, so the deadline (a 408 that says nothing
    /// changed), not `database is locked`, is what a request that waited too long meets.
    busy_timeout: Duration,
    /// Tenant connections, idle between their tenant's requests.
    idle: Arc<Idle<TenantFile>>,
}

/// An open tenant file, kept for its tenant only.
pub struct TenantFile(SqliteConnection);

impl idle::Close for TenantFile {
    async fn close(self) {
        let _ = self.0.close().await;
    }
}

/// How long a tenant's file stays open, unused, for its next request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a request waits for one of the pool's connections before it is a 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How much longer than the request timeout a writer waits for a lock.
const BUSY_MARGIN: Duration = Duration::from_secs(5);

/// Every how many virtual-machine instructions a running statement checks
/// whether its request was given up.
const INTERRUPT_CHECK: i32 = 1000;

const SERVICE_DDL: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS tokens (
        token_sha256 text PRIMARY KEY,
        user_id text NOT NULL,
        created_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    )",
    "CREATE TABLE IF NOT EXISTS tenants (
        user_id text PRIMARY KEY,
        created_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    )",
];

/// How every file of the backend is opened: foreign keys enforced, the
/// write-ahead log, and a busy timeout so writers queue instead of failing.
fn options(path: &Path, busy_timeout: Duration) -> SqliteConnectOptions {
    SqliteConnectOptions::new().filename(path).foreign_keys(true).journal_mode(SqliteJournalMode::Wal).busy_timeout(busy_timeout)
}

impl Sqlite {
    /// What the cache of idle tenant connections has done.
    pub fn idle_stats(&self) -> idle::IdleStats {
        self.idle.stats()
    }

    /// The backend under `data_dir`; no file is opened yet.
    pub fn open(data_dir: &Path, request_timeout: Duration, tenant_connections: usize) -> Result<Sqlite, ServeError> {
        let busy_timeout = request_timeout.saturating_add(BUSY_MARGIN);
        let tenants = data_dir.join("tenants");
        std::fs::create_dir_all(&tenants).map_err(|source| ServeError::DataDir { dir: tenants.clone(), source })?;
        let service = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options(&data_dir.join("service.sqlite"), busy_timeout).create_if_missing(true));
        Ok(Sqlite { tenants, service, set_up: OnceCell::new(), busy_timeout, idle: Idle::new(tenant_connections, IDLE_TIMEOUT) })
    }

    /// `service.sqlite`, once its tables exist (made by the first caller;
    /// `IF NOT EXISTS` under the file's write lock, so replicas may race).
    async fn service(&self) -> Result<&SqlitePool, ApiError> {
        self.set_up
            .get_or_try_init(|| async {
                let mut tx = self.service.begin_with("BEGIN IMMEDIATE").await?;
                for ddl in SERVICE_DDL {
                    tx.execute(ddl).await?;
                }
                tx.commit().await
            })
            .await?;
        Ok(&self.service)
    }

    pub async fn ready(&self) -> Result<(), ApiError> {
        sqlx::query("SELECT 1").execute(self.service().await?).await?;
        Ok(())
    }

    pub async fn token_user(&self, digest: &str) -> Result<Option<String>, ApiError> {
        Ok(sqlx::query_scalar("SELECT user_id FROM tokens WHERE token_sha256 = ?1")
            .bind(digest)
            .fetch_optional(self.service().await?)
            .await?)
    }

    pub async fn add_token(&self, digest: &str, user: &UserId) -> Result<(), ApiError> {
        sqlx::query("INSERT INTO tokens (token_sha256, user_id) VALUES (?1, ?2)")
            .bind(digest)
            .bind(user.as_str())
            .execute(self.service().await?)
            .await?;
        Ok(())
    }

    /// `service.sqlite`'s write lock: it serialises the log's writers on
    /// every replica sharing the data directory (and only them and token
    /// issuance, both quick; reads go on).
    pub async fn lock_log(&self) -> Result<Transaction<'static, Lite>, ApiError> {
        Ok(self.service().await?.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// The tenant's file. Its name is the userID's (`UserId::file_stem`),
    /// which holds no path separator or dot, so it is always a file directly
    /// in the tenants directory.
    pub fn tenant_path(&self, user: &UserId) -> PathBuf {
        self.tenants.join(format!("{}.sqlite", user.file_stem()))
    }

    /// Opens the tenant's file (or takes its idle connection); `None` when it
    /// does not exist and `create` is not asked (a read of a tenant never
    /// seen creates nothing).
    async fn open_tenant(&self, user: &UserId, create: bool) -> Result<Option<(SqliteConnection, SqliteConnectOptions)>, ApiError> {
        let path = self.tenant_path(user);
        if let Some(TenantFile(conn)) = self.idle.take(user) {
            return Ok(Some((conn, options(&path, self.busy_timeout))));
        }
        if !path.exists() {
            if !create {
                return Ok(None);
            }
            sqlx::query("INSERT OR IGNORE INTO tenants (user_id) VALUES (?1)").bind(user.as_str()).execute(self.service().await?).await?;
        }
        let options = options(&path, self.busy_timeout).create_if_missing(create);
        let conn = options.connect().await?;
        Ok(Some((conn, options)))
    }

    pub async fn session(&self, user: &UserId) -> Result<Session, ApiError> {
        let Some((mut conn, options)) = self.open_tenant(user, true).await? else {
            return Err(ApiError::Internal(format!("the database file of userID {} could not be created", user.as_str())));
        };
        let interrupt = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&interrupt);
        // A kept connection's handler watched its last request's flag: this one watches this request's.
        conn.lock_handle().await?.set_progress_handler(INTERRUPT_CHECK, move || !flag.load(Ordering::Relaxed));
        Ok(Session {
            conn,
            options,
            interrupt,
            tx: None,
            foreign_keys_off: false,
            failed: false,
            user: user.clone(),
            idle: Arc::clone(&self.idle),
        })
    }

    pub async fn reader(&self, user: &UserId) -> Result<Reader, ApiError> {
        Ok(Reader {
            conn: self.open_tenant(user, false).await?.map(|(conn, _)| conn),
            failed: false,
            user: user.clone(),
            idle: Arc::clone(&self.idle),
        })
    }
}

fn table() -> versions::Table {
    versions::Table::new(Dialect::Sqlite, format!("\"{VERSIONS}\""))
}

async fn has_table(conn: &mut SqliteConnection, name: &str) -> Result<bool, sqlx::Error> {
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1").bind(name).fetch_one(conn).await?;
    Ok(n > 0)
}

async fn current(conn: &mut SqliteConnection) -> Result<Vec<VersionRow>, ApiError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(table().select_current())).fetch_all(&mut *conn).await?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in &rows {
        versions.extend(versions::decode(row)?);
    }
    Ok(versions)
}

async fn recent(conn: &mut SqliteConnection) -> Result<Recent, ApiError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(table().select_entries())).fetch_all(&mut *conn).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        entries.extend(versions::decode_entry(row)?);
    }
    let mut latest = None;
    for row in sqlx::query(sqlx::AssertSqlSafe(table().select_latest())).fetch_all(&mut *conn).await? {
        latest = versions::decode(&row)?.or(latest);
    }
    Ok(Recent { entries, latest })
}

/// A request's hold on a tenant's file, for a change.
pub struct Session {
    conn: SqliteConnection,
    /// Opens the file again (to record a failure if this connection is gone).
    options: SqliteConnectOptions,
    /// Set when the request is given up: the running statement stops.
    interrupt: Arc<AtomicBool>,
    /// The write transaction `lock` began, until it commits or rolls back.
    tx: Option<WriteTransaction>,
    /// Whether `lock` turns foreign keys off before it begins.
    foreign_keys_off: bool,
    /// Something failed on the connection: it is closed at the end, never kept.
    failed: bool,
    user: UserId,
    idle: Arc<Idle<TenantFile>>,
}

/// Notes that a step failed: the connection is not kept after it.
fn noted<T, E>(failed: &mut bool, result: Result<T, E>) -> Result<T, E> {
    if result.is_err() {
        *failed = true;
    }
    result
}

fn no_transaction() -> sqlx::Error {
    sqlx::Error::Protocol("the tenant's write transaction is not open".into())
}

impl Session {
    pub async fn lock(&mut self) -> Result<(), ApiError> {
        if let Some(tx) = self.tx.take() {
            tx.roll_back(&mut self.conn).await;
        }
        let tx = noted(&mut self.failed, WriteTransaction::begin(&mut self.conn, self.foreign_keys_off).await)?;
        self.tx = Some(tx);
        noted(&mut self.failed, self.conn.execute(sqlx::AssertSqlSafe(table().ddl())).await)?;
        Ok(())
    }

    pub async fn versions(&mut self) -> Result<Vec<VersionRow>, ApiError> {
        let result = current(&mut self.conn).await;
        noted(&mut self.failed, result)
    }

    pub async fn recent(&mut self) -> Result<Recent, ApiError> {
        let result = recent(&mut self.conn).await;
        noted(&mut self.failed, result)
    }

    pub async fn measure(&mut self, from: &Schema, to: &Schema, steps: &[Step]) -> Vec<Fact> {
        schemaforge_db::sqlite::probes::measure(&mut self.conn, from, to, steps).await
    }

    /// `false` (and foreign keys off at the next `lock`) when the scripts
    /// need foreign keys off and the transaction was begun with them on.
    pub fn begin_apply(&mut self, scripts: &[Vec<String>]) -> bool {
        let needed = scripts.iter().any(|script| needs_foreign_keys_off(script));
        let off = self.tx.as_ref().is_some_and(WriteTransaction::foreign_keys_off);
        if needed && !off {
            self.foreign_keys_off = true;
            return false;
        }
        true
    }

    pub async fn apply(&mut self, file: &MigrationFile, by: &str) -> Result<(), MigrateError> {
        let Some(tx) = &self.tx else { return Err(MigrateError::Database(no_transaction())) };
        let result = migrate::apply_within(&mut self.conn, tx, file, by).await;
        noted(&mut self.failed, result)
    }

    pub async fn undo(&mut self, file: &MigrationFile, down: &[String], by: &str) -> Result<(), MigrateError> {
        let Some(tx) = &self.tx else { return Err(MigrateError::Database(no_transaction())) };
        let result = migrate::roll_back_within(&mut self.conn, tx, file, down, by).await;
        noted(&mut self.failed, result)
    }

    pub async fn insert_version(&mut self, row: &VersionRow) -> Result<(), ApiError> {
        let result = versions::bind(sqlx::query(sqlx::AssertSqlSafe(table().insert())), row).execute(&mut self.conn).await;
        noted(&mut self.failed, result)?;
        Ok(())
    }

    pub async fn mark_rolled_back(&mut self, listed: &[String]) -> Result<(), ApiError> {
        let result =
            sqlx::query(sqlx::AssertSqlSafe(table().mark_rolled_back())).bind(versions::listed(listed)).execute(&mut self.conn).await;
        noted(&mut self.failed, result)?;
        Ok(())
    }

    pub async fn roll_back(&mut self) -> bool {
        let rolled_back = match self.tx.take() {
            Some(tx) => tx.roll_back(&mut self.conn).await,
            None => true,
        };
        if !rolled_back {
            self.failed = true;
        }
        rolled_back
    }

    pub async fn record_failure(&mut self, failed: &Failed<'_>, alive: bool) {
        let Failed { file, by, started, error } = *failed;
        if alive {
            let _ = migrate::record_failure(&mut self.conn, file, by, started, error).await;
        } else if let Ok(mut other) = self.options.connect().await {
            let _ = migrate::record_failure(&mut other, file, by, started, error).await;
            let _ = other.close().await;
        }
    }

    pub async fn commit(&mut self) -> Result<(), CommitFailed> {
        let Some(tx) = self.tx.take() else { return Err(CommitFailed::Database(no_transaction().to_string())) };
        let result = tx.commit(&mut self.conn).await;
        noted(&mut self.failed, result).map_err(|error| match error {
            CommitError::ForeignKeys(violations) => CommitFailed::ForeignKeys(violations),
            CommitError::Database(error) => CommitFailed::Database(error.to_string()),
        })
    }

    /// Ends the session: an open transaction is rolled back, and the file
    /// kept open for the tenant's next request unless something failed on it.
    pub async fn release(mut self) {
        self.roll_back().await;
        if self.failed {
            let _ = self.conn.close().await;
        } else {
            self.idle.put(&self.user, TenantFile(self.conn));
        }
    }

    /// Interrupts the running statement, if any, and drops the connection:
    /// its worker finishes with it and closes the file, rolling back the
    /// open transaction and releasing the write lock.
    pub fn abandon(self) {
        self.interrupt.store(true, Ordering::Relaxed);
        drop(self.conn);
    }
}

/// A connection for reading a tenant's file; none when the tenant has none yet.
pub struct Reader {
    conn: Option<SqliteConnection>,
    /// Something failed on the connection: it is closed, never kept.
    failed: bool,
    user: UserId,
    idle: Arc<Idle<TenantFile>>,
}

impl Reader {
    pub async fn versions(&mut self) -> Result<Vec<VersionRow>, ApiError> {
        let result = self.read_versions().await;
        noted(&mut self.failed, result)
    }

    async fn read_versions(&mut self) -> Result<Vec<VersionRow>, ApiError> {
        let Some(conn) = &mut self.conn else { return Ok(Vec::new()) };
        if !has_table(conn, VERSIONS).await? {
            return Ok(Vec::new());
        }
        current(conn).await
    }

    pub async fn migrations(&mut self) -> Result<Vec<MigrationRecord>, ApiError> {
        let result = self.read_migrations().await;
        noted(&mut self.failed, result)
    }

    async fn read_migrations(&mut self) -> Result<Vec<MigrationRecord>, ApiError> {
        let Some(conn) = &mut self.conn else { return Ok(Vec::new()) };
        if !has_table(conn, HISTORY).await? {
            return Ok(Vec::new());
        }
        // A first migration that failed leaves a history without versions.
        if !has_table(conn, VERSIONS).await? {
            conn.execute(sqlx::AssertSqlSafe(table().ddl())).await?;
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(table().select_history(&format!("\"{HISTORY}\"")))).fetch_all(&mut *conn).await?;
        Ok(rows.iter().map(versions::decode_migration).collect::<Result<_, _>>()?)
    }

    /// The file read back, and `expected` built in memory and read back.
    pub async fn compare(&mut self, expected: &Schema) -> Result<(Schema, Schema), ApiError> {
        let live = match &mut self.conn {
            Some(conn) => {
                let read = schemaforge_db::sqlite::introspect(conn).await.map_err(|e| ApiError::Database(e.to_string()));
                noted(&mut self.failed, read)?.schema
            }
            None => Schema::empty(Dialect::Sqlite),
        };
        let target = schemaforge_db::sqlite::shadow::build_shadow(expected).await.map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok((live, target.schema))
    }

    /// Ends the read: the file stays open for the tenant's next request
    /// unless something failed on it.
    pub async fn close(self) {
        let Some(conn) = self.conn else { return };
        if self.failed {
            let _ = conn.close().await;
        } else {
            self.idle.put(&self.user, TenantFile(conn));
        }
    }
}
