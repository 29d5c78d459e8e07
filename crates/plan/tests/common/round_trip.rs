//! The live round trip every plan must survive on the real PostgreSQL server:
//! build `from`, insert rows, apply the up plan, compare the catalog with a
//! database built directly from `to` and the data with what was there before
//! (every value the plan does not say it deletes, under its new table and
//! column names: `data`); apply the down plan and compare catalog and data
//! again.

use schemaforge_model::Schema;
use schemaforge_plan::{Options, Plan, plan_down_with, plan_with};
use schemaforge_testkit::postgres::{TestDatabase, drop_roles, ensure_roles, unique_suffix};
use schemaforge_testkit::{catalog, isolate_roles, rows};
use std::collections::BTreeSet;

use sqlx::{Connection, Executor, PgConnection};

use super::data;

async fn apply(conn: &mut PgConnection, statements: &[String], what: &str) -> Result<(), String> {
    let mut tx = conn.begin().await.map_err(|e| format!("{what}: begin: {e}"))?;
    for statement in statements {
        if let Err(error) = tx.execute(sqlx::AssertSqlSafe(statement.clone())).await {
            return Err(format!("{what}: PostgreSQL rejected\n{statement}\n{error}"));
        }
    }
    tx.commit().await.map_err(|e| format!("{what}: commit failed: {e}"))
}

/// Applies a plan as a migrator would: in one transaction, or statement by
/// statement when the plan cannot run in one.
async fn apply_plan(conn: &mut PgConnection, plan: &Plan, what: &str) -> Result<(), String> {
    let statements: Vec<String> = plan.statements.iter().map(|s| s.sql.clone()).collect();
    if plan.transactional() {
        return apply(conn, &statements, what).await;
    }
    for statement in &statements {
        if let Err(error) = conn.execute(sqlx::AssertSqlSafe(statement.clone())).await {
            return Err(format!("{what}: PostgreSQL rejected\n{statement}\n{error}"));
        }
    }
    Ok(())
}

fn create(schema: &Schema) -> Vec<String> {
    schemaforge_sql::render_create(schema).expect("renders").into_iter().map(|s| s.sql).collect()
}

/// The catalog of a database built directly from `schema`.
async fn fresh_catalog(schema: &Schema, label: &str) -> Result<Vec<String>, String> {
    let db = TestDatabase::create(label).await;
    let mut conn = db.connect().await;
    apply(&mut conn, &create(schema), &format!("{label}: create")).await?;
    Ok(catalog::snapshot(&mut conn).await)
}

/// One round trip to run.
pub struct Trip<'a> {
    /// Names the databases and the failures.
    pub label: String,
    pub from: &'a Schema,
    pub to: &'a Schema,
    /// SQL inserted into the `from` database; generated sample rows when `None`.
    pub rows: Option<Vec<String>>,
    pub options: Options,
    /// Queries returning one boolean that must be true after the up migration.
    pub expect_after_up: Vec<String>,
    /// The same after the down migration.
    pub expect_after_down: Vec<String>,
}

impl<'a> Trip<'a> {
    pub fn new(label: impl Into<String>, from: &'a Schema, to: &'a Schema) -> Self {
        Trip {
            label: label.into(),
            from,
            to,
            rows: None,
            options: Options::default(),
            expect_after_up: Vec::new(),
            expect_after_down: Vec::new(),
        }
    }
}

async fn expect(conn: &mut PgConnection, queries: &[String], what: &str) -> Result<(), String> {
    for query in queries {
        match sqlx::query_scalar::<_, bool>(sqlx::AssertSqlSafe(query.clone())).fetch_one(&mut *conn).await {
            Ok(true) => {}
            Ok(false) => return Err(format!("{what}: expected true: {query}")),
            Err(error) => return Err(format!("{what}: {query}: {error}")),
        }
    }
    Ok(())
}

/// `schema` with every role treated as already there: a database built
/// beside the migrated one shares its (server-wide) roles.
fn roles_existing(schema: &Schema) -> Schema {
    let mut schema = schema.clone();
    for role in &mut schema.roles {
        role.existing = true;
    }
    schema
}

/// The roles `now` declares exist with its attributes; those only `other`
/// declares are gone.
async fn check_roles(conn: &mut PgConnection, now: &Schema, other: &Schema, what: &str) -> Result<(), String> {
    let query = "SELECT rolcreatedb, rolcreaterole, rolinherit FROM pg_roles WHERE rolname = $1";
    for role in now.roles.iter().filter(|r| !r.existing) {
        let found: Option<(bool, bool, bool)> =
            sqlx::query_as(query).bind(&role.name).fetch_optional(&mut *conn).await.map_err(|e| format!("{what}: {e}"))?;
        if found != Some((role.create_db, role.create_role, role.inherit)) {
            return Err(format!(
                "{what}: role {} is {found:?}, expected {:?}",
                role.name,
                (role.create_db, role.create_role, role.inherit)
            ));
        }
    }
    for role in other.roles.iter().filter(|r| !r.existing && !now.roles.iter().any(|n| n.name == r.name)) {
        let found: Option<(bool, bool, bool)> =
            sqlx::query_as(query).bind(&role.name).fetch_optional(&mut *conn).await.map_err(|e| format!("{what}: {e}"))?;
        if found.is_some() {
            return Err(format!("{what}: role {} should have been dropped", role.name));
        }
    }
    Ok(())
}

/// Read back, the migrated database plans no change against `definition`
/// (built apart and read back too, so both are in the server's spelling).
async fn introspects_as(conn: &mut PgConnection, definition: &Schema, what: &str) -> Result<(), String> {
    use schemaforge_db::postgres::{build_shadow, declared_view, introspect, scope};
    let read = introspect(conn, &scope(definition)).await.map_err(|e| format!("{what}: {e}"))?;
    let mut live = declared_view(read.schema, definition);
    live.custom_sql = definition.custom_sql.clone();
    let target = build_shadow(&schemaforge_testkit::postgres::server_url(), definition).await.map_err(|e| format!("{what}: {e}"))?;
    for (a, b, direction) in [(&live, &target.schema, "database → definition"), (&target.schema, &live, "definition → database")] {
        let steps = schemaforge_diff::diff(a, b);
        if !steps.is_empty() {
            return Err(format!("{what}: re-diff after introspection is not empty ({direction}): {steps:#?}"));
        }
    }
    Ok(())
}

/// Runs the round trip; `Err` describes the first thing that went wrong.
pub async fn round_trip(trip: &Trip<'_>) -> Result<(), String> {
    let (label, options, seed_rows) = (trip.label.as_str(), trip.options, trip.rows.clone());
    // Roles are global to the server: this run's roles get their own names;
    // the plans create, alter and drop them, and whatever is left is dropped
    // after. Platform roles (`existing`) are made sure of up front.
    let suffix = unique_suffix();
    let (from, roles) = isolate_roles(trip.from, &suffix);
    let (to, more_roles) = isolate_roles(trip.to, &suffix);
    let mut all_roles = roles;
    all_roles.extend(more_roles);
    all_roles.sort();
    all_roles.dedup();
    let db = TestDatabase::create(label).await;
    let mut conn = db.connect().await;
    let platform: BTreeSet<&str> = from.roles.iter().chain(&to.roles).filter(|r| r.existing).map(|r| r.name.as_str()).collect();
    ensure_roles(&mut conn, &platform.into_iter().collect::<Vec<_>>()).await;
    let result = async {
        apply(&mut conn, &create(&from), &format!("{label}: create from")).await?;
        let seed = seed_rows.unwrap_or_else(|| rows::inserts(&from));
        apply(&mut conn, &seed, &format!("{label}: rows")).await?;
        let up = plan_with(&from, &to, options).map_err(|e| e.to_string())?;
        let up_data = data::checks(&up, &from, &to);
        let before_up = data::before(&mut conn, &up_data).await.map_err(|e| format!("{label}: before up: {e}"))?;
        apply_plan(&mut conn, &up, &format!("{label}: up")).await?;
        data::after(&mut conn, &up_data, &before_up, &format!("{label}: after up")).await?;
        expect(&mut conn, &trip.expect_after_up, &format!("{label}: after up")).await?;
        let migrated = catalog::snapshot(&mut conn).await;
        check_roles(&mut conn, &to, &from, &format!("{label}: after up")).await?;
        introspects_as(&mut conn, &to, &format!("{label}: after up")).await?;
        let expected = fresh_catalog(&roles_existing(&to), &format!("{label}_to")).await?;
        if migrated != expected {
            return Err(format!(
                "{label}: the migrated database differs from one built from `to`:\n{}",
                catalog::difference(&migrated, &expected)
            ));
        }

        // Down, the data is compared with what the up migration left: the
        // inverse plan pairs `to` with `from` under reversed renames.
        let down = plan_down_with(&from, &to, options).map_err(|e| e.to_string())?;
        let reversed = schemaforge_diff::reverse_renames(&from, &to);
        let down_data = data::checks(&down, &to, &reversed);
        let before_down = data::before(&mut conn, &down_data).await.map_err(|e| format!("{label}: before down: {e}"))?;
        apply_plan(&mut conn, &down, &format!("{label}: down")).await?;
        data::after(&mut conn, &down_data, &before_down, &format!("{label}: after down")).await?;
        expect(&mut conn, &trip.expect_after_down, &format!("{label}: after down")).await?;
        let restored = catalog::snapshot(&mut conn).await;
        check_roles(&mut conn, &from, &to, &format!("{label}: after down")).await?;
        introspects_as(&mut conn, &from, &format!("{label}: after down")).await?;
        let original = fresh_catalog(&roles_existing(&from), &format!("{label}_from")).await?;
        if restored != original {
            return Err(format!(
                "{label}: after the down migration the database differs from `from`:\n{}",
                catalog::difference(&restored, &original)
            ));
        }
        Ok(())
    }
    .await;
    conn.close().await.ok();
    drop(db);
    drop_roles(&all_roles).await;
    result
}
