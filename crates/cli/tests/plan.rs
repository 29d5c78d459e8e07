//! `schemaforge diff`, `diff --down` and `plan` (human and JSON) on a real
//! from/to pair, the blog example v2 → v3 (a table rename, dropped columns,
//! a backfilled NOT NULL): every statement of the plan is printed, in order,
//! with its hazards; the inverse marks what it cannot restore. The outputs are
//! pinned by insta snapshots, and asserted against the plan computed in process.

mod common;

use common::{schemaforge, text};
use schemaforge_testkit::{repo_root, scratch_dir};

fn blog(version: &str) -> String {
    repo_root().join(format!("fixtures/examples/blog.{version}.json")).to_string_lossy().into_owned()
}

fn run(args: &[&str]) -> String {
    let output = schemaforge(args);
    assert_eq!(output.status.code(), Some(0), "schemaforge {args:?}:\n{}{}", text(&output.stdout), text(&output.stderr));
    text(&output.stdout)
}

/// The plan the CLI should print, made in process.
fn expected(down: bool) -> schemaforge_plan::Plan {
    let (from, to) = (common::load(blog("v2").as_ref()), common::load(blog("v3").as_ref()));
    if down { schemaforge_plan::plan_down(&from, &to) } else { schemaforge_plan::plan(&from, &to) }.expect("plans")
}

#[test]
fn diff_prints_every_up_statement_in_order() {
    let script = run(&["diff", &blog("v2"), &blog("v3")]);
    let plan = expected(false);
    let statements: String = plan.statements.iter().map(|s| format!("{};\n", s.sql)).collect();
    assert_eq!(script, statements);
    // The rename keeps the table's rows: no drop and re-create of posts.
    assert!(script.contains("ALTER TABLE \"posts\" RENAME TO \"articles\";\n"), "{script}");
    assert!(!script.contains("DROP TABLE"), "{script}");
    let drop = script.find("ALTER TABLE \"users\" DROP COLUMN \"bio\";").expect("bio is dropped");
    let backfill = script.find("UPDATE \"users\" SET \"display_name\" = 'anonymous' WHERE \"display_name\" IS NULL;").expect("backfill");
    let not_null = script.find("ALTER TABLE \"users\" ALTER COLUMN \"display_name\" SET NOT NULL;").expect("NOT NULL");
    assert!(drop < backfill && backfill < not_null, "{script}");
    assert!(!script.contains("-- irreversible"), "the up script marks nothing irreversible:\n{script}");
    insta::assert_snapshot!("blog-v2-v3.up.sql", script);
}

#[test]
fn diff_down_prints_the_inverse_with_irreversible_markers() {
    let script = run(&["diff", &blog("v2"), &blog("v3"), "--down"]);
    let plan = expected(true);
    assert_eq!(script, plan.file_statements().iter().map(|s| format!("{};\n", s.sql)).collect::<String>());
    assert!(script.starts_with("ALTER TABLE \"articles\" RENAME TO \"posts\";\n"), "{script}");
    // Each re-created column comes right after the comment saying its values are gone.
    for (table, column, ty) in [("users", "bio", "text"), ("comments", "author_id", "integer")] {
        let marker = format!(
            "-- irreversible: re-creates column {table}.{column} empty: the up migration deleted its values\nALTER TABLE \"{table}\" ADD COLUMN \"{column}\" {ty};\n"
        );
        assert!(script.contains(&marker), "no irreversible marker for {table}.{column}:\n{script}");
    }
    assert_eq!(script.matches("-- irreversible:").count(), 2, "{script}");
    insta::assert_snapshot!("blog-v2-v3.down.sql", script);
}

#[test]
fn plan_for_people_numbers_statements_and_lists_their_hazards() {
    let (from, to) = (blog("v2"), blog("v3"));
    let report = run(&["plan", "--from", &from, "--to", &to]);
    let plan = expected(false);
    // The statement, then one line per hazard, indented under it.
    let drop = plan.statements.iter().position(|s| s.sql == "ALTER TABLE \"users\" DROP COLUMN \"bio\"").expect("bio is dropped") + 1;
    let block = format!(
        "{drop:>4}. ALTER TABLE \"users\" DROP COLUMN \"bio\";\n      ! deletes-data: deletes every value of column users.bio\n      ! access-exclusive-lock: locks users against reads and writes while the column is dropped\n"
    );
    assert!(report.contains(&block), "{report}");
    assert!(report.contains("      ! updates-rows: sets every NULL in users.display_name to the new default\n"), "{report}");
    for (i, statement) in plan.statements.iter().enumerate() {
        let first_line = statement.sql.lines().next().unwrap_or_default();
        assert!(report.contains(&format!("{:>4}. {first_line}", i + 1)), "statement {} missing:\n{report}", i + 1);
        for finding in &statement.hazards {
            assert!(report.contains(&format!("      ! {}: {}\n", finding.hazard, finding.message)), "{report}");
        }
    }
    let codes: Vec<&str> = plan.hazards().iter().map(|h| h.code()).collect();
    let summary = format!("\n{} statements, {} changes; hazards: {}\n", plan.statements.len(), plan.changes.len(), codes.join(", "));
    assert!(report.ends_with(&summary), "{report}");
    assert!(codes.contains(&"deletes-data") && codes.contains(&"updates-rows"), "{codes:?}");
    insta::assert_snapshot!("blog-v2-v3.plan.txt", report.replace(&from, "blog.v2.json").replace(&to, "blog.v3.json"));
}

#[test]
fn plan_for_programs_is_the_documented_json() {
    let report = run(&["plan", "--from", &blog("v2"), "--to", &blog("v3"), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&report).expect("JSON on stdout");
    let plan = expected(false);
    let statements = json["statements"].as_array().expect("statements");
    assert_eq!(statements.len(), plan.statements.len());
    for (printed, planned) in statements.iter().zip(&plan.statements) {
        assert_eq!(printed["sql"], planned.sql.as_str());
        // Facts are measured only against a database (`plan --db`).
        assert_eq!(printed["facts"], serde_json::json!([]), "{printed}");
        let hazards = printed["hazards"].as_array().expect("hazards");
        assert_eq!(hazards.len(), planned.hazards.len(), "{printed}");
        for (h, finding) in hazards.iter().zip(&planned.hazards) {
            assert_eq!(h["code"], finding.hazard.code());
            assert_eq!(h["message"], finding.message.as_str());
        }
    }
    let summary = &json["summary"];
    assert_eq!(summary["statements"], plan.statements.len());
    // One line per change, as `generate` lists them ("drop column users.bio").
    assert_eq!(summary["changes"], serde_json::json!(plan.changes));
    assert!(plan.changes.iter().any(|c| c == "rename table posts to articles"), "{:?}", plan.changes);
    assert_eq!(summary["transactional"], true);
    let codes: Vec<&str> = plan.hazards().iter().map(|h| h.code()).collect();
    assert_eq!(summary["hazards"], serde_json::json!(codes));
    insta::assert_json_snapshot!("blog-v2-v3.plan.json", json);
}

#[test]
fn a_lossy_conversion_is_deletes_data_up_and_irreversible_down() {
    let dir = scratch_dir("cli-lossy");
    let definition = |scale: u32| {
        format!(
            r#"{{"tables": [{{"name": "prices", "columns": [{{"name": "id", "type": "integer", "primaryKey": true}}, {{"name": "amount", "type": "numeric", "precision": 10, "scale": {scale}}}]}}]}}"#
        )
    };
    let (from, to) = (dir.join("from.json"), dir.join("to.json"));
    std::fs::write(&from, definition(4)).expect("writable");
    std::fs::write(&to, definition(2)).expect("writable");
    let (from, to) = (from.to_string_lossy().into_owned(), to.to_string_lossy().into_owned());
    let report = run(&["plan", "--from", &from, "--to", &to]);
    assert!(report.contains("      ! deletes-data: rounds every value of prices.amount to 2 decimal places\n"), "{report}");
    assert_eq!(
        run(&["diff", &from, &to, "--down"]),
        "-- irreversible: converts prices.amount back, but not its values: the up migration rounds every value to 2 decimal places\n\
         ALTER TABLE \"prices\" ALTER COLUMN \"amount\" SET DATA TYPE numeric(10, 4) USING \"amount\"::numeric(10, 4);\n"
    );
}

#[test]
fn diff_and_plan_refuse_invalid_or_missing_definitions() {
    let dir = scratch_dir("cli-diff-invalid");
    let invalid = dir.join("invalid.json");
    std::fs::write(&invalid, r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "varchr"}]}]}"#).expect("writable");
    let invalid = invalid.to_string_lossy().into_owned();
    let output = schemaforge(&["diff", &blog("v2"), &invalid]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty() && text(&output.stderr).contains("unknown-type"), "{}", text(&output.stderr));
    let output = schemaforge(&["plan", "--from", &invalid, "--to", &blog("v3"), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let missing = dir.join("missing.json").to_string_lossy().into_owned();
    let output = schemaforge(&["diff", &missing, &blog("v3")]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
}
