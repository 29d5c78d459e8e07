//! A write transaction the caller holds (`WriteTransaction`, for work split
//! at its commit point, as the service does) keeps the migrator's
//! guarantees: a rebuild runs only with foreign keys off and keeps child
//! rows, dangling keys refuse the commit, a failure never overwrites a
//! success in the history, and down scripts undo migrations in one go.

use std::time::Instant;

use schemaforge_db::history::MigrateError;
use schemaforge_db::sqlite::migrate::{
    CommitError, WriteTransaction, apply_within, needs_foreign_keys_off, record_failure, roll_back_within,
};
use schemaforge_db::sqlite::{DRIZZLE_MIGRATIONS, HISTORY, connect};
use schemaforge_kit::folder::MigrationFile;
use sqlx::{Executor, SqliteConnection};

const BREAKPOINT: &str = "\n--> statement-breakpoint\n";

/// Rebuilds `parent` (adding a check), the way a SQLite migration does.
fn rebuild(idx: u32, check: &str) -> MigrationFile {
    let up = [
        "PRAGMA foreign_keys=OFF",
        &format!(
            "CREATE TABLE `__new_parent` (`id` integer PRIMARY KEY NOT NULL, `name` text NOT NULL, CONSTRAINT `named` CHECK({check}))"
        ),
        "INSERT INTO `__new_parent`(`id`, `name`) SELECT `id`, `name` FROM `parent`",
        "DROP TABLE `parent`",
        "ALTER TABLE `__new_parent` RENAME TO `parent`",
        "PRAGMA foreign_keys=ON",
    ];
    let down = [
        "PRAGMA foreign_keys=OFF",
        "CREATE TABLE `__new_parent` (`id` integer PRIMARY KEY NOT NULL, `name` text NOT NULL)",
        "INSERT INTO `__new_parent`(`id`, `name`) SELECT `id`, `name` FROM `parent`",
        "DROP TABLE `parent`",
        "ALTER TABLE `__new_parent` RENAME TO `parent`",
        "PRAGMA foreign_keys=ON",
    ];
    MigrationFile {
        idx,
        tag: format!("{idx:04}_rebuild"),
        when: 1_700_000_000_000 + u64::from(idx),
        breakpoints: true,
        sql: up.join(BREAKPOINT),
        down: Some(down.join(BREAKPOINT)),
    }
}

async fn database(label: &str) -> SqliteConnection {
    let path = schemaforge_testkit::scratch_dir(label).join("db.sqlite");
    let mut conn = connect(&format!("sqlite://{}", path.display())).await.expect("opens");
    sqlx::raw_sql(
        "CREATE TABLE parent (id integer PRIMARY KEY NOT NULL, name text NOT NULL);
         CREATE TABLE child (id integer PRIMARY KEY NOT NULL, parent_id integer NOT NULL REFERENCES parent(id) ON DELETE CASCADE);
         INSERT INTO parent VALUES (1, 'a'), (2, 'b');
         INSERT INTO child VALUES (1, 1), (2, 1), (3, 2);",
    )
    .execute(&mut conn)
    .await
    .expect("seeded");
    conn
}

async fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&mut *conn).await.expect("counted")
}

/// The migration's status in our history (none when it, or the history, is not there).
async fn status(conn: &mut SqliteConnection, tag: &str) -> Option<String> {
    if count(conn, &format!("SELECT count(*) FROM sqlite_master WHERE name = '{HISTORY}'")).await == 0 {
        return None;
    }
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT status FROM \"{HISTORY}\" WHERE name = ?")))
        .bind(tag)
        .fetch_optional(&mut *conn)
        .await
        .expect("read")
}

#[tokio::test]
async fn a_rebuild_in_a_callers_transaction_keeps_child_rows_and_both_histories() {
    let mut conn = database("sqlite-write-rebuild").await;
    let file = rebuild(0, "length(name) > 0");
    assert!(needs_foreign_keys_off(&file.statements()));

    // Begun with foreign keys on, the rebuild is refused before it runs.
    let tx = WriteTransaction::begin(&mut conn, false).await.expect("the lock");
    let refused = apply_within(&mut conn, &tx, &file, "test").await;
    assert!(matches!(refused, Err(MigrateError::ForeignKeysEnforced { .. })), "{refused:?}");
    assert!(tx.roll_back(&mut conn).await);

    let tx = WriteTransaction::begin(&mut conn, true).await.expect("the lock");
    apply_within(&mut conn, &tx, &file, "test").await.expect("applied");
    tx.commit(&mut conn).await.expect("committed");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM child").await, 3, "children of the rebuilt parent survive");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM sqlite_master WHERE sql LIKE '%named%'").await, 1);
    assert_eq!(status(&mut conn, &file.tag).await.as_deref(), Some("applied"));
    assert_eq!(count(&mut conn, &format!("SELECT count(*) FROM \"{DRIZZLE_MIGRATIONS}\"")).await, 1);
    // Enforcement is back on after the commit.
    assert_eq!(count(&mut conn, "PRAGMA foreign_keys").await, 1);

    // A failure recorded later for the applied migration does not overwrite it.
    record_failure(&mut conn, &file, "test", Instant::now(), "late").await.expect("recorded");
    assert_eq!(status(&mut conn, &file.tag).await.as_deref(), Some("applied"));

    // Undone in a transaction of the caller's, with its bookkeeping.
    let down = file.down_statements().expect("a down script");
    let tx = WriteTransaction::begin(&mut conn, needs_foreign_keys_off(&down)).await.expect("the lock");
    roll_back_within(&mut conn, &tx, &file, &down, "test").await.expect("rolled back");
    tx.commit(&mut conn).await.expect("committed");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM sqlite_master WHERE sql LIKE '%named%'").await, 0);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM child").await, 3);
    assert_eq!(status(&mut conn, &file.tag).await.as_deref(), Some("rolled back"));
    assert_eq!(count(&mut conn, &format!("SELECT count(*) FROM \"{DRIZZLE_MIGRATIONS}\"")).await, 0);
}

#[tokio::test]
async fn dangling_keys_refuse_the_commit_and_a_failure_is_recorded_apart() {
    let mut conn = database("sqlite-write-dangling").await;
    let file = MigrationFile {
        idx: 0,
        tag: "0000_orphans".into(),
        when: 1_700_000_000_000,
        breakpoints: true,
        sql: ["PRAGMA foreign_keys=OFF", "DELETE FROM parent WHERE id = 1", "PRAGMA foreign_keys=ON"].join(BREAKPOINT),
        down: None,
    };
    let started = Instant::now();
    let tx = WriteTransaction::begin(&mut conn, true).await.expect("the lock");
    apply_within(&mut conn, &tx, &file, "test").await.expect("the statements run");
    let refused = tx.commit(&mut conn).await;
    let Err(CommitError::ForeignKeys(violations)) = refused else { panic!("dangling keys committed: {refused:?}") };
    assert!(violations.contains("2 rows of child"), "{violations}");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM parent").await, 2, "nothing of it was kept");
    assert_eq!(status(&mut conn, &file.tag).await, None, "its record (and the history made for it) went with it");
    assert_eq!(count(&mut conn, "PRAGMA foreign_keys").await, 1);

    record_failure(&mut conn, &file, "test", started, &violations).await.expect("recorded");
    assert_eq!(status(&mut conn, &file.tag).await.as_deref(), Some("failed"));
    // The connection is usable and its lock free: another write goes through.
    conn.execute("INSERT INTO parent VALUES (3, 'c')").await.expect("written");
}
