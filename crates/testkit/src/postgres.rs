//! Throw-away PostgreSQL databases: each test gets its own, dropped afterwards.
//!
//! The server comes from `SCHEMAFORGE_TEST_POSTGRES_URL`, then `DATABASE_URL`,
//! then `postgres://postgres@127.0.0.1:5432/postgres` (the machine's service).
//! Databases are named uniquely, so tests run in parallel.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::{Connection, Executor, PgConnection};

/// The server URL tests connect to.
pub fn server_url() -> String {
    std::env::var("SCHEMAFORGE_TEST_POSTGRES_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that exists for the lifetime of this value.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl TestDatabase {
    pub async fn create(label: &str) -> TestDatabase {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let admin_url = server_url();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let label: String = label.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).take(20).collect();
        let name = format!("sf_test_{label}_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let mut admin = connect(&admin_url).await;
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = with_database(&admin_url, &name);
        TestDatabase { name, url, admin_url }
    }

    pub async fn connect(&self) -> PgConnection {
        connect(&self.url).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime; a thread with its own runtime
        // can block on the cleanup without stalling it.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap_or_else(|e| {
        panic!(
            "cannot connect to PostgreSQL at {url}: {e}\n\
             Start the server (`.ci/run` does: pg_ctlcluster --skip-systemctl-redirect 15 main start) \
             or point SCHEMAFORGE_TEST_POSTGRES_URL at one."
        )
    })
}

/// `url` with its database path replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Whether the server can `CREATE EXTENSION name` (its files are installed).
pub async fn extension_available(conn: &mut PgConnection, name: &str) -> bool {
    sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = $1)")
        .bind(name)
        .fetch_one(conn)
        .await
        .unwrap_or(false)
}

/// Creates cluster-wide roles the platform is expected to provide (Supabase's
/// `anon`, `authenticated`, …) when the server lacks them. Roles are global,
/// so concurrent tests may race to create one: a duplicate is fine.
pub async fn ensure_roles(conn: &mut PgConnection, roles: &[&str]) {
    for role in roles {
        let sql =
            format!("DO $$ BEGIN CREATE ROLE \"{role}\" NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
        conn.execute(sqlx::AssertSqlSafe(sql)).await.unwrap_or_else(|e| panic!("cannot create role {role}: {e}"));
    }
}

/// Drops roles a test created (after its database is gone).
pub async fn drop_roles(roles: &[String]) {
    if roles.is_empty() {
        return;
    }
    let mut admin = connect(&server_url()).await;
    for role in roles {
        let _ = admin.execute(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS \"{role}\""))).await;
    }
}

/// Roles a test makes, dropped when the guard goes (declare it before the
/// `TestDatabase` that holds their objects, so it drops after the database).
pub struct RoleGuard {
    pub roles: std::sync::Mutex<Vec<String>>,
}

impl RoleGuard {
    pub fn new() -> Self {
        RoleGuard { roles: std::sync::Mutex::new(Vec::new()) }
    }

    /// Records `role` for dropping and returns it.
    pub fn add(&self, role: impl Into<String>) -> String {
        let role = role.into();
        if let Ok(mut roles) = self.roles.lock() {
            roles.push(role.clone());
        }
        role
    }
}

impl Default for RoleGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RoleGuard {
    fn drop(&mut self) {
        let roles = self.roles.lock().map(|r| r.clone()).unwrap_or_default();
        let cleanup = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                runtime.block_on(drop_roles(&roles));
            }
        });
        let _ = cleanup.join();
    }
}

/// A suffix unique to this process and call, for cluster-global names.
pub fn unique_suffix() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!("t{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h:5432/postgres?sslmode=disable", "x"), "postgres://u@h:5432/x?sslmode=disable");
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
