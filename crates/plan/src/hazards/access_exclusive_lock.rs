//! `access-exclusive-lock`: the step locks an existing table against every
//! read and write. Even a brief lock waits behind long transactions and makes
//! every later query wait behind it. (SQLite has no table locks: any
//! migration holds the database's write lock while it runs.)

use schemaforge_diff::{ColumnChange, Step};

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    // SQLite locks the whole database for every write transaction, not tables.
    if context.dialect() == schemaforge_model::Dialect::Sqlite {
        return None;
    }
    let (table, what) = match step {
        Step::DropTable { table } => (table, "while it is dropped"),
        Step::DropColumn { table, .. } => (table, "while the column is dropped"),
        Step::AddColumn { table, .. } => (table, "while the column is added"),
        Step::AlterColumn { table, change: ColumnChange::SetType, .. } => (table, "while the column type changes"),
        Step::AlterColumn { table, change: ColumnChange::SetNotNull, .. } => (table, "while every row is checked for NULL"),
        Step::AlterColumn { table, change: ColumnChange::AddIdentity, .. } => (table, "while the identity is added"),
        Step::AddPrimaryKey { table, .. } | Step::AddUnique { table, .. } => (table, "while the constraint's index is built"),
        Step::AddCheck { table, not_valid: false, .. } => (table, "while every row is checked"),
        Step::AddCheck { table, not_valid: true, .. } => (table, "while the check is added (existing rows are validated after)"),
        Step::DropIndex { table, concurrently: false, .. } => (table, "while the index is dropped"),
        Step::DropConstraint { table, .. } => (table, "while the constraint is dropped"),
        _ => return None,
    };
    if !context.existing(table) {
        return None;
    }
    Some(Finding::new(Hazard::AccessExclusiveLock, format!("locks {table} against reads and writes {what}")))
}
