//! `irreversible`: in a down migration, re-creating a table or column that the
//! up migration dropped brings back its shape, not its data.

use schemaforge_diff::Step;

use super::Context;
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
        _ => return None,
    };
    Some(Finding::new(Hazard::Irreversible, message))
}
