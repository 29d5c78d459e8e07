//! Introspection against the real server, for every fixture: what it reads
//! rebuilds the same database, survives being written as a definition, and a
//! database compared with the definition it was built from shows no change.

use schemaforge_db::postgres::{IntrospectOptions, build_shadow, declared_view, introspect, scope};

use schemaforge_model::Schema;
use schemaforge_testkit::postgres::{TestDatabase, drop_roles, ensure_roles, server_url, unique_suffix};
use schemaforge_testkit::{catalog, isolate_roles, without_vector};
use sqlx::{Connection, Executor, PgConnection};

/// Every definition we have: examples, feature fixtures, both sides of every scenario.
fn fixtures() -> Vec<(String, Schema)> {
    let root = schemaforge_testkit::repo_root();
    let mut out = Vec::new();
    let mut paths = schemaforge_testkit::supported_examples();
    paths.push(root.join("fixtures/features/kitchen-sink.json"));
    paths.push(root.join("fixtures/features/naming-edge-cases.json"));
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("fixture");
        let schema = schemaforge_spec::parse_definition(&text).unwrap_or_else(|d| panic!("{}: {d:?}", path.display()));
        out.push((path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(), schema));
    }
    let mut scenarios: Vec<_> = std::fs::read_dir(root.join("fixtures/scenarios")).expect("scenarios").filter_map(Result::ok).collect();
    scenarios.sort_by_key(|e| e.path());
    for entry in scenarios {
        let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("scenario")).expect("json");
        let name = entry.path().file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        for side in ["from", "to"] {
            let schema = schemaforge_spec::validate_value(&value[side]).unwrap_or_else(|d| panic!("{name}: {d:?}"));
            out.push((format!("{name}:{side}"), schema));
        }
    }
    out
}

/// The fixture with this run's role names (roles are server-wide), every role
/// made to exist up front, and pgvector left out when the server lacks it.
fn prepare(schema: &Schema, suffix: &str) -> (Schema, Vec<String>) {
    let (schema, _) = without_vector(schema);
    let (mut schema, roles) = isolate_roles(&schema, suffix);
    for role in &mut schema.roles {
        role.existing = true;
    }
    (schema, roles)
}

async fn build(conn: &mut PgConnection, schema: &Schema, label: &str) -> Result<(), String> {
    let names: Vec<&str> = schema.roles.iter().map(|r| r.name.as_str()).collect();
    ensure_roles(conn, &names).await;
    let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
    for statement in schemaforge_sql::render_create(schema).map_err(|e| e.to_string())? {
        tx.execute(sqlx::AssertSqlSafe(statement.sql.clone())).await.map_err(|e| format!("{label}: {}\n{e}", statement.sql))?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}

fn with_existing_roles(schema: &Schema) -> Schema {
    let mut schema = schema.clone();
    for role in &mut schema.roles {
        role.existing = true;
    }
    schema
}

fn no_change(label: &str, a: &Schema, b: &Schema) -> Result<(), String> {
    for (from, to, direction) in [(a, b, "forward"), (b, a, "backward")] {
        let steps = schemaforge_diff::diff(from, to);
        if !steps.is_empty() {
            return Err(format!("{label}: {direction} diff is not empty: {steps:#?}"));
        }
    }
    Ok(())
}

async fn check_fixture(label: &str, schema: &Schema) -> Result<(), String> {
    let original = TestDatabase::create("introspect").await;
    let mut conn = original.connect().await;
    build(&mut conn, schema, label).await?;
    let everything = introspect(&mut conn, &IntrospectOptions::default()).await.map_err(|e| format!("{label}: {e}"))?;
    // Objects made by the definition's custom SQL (Supabase's `auth` schema)
    // are the custom SQL's to make again; the rebuild reads what it speaks for.
    let read = introspect(&mut conn, &scope(schema)).await.map_err(|e| format!("{label}: {e}"))?;
    if everything.schema.tables.len() != read.schema.tables.len() {
        return Err(format!("{label}: tables outside the definition's schemas"));
    }
    let expected = catalog::snapshot(&mut conn).await;

    // What was read rebuilds the same database.
    let rebuilt = TestDatabase::create("introspect_rebuilt").await;
    let mut rebuilt_conn = rebuilt.connect().await;
    // Custom SQL is not in the catalog's picture: it comes with the definition.
    let mut rebuild = with_existing_roles(&read.schema);
    rebuild.custom_sql = schema.custom_sql.clone();
    build(&mut rebuilt_conn, &rebuild, &format!("{label} (rebuilt)")).await?;
    let actual = catalog::snapshot(&mut rebuilt_conn).await;
    if actual != expected {
        return Err(format!(
            "{label}: the introspected schema rebuilds a different database:\n{}",
            catalog::difference(&actual, &expected)
        ));
    }

    // Written as a definition and read again, it is the same schema.
    let text = schemaforge_spec::emit::to_json(&read.schema);
    let reparsed =
        schemaforge_spec::parse_definition(&text).map_err(|d| format!("{label}: the pulled definition is invalid: {d:#?}\n{text}"))?;
    no_change(&format!("{label} (pulled definition)"), &read.schema, &reparsed)?;

    // The database, compared with the definition it was built from, shows no change.
    // The catalog cannot show whether custom SQL ran; migrations know (here: it did).
    let mut live = declared_view(read.schema.clone(), schema);
    live.custom_sql = schema.custom_sql.clone();
    let shadow = build_shadow(&server_url(), schema).await.map_err(|e| format!("{label}: {e}"))?;
    no_change(&format!("{label} (database vs definition)"), &live, &shadow.schema)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fixture_reads_back_faithfully() {
    // A few fixtures at a time: each builds three databases.
    let mut pending = fixtures().into_iter();
    let mut running = tokio::task::JoinSet::new();
    let mut failures = Vec::new();
    loop {
        while running.len() < 4 {
            let Some((label, fixture)) = pending.next() else { break };
            running.spawn(async move {
                let (schema, roles) = prepare(&fixture, &unique_suffix());
                let result = check_fixture(&label, &schema).await;
                drop_roles(&roles).await;
                result
            });
        }
        match running.join_next().await {
            Some(Ok(Ok(()))) => {}
            Some(Ok(Err(problem))) => failures.push(problem),
            Some(Err(panic)) => failures.push(format!("a fixture check panicked: {panic}")),
            None => break,
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
