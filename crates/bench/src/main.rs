//! `schemaforge-bench`: writes synthetic definitions for the whole-command
//! comparison (`synth`) and drives load against `schemaforge serve` (`load`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use schemaforge_bench::{load, synth};

#[derive(Parser)]
#[command(name = "schemaforge-bench", about = "Benchmark inputs and load for schemaforge")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes `base.json` (N tables) and `edited.json` (its next version) into DIR.
    Synth {
        #[arg(long)]
        tables: usize,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Drives `POST /schema/generate` for many tenants and prints what it measured as JSON.
    Load {
        /// `host:port` of the service.
        #[arg(long)]
        addr: String,
        /// A token that may act for every tenant (the admin token).
        #[arg(long, env = "SCHEMAFORGE_ADMIN_TOKEN")]
        token: String,
        #[arg(long, default_value_t = 100)]
        tenants: usize,
        /// Requests in flight at once (closed loop).
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Seconds of measured load after every tenant is created.
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
        /// userIDs are `<prefix>_<n>`.
        #[arg(long, default_value = "bench")]
        prefix: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The service's database: tenant definitions are made to fit it.
        #[arg(long, value_enum, default_value_t = Backend::Postgres)]
        backend: Backend,
        /// Changes per tenant in the measured phase, instead of `--seconds`.
        #[arg(long)]
        requests: Option<usize>,
        /// The tenants exist (an earlier run with this prefix): no set-up phase.
        #[arg(long)]
        skip_setup: bool,
        /// The number of each tenant's first change (to continue an earlier run).
        #[arg(long, default_value_t = 1)]
        first_change: usize,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Backend {
    Postgres,
    Sqlite,
}

fn write(path: PathBuf, value: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Synth { tables, out, seed } => {
            std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
            let base = synth::definition(tables, seed);
            write(out.join("base.json"), &base)?;
            write(out.join("edited.json"), &synth::edited(&base, seed))?;
            Ok(())
        }
        Command::Load { addr, token, tenants, concurrency, seconds, prefix, seed, backend, requests, skip_setup, first_change } => {
            let options = load::LoadOptions {
                addr,
                token,
                tenants,
                concurrency,
                duration: Duration::from_secs_f64(seconds.max(0.0)),
                prefix,
                seed,
                target: match backend {
                    Backend::Postgres => synth::Target::Postgresql,
                    Backend::Sqlite => synth::Target::Sqlite,
                },
                requests,
                skip_setup,
                first_change,
            };
            let (setup, measured) = load::run(&options);
            let report = serde_json::json!({
                "tenants": tenants,
                "concurrency": concurrency,
                "setup": setup.to_json(),
                "incremental": measured.to_json(),
            });
            println!("{report:#}");
            if setup.errors + measured.errors > 0 { Err(format!("{} requests failed", setup.errors + measured.errors)) } else { Ok(()) }
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
