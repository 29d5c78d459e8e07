//! Introspection's cost does not grow with the database: reading a thousand
//! tables takes exactly as many round trips to the server as reading ten.
//!
//! The round trips are counted on the wire, by a proxy between the client and
//! the server that reads the frontend protocol: every `Sync` (the end of an
//! extended-protocol exchange, which sqlx sends per query) and every simple
//! `Query` is one round trip. Counting at the wire catches any query, also one
//! added later without anyone thinking of this test; no timing is involved.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use schemaforge_db::postgres::{IntrospectOptions, introspect};
use schemaforge_testkit::postgres::TestDatabase;
use sqlx::{Connection, Executor, PgConnection};

/// A proxy to the server that counts the round trips clients start.
struct CountingProxy {
    port: u16,
    round_trips: Arc<AtomicUsize>,
}

impl CountingProxy {
    fn start(server: String) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let port = listener.local_addr().expect("bound").port();
        let round_trips = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&round_trips);
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let Ok(upstream) = TcpStream::connect(&server) else { continue };
                let counter = Arc::clone(&counter);
                let (Ok(mut from_server), Ok(mut to_client)) = (upstream.try_clone(), client.try_clone()) else { continue };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Both);
                });
                std::thread::spawn(move || {
                    let _ = relay_frontend(client, upstream, &counter);
                });
            }
        });
        CountingProxy { port, round_trips }
    }

    fn take(&self) -> usize {
        self.round_trips.swap(0, Ordering::SeqCst)
    }
}

/// Forwards the client's messages one by one, counting `S` (Sync) and `Q` (Query).
fn relay_frontend(mut client: TcpStream, mut server: TcpStream, round_trips: &AtomicUsize) -> std::io::Result<()> {
    // The startup message has no type byte: a length (itself included), then the body.
    let mut length = [0u8; 4];
    client.read_exact(&mut length)?;
    let mut body = vec![0u8; (u32::from_be_bytes(length) as usize).saturating_sub(4)];
    client.read_exact(&mut body)?;
    server.write_all(&length)?;
    server.write_all(&body)?;
    loop {
        let mut header = [0u8; 5];
        client.read_exact(&mut header)?;
        if matches!(header[0], b'S' | b'Q') {
            round_trips.fetch_add(1, Ordering::SeqCst);
        }
        let mut body = vec![0u8; (u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize).saturating_sub(4)];
        client.read_exact(&mut body)?;
        server.write_all(&header)?;
        server.write_all(&body)?;
    }
}

/// `url` with its host and port replaced by the proxy's, without TLS (the
/// proxy reads the protocol in clear); and the `host:port` it named.
fn through(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    let server = if host.contains(':') { host.to_string() } else { format!("{host}:5432") };
    let separator = if tail.contains('?') { '&' } else { '?' };
    (format!("{scheme}://{user}127.0.0.1:{port}{tail}{separator}sslmode=disable"), server)
}

/// `n` tables, each with what introspection reads: a serial (sequence),
/// primary key, unique, foreign key to the one before, check, index,
/// comment, row-level security and a policy; one enum they all use.
fn script(n: usize) -> String {
    let mut sql = String::from("CREATE TYPE mood AS ENUM ('happy', 'sad');\n");
    for i in 0..n {
        let reference = if i == 0 { String::new() } else { format!(" REFERENCES t{} (id)", i - 1) };
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id serial PRIMARY KEY, name text NOT NULL UNIQUE, mood mood DEFAULT 'happy', parent integer{reference}, \
             CHECK (length(name) > 0));\n\
             CREATE INDEX t{i}_parent_idx ON t{i} (parent) WHERE parent IS NOT NULL;\n\
             COMMENT ON TABLE t{i} IS 'table {i}';\n\
             ALTER TABLE t{i} ENABLE ROW LEVEL SECURITY;\n\
             CREATE POLICY t{i}_read ON t{i} FOR SELECT TO public USING (true);\n"
        ));
    }
    sql
}

/// The round trips one introspection of a database with `n` tables takes.
async fn round_trips_for(n: usize) -> usize {
    let db = TestDatabase::create(&format!("scale_{n}")).await;
    let mut conn = db.connect().await;
    conn.execute(sqlx::AssertSqlSafe(script(n))).await.expect("the tables are built");
    conn.close().await.ok();

    let (_, server) = through(&db.url, 0);
    let proxy = CountingProxy::start(server);
    let (url, _) = through(&db.url, proxy.port);
    let mut conn = PgConnection::connect(&url).await.expect("connects through the proxy");
    proxy.take();
    let read = introspect(&mut conn, &IntrospectOptions::default()).await.expect("introspects");
    let round_trips = proxy.take();
    conn.close().await.ok();

    assert_eq!(read.schema.tables.len(), n);
    let table = read.schema.tables.iter().find(|t| t.name.name == "t1").expect("t1");
    assert!(table.rls && table.policies.len() == 1 && table.checks.len() == 1 && table.indexes.len() == 1 && table.foreign_keys.len() == 1);
    round_trips
}

#[tokio::test(flavor = "multi_thread")]
async fn reading_a_thousand_tables_takes_as_many_round_trips_as_reading_ten() {
    let few = round_trips_for(10).await;
    let many = round_trips_for(1_000).await;
    assert!(few > 0, "the proxy saw no queries: it is not in the path");
    assert_eq!(many, few, "introspection makes per-table round trips: {few} for 10 tables, {many} for 1,000");
}
