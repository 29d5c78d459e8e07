//! `schemaforge push` and `plan --db` against the real server: the hazard
//! gate holds back what was not allowed, measures the facts first, refuses
//! what cannot succeed, and leaves the database untouched when it refuses.

mod common;

use std::path::{Path, PathBuf};

use common::{schemaforge, text};
use schemaforge_testkit::postgres::TestDatabase;
use schemaforge_testkit::{catalog, repo_root, scratch_dir};
use sqlx::Executor;

/// blog.v1 with `edit` applied to its JSON, written to a scratch file.
fn variant(label: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("fixtures/examples/blog.v1.json")).expect("v1")).expect("json");
    edit(&mut value);
    let path = scratch_dir(label).join("definition.json");
    std::fs::write(&path, value.to_string()).expect("writable");
    path
}

fn users_columns(value: &mut serde_json::Value) -> &mut Vec<serde_json::Value> {
    value["tables"]
        .as_array_mut()
        .and_then(|t| t.iter_mut().find(|t| t["name"] == "users"))
        .and_then(|t| t["columns"].as_array_mut())
        .expect("users columns")
}

fn push(db: &TestDatabase, definition: &Path, extra: &[&str]) -> std::process::Output {
    let definition = definition.to_string_lossy();
    let mut args = vec!["push", "--db", &db.url, "--schema", &definition];
    args.extend_from_slice(extra);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_schemaforge"));
    // Never a prompt in tests: stdin is not a terminal, and CI is set.
    command.args(&args).env("CI", "1").stdin(std::process::Stdio::null());
    command.output().expect("runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_destructive_push_without_allowance_changes_nothing_and_reports_the_rows_at_stake() {
    let db = TestDatabase::create("push_destructive").await;
    let v1 = repo_root().join("fixtures/examples/blog.v1.json");
    let output = push(&db, &v1, &[]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    let mut conn = db.connect().await;
    conn.execute("INSERT INTO users (email, name) VALUES ('a@x.io', 'Ann'), ('b@x.io', 'Bob'), ('c@x.io', NULL)").await.expect("rows");
    let before = catalog::snapshot(&mut conn).await;

    let without_name = variant("push-drop-name", |v| users_columns(v).retain(|c| c["name"] != "name"));
    let output = push(&db, &without_name, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("deletes-data") && stdout.contains("column users.name has 2 non-null values"), "{stdout}");
    assert!(text(&output.stderr).contains("hazards not allowed: deletes-data"), "{}", text(&output.stderr));
    assert_eq!(catalog::snapshot(&mut conn).await, before, "a refused push changed the database");

    let output = push(&db, &without_name, &["--allow-hazard", "deletes-data,access-exclusive-lock"]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    let columns: i64 =
        sqlx::query_scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'")
            .fetch_one(&mut conn)
            .await
            .expect("count");
    assert_eq!(columns, 0);
    // Pushed again, nothing is left to do.
    let output = push(&db, &without_name, &[]);
    assert!(output.status.success() && text(&output.stdout).contains("No changes"), "{}", text(&output.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_that_cannot_succeed_is_refused_even_when_allowed() {
    let db = TestDatabase::create("push_blocked").await;
    let v1 = repo_root().join("fixtures/examples/blog.v1.json");
    assert!(push(&db, &v1, &[]).status.success());
    let mut conn = db.connect().await;
    conn.execute("INSERT INTO users (email, name) VALUES ('a@x.io', NULL), ('b@x.io', NULL)").await.expect("rows");
    let before = catalog::snapshot(&mut conn).await;
    let name_required = variant("push-not-null", |v| {
        for column in users_columns(v).iter_mut().filter(|c| c["name"] == "name") {
            column["notNull"] = serde_json::Value::Bool(true);
        }
    });

    let plan = schemaforge(&["plan", "--db", &db.url, "--schema", &name_required.to_string_lossy(), "--format", "json"]);
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    let value: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("json");
    let facts: Vec<&serde_json::Value> =
        value["statements"].as_array().expect("statements").iter().flat_map(|s| s["facts"].as_array().into_iter().flatten()).collect();
    assert!(facts.iter().any(|f| f["blocks"] == true && f["message"].as_str().is_some_and(|m| m.contains("2 NULLs"))), "{value}");

    let output = push(&db, &name_required, &["--allow-hazard", "all"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("cannot succeed on the data as it is"), "{}", text(&output.stderr));
    assert_eq!(catalog::snapshot(&mut conn).await, before);
}

/// A small schema whose rows stand in the way of most changes (see `seed_facts`).
fn facts_base() -> serde_json::Value {
    serde_json::json!({
        "enums": [{ "name": "mood", "values": ["happy", "sad", "meh"] }],
        "tables": [
            { "name": "users", "columns": [
                { "name": "id", "type": "integer", "primaryKey": true },
                { "name": "name", "type": "text" },
                { "name": "age", "type": "integer" },
                { "name": "mood", "type": "enum", "enum": "mood" }
            ]},
            { "name": "posts", "columns": [
                { "name": "id", "type": "integer", "primaryKey": true },
                { "name": "author_id", "type": "integer" }
            ]},
            { "name": "tags", "columns": [{ "name": "label", "type": "text" }] }
        ]
    })
}

fn table_mut<'a>(value: &'a mut serde_json::Value, name: &str) -> &'a mut serde_json::Value {
    value["tables"].as_array_mut().and_then(|t| t.iter_mut().find(|t| t["name"] == name)).expect("table")
}

fn column_mut<'a>(value: &'a mut serde_json::Value, table: &str, column: &str) -> &'a mut serde_json::Value {
    table_mut(value, table)["columns"].as_array_mut().and_then(|c| c.iter_mut().find(|c| c["name"] == column)).expect("column")
}

fn written(label: &str, value: &serde_json::Value) -> PathBuf {
    let path = scratch_dir(label).join("definition.json");
    std::fs::write(&path, value.to_string()).expect("writable");
    path
}

/// The facts base pushed and filled: two users named Ann, two negative ages,
/// one name over five characters, two `meh` moods, two posts whose author
/// does not exist, and a tag that appears twice.
async fn seed_facts(label: &str) -> (TestDatabase, sqlx::PgConnection) {
    let db = TestDatabase::create(label).await;
    let output = push(&db, &written(&format!("{label}-base"), &facts_base()), &[]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    let mut conn = db.connect().await;
    conn.execute(
        "INSERT INTO users VALUES (1, 'Ann', 30, 'happy'), (2, 'Ann', -1, 'sad'), (3, 'Bob', -5, 'meh'), (4, 'Bartholomew', 40, 'meh'), (5, NULL, NULL, NULL);
         INSERT INTO posts VALUES (1, 1), (2, 2), (3, 99), (4, 98), (5, NULL);
         INSERT INTO tags VALUES ('x'), ('x'), ('y')",
    )
    .await
    .expect("rows");
    (db, conn)
}

/// The plan `plan --db` prints for `value` against `db`.
fn plan_text(db: &TestDatabase, label: &str, value: &serde_json::Value) -> String {
    let definition = written(label, value);
    let output = schemaforge(&["plan", "--db", &db.url, "--schema", &definition.to_string_lossy()]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    text(&output.stdout)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fact_behind_a_hazard_is_measured_and_printed_before_anything_runs() {
    let (db, mut conn) = seed_facts("push_facts").await;
    let before = catalog::snapshot(&mut conn).await;
    type Edit = fn(&mut serde_json::Value);
    // (label, edit, the fact line `plan --db` prints, whether it makes the plan impossible)
    let cases: [(&str, Edit, &str, bool); 10] = [
        ("drop-table", |v| v["tables"].as_array_mut().expect("tables").retain(|t| t["name"] != "posts"), "= table posts has 5 rows", false),
        (
            "unique",
            |v| column_mut(v, "users", "name")["unique"] = true.into(),
            "x 1 values of users (name) appear more than once: unique users_name_unique cannot be built",
            true,
        ),
        (
            "unique-index",
            |v| table_mut(v, "users")["indexes"] = serde_json::json!([{ "name": "users_name_idx", "columns": ["name"], "unique": true }]),
            "x 1 values of users (name) appear more than once: unique index users_name_idx cannot be built",
            true,
        ),
        (
            "primary-key",
            |v| column_mut(v, "tags", "label")["primaryKey"] = true.into(),
            "x 1 values of tags (label) appear more than once: primary key tags_pkey cannot be built",
            true,
        ),
        (
            "check",
            |v| table_mut(v, "users")["checks"] = serde_json::json!([{ "name": "users_age_positive", "expression": "age >= 0" }]),
            "x 2 rows of users violate check users_age_positive",
            true,
        ),
        (
            "foreign-key",
            |v| column_mut(v, "posts", "author_id")["references"] = serde_json::json!({ "table": "users", "column": "id" }),
            "x 2 rows of posts reference rows that do not exist: posts_author_id_users_id_fk cannot be validated",
            true,
        ),
        (
            "too-long",
            |v| {
                let name = column_mut(v, "users", "name");
                name["type"] = "varchar".into();
                name["length"] = 5.into();
            },
            "x 1 values of users.name are longer than 5 characters: the conversion cannot succeed",
            true,
        ),
        (
            "enum-value-removed",
            |v| v["enums"][0]["values"] = serde_json::json!(["happy", "sad"]),
            "x 2 rows of users.mood hold 'meh', which the enum loses: the conversion cannot succeed",
            true,
        ),
        (
            // The check speaks of the column by its new name; the rows still have the old one.
            "rename-and-check",
            |v| {
                let age = column_mut(v, "users", "age");
                age["name"] = "years".into();
                age["renamedFrom"] = "age".into();
                table_mut(v, "users")["checks"] = serde_json::json!([{ "name": "users_years_positive", "expression": "years >= 0" }]);
            },
            "x 2 rows of users violate check users_years_positive",
            true,
        ),
        (
            // Text made integer: the check cannot be evaluated on the text the rows hold
            // yet. Not knowing is said, not hidden.
            "unmeasurable",
            |v| {
                column_mut(v, "tags", "label")["type"] = "integer".into();
                table_mut(v, "tags")["checks"] = serde_json::json!([{ "name": "tags_label_positive", "expression": "label > 0" }]);
            },
            "= could not measure the rows of tags that violate check tags_label_positive: operator does not exist: text > integer",
            false,
        ),
    ];
    // Each case only reads the database (or is refused), so they run side by side.
    let check = |(label, edit, fact, blocks): (&str, Edit, &str, bool)| -> Option<String> {
        let mut value = facts_base();
        edit(&mut value);
        let plan = plan_text(&db, &format!("push-facts-{label}"), &value);
        if !plan.lines().any(|l| l.trim() == fact) {
            return Some(format!("{label}: expected the line `{fact}` in\n{plan}"));
        }
        // What cannot succeed is refused whatever is allowed, before anything runs.
        if blocks {
            let output = push(&db, &written(&format!("push-facts-{label}-push"), &value), &["--allow-hazard", "all"]);
            let stderr = text(&output.stderr);
            if output.status.code() != Some(1) || !stderr.contains("cannot succeed on the data as it is") || !stderr.contains(&fact[2..]) {
                return Some(format!("{label}: push was not refused for `{fact}`:\n{}{stderr}", text(&output.stdout)));
            }
        }
        None
    };
    let failures: Vec<String> = std::thread::scope(|scope| {
        let running: Vec<_> = cases.into_iter().map(|case| scope.spawn(move || check(case))).collect();
        running.into_iter().filter_map(|r| r.join().unwrap_or_else(|_| Some("a case panicked".into()))).collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(catalog::snapshot(&mut conn).await, before, "a refused or planned change touched the database");
}

/// `push` run in a pseudo-terminal (util-linux's `script`), so it may prompt:
/// `answer` is typed at the terminal, `shell_tail` is appended to the command
/// line (a redirection), and `CI` is set only when asked. stdout and stderr
/// both arrive on the terminal, so they come back as one text.
fn push_at_terminal(db: &TestDatabase, definition: &Path, answer: &str, shell_tail: &str, ci: bool) -> (Option<i32>, String) {
    use std::io::Write;
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let command = format!(
        "{} push --db {} --schema {}{shell_tail}",
        quote(env!("CARGO_BIN_EXE_schemaforge")),
        quote(&db.url),
        quote(&definition.to_string_lossy())
    );
    let mut script = std::process::Command::new("script");
    script.args(["-qec", &command, "/dev/null"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    if ci {
        script.env("CI", "1");
    } else {
        script.env_remove("CI");
    }
    let mut child = script.spawn().expect("util-linux `script` runs (the prompt tests need a pseudo-terminal; it is in Debian's bsdutils)");
    child.stdin.take().expect("stdin").write_all(answer.as_bytes()).expect("typed");
    let output = child.wait_with_output().expect("runs");
    (output.status.code(), text(&output.stdout))
}

#[tokio::test(flavor = "multi_thread")]
async fn at_a_terminal_the_gate_asks_showing_the_statements_and_hazards_and_only_yes_applies() {
    let db = TestDatabase::create("push_prompt").await;
    assert!(push(&db, &repo_root().join("fixtures/examples/blog.v1.json"), &[]).status.success());
    let mut conn = db.connect().await;
    conn.execute("INSERT INTO users (email, name) VALUES ('a@x.io', 'Ann'), ('b@x.io', 'Bob')").await.expect("rows");
    let before = catalog::snapshot(&mut conn).await;
    let without_name = variant("push-prompt", |v| users_columns(v).retain(|c| c["name"] != "name"));
    const PROMPT: &str = "The plan carries hazards not allowed by --allow-hazard (deletes-data, access-exclusive-lock). Apply it? [y/N]";

    // "no": asked after the plan, statements, hazards and facts; nothing applied.
    let (code, output) = push_at_terminal(&db, &without_name, "no\n", "", false);
    assert_eq!(code, Some(1), "{output}");
    let asked = output.find(PROMPT).unwrap_or_else(|| panic!("no prompt:\n{output}"));
    for shown in [
        "ALTER TABLE \"users\" DROP COLUMN \"name\";",
        "! deletes-data: deletes every value of column users.name",
        "= column users.name has 2 non-null values",
    ] {
        assert!(output.find(shown).is_some_and(|at| at < asked), "`{shown}` is not shown before the prompt:\n{output}");
    }
    assert!(output.contains("not confirmed; nothing was applied"), "{output}");
    assert_eq!(catalog::snapshot(&mut conn).await, before, "a push answered 'no' changed the database");

    // A terminal, but CI is set: never a prompt.
    let (code, output) = push_at_terminal(&db, &without_name, "yes\n", "", true);
    assert_eq!(code, Some(1), "{output}");
    assert!(!output.contains("Apply it?") && output.contains("hazards not allowed: deletes-data"), "{output}");
    // Output at a terminal, but stdin is not one: never a prompt either.
    let (code, output) = push_at_terminal(&db, &without_name, "yes\n", " < /dev/null", false);
    assert_eq!(code, Some(1), "{output}");
    assert!(!output.contains("Apply it?") && output.contains("hazards not allowed: deletes-data"), "{output}");
    assert_eq!(catalog::snapshot(&mut conn).await, before, "a push without a prompt changed the database");

    // "yes": applied.
    let (code, output) = push_at_terminal(&db, &without_name, "yes\n", "", false);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains(PROMPT) && output.contains("Applied"), "{output}");
    let columns: i64 =
        sqlx::query_scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'")
            .fetch_one(&mut conn)
            .await
            .expect("count");
    assert_eq!(columns, 0, "a push answered 'yes' did not apply");
}
