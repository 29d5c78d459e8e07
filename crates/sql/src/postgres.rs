//! PostgreSQL rendering, in drizzle-kit 0.31's statement style.
//!
//! Statements are spelled the way drizzle-kit spells them (public objects
//! unqualified, enum types and foreign-key targets qualified, lower-case
//! referential actions, `USING btree` spelled out) so a migration folder
//! reads the same whichever tool wrote it. Where drizzle-kit's spelling is
//! wrong SQL (unescaped quotes in literals, an operator class that swallows
//! `DESC`), we write the correct SQL instead.

use std::collections::BTreeMap;
use std::fmt::Write;

use schemaforge_diff::Step;
use schemaforge_model::{
    Column, ColumnDefault, ColumnType, Enum, Extension, ForeignKey, IdentityKind, Index, IndexElement, IndexKey, NullsOrder, Policy,
    QualifiedName, Role, ScalarType, Schema, SortOrder, Table,
};
use serde_json::Value;

use crate::{RenderError, Statement, js};

/// Quotes an identifier: the only place PostgreSQL identifiers are quoted.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Quotes a string literal (standard-conforming strings): the only place
/// PostgreSQL string literals are written.
pub fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A table (or other relation) as drizzle-kit writes it: `"t"` in the default
/// schema, `"s"."t"` elsewhere.
pub fn relation(name: &QualifiedName) -> String {
    match &name.schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(&name.name)),
        None => quote_ident(&name.name),
    }
}

/// Always schema-qualified: `"public"."users"`.
pub fn qualified(name: &QualifiedName) -> String {
    format!("{}.{}", quote_ident(name.namespace()), quote_ident(&name.name))
}

/// The column type as written in DDL.
pub fn type_sql(ty: &ColumnType) -> String {
    let mut out = match &ty.scalar {
        ScalarType::SmallInt => "smallint".to_string(),
        ScalarType::Integer => "integer".to_string(),
        ScalarType::BigInt => "bigint".to_string(),
        ScalarType::SmallSerial => "smallserial".to_string(),
        ScalarType::Serial => "serial".to_string(),
        ScalarType::BigSerial => "bigserial".to_string(),
        ScalarType::Boolean => "boolean".to_string(),
        ScalarType::Text => "text".to_string(),
        ScalarType::Varchar { length } => with_length("varchar", *length),
        ScalarType::Char { length } => with_length("char", *length),
        ScalarType::Numeric { precision, scale } => match (precision, scale) {
            (Some(p), Some(s)) => format!("numeric({p}, {s})"),
            (Some(p), None) => format!("numeric({p})"),
            (None, _) => "numeric".to_string(),
        },
        ScalarType::Real => "real".to_string(),
        ScalarType::DoublePrecision => "double precision".to_string(),
        ScalarType::Date => "date".to_string(),
        ScalarType::Time { precision, with_time_zone } => {
            format!("time{}{}", precision.map(|p| format!("({p})")).unwrap_or_default(), zone(*with_time_zone))
        }
        ScalarType::Timestamp { precision, with_time_zone } => {
            // drizzle-orm's spelling, space included: `timestamp (3) with time zone`.
            format!("timestamp{}{}", precision.map(|p| format!(" ({p})")).unwrap_or_default(), zone(*with_time_zone))
        }
        ScalarType::Interval { precision } => format!("interval{}", precision.map(|p| format!("({p})")).unwrap_or_default()),
        ScalarType::Json => "json".to_string(),
        ScalarType::Jsonb => "jsonb".to_string(),
        ScalarType::Uuid => "uuid".to_string(),
        ScalarType::Bytea => "bytea".to_string(),
        ScalarType::Inet => "inet".to_string(),
        ScalarType::Cidr => "cidr".to_string(),
        ScalarType::MacAddr => "macaddr".to_string(),
        ScalarType::Vector { dimensions } => format!("vector({dimensions})"),
        ScalarType::Enum(name) => match &name.schema {
            Some(_) => qualified(name),
            None => quote_ident(&name.name),
        },
        ScalarType::Custom { sql } => sql.clone(),
    };
    for _ in 0..ty.array_dimensions {
        out.push_str("[]");
    }
    out
}

fn with_length(name: &str, length: Option<u32>) -> String {
    match length {
        Some(n) => format!("{name}({n})"),
        None => name.to_string(),
    }
}

fn zone(with_time_zone: bool) -> &'static str {
    if with_time_zone { " with time zone" } else { "" }
}

/// The `DEFAULT` expression of a column, as SQL.
pub fn default_sql(column: &Column) -> Option<String> {
    match column.default.as_ref()? {
        ColumnDefault::Sql(sql) => Some(sql.clone()),
        ColumnDefault::Value(value) => Some(literal_sql(&column.ty, value)),
    }
}

/// A JSON literal of type `ty` as a PostgreSQL literal.
pub fn literal_sql(ty: &ColumnType, value: &Value) -> String {
    if ty.is_array() {
        let literal = match &ty.scalar {
            // A json element is a whole JSON document, arrays included: one
            // quoted element each, never a nested dimension.
            ScalarType::Json | ScalarType::Jsonb => match value {
                Value::Array(items) => {
                    format!("{{{}}}", items.iter().map(|item| quote_array_element(&js::stringify(item))).collect::<Vec<_>>().join(","))
                }
                other => array_literal(other),
            },
            _ => array_literal(value),
        };
        return quote_literal(&literal);
    }
    match (&ty.scalar, value) {
        (ScalarType::Json | ScalarType::Jsonb, v) => {
            format!("{}::{}", quote_literal(&js::stringify(v)), if ty.scalar == ScalarType::Json { "json" } else { "jsonb" })
        }
        (ScalarType::Vector { .. }, v) => quote_literal(&js::stringify(v)),
        (ScalarType::Numeric { .. }, Value::Number(n)) => quote_literal(&js::number(n)),
        (_, Value::Number(n)) => js::number(n),
        (_, Value::Bool(b)) => b.to_string(),
        (_, Value::String(s)) => quote_literal(s),
        (_, other) => quote_literal(&js::stringify(other)),
    }
}

/// PostgreSQL's array input syntax: `{1,2}`, `{"a","b\"c"}`, nested `{{1},{2}}`.
fn array_literal(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(array_literal).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Null => "NULL".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => js::number(n),
        Value::String(s) => quote_array_element(s),
        Value::Object(_) => quote_array_element(&js::stringify(value)),
    }
}

fn quote_array_element(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

pub(crate) fn render(schema: &Schema, steps: &[Step]) -> Result<Vec<Statement>, RenderError> {
    let tables: BTreeMap<&QualifiedName, &Table> = schema.tables.iter().map(|t| (&t.name, t)).collect();
    let find_table = |name: &QualifiedName| tables.get(name).copied().ok_or_else(|| missing("table", &name.to_string()));
    let mut statements = Vec::with_capacity(steps.len());
    for step in steps {
        let mut push = |sql: String| statements.push(Statement { step: step.clone(), sql });
        match step {
            Step::RunSqlBefore => {
                for sql in &schema.custom_sql.before {
                    push(sql.clone());
                }
            }
            Step::RunSqlAfter => {
                for sql in &schema.custom_sql.after {
                    push(sql.clone());
                }
            }
            Step::CreateSchema { name } => push(format!("CREATE SCHEMA {}", quote_ident(name))),
            Step::CreateExtension { name } => push(create_extension(find_extension(schema, name)?)),
            Step::CreateEnum { name } => push(create_enum(find_enum(schema, name)?)),
            Step::CreateRole { name } => push(create_role(find_role(schema, name)?)),
            Step::CreateTable { table } => push(create_table(find_table(table)?)),
            Step::AddForeignKey { table, name } => {
                let t = find_table(table)?;
                let fk = t.foreign_keys.iter().find(|f| &f.name == name).ok_or_else(|| missing("foreign key", name))?;
                push(add_foreign_key(t, fk));
            }
            Step::CreateIndex { table, name } => {
                let t = find_table(table)?;
                let index = t.indexes.iter().find(|i| &i.name == name).ok_or_else(|| missing("index", name))?;
                push(create_index(t, index));
            }
            Step::EnableRowLevelSecurity { table } => {
                push(format!("ALTER TABLE {} ENABLE ROW LEVEL SECURITY", relation(&find_table(table)?.name)))
            }
            Step::CreatePolicy { table, name } => {
                let t = find_table(table)?;
                let policy = t.policies.iter().find(|p| &p.name == name).ok_or_else(|| missing("policy", name))?;
                push(create_policy(t, policy));
            }
            Step::CommentOnTable { table } => {
                let t = find_table(table)?;
                let comment = t.comment.as_deref().ok_or_else(|| missing("comment on table", &t.name.to_string()))?;
                push(format!("COMMENT ON TABLE {} IS {}", relation(&t.name), quote_literal(comment)));
            }
            Step::CommentOnColumn { table, column } => {
                let t = find_table(table)?;
                let c = t.column(column).ok_or_else(|| missing("column", column))?;
                let comment = c.comment.as_deref().ok_or_else(|| missing("comment on column", column))?;
                push(format!("COMMENT ON COLUMN {}.{} IS {}", relation(&t.name), quote_ident(&c.name), quote_literal(comment)));
            }
        }
    }
    Ok(statements)
}

fn missing(what: &str, name: &str) -> RenderError {
    RenderError::MissingObject(format!("{what} `{name}`"))
}

fn find_enum<'a>(schema: &'a Schema, name: &QualifiedName) -> Result<&'a Enum, RenderError> {
    schema.enum_type(name).ok_or_else(|| missing("enum", &name.to_string()))
}

fn find_role<'a>(schema: &'a Schema, name: &str) -> Result<&'a Role, RenderError> {
    schema.roles.iter().find(|r| r.name == name).ok_or_else(|| missing("role", name))
}

fn find_extension<'a>(schema: &'a Schema, name: &str) -> Result<&'a Extension, RenderError> {
    schema.extensions.iter().find(|e| e.name == name).ok_or_else(|| missing("extension", name))
}

fn create_extension(extension: &Extension) -> String {
    let mut sql = format!("CREATE EXTENSION IF NOT EXISTS {}", quote_ident(&extension.name));
    if let Some(schema) = &extension.schema {
        let _ = write!(sql, " SCHEMA {}", quote_ident(schema));
    }
    sql
}

fn create_enum(e: &Enum) -> String {
    let values: Vec<String> = e.values.iter().map(|v| quote_literal(v)).collect();
    format!("CREATE TYPE {} AS ENUM({})", qualified(&e.name), values.join(", "))
}

fn create_role(role: &Role) -> String {
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

fn create_table(table: &Table) -> String {
    let inline_pk = table.primary_key_is_inline();
    let mut lines: Vec<String> = table.columns.iter().map(|c| column_definition(table, c, inline_pk)).collect();
    if let Some(pk) = table.primary_key.as_ref().filter(|_| !inline_pk) {
        lines.push(format!("\tCONSTRAINT {} PRIMARY KEY({})", quote_ident(&pk.name), column_list(&pk.columns)));
    }
    for unique in &table.uniques {
        let nulls = if unique.nulls_not_distinct { " NULLS NOT DISTINCT" } else { "" };
        lines.push(format!("\tCONSTRAINT {} UNIQUE{nulls}({})", quote_ident(&unique.name), column_list(&unique.columns)));
    }
    for check in &table.checks {
        lines.push(format!("\tCONSTRAINT {} CHECK ({})", quote_ident(&check.name), check.expression));
    }
    format!("CREATE TABLE {} (\n{}\n)", relation(&table.name), lines.join(",\n"))
}

fn column_list(columns: &[String]) -> String {
    columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(",")
}

fn column_definition(table: &Table, column: &Column, inline_pk: bool) -> String {
    let mut sql = format!("\t{} {}", quote_ident(&column.name), type_sql(&column.ty));
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
        let kind = match identity.kind {
            IdentityKind::Always => "ALWAYS",
            IdentityKind::ByDefault => "BY DEFAULT",
        };
        let sequence = relation(&QualifiedName::new(table.name.schema.clone(), identity.sequence_name.clone()));
        let _ = write!(
            sql,
            " GENERATED {kind} AS IDENTITY (sequence name {sequence} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {}{})",
            identity.increment,
            identity.min_value,
            identity.max_value,
            identity.start_with,
            identity.cache,
            if identity.cycle { " CYCLE" } else { "" }
        );
    }
    sql
}

fn add_foreign_key(table: &Table, fk: &ForeignKey) -> String {
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

fn create_index(table: &Table, index: &Index) -> String {
    let elements: Vec<String> = index.elements.iter().map(index_element_sql).collect();
    let mut sql = format!(
        "CREATE {}INDEX {} ON {} USING {} ({})",
        if index.unique { "UNIQUE " } else { "" },
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

fn create_policy(table: &Table, policy: &Policy) -> String {
    let roles: Vec<String> = policy
        .roles
        .iter()
        .map(|r| if schemaforge_model::BUILTIN_POLICY_ROLES.contains(&r.as_str()) { r.clone() } else { quote_ident(r) })
        .collect();
    let mut sql = format!(
        "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
        quote_ident(&policy.name),
        relation(&table.name),
        policy.kind.as_sql(),
        policy.command.as_sql(),
        roles.join(", ")
    );
    if let Some(using) = &policy.using {
        let _ = write!(sql, " USING ({using})");
    }
    if let Some(check) = &policy.with_check {
        let _ = write!(sql, " WITH CHECK ({check})");
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn array_literals_escape_elements() {
        let ty = ColumnType { scalar: ScalarType::Text, array_dimensions: 1 };
        assert_eq!(literal_sql(&ty, &serde_json::json!(["a", "b\"c", "it's"])), r#"'{"a","b\"c","it''s"}'"#);
        assert_eq!(literal_sql(&ty, &serde_json::json!([])), "'{}'");
    }
}
