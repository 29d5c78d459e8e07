//! The facts behind a plan's hazards, measured on the live database before
//! anything runs: how many rows a dropped table holds, how many NULLs stand in
//! the way of a NOT NULL, how many duplicates in the way of a unique.
//!
//! A fact that makes a step certain to fail (`blocks`) is reported as such, so
//! nobody is asked to allow a migration that cannot succeed. Probes read the
//! objects under their current (old) names, and a new check is evaluated over
//! the old columns under their new names, so a rename in the same plan does
//! not hide it. A probe that cannot run (the column it needs is added by the
//! same plan) is skipped, never guessed; a probe the server refuses is
//! reported as a fact of its own ("could not measure …"), never dropped.
//!
//! The counts are plain SQL both dialects run (double-quoted names, no
//! schema for SQLite's tables); each dialect's `probes` module takes them.

use schemaforge_diff::{ColumnChange, Pairing, Step};
use schemaforge_model::{Column, Dialect, QualifiedName, ScalarType, Schema, Table};
use schemaforge_sql::postgres::{quote_ident, quote_literal, relation};

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

/// One count to take, and how to read it.
pub(crate) struct Measured {
    pub sql: String,
    /// What is counted, for the fact that says it could not be.
    what: String,
    /// Builds the message from the count.
    describe: Box<dyn Fn(i64) -> String + Send>,
    /// Whether a non-zero count makes the step certain to fail.
    blocks: bool,
}

/// The counts that measure the facts of `steps`, planned from `from` (the
/// live database as read) to `to`, each with the step it speaks for. The
/// changes a SQLite table rebuild makes are measured as its own.
pub(crate) fn planned(from: &Schema, to: &Schema, steps: &[Step]) -> Vec<(Step, Measured)> {
    let pairing = Pairing::new(from, to);
    let mut planned = Vec::new();
    for step in steps {
        match step {
            Step::RebuildTable { changes, .. } => {
                planned.extend(changes.iter().filter_map(|change| Some((step.clone(), probe(&pairing, change)?))));
            }
            _ => planned.extend(probe(&pairing, step).map(|m| (step.clone(), m))),
        }
    }
    planned
}

/// The fact a count (or the database's refusal to take it) establishes.
pub(crate) fn fact(step: Step, probe: &Measured, count: Result<i64, sqlx::Error>) -> Fact {
    match count {
        Ok(count) => Fact { step, message: (probe.describe)(count), blocks: probe.blocks && count > 0 },
        // Unknown is not the same as none: say so, next to the hazard.
        Err(error) => {
            let message = match error {
                sqlx::Error::Database(error) => error.message().to_string(),
                other => other.to_string(),
            };
            Fact { step, message: format!("could not measure {}: {message}", probe.what), blocks: false }
        }
    }
}

/// The old table and column a step on the new schema's names reads.
fn old_table<'a>(pairing: &Pairing<'a>, table: &QualifiedName) -> Option<&'a Table> {
    pairing.pair_of_new(table).map(|p| p.tables.from)
}

fn old_column<'a>(pairing: &Pairing<'a>, table: &QualifiedName, column: &str) -> Option<(&'a Table, &'a Column, &'a Column)> {
    let pair = pairing.pair_of_new(table)?;
    let columns = pair.columns.iter().find(|c| c.to.name == column)?;
    Some((pair.tables.from, columns.from, columns.to))
}

fn column_list(columns: &[String]) -> String {
    columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
}

fn probe(pairing: &Pairing<'_>, step: &Step) -> Option<Measured> {
    let to = pairing.schemas.to;
    match step {
        Step::DropTable { table } => {
            let name = table.to_string();
            Some(Measured {
                sql: format!("SELECT count(*) FROM {}", relation(table)),
                what: format!("the rows of table {name}"),
                describe: Box::new(move |n| format!("table {name} has {} rows", grouped(n))),
                blocks: false,
            })
        }
        Step::DropColumn { table, column } => {
            // A column rebuilt by the same plan (a generated one) loses nothing.
            if to.table(table).is_some_and(|t| t.column(column).is_some()) {
                return None;
            }
            let old = pairing.schemas.from.table(table).or_else(|| old_table(pairing, table))?;
            let what = format!("{table}.{column}");
            Some(Measured {
                sql: format!("SELECT count({}) FROM {}", quote_ident(column), relation(&old.name)),
                what: format!("the values of column {what}"),
                describe: Box::new(move |n| format!("column {what} has {} non-null values", grouped(n))),
                blocks: false,
            })
        }
        Step::AlterColumn { table, column, change: ColumnChange::SetNotNull } => {
            let (old_table, old_column, new_column) = old_column(pairing, table, column)?;
            // With a default, the NULLs are backfilled: informative, not blocking.
            let backfilled = new_column.default.is_some();
            let what = format!("{table}.{column}");
            Some(Measured {
                sql: format!("SELECT count(*) FROM {} WHERE {} IS NULL", relation(&old_table.name), quote_ident(&old_column.name)),
                what: format!("the NULLs in column {what}"),
                describe: Box::new(move |n| {
                    if backfilled {
                        format!("column {what} has {} NULLs, to be set to the new default", grouped(n))
                    } else {
                        format!("column {what} has {} NULLs: SET NOT NULL cannot succeed until they are filled", grouped(n))
                    }
                }),
                blocks: !backfilled,
            })
        }
        // SQLite keeps every value under any declared type; only PostgreSQL's conversions can fail.
        Step::AlterColumn { table, column, change: ColumnChange::SetType } if to.dialect == Dialect::Postgresql => {
            let (old_table, old_column, new_column) = old_column(pairing, table, column)?;
            type_probe(to, pairing, table, column, old_table, old_column, new_column)
        }
        Step::AddUnique { table, name } => {
            let old = old_table(pairing, table)?;
            let unique = to.table(table)?.uniques.iter().find(|u| &u.name == name)?;
            let columns = renamed_columns(pairing, table, &unique.columns)?;
            Some(duplicates(&old.name, &columns, unique.nulls_not_distinct, format!("unique {name}")))
        }
        Step::AddPrimaryKey { table, name } => {
            let old = old_table(pairing, table)?;
            let key = to.table(table)?.primary_key.as_ref()?;
            let columns = renamed_columns(pairing, table, &key.columns)?;
            Some(duplicates(&old.name, &columns, true, format!("primary key {name}")))
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
            Some(duplicates(&old.name, &columns, false, format!("unique index {name}")))
        }
        Step::AddCheck { table, name, not_valid: false } | Step::ValidateConstraint { table, name } => {
            let new = to.table(table)?;
            match new.checks.iter().find(|c| &c.name == name) {
                Some(check) => violations(pairing, table, name, &check.expression),
                None => {
                    let fk = new.foreign_keys.iter().find(|f| &f.name == name)?;
                    dangling(pairing, table, fk)
                }
            }
        }
        Step::AddForeignKey { table, name, not_valid: false } => {
            let fk = to.table(table)?.foreign_keys.iter().find(|f| &f.name == name)?;
            dangling(pairing, table, fk)
        }
        _ => None,
    }
}

/// The rows of `table` (new name) that violate its new check `name`. The
/// expression speaks of the columns by their new names, the rows still carry
/// the old ones: it is evaluated over the old table with every column it
/// keeps under its new name, in a subquery named like the new table.
fn violations(pairing: &Pairing<'_>, table: &QualifiedName, name: &str, expression: &str) -> Option<Measured> {
    let pair = pairing.pair_of_new(table)?;
    // A check on a column the plan adds reads values that do not exist yet.
    if let Ok(facts) =
        schemaforge_fragment::check_expression(pairing.schemas.to.dialect, schemaforge_fragment::ExpressionSlot::Check, expression)
    {
        let named = |c: &str| facts.column_references.iter().any(|r| r.last().is_some_and(|last| last == c));
        if pair.added.iter().any(|c| named(&c.name)) {
            return None;
        }
    }
    let columns: Vec<String> =
        pair.columns.iter().map(|c| format!("{} AS {}", quote_ident(&c.from.name), quote_ident(&c.to.name))).collect();
    let (what, check_name) = (table.to_string(), name.to_string());
    Some(Measured {
        sql: format!(
            "SELECT count(*) FROM (SELECT {} FROM {}) AS {} WHERE NOT ({expression})",
            columns.join(", "),
            relation(&pair.tables.from.name),
            quote_ident(&table.name)
        ),
        what: format!("the rows of {what} that violate check {check_name}"),
        describe: Box::new(move |n| format!("{} rows of {what} violate check {check_name}", grouped(n))),
        blocks: true,
    })
}

/// The old names of columns of `table` given by their new names.
fn renamed_columns(pairing: &Pairing<'_>, table: &QualifiedName, columns: &[String]) -> Option<Vec<String>> {
    let pair = pairing.pair_of_new(table)?;
    columns.iter().map(|c| pair.columns.iter().find(|p| &p.to.name == c).map(|p| p.from.name.clone())).collect()
}

fn duplicates(table: &QualifiedName, columns: &[String], nulls_count: bool, what: String) -> Measured {
    let list = column_list(columns);
    let filter = if nulls_count {
        String::new()
    } else {
        format!(" WHERE {}", columns.iter().map(|c| format!("{} IS NOT NULL", quote_ident(c))).collect::<Vec<_>>().join(" AND "))
    };
    let table_name = table.to_string();
    Measured {
        sql: format!("SELECT count(*) FROM (SELECT 1 FROM {}{filter} GROUP BY {list} HAVING count(*) > 1) duplicates", relation(table)),
        what: format!("the duplicates in {table_name} ({}) in the way of {what}", columns_text(&list)),
        describe: Box::new(move |n| {
            format!("{} values of {table_name} ({}) appear more than once: {what} cannot be built", grouped(n), columns_text(&list))
        }),
        blocks: true,
    }
}

fn columns_text(list: &str) -> String {
    list.replace('"', "")
}

fn dangling(pairing: &Pairing<'_>, table: &QualifiedName, fk: &schemaforge_model::ForeignKey) -> Option<Measured> {
    let old = old_table(pairing, table)?;
    let columns = renamed_columns(pairing, table, &fk.columns)?;
    let not_null = columns.iter().map(|c| format!("c.{} IS NOT NULL", quote_ident(c))).collect::<Vec<_>>().join(" AND ");
    // A table the plan creates is empty: every row with a value references nothing.
    let missing = if pairing.created.iter().any(|t| t.name == fk.referenced_table) {
        String::new()
    } else {
        // The referenced table under its current name, when it exists already.
        let referenced = old_table(pairing, &fk.referenced_table).map_or_else(|| fk.referenced_table.clone(), |t| t.name.clone());
        let referenced_columns =
            renamed_columns(pairing, &fk.referenced_table, &fk.referenced_columns).unwrap_or_else(|| fk.referenced_columns.clone());
        let matches = columns
            .iter()
            .zip(&referenced_columns)
            .map(|(c, r)| format!("r.{} = c.{}", quote_ident(r), quote_ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ");
        format!(" AND NOT EXISTS (SELECT 1 FROM {} r WHERE {matches})", relation(&referenced))
    };
    let (what, name) = (table.to_string(), fk.name.clone());
    Some(Measured {
        sql: format!("SELECT count(*) FROM {} c WHERE {not_null}{missing}", relation(&old.name)),
        what: format!("the rows of {what} that {name} would find without a referenced row"),
        describe: Box::new(move |n| format!("{} rows of {what} reference rows that do not exist: {name} cannot be validated", grouped(n))),
        blocks: true,
    })
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
            Some(Measured {
                sql: format!(
                    "SELECT count(*) FROM (SELECT {}::text AS v FROM {}) s WHERE length(v) > {n}",
                    quote_ident(&old_column.name),
                    relation(&old_table.name)
                ),
                what: format!("the values of {what} longer than {n} characters"),
                describe: Box::new(move |count| {
                    format!("{} values of {what} are longer than {n} characters: the conversion cannot succeed", grouped(count))
                }),
                blocks: true,
            })
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
            Some(Measured {
                sql: format!("SELECT count(*) FROM (SELECT {source}) s WHERE {}::text IN ({list})", quote_ident(&old_column.name)),
                what: format!("the rows of {what} holding {list}"),
                describe: Box::new(move |count| {
                    format!("{} rows of {what} hold {shown}, which the enum loses: the conversion cannot succeed", grouped(count))
                }),
                blocks: true,
            })
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
