//! `schemaforge serve`, over HTTP against the real binary, on both of its
//! backends: PostgreSQL (tenants as schemas and roles) and the SQLite
//! default (tenants as files under the data directory, no database URL).
//! Versions from the blog chain, the hazard gate, tenancy and auth, bad
//! input, concurrency within and across tenants, two replicas, timeouts,
//! metrics, readiness and shutdown. The tests that write artifacts run
//! against both stores: the data directory and S3 (a real moto server).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use schemaforge_db::postgres::migrate::{self, History};
use schemaforge_testkit::http::{Response, request, request_with};
use schemaforge_testkit::postgres::{RoleGuard, TestDatabase, unique_suffix};
use schemaforge_testkit::{repo_root, scratch_dir};
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, PgConnection, SqliteConnection};

const ADMIN: &str = "test-admin-token";

/// Where a test's tenants live: the service's two backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Db {
    /// A throw-away PostgreSQL database (`--database-url`).
    Postgres,
    /// No database URL: SQLite files under the data directory.
    Sqlite,
}

/// Where a test's services keep their artifacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Artifacts {
    /// The data directory (`object_store`'s local file system).
    Local,
    /// A bucket on a moto S3 server of the test's own.
    S3,
}

/// One `schemaforge serve` process; killed on drop.
struct Service {
    child: Child,
    addr: String,
}

impl Service {
    /// A service on `database_url` (none: the SQLite default) with its data in `data_dir`.
    fn start_with(database_url: Option<&str>, data_dir: &Path, env: &[(&str, String)]) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_schemaforge"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", &data_dir.to_string_lossy()])
            .env("SCHEMAFORGE_ADMIN_TOKEN", ADMIN)
            .env("SCHEMAFORGE_SECRET", "test-secret")
            .env_remove("SCHEMAFORGE_STORE")
            .env_remove("SCHEMAFORGE_DATABASE_URL")
            .env_remove("DATABASE_URL");
        if let Some(url) = database_url {
            command.args(["--database-url", url]);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the listening line");
        let addr = line.trim().rsplit("http://").next().unwrap_or_default().to_string();
        assert!(!addr.is_empty(), "serve did not say where it listens: {line}");
        Service { child, addr }
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        request(&self.addr, method, path, token, body.map(Value::to_string).as_deref())
    }

    fn generate(&self, user: &str, schema: &Value, options: Value) -> Response {
        self.call("POST", "/schema/generate", Some(ADMIN), Some(&json!({"userID": user, "schema": schema, "options": options})))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `fixtures/examples/<name>.json`, written for PostgreSQL.
fn fixture(name: &str) -> Value {
    read_json(&repo_root().join(format!("fixtures/examples/{name}.json")))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

/// One test's world: where its tenants live, the artifact store and data
/// directory its services (replicas) share, and its userIDs.
struct World {
    /// The PostgreSQL database tenants live in; none on SQLite.
    db: Option<TestDatabase>,
    store: Store,
    /// Unique to this run (tenant roles are server-wide on PostgreSQL); the
    /// roles go when the guard does.
    suffix: String,
    roles: RoleGuard,
}

impl World {
    async fn new(db: Db, artifacts: Artifacts, label: &str) -> World {
        let database = match db {
            Db::Postgres => Some(TestDatabase::create(&label.replace('-', "_")).await),
            Db::Sqlite => None,
        };
        World { db: database, store: Store::new(artifacts, label), suffix: unique_suffix(), roles: RoleGuard::new() }
    }

    fn kind(&self) -> Db {
        if self.db.is_some() { Db::Postgres } else { Db::Sqlite }
    }

    fn pg(&self) -> &TestDatabase {
        self.db.as_ref().expect("a PostgreSQL test")
    }

    /// A userID unique to this run.
    fn user(&self, name: &str) -> String {
        let id = format!("{name}_{}", self.suffix);
        if self.db.is_some() {
            self.roles.add(format!("tenant_{id}"));
        }
        id
    }

    /// A service (another replica, when called again) on this world.
    fn start(&self) -> Service {
        self.start_with(&[])
    }

    fn start_with(&self, env: &[(&str, String)]) -> Service {
        let mut env = env.to_vec();
        env.extend(self.store.env());
        Service::start_with(self.db.as_ref().map(|db| db.url.as_str()), &self.store.data, &env)
    }

    /// A fixture as this backend holds it: the SQLite version of the example on SQLite.
    fn fixture(&self, name: &str) -> Value {
        match self.kind() {
            Db::Postgres => fixture(name),
            Db::Sqlite => read_json(&repo_root().join(format!("fixtures/sqlite/{name}.json"))),
        }
    }

    /// The tenant's file on SQLite: `<data>/tenants/<userID>.sqlite`, capitals written `+x`.
    fn tenant_file(&self, user: &str) -> PathBuf {
        let stem: String =
            user.chars().map(|c| if c.is_ascii_uppercase() { format!("+{}", c.to_ascii_lowercase()) } else { c.to_string() }).collect();
        self.store.data.join("tenants").join(format!("{stem}.sqlite"))
    }

    async fn sqlite(&self, user: &str) -> SqliteConnection {
        let path = self.tenant_file(user);
        SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .expect("a path")
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
    }

    /// Runs `sql` in the tenant, its tables unqualified, as someone with access to the database would.
    async fn execute(&self, user: &str, sql: &str) {
        match &self.db {
            Some(db) => {
                let mut conn = db.connect().await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET search_path TO \"tenant_{user}\"; {sql}")))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            None => {
                let mut conn = self.sqlite(user).await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
    }

    /// The first column of the rows `sql` returns (text), in the tenant.
    async fn query(&self, user: &str, sql: &str) -> Vec<String> {
        match &self.db {
            Some(db) => {
                let mut conn = db.connect().await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET search_path TO \"tenant_{user}\""))).execute(&mut conn).await.expect("set");
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_all(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            None if !self.tenant_file(user).exists() => Vec::new(),
            None => {
                let mut conn = self.sqlite(user).await;
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_all(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
        }
    }

    /// The tenant's tables, bookkeeping aside, sorted.
    async fn tables(&self, user: &str) -> Vec<String> {
        match &self.db {
            Some(db) => tables_of(db, &format!("tenant_{user}")).await,
            None => {
                self.query(
                    user,
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY 1",
                )
                .await
            }
        }
    }

    /// The columns of the tenant's `table`, sorted.
    async fn columns(&self, user: &str, table: &str) -> Vec<String> {
        let sql = match self.kind() {
            Db::Postgres => format!(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY 1"
            ),
            Db::Sqlite => format!("SELECT name FROM pragma_table_info('{table}') ORDER BY 1"),
        };
        self.query(user, &sql).await
    }

    /// How many rows the tenant's bookkeeping table `table` holds (0 when it does not exist yet).
    async fn count(&self, user: &str, table: &str) -> usize {
        let exists = match self.kind() {
            Db::Postgres => {
                format!("SELECT CAST(count(*) AS text) FROM pg_tables WHERE schemaname = current_schema() AND tablename = '{table}'")
            }
            Db::Sqlite => format!("SELECT CAST(count(*) AS text) FROM sqlite_master WHERE name = '{table}'"),
        };
        if self.query(user, &exists).await.first().is_none_or(|n| n == "0") {
            return 0;
        }
        self.query(user, &format!("SELECT CAST(count(*) AS text) FROM \"{table}\"")).await.first().and_then(|n| n.parse().ok()).unwrap_or(0)
    }

    /// Holds the tenant's migration lock from a connection of the test's
    /// own, as another replica's migration would: its advisory lock on
    /// PostgreSQL, its file's write lock on SQLite.
    async fn hold_tenant_lock(&self, user: &str) -> Held {
        match &self.db {
            Some(db) => {
                let mut conn = db.connect().await;
                migrate::lock(&mut conn, &History::in_schema(&format!("tenant_{user}"))).await.expect("the lock");
                Held::Postgres(conn, user.to_string())
            }
            None => {
                let mut conn = self.sqlite(user).await;
                sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut conn).await.expect("the lock");
                Held::Sqlite(conn)
            }
        }
    }

    /// Waits until a request of the tenant waits for its lock: seen in
    /// `pg_stat_activity` on PostgreSQL; on SQLite (a writer waiting for a
    /// file's lock shows nowhere), given a moment to get there.
    async fn until_waiting_for_lock(&self, user: &str) {
        let Some(db) = &self.db else {
            tokio::time::sleep(Duration::from_millis(700)).await;
            return;
        };
        let started = Instant::now();
        while lock_waiters(db, user).await == 0 {
            assert!(started.elapsed() < Duration::from_secs(30), "no request of {user} came to wait for the tenant's lock");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A tenant's lock held by the test (`World::hold_tenant_lock`).
enum Held {
    Postgres(PgConnection, String),
    Sqlite(SqliteConnection),
}

impl Held {
    async fn release(self) {
        match self {
            Held::Postgres(mut conn, user) => {
                migrate::unlock(&mut conn, &History::in_schema(&format!("tenant_{user}"))).await.expect("unlocked");
                let _ = conn.close().await;
            }
            Held::Sqlite(mut conn) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.expect("unlocked");
                let _ = conn.close().await;
            }
        }
    }
}

async fn tables_of(db: &TestDatabase, namespace: &str) -> Vec<String> {
    let mut conn = db.connect().await;
    sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 AND table_name NOT LIKE '\\_\\_%' ORDER BY 1",
    )
    .bind(namespace)
    .fetch_all(&mut conn)
    .await
    .expect("tables")
}

const BUCKET: &str = "artifacts";
const PREFIX: &str = "prod";

/// A test's artifact store, and the data directory its services share.
struct Store {
    data: PathBuf,
    s3: Option<S3>,
}

impl Store {
    fn new(artifacts: Artifacts, label: &str) -> Store {
        let data = scratch_dir(label);
        let s3 = (artifacts == Artifacts::S3).then(|| {
            let s3 = S3::start();
            let bucket = request(&s3.endpoint, "PUT", &format!("/{BUCKET}"), None, None);
            assert_eq!(bucket.status, 200, "bucket creation: {:?} {}", bucket.headers, bucket.body);
            s3
        });
        Store { data, s3 }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let Some(s3) = &self.s3 else { return Vec::new() };
        vec![
            ("SCHEMAFORGE_STORE", format!("s3://{BUCKET}/{PREFIX}")),
            ("AWS_ENDPOINT", format!("http://{}", s3.endpoint)),
            ("AWS_ALLOW_HTTP", "true".to_string()),
            ("AWS_ACCESS_KEY_ID", "test".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
        ]
    }

    /// One artifact's text (`drizzle/{userID}/…`), when it exists.
    fn read(&self, path: &str) -> Option<String> {
        match &self.s3 {
            None => std::fs::read_to_string(self.data.join(path)).ok(),
            Some(_) => self.files(path).remove(path),
        }
    }

    /// Every artifact under `prefix` (`drizzle/{userID}/`), by path.
    fn files(&self, prefix: &str) -> BTreeMap<String, String> {
        match &self.s3 {
            None => {
                let mut files = BTreeMap::new();
                let mut dirs = vec![self.data.join(prefix)];
                if let Ok(text) = std::fs::read_to_string(self.data.join(prefix)) {
                    files.insert(prefix.to_string(), text);
                }
                while let Some(dir) = dirs.pop() {
                    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                        let path = entry.path();
                        if path.is_dir() {
                            dirs.push(path);
                        } else if let (Ok(relative), Ok(text)) = (path.strip_prefix(&self.data), std::fs::read_to_string(&path)) {
                            files.insert(relative.to_string_lossy().into_owned(), text);
                        }
                    }
                }
                files
            }
            Some(s3) => s3
                .objects(BUCKET, &format!("{PREFIX}/{prefix}"))
                .into_iter()
                .filter_map(|(key, text)| Some((key.strip_prefix(&format!("{PREFIX}/"))?.to_string(), text)))
                .collect(),
        }
    }
}

/// How many of the tenant's sessions wait for an advisory lock.
async fn lock_waiters(db: &TestDatabase, user: &str) -> i64 {
    let mut conn = db.connect().await;
    sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'")
        .bind(format!("tenant_{user}"))
        .fetch_one(&mut conn)
        .await
        .expect("activity")
}

/// A request sent from a thread of its own.
fn send(addr: &str, method: &'static str, path: &str, body: Value) -> std::thread::JoinHandle<Response> {
    let (addr, path, body) = (addr.to_string(), path.to_string(), body.to_string());
    std::thread::spawn(move || request(&addr, method, &path, Some(ADMIN), Some(&body)))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_and_the_blog_chain_make_versions_and_the_gate_holds_back_data_loss() {
    seed_and_chain(Db::Postgres, Artifacts::Local).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_and_the_blog_chain_with_artifacts_in_s3() {
    seed_and_chain(Db::Postgres, Artifacts::S3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_and_the_blog_chain_on_the_sqlite_default() {
    seed_and_chain(Db::Sqlite, Artifacts::Local).await;
}

async fn seed_and_chain(db: Db, artifacts: Artifacts) {
    let world = World::new(db, artifacts, "service-chain").await;
    let (alice, bob) = (world.user("alice"), world.user("bob"));
    let service = world.start();
    let store = &world.store;

    let seed = service.generate(&alice, &world.fixture("seed-basic"), json!({}));
    assert_eq!(seed.status, 200, "{}", seed.body);
    let body = seed.json();
    assert_eq!(body["version"], "1.0.0");
    let core = match db {
        Db::Postgres => "pgSchema(",
        Db::Sqlite => "sqliteTable(\"users\"",
    };
    assert!(body["schemaTs"].as_str().is_some_and(|ts| ts.contains("\"users\"") && ts.contains(core)), "{body}");
    assert_eq!(world.tables(&alice).await, ["users"]);
    if db == Db::Sqlite {
        assert!(world.tenant_file(&alice).is_file(), "the tenant is a file of its own");
    }
    assert!(store.read(&format!("drizzle/{alice}/schema.ts")).is_some());
    let journal = store.read(&format!("drizzle/{alice}/migrations/meta/_journal.json")).expect("journal");
    let (dialect, snapshot) = match db {
        Db::Postgres => ("postgresql", "7"),
        Db::Sqlite => ("sqlite", "6"),
    };
    let journal: Value = serde_json::from_str(&journal).expect("json");
    assert_eq!((journal["dialect"].as_str(), journal["entries"][0]["version"].as_str()), (Some(dialect), Some(snapshot)), "{journal}");

    let unchanged = service.generate(&alice, &world.fixture("seed-basic"), json!({}));
    assert_eq!((unchanged.status, unchanged.json()["changed"].clone()), (200, json!(false)), "{}", unchanged.body);

    // v2 adds and renames (`renamedFrom` carries the rows over): a minor.
    // Rows go in along the way: every rebuild (SQLite) keeps them, children
    // of a rebuilt parent (`ON DELETE CASCADE`) included.
    for (version, expected, bump) in [("v1", "1.0.0", "initial"), ("v2", "1.1.0", "minor")] {
        let response = service.generate(&bob, &world.fixture(&format!("blog.{version}")), json!({}));
        assert_eq!(response.status, 200, "{version}: {}", response.body);
        assert_eq!((response.json()["version"].clone(), response.json()["bump"].clone()), (json!(expected), json!(bump)));
        if version == "v1" {
            world.execute(&bob, "INSERT INTO users (email, name) VALUES ('ann@example.com', 'Ann')").await;
            world.execute(&bob, "INSERT INTO posts (author_id, title) VALUES (1, 'Hello')").await;
        }
    }
    world.execute(&bob, "INSERT INTO comments (post_id, body) VALUES (1, 'Nice')").await;
    let rows = |table: &'static str| {
        let world = &world;
        let bob = bob.clone();
        async move { world.query(&bob, &format!("SELECT CAST(count(*) AS text) FROM {table}")).await }
    };
    assert_eq!((rows("users").await, rows("posts").await), (vec!["1".to_string()], vec!["1".to_string()]));
    assert_eq!(world.query(&bob, "SELECT display_name FROM users").await, ["Ann"], "the rename carried the value over");
    let before = world.tables(&bob).await;
    let artifacts_before = store.files(&format!("drizzle/{bob}/versions/"));
    let refused = service.generate(&bob, &world.fixture("blog.v3"), json!({}));
    assert_eq!(refused.status, 409, "{}", refused.body);
    let body = refused.json();
    assert_eq!(body["error"]["code"], "hazards-not-allowed");
    let hazards: Vec<String> =
        body["plan"]["summary"]["hazards"].as_array().expect("hazards").iter().filter_map(|h| h.as_str().map(String::from)).collect();
    assert!(hazards.contains(&"deletes-data".to_string()), "{hazards:?}");
    assert_eq!(world.tables(&bob).await, before, "a refused request changed the tenant");
    assert_eq!(store.files(&format!("drizzle/{bob}/versions/")), artifacts_before, "a refused request wrote artifacts");

    let allowed = service.generate(&bob, &world.fixture("blog.v3"), json!({"allowHazards": hazards, "message": "Posts become articles."}));
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(allowed.json()["version"], "2.0.0");
    assert!(allowed.json()["changelog"].as_str().is_some_and(|c| c.contains("Posts become articles.")));
    assert_eq!(world.tables(&bob).await, ["articles", "comments", "users"]);
    for table in ["users", "articles", "comments"] {
        assert_eq!(rows(table).await, ["1"], "{table} lost rows");
    }
    // An addition is a minor, a comment a patch; SQLite keeps no comments,
    // so there a comment changes nothing in the database and makes no version.
    let mut added = world.fixture("blog.v3");
    added["tables"][0]["columns"].as_array_mut().expect("columns").push(json!({"name": "website", "type": "text"}));
    let minor = service.generate(&bob, &added, json!({}));
    assert_eq!((minor.status, minor.json()["version"].clone()), (200, json!("2.1.0")), "{}", minor.body);
    let mut commented = added.clone();
    commented["tables"][0]["comment"] = json!("People who write.");
    let patch = service.generate(&bob, &commented, json!({}));
    let expected = match db {
        Db::Postgres => (200, json!(true), json!("2.1.1")),
        Db::Sqlite => (200, json!(false), json!("2.1.0")),
    };
    assert_eq!((patch.status, patch.json()["changed"].clone(), patch.json()["version"].clone()), expected, "{}", patch.body);
    let (latest_version, latest_definition) = match db {
        Db::Postgres => ("2.1.1", &commented),
        Db::Sqlite => ("2.1.0", &added),
    };

    let versions = service.call("GET", &format!("/versions?userID={bob}"), Some(ADMIN), None).json();
    let listed: Vec<&str> = versions["versions"].as_array().expect("versions").iter().filter_map(|v| v["version"].as_str()).collect();
    let mut expected = vec!["1.0.0", "1.1.0", "2.0.0", "2.1.0"];
    if db == Db::Postgres {
        expected.push("2.1.1");
    }
    assert_eq!(listed, expected);
    let latest = service.call("GET", &format!("/schema/latest?userID={bob}"), Some(ADMIN), None).json();
    assert_eq!(latest["version"], latest_version);
    assert_eq!(&latest["definition"], latest_definition);
    let old = service.call("GET", &format!("/schema/1.1.0?userID={bob}"), Some(ADMIN), None);
    assert_eq!((old.status, old.json()["definition"].clone()), (200, world.fixture("blog.v2")));
    assert!(store.read(&format!("drizzle/{bob}/versions/2.0.0/changelog.md")).is_some_and(|c| c.contains("## 2.0.0")));
    let log = store.read(&format!("drizzle/{bob}/logs/generation.log")).expect("log");
    assert_eq!(log.lines().count(), 6, "{log}");
    assert!(log.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()));
    if artifacts == Artifacts::S3 {
        assert!(!store.data.join("drizzle").exists(), "artifacts were written to the data directory too");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_bind_users_and_bad_input_is_refused_with_pointers() {
    tokens_and_bad_input(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_bind_users_and_bad_input_is_refused_on_the_sqlite_default() {
    tokens_and_bad_input(Db::Sqlite).await;
}

/// userIDs that must never reach a path, an identifier or a key.
const HOSTILE_USERS: [&str; 12] = [
    "../../etc",
    "..",
    "../service",
    "a/b",
    "/etc/passwd",
    "a\\b",
    "x.sqlite",
    ".hidden",
    "",
    "tenant\"; DROP SCHEMA public; --",
    "é",
    "a%2Fb",
];

async fn tokens_and_bad_input(db: Db) {
    let world = World::new(db, Artifacts::Local, "service-auth").await;
    let (carol, dave) = (world.user("carol"), world.user("dave"));
    let service = world.start();
    let seed = world.fixture("seed-basic");
    let body = json!({"userID": carol, "schema": seed});

    assert_eq!(service.call("POST", "/schema/generate", None, Some(&body)).status, 401);
    assert_eq!(service.call("POST", "/schema/generate", Some("wrong"), Some(&body)).status, 401);
    let token =
        service.call("POST", "/tokens", Some(ADMIN), Some(&json!({"userID": carol}))).json()["token"].as_str().expect("token").to_string();
    let dave =
        service.call("POST", "/tokens", Some(ADMIN), Some(&json!({"userID": dave}))).json()["token"].as_str().expect("token").to_string();
    assert_eq!(service.call("POST", "/tokens", Some(&token), Some(&json!({"userID": carol}))).status, 403, "a user issued a token");
    assert_eq!(service.call("POST", "/schema/generate", Some(&token), Some(&body)).status, 200);
    let cross = service.call("POST", "/schema/generate", Some(&dave), Some(&body));
    assert_eq!((cross.status, cross.json()["error"]["code"].clone()), (403, json!("forbidden")));
    assert_eq!(service.call("GET", &format!("/versions?userID={carol}"), Some(&dave), None).status, 403);

    for hostile in HOSTILE_USERS {
        let generate = service.generate(hostile, &seed, json!({}));
        assert_eq!((generate.status, generate.json()["error"]["code"].clone()), (400, json!("invalid-user-id")), "{hostile:?}");
        let token = service.call("POST", "/tokens", Some(ADMIN), Some(&json!({"userID": hostile})));
        assert_eq!(token.status, 400, "{hostile:?}");
    }
    let encoded = service.call("GET", "/versions?userID=..%2F..%2Fetc", Some(ADMIN), None);
    assert_eq!((encoded.status, encoded.json()["error"]["code"].clone()), (400, json!("invalid-user-id")));
    let encoded = service.call("GET", "/drift?userID=%2E%2E", Some(ADMIN), None);
    assert_eq!(encoded.status, 400);

    let mut injected = seed.clone();
    injected["tables"][0]["columns"][0]["default"] = json!({"sql": "0); DROP TABLE users; --"});
    let response = service.generate(&carol, &injected, json!({}));
    assert_eq!(response.status, 400, "{}", response.body);
    let details = response.json()["error"]["details"].clone();
    assert!(details.as_array().is_some_and(|d| d.iter().any(|d| d["path"] == "/schema/tables/0/columns/0/default/sql")), "{details}");

    let extension = service.generate(&carol, &json!({"extensions": ["pgcrypto"], "tables": []}), json!({}));
    assert_eq!((extension.status, extension.json()["error"]["details"][0]["path"].clone()), (400, json!("/schema/extensions")));
    // A definition is lowered for the service's database: another dialect is refused.
    let other = match db {
        Db::Postgres => "sqlite",
        Db::Sqlite => "postgresql",
    };
    let mut foreign = seed.clone();
    foreign["dialect"] = json!(other);
    let dialect = service.generate(&carol, &foreign, json!({}));
    assert_eq!(dialect.status, 400, "{}", dialect.body);
    assert!(
        dialect.json()["error"]["details"].as_array().is_some_and(|d| d.iter().any(|d| d["path"] == "/schema/dialect")),
        "{}",
        dialect.body
    );
    let malformed = service.call("POST", "/schema/generate", Some(ADMIN), None);
    assert_eq!((malformed.status, malformed.json()["error"]["code"].clone()), (400, json!("invalid-request")));
    let unknown = service.call("GET", "/nowhere", Some(ADMIN), None);
    assert_eq!((unknown.status, unknown.json()["error"]["code"].clone()), (404, json!("not-found")));
    let huge = json!({"userID": carol, "schema": {"tables": [], "padding": "x".repeat(9 * 1024 * 1024)}});
    let too_large = service.call("POST", "/schema/generate", Some(ADMIN), Some(&huge));
    assert_eq!((too_large.status, too_large.json()["error"]["code"].clone()), (413, json!("too-large")));
    assert_eq!(service.call("GET", "/healthz", None, None).status, 200);
    assert_eq!(service.call("GET", "/readyz", None, None).status, 200);

    if db == Db::Sqlite {
        // Each tenant is a file of its own, and nothing else is: a userID
        // named like the service's own file is a tenant file like any other.
        let service_user = "service";
        assert_eq!(service.generate(service_user, &seed, json!({})).status, 200);
        assert_eq!(service.call("GET", &format!("/versions?userID={carol}"), Some(&token), None).status, 200, "tokens survive");
        let mut tenants: Vec<String> = std::fs::read_dir(world.store.data.join("tenants"))
            .expect("the tenants directory")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| !name.ends_with("-wal") && !name.ends_with("-shm"))
            .collect();
        tenants.sort();
        assert_eq!(tenants, [format!("{carol}.sqlite"), "service.sqlite".to_string()]);
        let mut top: Vec<String> = std::fs::read_dir(&world.store.data)
            .expect("the data directory")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| !name.ends_with("-wal") && !name.ends_with("-shm"))
            .collect();
        top.sort();
        assert_eq!(top, ["drizzle", "service.sqlite", "tenants"], "something was written outside the layout");
        let mut drizzle: Vec<String> = std::fs::read_dir(world.store.data.join("drizzle"))
            .expect("drizzle")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        drizzle.sort();
        assert_eq!(drizzle, [carol.clone(), service_user.to_string()]);
        // The service's own file holds the tokens (digests) and the tenants.
        let options = SqliteConnectOptions::new().filename(world.store.data.join("service.sqlite"));
        let mut conn = options.connect().await.expect("service.sqlite");
        let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM tokens").fetch_one(&mut conn).await.expect("tokens");
        assert_eq!(tokens, 2);
        let known: Vec<String> = sqlx::query_scalar("SELECT user_id FROM tenants ORDER BY 1").fetch_all(&mut conn).await.expect("tenants");
        assert_eq!(known, [carol.clone(), service_user.to_string()]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_cannot_reach_another_tenants_tables() {
    let world = World::new(Db::Postgres, Artifacts::Local, "service-isolation").await;
    let (erin, frank) = (world.user("erin"), world.user("frank"));
    let service = world.start();
    assert_eq!(service.generate(&erin, &fixture("seed-basic"), json!({})).status, 200);
    let spy = json!({"tables": [{
        "name": "notes",
        "columns": [{"name": "id", "type": "serial", "primaryKey": true}],
        "policies": [{"name": "peek", "using": format!("EXISTS (SELECT 1 FROM tenant_{erin}.users)")}]
    }]});
    let response = service.generate(&frank, &spy, json!({}));
    assert_failed_and_recorded(&world, &service, &frank, &response, "permission denied", &[]).await;
}

/// `response` is the 400 of a migration the database refused with
/// `error`: the tenant kept its tables (`tables`) and versions, and its
/// history lists the migration as failed, with no version.
async fn assert_failed_and_recorded(world: &World, service: &Service, user: &str, response: &Response, error: &str, tables: &[&str]) {
    assert_eq!(response.status, 400, "{}", response.body);
    let body = response.json()["error"].clone();
    assert_eq!(body["code"], "apply-failed");
    assert!(body["message"].as_str().is_some_and(|m| m.contains(error) && m.contains("nothing was applied")), "{body}");
    assert_eq!(world.tables(user).await, tables);
    let versions = service.call("GET", &format!("/versions?userID={user}"), Some(ADMIN), None).json();
    let latest = if tables.is_empty() { Value::Null } else { json!("1.0.0") };
    assert_eq!(versions["latest"], latest, "{versions}");
    // The failure rolled its migration back, but the history keeps it.
    let history = service.call("GET", &format!("/migrations?userID={user}"), Some(ADMIN), None).json();
    let failed = history["migrations"].as_array().and_then(|m| m.last()).cloned().unwrap_or_default();
    let name = if tables.is_empty() { "0000_init" } else { "0001_" };
    assert!(failed["name"].as_str().is_some_and(|n| n.starts_with(name)) && failed["status"] == "failed", "{history}");
    assert_eq!(failed["version"], Value::Null);
    assert!(failed["error"].as_str().is_some_and(|e| e.contains(error)), "{history}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_sqlite_refuses_is_recorded_as_failed_and_changes_nothing() {
    let world = World::new(Db::Sqlite, Artifacts::Local, "service-sqlite-failure").await;
    let uma = world.user("uma");
    let service = world.start();
    let seed = json!({"tables": [{"name": "scores", "columns": [
        {"name": "id", "type": "serial", "primaryKey": true},
        {"name": "points", "type": "bigint", "notNull": true}
    ]}]});
    assert_eq!(service.generate(&uma, &seed, json!({})).status, 200);
    // A row the new check cannot even be evaluated on: abs() of the
    // smallest integer overflows, so copying it into the rebuilt table fails
    // (and counting violations beforehand fails too, which blocks nothing).
    world.execute(&uma, "INSERT INTO scores (points) VALUES (1), (-9223372036854775808)").await;
    let mut checked = seed.clone();
    checked["tables"][0]["checks"] = json!([{"name": "points_small", "expression": "abs(points) < 1000"}]);
    let response = service.generate(&uma, &checked, json!({}));
    assert_failed_and_recorded(&world, &service, &uma, &response, "integer overflow", &["scores"]).await;
    assert_eq!(world.query(&uma, "SELECT CAST(count(*) AS text) FROM scores").await, ["2"], "the rows survived the failed rebuild");
    assert!(world.query(&uma, "SELECT sql FROM sqlite_master WHERE name = 'scores'").await[0].contains("points"));
    assert_eq!(world.query(&uma, "SELECT sql FROM sqlite_master WHERE sql LIKE '%points_small%'").await, Vec::<String>::new());
    // Fixed, the retry applies, and its success replaces the failure.
    world.execute(&uma, "DELETE FROM scores WHERE points < 0").await;
    let retry = service.generate(&uma, &checked, json!({}));
    assert_eq!((retry.status, retry.json()["version"].clone()), (200, json!("1.1.0")), "{}", retry.body);
    let history = service.call("GET", &format!("/migrations?userID={uma}"), Some(ADMIN), None).json();
    let statuses: Vec<&str> = history["migrations"].as_array().expect("migrations").iter().filter_map(|m| m["status"].as_str()).collect();
    assert_eq!(statuses, ["applied", "applied"], "{history}");
}

/// `base` with the columns `extra` added to its first table.
fn with_columns(base: &Value, extra: &[String]) -> Value {
    let mut value = base.clone();
    if let Some(columns) = value["tables"][0]["columns"].as_array_mut() {
        columns.extend(extra.iter().map(|name| json!({"name": name, "type": "text"})));
    }
    value
}

fn check_history(versions: &Value) {
    let list = versions["versions"].as_array().expect("versions");
    let parse = |v: &Value| -> (u64, u64, u64) {
        let parts: Vec<u64> = v["version"].as_str().unwrap_or_default().split('.').filter_map(|p| p.parse().ok()).collect();
        (parts[0], parts[1], parts[2])
    };
    for pair in list.windows(2) {
        let (a, b) = (parse(&pair[0]), parse(&pair[1]));
        let next = match pair[1]["bump"].as_str() {
            Some("major") => (a.0 + 1, 0, 0),
            Some("minor") => (a.0, a.1 + 1, 0),
            _ => (a.0, a.1, a.2 + 1),
        };
        assert_eq!(b, next, "a gap or duplicate between {} and {}", pair[0], pair[1]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_serialize_per_tenant_and_tenants_run_in_parallel() {
    concurrency(Db::Postgres, Artifacts::Local).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_over_two_replicas_with_artifacts_in_s3() {
    concurrency(Db::Postgres, Artifacts::S3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_over_two_replicas_sharing_a_sqlite_data_directory() {
    concurrency(Db::Sqlite, Artifacts::Local).await;
}

async fn concurrency(db: Db, artifacts: Artifacts) {
    let world = World::new(db, artifacts, "service-concurrency").await;
    let gina = world.user("gina");
    let tenants: Vec<String> = (0..20).map(|i| world.user(&format!("tenant{i}"))).collect();
    let store = &world.store;
    let first = world.start();
    let second = world.start();
    let seed = world.fixture("seed-basic");
    assert_eq!(first.generate(&gina, &seed, json!({})).status, 200);

    // 50 requests for one tenant, spread over two replicas, each adding its
    // own column; every fifth is invalid (an unknown type), refused without
    // waiting for the tenant's lock, so log lines are written side by side.
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let mut schema = with_columns(&seed, &[format!("c{i}")]);
            if i % 5 == 4 {
                schema["tables"][0]["columns"][0]["type"] = json!("serail");
            }
            let addr = if i % 2 == 0 { &first.addr } else { &second.addr };
            send(
                addr,
                "POST",
                "/schema/generate",
                json!({"userID": gina, "schema": schema, "options": {"allowHazards": ["deletes-data", "possible-rename"]}}),
            )
        })
        .collect();
    let responses: Vec<Response> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
    for (i, response) in responses.iter().enumerate() {
        let expected: &[u16] = if i % 5 == 4 { &[400] } else { &[200, 409] };
        assert!(expected.contains(&response.status), "{i}: {} {}", response.status, response.body);
    }
    let path = format!("/versions?userID={gina}");
    let versions = first.call("GET", &path, Some(ADMIN), None).json();
    assert_eq!(versions, second.call("GET", &path, Some(ADMIN), None).json(), "replicas disagree");
    check_history(&versions);
    let applied = responses.iter().filter(|r| r.status == 200 && r.json()["changed"] == true).count();
    assert_eq!(versions["versions"].as_array().map(Vec::len), Some(applied + 1), "every applied request is one version");
    // The database holds the latest version's columns.
    let latest = first.call("GET", &format!("/schema/latest?userID={gina}"), Some(ADMIN), None).json();
    let expected: Vec<String> = latest["definition"]["tables"][0]["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect();
    let mut expected = expected;
    expected.sort();
    assert_eq!(world.columns(&gina, "users").await, expected);
    // The log has exactly one line per request (the seed's and the 50), from both replicas.
    let log = store.read(&format!("drizzle/{gina}/logs/generation.log")).expect("log");
    let lines: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(lines.len(), 51, "{log}");
    let logged = |result: &str| lines.iter().filter(|l| l["result"] == result).count();
    assert_eq!((logged("applied"), logged("invalid")), (applied + 1, 10), "{log}");
    // The artifacts are the latest version's.
    let journal = store.read(&format!("drizzle/{gina}/migrations/meta/_journal.json")).expect("journal");
    assert_eq!(journal.matches("\"tag\"").count(), applied + 1, "{journal}");

    // 20 tenants at once.
    let handles: Vec<_> = tenants
        .iter()
        .enumerate()
        .map(|(i, tenant)| {
            let addr = if i % 2 == 0 { first.addr.clone() } else { second.addr.clone() };
            let body = json!({"userID": tenant, "schema": world.fixture("blog.v1")});
            std::thread::spawn(move || request(&addr, "POST", "/schema/generate", Some(ADMIN), Some(&body.to_string())))
        })
        .collect();
    for handle in handles {
        let response = handle.join().expect("thread");
        assert_eq!(response.status, 200, "{}", response.body);
    }
    for tenant in &tenants {
        assert_eq!(world.tables(tenant).await, ["posts", "users"], "{tenant}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_come_as_source_and_as_installable_packages() {
    clients(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_come_as_source_and_as_installable_packages_on_the_sqlite_default() {
    clients(Db::Sqlite).await;
}

async fn clients(db: Db) {
    schemaforge_testkit::node::require_toolchain();
    let world = World::new(db, Artifacts::Local, "service-clients").await;
    let hana = world.user("Hana");
    let service = world.start();
    assert_eq!(service.generate(&hana, &world.fixture("blog.v2"), json!({})).status, 200);
    if db == Db::Sqlite {
        assert!(world.tenant_file(&hana).is_file(), "capitals are written apart in the file name");
    }

    let types = service.call("GET", &format!("/client/latest/typescript?userID={hana}"), Some(ADMIN), None);
    assert_eq!(types.status, 200, "{}", types.body);
    assert!(types.body.contains("export interface User {"), "{}", types.body);
    assert_eq!(types.header("x-schemaforge-version"), Some("1.0.0"));
    let drizzle = service.call("GET", &format!("/client/1.0.0/drizzle?userID={hana}"), Some(ADMIN), None);
    match db {
        Db::Postgres => assert!(drizzle.body.contains(&format!("pgSchema(\"tenant_{hana}\")")), "{}", drizzle.body),
        Db::Sqlite => assert!(
            drizzle.body.contains("from \"drizzle-orm/sqlite-core\"")
                && drizzle.body.contains("sqliteTable(\"users\"")
                && !drizzle.body.contains("pgSchema"),
            "{}",
            drizzle.body
        ),
    }
    let unknown = service.call("GET", &format!("/client/latest/cobol?userID={hana}"), Some(ADMIN), None);
    assert_eq!((unknown.status, unknown.json()["error"]["code"].clone()), (404, json!("not-found")));

    // Every language as a package, installed with npm into a project next to
    // the oracle's node_modules (for drizzle-orm, zod and tsc), and used.
    // A project of this test's own: both backends' runs share the process.
    let project = schemaforge_testkit::node::oracle_dir().join(format!(".package-{}-{hana}", std::process::id()));
    std::fs::create_dir_all(&project).expect("creatable");
    let mut tarballs = Vec::new();
    for language in ["drizzle", "typescript", "zod"] {
        let package = service.call("GET", &format!("/client/latest/{language}?userID={hana}&format=tar"), Some(ADMIN), None);
        assert_eq!((package.status, package.header("content-type")), (200, Some("application/gzip")), "{language}");
        let file = format!("{language}.tgz");
        std::fs::write(project.join(&file), &package.bytes).expect("writable");
        tarballs.push(format!("./{file}"));
    }
    std::fs::write(project.join("package.json"), r#"{"name": "consumer", "private": true, "type": "module"}"#).expect("writable");
    let install = Command::new("npm")
        .arg("install")
        .args(&tarballs)
        .args(["--no-save", "--no-audit", "--no-fund", "--legacy-peer-deps", "--offline", "--loglevel=error"])
        .current_dir(&project)
        .output()
        .expect("npm runs");
    assert!(install.status.success(), "npm install: {}", String::from_utf8_lossy(&install.stderr));
    let scope = format!("@schemaforge/{}", hana.to_ascii_lowercase());
    // The drizzle client names its exports after the tenant's schema on PostgreSQL (`usersInTenant…`).
    let export = drizzle
        .body
        .lines()
        .filter_map(|l| l.strip_prefix("export const ")?.split_once(" = "))
        .find_map(|(name, rest)| (rest.contains(".table(\"users\"") || rest.contains("sqliteTable(\"users\"")).then_some(name))
        .expect("the users table's export")
        .to_string();
    let select = drizzle
        .body
        .lines()
        .find_map(|l| l.strip_prefix("export type ")?.strip_suffix(&format!(" = typeof {export}.$inferSelect;")))
        .expect("the users row type")
        .to_string();
    std::fs::write(
        project.join("use.ts"),
        format!(
            "import {{ usersInsert }} from \"{scope}-zod\";\n\
             import type {{ User as Row }} from \"{scope}-typescript\";\n\
             import {{ {export} as users, type {select} as User }} from \"{scope}-drizzle\";\n\
             import type {{ InferSelectModel }} from \"drizzle-orm\";\n\
             export const ok: boolean = usersInsert.safeParse({{ email: \"a@b.co\" }}).success;\n\
             export const email: string = users.email.name;\n\
             export function same(row: Row): User {{ const user: InferSelectModel<typeof users> = row; return user; }}\n"
        ),
    )
    .expect("writable");
    let check = schemaforge_testkit::node::typecheck(&project, &["use.ts".to_string()]);
    let _ = std::fs::remove_dir_all(&project);
    assert!(check.success, "tsc over the installed packages: {}", check.combined());
}

#[tokio::test(flavor = "multi_thread")]
async fn history_rollback_and_drift() {
    history_rollback_drift(Db::Postgres, Artifacts::Local).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn history_rollback_and_drift_with_artifacts_in_s3() {
    history_rollback_drift(Db::Postgres, Artifacts::S3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn history_rollback_and_drift_on_the_sqlite_default() {
    history_rollback_drift(Db::Sqlite, Artifacts::Local).await;
}

async fn history_rollback_drift(db: Db, artifacts: Artifacts) {
    let world = World::new(db, artifacts, "service-history").await;
    let ivy = world.user("ivy");
    let store = &world.store;
    let service = world.start();
    for (version, options) in [("v1", json!({})), ("v2", json!({})), ("v3", json!({"allowHazards": ["all"]}))] {
        let response = service.generate(&ivy, &world.fixture(&format!("blog.{version}")), options);
        assert_eq!(response.status, 200, "{version}: {}", response.body);
    }
    let migrations = service.call("GET", &format!("/migrations?userID={ivy}"), Some(ADMIN), None).json();
    let listed: Vec<(String, String)> = migrations["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| (m["version"].as_str().unwrap_or_default().to_string(), m["status"].as_str().unwrap_or_default().to_string()))
        .collect();
    assert_eq!(listed, [("1.0.0".into(), "applied".into()), ("1.1.0".into(), "applied".into()), ("2.0.0".into(), "applied".into())]);
    assert!(migrations["migrations"][0]["checksum"].as_str().is_some_and(|c| c.len() == 64));

    let drift = service.call("GET", &format!("/drift?userID={ivy}"), Some(ADMIN), None);
    assert_eq!((drift.status, drift.json()["drift"].clone()), (200, json!(false)), "{}", drift.body);
    world.execute(&ivy, "ALTER TABLE users ADD COLUMN hack text").await;
    let drift = service.call("GET", &format!("/drift?userID={ivy}"), Some(ADMIN), None).json();
    assert_eq!(drift["drift"], true, "{drift}");
    assert!(drift["changes"].as_array().is_some_and(|c| c.iter().any(|c| c.as_str().is_some_and(|c| c.contains("hack")))), "{drift}");
    world.execute(&ivy, "ALTER TABLE users DROP COLUMN hack").await;

    let rollback = |allow: Value| {
        service.call("POST", "/rollback", Some(ADMIN), Some(&json!({"userID": ivy, "toVersion": "1.1.0", "allowHazards": allow})))
    };
    let journal = format!("drizzle/{ivy}/migrations/meta/_journal.json");
    let journal_before = store.read(&journal).expect("journal");
    let refused = rollback(json!([]));
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(world.tables(&ivy).await, ["articles", "comments", "users"].map(String::from));
    assert_eq!(store.read(&journal), Some(journal_before.clone()), "a refused rollback changed the artifacts");
    let done = rollback(json!(["all"]));
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()["rolledBack"], json!(["2.0.0"]));
    assert_eq!(world.tables(&ivy).await, ["comments", "posts", "users"].map(String::from));
    assert_eq!(service.call("GET", &format!("/versions?userID={ivy}"), Some(ADMIN), None).json()["latest"], "1.1.0");
    // The artifacts follow: the folder ends at 1.1.0's migration again.
    let journal_after = store.read(&journal).expect("journal");
    assert!(journal_before.contains("0002_") && !journal_after.contains("0002_"), "{journal_after}");
    assert!(store.read(&format!("drizzle/{ivy}/schema.ts")).is_some_and(|ts| ts.contains("\"posts\"") && !ts.contains("\"articles\"")));
    let drift = service.call("GET", &format!("/drift?userID={ivy}"), Some(ADMIN), None).json();
    assert_eq!(drift["drift"], false, "{drift}");
    let statuses = || -> Vec<String> {
        let migrations = service.call("GET", &format!("/migrations?userID={ivy}"), Some(ADMIN), None).json();
        migrations["migrations"].as_array().expect("migrations").iter().filter_map(|m| m["status"].as_str().map(String::from)).collect()
    };
    assert_eq!(statuses(), ["applied", "applied", "rolled back"]);

    let again = service.generate(&ivy, &world.fixture("blog.v3"), json!({"allowHazards": ["all"]}));
    assert_eq!((again.status, again.json()["version"].clone()), (200, json!("2.0.0")), "{}", again.body);
    assert_eq!(world.count(&ivy, "__drizzle_migrations").await, 3);
    assert_eq!(statuses(), ["applied", "applied", "applied"], "the same migration, applied again");
}

/// A moto S3 server on a free port, stopped on drop.
struct S3 {
    child: Child,
    endpoint: String,
}

impl S3 {
    fn start() -> S3 {
        let moto = repo_root().join(".venv/bin/moto_server");
        assert!(moto.exists(), "moto is not installed: run scripts/test.sh (it makes .venv from scripts/requirements-test.txt)");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto starts");
        let addr = format!("127.0.0.1:{port}");
        for _ in 0..200 {
            if std::net::TcpStream::connect(&addr).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        S3 { child, endpoint: addr }
    }
}

impl S3 {
    /// The text of every object under `prefix`, by key. moto refuses
    /// anonymous reads but does not verify signatures, so a request that
    /// carries one (any) reads quickly; `get` reads as a real client does.
    fn objects(&self, bucket: &str, prefix: &str) -> BTreeMap<String, String> {
        const AUTHORIZATION: (&str, &str) =
            ("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0");
        let listing = request_with(&self.endpoint, "GET", &format!("/{bucket}?list-type=2&prefix={prefix}"), &[AUTHORIZATION], None);
        assert_eq!(listing.status, 200, "{}", listing.body);
        assert!(listing.body.contains("<IsTruncated>false</IsTruncated>"), "more objects than one listing holds");
        let keys = listing.body.split("<Key>").skip(1).filter_map(|rest| rest.split("</Key>").next()).map(String::from);
        keys.map(|key| {
            let object = request_with(&self.endpoint, "GET", &format!("/{bucket}/{key}"), &[AUTHORIZATION], None);
            assert_eq!(object.status, 200, "{key}: {}", object.body);
            (key, object.body)
        })
        .collect()
    }

    /// One object's text, read with boto3 (a signed request, as a client would).
    fn get(&self, bucket: &str, key: &str) -> String {
        let script = format!(
            "import boto3\nc = boto3.client('s3', endpoint_url='http://{}', aws_access_key_id='test', aws_secret_access_key='test', region_name='us-east-1')\nprint(c.get_object(Bucket='{bucket}', Key='{key}')['Body'].read().decode(), end='')",
            self.endpoint
        );
        let output = Command::new(repo_root().join(".venv/bin/python")).args(["-c", &script]).output().expect("python runs");
        assert!(output.status.success(), "s3 get {key}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn artifacts_can_live_in_s3() {
    let world = World::new(Db::Postgres, Artifacts::S3, "service-s3").await;
    let store = &world.store;
    let jo = world.user("jo");
    let service = world.start();
    for (version, expected) in [("v1", "1.0.0"), ("v2", "1.1.0")] {
        let response = service.generate(&jo, &fixture(&format!("blog.{version}")), json!({}));
        assert_eq!((response.status, response.json()["version"].clone()), (200, json!(expected)), "{}", response.body);
    }
    let unchanged = service.generate(&jo, &fixture("blog.v2"), json!({}));
    assert_eq!(unchanged.json()["changed"], false, "{}", unchanged.body);
    // Read back as a client would: a signed request through boto3.
    let Some(s3) = &store.s3 else { panic!("an S3 store") };
    let schema_ts = s3.get(BUCKET, &format!("{PREFIX}/drizzle/{jo}/schema.ts"));
    assert!(schema_ts.contains(".table(\"comments\""), "{schema_ts}");
    let files = store.files(&format!("drizzle/{jo}/"));
    assert!(files.get(&format!("drizzle/{jo}/versions/1.1.0/changelog.md")).is_some_and(|c| c.contains("## 1.1.0")), "{:?}", files.keys());
    assert!(files.get(&format!("drizzle/{jo}/migrations/meta/_journal.json")).is_some_and(|j| j.contains("0001_")));
    assert!(!store.data.join("drizzle").exists(), "artifacts were written to the data directory too");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_every_route_and_is_valid() {
    openapi(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_every_route_on_the_sqlite_default() {
    openapi(Db::Sqlite).await;
}

async fn openapi(db: Db) {
    let world = World::new(db, Artifacts::Local, "service-openapi").await;
    let service = world.start();
    let response = service.call("GET", "/openapi.json", None, None);
    assert_eq!(response.status, 200);
    let document = response.json();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().expect("paths");
    assert_eq!(document["security"], json!([{"bearer": []}]), "the token is required unless a route says otherwise");
    let mut public = Vec::new();
    for (path, methods) in paths {
        for (method, operation) in methods.as_object().expect("methods") {
            // Every documented route is served (anything but 404 and 405), and
            // every route that needs a token refuses a request without one, or
            // with a wrong one, with a JSON 401.
            let concrete = path.replace("{version}", "latest").replace("{language}", "zod");
            let method = method.to_uppercase();
            let anonymous = service.call(&method, &concrete, None, None);
            assert!(
                anonymous.status != 404 && anonymous.status != 405,
                "{method} {path} is documented but not served ({})",
                anonymous.status
            );
            if operation["security"] == json!([]) {
                public.push(path.clone());
                assert_eq!(anonymous.status, 200, "{method} {path} is documented as public: {}", anonymous.body);
                continue;
            }
            for response in [anonymous, service.call(&method, &concrete, Some("not-a-token"), None)] {
                assert_eq!(
                    (response.status, response.json()["error"]["code"].clone()),
                    (401, json!("unauthorized")),
                    "{method} {path} answered without a valid token: {}",
                    response.body
                );
            }
        }
    }
    public.sort();
    assert_eq!(public, ["/healthz", "/metrics", "/openapi.json", "/readyz"], "README says exactly these need no token");
    for path in ["/schema/generate", "/versions", "/client/{version}/{language}", "/rollback", "/drift", "/migrations", "/tokens"] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    let file = scratch_dir("service-openapi-doc").join("openapi.json");
    std::fs::write(&file, response.body).expect("writable");
    let validator = repo_root().join(".venv/bin/openapi-spec-validator");
    assert!(validator.exists(), "run scripts/test.sh: it installs the validator into .venv");
    let output = Command::new(validator).arg(&file).output().expect("the validator runs");
    assert!(output.status.success(), "{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_come_from_the_configuration_file() {
    let world = World::new(Db::Postgres, Artifacts::Local, "service-config").await;
    let kim = world.user("kim");
    let db = world.pg();
    let dir = scratch_dir("service-config-file");
    let config = dir.join("schemaforge.toml");
    std::fs::write(&config, "[serve]\nbody_limit = 2048\nrequest_timeout_seconds = 30\n").expect("writable");
    let service = world.start_with(&[("SCHEMAFORGE_CONFIG", config.to_string_lossy().into_owned())]);
    let big = json!({"userID": kim, "schema": {"tables": [], "padding": "y".repeat(4096)}});
    assert_eq!(service.call("POST", "/schema/generate", Some(ADMIN), Some(&big)).status, 413);
    let small = json!({"userID": kim, "schema": {"tables": []}});
    assert_ne!(service.call("POST", "/schema/generate", Some(ADMIN), Some(&small)).status, 413);

    std::fs::write(&config, "[serve]\nbody_limt = 1\n").expect("writable");
    let output = Command::new(env!("CARGO_BIN_EXE_schemaforge"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &db.url])
        .env("SCHEMAFORGE_CONFIG", &config)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("schemaforge.toml is not a valid schemaforge configuration") && stderr.contains("body_limt"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_failure_mid_apply_changes_nothing_and_a_retry_works() {
    let world = World::new(Db::Postgres, Artifacts::Local, "service-failure").await;
    let lee = world.user("lee");
    let (db, store) = (world.pg(), &world.store);
    let service = world.start();
    let seed = fixture("seed-basic");
    assert_eq!(service.generate(&lee, &seed, json!({})).status, 200);
    let artifacts = || {
        let mut files = store.files(&format!("drizzle/{lee}/"));
        files.retain(|path, _| !path.contains("/logs/"));
        files
    };
    let before = artifacts();
    assert!(before.keys().any(|p| p.ends_with("schema.ts")), "{:?}", before.keys());
    let namespace = format!("tenant_{lee}");
    let mut admin = db.connect().await;
    // Enough rows that building an index takes a moment to catch.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO \"{namespace}\".users (email) SELECT md5(i::text) || md5((i * 7)::text) FROM generate_series(1, 400000) i"
    )))
    .execute(&mut admin)
    .await
    .expect("rows");
    let mut indexed = seed.clone();
    indexed["tables"][0]["indexes"] = json!([{"name": "users_email_lower_idx", "columns": [{"expression": "lower(email)"}]}]);
    let (addr, body) = (service.addr.clone(), json!({"userID": lee, "schema": indexed}).to_string());
    let request_thread = std::thread::spawn(move || request(&addr, "POST", "/schema/generate", Some(ADMIN), Some(&body)));
    let mut killed = false;
    for _ in 0..400 {
        let killed_now: Vec<bool> =
            sqlx::query_scalar("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND query ILIKE 'CREATE INDEX%'")
                .bind(&namespace)
                .fetch_all(&mut admin)
                .await
                .expect("activity");
        if killed_now.iter().any(|k| *k) {
            killed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let response = request_thread.join().expect("thread");
    assert!(killed, "the index build was never seen running: {}", response.body);
    assert!(response.status >= 500, "{} {}", response.status, response.body);
    assert!(response.json()["error"]["message"].as_str().is_some_and(|m| m.contains("nothing was")), "{}", response.body);
    let indexes: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = 'users_email_lower_idx'")
        .bind(&namespace)
        .fetch_one(&mut admin)
        .await
        .expect("count");
    assert_eq!(indexes, 0, "half applied");
    assert_eq!(service.call("GET", &format!("/versions?userID={lee}"), Some(ADMIN), None).json()["latest"], "1.0.0");
    assert_eq!(artifacts(), before, "a failed request changed the artifacts");
    let history = service.call("GET", &format!("/migrations?userID={lee}"), Some(ADMIN), None).json();
    let statuses: Vec<&str> = history["migrations"].as_array().expect("migrations").iter().filter_map(|m| m["status"].as_str()).collect();
    assert_eq!(statuses, ["applied", "failed"], "{history}");

    let retry = service.generate(&lee, &indexed, json!({}));
    assert_eq!((retry.status, retry.json()["version"].clone()), (200, json!("1.1.0")), "{}", retry.body);
    let history = service.call("GET", &format!("/migrations?userID={lee}"), Some(ADMIN), None).json();
    let statuses: Vec<&str> = history["migrations"].as_array().expect("migrations").iter().filter_map(|m| m["status"].as_str()).collect();
    assert_eq!(statuses, ["applied", "applied"], "the retry's success replaces the failure: {history}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_the_requests_in_flight_then_stops() {
    shutdown(Db::Postgres).await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_the_requests_in_flight_on_the_sqlite_default() {
    shutdown(Db::Sqlite).await;
}

#[cfg(unix)]
async fn shutdown(db: Db) {
    let world = World::new(db, Artifacts::Local, "service-shutdown").await;
    let max = world.user("max");
    let mut service = world.start();
    assert_eq!(service.call("GET", "/healthz", None, None).status, 200);
    // A request in flight: waiting for its tenant's lock.
    let lock = world.hold_tenant_lock(&max).await;
    let in_flight = send(&service.addr, "POST", "/schema/generate", json!({"userID": max, "schema": world.fixture("seed-basic")}));
    world.until_waiting_for_lock(&max).await;
    let pid = service.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs").success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(service.child.try_wait().expect("a status").is_none(), "the service stopped with a request in flight");
    lock.release().await;
    let response = in_flight.join().expect("thread");
    assert_eq!((response.status, response.json()["version"].clone()), (200, json!("1.0.0")), "{}", response.body);
    let status = service.child.wait().expect("exits");
    assert!(status.success(), "{status}");
    assert_eq!(world.tables(&max).await, ["users"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_waiting_for_its_lock_does_not_hold_up_another() {
    waiting_tenant(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_waiting_for_its_files_lock_does_not_hold_up_another() {
    waiting_tenant(Db::Sqlite).await;
}

async fn waiting_tenant(db: Db) {
    let world = World::new(db, Artifacts::Local, "service-parallel").await;
    let (nina, omar) = (world.user("nina"), world.user("omar"));
    let service = world.start();
    let lock = world.hold_tenant_lock(&nina).await;
    let waiting = send(&service.addr, "POST", "/schema/generate", json!({"userID": nina, "schema": world.fixture("seed-basic")}));
    world.until_waiting_for_lock(&nina).await;
    let other = service.generate(&omar, &world.fixture("blog.v1"), json!({}));
    assert_eq!((other.status, other.json()["version"].clone()), (200, json!("1.0.0")), "{}", other.body);
    assert!(!waiting.is_finished(), "nina's request went on while its lock was held");
    if let Some(db) = &world.db {
        assert_eq!(lock_waiters(db, &nina).await, 1, "nina's request should still wait");
    }
    lock.release().await;
    let response = waiting.join().expect("thread");
    assert_eq!((response.status, response.json()["version"].clone()), (200, json!("1.0.0")), "{}", response.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_extend_the_folder_lost_writes_are_repaired_and_the_log_is_segmented() {
    folder_and_log(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_extend_the_folder_lost_writes_are_repaired_and_the_log_is_segmented_on_the_sqlite_default() {
    folder_and_log(Db::Sqlite).await;
}

/// A change writes its own version and the index files; the folder it
/// leaves is the one a whole rewrite from the versions gives, byte for
/// byte, also after a write lost after its commit; the log moves to
/// numbered segments past its size and loses no line.
async fn folder_and_log(db: Db) {
    let world = World::new(db, Artifacts::Local, "service-folder").await;
    let kim = world.user("kim");
    let store = &world.store;
    let service = world.start_with(&[("SCHEMAFORGE_LOG_SEGMENT_BYTES", "300".to_string())]);
    let folder = || {
        let mut files = store.files(&format!("drizzle/{kim}/"));
        files.retain(|path, _| !path.contains("/logs/"));
        files
    };
    // Everything but the log gone: the next request rewrites it from the versions.
    let wipe = || {
        for dir in ["migrations", "versions"] {
            std::fs::remove_dir_all(store.data.join(format!("drizzle/{kim}/{dir}"))).expect("wiped");
        }
        std::fs::remove_file(store.data.join(format!("drizzle/{kim}/schema.ts"))).expect("wiped");
    };
    let mut definition = world.fixture("seed-basic");
    let mut requests = 0;
    // `Some(n)` adds a column (none to the first), `None` sends the same definition again.
    let mut change = |n: Option<usize>| {
        if let Some(n) = n.filter(|n| *n > 0) {
            definition["tables"][0]["columns"].as_array_mut().expect("columns").push(json!({"name": format!("extra_{n}"), "type": "text"}));
        }
        requests += 1;
        let response = service.generate(&kim, &definition, json!({}));
        assert_eq!(response.status, 200, "change {n:?}: {}", response.body);
        response.json()
    };
    for n in 0..4 {
        assert_eq!(change(Some(n))["changed"], true);
    }
    let extended = folder();
    assert_eq!(extended.keys().filter(|p| p.ends_with(".down.sql")).count(), 4, "{:?}", extended.keys());
    wipe();
    assert_eq!(change(None)["changed"], false);
    assert_eq!(folder(), extended, "a whole rewrite differs from the folder the changes extended");

    // Change 4 committed, but its journal was never written (the write
    // stopped before it): change 5 rewrites the folder.
    change(Some(4));
    std::fs::remove_file(store.data.join(format!("drizzle/{kim}/migrations/meta/_journal.json"))).expect("lost");
    let last = change(Some(5));
    let repaired = folder();
    let journal: Value = serde_json::from_str(&repaired[&format!("drizzle/{kim}/migrations/meta/_journal.json")]).expect("journal");
    assert_eq!(journal["entries"].as_array().map(Vec::len), Some(6), "{journal}");
    wipe();
    assert_eq!(change(None)["changed"], false);
    assert_eq!(folder(), repaired, "the repaired folder differs from a whole rewrite");

    let log_at = last["artifacts"]["log"].as_str().expect("log location").to_string();
    let logs = store.files(&format!("drizzle/{kim}/logs/"));
    assert!(logs.contains_key(&log_at), "the answered log location is not the current log: {:?}", logs.keys());
    let segments: Vec<&String> = logs.keys().filter(|p| **p != log_at).collect();
    let expected: Vec<String> = (1..=segments.len()).map(|n| format!("drizzle/{kim}/logs/generation.{n:06}.log")).collect();
    assert_eq!(segments, expected.iter().collect::<Vec<_>>(), "segments are numbered from 1, oldest first");
    assert!(segments.len() >= 3, "300-byte segments hold two lines each: {:?}", logs.keys());
    let mut lines = Vec::new();
    for path in segments.iter().copied().chain([&log_at]) {
        let text = &logs[path];
        assert!(text.len() <= 300 || text.lines().count() == 1, "{path} holds {} bytes", text.len());
        lines.extend(text.lines().map(|l| serde_json::from_str::<Value>(l).expect("a JSON line")));
    }
    assert_eq!(lines.len(), requests, "a line was lost or written twice");
    let times: Vec<u64> = lines.iter().filter_map(|l| l["at"].as_u64()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "the segments are not in order: {times:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_returns_the_plan_and_changes_nothing() {
    dry_run(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_returns_the_plan_and_changes_nothing_on_the_sqlite_default() {
    dry_run(Db::Sqlite).await;
}

async fn dry_run(db: Db) {
    let world = World::new(db, Artifacts::Local, "service-dry-run").await;
    let rae = world.user("rae");
    let store = &world.store;
    let service = world.start();
    let state = |files: BTreeMap<String, String>| -> BTreeMap<String, String> {
        files.into_iter().filter(|(path, _)| !path.contains("/logs/")).collect()
    };
    let history = || service.call("GET", &format!("/migrations?userID={rae}"), Some(ADMIN), None).json()["migrations"].clone();
    let latest = || service.call("GET", &format!("/versions?userID={rae}"), Some(ADMIN), None).json()["latest"].clone();

    let dry = service.generate(&rae, &world.fixture("blog.v1"), json!({"dryRun": true}));
    assert_eq!(dry.status, 200, "{}", dry.body);
    let body = dry.json();
    assert_eq!((body["dryRun"].clone(), body["changed"].clone(), body["version"].clone()), (json!(true), json!(true), json!("1.0.0")));
    let statements = body["migration"]["statements"].as_array().expect("statements");
    assert!(statements.iter().any(|s| s["sql"].as_str().is_some_and(|sql| sql.starts_with("CREATE TABLE"))), "{body}");
    assert!(world.tables(&rae).await.is_empty(), "a dry run created tables");
    assert_eq!(latest(), Value::Null, "a dry run made a version");
    assert_eq!(history(), json!([]), "a dry run left a migration");
    assert!(state(store.files(&format!("drizzle/{rae}/"))).is_empty(), "a dry run wrote artifacts");
    let log = store.read(&format!("drizzle/{rae}/logs/generation.log")).expect("the request is logged");
    assert!(log.contains("\"result\":\"dry-run\""), "{log}");

    // Over an existing version: the plan from it, and still nothing changes.
    assert_eq!(service.generate(&rae, &world.fixture("blog.v1"), json!({})).status, 200);
    let (tables, artifacts, migrations) = (world.tables(&rae).await, state(store.files(&format!("drizzle/{rae}/"))), history());
    let dry = service.generate(&rae, &world.fixture("blog.v2"), json!({"dryRun": true}));
    assert_eq!(dry.status, 200, "{}", dry.body);
    let body = dry.json();
    assert_eq!((body["version"].clone(), body["previousVersion"].clone()), (json!("1.1.0"), json!("1.0.0")));
    let sql: Vec<&str> = body["migration"]["statements"].as_array().expect("statements").iter().filter_map(|s| s["sql"].as_str()).collect();
    let rename = match db {
        Db::Postgres => "RENAME COLUMN \"name\" TO \"display_name\"",
        Db::Sqlite => "RENAME COLUMN `name` TO `display_name`",
    };
    assert!(sql.iter().any(|s| s.contains(rename)), "{sql:?}");
    assert_eq!(world.tables(&rae).await, tables);
    assert_eq!(state(store.files(&format!("drizzle/{rae}/"))), artifacts);
    assert_eq!(history(), migrations);
    assert_eq!(latest(), json!("1.0.0"));
}

/// `(labels, value)` of every sample of `name` in a Prometheus exposition.
fn samples<'a>(text: &'a str, name: &str) -> Vec<(&'a str, f64)> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?;
            let (labels, value) = match rest.strip_prefix('{') {
                Some(rest) => rest.split_once("} ")?,
                None => ("", rest.strip_prefix(' ')?),
            };
            Some((labels, value.parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_by_route_with_latencies_and_migrations() {
    let world = World::new(Db::Postgres, Artifacts::Local, "service-metrics").await;
    let (sam, tia) = (world.user("sam"), world.user("tia"));
    let service = world.start();
    assert_eq!(service.generate(&sam, &fixture("seed-basic"), json!({})).status, 200);
    let spy = json!({"tables": [{
        "name": "notes",
        "columns": [{"name": "id", "type": "serial", "primaryKey": true}],
        "policies": [{"name": "peek", "using": format!("EXISTS (SELECT 1 FROM tenant_{sam}.users)")}]
    }]});
    assert_eq!(service.generate(&tia, &spy, json!({})).status, 400);
    assert_eq!(service.call("GET", &format!("/schema/latest?userID={sam}"), Some(ADMIN), None).status, 200);
    assert_eq!(service.call("GET", "/nowhere", None, None).status, 404);

    let response = service.call("GET", "/metrics", None, None);
    assert_eq!(response.status, 200);
    assert!(response.header("content-type").is_some_and(|t| t.starts_with("text/plain")));
    let text = response.body;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap_or_default();
        assert!(value.parse::<f64>().is_ok(), "not a sample: {line}");
    }
    assert!(text.contains("# TYPE schemaforge_http_request_duration_seconds histogram"), "{text}");
    let requests = samples(&text, "schemaforge_http_requests_total");
    let count = |labels: &str| requests.iter().find(|(l, _)| *l == labels).map(|(_, v)| *v);
    assert_eq!(count(r#"route="/schema/generate",method="POST",status="200""#), Some(1.0), "{text}");
    assert_eq!(count(r#"route="/schema/generate",method="POST",status="400""#), Some(1.0), "{text}");
    assert_eq!(count(r#"route="/schema/{version}",method="GET",status="200""#), Some(1.0), "routes are labelled by template: {text}");
    assert_eq!(count(r#"route="unmatched",method="GET",status="404""#), Some(1.0), "{text}");

    let generate = r#"route="/schema/generate",method="POST""#;
    let buckets: Vec<(&str, f64)> =
        samples(&text, "schemaforge_http_request_duration_seconds_bucket").into_iter().filter(|(l, _)| l.starts_with(generate)).collect();
    assert!(buckets.len() > 5 && buckets.last().is_some_and(|(l, _)| l.ends_with(r#"le="+Inf""#)), "{text}");
    assert!(buckets.windows(2).all(|pair| pair[0].1 <= pair[1].1), "buckets are cumulative: {buckets:?}");
    let one = |name: &str| samples(&text, name).into_iter().find(|(l, _)| *l == generate).map(|(_, v)| v);
    assert_eq!(buckets.last().map(|(_, v)| *v), Some(2.0));
    assert_eq!(one("schemaforge_http_request_duration_seconds_count"), Some(2.0));
    assert!(one("schemaforge_http_request_duration_seconds_sum").is_some_and(|s| s > 0.0), "{text}");
    assert_eq!(samples(&text, "schemaforge_migrations_applied_total"), [("", 1.0)]);
    assert_eq!(samples(&text, "schemaforge_migrations_failed_total"), [("", 1.0)]);
    // sam's read of its latest version came after its change: its connection was waiting.
    let gauge = |name: &str| samples(&text, name).first().map(|(_, v)| *v);
    assert!(gauge("schemaforge_tenant_connections_reused_total").is_some_and(|n| n >= 1.0), "{text}");
    assert!(gauge("schemaforge_tenant_connections_opened_total").is_some_and(|n| n >= 2.0), "sam and tia each opened one: {text}");
    assert!(gauge("schemaforge_tenant_connections_idle").is_some_and(|n| (1.0..=32.0).contains(&n)), "{text}");
    assert_eq!(gauge("schemaforge_tenant_connections_capacity"), Some(32.0), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_is_a_json_503_while_the_database_cannot_be_reached() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let service =
        Service::start_with(Some(&format!("postgres://postgres@127.0.0.1:{port}/postgres")), &scratch_dir("service-unready"), &[]);
    assert_eq!(service.call("GET", "/healthz", None, None).status, 200, "alive without its database");
    let started = Instant::now();
    let ready = service.call("GET", "/readyz", None, None);
    assert!(started.elapsed() < Duration::from_secs(5), "readiness took {:?}", started.elapsed());
    assert_eq!((ready.status, ready.json()["error"]["code"].clone()), (503, json!("database-error")), "{}", ready.body);
    assert!(ready.json()["error"]["message"].as_str().is_some_and(|m| m.contains("cannot be reached")), "{}", ready.body);
    let metrics = service.call("GET", "/metrics", None, None).body;
    assert!(metrics.contains(r#"schemaforge_http_requests_total{route="/readyz",method="GET",status="503"} 1"#), "{metrics}");
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn the_request_timeout_stops_a_request_before_its_commit_and_never_after() {
    request_timeout(Db::Postgres).await;
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn the_request_timeout_on_the_sqlite_default_stops_a_request_before_its_commit_and_never_after() {
    request_timeout(Db::Sqlite).await;
}

#[cfg(target_os = "linux")]
async fn request_timeout(db: Db) {
    use std::os::unix::fs::OpenOptionsExt;
    const O_NONBLOCK: i32 = 0o4000;

    let world = World::new(db, Artifacts::Local, "service-timeout").await;
    let (pat, quinn) = (world.user("pat"), world.user("quinn"));
    let config = scratch_dir("service-timeout-config").join("schemaforge.toml");
    std::fs::write(&config, "[serve]\nrequest_timeout_seconds = 1\n").expect("writable");
    let data = world.store.data.clone();
    let service = world.start_with(&[("SCHEMAFORGE_CONFIG", config.to_string_lossy().into_owned())]);

    // Before the commit: another replica holds the tenant's lock for longer than the timeout.
    let lock = world.hold_tenant_lock(&pat).await;
    let started = Instant::now();
    let response = service.generate(&pat, &world.fixture("seed-basic"), json!({}));
    assert_eq!((response.status, response.json()["error"]["code"].clone()), (408, json!("timeout")), "{}", response.body);
    assert!(response.json()["error"]["message"].as_str().is_some_and(|m| m.contains("nothing was changed")), "{}", response.body);
    assert!(started.elapsed() < Duration::from_secs(10), "answered after {:?}", started.elapsed());
    // Its session was ended, not left waiting to migrate after the answer
    // (on SQLite its connection is closed once its wait ends: whatever it
    // began, if anything, is rolled back then).
    if let Some(db) = &world.db {
        let waited = Instant::now();
        while lock_waiters(db, &pat).await > 0 {
            assert!(waited.elapsed() < Duration::from_secs(5), "the timed-out request still waits for the lock");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    lock.release().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(world.tables(&pat).await.is_empty());
    assert_eq!(service.call("GET", &format!("/versions?userID={pat}"), Some(ADMIN), None).json()["latest"], Value::Null);
    let retry = service.generate(&pat, &world.fixture("seed-basic"), json!({}));
    assert_eq!((retry.status, retry.json()["version"].clone()), (200, json!("1.0.0")), "{}", retry.body);

    // A request given up at its deadline ends its connection: the one it
    // took from the idle cache is not put back, and the next request logs in anew.
    if let Some(db) = &world.db {
        let idle = pids(&until_backends(db, &pat, 1).await);
        let lock = world.hold_tenant_lock(&pat).await;
        let mut changed = world.fixture("seed-basic");
        changed["tables"][0]["columns"].as_array_mut().expect("columns").push(json!({"name": "nickname", "type": "text"}));
        let response = service.generate(&pat, &changed, json!({}));
        assert_eq!((response.status, response.json()["error"]["code"].clone()), (408, json!("timeout")), "{}", response.body);
        lock.release().await;
        until_backends(db, &pat, 0).await;
        let retry = service.generate(&pat, &changed, json!({}));
        assert_eq!((retry.status, retry.json()["version"].clone()), (200, json!("1.1.0")), "{}", retry.body);
        let now = pids(&until_backends(db, &pat, 1).await);
        assert!(now.iter().all(|pid| !idle.contains(pid)), "the abandoned connection was reused: {idle:?} {now:?}");
    }

    // A read that takes too long (its table is locked by a long migration) is
    // a JSON 408 too. (SQLite's readers never wait for a writer: no such read there.)
    if let Some(db) = &world.db {
        let mut blocker = db.connect().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "BEGIN; LOCK TABLE \"tenant_{pat}\".\"__schemaforge_versions\" IN ACCESS EXCLUSIVE MODE"
        )))
        .execute(&mut blocker)
        .await
        .expect("locked");
        let read = service.call("GET", &format!("/versions?userID={pat}"), Some(ADMIN), None);
        assert_eq!((read.status, read.json()["error"]["code"].clone()), (408, json!("timeout")), "{}", read.body);
        sqlx::raw_sql("ROLLBACK").execute(&mut blocker).await.expect("unlocked");
    }

    // After the commit: quinn's journal is a FIFO nobody writes, so writing
    // the artifacts stalls after the version is committed. The answer waits
    // for them, past the timeout, and is the new version.
    let meta = data.join(format!("drizzle/{quinn}/migrations/meta"));
    std::fs::create_dir_all(&meta).expect("creatable");
    let fifo = meta.join("_journal.json");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs").success());
    let in_flight = send(&service.addr, "POST", "/schema/generate", json!({"userID": quinn, "schema": world.fixture("seed-basic")}));
    let committed = Instant::now();
    loop {
        if world.count(&quinn, "__schemaforge_versions").await == 1 {
            break;
        }
        assert!(committed.elapsed() < Duration::from_secs(30), "quinn's version was never committed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!in_flight.is_finished(), "answered while its artifacts were still being written");
    // Let the service read the journal (it finds it empty and writes the folder).
    let opened = Instant::now();
    while std::fs::OpenOptions::new().write(true).custom_flags(O_NONBLOCK).open(&fifo).is_err() {
        assert!(opened.elapsed() < Duration::from_secs(30), "the service never came to read its journal");
        std::thread::sleep(Duration::from_millis(20));
    }
    let response = in_flight.join().expect("thread");
    assert_eq!((response.status, response.json()["version"].clone()), (200, json!("1.0.0")), "{}", response.body);
    assert!(std::fs::read_to_string(&fifo).is_ok_and(|journal| journal.contains("0000_init")), "the journal was written");

    // Every 408 was JSON and is counted.
    let metrics = service.call("GET", "/metrics", None, None).body;
    let mut timed_out = vec![r#"route="/schema/generate",method="POST",status="408"} 1"#];
    if db == Db::Postgres {
        // And the one given up with a connection from the cache.
        timed_out = vec![r#"route="/schema/generate",method="POST",status="408"} 2"#, r#"route="/versions",method="GET",status="408"} 1"#];
    }
    for route in timed_out {
        assert!(metrics.contains(&format!("schemaforge_http_requests_total{{{route}")), "{route} in {metrics}");
    }
}

/// The backends logged in as `user`'s role in the test's database: their
/// process ids and `application_name`s.
async fn tenant_backends(db: &TestDatabase, user: &str) -> Vec<(i32, String)> {
    let mut conn = db.connect().await;
    let rows = sqlx::query_as(
        "SELECT pid, coalesce(application_name, '') FROM pg_stat_activity WHERE datname = current_database() AND usename = $1 ORDER BY pid",
    )
    .bind(format!("tenant_{user}"))
    .fetch_all(&mut conn)
    .await
    .expect("activity");
    let _ = conn.close().await;
    rows
}

/// Waits until `user` has `count` backends (a connection the service closes
/// goes away a moment after the answer), and returns them.
async fn until_backends(db: &TestDatabase, user: &str, count: usize) -> Vec<(i32, String)> {
    let started = Instant::now();
    loop {
        let backends = tenant_backends(db, user).await;
        if backends.len() == count {
            return backends;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{user} kept {} backends, not {count}: {backends:?}", backends.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn pids(backends: &[(i32, String)]) -> Vec<i32> {
    backends.iter().map(|(pid, _)| *pid).collect()
}

/// Session advisory locks on the single key `key` held in the test's database.
async fn advisory_locks(db: &TestDatabase, key: i64) -> i64 {
    let mut conn = db.connect().await;
    let count = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.objsubid = 1
           AND (l.classid::bigint << 32) + l.objid::bigint = $1",
    )
    .bind(key)
    .fetch_one(&mut conn)
    .await
    .expect("locks");
    let _ = conn.close().await;
    count
}

#[tokio::test(flavor = "multi_thread")]
async fn tenant_connections_are_kept_for_their_own_tenant_reset_and_bounded() {
    let world = World::new(Db::Postgres, Artifacts::Local, "service-idle").await;
    let (ada, bo, cy) = (world.user("ada"), world.user("bo"), world.user("cy"));
    let db = world.pg();
    let service = world.start_with(&[("SCHEMAFORGE_TENANT_CONNECTIONS", "2".to_string())]);
    let seed = fixture("seed-basic");

    // A tenant's connection stays open after its request, for it alone.
    assert_eq!(service.generate(&ada, &seed, json!({})).status, 200);
    let ada_first = pids(&until_backends(db, &ada, 1).await);
    assert_eq!(service.generate(&bo, &seed, json!({})).status, 200);
    let bo_first = pids(&until_backends(db, &bo, 1).await);
    assert_ne!(ada_first, bo_first);
    assert_eq!(pids(&until_backends(db, &ada, 1).await), ada_first, "another tenant's request took ada's connection");

    // Two are kept: a third tenant's connection is closed after its request.
    assert_eq!(service.generate(&cy, &seed, json!({})).status, 200);
    until_backends(db, &cy, 0).await;
    assert_eq!(pids(&until_backends(db, &ada, 1).await), ada_first);
    assert_eq!(pids(&until_backends(db, &bo, 1).await), bo_first);

    // What a tenant's expression does to its session (a setting, a session
    // advisory lock) ends with its request: the check runs on the row there is.
    world.execute(&ada, "INSERT INTO users (email) VALUES ('ada@example.com')").await;
    let mut checked = seed.clone();
    checked["tables"][0]["checks"] = json!([{
        "name": "users_touch_session",
        "expression": "set_config('application_name', 'leaked', false) <> '' AND pg_try_advisory_lock(4242)"
    }]);
    let response = service.generate(&ada, &checked, json!({}));
    assert_eq!((response.status, response.json()["changed"].clone()), (200, json!(true)), "{}", response.body);
    let after = until_backends(db, &ada, 1).await;
    assert_eq!(pids(&after), ada_first, "ada's request did not reuse its connection");
    assert!(after.iter().all(|(_, name)| name != "leaked"), "a setting outlived its request: {after:?}");
    assert_eq!(advisory_locks(db, 4242).await, 0, "a session lock outlived its request");
    // The tenant's migration lock went with the request too: another replica gets it.
    let held = tokio::time::timeout(Duration::from_secs(30), world.hold_tenant_lock(&ada)).await.expect("the tenant's lock was kept");
    held.release().await;

    // The next request on it starts clean and works, and so does a read.
    let mut more = checked.clone();
    more["tables"][0]["columns"].as_array_mut().expect("columns").push(json!({"name": "nickname", "type": "text"}));
    let response = service.generate(&ada, &more, json!({}));
    assert_eq!((response.status, response.json()["changed"].clone()), (200, json!(true)), "{}", response.body);
    assert_eq!(pids(&until_backends(db, &ada, 1).await), ada_first);
    assert_eq!(service.call("GET", &format!("/versions?userID={ada}"), Some(ADMIN), None).json()["latest"], response.json()["version"]);
    assert_eq!(pids(&until_backends(db, &ada, 1).await), ada_first, "a read did not reuse the connection");
    let total = tenant_backends(db, &ada).await.len() + tenant_backends(db, &bo).await.len() + tenant_backends(db, &cy).await.len();
    assert!(total <= 2, "more than the 2 idle connections asked for: {total}");
}

/// A kept connection makes sure of the history tables once: dropped by hand
/// while it waits idle, each comes back with the tenant's next change, which
/// it records as a new connection would, on the same connection.
#[tokio::test(flavor = "multi_thread")]
async fn history_tables_dropped_under_a_kept_connection_come_back_with_the_next_change() {
    let world = World::new(Db::Postgres, Artifacts::Local, "service-history-gone").await;
    let ada = world.user("ada");
    let db = world.pg();
    let service = world.start();
    let mut definition = fixture("seed-basic");
    assert_eq!(service.generate(&ada, &definition, json!({})).status, 200);
    definition["tables"][0]["columns"].as_array_mut().expect("columns").push(json!({"name": "nickname", "type": "text"}));
    assert_eq!(service.generate(&ada, &definition, json!({})).status, 200);
    let kept = pids(&until_backends(db, &ada, 1).await);
    let ours = "__schemaforge_migrations";
    let drizzles = "__drizzle_migrations";
    assert_eq!((world.count(&ada, ours).await, world.count(&ada, drizzles).await), (2, 2));

    for (dropped, column, expected) in [(drizzles, "motto", (3, 1)), (ours, "pronouns", (1, 2))] {
        world.execute(&ada, &format!("DROP TABLE \"{dropped}\"")).await;
        definition["tables"][0]["columns"].as_array_mut().expect("columns").push(json!({"name": column, "type": "text"}));
        let response = service.generate(&ada, &definition, json!({}));
        assert_eq!((response.status, response.json()["changed"].clone()), (200, json!(true)), "{}", response.body);
        assert_eq!((world.count(&ada, ours).await, world.count(&ada, drizzles).await), expected, "after dropping {dropped}");
        let tag = response.json()["migration"]["name"].as_str().expect("a tag").to_string();
        let status = world.query(&ada, &format!("SELECT status FROM \"{ours}\" WHERE name = '{tag}'")).await;
        assert_eq!(status, vec!["applied".to_string()], "{tag} after dropping {dropped}");
        assert!(world.columns(&ada, "users").await.contains(&column.to_string()));
        assert_eq!(pids(&until_backends(db, &ada, 1).await), kept, "the connection was not kept after dropping {dropped}");
    }
}

/// The descriptors the process `pid` holds on `file` (not its `-wal` or `-shm`).
#[cfg(target_os = "linux")]
fn descriptors_on(pid: u32, file: &Path) -> Vec<String> {
    let file = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let mut held: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the service's descriptors")
        .filter_map(Result::ok)
        .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == file))
        .map(|fd| fd.file_name().to_string_lossy().into_owned())
        .collect();
    held.sort();
    held
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn tenant_files_stay_open_for_their_own_tenant_and_bounded_on_the_sqlite_default() {
    let world = World::new(Db::Sqlite, Artifacts::Local, "service-idle-files").await;
    let (ada, bo, cy) = (world.user("ada"), world.user("bo"), world.user("cy"));
    let service = world.start_with(&[("SCHEMAFORGE_TENANT_CONNECTIONS", "2".to_string())]);
    let pid = service.child.id();
    let seed = world.fixture("seed-basic");
    for user in [&ada, &bo, &cy] {
        assert_eq!(service.generate(user, &seed, json!({})).status, 200);
    }
    // Two files stay open; the third tenant's is closed (a moment after its answer).
    let started = Instant::now();
    while !descriptors_on(pid, &world.tenant_file(&cy)).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "the third tenant's file stayed open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ada_open = descriptors_on(pid, &world.tenant_file(&ada));
    assert_eq!(ada_open.len(), 1, "{ada_open:?}");
    assert_eq!(descriptors_on(pid, &world.tenant_file(&bo)).len(), 1);
    // The next request of a kept tenant uses the same open file.
    let mut more = seed.clone();
    more["tables"][0]["columns"].as_array_mut().expect("columns").push(json!({"name": "nickname", "type": "text"}));
    let response = service.generate(&ada, &more, json!({}));
    assert_eq!((response.status, response.json()["changed"].clone()), (200, json!(true)), "{}", response.body);
    assert_eq!(descriptors_on(pid, &world.tenant_file(&ada)), ada_open, "ada's file was opened anew");
    assert_eq!(service.call("GET", &format!("/versions?userID={ada}"), Some(ADMIN), None).json()["latest"], response.json()["version"]);
    assert_eq!(descriptors_on(pid, &world.tenant_file(&ada)), ada_open, "a read opened ada's file anew");
}
