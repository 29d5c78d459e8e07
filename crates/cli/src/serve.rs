//! `serve`: configuration from flags and the environment, then the service
//! until Ctrl-C or SIGTERM (open requests are finished first). With no
//! database URL anywhere, tenants are SQLite files under the data directory.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use schemaforge_server::{Config, Tenancy};

use crate::config::env;

/// The secret tenant passwords derive from: `SCHEMAFORGE_SECRET`, else
/// `<data-dir>/secret`, made on first start (readable by its owner only).
fn secret(data_dir: &Path) -> anyhow::Result<String> {
    if let Ok(secret) = std::env::var("SCHEMAFORGE_SECRET")
        && !secret.is_empty()
    {
        return Ok(secret);
    }
    let path = data_dir.join("secret");
    if let Ok(secret) = std::fs::read_to_string(&path) {
        return Ok(secret.trim().to_string());
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let secret = random_hex()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    Ok(secret)
}

/// 32 random bytes from the operating system, in hex.
pub fn random_hex() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).context("no randomness available")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What `serve` was given on its command line; each falls back to the
/// environment, then the configuration file, then its default.
pub struct Flags {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub store: Option<String>,
    pub tenant_connections: Option<usize>,
}

pub fn serve(flags: Flags) -> anyhow::Result<ExitCode> {
    let Flags { listen, data_dir, database_url, store, tenant_connections } = flags;
    let file = crate::config::load()?.serve;
    let listen = match listen {
        Some(listen) => listen,
        None => {
            let text = env("SCHEMAFORGE_LISTEN").or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
            text.parse().with_context(|| format!("listen address `{text}` is not host:port"))?
        }
    };
    let data_dir =
        data_dir.or_else(|| env("SCHEMAFORGE_DATA_DIR").map(PathBuf::from)).or(file.data_dir).unwrap_or_else(|| PathBuf::from("data"));
    let database_url = database_url.or_else(|| env("SCHEMAFORGE_DATABASE_URL")).or(file.database_url).or_else(|| env("DATABASE_URL"));
    let number = |name: &str| -> anyhow::Result<Option<u64>> {
        env(name).map(|v| v.parse::<u64>().with_context(|| format!("{name}=`{v}` is not a whole number"))).transpose()
    };
    let body_limit = match number("SCHEMAFORGE_BODY_LIMIT")? {
        Some(limit) => usize::try_from(limit).unwrap_or(usize::MAX),
        None => file.body_limit.unwrap_or(Config::DEFAULT_BODY_LIMIT),
    };
    let timeout = number("SCHEMAFORGE_REQUEST_TIMEOUT")?
        .or(file.request_timeout_seconds)
        .map_or(Config::DEFAULT_TIMEOUT, std::time::Duration::from_secs);
    anyhow::ensure!(!timeout.is_zero(), "the request timeout must be at least 1 second");
    let tenant_connections = match tenant_connections {
        Some(count) => count,
        None => match number("SCHEMAFORGE_TENANT_CONNECTIONS")? {
            Some(count) => usize::try_from(count).unwrap_or(usize::MAX),
            None => file.tenant_connections.unwrap_or(Config::DEFAULT_TENANT_CONNECTIONS),
        },
    };
    let log_segment_bytes =
        number("SCHEMAFORGE_LOG_SEGMENT_BYTES")?.or(file.log_segment_bytes).unwrap_or(Config::DEFAULT_LOG_SEGMENT_BYTES);
    anyhow::ensure!(log_segment_bytes > 0, "the generation log's segment size must be at least 1 byte");
    let tenancy = match database_url {
        Some(url) => Tenancy::Postgres { url, secret: secret(&data_dir)? },
        None => {
            eprintln!("note: no database URL is configured: each tenant is a SQLite file under {}", data_dir.join("tenants").display());
            Tenancy::Sqlite
        }
    };
    let config = Config {
        listen,
        data_dir,
        tenancy,
        store: store.or_else(|| env("SCHEMAFORGE_STORE")).or(file.store),
        admin_token: env("SCHEMAFORGE_ADMIN_TOKEN"),
        body_limit,
        request_timeout: timeout,
        tenant_connections,
        log_segment_bytes,
    };
    if config.admin_token.is_none() {
        eprintln!("note: SCHEMAFORGE_ADMIN_TOKEN is not set: no token can be issued and only existing user tokens work");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let shutdown = async {
            let interrupt = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(signal) => signal,
                    Err(_) => return std::mem::drop(interrupt.await),
                };
                tokio::select! {
                    _ = interrupt => {},
                    _ = terminate.recv() => {},
                }
            }
            #[cfg(not(unix))]
            let _ = interrupt.await;
        };
        schemaforge_server::run(
            config,
            |addr| {
                println!("schemaforge serve: listening on http://{addr}");
                let _ = std::io::stdout().flush();
            },
            |warning| eprintln!("warning: {warning}"),
            shutdown,
        )
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}
