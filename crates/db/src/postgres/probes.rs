//! The facts behind a plan's hazards, measured on a live PostgreSQL database (see `crate::probes`).

use schemaforge_diff::Step;
use schemaforge_model::Schema;
use sqlx::{Connection, PgConnection};

pub use crate::probes::grouped;
pub use schemaforge_plan::Fact;

/// Measures the facts for `steps`, planned from `from` (the live database as
/// read) to `to`.
pub async fn measure(conn: &mut PgConnection, from: &Schema, to: &Schema, steps: &[Step]) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (step, probe) in crate::probes::planned(from, to, steps) {
        let count = count(conn, &probe.sql).await;
        facts.push(crate::probes::fact(step, &probe, count));
    }
    facts
}

/// Runs one probe in a transaction of its own (a savepoint when the caller is
/// in one), so a failing probe neither aborts the others nor the caller's work.
async fn count(conn: &mut PgConnection, sql: &str) -> Result<i64, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let count = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&mut *tx).await;
    tx.rollback().await?;
    count
}
