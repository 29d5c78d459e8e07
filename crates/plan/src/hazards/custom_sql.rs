//! `custom-sql`: the definition's `sql.before` / `sql.after` statements run as
//! written; schemaforge cannot tell what they change.

use schemaforge_diff::Step;

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    let (which, statements) = match step {
        Step::RunSqlBefore => ("sql.before", context.pairing.schemas.to.custom_sql.before.len()),
        Step::RunSqlAfter => ("sql.after", context.pairing.schemas.to.custom_sql.after.len()),
        _ => return None,
    };
    Some(Finding::new(Hazard::CustomSql, format!("runs the {statements} statement(s) of `{which}` as written")))
}
