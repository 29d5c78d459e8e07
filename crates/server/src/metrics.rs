//! What `GET /metrics` reports, in the Prometheus text format: requests by
//! route, method and status, a latency histogram per route, and the tenant
//! migrations applied and failed. Routes are labelled by their template
//! (`/schema/{version}`), never by the path a client sent, so the number of
//! series stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::backend::idle::IdleStats;

/// Upper bounds of the latency buckets, in seconds (`+Inf` is implied).
const BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

/// The label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

#[derive(Debug, Default)]
struct RouteStats {
    /// Requests by status code.
    statuses: BTreeMap<u16, u64>,
    /// Requests at or under each bound of `BUCKETS` (not cumulative here).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    seconds: f64,
}

#[derive(Debug, Default)]
pub struct Metrics {
    /// Per (route, method).
    routes: Mutex<BTreeMap<(String, String), RouteStats>>,
    migrations_applied: AtomicU64,
    migrations_failed: AtomicU64,
}

impl Metrics {
    /// Records one answered request.
    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        // A panic elsewhere while holding the lock leaves counts that are still counts.
        let mut routes = self.routes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let stats = routes.entry((route.to_string(), method.to_string())).or_default();
        *stats.statuses.entry(status).or_default() += 1;
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            stats.buckets[bucket] += 1;
        }
        stats.count += 1;
        stats.seconds += seconds;
    }

    pub fn migration_applied(&self) {
        self.migrations_applied.fetch_add(1, Ordering::Relaxed);
    }

    pub fn migration_failed(&self) {
        self.migrations_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let routes = self.routes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        out.push_str("# HELP schemaforge_http_requests_total HTTP requests answered, by route template, method and status.\n");
        out.push_str("# TYPE schemaforge_http_requests_total counter\n");
        for ((route, method), stats) in routes.iter() {
            for (status, n) in &stats.statuses {
                let _ = writeln!(out, "schemaforge_http_requests_total{{{},status=\"{status}\"}} {n}", labels(route, method));
            }
        }
        out.push_str("# HELP schemaforge_http_request_duration_seconds Time from receiving a request to answering it.\n");
        out.push_str("# TYPE schemaforge_http_request_duration_seconds histogram\n");
        for ((route, method), stats) in routes.iter() {
            let labels = labels(route, method);
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(stats.buckets) {
                cumulative += n;
                let _ = writeln!(out, "schemaforge_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(out, "schemaforge_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", stats.count);
            let _ = writeln!(out, "schemaforge_http_request_duration_seconds_sum{{{labels}}} {:.6}", stats.seconds);
            let _ = writeln!(out, "schemaforge_http_request_duration_seconds_count{{{labels}}} {}", stats.count);
        }
        for (name, help, counter) in [
            ("schemaforge_migrations_applied_total", "Tenant migrations applied and committed.", &self.migrations_applied),
            ("schemaforge_migrations_failed_total", "Tenant migrations that failed and were rolled back.", &self.migrations_failed),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", counter.load(Ordering::Relaxed));
        }
        out
    }
}

/// The idle tenant connection cache's counters, in the same format: how
/// often a request found its tenant's connection waiting, how often it had to
/// open one, and how full the cache is (size `--tenant-connections` by it).
pub fn render_tenant_connections(stats: &IdleStats) -> String {
    let mut out = String::new();
    for (name, kind, help, value) in [
        (
            "schemaforge_tenant_connections_reused_total",
            "counter",
            "Tenant requests served by an idle connection of the tenant's.",
            stats.reused,
        ),
        (
            "schemaforge_tenant_connections_opened_total",
            "counter",
            "Tenant requests that opened a connection (none of the tenant's was idle).",
            stats.missed,
        ),
        ("schemaforge_tenant_connections_idle", "gauge", "Tenant connections idle now.", u64::try_from(stats.idle).unwrap_or(u64::MAX)),
        (
            "schemaforge_tenant_connections_capacity",
            "gauge",
            "The most tenant connections kept idle (--tenant-connections).",
            u64::try_from(stats.capacity).unwrap_or(u64::MAX),
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    }
    out
}

/// `route="…",method="…"`. Route templates and methods hold no `"` or `\`,
/// but they are escaped as the format asks anyway.
fn labels(route: &str, method: &str) -> String {
    let escape = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    format!("route=\"{}\",method=\"{}\"", escape(route), escape(method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_in_the_count() {
        let metrics = Metrics::default();
        metrics.observe("/versions", "GET", 200, Duration::from_millis(3));
        metrics.observe("/versions", "GET", 403, Duration::from_millis(300));
        metrics.observe("/versions", "GET", 200, Duration::from_secs(500));
        metrics.migration_applied();
        let text = metrics.render();
        let line =
            |prefix: &str| text.lines().find(|l| l.starts_with(prefix)).map(|l| l.rsplit(' ').next().unwrap_or_default().to_string());
        let bucket =
            |le: &str| line(&format!("schemaforge_http_request_duration_seconds_bucket{{route=\"/versions\",method=\"GET\",le=\"{le}\"}}"));
        assert_eq!(bucket("0.005").as_deref(), Some("1"));
        assert_eq!(bucket("0.25").as_deref(), Some("1"));
        assert_eq!(bucket("0.5").as_deref(), Some("2"));
        assert_eq!(bucket("120").as_deref(), Some("2"));
        assert_eq!(bucket("+Inf").as_deref(), Some("3"));
        assert_eq!(line("schemaforge_http_request_duration_seconds_count{").as_deref(), Some("3"));
        assert_eq!(line("schemaforge_http_requests_total{route=\"/versions\",method=\"GET\",status=\"403\"}").as_deref(), Some("1"));
        assert_eq!(line("schemaforge_migrations_applied_total").as_deref(), Some("1"));
        assert_eq!(line("schemaforge_migrations_failed_total").as_deref(), Some("0"));
    }
}
