//! The facts behind a plan's hazards, measured on the live database before
//! anything runs: how many rows a dropped table holds, how many NULLs stand in
//! the way of a NOT NULL, how many duplicates in the way of a unique.
//!
//! A fact that makes a step certain to fail (`blocks`) is reported as such, so
//! nobody is asked to allow a migration that cannot succeed. Probes read the
//! objects under their current (old) names; a probe that cannot run (the
//! column it needs is added by the same plan) is skipped, never guessed.

use schemaforge_diff::{ColumnChange, Pairing, Step};
use schemaforge_model::{Column, QualifiedName, ScalarType, Schema, Table};
use schemaforge_sql::postgres::{quote_ident, quote_literal, relation};
use sqlx::PgConnection;

pub use schemaforge_plan::Fact;

/// `n` with thousands separators, as people read counts.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

struct Probe {
    step: Step,
    sql: String,
    /// Builds the message from the count; `true` when a non-zero count blocks.
    describe: Box<dyn Fn(i64) -> String + Send>,
    blocks_when_nonzero: bool,
}

/// Measures the facts for `steps`, planned from `from` (the live database as
/// read) to `to`.
pub async fn measure(conn: &mut PgConnection, from: &Schema, to: &Schema, steps: &[Step]) -> Vec<Fact> {
    let pairing = Pairing::new(from, to);
    let mut facts = Vec::new();
    for probe in steps.iter().filter_map(|step| probe(&pairing, step)) {
        // Each probe stands alone: a failing one must not abort the others.
        let count: Result<i64, sqlx::Error> = sqlx::query_scalar(sqlx::AssertSqlSafe(probe.sql.clone())).fetch_one(&mut *conn).await;
        if let Ok(count) = count {
            facts.push(Fact { step: probe.step, message: (probe.describe)(count), blocks: probe.blocks_when_nonzero && count > 0 });
        }
    }
    facts
}

/// The old table and column a step on the new schema's names reads.
fn old_table<'a>(pairing: &Pairing<'a>, table: &QualifiedName) -> Option<&'a Table> {
    pairing.tables.iter().find(|p| &p.tables.to.name == table).map(|p| p.tables.from)
}

fn old_column<'a>(pairing: &Pairing<'a>, table: &QualifiedName, column: &str) -> Option<(&'a Table, &'a Column, &'a Column)> {
    let pair = pairing.tables.iter().find(|p| &p.tables.to.name == table)?;
    let columns = pair.columns.iter().find(|c| c.to.name == column)?;
    Some((pair.tables.from, columns.from, columns.to))
}

fn column_list(columns: &[String]) -> String {
    columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
}

fn probe(pairing: &Pairing<'_>, step: &Step) -> Option<Probe> {
    let to = pairing.schemas.to;
    let (sql, describe, blocks): (String, Box<dyn Fn(i64) -> String + Send>, bool) = match step {
        Step::DropTable { table } => {
            let name = table.to_string();
            (format!("SELECT count(*) FROM {}", relation(table)), Box::new(move |n| format!("table {name} has {} rows", grouped(n))), false)
        }
        Step::DropColumn { table, column } => {
            // A column rebuilt by the same plan (a generated one) loses nothing.
            if to.table(table).is_some_and(|t| t.column(column).is_some()) {
                return None;
            }
            let old = pairing.schemas.from.table(table).or_else(|| old_table(pairing, table))?;
            let what = format!("{table}.{column}");
            (
                format!("SELECT count({}) FROM {}", quote_ident(column), relation(&old.name)),
                Box::new(move |n| format!("column {what} has {} non-null values", grouped(n))),
                false,
            )
        }
        Step::AlterColumn { table, column, change: ColumnChange::SetNotNull } => {
            let (old_table, old_column, new_column) = old_column(pairing, table, column)?;
            // With a default, the NULLs are backfilled: informative, not blocking.
            let backfilled = new_column.default.is_some();
            let what = format!("{table}.{column}");
            (
                format!("SELECT count(*) FROM {} WHERE {} IS NULL", relation(&old_table.name), quote_ident(&old_column.name)),
                Box::new(move |n| {
                    if backfilled {
                        format!("column {what} has {} NULLs, to be set to the new default", grouped(n))
                    } else {
                        format!("column {what} has {} NULLs: SET NOT NULL cannot succeed until they are filled", grouped(n))
                    }
                }),
                !backfilled,
            )
        }
        Step::AlterColumn { table, column, change: ColumnChange::SetType } => {
            let (old_table, old_column, new_column) = old_column(pairing, table, column)?;
            type_probe(to, pairing, table, column, old_table, old_column, new_column)?
        }
        Step::AddUnique { table, name } => {
            let old = old_table(pairing, table)?;
            let unique = to.table(table)?.uniques.iter().find(|u| &u.name == name)?;
            let columns = renamed_columns(pairing, table, &unique.columns)?;
            duplicates(&old.name, &columns, unique.nulls_not_distinct, format!("unique {name}"))?
        }
        Step::AddPrimaryKey { table, name } => {
            let old = old_table(pairing, table)?;
            let key = to.table(table)?.primary_key.as_ref()?;
            let columns = renamed_columns(pairing, table, &key.columns)?;
            duplicates(&old.name, &columns, true, format!("primary key {name}"))?
        }
        Step::CreateIndex { table, name, .. } => {
            let old = old_table(pairing, table)?;
            let index = to.table(table)?.indexes.iter().find(|i| &i.name == name && i.unique && i.predicate.is_none())?;
            let columns: Vec<String> = index
                .elements
                .iter()
                .map(|e| match &e.key {
                    schemaforge_model::IndexKey::Column(c) => Some(c.clone()),
                    schemaforge_model::IndexKey::Expression(_) => None,
                })
                .collect::<Option<_>>()?;
            let columns = renamed_columns(pairing, table, &columns)?;
            duplicates(&old.name, &columns, false, format!("unique index {name}"))?
        }
        Step::AddCheck { table, name, not_valid: false } | Step::ValidateConstraint { table, name } => {
            let old = old_table(pairing, table)?;
            let new = to.table(table)?;
            if let Some(check) = new.checks.iter().find(|c| &c.name == name) {
                let what = format!("{table}");
                let check_name = name.clone();
                (
                    format!("SELECT count(*) FROM {} WHERE NOT ({})", relation(&old.name), check.expression),
                    Box::new(move |n| format!("{} rows of {what} violate check {check_name}", grouped(n))),
                    true,
                )
            } else {
                let fk = new.foreign_keys.iter().find(|f| &f.name == name)?;
                dangling(pairing, table, &old.name, fk)?
            }
        }
        Step::AddForeignKey { table, name, not_valid: false } => {
            let old = old_table(pairing, table)?;
            let fk = to.table(table)?.foreign_keys.iter().find(|f| &f.name == name)?;
            dangling(pairing, table, &old.name, fk)?
        }
        _ => return None,
    };
    Some(Probe { step: step.clone(), sql, describe, blocks_when_nonzero: blocks })
}

type Measured = (String, Box<dyn Fn(i64) -> String + Send>, bool);

/// The old names of columns of `table` given by their new names.
fn renamed_columns(pairing: &Pairing<'_>, table: &QualifiedName, columns: &[String]) -> Option<Vec<String>> {
    let pair = pairing.tables.iter().find(|p| &p.tables.to.name == table)?;
    columns.iter().map(|c| pair.columns.iter().find(|p| &p.to.name == c).map(|p| p.from.name.clone())).collect()
}

fn duplicates(table: &QualifiedName, columns: &[String], nulls_count: bool, what: String) -> Option<Measured> {
    let list = column_list(columns);
    let filter = if nulls_count {
        String::new()
    } else {
        format!(" WHERE {}", columns.iter().map(|c| format!("{} IS NOT NULL", quote_ident(c))).collect::<Vec<_>>().join(" AND "))
    };
    let table_name = table.to_string();
    Some((
        format!("SELECT count(*) FROM (SELECT 1 FROM {}{filter} GROUP BY {list} HAVING count(*) > 1) duplicates", relation(table)),
        Box::new(move |n| {
            format!("{} values of {table_name} ({}) appear more than once: {what} cannot be built", grouped(n), columns_text(&list))
        }),
        true,
    ))
}

fn columns_text(list: &str) -> String {
    list.replace('"', "")
}

fn dangling(pairing: &Pairing<'_>, table: &QualifiedName, old: &QualifiedName, fk: &schemaforge_model::ForeignKey) -> Option<Measured> {
    let columns = renamed_columns(pairing, table, &fk.columns)?;
    // The referenced table under its current name, when it exists already.
    let referenced = old_table(pairing, &fk.referenced_table).map_or_else(|| fk.referenced_table.clone(), |t| t.name.clone());
    let referenced_columns =
        renamed_columns(pairing, &fk.referenced_table, &fk.referenced_columns).unwrap_or_else(|| fk.referenced_columns.clone());
    let not_null = columns.iter().map(|c| format!("c.{} IS NOT NULL", quote_ident(c))).collect::<Vec<_>>().join(" AND ");
    let matches = columns
        .iter()
        .zip(&referenced_columns)
        .map(|(c, r)| format!("r.{} = c.{}", quote_ident(r), quote_ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let (what, name) = (table.to_string(), fk.name.clone());
    Some((
        format!(
            "SELECT count(*) FROM {} c WHERE {not_null} AND NOT EXISTS (SELECT 1 FROM {} r WHERE {matches})",
            relation(old),
            relation(&referenced)
        ),
        Box::new(move |n| format!("{} rows of {what} reference rows that do not exist: {name} cannot be validated", grouped(n))),
        true,
    ))
}

/// A type change that cannot convert some values: a length limit, removed enum values.
fn type_probe(
    to: &Schema,
    pairing: &Pairing<'_>,
    table: &QualifiedName,
    column: &str,
    old_table: &Table,
    old_column: &Column,
    new_column: &Column,
) -> Option<Measured> {
    let source = format!("{} FROM {}", quote_ident(&old_column.name), relation(&old_table.name));
    let what = format!("{table}.{column}");
    match (&old_column.ty.scalar, &new_column.ty.scalar) {
        (_, ScalarType::Varchar { length: Some(n) } | ScalarType::Char { length: Some(n) }) if !new_column.ty.is_array() => {
            let n = *n;
            Some((
                format!(
                    "SELECT count(*) FROM (SELECT {}::text AS v FROM {}) s WHERE length(v) > {n}",
                    quote_ident(&old_column.name),
                    relation(&old_table.name)
                ),
                Box::new(move |count| {
                    format!("{} values of {what} are longer than {n} characters: the conversion cannot succeed", grouped(count))
                }),
                true,
            ))
        }
        (ScalarType::Enum(a), ScalarType::Enum(b)) if a == b && !new_column.ty.is_array() => {
            let new_values = &to.enum_type(b)?.values;
            let renames = schemaforge_diff::enum_value_renames(pairing.schemas.from, to, b);
            let old_values = &pairing.schemas.from.enum_type(a)?.values;
            let removed: Vec<String> = old_values
                .iter()
                .filter(|v| !new_values.contains(v) && !renames.iter().any(|(old, _)| old == *v))
                .map(|v| quote_literal(v))
                .collect();
            if removed.is_empty() {
                return None;
            }
            let list = removed.join(", ");
            let shown = list.clone();
            Some((
                format!("SELECT count(*) FROM (SELECT {source}) s WHERE {}::text IN ({list})", quote_ident(&old_column.name)),
                Box::new(move |count| {
                    format!("{} rows of {what} hold {shown}, which the enum loses: the conversion cannot succeed", grouped(count))
                }),
                true,
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1204), "1,204");
        assert_eq!(grouped(1_000_000), "1,000,000");
    }
}
