//! Column defaults as drizzle-orm sees them: the TS that declares a default and
//! the string drizzle-kit derives from it (snapshot `default`, SQL `DEFAULT`).
//!
//! drizzle-kit turns a JS literal into SQL with a few naive rules (strings get
//! single quotes, arrays become `'{…}'` without escaping, objects become
//! `'…'::jsonb`). Where those rules produce exactly our SQL, the TS uses the
//! plain literal; where they would not (quotes inside JSON or array elements,
//! dates, vectors, custom types), the TS uses `sql\`…\`` with our SQL, so
//! schema.ts, snapshot and migration always agree.

use schemaforge_model::{Column, ColumnDefault, ColumnType, Dialect, ScalarType, TypeFamily};
use schemaforge_sql::{js, postgres};
use serde_json::Value;

/// How `schema.ts` declares a column default.
#[derive(Debug, Clone, PartialEq)]
pub enum DrizzleDefault {
    /// `.default(<ts>)`; drizzle-kit stores `snapshot` in the snapshot.
    Literal { ts: String, snapshot: Value },
    /// `.default(sql\`<sql>\`)`; the snapshot holds the SQL text.
    Sql(String),
}

impl DrizzleDefault {
    /// The snapshot's `default` value.
    pub fn snapshot_value(&self) -> Value {
        match self {
            DrizzleDefault::Literal { snapshot, .. } => snapshot.clone(),
            DrizzleDefault::Sql(sql) => Value::String(sql.clone()),
        }
    }
}

/// How `schema.ts` declares the default of `column` for `dialect`.
pub fn drizzle_default(dialect: Dialect, column: &Column) -> Option<DrizzleDefault> {
    match dialect {
        Dialect::Postgresql => postgres_default(column),
        Dialect::Sqlite => sqlite_default(column),
    }
}

fn postgres_default(column: &Column) -> Option<DrizzleDefault> {
    let value = match column.default.as_ref()? {
        ColumnDefault::Sql(sql) => return Some(DrizzleDefault::Sql(sql.clone())),
        ColumnDefault::Value(value) => value,
    };
    let ours = postgres::literal_sql(&column.ty, value);
    let as_sql = || Some(DrizzleDefault::Sql(ours.clone()));
    let ty: &ColumnType = &column.ty;
    if ty.is_array() {
        if matches!(ty.scalar, ScalarType::Json | ScalarType::Jsonb | ScalarType::Vector { .. } | ScalarType::Custom { .. })
            || ty.scalar.family() == TypeFamily::Temporal
            || format!("'{}'", drizzle_array_string(value)) != ours
        {
            return as_sql();
        }
        return Some(DrizzleDefault::Literal { ts: js::literal(value), snapshot: Value::String(ours) });
    }
    match (ty.scalar.family(), value) {
        (TypeFamily::Json, v) => {
            let text = js::stringify(v);
            if text.contains('\'') || js::reorders(v) {
                return as_sql();
            }
            Some(DrizzleDefault::Literal { ts: js::literal(v), snapshot: Value::String(ours) })
        }
        (TypeFamily::Integer, Value::Number(n)) if js::is_safe_integer(n) => {
            Some(DrizzleDefault::Literal { ts: js::number(n), snapshot: Value::Number(n.clone()) })
        }
        (TypeFamily::Float, Value::Number(n)) => {
            let text = js::number(n);
            // drizzle stores the JS number; keep an integral float integral.
            let snapshot = serde_json::from_str::<Value>(&text).unwrap_or_else(|_| Value::Number(n.clone()));
            Some(DrizzleDefault::Literal { ts: text, snapshot })
        }
        (TypeFamily::Decimal, Value::Number(n)) => {
            Some(DrizzleDefault::Literal { ts: js::stringify(&Value::String(js::number(n))), snapshot: Value::String(ours) })
        }
        (TypeFamily::Boolean, Value::Bool(b)) => Some(DrizzleDefault::Literal { ts: b.to_string(), snapshot: Value::Bool(*b) }),
        (TypeFamily::String | TypeFamily::Enum | TypeFamily::Uuid | TypeFamily::Network | TypeFamily::Decimal, Value::String(s)) => {
            Some(DrizzleDefault::Literal { ts: js::stringify(&Value::String(s.clone())), snapshot: Value::String(ours) })
        }
        (TypeFamily::Temporal, Value::String(s)) if matches!(ty.scalar, ScalarType::Interval { .. }) => {
            Some(DrizzleDefault::Literal { ts: js::stringify(&Value::String(s.clone())), snapshot: Value::String(ours) })
        }
        // Dates (a JS string on a date-mode column is not a Date), vectors,
        // custom types, big integers: declared as SQL.
        _ => as_sql(),
    }
}

/// drizzle-kit's SQLite serializer writes a JS string as `'…'` (quotes
/// doubled), an object or array as `'<JSON>'` (quotes not escaped), numbers
/// and booleans as themselves, and `sql` verbatim; SQL expressions therefore
/// carry their parentheses in `schema.ts`.
fn sqlite_default(column: &Column) -> Option<DrizzleDefault> {
    use schemaforge_model::sqlite;
    let value = match column.default.as_ref()? {
        ColumnDefault::Sql(sql) => return Some(DrizzleDefault::Sql(format!("({sql})"))),
        ColumnDefault::Value(value) => value,
    };
    let ours = sqlite::literal(&column.ty, value);
    let as_sql = || Some(DrizzleDefault::Sql(ours.clone()));
    match (column.ty.scalar.family(), value) {
        (TypeFamily::Json, Value::Object(_) | Value::Array(_)) => {
            if js::stringify(value).contains('\'') || js::reorders(value) {
                return as_sql();
            }
            Some(DrizzleDefault::Literal { ts: js::literal(value), snapshot: Value::String(ours) })
        }
        (TypeFamily::Integer, Value::Number(n)) if js::is_safe_integer(n) => {
            Some(DrizzleDefault::Literal { ts: js::number(n), snapshot: Value::Number(n.clone()) })
        }
        (TypeFamily::Float, Value::Number(n)) => {
            let text = js::number(n);
            let snapshot = serde_json::from_str::<Value>(&text).unwrap_or_else(|_| Value::Number(n.clone()));
            Some(DrizzleDefault::Literal { ts: text, snapshot })
        }
        (TypeFamily::Boolean, Value::Bool(b)) => Some(DrizzleDefault::Literal { ts: b.to_string(), snapshot: Value::Bool(*b) }),
        (TypeFamily::String | TypeFamily::Enum | TypeFamily::Uuid, Value::String(s)) => {
            Some(DrizzleDefault::Literal { ts: js::stringify(&Value::String(s.clone())), snapshot: Value::String(ours) })
        }
        // JSON scalars (drizzle would not encode them), numeric (a string in
        // drizzle's default mode), big integers: declared as SQL.
        _ => as_sql(),
    }
}

/// drizzle-kit's `buildArrayString`: what it writes for a JS array default.
fn drizzle_array_string(value: &Value) -> String {
    match value {
        Value::Array(items) => format!("{{{}}}", items.iter().map(drizzle_array_string).collect::<Vec<_>>().join(",")),
        Value::Number(n) => js::number(n),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => format!("\"{s}\""),
        Value::Null => "\"null\"".to_string(),
        Value::Object(_) => format!("\"{}\"", js::stringify(value).replace('"', "\\\"")),
    }
}
