//! SQLite fragments, checked with sqlparser's SQLite grammar and SQLite's own list of functions.
//!
//! SQLite resolves function names only when a statement runs, so a default of
//! `gen_random_uuid()` would be accepted by `CREATE TABLE` and fail at the
//! first insert. We check every function a fragment calls against the
//! functions the bundled SQLite provides (a live test holds the list to
//! `pragma function_list`), and refuse in checks, index expressions and
//! generated columns the ones SQLite refuses there (non-deterministic ones).

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Function, FunctionArguments, Ident, Value, visit_expressions, visit_expressions_mut};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::{Constant, ExpressionFacts, ExpressionSlot, FragmentError};

/// Deepest expression nesting accepted: deeper input fails cleanly instead of
/// exhausting the stack.
const RECURSION_LIMIT: usize = 64;

/// Scalar functions of SQLite 3.46+ (core, date and time, math, JSON) that
/// always return the same result for the same arguments.
const DETERMINISTIC_FUNCTIONS: &[&str] = &[
    "abs",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "ceil",
    "ceiling",
    "char",
    "coalesce",
    "concat",
    "concat_ws",
    "cos",
    "cosh",
    "degrees",
    "exp",
    "floor",
    "format",
    "glob",
    "hex",
    "ifnull",
    "iif",
    "instr",
    "json",
    "json_array",
    "json_array_length",
    "json_error_position",
    "json_extract",
    "json_insert",
    "json_object",
    "json_patch",
    "json_quote",
    "json_remove",
    "json_replace",
    "json_set",
    "json_type",
    "json_valid",
    "jsonb",
    "jsonb_array",
    "jsonb_extract",
    "jsonb_insert",
    "jsonb_object",
    "jsonb_patch",
    "jsonb_remove",
    "jsonb_replace",
    "jsonb_set",
    "length",
    "like",
    "likelihood",
    "likely",
    "ln",
    "log",
    "log10",
    "log2",
    "lower",
    "ltrim",
    "max",
    "min",
    "mod",
    "nullif",
    "octet_length",
    "pi",
    "pow",
    "power",
    "printf",
    "quote",
    "radians",
    "replace",
    "round",
    "rtrim",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "substr",
    "substring",
    "tan",
    "tanh",
    "trim",
    "trunc",
    "typeof",
    "unhex",
    "unicode",
    "unlikely",
    "upper",
    "zeroblob",
];

/// Functions whose result depends on when or how often they run: fine in a
/// column default, refused by SQLite in checks, indexes and generated columns.
/// (SQLite's date and time functions count as deterministic unless they read
/// the clock, which only `'now'` or no argument does; we refuse them outside
/// defaults rather than inspect their arguments.)
const NON_DETERMINISTIC_FUNCTIONS: &[&str] = &[
    "changes",
    "current_date",
    "current_time",
    "current_timestamp",
    "date",
    "datetime",
    "julianday",
    "last_insert_rowid",
    "random",
    "randomblob",
    "strftime",
    "time",
    "timediff",
    "total_changes",
    "unixepoch",
];

/// Every function a fragment may call, for the live test that holds the list
/// to the bundled SQLite.
pub fn known_functions() -> impl Iterator<Item = &'static str> {
    DETERMINISTIC_FUNCTIONS
        .iter()
        .chain(NON_DETERMINISTIC_FUNCTIONS)
        .copied()
        .filter(|f| !matches!(*f, "current_date" | "current_time" | "current_timestamp"))
}

pub(crate) fn check_expression(slot: ExpressionSlot, sql: &str) -> Result<ExpressionFacts, FragmentError> {
    reject_comments_and_semicolons(sql)?;
    match slot {
        ExpressionSlot::PolicyUsing | ExpressionSlot::PolicyWithCheck => {
            return Err(FragmentError::NotAcceptedHere {
                dialect: "SQLite",
                slot: slot.describe(),
                message: "SQLite has no row-level security".into(),
            });
        }
        ExpressionSlot::ColumnDefault
        | ExpressionSlot::Check
        | ExpressionSlot::IndexExpression
        | ExpressionSlot::IndexPredicate
        | ExpressionSlot::GeneratedColumn => {}
    }
    let expression = parse_expression(sql)?;
    let deterministic_only = !matches!(slot, ExpressionSlot::ColumnDefault);
    let mut facts = ExpressionFacts::default();
    let mut refused: Option<FragmentError> = None;
    let _ = visit_expressions(&expression, |e: &Expr| {
        match e {
            Expr::Identifier(ident) => facts.column_references.push(vec![fold(ident)]),
            Expr::CompoundIdentifier(parts) => facts.column_references.push(parts.iter().map(fold).collect()),
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => facts.subquery = true,
            Expr::Collate { .. } => {}
            Expr::Function(function) => {
                if let Err(error) = check_function(slot, function, deterministic_only) {
                    refused = Some(error);
                    return ControlFlow::Break(());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    });
    if let Some(error) = refused {
        return Err(error);
    }
    facts.collates = matches!(expression, Expr::Collate { .. });
    if facts.subquery && slot != ExpressionSlot::ColumnDefault {
        return Err(FragmentError::NotAcceptedHere {
            dialect: "SQLite",
            slot: slot.describe(),
            message: "SQLite does not allow subqueries here".into(),
        });
    }
    Ok(facts)
}

fn check_function(slot: ExpressionSlot, function: &Function, deterministic_only: bool) -> Result<(), FragmentError> {
    let name = function_name(function);
    if function.over.is_some() || function.filter.is_some() {
        return Err(FragmentError::NotAcceptedHere {
            dialect: "SQLite",
            slot: slot.describe(),
            message: format!("`{name}` is used as an aggregate or window function"),
        });
    }
    if DETERMINISTIC_FUNCTIONS.contains(&name.as_str()) {
        return Ok(());
    }
    if NON_DETERMINISTIC_FUNCTIONS.contains(&name.as_str()) {
        if deterministic_only {
            return Err(FragmentError::NotAcceptedHere {
                dialect: "SQLite",
                slot: slot.describe(),
                message: format!("`{name}` can return a different value each time it runs, which SQLite refuses here"),
            });
        }
        return Ok(());
    }
    Err(FragmentError::UnknownFunction { dialect: "SQLite", name })
}

/// A function's name as SQLite looks it up: case-insensitively.
fn function_name(function: &Function) -> String {
    let name = function.name.to_string().to_ascii_lowercase();
    // `CURRENT_TIMESTAMP` parses as a call without parentheses.
    match &function.args {
        FunctionArguments::None => name.trim_matches('`').to_string(),
        FunctionArguments::Subquery(_) | FunctionArguments::List(_) => name,
    }
}

/// SQLite compares names without regard to ASCII case.
fn fold(ident: &Ident) -> String {
    ident.value.to_ascii_lowercase()
}

fn parse_expression(sql: &str) -> Result<Expr, FragmentError> {
    let dialect = SQLiteDialect {};
    let mut parser = Parser::new(&dialect).with_recursion_limit(RECURSION_LIMIT).try_with_sql(sql).map_err(syntax)?;
    let expression = parser.parse_expr().map_err(syntax)?;
    let next = parser.next_token();
    if next.token != Token::EOF {
        let found = match &next.token {
            Token::Word(w) if w.keyword == Keyword::AS => "an expression with an alias".to_string(),
            Token::Word(w) if w.keyword != Keyword::NoKeyword => format!("an expression followed by {}", w.value.to_ascii_uppercase()),
            Token::Comma => "several comma-separated expressions".to_string(),
            other => format!("an expression followed by `{other}`"),
        };
        return Err(FragmentError::NotOneExpression { found });
    }
    Ok(expression)
}

fn syntax(error: ParserError) -> FragmentError {
    let message = match error {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
        ParserError::RecursionLimitExceeded => "the expression is nested too deeply".to_string(),
    };
    FragmentError::Syntax { message }
}

fn tokens(sql: &str) -> Result<Vec<Token>, FragmentError> {
    let dialect = SQLiteDialect {};
    Tokenizer::new(&dialect, sql).with_unescape(false).tokenize().map_err(|e| FragmentError::Syntax { message: e.to_string() })
}

fn reject_comments_and_semicolons(sql: &str) -> Result<(), FragmentError> {
    for token in tokens(sql)? {
        match token {
            Token::Whitespace(Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)) => {
                return Err(FragmentError::Comment);
            }
            Token::SemiColon => return Err(FragmentError::Semicolon),
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn check_type_name(sql: &str) -> Result<(), FragmentError> {
    reject_comments_and_semicolons(sql)?;
    // SQLite's type names are one or more words with up to two numbers in
    // parentheses; anything it would read as a constraint is refused.
    let words: Vec<Token> = tokens(sql)?.into_iter().filter(|t| !matches!(t, Token::Whitespace(_))).collect();
    let mut names = 0;
    let mut index = 0;
    while let Some(Token::Word(word)) = words.get(index) {
        if is_constraint_keyword(word.keyword) {
            return Err(FragmentError::NotOneTypeName { found: "a type followed by constraints".into() });
        }
        names += 1;
        index += 1;
    }
    if names == 0 {
        return Err(FragmentError::NotOneTypeName { found: "no type name".into() });
    }
    match &words[index..] {
        [] => Ok(()),
        [Token::LParen, Token::Number(..), Token::RParen] => Ok(()),
        [Token::LParen, Token::Number(..), Token::Comma, Token::Number(..), Token::RParen] => Ok(()),
        _ => Err(FragmentError::NotOneTypeName { found: "a type name followed by more than `(n)` or `(n, m)`".into() }),
    }
}

fn is_constraint_keyword(keyword: Keyword) -> bool {
    matches!(
        keyword,
        Keyword::NOT
            | Keyword::NULL
            | Keyword::PRIMARY
            | Keyword::UNIQUE
            | Keyword::CHECK
            | Keyword::DEFAULT
            | Keyword::COLLATE
            | Keyword::REFERENCES
            | Keyword::GENERATED
            | Keyword::AS
            | Keyword::CONSTRAINT
    )
}

pub(crate) fn constant(sql: &str) -> Option<Constant> {
    let mut expression = parse_expression(sql).ok()?;
    while let Expr::Nested(inner) = expression {
        expression = *inner;
    }
    let negative = matches!(&expression, Expr::UnaryOp { op: sqlparser::ast::UnaryOperator::Minus, .. });
    let value = match expression {
        Expr::Value(v) => v.value,
        Expr::UnaryOp { op: sqlparser::ast::UnaryOperator::Minus | sqlparser::ast::UnaryOperator::Plus, expr } => match *expr {
            Expr::Value(v) => v.value,
            _ => return None,
        },
        _ => return None,
    };
    Some(match value {
        Value::Number(text, _) => {
            let text = if negative { format!("-{text}") } else { text };
            match text.parse::<i64>() {
                Ok(i) => Constant::Integer(i),
                Err(_) => Constant::Decimal(text),
            }
        }
        Value::SingleQuotedString(s) if !negative => Constant::String(s),
        Value::Boolean(b) if !negative => Constant::Boolean(b),
        Value::Null if !negative => Constant::Null,
        _ => return None,
    })
}

/// The expression with every name folded and quoted and keywords upper-cased,
/// following column renames (old → new), so that two spellings SQLite treats
/// alike compare equal.
pub(crate) fn canonical_expression(sql: &str, renames: &BTreeMap<String, String>) -> String {
    let Ok(mut expression) = parse_expression(sql) else { return sql.trim().to_string() };
    let no_renames = BTreeMap::new();
    let _ = visit_expressions_mut(&mut expression, |e: &mut Expr| {
        match e {
            Expr::Identifier(ident) => canonical_ident(ident, renames),
            Expr::CompoundIdentifier(parts) => {
                let last = parts.len().saturating_sub(1);
                for (i, part) in parts.iter_mut().enumerate() {
                    canonical_ident(part, if i == last { renames } else { &no_renames });
                }
            }
            Expr::Function(function) if !matches!(function.args, FunctionArguments::None) => {
                let name = function.name.to_string().to_ascii_lowercase();
                function.name = sqlparser::ast::ObjectName::from(vec![Ident::new(name)]);
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    strip_outer_parentheses(expression).to_string()
}

fn strip_outer_parentheses(mut expression: Expr) -> Expr {
    while let Expr::Nested(inner) = expression {
        expression = *inner;
    }
    expression
}

fn canonical_ident(ident: &mut Ident, renames: &BTreeMap<String, String>) {
    let folded = fold(ident);
    let name = renames.iter().find(|(old, _)| old.eq_ignore_ascii_case(&folded)).map(|(_, new)| new.to_ascii_lowercase()).unwrap_or(folded);
    *ident = Ident::with_quote('"', name);
}

pub(crate) fn is_plain_identifier(name: &str) -> bool {
    let shape = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    shape && sqlparser::keywords::ALL_KEYWORDS.binary_search(&name.to_ascii_uppercase().as_str()).is_err()
}

/// Splits a script on the `;` that end statements (not those inside a
/// trigger's `BEGIN … END`), then proves each piece parses.
pub(crate) fn split_script(sql: &str) -> Result<Vec<String>, FragmentError> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for token in tokens(sql)? {
        match &token {
            Token::Word(w) if matches!(w.keyword, Keyword::BEGIN | Keyword::CASE) && (depth > 0 || starts_trigger(&current)) => depth += 1,
            Token::Word(w) if w.keyword == Keyword::END && depth > 0 => depth -= 1,
            Token::SemiColon if depth == 0 => {
                push_statement(&mut statements, &current)?;
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push_str(&token.to_string());
    }
    push_statement(&mut statements, &current)?;
    if statements.is_empty() {
        return Err(FragmentError::Empty);
    }
    Ok(statements)
}

/// The table a `CREATE TRIGGER` statement (one statement of a script) is
/// on, lower-cased; `None` for any other statement.
pub fn trigger_table(statement: &str) -> Option<String> {
    let dialect = SQLiteDialect {};
    let parsed = Parser::new(&dialect).with_recursion_limit(RECURSION_LIMIT).try_with_sql(statement).ok()?.parse_statements().ok()?;
    match parsed.as_slice() {
        [sqlparser::ast::Statement::CreateTrigger(trigger)] => {
            let name = trigger.table_name.0.last()?.as_ident()?;
            Some(fold(name))
        }
        _ => None,
    }
}

fn starts_trigger(statement: &str) -> bool {
    let words: Vec<String> = statement.split_whitespace().take(3).map(str::to_ascii_uppercase).collect();
    matches!(words.as_slice(), [create, trigger, ..] if create == "CREATE" && trigger == "TRIGGER")
        || matches!(words.as_slice(), [create, temp, trigger] if create == "CREATE" && (temp == "TEMP" || temp == "TEMPORARY") && trigger == "TRIGGER")
}

fn push_statement(statements: &mut Vec<String>, text: &str) -> Result<(), FragmentError> {
    let text = text.trim();
    let meaningful = tokens(text)?.iter().any(|t| !matches!(t, Token::Whitespace(_)));
    if !meaningful {
        return Ok(());
    }
    let dialect = SQLiteDialect {};
    Parser::new(&dialect).with_recursion_limit(RECURSION_LIMIT).try_with_sql(text).and_then(|mut p| p.parse_statements()).map_err(|e| {
        let message = match syntax(e) {
            FragmentError::Syntax { message } => message,
            other => other.to_string(),
        };
        FragmentError::Syntax { message: format!("{message} (in `{}`)", abbreviate(text)) }
    })?;
    statements.push(text.to_string());
    Ok(())
}

fn abbreviate(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or_default();
    if first_line.chars().count() > 60 { format!("{}…", first_line.chars().take(60).collect::<String>()) } else { first_line.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(slot: ExpressionSlot, sql: &str) -> Result<ExpressionFacts, FragmentError> {
        crate::check_expression(schemaforge_model::Dialect::Sqlite, slot, sql)
    }

    #[test]
    fn accepts_single_expressions_in_their_slots() {
        for (slot, sql) in [
            (ExpressionSlot::ColumnDefault, "unixepoch()"),
            (ExpressionSlot::ColumnDefault, "CURRENT_TIMESTAMP"),
            (ExpressionSlot::ColumnDefault, "lower(hex(randomblob(16)))"),
            (ExpressionSlot::ColumnDefault, "'{}'"),
            (ExpressionSlot::Check, "length(trim(title)) > 0"),
            (ExpressionSlot::Check, "status IN ('draft', 'published')"),
            (ExpressionSlot::Check, "a > 0 AND b < 10"),
            (ExpressionSlot::IndexExpression, "lower(email)"),
            (ExpressionSlot::IndexPredicate, "deleted_at IS NULL"),
            (ExpressionSlot::GeneratedColumn, "price * quantity"),
        ] {
            assert!(expr(slot, sql).is_ok(), "{slot:?} {sql}: {:?}", expr(slot, sql));
        }
    }

    #[test]
    fn rejects_injection_and_non_expressions() {
        assert_eq!(expr(ExpressionSlot::ColumnDefault, "0); DROP TABLE users; --").err(), Some(FragmentError::Semicolon));
        assert_eq!(expr(ExpressionSlot::ColumnDefault, "0 -- , x int").err(), Some(FragmentError::Comment));
        assert_eq!(expr(ExpressionSlot::Check, "1 /* hi */").err(), Some(FragmentError::Comment));
        assert!(matches!(expr(ExpressionSlot::Check, "1 FROM users"), Err(FragmentError::NotOneExpression { .. })));
        assert!(matches!(expr(ExpressionSlot::Check, "1, 2"), Err(FragmentError::NotOneExpression { .. })));
        assert!(matches!(expr(ExpressionSlot::Check, "1 AS x"), Err(FragmentError::NotOneExpression { .. })));
        assert!(matches!(expr(ExpressionSlot::Check, "x >"), Err(FragmentError::Syntax { .. })));
    }

    #[test]
    fn functions_must_exist_and_be_deterministic_where_sqlite_requires() {
        assert_eq!(
            expr(ExpressionSlot::ColumnDefault, "gen_random_uuid()"),
            Err(FragmentError::UnknownFunction { dialect: "SQLite", name: "gen_random_uuid".into() })
        );
        assert!(matches!(expr(ExpressionSlot::Check, "created_at < unixepoch()"), Err(FragmentError::NotAcceptedHere { .. })));
        assert!(matches!(expr(ExpressionSlot::IndexExpression, "random()"), Err(FragmentError::NotAcceptedHere { .. })));
        assert!(matches!(expr(ExpressionSlot::Check, "count(x) OVER ()"), Err(FragmentError::NotAcceptedHere { .. })));
        assert!(matches!(expr(ExpressionSlot::PolicyUsing, "true"), Err(FragmentError::NotAcceptedHere { .. })));
        assert!(matches!(expr(ExpressionSlot::Check, "x IN (SELECT 1)"), Err(FragmentError::NotAcceptedHere { .. })));
    }

    #[test]
    fn facts_fold_names() {
        let facts = expr(ExpressionSlot::Check, "coalesce(a, t.B) > \"C\"").unwrap();
        let mut references = facts.column_references.clone();
        references.sort();
        assert_eq!(references, [vec!["a"], vec!["c"], vec!["t", "b"]]);
    }

    #[test]
    fn deep_nesting_fails_cleanly() {
        let deep = format!("{}1{}", "(".repeat(20_000), ")".repeat(20_000));
        assert!(expr(ExpressionSlot::Check, &deep).is_err());
    }

    #[test]
    fn canonical_expressions() {
        let none = BTreeMap::new();
        assert_eq!(canonical_expression("length( trim(title) )>0", &none), canonical_expression("LENGTH(TRIM(\"Title\")) > 0", &none));
        assert_eq!(canonical_expression("(a > 1)", &none), canonical_expression("a>1", &none));
        let renames = BTreeMap::from([("name".to_string(), "display_name".to_string())]);
        assert_eq!(canonical_expression("length(name) > 0", &renames), canonical_expression("length(display_name) > 0", &none));
        assert_ne!(canonical_expression("a > 1", &none), canonical_expression("a > 2", &none));
    }

    #[test]
    fn constants() {
        assert_eq!(constant("'draft'"), Some(Constant::String("draft".into())));
        assert_eq!(constant("'it''s'"), Some(Constant::String("it's".into())));
        assert_eq!(constant("-1"), Some(Constant::Integer(-1)));
        assert_eq!(constant("(1.5)"), Some(Constant::Decimal("1.5".into())));
        assert_eq!(constant("NULL"), Some(Constant::Null));
        assert_eq!(constant("unixepoch()"), None);
    }

    #[test]
    fn type_names() {
        let ty = |sql| crate::check_type_name(schemaforge_model::Dialect::Sqlite, sql);
        assert_eq!(ty("integer"), Ok(()));
        assert_eq!(ty("decimal(10, 2)"), Ok(()));
        assert_eq!(ty("unsigned big int"), Ok(()));
        assert!(ty("int NOT NULL").is_err());
        assert!(ty("int); DROP TABLE x").is_err());
    }

    #[test]
    fn triggers_name_their_table() {
        assert_eq!(trigger_table("CREATE TRIGGER t AFTER INSERT ON \"Audit\" BEGIN SELECT 1; END").as_deref(), Some("audit"));
        assert_eq!(trigger_table("CREATE VIEW v AS SELECT 1"), None);
    }

    #[test]
    fn scripts_split_into_statements() {
        let script = "CREATE TABLE audit (id integer);\nCREATE TRIGGER t AFTER INSERT ON audit BEGIN SELECT CASE WHEN 1 THEN 2 END; SELECT 1; END;\nSELECT 'a;b';";
        let statements = crate::split_script(schemaforge_model::Dialect::Sqlite, script).unwrap();
        assert_eq!(statements.len(), 3, "{statements:?}");
        assert_eq!(statements[0], "CREATE TABLE audit (id integer)");
        assert!(statements[1].ends_with("END"));
        assert_eq!(statements[2], "SELECT 'a;b'");
        assert!(crate::split_script(schemaforge_model::Dialect::Sqlite, "CREATE TABLE (").is_err());
    }
}
