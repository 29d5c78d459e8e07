//! The SQLite snapshot (drizzle-kit snapshot version 6).
//!
//! What drizzle-kit's SQLite serializer derives from a sqlite-core
//! `schema.ts`: every unique is a unique index (`uniqueConstraints` stays
//! empty), primary keys of one column mark the column, expression elements of
//! indexes are listed under `internal.indexes`, and foreign keys carry the
//! names `schema.ts` gives them although SQLite stores none.

use serde_json::{Map, Value, json};

use schemaforge_model::sqlite::{SqliteType, autoincrement};
use schemaforge_model::{ForeignKey, Index, IndexKey, Schema, SortOrder, Table, names};

use super::postgres::unique_is_column_style;
use super::{Parts, by_export};
use crate::defaults::drizzle_default;
use crate::names::DrizzleNames;

/// The SQLite snapshot of `schema`: its `version` and `dialect` come before its `id`.
pub(super) fn parts(schema: &Schema, names: &DrizzleNames) -> Parts {
    let tables = by_export(schema.tables.iter().map(|t| (names.table(&t.name).export.as_str(), t)));
    let mut internal = Map::new();
    let mut tables_json = Map::new();
    for table in tables {
        tables_json.insert(table.name.name.clone(), self::table(table, &mut internal));
    }
    let mut body = Map::new();
    body.insert("tables".into(), Value::Object(tables_json));
    body.insert("views".into(), json!({}));
    body.insert("enums".into(), json!({}));
    body.insert("_meta".into(), json!({"schemas": {}, "tables": {}, "columns": {}}));
    body.insert("internal".into(), json!({ "indexes": internal }));
    Parts { head: &[("version", "6"), ("dialect", "sqlite")], body }
}

/// The text of an index element as drizzle's sqlite-core holds it: a column
/// name, or SQL (an expression, or a column in descending order).
pub fn index_element(key: &IndexKey, order: SortOrder) -> (String, bool) {
    match (key, order) {
        (IndexKey::Column(c), SortOrder::Asc) => (c.clone(), false),
        (IndexKey::Column(c), SortOrder::Desc) => (format!("\"{}\" DESC", c.replace('"', "\"\"")), true),
        (IndexKey::Expression(x), SortOrder::Asc) => (x.clone(), true),
        (IndexKey::Expression(x), SortOrder::Desc) => (format!("{x} DESC"), true),
    }
}

/// Whether a foreign key is written as `.references()` on its column.
pub fn foreign_key_is_column_style(table: &Table, fk: &ForeignKey) -> bool {
    fk.columns.len() == 1 && fk.name == names::foreign_key(&table.name.name, &fk.columns, &fk.referenced_table.name, &fk.referenced_columns)
}

fn table(table: &Table, internal: &mut Map<String, Value>) -> Value {
    let single_key = table.primary_key.as_ref().filter(|pk| pk.columns.len() == 1).map(|pk| pk.columns[0].as_str());
    let mut columns = Map::new();
    for column in &table.columns {
        let mut c = Map::new();
        c.insert("name".into(), json!(column.name));
        c.insert("type".into(), json!(SqliteType::of(&column.ty).map(|t| t.to_string()).unwrap_or_default()));
        c.insert("primaryKey".into(), json!(single_key == Some(column.name.as_str())));
        c.insert("notNull".into(), json!(column.not_null));
        c.insert("autoincrement".into(), json!(autoincrement(table, column)));
        if let Some(generated) = &column.generated {
            c.insert("generated".into(), json!({"as": format!("({})", generated.sql), "type": "stored"}));
        }
        if let Some(default) = drizzle_default(schemaforge_model::Dialect::Sqlite, column) {
            c.insert("default".into(), default.snapshot_value());
        }
        columns.insert(column.name.clone(), Value::Object(c));
    }

    let mut indexes = Map::new();
    let column_uniques =
        table.columns.iter().filter_map(|c| table.uniques.iter().find(|u| unique_is_column_style(table, u) && u.columns[0] == c.name));
    for unique in column_uniques.chain(table.uniques.iter().filter(|u| !unique_is_column_style(table, u))) {
        indexes.insert(unique.name.clone(), json!({"name": unique.name, "columns": unique.columns, "isUnique": true}));
    }
    for index in &table.indexes {
        indexes.insert(index.name.clone(), self::index(index, internal));
    }

    let mut foreign_keys = Map::new();
    let column_style = table
        .columns
        .iter()
        .filter_map(|c| table.foreign_keys.iter().find(|fk| foreign_key_is_column_style(table, fk) && fk.columns[0] == c.name));
    for fk in column_style.chain(table.foreign_keys.iter().filter(|fk| !foreign_key_is_column_style(table, fk))) {
        foreign_keys.insert(
            fk.name.clone(),
            json!({
                "name": fk.name,
                "tableFrom": table.name.name,
                "tableTo": fk.referenced_table.name,
                "columnsFrom": fk.columns,
                "columnsTo": fk.referenced_columns,
                "onDelete": fk.on_delete.as_sql(),
                "onUpdate": fk.on_update.as_sql(),
            }),
        );
    }

    let mut primary_keys = Map::new();
    if let Some(pk) = table.primary_key.as_ref().filter(|pk| pk.columns.len() > 1) {
        primary_keys.insert(pk.name.clone(), json!({"columns": pk.columns, "name": pk.name}));
    }
    let mut checks = Map::new();
    for check in &table.checks {
        checks.insert(check.name.clone(), json!({"name": check.name, "value": check.expression}));
    }
    json!({
        "name": table.name.name,
        "columns": columns,
        "indexes": indexes,
        "foreignKeys": foreign_keys,
        "compositePrimaryKeys": primary_keys,
        "uniqueConstraints": {},
        "checkConstraints": checks,
    })
}

fn index(index: &Index, internal: &mut Map<String, Value>) -> Value {
    let mut expressions = Map::new();
    let columns: Vec<String> = index
        .elements
        .iter()
        .map(|e| {
            let (text, expression) = index_element(&e.key, e.order);
            if expression {
                expressions.insert(text.clone(), json!({"isExpression": true}));
            }
            text
        })
        .collect();
    if !expressions.is_empty() {
        internal.insert(index.name.clone(), json!({ "columns": expressions }));
    }
    let mut m = Map::new();
    m.insert("name".into(), json!(index.name));
    m.insert("columns".into(), json!(columns));
    m.insert("isUnique".into(), json!(index.unique));
    if let Some(predicate) = &index.predicate {
        m.insert("where".into(), json!(predicate));
    }
    Value::Object(m)
}
