//! PostgreSQL fragments, checked with libpg_query (the server's own grammar).

use pg_query::NodeEnum;
use pg_query::protobuf::{self, Token};

use crate::{ExpressionFacts, ExpressionSlot, FragmentError};

pub(crate) fn check_expression(slot: ExpressionSlot, sql: &str) -> Result<ExpressionFacts, FragmentError> {
    reject_comments_and_semicolons(sql)?;

    // First prove it is one expression: as the only target of a bare SELECT.
    let parsed = parse(&format!("SELECT {sql}"))?;
    let select = match single_statement(&parsed)? {
        NodeEnum::SelectStmt(select) => select,
        other => return Err(FragmentError::NotOneExpression { found: describe_node(other) }),
    };
    if let Some(found) = select_extras(select) {
        return Err(FragmentError::NotOneExpression { found });
    }
    if select.target_list.len() != 1 {
        return Err(FragmentError::NotOneExpression { found: format!("{} comma-separated expressions", select.target_list.len()) });
    }
    let Some(NodeEnum::ResTarget(target)) = select.target_list[0].node.as_ref() else {
        return Err(FragmentError::NotOneExpression { found: "something other than an expression".into() });
    };
    if !target.name.is_empty() {
        return Err(FragmentError::NotOneExpression { found: format!("an expression with the alias `{}`", target.name) });
    }
    let facts = target.val.as_deref().map(crate::postgres_facts::facts_of).unwrap_or_default();

    // Then prove the server accepts it exactly where the renderer will put it.
    let in_context = match slot {
        ExpressionSlot::ColumnDefault => format!("CREATE TABLE t (c integer DEFAULT {sql})"),
        ExpressionSlot::Check => format!("ALTER TABLE t ADD CONSTRAINT c CHECK ({sql})"),
        ExpressionSlot::IndexExpression => format!("CREATE INDEX i ON t USING btree ({sql})"),
        ExpressionSlot::IndexPredicate => format!("CREATE INDEX i ON t USING btree (c) WHERE {sql}"),
        ExpressionSlot::PolicyUsing => format!("CREATE POLICY p ON t USING ({sql})"),
        ExpressionSlot::PolicyWithCheck => format!("CREATE POLICY p ON t WITH CHECK ({sql})"),
        ExpressionSlot::GeneratedColumn => {
            format!("CREATE TABLE t (c integer GENERATED ALWAYS AS ({sql}) STORED)")
        }
    };
    let hint = match slot {
        ExpressionSlot::IndexExpression => " (an index expression that is not a function call needs parentheses)",
        ExpressionSlot::ColumnDefault => " (wrap the expression in parentheses)",
        _ => "",
    };
    // Only whether the server's grammar accepts it matters here, not the tree:
    // the raw parser alone, without building and decoding the tree, which
    // costs several times the parse itself.
    match pg_query::split_with_parser(&in_context) {
        Ok(statements) if statements.len() == 1 => Ok(facts),
        Ok(statements) => Err(FragmentError::NotOneExpression { found: format!("{} statements", statements.len()) }),
        Err(error) => Err(FragmentError::NotAcceptedHere {
            dialect: "PostgreSQL",
            slot: slot.describe(),
            message: format!("{}{hint}", message_of(error)),
        }),
    }
}

pub(crate) fn check_type_name(sql: &str) -> Result<(), FragmentError> {
    reject_comments_and_semicolons(sql)?;
    let parsed = parse(&format!("CREATE TABLE t (c {sql})"))?;
    let create = match single_statement(&parsed)? {
        NodeEnum::CreateStmt(create) => create,
        other => return Err(FragmentError::NotOneTypeName { found: describe_node(other) }),
    };
    let columns: Vec<_> = create.table_elts.iter().filter_map(|n| n.node.as_ref()).collect();
    match columns.as_slice() {
        [NodeEnum::ColumnDef(column)] if column.constraints.is_empty() && column.coll_clause.is_none() => Ok(()),
        [NodeEnum::ColumnDef(_)] => Err(FragmentError::NotOneTypeName { found: "a type followed by constraints".into() }),
        other => Err(FragmentError::NotOneTypeName { found: format!("{} table elements", other.len()) }),
    }
}

pub(crate) fn constant(sql: &str) -> Option<crate::Constant> {
    let parsed = parse(&format!("SELECT {sql}")).ok()?;
    let Ok(NodeEnum::SelectStmt(select)) = single_statement(&parsed) else { return None };
    if select_extras(select).is_some() || select.target_list.len() != 1 {
        return None;
    }
    let Some(NodeEnum::ResTarget(target)) = select.target_list[0].node.as_ref() else { return None };
    let mut node = target.val.as_deref()?.node.as_ref()?;
    while let NodeEnum::TypeCast(cast) = node {
        node = cast.arg.as_deref()?.node.as_ref()?;
    }
    let NodeEnum::AConst(constant) = node else { return None };
    if constant.isnull {
        return Some(crate::Constant::Null);
    }
    Some(match constant.val.as_ref()? {
        protobuf::a_const::Val::Ival(i) => crate::Constant::Integer(i64::from(i.ival)),
        protobuf::a_const::Val::Fval(f) => match f.fval.parse::<i64>() {
            Ok(i) => crate::Constant::Integer(i),
            Err(_) => crate::Constant::Decimal(f.fval.clone()),
        },
        protobuf::a_const::Val::Boolval(b) => crate::Constant::Boolean(b.boolval),
        protobuf::a_const::Val::Sval(s) => crate::Constant::String(s.sval.clone()),
        protobuf::a_const::Val::Bsval(_) => return None,
    })
}

pub(crate) fn canonical_expression(sql: &str, renames: &std::collections::BTreeMap<String, String>) -> String {
    let renamed = if renames.is_empty() { sql.to_string() } else { rename_identifiers(sql, renames) };
    let deparsed = pg_query::parse(&format!("SELECT {renamed}"), 0).ok().and_then(|r| r.protobuf.deparse(Default::default()).ok());
    match deparsed {
        Some(text) => text.strip_prefix("SELECT ").unwrap_or(&text).to_string(),
        None => renamed.trim().to_string(),
    }
}

/// Replaces identifier tokens naming an old column with the new name (quoted).
fn rename_identifiers(sql: &str, renames: &std::collections::BTreeMap<String, String>) -> String {
    let Ok(result) = pg_query::scan(sql) else { return sql.to_string() };
    let mut out = String::with_capacity(sql.len());
    let mut cursor = 0;
    for token in &result.tokens {
        // Column names may also be non-reserved keywords (`name`, `type`, …).
        let name_like = Token::try_from(token.token) == Ok(Token::Ident)
            || matches!(
                protobuf::KeywordKind::try_from(token.keyword_kind),
                Ok(protobuf::KeywordKind::UnreservedKeyword | protobuf::KeywordKind::ColNameKeyword)
            );
        if !name_like {
            continue;
        }
        let (Ok(start), Ok(end)) = (usize::try_from(token.start), usize::try_from(token.end)) else { continue };
        let Some(text) = sql.get(start..end) else { continue };
        // The server folds unquoted names to lower case; quoted ones keep theirs.
        let name = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(quoted) => quoted.replace("\"\"", "\""),
            None => text.to_lowercase(),
        };
        if let (Some(new), Some(before)) = (renames.get(&name), sql.get(cursor..start)) {
            out.push_str(before);
            out.push('"');
            out.push_str(&new.replace('"', "\"\""));
            out.push('"');
            cursor = end;
        }
    }
    out.push_str(sql.get(cursor..).unwrap_or(""));
    out
}

pub(crate) fn is_plain_identifier(name: &str) -> bool {
    let shape = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !shape {
        return false;
    }
    // One token, and an identifier or a keyword usable as a name.
    match pg_query::scan(name) {
        Ok(result) => match result.tokens.as_slice() {
            [token] => {
                Token::try_from(token.token) == Ok(Token::Ident)
                    || protobuf::KeywordKind::try_from(token.keyword_kind) == Ok(protobuf::KeywordKind::UnreservedKeyword)
            }
            _ => false,
        },
        Err(_) => false,
    }
}

pub(crate) fn split_script(sql: &str) -> Result<Vec<String>, FragmentError> {
    let parsed = parse(sql)?;
    let mut statements = Vec::with_capacity(parsed.stmts.len());
    for raw in &parsed.stmts {
        let start = usize::try_from(raw.stmt_location).unwrap_or(0);
        // A zero length means "to the end of the input" for the last statement.
        let end = match usize::try_from(raw.stmt_len) {
            Ok(0) | Err(_) => sql.len(),
            Ok(len) => start.saturating_add(len).min(sql.len()),
        };
        let text = sql.get(start..end).ok_or_else(|| FragmentError::Syntax {
            message: "the parser returned statement bounds that are not character boundaries".into(),
        })?;
        let text = text.trim().trim_end_matches(';').trim_end();
        if !text.is_empty() {
            statements.push(text.to_string());
        }
    }
    if statements.is_empty() {
        return Err(FragmentError::Empty);
    }
    Ok(statements)
}

fn parse(sql: &str) -> Result<protobuf::ParseResult, FragmentError> {
    pg_query::parse(sql, 0).map(|r| r.protobuf).map_err(|e| FragmentError::Syntax { message: message_of(e) })
}

fn message_of(error: pg_query::Error) -> String {
    match error {
        pg_query::Error::Parse(message) | pg_query::Error::Scan(message) | pg_query::Error::Split(message) => message,
        other => other.to_string(),
    }
}

fn reject_comments_and_semicolons(sql: &str) -> Result<(), FragmentError> {
    let tokens = pg_query::scan(sql).map_err(|e| FragmentError::Syntax { message: message_of(e) })?.tokens;
    for token in tokens {
        match Token::try_from(token.token) {
            Ok(Token::SqlComment | Token::CComment) => return Err(FragmentError::Comment),
            Ok(Token::Ascii59) => return Err(FragmentError::Semicolon),
            _ => {}
        }
    }
    Ok(())
}

fn single_statement(parsed: &protobuf::ParseResult) -> Result<&NodeEnum, FragmentError> {
    match parsed.stmts.as_slice() {
        [only] => only
            .stmt
            .as_ref()
            .and_then(|n| n.node.as_ref())
            .ok_or_else(|| FragmentError::NotOneExpression { found: "an empty statement".into() }),
        many => Err(FragmentError::NotOneExpression { found: format!("{} statements", many.len()) }),
    }
}

/// Anything in a `SELECT <fragment>` beyond its single target list.
fn select_extras(select: &protobuf::SelectStmt) -> Option<String> {
    let clause = if !select.from_clause.is_empty() {
        "a FROM clause"
    } else if select.where_clause.is_some() {
        "a WHERE clause"
    } else if !select.group_clause.is_empty() {
        "a GROUP BY clause"
    } else if select.having_clause.is_some() {
        "a HAVING clause"
    } else if !select.window_clause.is_empty() {
        "a WINDOW clause"
    } else if !select.sort_clause.is_empty() {
        "an ORDER BY clause"
    } else if select.limit_count.is_some() || select.limit_offset.is_some() {
        "a LIMIT/OFFSET clause"
    } else if !select.locking_clause.is_empty() {
        "a locking clause"
    } else if select.into_clause.is_some() {
        "an INTO clause"
    } else if !select.distinct_clause.is_empty() {
        "a DISTINCT clause"
    } else if select.with_clause.is_some() {
        "a WITH clause"
    } else if !select.values_lists.is_empty() {
        "a VALUES list"
    } else if select.op != protobuf::SetOperation::SetopNone as i32 && select.op != 0 {
        "a UNION/INTERSECT/EXCEPT"
    } else {
        return None;
    };
    Some(format!("an expression followed by {clause}"))
}

fn describe_node(node: &NodeEnum) -> String {
    let debug = format!("{node:?}");
    let name = debug.split('(').next().unwrap_or("statement");
    format!("a {name} statement")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(slot: ExpressionSlot, sql: &str) -> Result<crate::ExpressionFacts, FragmentError> {
        crate::check_expression(schemaforge_model::Dialect::Postgresql, slot, sql)
    }

    #[test]
    fn accepts_single_expressions_in_their_slots() {
        for (slot, sql) in [
            (ExpressionSlot::ColumnDefault, "gen_random_uuid()"),
            (ExpressionSlot::ColumnDefault, "CURRENT_TIMESTAMP"),
            (ExpressionSlot::ColumnDefault, "'{}'::jsonb"),
            (ExpressionSlot::Check, "length(trim(title)) > 0"),
            (ExpressionSlot::Check, "a > 0 AND b < 10"),
            (ExpressionSlot::IndexExpression, "lower(name)"),
            (ExpressionSlot::IndexExpression, "(a + b)"),
            (ExpressionSlot::IndexPredicate, "status = 'published'"),
            (ExpressionSlot::PolicyUsing, "EXISTS (SELECT 1 FROM t WHERE t.id = (SELECT auth.uid()))"),
            (ExpressionSlot::PolicyWithCheck, "(SELECT auth.uid()) = id"),
            (ExpressionSlot::GeneratedColumn, "price * quantity"),
        ] {
            assert!(expr(slot, sql).is_ok(), "{slot:?} {sql}");
        }
    }

    #[test]
    fn rejects_injection_and_non_expressions() {
        assert_eq!(expr(ExpressionSlot::ColumnDefault, "0); DROP TABLE users; --").err(), Some(FragmentError::Semicolon));
        assert_eq!(expr(ExpressionSlot::ColumnDefault, "0 -- , x int").err(), Some(FragmentError::Comment));
        assert_eq!(expr(ExpressionSlot::Check, "0); DROP TABLE users"), Err(FragmentError::Semicolon));
        assert!(matches!(expr(ExpressionSlot::Check, "1 FROM users"), Err(FragmentError::NotOneExpression { .. })));
        assert!(matches!(expr(ExpressionSlot::Check, "1, 2"), Err(FragmentError::NotOneExpression { .. })));
        assert!(matches!(expr(ExpressionSlot::Check, "1 AS x"), Err(FragmentError::NotOneExpression { .. })));
        assert!(matches!(expr(ExpressionSlot::Check, "1 UNION SELECT 2"), Err(FragmentError::NotOneExpression { .. })));
        assert!(matches!(expr(ExpressionSlot::Check, "x >"), Err(FragmentError::Syntax { .. })));
        assert_eq!(expr(ExpressionSlot::Check, "   ").err(), Some(FragmentError::Empty));
        assert_eq!(expr(ExpressionSlot::Check, "1 /* hi */").err(), Some(FragmentError::Comment));
    }

    #[test]
    fn rejects_expressions_the_slot_does_not_accept() {
        assert!(matches!(expr(ExpressionSlot::IndexExpression, "a + b"), Err(FragmentError::NotAcceptedHere { .. })));
        assert!(matches!(expr(ExpressionSlot::ColumnDefault, "true AND false"), Err(FragmentError::NotAcceptedHere { .. })));
    }

    #[test]
    fn facts_name_columns_subqueries_and_collation() {
        let facts = expr(ExpressionSlot::Check, "coalesce(a, t.b) > CASE WHEN \"C\" THEN 1 END").unwrap();
        let mut references = facts.column_references.clone();
        references.sort();
        assert_eq!(references, [vec!["C"], vec!["a"], vec!["t", "b"]]);
        assert!(!facts.subquery);
        assert!(expr(ExpressionSlot::PolicyUsing, "EXISTS (SELECT 1)").unwrap().subquery);
        assert!(expr(ExpressionSlot::ColumnDefault, "'x' COLLATE \"C\"").unwrap().collates);
        assert!(!expr(ExpressionSlot::ColumnDefault, "lower('x' COLLATE \"C\")").unwrap().collates);
    }

    #[test]
    fn deep_nesting_fails_cleanly() {
        let deep = format!("{}1{}", "(".repeat(20_000), ")".repeat(20_000));
        assert!(expr(ExpressionSlot::Check, &deep).is_err());
    }

    #[test]
    fn type_names() {
        let ty = |sql| crate::check_type_name(schemaforge_model::Dialect::Postgresql, sql);
        assert_eq!(ty("tsvector"), Ok(()));
        assert_eq!(ty("numeric(10, 2)[]"), Ok(()));
        assert_eq!(ty("public.citext"), Ok(()));
        assert!(ty("int NOT NULL").is_err());
        assert!(ty("int, d int").is_err());
        assert!(ty("int); DROP TABLE x").is_err());
    }

    #[test]
    fn canonical_expressions() {
        let none = std::collections::BTreeMap::new();
        assert_eq!(canonical_expression("length( trim(title) )>0", &none), canonical_expression("LENGTH(TRIM(title)) > 0", &none));
        let renames = std::collections::BTreeMap::from([("name".to_string(), "display_name".to_string())]);
        assert_eq!(canonical_expression("length(name) > 0", &renames), canonical_expression("length(display_name) > 0", &none));
        assert_ne!(canonical_expression("a > 1", &none), canonical_expression("a > 2", &none));
    }

    #[test]
    fn plain_identifiers() {
        assert!(is_plain_identifier("gin"));
        assert!(is_plain_identifier("vector_cosine_ops"));
        assert!(is_plain_identifier("hash")); // an unreserved keyword
        assert!(!is_plain_identifier("select"));
        assert!(!is_plain_identifier("My_Ops"));
        assert!(!is_plain_identifier("a b"));
    }

    #[test]
    fn scripts_split_into_statements() {
        let script = "CREATE SCHEMA IF NOT EXISTS auth;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;";
        let statements = crate::split_script(schemaforge_model::Dialect::Postgresql, script).unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0], "CREATE SCHEMA IF NOT EXISTS auth");
        assert!(statements[1].ends_with("$$"));
        assert!(crate::split_script(schemaforge_model::Dialect::Postgresql, "CREATE TABLE (").is_err());
    }
}
