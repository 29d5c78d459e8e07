//! The snapshot text written by `next_snapshot` (hashed and printed side by
//! side, large table lists built in halves) is byte for byte the pretty-printed
//! `snapshot` value, on both dialects, small and large.

use schemaforge_kit::DrizzleNames;
use schemaforge_kit::snapshot::{snapshot, snapshot_text, to_json_text};
use schemaforge_model::Dialect;
use serde_json::json;

fn schema(tables: usize, dialect: Dialect) -> schemaforge_model::Schema {
    let tables: Vec<_> = (0..tables)
        .map(|i| {
            json!({
                "name": format!("t{i}"),
                "columns": [
                    {"name": "id", "type": "integer", "primaryKey": true},
                    {"name": "label", "type": "text", "notNull": true, "unique": true},
                    {"name": "parent_id", "type": "integer", "references": {"table": format!("t{}", i / 2), "column": "id"}}
                ],
                "indexes": [{"columns": ["parent_id"]}]
            })
        })
        .collect();
    schemaforge_spec::validate_value_for(&json!({ "tables": tables }), Some(dialect)).expect("valid")
}

#[test]
fn the_text_is_the_pretty_printed_snapshot() {
    for dialect in [Dialect::Postgresql, Dialect::Sqlite] {
        for tables in [1, 3, 64, 200] {
            let schema = schema(tables, dialect);
            let names = DrizzleNames::assign(&schema);
            for prev_id in ["00000000-0000-0000-0000-000000000000", "5c0e6d0a-8b1e-4a43-9d5a-0f1e2d3c4b5a"] {
                assert_eq!(
                    snapshot_text(&schema, &names, prev_id),
                    to_json_text(&snapshot(&schema, &names, prev_id)),
                    "{dialect:?}, {tables} tables"
                );
            }
        }
    }
}
