//! `push` on PostgreSQL: a plan applied straight to the database, recorded in `schemaforge.pushes`.

use schemaforge_plan::Plan;
use sqlx::{Connection, Executor, PgConnection};

use crate::PushError;

/// Where pushes are recorded: the definition each one applied, so the next
/// knows which custom SQL already ran.
const PUSHES_DDL: [&str; 2] = [
    "CREATE SCHEMA IF NOT EXISTS schemaforge",
    "CREATE TABLE IF NOT EXISTS schemaforge.pushes (
        id bigserial PRIMARY KEY,
        pushed_at timestamptz NOT NULL DEFAULT now(),
        pushed_by text NOT NULL,
        statements integer NOT NULL,
        definition text NOT NULL
    )",
];

/// The definition the last push applied (none when nothing was pushed).
pub async fn last_pushed(conn: &mut PgConnection) -> Result<Option<String>, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('schemaforge.pushes') IS NOT NULL").fetch_one(&mut *conn).await?;
    if !exists {
        return Ok(None);
    }
    let last = sqlx::query_scalar("SELECT definition FROM schemaforge.pushes ORDER BY id DESC LIMIT 1").fetch_optional(&mut *conn).await?;
    Ok(last)
}

async fn record(conn: &mut PgConnection, by: &str, statements: usize, definition: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO schemaforge.pushes (pushed_by, statements, definition) VALUES ($1, $2, $3)")
        .bind(by)
        .bind(i32::try_from(statements).unwrap_or(i32::MAX))
        .bind(definition)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Applies `plan` and records the push: in one transaction, or statement by
/// statement when the plan cannot run in one (indexes built concurrently).
/// The caller holds the migration lock.
pub async fn apply(conn: &mut PgConnection, plan: &Plan, by: &str, definition: &str) -> Result<(), PushError> {
    for ddl in PUSHES_DDL {
        conn.execute(ddl).await?;
    }
    let total = plan.statements.len();
    if plan.transactional() {
        let mut tx = conn.begin().await?;
        for (i, statement) in plan.statements.iter().enumerate() {
            if let Err(error) = tx.execute(sqlx::AssertSqlSafe(statement.sql.clone())).await {
                tx.rollback().await?;
                return Err(PushError::Failed { number: i + 1, total, statement: statement.sql.clone(), error: error.to_string() });
            }
        }
        record(&mut tx, by, total, definition).await?;
        tx.commit().await?;
    } else {
        for (i, statement) in plan.statements.iter().enumerate() {
            if let Err(error) = conn.execute(sqlx::AssertSqlSafe(statement.sql.clone())).await {
                return Err(PushError::FailedPartway { number: i + 1, total, statement: statement.sql.clone(), error: error.to_string() });
            }
        }
        record(conn, by, total, definition).await?;
    }
    Ok(())
}
