//! The CLI's contract: exit codes, output formats, and nothing written on error.

mod common;

use common::{schemaforge, text};
use schemaforge_testkit::{repo_root, scratch_dir};

fn write(dir: &std::path::Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("writable");
    path.to_string_lossy().into_owned()
}

const INVALID: &str = r#"{
  "tables": [
    {
      "name": "users",
      "columns": [
        { "name": "id", "type": "serial", "primaryKey": true },
        { "name": "email", "type": "varchr", "nullable": true }
      ]
    }
  ]
}"#;

#[test]
fn validate_reports_every_error_for_people() {
    let dir = scratch_dir("cli-human");
    let file = write(&dir, "schema.json", INVALID);
    let output = schemaforge(&["validate", &file]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(text(&output.stderr).replace(&file, "schema.json"));
}

#[test]
fn validate_reports_every_error_for_programs() {
    let dir = scratch_dir("cli-json");
    let file = write(&dir, "schema.json", INVALID);
    let output = schemaforge(&["validate", &file, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    insta::assert_json_snapshot!(report);
}

#[test]
fn validate_accepts_the_seed_example() {
    let seed = repo_root().join("fixtures/examples/seed-basic.json");
    let output = schemaforge(&["validate", &seed.to_string_lossy(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), "{\n  \"errors\": []\n}");
}

#[test]
fn invalid_json_names_line_and_column() {
    let dir = scratch_dir("cli-badjson");
    let file = write(&dir, "schema.json", "{\n  \"tables\": [\n    { \"name\": \"t\" \"columns\": [] }\n  ]\n}");
    let output = schemaforge(&["validate", &file]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains(&format!("{file}:3:19")), "{}", text(&output.stderr));
}

#[test]
fn generate_writes_nothing_for_an_invalid_definition() {
    let dir = scratch_dir("cli-gen-invalid");
    let file = write(&dir, "schema.json", INVALID);
    let out = dir.join("drizzle");
    let output = schemaforge(&["generate", "--schema", &file, "--out", &out.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!out.exists(), "generate created {} for an invalid definition", out.display());
}

#[test]
fn generate_of_an_empty_definition_into_a_new_folder_writes_nothing() {
    // A first migration's up plan is built beside its other files: an empty
    // definition must still end in "no changes" with nothing written.
    let dir = scratch_dir("cli-gen-empty");
    let file = write(&dir, "schema.json", r#"{"tables": []}"#);
    let out = dir.join("drizzle");
    let output = schemaforge(&["generate", "--schema", &file, "--out", &out.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("No schema changes"), "{}", text(&output.stdout));
    assert!(!out.exists(), "generate created {} for an empty definition", out.display());
}

#[test]
fn generate_on_a_reformatted_but_unchanged_definition_writes_nothing() {
    // Only a byte-identical definition plans before building anything else;
    // a reformatted one is built in full, then found to change nothing.
    let dir = scratch_dir("cli-gen-reformatted");
    let seed = repo_root().join("fixtures/examples/seed-basic.json");
    let out = dir.join("drizzle");
    common::generate(&seed, &out);
    let journal = std::fs::read(out.join("meta/_journal.json")).expect("first run wrote");
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&seed).expect("readable")).expect("JSON");
    let compact = write(&dir, "compact.json", &serde_json::to_string(&value).expect("serializes"));
    let output = schemaforge(&["generate", "--schema", &compact, "--out", &out.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("No schema changes"), "{}", text(&output.stdout));
    assert_eq!(std::fs::read(out.join("meta/_journal.json")).expect("still there"), journal);
    let written: Vec<_> = std::fs::read_dir(&out).expect("the folder").map(|e| e.expect("an entry").file_name()).collect();
    assert!(!written.iter().any(|name| name.to_string_lossy().starts_with("0001")), "{written:?}");
}

#[test]
fn generate_on_an_unchanged_definition_writes_nothing() {
    let dir = scratch_dir("cli-gen-twice");
    let seed = repo_root().join("fixtures/examples/seed-basic.json");
    let out = dir.join("drizzle");
    common::generate(&seed, &out);
    let journal = std::fs::read(out.join("meta/_journal.json")).expect("first run wrote");
    let output = schemaforge(&["generate", "--schema", &seed.to_string_lossy(), "--out", &out.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("No schema changes"), "{}", text(&output.stdout));
    assert_eq!(std::fs::read(out.join("meta/_journal.json")).expect("still there"), journal);
}

#[test]
fn generate_refuses_a_folder_it_did_not_write() {
    let dir = scratch_dir("cli-gen-foreign");
    let seed = repo_root().join("fixtures/examples/seed-basic.json");
    let out = dir.join("drizzle");
    common::generate(&seed, &out);
    std::fs::remove_dir_all(out.join("definitions")).expect("removable");
    let v1 = repo_root().join("fixtures/examples/blog.v1.json");
    let output = schemaforge(&["generate", "--schema", &v1.to_string_lossy(), "--out", &out.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("was not generated by schemaforge"), "{}", text(&output.stderr));
    assert!(!out.join("0001_add_posts_and_more.sql").exists());
}

#[test]
fn generate_rejects_unsafe_migration_names() {
    let dir = scratch_dir("cli-gen-name");
    let seed = repo_root().join("fixtures/examples/seed-basic.json");
    let out = dir.join("drizzle");
    let output = schemaforge(&["generate", "--schema", &seed.to_string_lossy(), "--out", &out.to_string_lossy(), "--name", "../evil"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn schema_json_is_the_format_schema() {
    let output = schemaforge(&["schema-json"]);
    assert!(output.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(schema["title"], "schemaforge definition (v1)");
    assert!(schema["$defs"]["ColumnDef"]["properties"]["references"].is_object());
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn explain_lists_and_explains_codes() {
    let output = schemaforge(&["explain", "unknown-type"]);
    assert!(output.status.success());
    assert!(text(&output.stdout).starts_with("unknown-type: "));
    let output = schemaforge(&["explain", "unknown-typ"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("did you mean `unknown-type`?"));
}

#[test]
fn the_published_json_schema_is_current() {
    let output = schemaforge(&["schema-json"]);
    let published = std::fs::read_to_string(repo_root().join("schema/definition-v1.json")).expect("schema/definition-v1.json");
    assert_eq!(
        text(&output.stdout),
        published,
        "schema/definition-v1.json is stale: run `cargo run -p schemaforge -- schema-json > schema/definition-v1.json`"
    );
}

#[test]
fn generate_refuses_two_outputs_at_one_path() {
    let dir = scratch_dir("cli-gen-clash");
    let seed = repo_root().join("fixtures/examples/seed-basic.json");
    let out = dir.join("drizzle");
    let ts = out.join("0000_init.sql");
    let output =
        schemaforge(&["generate", "--schema", &seed.to_string_lossy(), "--out", &out.to_string_lossy(), "--ts", &ts.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("two outputs"), "{}", text(&output.stderr));
    assert!(!out.exists());
}
