//! `rewrites-table`: a type change that is not a relabel, or a new column whose
//! values must be computed for every existing row (serial, identity, stored
//! generated, a volatile default). On SQLite, every table rebuild.

use schemaforge_diff::{ColumnChange, Step, TypeChange, classify_type_change};
use schemaforge_model::ColumnDefault;

use super::Context;
use crate::{Finding, Hazard};

/// Functions whose value differs per row: a default calling one is computed for each row.
const VOLATILE: [&str; 7] =
    ["random(", "gen_random_uuid(", "uuid_generate_v4(", "clock_timestamp(", "nextval(", "timeofday(", "statement_timestamp("];

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    let sqlite = context.dialect() == schemaforge_model::Dialect::Sqlite;
    let message = match step {
        Step::RebuildTable { table, .. } => format!(
            "rebuilds table {table}: copies every row into a new table and swaps it in, holding the database's write lock meanwhile"
        ),
        // SQLite changes a column only by rebuilding its table (above).
        _ if sqlite => return None,
        Step::AlterColumn { table, column, change: ColumnChange::SetType } if context.existing(table) => {
            let (old, new) = context.column_pair(table, column)?;
            if old.ty == new.ty {
                // Same type name: an enum rebuilt with other values.
                format!("rewrites table {table} to convert {column} to the rebuilt enum")
            } else if classify_type_change(&old.ty, &new.ty) == TypeChange::Relabel {
                return None;
            } else {
                format!("rewrites table {table} to convert column {column}")
            }
        }
        Step::AddColumn { table, column } if context.existing(table) => {
            let c = context.new_column(table, column)?;
            let volatile = match &c.default {
                Some(ColumnDefault::Sql(sql)) => {
                    let lower = sql.to_ascii_lowercase();
                    VOLATILE.iter().any(|f| lower.contains(f))
                }
                _ => false,
            };
            if c.ty.scalar.is_serial() || c.identity.is_some() || c.generated.is_some() || volatile {
                format!("rewrites table {table} to compute {column} for every existing row")
            } else {
                return None;
            }
        }
        _ => return None,
    };
    Some(Finding::new(Hazard::RewritesTable, message))
}
