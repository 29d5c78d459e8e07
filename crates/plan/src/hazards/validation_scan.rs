//! `validation-scan`: a new NOT NULL, CHECK or FOREIGN KEY on an existing table
//! reads every row to validate it. Added `NOT VALID`, a constraint is checked
//! by a separate `VALIDATE CONSTRAINT` under a weaker lock.

use schemaforge_diff::{ColumnChange, Step};

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    let sqlite = context.dialect() == schemaforge_model::Dialect::Sqlite;
    let message = match step {
        // On SQLite these are changes inside a rebuild, which checks each copied row.
        Step::AddCheck { table, name, .. } | Step::AddForeignKey { table, name, .. } if sqlite && context.existing(table) => {
            format!("checks every row of {table} against {name} as the rebuild copies it")
        }
        Step::ValidateConstraint { .. } if sqlite => return None,
        Step::AlterColumn { table, column, change: ColumnChange::SetNotNull } if context.existing(table) => {
            format!("scans {table} to check {column} holds no NULL")
        }
        Step::AddCheck { table, name, not_valid: false } if context.existing(table) => {
            format!("scans {table} to validate check {name}, locking it against reads and writes")
        }
        Step::AddForeignKey { table, name, not_valid: false } if context.existing(table) => {
            format!("scans {table} to validate foreign key {name}, locking writes to it and to the table it references")
        }
        Step::ValidateConstraint { table, name } if context.existing(table) => {
            format!("scans {table} to validate {name}; reads and writes may continue meanwhile (SHARE UPDATE EXCLUSIVE)")
        }
        _ => return None,
    };
    Some(Finding::new(Hazard::ValidationScan, message))
}
