//! `schemaforge pull`: a migrated database read into `schema.json` and
//! `schema.ts` gives back the definition it was migrated to.

mod common;

use std::path::Path;

use common::{schemaforge, text};
use schemaforge_testkit::postgres::TestDatabase;
use schemaforge_testkit::{repo_root, scratch_dir};

/// The plan `plan --db` prints for `definition` against `db`.
fn plan_against(db: &TestDatabase, definition: &Path) -> String {
    let output = schemaforge(&["plan", "--db", &db.url, "--schema", &definition.to_string_lossy()]);
    assert!(output.status.success(), "plan --db {}: {}{}", definition.display(), text(&output.stdout), text(&output.stderr));
    text(&output.stdout)
}

fn no_changes(plan: &str) -> bool {
    plan.lines().any(|l| l == "No changes.")
}

/// A throw-away database, made outside any async runtime.
fn database(label: &str) -> TestDatabase {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(TestDatabase::create(label))
}

fn migrate(db: &TestDatabase, folder: &Path, to: Option<&str>) {
    let folder = folder.to_string_lossy();
    let mut args = vec!["migrate", "--db", &db.url, "--dir", &folder];
    args.extend(to.iter().flat_map(|tag| ["--to", tag]));
    let output = schemaforge(&args);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
}

/// Pulls `db` (migrated to `source`) and proves the pulled definition is the
/// source's schema: the database plans no change against the pulled
/// definition, and none against the source either (built apart, in a shadow
/// database, and compared with the same reading). Returns the problems found.
fn pulled_matches(label: &str, db: &TestDatabase, source: &Path) -> Vec<String> {
    let out = scratch_dir(&format!("pull-{label}"));
    let output = schemaforge(&["pull", "--db", &db.url, "--out", &out.to_string_lossy()]);
    if !output.status.success() {
        return vec![format!("{label}: pull failed: {}{}", text(&output.stdout), text(&output.stderr))];
    }
    let pulled = out.join("schema.json");
    let mut problems = Vec::new();
    let validate = schemaforge(&["validate", &pulled.to_string_lossy()]);
    if !validate.status.success() {
        problems.push(format!("{label}: the pulled definition is invalid: {}", text(&validate.stdout)));
    }
    let tables = common::load(source).tables.len();
    if !text(&output.stdout).starts_with(&format!("Pulled {tables} tables")) {
        problems.push(format!("{label}: expected {tables} tables: {}", text(&output.stdout)));
    }
    if !std::fs::read_to_string(out.join("schema.ts")).is_ok_and(|ts| ts.contains("pgTable(")) {
        problems.push(format!("{label}: no schema.ts with tables"));
    }
    for (what, definition) in [("the pulled definition", pulled.as_path()), ("the source definition", source)] {
        let plan = plan_against(db, definition);
        if !no_changes(&plan) {
            problems.push(format!("{label}: the migrated database plans changes against {what}:\n{plan}"));
        }
    }
    problems
}

#[test]
fn pull_of_a_migrated_database_gives_back_the_source_definition() {
    let examples = repo_root().join("fixtures/examples");
    // The blog chain, pulled after each migration (renames and all).
    let blog = || {
        let folder = scratch_dir("pull-blog").join("drizzle");
        let db = database("pull_blog");
        let mut problems = Vec::new();
        for (version, tag) in [("v1", "0000_init"), ("v2", "0001_add_comments_and_more"), ("v3", "0002_rename_posts_to_articles_and_more")]
        {
            let source = repo_root().join(format!("fixtures/examples/blog.{version}.json"));
            common::generate(&source, &folder);
            migrate(&db, &folder, Some(tag));
            problems.extend(pulled_matches(&format!("blog-{version}"), &db, &source));
        }
        problems
    };
    // Single-migration folders.
    let single = |label: &'static str, source: std::path::PathBuf| {
        move || {
            let folder = scratch_dir(&format!("pull-{label}-folder")).join("drizzle");
            common::generate(&source, &folder);
            let db = database(&format!("pull_{label}"));
            migrate(&db, &folder, None);
            pulled_matches(label, &db, &source)
        }
    };
    let problems: Vec<String> = std::thread::scope(|scope| {
        let running = [
            scope.spawn(blog),
            scope.spawn(single("seed-basic", examples.join("seed-basic.json"))),
            scope.spawn(single("saas-platform", examples.join("saas-platform.json"))),
            scope.spawn(single("naming-edge-cases", repo_root().join("fixtures/features/naming-edge-cases.json"))),
        ];
        running.into_iter().flat_map(|r| r.join().unwrap_or_else(|_| vec!["a case panicked".into()])).collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
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
