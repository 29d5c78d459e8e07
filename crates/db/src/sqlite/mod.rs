//! SQLite, the embedded default: connecting, introspection (`introspect`),
//! applying a migration folder (`migrate`) and measuring plan facts (`probes`).
//!
//! A database is a file (`sqlite://path/to.db`), created when missing. Its
//! bookkeeping lives in tables of its own, since SQLite has no schemas:
//! drizzle-orm's `__drizzle_migrations` and our `__schemaforge_migrations`
//! and `__schemaforge_pushes` (and, in a file `schemaforge serve` keeps a
//! tenant in, `__schemaforge_versions`); introspection never reads them as
//! the user's.

pub mod catalog;
mod introspect;
pub mod migrate;
pub mod probes;
pub mod push;
pub mod shadow;

pub use introspect::{IntrospectError, introspect};

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

/// drizzle-orm's history table (its migrator creates it with this name).
pub const DRIZZLE_MIGRATIONS: &str = "__drizzle_migrations";
/// Our history of migrations: name, checksum, status, times, who, error.
pub const HISTORY: &str = "__schemaforge_migrations";
/// The definitions `push` applied, newest last.
pub const PUSHES: &str = "__schemaforge_pushes";

/// A tenant's versions, when `schemaforge serve` keeps the tenant in this file.
pub const VERSIONS: &str = "__schemaforge_versions";

/// Tables that hold bookkeeping, never user data.
pub const BOOKKEEPING_TABLES: [&str; 4] = [DRIZZLE_MIGRATIONS, HISTORY, PUSHES, VERSIONS];

/// How long a statement waits for another connection's write lock before
/// failing with `database is locked`: long enough for another migrator to
/// finish a migration.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `url` names a SQLite database (`sqlite:` or `sqlite://`).
pub fn is_sqlite_url(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Opens (creating when missing) the database at `url`, with foreign keys
/// enforced and a busy timeout, so concurrent writers wait instead of failing.
pub async fn connect(url: &str) -> Result<SqliteConnection, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true).foreign_keys(true).busy_timeout(BUSY_TIMEOUT);
    options.connect().await
}

/// Closes a connection, ignoring a failure to say goodbye: the work is done.
pub async fn close(conn: SqliteConnection) {
    let _ = conn.close().await;
}
