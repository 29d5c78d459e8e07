//! `authorization-change`: row-level security, policies and roles decide who
//! sees what. Changing them on existing tables (or roles, which are global)
//! changes access to existing data.

use schemaforge_diff::Step;

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    let message = match step {
        Step::DisableRowLevelSecurity { table } => {
            format!("disables row-level security on {table}: every role with table privileges sees every row")
        }
        Step::EnableRowLevelSecurity { table } if context.existing(table) => {
            format!("enables row-level security on {table}: rows are hidden from roles no policy admits")
        }
        Step::CreatePolicy { table, name } if context.existing(table) => format!("adds policy {name} on {table}"),
        Step::AlterPolicy { table, name } => format!("changes policy {name} on {table}"),
        Step::DropPolicy { table, name } if context.pairing.new_table_name(table).is_some() => format!("drops policy {name} on {table}"),
        Step::CreateRole { name } => format!("creates role {name}"),
        Step::AlterRole { name } => format!("changes the options of role {name}"),
        Step::DropRole { name } => format!("drops role {name}"),
        _ => return None,
    };
    Some(Finding::new(Hazard::AuthorizationChange, message))
}
