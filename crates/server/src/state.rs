//! What every request shares: configuration, the backend tenants live in,
//! the artifact store, this replica's queue per tenant, the latest
//! definitions of recently changed tenants (lowered), and the counters
//! `/metrics` reports.
//!
//! The service starts without its database: the backend connects on first
//! use and sets its own tables up then, so `/healthz` answers at once and
//! `/readyz` says 503 until the database is there.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, Weak};

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::backend::Backend;
use crate::lowered::Lowered;
use crate::metrics::Metrics;
use crate::tenant::UserId;
use crate::{Config, ServeError};

pub struct Shared {
    pub config: Config,
    pub backend: Backend,
    /// This replica's queue per tenant (see `turn`).
    queues: std::sync::Mutex<HashMap<String, Weak<Mutex<()>>>>,
    pub store: Arc<dyn ObjectStore>,
    pub metrics: Metrics,
    /// The latest definitions of the tenants changed last, lowered.
    pub lowered: Lowered,
}

pub type AppState = Arc<Shared>;

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
    /// The shared state; the database is not contacted yet.
    pub fn open(config: Config) -> Result<AppState, ServeError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::DataDir { dir: config.data_dir.clone(), source })?;
        let store = open_store(&config)?;
        let backend = Backend::open(&config)?;
        let lowered = Lowered::new(config.tenant_connections);
        Ok(Arc::new(Shared { config, backend, queues: std::sync::Mutex::default(), store, metrics: Metrics::default(), lowered }))
    }

    /// Waits for the tenant's turn on this replica. Requests that change a
    /// tenant take its lock in the database, which is what keeps them apart
    /// across replicas; queueing here first means a burst of them holds one
    /// database connection per replica instead of one per request.
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
}
