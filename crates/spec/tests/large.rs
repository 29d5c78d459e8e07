//! Large definitions take the parallel paths of validation (the shape check
//! beside lowering, fragments checked ahead on a second thread): they must
//! report exactly what the sequential paths report, in the same order.

use serde_json::{Value, json};

/// `tables` tables, each with a check and a generated column of its own
/// text, so there are far more distinct fragments than the threshold for
/// checking them ahead.
fn definition(tables: usize) -> Value {
    let tables: Vec<Value> = (0..tables)
        .map(|i| {
            json!({
                "name": format!("t{i}"),
                "columns": [
                    {"name": "id", "type": "serial", "primaryKey": true},
                    {"name": "amount", "type": "integer", "notNull": true},
                    {"name": "doubled", "type": "integer", "generated": {"sql": format!("amount * {}", i + 2)}},
                    {"name": "created_at", "type": "timestamp", "default": {"sql": "now()"}}
                ],
                "checks": [{"name": format!("t{i}_amount_check"), "expression": format!("amount > {i}")}]
            })
        })
        .collect();
    json!({"tables": tables})
}

fn codes_and_paths(result: Result<schemaforge_model::Schema, Vec<schemaforge_spec::Diagnostic>>) -> Vec<(String, String)> {
    let diagnostics = result.expect_err("the definition has problems");
    diagnostics.iter().map(|d| (d.code.as_str().to_string(), d.path.clone())).collect()
}

#[test]
fn a_large_valid_definition_lowers_every_fragment() {
    let schema = schemaforge_spec::validate_value(&definition(150)).expect("valid");
    assert_eq!(schema.tables.len(), 150);
    let table = schema.tables.iter().find(|t| t.name.name == "t149").expect("t149");
    assert_eq!(table.checks[0].expression, "amount > 149");
    let doubled = table.columns.iter().find(|c| c.name == "doubled").expect("doubled");
    assert_eq!(doubled.generated.as_ref().map(|g| g.sql.as_str()), Some("amount * 151"));
}

#[test]
fn fragment_errors_in_a_large_definition_are_reported_where_they_are() {
    let mut value = definition(150);
    value["tables"][17]["checks"][0]["expression"] = json!("amount >");
    value["tables"][120]["columns"][2]["generated"]["sql"] = json!("missing_column + 1");
    value["tables"][140]["checks"][0]["expression"] = json!("amount > 1; DROP TABLE t1");
    let reported = codes_and_paths(schemaforge_spec::validate_value(&value));
    let paths: Vec<&str> = reported.iter().map(|(_, path)| path.as_str()).collect();
    assert_eq!(
        paths,
        ["/tables/17/checks/0/expression", "/tables/120/columns/2/generated/sql", "/tables/140/checks/0/expression"],
        "{reported:?}"
    );
}

#[test]
fn shape_and_fragment_problems_are_reported_together_in_a_large_definition() {
    let mut value = definition(150);
    value["tables"][3]["columns"][1]["type"] = json!("integr");
    value["tables"][90]["checks"][0]["expression"] = json!("amount >");
    let reported = codes_and_paths(schemaforge_spec::validate_value(&value));
    assert!(reported.iter().any(|(_, path)| path == "/tables/3/columns/1/type"), "{reported:?}");
    assert!(reported.iter().any(|(_, path)| path == "/tables/90/checks/0/expression"), "{reported:?}");
}

#[test]
fn the_same_definition_gives_the_same_schema_every_time() {
    let value = definition(150);
    let first = schemaforge_spec::validate_value(&value).expect("valid");
    for _ in 0..3 {
        assert_eq!(schemaforge_spec::validate_value(&value).expect("valid"), first);
    }
}

#[test]
fn a_text_reads_to_the_same_schema_as_its_parsed_value() {
    // `parse_definition_for` reads a text sound in shape in one pass
    // (`typed`); `validate_value_for` takes the layered path: on every
    // fixture, valid or not, both must give the same answer.
    let fixtures = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut texts: Vec<String> = Vec::new();
    for folder in ["examples", "features", "invalid", "sqlite"] {
        let mut paths: Vec<_> = std::fs::read_dir(fixtures.join(folder))
            .expect("the fixture folder exists")
            .map(|entry| entry.expect("readable directory entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        texts.extend(paths.into_iter().map(|path| std::fs::read_to_string(path).expect("readable fixture")));
    }
    texts.push(serde_json::to_string_pretty(&definition(150)).expect("serializes"));
    let mut compared = 0;
    for text in &texts {
        // Malformed JSON has no parsed value to compare with.
        let Ok(value) = schemaforge_spec::json::parse_strict(text) else { continue };
        for target in [None, Some(schemaforge_model::Dialect::Sqlite)] {
            let layered = schemaforge_spec::validate_value_for(&value, target).map_err(|d| codes_and_paths(Err(d)));
            let one_pass = schemaforge_spec::parse_definition_for(text, target).map_err(|d| codes_and_paths(Err(d)));
            assert_eq!(one_pass, layered, "{}", &text[..text.len().min(200)]);
            compared += 1;
        }
    }
    assert!(compared > 40, "{compared}");
}

#[test]
fn definitions_read_together_give_what_each_gives_alone() {
    // A definition and its next version share most fragments, which
    // `parse_definitions_for` checks once for both; each result must be
    // exactly what `parse_definition_for` gives for that text alone.
    let base = definition(150);
    let mut next = base.clone();
    next["tables"][7]["checks"][0]["expression"] = json!("amount > 7 AND amount < 1000");
    next["tables"][8]["checks"][0]["expression"] = json!("amount >");
    next["tables"][9]["columns"][1]["type"] = json!("integr");
    let mut fixed = next.clone();
    fixed["tables"][8]["checks"][0]["expression"] = json!("amount > 8");
    fixed["tables"][9]["columns"][1]["type"] = json!("integer");
    let texts: Vec<String> = [base, next, fixed].iter().map(|v| serde_json::to_string_pretty(v).expect("serializes")).collect();
    let sqlite = Some(schemaforge_model::Dialect::Sqlite);
    for pair in [[0, 1], [1, 0], [2, 0], [0, 2]] {
        for target in [None, sqlite] {
            let together = schemaforge_spec::parse_definitions_for(&[(&texts[pair[0]], target), (&texts[pair[1]], target)]);
            let alone: Vec<_> = pair.iter().map(|&i| schemaforge_spec::parse_definition_for(&texts[i], target)).collect();
            assert_eq!(together, alone, "{pair:?} for {target:?}");
        }
    }
    // The invalid one really is invalid, and the others are not, or this proves little.
    assert!(schemaforge_spec::parse_definition_for(&texts[1], None).is_err());
    assert!(schemaforge_spec::parse_definition_for(&texts[2], None).is_ok());
    assert!(schemaforge_spec::parse_definitions_for(&[]).is_empty());
}
