//! A generated definition of many tables of every form, for tests of the
//! large outputs (the snapshot, `schema.ts`), which are written in halves.

use schemaforge_model::Dialect;
use serde_json::{Value, json};

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

/// A definition of `tables` tables of every column, index and constraint
/// form the snapshot and `schema.ts` record, each referring to the table
/// `i / 2`, for `dialect`: large outputs are written in halves on two
/// threads, and tests pin them byte for byte on it.
pub fn wide_definition(tables: usize, dialect: Dialect) -> Value {
    let tables: Vec<Value> = (0..tables).map(|i| table(i, dialect)).collect();
    let mut definition = json!({ "tables": tables });
    if dialect == Dialect::Postgresql {
        definition["enums"] = json!([{"name": "status", "values": ["draft", "live", "gone"]}]);
        definition["roles"] = json!([{"name": "app", "existing": false}]);
    }
    definition
}
