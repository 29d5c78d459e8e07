//! Every scenario, live on the real PostgreSQL server: build `from`, insert
//! rows, apply the up plan, and compare the catalog with a database built
//! directly from `to`; check the rows survived when nothing was meant to
//! delete them; apply the down plan and compare with `from` again.

mod common;

use schemaforge_model::Schema;
use schemaforge_plan::{Hazard, Plan, plan, plan_down};
use schemaforge_testkit::postgres::{TestDatabase, drop_roles, ensure_roles, unique_suffix};
use schemaforge_testkit::{catalog, isolate_roles, rows};
use sqlx::{Connection, Executor, PgConnection};

async fn apply(conn: &mut PgConnection, statements: &[String], what: &str) {
    let mut tx = conn.begin().await.expect("a transaction");
    for statement in statements {
        if let Err(error) = tx.execute(sqlx::AssertSqlSafe(statement.clone())).await {
            panic!("{what}: PostgreSQL rejected\n{statement}\n{error}");
        }
    }
    tx.commit().await.unwrap_or_else(|e| panic!("{what}: commit failed: {e}"));
}

fn sql_of(plan: &Plan) -> Vec<String> {
    plan.statements.iter().map(|s| s.sql.clone()).collect()
}

fn create(schema: &Schema) -> Vec<String> {
    schemaforge_sql::render_create(schema).expect("renders").into_iter().map(|s| s.sql).collect()
}

/// A database built directly from `schema`, and its catalog.
async fn fresh_catalog(schema: &Schema, label: &str) -> Vec<String> {
    let db = TestDatabase::create(label).await;
    let mut conn = db.connect().await;
    apply(&mut conn, &create(schema), &format!("{label}: create")).await;
    catalog::snapshot(&mut conn).await
}

async fn count(conn: &mut PgConnection, table: &schemaforge_model::QualifiedName) -> i64 {
    let sql = format!("SELECT count(*) FROM {}", schemaforge_sql::postgres::relation(table));
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(conn).await.unwrap_or_else(|e| panic!("count {table}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_round_trips_on_postgres() {
    for scenario in common::scenarios() {
        let name = scenario.name.clone();
        // Roles are global to the server: this run's roles get their own names,
        // are created up front and dropped at the end.
        let suffix = unique_suffix();
        let (mut from, roles) = isolate_roles(&scenario.from, &suffix);
        let (mut to, more_roles) = isolate_roles(&scenario.to, &suffix);
        let mut all_roles = roles;
        all_roles.extend(more_roles);
        all_roles.sort();
        all_roles.dedup();
        for schema in [&mut from, &mut to] {
            for role in &mut schema.roles {
                role.existing = true;
            }
        }
        let db = TestDatabase::create(&name).await;
        let mut conn = db.connect().await;
        let role_names: Vec<&str> = all_roles.iter().map(String::as_str).collect();
        ensure_roles(&mut conn, &role_names).await;

        apply(&mut conn, &create(&from), &format!("{name}: create from")).await;
        let seed = scenario.rows.clone().unwrap_or_else(|| rows::inserts(&from));
        apply(&mut conn, &seed, &format!("{name}: rows")).await;
        let mut before = Vec::new();
        for table in &from.tables {
            before.push((table.name.clone(), count(&mut conn, &table.name).await));
        }

        let up = plan(&from, &to).expect("plans");
        apply(&mut conn, &sql_of(&up), &format!("{name}: up")).await;
        let migrated = catalog::snapshot(&mut conn).await;
        let expected = fresh_catalog(&to, &format!("{name}_to")).await;
        assert!(
            migrated == expected,
            "{name}: the migrated database differs from one built from `to`:\n{}",
            catalog::difference(&migrated, &expected)
        );

        if !up.hazards().contains(&Hazard::DeletesData) {
            let pairing = schemaforge_diff::Pairing::new(&from, &to);
            for (table, rows_before) in &before {
                if let Some(new) = pairing.new_table_name(table) {
                    assert_eq!(count(&mut conn, new).await, *rows_before, "{name}: rows of {table} did not survive");
                }
            }
        }

        let down = plan_down(&from, &to).expect("plans down");
        apply(&mut conn, &sql_of(&down), &format!("{name}: down")).await;
        let restored = catalog::snapshot(&mut conn).await;
        let original = fresh_catalog(&from, &format!("{name}_from")).await;
        assert!(
            restored == original,
            "{name}: after the down migration the database differs from `from`:\n{}",
            catalog::difference(&restored, &original)
        );

        conn.close().await.ok();
        drop(db);
        drop_roles(&all_roles).await;
    }
}
