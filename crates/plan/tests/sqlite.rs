//! SQLite scenarios: their plans pinned by insta snapshots, and every scenario
//! SQLite can hold live on SQLite files: build `from`, insert rows, apply the
//! up plan, compare with `to` built directly (both read back by
//! introspection), check the rows survived, apply the down plan, compare with
//! `from` and check again. Scenarios whose definitions SQLite refuses
//! (schemas, policies, arrays, …) are listed, never silently dropped.

use std::path::Path;

use schemaforge_db::sqlite::migrate::{in_write_transaction, is_foreign_keys_pragma, needs_foreign_keys_off};
use schemaforge_diff::Step;
use schemaforge_model::{Dialect, Schema};
use schemaforge_plan::Plan;
use schemaforge_testkit::sqlite::TestFile;
use schemaforge_testkit::{repo_root, rows};
use sqlx::Executor;
use sqlx::sqlite::SqliteConnection;

struct Case {
    name: String,
    from: Schema,
    to: Schema,
    /// Queries returning one boolean that must be true after each migration.
    expect_after_up: Vec<String>,
    expect_after_down: Vec<String>,
}

impl Case {
    fn new(name: String, from: Schema, to: Schema) -> Case {
        Case { name, from, to, expect_after_up: Vec::new(), expect_after_down: Vec::new() }
    }
}

fn sqlite(value: &serde_json::Value) -> Result<Schema, String> {
    schemaforge_spec::validate_value_for(value, Some(Dialect::Sqlite))
        .map_err(|d| d.iter().map(|d| format!("{} {}", d.path, d.code.as_str())).collect::<Vec<_>>().join(", "))
}

/// The scenarios SQLite holds, and why each other one is left out.
fn cases() -> (Vec<Case>, Vec<(String, String)>) {
    let (mut cases, mut refused) = (Vec::new(), Vec::new());
    let dir = repo_root().join("fixtures/scenarios");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).expect("fixtures/scenarios").filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let name = stem(&path);
        let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
        match (sqlite(&value["from"]), sqlite(&value["to"])) {
            (Ok(from), Ok(to)) => cases.push(Case::new(name, from, to)),
            (Err(why), _) | (_, Err(why)) => refused.push((name, why)),
        }
    }
    // SQLite's own scenarios: rebuilds, enum checks, keys, drops of referenced tables.
    cases.extend(sqlite_scenarios());
    // The blog chain, as SQLite holds it.
    let blog = |v: &str| {
        let text = std::fs::read_to_string(repo_root().join(format!("fixtures/sqlite/blog.{v}.json"))).expect("blog fixture");
        schemaforge_spec::parse_definition(&text).expect("valid SQLite blog")
    };
    cases.push(Case::new("sqlite-blog-v1-to-v2".into(), blog("v1"), blog("v2")));
    cases.push(Case::new("sqlite-blog-v2-to-v3".into(), blog("v2"), blog("v3")));
    (cases, refused)
}

/// `fixtures/scenarios-sqlite/*.json`: name, `from`, `to` and what must hold after each migration.
fn sqlite_scenarios() -> Vec<Case> {
    let dir = repo_root().join("fixtures/scenarios-sqlite");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).expect("fixtures/scenarios-sqlite").filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let name = format!("sqlite-{}", stem(path));
            let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON");
            let from = sqlite(&value["from"]).unwrap_or_else(|why| panic!("{name}: `from` is invalid: {why}"));
            let to = sqlite(&value["to"]).unwrap_or_else(|why| panic!("{name}: `to` is invalid: {why}"));
            let queries = |key: &str| -> Vec<String> {
                value[key].as_array().map(|q| q.iter().filter_map(|q| q.as_str().map(String::from)).collect()).unwrap_or_default()
            };
            Case { expect_after_up: queries("expectAfterUp"), expect_after_down: queries("expectAfterDown"), ..Case::new(name, from, to) }
        })
        .collect()
}

fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Runs statements as `schemaforge migrate` does: one write transaction, the
/// foreign-key pragmas lifted out of it, every key checked before commit.
async fn apply(conn: &mut SqliteConnection, statements: &[String]) -> Result<(), String> {
    let runnable: Vec<&String> = statements.iter().filter(|s| !is_foreign_keys_pragma(s)).collect();
    let result = in_write_transaction(conn, needs_foreign_keys_off(statements), async |tx| {
        for statement in &runnable {
            tx.execute(sqlx::AssertSqlSafe(statement.to_string())).await.map_err(|e| format!("{statement}\n{e}"))?;
        }
        Ok::<(), String>(())
    })
    .await;
    match result {
        Ok(()) => Ok(()),
        Err(schemaforge_db::sqlite::migrate::Outcome::Work(e)) => Err(e),
        Err(schemaforge_db::sqlite::migrate::Outcome::ForeignKeys(v)) => Err(format!("dangling foreign keys: {v}")),
        Err(schemaforge_db::sqlite::migrate::Outcome::Database(e)) => Err(e.to_string()),
    }
}

fn statements(plan: &Plan) -> Vec<String> {
    plan.statements.iter().map(|s| s.sql.clone()).collect()
}

async fn build(label: &str, schema: &Schema) -> (TestFile, SqliteConnection) {
    let file = TestFile::create(label);
    let mut conn = file.connect().await;
    let plan = schemaforge_plan::plan(&Schema::empty(Dialect::Sqlite), schema).expect("plans");
    apply(&mut conn, &statements(&plan)).await.unwrap_or_else(|e| panic!("{label}: building fails: {e}"));
    (file, conn)
}

async fn read(conn: &mut SqliteConnection) -> Schema {
    schemaforge_db::sqlite::introspect(conn).await.expect("introspects").schema
}

/// The database at `conn` is the one `expected` builds: both read back alike plan nothing.
async fn same_as(label: &str, conn: &mut SqliteConnection, expected: &Schema) -> Result<(), String> {
    let (_file, mut direct) = build(&format!("{label}-direct"), expected).await;
    let (migrated, built) = (read(conn).await, read(&mut direct).await);
    for (a, b, way) in [(&migrated, &built, "migrated → direct"), (&built, &migrated, "direct → migrated")] {
        let steps = schemaforge_diff::diff(a, b);
        if !steps.is_empty() {
            return Err(format!("{label}: the migrated database differs from one built directly ({way}): {steps:?}"));
        }
    }
    Ok(())
}

/// The values of one column, row by row (SQLite's `quote()` spelling, so
/// `1` and `'1'` differ), in row order.
async fn values(conn: &mut SqliteConnection, table: &str, column: &str) -> Result<Vec<String>, String> {
    let sql = format!("SELECT quote(\"{column}\") FROM \"{table}\" ORDER BY rowid");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await.map_err(|e| format!("reading {table}.{column}: {e}"))
}

/// Columns a plan may change the values of (deleted, converted, backfilled,
/// relabelled), or whole tables it drops (`None`).
fn touched(plan: &Plan) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let flat: Vec<&Step> = plan
        .steps()
        .into_iter()
        .flat_map(|s| if let Step::RebuildTable { changes, .. } = s { changes.iter().collect() } else { vec![s] })
        .collect();
    for step in flat {
        match step {
            Step::DropTable { table } => out.push((table.name.clone(), None)),
            Step::DropColumn { table, column } | Step::AlterColumn { table, column, .. } => {
                out.push((table.name.clone(), Some(column.clone())))
            }
            _ => {}
        }
    }
    out
}

fn pinned(plan: &Plan) -> String {
    let mut out = String::new();
    for statement in &plan.statements {
        out.push_str(&statement.sql);
        out.push_str(";\n");
        for finding in &statement.hazards {
            out.push_str(&format!("  ! {}: {}\n", finding.hazard, finding.message));
        }
    }
    out
}

#[test]
fn sqlite_scenarios_plan_up_and_down() {
    for Case { name, from, to, .. } in sqlite_scenarios() {
        let up = schemaforge_plan::plan(&from, &to).unwrap_or_else(|e| panic!("{name}: {e}"));
        let down = schemaforge_plan::plan_down(&from, &to).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!up.is_empty(), "{name}: the scenario changes nothing");
        for schema in [&from, &to] {
            assert!(schemaforge_diff::diff(schema, schema).is_empty(), "{name}: diff(a, a) is not empty");
        }
        let text = format!("-- changes\n{}\n\n-- up\n{}\n-- down\n{}", up.changes.join("\n"), pinned(&up), pinned(&down));
        insta::assert_snapshot!(name, text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_sqlite_holds_round_trips() {
    let (cases, refused) = cases();
    assert!(cases.len() >= 20, "only {} scenarios hold on SQLite; refused: {refused:#?}", cases.len());
    eprintln!("{} scenarios on SQLite; those it cannot hold: {refused:#?}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(problem) = round_trip(case).await {
            failures.push(problem);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

async fn round_trip(case: &Case) -> Result<(), String> {
    let label = format!("sqlite-{}", case.name);
    let (_file, mut conn) = build(&label, &case.from).await;
    for insert in rows::inserts(&case.from) {
        conn.execute(sqlx::AssertSqlSafe(insert.clone())).await.map_err(|e| format!("{label}: sample row {insert}: {e}"))?;
    }
    let up = schemaforge_plan::plan(&case.from, &case.to).map_err(|e| e.to_string())?;
    let down = schemaforge_plan::plan_down(&case.from, &case.to).map_err(|e| e.to_string())?;
    let survivors = survivors(&case.from, &case.to, &up, &down);
    let mut before = Vec::with_capacity(survivors.len());
    for s in &survivors {
        before.push(values(&mut conn, &s.old_table, &s.old_column).await?);
    }
    apply(&mut conn, &statements(&up)).await.map_err(|e| format!("{label}: the up migration fails: {e}"))?;
    same_as(&format!("{label}-up"), &mut conn, &case.to).await?;
    holds(&label, "up", &mut conn, &case.expect_after_up).await?;
    for (s, expected) in survivors.iter().zip(&before) {
        let found = values(&mut conn, &s.new_table, &s.new_column).await?;
        if &found != expected {
            return Err(format!(
                "{label}: {}.{} (now {}.{}) did not survive the up migration: {expected:?} became {found:?}",
                s.old_table, s.old_column, s.new_table, s.new_column
            ));
        }
    }
    apply(&mut conn, &statements(&down)).await.map_err(|e| format!("{label}: the down migration fails: {e}"))?;
    same_as(&format!("{label}-down"), &mut conn, &case.from).await?;
    holds(&label, "down", &mut conn, &case.expect_after_down).await?;
    for (s, expected) in survivors.iter().zip(&before).filter(|(s, _)| s.survives_down) {
        let found = values(&mut conn, &s.old_table, &s.old_column).await?;
        if &found != expected {
            return Err(format!(
                "{label}: {}.{} did not survive the down migration: {expected:?} became {found:?}",
                s.old_table, s.old_column
            ));
        }
    }
    Ok(())
}

/// Every query of `expectations` returns true.
async fn holds(label: &str, after: &str, conn: &mut SqliteConnection, expectations: &[String]) -> Result<(), String> {
    for query in expectations {
        let holds: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(query.clone()))
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| format!("{label}: after {after}, `{query}` fails: {e}"))?;
        if !holds {
            return Err(format!("{label}: after {after}, `{query}` is false"));
        }
    }
    Ok(())
}

/// A column whose values the migration keeps, under its old and new names.
struct Survivor {
    old_table: String,
    old_column: String,
    new_table: String,
    new_column: String,
    /// The down migration keeps its values too.
    survives_down: bool,
}

fn survivors(from: &Schema, to: &Schema, up: &Plan, down: &Plan) -> Vec<Survivor> {
    let pairing = schemaforge_diff::Pairing::new(from, to);
    let (up_touched, down_touched) = (touched(up), touched(down));
    let hit = |touched: &[(String, Option<String>)], table: &str, column: &str| {
        touched.iter().any(|(t, c)| t == table && c.as_deref().is_none_or(|c| c == column))
    };
    let mut out = Vec::new();
    for pair in &pairing.tables {
        let (old_table, new_table) = (&pair.tables.from.name.name, &pair.tables.to.name.name);
        for columns in &pair.columns {
            let (old, new) = (columns.from, columns.to);
            // Generated columns are computed, not kept.
            if hit(&up_touched, new_table, &new.name) || old.generated.is_some() || new.generated.is_some() {
                continue;
            }
            out.push(Survivor {
                survives_down: !hit(&down_touched, old_table, &old.name),
                old_table: old_table.clone(),
                old_column: old.name.clone(),
                new_table: new_table.clone(),
                new_column: new.name.clone(),
            });
        }
    }
    out
}
