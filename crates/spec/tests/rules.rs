//! One test per validation rule: the definition in, the exact pointers and codes out.
//!
//! Messages and hints are pinned by the insta snapshots of the reports for
//! `fixtures/invalid/` (`crates/cli/tests/invalid.rs`) and of `validate`'s
//! output (`crates/cli/tests/cli.rs`); here each rule is asserted by where it
//! points and which code it carries, which is the contract programs rely on.

use schemaforge_spec::parse_definition;

/// Asserts that `text` is rejected with exactly these `(pointer, code)` pairs.
#[track_caller]
fn expect(text: &str, expected: &[(&str, &str)]) {
    let diagnostics = match parse_definition(text) {
        Ok(_) => panic!("expected {expected:?}, but the definition was accepted"),
        Err(d) => d,
    };
    let actual: Vec<(String, String)> = diagnostics.iter().map(|d| (d.path.clone(), d.code.as_str().to_string())).collect();
    let expected: Vec<(String, String)> = expected.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    assert_eq!(actual, expected, "\n{}", diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"));
}

#[track_caller]
fn hint_of(text: &str) -> String {
    parse_definition(text).err().and_then(|d| d[0].hint.clone()).unwrap_or_default()
}

fn table(columns: &str) -> String {
    format!(r#"{{"tables": [{{"name": "t", "columns": [{columns}]}}]}}"#)
}

#[test]
fn malformed_json_has_line_and_column() {
    let diagnostics = parse_definition("{\n  \"tables\": [\n    {\"name\": \"t\",, }\n  ]\n}").unwrap_err();
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code.as_str(), "invalid-json");
    let position = diagnostics[0].position.expect("a position");
    assert_eq!((position.line, position.column), (3, 18));
}

#[test]
fn duplicate_json_keys() {
    expect(r#"{"tables": [], "tables": []}"#, &[("", "duplicate-key")]);
}

#[test]
fn absurd_nesting_and_size_fail_cleanly() {
    let deep = format!(r#"{{"tables": {}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    expect(&deep, &[("", "invalid-json")]);
    let huge = format!(r#"{{"tables": [], "x": "{}"}}"#, "a".repeat(schemaforge_spec::json::MAX_DEFINITION_BYTES));
    expect(&huge, &[("", "too-large")]);
}

#[test]
fn unknown_fields_with_suggestions() {
    let text = table(r#"{"name": "a", "type": "text", "notnull": true}, {"name": "b", "type": "text", "nullabel": true}"#);
    expect(&text, &[("/tables/0/columns/0/notnull", "unknown-field"), ("/tables/0/columns/1/nullabel", "unknown-field")]);
    assert_eq!(hint_of(&table(r#"{"name": "a", "type": "text", "lenght": 3}"#)), "did you mean `length`?");
    assert!(hint_of(&table(r#"{"name": "a", "type": "text", "nullable": true}"#)).contains("notNull"));
}

#[test]
fn missing_fields_and_wrong_types() {
    expect(r#"{"tables": [{"columns": []}]}"#, &[("/tables/0", "missing-field")]);
    expect(&table(r#"{"name": "a", "type": "varchar", "length": "12"}"#), &[("/tables/0/columns/0/length", "wrong-type")]);
    expect(&table(r#"{"name": "a", "type": "varchar", "length": -1}"#), &[("/tables/0/columns/0/length", "out-of-range")]);
    expect(r#"{"tables": {}}"#, &[("/tables", "wrong-type")]);
}

#[test]
fn unknown_types_with_suggestion() {
    expect(&table(r#"{"name": "a", "type": "varchr"}"#), &[("/tables/0/columns/0/type", "unknown-type")]);
    assert_eq!(hint_of(&table(r#"{"name": "a", "type": "varchr"}"#)), "did you mean `varchar`?");
    assert!(hint_of(&table(r#"{"name": "a", "type": "timestamptz"}"#)).contains("withTimezone"));
}

#[test]
fn invalid_enum_like_values() {
    let text = r#"{"tables": [{"name": "t", "columns": [{"name": "id", "type": "serial", "primaryKey": true},
        {"name": "p", "type": "integer", "references": {"table": "t", "column": "id", "onDelete": "cascades"}}]}]}"#;
    expect(text, &[("/tables/0/columns/1/references/onDelete", "invalid-value")]);
    assert_eq!(hint_of(text), "did you mean `cascade`?");
}

#[test]
fn duplicate_tables_columns_and_constraints() {
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "text"}]}, {"name": "t", "columns": [{"name": "a", "type": "text"}]}]}"#,
        &[("/tables/1/name", "duplicate-table")],
    );
    expect(
        &table(r#"{"name": "a", "type": "text"}, {"name": "a", "type": "integer"}"#),
        &[("/tables/0/columns/1/name", "duplicate-column")],
    );
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "integer"}],
            "checks": [{"name": "c", "expression": "a > 0"}, {"name": "c", "expression": "a < 9"}]}]}"#,
        &[("/tables/0/checks/1/name", "duplicate-constraint")],
    );
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "integer"}],
            "uniques": [{"name": "t_uq", "columns": ["a"]}], "checks": [{"name": "t_uq", "expression": "a > 0"}]}]}"#,
        &[("/tables/0/checks/0/name", "duplicate-constraint")],
    );
}

#[test]
fn duplicate_index_names_across_tables_of_a_schema() {
    expect(
        r#"{"tables": [
            {"name": "a", "columns": [{"name": "x", "type": "integer"}], "indexes": [{"name": "idx", "columns": ["x"]}]},
            {"name": "b", "columns": [{"name": "x", "type": "integer"}], "indexes": [{"name": "idx", "columns": ["x"]}]}]}"#,
        &[("/tables/1/indexes/0/name", "duplicate-index")],
    );
    expect(
        r#"{"tables": [
            {"name": "a", "columns": [{"name": "x", "type": "integer"}]},
            {"name": "b", "columns": [{"name": "x", "type": "integer"}], "indexes": [{"name": "a", "columns": ["x"]}]}]}"#,
        &[("/tables/1/indexes/0/name", "duplicate-index")],
    );
}

#[test]
fn foreign_key_to_missing_table_or_column() {
    let text = table(r#"{"name": "u", "type": "integer", "references": {"table": "user", "column": "id"}}"#);
    expect(&text, &[("/tables/0/columns/0/references/table", "unknown-table")]);
    let text = r#"{"tables": [{"name": "users", "columns": [{"name": "id", "type": "serial", "primaryKey": true}]},
        {"name": "posts", "columns": [{"name": "author", "type": "integer", "references": {"table": "users", "column": "idd"}}]}]}"#;
    expect(text, &[("/tables/1/columns/0/references/column", "unknown-column")]);
    assert_eq!(hint_of(text), "did you mean `id`?");
}

#[test]
fn foreign_key_type_must_match_target() {
    let text = r#"{"tables": [{"name": "users", "columns": [{"name": "id", "type": "uuid", "primaryKey": true}]},
        {"name": "posts", "columns": [{"name": "author", "type": "integer", "references": {"table": "users", "column": "id"}}]}]}"#;
    expect(text, &[("/tables/1/columns/0/references", "fk-type-mismatch")]);
    // serial stores integer: referencing it with integer is right.
    let ok = r#"{"tables": [{"name": "users", "columns": [{"name": "id", "type": "serial", "primaryKey": true}]},
        {"name": "posts", "columns": [{"name": "author", "type": "integer", "references": {"table": "users", "column": "id"}}]}]}"#;
    assert!(parse_definition(ok).is_ok());
}

#[test]
fn foreign_key_target_must_be_unique() {
    let text = r#"{"tables": [{"name": "users", "columns": [{"name": "id", "type": "serial", "primaryKey": true}, {"name": "email", "type": "text"}]},
        {"name": "posts", "columns": [{"name": "author", "type": "text", "references": {"table": "users", "column": "email"}}]}]}"#;
    expect(text, &[("/tables/1/columns/0/references/column", "fk-target-not-unique")]);
}

#[test]
fn composite_keys_naming_missing_columns() {
    expect(
        r#"{"tables": [{"name": "t", "primaryKey": ["a", "b"], "columns": [{"name": "a", "type": "integer"}]}]}"#,
        &[("/tables/0/primaryKey/1", "unknown-column")],
    );
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "integer"}], "uniques": [{"columns": ["a", "z"]}]}]}"#,
        &[("/tables/0/uniques/0/columns/1", "unknown-column")],
    );
    expect(
        r#"{"tables": [{"name": "p", "primaryKey": ["a", "b"], "columns": [{"name": "a", "type": "integer"}, {"name": "b", "type": "integer"}]},
          {"name": "c", "columns": [{"name": "x", "type": "integer"}],
           "foreignKeys": [{"columns": ["x", "y"], "references": {"table": "p", "columns": ["a", "b"]}}]}]}"#,
        &[("/tables/1/foreignKeys/0/columns/1", "unknown-column")],
    );
}

#[test]
fn missing_enum_and_duplicate_enum_values() {
    expect(&table(r#"{"name": "s", "type": "enum", "enum": "status"}"#), &[("/tables/0/columns/0/enum", "unknown-enum")]);
    expect(r#"{"enums": [{"name": "status", "values": ["a", "b", "a"]}], "tables": []}"#, &[("/enums/0/values/2", "duplicate-enum-value")]);
}

#[test]
fn defaults_must_fit_the_column_type() {
    let text = r#"{"enums": [{"name": "status", "values": ["draft", "published"]}], "tables": [{"name": "t", "columns": [
        {"name": "a", "type": "integer", "default": "zero"},
        {"name": "b", "type": "boolean", "default": 1},
        {"name": "c", "type": "varchar", "length": 3, "default": "toolong"},
        {"name": "d", "type": "enum", "enum": "status", "default": "drafty"},
        {"name": "e", "type": "smallint", "default": 70000},
        {"name": "f", "type": "uuid", "default": "not-a-uuid"},
        {"name": "g", "type": "text", "array": true, "default": [1]},
        {"name": "h", "type": "serial", "default": 1},
        {"name": "i", "type": "timestamp", "default": "yesterday"}]}]}"#;
    expect(
        text,
        &[
            ("/tables/0/columns/0/default", "invalid-default"),
            ("/tables/0/columns/1/default", "invalid-default"),
            ("/tables/0/columns/2/default", "invalid-default"),
            ("/tables/0/columns/3/default", "invalid-default"),
            ("/tables/0/columns/4/default", "invalid-default"),
            ("/tables/0/columns/5/default", "invalid-default"),
            ("/tables/0/columns/6/default", "invalid-default"),
            ("/tables/0/columns/7/default", "invalid-default"),
            ("/tables/0/columns/8/default", "invalid-default"),
        ],
    );
    assert_eq!(
        hint_of(
            r#"{"enums": [{"name": "s", "values": ["draft"]}], "tables": [{"name": "t", "columns": [{"name": "d", "type": "enum", "enum": "s", "default": "drafty"}]}]}"#
        ),
        "did you mean `draft`?"
    );
}

#[test]
fn identifiers_too_long_or_with_refused_characters() {
    let long = "a".repeat(64);
    expect(
        &format!(r#"{{"tables": [{{"name": "{long}", "columns": [{{"name": "a", "type": "text"}}]}}]}}"#),
        &[("/tables/0/name", "identifier-too-long")],
    );
    expect(&table(r#"{"name": "my col", "type": "text"}"#), &[("/tables/0/columns/0/name", "invalid-identifier")]);
    expect(&table(r#"{"name": "a\"; DROP TABLE x; --", "type": "text"}"#), &[("/tables/0/columns/0/name", "invalid-identifier")]);
    // A derived name (the default unique constraint name) is checked too.
    let col = "c".repeat(60);
    expect(
        &table(&format!(r#"{{"name": "{col}", "type": "text", "unique": true}}"#)),
        &[("/tables/0/columns/0/unique", "identifier-too-long")],
    );
}

#[test]
fn numeric_scale_greater_than_precision() {
    expect(
        &table(r#"{"name": "n", "type": "numeric", "precision": 4, "scale": 6}"#),
        &[("/tables/0/columns/0/scale", "invalid-type-parameter")],
    );
    expect(&table(r#"{"name": "n", "type": "integer", "length": 4}"#), &[("/tables/0/columns/0/length", "invalid-type-parameter")]);
    expect(&table(r#"{"name": "v", "type": "vector"}"#), &[("/tables/0/columns/0", "invalid-type-parameter")]);
}

#[test]
fn two_primary_keys() {
    expect(
        &table(r#"{"name": "a", "type": "integer", "primaryKey": true}, {"name": "b", "type": "integer", "primaryKey": true}"#),
        &[("/tables/0/columns/1/primaryKey", "multiple-primary-keys")],
    );
    expect(
        r#"{"tables": [{"name": "t", "primaryKey": ["b"], "columns": [{"name": "a", "type": "integer", "primaryKey": true}, {"name": "b", "type": "integer"}]}]}"#,
        &[("/tables/0/primaryKey", "multiple-primary-keys")],
    );
}

#[test]
fn sql_fragments_must_be_exactly_one_expression() {
    let text = r#"{"roles": [{"name": "app", "existing": true}], "tables": [{"name": "t", "columns": [
        {"name": "a", "type": "integer", "default": {"sql": "0); DROP TABLE users; --"}},
        {"name": "b", "type": "integer", "generated": {"sql": "a + "}}],
      "checks": [{"name": "c", "expression": "a > 0 FROM t"}],
      "indexes": [{"name": "i", "columns": [{"expression": "a + 1"}], "where": "a > 0; SELECT 1"}],
      "policies": [{"name": "p", "to": ["app"], "using": "1, 2"}]}]}"#;
    expect(
        text,
        &[
            ("/tables/0/columns/0/default/sql", "not-an-expression"),
            ("/tables/0/columns/1/generated/sql", "invalid-sql"),
            ("/tables/0/indexes/0/columns/0/expression", "invalid-sql"),
            ("/tables/0/indexes/0/where", "not-an-expression"),
            ("/tables/0/checks/0/expression", "not-an-expression"),
            ("/tables/0/policies/0/using", "not-an-expression"),
        ],
    );
}

#[test]
fn policy_with_check_is_one_expression_in_its_position() {
    // `withCheck` is rendered as `WITH CHECK (…)`: whatever would close that
    // parenthesis, add a statement or comment out the rest is refused, each
    // at its own pointer, and the `using` beside it is judged on its own.
    let policy = |with_check: &str| {
        let with_check = serde_json::to_string(with_check).expect("a JSON string");
        format!(
            r#"{{"roles": [{{"name": "app", "existing": true}}], "tables": [{{"name": "users", "columns": [{{"name": "id", "type": "integer"}}],
              "policies": [{{"name": "p", "for": "update", "to": ["app"], "using": "id > 0", "withCheck": {with_check}}}]}}]}}"#
        )
    };
    let at = "/tables/0/policies/0/withCheck";
    for (sql, code) in [
        ("0); DROP TABLE users; --", "not-an-expression"),
        ("true); DROP TABLE users", "not-an-expression"),
        ("id > 0; GRANT ALL ON users TO public", "not-an-expression"),
        ("id > 0 -- and the rest", "not-an-expression"),
        ("id > 0 /* sneaky */", "not-an-expression"),
        ("true) WITH CHECK (false", "invalid-sql"),
        ("true) OR (1 = 1", "invalid-sql"),
        ("1, 2", "not-an-expression"),
        ("SELECT 1", "invalid-sql"),
        ("", "not-an-expression"),
    ] {
        let diagnostics = parse_definition(&policy(sql)).expect_err(sql);
        let actual: Vec<(&str, &str)> = diagnostics.iter().map(|d| (d.path.as_str(), d.code.as_str())).collect();
        assert_eq!(actual, [(at, code)], "withCheck {sql:?}");
    }
    // The same clause, harmless, is accepted.
    assert!(parse_definition(&policy("id = (SELECT current_setting('app.user_id')::integer)")).is_ok());
    // Both clauses injected: both reported, `using` first.
    let both = policy("0); DROP TABLE users; --").replace(r#""using": "id > 0""#, r#""using": "true; DROP TABLE users""#);
    expect(&both, &[("/tables/0/policies/0/using", "not-an-expression"), (at, "not-an-expression")]);
}

#[test]
fn custom_types_and_scripts_are_parsed() {
    expect(
        &table(r#"{"name": "a", "type": "custom", "sql": "int); DROP TABLE t; --"}"#),
        &[("/tables/0/columns/0/sql", "not-an-expression")],
    );
    expect(r#"{"sql": {"before": "CREATE TABLE ("}, "tables": []}"#, &[("/sql/before", "invalid-sql")]);
}

#[test]
fn schemas_roles_and_policies_resolve() {
    expect(
        r#"{"tables": [{"name": "t", "schema": "auth", "columns": [{"name": "a", "type": "text"}]}]}"#,
        &[("/tables/0/schema", "unknown-schema")],
    );
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "text"}], "policies": [{"name": "p", "to": ["authenticated"], "using": "true"}]}]}"#,
        &[("/tables/0/policies/0/to/0", "unknown-role")],
    );
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "text"}], "policies": [{"name": "p", "for": "insert", "using": "true"}]}]}"#,
        &[("/tables/0/policies/0/using", "invalid-policy")],
    );
}

#[test]
fn conflicting_column_options() {
    expect(
        &table(r#"{"name": "a", "type": "integer", "identity": "always", "default": 1}"#),
        &[("/tables/0/columns/0", "conflicting-options")],
    );
    expect(&table(r#"{"name": "a", "type": "text", "identity": "always"}"#), &[("/tables/0/columns/0/identity", "conflicting-options")]);
    expect(
        &table(r#"{"name": "a", "type": "integer", "generated": {"sql": "1", "stored": false}}"#),
        &[("/tables/0/columns/0/generated/stored", "not-supported")],
    );
}

#[test]
fn foreign_key_actions_that_cannot_succeed() {
    let text = r#"{"tables": [{"name": "users", "columns": [{"name": "id", "type": "serial", "primaryKey": true}]},
        {"name": "posts", "columns": [{"name": "author", "type": "integer", "notNull": true, "references": {"table": "users", "column": "id", "onDelete": "set null"}}]}]}"#;
    expect(text, &[("/tables/1/columns/0/references", "invalid-foreign-key")]);
}

#[test]
fn indexes_are_checked() {
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "text"}], "indexes": [{"columns": [{"expression": "lower(a)"}]}]}]}"#,
        &[("/tables/0/indexes/0", "invalid-index")],
    );
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "text"}], "indexes": [{"name": "i", "using": "btre", "columns": ["a"]}]}]}"#,
        &[("/tables/0/indexes/0/using", "invalid-index")],
    );
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "vector", "dimensions": 3}], "indexes": [{"name": "i", "using": "hnsw", "columns": ["a"]}]}]}"#,
        &[("/tables/0/indexes/0/columns/0", "invalid-index")],
    );
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "text"}], "indexes": [{"name": "i", "columns": ["b"]}]}]}"#,
        &[("/tables/0/indexes/0/columns/0", "unknown-column")],
    );
}

#[test]
fn renames_are_checked() {
    expect(
        &table(r#"{"name": "a", "type": "text", "renamedFrom": "b"}, {"name": "b", "type": "text"}"#),
        &[("/tables/0/columns/0/renamedFrom", "invalid-rename")],
    );
}

#[test]
fn enum_value_renames_are_checked() {
    let definition = |renames: &str| {
        format!(r#"{{"enums": [{{"name": "s", "values": ["a", "live", "c"], "renamedValues": {renames}}}], "tables": []}}"#)
    };
    let schema = parse_definition(&definition(r#"{"live": "published"}"#)).expect("a valid rename");
    assert_eq!(schema.enums[0].renamed_values.get("live").map(String::as_str), Some("published"));
    expect(&definition(r#"{"live": "live"}"#), &[("/enums/0/renamedValues/live", "invalid-rename")]);
    expect(&definition(r#"{"gone": "b"}"#), &[("/enums/0/renamedValues/gone", "invalid-rename")]);
    expect(&definition(r#"{"live": "a"}"#), &[("/enums/0/renamedValues/live", "invalid-rename")]);
    expect(&definition(r#"{"c": "b", "live": "b"}"#), &[("/enums/0/renamedValues/live", "invalid-rename")]);
    expect(&definition(r#"{"live": 3}"#), &[("/enums/0/renamedValues/live", "wrong-type")]);
}

#[test]
fn unsupported_dialects_and_features() {
    expect(r#"{"dialect": "mysql", "tables": []}"#, &[("/dialect", "unsupported-dialect")]);
    expect(r#"{"collections": [], "tables": []}"#, &[("/collections", "not-supported")]);
}

#[test]
fn every_error_is_reported_at_once() {
    let text = r#"{"tables": [{"name": "t", "columns": [
        {"name": "a", "type": "integr"}, {"name": "b", "type": "text", "colour": "red"}]},
        {"name": "u", "colums": []}]}"#;
    let diagnostics = parse_definition(text).unwrap_err();
    assert_eq!(diagnostics.len(), 4, "{diagnostics:#?}");
}

#[test]
fn shape_problems_do_not_hide_semantic_ones() {
    // `nullabel` is a shape problem; the FK to a missing table is semantic.
    // Both come back from one run.
    let text = r#"{"tables": [{"name": "posts", "columns": [
        {"name": "id", "type": "serial", "primaryKey": true, "nullabel": true},
        {"name": "author", "type": "integer", "references": {"table": "users", "column": "id"}}]}]}"#;
    expect(text, &[("/tables/0/columns/0/nullabel", "unknown-field"), ("/tables/0/columns/1/references/table", "unknown-table")]);
}

#[test]
fn broken_objects_cause_no_follow_on_errors() {
    // `users.id` has an unknown type: the foreign key to it is not reported again.
    let text = r#"{"tables": [
        {"name": "users", "columns": [{"name": "id", "type": "int", "primaryKey": true}]},
        {"name": "posts", "columns": [{"name": "author", "type": "integer", "references": {"table": "users", "column": "id"}}]}]}"#;
    expect(text, &[("/tables/0/columns/0/type", "unknown-type")]);
    // A broken enum is not reported as missing where it is used.
    let text = r#"{"enums": [{"name": "s", "values": ["a", "a"]}], "tables": [{"name": "t", "columns": [{"name": "c", "type": "enum", "enum": "s"}]}]}"#;
    expect(text, &[("/enums/0/values/1", "duplicate-enum-value")]);
}

#[test]
fn a_one_element_array_default_is_a_literal_not_sql() {
    // `["x"]` is an array literal; on a text column it does not fit.
    expect(&table(r#"{"name": "a", "type": "text", "default": ["current_user"]}"#), &[("/tables/0/columns/0/default", "invalid-default")]);
    assert!(parse_definition(&table(r#"{"name": "a", "type": "text", "array": true, "default": ["now()"]}"#)).is_ok());
}

#[test]
fn expressions_may_only_name_what_their_position_allows() {
    let text = r#"{"tables": [{"name": "t", "columns": [
        {"name": "a", "type": "integer", "default": {"sql": "b + 1"}},
        {"name": "b", "type": "integer"},
        {"name": "c", "type": "integer", "generated": {"sql": "d * 2"}},
        {"name": "d", "type": "integer", "generated": {"sql": "b * 2"}},
        {"name": "Email", "type": "text"}],
      "checks": [{"name": "k1", "expression": "missing > 0"}, {"name": "k2", "expression": "b IN (SELECT 1)"}, {"name": "k3", "expression": "email <> ''"}],
      "indexes": [{"name": "i", "columns": [{"expression": "lower(nope)"}]}]}]}"#;
    expect(
        text,
        &[
            ("/tables/0/columns/0/default/sql", "invalid-expression"),
            ("/tables/0/columns/2/generated/sql", "invalid-expression"),
            ("/tables/0/indexes/0/columns/0/expression", "invalid-expression"),
            ("/tables/0/checks/0/expression", "invalid-expression"),
            ("/tables/0/checks/1/expression", "invalid-expression"),
            ("/tables/0/checks/2/expression", "invalid-expression"),
        ],
    );
    assert!(hint_of(r#"{"tables": [{"name": "t", "columns": [{"name": "Email", "type": "text"}], "checks": [{"name": "k", "expression": "email <> ''"}]}]}"#).contains("\"Email\""));
    // A top-level COLLATE would bind to the column, not the default.
    expect(
        &table(r#"{"name": "a", "type": "text", "default": {"sql": "'x' COLLATE \"C\""}}"#),
        &[("/tables/0/columns/0/default/sql", "invalid-expression")],
    );
}

#[test]
fn text_reaching_sql_holds_no_nul_and_no_breakpoint() {
    expect(&table(r#"{"name": "a", "type": "text", "default": "x\u0000y"}"#), &[("/tables/0/columns/0/default", "invalid-value")]);
    expect(
        &table(r#"{"name": "a", "type": "text", "comment": "see --> statement-breakpoint"}"#),
        &[("/tables/0/columns/0/comment", "invalid-value")],
    );
    expect(r#"{"sql": {"after": "SELECT 1; --> statement-breakpoint\nSELECT 2;"}, "tables": []}"#, &[("/sql/after", "invalid-value")]);
    expect(
        r#"{"enums": [{"name": "e", "values": ["a--> statement-breakpoint"]}], "tables": []}"#,
        &[("/enums/0/values/0", "invalid-value")],
    );
}

#[test]
fn sequences_share_the_relation_and_type_namespaces() {
    expect(
        r#"{"tables": [{"name": "users", "columns": [{"name": "id", "type": "serial", "primaryKey": true}]},
                      {"name": "users_id_seq", "columns": [{"name": "x", "type": "text"}]}]}"#,
        &[("/tables/0/columns/0", "duplicate-name")],
    );
    expect(
        r#"{"enums": [{"name": "users_id_seq", "values": ["a"]}], "tables": [{"name": "users", "columns": [{"name": "id", "type": "serial", "primaryKey": true}]}]}"#,
        &[("/enums/0/name", "duplicate-enum")],
    );
}

#[test]
fn names_postgresql_refuses() {
    expect(&table(r#"{"name": "xmin", "type": "integer"}"#), &[("/tables/0/columns/0/name", "invalid-identifier")]);
    expect(r#"{"roles": [{"name": "none"}], "tables": []}"#, &[("/roles/0/name", "invalid-identifier")]);
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "text"}], "indexes": [{"name": "i", "using": "select", "columns": ["a"]}]}]}"#,
        &[("/tables/0/indexes/0/using", "invalid-index")],
    );
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "text"}], "indexes": [{"name": "i", "columns": [{"column": "a", "opclass": "My_Ops"}]}]}]}"#,
        &[("/tables/0/indexes/0/columns/0/opclass", "invalid-index")],
    );
}

#[test]
fn policies_cannot_mix_public_with_roles() {
    expect(
        r#"{"roles": [{"name": "app", "existing": true}], "tables": [{"name": "t", "columns": [{"name": "a", "type": "text"}], "policies": [{"name": "p", "to": ["public", "app"], "using": "true"}]}]}"#,
        &[("/tables/0/policies/0/to", "invalid-policy")],
    );
}

#[test]
fn literal_values_are_checked_not_just_their_shape() {
    let text = r#"{"tables": [{"name": "t", "columns": [
        {"name": "a", "type": "date", "default": "2024-13-45"},
        {"name": "b", "type": "timestamp", "default": "2024-01-01 99:99:99"},
        {"name": "c", "type": "interval", "default": "banana"},
        {"name": "d", "type": "cidr", "default": "10.0.0.1/8"},
        {"name": "e", "type": "timestamp", "default": "CURRENT_TIME"},
        {"name": "f", "type": "numeric", "precision": 5, "scale": 2, "default": 123456},
        {"name": "g", "type": "numeric", "default": 12345678901234567890.123},
        {"name": "h", "type": "real", "default": 1e300},
        {"name": "i", "type": "interval", "precision": 0}]}]}"#;
    expect(
        text,
        &[
            ("/tables/0/columns/0/default", "invalid-default"),
            ("/tables/0/columns/1/default", "invalid-default"),
            ("/tables/0/columns/2/default", "invalid-default"),
            ("/tables/0/columns/3/default", "invalid-default"),
            ("/tables/0/columns/4/default", "invalid-default"),
            ("/tables/0/columns/5/default", "invalid-default"),
            ("/tables/0/columns/6/default", "invalid-default"),
            ("/tables/0/columns/7/default", "invalid-default"),
            ("/tables/0/columns/8/precision", "invalid-type-parameter"),
        ],
    );
}

#[test]
fn referential_actions_that_cannot_apply() {
    let text = r#"{"tables": [{"name": "users", "columns": [{"name": "id", "type": "serial", "primaryKey": true}]},
        {"name": "posts", "columns": [
          {"name": "author", "type": "integer", "notNull": true, "references": {"table": "users", "column": "id", "onUpdate": "set null"}},
          {"name": "n", "type": "integer"},
          {"name": "g", "type": "integer", "generated": {"sql": "n + 1"}, "references": {"table": "users", "column": "id", "onDelete": "set null"}}]}]}"#;
    expect(text, &[("/tables/1/columns/0/references", "invalid-foreign-key"), ("/tables/1/columns/2/references", "invalid-foreign-key")]);
    // serial and generated do not mix.
    expect(&table(r#"{"name": "a", "type": "serial", "generated": {"sql": "1"}}"#), &[("/tables/0/columns/0", "conflicting-options")]);
}

#[test]
fn a_foreign_key_may_target_a_unique_index() {
    let text = r#"{"tables": [
        {"name": "teams", "columns": [{"name": "code", "type": "text"}], "indexes": [{"name": "teams_code_uidx", "unique": true, "columns": ["code"]}]},
        {"name": "members", "columns": [{"name": "team", "type": "text", "references": {"table": "teams", "column": "code"}}]}]}"#;
    assert!(parse_definition(text).is_ok());
}

#[test]
fn duplicates_point_at_their_own_declaration() {
    // The first table is broken; the duplicate index is still reported at the second declaration.
    let text = r#"{"tables": [
        {"name": "bad-name", "columns": [{"name": "a", "type": "text"}]},
        {"name": "a", "columns": [{"name": "x", "type": "text"}], "indexes": [{"name": "dup_idx", "columns": ["x"]}]},
        {"name": "b", "columns": [{"name": "x", "type": "text"}], "indexes": [{"name": "dup_idx", "columns": ["x"]}]}]}"#;
    expect(text, &[("/tables/0/name", "invalid-identifier"), ("/tables/2/indexes/0/name", "duplicate-index")]);
}

#[test]
fn a_name_clash_names_what_holds_the_name_and_what_claims_it() {
    let message = |text: &str| parse_definition(text).err().map(|d| d[0].message.clone()).unwrap_or_default();
    assert_eq!(
        message(
            r#"{"tables": [{"name": "a", "columns": [{"name": "x", "type": "integer"}]},
                          {"name": "b", "columns": [{"name": "x", "type": "integer"}], "indexes": [{"name": "a", "columns": ["x"]}]}]}"#
        ),
        "index `a` has the same name as table `a` in schema `public`"
    );
    assert_eq!(
        message(
            r#"{"tables": [{"name": "a", "columns": [{"name": "x", "type": "integer", "primaryKey": true}]},
                          {"name": "b", "columns": [{"name": "x", "type": "integer"}], "indexes": [{"name": "a_pkey", "columns": ["x"]}]}]}"#
        ),
        "index `a_pkey` has the same name as the primary key `a_pkey` of `a` in schema `public`"
    );
    assert_eq!(
        message(
            r#"{"tables": [{"name": "a", "columns": [{"name": "x", "type": "integer", "unique": true}]},
                          {"name": "a_x_unique", "columns": [{"name": "y", "type": "integer"}]}]}"#
        ),
        "unique constraint `a_x_unique` has the same name as table `a_x_unique` in schema `public`"
    );
    assert_eq!(
        message(
            r#"{"tables": [{"name": "users", "columns": [{"name": "id", "type": "serial", "primaryKey": true}]},
                          {"name": "users_id_seq", "columns": [{"name": "x", "type": "text"}]}]}"#
        ),
        "the sequence `users_id_seq` of column `users.id` has the same name as table `users_id_seq` in schema `public`"
    );
    assert_eq!(
        message(
            r#"{"enums": [{"name": "users_id_seq", "values": ["a"]}],
                "tables": [{"name": "users", "columns": [{"name": "id", "type": "serial", "primaryKey": true}]}]}"#
        ),
        "enum `users_id_seq` has the same name as the sequence `users_id_seq` of column `users.id` in schema `public`"
    );
}
