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
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A table of every form, referring to the table `i / 2` (itself for the first).
fn table(i: usize, dialect: Dialect) -> Value {
    let postgres = dialect == Dialect::Postgresql;
    let mut columns = vec![
        json!({"name": "id", "type": if postgres { "bigint" } else { "integer" }, "primaryKey": true,
               "identity": if postgres { json!("byDefault") } else { Value::Null }}),
        json!({"name": "label", "type": "varchar", "length": 80 + i % 7, "notNull": true, "unique": true}),
        json!({"name": "parent_id", "type": if postgres { "bigint" } else { "integer" }, "references": {"table": format!("t{}", i / 2), "column": "id", "onDelete": "cascade"}}),
        json!({"name": "status", "type": if postgres { "enum" } else { "text" }, "enum": if postgres { json!("status") } else { Value::Null },
               "default": "draft", "notNull": true}),
        json!({"name": "price", "type": "numeric", "precision": if postgres { json!(12) } else { Value::Null },
               "scale": if postgres { json!(2) } else { Value::Null }, "default": 0}),
        json!({"name": "ratio", "type": "real", "default": 1.5}),
        json!({"name": "flag", "type": "boolean", "default": i.is_multiple_of(2)}),
        json!({"name": "note", "type": "text", "default": "it's \"quoted\"\n\ttabbed \u{1} é ✓", "comment": "odd text"}),
        json!({"name": "created_at", "type": "timestamp", "withTimezone": true, "default": "CURRENT_TIMESTAMP", "notNull": true}),
        json!({"name": "doubled", "type": "integer", "generated": {"sql": "length(label) * 2"}}),
    ];
    if postgres {
        columns.push(json!({"name": "tags", "type": "text", "array": true, "default": {"sql": "'{}'::text[]"}}));
        columns.push(json!({"name": "doc", "type": "jsonb", "default": {"a": [1, 2, {"b": null}], "c": "d"}}));
        columns.push(json!({"name": "uid", "type": "uuid", "default": {"sql": "gen_random_uuid()"}}));
    }
    for column in &mut columns {
        if let Value::Object(map) = column {
            map.retain(|_, v| !v.is_null());
        }
    }
    let mut table = json!({
        "name": format!("t{i}"),
        "columns": columns,
        "uniques": [{"columns": ["parent_id", "label"], "name": format!("t{i}_pair_unique")}],
        "indexes": [
            {"columns": ["parent_id"]},
            {"name": format!("t{i}_lower_label"), "columns": [{"expression": "lower(label)"}, {"column": "price", "order": "desc"}], "where": "price > 0"},
        ],
        "checks": [{"name": format!("t{i}_price_check"), "expression": format!("price >= {i}")}],
    });
    if postgres && i.is_multiple_of(3) {
        table["rls"] = json!(true);
        table["policies"] = json!([{"name": "owner", "for": "select", "to": ["app"], "using": "parent_id IS NOT NULL"}]);
    }
    table
}

fn schema(tables: usize, dialect: Dialect) -> schemaforge_model::Schema {
    let tables: Vec<Value> = (0..tables).map(|i| table(i, dialect)).collect();
    let mut definition = json!({ "tables": tables });
    if dialect == Dialect::Postgresql {
        definition["enums"] = json!([{"name": "status", "values": ["draft", "live", "gone"]}]);
        definition["roles"] = json!([{"name": "app", "existing": false}]);
    }
    schemaforge_spec::validate_value_for(&definition, Some(dialect)).unwrap_or_else(|d| panic!("{d:?}"))
}

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_text_is_pinned_byte_for_byte() {
    let mut report = String::new();
    let prev_ids = ["00000000-0000-0000-0000-000000000000", "5c0e6d0a-8b1e-4a43-9d5a-0f1e2d3c4b5a"];
    for dialect in [Dialect::Postgresql, Dialect::Sqlite] {
        for tables in [1, 3, 64, 200] {
            let schema = schema(tables, dialect);
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
