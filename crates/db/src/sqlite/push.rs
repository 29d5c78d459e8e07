//! `push` on SQLite: a plan applied straight to the database, recorded in `__schemaforge_pushes`.
//!
//! The plan was made from a reading taken before the write lock; under the
//! lock the database is read again and the push refused if it changed
//! meanwhile, so a concurrent writer is never overwritten by a stale plan.

use schemaforge_model::Schema;
use schemaforge_plan::Plan;
use sqlx::Executor;
use sqlx::sqlite::SqliteConnection;

use super::migrate::{Outcome, in_write_transaction, is_foreign_keys_pragma, needs_foreign_keys_off};
use super::{PUSHES, introspect};
use crate::PushError;

fn pushes_ddl() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS \"{PUSHES}\" (
            id integer PRIMARY KEY AUTOINCREMENT,
            pushed_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            pushed_by text NOT NULL,
            statements integer NOT NULL,
            definition text NOT NULL
        )"
    )
}

/// The definition the last push applied (none when nothing was pushed).
pub async fn last_pushed(conn: &mut SqliteConnection) -> Result<Option<String>, sqlx::Error> {
    let exists: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
        .bind(PUSHES)
        .fetch_one(&mut *conn)
        .await?;
    if exists == 0 {
        return Ok(None);
    }
    let last: Option<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT definition FROM \"{PUSHES}\" ORDER BY id DESC LIMIT 1")))
            .fetch_optional(&mut *conn)
            .await?;
    Ok(last)
}

/// Applies `plan` (made from `read`, the database as it was read) and
/// records the push, in one write transaction with foreign keys checked.
pub async fn apply(conn: &mut SqliteConnection, read: &Schema, plan: &Plan, by: &str, definition: &str) -> Result<(), PushError> {
    let statements: Vec<String> = plan.statements.iter().map(|s| s.sql.clone()).collect();
    let foreign_keys_off = needs_foreign_keys_off(&statements);
    let runnable: Vec<&String> = statements.iter().filter(|s| !is_foreign_keys_pragma(s)).collect();
    let total = statements.len();
    let result = in_write_transaction(conn, foreign_keys_off, async |tx| {
        let now = introspect(tx).await.map_err(|e| PushError::Read(e.to_string()))?;
        if !schemaforge_diff::diff(&now.schema, read).is_empty() {
            return Err(PushError::Changed);
        }
        for (i, statement) in runnable.iter().enumerate() {
            if let Err(error) = tx.execute(sqlx::AssertSqlSafe(statement.to_string())).await {
                return Err(PushError::Failed { number: i + 1, total, statement: statement.to_string(), error: error.to_string() });
            }
        }
        tx.execute(sqlx::AssertSqlSafe(pushes_ddl())).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO \"{PUSHES}\" (pushed_by, statements, definition) VALUES (?, ?, ?)")))
            .bind(by)
            .bind(i64::try_from(total).unwrap_or(i64::MAX))
            .bind(definition)
            .execute(&mut *tx)
            .await?;
        Ok(())
    })
    .await;
    match result {
        Ok(()) => Ok(()),
        Err(Outcome::Work(error)) => Err(error),
        Err(Outcome::Database(error)) => Err(PushError::Database(error)),
        Err(Outcome::ForeignKeys(violations)) => Err(PushError::ForeignKeysBroken(violations)),
    }
}
