//! The probes behind the hazard gate, against the real server: a probe the
//! server refuses becomes a fact that says so, and neither hides the others
//! nor spoils the transaction the caller is in.

use schemaforge_db::postgres::probes::measure;
use schemaforge_testkit::postgres::TestDatabase;
use sqlx::{Connection, Executor};

fn definition(value: serde_json::Value) -> schemaforge_model::Schema {
    schemaforge_spec::validate_value(&value).unwrap_or_else(|d| panic!("{d:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_probe_the_server_refuses_is_reported_and_the_others_still_run_inside_the_callers_transaction() {
    let db = TestDatabase::create("probes_refused").await;
    let mut conn = db.connect().await;
    conn.execute("CREATE TABLE kept (id integer); INSERT INTO kept VALUES (1), (2), (3)").await.expect("table");
    // The definition believes in a table the database does not have.
    let column = serde_json::json!([{ "name": "id", "type": "integer" }]);
    let from = definition(serde_json::json!({ "tables": [{ "name": "ghost", "columns": column }, { "name": "kept", "columns": column }] }));
    let to = definition(serde_json::json!({ "tables": [] }));
    let steps = schemaforge_diff::diff(&from, &to);

    let mut tx = conn.begin().await.expect("begin");
    let facts = measure(&mut tx, &from, &to, &steps).await;
    let messages: Vec<&str> = facts.iter().map(|f| f.message.as_str()).collect();
    assert!(messages.contains(&"could not measure the rows of table ghost: relation \"ghost\" does not exist"), "{messages:?}");
    assert!(messages.contains(&"table kept has 3 rows"), "{messages:?}");
    assert!(facts.iter().all(|f| !f.blocks), "{messages:?}");
    // The caller's transaction is still good.
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut *tx).await.expect("the transaction survived the failed probe");
    assert_eq!(one, 1);
    tx.rollback().await.expect("rollback");
}
