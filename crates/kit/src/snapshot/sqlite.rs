//! The SQLite snapshot (drizzle-kit snapshot version 6).
//!
//! What drizzle-kit's SQLite serializer derives from a sqlite-core
//! `schema.ts`: every unique is a unique index (`uniqueConstraints` stays
//! empty), primary keys of one column mark the column, expression elements of
//! indexes are listed under `internal.indexes`, and foreign keys carry the
//! names `schema.ts` gives them although SQLite stores none.

use schemaforge_model::sqlite::{SqliteType, autoincrement};
use schemaforge_model::{ForeignKey, Index, IndexKey, Schema, SortOrder, Table, names};

use super::postgres::unique_is_column_style;
use super::text::JsonText;
use super::{Body, by_export, check_constraints, default_field, foreign_key, generated_field};
use crate::names::DrizzleNames;

/// The SQLite snapshot of `schema`: its `version` and `dialect` come before its `id`.
pub(super) fn body(schema: &Schema, names: &DrizzleNames) -> Body {
    let tables = by_export(schema.tables.iter().map(|t| (names.table(&t.name).export.as_str(), t)));
    // `internal.indexes`: each index with expression elements, in table order.
    let mut internal: Vec<(&str, Vec<String>)> = Vec::new();
    let mut w = JsonText::at_depth(0);
    w.begin_object();
    w.key("tables");
    w.begin_object();
    for table in tables {
        w.key(&table.name.name);
        self::table(&mut w, table, &mut internal);
    }
    w.end_object();
    w.empty_object_field("views");
    w.empty_object_field("enums");
    w.key("_meta");
    w.begin_object();
    w.empty_object_field("schemas");
    w.empty_object_field("tables");
    w.empty_object_field("columns");
    w.end_object();
    w.key("internal");
    w.begin_object();
    w.key("indexes");
    w.begin_object();
    for (index, expressions) in internal {
        w.key(index);
        w.begin_object();
        w.key("columns");
        w.begin_object();
        for expression in expressions {
            w.key(&expression);
            w.begin_object();
            w.bool_field("isExpression", true);
            w.end_object();
        }
        w.end_object();
        w.end_object();
    }
    w.end_object();
    w.end_object();
    w.end_object();
    Body { head: &[("version", "6"), ("dialect", "sqlite")], text: w.finish() }
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

fn table<'a>(w: &mut JsonText, table: &'a Table, internal: &mut Vec<(&'a str, Vec<String>)>) {
    let single_key = table.primary_key.as_ref().filter(|pk| pk.columns.len() == 1).map(|pk| pk.columns[0].as_str());
    w.begin_object();
    w.str_field("name", &table.name.name);
    w.key("columns");
    w.begin_object();
    for column in &table.columns {
        w.key(&column.name);
        w.begin_object();
        w.str_field("name", &column.name);
        w.str_field("type", &SqliteType::of(&column.ty).map(|t| t.to_string()).unwrap_or_default());
        w.bool_field("primaryKey", single_key == Some(column.name.as_str()));
        w.bool_field("notNull", column.not_null);
        w.bool_field("autoincrement", autoincrement(table, column));
        if let Some(generated) = &column.generated {
            generated_field(w, &format!("({})", generated.sql));
        }
        default_field(w, schemaforge_model::Dialect::Sqlite, column);
        w.end_object();
    }
    w.end_object();

    w.key("indexes");
    w.begin_object();
    let column_uniques =
        table.columns.iter().filter_map(|c| table.uniques.iter().find(|u| unique_is_column_style(table, u) && u.columns[0] == c.name));
    for unique in column_uniques.chain(table.uniques.iter().filter(|u| !unique_is_column_style(table, u))) {
        w.key(&unique.name);
        w.begin_object();
        w.str_field("name", &unique.name);
        w.strings_field("columns", &unique.columns);
        w.bool_field("isUnique", true);
        w.end_object();
    }
    for index in &table.indexes {
        w.key(&index.name);
        self::index(w, index, internal);
    }
    w.end_object();

    w.key("foreignKeys");
    w.begin_object();
    let column_style = table
        .columns
        .iter()
        .filter_map(|c| table.foreign_keys.iter().find(|fk| foreign_key_is_column_style(table, fk) && fk.columns[0] == c.name));
    for fk in column_style.chain(table.foreign_keys.iter().filter(|fk| !foreign_key_is_column_style(table, fk))) {
        foreign_key(w, table, fk);
    }
    w.end_object();

    w.key("compositePrimaryKeys");
    w.begin_object();
    if let Some(pk) = table.primary_key.as_ref().filter(|pk| pk.columns.len() > 1) {
        w.key(&pk.name);
        w.begin_object();
        w.strings_field("columns", &pk.columns);
        w.str_field("name", &pk.name);
        w.end_object();
    }
    w.end_object();
    w.empty_object_field("uniqueConstraints");
    check_constraints(w, table);
    w.end_object();
}

fn index<'a>(w: &mut JsonText, index: &'a Index, internal: &mut Vec<(&'a str, Vec<String>)>) {
    let mut expressions: Vec<String> = Vec::new();
    let columns: Vec<String> = index
        .elements
        .iter()
        .map(|e| {
            let (text, expression) = index_element(&e.key, e.order);
            // An element listed twice is one key of drizzle-kit's map.
            if expression && !expressions.contains(&text) {
                expressions.push(text.clone());
            }
            text
        })
        .collect();
    if !expressions.is_empty() {
        internal.push((&index.name, expressions));
    }
    w.begin_object();
    w.str_field("name", &index.name);
    w.strings_field("columns", &columns);
    w.bool_field("isUnique", index.unique);
    if let Some(predicate) = &index.predicate {
        w.str_field("where", predicate);
    }
    w.end_object();
}
