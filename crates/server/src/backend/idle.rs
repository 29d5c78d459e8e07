//! A bounded cache of idle tenant connections, each kept under the tenant it
//! is logged in as (or opened for) and handed out again for that tenant only.
//!
//! Opening a connection is most of what a small request costs the database
//! (on PostgreSQL a new backend process, its login, and catalog caches that
//! start cold), so a connection that ended its request cleanly waits here for
//! the tenant's next one. The backends reset a connection before they put it
//! here and never put one that failed or was given up.
//!
//! Admission, not eviction: when the cache is full, the connection coming
//! back is closed and the ones already waiting stay. With more active
//! tenants than places, that keeps a fixed share of them warm (places /
//! tenants of their requests are hits), where evicting the least recently
//! used would evict each tenant just before its next request when they take
//! turns, and evicting at random keeps fewer. A tenant that goes quiet gives
//! its place up after the idle timeout (swept on every use and by a
//! background task), so places follow the tenants that are active.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::tenant::UserId;

/// Counts of an idle cache (see `Idle::stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdleStats {
    /// Requests served by an idle connection of their tenant's.
    pub reused: u64,
    /// Requests that had to open one.
    pub missed: u64,
    /// Connections idle now, and the most that may be.
    pub idle: usize,
    pub capacity: usize,
}

/// What the cache keeps: a connection, closed when it leaves unused.
pub trait Close: Send + 'static {
    fn close(self) -> impl std::future::Future<Output = ()> + Send;
}

struct Entry<C> {
    user: UserId,
    conn: C,
    since: Instant,
}

pub struct Idle<C> {
    /// Requests that found an idle connection of their tenant's, and those that did not.
    reused: AtomicU64,
    missed: AtomicU64,
    capacity: usize,
    idle_timeout: Duration,
    entries: Mutex<Vec<Entry<C>>>,
    /// Whether the background sweeper runs (started on the first `put`,
    /// inside the runtime).
    sweeping: std::sync::atomic::AtomicBool,
}

impl<C: Close> Idle<C> {
    /// A cache of at most `capacity` idle connections (0: none are kept),
    /// each closed after `idle_timeout` unused.
    pub fn new(capacity: usize, idle_timeout: Duration) -> Arc<Idle<C>> {
        Arc::new(Idle { reused: 0.into(), missed: 0.into(), capacity, idle_timeout, entries: Mutex::default(), sweeping: false.into() })
    }

    /// An idle connection of `user`'s, the most recently used one.
    pub fn take(&self, user: &UserId) -> Option<C> {
        let (taken, expired) = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            let expired = self.expire(&mut entries);
            let taken = entries.iter().rposition(|e| &e.user == user).map(|i| entries.remove(i).conn);
            (taken, expired)
        };
        close_all(expired);
        let counter = if taken.is_some() { &self.reused } else { &self.missed };
        counter.fetch_add(1, Ordering::Relaxed);
        taken
    }

    /// What the cache has done so far, for `/metrics`: how to size it.
    pub fn stats(&self) -> IdleStats {
        IdleStats {
            reused: self.reused.load(Ordering::Relaxed),
            missed: self.missed.load(Ordering::Relaxed),
            idle: self.entries.lock().unwrap_or_else(PoisonError::into_inner).len(),
            capacity: self.capacity,
        }
    }

    /// Keeps `conn` (already reset) for `user`'s next request, or closes it
    /// when the cache is full.
    pub fn put(self: &Arc<Self>, user: &UserId, conn: C) {
        let (refused, expired) = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            let expired = self.expire(&mut entries);
            if entries.len() < self.capacity {
                entries.push(Entry { user: user.clone(), conn, since: Instant::now() });
                (None, expired)
            } else {
                (Some(conn), expired)
            }
        };
        close_all(expired.into_iter().chain(refused).collect());
        self.start_sweeping();
    }

    /// How many connections are idle here.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Removes the connections idle for longer than the timeout.
    fn expire(&self, entries: &mut Vec<Entry<C>>) -> Vec<C> {
        let mut expired = Vec::new();
        let mut i = 0;
        while i < entries.len() {
            if entries[i].since.elapsed() >= self.idle_timeout {
                expired.push(entries.swap_remove(i).conn);
            } else {
                i += 1;
            }
        }
        expired
    }

    /// Closes idle connections past their timeout even when no request comes:
    /// a quiet service holds no backends it does not need. Ends with the cache.
    fn start_sweeping(self: &Arc<Self>) {
        if self.sweeping.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let cache: Weak<Idle<C>> = Arc::downgrade(self);
        let period = (self.idle_timeout / 2).max(Duration::from_millis(100));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(cache) = cache.upgrade() else { return };
                let expired = {
                    let mut entries = cache.entries.lock().unwrap_or_else(PoisonError::into_inner);
                    cache.expire(&mut entries)
                };
                drop(cache);
                for conn in expired {
                    conn.close().await;
                }
            }
        });
    }
}

/// Closes connections in the background: the caller's request need not wait for it.
fn close_all<C: Close>(conns: Vec<C>) {
    if conns.is_empty() {
        return;
    }
    tokio::spawn(async move {
        for conn in conns {
            conn.close().await;
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A connection that counts its closing.
    struct Fake(u32, Arc<AtomicUsize>);

    impl Close for Fake {
        async fn close(self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn user(name: &str) -> UserId {
        UserId::parse(name).expect("valid")
    }

    #[tokio::test]
    async fn a_connection_goes_back_to_its_own_tenant_only() {
        let closed = Arc::new(AtomicUsize::new(0));
        let idle = Idle::new(4, Duration::from_secs(60));
        idle.put(&user("a"), Fake(1, closed.clone()));
        assert!(idle.take(&user("b")).is_none());
        assert_eq!(idle.take(&user("a")).map(|f| f.0), Some(1));
        assert!(idle.take(&user("a")).is_none());
    }

    #[tokio::test]
    async fn a_full_cache_keeps_what_it_holds_and_closes_what_comes_back() {
        let closed = Arc::new(AtomicUsize::new(0));
        let idle = Idle::new(2, Duration::from_secs(60));
        for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
            idle.put(&user(name), Fake(u32::try_from(i).unwrap_or(0), closed.clone()));
        }
        assert_eq!(idle.len(), 2);
        assert!(idle.take(&user("c")).is_none());
        assert!(idle.take(&user("a")).is_some() && idle.take(&user("b")).is_some());
        // The refused one is closed by a task of its own.
        for _ in 0..100 {
            if closed.load(Ordering::SeqCst) == 1 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(closed.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_stats_count_reuses_and_misses() {
        let closed = Arc::new(AtomicUsize::new(0));
        let idle = Idle::new(3, Duration::from_secs(60));
        assert!(idle.take(&user("a")).is_none());
        idle.put(&user("a"), Fake(1, closed.clone()));
        assert_eq!(idle.stats(), IdleStats { reused: 0, missed: 1, idle: 1, capacity: 3 });
        assert!(idle.take(&user("a")).is_some());
        assert!(idle.take(&user("b")).is_none());
        assert_eq!(idle.stats(), IdleStats { reused: 1, missed: 2, idle: 0, capacity: 3 });
    }

    #[tokio::test]
    async fn a_capacity_of_zero_keeps_nothing() {
        let closed = Arc::new(AtomicUsize::new(0));
        let idle = Idle::new(0, Duration::from_secs(60));
        idle.put(&user("a"), Fake(1, closed.clone()));
        assert!(idle.take(&user("a")).is_none());
    }

    #[tokio::test]
    async fn idle_connections_expire() {
        let closed = Arc::new(AtomicUsize::new(0));
        let idle = Idle::new(2, Duration::ZERO);
        idle.put(&user("a"), Fake(1, closed.clone()));
        assert!(idle.take(&user("a")).is_none());
        assert_eq!(idle.len(), 0);
    }
}
