//! SQLite's rules: what it cannot hold is refused with a pointer and a code, what it holds differently is lowered its way.

use schemaforge_model::{ColumnDefault, Dialect};
use schemaforge_spec::{parse_definition, parse_definition_for};

#[track_caller]
fn expect(text: &str, expected: &[(&str, &str)]) {
    let diagnostics = match parse_definition_for(text, Some(Dialect::Sqlite)) {
        Ok(_) => panic!("expected {expected:?}, but the definition was accepted"),
        Err(d) => d,
    };
    let actual: Vec<(String, String)> = diagnostics.iter().map(|d| (d.path.clone(), d.code.as_str().to_string())).collect();
    let expected: Vec<(String, String)> = expected.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    assert_eq!(actual, expected, "\n{}", diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"));
}

fn table(columns: &str) -> String {
    format!(r#"{{"tables": [{{"name": "t", "columns": [{{"name": "id", "type": "integer", "primaryKey": true}}, {columns}]}}]}}"#)
}

#[test]
fn the_dialect_comes_from_the_definition_or_the_target() {
    let own = parse_definition(r#"{"dialect": "sqlite", "tables": []}"#).expect("valid");
    assert_eq!(own.dialect, Dialect::Sqlite);
    let targeted = parse_definition_for(r#"{"tables": []}"#, Some(Dialect::Sqlite)).expect("valid");
    assert_eq!(targeted.dialect, Dialect::Sqlite);
    let text = r#"{"dialect": "postgresql", "tables": []}"#;
    let diagnostics = parse_definition_for(text, Some(Dialect::Sqlite)).expect_err("a PostgreSQL definition for a SQLite target");
    assert_eq!(diagnostics[0].path, "/dialect");
    assert_eq!(diagnostics[0].code.as_str(), "unsupported-dialect");
}

#[test]
fn database_wide_features_are_refused() {
    expect(
        r#"{"schemas": ["auth"], "extensions": ["pgcrypto"], "roles": [{"name": "anon", "existing": true}], "tables": []}"#,
        &[("/schemas", "not-in-dialect"), ("/extensions", "not-in-dialect"), ("/roles", "not-in-dialect")],
    );
    expect(
        r#"{"tables": [{"name": "t", "rls": true, "policies": [{"name": "p", "using": "true"}], "columns": [{"name": "a", "type": "text"}]}]}"#,
        &[("/tables/0/rls", "not-in-dialect"), ("/tables/0/policies", "not-in-dialect"), ("/tables/0/policies/0/using", "invalid-sql")],
    );
    expect(
        r#"{"tables": [{"name": "sqlite_stats", "columns": [{"name": "a", "type": "text"}]}]}"#,
        &[("/tables/0/name", "invalid-identifier")],
    );
}

#[test]
fn types_sqlite_cannot_hold_are_refused() {
    for ty in ["date", "time", "interval", "inet", "cidr", "macaddr"] {
        let text = table(&format!(r#"{{"name": "c", "type": "{ty}"}}"#));
        expect(&text, &[("/tables/0/columns/1/type", "not-in-dialect")]);
        let diagnostics = parse_definition_for(&text, Some(Dialect::Sqlite)).expect_err("refused");
        assert_eq!(diagnostics[0].message, format!("SQLite has no `{ty}` type"), "the message names the type");
    }
    expect(&table(r#"{"name": "c", "type": "vector", "dimensions": 3}"#), &[("/tables/0/columns/1/type", "not-in-dialect")]);
    expect(&table(r#"{"name": "c", "type": "text", "array": true}"#), &[("/tables/0/columns/1/array", "not-in-dialect")]);
    expect(
        &table(r#"{"name": "c", "type": "numeric", "precision": 10, "scale": 2}"#),
        &[("/tables/0/columns/1/precision", "not-in-dialect")],
    );
    expect(&table(r#"{"name": "c", "type": "timestamp", "precision": 6}"#), &[("/tables/0/columns/1/precision", "not-in-dialect")]);
}

#[test]
fn only_the_sole_integer_key_counts_itself() {
    expect(&table(r#"{"name": "n", "type": "serial"}"#), &[("/tables/0/columns/1/type", "not-in-dialect")]);
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "id", "type": "integer", "primaryKey": true, "identity": {"kind": "always", "start": 100}}]}]}"#,
        &[("/tables/0/columns/0/identity", "not-in-dialect")],
    );
    let schema = parse_definition_for(
        r#"{"tables": [{"name": "t", "columns": [{"name": "id", "type": "integer", "primaryKey": true, "identity": "always"}]}]}"#,
        Some(Dialect::Sqlite),
    )
    .expect("identity on the sole key is AUTOINCREMENT");
    assert!(schemaforge_model::sqlite::autoincrement(&schema.tables[0], &schema.tables[0].columns[0]));
}

#[test]
fn index_and_unique_options_sqlite_lacks_are_refused() {
    let text = r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "text"}, {"name": "b", "type": "text"}],
        "uniques": [{"columns": ["a"], "nullsNotDistinct": true}],
        "indexes": [{"name": "i", "using": "hash", "columns": [{"column": "b", "opclass": "text_pattern_ops"}]},
                    {"name": "j", "columns": [{"column": "a", "order": "desc", "nulls": "first"}]}]}]}"#;
    expect(
        text,
        &[
            ("/tables/0/uniques/0/nullsNotDistinct", "not-in-dialect"),
            ("/tables/0/indexes/0/using", "not-in-dialect"),
            ("/tables/0/indexes/0/columns/0/opclass", "not-in-dialect"),
            ("/tables/0/indexes/1/columns/0/nulls", "not-in-dialect"),
        ],
    );
}

#[test]
fn sql_is_checked_with_sqlite_grammar_and_functions() {
    expect(
        &table(r#"{"name": "u", "type": "uuid", "default": {"sql": "gen_random_uuid()"}}"#),
        &[("/tables/0/columns/1/default/sql", "invalid-sql")],
    );
    expect(
        &table(r#"{"name": "c", "type": "text", "default": {"sql": "0); DROP TABLE t; --"}}"#),
        &[("/tables/0/columns/1/default/sql", "not-an-expression")],
    );
    let checks = r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "integer"}], "checks": [{"name": "c", "expression": "a < unixepoch()"}]}]}"#;
    expect(checks, &[("/tables/0/checks/0/expression", "invalid-sql")]);
    // SQLite compares names without regard to case.
    let mixed = r#"{"tables": [{"name": "t", "columns": [{"name": "userId", "type": "integer"}], "checks": [{"name": "c", "expression": "userid > 0"}]}]}"#;
    parse_definition_for(mixed, Some(Dialect::Sqlite)).expect("case-insensitive names");
}

#[test]
fn timestamps_default_to_the_clock_as_numbers() {
    expect(
        &table(r#"{"name": "at", "type": "timestamp", "default": "2024-01-01T00:00:00Z"}"#),
        &[("/tables/0/columns/1/default", "not-in-dialect")],
    );
    let schema =
        parse_definition_for(&table(r#"{"name": "at", "type": "timestamp", "default": "CURRENT_TIMESTAMP"}"#), Some(Dialect::Sqlite))
            .expect("valid");
    assert_eq!(schema.tables[0].columns[1].default, Some(ColumnDefault::Sql("unixepoch()".into())));
    let schema = parse_definition_for(
        &table(r#"{"name": "at", "type": "timestamp", "precision": 3, "default": "CURRENT_TIMESTAMP"}"#),
        Some(Dialect::Sqlite),
    )
    .expect("valid");
    assert_eq!(schema.tables[0].columns[1].default, Some(ColumnDefault::Sql("cast(unixepoch('subsec') * 1000 as integer)".into())));
}

#[test]
fn enums_are_text_with_a_check_and_uniques_are_unique_indexes() {
    let text = r#"{"enums": [{"name": "status", "values": ["draft", "it's"]}], "tables": [{"name": "posts",
        "columns": [{"name": "id", "type": "integer", "primaryKey": true}, {"name": "status", "type": "enum", "enum": "status"},
                    {"name": "slug", "type": "text"}],
        "indexes": [{"name": "posts_slug_key", "columns": ["slug"], "unique": true}]}]}"#;
    let schema = parse_definition_for(text, Some(Dialect::Sqlite)).expect("valid");
    let posts = &schema.tables[0];
    assert_eq!(posts.checks.len(), 1);
    assert_eq!(posts.checks[0].name, "posts_status_check");
    assert_eq!(posts.checks[0].expression, r#""status" IN ('draft', 'it''s')"#);
    assert!(posts.indexes.is_empty());
    assert_eq!(posts.uniques.len(), 1);
    assert_eq!(posts.uniques[0].name, "posts_slug_key");

    let clash = r#"{"enums": [{"name": "s", "values": ["a"]}], "tables": [{"name": "t",
        "columns": [{"name": "k", "type": "enum", "enum": "s"}], "checks": [{"name": "t_k_check", "expression": "k <> 'b'"}]}]}"#;
    expect(clash, &[("/tables/0/columns/0/name", "duplicate-constraint")]);
}

#[test]
fn names_that_differ_only_in_case_are_one_name() {
    // SQLite compares identifiers without regard to ASCII case, and keeps
    // tables and indexes (uniques included) in one namespace.
    expect(
        r#"{"tables": [{"name": "Users", "columns": [{"name": "id", "type": "integer"}]},
                       {"name": "users", "columns": [{"name": "id", "type": "integer"}]}]}"#,
        &[("/tables/1/name", "duplicate-table")],
    );
    expect(
        &table(r#"{"name": "userId", "type": "integer"}, {"name": "USERID", "type": "text"}"#),
        &[("/tables/0/columns/2/name", "duplicate-column")],
    );
    expect(
        r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": "integer", "unique": true}],
                        "uniques": [{"name": "T_A_UNIQUE", "columns": ["a"]}], "indexes": [{"name": "T", "columns": ["a"]}]}]}"#,
        &[("/tables/0/uniques/0", "duplicate-constraint"), ("/tables/0/indexes/0/name", "duplicate-index")],
    );
    // What SQLite does not name is not claimed: a key name, a table named like a sequence.
    let schema = parse_definition_for(
        r#"{"tables": [{"name": "t", "primaryKey": {"name": "s", "columns": ["id"]}, "columns": [{"name": "id", "type": "serial"}]},
                       {"name": "s", "columns": [{"name": "t_id_seq", "type": "integer"}]},
                       {"name": "t_id_seq", "columns": [{"name": "a", "type": "integer"}]}]}"#,
        Some(Dialect::Sqlite),
    );
    assert!(schema.is_ok(), "{schema:?}");
}

#[test]
fn emitted_sqlite_definitions_parse_back_to_the_same_schema() {
    let text = r#"{"dialect": "sqlite", "enums": [{"name": "status", "values": ["draft", "done"]}], "tables": [{"name": "posts",
        "columns": [{"name": "id", "type": "integer", "primaryKey": true}, {"name": "status", "type": "enum", "enum": "status"},
                    {"name": "at", "type": "timestamp"}],
        "indexes": [{"name": "posts_at_idx", "columns": ["status", {"column": "at", "order": "desc"}, {"expression": "lower(status)"}]}]}]}"#;
    let schema = parse_definition(text).expect("valid");
    // Index NULLs sort where SQLite sorts them, which a SQLite definition must not spell out.
    let emitted = schemaforge_spec::emit::to_json(&schema);
    assert!(!emitted.contains("nulls"), "{emitted}");
    assert_eq!(parse_definition(&emitted).unwrap_or_else(|d| panic!("{d:#?}\n{emitted}")), schema);
}
