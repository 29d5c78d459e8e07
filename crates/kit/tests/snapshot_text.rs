//! The snapshot text `next_snapshot` writes, pinned byte for byte: on every
//! fixture of both dialects and on generated schemas of up to 200 tables
//! that use every column, index and constraint form the snapshot records.
//! The digests were taken from the earlier writer (a `serde_json::Value`
//! pretty-printed); the readable form of the small ones is in the CLI's
//! snapshots of each example folder.

use std::fmt::Write;

use schemaforge_kit::DrizzleNames;
use schemaforge_kit::snapshot::snapshot_text;
use schemaforge_model::Dialect;
use schemaforge_testkit::wide_definition;
use sha2::{Digest, Sha256};

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_text_is_pinned_byte_for_byte() {
    let mut report = String::new();
    let prev_ids = ["00000000-0000-0000-0000-000000000000", "5c0e6d0a-8b1e-4a43-9d5a-0f1e2d3c4b5a"];
    for dialect in [Dialect::Postgresql, Dialect::Sqlite] {
        for tables in [1, 3, 64, 200] {
            let schema = schemaforge_spec::validate_value_for(&wide_definition(tables, dialect), Some(dialect)).expect("valid");
            let names = DrizzleNames::assign(&schema);
            for prev_id in prev_ids {
                let text = snapshot_text(&schema, &names, prev_id);
                writeln!(report, "{dialect:?} {tables} tables after {}: {}", &prev_id[..8], digest(&text)).unwrap();
            }
        }
    }
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    for (folder, dialect) in [("examples", Dialect::Postgresql), ("features", Dialect::Postgresql), ("sqlite", Dialect::Sqlite)] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(folder)).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let Ok(schema) = schemaforge_spec::parse_definition_for(&std::fs::read_to_string(&path).unwrap(), Some(dialect)) else {
                continue;
            };
            let names = DrizzleNames::assign(&schema);
            let text = snapshot_text(&schema, &names, prev_ids[1]);
            writeln!(report, "{folder}/{}: {}", path.file_name().unwrap().to_string_lossy(), digest(&text)).unwrap();
        }
    }
    insta::assert_snapshot!(report);
}
