//! Where tenants live: the closed set of backends the service runs on,
//! matched exhaustively, one module per dialect with the same roles.
//!
//! - `postgres`: one database; each tenant a schema owned by a login role of
//!   its own, its requests serialised on an advisory lock, its connections
//!   (logged in as it) kept idle between its requests (`idle`), the
//!   service's own tables (tokens, tenants) in `schemaforge_service`.
//! - `sqlite`: the default when no database is configured; each tenant a
//!   file `<data-dir>/tenants/<userID>.sqlite`, its requests serialised on
//!   that file's write lock, the service's own tables in
//!   `<data-dir>/service.sqlite`; a tenant's file stays open between its
//!   requests (`idle`).
//!
//! Each provides the same things: the service's store (`ready`, tokens, the
//! generation log's lock), a `Session` for a request that changes a tenant
//! (lock, versions, measure, apply or roll back with the version's record in
//! one transaction, commit, and giving up at the deadline), and a `Reader`
//! for the requests that only read one. The pipelines in `generate` and
//! `history` are written once against these.

pub mod idle;
pub mod postgres;
pub mod sqlite;

use std::time::Instant;

use schemaforge_db::history::MigrateError;
use schemaforge_diff::Step;
use schemaforge_kit::folder::MigrationFile;
use schemaforge_model::{Dialect, Schema};
use schemaforge_plan::Fact;

use crate::error::ApiError;
use crate::tenant::UserId;
use crate::versions::{MigrationRecord, Recent, VersionRow};
use crate::{Config, ServeError, Tenancy};

/// The database tenants live in.
pub enum Backend {
    /// Boxed: its pool and connect options are large, and there is one backend per service.
    Postgres(Box<postgres::Postgres>),
    Sqlite(sqlite::Sqlite),
}

impl Backend {
    /// The backend the configuration names; nothing is contacted yet.
    pub fn open(config: &Config) -> Result<Backend, ServeError> {
        match &config.tenancy {
            Tenancy::Postgres { url, .. } if schemaforge_db::sqlite::is_sqlite_url(url) => Err(ServeError::SqliteUrl(url.clone())),
            Tenancy::Postgres { url, secret } => {
                Ok(Backend::Postgres(Box::new(postgres::Postgres::open(url, secret, config.tenant_connections)?)))
            }
            Tenancy::Sqlite => {
                Ok(Backend::Sqlite(sqlite::Sqlite::open(&config.data_dir, config.request_timeout, config.tenant_connections)?))
            }
        }
    }

    /// What the cache of idle tenant connections has done (`/metrics`).
    pub fn tenant_connections(&self) -> idle::IdleStats {
        match self {
            Backend::Postgres(backend) => backend.idle_stats(),
            Backend::Sqlite(backend) => backend.idle_stats(),
        }
    }

    /// The dialect tenants' definitions are lowered for.
    pub fn dialect(&self) -> Dialect {
        match self {
            Backend::Postgres(_) => Dialect::Postgresql,
            Backend::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Answers when the service's own store answers (and is set up): `/readyz`.
    pub async fn ready(&self) -> Result<(), ApiError> {
        match self {
            Backend::Postgres(backend) => backend.ready().await,
            Backend::Sqlite(backend) => backend.ready().await,
        }
    }

    /// Whom a token (by its digest) was issued for.
    pub async fn token_user(&self, digest: &str) -> Result<Option<String>, ApiError> {
        match self {
            Backend::Postgres(backend) => backend.token_user(digest).await,
            Backend::Sqlite(backend) => backend.token_user(digest).await,
        }
    }

    pub async fn add_token(&self, digest: &str, user: &UserId) -> Result<(), ApiError> {
        match self {
            Backend::Postgres(backend) => backend.add_token(digest, user).await,
            Backend::Sqlite(backend) => backend.add_token(digest, user).await,
        }
    }

    /// Holds every writer of the tenant's generation log off (on every
    /// replica) until `LogLock::release`: not the tenant's migration lock.
    pub async fn lock_log(&self, user: &UserId) -> Result<LogLock, ApiError> {
        match self {
            Backend::Postgres(backend) => Ok(LogLock::Postgres(backend.lock_log(user).await?)),
            Backend::Sqlite(backend) => Ok(LogLock::Sqlite(backend.lock_log().await?)),
        }
    }

    /// A session for a request that changes the tenant (which is created on
    /// first contact). Nothing is locked yet: see `Session::lock`.
    pub async fn session(&self, user: &UserId) -> Result<Session, ApiError> {
        match self {
            Backend::Postgres(backend) => Ok(Session::Postgres(backend.session(user).await?)),
            Backend::Sqlite(backend) => Ok(Session::Sqlite(backend.session(user).await?)),
        }
    }

    /// A connection for reading the tenant (under no lock: a read sees
    /// committed versions only).
    pub async fn reader(&self, user: &UserId) -> Result<Reader, ApiError> {
        match self {
            Backend::Postgres(backend) => Ok(Reader::Postgres(Box::new(backend.reader(user).await?))),
            Backend::Sqlite(backend) => Ok(Reader::Sqlite(backend.reader(user).await?)),
        }
    }

    /// The tenant's schema before its first version.
    pub fn baseline(&self, user: &UserId) -> Schema {
        match self {
            Backend::Postgres(_) => postgres::baseline(&user.namespace()),
            Backend::Sqlite(_) => Schema::empty(Dialect::Sqlite),
        }
    }

    /// A tenant's definition as the database holds it: on PostgreSQL, moved
    /// into the tenant's schema; on SQLite, as it is (the file is the tenant's).
    pub fn place(&self, user: &UserId, schema: &Schema) -> Schema {
        match self {
            Backend::Postgres(_) => postgres::into_namespace(schema, &user.namespace()),
            Backend::Sqlite(_) => schema.clone(),
        }
    }

    /// Whether the version `tag` is recorded as current, read afresh: what
    /// a commit whose answer was lost did.
    pub async fn committed(&self, user: &UserId, tag: &str) -> bool {
        let Ok(mut reader) = self.reader(user).await else { return false };
        let found = reader.versions().await.is_ok_and(|rows| rows.iter().any(|r| r.tag == tag));
        reader.close().await;
        found
    }
}

/// The generation log's lock, held while its one line is added.
pub enum LogLock {
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

impl LogLock {
    pub async fn release(self) {
        // Nothing was written under it: ending it is all that matters.
        let _ = match self {
            LogLock::Postgres(tx) => tx.commit().await,
            LogLock::Sqlite(tx) => tx.commit().await,
        };
    }
}

/// Why a commit did not happen (the transaction was rolled back).
pub enum CommitFailed {
    /// SQLite found rows whose foreign keys point nowhere (summarised).
    ForeignKeys(String),
    /// The database failed; whether it committed is for `Backend::committed` to say.
    Database(String),
}

/// One request's hold on a tenant, for changing it. The tenant's lock is
/// taken by `lock` and held until `release` (or `abandon`).
pub enum Session {
    Postgres(postgres::Session),
    Sqlite(sqlite::Session),
}

impl Session {
    /// Takes the tenant's lock (waiting for another request, on any replica,
    /// to finish with it) and makes sure its versions table exists. On SQLite
    /// the lock is the file's write transaction, which the rest of the
    /// request runs in.
    pub async fn lock(&mut self) -> Result<(), ApiError> {
        match self {
            Session::Postgres(session) => session.lock().await,
            Session::Sqlite(session) => session.lock().await,
        }
    }

    /// Every current version whole, oldest first.
    pub async fn versions(&mut self) -> Result<Vec<VersionRow>, ApiError> {
        match self {
            Session::Postgres(session) => session.versions().await,
            Session::Sqlite(session) => session.versions().await,
        }
    }

    /// Every current version's place in the folder and the latest whole:
    /// what a change reads (`versions` is what repairing the folder reads).
    pub async fn recent(&mut self) -> Result<Recent, ApiError> {
        match self {
            Session::Postgres(session) => session.recent().await,
            Session::Sqlite(session) => session.recent().await,
        }
    }

    /// The facts behind the hazards of `steps`, measured on the tenant's rows.
    pub async fn measure(&mut self, from: &Schema, to: &Schema, steps: &[Step]) -> Vec<Fact> {
        match self {
            Session::Postgres(session) => session.measure(from, to, steps).await,
            Session::Sqlite(session) => session.measure(from, to, steps).await,
        }
    }

    /// Opens the transaction the scripts (each a list of statements) will
    /// run in, with the version's record. `false` when it cannot be had
    /// under the lock as taken (SQLite: the scripts rebuild tables, and
    /// foreign keys can only be turned off before the lock's transaction
    /// begins): the caller releases the lock and starts over, and the next
    /// `lock` turns them off first.
    pub async fn begin_apply(&mut self, scripts: &[Vec<String>]) -> Result<bool, ApiError> {
        match self {
            Session::Postgres(session) => session.begin_apply().await.map(|()| true),
            Session::Sqlite(session) => Ok(session.begin_apply(scripts)),
        }
    }

    /// Applies a migration in the open transaction, with its history.
    pub async fn apply(&mut self, file: &MigrationFile, by: &str) -> Result<(), MigrateError> {
        match self {
            Session::Postgres(session) => session.apply(file, by).await,
            Session::Sqlite(session) => session.apply(file, by).await,
        }
    }

    /// Undoes a migration with its down statements in the open transaction, with its history.
    pub async fn undo(&mut self, file: &MigrationFile, down: &[String], by: &str) -> Result<(), MigrateError> {
        match self {
            Session::Postgres(session) => session.undo(file, down, by).await,
            Session::Sqlite(session) => session.undo(file, down, by).await,
        }
    }

    pub async fn insert_version(&mut self, row: &VersionRow) -> Result<(), ApiError> {
        match self {
            Session::Postgres(session) => session.insert_version(row).await,
            Session::Sqlite(session) => session.insert_version(row).await,
        }
    }

    pub async fn mark_rolled_back(&mut self, versions: &[String]) -> Result<(), ApiError> {
        match self {
            Session::Postgres(session) => session.mark_rolled_back(versions).await,
            Session::Sqlite(session) => session.mark_rolled_back(versions).await,
        }
    }

    /// Rolls the open transaction back; `false` when the connection could
    /// not even do that (it is gone, and its transaction with it).
    pub async fn roll_back(&mut self) -> bool {
        match self {
            Session::Postgres(session) => session.roll_back().await,
            Session::Sqlite(session) => session.roll_back().await,
        }
    }

    /// Records a failed migration in the tenant's history, after its
    /// transaction was rolled back (from a new connection when this one is
    /// gone). A record, best effort: it never changes the answer.
    pub async fn record_failure(&mut self, failed: &Failed<'_>, alive: bool) {
        match self {
            Session::Postgres(session) => session.record_failure(failed, alive).await,
            Session::Sqlite(session) => session.record_failure(failed, alive).await,
        }
    }

    /// Commits the open transaction (on SQLite after checking every foreign
    /// key, when they were off). Never called under the deadline.
    pub async fn commit(&mut self) -> Result<(), CommitFailed> {
        match self {
            Session::Postgres(session) => session.commit().await,
            Session::Sqlite(session) => session.commit().await,
        }
    }

    /// Ends the session: an open transaction is rolled back, the lock released.
    pub async fn release(self) {
        match self {
            Session::Postgres(session) => session.release().await,
            Session::Sqlite(session) => session.release().await,
        }
    }

    /// Gives the session up after its work was dropped at the deadline,
    /// before its commit: whatever it had begun is rolled back and the lock
    /// released, however far its last statement got.
    pub async fn abandon(self) {
        match self {
            Session::Postgres(session) => session.abandon().await,
            Session::Sqlite(session) => session.abandon(),
        }
    }
}

/// A migration that failed, for its history entry.
pub struct Failed<'a> {
    pub file: &'a MigrationFile,
    pub by: &'a str,
    pub started: Instant,
    pub error: &'a str,
}

/// One request's connection for reading a tenant.
pub enum Reader {
    /// Boxed: it carries the tenant's connect options.
    Postgres(Box<postgres::Reader>),
    Sqlite(sqlite::Reader),
}

impl Reader {
    pub async fn versions(&mut self) -> Result<Vec<VersionRow>, ApiError> {
        match self {
            Reader::Postgres(reader) => reader.versions().await,
            Reader::Sqlite(reader) => reader.versions().await,
        }
    }

    /// Every migration the tenant has seen, by name.
    pub async fn migrations(&mut self) -> Result<Vec<MigrationRecord>, ApiError> {
        match self {
            Reader::Postgres(reader) => reader.migrations().await,
            Reader::Sqlite(reader) => reader.migrations().await,
        }
    }

    /// The tenant's schema as the database holds it, and `expected` built
    /// apart and read back the same way, for comparing the two.
    pub async fn compare(&mut self, expected: &Schema) -> Result<(Schema, Schema), ApiError> {
        match self {
            Reader::Postgres(reader) => reader.compare(expected).await,
            Reader::Sqlite(reader) => reader.compare(expected).await,
        }
    }

    pub async fn close(self) {
        match self {
            Reader::Postgres(reader) => (*reader).close().await,
            Reader::Sqlite(reader) => reader.close().await,
        }
    }
}
