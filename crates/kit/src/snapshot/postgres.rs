//! The PostgreSQL snapshot (drizzle-kit snapshot version 7).

use serde_json::{Map, Value, json};

use schemaforge_model::{ColumnType, IdentityKind, IndexKey, NullsOrder, ScalarType, Schema, SortOrder, Table};

use super::{Parts, by_export, in_halves};
use crate::defaults::drizzle_default;
use crate::names::DrizzleNames;

/// The PostgreSQL snapshot of `schema`: nothing comes before its `id`.
pub(super) fn parts(schema: &Schema, names: &DrizzleNames) -> Parts {
    let mut body = Map::new();
    body.insert("version".into(), json!("7"));
    body.insert("dialect".into(), json!("postgresql"));
    body.insert("tables".into(), Value::Object(tables(schema, names)));
    body.insert("enums".into(), Value::Object(enums(schema, names)));
    body.insert("schemas".into(), Value::Object(schemas(schema, names)));
    body.insert("sequences".into(), json!({}));
    body.insert("roles".into(), Value::Object(roles(schema, names)));
    body.insert("policies".into(), json!({}));
    body.insert("views".into(), json!({}));
    body.insert("_meta".into(), json!({"columns": {}, "schemas": {}, "tables": {}}));
    Parts { head: &[], body }
}

fn schemas(schema: &Schema, names: &DrizzleNames) -> Map<String, Value> {
    by_export(schema.namespaces.iter().map(|n| (names.schemas[n].as_str(), n)))
        .into_iter()
        .map(|n| (n.clone(), Value::String(n.clone())))
        .collect()
}

fn roles(schema: &Schema, names: &DrizzleNames) -> Map<String, Value> {
    by_export(schema.roles.iter().map(|r| (names.roles[&r.name].as_str(), r)))
        .into_iter()
        .filter(|r| !r.existing)
        .map(|r| (r.name.clone(), json!({"name": r.name, "createDb": r.create_db, "createRole": r.create_role, "inherit": r.inherit})))
        .collect()
}

fn enums(schema: &Schema, names: &DrizzleNames) -> Map<String, Value> {
    by_export(schema.enums.iter().map(|e| (names.enums[&e.name].as_str(), e)))
        .into_iter()
        .map(|e| {
            let ns = e.name.namespace();
            (format!("{ns}.{}", e.name.name), json!({"name": e.name.name, "schema": ns, "values": e.values}))
        })
        .collect()
}

fn tables(schema: &Schema, names: &DrizzleNames) -> Map<String, Value> {
    let ordered = by_export(schema.tables.iter().map(|t| (names.table(&t.name).export.as_str(), t)));
    in_halves(&ordered, |t| (format!("{}.{}", t.name.namespace(), t.name.name), table(t))).into_iter().collect()
}

fn table(table: &Table) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(table.name.name));
    out.insert("schema".into(), json!(table.name.schema.clone().unwrap_or_default()));
    let inline_pk = table.primary_key_is_inline();
    let mut columns = Map::new();
    for column in &table.columns {
        let mut c = Map::new();
        c.insert("name".into(), json!(column.name));
        c.insert("type".into(), json!(drizzle_type(&column.ty)));
        if let ScalarType::Enum(name) = &column.ty.scalar {
            c.insert("typeSchema".into(), json!(name.namespace()));
        }
        let is_pk = inline_pk && table.primary_key.as_ref().is_some_and(|pk| pk.columns[0] == column.name);
        c.insert("primaryKey".into(), json!(is_pk));
        c.insert("notNull".into(), json!(column.not_null));
        if let Some(generated) = &column.generated {
            c.insert("generated".into(), json!({"as": generated.sql, "type": "stored"}));
        }
        if let Some(identity) = &column.identity {
            c.insert(
                "identity".into(),
                json!({
                    "type": match identity.kind { IdentityKind::Always => "always", IdentityKind::ByDefault => "byDefault" },
                    "name": identity.sequence_name,
                    "schema": table.name.namespace(),
                    "increment": identity.increment.to_string(),
                    "startWith": identity.start_with.to_string(),
                    "minValue": identity.min_value.to_string(),
                    "maxValue": identity.max_value.to_string(),
                    "cache": identity.cache.to_string(),
                    "cycle": identity.cycle,
                }),
            );
        }
        if let Some(default) = drizzle_default(schemaforge_model::Dialect::Postgresql, column) {
            c.insert("default".into(), default.snapshot_value());
        }
        columns.insert(column.name.clone(), Value::Object(c));
    }
    out.insert("columns".into(), Value::Object(columns));

    let mut indexes = Map::new();
    for index in &table.indexes {
        let elements: Vec<Value> = index
            .elements
            .iter()
            .map(|e| match &e.key {
                IndexKey::Column(name) => {
                    let mut m = Map::new();
                    m.insert("expression".into(), json!(name));
                    m.insert("isExpression".into(), json!(false));
                    m.insert("asc".into(), json!(e.order == SortOrder::Asc));
                    m.insert("nulls".into(), json!(nulls(e.nulls)));
                    if let Some(opclass) = &e.opclass {
                        m.insert("opclass".into(), json!(opclass));
                    }
                    Value::Object(m)
                }
                // drizzle has no `.desc()` on `sql` elements, so order, nulls
                // and operator class travel inside the expression text.
                IndexKey::Expression(_) => json!({
                    "expression": schemaforge_sql::postgres::index_element_sql(e),
                    "asc": true,
                    "isExpression": true,
                    "nulls": "last",
                }),
            })
            .collect();
        let mut m = Map::new();
        m.insert("name".into(), json!(index.name));
        m.insert("columns".into(), Value::Array(elements));
        m.insert("isUnique".into(), json!(index.unique));
        if let Some(predicate) = &index.predicate {
            m.insert("where".into(), json!(predicate));
        }
        m.insert("concurrently".into(), json!(false));
        m.insert("method".into(), json!(index.method));
        m.insert("with".into(), json!({}));
        indexes.insert(index.name.clone(), Value::Object(m));
    }
    out.insert("indexes".into(), Value::Object(indexes));

    let mut foreign_keys = Map::new();
    for fk in &table.foreign_keys {
        let mut m = Map::new();
        m.insert("name".into(), json!(fk.name));
        m.insert("tableFrom".into(), json!(table.name.name));
        m.insert("tableTo".into(), json!(fk.referenced_table.name));
        if let Some(schema) = &fk.referenced_table.schema {
            m.insert("schemaTo".into(), json!(schema));
        }
        m.insert("columnsFrom".into(), json!(fk.columns));
        m.insert("columnsTo".into(), json!(fk.referenced_columns));
        m.insert("onDelete".into(), json!(fk.on_delete.as_sql()));
        m.insert("onUpdate".into(), json!(fk.on_update.as_sql()));
        foreign_keys.insert(fk.name.clone(), Value::Object(m));
    }
    out.insert("foreignKeys".into(), Value::Object(foreign_keys));

    let mut primary_keys = Map::new();
    if let Some(pk) = table.primary_key.as_ref().filter(|_| !inline_pk) {
        primary_keys.insert(pk.name.clone(), json!({"name": pk.name, "columns": pk.columns}));
    }
    out.insert("compositePrimaryKeys".into(), Value::Object(primary_keys));

    let mut uniques = Map::new();
    for unique in &table.uniques {
        uniques.insert(
            unique.name.clone(),
            json!({"name": unique.name, "nullsNotDistinct": unique.nulls_not_distinct, "columns": unique.columns}),
        );
    }
    out.insert("uniqueConstraints".into(), Value::Object(uniques));

    let mut policies = Map::new();
    for policy in &table.policies {
        let mut m = Map::new();
        m.insert("name".into(), json!(policy.name));
        m.insert("as".into(), json!(policy.kind.as_sql()));
        m.insert("for".into(), json!(policy.command.as_sql()));
        m.insert("to".into(), json!(policy.roles));
        if let Some(using) = &policy.using {
            m.insert("using".into(), json!(using));
        }
        if let Some(check) = &policy.with_check {
            m.insert("withCheck".into(), json!(check));
        }
        policies.insert(policy.name.clone(), Value::Object(m));
    }
    out.insert("policies".into(), Value::Object(policies));

    let mut checks = Map::new();
    for check in &table.checks {
        checks.insert(check.name.clone(), json!({"name": check.name, "value": check.expression}));
    }
    out.insert("checkConstraints".into(), Value::Object(checks));
    out.insert("isRLSEnabled".into(), json!(table.rls));
    Value::Object(out)
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
