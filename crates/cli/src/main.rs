//! The `schemaforge` binary: argument parsing, file IO and exit codes around the pure core.

mod commands;
mod config;
mod database_url;
mod demo;
mod folder_io;
mod gate;
mod live;
mod report;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// mimalloc rather than glibc's malloc: a large definition is hundreds of
/// thousands of short-lived strings and maps, where glibc spends a quarter of
/// the run allocating, freeing and consolidating (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` and `mi_option_allow_thp` in `mi_option_e` of
/// mimalloc 3 (libmimalloc-sys does not name them): how long freed memory
/// stays committed before it is returned to the system, and whether
/// mimalloc asks for transparent huge pages.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// Sets mimalloc's options for `command`, each unless the environment sets it
/// (`MIMALLOC_PURGE_DELAY`, `MIMALLOC_ALLOW_THP`), so they stay tunable.
///
/// A one-shot command (generate above all) frees tens of megabytes between
/// its phases and allocates as much again in the next. With huge pages and
/// memory purged at once (what `serve` keeps), each phase faults memory in
/// anew and the kernel zeroes 2 MiB pages it had just taken back: a third
/// of a 1,000-table generate's CPU was `clear_page`. Without huge pages and
/// with freed memory kept for a moment, the next phase reuses it
/// (BENCHMARKS.md, "generate: what limits us").
fn tune_allocator(command: &Command) {
    let (purge_delay, allow_thp) = match command {
        Command::Serve { .. } => (0, 1),
        Command::Validate { .. }
        | Command::Generate { .. }
        | Command::Plan { .. }
        | Command::Diff { .. }
        | Command::Pull { .. }
        | Command::Push { .. }
        | Command::Migrate { .. }
        | Command::Status { .. }
        | Command::Hash { .. }
        | Command::Check { .. }
        | Command::Rollback { .. }
        | Command::Demo { .. }
        | Command::SchemaJson
        | Command::Explain { .. } => (ONE_SHOT_PURGE_DELAY_MS, 0),
    };
    // mimalloc reads its options when the process starts, before `main`,
    // and has reserved memory advised for huge pages by now: the kernel is
    // told directly that this process wants none.
    #[cfg(target_os = "linux")]
    if allow_thp == 0 && std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and changes only
        // how the kernel backs this process's memory; a failure leaves it as it was.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
    for (option, variable, value) in
        [(MI_OPTION_PURGE_DELAY, "MIMALLOC_PURGE_DELAY", purge_delay), (MI_OPTION_ALLOW_THP, "MIMALLOC_ALLOW_THP", allow_thp)]
    {
        if std::env::var_os(variable).is_none() {
            // SAFETY: sets one of mimalloc's numeric options while no other
            // thread exists (the call is not thread-safe); both values are in
            // range for their option.
            unsafe { libmimalloc_sys::mi_option_set(option, value) };
        }
    }
}

/// How long a one-shot command keeps freed memory before returning it.
const ONE_SHOT_PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Declarative schemas in, validated models, Drizzle code and drizzle-kit migrations out.
#[derive(Debug, Parser)]
#[command(name = "schemaforge", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a definition and report every problem (exit 1 when there is one).
    Validate {
        /// The definition file (JSON).
        file: std::path::PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        target: Target,
    },
    /// Write the next drizzle-kit migration (and its down script) and schema.ts for a definition.
    Generate {
        /// The definition file (JSON).
        #[arg(long)]
        schema: std::path::PathBuf,
        /// The migrations folder (drizzle-kit's `out`); created if missing.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Migration name: `NNNN_<name>.sql` (default: `init`, then derived from the change).
        #[arg(long)]
        name: Option<String>,
        /// Where to write the Drizzle schema (default: `<out>/schema.ts`).
        #[arg(long)]
        ts: Option<std::path::PathBuf>,
        /// Join statements with `--> statement-breakpoint` (drizzle-kit's default).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        breakpoints: bool,
        #[command(flatten)]
        online: Online,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        target: Target,
    },
    /// Show the migration from one definition to another (or from a live database to a
    /// definition, with `--db` and `--schema`): every statement with its hazards.
    Plan {
        /// The current definition.
        #[arg(long, required_unless_present = "db", conflicts_with = "db")]
        from: Option<std::path::PathBuf>,
        /// The desired definition.
        #[arg(long, required_unless_present = "db", conflicts_with = "db")]
        to: Option<std::path::PathBuf>,
        /// Plan from this live database instead (with `--schema`); measures the facts too.
        #[arg(long, requires = "schema")]
        db: Option<String>,
        /// The desired definition, with `--db`.
        #[arg(long)]
        schema: Option<std::path::PathBuf>,
        /// Where to build the definition for comparison (default: the `--db` server).
        #[arg(long)]
        shadow_db: Option<String>,
        #[command(flatten)]
        online: Online,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        target: Target,
    },
    /// Print the SQL that turns one definition into another (or back, with --down).
    Diff {
        /// The current definition.
        from: std::path::PathBuf,
        /// The desired definition.
        to: std::path::PathBuf,
        /// Print the inverse migration instead.
        #[arg(long)]
        down: bool,
        #[command(flatten)]
        online: Online,
        #[command(flatten)]
        target: Target,
    },
    /// Read a live database into a definition (`schema.json`) and a Drizzle `schema.ts`.
    Pull {
        /// The database (default: `DATABASE_URL`, from the environment or `./.env`).
        #[arg(long)]
        db: Option<String>,
        /// The folder to write `schema.json` and `schema.ts` into.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Read only this schema (repeat for more; default: every user schema).
        #[arg(long = "schema")]
        schemas: Vec<String>,
    },
    /// Apply the pending migrations of a folder: locked, tracked, checksummed.
    Migrate {
        /// The database (default: `DATABASE_URL`, from the environment or `./.env`).
        #[arg(long)]
        db: Option<String>,
        /// The migrations folder (default: `[migrations] dir` in `schemaforge.toml`, else `./drizzle`).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Stop after this migration (its tag, e.g. `0001_add_comments`).
        #[arg(long)]
        to: Option<String>,
    },
    /// Show which migrations of a folder are applied, pending, failed or edited.
    Status {
        #[arg(long)]
        db: Option<String>,
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Undo the last applied migration (or every one after `--to`) with its down script.
    Rollback {
        #[arg(long)]
        db: Option<String>,
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Roll back every migration applied after this one (its tag).
        #[arg(long)]
        to: Option<String>,
        /// Hazards that may run (codes, comma-separated or repeated, or `all`).
        #[arg(long = "allow-hazard")]
        allow: Vec<String>,
    },
    /// Check the folder's integrity and, with a database, that it has not drifted (exit 1 on problems).
    Check {
        /// The database to check for drift (default: `DATABASE_URL` when set).
        #[arg(long)]
        db: Option<String>,
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Where to build the definition for comparison (default: the `--db` server).
        #[arg(long)]
        shadow_db: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Rewrite the folder's schemaforge.sum from its files (accepting edits made by hand).
    Hash {
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Diff a definition against a live database and apply the plan, gated by hazards.
    Push {
        /// The desired definition.
        #[arg(long)]
        schema: std::path::PathBuf,
        /// The database (default: `DATABASE_URL`, from the environment or `./.env`).
        #[arg(long)]
        db: Option<String>,
        /// Where to build the definition for comparison (default: the `--db` server).
        #[arg(long)]
        shadow_db: Option<String>,
        /// Hazards that may run (codes, comma-separated or repeated, or `all`).
        #[arg(long = "allow-hazard")]
        allow: Vec<String>,
        #[command(flatten)]
        online: Online,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// The main job end to end, with no server and no configuration: start the service on
    /// SQLite in-process, send a definition to `POST /schema/generate`, print the version,
    /// migration and schema.ts, list the artifacts, stop.
    Demo {
        /// The definition to send (default: the seed example).
        definition: Option<std::path::PathBuf>,
        /// Where the service keeps the tenant's database and the artifacts.
        #[arg(long, default_value = "demo-output")]
        data_dir: std::path::PathBuf,
        /// The tenant.
        #[arg(long, default_value = "demo")]
        user: String,
    },
    /// Run the multi-tenant HTTP service (`POST /schema/generate` and friends).
    Serve {
        /// Address to listen on (port 0 picks a free one; default: `SCHEMAFORGE_LISTEN`, then
        /// `[serve] listen` in `schemaforge.toml`, then 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Where the service keeps its files and, without a store, the artifacts
        /// (default: `SCHEMAFORGE_DATA_DIR`, then the file, then `./data`).
        #[arg(long)]
        data_dir: Option<std::path::PathBuf>,
        /// The PostgreSQL database tenants live in (default: `SCHEMAFORGE_DATABASE_URL`, then
        /// `[serve] database_url` in `schemaforge.toml`, then `DATABASE_URL`; with none, each
        /// tenant is a SQLite file under the data directory).
        #[arg(long)]
        database_url: Option<String>,
        /// Keep artifacts in S3 (`s3://bucket[/prefix]`; default: `SCHEMAFORGE_STORE`, else the data directory).
        #[arg(long)]
        store: Option<String>,
        /// Idle connections kept logged in as tenants for their next requests, on PostgreSQL
        /// (default: `SCHEMAFORGE_TENANT_CONNECTIONS`, then `[serve] tenant_connections`, then 32;
        /// 0 opens one per request). Counts against the server's `max_connections`.
        #[arg(long)]
        tenant_connections: Option<usize>,
    },
    /// Print the JSON Schema of the definition format.
    SchemaJson,
    /// Explain a diagnostic code, or list them all.
    Explain {
        /// A code such as `unknown-type`; omit to list every code.
        code: Option<String>,
    },
}

/// How a migration keeps the database available while it runs.
#[derive(Debug, Clone, Copy, clap::Args)]
struct Online {
    /// Build and drop indexes of existing tables CONCURRENTLY (writes continue); the
    /// migration is then marked `-- schemaforge:no-transaction`.
    #[arg(long)]
    concurrent_indexes: bool,
}

impl Online {
    fn options(self) -> schemaforge_plan::Options {
        schemaforge_plan::Options { concurrent_indexes: self.concurrent_indexes }
    }
}

/// The SQL dialect definitions without a `dialect` of their own are lowered for.
#[derive(Debug, Clone, Copy, clap::Args)]
struct Target {
    /// Dialect for definitions that name none (default: the folder's, else postgresql).
    #[arg(long, value_enum)]
    dialect: Option<DialectArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DialectArg {
    Postgresql,
    Sqlite,
}

impl Target {
    fn dialect(self) -> Option<schemaforge_model::Dialect> {
        self.dialect.map(|d| match d {
            DialectArg::Postgresql => schemaforge_model::Dialect::Postgresql,
            DialectArg::Sqlite => schemaforge_model::Dialect::Sqlite,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    // Piped into `head`, a closed stdout ends the process quietly, as it ends
    // any Unix tool, instead of a panic inside `println!`.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any
    // thread exists touches no Rust state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    tune_allocator(&cli.command);
    let result = match cli.command {
        Command::Validate { file, format, target } => commands::validate(&file, format, target.dialect()),
        Command::Generate { schema, out, name, ts, breakpoints, online, format, target } => commands::generate(&commands::GenerateArgs {
            schema,
            out,
            name,
            ts,
            breakpoints,
            options: online.options(),
            format,
            dialect: target.dialect(),
        }),
        Command::Plan { from, to, db: Some(db), schema: Some(schema), shadow_db, online, format, target } => {
            // The database decides the dialect of a plan against it.
            let _ = (from, to, target);
            live::push(&live::PushArgs {
                schema,
                db: Some(db),
                shadow_db,
                allow: Vec::new(),
                options: online.options(),
                dry_run: true,
                format,
            })
        }
        Command::Plan { from: Some(from), to: Some(to), online, format, target, .. } => {
            commands::plan(&from, &to, online.options(), format, target.dialect())
        }
        Command::Plan { .. } => Err(anyhow::anyhow!("plan needs --from and --to, or --db and --schema")),
        Command::Push { schema, db, shadow_db, allow, online, format } => {
            live::push(&live::PushArgs { schema, db, shadow_db, allow, options: online.options(), dry_run: false, format })
        }
        Command::Diff { from, to, down, online, target } => commands::diff(&from, &to, down, online.options(), target.dialect()),
        Command::Pull { db, out, schemas } => live::pull(&live::PullArgs { db, out, schemas }),
        Command::Migrate { db, dir, to } => live::migrate(&live::MigrateArgs { db, dir, to }),
        Command::Status { db, dir, format } => live::status(&live::StatusArgs { db, dir, format }),
        Command::Hash { dir } => commands::hash(dir.as_deref()),
        Command::Check { db, dir, shadow_db, format } => live::check(&live::CheckArgs { db, dir, shadow_db, format }),
        Command::Rollback { db, dir, to, allow } => live::rollback(&live::RollbackArgs { db, dir, to, allow }),
        Command::Demo { definition, data_dir, user } => demo::demo(&demo::DemoArgs { definition, data_dir, user }),
        Command::Serve { listen, data_dir, database_url, store, tenant_connections } => {
            serve::serve(serve::Flags { listen, data_dir, database_url, store, tenant_connections })
        }
        Command::SchemaJson => commands::schema_json(),
        Command::Explain { code } => commands::explain(code.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
