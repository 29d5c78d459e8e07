//! `deletes-data`: dropping a table or column, an extension, or converting a
//! column to a type that keeps less (a smaller numeric scale rounds values).

use schemaforge_diff::{ColumnChange, Step};
use schemaforge_model::ScalarType;

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    let message = match step {
        Step::DropTable { table } => format!("drops table {table} and every row in it"),
        Step::DropColumn { table, column } if !context.rebuilt(table, column) => format!("deletes every value of column {table}.{column}"),
        Step::DropExtension { name } => format!("drops extension {name} and everything it provides, with any data stored in its types"),
        Step::AlterColumn { table, column, change: ColumnChange::SetType } if context.existing(table) => {
            let (old, new) = context.column_pair(table, column)?;
            let scale = |s: &ScalarType| match s {
                ScalarType::Numeric { scale, .. } => Some(scale.unwrap_or(0)),
                _ => None,
            };
            let fraction = |s: &ScalarType| match s {
                ScalarType::Timestamp { precision, .. } | ScalarType::Time { precision, .. } => Some(precision.unwrap_or(6)),
                _ => None,
            };
            match (scale(&old.ty.scalar), scale(&new.ty.scalar), fraction(&old.ty.scalar), fraction(&new.ty.scalar)) {
                (Some(a), Some(b), _, _) if b < a => format!("rounds every value of {table}.{column} to {b} decimal places"),
                (_, _, Some(a), Some(b)) if b < a => format!("rounds every value of {table}.{column} to {b} fractional-second digits"),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(Finding::new(Hazard::DeletesData, message))
}
