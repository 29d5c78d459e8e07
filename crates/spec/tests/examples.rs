//! Every example definition in `fixtures/examples` (except the later-issue
//! `collections-cms.json`) is accepted exactly as written.

use std::path::PathBuf;

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/examples")
}

#[test]
fn every_example_validates() {
    let mut checked = 0;
    for entry in std::fs::read_dir(examples_dir()).expect("fixtures/examples exists") {
        let path = entry.expect("readable directory entry").path();
        if path.extension().is_none_or(|e| e != "json") || path.file_name().is_some_and(|n| n == "collections-cms.json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable example");
        if let Err(diagnostics) = schemaforge_spec::parse_definition(&text) {
            let rendered: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            panic!("{} is rejected:\n{}", path.display(), rendered.join("\n"));
        }
        checked += 1;
    }
    assert_eq!(checked, 6, "expected six accepted examples");
    for entry in std::fs::read_dir(examples_dir().join("../features")).expect("fixtures/features exists") {
        let path = entry.expect("readable directory entry").path();
        let text = std::fs::read_to_string(&path).expect("readable fixture");
        if let Err(diagnostics) = schemaforge_spec::parse_definition(&text) {
            panic!("{} is rejected: {diagnostics:#?}", path.display());
        }
    }
}

#[test]
fn collections_are_reported_as_not_supported_yet() {
    let text = std::fs::read_to_string(examples_dir().join("collections-cms.json")).expect("readable example");
    let diagnostics = schemaforge_spec::parse_definition(&text).expect_err("collections are a later issue");
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code, schemaforge_spec::Code::NotSupported);
    assert_eq!(diagnostics[0].path, "/collections");
}

/// Validating with the fragments of earlier validations known gives the
/// answer validating afresh gives, for every fixture, valid or not, whatever
/// was validated before it.
#[test]
fn known_fragments_never_change_an_answer() {
    let mut files = Vec::new();
    for dir in ["examples", "features", "invalid", "sqlite"] {
        for entry in std::fs::read_dir(examples_dir().join("..").join(dir)).expect("fixtures exist") {
            let path = entry.expect("readable directory entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    let values: Vec<serde_json::Value> =
        files.iter().filter_map(|path| serde_json::from_str(&std::fs::read_to_string(path).expect("readable fixture")).ok()).collect();
    assert!(values.len() > 20, "only {} fixtures read", values.len());
    for order in [values.iter().collect::<Vec<_>>(), values.iter().rev().collect()] {
        for target in [None, Some(schemaforge_model::Dialect::Postgresql), Some(schemaforge_model::Dialect::Sqlite)] {
            let mut known = schemaforge_spec::Fragments::default();
            for value in &order {
                let fresh = schemaforge_spec::validate_value_for(value, target);
                let (answer, more) = schemaforge_spec::validate_value_known(value, target, known);
                assert_eq!(format!("{answer:?}"), format!("{fresh:?}"));
                known = more;
            }
        }
    }
}
