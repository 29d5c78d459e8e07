//! `schemaforge migrate` and `status` against the real server: drizzle-orm's
//! migrator agrees with ours, edits and gaps are refused, a failure leaves the
//! database as it was, a second migrator waits for the first and then finds
//! nothing pending, and a connection killed mid-migration leaves the previous
//! version.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{schemaforge, text};
use schemaforge_testkit::node::{self, oracle_dir};
use schemaforge_testkit::postgres::TestDatabase;
use schemaforge_testkit::{catalog, repo_root, scratch_dir};
use sqlx::{Connection, Executor, PgConnection};

/// The blog chain v1 → v2 → v3 generated into a fresh folder.
fn blog_folder(label: &str) -> PathBuf {
    let out = scratch_dir(label).join("drizzle");
    for version in ["v1", "v2", "v3"] {
        common::generate(&repo_root().join(format!("fixtures/examples/blog.{version}.json")), &out);
    }
    out
}

fn migrate(db: &TestDatabase, dir: &Path, extra: &[&str]) -> std::process::Output {
    let dir = dir.to_string_lossy();
    let mut args = vec!["migrate", "--db", &db.url, "--dir", &dir];
    args.extend_from_slice(extra);
    schemaforge(&args)
}

const TAGS: [&str; 3] = ["0000_init", "0001_add_comments_and_more", "0002_rename_posts_to_articles_and_more"];

async fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn ours_then_drizzle_and_drizzle_then_ours_apply_each_migration_once() {
    require_node();
    let dir = blog_folder("migrate-agree");
    let drizzle = |url: &str| node::node(&oracle_dir(), &oracle_dir().join("migrate.mjs"), &[url, &dir.to_string_lossy()], &[]);

    // Ours first, up to the second migration; then drizzle-orm applies the third only.
    let db = TestDatabase::create("migrate_ours_first").await;
    let output = migrate(&db, &dir, &["--to", TAGS[1]]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains("Applied 2 migrations"), "{}", text(&output.stdout));
    let run = drizzle(&db.url);
    assert!(run.success, "{}", run.combined());
    let mut conn = db.connect().await;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM drizzle.__drizzle_migrations").await, 3);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'articles'").await, 1);
    let output = migrate(&db, &dir, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("No pending migrations") && stdout.contains("was applied by drizzle-orm"), "{stdout}");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM schemaforge.migrations WHERE status = 'applied'").await, 3);
    conn.close().await.ok();

    // drizzle-orm first: ours finds nothing to do, and records what it found.
    let db = TestDatabase::create("migrate_drizzle_first").await;
    let run = drizzle(&db.url);
    assert!(run.success, "{}", run.combined());
    let output = migrate(&db, &dir, &[]);
    assert!(output.status.success() && text(&output.stdout).contains("No pending migrations"), "{}", text(&output.stdout));
    let mut conn = db.connect().await;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM drizzle.__drizzle_migrations").await, 3);
    let run = drizzle(&db.url);
    assert!(run.success, "{}", run.combined());
    assert_eq!(count(&mut conn, "SELECT count(*) FROM drizzle.__drizzle_migrations").await, 3, "drizzle-orm applied something again");

    let status = schemaforge(&["status", "--db", &db.url, "--dir", &dir.to_string_lossy(), "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status json");
    assert_eq!(value["pending"], 0, "{value}");
    assert_eq!(value["migrations"][2]["name"], TAGS[2]);
    assert_eq!(value["migrations"][2]["status"], "applied");
}

fn require_node() {
    schemaforge_testkit::node::require_toolchain();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_applied_migration_is_refused_by_name() {
    let dir = blog_folder("migrate-edited");
    let db = TestDatabase::create("migrate_edited").await;
    assert!(migrate(&db, &dir, &[]).status.success());
    let file = dir.join(format!("{}.sql", TAGS[0]));
    let original = std::fs::read_to_string(&file).expect("file");
    std::fs::write(&file, format!("{original}\n-- a harmless edit")).expect("writable");

    // The sum file catches it first, naming the file …
    let output = migrate(&db, &dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("0000_init.sql changed after it was generated"), "{}", text(&output.stderr));
    // … and accepted into the sum, the applied checksum still refuses it.
    assert!(schemaforge(&["hash", "--dir", &dir.to_string_lossy()]).status.success());
    let output = migrate(&db, &dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("0000_init.sql was applied with checksum"), "{}", text(&output.stderr));
    let status = schemaforge(&["status", "--db", &db.url, "--dir", &dir.to_string_lossy()]);
    assert!(text(&status.stdout).contains("edited"), "{}", text(&status.stdout));
    // `check` finds the folder whole (the sum agrees), and the database's
    // checksum refuses it all the same, naming the file.
    let output = run(&["check", "--dir", &dir.to_string_lossy()]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    let output = run(&["check", "--db", &db.url, "--dir", &dir.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("problem: 0000_init.sql changed after it was applied"), "{}", text(&output.stdout));
    let output = run(&["check", "--db", &db.url, "--dir", &dir.to_string_lossy(), "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(value["ok"], false, "{value}");
    assert!(
        value["problems"].as_array().is_some_and(|p| p.len() == 1 && p[0].as_str().is_some_and(|p| p.starts_with("0000_init.sql "))),
        "{value}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_migration_leaves_the_database_as_it_was_and_a_rerun_after_the_fix_works() {
    let dir = blog_folder("migrate-failure");
    let db = TestDatabase::create("migrate_failure").await;
    assert!(migrate(&db, &dir, &["--to", TAGS[0]]).status.success());
    let mut conn = db.connect().await;
    // Something in the way of the next migration's CREATE TABLE.
    conn.execute("CREATE TABLE comments (x int)").await.expect("blocker");
    let before = catalog::snapshot(&mut conn).await;

    let output = migrate(&db, &dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(TAGS[1]) && stderr.contains("already exists") && stderr.contains("Nothing of it was kept"), "{stderr}");
    assert_eq!(catalog::snapshot(&mut conn).await, before, "a failed migration changed the schema");
    let error: Option<String> = sqlx::query_scalar("SELECT error FROM schemaforge.migrations WHERE name = $1 AND status = 'failed'")
        .bind(TAGS[1])
        .fetch_one(&mut conn)
        .await
        .expect("the failure is recorded");
    assert!(error.is_some_and(|e| e.contains("already exists")));

    conn.execute("DROP TABLE comments").await.expect("fix");
    let output = migrate(&db, &dir, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(count(&mut conn, "SELECT count(*) FROM schemaforge.migrations WHERE status = 'applied'").await, 3);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM drizzle.__drizzle_migrations").await, 3);
}

/// Waits (up to ten seconds) until `sql`, run on the admin connection with
/// the database's name as `$1`, finds a row.
async fn until_seen(admin: &mut PgConnection, database: &str, sql: &str) -> bool {
    for _ in 0..500 {
        let found: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT EXISTS ({sql})")))
            .bind(database)
            .fetch_one(&mut *admin)
            .await
            .expect("activity");
        if found {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_migrator_waits_for_the_first_then_finds_nothing_pending() {
    // The blog chain, whose first migration holds the lock for two seconds.
    let dir = scratch_dir("migrate-concurrent").join("drizzle");
    for version in ["v1", "v2", "v3"] {
        let path = repo_root().join(format!("fixtures/examples/blog.{version}.json"));
        let mut value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json");
        value["sql"] = serde_json::json!({"after": "SELECT pg_sleep(2)"});
        let slow = scratch_dir(&format!("migrate-concurrent-{version}")).join(format!("blog.{version}.json"));
        std::fs::write(&slow, value.to_string()).expect("writable");
        common::generate(&slow, &dir);
    }
    let db = TestDatabase::create("migrate_concurrent").await;
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_schemaforge"))
            .args(["migrate", "--db", &db.url, "--dir", &dir.to_string_lossy()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns")
    };
    let mut admin = PgConnection::connect(&schemaforge_testkit::postgres::server_url()).await.expect("admin");
    let first = spawn();
    let sleeping =
        "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep(2)%' AND state = 'active' AND pid <> pg_backend_pid()";
    assert!(until_seen(&mut admin, &db.name, sleeping).await, "the first migrator never reached its slow statement");
    let second = spawn();
    // Started while the first sleeps holding the lock, the second is seen waiting for it.
    let waiting = "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'";
    assert!(until_seen(&mut admin, &db.name, waiting).await, "the second migrator never waited on the migration lock");
    let (first, second) = (first.wait_with_output().expect("runs"), second.wait_with_output().expect("runs"));
    assert!(first.status.success() && second.status.success(), "{}\n{}", text(&first.stderr), text(&second.stderr));
    let (first, second) = (text(&first.stdout), text(&second.stdout));
    assert_eq!(first.matches("  applying").count(), 3, "{first}");
    assert!(first.contains("Applied 3 migrations"), "{first}");
    assert!(!second.contains("applying") && second.contains("No pending migrations"), "the second migrator applied something:\n{second}");

    // Each migration recorded once, in both histories.
    let mut conn = db.connect().await;
    let ours: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, count(*) FROM schemaforge.migrations WHERE status = 'applied' GROUP BY name ORDER BY name")
            .fetch_all(&mut conn)
            .await
            .expect("our history");
    assert_eq!(ours, TAGS.iter().map(|t| (t.to_string(), 1)).collect::<Vec<_>>());
    assert_eq!(count(&mut conn, "SELECT count(*) FROM schemaforge.migrations").await, 3);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM drizzle.__drizzle_migrations").await, 3);
    assert_eq!(count(&mut conn, "SELECT count(DISTINCT created_at) FROM drizzle.__drizzle_migrations").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_killed_mid_migration_leaves_the_previous_version_and_a_rerun_completes() {
    // A second migration that takes a while: its `after` SQL sleeps.
    let out = scratch_dir("migrate-kill").join("drizzle");
    let v1 = repo_root().join("fixtures/examples/blog.v1.json");
    common::generate(&v1, &out);
    let mut slow: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&v1).expect("v1")).expect("json");
    slow["tables"]
        .as_array_mut()
        .expect("tables")
        .push(serde_json::json!({"name": "audit", "columns": [{"name": "id", "type": "serial", "primaryKey": true}]}));
    slow["sql"] = serde_json::json!({"after": "SELECT pg_sleep(3)"});
    let slow_path = scratch_dir("migrate-kill-def").join("slow.json");
    std::fs::write(&slow_path, slow.to_string()).expect("writable");
    common::generate(&slow_path, &out);

    let db = TestDatabase::create("migrate_kill").await;
    assert!(migrate(&db, &out, &["--to", "0000_init"]).status.success());
    let child = Command::new(env!("CARGO_BIN_EXE_schemaforge"))
        .args(["migrate", "--db", &db.url, "--dir", &out.to_string_lossy()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let mut admin = PgConnection::connect(&schemaforge_testkit::postgres::server_url()).await.expect("admin");
    let mut killed = false;
    for _ in 0..100 {
        let pids: Vec<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()",
        )
        .bind(&db.name)
        .fetch_all(&mut admin)
        .await
        .expect("activity");
        if let Some(pid) = pids.first() {
            sqlx::query("SELECT pg_terminate_backend($1)").bind(pid).execute(&mut admin).await.expect("terminate");
            killed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(killed, "the slow statement never showed up");
    let output = child.wait_with_output().expect("runs");
    assert!(!output.status.success(), "the killed migration reported success");

    let mut conn = db.connect().await;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit'").await, 0, "half applied");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM drizzle.__drizzle_migrations").await, 1);
    let output = migrate(&db, &out, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(count(&mut conn, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit'").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn gaps_missing_files_and_branches_are_refused() {
    let dir = blog_folder("migrate-gaps");
    let db = TestDatabase::create("migrate_gaps").await;
    assert!(migrate(&db, &dir, &["--to", TAGS[0]]).status.success());
    let mut conn = db.connect().await;

    // A later migration recorded as applied while an earlier one is not.
    let checksum = {
        use sha2::Digest;
        let sql = std::fs::read(dir.join(format!("{}.sql", TAGS[2]))).expect("file");
        sha2::Sha256::digest(&sql).iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    sqlx::query(
        "INSERT INTO schemaforge.migrations (name, checksum, status, started_at, applied_by, statements_total) VALUES ($1, $2, 'applied', now(), 'test', 1)",
    )
    .bind(TAGS[2])
    .bind(&checksum)
    .execute(&mut conn)
    .await
    .expect("insert");
    let output = migrate(&db, &dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains(&format!("{} is not applied, but {} after it is", TAGS[1], TAGS[2])), "{}", text(&output.stderr));

    // An applied migration whose file is gone.
    sqlx::query("UPDATE schemaforge.migrations SET name = '0009_gone' WHERE name = $1")
        .bind(TAGS[2])
        .execute(&mut conn)
        .await
        .expect("update");
    let output = migrate(&db, &dir, &[]);
    assert!(
        text(&output.stderr).contains("0009_gone is recorded as applied, but the folder has no such migration"),
        "{}",
        text(&output.stderr)
    );
    conn.execute("DELETE FROM schemaforge.migrations WHERE name = '0009_gone'").await.expect("delete");

    // Two migrations generated from the same parent: a merge of two branches.
    let branch = scratch_dir("migrate-branch").join("drizzle");
    common::generate(&repo_root().join("fixtures/examples/blog.v1.json"), &branch);
    common::generate(&repo_root().join("fixtures/examples/blog.v3.json"), &branch);
    let snapshot = std::fs::read_to_string(branch.join("meta/0001_snapshot.json")).expect("snapshot");
    let merged = scratch_dir("migrate-merged").join("drizzle");
    copy_dir(&dir, &merged);
    std::fs::write(merged.join("meta/0002_snapshot.json"), snapshot).expect("writable");
    assert!(schemaforge(&["hash", "--dir", &merged.to_string_lossy()]).status.success());
    let output = migrate(&db, &merged, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("were both generated from the same parent snapshot"), "{}", text(&output.stderr));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creatable");
    for entry in std::fs::read_dir(from).expect("readable").filter_map(Result::ok) {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copyable");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_outside_a_transaction_resumes_where_it_failed() {
    let out = scratch_dir("migrate-resume").join("drizzle");
    common::generate(&repo_root().join("fixtures/examples/blog.v1.json"), &out);
    let v2 = repo_root().join("fixtures/examples/blog.v2.json");
    let output = schemaforge(&["generate", "--schema", &v2.to_string_lossy(), "--out", &out.to_string_lossy(), "--concurrent-indexes"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let db = TestDatabase::create("migrate_resume").await;
    assert!(migrate(&db, &out, &["--to", TAGS[0]]).status.success());
    let mut conn = db.connect().await;
    // An index of that name elsewhere: the concurrent build fails partway through.
    conn.execute("CREATE TABLE blocker (x int); CREATE INDEX posts_published_idx ON blocker (x)").await.expect("blocker");

    let output = migrate(&db, &out, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("outside a transaction") && stderr.contains("are applied and recorded"), "{stderr}");
    let done: i32 = sqlx::query_scalar("SELECT statements_done FROM schemaforge.migrations WHERE name = $1")
        .bind(TAGS[1])
        .fetch_one(&mut conn)
        .await
        .expect("progress");
    assert!(done > 0, "no progress recorded");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'comments'").await, 1);

    conn.execute("DROP TABLE blocker").await.expect("fix");
    let output = migrate(&db, &out, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let valid: bool = sqlx::query_scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'posts_published_idx'::regclass")
        .fetch_one(&mut conn)
        .await
        .expect("index");
    assert!(valid);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM drizzle.__drizzle_migrations").await, 2);
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_schemaforge"))
        .args(args)
        .env("CI", "1")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_undoes_migrations_gated_by_hazards_and_migrate_reapplies_them() {
    let dir = blog_folder("migrate-rollback");
    let dir_text = dir.to_string_lossy().to_string();
    let db = TestDatabase::create("migrate_rollback").await;
    assert!(migrate(&db, &dir, &[]).status.success());
    // Reference databases at each earlier version.
    let at_first = TestDatabase::create("migrate_rollback_v1").await;
    assert!(migrate(&at_first, &dir, &["--to", TAGS[0]]).status.success());
    let at_second = TestDatabase::create("migrate_rollback_v2").await;
    assert!(migrate(&at_second, &dir, &["--to", TAGS[1]]).status.success());
    let catalog_of = |db: &TestDatabase| {
        let url = db.url.clone();
        async move {
            let mut conn = PgConnection::connect(&url).await.expect("connects");
            let mut lines = catalog::snapshot(&mut conn).await;
            // Bookkeeping differs by design (rolled-back rows are kept in our history).
            lines.retain(|l| !l.contains("schemaforge.") && !l.contains("drizzle."));
            lines
        }
    };

    let output = run(&["rollback", "--db", &db.url, "--dir", &dir_text]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(text(&output.stderr).contains("hazards not allowed"), "{}", text(&output.stderr));

    let output = run(&["rollback", "--db", &db.url, "--dir", &dir_text, "--allow-hazard", "all"]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains(&format!("Rolled back {}", TAGS[2])));
    assert_eq!(catalog_of(&db).await, catalog_of(&at_second).await, "rolling back 0002 does not give the 0001 database");

    let output = run(&["rollback", "--db", &db.url, "--dir", &dir_text, "--to", TAGS[0], "--allow-hazard", "all"]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(catalog_of(&db).await, catalog_of(&at_first).await, "rolling back to 0000 does not give the 0000 database");
    let mut conn = db.connect().await;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM drizzle.__drizzle_migrations").await, 1);

    let output = migrate(&db, &dir, &[]);
    assert!(output.status.success() && text(&output.stdout).contains("Applied 2 migrations"), "{}", text(&output.stdout));
    assert_eq!(count(&mut conn, "SELECT count(*) FROM drizzle.__drizzle_migrations").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_passes_a_clean_folder_and_database_and_reports_drift_and_edits() {
    let dir = blog_folder("migrate-check");
    let dir_text = dir.to_string_lossy().to_string();
    let db = TestDatabase::create("migrate_check").await;
    assert!(migrate(&db, &dir, &[]).status.success());

    let output = run(&["check", "--db", &db.url, "--dir", &dir_text]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains("everything checks out"));

    let mut conn = db.connect().await;
    conn.execute("ALTER TABLE users ADD COLUMN nickname text").await.expect("drift");
    let output = run(&["check", "--db", &db.url, "--dir", &dir_text, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(
        value["drift"].as_array().is_some_and(|d| d.iter().any(|c| c.as_str().is_some_and(|c| c.contains("users.nickname")))),
        "{value}"
    );

    let file = dir.join(format!("{}.down.sql", TAGS[1]));
    let original = std::fs::read_to_string(&file).expect("file");
    std::fs::write(&file, format!("{original}\n-- edited")).expect("writable");
    let output = run(&["check", "--dir", &dir_text]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains(&format!("{}.down.sql changed after it was generated", TAGS[1])), "{}", text(&output.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_folder_comes_from_schemaforge_toml_and_the_database_from_dotenv() {
    // A project whose migrations live in `db/`, its database named in `.env`.
    let project = scratch_dir("migrate-config");
    let folder = project.join("db");
    for version in ["v1", "v2", "v3"] {
        common::generate(&repo_root().join(format!("fixtures/examples/blog.{version}.json")), &folder);
    }
    let db = TestDatabase::create("migrate_config").await;
    std::fs::write(project.join("schemaforge.toml"), "[migrations]\ndir = \"db\"\n").expect("writable");
    std::fs::write(project.join(".env"), format!("DATABASE_URL={}\n", db.url)).expect("writable");
    let in_project = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_schemaforge"))
            .args(args)
            .current_dir(&project)
            .env("CI", "1")
            .env_remove("DATABASE_URL")
            .env_remove("SCHEMAFORGE_CONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("runs")
    };
    let succeeds = |output: &std::process::Output| {
        assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
        text(&output.stdout)
    };

    assert!(succeeds(&in_project(&["migrate"])).contains("Applied 3 migrations"));
    assert!(succeeds(&in_project(&["status"])).contains("3 applied, 0 not applied"));
    assert!(succeeds(&in_project(&["check"])).contains("db: everything checks out"));
    assert!(succeeds(&in_project(&["rollback", "--allow-hazard", "all"])).contains(&format!("Rolled back {}", TAGS[2])));
    // `check` found the database through `.env`: the rolled-back migration is pending there.
    assert!(succeeds(&in_project(&["check"])).contains("1 migration not applied yet"));
    assert!(succeeds(&in_project(&["hash"])).contains(&format!("Wrote {}", std::path::Path::new("db").join("schemaforge.sum").display())));

    // A typo in the file is refused, naming it, rather than falling back to ./drizzle.
    std::fs::write(project.join("schemaforge.toml"), "[migrations]\ndri = \"db\"\n").expect("writable");
    for command in ["migrate", "status", "check", "rollback", "hash"] {
        let output = in_project(&[command]);
        assert_eq!(output.status.code(), Some(2), "{command}: {}{}", text(&output.stdout), text(&output.stderr));
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("schemaforge.toml is not a valid schemaforge configuration") && stderr.contains("dri"),
            "{command}: {stderr}"
        );
    }
}
