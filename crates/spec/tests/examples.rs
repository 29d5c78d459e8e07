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
