//! `schemaforge demo`: the main job end to end with nothing but this binary.
//!
//! It starts the service in this process on its default backend (SQLite
//! files under the data directory, no database server, no configuration
//! read: neither flags, `schemaforge.toml` nor `DATABASE_URL` are looked
//! at) on a free local port with an admin token made for the run, sends a
//! definition (the seed example unless one is given) to
//! `POST /schema/generate` over HTTP as any client would, prints the
//! version, the migration and `schema.ts` it got back and where the
//! artifacts are, and stops the service.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use schemaforge_server::{Config, Tenancy};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The seed example, so the demo needs no file of the repository.
const SEED: &str = include_str!("../../../fixtures/examples/seed-basic.json");

pub struct DemoArgs {
    /// The definition to send (default: the seed example).
    pub definition: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub user: String,
}

pub fn demo(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let (label, text) = match &args.definition {
        Some(path) => {
            (path.display().to_string(), std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?)
        }
        None => ("the seed example (fixtures/examples/seed-basic.json)".to_string(), SEED.to_string()),
    };
    let schema: Value = serde_json::from_str(&text).with_context(|| format!("{label} is not JSON"))?;
    let token = crate::serve::random_hex()?;
    let config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: args.data_dir.clone(),
        store: None,
        tenancy: Tenancy::Sqlite,
        admin_token: Some(token.clone()),
        body_limit: Config::DEFAULT_BODY_LIMIT,
        request_timeout: Config::DEFAULT_TIMEOUT,
        tenant_connections: Config::DEFAULT_TENANT_CONNECTIONS,
        log_segment_bytes: Config::DEFAULT_LOG_SEGMENT_BYTES,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let (status, response) = runtime.block_on(async {
        let (listening, addr) = tokio::sync::oneshot::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let service = tokio::spawn(schemaforge_server::run(
            config,
            move |addr| {
                let _ = listening.send(addr);
            },
            |warning| eprintln!("warning: {warning}"),
            async {
                let _ = stopped.await;
            },
        ));
        let Ok(addr) = addr.await else {
            // The service stopped before it listened: its error says why.
            return match service.await {
                Ok(Err(error)) => Err(anyhow::Error::new(error).context("the service did not start")),
                _ => Err(anyhow::anyhow!("the service did not start")),
            };
        };
        println!("schemaforge demo: the service runs on SQLite in {} (no database server, no configuration)", args.data_dir.display());
        println!("  listening on http://{addr} with an admin token made for this run\n");
        println!("POST /schema/generate  {{\"userID\": \"{}\", \"schema\": {label}}}", args.user);
        let body = json!({"userID": args.user, "schema": schema, "options": {"message": "schemaforge demo"}});
        let response = post(addr, "/schema/generate", &token, &body.to_string()).await;
        let _ = stop.send(());
        let stopped = service.await;
        let response = response?;
        stopped.context("the service stopped unexpectedly")?.context("the service failed")?;
        Ok::<_, anyhow::Error>(response)
    })?;
    report(&args.data_dir, &args.user, status, &response)
}

/// Prints what the service answered and where the artifacts are.
fn report(data_dir: &Path, user: &str, status: u16, response: &Value) -> anyhow::Result<ExitCode> {
    if status != 200 {
        println!("  {status}: the service refused the definition:\n");
        println!("{}", serde_json::to_string_pretty(response).unwrap_or_default());
        return Ok(ExitCode::from(1));
    }
    let version = response["version"].as_str().unwrap_or("none");
    if response["changed"] != true {
        println!("  200: unchanged, userID {user} already has this definition as version {version}\n");
    } else {
        let migration = &response["migration"];
        let statements = migration["plan"]["statements"].as_array().cloned().unwrap_or_default();
        println!(
            "  200: version {version} ({}), migration {}, {} statement(s), applied to the tenant's database\n",
            response["bump"].as_str().unwrap_or_default(),
            migration["name"].as_str().unwrap_or_default(),
            statements.len()
        );
        println!("-- {}.sql", migration["name"].as_str().unwrap_or_default());
        for statement in &statements {
            println!("{};", statement["sql"].as_str().unwrap_or_default());
            for hazard in statement["hazards"].as_array().into_iter().flatten() {
                println!("  -- ! {}: {}", hazard["code"].as_str().unwrap_or_default(), hazard["message"].as_str().unwrap_or_default());
            }
        }
        println!("\n-- schema.ts (drizzle-orm sqlite-core)\n{}", response["schemaTs"].as_str().unwrap_or_default());
    }
    println!("Artifacts under {}:", data_dir.display());
    let files = files(data_dir);
    let width = files.iter().map(|(path, _)| path.len()).max().unwrap_or(0);
    for (path, what) in files {
        println!("  {}", format!("{path:width$}  {what}").trim_end());
    }
    println!("\nThe service ran in this process and has stopped. To run it on the same data yourself:");
    println!("  SCHEMAFORGE_ADMIN_TOKEN=secret schemaforge serve --data-dir {}", data_dir.display());
    println!("  curl -H 'Authorization: Bearer secret' 'http://127.0.0.1:8080/versions?userID={user}'");
    Ok(ExitCode::SUCCESS)
}

/// Every file under `dir` (SQLite's transient `-wal`/`-shm` files aside), sorted, with what the notable ones are.
fn files(dir: &Path) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(current) = dirs.pop() {
        for entry in std::fs::read_dir(&current).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                let relative = relative.to_string_lossy().into_owned();
                if !relative.ends_with("-wal") && !relative.ends_with("-shm") {
                    found.push(relative);
                }
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|path| {
            let what = if path == "service.sqlite" {
                "the service's tokens and tenants"
            } else if path.starts_with("tenants/") {
                "the tenant's database: its tables, versions and migration history"
            } else if path.ends_with("/schema.ts") {
                "drizzle-orm schema of the latest version"
            } else if path.ends_with("generation.log") {
                "one JSON line per request"
            } else {
                ""
            };
            (path, what)
        })
        .collect()
}

/// Sends one JSON `POST` and reads the whole answer: its status and JSON body.
async fn post(addr: SocketAddr, path: &str, token: &str, body: &str) -> anyhow::Result<(u16, Value)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("cannot connect to {addr}"))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.context("sending the request")?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.context("reading the response")?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").context("the response has no header end")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("the response has no status")?;
    let body = raw.get(split + 4..).unwrap_or_default();
    let value = serde_json::from_slice(body).with_context(|| format!("the response is not JSON: {}", String::from_utf8_lossy(body)))?;
    Ok((status, value))
}
