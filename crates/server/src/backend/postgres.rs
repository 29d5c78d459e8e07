//! Tenants in one PostgreSQL database: each a schema (`tenant_<userID>`)
//! owned by a login role of the same name.
//!
//! A tenant's migrations run on a connection that logs in *as* its role
//! (password derived from the service secret), so nothing a tenant writes (a
//! default, a check, a policy) runs with more than its own rights; not `SET
//! ROLE` from a privileged session, which an expression could undo. Requests
//! for one tenant serialise on an advisory lock; a request given up at its
//! deadline has its backend terminated, which rolls back what it began and
//! releases the lock. The service's own tables (tokens, tenants) live in the
//! schema `schemaforge_service`, reached through a pool that connects lazily
//! and sets them up on first contact.
//!
//! Logging in is most of what a small request costs the database (a new
//! backend, its authentication, catalog caches that start cold), so a tenant
//! connection that ended its request cleanly is reset (`DISCARD ALL` but for
//! the statements sqlx prepared: nothing a request or a tenant's expression
//! did to the session, its lock included, reaches the next one; see
//! `TenantConnection::reset`) and kept idle for the same tenant's next
//! request (`idle`). One that failed, or was given up at a deadline, is closed.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use schemaforge_db::history::MigrateError;
use schemaforge_db::postgres::migrate::{self, History};
use schemaforge_diff::Step;
use schemaforge_kit::folder::MigrationFile;
use schemaforge_model::{ColumnType, QualifiedName, ScalarType, Schema};
use schemaforge_plan::Fact;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool, Postgres as Pg, Row, Transaction};
use tokio::sync::OnceCell;

use super::idle::{self, Idle};
use super::{CommitFailed, Failed};
use crate::ServeError;
use crate::error::ApiError;
use crate::tenant::UserId;
use crate::versions::{self, MigrationRecord, Recent, VersionRow};

pub struct Postgres {
    /// Use through `admin()`, which sets the service's tables up first.
    admin: PgPool,
    set_up: OnceCell<()>,
    options: PgConnectOptions,
    url: String,
    /// Derives the tenant roles' passwords; the same on every replica.
    secret: String,
    /// Tenants this replica has seen provisioned: their role and schema
    /// exist, so `provision` need not ask the database again. The service
    /// never drops a tenant; one dropped by hand is forgotten when logging
    /// in as it fails, and provisioned again by its next request.
    provisioned: std::sync::Mutex<HashSet<UserId>>,
    /// Connections logged in as tenants, idle between their requests.
    idle: Arc<Idle<TenantConnection>>,
}

/// How long a request waits for one of the service's own connections (the
/// pool retries a refused connection until then) before it is a 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a tenant connection waits idle for its tenant's next request
/// before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

const SERVICE_DDL: [&str; 4] = [
    "CREATE SCHEMA IF NOT EXISTS schemaforge_service",
    "CREATE TABLE IF NOT EXISTS schemaforge_service.tokens (
        token_sha256 text PRIMARY KEY,
        user_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )",
    "CREATE TABLE IF NOT EXISTS schemaforge_service.tenants (
        user_id text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
    )",
    // Tenants create nothing outside their own schema.
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
];

/// Creates the service's own tables. Replicas may start together: under one lock.
async fn set_up(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    conn.execute("SELECT pg_advisory_lock(7394021151)").await?;
    let mut result = Ok(());
    for ddl in SERVICE_DDL {
        if let Err(error) = conn.execute(ddl).await {
            result = Err(error);
            break;
        }
    }
    let _ = conn.execute("SELECT pg_advisory_unlock(7394021151)").await;
    result
}

/// The first key of the generation log's advisory locks (`sflg`); the second
/// is the userID's hash. Two-key advisory locks never conflict with one-key ones.
const LOG_LOCK: i32 = i32::from_be_bytes(*b"sflg");

impl Postgres {
    /// What the cache of idle tenant connections has done.
    pub fn idle_stats(&self) -> idle::IdleStats {
        self.idle.stats()
    }

    /// The backend for `url`, keeping up to `tenant_connections` idle tenant
    /// connections; the database is not contacted yet.
    pub fn open(url: &str, secret: &str, tenant_connections: usize) -> Result<Postgres, ServeError> {
        let options = PgConnectOptions::from_str(url)?;
        let admin = PgPoolOptions::new().max_connections(8).acquire_timeout(ACQUIRE_TIMEOUT).connect_lazy_with(options.clone());
        Ok(Postgres {
            admin,
            set_up: OnceCell::new(),
            options,
            url: url.to_string(),
            secret: secret.to_string(),
            provisioned: std::sync::Mutex::default(),
            idle: Idle::new(tenant_connections, IDLE_TIMEOUT),
        })
    }

    /// The service's own pool, once its tables exist (made by the first caller).
    async fn admin(&self) -> Result<&PgPool, ApiError> {
        self.set_up.get_or_try_init(|| set_up(&self.admin)).await?;
        Ok(&self.admin)
    }

    /// 200 when the database answers on a fresh connection (so a refusal is
    /// reported at once rather than after the pool's retries) and the
    /// service's tables are set up.
    pub async fn ready(&self) -> Result<(), ApiError> {
        let mut conn = PgConnection::connect_with(&self.options)
            .await
            .map_err(|e| ApiError::Database(format!("the database cannot be reached: {e}")))?;
        let answered = conn.execute("SELECT 1").await;
        let _ = conn.close().await;
        answered?;
        sqlx::query("SELECT 1").execute(self.admin().await?).await?;
        Ok(())
    }

    pub async fn token_user(&self, digest: &str) -> Result<Option<String>, ApiError> {
        Ok(sqlx::query_scalar("SELECT user_id FROM schemaforge_service.tokens WHERE token_sha256 = $1")
            .bind(digest)
            .fetch_optional(self.admin().await?)
            .await?)
    }

    pub async fn add_token(&self, digest: &str, user: &UserId) -> Result<(), ApiError> {
        sqlx::query("INSERT INTO schemaforge_service.tokens (token_sha256, user_id) VALUES ($1, $2)")
            .bind(digest)
            .bind(user.as_str())
            .execute(self.admin().await?)
            .await?;
        Ok(())
    }

    /// An advisory lock of the log's own, per tenant, held by a transaction.
    pub async fn lock_log(&self, user: &UserId) -> Result<Transaction<'static, Pg>, ApiError> {
        let mut tx = self.admin().await?.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))").bind(LOG_LOCK).bind(user.as_str()).execute(&mut *tx).await?;
        Ok(tx)
    }

    /// Makes sure the tenant's role and schema exist (idempotent, safe to
    /// race): asks the database once per tenant and replica.
    async fn provision(&self, user: &UserId) -> Result<(), ApiError> {
        if self.provisioned.lock().unwrap_or_else(PoisonError::into_inner).contains(user) {
            return Ok(());
        }
        self.provision_in_database(user).await?;
        self.provisioned.lock().unwrap_or_else(PoisonError::into_inner).insert(user.clone());
        Ok(())
    }

    /// Logging in as a tenant failed: perhaps its role is gone, so the next
    /// request asks the database again.
    fn forget(&self, user: &UserId) {
        self.provisioned.lock().unwrap_or_else(PoisonError::into_inner).remove(user);
    }

    async fn provision_in_database(&self, user: &UserId) -> Result<(), ApiError> {
        let namespace = user.namespace();
        let quoted = schemaforge_sql::postgres::quote_ident(&namespace);
        let mut tx = self.admin().await?.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('schemaforge tenant ' || $1))").bind(user.as_str()).execute(&mut *tx).await?;
        let known: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM schemaforge_service.tenants WHERE user_id = $1)")
            .bind(user.as_str())
            .fetch_one(&mut *tx)
            .await?;
        if known {
            tx.rollback().await?;
            return Ok(());
        }
        let role_exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)").bind(&namespace).fetch_one(&mut *tx).await?;
        let password = schemaforge_sql::postgres::quote_literal(&user.password(&self.secret));
        let role_sql = if role_exists {
            format!("ALTER ROLE {quoted} WITH LOGIN NOINHERIT NOCREATEDB NOCREATEROLE PASSWORD {password}")
        } else {
            format!("CREATE ROLE {quoted} WITH LOGIN NOINHERIT NOCREATEDB NOCREATEROLE PASSWORD {password}")
        };
        tx.execute(sqlx::AssertSqlSafe(role_sql)).await?;
        tx.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {quoted} AUTHORIZATION {quoted}"))).await?;
        tx.execute(sqlx::AssertSqlSafe(format!("REVOKE ALL ON SCHEMA {quoted} FROM PUBLIC"))).await?;
        sqlx::query("INSERT INTO schemaforge_service.tenants (user_id) VALUES ($1)").bind(user.as_str()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// How to log in as the tenant's own role.
    fn tenant_options(&self, user: &UserId) -> PgConnectOptions {
        self.options.clone().username(&user.namespace()).password(&user.password(&self.secret))
    }

    /// A connection logged in as the tenant: an idle one of its own when the
    /// cache has one, else a new one.
    async fn connection(&self, user: &UserId) -> Result<(TenantConnection, PgConnectOptions), ApiError> {
        self.provision(user).await?;
        let options = self.tenant_options(user);
        if let Some(conn) = self.idle.take(user) {
            return Ok((conn, options));
        }
        match TenantConnection::open(&options).await {
            Ok(conn) => Ok((conn, options)),
            Err(error) => {
                self.forget(user);
                Err(error.into())
            }
        }
    }

    pub async fn session(&self, user: &UserId) -> Result<Session, ApiError> {
        let (conn, options) = self.connection(user).await?;
        Ok(Session {
            tenant: Some(conn),
            options,
            user: user.clone(),
            idle: Arc::clone(&self.idle),
            history: History::in_schema(&user.namespace()),
            table: table(user),
            locked: false,
            in_transaction: false,
            recorded: false,
            failed: false,
        })
    }

    pub async fn reader(&self, user: &UserId) -> Result<Reader, ApiError> {
        let (conn, options) = self.connection(user).await?;
        Ok(Reader {
            tenant: Some(conn),
            options,
            user: user.clone(),
            idle: Arc::clone(&self.idle),
            namespace: user.namespace(),
            history: History::in_schema(&user.namespace()),
            table: table(user),
            url: self.url.clone(),
            failed: false,
        })
    }
}

fn table(user: &UserId) -> versions::Table {
    let name = format!("{}.\"__schemaforge_versions\"", schemaforge_sql::postgres::quote_ident(&user.namespace()));
    versions::Table::new(schemaforge_model::Dialect::Postgresql, name)
}

/// A connection logged in as one tenant, with what is known about it. It
/// serves that tenant only, for as long as it lives (`idle`).
pub struct TenantConnection {
    conn: PgConnection,
    /// Its backend's process id (for `Session::abandon`).
    pid: i32,
    /// The tenant's versions table is known to exist (made sure of on this
    /// connection): the check is one round trip a request need not make again.
    versions_ready: bool,
    /// The migration history's two tables are known to exist: a migration
    /// was committed on this connection, which records into both. Saves
    /// their `CREATE TABLE IF NOT EXISTS` (two round trips) in every later
    /// apply; `Session::apply` recovers when they are gone after all.
    history_ready: bool,
    /// It came from the cache: it may have died while idle (a server
    /// restart, a terminated backend), so its first statement may be retried
    /// on a new one (`Session::lock`, `Reader::first`).
    reused: bool,
}

impl TenantConnection {
    async fn open(options: &PgConnectOptions) -> Result<TenantConnection, sqlx::Error> {
        let mut conn = PgConnection::connect_with(options).await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut conn).await?;
        Ok(TenantConnection { conn, pid, versions_ready: false, history_ready: false, reused: false })
    }

    /// Puts the connection back the way a new one starts, so nothing a
    /// request (or a tenant's expression: `set_config`, an advisory lock)
    /// did to the session reaches the next request, and says whether it may
    /// be kept: `RESET` below, one round trip, is `DISCARD ALL` less its
    /// `DEALLOCATE ALL`. It closes cursors, goes back to the login role,
    /// resets settings, stops listening, releases advisory locks (the
    /// tenant's migration lock included), drops cached plans, temporary
    /// tables and sequence state.
    ///
    /// What it keeps is the statements sqlx prepared over the protocol, so
    /// the next request does not prepare them again (a round trip and a
    /// parse each). Why that is safe:
    /// - a connection only ever serves the tenant whose role it logged in
    ///   as (`idle` keys it by userID and hands it to no one else), so a
    ///   statement kept runs again for the same role, with that role's
    ///   rights, and reaches nothing that role could not reach anyway;
    /// - the statements are the service's own texts, every name in them
    ///   qualified, so the `search_path` a request leaves (reset anyway)
    ///   cannot change what they mean; PostgreSQL re-plans them when the
    ///   tables they read change;
    /// - a tenant's SQL can only make SQL-level ones (`PREPARE`, which an
    ///   expression cannot run and tenants have no custom SQL): should one
    ///   exist all the same, it could shadow a statement of sqlx's (the
    ///   names are predictable), so the connection is not kept but closed;
    /// - a transaction left open would leave this batch inside it (where
    ///   `DISCARD ALL` refused to run): `transaction_timestamp()` is then
    ///   that transaction's start, not this message's, and the connection
    ///   is closed, which rolls it back.
    async fn reset(&mut self) -> Result<bool, sqlx::Error> {
        let rows = sqlx::raw_sql(RESET).fetch_all(&mut self.conn).await?;
        match rows.last() {
            Some(row) => row.try_get::<bool, _>(0),
            None => Ok(false),
        }
    }
}

/// `DISCARD ALL` as PostgreSQL documents it, less `DEALLOCATE ALL` (see
/// `TenantConnection::reset`), then whether the session is clean: outside
/// any transaction of its own and without SQL-level prepared statements.
/// Sent as one query: its statements run in one implicit transaction.
const RESET: &str = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); \
    DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES; \
    SELECT transaction_timestamp() = statement_timestamp() AND NOT EXISTS (SELECT FROM pg_prepared_statements WHERE from_sql)";

impl idle::Close for TenantConnection {
    async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// Whether `error` says the connection itself is gone (rather than the
/// database refusing a statement): worth one retry on a new connection when
/// the connection had been idle.
fn connection_lost(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Io(_) | sqlx::Error::Protocol(_))
        || matches!(error, sqlx::Error::Database(e) if e.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")))
}

/// Hands a connection back after its request: reset and kept for the
/// tenant's next one when nothing went wrong on it, else closed.
async fn give_back(idle: &Arc<Idle<TenantConnection>>, user: &UserId, mut tenant: TenantConnection, usable: bool) {
    if usable && tenant.reset().await.unwrap_or(false) {
        tenant.reused = true;
        idle.put(user, tenant);
    } else {
        let _ = tenant.conn.close().await;
    }
}

async fn current(tenant: &mut TenantConnection, table: &versions::Table) -> Result<Vec<VersionRow>, ApiError> {
    if !tenant.versions_ready {
        tenant.conn.execute(sqlx::AssertSqlSafe(table.ddl())).await?;
        tenant.versions_ready = true;
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(table.select_current())).fetch_all(&mut tenant.conn).await?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in &rows {
        versions.extend(versions::decode(row)?);
    }
    Ok(versions)
}

async fn recent(tenant: &mut TenantConnection, table: &versions::Table) -> Result<Recent, ApiError> {
    if !tenant.versions_ready {
        tenant.conn.execute(sqlx::AssertSqlSafe(table.ddl())).await?;
        tenant.versions_ready = true;
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(table.select_entries())).fetch_all(&mut tenant.conn).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        entries.extend(versions::decode_entry(row)?);
    }
    let mut latest = None;
    for row in sqlx::query(sqlx::AssertSqlSafe(table.select_latest())).fetch_all(&mut tenant.conn).await? {
        latest = versions::decode(&row)?.or(latest);
    }
    Ok(Recent { entries, latest })
}

/// Notes that a step failed: the connection is not reused after it.
fn noted<T, E>(failed: &mut bool, result: Result<T, E>) -> Result<T, E> {
    if result.is_err() {
        *failed = true;
    }
    result
}

/// A tenant session for a change, logged in as the tenant.
pub struct Session {
    /// Always there until the session ends (`release`, `abandon`).
    tenant: Option<TenantConnection>,
    /// Logs in as the tenant again (to record a failure when this session
    /// is gone, and to end it).
    options: PgConnectOptions,
    user: UserId,
    idle: Arc<Idle<TenantConnection>>,
    history: History,
    table: versions::Table,
    locked: bool,
    in_transaction: bool,
    /// A migration was recorded in the open transaction (`apply`): once it
    /// commits, the history tables are known to exist on the connection.
    recorded: bool,
    /// Something failed on the connection: it is closed at the end, never reused.
    failed: bool,
}

/// The session's connection, which is there until it ends.
fn live(tenant: &mut Option<TenantConnection>) -> Result<&mut TenantConnection, sqlx::Error> {
    tenant.as_mut().ok_or_else(|| sqlx::Error::Protocol("the tenant's connection is already closed".into()))
}

impl Session {
    fn conn(&mut self) -> Result<&mut PgConnection, sqlx::Error> {
        live(&mut self.tenant).map(|t| &mut t.conn)
    }

    pub async fn lock(&mut self) -> Result<(), ApiError> {
        let tenant = live(&mut self.tenant)?;
        let mut result = migrate::lock(&mut tenant.conn, &self.history).await;
        if let Err(error) = &result
            && tenant.reused
            && connection_lost(error)
        {
            // It died while idle: nothing was done on it, so a new one may do it.
            let fresh = noted(&mut self.failed, TenantConnection::open(&self.options).await)?;
            if let Some(dead) = self.tenant.replace(fresh) {
                drop(dead);
            }
            result = migrate::lock(&mut live(&mut self.tenant)?.conn, &self.history).await;
        }
        noted(&mut self.failed, result)?;
        self.locked = true;
        Ok(())
    }

    pub async fn versions(&mut self) -> Result<Vec<VersionRow>, ApiError> {
        let result = match live(&mut self.tenant) {
            Ok(tenant) => current(tenant, &self.table).await,
            Err(error) => Err(error.into()),
        };
        noted(&mut self.failed, result)
    }

    pub async fn recent(&mut self) -> Result<Recent, ApiError> {
        let result = match live(&mut self.tenant) {
            Ok(tenant) => recent(tenant, &self.table).await,
            Err(error) => Err(error.into()),
        };
        noted(&mut self.failed, result)
    }

    pub async fn measure(&mut self, from: &Schema, to: &Schema, steps: &[Step]) -> Vec<Fact> {
        match self.conn() {
            Ok(conn) => schemaforge_db::postgres::probes::measure(conn, from, to, steps).await,
            Err(_) => Vec::new(),
        }
    }

    pub async fn begin_apply(&mut self) -> Result<(), ApiError> {
        let result = sqlx::raw_sql("BEGIN").execute(self.conn()?).await;
        noted(&mut self.failed, result)?;
        self.in_transaction = true;
        Ok(())
    }

    /// Runs the migration and records it, in the transaction `begin_apply`
    /// opened (nothing else has run in it yet). The history tables are made
    /// sure of once per connection: when they turn out to be gone after
    /// all (dropped by hand since), the transaction is begun again and the
    /// migration applied again with them made sure of, so the outcome is
    /// the one a new connection would give.
    pub async fn apply(&mut self, file: &MigrationFile, by: &str) -> Result<(), MigrateError> {
        let result = self.apply_once(file, by).await;
        let result = match result {
            Err(MigrateError::HistoryMissing { .. }) => match self.begin_again().await {
                Ok(()) => self.apply_once(file, by).await,
                Err(error) => Err(error.into()),
            },
            other => other,
        };
        noted(&mut self.failed, result)
    }

    async fn apply_once(&mut self, file: &MigrationFile, by: &str) -> Result<(), MigrateError> {
        let tenant = live(&mut self.tenant)?;
        let tables = if tenant.history_ready { migrate::Tables::Known } else { migrate::Tables::Ensure };
        let result = migrate::apply_within_tables(&mut tenant.conn, &self.history, file, by, tables).await;
        match &result {
            Ok(()) => self.recorded = true,
            Err(MigrateError::HistoryMissing { .. }) => tenant.history_ready = false,
            Err(_) => {}
        }
        result
    }

    /// Rolls back the transaction `begin_apply` opened and begins another.
    async fn begin_again(&mut self) -> Result<(), sqlx::Error> {
        sqlx::raw_sql("ROLLBACK").execute(self.conn()?).await?;
        sqlx::raw_sql("BEGIN").execute(self.conn()?).await?;
        Ok(())
    }

    pub async fn undo(&mut self, file: &MigrationFile, down: &[String], by: &str) -> Result<(), MigrateError> {
        let result = migrate::roll_back_within(&mut live(&mut self.tenant)?.conn, &self.history, file, down, by).await;
        noted(&mut self.failed, result)
    }

    pub async fn insert_version(&mut self, row: &VersionRow) -> Result<(), ApiError> {
        let insert = self.table.insert();
        let result = versions::bind(sqlx::query(sqlx::AssertSqlSafe(insert)), row).execute(self.conn()?).await;
        noted(&mut self.failed, result)?;
        Ok(())
    }

    pub async fn mark_rolled_back(&mut self, listed: &[String]) -> Result<(), ApiError> {
        let update = self.table.mark_rolled_back();
        let result = sqlx::query(sqlx::AssertSqlSafe(update)).bind(versions::listed(listed)).execute(self.conn()?).await;
        noted(&mut self.failed, result)?;
        Ok(())
    }

    pub async fn roll_back(&mut self) -> bool {
        self.in_transaction = false;
        self.recorded = false;
        let rolled_back = match self.conn() {
            Ok(conn) => sqlx::raw_sql("ROLLBACK").execute(conn).await.is_ok(),
            Err(_) => false,
        };
        if !rolled_back {
            self.failed = true;
        }
        rolled_back
    }

    pub async fn record_failure(&mut self, failed: &Failed<'_>, alive: bool) {
        let Failed { file, by, started, error } = *failed;
        if alive && let Ok(conn) = live(&mut self.tenant).map(|t| &mut t.conn) {
            let _ = migrate::record_failure(conn, &self.history, file, by, started, error).await;
        } else if let Ok(mut other) = PgConnection::connect_with(&self.options).await {
            // Its session is gone (and with it the lock): record from a new
            // one, which never overwrites a later success.
            let _ = migrate::record_failure(&mut other, &self.history, file, by, started, error).await;
            let _ = other.close().await;
        }
    }

    pub async fn commit(&mut self) -> Result<(), CommitFailed> {
        self.in_transaction = false;
        let result = match self.conn() {
            Ok(conn) => sqlx::raw_sql("COMMIT").execute(conn).await.map(|_| ()),
            Err(error) => Err(error),
        };
        noted(&mut self.failed, result).map_err(|e| CommitFailed::Database(e.to_string()))?;
        // A migration committed was recorded in both history tables, so
        // they exist: later requests on this connection need not make sure.
        if self.recorded
            && let Ok(tenant) = live(&mut self.tenant)
        {
            tenant.history_ready = true;
        }
        Ok(())
    }

    /// Ends the session: an open transaction is rolled back and the
    /// connection kept for the tenant's next request (its reset releases the
    /// lock), or, when anything failed on it, the lock released and the
    /// connection closed.
    pub async fn release(mut self) {
        let Some(mut tenant) = self.tenant.take() else { return };
        let mut usable = !self.failed;
        if self.in_transaction {
            usable &= sqlx::raw_sql("ROLLBACK").execute(&mut tenant.conn).await.is_ok();
        }
        if !usable && self.locked {
            let _ = migrate::unlock(&mut tenant.conn, &self.history).await;
        }
        give_back(&self.idle, &self.user, tenant, usable).await;
    }

    /// A statement may still run on the server, holding the tenant's lock:
    /// the session is closed and its backend ended, which rolls back what it
    /// had begun. A role may end its own backends, so the tenant's own
    /// connection does it. The connection is never reused.
    pub async fn abandon(mut self) {
        let Some(tenant) = self.tenant.take() else { return };
        let TenantConnection { conn, pid, .. } = tenant;
        drop(conn);
        if let Ok(mut other) = PgConnection::connect_with(&self.options).await {
            let _ = sqlx::query("SELECT pg_terminate_backend($1)").bind(pid).execute(&mut other).await;
            let _ = other.close().await;
        }
    }
}

/// A tenant connection for reading, logged in as the tenant.
pub struct Reader {
    /// Always there until `close`.
    tenant: Option<TenantConnection>,
    options: PgConnectOptions,
    user: UserId,
    idle: Arc<Idle<TenantConnection>>,
    namespace: String,
    history: History,
    table: versions::Table,
    /// Where a definition is built apart for comparison (the same server).
    url: String,
    /// Something failed on the connection: it is closed, never reused.
    failed: bool,
}

impl Reader {
    /// Checks the connection once when it came from the cache: one that
    /// died while idle is replaced before anything is read on it.
    async fn first(&mut self) -> Result<(), sqlx::Error> {
        let tenant = live(&mut self.tenant)?;
        if tenant.reused {
            tenant.reused = false;
            if let Err(error) = tenant.conn.ping().await {
                if !connection_lost(&error) {
                    return Err(error);
                }
                self.tenant = Some(TenantConnection::open(&self.options).await?);
            }
        }
        Ok(())
    }

    pub async fn versions(&mut self) -> Result<Vec<VersionRow>, ApiError> {
        let result = match self.first().await.and_then(|()| live(&mut self.tenant)) {
            Ok(tenant) => current(tenant, &self.table).await,
            Err(error) => Err(error.into()),
        };
        noted(&mut self.failed, result)
    }

    pub async fn migrations(&mut self) -> Result<Vec<MigrationRecord>, ApiError> {
        let result = self.read_migrations().await;
        noted(&mut self.failed, result)
    }

    async fn read_migrations(&mut self) -> Result<Vec<MigrationRecord>, ApiError> {
        self.first().await?;
        let ours = self.history.ours();
        let tenant = live(&mut self.tenant)?;
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(ours).fetch_one(&mut tenant.conn).await?;
        if !exists {
            return Ok(Vec::new());
        }
        if !tenant.versions_ready {
            tenant.conn.execute(sqlx::AssertSqlSafe(self.table.ddl())).await?;
            tenant.versions_ready = true;
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(self.table.select_history(ours))).fetch_all(&mut tenant.conn).await?;
        Ok(rows.iter().map(versions::decode_migration).collect::<Result<_, _>>()?)
    }

    /// The tenant's schema (read within what `expected` speaks for) and
    /// `expected` built in a temporary database on the same server, both
    /// read back, so both are in the server's words.
    pub async fn compare(&mut self, expected: &Schema) -> Result<(Schema, Schema), ApiError> {
        use schemaforge_db::postgres::{IntrospectOptions, build_shadow, declared_view, introspect};
        let options = IntrospectOptions { schemas: vec![self.namespace.clone()], roles: Vec::new() };
        let read = match self.first().await.and_then(|()| live(&mut self.tenant)) {
            Ok(tenant) => introspect(&mut tenant.conn, &options).await.map_err(|e| ApiError::Database(e.to_string())),
            Err(error) => Err(error.into()),
        };
        let read = noted(&mut self.failed, read)?;
        let live = declared_view(read.schema, expected);
        let target = build_shadow(&self.url, expected).await.map_err(|e| ApiError::Database(e.to_string()))?;
        Ok((live, target.schema))
    }

    /// Ends the read: the connection is kept for the tenant's next request
    /// unless something failed on it.
    pub async fn close(mut self) {
        if let Some(tenant) = self.tenant.take() {
            give_back(&self.idle, &self.user, tenant, !self.failed).await;
        }
    }
}

/// The tenant's empty schema: its namespace exists (the service made it).
pub fn baseline(namespace: &str) -> Schema {
    let mut schema = Schema::empty(schemaforge_model::Dialect::Postgresql);
    schema.namespaces = vec![namespace.to_string()];
    schema
}

/// `schema` moved into the tenant's namespace: every object that would be in
/// `public` is in `namespace` instead.
pub fn into_namespace(schema: &Schema, namespace: &str) -> Schema {
    let place = |name: &mut QualifiedName| {
        if name.schema.is_none() {
            name.schema = Some(namespace.to_string());
        }
    };
    let place_type = |ty: &mut ColumnType| {
        if let ScalarType::Enum(name) = &mut ty.scalar
            && name.schema.is_none()
        {
            name.schema = Some(namespace.to_string());
        }
    };
    let mut moved = schema.clone();
    moved.namespaces = vec![namespace.to_string()];
    for e in &mut moved.enums {
        place(&mut e.name);
    }
    for table in &mut moved.tables {
        place(&mut table.name);
        for column in &mut table.columns {
            place_type(&mut column.ty);
        }
        for fk in &mut table.foreign_keys {
            place(&mut fk.referenced_table);
        }
    }
    moved
}

#[cfg(test)]
mod tests {
    use schemaforge_testkit::postgres::TestDatabase;

    use super::*;

    async fn connection(db: &TestDatabase) -> TenantConnection {
        let mut conn = db.connect().await;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut conn).await.expect("pid");
        TenantConnection { conn, pid, versions_ready: false, history_ready: false, reused: false }
    }

    async fn text(conn: &mut PgConnection, sql: &'static str) -> Option<String> {
        sqlx::query_scalar(sql).fetch_one(conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// What a migration (or an expression in it) can leave on its session
    /// does not reach the next request; the statements sqlx prepared do.
    #[tokio::test]
    async fn a_reset_leaves_nothing_of_a_request_but_the_statements_sqlx_prepared() {
        let db = TestDatabase::create("reset-clean").await;
        let mut tenant = connection(&db).await;
        let sum: i32 = sqlx::query_scalar("SELECT $1::int4 + 1").bind(41).fetch_one(&mut tenant.conn).await.expect("prepared");
        assert_eq!(sum, 42);
        sqlx::raw_sql(
            "CREATE SEQUENCE counter; SELECT nextval('counter');
             SET application_name = 'leaked'; SET search_path = pg_catalog; SET statement_timeout = '1s';
             CREATE TEMP TABLE scratch (x int); SELECT pg_advisory_lock(4242); LISTEN somewhere;
             BEGIN; DECLARE kept CURSOR WITH HOLD FOR SELECT 1; COMMIT; SET ROLE pg_monitor",
        )
        .execute(&mut tenant.conn)
        .await
        .expect("a session made dirty");
        assert!(tenant.reset().await.expect("reset"), "a clean session was not kept");

        let conn = &mut tenant.conn;
        assert_eq!(text(conn, "SELECT current_setting('application_name')").await.as_deref(), Some(""));
        assert_eq!(text(conn, "SELECT current_setting('search_path')").await.as_deref(), Some("\"$user\", public"));
        assert_eq!(text(conn, "SELECT current_setting('statement_timeout')").await.as_deref(), Some("0"));
        assert_eq!(text(conn, "SELECT CAST(current_user = session_user AS text)").await.as_deref(), Some("true"));
        assert_eq!(text(conn, "SELECT CAST(to_regclass('pg_temp.scratch') AS text)").await, None, "the temporary table outlived the reset");
        assert_eq!(text(conn, "SELECT string_agg(c, ',') FROM pg_listening_channels() c").await, None);
        assert_eq!(text(conn, "SELECT string_agg(name, ',') FROM pg_cursors WHERE name <> ''").await, None);
        assert_eq!(
            text(conn, "SELECT CAST(count(*) AS text) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
                .await
                .as_deref(),
            Some("0")
        );
        let currval = sqlx::raw_sql("SELECT currval('public.counter')").execute(&mut *conn).await;
        assert!(currval.is_err(), "the sequence's session state outlived the reset");
        // sqlx's statement is still prepared, and runs again without a new prepare.
        assert_eq!(
            text(
                conn,
                "SELECT CAST(count(*) AS text) FROM pg_prepared_statements WHERE NOT from_sql AND statement = 'SELECT $1::int4 + 1'"
            )
            .await
            .as_deref(),
            Some("1")
        );
        let again: i32 = sqlx::query_scalar("SELECT $1::int4 + 1").bind(1).fetch_one(&mut *conn).await.expect("prepared");
        assert_eq!(again, 2);
    }

    /// An SQL-level prepared statement (which could stand in for one of
    /// sqlx's under its name) makes the connection one that is not kept.
    #[tokio::test]
    async fn a_session_with_an_sql_level_prepared_statement_is_not_kept() {
        let db = TestDatabase::create("reset-prepared").await;
        let mut tenant = connection(&db).await;
        sqlx::raw_sql("PREPARE planted AS SELECT 1").execute(&mut tenant.conn).await.expect("prepared");
        assert!(!tenant.reset().await.expect("reset"));

        let idle = Idle::new(4, IDLE_TIMEOUT);
        let user = UserId::parse("ada").expect("valid");
        let mut tenant = connection(&db).await;
        sqlx::raw_sql("PREPARE planted AS SELECT 1").execute(&mut tenant.conn).await.expect("prepared");
        give_back(&idle, &user, tenant, true).await;
        assert!(idle.take(&user).is_none(), "a connection with a planted statement was kept");
        let mut clean = connection(&db).await;
        let _: i32 = sqlx::query_scalar("SELECT $1::int4").bind(1).fetch_one(&mut clean.conn).await.expect("prepared");
        give_back(&idle, &user, clean, true).await;
        assert!(idle.take(&user).is_some(), "a clean connection was not kept");
    }

    /// A transaction left open is not reset into (which would leave it
    /// open): the connection is not kept, and what it did is rolled back.
    #[tokio::test]
    async fn a_session_left_in_a_transaction_is_not_kept() {
        let db = TestDatabase::create("reset-open").await;
        let mut tenant = connection(&db).await;
        sqlx::raw_sql("BEGIN; CREATE TABLE half (x int)").execute(&mut tenant.conn).await.expect("begun");
        assert!(!tenant.reset().await.expect("reset"));
        let idle = Idle::new(4, IDLE_TIMEOUT);
        let user = UserId::parse("ada").expect("valid");
        give_back(&idle, &user, tenant, true).await;
        assert!(idle.take(&user).is_none(), "a connection inside a transaction was kept");
        let mut other = db.connect().await;
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('public.half') IS NOT NULL").fetch_one(&mut other).await.expect("asked");
        assert!(!exists, "the open transaction was committed");
    }
}
