//! `schemaforge push` and `plan --db` against the real server: the hazard
//! gate holds back what was not allowed, measures the facts first, refuses
//! what cannot succeed, and leaves the database untouched when it refuses.

mod common;

use std::path::{Path, PathBuf};

use common::{schemaforge, text};
use schemaforge_testkit::postgres::TestDatabase;
use schemaforge_testkit::{catalog, repo_root, scratch_dir};
use sqlx::Executor;

/// blog.v1 with `edit` applied to its JSON, written to a scratch file.
fn variant(label: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("fixtures/examples/blog.v1.json")).expect("v1")).expect("json");
    edit(&mut value);
    let path = scratch_dir(label).join("definition.json");
    std::fs::write(&path, value.to_string()).expect("writable");
    path
}

fn users_columns(value: &mut serde_json::Value) -> &mut Vec<serde_json::Value> {
    value["tables"]
        .as_array_mut()
        .and_then(|t| t.iter_mut().find(|t| t["name"] == "users"))
        .and_then(|t| t["columns"].as_array_mut())
        .expect("users columns")
}

fn push(db: &TestDatabase, definition: &Path, extra: &[&str]) -> std::process::Output {
    let definition = definition.to_string_lossy();
    let mut args = vec!["push", "--db", &db.url, "--schema", &definition];
    args.extend_from_slice(extra);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_schemaforge"));
    // Never a prompt in tests: stdin is not a terminal, and CI is set.
    command.args(&args).env("CI", "1").stdin(std::process::Stdio::null());
    command.output().expect("runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_destructive_push_without_allowance_changes_nothing_and_reports_the_rows_at_stake() {
    let db = TestDatabase::create("push_destructive").await;
    let v1 = repo_root().join("fixtures/examples/blog.v1.json");
    let output = push(&db, &v1, &[]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    let mut conn = db.connect().await;
    conn.execute("INSERT INTO users (email, name) VALUES ('a@x.io', 'Ann'), ('b@x.io', 'Bob'), ('c@x.io', NULL)").await.expect("rows");
    let before = catalog::snapshot(&mut conn).await;

    let without_name = variant("push-drop-name", |v| users_columns(v).retain(|c| c["name"] != "name"));
    let output = push(&db, &without_name, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("deletes-data") && stdout.contains("column users.name has 2 non-null values"), "{stdout}");
    assert!(text(&output.stderr).contains("hazards not allowed: deletes-data"), "{}", text(&output.stderr));
    assert_eq!(catalog::snapshot(&mut conn).await, before, "a refused push changed the database");

    let output = push(&db, &without_name, &["--allow-hazard", "deletes-data,access-exclusive-lock"]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    let columns: i64 =
        sqlx::query_scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'")
            .fetch_one(&mut conn)
            .await
            .expect("count");
    assert_eq!(columns, 0);
    // Pushed again, nothing is left to do.
    let output = push(&db, &without_name, &[]);
    assert!(output.status.success() && text(&output.stdout).contains("No changes"), "{}", text(&output.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_that_cannot_succeed_is_refused_even_when_allowed() {
    let db = TestDatabase::create("push_blocked").await;
    let v1 = repo_root().join("fixtures/examples/blog.v1.json");
    assert!(push(&db, &v1, &[]).status.success());
    let mut conn = db.connect().await;
    conn.execute("INSERT INTO users (email, name) VALUES ('a@x.io', NULL), ('b@x.io', NULL)").await.expect("rows");
    let before = catalog::snapshot(&mut conn).await;
    let name_required = variant("push-not-null", |v| {
        for column in users_columns(v).iter_mut().filter(|c| c["name"] == "name") {
            column["notNull"] = serde_json::Value::Bool(true);
        }
    });

    let plan = schemaforge(&["plan", "--db", &db.url, "--schema", &name_required.to_string_lossy(), "--format", "json"]);
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    let value: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("json");
    let facts: Vec<&serde_json::Value> =
        value["statements"].as_array().expect("statements").iter().flat_map(|s| s["facts"].as_array().into_iter().flatten()).collect();
    assert!(facts.iter().any(|f| f["blocks"] == true && f["message"].as_str().is_some_and(|m| m.contains("2 NULLs"))), "{value}");

    let output = push(&db, &name_required, &["--allow-hazard", "all"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("cannot succeed on the data as it is"), "{}", text(&output.stderr));
    assert_eq!(catalog::snapshot(&mut conn).await, before);
}
