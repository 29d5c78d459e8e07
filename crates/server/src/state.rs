//! What every request shares: configuration, the service's own database pool,
//! the artifact store, and the counters `/metrics` reports.
//!
//! The service starts without its database: the pool connects on first use
//! and the service's own tables are set up by the first request that reaches
//! the database, so `/healthz` answers at once and `/readyz` says 503 until
//! the database is there.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::sync::{Mutex, OnceCell, OwnedMutexGuard};

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::tenant::UserId;
use crate::{Config, ServeError};

pub struct Shared {
    pub config: Config,
    /// Use through `admin()`, which sets the service's tables up first.
    admin: PgPool,
    set_up: OnceCell<()>,
    /// This replica's queue per tenant (see `turn`).
    queues: std::sync::Mutex<HashMap<String, Weak<Mutex<()>>>>,
    pub store: Arc<dyn ObjectStore>,
    pub metrics: Metrics,
    tenant_options: PgConnectOptions,
}

/// How long a request waits for one of the service's own connections (the
/// pool retries a refused connection until then) before it is a 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

pub type AppState = Arc<Shared>;

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

/// The artifact store the configuration names.
fn open_store(config: &Config) -> Result<Arc<dyn ObjectStore>, ServeError> {
    let Some(url) = &config.store else {
        return Ok(Arc::new(LocalFileSystem::new_with_prefix(&config.data_dir)?));
    };
    let rest = url.strip_prefix("s3://").ok_or_else(|| ServeError::StoreUrl(url.clone()))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(ServeError::StoreUrl(url.clone()));
    }
    let s3 = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket).build()?;
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() { Ok(Arc::new(s3)) } else { Ok(Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))) }
}

impl Shared {
    /// The shared state; the database is not contacted yet (see `set_up`).
    pub fn open(config: Config) -> Result<AppState, ServeError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::DataDir { dir: config.data_dir.clone(), source })?;
        let store = open_store(&config)?;
        let options = PgConnectOptions::from_str(&config.database_url)?;
        let admin = PgPoolOptions::new().max_connections(8).acquire_timeout(ACQUIRE_TIMEOUT).connect_lazy_with(options.clone());
        Ok(Arc::new(Shared {
            config,
            admin,
            set_up: OnceCell::new(),
            queues: std::sync::Mutex::default(),
            store,
            metrics: Metrics::default(),
            tenant_options: options,
        }))
    }

    /// Waits for the tenant's turn on this replica. Requests that change a
    /// tenant take its advisory lock in the database, which is what keeps
    /// them apart across replicas; queueing here first means a burst of them
    /// holds one database connection per replica instead of one per request.
    pub async fn turn(&self, user: &UserId) -> OwnedMutexGuard<()> {
        let queue = {
            let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
            queues.retain(|_, queue| queue.strong_count() > 0);
            match queues.get(user.as_str()).and_then(Weak::upgrade) {
                Some(queue) => queue,
                None => {
                    let queue = Arc::new(Mutex::new(()));
                    queues.insert(user.as_str().to_string(), Arc::downgrade(&queue));
                    queue
                }
            }
        };
        queue.lock_owned().await
    }

    /// The service's own pool, once its tables exist (made by the first caller).
    pub async fn admin(&self) -> Result<&PgPool, ApiError> {
        self.set_up.get_or_try_init(|| set_up(&self.admin)).await?;
        Ok(&self.admin)
    }

    /// Connects once, directly (no pool retries), to tell quickly whether the
    /// database answers; for `/readyz`.
    pub async fn probe(&self) -> Result<(), sqlx::Error> {
        let mut conn = PgConnection::connect_with(&self.tenant_options).await?;
        let result = conn.execute("SELECT 1").await.map(|_| ());
        let _ = conn.close().await;
        result
    }

    /// Makes sure the tenant's role and schema exist (idempotent, safe to race).
    pub async fn provision(&self, user: &UserId) -> Result<(), ApiError> {
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
        let password = schemaforge_sql::postgres::quote_literal(&user.password(&self.config.secret));
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

    /// A connection logged in as the tenant's own role.
    pub async fn connect_tenant(&self, user: &UserId) -> Result<PgConnection, ApiError> {
        let options = self.tenant_options.clone().username(&user.namespace()).password(&user.password(&self.config.secret));
        Ok(PgConnection::connect_with(&options).await?)
    }
}
