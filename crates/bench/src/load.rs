//! Load on `POST /schema/generate`: many tenants, each sending its next small
//! incremental change, from a fixed number of closed-loop workers.
//!
//! First every tenant is created with its initial ten-table definition (the
//! set-up phase, reported apart: provisioning a tenant is a different cost).
//! Then, for the measured duration, each worker cycles through its own
//! tenants, sending each one's next change (`synth::tenant_definition`) as
//! soon as the previous response arrives. Tenants are split between workers,
//! so no two requests for one tenant are ever in flight at once and no time
//! is spent waiting on a tenant's lock: what is measured is the service.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http::Connection;
use crate::synth;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `host:port` of `schemaforge serve`.
    pub addr: String,
    /// A token that may act for every tenant (the admin token).
    pub token: String,
    pub tenants: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    pub duration: Duration,
    /// userIDs are `<prefix>_<n>`; a prefix unique to the run keeps runs apart.
    pub prefix: String,
    pub seed: u64,
    /// The database the service keeps tenants in (their definitions must fit it).
    pub target: synth::Target,
    /// Changes per tenant in the measured phase instead of `duration`: a
    /// fixed amount of work, for measures that count (CPU per request).
    pub requests: Option<usize>,
    /// The tenants exist already (an earlier run with the same prefix):
    /// no set-up phase.
    pub skip_setup: bool,
    /// The number of each tenant's first change (1 after a set-up alone):
    /// a run continuing an earlier one sends the changes that follow it.
    pub first_change: usize,
}

/// Latencies and outcomes of one phase.
#[derive(Debug, Clone, Default)]
pub struct Phase {
    pub latencies: Vec<Duration>,
    pub errors: usize,
    /// The first few error responses (status and body), to say what went wrong.
    pub error_samples: Vec<String>,
    pub elapsed: Duration,
    /// Sums of the service's own `timings` (validate, plan, apply, artifacts, total), in ms.
    pub server_ms: [u64; 5],
}

impl Phase {
    fn merge(&mut self, other: Phase) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        for sample in other.error_samples {
            if self.error_samples.len() < 5 {
                self.error_samples.push(sample);
            }
        }
        for (sum, part) in self.server_ms.iter_mut().zip(other.server_ms) {
            *sum += part;
        }
    }

    /// The `q`-quantile latency (nearest rank), zero without requests.
    pub fn quantile(&self, q: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    pub fn throughput(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 { self.latencies.len() as f64 / seconds } else { 0.0 }
    }

    /// The phase as one JSON object (milliseconds, requests per second).
    pub fn to_json(&self) -> Value {
        let ms = |d: Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
        let ok = self.latencies.len().saturating_sub(self.errors).max(1) as f64;
        let server: Vec<f64> = self.server_ms.iter().map(|&sum| (sum as f64 / ok * 10.0).round() / 10.0).collect();
        json!({
            "requests": self.latencies.len(),
            "errors": self.errors,
            "seconds": (self.elapsed.as_secs_f64() * 100.0).round() / 100.0,
            "throughput": (self.throughput() * 10.0).round() / 10.0,
            "p50Ms": ms(self.quantile(0.50)),
            "p90Ms": ms(self.quantile(0.90)),
            "p99Ms": ms(self.quantile(0.99)),
            "maxMs": ms(self.quantile(1.0)),
            "serverMeanMs": {"validate": server[0], "plan": server[1], "apply": server[2], "artifacts": server[3], "total": server[4]},
            "errorSamples": self.error_samples,
        })
    }
}

fn user_id(options: &LoadOptions, tenant: usize) -> String {
    format!("{}_{tenant}", options.prefix)
}

/// Sends one definition for `tenant` and records the outcome in `phase`.
fn send(connection: &mut Connection, options: &LoadOptions, tenant: usize, changes: usize, phase: &mut Phase) {
    let definition = synth::tenant_definition(options.seed.wrapping_add(tenant as u64), changes, options.target);
    let body = json!({"userID": user_id(options, tenant), "schema": definition}).to_string();
    let started = Instant::now();
    let result = connection.post("/schema/generate", &options.token, &body);
    phase.latencies.push(started.elapsed());
    let failure = match result {
        Ok(response) if response.status == 200 => {
            let value: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
            let timings = &value["timings"];
            for (sum, key) in phase.server_ms.iter_mut().zip(["validateMs", "planMs", "applyMs", "artifactsMs", "totalMs"]) {
                *sum += timings[key].as_u64().unwrap_or(0);
            }
            if value["changed"] == true { None } else { Some(format!("200 without a change: {value}")) }
        }
        Ok(response) => Some(format!("{}: {}", response.status, String::from_utf8_lossy(&response.body))),
        Err(error) => Some(format!("request failed: {error}")),
    };
    if let Some(failure) = failure {
        phase.errors += 1;
        if phase.error_samples.len() < 5 {
            phase.error_samples.push(failure.chars().take(500).collect());
        }
    }
}

/// Runs `work(worker, tenants of that worker)` on `options.concurrency`
/// threads and merges what they measured.
fn on_workers(options: &LoadOptions, work: impl Fn(usize, Vec<usize>) -> Phase + Sync) -> Phase {
    let started = Instant::now();
    let workers = options.concurrency.clamp(1, options.tenants.max(1));
    let mut merged = Phase::default();
    thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let tenants: Vec<usize> = (worker..options.tenants).step_by(workers).collect();
                let work = &work;
                scope.spawn(move || work(worker, tenants))
            })
            .collect();
        for handle in handles {
            match handle.join() {
                Ok(phase) => merged.merge(phase),
                Err(_) => merged.errors += 1,
            }
        }
    });
    merged.elapsed = started.elapsed();
    merged
}

/// The set-up phase (every tenant created) and the measured phase.
pub fn run(options: &LoadOptions) -> (Phase, Phase) {
    let setup = if options.skip_setup {
        Phase::default()
    } else {
        on_workers(options, |_, tenants| {
            let mut connection = Connection::new(&options.addr);
            let mut phase = Phase::default();
            for tenant in tenants {
                send(&mut connection, options, tenant, 0, &mut phase);
            }
            phase
        })
    };
    let stop = Arc::new(AtomicBool::new(false));
    let timer = {
        let stop = Arc::clone(&stop);
        let duration = if options.requests.is_some() { Duration::ZERO } else { options.duration };
        thread::spawn(move || {
            thread::sleep(duration);
            stop.store(true, Ordering::Relaxed);
        })
    };
    let measured = on_workers(options, |_, tenants| {
        let mut connection = Connection::new(&options.addr);
        let mut phase = Phase::default();
        let mut changes = vec![options.first_change.saturating_sub(1); tenants.len()];
        let mut sent = 0usize;
        'run: loop {
            if options.requests.is_some_and(|n| sent >= n) {
                break;
            }
            sent += 1;
            for (slot, &tenant) in tenants.iter().enumerate() {
                if options.requests.is_none() && stop.load(Ordering::Relaxed) {
                    break 'run;
                }
                changes[slot] += 1;
                send(&mut connection, options, tenant, changes[slot], &mut phase);
            }
            if tenants.is_empty() {
                break;
            }
        }
        phase
    });
    let _ = timer.join();
    (setup, measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let phase = Phase { latencies: (1..=100).map(Duration::from_millis).collect(), ..Phase::default() };
        assert_eq!(phase.quantile(0.5), Duration::from_millis(50));
        assert_eq!(phase.quantile(0.99), Duration::from_millis(99));
        assert_eq!(phase.quantile(1.0), Duration::from_millis(100));
    }
}
