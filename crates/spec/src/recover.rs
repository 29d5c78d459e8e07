//! Error recovery between the shape check and lowering, so one pass reports
//! structural *and* semantic problems.
//!
//! A definition with shape problems cannot be deserialised as it is. Rather
//! than stop there (a user fixes the shape, re-runs, and only then learns that
//! a foreign key points nowhere), we repair a copy: unknown fields are
//! removed, and the smallest enclosing object that is still malformed (a
//! column, an index, a table, …) is replaced by a placeholder that keeps its
//! name. Lowering then skips the placeholders silently, and treats references
//! to them as already reported, so it adds only problems of its own.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::diagnostic::{Code, Diagnostic};

/// The repaired value and the pointers of the placeholders lowering must skip.
pub(crate) struct Repaired {
    pub value: Value,
    pub skipped: BTreeSet<String>,
}

/// What a placeholder must contain to deserialise, by entity kind.
fn placeholder(kind: &str, name: Option<&Value>) -> Value {
    let name = name.filter(|n| n.is_string()).cloned().unwrap_or_else(|| json!("__invalid"));
    match kind {
        "tables" => json!({ "name": name, "columns": [] }),
        "columns" => json!({ "name": name, "type": "text" }),
        "indexes" | "uniques" => json!({ "columns": [] }),
        "foreignKeys" => json!({ "columns": [], "references": { "table": "", "columns": [] } }),
        "checks" => json!({ "name": name, "expression": "" }),
        "enums" => json!({ "name": name, "values": [] }),
        "roles" | "policies" => json!({ "name": name }),
        _ => json!("__invalid"), // schemas, extensions: plain strings
    }
}

/// The pointer of the smallest repairable entity containing `path`, and its kind.
fn enclosing_entity(path: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut best = None;
    let mut prefix = String::new();
    for window in 0..segments.len() {
        let segment = segments[window];
        let is_index = segment.bytes().all(|b| b.is_ascii_digit()) && !segment.is_empty();
        if is_index && window > 0 {
            let kind = segments[window - 1];
            let top_level = window == 1 && ["tables", "enums", "roles", "extensions", "schemas"].contains(&kind);
            let table_level = window == 3
                && segments[0] == "tables"
                && ["columns", "indexes", "uniques", "foreignKeys", "checks", "policies"].contains(&kind);
            if top_level || table_level {
                best = Some((format!("{prefix}/{segment}"), kind.to_string()));
            }
        }
        prefix.push('/');
        prefix.push_str(segment);
    }
    best
}

/// Repairs `value` given its shape problems; `None` when the damage is at the
/// top level (e.g. `tables` is not a list) and nothing sensible remains.
pub(crate) fn repair(value: &Value, problems: &[Diagnostic]) -> Option<Repaired> {
    let mut repaired = value.clone();
    let mut entities: BTreeSet<(String, String)> = BTreeSet::new();
    let mut removals: Vec<String> = Vec::new();
    for problem in problems {
        match problem.code {
            Code::UnknownField | Code::NotSupported => removals.push(problem.path.clone()),
            _ => match enclosing_entity(&problem.path) {
                Some(entity) => {
                    entities.insert(entity);
                }
                // A problem with a whole optional top-level field: drop it.
                None if ["/sql", "/dialect", "/$schema"].contains(&problem.path.as_str()) => removals.push(problem.path.clone()),
                None => return None,
            },
        }
    }
    for pointer in removals {
        let Some((parent, key)) = pointer.rsplit_once('/') else { continue };
        let key = key.replace("~1", "/").replace("~0", "~");
        if let Some(Value::Object(map)) = repaired.pointer_mut(parent) {
            map.shift_remove(&key);
        }
    }
    // A broken table makes the problems inside it moot.
    let tables: Vec<String> = entities.iter().filter(|(_, kind)| kind == "tables").map(|(p, _)| p.clone()).collect();
    entities.retain(|(pointer, kind)| kind == "tables" || !tables.iter().any(|t| pointer.starts_with(&format!("{t}/"))));
    let mut skipped = BTreeSet::new();
    for (pointer, kind) in entities {
        let target = repaired.pointer_mut(&pointer)?;
        let name = target.get("name").cloned();
        *target = placeholder(&kind, name.as_ref());
        skipped.insert(pointer);
    }
    Some(Repaired { value: repaired, skipped })
}

#[cfg(test)]
mod tests {
    use super::enclosing_entity;

    #[test]
    fn finds_the_smallest_entity() {
        assert_eq!(enclosing_entity("/tables/1/columns/2/type"), Some(("/tables/1/columns/2".into(), "columns".into())));
        assert_eq!(enclosing_entity("/tables/1/primaryKey/0"), Some(("/tables/1".into(), "tables".into())));
        assert_eq!(enclosing_entity("/tables/1/columns/2/references/onDelete"), Some(("/tables/1/columns/2".into(), "columns".into())));
        assert_eq!(enclosing_entity("/enums/0/values/1"), Some(("/enums/0".into(), "enums".into())));
        assert_eq!(enclosing_entity("/tables"), None);
    }
}
