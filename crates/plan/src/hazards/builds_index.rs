//! `builds-index`: an index built over an existing table blocks its writes for
//! the whole build; built `CONCURRENTLY` it does not, but it takes longer and a
//! failure leaves an invalid index behind.

use schemaforge_diff::Step;

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    let message = match step {
        Step::RebuildTable { table, .. } => {
            let t = context.new_table(table)?;
            if t.indexes.is_empty() && t.uniques.is_empty() {
                return None;
            }
            format!("re-creates the indexes of {table} over its rows after the rebuild")
        }
        Step::CreateIndex { table, name, concurrently: false } if context.existing(table) => {
            format!("builds index {name} over the rows of {table}, blocking writes to it meanwhile")
        }
        Step::CreateIndex { table, name, concurrently: true } if context.existing(table) => format!(
            "builds index {name} over the rows of {table} concurrently: writes continue, but a failed build leaves an INVALID index to drop before retrying"
        ),
        Step::AddPrimaryKey { table, name } | Step::AddUnique { table, name } if context.existing(table) => {
            format!("builds the index behind {name} over the rows of {table}")
        }
        _ => return None,
    };
    Some(Finding::new(Hazard::BuildsIndex, message))
}
