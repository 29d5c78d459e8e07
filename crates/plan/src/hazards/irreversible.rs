//! `irreversible`: in a down migration, re-creating a table or column that the
//! up migration dropped brings back its shape, not its data; converting a
//! column back after a lossy conversion (`deletes-data` in the up plan:
//! rounding, approximating, cutting) brings back its type, not the values the
//! up migration changed.

use schemaforge_diff::{ColumnChange, Step};
use schemaforge_model::Dialect;

use super::Context;
use super::deletes_data::lossy_conversion;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    if !context.inverse {
        return None;
    }
    let message = match step {
        Step::CreateTable { table } => format!("re-creates table {table} empty: the up migration deleted its rows"),
        Step::AddColumn { table, column } if !context.rebuilt(table, column) && context.existing(table) => {
            format!("re-creates column {table}.{column} empty: the up migration deleted its values")
        }
        // What PostgreSQL converts; a dialect that converts nothing loses nothing.
        Step::AlterColumn { table, column, change: ColumnChange::SetType }
            if context.existing(table) && context.dialect() == Dialect::Postgresql =>
        {
            // This plan runs from the up migration's target back to its
            // source: the up conversion went from `current` to `restored`.
            let (current, restored) = context.column_pair(table, column)?;
            let (verb, tail) = lossy_conversion(&restored.ty.scalar, &current.ty.scalar)?;
            format!("converts {table}.{column} back, but not its values: the up migration {verb} every value{tail}")
        }
        _ => return None,
    };
    Some(Finding::new(Hazard::Irreversible, message))
}
