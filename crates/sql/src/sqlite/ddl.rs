//! SQLite DDL for whole objects, in drizzle-kit's layout: tables with their
//! keys, foreign keys and checks inside, and indexes beside them.

use std::fmt::Write;

use schemaforge_model::sqlite::autoincrement;
use schemaforge_model::{Column, Index, IndexKey, SortOrder, Table, Unique};

use super::values::{column_type, default_sql, quote_ident};
use crate::RenderError;

/// `CREATE TABLE` under `name` (the table's own, or the one a rebuild builds
/// it under): columns, then the composite primary key, foreign keys and
/// checks. Foreign keys carry no name: SQLite keeps none.
pub(super) fn create_table(table: &Table, name: &str) -> Result<String, RenderError> {
    let mut lines = Vec::with_capacity(table.columns.len() + table.foreign_keys.len() + table.checks.len() + 1);
    for column in &table.columns {
        lines.push(format!("\t{}", column_definition(table, column)?));
    }
    if let Some(pk) = table.primary_key.as_ref().filter(|pk| pk.columns.len() > 1) {
        lines.push(format!("\tPRIMARY KEY({})", pk.columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")));
    }
    for fk in &table.foreign_keys {
        lines.push(format!(
            "\tFOREIGN KEY ({}) REFERENCES {}({}) ON UPDATE {} ON DELETE {}",
            column_list(&fk.columns),
            quote_ident(&fk.referenced_table.name),
            column_list(&fk.referenced_columns),
            fk.on_update.as_sql(),
            fk.on_delete.as_sql()
        ));
    }
    for check in &table.checks {
        lines.push(format!("\tCONSTRAINT \"{}\" CHECK({})", check.name.replace('"', "\"\""), check.expression));
    }
    Ok(format!("CREATE TABLE {} (\n{}\n)", quote_ident(name), lines.join(",\n")))
}

fn column_list(columns: &[String]) -> String {
    columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(",")
}

/// A column as in `CREATE TABLE` or `ADD`: name, type, then drizzle-kit's
/// order of options: key, autoincrement, default, generated, NOT NULL.
pub(super) fn column_definition(table: &Table, column: &Column) -> Result<String, RenderError> {
    let mut sql = format!("{} {}", quote_ident(&column.name), column_type(column)?);
    if table.primary_key.as_ref().is_some_and(|pk| pk.columns.len() == 1 && pk.columns[0] == column.name) {
        sql.push_str(" PRIMARY KEY");
        if autoincrement(table, column) {
            sql.push_str(" AUTOINCREMENT");
        }
    }
    if let Some(default) = default_sql(column) {
        let _ = write!(sql, " DEFAULT {default}");
    }
    if let Some(generated) = &column.generated {
        let _ = write!(sql, " GENERATED ALWAYS AS ({}) STORED", generated.sql);
    }
    if column.not_null {
        sql.push_str(" NOT NULL");
    }
    Ok(sql)
}

/// `CREATE [UNIQUE] INDEX … ON t (…) [WHERE …]`; a descending column is
/// written as an expression, as drizzle's sqlite-core writes it.
pub(super) fn create_index(table: &Table, index: &Index) -> String {
    let elements: Vec<String> = index
        .elements
        .iter()
        .map(|e| match (&e.key, e.order) {
            (IndexKey::Column(c), SortOrder::Asc) => quote_ident(c),
            (IndexKey::Column(c), SortOrder::Desc) => format!("\"{}\" DESC", c.replace('"', "\"\"")),
            (IndexKey::Expression(x), SortOrder::Asc) => x.clone(),
            (IndexKey::Expression(x), SortOrder::Desc) => format!("{x} DESC"),
        })
        .collect();
    let mut sql = format!(
        "CREATE {}INDEX {} ON {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        quote_ident(&index.name),
        quote_ident(&table.name.name),
        elements.join(",")
    );
    if let Some(predicate) = &index.predicate {
        let _ = write!(sql, " WHERE {predicate}");
    }
    sql
}

/// A unique constraint, which SQLite (and drizzle's sqlite-core) keeps as a unique index.
pub(super) fn create_unique_index(table: &Table, unique: &Unique) -> String {
    format!("CREATE UNIQUE INDEX {} ON {} ({})", quote_ident(&unique.name), quote_ident(&table.name.name), column_list(&unique.columns))
}
