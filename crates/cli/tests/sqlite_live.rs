//! The live commands on SQLite files, through the real binary: `migrate` keeps
//! child rows through rebuilds and agrees with drizzle-orm's migrator, two
//! migrators apply each migration once, edits and failures are refused and
//! recorded, `rollback` is gated, `check` finds drift, `push` is gated by
//! measured facts, and `pull` gives back a definition that plans nothing.

mod common;

use std::path::{Path, PathBuf};

use common::{schemaforge, text};
use schemaforge_model::Schema;
use schemaforge_testkit::node::{self, oracle_dir};
use schemaforge_testkit::sqlite::TestFile;
use schemaforge_testkit::{repo_root, rows, scratch_dir};
use sqlx::Executor;
use sqlx::sqlite::SqliteConnection;

const TAGS: [&str; 3] = ["0000_init", "0001_add_comments_and_more", "0002_rename_posts_to_articles_and_more"];

fn blog(version: &str) -> PathBuf {
    repo_root().join(format!("fixtures/sqlite/blog.{version}.json"))
}

fn blog_schema(version: &str) -> Schema {
    common::load(&blog(version))
}

/// The SQLite blog chain v1 → v2 → v3 generated into a fresh folder.
fn blog_folder(label: &str) -> PathBuf {
    let out = scratch_dir(label).join("drizzle");
    for version in ["v1", "v2", "v3"] {
        common::generate(&blog(version), &out);
    }
    out
}

fn run(args: &[&str]) -> (bool, String) {
    let output = schemaforge(args);
    (output.status.success(), format!("{}{}", text(&output.stdout), text(&output.stderr)))
}

fn migrate(db: &TestFile, dir: &Path, extra: &[&str]) -> (bool, String) {
    let dir = dir.to_string_lossy();
    let mut args = vec!["migrate", "--db", &db.url, "--dir", &dir];
    args.extend_from_slice(extra);
    run(&args)
}

async fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn insert_rows(conn: &mut SqliteConnection, schema: &Schema) {
    for insert in rows::inserts(schema) {
        conn.execute(sqlx::AssertSqlSafe(insert.clone())).await.unwrap_or_else(|e| panic!("{insert}: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_blog_chain_migrates_step_by_step_and_keeps_every_child_row() {
    let dir = blog_folder("sqlite-live-chain");
    let db = TestFile::create("sqlite-live-chain");
    let (ok, out) = migrate(&db, &dir, &["--to", TAGS[0]]);
    assert!(ok && out.contains("Applied 1 migration"), "{out}");
    let mut conn = db.connect().await;
    insert_rows(&mut conn, &blog_schema("v1")).await;
    let (ok, out) = migrate(&db, &dir, &["--to", TAGS[1]]);
    assert!(ok, "{out}");
    // v2 adds comments; give them rows too, so v3's rebuilds have children.
    let v2 = blog_schema("v2");
    let comments = rows::inserts(&v2).into_iter().filter(|s| s.contains("\"comments\"")).collect::<Vec<_>>();
    assert!(!comments.is_empty(), "the blog's v2 has comments");
    for insert in comments {
        conn.execute(sqlx::AssertSqlSafe(insert)).await.expect("a comment");
    }
    let before = (count(&mut conn, "SELECT count(*) FROM users").await, count(&mut conn, "SELECT count(*) FROM comments").await);
    let (ok, out) = migrate(&db, &dir, &[]);
    assert!(ok && out.contains("applying 0002_"), "{out}");
    // drizzle-orm's own migrator loses these (its PRAGMA foreign_keys=OFF is a
    // no-op inside its transaction); ours turns foreign keys off outside it.
    let after = (count(&mut conn, "SELECT count(*) FROM users").await, count(&mut conn, "SELECT count(*) FROM comments").await);
    assert_eq!(after, before, "rows of rebuilt parents' children were lost");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM articles").await, 2);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM pragma_foreign_key_check").await, 0);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM __drizzle_migrations").await, 3);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM __schemaforge_migrations WHERE status = 'applied'").await, 3);

    let (ok, out) = migrate(&db, &dir, &[]);
    assert!(ok && out.contains("No pending migrations"), "{out}");
    let (ok, out) = run(&["status", "--db", &db.url, "--dir", &dir.to_string_lossy(), "--format", "json"]);
    assert!(ok, "{out}");
    let status: serde_json::Value = serde_json::from_str(&out).expect("JSON status");
    assert_eq!(status["pending"], 0);
    assert!(status["migrations"].as_array().expect("migrations").iter().all(|m| m["status"] == "applied"), "{status}");

    let (ok, out) = run(&["check", "--db", &db.url, "--dir", &dir.to_string_lossy()]);
    assert!(ok && out.contains("everything checks out"), "{out}");
    conn.execute("ALTER TABLE users ADD COLUMN shadow_note text").await.expect("drift by hand");
    let (ok, out) = run(&["check", "--db", &db.url, "--dir", &dir.to_string_lossy()]);
    assert!(!ok && out.contains("drifted") && out.contains("shadow_note"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn drizzle_then_ours_and_ours_then_drizzle_apply_each_migration_once() {
    node::require_sqlite_toolchain();
    let dir = blog_folder("sqlite-live-agree");
    let drizzle = |db: &TestFile| {
        node::node(&oracle_dir(), &oracle_dir().join("migrate-sqlite.mjs"), &[&db.path.to_string_lossy(), &dir.to_string_lossy()], &[])
    };

    let ours_first = TestFile::create("sqlite-live-ours-first");
    let (ok, out) = migrate(&ours_first, &dir, &[]);
    assert!(ok, "{out}");
    let run = drizzle(&ours_first);
    assert!(run.success, "{}", run.combined());
    let mut conn = ours_first.connect().await;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM __drizzle_migrations").await, 3, "drizzle-orm applied one again");

    let theirs_first = TestFile::create("sqlite-live-theirs-first");
    let run = drizzle(&theirs_first);
    assert!(run.success, "{}", run.combined());
    let (ok, out) = migrate(&theirs_first, &dir, &[]);
    assert!(ok && out.contains("No pending migrations") && out.contains("was applied by drizzle-orm"), "{out}");
    let mut conn = theirs_first.connect().await;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM __schemaforge_migrations WHERE status = 'applied'").await, 3);
}

/// A folder whose second migration takes a while (a slow query), so a second
/// migrator started meanwhile has to wait for the write lock.
fn slow_folder(label: &str) -> PathBuf {
    let dir = blog_folder(label);
    let tag = TAGS[1];
    let path = dir.join(format!("{tag}.sql"));
    let sql = std::fs::read_to_string(&path).expect("migration");
    let slow = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 4000000) SELECT count(*) FROM n;";
    std::fs::write(&path, format!("{slow}--> statement-breakpoint\n{sql}")).expect("writable");
    let (ok, out) = run(&["hash", "--dir", &dir.to_string_lossy()]);
    assert!(ok, "{out}");
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn two_migrators_at_once_apply_each_migration_once() {
    let dir = slow_folder("sqlite-live-race");
    let db = TestFile::create("sqlite-live-race");
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_schemaforge"))
            .args(["migrate", "--db", &db.url, "--dir", &dir.to_string_lossy()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawns")
    };
    let (first, second) = (spawn(), spawn());
    let outputs = [first.wait_with_output().expect("first"), second.wait_with_output().expect("second")];
    let mut applied = 0;
    for output in &outputs {
        let out = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(output.status.success(), "{out}");
        applied += out.lines().filter(|l| l.trim_start().starts_with("applying ")).count();
    }
    let mut conn = db.connect().await;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM __drizzle_migrations").await, 3);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM __schemaforge_migrations").await, 3);
    // A migration is announced under the write lock, once found still pending:
    // by exactly one of the two, whoever got the lock first.
    assert_eq!(applied, 3, "{outputs:?}");
    let waited = outputs.iter().any(|o| text(&o.stdout).contains("No pending migrations") || !text(&o.stdout).contains("0000_init"));
    assert!(waited, "neither migrator found the other's work: {outputs:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn edits_failures_and_rollbacks_are_refused_recorded_and_gated() {
    let dir = blog_folder("sqlite-live-refusals");
    let db = TestFile::create("sqlite-live-refusals");
    let (ok, out) = migrate(&db, &dir, &["--to", TAGS[1]]);
    assert!(ok, "{out}");

    // An applied migration edited (and re-hashed) is refused by its checksum.
    let applied = dir.join(format!("{}.sql", TAGS[0]));
    let original = std::fs::read_to_string(&applied).expect("migration");
    std::fs::write(&applied, format!("{original}\n")).expect("writable");
    assert!(run(&["hash", "--dir", &dir.to_string_lossy()]).0);
    let (ok, out) = migrate(&db, &dir, &[]);
    assert!(!ok && out.contains("0000_init.sql was applied with checksum"), "{out}");
    std::fs::write(&applied, &original).expect("restorable");
    assert!(run(&["hash", "--dir", &dir.to_string_lossy()]).0);

    // v3 renames posts to articles: a table of that name made by hand makes it
    // fail partway; nothing of it stays, the failure is recorded, and a rerun
    // after the fix completes.
    let mut conn = db.connect().await;
    conn.execute("CREATE TABLE articles (id integer)").await.expect("a table in the way");
    let tables = async |conn: &mut SqliteConnection| -> Vec<String> {
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetch_all(conn).await.expect("tables")
    };
    let tables_before = tables(&mut conn).await;
    let (ok, out) = migrate(&db, &dir, &[]);
    assert!(!ok && out.contains("failed at statement"), "{out}");
    assert_eq!(tables(&mut conn).await, tables_before, "a failed migration left changes behind");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM __schemaforge_migrations WHERE status = 'failed'").await, 1);
    let (ok, out) = run(&["status", "--db", &db.url, "--dir", &dir.to_string_lossy()]);
    assert!(ok && out.contains("failed"), "{out}");
    conn.execute("DROP TABLE articles").await.expect("the cause removed");
    let (ok, out) = migrate(&db, &dir, &[]);
    assert!(ok, "a rerun after the fix: {out}");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM __schemaforge_migrations WHERE status = 'applied'").await, 3);

    // Rolling back v3 deletes nothing it did not create, but re-creates a
    // dropped column empty: refused without allowance, then done.
    let (ok, out) = run(&["rollback", "--db", &db.url, "--dir", &dir.to_string_lossy()]);
    assert!(!ok && out.contains("hazard"), "{out}");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM sqlite_master WHERE name = 'articles'").await, 1);
    let (ok, out) = run(&["rollback", "--db", &db.url, "--dir", &dir.to_string_lossy(), "--allow-hazard", "all"]);
    assert!(ok && out.contains(&format!("Rolled back {}", TAGS[2])), "{out}");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM sqlite_master WHERE name = 'posts'").await, 1);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM __drizzle_migrations").await, 2);
    let (ok, out) = migrate(&db, &dir, &[]);
    assert!(ok && out.contains("Applied 1 migration"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn push_is_gated_by_measured_facts_and_pull_gives_back_the_definition() {
    let db = TestFile::create("sqlite-live-push");
    let (v1, v2, v3) = (blog("v1"), blog("v2"), blog("v3"));
    let push = |schema: &Path, extra: &[&str]| {
        let schema = schema.to_string_lossy();
        let mut args = vec!["push", "--db", &db.url, "--schema", &schema];
        args.extend_from_slice(extra);
        run(&args)
    };
    let (ok, out) = push(&v1, &[]);
    assert!(ok, "{out}");
    // Rebuilding tables is operational, but still named when pushing.
    let (ok, out) = push(&v2, &["--allow-hazard", "rewrites-table,builds-index,validation-scan,may-fail-on-existing-data"]);
    assert!(ok, "{out}");
    let mut conn = db.connect().await;
    insert_rows(&mut conn, &blog_schema("v2")).await;

    // v3 drops a column that holds values: refused, with the values counted.
    let (ok, out) = push(&v3, &[]);
    assert!(!ok && out.contains("deletes-data") && out.contains("non-null values"), "{out}");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM sqlite_master WHERE name = 'posts'").await, 1, "a refused push changed the database");
    let (ok, out) = push(&v3, &["--allow-hazard", "all"]);
    assert!(ok && out.contains("Applied"), "{out}");
    let (ok, out) = push(&v3, &[]);
    assert!(ok && out.contains("No changes"), "{out}");

    let pulled = scratch_dir("sqlite-live-pull");
    let (ok, out) = run(&["pull", "--db", &db.url, "--out", &pulled.to_string_lossy()]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["plan", "--db", &db.url, "--schema", &pulled.join("schema.json").to_string_lossy()]);
    assert!(ok && out.contains("No changes"), "the pulled definition plans a change:\n{out}");
    let (ok, out) = run(&["plan", "--db", &db.url, "--schema", &v3.to_string_lossy()]);
    assert!(ok && out.contains("No changes"), "{out}");
}
