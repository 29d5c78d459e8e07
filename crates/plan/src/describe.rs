//! Plain-language descriptions of steps: the plan's change list (and the
//! changelog built from it) and the default name of a generated migration.

use schemaforge_diff::{ColumnChange, Step};

/// One line describing `step`, or `None` for steps that are part of another
/// change (the halves of an enum rebuild, a default dropped around a type change).
pub fn describe(step: &Step, steps: &[Step]) -> Option<String> {
    let rebuilds = |name: &schemaforge_model::QualifiedName| steps.contains(&Step::RenameEnumAside { name: name.clone() });
    let text = match step {
        Step::RunSqlBefore => "run the changed `sql.before` statements".to_string(),
        Step::RunSqlAfter => "run the changed `sql.after` statements".to_string(),
        Step::CreateSchema { name } => format!("create schema {name}"),
        Step::DropSchema { name } => format!("drop schema {name}"),
        Step::CreateExtension { name } => format!("install extension {name}"),
        Step::DropExtension { name } => format!("remove extension {name}"),
        Step::CreateEnum { name } if rebuilds(name) => return None,
        Step::CreateEnum { name } => format!("create enum {name}"),
        Step::AddEnumValue { name, value, .. } => format!("add value '{value}' to enum {name}"),
        Step::RenameEnumValue { name, from, to } => format!("rename value '{from}' of enum {name} to '{to}'"),
        Step::RenameEnumAside { name } => format!("rebuild enum {name} with its new values, converting its columns"),
        Step::DropEnumAside { .. } => return None,
        Step::DropEnum { name } => format!("drop enum {name}"),
        Step::CreateRole { name } => format!("create role {name}"),
        Step::AlterRole { name } => format!("change role {name}"),
        Step::DropRole { name } => format!("drop role {name}"),
        Step::DropPolicy { table, name } => format!("drop policy {name} on {table}"),
        Step::DisableRowLevelSecurity { table } => format!("disable row-level security on {table}"),
        Step::EnableRowLevelSecurity { table } => format!("enable row-level security on {table}"),
        Step::DropForeignKey { table, name } => format!("drop foreign key {name} on {table}"),
        Step::DropIndex { table, name, concurrently } => format!("drop index {name} on {table}{}", concurrently_suffix(*concurrently)),
        Step::DropConstraint { table, name } => format!("drop constraint {name} on {table}"),
        Step::RenameTable { from, to } => format!("rename table {from} to {}", to.name),
        Step::RenameColumn { table, from, to } => format!("rename column {table}.{from} to {to}"),
        Step::RenameConstraint { table, from, to } => format!("rename constraint {from} on {table} to {to}"),
        Step::RenameIndex { table, from, to } => format!("rename index {from} on {table} to {to}"),
        Step::RenameSequence { table, from, to } => format!("rename sequence {from} of {table} to {to}"),
        Step::RenameSerialSequence { .. } => return None,
        Step::CreateTable { table } => format!("create table {table}"),
        Step::DropTable { table } => format!("drop table {table}"),
        Step::RebuildTable { table, changes } => {
            let what: Vec<String> = changes.iter().filter_map(|c| describe(c, changes)).collect();
            format!("rebuild table {table} to {}", what.join(", "))
        }
        Step::DropColumn { table, column } if steps.contains(&Step::AddColumn { table: table.clone(), column: column.clone() }) => {
            format!("rebuild generated column {table}.{column}")
        }
        Step::DropColumn { table, column } => format!("drop column {table}.{column}"),
        Step::AddColumn { table, column } if steps.contains(&Step::DropColumn { table: table.clone(), column: column.clone() }) => {
            return None;
        }
        Step::AddColumn { table, column } => format!("add column {table}.{column}"),
        Step::AlterColumn { table, column, change } => match change {
            // Defaults dropped and set around a type change are part of it.
            ColumnChange::DropDefault | ColumnChange::SetDefault
                if steps.contains(&Step::AlterColumn { table: table.clone(), column: column.clone(), change: ColumnChange::SetType }) =>
            {
                return None;
            }
            ColumnChange::DropDefault => format!("drop the default of {table}.{column}"),
            ColumnChange::SetDefault => format!("set the default of {table}.{column}"),
            ColumnChange::DropNotNull => format!("make {table}.{column} nullable"),
            ColumnChange::SetNotNull => format!("make {table}.{column} NOT NULL"),
            ColumnChange::SetType => format!("change the type of {table}.{column}"),
            ColumnChange::AddIdentity => format!("make {table}.{column} an identity column"),
            ColumnChange::DropIdentity => format!("drop the identity of {table}.{column}"),
            ColumnChange::AlterIdentity => format!("change the identity of {table}.{column}"),
        },
        Step::AddPrimaryKey { table, name } => format!("add primary key {name} on {table}"),
        Step::AddUnique { table, name } => format!("add unique constraint {name} on {table}"),
        Step::AddCheck { table, name, .. } => format!("add check {name} on {table}"),
        Step::CreateIndex { table, name, concurrently } => format!("create index {name} on {table}{}", concurrently_suffix(*concurrently)),
        Step::AddForeignKey { table, name, .. } => format!("add foreign key {name} on {table}"),
        // The second half of adding a check or foreign key to an existing table.
        Step::ValidateConstraint { .. } => return None,
        Step::CreatePolicy { table, name } => format!("create policy {name} on {table}"),
        Step::AlterPolicy { table, name } => format!("change policy {name} on {table}"),
        Step::CommentOnTable { table } => format!("comment on table {table}"),
        Step::CommentOnColumn { table, column } => format!("comment on column {table}.{column}"),
    };
    Some(text)
}

fn concurrently_suffix(concurrently: bool) -> &'static str {
    if concurrently { " concurrently" } else { "" }
}

/// A readable migration name from what the steps change (`add_comments`,
/// `drop_users_bio_and_more`), at most 60 characters of `[a-z0-9_]`.
pub fn migration_name(steps: &[Step]) -> String {
    let slug_of = |step: &Step| -> Option<(u8, String)> {
        let slug = match step {
            Step::CreateTable { table } => (0, format!("add_{}", table.name)),
            Step::RenameTable { from, to } => (1, format!("rename_{}_to_{}", from.name, to.name)),
            Step::DropTable { table } => (2, format!("drop_{}", table.name)),
            Step::AddColumn { table, column } => (3, format!("add_{}_{column}", table.name)),
            Step::DropColumn { table, column } => (4, format!("drop_{}_{column}", table.name)),
            Step::RenameColumn { table, from, to } => (5, format!("rename_{}_{from}_to_{to}", table.name)),
            Step::AlterColumn { table, column, .. } => (6, format!("alter_{}_{column}", table.name)),
            Step::AddEnumValue { name, value, .. } => (7, format!("add_{}_{value}", name.name)),
            Step::RenameEnumAside { name } => (7, format!("change_{}", name.name)),
            Step::RenameEnumValue { name, to, .. } => (7, format!("rename_{}_{to}", name.name)),
            Step::CreateEnum { name } => (7, format!("add_{}", name.name)),
            Step::CreateIndex { table, name, .. } | Step::DropIndex { table, name, .. } => (8, format!("index_{}_{name}", table.name)),
            Step::AddForeignKey { table, .. }
            | Step::AddUnique { table, .. }
            | Step::AddCheck { table, .. }
            | Step::AddPrimaryKey { table, .. }
            | Step::DropForeignKey { table, .. }
            | Step::DropConstraint { table, .. } => (9, format!("constraints_{}", table.name)),
            Step::CreatePolicy { table, .. } | Step::AlterPolicy { table, .. } | Step::DropPolicy { table, .. } => {
                (10, format!("policies_{}", table.name))
            }
            _ => return None,
        };
        Some(slug)
    };
    let flattened: Vec<&Step> = steps
        .iter()
        .flat_map(|s| match s {
            Step::RebuildTable { changes, .. } => changes.iter().collect(),
            other => vec![other],
        })
        .collect();
    let mut slugs: Vec<(u8, String)> = flattened.into_iter().filter_map(slug_of).collect();
    slugs.sort_by_key(|(priority, _)| *priority);
    let distinct: std::collections::BTreeSet<&String> = slugs.iter().map(|(_, s)| s).collect();
    let base = slugs.first().map(|(_, s)| s.clone()).unwrap_or_else(|| "update".to_string());
    let name = if distinct.len() > 1 { format!("{base}_and_more") } else { base };
    let cleaned: String = name.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    cleaned.chars().take(60).collect::<String>().trim_end_matches('_').to_string()
}
