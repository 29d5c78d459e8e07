//! `builds-index`: an index built over an existing table blocks its writes for
//! the whole build (unless built `CONCURRENTLY`).

use schemaforge_diff::Step;

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    let message = match step {
        Step::CreateIndex { table, name } if context.existing(table) => {
            format!("builds index {name} over the rows of {table}, blocking writes to it meanwhile")
        }
        Step::AddPrimaryKey { table, name } | Step::AddUnique { table, name } if context.existing(table) => {
            format!("builds the index behind {name} over the rows of {table}")
        }
        _ => return None,
    };
    Some(Finding::new(Hazard::BuildsIndex, message))
}
