//! Sample rows for a schema: a few rows per table, respecting types, enums,
//! NOT NULL, uniqueness and foreign keys, so live tests can check that a
//! migration keeps data it should keep.
//!
//! Every value is a pure function of (table, column, row number), and a
//! foreign key column takes the value its target column has for the same row
//! number, so references line up without reading anything back.

use schemaforge_model::{Column, ColumnType, QualifiedName, ScalarType, Schema, Table};
use schemaforge_sql::postgres::{quote_ident, quote_literal, relation};

/// Rows inserted per table.
pub const ROWS: usize = 2;

/// `INSERT` statements for `schema`, parents before children. Tables in a
/// reference cycle get NULL in the foreign keys that close the cycle.
pub fn inserts(schema: &Schema) -> Vec<String> {
    let order = insertion_order(schema);
    let mut statements = Vec::new();
    for (position, table) in order.iter().enumerate() {
        let earlier: Vec<&QualifiedName> = order[..position].iter().map(|t| &t.name).collect();
        let columns: Vec<&Column> = table.columns.iter().filter(|c| writable(c)).collect();
        if columns.is_empty() {
            for _ in 0..ROWS {
                statements.push(format!("INSERT INTO {} DEFAULT VALUES", relation(&table.name)));
            }
            continue;
        }
        let names: Vec<String> = columns.iter().map(|c| quote_ident(&c.name)).collect();
        for row in 0..ROWS {
            let values: Vec<String> = columns.iter().map(|c| value_for(schema, table, c, row, &earlier)).collect();
            statements.push(format!("INSERT INTO {} ({}) VALUES ({})", relation(&table.name), names.join(", "), values.join(", ")));
        }
    }
    statements
}

/// Columns the database fills itself are left to it.
fn writable(column: &Column) -> bool {
    column.generated.is_none() && column.identity.is_none() && !column.ty.scalar.is_serial()
}

fn insertion_order(schema: &Schema) -> Vec<&Table> {
    let mut placed: Vec<&Table> = Vec::new();
    let mut remaining: Vec<&Table> = schema.tables.iter().collect();
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|t| {
            t.foreign_keys.iter().all(|fk| fk.referenced_table == t.name || placed.iter().any(|p| p.name == fk.referenced_table))
        });
        // A cycle: take the first table; its forward references become NULL.
        let next = remaining.remove(ready.unwrap_or(0));
        placed.push(next);
    }
    placed
}

fn value_for(schema: &Schema, table: &Table, column: &Column, row: usize, earlier: &[&QualifiedName]) -> String {
    if let Some(fk) = table.foreign_keys.iter().find(|fk| fk.columns.contains(&column.name)) {
        let available = fk.referenced_table == table.name || earlier.contains(&&fk.referenced_table);
        let target = schema.table(&fk.referenced_table);
        let position = fk.columns.iter().position(|c| c == &column.name).unwrap_or(0);
        if let (true, Some(target)) = (available, target)
            && let Some(target_column) = fk.referenced_columns.get(position).and_then(|c| target.column(c))
        {
            return plain_value(schema, target, target_column, row);
        }
        return "NULL".to_string();
    }
    plain_value(schema, table, column, row)
}

fn plain_value(schema: &Schema, table: &Table, column: &Column, row: usize) -> String {
    if column.ty.scalar.is_serial() || column.identity.is_some() {
        // What the sequence handed out to row `row`.
        return (row + 1).to_string();
    }
    let tag = format!("{}_{}_{row}", table.name.name, column.name);
    literal(schema, &column.ty, row, &tag)
}

fn literal(schema: &Schema, ty: &ColumnType, row: usize, tag: &str) -> String {
    if ty.is_array() {
        return "'{}'".to_string();
    }
    let n = row + 1;
    match &ty.scalar {
        ScalarType::SmallInt
        | ScalarType::Integer
        | ScalarType::BigInt
        | ScalarType::SmallSerial
        | ScalarType::Serial
        | ScalarType::BigSerial => n.to_string(),
        ScalarType::Numeric { .. } => n.to_string(),
        ScalarType::Real | ScalarType::DoublePrecision => format!("{n}.5"),
        ScalarType::Boolean => "true".to_string(),
        ScalarType::Text | ScalarType::Custom { .. } => quote_literal(tag),
        ScalarType::Varchar { length } | ScalarType::Char { length } => {
            let limit = length.map(|l| l as usize).unwrap_or(if matches!(ty.scalar, ScalarType::Char { .. }) { 1 } else { 64 });
            // Unique per row even when cut short: the row number goes first.
            let text = format!("{n}{tag}");
            quote_literal(&text.chars().take(limit).collect::<String>())
        }
        ScalarType::Date => format!("'2024-01-0{n}'"),
        ScalarType::Time { .. } => format!("'10:00:0{n}'"),
        // SQLite keeps timestamps as Unix seconds.
        ScalarType::Timestamp { .. } if schema.dialect == schemaforge_model::Dialect::Sqlite => format!("{}", 1_704_067_200 + n),
        ScalarType::Timestamp { .. } => format!("'2024-01-01 00:00:0{n}'"),
        ScalarType::Interval { .. } => format!("'{n} day'"),
        ScalarType::Json | ScalarType::Jsonb => format!("'{{\"row\": {n}}}'"),
        ScalarType::Uuid => format!("'00000000-0000-4000-8000-{n:012}'"),
        ScalarType::Bytea if schema.dialect == schemaforge_model::Dialect::Sqlite => format!("X'0{n}'"),
        ScalarType::Bytea => format!("'\\x0{n}'"),
        ScalarType::Inet => format!("'10.0.0.{n}'"),
        ScalarType::Cidr => format!("'10.0.{n}.0/24'"),
        ScalarType::MacAddr => format!("'08:00:2b:01:02:0{n}'"),
        ScalarType::Vector { dimensions } => quote_literal(&format!("[{}]", vec!["0.5"; *dimensions as usize].join(","))),
        ScalarType::Enum(name) => {
            let values = schema.enum_type(name).map(|e| e.values.clone()).unwrap_or_default();
            values.first().map(|v| quote_literal(v)).unwrap_or_else(|| "NULL".to_string())
        }
    }
}
