//! `schemaforge pull`: a live database read into `schema.json` and `schema.ts`.

mod common;

use common::{schemaforge, text};
use schemaforge_testkit::postgres::TestDatabase;
use schemaforge_testkit::{repo_root, scratch_dir};
use sqlx::Executor;

#[tokio::test(flavor = "multi_thread")]
async fn pull_writes_a_definition_that_validates_and_plans_nothing_against_itself() {
    let db = TestDatabase::create("pull").await;
    let mut conn = db.connect().await;
    let schema = common::load(&repo_root().join("fixtures/examples/blog.v2.json"));
    for statement in schemaforge_sql::render_create(&schema).expect("renders") {
        conn.execute(sqlx::AssertSqlSafe(statement.sql)).await.expect("builds");
    }
    let out = scratch_dir("pull");
    let output = schemaforge(&["pull", "--db", &db.url, "--out", &out.to_string_lossy()]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains("Pulled 3 tables, 1 enums"), "{}", text(&output.stdout));
    let pulled = out.join("schema.json");
    let validate = schemaforge(&["validate", &pulled.to_string_lossy()]);
    assert!(validate.status.success(), "{}", text(&validate.stderr));
    let plan = schemaforge(&["diff", &pulled.to_string_lossy(), &pulled.to_string_lossy()]);
    assert!(plan.status.success() && plan.stdout.is_empty(), "{}", text(&plan.stdout));
    let ts = std::fs::read_to_string(out.join("schema.ts")).expect("schema.ts");
    assert!(ts.contains("pgTable(\"posts\""), "{ts}");
    // The same tables, the same columns, whatever the spelling.
    let reread = common::load(&pulled);
    let names = |s: &schemaforge_model::Schema| s.tables.iter().map(|t| (t.name.to_string(), t.columns.len())).collect::<Vec<_>>();
    assert_eq!(names(&reread), names(&schema));
}

#[test]
fn pull_without_a_database_says_how_to_give_one() {
    let out = scratch_dir("pull-no-db");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_schemaforge"))
        .args(["pull", "--out", &out.to_string_lossy()])
        .env_remove("DATABASE_URL")
        .current_dir(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("pass --db"), "{}", text(&output.stderr));
    assert!(!out.join("schema.json").exists());
}
