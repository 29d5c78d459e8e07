//! How each changed enum changes: values renamed and added in place, or the
//! type rebuilt.
//!
//! `ALTER TYPE … RENAME VALUE` and `ADD VALUE` are the cheap way, but they
//! cannot remove or reorder values, and PostgreSQL refuses to *use* a value added in the same
//! transaction ("unsafe use of new value"). A migration runs in one
//! transaction, so when the new definition uses a new value (a default, a
//! check, an index predicate, a policy, a generated column, the `after` SQL),
//! the type is rebuilt instead: renamed aside, created anew, its columns
//! converted, the old type dropped — all of which is transactional.

use std::collections::BTreeMap;

use schemaforge_model::{ColumnDefault, ColumnType, Enum, IndexKey, QualifiedName, ScalarType, Schema, Table};

/// What happens to an enum present in both schemas whose values differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnumChange {
    InPlace {
        /// Declared renames, (previous label, new label).
        renames: Vec<(String, String)>,
        /// Each new value, with the existing value it goes before (or none: at the end).
        additions: Vec<(String, Option<String>)>,
    },
    /// Rename the old type aside, create the new one, convert every column
    /// (mapping renamed values to their new labels).
    Rebuild,
}

/// The value renames of enum `name` that a migration from `from` to `to`
/// performs, as (previous label, new label): those declared in `to` whose
/// previous label `from` still has. An applied rename is no longer one.
pub fn enum_value_renames(from: &Schema, to: &Schema, name: &QualifiedName) -> Vec<(String, String)> {
    let (Some(old), Some(new)) = (from.enums.iter().find(|e| &e.name == name), to.enums.iter().find(|e| &e.name == name)) else {
        return Vec::new();
    };
    new.renamed_values
        .iter()
        .filter(|(label, previous)| old.values.contains(previous) && !old.values.contains(label))
        .map(|(label, previous)| (previous.clone(), label.clone()))
        .collect()
}

/// The change of every enum whose values differ between the schemas.
pub(crate) fn enum_changes(from: &Schema, to: &Schema) -> BTreeMap<QualifiedName, EnumChange> {
    let old: BTreeMap<&QualifiedName, &Enum> = from.enums.iter().map(|e| (&e.name, e)).collect();
    let mut changes = BTreeMap::new();
    for e in &to.enums {
        let Some(previous) = old.get(&e.name) else { continue };
        if previous.values == e.values {
            continue;
        }
        let renames = enum_value_renames(from, to, &e.name);
        let relabelled: Vec<String> = previous
            .values
            .iter()
            .map(|v| renames.iter().find(|(old, _)| old == v).map_or_else(|| v.clone(), |(_, new)| new.clone()))
            .collect();
        let change = match added_values(&relabelled, &e.values) {
            Some(additions) if !additions.iter().any(|(value, _)| uses_value(to, &e.name, value)) => {
                EnumChange::InPlace { renames, additions }
            }
            _ => EnumChange::Rebuild,
        };
        changes.insert(e.name.clone(), change);
    }
    changes
}

/// The values to add, each with the existing value it goes before, when the
/// old labels survive in the same order; `None` when values are removed or
/// reordered (which `ALTER TYPE … ADD VALUE` cannot do).
fn added_values(old: &[String], new: &[String]) -> Option<Vec<(String, Option<String>)>> {
    let kept: Vec<&String> = new.iter().filter(|v| old.contains(v)).collect();
    if kept.len() != old.len() || kept.iter().zip(old).any(|(a, b)| *a != b) {
        return None;
    }
    let mut additions = Vec::new();
    for (i, value) in new.iter().enumerate() {
        if old.contains(value) {
            continue;
        }
        let before = new[i + 1..].iter().find(|v| old.contains(v)).cloned();
        additions.push((value.clone(), before));
    }
    Some(additions)
}

/// Whether anything in `schema` may use `value` of enum `name`. Expressions
/// are opaque SQL, so any expression on a table with a column of the enum
/// (and any policy or `after` statement) spelling the value's literal counts:
/// a false positive costs a rebuild, a false negative a failed migration.
fn uses_value(schema: &Schema, name: &QualifiedName, value: &str) -> bool {
    let literal = format!("'{}'", value.replace('\'', "''"));
    let spells = |sql: &str| sql.contains(&literal);
    let of_enum = |ty: &ColumnType| matches!(&ty.scalar, ScalarType::Enum(e) if e == name);
    let default_uses = |table: &Table| {
        table.columns.iter().any(|c| match &c.default {
            Some(ColumnDefault::Value(json)) if of_enum(&c.ty) => json_mentions(json, value),
            Some(ColumnDefault::Sql(sql)) => spells(sql),
            Some(ColumnDefault::Value(_)) | None => false,
        })
    };
    let expressions_use = |table: &Table| {
        table.checks.iter().any(|c| spells(&c.expression))
            || table.columns.iter().filter_map(|c| c.generated.as_ref()).any(|g| spells(&g.sql))
            || table.indexes.iter().any(|i| {
                i.predicate.as_deref().is_some_and(spells)
                    || i.elements.iter().any(|e| matches!(&e.key, IndexKey::Expression(sql) if spells(sql)))
            })
    };
    schema.tables.iter().any(|table| {
        default_uses(table)
            || (table.columns.iter().any(|c| of_enum(&c.ty)) && expressions_use(table))
            || table.policies.iter().any(|p| p.using.as_deref().is_some_and(spells) || p.with_check.as_deref().is_some_and(spells))
    }) || schema.custom_sql.after.iter().any(|sql| spells(sql))
}

fn json_mentions(json: &serde_json::Value, value: &str) -> bool {
    match json {
        serde_json::Value::String(s) => s == value,
        serde_json::Value::Array(items) => items.iter().any(|item| json_mentions(item, value)),
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) | serde_json::Value::Object(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::added_values;

    fn v(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn additions_keep_their_position() {
        assert_eq!(
            added_values(&v(&["a", "c"]), &v(&["a", "b", "c", "d"])),
            Some(vec![("b".into(), Some("c".into())), ("d".into(), None)])
        );
        assert_eq!(added_values(&v(&["a", "b"]), &v(&["b", "a"])), None);
        assert_eq!(added_values(&v(&["a", "b"]), &v(&["a"])), None);
    }
}
