//! No input makes the core panic, and every definition the validator accepts
//! renders completely: property tests over arbitrary JSON and over mutations
//! of the feature fixture.

mod common;

use proptest::prelude::*;
use schemaforge_testkit::repo_root;
use serde_json::Value;

/// Strings that have broken schema tools before: quotes, injection, template
/// syntax, keywords, long names, non-ASCII, empty.
const NASTY: &[&str] = &[
    "",
    "x",
    "id",
    "users",
    "0); DROP TABLE users; --",
    "a\"b",
    "it's",
    "${x}",
    "`",
    "\\",
    "NULL",
    "CURRENT_TIMESTAMP",
    "now()",
    "gen_random_uuid()",
    "default",
    "delete",
    "text",
    "public",
    "pg_x",
    "über",
    "a b",
    "1abc",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "serial",
    "enum",
    "custom",
    "cascade",
    "set null",
    "btree",
    "gin",
    "desc",
    "first",
    "always",
    "byDefault",
    "select",
    "insert",
    "accounts",
    "mood",
    "billing",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6f64).prop_map(Value::from),
        proptest::sample::select(NASTY).prop_map(|s| Value::String(s.to_string())),
        "[a-z_]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(proptest::sample::select(NASTY).prop_map(str::to_string), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn kitchen_sink() -> Value {
    let text = std::fs::read_to_string(repo_root().join("fixtures/features/kitchen-sink.json")).expect("fixture");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// Every JSON pointer in `value`, parents before children.
fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(v, format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{prefix}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Replaces (or, with `None`, removes) the value at `pointer`.
fn mutate(root: &mut Value, pointer: &str, replacement: Option<Value>) {
    if pointer.is_empty() {
        if let Some(v) = replacement {
            *root = v;
        }
        return;
    }
    let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let key = last.replace("~1", "/").replace("~0", "~");
    let Some(container) = root.pointer_mut(parent) else { return };
    match (container, replacement) {
        (Value::Object(map), Some(v)) => {
            map.insert(key, v);
        }
        (Value::Object(map), None) => {
            map.shift_remove(&key);
        }
        (Value::Array(items), replacement) => {
            if let Ok(i) = key.parse::<usize>()
                && i < items.len()
            {
                match replacement {
                    Some(v) => items[i] = v,
                    None => {
                        items.remove(i);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Accepted definitions must plan, render and generate without error.
fn generate_all(text: &str) {
    if let Ok(schema) = schemaforge_spec::parse_definition(text) {
        let statements = schemaforge_sql::render_create(&schema).expect("an accepted definition renders");
        let migration = schemaforge_kit::Migration { name: "init", when_millis: 0, breakpoints: true };
        let new = schemaforge_kit::NewMigration { schema: &schema, up: &statements, down: &[], definition: "{}" };
        match schemaforge_kit::next_migration(None, &new, &migration) {
            Ok(_) | Err(schemaforge_kit::FolderError::Empty) => {}
            Err(other) => panic!("an accepted definition has no folder: {other}"),
        }
        let _ = schemaforge_codegen::drizzle::generate(&schema);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        generate_all(&value.to_string());
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,64}") {
        generate_all(&text);
    }

    #[test]
    fn mutated_definitions_are_rejected_or_fully_generated(
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), 0u8..10, json_value(), proptest::sample::select(NASTY), -70000i64..70000), 1..4)
    ) {
        let mut definition = kitchen_sink();
        for (index, kind, arbitrary, nasty, number) in edits {
            let mut all = Vec::new();
            pointers(&definition, String::new(), &mut all);
            let pointer = index.get(&all).clone();
            let original = definition.pointer(&pointer).cloned().unwrap_or(Value::Null);
            // Mostly edits of the same JSON type (a renamed object, a changed
            // number, a removed field or element), which keep the definition
            // plausible enough to reach the renderers; sometimes anything.
            let replacement = match (kind, &original) {
                (0..=1, _) => None,
                (2, _) => Some(arbitrary),
                (_, Value::String(_)) => Some(Value::String(nasty.to_string())),
                (_, Value::Number(_)) => Some(Value::from(number)),
                (_, Value::Bool(b)) => Some(Value::Bool(!b)),
                (_, Value::Array(items)) if !items.is_empty() => {
                    let mut items = items.clone();
                    let copy = items[number.unsigned_abs() as usize % items.len()].clone();
                    items.push(copy);
                    Some(Value::Array(items))
                }
                _ => Some(arbitrary),
            };
            mutate(&mut definition, &pointer, replacement);
        }
        generate_all(&definition.to_string());
    }
}
