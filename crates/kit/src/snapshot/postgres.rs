//! The PostgreSQL snapshot (drizzle-kit snapshot version 7).

use schemaforge_model::{ColumnType, IdentityKind, IndexKey, NullsOrder, ScalarType, Schema, SortOrder, Table};

use super::text::JsonText;
use super::{Body, by_export, check_constraints, default_field, foreign_key, generated_field};
use crate::halves::in_halves;
use crate::names::DrizzleNames;

/// The PostgreSQL snapshot of `schema`: nothing comes before its `id`.
pub(super) fn body(schema: &Schema, names: &DrizzleNames) -> Body {
    let mut w = JsonText::at_depth(0);
    w.begin_object();
    w.str_field("version", "7");
    w.str_field("dialect", "postgresql");
    w.key("tables");
    w.begin_object();
    let ordered = by_export(schema.tables.iter().map(|t| (names.table(&t.name).export.as_str(), t)));
    for (key, text) in in_halves(&ordered, |t| (format!("{}.{}", t.name.namespace(), t.name.name), table(t))) {
        w.key(&key);
        w.append(text);
    }
    w.end_object();

    w.key("enums");
    w.begin_object();
    for e in by_export(schema.enums.iter().map(|e| (names.enums[&e.name].as_str(), e))) {
        let ns = e.name.namespace();
        w.key(&format!("{ns}.{}", e.name.name));
        w.begin_object();
        w.str_field("name", &e.name.name);
        w.str_field("schema", ns);
        w.strings_field("values", &e.values);
        w.end_object();
    }
    w.end_object();

    w.key("schemas");
    w.begin_object();
    for n in by_export(schema.namespaces.iter().map(|n| (names.schemas[n].as_str(), n))) {
        w.str_field(n, n);
    }
    w.end_object();
    w.empty_object_field("sequences");

    w.key("roles");
    w.begin_object();
    for r in by_export(schema.roles.iter().map(|r| (names.roles[&r.name].as_str(), r))).into_iter().filter(|r| !r.existing) {
        w.key(&r.name);
        w.begin_object();
        w.str_field("name", &r.name);
        w.bool_field("createDb", r.create_db);
        w.bool_field("createRole", r.create_role);
        w.bool_field("inherit", r.inherit);
        w.end_object();
    }
    w.end_object();
    w.empty_object_field("policies");
    w.empty_object_field("views");
    w.key("_meta");
    w.begin_object();
    w.empty_object_field("columns");
    w.empty_object_field("schemas");
    w.empty_object_field("tables");
    w.end_object();
    w.end_object();
    Body { head: &[], text: w.finish() }
}

/// One table's entry, written at its depth under `tables`.
fn table(table: &Table) -> (String, String) {
    let mut w = JsonText::at_depth(2);
    w.begin_object();
    w.str_field("name", &table.name.name);
    w.str_field("schema", table.name.schema.as_deref().unwrap_or_default());
    let inline_pk = table.primary_key_is_inline();
    w.key("columns");
    w.begin_object();
    for column in &table.columns {
        w.key(&column.name);
        w.begin_object();
        w.str_field("name", &column.name);
        w.str_field("type", &drizzle_type(&column.ty));
        if let ScalarType::Enum(name) = &column.ty.scalar {
            w.str_field("typeSchema", name.namespace());
        }
        let is_pk = inline_pk && table.primary_key.as_ref().is_some_and(|pk| pk.columns[0] == column.name);
        w.bool_field("primaryKey", is_pk);
        w.bool_field("notNull", column.not_null);
        if let Some(generated) = &column.generated {
            generated_field(&mut w, &generated.sql);
        }
        if let Some(identity) = &column.identity {
            w.key("identity");
            w.begin_object();
            w.str_field(
                "type",
                match identity.kind {
                    IdentityKind::Always => "always",
                    IdentityKind::ByDefault => "byDefault",
                },
            );
            w.str_field("name", &identity.sequence_name);
            w.str_field("schema", table.name.namespace());
            w.str_field("increment", &identity.increment.to_string());
            w.str_field("startWith", &identity.start_with.to_string());
            w.str_field("minValue", &identity.min_value.to_string());
            w.str_field("maxValue", &identity.max_value.to_string());
            w.str_field("cache", &identity.cache.to_string());
            w.bool_field("cycle", identity.cycle);
            w.end_object();
        }
        default_field(&mut w, schemaforge_model::Dialect::Postgresql, column);
        w.end_object();
    }
    w.end_object();

    w.key("indexes");
    w.begin_object();
    for index in &table.indexes {
        w.key(&index.name);
        w.begin_object();
        w.str_field("name", &index.name);
        w.key("columns");
        w.begin_array();
        for e in &index.elements {
            w.element();
            w.begin_object();
            match &e.key {
                IndexKey::Column(name) => {
                    w.str_field("expression", name);
                    w.bool_field("isExpression", false);
                    w.bool_field("asc", e.order == SortOrder::Asc);
                    w.str_field("nulls", nulls(e.nulls));
                    if let Some(opclass) = &e.opclass {
                        w.str_field("opclass", opclass);
                    }
                }
                // drizzle has no `.desc()` on `sql` elements, so order, nulls
                // and operator class travel inside the expression text.
                IndexKey::Expression(_) => {
                    w.str_field("expression", &schemaforge_sql::postgres::index_element_sql(e));
                    w.bool_field("asc", true);
                    w.bool_field("isExpression", true);
                    w.str_field("nulls", "last");
                }
            }
            w.end_object();
        }
        w.end_array();
        w.bool_field("isUnique", index.unique);
        if let Some(predicate) = &index.predicate {
            w.str_field("where", predicate);
        }
        w.bool_field("concurrently", false);
        w.str_field("method", &index.method);
        w.empty_object_field("with");
        w.end_object();
    }
    w.end_object();

    w.key("foreignKeys");
    w.begin_object();
    for fk in &table.foreign_keys {
        foreign_key(&mut w, table, fk);
    }
    w.end_object();

    w.key("compositePrimaryKeys");
    w.begin_object();
    if let Some(pk) = table.primary_key.as_ref().filter(|_| !inline_pk) {
        w.key(&pk.name);
        w.begin_object();
        w.str_field("name", &pk.name);
        w.strings_field("columns", &pk.columns);
        w.end_object();
    }
    w.end_object();

    w.key("uniqueConstraints");
    w.begin_object();
    for unique in &table.uniques {
        w.key(&unique.name);
        w.begin_object();
        w.str_field("name", &unique.name);
        w.bool_field("nullsNotDistinct", unique.nulls_not_distinct);
        w.strings_field("columns", &unique.columns);
        w.end_object();
    }
    w.end_object();

    w.key("policies");
    w.begin_object();
    for policy in &table.policies {
        w.key(&policy.name);
        w.begin_object();
        w.str_field("name", &policy.name);
        w.str_field("as", policy.kind.as_sql());
        w.str_field("for", policy.command.as_sql());
        w.strings_field("to", &policy.roles);
        if let Some(using) = &policy.using {
            w.str_field("using", using);
        }
        if let Some(check) = &policy.with_check {
            w.str_field("withCheck", check);
        }
        w.end_object();
    }
    w.end_object();

    check_constraints(&mut w, table);
    w.bool_field("isRLSEnabled", table.rls);
    w.end_object();
    w.finish()
}

fn nulls(n: NullsOrder) -> &'static str {
    match n {
        NullsOrder::First => "first",
        NullsOrder::Last => "last",
    }
}

/// Whether a unique constraint is written as `.unique()` on its column in
/// `schema.ts` (drizzle-kit lists those first, in column order).
pub fn unique_is_column_style(table: &Table, unique: &schemaforge_model::Unique) -> bool {
    unique.columns.len() == 1
        && !unique.nulls_not_distinct
        && unique.name == schemaforge_model::names::unique(&table.name.name, &unique.columns)
}

/// drizzle-orm's `getSQLType()` for the column builder `schema.ts` uses.
pub fn drizzle_type(ty: &ColumnType) -> String {
    let mut out = match &ty.scalar {
        ScalarType::Enum(name) => name.name.clone(),
        ScalarType::Interval { precision } => match precision {
            Some(p) if *p > 0 => format!("interval({p})"),
            _ => "interval".to_string(),
        },
        ScalarType::Custom { sql } => sql.clone(),
        other => schemaforge_sql::postgres::type_sql(&ColumnType::scalar(other.clone())),
    };
    for _ in 0..ty.array_dimensions {
        out.push_str("[]");
    }
    out
}
