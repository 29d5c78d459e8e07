//! The data half of the live round trip: what a plan must leave of the rows.
//!
//! Before a plan runs, every table that survives it (under its old name) is
//! read column by column; afterwards the same data is read under the new
//! names (following declared renames of tables and columns, as the plan's
//! pairing does) and must be the same multiset of rows. Only what the plan
//! itself says it changes is left out or compared differently:
//!
//! - a table or column the plan drops is not read at all (it has no pair);
//! - a column whose step carries `deletes-data` (a lossy conversion) is skipped;
//! - a generated column whose expression changed is rebuilt: its values are
//!   derived anew and skipped;
//! - a converted column (`SET DATA TYPE`) is read back through its old type
//!   (`new::old`), which is exact for every conversion that keeps values, and
//!   enum columns under their labels, with declared `renamedValues` mapped;
//! - a column made NOT NULL with a default (`updates-rows`) is compared apart:
//!   its non-NULL values must survive and its NULLs all become one value.
//!
//! Values are compared as `to_jsonb(value)::text`, so one reading holds every
//! type the same way.

use std::collections::BTreeSet;

use schemaforge_diff::{ColumnChange, Pairing, Step};
use schemaforge_model::{Column, QualifiedName, ScalarType, Schema};
use schemaforge_plan::{Hazard, Plan};
use schemaforge_sql::postgres::{quote_ident, relation, type_sql};
use sqlx::{PgConnection, Row};

/// How one surviving column is compared.
#[derive(Debug)]
struct ColumnCheck {
    old: String,
    new: String,
    /// Reads the column after the plan, in the terms of the reading before it.
    after: String,
    /// Enum labels renamed by the plan (old → new), applied to the values before.
    relabel: Vec<(String, String)>,
    /// NULLs are backfilled with the new default.
    backfilled: bool,
}

/// One table that survives a plan, and what of it must survive.
#[derive(Debug)]
pub struct TableCheck {
    old: QualifiedName,
    new: QualifiedName,
    columns: Vec<ColumnCheck>,
    /// Columns not compared, with the reason (for failure messages).
    skipped: Vec<String>,
}

/// The rows of every checked table, read before the plan ran.
pub struct Before(Vec<Vec<Vec<Option<String>>>>);

/// What `plan` (from `from` to `to`) must leave of the data.
pub fn checks(plan: &Plan, from: &Schema, to: &Schema) -> Vec<TableCheck> {
    let mut lossy: BTreeSet<(QualifiedName, String)> = BTreeSet::new();
    let mut backfilled: BTreeSet<(QualifiedName, String)> = BTreeSet::new();
    let mut converted: BTreeSet<(QualifiedName, String)> = BTreeSet::new();
    for statement in &plan.statements {
        let has = |hazard: Hazard| statement.hazards.iter().any(|f| f.hazard == hazard);
        match &statement.step {
            Step::AlterColumn { table, column, change: ColumnChange::SetType } => {
                converted.insert((table.clone(), column.clone()));
                if has(Hazard::DeletesData) {
                    lossy.insert((table.clone(), column.clone()));
                }
            }
            Step::AlterColumn { table, column, change: ColumnChange::SetNotNull } if has(Hazard::UpdatesRows) => {
                backfilled.insert((table.clone(), column.clone()));
            }
            _ => {}
        }
    }
    let steps = plan.steps();
    let rebuilt = |table: &QualifiedName, column: &str| {
        let (table, column) = (table.clone(), column.to_string());
        steps.contains(&&Step::DropColumn { table: table.clone(), column: column.clone() })
            && steps.contains(&&Step::AddColumn { table, column })
    };

    let pairing = Pairing::new(from, to);
    let mut checks = Vec::new();
    for pair in &pairing.tables {
        let (old_table, new_table) = (pair.tables.from, pair.tables.to);
        let mut check = TableCheck { old: old_table.name.clone(), new: new_table.name.clone(), columns: Vec::new(), skipped: Vec::new() };
        for columns in &pair.columns {
            let (old, new) = (columns.from, columns.to);
            let key = (new_table.name.clone(), new.name.clone());
            if lossy.contains(&key) {
                check.skipped.push(format!("{} (deletes-data)", new.name));
                continue;
            }
            if rebuilt(&new_table.name, &new.name) {
                check.skipped.push(format!("{} (generated, rebuilt)", new.name));
                continue;
            }
            let after = if converted.contains(&key) { read_back(old, new) } else { quote_ident(&new.name) };
            check.columns.push(ColumnCheck {
                old: old.name.clone(),
                new: new.name.clone(),
                after,
                relabel: relabelled(from, to, old, new),
                backfilled: backfilled.contains(&key),
            });
        }
        checks.push(check);
    }
    checks
}

/// The converted column `new` read as the old column's type: exact for any
/// conversion that keeps values. Enum labels compare as text (the old enum
/// type may be gone), and types an extension or the user provides as they are.
fn read_back(old: &Column, new: &Column) -> String {
    let opaque = |c: &Column| matches!(c.ty.scalar, ScalarType::Enum(_) | ScalarType::Custom { .. } | ScalarType::Vector { .. });
    if opaque(old) || opaque(new) {
        return quote_ident(&new.name);
    }
    let mut storage = old.ty.clone();
    storage.scalar = storage.scalar.storage_type();
    format!("{}::{}", quote_ident(&new.name), type_sql(&storage))
}

/// The enum value renames a column of one enum goes through.
fn relabelled(from: &Schema, to: &Schema, old: &Column, new: &Column) -> Vec<(String, String)> {
    match (&old.ty.scalar, &new.ty.scalar) {
        (ScalarType::Enum(a), ScalarType::Enum(b)) if a == b => schemaforge_diff::enum_value_renames(from, to, b),
        _ => Vec::new(),
    }
}

async fn read(conn: &mut PgConnection, table: &QualifiedName, expressions: &[String]) -> Result<Vec<Vec<Option<String>>>, String> {
    let columns: Vec<String> = expressions.iter().map(|e| format!("to_jsonb({e})::text")).collect();
    // A table none of whose columns is compared still has its row count compared.
    let list = if columns.is_empty() { "NULL::text".to_string() } else { columns.join(", ") };
    let sql = format!("SELECT {list} FROM {}", relation(table));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).fetch_all(conn).await.map_err(|e| format!("reading {table}: {sql}: {e}"))?;
    let width = columns.len().max(1);
    rows.iter()
        .map(|row| (0..width).map(|i| row.try_get::<Option<String>, _>(i).map_err(|e| format!("reading {table}: {e}"))).collect())
        .collect()
}

/// Reads what must survive, before the plan runs.
pub async fn before(conn: &mut PgConnection, checks: &[TableCheck]) -> Result<Before, String> {
    let mut tables = Vec::new();
    for check in checks {
        let expressions: Vec<String> = check.columns.iter().map(|c| quote_ident(&c.old)).collect();
        tables.push(read(conn, &check.old, &expressions).await?);
    }
    Ok(Before(tables))
}

/// Compares the data after the plan ran with what was read before it.
pub async fn after(conn: &mut PgConnection, checks: &[TableCheck], before: &Before, what: &str) -> Result<(), String> {
    for (check, before_rows) in checks.iter().zip(&before.0) {
        let expressions: Vec<String> = check.columns.iter().map(|c| c.after.clone()).collect();
        let after_rows = read(conn, &check.new, &expressions).await?;
        // Enum columns: labels renamed on the before side, one JSON spelling on both.
        let normal = |rows: &[Vec<Option<String>>], map: bool| -> Vec<Vec<Option<String>>> {
            let value = |i: usize, v: &Option<String>| match check.columns.get(i) {
                Some(c) if !c.relabel.is_empty() => canonical_json(&if map { relabel(v, &c.relabel) } else { v.clone() }),
                _ => v.clone(),
            };
            rows.iter().map(|row| row.iter().enumerate().map(|(i, v)| value(i, v)).collect()).collect()
        };
        let (before_rows, after_rows) = (normal(before_rows, true), normal(&after_rows, false));
        // Backfilled columns are compared on their own, below.
        let compared = |i: usize| !check.columns.get(i).is_some_and(|c| c.backfilled);
        let sorted = |rows: &[Vec<Option<String>>]| -> Vec<Vec<Option<String>>> {
            let mut rows: Vec<Vec<Option<String>>> =
                rows.iter().map(|row| row.iter().enumerate().filter(|(i, _)| compared(*i)).map(|(_, v)| v.clone()).collect()).collect();
            rows.sort();
            rows
        };
        let (expected, actual) = (sorted(&before_rows), sorted(&after_rows));
        if expected != actual {
            let names: Vec<String> = check
                .columns
                .iter()
                .filter(|c| !c.backfilled)
                .map(|c| if c.old == c.new { c.new.clone() } else { format!("{} as {}", c.old, c.new) })
                .collect();
            let skipped = if check.skipped.is_empty() { "none".to_string() } else { check.skipped.join(", ") };
            return Err(format!(
                "{what}: the rows of {} did not survive as {} (compared: {}; not compared: {skipped}):\nbefore: {expected:?}\nafter:  {actual:?}",
                check.old,
                check.new,
                names.join(", "),
            ));
        }
        for (i, column) in check.columns.iter().enumerate().filter(|(_, c)| c.backfilled) {
            let values = |rows: &[Vec<Option<String>>]| rows.iter().map(|r| r[i].clone()).collect::<Vec<_>>();
            backfill_survived(&values(&before_rows), &values(&after_rows))
                .map_err(|problem| format!("{what}: {}.{} as {}.{}: {problem}", check.old, column.old, check.new, column.new))?;
        }
    }
    Ok(())
}

/// A backfilled column: every non-NULL value survives, and the NULLs all
/// became one and the same (non-NULL) value.
fn backfill_survived(before: &[Option<String>], after: &[Option<String>]) -> Result<(), String> {
    let mut rest: Vec<Option<String>> = after.to_vec();
    for value in before.iter().flatten() {
        match rest.iter().position(|v| v.as_deref() == Some(value.as_str())) {
            Some(i) => {
                rest.remove(i);
            }
            None => return Err(format!("value {value} is gone (before {before:?}, after {after:?})")),
        }
    }
    let nulls = before.iter().filter(|v| v.is_none()).count();
    let filled: BTreeSet<&Option<String>> = rest.iter().collect();
    if rest.len() != nulls || filled.len() > 1 || filled.contains(&None) {
        return Err(format!("{nulls} NULLs should all hold the new default (before {before:?}, after {after:?})"));
    }
    Ok(())
}

/// A `to_jsonb` text with enum labels renamed.
fn relabel(value: &Option<String>, renames: &[(String, String)]) -> Option<String> {
    let text = value.as_ref()?;
    if renames.is_empty() {
        return Some(text.clone());
    }
    fn walk(value: serde_json::Value, renames: &[(String, String)]) -> serde_json::Value {
        match value {
            serde_json::Value::String(s) => {
                serde_json::Value::String(renames.iter().find(|(from, _)| *from == s).map_or(s, |(_, to)| to.clone()))
            }
            serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(|i| walk(i, renames)).collect()),
            other => other,
        }
    }
    match serde_json::from_str(text) {
        Ok(parsed) => Some(walk(parsed, renames).to_string()),
        Err(_) => Some(text.clone()),
    }
}

/// One spelling of a JSON text (PostgreSQL's and serde's differ in spacing).
fn canonical_json(value: &Option<String>) -> Option<String> {
    let text = value.as_ref()?;
    Some(serde_json::from_str::<serde_json::Value>(text).map_or_else(|_| text.clone(), |v| v.to_string()))
}
