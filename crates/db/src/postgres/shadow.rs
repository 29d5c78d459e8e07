//! A definition as the server spells it: built in a throw-away database and
//! read back.
//!
//! The server rewrites what it stores: `balance >= 0` on a numeric column
//! becomes `(balance >= (0)::numeric)`, a policy's subquery gains qualified
//! column names. Comparing a definition's text with a catalog's would report
//! changes that are none. So, like Prisma's shadow database and Atlas's dev
//! database, the definition is built in a temporary database and introspected
//! there; both sides of the comparison are then in the server's own words.

use std::sync::atomic::{AtomicUsize, Ordering};

use schemaforge_model::Schema;
use sqlx::{Connection, Executor, PgConnection};

use super::catalog::Introspected;
use super::{introspect, scope, with_declarations};

#[derive(Debug, thiserror::Error)]
pub enum ShadowError {
    #[error("cannot connect to {what}: {source}")]
    Connect {
        what: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "cannot create the temporary database {name} to read the definition as the server spells it: {source}; \
         grant CREATEDB to this user or pass --shadow-db with a server where it may create databases"
    )]
    CreateDatabase {
        name: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("the definition does not build on this server: {statement}\n{source}")]
    Build {
        statement: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(transparent)]
    Introspect(#[from] super::IntrospectError),
    #[error(transparent)]
    Render(#[from] schemaforge_sql::RenderError),
}

/// Builds `definition` in a temporary database on the server at `server_url`
/// and reads it back, with the definition's declarations put back
/// (`with_declarations`). Roles the server lacks are created for the build and
/// dropped after it, with the database.
pub async fn build_shadow(server_url: &str, definition: &Schema) -> Result<Introspected, ShadowError> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let name = format!("sf_shadow_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
    let mut admin =
        PgConnection::connect(server_url).await.map_err(|source| ShadowError::Connect { what: "the shadow server".into(), source })?;
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .await
        .map_err(|source| ShadowError::CreateDatabase { name: name.clone(), source })?;
    let mut created_roles = Vec::new();
    let result = build_and_read(server_url, &name, definition, &mut admin, &mut created_roles).await;
    // Cleanup runs whatever happened; its own failures cannot hide the result.
    let _ = admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))).await;
    for role in created_roles {
        let _ = admin.execute(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {}", schemaforge_sql::postgres::quote_ident(&role)))).await;
    }
    let _ = admin.close().await;
    result
}

async fn build_and_read(
    server_url: &str,
    database: &str,
    definition: &Schema,
    admin: &mut PgConnection,
    created_roles: &mut Vec<String>,
) -> Result<Introspected, ShadowError> {
    for role in &definition.roles {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(&role.name)
            .fetch_one(&mut *admin)
            .await
            .map_err(|source| ShadowError::Connect { what: "the shadow server".into(), source })?;
        if !exists {
            let sql = format!("CREATE ROLE {}", schemaforge_sql::postgres::quote_ident(&role.name));
            admin.execute(sqlx::AssertSqlSafe(sql.clone())).await.map_err(|source| ShadowError::Build { statement: sql, source })?;
            created_roles.push(role.name.clone());
        }
    }
    let url = with_database(server_url, database);
    let mut conn =
        PgConnection::connect(&url).await.map_err(|source| ShadowError::Connect { what: format!("database {database}"), source })?;
    // Platform roles are referenced, never created: they exist by now.
    let mut buildable = definition.clone();
    for role in &mut buildable.roles {
        role.existing = true;
    }
    let mut tx = conn.begin().await.map_err(|source| ShadowError::Connect { what: format!("database {database}"), source })?;
    for statement in schemaforge_sql::render_create(&buildable)? {
        tx.execute(sqlx::AssertSqlSafe(statement.sql.clone()))
            .await
            .map_err(|source| ShadowError::Build { statement: statement.sql.clone(), source })?;
    }
    tx.commit().await.map_err(|source| ShadowError::Build { statement: "COMMIT".into(), source })?;
    let read = introspect(&mut conn, &scope(definition)).await;
    let _ = conn.close().await;
    let read = read?;
    Ok(Introspected { schema: with_declarations(read.schema, definition), notes: read.notes })
}

/// `url` with its database replaced by `database` (query parameters kept).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..].find('/').map_or(base.len(), |i| authority_end + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(with_database("postgres://u@h:5432/app", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/app?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    }
}
