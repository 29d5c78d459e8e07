//! Every scenario, live on the real PostgreSQL server (see `common::round_trip`).

mod common;

#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_round_trips_on_postgres() {
    for scenario in common::scenarios() {
        if let Err(problem) = common::round_trip::round_trip(&scenario.name, &scenario.from, &scenario.to, scenario.rows.clone()).await {
            panic!("{problem}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn narrowing_fails_rather_than_truncating() {
    use schemaforge_testkit::postgres::TestDatabase;
    use sqlx::Executor;
    let definition = |ty: &str| {
        let text = format!(
            r#"{{"tables": [{{"name": "t", "columns": [{{"name": "a", "type": "varchar", "length": {ty}}}, {{"name": "n", "type": "integer"}}]}}]}}"#
        );
        schemaforge_spec::parse_definition(&text).expect("valid")
    };
    let (wide, narrow) = (definition("20"), definition("3"));
    let db = TestDatabase::create("narrowing").await;
    let mut conn = db.connect().await;
    for statement in schemaforge_sql::render_create(&wide).expect("renders") {
        conn.execute(sqlx::AssertSqlSafe(statement.sql)).await.expect("create");
    }
    conn.execute("INSERT INTO t (a) VALUES ('abcdef')").await.expect("row");
    let plan = schemaforge_plan::plan(&wide, &narrow).expect("plans");
    assert!(plan.hazards().contains(&schemaforge_plan::Hazard::MayFailOnExistingData));
    let mut failed = false;
    for statement in &plan.statements {
        failed |= conn.execute(sqlx::AssertSqlSafe(statement.sql.clone())).await.is_err();
    }
    assert!(failed, "narrowing varchar(20) to varchar(3) should fail on 'abcdef'");
    let kept: String = sqlx::query_scalar("SELECT a FROM t").fetch_one(&mut conn).await.expect("row");
    assert_eq!(kept, "abcdef", "the value was truncated");
}
