//! Catalog rows, as the introspection queries return them, read into the model.
//!
//! Pure: no connection, no IO. The server's spelling is mapped back to the
//! model's: `int4` with an owned sequence default is `serial`, a default
//! `'draft'::status` is the JSON value `"draft"`, an index's default operator
//! class is no operator class. What the model cannot express (an index's
//! `INCLUDE` columns, an interval with fields) is kept as close as it can be
//! and reported in `Introspected::notes`.

use std::collections::BTreeMap;

use schemaforge_fragment::{self as fragment, Constant};
use schemaforge_model::{
    Check, Column, ColumnDefault, ColumnType, Dialect, Enum, Extension, ForeignKey, Generated, Identity, IdentityKind, Index, IndexElement,
    IndexKey, NullsOrder, Policy, PolicyCommand, PolicyKind, PrimaryKey, QualifiedName, ReferentialAction, Role, ScalarType, Schema,
    SortOrder, Table, Unique, names,
};
use serde_json::Value;

/// A table (`pg_class`), keyed by its oid.
#[derive(Debug, Clone)]
pub struct TableRow {
    pub oid: i64,
    pub schema: String,
    pub name: String,
    pub rls: bool,
    pub comment: Option<String>,
}

/// A column (`pg_attribute`); for arrays the type fields describe the element.
#[derive(Debug, Clone)]
pub struct ColumnRow {
    pub table: i64,
    pub name: String,
    pub not_null: bool,
    /// `a` (always), `d` (by default) or empty.
    pub identity: String,
    /// `s` (stored) or empty.
    pub generated: String,
    /// 0 for a scalar; at least 1 for an array.
    pub dimensions: i32,
    pub typmod: i32,
    pub type_name: String,
    pub type_schema: String,
    /// `b` base, `e` enum, `d` domain, …
    pub type_kind: String,
    /// `format_type` of the element type with the column's modifier.
    pub type_sql: String,
    pub default: Option<String>,
    pub comment: Option<String>,
}

/// A sequence owned by a column: `a` for `serial`, `i` for identity.
#[derive(Debug, Clone)]
pub struct SequenceRow {
    pub table: i64,
    pub column: String,
    pub dependency: String,
    pub name: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
}

/// A primary key, unique, foreign key or check (`pg_constraint`).
#[derive(Debug, Clone)]
pub struct ConstraintRow {
    pub table: i64,
    pub name: String,
    /// `p`, `u`, `f` or `c`.
    pub kind: String,
    pub columns: Vec<String>,
    pub referenced_schema: Option<String>,
    pub referenced_table: Option<String>,
    pub referenced_columns: Vec<String>,
    /// `a` no action, `r` restrict, `c` cascade, `n` set null, `d` set default.
    pub on_update: String,
    pub on_delete: String,
    pub check: Option<String>,
    pub nulls_not_distinct: bool,
}

/// An index that backs no constraint (`pg_index`).
#[derive(Debug, Clone)]
pub struct IndexRow {
    pub table: i64,
    pub name: String,
    pub unique: bool,
    pub method: String,
    /// Per key: the column's name, or empty for an expression.
    pub key_columns: Vec<String>,
    /// Per key: `pg_get_indexdef(index, k, true)` (the expression's text).
    pub key_sql: Vec<String>,
    /// Per key: bit 0 descending, bit 1 nulls first.
    pub options: Vec<i16>,
    /// Per key: the operator class, empty when it is the type's default.
    pub opclasses: Vec<String>,
    pub predicate: Option<String>,
    /// Columns after `INCLUDE`.
    pub included: i32,
}

/// A row-level security policy (`pg_policy`).
#[derive(Debug, Clone)]
pub struct PolicyRow {
    pub table: i64,
    pub name: String,
    pub permissive: bool,
    /// `*`, `r`, `a`, `w` or `d`.
    pub command: String,
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

/// Everything the queries fetched.
#[derive(Debug, Clone, Default)]
pub struct CatalogRows {
    pub namespaces: Vec<String>,
    /// (name, schema), in installation order.
    pub extensions: Vec<(String, String)>,
    /// (schema, name, labels in sort order).
    pub enums: Vec<(String, String, Vec<String>)>,
    pub tables: Vec<TableRow>,
    pub columns: Vec<ColumnRow>,
    pub sequences: Vec<SequenceRow>,
    pub constraints: Vec<ConstraintRow>,
    pub indexes: Vec<IndexRow>,
    pub policies: Vec<PolicyRow>,
    /// (name, create db, create role, inherit) of the roles policies name.
    pub roles: Vec<(String, bool, bool, bool)>,
}

pub use crate::Introspected;

/// Reads catalog rows into the model.
pub fn assemble(rows: &CatalogRows) -> Introspected {
    let mut notes = Vec::new();
    let mut schema = Schema::empty(Dialect::Postgresql);
    schema.namespaces = rows.namespaces.iter().filter(|n| *n != schemaforge_model::DEFAULT_NAMESPACE).cloned().collect();
    schema.extensions = rows
        .extensions
        .iter()
        .map(|(name, namespace)| Extension {
            name: name.clone(),
            schema: Some(namespace.clone()).filter(|n| n != schemaforge_model::DEFAULT_NAMESPACE),
        })
        .collect();
    schema.enums = rows
        .enums
        .iter()
        .map(|(namespace, name, values)| Enum {
            name: QualifiedName::new(Some(namespace.clone()), name.clone()),
            values: values.clone(),
            renamed_values: BTreeMap::new(),
        })
        .collect();

    let mut tables: Vec<Table> = Vec::with_capacity(rows.tables.len());
    let by_oid: BTreeMap<i64, usize> = rows.tables.iter().enumerate().map(|(i, t)| (t.oid, i)).collect();
    for row in &rows.tables {
        tables.push(Table {
            name: QualifiedName::new(Some(row.schema.clone()), row.name.clone()),
            renamed_from: None,
            comment: row.comment.clone(),
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            checks: Vec::new(),
            rls: row.rls,
            policies: Vec::new(),
        });
    }
    let sequences: BTreeMap<(i64, &str), &SequenceRow> = rows.sequences.iter().map(|s| ((s.table, s.column.as_str()), s)).collect();
    for row in &rows.columns {
        let Some(&i) = by_oid.get(&row.table) else { continue };
        let column = column(row, sequences.get(&(row.table, row.name.as_str())).copied(), &mut notes);
        tables[i].columns.push(column);
    }
    for row in &rows.constraints {
        let Some(&i) = by_oid.get(&row.table) else { continue };
        constraint(&mut tables[i], row);
    }
    for row in &rows.indexes {
        let Some(&i) = by_oid.get(&row.table) else { continue };
        if row.included > 0 {
            notes.push(format!("index {}: its INCLUDE columns are not kept", row.name));
        }
        let index = index(row);
        tables[i].indexes.push(index);
    }
    for row in &rows.policies {
        let Some(&i) = by_oid.get(&row.table) else { continue };
        tables[i].policies.push(policy(row));
    }
    schema.roles = rows
        .roles
        .iter()
        .map(|(name, create_db, create_role, inherit)| Role {
            name: name.clone(),
            existing: false,
            create_db: *create_db,
            create_role: *create_role,
            inherit: *inherit,
        })
        .collect();
    schema.tables = tables;
    Introspected { schema, notes }
}

fn column(row: &ColumnRow, sequence: Option<&SequenceRow>, notes: &mut Vec<String>) -> Column {
    let scalar = scalar_type(row, notes);
    let dimensions = if row.dimensions > 0 { u8::try_from(row.dimensions).unwrap_or(u8::MAX) } else { 0 };
    let mut ty = ColumnType { scalar, array_dimensions: dimensions };
    let mut default = row.default.clone();
    let mut identity = None;
    match sequence {
        Some(seq) if seq.dependency == "i" => {
            identity = Some(Identity {
                kind: if row.identity == "a" { IdentityKind::Always } else { IdentityKind::ByDefault },
                sequence_name: seq.name.clone(),
                increment: seq.increment,
                min_value: seq.min,
                max_value: seq.max,
                start_with: seq.start,
                cache: seq.cache,
                cycle: seq.cycle,
            });
        }
        // `serial`: an owned sequence feeding the column's default.
        Some(seq) if seq.dependency == "a" && ty.array_dimensions == 0 && default.as_deref().is_some_and(|d| d.starts_with("nextval(")) => {
            let serial = match ty.scalar {
                ScalarType::SmallInt => Some(ScalarType::SmallSerial),
                ScalarType::Integer => Some(ScalarType::Serial),
                ScalarType::BigInt => Some(ScalarType::BigSerial),
                _ => None,
            };
            if let Some(serial) = serial {
                ty.scalar = serial;
                default = None;
            }
        }
        _ => {}
    }
    let generated = (row.generated == "s").then(|| Generated { sql: default.take().unwrap_or_default() });
    let default = default.map(|sql| column_default(&ty, &sql));
    Column {
        name: row.name.clone(),
        ty,
        not_null: row.not_null,
        default,
        identity,
        generated,
        renamed_from: None,
        comment: row.comment.clone(),
    }
}

/// The model type of a column's element type (`type_name` is `pg_type.typname`).
fn scalar_type(row: &ColumnRow, notes: &mut Vec<String>) -> ScalarType {
    let modifier = (row.typmod >= 0).then_some(row.typmod);
    let length = modifier.and_then(|m| u32::try_from(m - 4).ok());
    let precision = modifier.and_then(|m| u32::try_from(m).ok());
    if row.type_kind == "e" {
        return ScalarType::Enum(QualifiedName::new(Some(row.type_schema.clone()), row.type_name.clone()));
    }
    if row.type_schema == "pg_catalog" {
        match row.type_name.as_str() {
            "int2" => return ScalarType::SmallInt,
            "int4" => return ScalarType::Integer,
            "int8" => return ScalarType::BigInt,
            "bool" => return ScalarType::Boolean,
            "text" => return ScalarType::Text,
            "varchar" => return ScalarType::Varchar { length },
            "bpchar" => return ScalarType::Char { length },
            "numeric" => {
                let (precision, scale) = match modifier {
                    Some(m) => (u32::try_from(((m - 4) >> 16) & 0xFFFF).ok(), u32::try_from((m - 4) & 0xFFFF).ok()),
                    None => (None, None),
                };
                return ScalarType::Numeric { precision, scale };
            }
            "float4" => return ScalarType::Real,
            "float8" => return ScalarType::DoublePrecision,
            "date" => return ScalarType::Date,
            "time" => return ScalarType::Time { precision, with_time_zone: false },
            "timetz" => return ScalarType::Time { precision, with_time_zone: true },
            "timestamp" => return ScalarType::Timestamp { precision, with_time_zone: false },
            "timestamptz" => return ScalarType::Timestamp { precision, with_time_zone: true },
            // The modifier packs the fields (`YEAR TO MONTH`) above the
            // precision; the model keeps the precision only.
            "interval" => match modifier {
                None => return ScalarType::Interval { precision: None },
                Some(m) if (m >> 16) & 0x7FFF == 0x7FFF => {
                    let p = m & 0xFFFF;
                    return ScalarType::Interval { precision: (p != 0xFFFF).then(|| u32::try_from(p).ok()).flatten() };
                }
                Some(_) => notes.push(format!("column {}: interval fields are kept as a custom type", row.name)),
            },
            "json" => return ScalarType::Json,
            "jsonb" => return ScalarType::Jsonb,
            "uuid" => return ScalarType::Uuid,
            "bytea" => return ScalarType::Bytea,
            "inet" => return ScalarType::Inet,
            "cidr" => return ScalarType::Cidr,
            "macaddr" => return ScalarType::MacAddr,
            _ => {}
        }
    }
    if row.type_name == "vector"
        && let Some(dimensions) = modifier.and_then(|m| u32::try_from(m).ok())
    {
        return ScalarType::Vector { dimensions };
    }
    ScalarType::Custom { sql: row.type_sql.clone() }
}

/// A default as the server spells it, read back into the model: a literal of
/// the column's type becomes the JSON value the definition would hold.
pub fn column_default(ty: &ColumnType, sql: &str) -> ColumnDefault {
    literal_value(ty, sql).map_or_else(|| ColumnDefault::Sql(sql.to_string()), ColumnDefault::Value)
}

fn literal_value(ty: &ColumnType, sql: &str) -> Option<Value> {
    let constant = fragment::constant(Dialect::Postgresql, sql)?;
    if ty.is_array() {
        let Constant::String(text) = constant else { return None };
        return parse_array(&text, &ty.scalar);
    }
    element_value(&ty.scalar, constant)
}

/// One value of scalar type `scalar`, from a constant of the server's spelling.
fn element_value(scalar: &ScalarType, constant: Constant) -> Option<Value> {
    match (scalar, constant) {
        (_, Constant::Null) => None,
        (ScalarType::Json | ScalarType::Jsonb | ScalarType::Vector { .. }, Constant::String(text)) => serde_json::from_str(&text).ok(),
        (ScalarType::Boolean, Constant::Boolean(b)) => Some(Value::Bool(b)),
        (ScalarType::Boolean, Constant::String(text)) => boolean(&text).map(Value::Bool),
        (s, Constant::Integer(i)) if numeric(s) => Some(Value::from(i)),
        // `numeric` keeps the digits it was given (`0.00`): a JSON number would not.
        (ScalarType::Numeric { .. }, Constant::Decimal(text) | Constant::String(text)) => {
            Some(text.parse::<i64>().map_or_else(|_| Value::String(text.clone()), Value::from))
        }
        (s, Constant::Decimal(text) | Constant::String(text)) if numeric(s) => number(&text),
        (
            ScalarType::Text
            | ScalarType::Varchar { .. }
            | ScalarType::Char { .. }
            | ScalarType::Enum(_)
            | ScalarType::Uuid
            | ScalarType::Date
            | ScalarType::Time { .. }
            | ScalarType::Timestamp { .. }
            | ScalarType::Interval { .. }
            | ScalarType::Inet
            | ScalarType::Cidr
            | ScalarType::MacAddr,
            Constant::String(text),
        ) => Some(Value::String(text)),
        _ => None,
    }
}

fn numeric(scalar: &ScalarType) -> bool {
    matches!(
        scalar.storage_type(),
        ScalarType::SmallInt
            | ScalarType::Integer
            | ScalarType::BigInt
            | ScalarType::Numeric { .. }
            | ScalarType::Real
            | ScalarType::DoublePrecision
    )
}

/// A number as the JSON the definition would hold: whole numbers as integers.
fn number(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::from(i));
    }
    let parsed: Value = serde_json::from_str(text).ok()?;
    parsed.is_number().then_some(parsed)
}

fn boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "on" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// PostgreSQL's array input syntax (`{1,2}`, `{"a b","c\"d"}`, `{{1},{2}}`)
/// as a JSON array of values of `scalar`. `json` elements are whole documents.
pub fn parse_array(text: &str, scalar: &ScalarType) -> Option<Value> {
    let mut chars = text.trim().chars().peekable();
    let value = parse_array_level(&mut chars, scalar)?;
    chars.next().is_none().then_some(value)
}

fn parse_array_level(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, scalar: &ScalarType) -> Option<Value> {
    if chars.next()? != '{' {
        return None;
    }
    let mut items = Vec::new();
    if chars.peek() == Some(&'}') {
        chars.next();
        return Some(Value::Array(items));
    }
    loop {
        match chars.peek()? {
            '{' => items.push(parse_array_level(chars, scalar)?),
            '"' => {
                chars.next();
                let mut element = String::new();
                loop {
                    match chars.next()? {
                        '\\' => element.push(chars.next()?),
                        '"' => break,
                        c => element.push(c),
                    }
                }
                items.push(element_value(scalar, Constant::String(element))?);
            }
            _ => {
                let mut element = String::new();
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == '}' {
                        break;
                    }
                    element.push(c);
                    chars.next();
                }
                let element = element.trim();
                if element.eq_ignore_ascii_case("null") {
                    items.push(Value::Null);
                } else {
                    items.push(element_value(scalar, Constant::String(element.to_string()))?);
                }
            }
        }
        match chars.next()? {
            ',' => continue,
            '}' => return Some(Value::Array(items)),
            _ => return None,
        }
    }
}

fn action(code: &str) -> ReferentialAction {
    match code {
        "r" => ReferentialAction::Restrict,
        "c" => ReferentialAction::Cascade,
        "n" => ReferentialAction::SetNull,
        "d" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

fn constraint(table: &mut Table, row: &ConstraintRow) {
    match row.kind.as_str() {
        "p" => table.primary_key = Some(PrimaryKey { name: row.name.clone(), columns: row.columns.clone() }),
        "u" => {
            table.uniques.push(Unique { name: row.name.clone(), columns: row.columns.clone(), nulls_not_distinct: row.nulls_not_distinct })
        }
        "f" => {
            let referenced_table = QualifiedName::new(row.referenced_schema.clone(), row.referenced_table.clone().unwrap_or_default());
            // drizzle's `.references()` names the key with the default formula;
            // that is the best evidence of a column-level declaration.
            let declared_on_column = row.columns.len() == 1
                && row.name == names::foreign_key(&table.name.name, &row.columns, &referenced_table.name, &row.referenced_columns);
            table.foreign_keys.push(ForeignKey {
                name: row.name.clone(),
                columns: row.columns.clone(),
                referenced_table,
                referenced_columns: row.referenced_columns.clone(),
                on_delete: action(&row.on_delete),
                on_update: action(&row.on_update),
                declared_on_column,
            });
        }
        "c" => table.checks.push(Check { name: row.name.clone(), expression: row.check.clone().unwrap_or_default() }),
        _ => {}
    }
}

fn index(row: &IndexRow) -> Index {
    let elements = row
        .key_sql
        .iter()
        .enumerate()
        .map(|(k, sql)| {
            let column = row.key_columns.get(k).filter(|c| !c.is_empty());
            let option = row.options.get(k).copied().unwrap_or(0);
            let order = if option & 1 == 1 { SortOrder::Desc } else { SortOrder::Asc };
            let nulls = if option & 2 == 2 { NullsOrder::First } else { NullsOrder::Last };
            IndexElement {
                key: column.map_or_else(|| IndexKey::Expression(sql.clone()), |c| IndexKey::Column(c.clone())),
                order,
                nulls,
                opclass: row.opclasses.get(k).filter(|o| !o.is_empty()).cloned(),
            }
        })
        .collect();
    Index { name: row.name.clone(), unique: row.unique, method: row.method.clone(), elements, predicate: row.predicate.clone() }
}

fn policy(row: &PolicyRow) -> Policy {
    let command = match row.command.as_str() {
        "r" => PolicyCommand::Select,
        "a" => PolicyCommand::Insert,
        "w" => PolicyCommand::Update,
        "d" => PolicyCommand::Delete,
        _ => PolicyCommand::All,
    };
    let mut roles = row.roles.clone();
    roles.sort();
    roles.dedup();
    Policy {
        name: row.name.clone(),
        kind: if row.permissive { PolicyKind::Permissive } else { PolicyKind::Restrictive },
        command,
        roles,
        using: row.using.clone(),
        with_check: row.with_check.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(scalar: ScalarType) -> ColumnType {
        ColumnType::scalar(scalar)
    }

    fn array(scalar: ScalarType) -> ColumnType {
        ColumnType { scalar, array_dimensions: 1 }
    }

    #[test]
    fn server_defaults_read_back_as_definition_values() {
        let value = |ty: &ColumnType, sql: &str| column_default(ty, sql);
        let enum_type = ScalarType::Enum(QualifiedName::unqualified("status"));
        assert_eq!(value(&scalar(enum_type), "'draft'::status"), ColumnDefault::Value("draft".into()));
        assert_eq!(value(&scalar(ScalarType::Integer), "0"), ColumnDefault::Value(0.into()));
        assert_eq!(value(&scalar(ScalarType::Integer), "'-1'::integer"), ColumnDefault::Value((-1).into()));
        assert_eq!(
            value(&scalar(ScalarType::Numeric { precision: Some(8), scale: Some(2) }), "1.50"),
            ColumnDefault::Value(serde_json::json!("1.50"))
        );
        assert_eq!(value(&scalar(ScalarType::Boolean), "false"), ColumnDefault::Value(false.into()));
        assert_eq!(value(&scalar(ScalarType::Text), "'it''s'::text"), ColumnDefault::Value("it's".into()));
        assert_eq!(value(&scalar(ScalarType::Jsonb), "'{\"a\": [1]}'::jsonb"), ColumnDefault::Value(serde_json::json!({"a": [1]})));
        assert_eq!(
            value(&array(ScalarType::Text), "'{a,\"b c\",\"d\\\"e\"}'::text[]"),
            ColumnDefault::Value(serde_json::json!(["a", "b c", "d\"e"]))
        );
        assert_eq!(value(&array(ScalarType::Integer), "'{1,2}'::integer[]"), ColumnDefault::Value(serde_json::json!([1, 2])));
        assert_eq!(value(&array(ScalarType::Text), "'{}'::text[]"), ColumnDefault::Value(serde_json::json!([])));
        assert_eq!(
            value(&scalar(ScalarType::Timestamp { precision: None, with_time_zone: true }), "now()"),
            ColumnDefault::Sql("now()".into())
        );
        assert_eq!(value(&scalar(ScalarType::Text), "NULL::text"), ColumnDefault::Sql("NULL::text".into()));
    }

    #[test]
    fn nested_arrays_parse() {
        assert_eq!(parse_array("{{1,2},{3,4}}", &ScalarType::Integer), Some(serde_json::json!([[1, 2], [3, 4]])));
        assert_eq!(parse_array("{1,2", &ScalarType::Integer), None);
        assert_eq!(parse_array("{1,2}x", &ScalarType::Integer), None);
    }
}
