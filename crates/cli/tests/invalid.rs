//! Fixture in, report out: every definition in `fixtures/invalid/` is refused
//! with exit code 1, and its full human report is pinned by an insta snapshot
//! (messages and hints are part of the product).

mod common;

use common::{schemaforge, text};
use schemaforge_testkit::{repo_root, stem};

#[test]
fn every_invalid_fixture_is_refused_with_its_report() {
    let dir = repo_root().join("fixtures/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("fixtures/invalid").filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    assert!(files.len() >= 5);
    for file in files {
        let output = schemaforge(&["validate", &file.to_string_lossy()]);
        assert_eq!(output.status.code(), Some(1), "{} was not refused", file.display());
        let report = text(&output.stderr).replace(&file.to_string_lossy().to_string(), &format!("{}.json", stem(&file)));
        insta::assert_snapshot!(stem(&file), report);
        let json = schemaforge(&["validate", &file.to_string_lossy(), "--format", "json"]);
        let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
        let errors = parsed["errors"].as_array().expect("an errors list");
        assert_eq!(errors.len(), report.matches("\nerror[").count() + usize::from(report.starts_with("error[")), "{}", file.display());
        for error in errors {
            assert!(error["path"].is_string() && error["code"].is_string() && error["message"].is_string(), "{error}");
        }
    }
}
