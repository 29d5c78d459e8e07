//! `serve`: configuration from flags and the environment, then the service
//! until Ctrl-C or SIGTERM (open requests are finished first).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use schemaforge_server::Config;

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
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).context("no randomness available")?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
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

pub fn serve(listen: SocketAddr, data_dir: PathBuf, database_url: Option<String>, store: Option<String>) -> anyhow::Result<ExitCode> {
    let database_url = database_url
        .or_else(|| std::env::var("SCHEMAFORGE_DATABASE_URL").ok())
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .context("no database: pass --database-url, or set SCHEMAFORGE_DATABASE_URL or DATABASE_URL")?;
    let config = Config {
        listen,
        secret: secret(&data_dir)?,
        data_dir,
        database_url,
        store: store.or_else(|| std::env::var("SCHEMAFORGE_STORE").ok()).filter(|s| !s.is_empty()),
        admin_token: std::env::var("SCHEMAFORGE_ADMIN_TOKEN").ok().filter(|t| !t.is_empty()),
        body_limit: Config::DEFAULT_BODY_LIMIT,
        request_timeout: Config::DEFAULT_TIMEOUT,
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
            shutdown,
        )
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}
