//! Helpers shared by the CLI integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use schemaforge_model::Schema;

/// A fixed clock for reproducible folders (the journal's `when`).
pub const SOURCE_DATE_EPOCH: &str = "1795312834";

pub fn schemaforge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schemaforge"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .output()
        .expect("the schemaforge binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `schemaforge generate` for `definition` into `out` and asserts success.
pub fn generate(definition: &Path, out: &Path) {
    let output = schemaforge(&["generate", "--schema", &definition.to_string_lossy(), "--out", &out.to_string_lossy()]);
    assert!(output.status.success(), "generate failed for {}:\n{}{}", definition.display(), text(&output.stdout), text(&output.stderr));
}

pub fn load(definition: &Path) -> Schema {
    let text = std::fs::read_to_string(definition).expect("readable definition");
    schemaforge_spec::parse_definition(&text).unwrap_or_else(|d| panic!("{} is invalid: {d:?}", definition.display()))
}

/// The statements of a migration file, split the way drizzle-orm's migrator splits them.
pub fn split_breakpoints(sql: &str) -> Vec<String> {
    sql.split("--> statement-breakpoint").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// Writes the initial folder for `schema` (already lowered) into `out`, in process.
pub fn write_folder(schema: &Schema, out: &Path) -> Vec<PathBuf> {
    let statements = schemaforge_sql::render_create(schema).expect("renders");
    let migration = schemaforge_kit::Migration { name: "init", when_millis: 1_795_312_834_000, breakpoints: true };
    let new = schemaforge_kit::NewMigration { schema, up: &statements, down: &[], definition: "{}" };
    let files = schemaforge_kit::next_migration(None, &new, &migration).expect("a folder");
    let mut written = Vec::new();
    for file in files {
        let path = out.join(&file.path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("creatable dir");
        std::fs::write(&path, file.contents).expect("writable file");
        written.push(path);
    }
    let ts = schemaforge_codegen::drizzle::generate(schema);
    std::fs::write(out.join(&ts.path), ts.contents).expect("writable schema.ts");
    written
}
