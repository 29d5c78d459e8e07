//! Fixture in, snapshot out: `schemaforge generate` on every example, with the
//! migration SQL, `schema.ts`, snapshot and journal pinned by insta.

mod common;

use common::{generate, text};
use schemaforge_testkit::{scratch_dir, stem, supported_examples};

#[test]
fn generate_every_example() {
    for definition in supported_examples() {
        let name = stem(&definition);
        let out = scratch_dir(&format!("gen-{name}"));
        generate(&definition, &out);
        let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap_or_else(|e| panic!("{name}: {p}: {e}"));
        insta::assert_snapshot!(format!("{name}.sql"), read("0000_init.sql"));
        insta::assert_snapshot!(format!("{name}.schema.ts"), read("schema.ts"));
        insta::assert_snapshot!(format!("{name}.snapshot.json"), read("meta/0000_snapshot.json"));
        insta::assert_snapshot!(format!("{name}.journal.json"), read("meta/_journal.json"));
        for file in ["meta/_journal.json", "meta/0000_snapshot.json"] {
            assert!(!read(file).ends_with('\n'), "{name}: {file} ends with a newline; drizzle-kit writes none");
        }
        // The SQL file ends with a newline only when its last statement is a
        // CREATE TABLE (drizzle-kit's `);\n`), and never with a breakpoint.
        let sql = read("0000_init.sql");
        let last = sql.rsplit("--> statement-breakpoint").next().unwrap_or_default().trim_start();
        assert_eq!(sql.ends_with('\n'), last.starts_with("CREATE TABLE"), "{name}: trailing newline");
        assert!(!sql.trim_end().ends_with("--> statement-breakpoint"), "{name}: trailing breakpoint");
    }
}

#[test]
fn generation_is_deterministic() {
    for definition in supported_examples() {
        let (a, b) = (scratch_dir("det-a"), scratch_dir("det-b"));
        generate(&definition, &a);
        generate(&definition, &b);
        for file in ["0000_init.sql", "schema.ts", "meta/_journal.json", "meta/0000_snapshot.json"] {
            assert_eq!(
                std::fs::read(a.join(file)).expect("first run"),
                std::fs::read(b.join(file)).expect("second run"),
                "{}: {file} differs between two runs",
                definition.display()
            );
        }
    }
}

#[test]
fn validate_every_example() {
    for definition in supported_examples() {
        let output = common::schemaforge(&["validate", &definition.to_string_lossy()]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        insta::assert_snapshot!(
            format!("{}.validate", stem(&definition)),
            text(&output.stdout).replace(&definition.to_string_lossy().to_string(), "<file>")
        );
    }
}
