//! `possible-rename`: a column (or table) is dropped and one of the same type
//! (or shape) added in the same migration. Renames are never guessed, so this
//! drops the data; the hint says how to keep it.

use schemaforge_diff::Step;

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    match step {
        Step::DropColumn { table, column } if !context.rebuilt(table, column) => {
            let old = context.pair(table)?.dropped.iter().find(|c| &c.name == column)?;
            let added = context.pair(table)?.added.iter().find(|c| c.ty == old.ty)?;
            Some(Finding::new(
                Hazard::PossibleRename,
                format!(
                    "{table}.{column} is dropped and {table}.{} added with the same type: if it is a rename, add \"renamedFrom\": \"{column}\" to column {} to keep the data",
                    added.name, added.name
                ),
            ))
        }
        Step::DropTable { table } => {
            let old = context.old_table(table)?;
            let shape = |t: &schemaforge_model::Table| t.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect::<Vec<_>>();
            let similar = context.pairing.created.iter().find(|t| t.name.schema == old.name.schema && shape(t) == shape(old))?;
            Some(Finding::new(
                Hazard::PossibleRename,
                format!(
                    "table {table} is dropped and {} created with the same columns: if it is a rename, add \"renamedFrom\": \"{}\" to table {} to keep the data",
                    similar.name, old.name.name, similar.name.name
                ),
            ))
        }
        _ => None,
    }
}
