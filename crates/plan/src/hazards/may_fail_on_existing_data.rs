//! `may-fail-on-existing-data`: the step is fine on an empty table but fails on
//! rows that do not satisfy it. Before running it against a database, the
//! facts (NULL counts, duplicates) can be measured.

use schemaforge_diff::{ColumnChange, Step, TypeChange, classify_type_change};
use schemaforge_model::{QualifiedName, ScalarType};

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    let message = match step {
        Step::AlterColumn { table, column, change: ColumnChange::SetNotNull } if context.existing(table) => {
            let c = context.new_column(table, column)?;
            if c.default.is_some() {
                return None; // NULLs are backfilled first
            }
            format!("fails if {table}.{column} holds NULLs: give the column a default to backfill them")
        }
        Step::AddColumn { table, column } if context.existing(table) => {
            let c = context.new_column(table, column)?;
            if !c.not_null || c.default.is_some() || c.ty.scalar.is_serial() || c.identity.is_some() || c.generated.is_some() {
                return None;
            }
            format!("fails if {table} has rows: NOT NULL column {column} has no default to fill them")
        }
        // SQLite stores a value of any type in any column: only checks (an
        // enum's labels among them) can refuse one, and they are steps of their own.
        Step::AlterColumn { table, column, change: ColumnChange::SetType }
            if context.existing(table) && context.dialect() == schemaforge_model::Dialect::Postgresql =>
        {
            let (old, new) = context.column_pair(table, column)?;
            if let ScalarType::Enum(name) = &new.ty.scalar
                && old.ty == new.ty
            {
                // A rebuild that only adds values converts every row.
                let removed = context.removed_enum_values(name);
                if removed.is_empty() {
                    return None;
                }
                let values: Vec<String> = removed.iter().map(|v| format!("'{v}'")).collect();
                format!(
                    "fails if a row of {table}.{column} holds {}, which enum {name} no longer has (such a row makes the migration fail; its value is never dropped)",
                    values.join(" or ")
                )
            } else {
                match classify_type_change(&old.ty, &new.ty) {
                    TypeChange::Narrow => format!(
                        "fails if a value of {table}.{column} does not fit the new type (such a value makes the migration fail; it is never cut)"
                    ),
                    TypeChange::Convert => format!("fails if a value of {table}.{column} does not convert to the new type"),
                    TypeChange::Relabel | TypeChange::Widen => return None,
                }
            }
        }
        Step::AddPrimaryKey { table, name } if context.existing(table) => {
            format!("fails if rows of {table} hold NULLs or duplicates in the columns of {name}")
        }
        Step::AddUnique { table, name } if context.existing(table) => {
            format!("fails if rows of {table} hold duplicates in the columns of {name}")
        }
        Step::CreateIndex { table, name, .. } if context.existing(table) => {
            let unique = context.new_table(table)?.indexes.iter().any(|i| &i.name == name && i.unique);
            if !unique {
                return None;
            }
            format!("fails if rows of {table} hold duplicates for unique index {name}")
        }
        // Added `NOT VALID`, the constraint leaves existing rows to `ValidateConstraint`.
        Step::AddCheck { table, name, not_valid: false } if context.existing(table) => violates_check(table, name),
        Step::AddForeignKey { table, name, not_valid: false } if context.existing(table) => dangles(table, name),
        // A SQLite rebuild checks every copied row against the new table's checks
        // and, before it commits, every foreign key (`PRAGMA foreign_key_check`).
        Step::AddCheck { table, name, not_valid: true } if context.dialect() == schemaforge_model::Dialect::Sqlite => {
            violates_check(table, name)
        }
        Step::AddForeignKey { table, name, not_valid: true } if context.dialect() == schemaforge_model::Dialect::Sqlite => {
            dangles(table, name)
        }
        Step::ValidateConstraint { table, name } if context.existing(table) => {
            if context.is_foreign_key(table, name) {
                dangles(table, name)
            } else {
                violates_check(table, name)
            }
        }
        _ => return None,
    };
    Some(Finding::new(Hazard::MayFailOnExistingData, message))
}

fn violates_check(table: &QualifiedName, name: &str) -> String {
    format!("fails if rows of {table} violate check {name}")
}

fn dangles(table: &QualifiedName, name: &str) -> String {
    format!("fails if rows of {table} reference rows that do not exist ({name})")
}
