//! One live database of either dialect, and what the CLI does with it.
//!
//! The commands that touch a database (`migrate`, `status`, `rollback`,
//! `check`, `push`, `plan --db`, `pull`) are the same for every dialect;
//! what differs is how each is done, which this closed enum dispatches to
//! the dialect's module (`postgres`, `sqlite`), matched exhaustively.

use schemaforge_diff::Step;
use schemaforge_kit::folder::MigrationFile;
use schemaforge_model::{CustomSql, Dialect, Schema};
use schemaforge_plan::{Fact, Plan};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;

use crate::Introspected;
use crate::history::{MigrateError, Report, Standing};
use crate::postgres::migrate::History;
use crate::{PushError, postgres, sqlite};

/// A connection to a live database.
pub enum Database {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Why reading a database (or a definition built apart) failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    PostgresIntrospect(#[from] postgres::IntrospectError),
    #[error(transparent)]
    PostgresShadow(#[from] postgres::ShadowError),
    #[error(transparent)]
    SqliteIntrospect(#[from] sqlite::IntrospectError),
    #[error(transparent)]
    SqliteShadow(#[from] sqlite::shadow::ShadowError),
    #[error("reading the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// A live database and a definition, read alike so they can be compared.
pub struct Comparison {
    /// The database, within what the definition speaks for.
    pub live: Schema,
    /// The definition, built apart and read back.
    pub target: Schema,
}

impl Database {
    /// Connects to `url`: `sqlite:` URLs open (or create) a SQLite file,
    /// anything else is PostgreSQL.
    pub async fn connect(url: &str) -> Result<Database, sqlx::Error> {
        if sqlite::is_sqlite_url(url) {
            Ok(Database::Sqlite(sqlite::connect(url).await?))
        } else {
            Ok(Database::Postgres(PgConnection::connect(url).await?))
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Database::Postgres(_) => Dialect::Postgresql,
            Database::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Closes the connection; a failure to say goodbye is ignored.
    pub async fn close(self) {
        match self {
            Database::Postgres(conn) => {
                let _ = conn.close().await;
            }
            Database::Sqlite(conn) => sqlite::close(conn).await,
        }
    }

    /// Takes the lock `migrate` takes, for work that must not interleave
    /// with a migrator (`push`, `rollback`). SQLite's writes lock the
    /// database themselves (each in `BEGIN IMMEDIATE`).
    pub async fn lock(&mut self) -> Result<(), sqlx::Error> {
        match self {
            Database::Postgres(conn) => postgres::migrate::lock(conn, &History::standard()).await,
            Database::Sqlite(_) => Ok(()),
        }
    }

    pub async fn unlock(&mut self) -> Result<(), sqlx::Error> {
        match self {
            Database::Postgres(conn) => postgres::migrate::unlock(conn, &History::standard()).await,
            Database::Sqlite(_) => Ok(()),
        }
    }

    /// Applies the pending migrations of `files` (see each dialect's `migrate`).
    pub async fn migrate(
        &mut self,
        files: &[MigrationFile],
        applied_by: &str,
        until: Option<&str>,
        on_start: impl FnMut(&MigrationFile),
    ) -> Result<Report, MigrateError> {
        match self {
            Database::Postgres(conn) => postgres::migrate::migrate(conn, &History::standard(), files, applied_by, until, on_start).await,
            Database::Sqlite(conn) => sqlite::migrate::migrate(conn, files, applied_by, until, on_start).await,
        }
    }

    pub async fn status(&mut self, files: &[MigrationFile]) -> Result<Vec<Standing>, MigrateError> {
        match self {
            Database::Postgres(conn) => postgres::migrate::status(conn, &History::standard(), files).await,
            Database::Sqlite(conn) => sqlite::migrate::status(conn, files).await,
        }
    }

    pub async fn applied(&mut self, files: &[MigrationFile]) -> Result<Vec<String>, MigrateError> {
        match self {
            Database::Postgres(conn) => postgres::migrate::applied(conn, &History::standard(), files).await,
            Database::Sqlite(conn) => sqlite::migrate::applied(conn, files).await,
        }
    }

    pub async fn roll_back(&mut self, file: &MigrationFile, down: &[String], applied_by: &str) -> Result<(), MigrateError> {
        match self {
            Database::Postgres(conn) => postgres::migrate::roll_back(conn, &History::standard(), file, down, applied_by).await,
            Database::Sqlite(conn) => sqlite::migrate::roll_back(conn, file, down, applied_by).await,
        }
    }

    /// The whole database as a schema (`pull`); on PostgreSQL only `schemas`
    /// when given.
    pub async fn introspect(&mut self, schemas: &[String]) -> Result<Introspected, ReadError> {
        match self {
            Database::Postgres(conn) => {
                let options = postgres::IntrospectOptions { schemas: schemas.to_vec(), roles: Vec::new() };
                Ok(postgres::introspect(conn, &options).await?)
            }
            Database::Sqlite(conn) => Ok(sqlite::introspect(conn).await?),
        }
    }

    /// The database within what `definition` speaks for, and `definition`
    /// built apart (PostgreSQL: on `shadow_url`, default the database's own
    /// server; SQLite: in memory) and read back. `custom_sql` is what the
    /// database is known to have run (the last push, or the migration's).
    pub async fn compare(
        &mut self,
        url: &str,
        shadow_url: Option<&str>,
        definition: &Schema,
        custom_sql: CustomSql,
    ) -> Result<Comparison, ReadError> {
        match self {
            Database::Postgres(conn) => {
                let read = postgres::introspect(conn, &postgres::scope(definition)).await?;
                let mut live = postgres::declared_view(read.schema, definition);
                live.custom_sql = custom_sql;
                let target = postgres::build_shadow(shadow_url.unwrap_or(url), definition).await?;
                Ok(Comparison { live, target: target.schema })
            }
            Database::Sqlite(conn) => {
                let mut live = sqlite::introspect(conn).await?.schema;
                live.custom_sql = custom_sql;
                let target = sqlite::shadow::build_shadow(definition).await?;
                Ok(Comparison { live, target: target.schema })
            }
        }
    }

    /// The definition the last push applied, as text (none before the first push).
    pub async fn last_pushed(&mut self) -> Result<Option<String>, sqlx::Error> {
        match self {
            Database::Postgres(conn) => postgres::push::last_pushed(conn).await,
            Database::Sqlite(conn) => sqlite::push::last_pushed(conn).await,
        }
    }

    /// The facts behind the hazards of `steps`, planned from `from` to `to`.
    pub async fn measure(&mut self, from: &Schema, to: &Schema, steps: &[Step]) -> Vec<Fact> {
        match self {
            Database::Postgres(conn) => postgres::probes::measure(conn, from, to, steps).await,
            Database::Sqlite(conn) => sqlite::probes::measure(conn, from, to, steps).await,
        }
    }

    /// Applies a pushed plan, made from `read` (the database as read), and records it.
    pub async fn push(&mut self, read: &Schema, plan: &Plan, by: &str, definition: &str) -> Result<(), PushError> {
        match self {
            Database::Postgres(conn) => postgres::push::apply(conn, plan, by, definition).await,
            Database::Sqlite(conn) => sqlite::push::apply(conn, read, plan, by, definition).await,
        }
    }
}
