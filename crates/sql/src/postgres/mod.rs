//! PostgreSQL rendering, in drizzle-kit 0.31's statement style.
//!
//! Statements are spelled the way drizzle-kit spells them (public objects
//! unqualified, enum types and foreign-key targets qualified, lower-case
//! referential actions, `USING btree` spelled out) so a migration folder
//! reads the same whichever tool wrote it. Where drizzle-kit's spelling is
//! wrong SQL (unescaped quotes in literals, an operator class that swallows
//! `DESC`), we write the correct SQL instead.
//!
//! `render` matches every `Step` explicitly; the text of whole objects lives in
//! `ddl`, the spelling of names, types and values in `values`.

mod ddl;
mod values;

use schemaforge_diff::{ColumnChange, Pairing, Step, TypeChange, classify_type_change};
use schemaforge_model::{Column, QualifiedName, ScalarType, Schema, Table};

pub use ddl::index_element_sql;
pub use values::{default_sql, literal_sql, qualified, quote_ident, quote_literal, relation, type_sql};

use crate::{RenderError, Statement};

/// The objects the steps of one migration refer to.
struct Lookup<'p, 'a> {
    to: &'a Schema,
    pairing: &'p Pairing<'a>,
}

impl<'p, 'a> Lookup<'p, 'a> {
    fn new(pairing: &'p Pairing<'a>) -> Self {
        Lookup { to: pairing.schemas.to, pairing }
    }

    fn new_table(&self, name: &QualifiedName) -> Result<&'a Table, RenderError> {
        self.pairing.new_table(name).ok_or_else(|| missing("table", &name.to_string()))
    }

    fn old_table(&self, name: &QualifiedName) -> Result<&'a Table, RenderError> {
        self.pairing.old_table(name).ok_or_else(|| missing("table", &name.to_string()))
    }

    fn new_column(&self, table: &QualifiedName, column: &str) -> Result<(&'a Table, &'a Column), RenderError> {
        let t = self.new_table(table)?;
        Ok((t, t.column(column).ok_or_else(|| missing("column", column))?))
    }

    /// The old version of a column that exists in both schemas.
    fn old_column(&self, table: &QualifiedName, column: &str) -> Option<&'a Column> {
        let pair = self.pairing.pair_of_new(table)?;
        pair.columns.iter().find(|c| c.to.name == column).map(|c| c.from)
    }
}

fn not_valid_clause(not_valid: bool) -> &'static str {
    if not_valid { " NOT VALID" } else { "" }
}

fn missing(what: &str, name: &str) -> RenderError {
    RenderError::MissingObject(format!("{what} `{name}`"))
}

fn find<'a, T>(items: &'a [T], what: &str, name: &str, matches: impl Fn(&T) -> bool) -> Result<&'a T, RenderError> {
    items.iter().find(|i| matches(i)).ok_or_else(|| missing(what, name))
}

pub(crate) fn render(from: &Schema, to: &Schema, steps: &[Step]) -> Result<Vec<Statement>, RenderError> {
    Ok(render_each(&Pairing::new(from, to), steps)?.into_iter().flatten().collect())
}

/// The statements of each step apart; the schemas are indexed once for all of them.
pub(crate) fn render_each(pairing: &Pairing<'_>, steps: &[Step]) -> Result<Vec<Vec<Statement>>, RenderError> {
    let lookup = Lookup::new(pairing);
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
        Step::CreateSchema { name } => one(format!("CREATE SCHEMA {}", quote_ident(name))),
        Step::DropSchema { name } => one(format!("DROP SCHEMA {}", quote_ident(name))),
        Step::CreateExtension { name } => one(ddl::create_extension(find(&to.extensions, "extension", name, |e| &e.name == name)?)),
        Step::DropExtension { name } => one(format!("DROP EXTENSION IF EXISTS {}", quote_ident(name))),
        Step::CreateEnum { name } => one(ddl::create_enum(find(&to.enums, "enum", &name.to_string(), |e| &e.name == name)?)),
        Step::DropEnum { name } => one(format!("DROP TYPE {}", qualified(name))),
        Step::AddEnumValue { name, value, before } => {
            let position = before.as_ref().map(|b| format!(" BEFORE {}", quote_literal(b))).unwrap_or_default();
            one(format!("ALTER TYPE {} ADD VALUE {}{position}", qualified(name), quote_literal(value)))
        }
        Step::RenameEnumValue { name, from, to } => {
            one(format!("ALTER TYPE {} RENAME VALUE {} TO {}", qualified(name), quote_literal(from), quote_literal(to)))
        }
        Step::RenameEnumAside { name } => one(format!("ALTER TYPE {} RENAME TO {}", qualified(name), quote_ident(&aside(&name.name)))),
        Step::DropEnumAside { name } => {
            one(format!("DROP TYPE {}", qualified(&QualifiedName::new(name.schema.clone(), aside(&name.name)))))
        }
        Step::CreateRole { name } => one(ddl::create_role(find(&to.roles, "role", name, |r| &r.name == name)?)),
        Step::AlterRole { name } => one(ddl::alter_role(find(&to.roles, "role", name, |r| &r.name == name)?)),
        Step::DropRole { name } => one(format!("DROP ROLE {}", quote_ident(name))),
        Step::DropPolicy { table, name } => one(format!("DROP POLICY {} ON {}", quote_ident(name), relation(table))),
        Step::DisableRowLevelSecurity { table } => one(format!("ALTER TABLE {} DISABLE ROW LEVEL SECURITY", relation(table))),
        Step::EnableRowLevelSecurity { table } => {
            one(format!("ALTER TABLE {} ENABLE ROW LEVEL SECURITY", relation(&lookup.new_table(table)?.name)))
        }
        Step::DropForeignKey { table, name } | Step::DropConstraint { table, name } => {
            one(format!("ALTER TABLE {} DROP CONSTRAINT {}", relation(table), quote_ident(name)))
        }
        Step::DropIndex { table, name, concurrently } => one(format!(
            "DROP INDEX {}{}",
            if *concurrently { "CONCURRENTLY " } else { "" },
            relation(&QualifiedName::new(table.schema.clone(), name.clone()))
        )),
        Step::RenameTable { from: old, to: new } => one(format!("ALTER TABLE {} RENAME TO {}", relation(old), quote_ident(&new.name))),
        Step::RenameColumn { table, from: old, to: new } => {
            one(format!("ALTER TABLE {} RENAME COLUMN {} TO {}", relation(table), quote_ident(old), quote_ident(new)))
        }
        Step::RenameConstraint { table, from: old, to: new } => {
            one(format!("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", relation(table), quote_ident(old), quote_ident(new)))
        }
        Step::RenameIndex { table, from: old, to: new } => {
            one(format!("ALTER INDEX {} RENAME TO {}", relation(&QualifiedName::new(table.schema.clone(), old.clone())), quote_ident(new)))
        }
        Step::RenameSequence { table, from: old, to: new } => one(format!(
            "ALTER SEQUENCE {} RENAME TO {}",
            relation(&QualifiedName::new(table.schema.clone(), old.clone())),
            quote_ident(new)
        )),
        Step::RenameSerialSequence { table, column } => {
            // The old name is whatever PostgreSQL chose; ask it.
            let new = schemaforge_model::names::sequence(&table.name, column);
            one(format!(
                "DO $$ BEGIN EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', pg_get_serial_sequence({}, {}), {}); END $$",
                quote_literal(&relation(table)),
                quote_literal(column),
                quote_literal(&new)
            ))
        }
        Step::CreateTable { table } => one(ddl::create_table(lookup.new_table(table)?)),
        Step::DropTable { table } => {
            // No CASCADE: everything that depends on the table was dropped by
            // earlier steps, and anything else must make this fail, not vanish.
            lookup.old_table(table)?;
            one(format!("DROP TABLE {}", relation(table)))
        }
        Step::RebuildTable { .. } => Err(RenderError::NotInDialect { what: "a table rebuild".into(), dialect: "PostgreSQL" }),
        Step::DropColumn { table, column } => one(format!("ALTER TABLE {} DROP COLUMN {}", relation(table), quote_ident(column))),
        Step::AddColumn { table, column } => {
            let (t, c) = lookup.new_column(table, column)?;
            // The primary key and uniques are added by their own steps.
            one(format!("ALTER TABLE {} ADD COLUMN {}", relation(&t.name), ddl::column_definition(t, c, false)))
        }
        Step::AlterColumn { table, column, change } => alter_column(lookup, table, column, *change),
        Step::AddPrimaryKey { table, name } => {
            let t = lookup.new_table(table)?;
            let pk = t.primary_key.as_ref().filter(|pk| &pk.name == name).ok_or_else(|| missing("primary key", name))?;
            one(format!("ALTER TABLE {} ADD {}", relation(&t.name), ddl::primary_key_constraint(pk)))
        }
        Step::AddUnique { table, name } => {
            let t = lookup.new_table(table)?;
            one(format!(
                "ALTER TABLE {} ADD {}",
                relation(&t.name),
                ddl::unique_constraint(find(&t.uniques, "unique constraint", name, |u| &u.name == name)?)
            ))
        }
        Step::AddCheck { table, name, not_valid } => {
            let t = lookup.new_table(table)?;
            one(format!(
                "ALTER TABLE {} ADD {}{}",
                relation(&t.name),
                ddl::check_constraint(find(&t.checks, "check", name, |c| &c.name == name)?),
                not_valid_clause(*not_valid)
            ))
        }
        Step::CreateIndex { table, name, concurrently } => {
            let t = lookup.new_table(table)?;
            one(ddl::create_index(t, find(&t.indexes, "index", name, |i| &i.name == name)?, *concurrently))
        }
        Step::AddForeignKey { table, name, not_valid } => {
            let t = lookup.new_table(table)?;
            let fk = find(&t.foreign_keys, "foreign key", name, |f| &f.name == name)?;
            one(format!("{}{}", ddl::add_foreign_key(t, fk), not_valid_clause(*not_valid)))
        }
        Step::ValidateConstraint { table, name } => {
            one(format!("ALTER TABLE {} VALIDATE CONSTRAINT {}", relation(&lookup.new_table(table)?.name), quote_ident(name)))
        }
        Step::CreatePolicy { table, name } => {
            let t = lookup.new_table(table)?;
            one(ddl::create_policy(t, find(&t.policies, "policy", name, |p| &p.name == name)?))
        }
        Step::AlterPolicy { table, name } => {
            let t = lookup.new_table(table)?;
            one(ddl::alter_policy(t, find(&t.policies, "policy", name, |p| &p.name == name)?))
        }
        Step::CommentOnTable { table } => {
            let t = lookup.new_table(table)?;
            one(format!("COMMENT ON TABLE {} IS {}", relation(&t.name), comment(t.comment.as_deref())))
        }
        Step::CommentOnColumn { table, column } => {
            let (t, c) = lookup.new_column(table, column)?;
            one(format!("COMMENT ON COLUMN {}.{} IS {}", relation(&t.name), quote_ident(&c.name), comment(c.comment.as_deref())))
        }
    }
}

fn comment(text: Option<&str>) -> String {
    text.map(quote_literal).unwrap_or_else(|| "NULL".to_string())
}

/// The name an enum is renamed to while its replacement is built. PostgreSQL
/// would truncate a name over 63 bytes; we truncate first, on a char boundary,
/// so the name we drop later is the name we made.
fn aside(name: &str) -> String {
    const SUFFIX: &str = "__old";
    let mut cut = name.len().min(63 - SUFFIX.len());
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{SUFFIX}", &name[..cut])
}

fn alter_column(lookup: &Lookup<'_, '_>, table: &QualifiedName, column: &str, change: ColumnChange) -> Result<Vec<String>, RenderError> {
    let (t, c) = lookup.new_column(table, column)?;
    let prefix = format!("ALTER TABLE {} ALTER COLUMN {}", relation(&t.name), quote_ident(&c.name));
    let statements = match change {
        ColumnChange::DropDefault => vec![format!("{prefix} DROP DEFAULT")],
        ColumnChange::SetDefault => {
            let default = default_sql(c).ok_or_else(|| missing("default of column", &c.name))?;
            vec![format!("{prefix} SET DEFAULT {default}")]
        }
        ColumnChange::DropNotNull => vec![format!("{prefix} DROP NOT NULL")],
        ColumnChange::SetNotNull => {
            let mut statements = Vec::new();
            // Like Rails' change_column_null: existing NULLs take the new default first.
            if let Some(default) = default_sql(c) {
                statements.push(format!(
                    "UPDATE {} SET {} = {default} WHERE {} IS NULL",
                    relation(&t.name),
                    quote_ident(&c.name),
                    quote_ident(&c.name)
                ));
            }
            statements.push(format!("{prefix} SET NOT NULL"));
            statements
        }
        ColumnChange::SetType => set_type(lookup, t, c, &prefix)?,
        ColumnChange::AddIdentity => {
            let identity = c.identity.as_ref().ok_or_else(|| missing("identity of column", &c.name))?;
            let sequence = qualified(&ddl::sequence_name(t, identity));
            vec![
                format!("{prefix} SET NOT NULL"),
                format!("{prefix} ADD {}", ddl::identity_clause(t, identity)),
                // Rows already there hold values the new sequence would hand out again.
                format!(
                    "SELECT setval({}, GREATEST(COALESCE(MAX({}) + 1, {start}), {start}), false) FROM {}",
                    quote_literal(&sequence),
                    quote_ident(&c.name),
                    relation(&t.name),
                    start = identity.start_with
                ),
            ]
        }
        ColumnChange::DropIdentity => {
            let mut statements = vec![format!("{prefix} DROP IDENTITY")];
            if !c.not_null {
                statements.push(format!("{prefix} DROP NOT NULL"));
            }
            statements
        }
        ColumnChange::AlterIdentity => {
            let identity = c.identity.as_ref().ok_or_else(|| missing("identity of column", &c.name))?;
            vec![format!(
                "{prefix} SET GENERATED {} SET INCREMENT BY {} SET MINVALUE {} SET MAXVALUE {} SET START WITH {} SET CACHE {} SET {}",
                ddl::identity_kind(identity.kind),
                identity.increment,
                identity.min_value,
                identity.max_value,
                identity.start_with,
                identity.cache,
                if identity.cycle { "CYCLE" } else { "NO CYCLE" }
            )]
        }
    };
    Ok(statements)
}

/// A column of an enum being rebuilt, as text with its renamed values under
/// their new labels (`USING` allows no subquery, hence `array_replace`).
fn relabelled_text(lookup: &Lookup<'_, '_>, old: &Column, column: &Column, name: &str) -> String {
    let renames = match (&old.ty.scalar, &column.ty.scalar) {
        (ScalarType::Enum(a), ScalarType::Enum(b)) if a == b && old.ty == column.ty => {
            schemaforge_diff::enum_value_renames(lookup.pairing.schemas.from, lookup.to, b)
        }
        _ => Vec::new(),
    };
    if column.ty.is_array() {
        renames.iter().fold(format!("{name}::text[]"), |sql, (from, to)| {
            format!("array_replace({sql}, {}, {})", quote_literal(from), quote_literal(to))
        })
    } else if renames.is_empty() {
        format!("{name}::text")
    } else {
        let arms: String = renames.iter().map(|(from, to)| format!(" WHEN {} THEN {}", quote_literal(from), quote_literal(to))).collect();
        format!("CASE {name}::text{arms} ELSE {name}::text END")
    }
}

/// `SET DATA TYPE … USING …`, plus the sequence work serial types imply.
fn set_type(lookup: &Lookup<'_, '_>, table: &Table, column: &Column, prefix: &str) -> Result<Vec<String>, RenderError> {
    let old = lookup.old_column(&table.name, &column.name).ok_or_else(|| missing("previous version of column", &column.name))?;
    let name = quote_ident(&column.name);
    let serial_sequence = format!("pg_get_serial_sequence({}, {})", quote_literal(&relation(&table.name)), quote_literal(&column.name));
    let mut statements = Vec::new();
    let (was_serial, is_serial) = (old.ty.scalar.is_serial(), column.ty.scalar.is_serial());
    if was_serial && !is_serial {
        // The column keeps its values; the sequence that fed it goes.
        statements.push(format!("{prefix} DROP DEFAULT"));
        statements.push(format!("DO $$ BEGIN EXECUTE format('DROP SEQUENCE %s', {serial_sequence}); END $$"));
    }
    let storage =
        |c: &Column| schemaforge_model::ColumnType { scalar: c.ty.scalar.storage_type(), array_dimensions: c.ty.array_dimensions };
    let (old_storage, new_storage) = (storage(old), storage(column));
    let target = type_sql(&new_storage);
    if old_storage != new_storage || matches!(column.ty.scalar, ScalarType::Enum(_)) {
        let via_text = matches!(column.ty.scalar, ScalarType::Enum(_)) || matches!(old.ty.scalar, ScalarType::Enum(_));
        let text = if column.ty.is_array() { "text[]" } else { "text" };
        // An explicit cast to varchar(n) or char(n) silently truncates; the
        // assignment cast of SET DATA TYPE raises an error instead. So a value
        // bound for a length-limited type gets no explicit cast to it.
        let limited = matches!(new_storage.scalar, ScalarType::Varchar { length: Some(_) } | ScalarType::Char { .. });
        let from_string = old_storage.scalar.family() == schemaforge_model::TypeFamily::String;
        let using = if limited {
            (via_text || !from_string).then(|| format!("{name}::{text}"))
        } else if via_text {
            Some(format!("{}::{target}", relabelled_text(lookup, old, column, &name)))
        } else if classify_type_change(&old_storage, &new_storage) == TypeChange::Relabel {
            None
        } else {
            Some(format!("{name}::{target}"))
        };
        match using {
            Some(using) => statements.push(format!("{prefix} SET DATA TYPE {target} USING {using}")),
            None => statements.push(format!("{prefix} SET DATA TYPE {target}")),
        }
    }
    if is_serial {
        let sequence_type = type_sql(&schemaforge_model::ColumnType::scalar(column.ty.scalar.storage_type()));
        if was_serial {
            statements.push(format!("DO $$ BEGIN EXECUTE format('ALTER SEQUENCE %s AS {sequence_type}', {serial_sequence}); END $$"));
        } else {
            // What `serial` would have made: an owned sequence, positioned past the existing values.
            let sequence = qualified(&QualifiedName::new(
                table.name.schema.clone(),
                schemaforge_model::names::sequence(&table.name.name, &column.name),
            ));
            statements.push(format!("CREATE SEQUENCE {sequence} AS {sequence_type} OWNED BY {}.{name}", relation(&table.name)));
            statements.push(format!(
                "SELECT setval({}, COALESCE(MAX({name}), 0) + 1, false) FROM {}",
                quote_literal(&sequence),
                relation(&table.name)
            ));
            statements.push(format!("{prefix} SET DEFAULT nextval({})", quote_literal(&sequence)));
        }
    }
    Ok(statements)
}
