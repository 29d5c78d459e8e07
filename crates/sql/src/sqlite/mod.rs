//! SQLite rendering, in drizzle-kit 0.31's statement style.
//!
//! Statements are spelled as drizzle-kit spells them for SQLite (backticks,
//! foreign keys inside `CREATE TABLE`, uniques as unique indexes) so a
//! migration folder reads the same whichever tool wrote it. A table SQLite
//! cannot alter in place is rebuilt (`Step::RebuildTable`, planned by the
//! diff): a new table, the rows copied (following renames, backfilling a new
//! NOT NULL from the default, relabelling renamed enum values), the old
//! table dropped, the new one renamed into place and its indexes re-created.
//! The final rename runs with `legacy_alter_table` on, so a view over the
//! table (from the definition's own SQL) does not stop it, and the triggers
//! `sql.after` creates on the table, which go with the old one, are created
//! again. The rebuild is bracketed by `PRAGMA foreign_keys=OFF`/`ON`, which only take
//! effect outside a transaction: whoever applies the migration turns foreign
//! keys off before its transaction and runs `PRAGMA foreign_key_check` before
//! committing (see the `db` crate), so no child row is deleted or orphaned.
//!
//! Steps that only PostgreSQL has (schemas, enum types, roles, policies,
//! comments, `ALTER COLUMN`) are never planned for SQLite; rendering one is a
//! `RenderError`, not SQL.

mod ddl;
mod values;

use schemaforge_diff::{Pairing, Step};
use schemaforge_model::{Column, ColumnDefault, QualifiedName, ScalarType, Schema, Table};

pub use values::{default_sql, quote_ident, quote_literal, type_sql};

use crate::{RenderError, Statement};

/// Turns foreign-key enforcement off (outside a transaction) and back on.
pub const FOREIGN_KEYS_OFF: &str = "PRAGMA foreign_keys=OFF";
pub const FOREIGN_KEYS_ON: &str = "PRAGMA foreign_keys=ON";

/// Renames that do not check or rewrite the rest of the schema (views,
/// triggers), for the moment a rebuilt table moves into place. Unlike
/// `foreign_keys`, this pragma takes effect inside a transaction.
pub const LEGACY_ALTER_TABLE_ON: &str = "PRAGMA legacy_alter_table=ON";
pub const LEGACY_ALTER_TABLE_OFF: &str = "PRAGMA legacy_alter_table=OFF";

/// The name a table is rebuilt under before it is renamed into place.
pub fn rebuild_name(table: &str) -> String {
    format!("__new_{table}")
}

struct Lookup<'p, 'a> {
    to: &'a Schema,
    pairing: &'p Pairing<'a>,
}

impl<'a> Lookup<'_, 'a> {
    fn new_table(&self, name: &QualifiedName) -> Result<&'a Table, RenderError> {
        self.pairing.new_table(name).ok_or_else(|| missing("table", &name.to_string()))
    }

    fn old_table(&self, name: &QualifiedName) -> Result<&'a Table, RenderError> {
        self.pairing.old_table(name).ok_or_else(|| missing("table", &name.to_string()))
    }
}

fn missing(what: &str, name: &str) -> RenderError {
    RenderError::MissingObject(format!("{what} `{name}`"))
}

fn only_postgres(step: &Step) -> RenderError {
    RenderError::NotInDialect { what: format!("{step:?}"), dialect: "SQLite" }
}

pub(crate) fn render(from: &Schema, to: &Schema, steps: &[Step]) -> Result<Vec<Statement>, RenderError> {
    Ok(render_each(&Pairing::new(from, to), steps)?.into_iter().flatten().collect())
}

/// The statements of each step apart; the schemas are paired once for all of them.
pub(crate) fn render_each(pairing: &Pairing<'_>, steps: &[Step]) -> Result<Vec<Vec<Statement>>, RenderError> {
    let lookup = Lookup { to: pairing.schemas.to, pairing };
    steps
        .iter()
        .map(|step| Ok(render_step(&lookup, step)?.into_iter().map(|sql| Statement { step: step.clone(), sql }).collect()))
        .collect()
}

fn render_step(lookup: &Lookup<'_, '_>, step: &Step) -> Result<Vec<String>, RenderError> {
    let to = lookup.to;
    let one = |sql: String| Ok(vec![sql]);
    match step {
        Step::RunSqlBefore => Ok(to.custom_sql.before.clone()),
        Step::RunSqlAfter => Ok(to.custom_sql.after.clone()),
        Step::CreateTable { table } => one(ddl::create_table(lookup.new_table(table)?, &table.name)?),
        Step::DropTable { table } => {
            lookup.old_table(table)?;
            let drop = format!("DROP TABLE {}", quote_ident(&table.name));
            // Dropping a table that others reference deletes their rows
            // (ON DELETE CASCADE) or fails while foreign keys are enforced.
            let referenced = lookup
                .pairing
                .schemas
                .from
                .tables
                .iter()
                .any(|t| t.name != *table && t.foreign_keys.iter().any(|fk| &fk.referenced_table == table));
            Ok(if referenced { vec![FOREIGN_KEYS_OFF.to_string(), drop, FOREIGN_KEYS_ON.to_string()] } else { vec![drop] })
        }
        Step::RebuildTable { table, .. } => rebuild(lookup, table),
        Step::RenameTable { from, to } => one(format!("ALTER TABLE {} RENAME TO {}", quote_ident(&from.name), quote_ident(&to.name))),
        Step::RenameColumn { table, from, to } => {
            one(format!("ALTER TABLE {} RENAME COLUMN {} TO {}", quote_ident(&table.name), quote_ident(from), quote_ident(to)))
        }
        Step::AddColumn { table, column } => {
            let t = lookup.new_table(table)?;
            let c = t.column(column).ok_or_else(|| missing("column", column))?;
            one(format!("ALTER TABLE {} ADD {}", quote_ident(&table.name), ddl::column_definition(t, c)?))
        }
        Step::DropColumn { table, column } => one(format!("ALTER TABLE {} DROP COLUMN {}", quote_ident(&table.name), quote_ident(column))),
        Step::CreateIndex { table, name, .. } => {
            let t = lookup.new_table(table)?;
            let index = t.indexes.iter().find(|i| &i.name == name).ok_or_else(|| missing("index", name))?;
            one(ddl::create_index(t, index))
        }
        Step::AddUnique { table, name } => {
            let t = lookup.new_table(table)?;
            let unique = t.uniques.iter().find(|u| &u.name == name).ok_or_else(|| missing("unique constraint", name))?;
            one(ddl::create_unique_index(t, unique))
        }
        Step::DropIndex { name, .. } => one(format!("DROP INDEX {}", quote_ident(name))),
        Step::DropConstraint { table, name } => {
            // Only a unique constraint (a unique index) is dropped on its own;
            // the diff rebuilds the table to drop anything else.
            if lookup.old_table(table)?.uniques.iter().any(|u| &u.name == name) {
                one(format!("DROP INDEX {}", quote_ident(name)))
            } else {
                Err(only_postgres(step))
            }
        }
        Step::CreateSchema { .. }
        | Step::CreateExtension { .. }
        | Step::CreateEnum { .. }
        | Step::RenameEnumValue { .. }
        | Step::AddEnumValue { .. }
        | Step::RenameEnumAside { .. }
        | Step::CreateRole { .. }
        | Step::AlterRole { .. }
        | Step::DropPolicy { .. }
        | Step::DisableRowLevelSecurity { .. }
        | Step::DropForeignKey { .. }
        | Step::RenameConstraint { .. }
        | Step::RenameIndex { .. }
        | Step::RenameSequence { .. }
        | Step::RenameSerialSequence { .. }
        | Step::AlterColumn { .. }
        | Step::AddPrimaryKey { .. }
        | Step::AddCheck { .. }
        | Step::AddForeignKey { .. }
        | Step::ValidateConstraint { .. }
        | Step::EnableRowLevelSecurity { .. }
        | Step::CreatePolicy { .. }
        | Step::AlterPolicy { .. }
        | Step::CommentOnTable { .. }
        | Step::CommentOnColumn { .. }
        | Step::DropEnumAside { .. }
        | Step::DropEnum { .. }
        | Step::DropRole { .. }
        | Step::DropExtension { .. }
        | Step::DropSchema { .. } => Err(only_postgres(step)),
    }
}

/// The statements that rebuild `table` (by its new name, after any renames
/// ran) into its new definition.
fn rebuild(lookup: &Lookup<'_, '_>, table: &QualifiedName) -> Result<Vec<String>, RenderError> {
    let new = lookup.new_table(table)?;
    let pair = lookup
        .pairing
        .tables
        .iter()
        .find(|p| &p.tables.to.name == table)
        .ok_or_else(|| missing("previous version of table", &table.name))?;
    let old = pair.tables.from;
    let temporary = rebuild_name(&table.name);
    let (quoted, quoted_temporary) = (quote_ident(&table.name), quote_ident(&temporary));
    let mut statements = vec![FOREIGN_KEYS_OFF.to_string(), ddl::create_table(new, &temporary)?];
    let copied: Vec<(String, String)> = pair
        .columns
        .iter()
        .filter(|c| c.to.generated.is_none())
        .map(|c| (quote_ident(&c.to.name), copy_expression(lookup, c.from, c.to)))
        .collect();
    if !copied.is_empty() {
        let (targets, sources): (Vec<String>, Vec<String>) = copied.into_iter().unzip();
        statements.push(format!("INSERT INTO {quoted_temporary}({}) SELECT {} FROM {quoted}", targets.join(", "), sources.join(", ")));
    }
    let counts = |t: &Table| t.columns.iter().any(|c| schemaforge_model::sqlite::autoincrement(t, c));
    if counts(old) && counts(new) {
        // Keep AUTOINCREMENT's high-water mark, so deleted ids are never reused.
        statements.push(format!("DELETE FROM sqlite_sequence WHERE name = {}", quote_literal(&temporary)));
        statements.push(format!(
            "INSERT INTO sqlite_sequence (name, seq) SELECT {}, seq FROM sqlite_sequence WHERE name = {}",
            quote_literal(&temporary),
            quote_literal(&table.name)
        ));
    }
    statements.push(format!("DROP TABLE {quoted}"));
    // A view over the table (from the definition's own SQL) names it while it
    // is gone; SQLite's checking rename would refuse to move the new one in.
    statements.push(LEGACY_ALTER_TABLE_ON.to_string());
    statements.push(format!("ALTER TABLE {quoted_temporary} RENAME TO {quoted}"));
    statements.push(LEGACY_ALTER_TABLE_OFF.to_string());
    statements.push(FOREIGN_KEYS_ON.to_string());
    statements.extend(new.uniques.iter().map(|u| ddl::create_unique_index(new, u)));
    statements.extend(new.indexes.iter().map(|i| ddl::create_index(new, i)));
    // The old table's triggers went with it: the definition's own SQL made them.
    let ours = table.name.to_ascii_lowercase();
    statements.extend(
        lookup
            .to
            .custom_sql
            .after
            .iter()
            .filter(|s| schemaforge_fragment::sqlite_trigger_table(s).as_deref() == Some(ours.as_str()))
            .cloned(),
    );
    Ok(statements)
}

/// What a rebuilt column is filled from: the old value (by its new name: the
/// renames ran before), with NULLs replaced by the new default when the
/// column becomes NOT NULL, and renamed enum labels relabelled.
fn copy_expression(lookup: &Lookup<'_, '_>, old: &Column, new: &Column) -> String {
    let mut value = quote_ident(&new.name);
    if let (ScalarType::Enum(a), ScalarType::Enum(b)) = (&old.ty.scalar, &new.ty.scalar)
        && a == b
    {
        let renames = schemaforge_diff::enum_value_renames(lookup.pairing.schemas.from, lookup.to, b);
        if !renames.is_empty() {
            let arms: String =
                renames.iter().map(|(from, to)| format!(" WHEN {} THEN {}", quote_literal(from), quote_literal(to))).collect();
            value = format!("CASE {value}{arms} ELSE {value} END");
        }
    }
    let backfilled = new.default.as_ref().is_some_and(|d| !matches!(d, ColumnDefault::Value(serde_json::Value::Null)));
    if new.not_null
        && !old.not_null
        && backfilled
        && let Some(default) = default_sql(new)
    {
        value = format!("COALESCE({value}, {default})");
    }
    value
}
