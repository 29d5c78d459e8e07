//! SQLite's schema, as introspection fetches it (schema-table rows, pragma rows and the DDL text SQLite keeps), read into the model.
//!
//! Pure: no connection, no IO. SQLite keeps less than the model says, so the
//! rest is read the way the spec's SQLite lowering stores it:
//!
//! - types are declared types (`SqliteType`): `integer` is `serial` when it is
//!   the sole key declared `AUTOINCREMENT`, `boolean` when its default is
//!   `true`/`false` and `timestamp` when its default reads the clock with
//!   `unixepoch(` (for `pull` only: SQLite columns are compared by declared
//!   type, so these guesses cannot cause a change); `real` is `doublePrecision`
//!   (SQLite's REAL is an 8-byte float: read as PostgreSQL's 4-byte `real`, a
//!   pulled definition moved to PostgreSQL would lose digits); anything else
//!   is a custom type spelled as declared;
//! - SQLite stores no names of primary or foreign keys, nor of inline UNIQUE
//!   constraints: they get the default names lowering gives them (the diff
//!   pairs keys by definition, so no rename is planned);
//! - a unique index over plain ascending columns without `WHERE` is a unique
//!   constraint, as lowering stores them;
//! - a check `<table>_<column>_check` listing the labels of a text column
//!   (`"c" IN ('a', 'b')`) is how an enum column is kept: the column becomes an
//!   enum and the check stays, as lowering has it. An enum is named after the
//!   first column using it; columns with the same label list share it; a name
//!   already taken (by another enum or a table) is `<table>_<column>`, then
//!   suffixed with a number.
//!
//! What the model cannot express (views, triggers, virtual tables, `WITHOUT
//! ROWID`, virtual generated columns, unnamed checks, …) is reported in
//! `Introspected::notes`, one line each.

use std::collections::{BTreeMap, BTreeSet};

use schemaforge_fragment::{self as fragment, Constant};
use schemaforge_model::sqlite::SqliteType;
use schemaforge_model::{
    Check, Column, ColumnDefault, ColumnType, Dialect, Enum, ForeignKey, Generated, Index, IndexElement, IndexKey, NullsOrder, PrimaryKey,
    QualifiedName, ReferentialAction, ScalarType, Schema, SortOrder, Table, TypeFamily, Unique, names,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlparser::ast::{ColumnOption, CreateIndex, Expr, GeneratedExpressionMode, OrderBySort, Statement, TableConstraint};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

pub use crate::Introspected;

use super::BOOKKEEPING_TABLES;

/// How deep the DDL parser may nest: beyond what a definition's expressions
/// may (64, the fragment checker's limit) plus the statement around them,
/// and short of the stack a hostile database file could otherwise exhaust
/// (SQLite itself allows expressions 1000 deep).
const PARSER_RECURSION_LIMIT: usize = 100;

/// A row of `sqlite_master`, with the kind `pragma_table_list` gives a table.
#[derive(Debug, Clone)]
pub struct ObjectRow {
    /// `table`, `index`, `view` or `trigger`.
    pub kind: String,
    pub name: String,
    /// The table an index or trigger belongs to.
    pub table: String,
    /// The `CREATE` statement; `NULL` for the indexes behind inline `UNIQUE` and `PRIMARY KEY`.
    pub sql: Option<String>,
    /// For a table: `table`, `virtual` or `shadow` (a virtual table's storage).
    pub table_kind: Option<String>,
}

/// A column (`pragma_table_xinfo`).
#[derive(Debug, Clone)]
pub struct ColumnRow {
    pub table: String,
    pub name: String,
    /// The declared type as written (`integer`, `VARCHAR(20)`, or empty).
    pub declared_type: String,
    pub not_null: bool,
    /// The default's SQL text, as SQLite keeps it (`'draft'`, `unixepoch()`).
    pub default: Option<String>,
    /// The column's position in the primary key, from 1; 0 when not in it.
    pub primary_key_position: i64,
    /// 0 a plain column, 2 a virtual generated column, 3 a stored one.
    pub hidden: i64,
}

/// One column pair of a foreign key (`pragma_foreign_key_list`).
#[derive(Debug, Clone)]
pub struct ForeignKeyRow {
    pub table: String,
    /// The key's number in its table; SQLite numbers the last declared 0.
    pub id: i64,
    /// The pair's position in the key.
    pub seq: i64,
    /// The referenced table, as the key spells it.
    pub referenced_table: String,
    pub column: String,
    /// `None` when the key names no columns: the referenced table's primary key.
    pub referenced_column: Option<String>,
    /// `NO ACTION`, `RESTRICT`, `CASCADE`, `SET NULL` or `SET DEFAULT`.
    pub on_update: String,
    pub on_delete: String,
}

/// An index (`pragma_index_list`, with its `CREATE INDEX` text from `sqlite_master`).
#[derive(Debug, Clone)]
pub struct IndexRow {
    pub table: String,
    pub name: String,
    pub unique: bool,
    /// `c` created by `CREATE INDEX`, `u` an inline `UNIQUE`, `pk` the primary key.
    pub origin: String,
    pub partial: bool,
    pub sql: Option<String>,
}

/// A key column of an index (`pragma_index_xinfo` where `key = 1`), in order.
#[derive(Debug, Clone)]
pub struct IndexColumnRow {
    pub index: String,
    /// `None` for an expression.
    pub column: Option<String>,
    pub descending: bool,
}

/// Everything the queries fetched.
#[derive(Debug, Clone, Default)]
pub struct SchemaRows {
    /// `sqlite_master`, in creation order.
    pub objects: Vec<ObjectRow>,
    /// Per table in `tables_to_read` order, in column order.
    pub columns: Vec<ColumnRow>,
    /// Per table, in declaration order of keys, then pairs.
    pub foreign_keys: Vec<ForeignKeyRow>,
    /// Per table, in creation order.
    pub indexes: Vec<IndexRow>,
    pub index_columns: Vec<IndexColumnRow>,
}

/// The user's tables among `objects`: not SQLite's own (`sqlite_*`), not
/// bookkeeping, not virtual tables or their storage, not a leftover of an
/// interrupted rebuild (`__new_*`).
pub fn tables_to_read(objects: &[ObjectRow]) -> Vec<String> {
    objects.iter().filter(|o| skipped_table(o).is_none()).map(|o| o.name.clone()).collect()
}

/// Why a `sqlite_master` row is not a table to read: `Some(None)` for a
/// silent skip, `Some(Some(note))` for one worth a note, `None` to read it.
fn skipped_table(object: &ObjectRow) -> Option<Option<String>> {
    if object.kind != "table" {
        return Some(None);
    }
    let name = &object.name;
    let reserved = name.get(..7).is_some_and(|prefix| prefix.eq_ignore_ascii_case("sqlite_"));
    if reserved || BOOKKEEPING_TABLES.contains(&name.as_str()) {
        return Some(None);
    }
    match object.table_kind.as_deref() {
        Some("virtual") => {
            return Some(Some(format!("virtual table `{name}` is not modelled: re-create it with custom SQL (`sql.after`)")));
        }
        Some("shadow") => return Some(None),
        _ => {}
    }
    if name.starts_with(&schemaforge_sql::sqlite::rebuild_name("")) {
        return Some(Some(format!(
            "table `{name}` is left over from an interrupted table rebuild and is not read: drop it, or finish the migration that made it"
        )));
    }
    None
}

/// Reads the rows into the model.
pub fn assemble(rows: &SchemaRows) -> Introspected {
    let mut notes = Vec::new();
    for object in &rows.objects {
        match (object.kind.as_str(), skipped_table(object)) {
            ("view" | "trigger", _) => {
                notes.push(format!("{} `{}` is not modelled: re-create it with custom SQL (`sql.after`)", object.kind, object.name))
            }
            (_, Some(Some(note))) => notes.push(note),
            _ => {}
        }
    }
    let read: Vec<&ObjectRow> = rows.objects.iter().filter(|o| skipped_table(o).is_none()).collect();
    let mut columns_of: BTreeMap<&str, Vec<&ColumnRow>> = BTreeMap::new();
    for row in &rows.columns {
        columns_of.entry(row.table.as_str()).or_default().push(row);
    }
    let mut tables: Vec<Table> = Vec::with_capacity(read.len());
    let mut ddl_of: Vec<TableDdl> = Vec::with_capacity(read.len());
    for object in &read {
        let ddl = match object.sql.as_deref().map(parse_table) {
            Some(Ok(ddl)) => ddl,
            Some(Err(problem)) => {
                notes.push(format!(
                    "table `{}`: its CREATE TABLE statement did not parse ({problem}); its checks, AUTOINCREMENT and generated columns are not read",
                    object.name
                ));
                TableDdl::default()
            }
            None => TableDdl::default(),
        };
        if ddl.without_rowid {
            notes.push(format!("table `{}` is WITHOUT ROWID, which the model cannot say: a rebuild makes it a rowid table", object.name));
        }
        for what in &ddl.unmodelled {
            notes.push(format!("table `{}`: {what}, which the model cannot say: a rebuild leaves it out", object.name));
        }
        if ddl.strict {
            notes.push(format!("table `{}` is STRICT, which the model cannot say: a rebuild makes it a flexible table", object.name));
        }
        let column_rows = columns_of.get(object.name.as_str()).map(Vec::as_slice).unwrap_or_default();
        tables.push(table(&object.name, column_rows, &ddl, &mut notes));
        ddl_of.push(ddl);
    }

    let mut relation_names: BTreeSet<String> = read.iter().map(|o| o.name.clone()).collect();
    relation_names.extend(rows.objects.iter().filter(|o| o.kind == "index").map(|o| o.name.clone()));
    for table in &mut tables {
        if let Some(pk) = &mut table.primary_key {
            pk.name = claim(&mut relation_names, &pk.name);
        }
    }
    let foreign_keys = foreign_keys(&tables, &rows.foreign_keys, &mut notes);
    for (table, keys) in tables.iter_mut().zip(foreign_keys) {
        table.foreign_keys = keys;
    }
    let mut index_columns: BTreeMap<&str, Vec<&IndexColumnRow>> = BTreeMap::new();
    for row in &rows.index_columns {
        index_columns.entry(row.index.as_str()).or_default().push(row);
    }
    for row in &rows.indexes {
        let Some(table) = tables.iter_mut().find(|t| t.name.name == row.table) else { continue };
        let columns = index_columns.get(row.name.as_str()).map(Vec::as_slice).unwrap_or_default();
        index(table, row, columns, &mut relation_names, &mut notes);
    }
    for (table, ddl) in tables.iter_mut().zip(&ddl_of) {
        checks(table, ddl, &mut notes);
    }
    let enums = recover_enums(&mut tables, &ddl_of);

    let mut schema = Schema::empty(Dialect::Sqlite);
    schema.enums = enums;
    schema.tables = tables;
    Introspected { schema, notes }
}

/// What only the `CREATE TABLE` text tells: which column is `AUTOINCREMENT`,
/// generated columns' expressions, checks, and the table's options.
#[derive(Debug, Default)]
struct TableDdl {
    /// Lower-cased column names (SQLite's names are case-insensitive).
    autoincrement: BTreeSet<String>,
    /// Lower-cased column name → (expression, stored).
    generated: BTreeMap<String, (String, bool)>,
    checks: Vec<CheckDdl>,
    /// What the model cannot say about a column (`COLLATE NOCASE`, `ON CONFLICT REPLACE`), as notes.
    unmodelled: Vec<String>,
    without_rowid: bool,
    strict: bool,
}

#[derive(Debug)]
struct CheckDdl {
    name: Option<String>,
    /// The column a column-level check is declared on.
    column: Option<String>,
    expression: Expr,
}

fn parse_statement(sql: &str) -> Result<Statement, String> {
    let dialect = SQLiteDialect {};
    let mut statements = Parser::new(&dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|e| e.to_string())?;
    match (statements.pop(), statements.is_empty()) {
        (Some(statement), true) => Ok(statement),
        _ => Err("expected one statement".to_string()),
    }
}

fn parse_table(sql: &str) -> Result<TableDdl, String> {
    let Statement::CreateTable(create) = parse_statement(sql)? else { return Err("not a CREATE TABLE statement".to_string()) };
    let mut ddl = TableDdl { without_rowid: create.without_rowid, strict: create.strict, ..TableDdl::default() };
    for column in &create.columns {
        let name = column.name.value.to_ascii_lowercase();
        for option in &column.options {
            match &option.option {
                ColumnOption::DialectSpecific(tokens)
                    if tokens.iter().any(|t| matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case("AUTOINCREMENT"))) =>
                {
                    ddl.autoincrement.insert(name.clone());
                }
                ColumnOption::Generated { generation_expr: Some(expression), generation_expr_mode, .. } => {
                    let stored = matches!(generation_expr_mode, Some(GeneratedExpressionMode::Stored));
                    ddl.generated.insert(name.clone(), (expression.to_string(), stored));
                }
                ColumnOption::Collation(collation) => {
                    ddl.unmodelled.push(format!("column `{}` has COLLATE {collation}", column.name.value));
                }
                ColumnOption::OnConflict(keyword) => {
                    ddl.unmodelled.push(format!("a constraint of column `{}` has ON CONFLICT {keyword:?}", column.name.value));
                }
                ColumnOption::Check(check) => ddl.checks.push(CheckDdl {
                    name: option.name.as_ref().or(check.name.as_ref()).map(|n| n.value.clone()),
                    column: Some(column.name.value.clone()),
                    expression: (*check.expr).clone(),
                }),
                _ => {}
            }
        }
    }
    for constraint in &create.constraints {
        if let TableConstraint::Check(check) = constraint {
            ddl.checks.push(CheckDdl {
                name: check.name.as_ref().map(|n| n.value.clone()),
                column: None,
                expression: (*check.expr).clone(),
            });
        }
    }
    Ok(ddl)
}

/// The actual spelling of `name` among `columns` (SQLite matches names case-insensitively).
fn resolve<'c>(columns: &'c [Column], name: &str) -> Option<&'c str> {
    columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)).map(|c| c.name.as_str())
}

fn table(name: &str, rows: &[&ColumnRow], ddl: &TableDdl, notes: &mut Vec<String>) -> Table {
    let mut key: Vec<(i64, String)> =
        rows.iter().filter(|r| r.primary_key_position > 0).map(|r| (r.primary_key_position, r.name.clone())).collect();
    key.sort();
    let key: Vec<String> = key.into_iter().map(|(_, column)| column).collect();
    let columns = rows.iter().map(|row| column(name, row, ddl, key.len() == 1, notes)).collect();
    let primary_key = match key.len() {
        0 => None,
        1 => Some(PrimaryKey { name: names::inline_primary_key(name), columns: key }),
        _ => Some(PrimaryKey { name: fit(&names::primary_key(name, &key)), columns: key }),
    };
    Table {
        name: QualifiedName::unqualified(name),
        renamed_from: None,
        comment: None,
        columns,
        primary_key,
        uniques: Vec::new(),
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        checks: Vec::new(),
        rls: false,
        policies: Vec::new(),
    }
}

fn column(table: &str, row: &ColumnRow, ddl: &TableDdl, sole_key: bool, notes: &mut Vec<String>) -> Column {
    let lower_name = row.name.to_ascii_lowercase();
    let in_key = row.primary_key_position > 0;
    let mut generated = None;
    if row.hidden == 2 || row.hidden == 3 {
        match ddl.generated.get(&lower_name) {
            Some((sql, stored)) => {
                if !stored {
                    notes.push(format!(
                        "column `{table}.{}` is a virtual generated column; the model keeps generated columns stored",
                        row.name
                    ));
                }
                generated = Some(Generated { sql: sql.clone() });
            }
            None => notes.push(format!("column `{table}.{}` is generated, but its expression could not be read", row.name)),
        }
    }
    let default_sql = row.default.as_deref().map(without_outer_parentheses);
    let autoincrement = sole_key && in_key && ddl.autoincrement.contains(&lower_name) && default_sql.is_none();
    let scalar = match SqliteType::parse(&row.declared_type) {
        SqliteType::Integer if autoincrement => ScalarType::Serial,
        SqliteType::Integer => match default_sql.and_then(|sql| fragment::constant(Dialect::Sqlite, sql)) {
            Some(Constant::Boolean(_)) => ScalarType::Boolean,
            _ if default_sql.is_some_and(reads_clock) => {
                ScalarType::Timestamp { precision: default_sql.is_some_and(|sql| sql.contains("1000")).then_some(3), with_time_zone: false }
            }
            _ => ScalarType::Integer,
        },
        SqliteType::Real => ScalarType::DoublePrecision,
        SqliteType::Numeric => ScalarType::Numeric { precision: None, scale: None },
        SqliteType::Text { length: None } => ScalarType::Text,
        SqliteType::Text { length } => ScalarType::Varchar { length },
        SqliteType::Blob => ScalarType::Bytea,
        SqliteType::Custom(declared) if declared.trim().is_empty() => {
            notes.push(format!(
                "column `{table}.{}` has no declared type: read as `bytea` (declared `blob`, which stores values the same way)",
                row.name
            ));
            ScalarType::Bytea
        }
        // Exact, so no note: `VARCHAR(20)` stays what it is (a definition's
        // `varchar` would declare `text(20)`, a different declared type).
        SqliteType::Custom(declared) => ScalarType::Custom { sql: declared },
    };
    // Only the sole INTEGER key (the rowid) can never be NULL without saying so.
    let rowid = sole_key && SqliteType::parse(&row.declared_type) == SqliteType::Integer;
    if in_key && !row.not_null && !rowid {
        notes.push(format!(
            "column `{table}.{}` is in the primary key without NOT NULL, so SQLite lets NULL in; the model makes it NOT NULL",
            row.name
        ));
    }
    let ty = ColumnType::scalar(scalar);
    let default = if generated.is_some() || autoincrement { None } else { default_sql.map(|sql| column_default(&ty.scalar, sql)) };
    Column {
        name: row.name.clone(),
        ty,
        not_null: row.not_null || in_key || autoincrement,
        default,
        identity: None,
        generated,
        renamed_from: None,
        comment: None,
    }
}

/// Whether a default reads the clock as a number, as lowering stores a timestamp's "now".
fn reads_clock(sql: &str) -> bool {
    sql.to_ascii_lowercase().contains("unixepoch(")
}

/// `sql` without the parentheses `DEFAULT (expr)` needs, when they enclose it all.
fn without_outer_parentheses(sql: &str) -> &str {
    let mut text = sql.trim();
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        if !balanced(inner) {
            break;
        }
        text = inner.trim();
    }
    text
}

/// Whether the parentheses of `sql` pair up outside string literals and quoted names.
fn balanced(sql: &str) -> bool {
    let mut depth = 0i64;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '[') => quote = Some(']'),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}

/// A default as SQLite keeps it, read back into the model: a literal that a
/// definition could write for a column of `scalar` becomes that JSON value;
/// anything else stays SQL (compared by what SQLite stores, so a literal
/// kept as SQL is still the same default).
pub fn column_default(scalar: &ScalarType, sql: &str) -> ColumnDefault {
    let sql = without_outer_parentheses(sql);
    let value = match fragment::constant(Dialect::Sqlite, sql) {
        Some(Constant::String(text)) => Some(Value::String(text)),
        Some(Constant::Integer(i)) => Some(Value::from(i)),
        Some(Constant::Decimal(text)) => {
            // Only a number that prints back as written: the SQL stays the same.
            serde_json::from_str::<Value>(&text).ok().filter(|v| matches!(v, Value::Number(n) if schemaforge_model::js::number(n) == text))
        }
        Some(Constant::Boolean(b)) => Some(Value::Bool(b)),
        Some(Constant::Null) => Some(Value::Null),
        None => None,
    };
    match value {
        Some(value) if literal_fits(scalar, &value) => ColumnDefault::Value(value),
        _ => ColumnDefault::Sql(sql.to_string()),
    }
}

/// Whether a definition may give `value` as the default of a `scalar` column
/// (the spec's rule for literal defaults, for the types introspection reads).
fn literal_fits(scalar: &ScalarType, value: &Value) -> bool {
    match (scalar.family(), value) {
        (TypeFamily::Integer, Value::Number(n)) => {
            let (low, high) = scalar.integer_range().unwrap_or((i64::MIN, i64::MAX));
            !scalar.is_serial() && n.as_i64().is_some_and(|v| v >= low && v <= high)
        }
        (TypeFamily::Decimal, Value::Number(_)) | (TypeFamily::Float, Value::Number(_)) | (TypeFamily::Boolean, Value::Bool(_)) => true,
        (TypeFamily::Decimal, Value::String(s)) => is_decimal(s),
        (TypeFamily::String, Value::String(s)) => match scalar {
            ScalarType::Varchar { length: Some(n) } => s.chars().count() <= *n as usize,
            _ => true,
        },
        (TypeFamily::Json, _) => true,
        (TypeFamily::Custom, Value::String(_) | Value::Number(_) | Value::Bool(_)) => true,
        _ => false,
    }
}

fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    !(whole.is_empty() && fraction.is_empty()) && whole.bytes().all(|b| b.is_ascii_digit()) && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// `base`, or `base_2`, `base_3`, … : the first not in `taken`, which it
/// joins; each made to fit a definition (`fit`).
fn claim(taken: &mut BTreeSet<String>, base: &str) -> String {
    let mut name = fit(base);
    let mut n = 2;
    while taken.contains(&name) {
        name = fit(&format!("{base}_{n}"));
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// The longest name a definition accepts: PostgreSQL's, which definitions
/// keep on every dialect so they can move between them.
const MAX_NAME_BYTES: usize = 63;

/// `name`, or, when it is longer than a definition accepts (a default name
/// over long column lists), its beginning and a hash of the whole: still
/// deterministic and distinct, and written out by `pull` as an explicit name.
fn fit(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_string();
    }
    let hash: String = Sha256::digest(name.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect();
    let mut end = MAX_NAME_BYTES - hash.len() - 1;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}_{hash}", &name[..end])
}

fn action(text: &str) -> ReferentialAction {
    match text.to_ascii_uppercase().as_str() {
        "RESTRICT" => ReferentialAction::Restrict,
        "CASCADE" => ReferentialAction::Cascade,
        "SET NULL" => ReferentialAction::SetNull,
        "SET DEFAULT" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

/// Each table's foreign keys, in declaration order.
fn foreign_keys(tables: &[Table], rows: &[ForeignKeyRow], notes: &mut Vec<String>) -> Vec<Vec<ForeignKey>> {
    let mut grouped: BTreeMap<(&str, i64), Vec<&ForeignKeyRow>> = BTreeMap::new();
    let mut order: Vec<(&str, i64)> = Vec::new();
    for row in rows {
        let key = (row.table.as_str(), row.id);
        if !grouped.contains_key(&key) {
            order.push(key);
        }
        grouped.entry(key).or_default().push(row);
    }
    let mut out: Vec<Vec<ForeignKey>> = vec![Vec::new(); tables.len()];
    let mut taken: Vec<BTreeSet<String>> = tables.iter().map(constraint_names).collect();
    for key in order {
        let Some(position) = tables.iter().position(|t| t.name.name == key.0) else { continue };
        let table = &tables[position];
        let mut pairs = grouped.remove(&key).unwrap_or_default();
        pairs.sort_by_key(|r| r.seq);
        let Some(first) = pairs.first() else { continue };
        let target = tables.iter().find(|t| t.name.name.eq_ignore_ascii_case(&first.referenced_table));
        let referenced_table = target.map_or_else(|| first.referenced_table.clone(), |t| t.name.name.clone());
        if target.is_none() {
            notes.push(format!("table `{}`: a foreign key references `{referenced_table}`, which does not exist", table.name.name));
        }
        let columns: Vec<String> = pairs.iter().map(|r| resolve(&table.columns, &r.column).unwrap_or(&r.column).to_string()).collect();
        let referenced_columns: Vec<String> = if pairs.iter().all(|r| r.referenced_column.is_none()) {
            match target.and_then(|t| t.primary_key.as_ref()) {
                Some(pk) => pk.columns.clone(),
                None => {
                    notes.push(format!(
                        "table `{}`: a foreign key references `{referenced_table}` without naming columns, and that table has no primary key",
                        table.name.name
                    ));
                    Vec::new()
                }
            }
        } else {
            pairs
                .iter()
                .map(|r| {
                    let written = r.referenced_column.clone().unwrap_or_default();
                    target.and_then(|t| resolve(&t.columns, &written)).map_or(written.clone(), str::to_string)
                })
                .collect()
        };
        let name = claim(&mut taken[position], &names::foreign_key(&table.name.name, &columns, &referenced_table, &referenced_columns));
        out[position].push(ForeignKey {
            name,
            declared_on_column: columns.len() == 1,
            columns,
            referenced_table: QualifiedName::unqualified(referenced_table),
            referenced_columns,
            on_delete: action(&first.on_delete),
            on_update: action(&first.on_update),
        });
    }
    out
}

/// The constraint names a table already holds (they share one namespace per table).
fn constraint_names(table: &Table) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = table.primary_key.iter().map(|pk| pk.name.clone()).collect();
    names.extend(table.uniques.iter().map(|u| u.name.clone()));
    names.extend(table.foreign_keys.iter().map(|f| f.name.clone()));
    names.extend(table.checks.iter().map(|c| c.name.clone()));
    names
}

/// Adds the index of `row` to `table`: skipped when it backs the primary key,
/// a unique constraint when it is a plain unique index (or an inline `UNIQUE`), an index otherwise.
fn index(table: &mut Table, row: &IndexRow, columns: &[&IndexColumnRow], relation_names: &mut BTreeSet<String>, notes: &mut Vec<String>) {
    if row.origin == "pk" {
        return;
    }
    let from_pragma = || -> Option<Vec<IndexElement>> {
        columns
            .iter()
            .map(|c| {
                let column = c.column.as_deref().and_then(|name| resolve(&table.columns, name))?;
                let order = if c.descending { SortOrder::Desc } else { SortOrder::Asc };
                Some(element(IndexKey::Column(column.to_string()), order))
            })
            .collect()
    };
    let (elements, predicate) = match (row.origin.as_str(), row.sql.as_deref().map(parse_index)) {
        ("c", Some(Ok(create))) => {
            let elements = create
                .columns
                .iter()
                .map(|c| {
                    let order = if matches!(c.column.options.sort, Some(OrderBySort::Desc)) { SortOrder::Desc } else { SortOrder::Asc };
                    let key = match &c.column.expr {
                        Expr::Identifier(ident) if resolve(&table.columns, &ident.value).is_some() => {
                            IndexKey::Column(resolve(&table.columns, &ident.value).unwrap_or(&ident.value).to_string())
                        }
                        other => IndexKey::Expression(other.to_string()),
                    };
                    element(key, order)
                })
                .collect();
            (Some(elements), create.predicate.as_ref().map(ToString::to_string))
        }
        (_, parsed) => {
            if let Some(Err(problem)) = parsed {
                notes.push(format!("index `{}`: its CREATE INDEX statement did not parse ({problem})", row.name));
            }
            if row.partial { (None, None) } else { (from_pragma(), None) }
        }
    };
    let Some(elements) = elements.filter(|e| !e.is_empty()) else {
        notes.push(format!("index `{}` on `{}` could not be read and is left out", row.name, table.name.name));
        return;
    };
    let plain = predicate.is_none() && elements.iter().all(|e| matches!(e.key, IndexKey::Column(_)) && e.order == SortOrder::Asc);
    if row.unique && plain {
        let columns: Vec<String> =
            elements.into_iter().filter_map(|e| if let IndexKey::Column(c) = e.key { Some(c) } else { None }).collect();
        let name = if row.origin == "u" {
            // An inline UNIQUE gets SQLite's `sqlite_autoindex_*` name: use lowering's default.
            let mut taken = constraint_names(table);
            taken.extend(relation_names.iter().cloned());
            let name = claim(&mut taken, &names::unique(&table.name.name, &columns));
            relation_names.insert(name.clone());
            name
        } else {
            row.name.clone()
        };
        table.uniques.push(Unique { name, columns, nulls_not_distinct: false });
    } else {
        table.indexes.push(Index { name: row.name.clone(), unique: row.unique, method: "btree".to_string(), elements, predicate });
    }
}

/// An index element with NULLs where SQLite sorts them (first ascending, last descending), as lowering resolves them.
fn element(key: IndexKey, order: SortOrder) -> IndexElement {
    let nulls = match order {
        SortOrder::Asc => NullsOrder::First,
        SortOrder::Desc => NullsOrder::Last,
    };
    IndexElement { key, order, nulls, opclass: None }
}

fn parse_index(sql: &str) -> Result<CreateIndex, String> {
    match parse_statement(sql)? {
        Statement::CreateIndex(create) => Ok(create),
        _ => Err("not a CREATE INDEX statement".to_string()),
    }
}

/// The table's checks, named as declared; an unnamed one gets PostgreSQL's
/// name for it (`<table>_<column>_check` on a column, `<table>_check`), numbered when taken.
fn checks(table: &mut Table, ddl: &TableDdl, notes: &mut Vec<String>) {
    let mut taken = constraint_names(table);
    let declared: BTreeSet<&str> = ddl.checks.iter().filter_map(|c| c.name.as_deref()).collect();
    taken.extend(declared.iter().map(|n| n.to_string()));
    for check in &ddl.checks {
        let name = match &check.name {
            Some(name) => name.clone(),
            None => {
                let base = match check.column.as_deref().and_then(|c| resolve(&table.columns, c)) {
                    Some(column) => names::enum_check(&table.name.name, column),
                    None => format!("{}_check", table.name.name),
                };
                let mut name = fit(&base);
                let mut n = 1;
                while taken.contains(&name) {
                    name = fit(&format!("{base}{n}"));
                    n += 1;
                }
                taken.insert(name.clone());
                notes.push(format!("table `{}`: an unnamed check is read as `{name}`", table.name.name));
                name
            }
        };
        table.checks.push(Check { name, expression: check.expression.to_string() });
    }
}

/// The labels `expression` lists when it is `"<column>" IN ('a', …)` over
/// `column`: distinct, each 1 to 63 bytes (what a definition's enum allows).
fn enum_labels(expression: &Expr, column: &str) -> Option<Vec<String>> {
    let mut expression = expression;
    while let Expr::Nested(inner) = expression {
        expression = inner;
    }
    let Expr::InList { expr, list, negated: false } = expression else { return None };
    let Expr::Identifier(ident) = expr.as_ref() else { return None };
    if !ident.value.eq_ignore_ascii_case(column) || list.is_empty() {
        return None;
    }
    let mut labels = Vec::with_capacity(list.len());
    for item in list {
        let Some(Constant::String(label)) = fragment::constant(Dialect::Sqlite, &item.to_string()) else { return None };
        if label.is_empty() || label.len() > 63 || label.contains('\0') || labels.contains(&label) {
            return None;
        }
        labels.push(label);
    }
    Some(labels)
}

/// Turns each text column kept with an enum check into an enum column (the
/// check stays, as lowering keeps it) and returns the enums, named as the
/// module documentation says.
fn recover_enums(tables: &mut [Table], ddl_of: &[TableDdl]) -> Vec<Enum> {
    let mut enums: Vec<Enum> = Vec::new();
    // Types share a namespace with tables and with serial columns' sequences (on PostgreSQL, which definitions allow for).
    let mut taken: BTreeSet<String> = tables.iter().map(|t| t.name.name.clone()).collect();
    for table in tables.iter() {
        taken.extend(table.columns.iter().filter(|c| c.ty.scalar.is_serial()).map(|c| names::sequence(&table.name.name, &c.name)));
    }
    for (table, ddl) in tables.iter_mut().zip(ddl_of) {
        let table_name = table.name.name.clone();
        for column in &mut table.columns {
            if column.ty.scalar != ScalarType::Text || column.generated.is_some() {
                continue;
            }
            let check_name = names::enum_check(&table_name, &column.name);
            let Some(check) = table.checks.iter().find(|c| c.name == check_name) else { continue };
            // The parsed expression of that check: declared with that name, or unnamed on the column.
            let parsed = ddl.checks.iter().find(|c| {
                c.name.as_deref() == Some(check_name.as_str())
                    || (c.name.is_none() && c.expression.to_string() == check.expression && c.column.is_some())
            });
            let Some(labels) = parsed.and_then(|c| enum_labels(&c.expression, &column.name)) else { continue };
            let default_fits = match &column.default {
                None => true,
                Some(ColumnDefault::Value(Value::String(s))) => labels.contains(s),
                Some(_) => false,
            };
            if !default_fits {
                continue;
            }
            let name = match enums.iter().find(|e| e.values == labels) {
                Some(shared) => shared.name.clone(),
                None => {
                    let base = if taken.contains(&column.name) { format!("{table_name}_{}", column.name) } else { column.name.clone() };
                    let name = QualifiedName::unqualified(claim(&mut taken, &base));
                    enums.push(Enum { name: name.clone(), values: labels, renamed_values: BTreeMap::new() });
                    name
                }
            };
            column.ty = ColumnType::scalar(ScalarType::Enum(name));
        }
    }
    enums
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, name: &str, sql: Option<&str>) -> ObjectRow {
        ObjectRow {
            kind: kind.into(),
            name: name.into(),
            table: name.into(),
            sql: sql.map(str::to_string),
            table_kind: (kind == "table").then(|| "table".to_string()),
        }
    }

    fn column_row(table: &str, name: &str, declared: &str, not_null: bool, default: Option<&str>, pk: i64) -> ColumnRow {
        ColumnRow {
            table: table.into(),
            name: name.into(),
            declared_type: declared.into(),
            not_null,
            default: default.map(str::to_string),
            primary_key_position: pk,
            hidden: 0,
        }
    }

    #[test]
    fn defaults_read_back_as_definition_values() {
        let text = ScalarType::Text;
        assert_eq!(column_default(&text, "'it''s'"), ColumnDefault::Value("it's".into()));
        assert_eq!(column_default(&text, "'{\"a\":1}'"), ColumnDefault::Value("{\"a\":1}".into()));
        assert_eq!(column_default(&ScalarType::Integer, "-1"), ColumnDefault::Value((-1).into()));
        assert_eq!(column_default(&ScalarType::Integer, "(0)"), ColumnDefault::Value(0.into()));
        assert_eq!(column_default(&ScalarType::Boolean, "true"), ColumnDefault::Value(true.into()));
        assert_eq!(column_default(&ScalarType::DoublePrecision, "-1.5"), ColumnDefault::Value(serde_json::json!(-1.5)));
        // A literal a definition could not write for the column stays SQL.
        assert_eq!(column_default(&ScalarType::Integer, "5000000000"), ColumnDefault::Sql("5000000000".into()));
        assert_eq!(column_default(&ScalarType::Integer, "'1'"), ColumnDefault::Sql("'1'".into()));
        assert_eq!(column_default(&text, "NULL"), ColumnDefault::Sql("NULL".into()));
        assert_eq!(column_default(&ScalarType::DoublePrecision, "1.50"), ColumnDefault::Sql("1.50".into()));
        assert_eq!(column_default(&ScalarType::Numeric { precision: None, scale: None }, "'1.50'"), ColumnDefault::Value("1.50".into()));
        assert_eq!(column_default(&ScalarType::Varchar { length: Some(2) }, "'abc'"), ColumnDefault::Sql("'abc'".into()));
        // Expressions, with or without the parentheses of `DEFAULT (…)`.
        assert_eq!(column_default(&text, "CURRENT_TIMESTAMP"), ColumnDefault::Sql("CURRENT_TIMESTAMP".into()));
        assert_eq!(column_default(&ScalarType::Integer, "(unixepoch())"), ColumnDefault::Sql("unixepoch()".into()));
        assert_eq!(column_default(&text, "(lower('A') || ')')"), ColumnDefault::Sql("lower('A') || ')'".into()));
        assert_eq!(column_default(&ScalarType::Integer, "(1) + (2)"), ColumnDefault::Sql("(1) + (2)".into()));
    }

    #[test]
    fn integers_are_read_by_their_use() {
        let sql = "CREATE TABLE `t` (`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL, `flag` integer DEFAULT false NOT NULL, `at` integer DEFAULT (unixepoch()), `ms` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)), `n` integer DEFAULT 3, `x` real, `d` numeric, `b` blob, `s` text(20))";
        let rows = SchemaRows {
            objects: vec![object("table", "t", Some(sql))],
            columns: vec![
                column_row("t", "id", "INTEGER", true, None, 1),
                column_row("t", "flag", "INTEGER", true, Some("false"), 0),
                column_row("t", "at", "INTEGER", false, Some("unixepoch()"), 0),
                column_row("t", "ms", "INTEGER", false, Some("cast(unixepoch('subsec') * 1000 as integer)"), 0),
                column_row("t", "n", "INTEGER", false, Some("3"), 0),
                column_row("t", "x", "REAL", false, None, 0),
                column_row("t", "d", "NUMERIC", false, None, 0),
                column_row("t", "b", "BLOB", false, None, 0),
                column_row("t", "s", "text(20)", false, None, 0),
            ],
            ..SchemaRows::default()
        };
        let read = assemble(&rows);
        let table = &read.schema.tables[0];
        let types: Vec<&ScalarType> = table.columns.iter().map(|c| &c.ty.scalar).collect();
        assert_eq!(
            types,
            [
                &ScalarType::Serial,
                &ScalarType::Boolean,
                &ScalarType::Timestamp { precision: None, with_time_zone: false },
                &ScalarType::Timestamp { precision: Some(3), with_time_zone: false },
                &ScalarType::Integer,
                &ScalarType::DoublePrecision,
                &ScalarType::Numeric { precision: None, scale: None },
                &ScalarType::Bytea,
                &ScalarType::Varchar { length: Some(20) },
            ]
        );
        assert_eq!(table.primary_key, Some(PrimaryKey { name: "t_pkey".into(), columns: vec!["id".into()] }));
        assert!(read.notes.is_empty(), "{:?}", read.notes);
    }

    #[test]
    fn keys_indexes_and_checks_read_as_lowering_stores_them() {
        let sql = "CREATE TABLE `m` (`a` integer NOT NULL, `b` integer NOT NULL, `parent_a` integer, `parent_b` integer, `email` text, `status` text DEFAULT 'draft' NOT NULL, `kind` text, PRIMARY KEY(`a`, `b`), FOREIGN KEY (`parent_a`,`parent_b`) REFERENCES `m`(`a`,`b`) ON UPDATE no action ON DELETE cascade, CONSTRAINT \"m_status_check\" CHECK(\"status\" IN ('draft', 'it''s')), CONSTRAINT \"m_kind_check\" CHECK(\"kind\" IN ('draft', 'it''s')), CONSTRAINT \"positive\" CHECK(\"a\" > 0))";
        let rows = SchemaRows {
            objects: vec![
                object("table", "m", Some(sql)),
                object("index", "m_email_unique", Some("CREATE UNIQUE INDEX `m_email_unique` ON `m` (`email`)")),
                object("index", "m_lower", Some("CREATE UNIQUE INDEX `m_lower` ON `m` (lower(email),\"a\" DESC) WHERE a > 0")),
            ],
            columns: vec![
                column_row("m", "a", "INTEGER", true, None, 1),
                column_row("m", "b", "INTEGER", true, None, 2),
                column_row("m", "parent_a", "INTEGER", false, None, 0),
                column_row("m", "parent_b", "INTEGER", false, None, 0),
                column_row("m", "email", "TEXT", false, None, 0),
                column_row("m", "status", "TEXT", true, Some("'draft'"), 0),
                column_row("m", "kind", "TEXT", false, None, 0),
            ],
            foreign_keys: ["parent_a", "parent_b"]
                .iter()
                .zip(["a", "b"])
                .enumerate()
                .map(|(seq, (from, to))| ForeignKeyRow {
                    table: "m".into(),
                    id: 0,
                    seq: seq as i64,
                    referenced_table: "m".into(),
                    column: from.to_string(),
                    referenced_column: Some(to.into()),
                    on_update: "NO ACTION".into(),
                    on_delete: "CASCADE".into(),
                })
                .collect(),
            indexes: vec![
                IndexRow {
                    table: "m".into(),
                    name: "sqlite_autoindex_m_1".into(),
                    unique: true,
                    origin: "pk".into(),
                    partial: false,
                    sql: None,
                },
                IndexRow {
                    table: "m".into(),
                    name: "m_email_unique".into(),
                    unique: true,
                    origin: "c".into(),
                    partial: false,
                    sql: Some("CREATE UNIQUE INDEX `m_email_unique` ON `m` (`email`)".into()),
                },
                IndexRow {
                    table: "m".into(),
                    name: "m_lower".into(),
                    unique: true,
                    origin: "c".into(),
                    partial: true,
                    sql: Some("CREATE UNIQUE INDEX `m_lower` ON `m` (lower(email),\"a\" DESC) WHERE a > 0".into()),
                },
            ],
            index_columns: Vec::new(),
        };
        let read = assemble(&rows);
        let m = &read.schema.tables[0];
        assert_eq!(m.primary_key.as_ref().map(|pk| pk.name.as_str()), Some("m_a_b_pk"));
        assert!(m.columns.iter().filter(|c| c.name == "a" || c.name == "b").all(|c| c.not_null));
        assert_eq!(m.foreign_keys.len(), 1);
        let fk = &m.foreign_keys[0];
        assert_eq!(fk.name, "m_parent_a_parent_b_m_a_b_fk");
        assert_eq!((fk.on_delete, fk.on_update), (ReferentialAction::Cascade, ReferentialAction::NoAction));
        assert_eq!(m.uniques, [Unique { name: "m_email_unique".into(), columns: vec!["email".into()], nulls_not_distinct: false }]);
        let index = &m.indexes[0];
        assert_eq!(index.predicate.as_deref(), Some("a > 0"));
        assert_eq!(index.elements[0].key, IndexKey::Expression("lower(email)".into()));
        assert_eq!((index.elements[1].order, index.elements[1].nulls), (SortOrder::Desc, NullsOrder::Last));
        assert_eq!(index.elements[1].key, IndexKey::Column("a".into()));
        // Both label checks make enum columns sharing one enum, and stay checks.
        assert_eq!(read.schema.enums.len(), 1);
        assert_eq!(read.schema.enums[0].name.name, "status");
        assert_eq!(read.schema.enums[0].values, ["draft", "it's"]);
        let status = QualifiedName::unqualified("status");
        assert!(
            m.columns.iter().filter(|c| c.name == "status" || c.name == "kind").all(|c| c.ty.scalar == ScalarType::Enum(status.clone()))
        );
        assert_eq!(m.checks.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["m_status_check", "m_kind_check", "positive"]);
        assert!(read.notes.is_empty(), "{:?}", read.notes);
    }

    #[test]
    fn foreign_ddl_gets_default_names_and_notes() {
        let parent = "CREATE TABLE Parent (ID INTEGER PRIMARY KEY, code VARCHAR(20) UNIQUE, ratio DOUBLE, CHECK (ratio > 0), blob_col)";
        let child = "CREATE TABLE child (id integer primary key, parent_id integer REFERENCES parent ON DELETE SET NULL, state text CHECK (state IN ('on', 'off')))";
        let rows = SchemaRows {
            objects: vec![
                object("table", "Parent", Some(parent)),
                object("table", "child", Some(child)),
                object("index", "sqlite_autoindex_Parent_1", None),
                object("view", "v", Some("CREATE VIEW v AS SELECT 1")),
                object("table", "__new_child", Some("CREATE TABLE __new_child (id integer)")),
                object("table", "__drizzle_migrations", Some("CREATE TABLE __drizzle_migrations (id integer)")),
            ],
            columns: vec![
                column_row("Parent", "ID", "INTEGER", false, None, 1),
                column_row("Parent", "code", "VARCHAR(20)", false, None, 0),
                column_row("Parent", "ratio", "DOUBLE", false, None, 0),
                column_row("Parent", "blob_col", "", false, None, 0),
                column_row("child", "id", "integer", false, None, 1),
                column_row("child", "parent_id", "integer", false, None, 0),
                column_row("child", "state", "text", false, None, 0),
            ],
            foreign_keys: vec![ForeignKeyRow {
                table: "child".into(),
                id: 0,
                seq: 0,
                referenced_table: "parent".into(),
                column: "parent_id".into(),
                referenced_column: None,
                on_update: "NO ACTION".into(),
                on_delete: "SET NULL".into(),
            }],
            indexes: vec![IndexRow {
                table: "Parent".into(),
                name: "sqlite_autoindex_Parent_1".into(),
                unique: true,
                origin: "u".into(),
                partial: false,
                sql: None,
            }],
            index_columns: vec![IndexColumnRow {
                index: "sqlite_autoindex_Parent_1".into(),
                column: Some("code".into()),
                descending: false,
            }],
        };
        assert_eq!(tables_to_read(&rows.objects), ["Parent", "child"]);
        let read = assemble(&rows);
        let [parent, child] = read.schema.tables.as_slice() else { panic!("two tables: {:?}", read.schema.tables) };
        assert_eq!(parent.columns[0].ty.scalar, ScalarType::Integer);
        assert!(parent.columns[0].not_null);
        assert_eq!(parent.columns[1].ty.scalar, ScalarType::Custom { sql: "VARCHAR(20)".into() });
        assert_eq!(parent.columns[2].ty.scalar, ScalarType::Custom { sql: "DOUBLE".into() });
        assert_eq!(parent.columns[3].ty.scalar, ScalarType::Bytea);
        assert_eq!(parent.uniques, [Unique { name: "Parent_code_unique".into(), columns: vec!["code".into()], nulls_not_distinct: false }]);
        assert_eq!(parent.checks, [Check { name: "Parent_check".into(), expression: "ratio > 0".into() }]);
        let fk = &child.foreign_keys[0];
        assert_eq!((fk.referenced_table.name.as_str(), fk.referenced_columns.as_slice()), ("Parent", ["ID".to_string()].as_slice()));
        assert_eq!(fk.on_delete, ReferentialAction::SetNull);
        assert_eq!(child.checks[0].name, "child_state_check");
        assert_eq!(child.columns[2].ty.scalar, ScalarType::Enum(QualifiedName::unqualified("state")));
        let notes = read.notes.join("\n");
        for expected in ["view `v`", "`__new_child`", "`Parent.blob_col` has no declared type", "`Parent_check`"] {
            assert!(notes.contains(expected), "no note about {expected}:\n{notes}");
        }
        assert!(!notes.contains("__drizzle_migrations"), "{notes}");
    }

    #[test]
    fn enum_names_are_shared_or_made_unique() {
        let table = |name: &str, labels: &str| {
            (
                format!("CREATE TABLE `{name}` (`status` text, CONSTRAINT \"{name}_status_check\" CHECK(\"status\" IN ({labels})))"),
                column_row(name, "status", "TEXT", false, None, 0),
            )
        };
        let (a, a_column) = table("a", "'x', 'y'");
        let (b, b_column) = table("b", "'x', 'y'");
        let (c, c_column) = table("c", "'x', 'z'");
        let (status, status_column) = table("status", "'p'");
        let rows = SchemaRows {
            objects: vec![
                object("table", "a", Some(&a)),
                object("table", "b", Some(&b)),
                object("table", "c", Some(&c)),
                object("table", "status", Some(&status)),
            ],
            columns: vec![a_column, b_column, c_column, status_column],
            ..SchemaRows::default()
        };
        let read = assemble(&rows);
        let names: Vec<&str> = read.schema.enums.iter().map(|e| e.name.name.as_str()).collect();
        // `status` is a table's name, so the first enum takes the table-qualified name.
        assert_eq!(names, ["a_status", "c_status", "status_status"]);
        let of = |t: usize| read.schema.tables[t].columns[0].ty.scalar.clone();
        assert_eq!(of(0), of(1));
    }

    #[test]
    fn long_default_names_are_shortened_deterministically() {
        let long = format!("t_{}_fk", "column_".repeat(10));
        let short = fit(&long);
        assert_eq!(short.len(), MAX_NAME_BYTES);
        assert_eq!(short, fit(&long));
        assert!(short.starts_with("t_column_column_"));
        assert_ne!(fit(&format!("{long}_2")), short);
        let mut taken = BTreeSet::from([short.clone()]);
        assert_ne!(claim(&mut taken, &long), short);
        assert_eq!(fit("t_a_fk"), "t_a_fk");
    }

    #[test]
    fn deeply_nested_ddl_is_a_note_not_a_crash() {
        let deep = format!("CREATE TABLE t (a integer, CHECK ({}a{} > 0))", "(".repeat(990), ")".repeat(990));
        let rows = SchemaRows {
            objects: vec![object("table", "t", Some(&deep))],
            columns: vec![column_row("t", "a", "INTEGER", false, None, 0)],
            ..SchemaRows::default()
        };
        let read = assemble(&rows);
        assert!(read.schema.tables[0].checks.is_empty());
        assert!(read.notes[0].contains("did not parse"), "{:?}", read.notes);
        let nested = format!("CREATE TABLE t (a integer, CHECK ({}a{} > 0))", "(".repeat(60), ")".repeat(60));
        let rows = SchemaRows { objects: vec![object("table", "t", Some(&nested))], ..rows };
        assert_eq!(assemble(&rows).schema.tables[0].checks.len(), 1);
    }

    #[test]
    fn outer_parentheses_only_when_they_enclose_everything() {
        assert_eq!(without_outer_parentheses("((1))"), "1");
        assert_eq!(without_outer_parentheses("(a) || (b)"), "(a) || (b)");
        assert_eq!(without_outer_parentheses("(')(')"), "')('");
    }
}
