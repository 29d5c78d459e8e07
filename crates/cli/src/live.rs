//! Subcommands that talk to a live database.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use schemaforge_db::postgres::{IntrospectOptions, introspect};
use sqlx::Connection;

use crate::database_url;

pub struct PullArgs {
    pub db: Option<String>,
    pub out: PathBuf,
    pub schemas: Vec<String>,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")
}

async fn connect(url: &str) -> anyhow::Result<sqlx::PgConnection> {
    sqlx::PgConnection::connect(url).await.with_context(|| format!("cannot connect to {}", database_url::redacted(url)))
}

/// `pull`: the database as a definition (`schema.json`) and a Drizzle `schema.ts`.
pub fn pull(args: &PullArgs) -> anyhow::Result<ExitCode> {
    let url = database_url::resolve(args.db.as_deref())?;
    let read = runtime()?.block_on(async {
        let mut conn = connect(&url).await?;
        let read = introspect(&mut conn, &IntrospectOptions { schemas: args.schemas.clone(), roles: Vec::new() }).await?;
        let _ = conn.close().await;
        anyhow::Ok(read)
    })?;
    let definition = schemaforge_spec::emit::to_json(&read.schema);
    let schema_ts = schemaforge_codegen::drizzle::generate(&read.schema);
    let targets = [(args.out.join("schema.json"), definition.as_str()), (args.out.join("schema.ts"), schema_ts.contents.as_str())];
    crate::commands::write_all(&targets)?;
    println!(
        "Pulled {} tables, {} enums and {} policies from {}:",
        read.schema.tables.len(),
        read.schema.enums.len(),
        read.schema.tables.iter().map(|t| t.policies.len()).sum::<usize>(),
        database_url::redacted(&url)
    );
    for (path, _) in &targets {
        println!("  {}", path.display());
    }
    for note in &read.notes {
        println!("note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}
