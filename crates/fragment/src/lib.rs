//! Parses user-supplied SQL fragments and proves each one is exactly what its slot allows.
//!
//! A definition carries SQL in a handful of places: column defaults, checks,
//! index expressions and predicates, policy `USING` / `WITH CHECK`, generated
//! columns, custom type names, and the `sql.before` / `sql.after` scripts. Each is
//! spliced into DDL verbatim, so each must be checked with the dialect's real
//! grammar before anything is rendered: an expression must be exactly one
//! expression (never `0); DROP TABLE users; --`), and must also parse in the
//! very position the renderer puts it (PostgreSQL's `DEFAULT` accepts fewer
//! operators than `CHECK`, index expressions need parentheses unless they are
//! function calls).

mod postgres;
mod postgres_facts;
mod sqlite;

pub use sqlite::{known_functions as sqlite_functions, trigger_table as sqlite_trigger_table};

use schemaforge_model::Dialect;

/// Where a SQL expression goes; decides the context it must parse in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExpressionSlot {
    ColumnDefault,
    Check,
    IndexExpression,
    IndexPredicate,
    PolicyUsing,
    PolicyWithCheck,
    GeneratedColumn,
}

impl ExpressionSlot {
    /// How the slot is described to a user in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            ExpressionSlot::ColumnDefault => "a column default",
            ExpressionSlot::Check => "a check constraint",
            ExpressionSlot::IndexExpression => "an index expression",
            ExpressionSlot::IndexPredicate => "an index `where` predicate",
            ExpressionSlot::PolicyUsing => "a policy `using` clause",
            ExpressionSlot::PolicyWithCheck => "a policy `withCheck` clause",
            ExpressionSlot::GeneratedColumn => "a generated column expression",
        }
    }
}

/// Longest fragment accepted, in bytes. Real expressions are far shorter; the
/// cap keeps hostile input from reaching the parser at all.
pub const MAX_FRAGMENT_BYTES: usize = 64 * 1024;

/// Longest `sql.before` / `sql.after` script accepted, in bytes.
pub const MAX_SCRIPT_BYTES: usize = 1024 * 1024;

/// Why a fragment was refused. Messages say what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FragmentError {
    #[error("the SQL is empty")]
    Empty,
    #[error("the SQL is {len} bytes long; the limit is {max} bytes")]
    TooLong { len: usize, max: usize },
    #[error("the SQL contains a NUL character")]
    NulCharacter,
    #[error("comments are not allowed in SQL fragments: remove the `--` or `/* */` comment")]
    Comment,
    #[error("`;` is not allowed: a fragment must be exactly one expression, not statements")]
    Semicolon,
    #[error("the SQL does not parse: {message}")]
    Syntax { message: String },
    #[error("expected exactly one SQL expression, found {found}")]
    NotOneExpression { found: String },
    #[error("{dialect} does not accept this as {slot}: {message}")]
    NotAcceptedHere { dialect: &'static str, slot: &'static str, message: String },
    #[error("{dialect} has no function `{name}`")]
    UnknownFunction { dialect: &'static str, name: String },
    #[error("expected exactly one type name, found {found}")]
    NotOneTypeName { found: String },
}

/// What an accepted expression refers to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpressionFacts {
    /// Every column reference, as its dotted parts (`["t", "b"]` for `t.b`),
    /// in the server's case folding (unquoted names lower-cased).
    pub column_references: Vec<Vec<String>>,
    /// The expression contains a subquery.
    pub subquery: bool,
    /// The expression is `<x> COLLATE <c>` at its top level.
    pub collates: bool,
}

/// Checks that `sql` is exactly one expression that `dialect` accepts in
/// `slot`, and returns what it refers to.
pub fn check_expression(dialect: Dialect, slot: ExpressionSlot, sql: &str) -> Result<ExpressionFacts, FragmentError> {
    check_size(sql, MAX_FRAGMENT_BYTES)?;
    match dialect {
        Dialect::Postgresql => postgres::check_expression(slot, sql),
        Dialect::Sqlite => sqlite::check_expression(slot, sql),
    }
}

/// Checks that `sql` is exactly one type name (`tsvector`, `numeric(10, 2)[]`).
pub fn check_type_name(dialect: Dialect, sql: &str) -> Result<(), FragmentError> {
    check_size(sql, MAX_FRAGMENT_BYTES)?;
    match dialect {
        Dialect::Postgresql => postgres::check_type_name(sql),
        Dialect::Sqlite => sqlite::check_type_name(sql),
    }
}

/// A canonical spelling of an expression for comparing two versions of it:
/// whitespace, keyword case and redundant parentheses normalised by a
/// parse-and-deparse round trip, with column references renamed per
/// `renames` (old → new) first. Falls back to the trimmed text if the
/// expression no longer parses.
pub fn canonical_expression(dialect: Dialect, sql: &str, renames: &std::collections::BTreeMap<String, String>) -> String {
    match dialect {
        Dialect::Postgresql => postgres::canonical_expression(sql, renames),
        Dialect::Sqlite => sqlite::canonical_expression(sql, renames),
    }
}

/// A literal constant, as the server spells a column default: `'draft'::status`,
/// `(-1)`, `1.5`, `true`, `NULL::text` (casts are looked through).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constant {
    String(String),
    Integer(i64),
    /// A number with a fraction or too large for `i64`, as written.
    Decimal(String),
    Boolean(bool),
    Null,
}

/// The constant `sql` is, when it is one (under any number of casts).
pub fn constant(dialect: Dialect, sql: &str) -> Option<Constant> {
    match dialect {
        Dialect::Postgresql => postgres::constant(sql),
        Dialect::Sqlite => sqlite::constant(sql),
    }
}

/// Whether `name` can be written unquoted and mean itself: a lower-case
/// identifier that is not a reserved keyword (`gin`, `vector_cosine_ops`; not
/// `select`, not `My_Ops`, which the server would fold to `my_ops`).
pub fn is_plain_identifier(dialect: Dialect, name: &str) -> bool {
    match dialect {
        Dialect::Postgresql => postgres::is_plain_identifier(name),
        Dialect::Sqlite => sqlite::is_plain_identifier(name),
    }
}

/// Parses a script of complete statements and returns each statement's text,
/// trimmed and without its terminating `;`.
pub fn split_script(dialect: Dialect, sql: &str) -> Result<Vec<String>, FragmentError> {
    check_size(sql, MAX_SCRIPT_BYTES)?;
    match dialect {
        Dialect::Postgresql => postgres::split_script(sql),
        Dialect::Sqlite => sqlite::split_script(sql),
    }
}

fn check_size(sql: &str, max: usize) -> Result<(), FragmentError> {
    if sql.len() > max {
        return Err(FragmentError::TooLong { len: sql.len(), max });
    }
    if sql.contains('\0') {
        return Err(FragmentError::NulCharacter);
    }
    if sql.trim().is_empty() {
        return Err(FragmentError::Empty);
    }
    Ok(())
}
