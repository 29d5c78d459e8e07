//! `updates-rows`: a column becoming NOT NULL with a default has its NULLs set
//! to that default first (as Rails' `change_column_null` does).

use schemaforge_diff::{ColumnChange, Step};

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    match step {
        Step::AlterColumn { table, column, change: ColumnChange::SetNotNull } if context.existing(table) => {
            context.new_column(table, column)?.default.as_ref()?;
            Some(Finding::new(Hazard::UpdatesRows, format!("sets every NULL in {table}.{column} to the new default")))
        }
        _ => None,
    }
}
