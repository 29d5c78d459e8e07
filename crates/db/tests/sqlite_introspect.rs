//! SQLite introspection against real database files: every SQLite fixture,
//! built from its initial migration, reads back as its definition (no change
//! either way), survives `pull` (written as a definition and parsed again),
//! and rebuilds a database that reads back the same; a database we did not
//! create reads sensibly, with notes for what the model cannot hold.

use std::path::{Path, PathBuf};

use schemaforge_db::Introspected;
use schemaforge_db::sqlite::{connect, introspect};
use schemaforge_model::{Dialect, ReferentialAction, ScalarType, Schema};
use sqlx::{Executor, SqliteConnection};

fn fixtures() -> Vec<(String, Schema)> {
    let dir = schemaforge_testkit::repo_root().join("fixtures/sqlite");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("fixture");
            let schema = schemaforge_spec::parse_definition(&text).unwrap_or_else(|d| panic!("{}: {d:#?}", path.display()));
            assert_eq!(schema.dialect, Dialect::Sqlite, "{} must say `\"dialect\": \"sqlite\"`", path.display());
            (schemaforge_testkit::stem(&path), schema)
        })
        .collect()
}

async fn open(path: &Path) -> SqliteConnection {
    connect(&format!("sqlite://{}", path.display())).await.unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
}

/// A fresh database file holding `schema`, built by its initial migration as `migrate` would run it.
async fn build(path: &Path, schema: &Schema) -> Result<SqliteConnection, String> {
    let mut conn = open(path).await;
    let plan = schemaforge_plan::plan(&Schema::empty(Dialect::Sqlite), schema).map_err(|e| e.to_string())?;
    for statement in &plan.statements {
        conn.execute(sqlx::AssertSqlSafe(statement.sql.clone())).await.map_err(|e| format!("{}\n{e}", statement.sql))?;
    }
    Ok(conn)
}

async fn read_back(conn: &mut SqliteConnection, label: &str) -> Result<Introspected, String> {
    introspect(conn).await.map_err(|e| format!("{label}: {e}"))
}

fn no_change(label: &str, a: &Schema, b: &Schema) -> Result<(), String> {
    for (from, to, direction) in [(a, b, "forward"), (b, a, "backward")] {
        let steps = schemaforge_diff::diff(from, to);
        if !steps.is_empty() {
            return Err(format!("{label}: {direction} diff is not empty: {steps:#?}"));
        }
    }
    Ok(())
}

async fn check_fixture(dir: &Path, label: &str, schema: &Schema) -> Result<(), String> {
    let mut conn = build(&dir.join(format!("{label}.db")), schema).await.map_err(|e| format!("{label}: {e}"))?;
    let read = read_back(&mut conn, label).await?;
    if !read.notes.is_empty() {
        return Err(format!("{label}: a database we built needs no notes: {:#?}", read.notes));
    }

    // The database and the definition it was built from show no change.
    no_change(&format!("{label} (database vs definition)"), &read.schema, schema)?;

    // Written as a definition (`pull`) and parsed again, it is the same schema.
    let text = schemaforge_spec::emit::to_json(&read.schema);
    let pulled =
        schemaforge_spec::parse_definition(&text).map_err(|d| format!("{label}: the pulled definition is invalid: {d:#?}\n{text}"))?;
    no_change(&format!("{label} (pulled vs database)"), &pulled, &read.schema)?;
    no_change(&format!("{label} (pulled vs definition)"), &pulled, schema)?;

    // What was read builds a database that reads back the same.
    let mut rebuilt = build(&dir.join(format!("{label}-rebuilt.db")), &read.schema).await.map_err(|e| format!("{label} (rebuilt): {e}"))?;
    let reread = read_back(&mut rebuilt, label).await?;
    if reread.schema != read.schema {
        return Err(format!("{label}: the rebuilt database reads back differently:\n{:#?}\nvs\n{:#?}", reread.schema, read.schema));
    }
    Ok(())
}

#[tokio::test]
async fn every_sqlite_fixture_reads_back_faithfully() {
    let dir = schemaforge_testkit::scratch_dir("sqlite-introspect");
    let mut failures = Vec::new();
    for (label, schema) in fixtures() {
        if let Err(problem) = check_fixture(&dir, &label, &schema).await {
            failures.push(problem);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// DDL written by hand, the way other tools and people write it.
const FOREIGN_DDL: &str = r#"
CREATE TABLE Authors (
    id INTEGER PRIMARY KEY,
    handle VARCHAR(20) NOT NULL UNIQUE COLLATE NOCASE,
    score DOUBLE DEFAULT 0.5,
    shares INT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'banned')),
    joined TEXT DEFAULT CURRENT_TIMESTAMP,
    misc,
    CHECK (score >= 0)
);
CREATE TABLE books (
    isbn TEXT PRIMARY KEY,
    author_id INTEGER REFERENCES authors ON DELETE CASCADE,
    title TEXT NOT NULL,
    pages INTEGER CONSTRAINT pages_positive CHECK (pages > 0),
    title_lower TEXT GENERATED ALWAYS AS (lower(title)) VIRTUAL,
    UNIQUE (author_id, title)
) WITHOUT ROWID;
CREATE TABLE tags (name TEXT PRIMARY KEY, book TEXT REFERENCES books (isbn));
CREATE INDEX books_title ON books (title COLLATE NOCASE);
CREATE VIEW prolific AS SELECT author_id FROM books GROUP BY author_id HAVING count(*) > 10;
CREATE TRIGGER books_touch AFTER UPDATE ON books BEGIN SELECT 1; END;
CREATE TABLE __new_books (isbn TEXT);
CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, created_at NUMERIC);
CREATE VIRTUAL TABLE book_search USING fts5(title);
"#;

#[tokio::test]
async fn a_foreign_database_reads_sensibly() {
    let dir = schemaforge_testkit::scratch_dir("sqlite-introspect-foreign");
    let mut conn = open(&dir.join("foreign.db")).await;
    for statement in schemaforge_fragment::split_script(Dialect::Sqlite, FOREIGN_DDL).expect("the DDL splits") {
        conn.execute(sqlx::AssertSqlSafe(statement.clone())).await.unwrap_or_else(|e| panic!("{statement}\n{e}"));
    }
    let read = introspect(&mut conn).await.expect("introspect");
    let names: Vec<&str> = read.schema.tables.iter().map(|t| t.name.name.as_str()).collect();
    assert_eq!(names, ["Authors", "books", "tags"], "bookkeeping, leftovers and virtual tables are not the user's");
    let [authors, books, _] = read.schema.tables.as_slice() else { unreachable!() };

    let column = |table: &schemaforge_model::Table, name: &str| table.column(name).cloned().unwrap_or_else(|| panic!("no column {name}"));
    assert_eq!(column(authors, "id").ty.scalar, ScalarType::Integer, "no AUTOINCREMENT: a plain integer key");
    assert!(column(authors, "id").not_null);
    assert_eq!(column(authors, "handle").ty.scalar, ScalarType::Custom { sql: "VARCHAR(20)".into() });
    assert_eq!(column(authors, "score").ty.scalar, ScalarType::Custom { sql: "DOUBLE".into() });
    assert_eq!(column(authors, "misc").ty.scalar, ScalarType::Bytea);
    assert_eq!(
        column(authors, "status").ty.scalar,
        ScalarType::Enum(schemaforge_model::QualifiedName::unqualified("status")),
        "an inline label check on a text column is an enum"
    );
    assert_eq!(
        authors.uniques.iter().map(|u| (u.name.as_str(), u.columns.clone())).collect::<Vec<_>>(),
        [("Authors_handle_unique", vec!["handle".to_string()])]
    );
    let check_names: Vec<&str> = authors.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(check_names, ["Authors_status_check", "Authors_check"]);

    assert_eq!(books.primary_key.as_ref().map(|pk| pk.columns.clone()), Some(vec!["isbn".to_string()]));
    let fk = &books.foreign_keys[0];
    assert_eq!(fk.referenced_table.name, "Authors", "the referenced table by its own spelling");
    assert_eq!(fk.referenced_columns, ["id"], "no columns named: the referenced primary key");
    assert_eq!(fk.on_delete, ReferentialAction::Cascade);
    assert_eq!(books.uniques[0].columns, ["author_id", "title"]);
    assert_eq!(books.uniques[0].name, "books_author_id_title_unique");
    assert_eq!(books.checks.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["pages_positive"]);
    assert!(column(books, "title_lower").generated.is_some());
    assert_eq!(books.indexes.len(), 1);

    let notes = read.notes.join("\n");
    for expected in [
        "view `prolific`",
        "trigger `books_touch`",
        "`__new_books`",
        "virtual table `book_search`",
        "`books` is WITHOUT ROWID",
        "`books.title_lower` is a virtual generated column",
        "`Authors.misc` has no declared type",
        "column `handle` has COLLATE NOCASE",
        "unnamed check is read as `Authors_check`",
        "`tags.name` is in the primary key without NOT NULL",
    ] {
        assert!(notes.contains(expected), "no note about {expected}:\n{notes}");
    }
    assert!(!notes.contains("__drizzle_migrations") && !notes.contains("book_search_"), "{notes}");

    // What was read is a valid definition that plans no change against the database.
    let text = schemaforge_spec::emit::to_json(&read.schema);
    let pulled = schemaforge_spec::parse_definition(&text).unwrap_or_else(|d| panic!("the pulled definition is invalid: {d:#?}\n{text}"));
    no_change("foreign (pulled vs database)", &pulled, &read.schema).unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn an_empty_database_reads_empty_even_under_a_migration_lock() {
    let dir = schemaforge_testkit::scratch_dir("sqlite-introspect-empty");
    let mut conn = open(&dir.join("empty.db")).await;
    let read = introspect(&mut conn).await.expect("introspect");
    assert_eq!(read.schema, Schema::empty(Dialect::Sqlite));
    assert!(read.notes.is_empty(), "{:?}", read.notes);

    // `migrate` holds `BEGIN IMMEDIATE` while it plans: reading nests inside it.
    conn.execute("BEGIN IMMEDIATE").await.expect("lock");
    conn.execute("CREATE TABLE t (id integer PRIMARY KEY AUTOINCREMENT NOT NULL)").await.expect("create");
    let read = introspect(&mut conn).await.expect("introspect inside a transaction");
    assert_eq!(read.schema.tables.len(), 1);
    assert_eq!(read.schema.tables[0].columns[0].ty.scalar, ScalarType::Serial);
    conn.execute("COMMIT").await.expect("the transaction is still the caller's to commit");
}

/// A database migrated step by step reads back as each step's definition:
/// introspection follows what `ALTER TABLE` and table rebuilds leave in
/// SQLite's schema text (renamed tables, appended columns).
#[tokio::test]
async fn a_migrated_database_reads_back_as_each_version() {
    let dir = schemaforge_testkit::scratch_dir("sqlite-introspect-chain");
    let versions: Vec<(String, Schema)> = fixtures().into_iter().filter(|(label, _)| label.starts_with("blog.")).collect();
    assert_eq!(versions.len(), 3, "blog.v1 to blog.v3");
    let mut conn = open(&dir.join("blog.db")).await;
    let mut previous = Schema::empty(Dialect::Sqlite);
    let mut failures = Vec::new();
    for (label, schema) in &versions {
        let plan = schemaforge_plan::plan(&previous, schema).unwrap_or_else(|e| panic!("{label}: {e}"));
        // As a migrator runs it: PRAGMA foreign_keys only acts outside a transaction, so no transaction here.
        for statement in &plan.statements {
            conn.execute(sqlx::AssertSqlSafe(statement.sql.clone())).await.unwrap_or_else(|e| panic!("{label}: {}\n{e}", statement.sql));
        }
        let read = introspect(&mut conn).await.unwrap_or_else(|e| panic!("{label}: {e}"));
        if !read.notes.is_empty() {
            failures.push(format!("{label}: {:?}", read.notes));
        }
        if let Err(problem) = no_change(&format!("{label} (migrated database vs definition)"), &read.schema, schema) {
            failures.push(problem);
        }
        previous = schema.clone();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
