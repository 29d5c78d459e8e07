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
        let mut failed = false;
        for statement in &plan.statements {
            failed |= conn.execute(sqlx::AssertSqlSafe(statement.sql.clone())).await.is_err();
        }
        assert!(failed, "narrowing {source} to varchar(3) should fail on {value}");
        let kept: String = sqlx::query_scalar("SELECT a::text FROM t").fetch_one(&mut conn).await.expect("row");
        assert_eq!(format!("'{kept}'").trim_matches('\''), value.trim_matches('\''), "{source}: the value was truncated");
    }
}
