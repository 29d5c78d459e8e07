//! PostgreSQL DDL statements for whole objects: tables, columns, keys,
//! indexes, policies, enums, roles, extensions.

use std::fmt::Write;

use schemaforge_model::{
    BUILTIN_POLICY_ROLES, Check, Column, Enum, Extension, ForeignKey, Identity, IdentityKind, Index, IndexElement, IndexKey, NullsOrder,
    Policy, PrimaryKey, QualifiedName, Role, SortOrder, Table, Unique,
};

use super::values::{default_sql, qualified, quote_ident, quote_literal, relation, type_sql};

pub(super) fn create_extension(extension: &Extension) -> String {
    let mut sql = format!("CREATE EXTENSION IF NOT EXISTS {}", quote_ident(&extension.name));
    if let Some(schema) = &extension.schema {
        let _ = write!(sql, " SCHEMA {}", quote_ident(schema));
    }
    sql
}

pub(super) fn create_enum(e: &Enum) -> String {
    let values: Vec<String> = e.values.iter().map(|v| quote_literal(v)).collect();
    format!("CREATE TYPE {} AS ENUM({})", qualified(&e.name), values.join(", "))
}

/// `ALTER ROLE … WITH` every option spelled out.
pub(super) fn alter_role(role: &Role) -> String {
    format!(
        "ALTER ROLE {} WITH {} {} {}",
        quote_ident(&role.name),
        if role.create_db { "CREATEDB" } else { "NOCREATEDB" },
        if role.create_role { "CREATEROLE" } else { "NOCREATEROLE" },
        if role.inherit { "INHERIT" } else { "NOINHERIT" }
    )
}

pub(super) fn create_role(role: &Role) -> String {
    let mut options = String::new();
    if role.create_db {
        options.push_str(" CREATEDB");
    }
    if role.create_role {
        options.push_str(" CREATEROLE");
    }
    if !role.inherit {
        options.push_str(" NOINHERIT");
    }
    if options.is_empty() {
        format!("CREATE ROLE {}", quote_ident(&role.name))
    } else {
        format!("CREATE ROLE {} WITH{options}", quote_ident(&role.name))
    }
}

pub(super) fn create_table(table: &Table) -> String {
    let inline_pk = table.primary_key_is_inline();
    let mut lines: Vec<String> = table.columns.iter().map(|c| format!("\t{}", column_definition(table, c, inline_pk))).collect();
    if let Some(pk) = table.primary_key.as_ref().filter(|_| !inline_pk) {
        lines.push(format!("\t{}", primary_key_constraint(pk)));
    }
    for unique in &table.uniques {
        lines.push(format!("\t{}", unique_constraint(unique)));
    }
    for check in &table.checks {
        lines.push(format!("\t{}", check_constraint(check)));
    }
    format!("CREATE TABLE {} (\n{}\n)", relation(&table.name), lines.join(",\n"))
}

pub(super) fn primary_key_constraint(pk: &PrimaryKey) -> String {
    format!("CONSTRAINT {} PRIMARY KEY({})", quote_ident(&pk.name), column_list(&pk.columns))
}

pub(super) fn unique_constraint(unique: &Unique) -> String {
    let nulls = if unique.nulls_not_distinct { " NULLS NOT DISTINCT" } else { "" };
    format!("CONSTRAINT {} UNIQUE{nulls}({})", quote_ident(&unique.name), column_list(&unique.columns))
}

pub(super) fn check_constraint(check: &Check) -> String {
    format!("CONSTRAINT {} CHECK ({})", quote_ident(&check.name), check.expression)
}

pub(super) fn column_list(columns: &[String]) -> String {
    columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(",")
}

/// A column as in `CREATE TABLE` or `ADD COLUMN`: name, type and options.
pub(super) fn column_definition(table: &Table, column: &Column, inline_pk: bool) -> String {
    let mut sql = format!("{} {}", quote_ident(&column.name), type_sql(&column.ty));
    let is_pk = inline_pk && table.primary_key.as_ref().is_some_and(|pk| pk.columns[0] == column.name);
    if is_pk {
        sql.push_str(" PRIMARY KEY");
    }
    if let Some(default) = default_sql(column) {
        let _ = write!(sql, " DEFAULT {default}");
    }
    if let Some(generated) = &column.generated {
        let _ = write!(sql, " GENERATED ALWAYS AS ({}) STORED", generated.sql);
    }
    if column.not_null && column.identity.is_none() {
        sql.push_str(" NOT NULL");
    }
    if let Some(identity) = &column.identity {
        let _ = write!(sql, " {}", identity_clause(table, identity));
    }
    sql
}

/// `GENERATED … AS IDENTITY (sequence name … options)`, as drizzle-kit writes it.
pub(super) fn identity_clause(table: &Table, identity: &Identity) -> String {
    format!(
        "GENERATED {} AS IDENTITY (sequence name {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {}{})",
        identity_kind(identity.kind),
        relation(&sequence_name(table, identity)),
        identity.increment,
        identity.min_value,
        identity.max_value,
        identity.start_with,
        identity.cache,
        if identity.cycle { " CYCLE" } else { "" }
    )
}

pub(super) fn identity_kind(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::Always => "ALWAYS",
        IdentityKind::ByDefault => "BY DEFAULT",
    }
}

/// The identity sequence's name, in the table's schema.
pub(super) fn sequence_name(table: &Table, identity: &Identity) -> QualifiedName {
    QualifiedName::new(table.name.schema.clone(), identity.sequence_name.clone())
}

/// The role list of a policy: PostgreSQL's role keywords stay unquoted.
fn policy_roles(policy: &Policy) -> String {
    policy
        .roles
        .iter()
        .map(|r| if BUILTIN_POLICY_ROLES.contains(&r.as_str()) { r.clone() } else { quote_ident(r) })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `ALTER POLICY`: roles and both clauses as the new schema has them.
pub(super) fn alter_policy(table: &Table, policy: &Policy) -> String {
    let mut sql = format!("ALTER POLICY {} ON {} TO {}", quote_ident(&policy.name), relation(&table.name), policy_roles(policy));
    if let Some(using) = &policy.using {
        let _ = write!(sql, " USING ({using})");
    }
    if let Some(check) = &policy.with_check {
        let _ = write!(sql, " WITH CHECK ({check})");
    }
    sql
}

pub(super) fn add_foreign_key(table: &Table, fk: &ForeignKey) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}({}) ON DELETE {} ON UPDATE {}",
        relation(&table.name),
        quote_ident(&fk.name),
        column_list(&fk.columns),
        qualified(&fk.referenced_table),
        column_list(&fk.referenced_columns),
        fk.on_delete.as_sql(),
        fk.on_update.as_sql(),
    )
}

/// An index element as written inside `CREATE INDEX … (…)`.
///
/// Columns follow drizzle-kit: `DESC` is always followed by its `NULLS`
/// placement. An expression is followed only by what differs from the
/// default, which is also how `schema.ts` spells it (inside `sql`), so the
/// snapshot and the SQL hold one string.
pub fn index_element_sql(element: &IndexElement) -> String {
    let default_nulls = if element.order == SortOrder::Desc { NullsOrder::First } else { NullsOrder::Last };
    let (mut sql, spell_out_nulls) = match &element.key {
        IndexKey::Column(name) => (quote_ident(name), element.order == SortOrder::Desc && element.opclass.is_none()),
        IndexKey::Expression(expression) => (expression.clone(), false),
    };
    if let Some(opclass) = &element.opclass {
        let _ = write!(sql, " {opclass}");
    }
    if element.order == SortOrder::Desc {
        sql.push_str(" DESC");
    }
    if element.nulls != default_nulls || spell_out_nulls {
        sql.push_str(match element.nulls {
            NullsOrder::First => " NULLS FIRST",
            NullsOrder::Last => " NULLS LAST",
        });
    }
    sql
}

pub(super) fn create_index(table: &Table, index: &Index, concurrently: bool) -> String {
    let elements: Vec<String> = index.elements.iter().map(index_element_sql).collect();
    let mut sql = format!(
        "CREATE {}INDEX {}{} ON {} USING {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        quote_ident(&index.name),
        relation(&table.name),
        index.method,
        elements.join(",")
    );
    if let Some(predicate) = &index.predicate {
        let _ = write!(sql, " WHERE {predicate}");
    }
    sql
}

pub(super) fn create_policy(table: &Table, policy: &Policy) -> String {
    let mut sql = format!(
        "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
        quote_ident(&policy.name),
        relation(&table.name),
        policy.kind.as_sql(),
        policy.command.as_sql(),
        policy_roles(policy)
    );
    if let Some(using) = &policy.using {
        let _ = write!(sql, " USING ({using})");
    }
    if let Some(check) = &policy.with_check {
        let _ = write!(sql, " WITH CHECK ({check})");
    }
    sql
}
