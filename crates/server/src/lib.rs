//! `schemaforge serve`: the multi-tenant HTTP service over the same core as
//! the CLI.
//!
//! A request names a tenant (`userID`); the service validates the definition,
//! plans it against the tenant's latest version, holds back hazards that were
//! not allowed, applies the migration together with the new version's record
//! in one transaction, and then writes the artifacts. The database is the
//! source of truth: artifacts are a projection of the version records and are
//! rewritten from them when missing.
//!
//! Tenants live in one of the `backend`s: a PostgreSQL database (each tenant
//! its own schema, migrated logged in as its own role, requests serialised on
//! an advisory lock) or, when no database is configured, SQLite files under
//! the data directory (each tenant its own file, requests serialised on its
//! write lock). Either way any number of replicas can serve the same tenants.

mod artifacts;
mod auth;
pub mod backend;
mod deadline;
mod error;
mod generate;
mod history;
mod lowered;
mod metrics;
mod openapi;
mod package;
mod routes;
mod state;
pub mod tenant;
mod versions;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use error::ApiError;
pub use state::AppState;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Where the service keeps its own files (on SQLite: `service.sqlite` and
    /// `tenants/<userID>.sqlite`), and the artifacts when no `store` is given
    /// (`drizzle/{userID}/…`).
    pub data_dir: PathBuf,
    /// Where artifacts are written: `s3://bucket[/prefix]` (credentials,
    /// region and endpoint from the usual `AWS_*` variables), or `None` for
    /// the data directory.
    pub store: Option<String>,
    /// Where tenants live.
    pub tenancy: Tenancy,
    /// The token that may act for any user; none disables admin routes.
    pub admin_token: Option<String>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Longest a request may take before it is answered 408. Requests that
    /// change a tenant (generate, rollback) keep this deadline up to their
    /// commit and are never cut off after it: a committed change is answered
    /// with its result, however long writing its artifacts takes.
    pub request_timeout: Duration,
    /// How many idle tenant connections are kept for the tenants' next
    /// requests (PostgreSQL; 0 keeps none), each for its own tenant only.
    /// Logging in anew is most of what a small request costs the database.
    /// The service holds up to this many connections besides its own pool
    /// (8) and one per request in flight.
    pub tenant_connections: usize,
    /// The size in bytes past which a tenant's `logs/generation.log` is
    /// closed into a numbered segment (`logs/generation.000001.log`, …) and
    /// begun anew: an object store cannot append, so each request reads and
    /// writes the current log back whole, and this bounds what that costs.
    pub log_segment_bytes: u64,
}

/// Where tenants live.
#[derive(Debug, Clone)]
pub enum Tenancy {
    /// One PostgreSQL database, each tenant in its own schema owned by its
    /// own role. `secret` derives the roles' passwords; the same on every replica.
    Postgres { url: String, secret: String },
    /// SQLite files under the data directory, one per tenant
    /// (`tenants/<userID>.sqlite`), the service's own tables in `service.sqlite`.
    Sqlite,
}

impl Config {
    /// 8 MiB: a 5,000-table definition is about 4.5 MiB.
    pub const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
    /// A third of PostgreSQL's default `max_connections` (100).
    pub const DEFAULT_TENANT_CONNECTIONS: usize = 32;
    /// 1 MiB: about 7,000 requests' lines (some 140 bytes each), so a
    /// request copies at most a megabyte, and a busy tenant's log is closed
    /// every few thousand requests.
    pub const DEFAULT_LOG_SEGMENT_BYTES: u64 = 1024 * 1024;
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the database URL is not valid: {0}")]
    Database(#[from] sqlx::Error),
    #[error(
        "{0} is a SQLite database, but the service keeps each tenant in a SQLite file of its own under the data directory: leave the database URL unset (and choose the directory with --data-dir)"
    )]
    SqliteUrl(String),
    #[error("cannot use the data directory {dir}: {source}")]
    DataDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the artifact store failed: {0}")]
    Store(#[from] object_store::Error),
    #[error("--store {0}: expected s3://bucket[/prefix]")]
    StoreUrl(String),
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// Runs the service until `shutdown` resolves, then drains open requests.
/// `on_listening` is told the bound address (port 0 picks a free one). A
/// database that cannot be reached yet does not stop it: `/readyz` says so
/// (503) until it can, and `warn` is told once.
pub async fn run(
    config: Config,
    on_listening: impl FnOnce(SocketAddr),
    warn: impl FnOnce(String),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let state = state::Shared::open(config.clone())?;
    match tokio::time::timeout(Duration::from_secs(5), state.backend.ready()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => warn(format!("the database is not ready yet ({error}); /readyz answers 503 until it is")),
        Err(_) => warn("the database did not answer within 5 s; /readyz answers 503 until it does".to_string()),
    }
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    on_listening(addr);
    axum::serve(listener, routes::router(state)).with_graceful_shutdown(shutdown).await.map_err(ServeError::Serve)
}
