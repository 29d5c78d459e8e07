//! `validation-scan`: a new NOT NULL, CHECK or FOREIGN KEY on an existing table
//! reads every row to validate it.

use schemaforge_diff::{ColumnChange, Step};

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    let message = match step {
        Step::AlterColumn { table, column, change: ColumnChange::SetNotNull } if context.existing(table) => {
            format!("scans {table} to check {column} holds no NULL")
        }
        Step::AddCheck { table, name } if context.existing(table) => format!("scans {table} to validate check {name}"),
        Step::AddForeignKey { table, name } if context.existing(table) => {
            format!("scans {table} to validate foreign key {name}, locking writes to it and to the table it references")
        }
        _ => return None,
    };
    Some(Finding::new(Hazard::ValidationScan, message))
}
