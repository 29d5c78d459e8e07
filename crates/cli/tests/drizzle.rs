//! The real drizzle toolchain judges our output (installed by `.ci/run` from
//! `oracle/package-lock.json`: drizzle-kit 0.31, drizzle-orm 0.45, TypeScript 5.9):
//!
//! - `tsc --noEmit` (strict) accepts every generated `schema.ts`;
//! - `drizzle-kit generate` over our `schema.ts` and folder finds no changes,
//!   and `drizzle-kit check` passes;
//! - drizzle-kit generating from scratch on our `schema.ts` writes the same
//!   snapshot byte for byte (ids aside) and the same statements as ours,
//!   apart from what drizzle-kit has no notion of (extensions, comments,
//!   `sql.before`/`sql.after`);
//! - over a folder we generated `from` then `to` for every scenario (and v1,
//!   v2, v3 of the blog), drizzle-kit finds no changes and `check` passes;
//! - drizzle-orm's `migrate()` applies our folder to a fresh database, and its
//!   relational query API follows every generated relation there.

mod common;

use std::collections::BTreeMap;

use schemaforge_diff::Step;
use schemaforge_testkit::node::{self, drizzle_kit, oracle_dir, require_toolchain, work_dir};
use schemaforge_testkit::postgres::{TestDatabase, drop_roles, ensure_roles, extension_available, unique_suffix};
use schemaforge_testkit::{isolate_roles, stem, supported_examples, without_vector};

#[test]
fn typescript_accepts_every_schema_ts() {
    require_toolchain();
    let dir = work_dir("tsc");
    let mut files = Vec::new();
    for definition in supported_examples() {
        let name = stem(&definition).replace('.', "_");
        let out = dir.join(&name);
        common::generate(&definition, &out);
        files.push(format!("{name}/schema.ts"));
    }
    let run = node::typecheck(&dir, &files);
    assert!(run.success, "tsc rejected generated code:\n{}", run.combined());
}

#[test]
fn drizzle_kit_sees_no_changes_and_agrees_on_the_snapshot() {
    require_toolchain();
    for definition in supported_examples() {
        let name = stem(&definition);
        let dir = work_dir(&format!("kit-{name}"));
        common::generate(&definition, &dir.join("ours"));

        let generate = drizzle_kit(&dir, "generate", "./ours/schema.ts", "./ours", &[]);
        assert!(generate.success, "{name}: drizzle-kit generate failed:\n{}", generate.combined());
        assert!(generate.stdout.contains("No schema changes"), "{name}: drizzle-kit found changes:\n{}", generate.combined());
        let listed: Vec<_> = std::fs::read_dir(dir.join("ours")).expect("folder").filter_map(|e| e.ok()).collect();
        let is_migration = |e: &std::fs::DirEntry| {
            let file = e.file_name().to_string_lossy().into_owned();
            file.ends_with(".sql") && !file.ends_with(".down.sql")
        };
        assert_eq!(listed.iter().filter(|e| is_migration(e)).count(), 1, "{name}: drizzle-kit wrote a migration");

        let check = drizzle_kit(&dir, "check", "./ours/schema.ts", "./ours", &[]);
        assert!(check.success && check.stdout.contains("Everything's fine"), "{name}: drizzle-kit check:\n{}", check.combined());

        let fresh = drizzle_kit(&dir, "generate", "./ours/schema.ts", "./theirs", &["--name", "init"]);
        assert!(fresh.success, "{name}: drizzle-kit generate from scratch failed:\n{}", fresh.combined());
        let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap_or_else(|e| panic!("{name}: {p}: {e}"));
        let without_ids = |text: String| -> String {
            text.lines()
                .filter(|l| !l.trim_start().starts_with("\"id\": \"") && !l.trim_start().starts_with("\"prevId\""))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            without_ids(read("theirs/meta/0000_snapshot.json")),
            without_ids(read("ours/meta/0000_snapshot.json")),
            "{name}: snapshots differ"
        );

        let schema = common::load(&definition);
        let theirs: Vec<String> =
            common::split_breakpoints(&read("theirs/0000_init.sql")).iter().map(|s| unquote_type_names(&schema, s)).collect();
        let ours = common::split_breakpoints(&read("ours/0000_init.sql"));
        let count = |statements: &[String]| -> BTreeMap<String, usize> {
            let mut m = BTreeMap::new();
            for s in statements {
                *m.entry(s.clone()).or_insert(0) += 1;
            }
            m
        };
        let (theirs_count, ours_count) = (count(&theirs), count(&ours));
        for (statement, n) in &theirs_count {
            assert_eq!(ours_count.get(statement), Some(n), "{name}: drizzle-kit writes a statement we do not:\n{statement}");
        }
        // What we write beyond drizzle-kit is exactly what it has no notion of.
        let statements = schemaforge_sql::render_create(&schema).expect("renders");
        let mut extras: BTreeMap<String, usize> = BTreeMap::new();
        for statement in statements.iter().filter(|s| {
            matches!(
                s.step,
                Step::RunSqlBefore
                    | Step::RunSqlAfter
                    | Step::CreateExtension { .. }
                    | Step::CommentOnTable { .. }
                    | Step::CommentOnColumn { .. }
            )
        }) {
            *extras.entry(format!("{};", statement.sql)).or_insert(0) += 1;
        }
        let mut beyond = ours_count.clone();
        for (statement, n) in &theirs_count {
            if let Some(m) = beyond.get_mut(statement) {
                *m -= n;
            }
        }
        beyond.retain(|_, n| *n > 0);
        assert_eq!(beyond, extras, "{name}: statements beyond drizzle-kit's should be exactly extensions, comments and custom SQL");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn drizzle_orm_migrate_applies_our_folder() {
    require_toolchain();
    for definition in supported_examples() {
        let name = stem(&definition);
        let mut schema = common::load(&definition);
        let (isolated, created_roles) = isolate_roles(&schema, &unique_suffix());
        schema = isolated;
        let db = TestDatabase::create(&format!("mig_{name}")).await;
        let mut conn = db.connect().await;
        let existing: Vec<&str> = schema.roles.iter().filter(|r| r.existing).map(|r| r.name.as_str()).collect();
        ensure_roles(&mut conn, &existing).await;
        if schema.extensions.iter().any(|e| e.name == "vector") && !extension_available(&mut conn, "vector").await {
            let (stripped, removed) = without_vector(&schema);
            println!("{name}: pgvector is not installed on this server; migrating everything else (left out: {})", removed.join(", "));
            schema = stripped;
        }
        let dir = work_dir(&format!("migrate-{name}"));
        common::write_folder(&schema, &dir);
        let run = node::node(&oracle_dir(), &oracle_dir().join("migrate.mjs"), &[&db.url, &dir.to_string_lossy()], &[]);
        assert!(run.success, "{name}: drizzle-orm migrate() failed:\n{}", run.combined());
        let recorded: serde_json::Value =
            serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{name}: migrator output: {e}\n{}", run.stdout));
        let hash = sha256_hex(&std::fs::read(dir.join("0000_init.sql")).expect("migration file"));
        assert_eq!(recorded[0]["hash"], serde_json::Value::String(hash), "{name}: drizzle recorded a different hash");
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        )
        .fetch_one(&mut conn)
        .await
        .expect("count tables");
        assert_eq!(tables as usize, schema.tables.iter().filter(|t| t.name.schema.is_none()).count(), "{name}: tables after migrate()");

        // The generated relations work in drizzle-orm's query API.
        let tsx = oracle_dir().join("node_modules/tsx/dist/cli.mjs");
        let query = node::node(&oracle_dir(), &tsx, &["query.ts", &db.url, &dir.join("schema.ts").to_string_lossy()], &[]);
        assert!(query.success, "{name}: querying through the generated relations failed:\n{}", query.combined());
        let report: serde_json::Value =
            serde_json::from_str(query.stdout.trim()).unwrap_or_else(|e| panic!("{name}: query output: {e}\n{}", query.stdout));
        let fks: usize = schema.tables.iter().map(|t| t.foreign_keys.len()).sum();
        let relations: usize = report.as_object().map(|m| m.values().filter_map(|v| v.as_array()).map(Vec::len).sum()).unwrap_or(0);
        assert_eq!(report.as_object().map(|m| m.len()), Some(schema.tables.len()), "{name}: tables in the query API");
        assert_eq!(relations, 2 * fks, "{name}: every foreign key should give a relation on both sides");
        drop(conn);
        drop(db);
        drop_roles(&created_roles).await;
    }
}

/// drizzle-kit quotes column types it does not list as native (`"inet"`,
/// `"cidr"`, `"macaddr"`, `smallserial`, `bytea` and custom types): valid SQL for the same
/// type, which we write unquoted.
fn unquote_type_names(schema: &schemaforge_model::Schema, statement: &str) -> String {
    use schemaforge_model::ScalarType;
    let mut names: Vec<String> = ["inet", "cidr", "macaddr", "bytea", "smallserial"].map(String::from).to_vec();
    for table in &schema.tables {
        for column in &table.columns {
            if let ScalarType::Custom { sql } = &column.ty.scalar {
                names.push(sql.clone());
            }
        }
    }
    let mut out = statement.to_string();
    for ty in names {
        out = out.replace(&format!(" \"{ty}\""), &format!(" {ty}"));
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn drizzle_accepts_an_incremental_folder() {
    require_toolchain();
    let dir = work_dir("kit-chain");
    let out = dir.join("chain");
    let migrate = |url: &str| node::node(&oracle_dir(), &oracle_dir().join("migrate.mjs"), &[url, &out.to_string_lossy()], &[]);

    // Applied one migration at a time, as a team would: v1, then v2 and v3.
    let stepwise = TestDatabase::create("chain_stepwise").await;
    for version in ["v1", "v2", "v3"] {
        common::generate(&schemaforge_testkit::repo_root().join(format!("fixtures/examples/blog.{version}.json")), &out);
        let run = migrate(&stepwise.url);
        assert!(run.success, "blog.{version}: drizzle-orm migrate() failed:\n{}", run.combined());
    }
    let applied: serde_json::Value = serde_json::from_str(migrate(&stepwise.url).stdout.trim()).expect("migrator output");
    assert_eq!(applied.as_array().map(Vec::len), Some(3), "drizzle skipped a migration: {applied}");

    // drizzle-kit, reading the v3 schema.ts over the whole folder, finds nothing to do.
    let generate = drizzle_kit(&dir, "generate", "./chain/schema.ts", "./chain", &[]);
    assert!(generate.success && generate.stdout.contains("No schema changes"), "drizzle-kit generate:\n{}", generate.combined());
    let check = drizzle_kit(&dir, "check", "./chain/schema.ts", "./chain", &[]);
    assert!(check.success && check.stdout.contains("Everything's fine"), "drizzle-kit check:\n{}", check.combined());

    // All three at once on a fresh database.
    let fresh = TestDatabase::create("chain_fresh").await;
    let run = migrate(&fresh.url);
    assert!(run.success, "drizzle-orm migrate() of the whole folder failed:\n{}", run.combined());
}

#[test]
fn drizzle_kit_sees_no_changes_over_every_scenario_folder() {
    // Each scenario as a team would have it: `from` generated, then `to`
    // generated into the same folder; drizzle-kit, reading the `to`
    // schema.ts over that folder, must find nothing to do. No scenario is
    // left out: what drizzle-kit has no notion of (extensions, comments,
    // custom SQL, declared renames) is in our SQL and definitions but not in
    // its snapshot, so it cannot show up as a change. drizzle-kit starts
    // slowly, so scenarios run on a few threads.
    require_toolchain();
    let dir = schemaforge_testkit::repo_root().join("fixtures/scenarios");
    let paths: Vec<std::path::PathBuf> =
        std::fs::read_dir(&dir).expect("fixtures/scenarios").filter_map(|e| e.ok().map(|e| e.path())).collect();
    assert!(paths.len() >= 20, "found only {} scenarios", paths.len());
    let queue = std::sync::Mutex::new(paths);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                while let Some(path) = queue.lock().map(|mut q| q.pop()).unwrap_or_default() {
                    if let Err(problem) = scenario_folder_is_drizzle_kits(&path) {
                        failures.lock().expect("failures").push(problem);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("failures");
    failures.sort();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn scenario_folder_is_drizzle_kits(path: &std::path::Path) -> Result<(), String> {
    let name = stem(path);
    let scenario: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?).map_err(|e| format!("{name}: {e}"))?;
    let dir = work_dir(&format!("kit-scenario-{name}"));
    let out = dir.join("drizzle");
    for side in ["from", "to"] {
        let definition = dir.join(format!("{side}.json"));
        std::fs::write(&definition, scenario[side].to_string()).map_err(|e| format!("{name}: {e}"))?;
        let run = common::schemaforge(&["generate", "--schema", &definition.to_string_lossy(), "--out", &out.to_string_lossy()]);
        if !run.status.success() {
            return Err(format!("{name}: generate `{side}` failed:\n{}{}", common::text(&run.stdout), common::text(&run.stderr)));
        }
    }
    let generate = drizzle_kit(&dir, "generate", "./drizzle/schema.ts", "./drizzle", &[]);
    if !generate.success || !generate.stdout.contains("No schema changes") {
        return Err(format!("{name}: drizzle-kit generate over the from → to folder found changes:\n{}", generate.combined()));
    }
    let migrations = std::fs::read_dir(&out)
        .map_err(|e| format!("{name}: {e}"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".sql") && !e.file_name().to_string_lossy().ends_with(".down.sql"))
        .count();
    if migrations != 2 {
        return Err(format!("{name}: expected our 2 migrations in the folder, found {migrations}"));
    }
    let check = drizzle_kit(&dir, "check", "./drizzle/schema.ts", "./drizzle", &[]);
    if !check.success || !check.stdout.contains("Everything's fine") {
        return Err(format!("{name}: drizzle-kit check:\n{}", check.combined()));
    }
    Ok(())
}
