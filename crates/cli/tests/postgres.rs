//! Every example's migration applies cleanly to a fresh database on the real
//! PostgreSQL server, statement by statement as drizzle-orm's migrator sends
//! them, and the catalog then holds what the definition declares.

mod common;

use schemaforge_testkit::postgres::{TestDatabase, drop_roles, ensure_roles, extension_available, unique_suffix};
use schemaforge_testkit::{isolate_roles, scratch_dir, stem, supported_examples, without_vector};
use sqlx::{Connection, Executor, Row};

#[tokio::test(flavor = "multi_thread")]
async fn every_example_applies_to_a_fresh_database() {
    for definition in supported_examples() {
        let name = stem(&definition);
        let mut schema = common::load(&definition);
        let (isolated, created_roles) = isolate_roles(&schema, &unique_suffix());
        schema = isolated;
        let db = TestDatabase::create(&name).await;
        let mut conn = db.connect().await;

        let existing: Vec<&str> = schema.roles.iter().filter(|r| r.existing).map(|r| r.name.as_str()).collect();
        if !existing.is_empty() {
            println!("{name}: creating the platform roles it references as existing ({}) when the server lacks them", existing.join(", "));
            ensure_roles(&mut conn, &existing).await;
        }
        if schema.extensions.iter().any(|e| e.name == "vector") && !extension_available(&mut conn, "vector").await {
            let (stripped, removed) = without_vector(&schema);
            println!("{name}: pgvector is not installed on this server; checking everything else (left out: {})", removed.join(", "));
            assert!(!removed.is_empty());
            schema = stripped;
        }

        let out = scratch_dir(&format!("pg-{name}"));
        common::write_folder(&schema, &out);
        let sql = std::fs::read_to_string(out.join("0000_init.sql")).expect("migration file");
        let mut tx = conn.begin().await.expect("a transaction");
        for statement in common::split_breakpoints(&sql) {
            if let Err(error) = tx.execute(sqlx::AssertSqlSafe(statement.clone())).await {
                panic!("{name}: PostgreSQL rejected\n{statement}\n{error}");
            }
        }
        tx.commit().await.expect("commit");

        // The catalog agrees with the definition on what exists.
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
        )
        .fetch_one(&mut conn)
        .await
        .expect("count tables");
        assert_eq!(tables as usize, schema.tables.len(), "{name}: table count");
        let constraints = sqlx::query(
            "SELECT contype::text AS kind, count(*) AS n FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND contype IN ('p','u','f','c') GROUP BY contype",
        )
        .fetch_all(&mut conn)
        .await
        .expect("count constraints");
        let count = |kind: &str| -> usize {
            constraints.iter().find(|r| r.get::<String, _>("kind") == kind).map(|r| r.get::<i64, _>("n") as usize).unwrap_or(0)
        };
        assert_eq!(count("p"), schema.tables.iter().filter(|t| t.primary_key.is_some()).count(), "{name}: primary keys");
        assert_eq!(count("u"), schema.tables.iter().map(|t| t.uniques.len()).sum::<usize>(), "{name}: uniques");
        assert_eq!(count("f"), schema.tables.iter().map(|t| t.foreign_keys.len()).sum::<usize>(), "{name}: foreign keys");
        assert_eq!(count("c"), schema.tables.iter().map(|t| t.checks.len()).sum::<usize>(), "{name}: checks");
        let policies: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_policies").fetch_one(&mut conn).await.expect("count policies");
        assert_eq!(policies as usize, schema.tables.iter().map(|t| t.policies.len()).sum::<usize>(), "{name}: policies");
        let rls: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relrowsecurity AND n.nspname = 'public'",
        )
        .fetch_one(&mut conn)
        .await
        .expect("count rls");
        assert_eq!(rls as usize, schema.tables.iter().filter(|t| t.rls_enabled()).count(), "{name}: row-level security");
        conn.close().await.ok();
        drop(db);
        drop_roles(&created_roles).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_sql_never_reaches_the_database() {
    // The fragment is refused at validation; nothing is rendered to apply.
    let text =
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "integer", "default": {"sql": "0); DROP TABLE users; --"}}]}]}"#;
    let diagnostics = schemaforge_spec::parse_definition(text).expect_err("refused");
    assert_eq!(diagnostics[0].code.as_str(), "not-an-expression");
}
