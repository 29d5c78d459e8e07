//! A definition as SQLite holds it: built in an in-memory database and read back.
//!
//! Comparing a live database with a definition compares two readings, never
//! a reading with the definition's own text (see the PostgreSQL `shadow`).
//! SQLite needs no server for that: the definition is built in memory.

use schemaforge_model::Schema;
use sqlx::Executor;

use super::migrate::is_foreign_keys_pragma;
use super::{IntrospectError, introspect};
use crate::Introspected;

#[derive(Debug, thiserror::Error)]
pub enum ShadowError {
    #[error("cannot open an in-memory SQLite database: {0}")]
    Open(#[source] sqlx::Error),
    #[error("the definition does not build in SQLite: {statement}\n{source}")]
    Build {
        statement: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(transparent)]
    Introspect(#[from] IntrospectError),
    #[error(transparent)]
    Render(#[from] schemaforge_sql::RenderError),
}

/// Builds `definition` in memory and reads it back, with its declarations
/// (renames, custom SQL) put back.
pub async fn build_shadow(definition: &Schema) -> Result<Introspected, ShadowError> {
    let mut conn = super::connect("sqlite::memory:").await.map_err(ShadowError::Open)?;
    // Custom SQL runs too: what it creates is part of what the database holds.
    let result = async {
        for statement in schemaforge_sql::render_create(definition)? {
            if is_foreign_keys_pragma(&statement.sql) {
                continue;
            }
            conn.execute(sqlx::AssertSqlSafe(statement.sql.clone()))
                .await
                .map_err(|source| ShadowError::Build { statement: statement.sql.clone(), source })?;
        }
        Ok::<_, ShadowError>(introspect(&mut conn).await?)
    }
    .await;
    super::close(conn).await;
    let read = result?;
    Ok(Introspected { schema: crate::declarations::with_declarations(read.schema, definition), notes: read.notes })
}
