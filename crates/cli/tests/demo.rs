//! The README's first command, `scripts/demo.sh` (which runs `schemaforge
//! demo`): the main job end to end on the SQLite default with no database
//! server and no configuration. Every place `serve` would look for a
//! database names one that does not answer; the demo looks at none of them.

use std::path::Path;
use std::process::{Command, Output};

use schemaforge_testkit::{repo_root, scratch_dir};
use sqlx::{ConnectOptions, sqlite::SqliteConnectOptions};

const NOWHERE: &str = "postgres://postgres@127.0.0.1:1/nowhere";

/// Runs `command` with a database configured everywhere that does not answer.
fn unreachable_database(command: &mut Command) -> Output {
    let config = scratch_dir("demo-config").join("schemaforge.toml");
    std::fs::write(&config, format!("[serve]\ndatabase_url = \"{NOWHERE}\"\n")).expect("writable");
    command.env("DATABASE_URL", NOWHERE).env("SCHEMAFORGE_DATABASE_URL", NOWHERE).env("SCHEMAFORGE_CONFIG", &config).output().expect("runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test]
async fn the_demo_script_runs_the_main_job_with_no_server_and_no_configuration() {
    let out = scratch_dir("demo").join("demo-output");
    let output = unreachable_database(
        Command::new("bash")
            .arg(repo_root().join("scripts/demo.sh"))
            .env("SCHEMAFORGE_BIN", env!("CARGO_BIN_EXE_schemaforge"))
            .env("DEMO_OUTPUT", &out),
    );
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");
    for expected in ["200: version 1.0.0 (initial)", "CREATE TABLE `users`", "sqliteTable(\"users\"", "drizzle/demo/schema.ts"] {
        assert!(printed.contains(expected), "`{expected}` is not in:\n{printed}");
    }
    for artifact in [
        "drizzle/demo/schema.ts",
        "drizzle/demo/migrations/0000_init.sql",
        "drizzle/demo/migrations/0000_init.down.sql",
        "drizzle/demo/migrations/meta/0000_snapshot.json",
        "drizzle/demo/migrations/schemaforge.sum",
        "drizzle/demo/versions/1.0.0/definition.json",
        "drizzle/demo/versions/1.0.0/changelog.md",
        "drizzle/demo/logs/generation.log",
        "service.sqlite",
        "tenants/demo.sqlite",
    ] {
        assert!(out.join(artifact).is_file(), "{artifact} is missing:\n{printed}");
    }
    let journal = std::fs::read_to_string(out.join("drizzle/demo/migrations/meta/_journal.json")).expect("the journal");
    assert!(journal.contains("\"dialect\": \"sqlite\""), "{journal}");
    assert_eq!(tables(&out.join("tenants/demo.sqlite")).await, ["users"]);
    assert!(!out.join("secret").exists(), "the SQLite default needs no role secret");

    // Again on the same directory: the tenant already has that version.
    let again = unreachable_database(Command::new(env!("CARGO_BIN_EXE_schemaforge")).arg("demo").arg("--data-dir").arg(&out));
    assert!(again.status.success() && text(&again).contains("unchanged"), "{}", text(&again));
}

#[test]
fn the_demo_shows_what_is_wrong_with_a_definition() {
    let dir = scratch_dir("demo-invalid");
    let definition = dir.join("typo.json");
    std::fs::write(&definition, r#"{"tables": [{"name": "t", "columns": [{"name": "id", "type": "serail"}]}]}"#).expect("writable");
    let output = unreachable_database(
        Command::new(env!("CARGO_BIN_EXE_schemaforge")).arg("demo").arg(&definition).arg("--data-dir").arg(dir.join("out")),
    );
    let printed = text(&output);
    assert_eq!(output.status.code(), Some(1), "{printed}");
    assert!(printed.contains("400") && printed.contains("/schema/tables/0/columns/0/type"), "{printed}");
}

/// The tables of a SQLite file, bookkeeping aside.
async fn tables(path: &Path) -> Vec<String> {
    let mut conn = SqliteConnectOptions::new().filename(path).connect().await.expect("opens");
    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY 1")
        .fetch_all(&mut conn)
        .await
        .expect("tables")
}
