//! The facts behind a plan's hazards, measured on a live SQLite database (see `crate::probes`).

use schemaforge_diff::Step;
use schemaforge_model::Schema;
use sqlx::sqlite::SqliteConnection;

pub use schemaforge_plan::Fact;

/// Measures the facts for `steps`, planned from `from` (the live database as
/// read) to `to`. A SQLite statement that fails leaves the transaction it
/// runs in intact, so the probes need no savepoints.
pub async fn measure(conn: &mut SqliteConnection, from: &Schema, to: &Schema, steps: &[Step]) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (step, probe) in crate::probes::planned(from, to, steps) {
        let count = sqlx::query_scalar(sqlx::AssertSqlSafe(probe.sql.clone())).fetch_one(&mut *conn).await;
        facts.push(crate::probes::fact(step, &probe, count));
    }
    facts
}
