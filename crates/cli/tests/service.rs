//! `schemaforge serve`, over HTTP against the real binary and PostgreSQL:
//! versions from the blog chain, the hazard gate, tenancy and auth, bad
//! input, concurrency within and across tenants, two replicas, timeouts,
//! metrics, readiness and shutdown. The tests that write artifacts run
//! against both stores: the data directory and S3 (a real moto server).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use schemaforge_db::postgres::migrate::{self, History};
use schemaforge_testkit::http::{Response, request, request_with};
use schemaforge_testkit::postgres::{RoleGuard, TestDatabase, unique_suffix};
use schemaforge_testkit::{repo_root, scratch_dir};
use serde_json::{Value, json};
use sqlx::PgConnection;

const ADMIN: &str = "test-admin-token";

/// userIDs unique to this run (tenant roles are server-wide), whose roles go
/// when the guard does.
struct Users {
    suffix: String,
    guard: RoleGuard,
}

impl Users {
    fn new() -> Users {
        Users { suffix: unique_suffix(), guard: RoleGuard::new() }
    }

    fn id(&self, name: &str) -> String {
        let id = format!("{name}_{}", self.suffix);
        self.guard.add(format!("tenant_{id}"));
        id
    }
}

/// One `schemaforge serve` process; killed on drop.
struct Service {
    child: Child,
    addr: String,
}

impl Service {
    fn start(database_url: &str, data_dir: &Path) -> Service {
        Service::start_with(database_url, data_dir, &[])
    }

    fn start_with(database_url: &str, data_dir: &Path, env: &[(&str, String)]) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_schemaforge"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", &data_dir.to_string_lossy(), "--database-url", database_url])
            .env("SCHEMAFORGE_ADMIN_TOKEN", ADMIN)
            .env("SCHEMAFORGE_SECRET", "test-secret")
            .env_remove("SCHEMAFORGE_STORE");
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

fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo_root().join(format!("fixtures/examples/{name}.json"))).expect("fixture"))
        .expect("json")
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

/// Where a test's services keep their artifacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// The data directory (`object_store`'s local file system).
    Local,
    /// A bucket on a moto S3 server of the test's own.
    S3,
}

const BUCKET: &str = "artifacts";
const PREFIX: &str = "prod";

/// A test's artifact store, and the data directory its services share.
struct Store {
    data: PathBuf,
    s3: Option<S3>,
}

impl Store {
    fn new(backend: Backend, label: &str) -> Store {
        let data = scratch_dir(label);
        let s3 = (backend == Backend::S3).then(|| {
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

    /// A service (another replica, when called again) on this store.
    fn start(&self, database_url: &str) -> Service {
        Service::start_with(database_url, &self.data, &self.env())
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

/// Holds a tenant's migration lock from a connection of the test's own, as
/// another replica's migration would.
async fn hold_tenant_lock(db: &TestDatabase, user: &str) -> PgConnection {
    let mut conn = db.connect().await;
    migrate::lock(&mut conn, &History::in_schema(&format!("tenant_{user}"))).await.expect("the lock");
    conn
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

/// Waits until a request of the tenant waits for its lock.
async fn until_waiting_for_lock(db: &TestDatabase, user: &str) {
    let started = Instant::now();
    while lock_waiters(db, user).await == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "no request of {user} came to wait for the tenant's lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A request sent from a thread of its own.
fn send(addr: &str, method: &'static str, path: &str, body: Value) -> std::thread::JoinHandle<Response> {
    let (addr, path, body) = (addr.to_string(), path.to_string(), body.to_string());
    std::thread::spawn(move || request(&addr, method, &path, Some(ADMIN), Some(&body)))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_and_the_blog_chain_make_versions_and_the_gate_holds_back_data_loss() {
    seed_and_chain(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_and_the_blog_chain_with_artifacts_in_s3() {
    seed_and_chain(Backend::S3).await;
}

async fn seed_and_chain(backend: Backend) {
    let users = Users::new();
    let (alice, bob) = (users.id("alice"), users.id("bob"));
    let db = TestDatabase::create("service_chain").await;
    let store = Store::new(backend, "service-chain");
    let service = store.start(&db.url);

    let seed = service.generate(&alice, &fixture("seed-basic"), json!({}));
    assert_eq!(seed.status, 200, "{}", seed.body);
    let body = seed.json();
    assert_eq!(body["version"], "1.0.0");
    assert!(body["schemaTs"].as_str().is_some_and(|ts| ts.contains("\"users\"")), "{body}");
    assert_eq!(tables_of(&db, &format!("tenant_{alice}")).await, ["users"]);
    assert!(store.read(&format!("drizzle/{alice}/schema.ts")).is_some());
    assert!(store.read(&format!("drizzle/{alice}/migrations/meta/_journal.json")).is_some());

    let unchanged = service.generate(&alice, &fixture("seed-basic"), json!({}));
    assert_eq!((unchanged.status, unchanged.json()["changed"].clone()), (200, json!(false)), "{}", unchanged.body);

    // v2 adds and renames (`renamedFrom` carries the rows over): a minor.
    for (version, expected, bump) in [("v1", "1.0.0", "initial"), ("v2", "1.1.0", "minor")] {
        let response = service.generate(&bob, &fixture(&format!("blog.{version}")), json!({}));
        assert_eq!(response.status, 200, "{version}: {}", response.body);
        assert_eq!((response.json()["version"].clone(), response.json()["bump"].clone()), (json!(expected), json!(bump)));
    }
    let before = tables_of(&db, &format!("tenant_{bob}")).await;
    let artifacts_before = store.files(&format!("drizzle/{bob}/versions/"));
    let refused = service.generate(&bob, &fixture("blog.v3"), json!({}));
    assert_eq!(refused.status, 409, "{}", refused.body);
    let body = refused.json();
    assert_eq!(body["error"]["code"], "hazards-not-allowed");
    let hazards: Vec<String> =
        body["plan"]["summary"]["hazards"].as_array().expect("hazards").iter().filter_map(|h| h.as_str().map(String::from)).collect();
    assert!(hazards.contains(&"deletes-data".to_string()), "{hazards:?}");
    assert_eq!(tables_of(&db, &format!("tenant_{bob}")).await, before, "a refused request changed the tenant");
    assert_eq!(store.files(&format!("drizzle/{bob}/versions/")), artifacts_before, "a refused request wrote artifacts");

    let allowed = service.generate(&bob, &fixture("blog.v3"), json!({"allowHazards": hazards, "message": "Posts become articles."}));
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(allowed.json()["version"], "2.0.0");
    assert!(allowed.json()["changelog"].as_str().is_some_and(|c| c.contains("Posts become articles.")));
    // An addition is a minor, a comment a patch.
    let mut added = fixture("blog.v3");
    added["tables"][0]["columns"].as_array_mut().expect("columns").push(json!({"name": "website", "type": "text"}));
    let minor = service.generate(&bob, &added, json!({}));
    assert_eq!((minor.status, minor.json()["version"].clone()), (200, json!("2.1.0")), "{}", minor.body);
    added["tables"][0]["comment"] = json!("People who write.");
    let patch = service.generate(&bob, &added, json!({}));
    assert_eq!((patch.status, patch.json()["version"].clone()), (200, json!("2.1.1")), "{}", patch.body);

    let versions = service.call("GET", &format!("/versions?userID={bob}"), Some(ADMIN), None).json();
    let listed: Vec<&str> = versions["versions"].as_array().expect("versions").iter().filter_map(|v| v["version"].as_str()).collect();
    assert_eq!(listed, ["1.0.0", "1.1.0", "2.0.0", "2.1.0", "2.1.1"]);
    let latest = service.call("GET", &format!("/schema/latest?userID={bob}"), Some(ADMIN), None).json();
    assert_eq!(latest["version"], "2.1.1");
    assert_eq!(latest["definition"], added);
    let old = service.call("GET", &format!("/schema/1.1.0?userID={bob}"), Some(ADMIN), None);
    assert_eq!((old.status, old.json()["definition"].clone()), (200, fixture("blog.v2")));
    assert!(store.read(&format!("drizzle/{bob}/versions/2.0.0/changelog.md")).is_some_and(|c| c.contains("## 2.0.0")));
    let log = store.read(&format!("drizzle/{bob}/logs/generation.log")).expect("log");
    assert_eq!(log.lines().count(), 6, "{log}");
    assert!(log.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()));
    if backend == Backend::S3 {
        assert!(!store.data.join("drizzle").exists(), "artifacts were written to the data directory too");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_bind_users_and_bad_input_is_refused_with_pointers() {
    let users = Users::new();
    let (carol, dave) = (users.id("carol"), users.id("dave"));
    let db = TestDatabase::create("service_auth").await;
    let service = Service::start(&db.url, &scratch_dir("service-auth"));
    let seed = fixture("seed-basic");
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

    let traversal = service.generate("../../etc", &seed, json!({}));
    assert_eq!((traversal.status, traversal.json()["error"]["code"].clone()), (400, json!("invalid-user-id")));

    let mut injected = seed.clone();
    injected["tables"][0]["columns"][0]["default"] = json!({"sql": "0); DROP TABLE users; --"});
    let response = service.generate(&carol, &injected, json!({}));
    assert_eq!(response.status, 400, "{}", response.body);
    let details = response.json()["error"]["details"].clone();
    assert!(details.as_array().is_some_and(|d| d.iter().any(|d| d["path"] == "/schema/tables/0/columns/0/default/sql")), "{details}");

    let extension = service.generate(&carol, &json!({"extensions": ["pgcrypto"], "tables": []}), json!({}));
    assert_eq!((extension.status, extension.json()["error"]["details"][0]["path"].clone()), (400, json!("/schema/extensions")));
    let malformed = service.call("POST", "/schema/generate", Some(ADMIN), None);
    assert_eq!((malformed.status, malformed.json()["error"]["code"].clone()), (400, json!("invalid-request")));
    let unknown = service.call("GET", "/nowhere", Some(ADMIN), None);
    assert_eq!((unknown.status, unknown.json()["error"]["code"].clone()), (404, json!("not-found")));
    let huge = json!({"userID": carol, "schema": {"tables": [], "padding": "x".repeat(9 * 1024 * 1024)}});
    let too_large = service.call("POST", "/schema/generate", Some(ADMIN), Some(&huge));
    assert_eq!((too_large.status, too_large.json()["error"]["code"].clone()), (413, json!("too-large")));
    assert_eq!(service.call("GET", "/healthz", None, None).status, 200);
    assert_eq!(service.call("GET", "/readyz", None, None).status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_cannot_reach_another_tenants_tables() {
    let users = Users::new();
    let (erin, frank) = (users.id("erin"), users.id("frank"));
    let db = TestDatabase::create("service_isolation").await;
    let service = Service::start(&db.url, &scratch_dir("service-isolation"));
    assert_eq!(service.generate(&erin, &fixture("seed-basic"), json!({})).status, 200);
    let spy = json!({"tables": [{
        "name": "notes",
        "columns": [{"name": "id", "type": "serial", "primaryKey": true}],
        "policies": [{"name": "peek", "using": format!("EXISTS (SELECT 1 FROM tenant_{erin}.users)")}]
    }]});
    let response = service.generate(&frank, &spy, json!({}));
    assert_eq!(response.status, 400, "{}", response.body);
    let error = response.json()["error"].clone();
    assert_eq!(error["code"], "apply-failed");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("permission denied")), "{error}");
    assert!(tables_of(&db, &format!("tenant_{frank}")).await.is_empty());
    assert_eq!(service.call("GET", &format!("/versions?userID={frank}"), Some(ADMIN), None).json()["latest"], Value::Null);
    // The failure rolled its migration back, but the history keeps it.
    let history = service.call("GET", &format!("/migrations?userID={frank}"), Some(ADMIN), None).json();
    let migrations = history["migrations"].as_array().expect("migrations");
    assert_eq!(migrations.len(), 1, "{history}");
    assert_eq!((migrations[0]["name"].clone(), migrations[0]["status"].clone()), (json!("0000_init"), json!("failed")), "{history}");
    assert_eq!(migrations[0]["version"], Value::Null);
    assert!(migrations[0]["error"].as_str().is_some_and(|e| e.contains("permission denied")), "{history}");
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
    concurrency(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_over_two_replicas_with_artifacts_in_s3() {
    concurrency(Backend::S3).await;
}

async fn concurrency(backend: Backend) {
    let users = Users::new();
    let gina = users.id("gina");
    let tenants: Vec<String> = (0..20).map(|i| users.id(&format!("tenant{i}"))).collect();
    let db = TestDatabase::create("service_concurrency").await;
    let store = Store::new(backend, "service-concurrency");
    let first = store.start(&db.url);
    let second = store.start(&db.url);
    let seed = fixture("seed-basic");
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
    let mut conn = db.connect().await;
    let actual: Vec<String> = sqlx::query_scalar("SELECT column_name::text FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'users' ORDER BY ordinal_position")
        .bind(format!("tenant_{gina}"))
        .fetch_all(&mut conn)
        .await
        .expect("columns");
    let (mut expected, mut actual) = (expected, actual);
    expected.sort();
    actual.sort();
    assert_eq!(actual, expected);
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
            let body = json!({"userID": tenant, "schema": fixture("blog.v1")});
            std::thread::spawn(move || request(&addr, "POST", "/schema/generate", Some(ADMIN), Some(&body.to_string())))
        })
        .collect();
    for handle in handles {
        let response = handle.join().expect("thread");
        assert_eq!(response.status, 200, "{}", response.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_come_as_source_and_as_installable_packages() {
    schemaforge_testkit::node::require_toolchain();
    let users = Users::new();
    let hana = users.id("Hana");
    let db = TestDatabase::create("service_clients").await;
    let service = Service::start(&db.url, &scratch_dir("service-clients"));
    assert_eq!(service.generate(&hana, &fixture("blog.v2"), json!({})).status, 200);

    let types = service.call("GET", &format!("/client/latest/typescript?userID={hana}"), Some(ADMIN), None);
    assert_eq!(types.status, 200, "{}", types.body);
    assert!(types.body.contains("export interface User {"), "{}", types.body);
    assert_eq!(types.header("x-schemaforge-version"), Some("1.0.0"));
    let drizzle = service.call("GET", &format!("/client/1.0.0/drizzle?userID={hana}"), Some(ADMIN), None);
    assert!(drizzle.body.contains(&format!("pgSchema(\"tenant_{hana}\")")), "{}", drizzle.body);
    let unknown = service.call("GET", &format!("/client/latest/cobol?userID={hana}"), Some(ADMIN), None);
    assert_eq!((unknown.status, unknown.json()["error"]["code"].clone()), (404, json!("not-found")));

    // Every language as a package, installed with npm into a project next to
    // the oracle's node_modules (for drizzle-orm, zod and tsc), and used.
    let project = schemaforge_testkit::node::oracle_dir().join(format!(".package-{}", std::process::id()));
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
    // The drizzle client names its exports after the tenant's schema (`usersInTenant…`).
    let export = drizzle
        .body
        .lines()
        .filter_map(|l| l.strip_prefix("export const ")?.split_once(" = "))
        .find_map(|(name, rest)| rest.contains(".table(\"users\"").then_some(name))
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
    history_rollback_drift(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn history_rollback_and_drift_with_artifacts_in_s3() {
    history_rollback_drift(Backend::S3).await;
}

async fn history_rollback_drift(backend: Backend) {
    let users = Users::new();
    let ivy = users.id("ivy");
    let db = TestDatabase::create("service_history").await;
    let store = Store::new(backend, "service-history");
    let service = store.start(&db.url);
    for (version, options) in [("v1", json!({})), ("v2", json!({})), ("v3", json!({"allowHazards": ["all"]}))] {
        let response = service.generate(&ivy, &fixture(&format!("blog.{version}")), options);
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
    let namespace = format!("tenant_{ivy}");
    let mut conn = db.connect().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE \"{namespace}\".users ADD COLUMN hack text")))
        .execute(&mut conn)
        .await
        .expect("drift");
    let drift = service.call("GET", &format!("/drift?userID={ivy}"), Some(ADMIN), None).json();
    assert_eq!(drift["drift"], true, "{drift}");
    assert!(drift["changes"].as_array().is_some_and(|c| c.iter().any(|c| c.as_str().is_some_and(|c| c.contains("hack")))), "{drift}");
    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE \"{namespace}\".users DROP COLUMN hack")))
        .execute(&mut conn)
        .await
        .expect("undrift");

    let rollback = |allow: Value| {
        service.call("POST", "/rollback", Some(ADMIN), Some(&json!({"userID": ivy, "toVersion": "1.1.0", "allowHazards": allow})))
    };
    let journal = format!("drizzle/{ivy}/migrations/meta/_journal.json");
    let journal_before = store.read(&journal).expect("journal");
    let refused = rollback(json!([]));
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(tables_of(&db, &namespace).await, ["articles", "comments", "users"].map(String::from));
    assert_eq!(store.read(&journal), Some(journal_before.clone()), "a refused rollback changed the artifacts");
    let done = rollback(json!(["all"]));
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()["rolledBack"], json!(["2.0.0"]));
    assert_eq!(tables_of(&db, &namespace).await, ["comments", "posts", "users"].map(String::from));
    assert_eq!(service.call("GET", &format!("/versions?userID={ivy}"), Some(ADMIN), None).json()["latest"], "1.1.0");
    // The artifacts follow: the folder ends at 1.1.0's migration again.
    let journal_after = store.read(&journal).expect("journal");
    assert!(journal_before.contains("0002_") && !journal_after.contains("0002_"), "{journal_after}");
    assert!(store.read(&format!("drizzle/{ivy}/schema.ts")).is_some_and(|ts| ts.contains("\"posts\"") && !ts.contains("\"articles\"")));
    let drift = service.call("GET", &format!("/drift?userID={ivy}"), Some(ADMIN), None).json();
    assert_eq!(drift["drift"], false, "{drift}");

    let again = service.generate(&ivy, &fixture("blog.v3"), json!({"allowHazards": ["all"]}));
    assert_eq!((again.status, again.json()["version"].clone()), (200, json!("2.0.0")), "{}", again.body);
    let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM \"{namespace}\".\"__drizzle_migrations\"")))
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(count, 3);
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
    let store = Store::new(Backend::S3, "service-s3");
    let users = Users::new();
    let jo = users.id("jo");
    let db = TestDatabase::create("service_s3").await;
    let service = store.start(&db.url);
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
    let db = TestDatabase::create("service_openapi").await;
    let service = Service::start(&db.url, &scratch_dir("service-openapi"));
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
    let users = Users::new();
    let kim = users.id("kim");
    let db = TestDatabase::create("service_config").await;
    let dir = scratch_dir("service-config");
    let config = dir.join("schemaforge.toml");
    std::fs::write(&config, "[serve]\nbody_limit = 2048\nrequest_timeout_seconds = 30\n").expect("writable");
    let service = Service::start_with(&db.url, &dir.join("data"), &[("SCHEMAFORGE_CONFIG", config.to_string_lossy().into_owned())]);
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
    let users = Users::new();
    let lee = users.id("lee");
    let db = TestDatabase::create("service_failure").await;
    let store = Store::new(Backend::Local, "service-failure");
    let service = store.start(&db.url);
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

/// Lets go of a lock taken by `hold_tenant_lock`.
async fn release(mut conn: PgConnection, user: &str) {
    migrate::unlock(&mut conn, &History::in_schema(&format!("tenant_{user}"))).await.expect("unlocked");
    let _ = sqlx::Connection::close(conn).await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_the_requests_in_flight_then_stops() {
    let users = Users::new();
    let max = users.id("max");
    let db = TestDatabase::create("service_shutdown").await;
    let mut service = Service::start(&db.url, &scratch_dir("service-shutdown"));
    assert_eq!(service.call("GET", "/healthz", None, None).status, 200);
    // A request in flight: waiting for its tenant's lock.
    let lock = hold_tenant_lock(&db, &max).await;
    let in_flight = send(&service.addr, "POST", "/schema/generate", json!({"userID": max, "schema": fixture("seed-basic")}));
    until_waiting_for_lock(&db, &max).await;
    let pid = service.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs").success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(service.child.try_wait().expect("a status").is_none(), "the service stopped with a request in flight");
    release(lock, &max).await;
    let response = in_flight.join().expect("thread");
    assert_eq!((response.status, response.json()["version"].clone()), (200, json!("1.0.0")), "{}", response.body);
    let status = service.child.wait().expect("exits");
    assert!(status.success(), "{status}");
    assert_eq!(tables_of(&db, &format!("tenant_{max}")).await, ["users"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_waiting_for_its_lock_does_not_hold_up_another() {
    let users = Users::new();
    let (nina, omar) = (users.id("nina"), users.id("omar"));
    let db = TestDatabase::create("service_parallel").await;
    let service = Service::start(&db.url, &scratch_dir("service-parallel"));
    let lock = hold_tenant_lock(&db, &nina).await;
    let waiting = send(&service.addr, "POST", "/schema/generate", json!({"userID": nina, "schema": fixture("seed-basic")}));
    until_waiting_for_lock(&db, &nina).await;
    let other = service.generate(&omar, &fixture("blog.v1"), json!({}));
    assert_eq!((other.status, other.json()["version"].clone()), (200, json!("1.0.0")), "{}", other.body);
    assert!(!waiting.is_finished(), "nina's request went on while its lock was held");
    assert_eq!(lock_waiters(&db, &nina).await, 1, "nina's request should still wait");
    release(lock, &nina).await;
    let response = waiting.join().expect("thread");
    assert_eq!((response.status, response.json()["version"].clone()), (200, json!("1.0.0")), "{}", response.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_returns_the_plan_and_changes_nothing() {
    let users = Users::new();
    let rae = users.id("rae");
    let db = TestDatabase::create("service_dry_run").await;
    let store = Store::new(Backend::Local, "service-dry-run");
    let service = store.start(&db.url);
    let namespace = format!("tenant_{rae}");
    let state = |files: BTreeMap<String, String>| -> BTreeMap<String, String> {
        files.into_iter().filter(|(path, _)| !path.contains("/logs/")).collect()
    };
    let history = || service.call("GET", &format!("/migrations?userID={rae}"), Some(ADMIN), None).json()["migrations"].clone();
    let latest = || service.call("GET", &format!("/versions?userID={rae}"), Some(ADMIN), None).json()["latest"].clone();

    let dry = service.generate(&rae, &fixture("blog.v1"), json!({"dryRun": true}));
    assert_eq!(dry.status, 200, "{}", dry.body);
    let body = dry.json();
    assert_eq!((body["dryRun"].clone(), body["changed"].clone(), body["version"].clone()), (json!(true), json!(true), json!("1.0.0")));
    let statements = body["migration"]["statements"].as_array().expect("statements");
    assert!(statements.iter().any(|s| s["sql"].as_str().is_some_and(|sql| sql.starts_with("CREATE TABLE"))), "{body}");
    assert!(tables_of(&db, &namespace).await.is_empty(), "a dry run created tables");
    assert_eq!(latest(), Value::Null, "a dry run made a version");
    assert_eq!(history(), json!([]), "a dry run left a migration");
    assert!(state(store.files(&format!("drizzle/{rae}/"))).is_empty(), "a dry run wrote artifacts");
    let log = store.read(&format!("drizzle/{rae}/logs/generation.log")).expect("the request is logged");
    assert!(log.contains("\"result\":\"dry-run\""), "{log}");

    // Over an existing version: the plan from it, and still nothing changes.
    assert_eq!(service.generate(&rae, &fixture("blog.v1"), json!({})).status, 200);
    let (tables, artifacts, migrations) = (tables_of(&db, &namespace).await, state(store.files(&format!("drizzle/{rae}/"))), history());
    let dry = service.generate(&rae, &fixture("blog.v2"), json!({"dryRun": true}));
    assert_eq!(dry.status, 200, "{}", dry.body);
    let body = dry.json();
    assert_eq!((body["version"].clone(), body["previousVersion"].clone()), (json!("1.1.0"), json!("1.0.0")));
    let sql: Vec<&str> = body["migration"]["statements"].as_array().expect("statements").iter().filter_map(|s| s["sql"].as_str()).collect();
    assert!(sql.iter().any(|s| s.contains("RENAME COLUMN \"name\" TO \"display_name\"")), "{sql:?}");
    assert_eq!(tables_of(&db, &namespace).await, tables);
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
    let users = Users::new();
    let (sam, tia) = (users.id("sam"), users.id("tia"));
    let db = TestDatabase::create("service_metrics").await;
    let service = Service::start(&db.url, &scratch_dir("service-metrics"));
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
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_is_a_json_503_while_the_database_cannot_be_reached() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let service = Service::start(&format!("postgres://postgres@127.0.0.1:{port}/postgres"), &scratch_dir("service-unready"));
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
    use std::os::unix::fs::OpenOptionsExt;
    const O_NONBLOCK: i32 = 0o4000;

    let users = Users::new();
    let (pat, quinn) = (users.id("pat"), users.id("quinn"));
    let db = TestDatabase::create("service_timeout").await;
    let dir = scratch_dir("service-timeout");
    let config = dir.join("schemaforge.toml");
    std::fs::write(&config, "[serve]\nrequest_timeout_seconds = 1\n").expect("writable");
    let data = dir.join("data");
    let service = Service::start_with(&db.url, &data, &[("SCHEMAFORGE_CONFIG", config.to_string_lossy().into_owned())]);

    // Before the commit: another replica holds the tenant's lock for longer than the timeout.
    let lock = hold_tenant_lock(&db, &pat).await;
    let started = Instant::now();
    let response = service.generate(&pat, &fixture("seed-basic"), json!({}));
    assert_eq!((response.status, response.json()["error"]["code"].clone()), (408, json!("timeout")), "{}", response.body);
    assert!(response.json()["error"]["message"].as_str().is_some_and(|m| m.contains("nothing was changed")), "{}", response.body);
    assert!(started.elapsed() < Duration::from_secs(10), "answered after {:?}", started.elapsed());
    // Its session was ended, not left waiting to migrate after the answer.
    let waited = Instant::now();
    while lock_waiters(&db, &pat).await > 0 {
        assert!(waited.elapsed() < Duration::from_secs(5), "the timed-out request still waits for the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    release(lock, &pat).await;
    assert!(tables_of(&db, &format!("tenant_{pat}")).await.is_empty());
    assert_eq!(service.call("GET", &format!("/versions?userID={pat}"), Some(ADMIN), None).json()["latest"], Value::Null);
    let retry = service.generate(&pat, &fixture("seed-basic"), json!({}));
    assert_eq!((retry.status, retry.json()["version"].clone()), (200, json!("1.0.0")), "{}", retry.body);

    // A read that takes too long (its table is locked by a long migration) is a JSON 408 too.
    let mut blocker = db.connect().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("BEGIN; LOCK TABLE \"tenant_{pat}\".\"__schemaforge_versions\" IN ACCESS EXCLUSIVE MODE")))
        .execute(&mut blocker)
        .await
        .expect("locked");
    let read = service.call("GET", &format!("/versions?userID={pat}"), Some(ADMIN), None);
    assert_eq!((read.status, read.json()["error"]["code"].clone()), (408, json!("timeout")), "{}", read.body);
    sqlx::raw_sql("ROLLBACK").execute(&mut blocker).await.expect("unlocked");

    // After the commit: quinn's journal is a FIFO nobody writes, so writing
    // the artifacts stalls after the version is committed. The answer waits
    // for them, past the timeout, and is the new version.
    let meta = data.join(format!("drizzle/{quinn}/migrations/meta"));
    std::fs::create_dir_all(&meta).expect("creatable");
    let fifo = meta.join("_journal.json");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs").success());
    let in_flight = send(&service.addr, "POST", "/schema/generate", json!({"userID": quinn, "schema": fixture("seed-basic")}));
    let committed = Instant::now();
    let mut conn = db.connect().await;
    loop {
        let versions: Result<i64, _> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM \"tenant_{quinn}\".\"__schemaforge_versions\"")))
                .fetch_one(&mut conn)
                .await;
        if versions.is_ok_and(|n| n == 1) {
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
    for route in [r#"route="/schema/generate",method="POST",status="408"} 1"#, r#"route="/versions",method="GET",status="408"} 1"#] {
        assert!(metrics.contains(&format!("schemaforge_http_requests_total{{{route}")), "{route} in {metrics}");
    }
}
