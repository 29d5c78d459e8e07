//! Every scenario, live on the real PostgreSQL server (see `common::round_trip`).

mod common;

use common::round_trip::{Trip, round_trip};
use schemaforge_plan::Options;

#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_round_trips_on_postgres() {
    // Each scenario as planned, and again with concurrent index builds when
    // that changes its plans (then applied outside a transaction).
    let concurrent = Options { concurrent_indexes: true };
    for scenario in common::scenarios() {
        let mut variants = vec![(scenario.name.clone(), scenario.options)];
        if scenario.options != concurrent && changes_with(&scenario, concurrent) {
            variants.push((format!("{}_concurrently", scenario.name), concurrent));
        }
        for (label, options) in variants {
            let trip = Trip {
                rows: scenario.rows.clone(),
                options,
                expect_after_up: scenario.expect_after_up.clone(),
                expect_after_down: scenario.expect_after_down.clone(),
                ..Trip::new(label, &scenario.from, &scenario.to)
            };
            if let Err(problem) = round_trip(&trip).await {
                panic!("{problem}");
            }
        }
    }
}

fn changes_with(scenario: &common::Scenario, options: Options) -> bool {
    let sql = |options: Options| {
        let up = schemaforge_plan::plan_with(&scenario.from, &scenario.to, options).expect("plans");
        let down = schemaforge_plan::plan_down_with(&scenario.from, &scenario.to, options).expect("plans");
        (up.statements, down.statements)
    };
    sql(options) != sql(scenario.options)
}

#[tokio::test(flavor = "multi_thread")]
async fn narrowing_fails_rather_than_truncating() {
    use schemaforge_testkit::postgres::TestDatabase;
    use sqlx::Executor;
    // (source column, value that does not fit in varchar(3)); the target is always varchar(3).
    let cases = [
        (r#"{"name": "a", "type": "varchar", "length": 20}"#, "'abcdef'"),
        (r#"{"name": "a", "type": "text"}"#, "'abcdef'"),
        (r#"{"name": "a", "type": "integer"}"#, "123456"),
        (r#"{"name": "a", "type": "enum", "enum": "mood"}"#, "'ecstatic'"),
    ];
    let definition = |column: &str| {
        let text = format!(
            r#"{{"enums": [{{"name": "mood", "values": ["ecstatic"]}}], "tables": [{{"name": "t", "columns": [{column}, {{"name": "n", "type": "integer"}}]}}]}}"#
        );
        schemaforge_spec::parse_definition(&text).expect("valid")
    };
    let narrow = definition(r#"{"name": "a", "type": "varchar", "length": 3}"#);
    for (source, value) in cases {
        let wide = definition(source);
        let db = TestDatabase::create("narrowing").await;
        let mut conn = db.connect().await;
        for statement in schemaforge_sql::render_create(&wide).expect("renders") {
            conn.execute(sqlx::AssertSqlSafe(statement.sql)).await.expect("create");
        }
        conn.execute(sqlx::AssertSqlSafe(format!("INSERT INTO t (a) VALUES ({value})"))).await.expect("row");
        let plan = schemaforge_plan::plan(&wide, &narrow).expect("plans");
        assert!(plan.hazards().contains(&schemaforge_plan::Hazard::MayFailOnExistingData), "{source}");
        assert!(!plan.hazards().contains(&schemaforge_plan::Hazard::DeletesData), "{source}: narrowing never deletes");
        let messages: Vec<&str> = plan.statements.iter().flat_map(|s| &s.hazards).map(|f| f.message.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.contains("makes the migration fail") || m.contains("does not convert")),
            "{source}: {messages:?}"
        );
        let mut failed = false;
        for statement in &plan.statements {
            failed |= conn.execute(sqlx::AssertSqlSafe(statement.sql.clone())).await.is_err();
        }
        assert!(failed, "narrowing {source} to varchar(3) should fail on {value}");
        let kept: String = sqlx::query_scalar("SELECT a::text FROM t").fetch_one(&mut conn).await.expect("row");
        assert_eq!(format!("'{kept}'").trim_matches('\''), value.trim_matches('\''), "{source}: the value was truncated");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_round_trip_catches_data_a_plan_changes_without_saying_so() {
    // Custom SQL is flagged `custom-sql`, not `deletes-data`: whatever it does
    // to rows the data check must see, under the renamed table and column,
    // after the up migration and after the down migration.
    let parse = |text: &str| schemaforge_spec::parse_definition(text).expect("valid");
    let people =
        r#"{"name": "people", "columns": [{"name": "id", "type": "integer", "primaryKey": true}, {"name": "name", "type": "text"}]}"#;
    let members = r#"{"name": "members", "renamedFrom": "people", "columns": [{"name": "id", "type": "integer", "primaryKey": true},
        {"name": "full_name", "type": "text", "renamedFrom": "name"}]}"#;
    let rows = Some(vec!["INSERT INTO people VALUES (1, 'ada'), (2, 'grace')".to_string()]);

    let from = parse(&format!(r#"{{"tables": [{people}]}}"#));
    let to = parse(&format!(r#"{{"sql": {{"after": "UPDATE members SET full_name = upper(full_name)"}}, "tables": [{members}]}}"#));
    let trip = Trip { rows: rows.clone(), ..Trip::new("data_changed_up", &from, &to) };
    let problem = round_trip(&trip).await.expect_err("values changed by the up migration must be caught");
    assert!(problem.contains("after up: the rows of people did not survive as members"), "{problem}");
    assert!(problem.contains("name as full_name") && problem.contains("ADA"), "{problem}");

    // The same change made by the down migration (the old definition's custom SQL runs again).
    let from = parse(&format!(r#"{{"sql": {{"after": "UPDATE people SET name = upper(name)"}}, "tables": [{people}]}}"#));
    let to = parse(&format!(r#"{{"tables": [{members}]}}"#));
    let trip = Trip { rows, ..Trip::new("data_changed_down", &from, &to) };
    let problem = round_trip(&trip).await.expect_err("values changed by the down migration must be caught");
    assert!(problem.contains("after down: the rows of members did not survive as people"), "{problem}");

    // Without the custom SQL, the renamed data survives both ways.
    let from = parse(&format!(r#"{{"tables": [{people}]}}"#));
    let to = parse(&format!(r#"{{"tables": [{members}]}}"#));
    let trip =
        Trip { rows: Some(vec!["INSERT INTO people VALUES (1, 'ada'), (2, 'grace')".to_string()]), ..Trip::new("data_kept", &from, &to) };
    round_trip(&trip).await.unwrap_or_else(|problem| panic!("{problem}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_an_enum_value_fails_rather_than_dropping_rows_values() {
    use schemaforge_plan::Hazard;
    use schemaforge_testkit::postgres::TestDatabase;
    use sqlx::{Connection, Executor};
    let definition = |values: &str| {
        let text = format!(
            r#"{{"enums": [{{"name": "status", "values": [{values}]}}], "tables": [{{"name": "t", "columns": [{{"name": "s", "type": "enum", "enum": "status"}}]}}]}}"#
        );
        schemaforge_spec::parse_definition(&text).expect("valid")
    };
    let (wide, narrow) = (definition(r#""draft", "archived""#), definition(r#""draft""#));
    let plan = schemaforge_plan::plan(&wide, &narrow).expect("plans");
    // Classified as failing on the values that would go, never as deleting them.
    assert!(!plan.hazards().contains(&Hazard::DeletesData), "{plan:#?}");
    let finding = plan
        .statements
        .iter()
        .flat_map(|s| &s.hazards)
        .find(|f| f.hazard == Hazard::MayFailOnExistingData)
        .expect("may-fail-on-existing-data on the conversion");
    assert!(finding.message.contains("'archived'") && finding.message.contains("makes the migration fail"), "{}", finding.message);

    let db = TestDatabase::create("enum_removal").await;
    let mut conn = db.connect().await;
    for statement in schemaforge_sql::render_create(&wide).expect("renders") {
        conn.execute(sqlx::AssertSqlSafe(statement.sql)).await.expect("create");
    }
    conn.execute("INSERT INTO t (s) VALUES ('draft'), ('archived')").await.expect("rows");
    let mut tx = conn.begin().await.expect("begin");
    let mut failed = false;
    for statement in &plan.statements {
        if tx.execute(sqlx::AssertSqlSafe(statement.sql.clone())).await.is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed, "removing 'archived' should fail while a row holds it");
    tx.rollback().await.expect("rollback");
    let kept: Vec<String> = sqlx::query_scalar("SELECT s::text FROM t ORDER BY 1").fetch_all(&mut conn).await.expect("rows");
    assert_eq!(kept, ["archived", "draft"]);
}
