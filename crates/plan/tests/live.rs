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
