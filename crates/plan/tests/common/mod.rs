//! Scenario fixtures: `fixtures/scenarios/<name>.json` holds a description,
//! a `from` and a `to` definition, and optionally `rows` (SQL inserted into the
//! `from` database before migrating; generated sample rows otherwise) and
//! `options` (`{"concurrentIndexes": true}`) for planning, and
//! `expectAfterUp` / `expectAfterDown`: queries returning one boolean that must
//! be true after each migration (to check that data was carried over).
#![allow(dead_code)]

pub mod data;
pub mod round_trip;

use std::path::PathBuf;

use schemaforge_model::Schema;
use schemaforge_plan::Options;
use schemaforge_testkit::repo_root;

pub struct Scenario {
    pub name: String,
    pub description: String,
    pub from: Schema,
    pub to: Schema,
    pub rows: Option<Vec<String>>,
    pub options: Options,
    pub expect_after_up: Vec<String>,
    pub expect_after_down: Vec<String>,
}

pub fn scenarios() -> Vec<Scenario> {
    let dir = repo_root().join("fixtures/scenarios");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir).expect("fixtures/scenarios").filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths.iter().map(|path| load(path)).collect()
}

fn load(path: &std::path::Path) -> Scenario {
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let text = std::fs::read_to_string(path).expect("readable scenario");
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let definition =
        |key: &str| schemaforge_spec::validate_value(&value[key]).unwrap_or_else(|d| panic!("{name}: `{key}` is invalid: {d:#?}"));
    Scenario {
        description: value["description"].as_str().unwrap_or_default().to_string(),
        from: definition("from"),
        to: definition("to"),
        expect_after_up: strings(&value["expectAfterUp"]),
        expect_after_down: strings(&value["expectAfterDown"]),
        options: Options { concurrent_indexes: value["options"]["concurrentIndexes"].as_bool().unwrap_or(false) },
        rows: value.get("rows").map(strings),
        name,
    }
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value.as_array().map(|items| items.iter().filter_map(|i| i.as_str().map(String::from)).collect()).unwrap_or_default()
}
