//! The shape of each table's rows as drizzle-orm infers it from `schema.ts`
//! (`$inferSelect` / `$inferInsert`): one description that the plain
//! TypeScript and the Zod generators both render, so every client agrees
//! with the Drizzle one (the oracle tests hold them to `tsc`).

use schemaforge_kit::names::DrizzleNames;
use schemaforge_model::{Column, IdentityKind, ScalarType, Schema, Table};

/// A value's type, with what the definition says about its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// A JavaScript number; `Some((min, max))` for integers.
    Number {
        integer: Option<(i64, i64)>,
    },
    /// Text; `max` characters when the column has a length.
    String {
        max: Option<u32>,
        format: StringFormat,
    },
    Boolean,
    /// `timestamp` columns, read as `Date`.
    Date,
    /// `json`/`jsonb`: any JSON value.
    Unknown,
    /// `bytea`.
    Bytes,
    /// A vector of exactly this many numbers.
    Vector {
        dimensions: u32,
    },
    /// One of these labels.
    Enum(Vec<String>),
    Array(Box<FieldType>),
}

/// What a string holds, where a validator can check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFormat {
    Any,
    Uuid,
    /// `YYYY-MM-DD` (`date` columns, read as strings).
    IsoDate,
    /// A decimal number (`numeric`, read as a string to keep its digits).
    Decimal,
}

/// Whether an insert must, may or cannot give the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    Required,
    Optional,
    /// Generated columns and identities `ALWAYS`: the database writes them.
    Excluded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The key drizzle gives the column (`createdAt` for `created_at`).
    pub key: String,
    pub column: String,
    pub ty: FieldType,
    pub nullable: bool,
    pub insert: Insert,
    pub comment: Option<String>,
}

/// One table's row shape, under the names `schema.ts` uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The table's export in `schema.ts` (`users`).
    pub export: String,
    /// The select and insert type names (`User`, `NewUser`).
    pub select_type: String,
    pub insert_type: String,
    pub fields: Vec<Field>,
    pub comment: Option<String>,
}

/// Every table's row shape, in definition order.
pub fn rows(schema: &Schema) -> Vec<Row> {
    let names = DrizzleNames::assign(schema);
    schema
        .tables
        .iter()
        .filter_map(|table| {
            let n = names.tables.get(&table.name)?;
            Some(Row {
                export: n.export.clone(),
                select_type: n.select_type.clone(),
                insert_type: n.insert_type.clone(),
                fields: table
                    .columns
                    .iter()
                    .map(|c| field(schema, table, c, n.columns.get(&c.name).cloned().unwrap_or_else(|| c.name.clone())))
                    .collect(),
                comment: table.comment.clone(),
            })
        })
        .collect()
}

fn field(schema: &Schema, table: &Table, column: &Column, key: String) -> Field {
    let mut ty = scalar(schema, &column.ty.scalar);
    for _ in 0..column.ty.array_dimensions {
        ty = FieldType::Array(Box::new(ty));
    }
    let in_primary_key = table.primary_key.as_ref().is_some_and(|pk| pk.columns.contains(&column.name));
    let not_null = column.not_null || in_primary_key;
    let has_default = column.default.is_some() || column.ty.scalar.is_serial() || column.identity.is_some() || column.generated.is_some();
    let insert = if column.generated.is_some() || column.identity.as_ref().is_some_and(|i| i.kind == IdentityKind::Always) {
        Insert::Excluded
    } else if not_null && !has_default {
        Insert::Required
    } else {
        Insert::Optional
    };
    Field { key, column: column.name.clone(), ty, nullable: !not_null, insert, comment: column.comment.clone() }
}

fn scalar(schema: &Schema, scalar: &ScalarType) -> FieldType {
    let int = |min: i64, max: i64| FieldType::Number { integer: Some((min, max)) };
    // drizzle's `bigint({ mode: "number" })`: only safe integers survive.
    let safe = 9_007_199_254_740_991;
    match scalar {
        ScalarType::SmallInt | ScalarType::SmallSerial => int(i64::from(i16::MIN), i64::from(i16::MAX)),
        ScalarType::Integer | ScalarType::Serial => int(i64::from(i32::MIN), i64::from(i32::MAX)),
        ScalarType::BigInt | ScalarType::BigSerial => int(-safe, safe),
        ScalarType::Real | ScalarType::DoublePrecision => FieldType::Number { integer: None },
        ScalarType::Boolean => FieldType::Boolean,
        ScalarType::Text | ScalarType::Inet | ScalarType::Cidr | ScalarType::MacAddr | ScalarType::Custom { .. } => {
            FieldType::String { max: None, format: StringFormat::Any }
        }
        ScalarType::Time { .. } | ScalarType::Interval { .. } => FieldType::String { max: None, format: StringFormat::Any },
        ScalarType::Varchar { length } | ScalarType::Char { length } => FieldType::String { max: *length, format: StringFormat::Any },
        ScalarType::Numeric { .. } => FieldType::String { max: None, format: StringFormat::Decimal },
        ScalarType::Uuid => FieldType::String { max: None, format: StringFormat::Uuid },
        ScalarType::Date => FieldType::String { max: None, format: StringFormat::IsoDate },
        ScalarType::Timestamp { .. } => FieldType::Date,
        ScalarType::Json | ScalarType::Jsonb => FieldType::Unknown,
        ScalarType::Bytea => FieldType::Bytes,
        ScalarType::Vector { dimensions } => FieldType::Vector { dimensions: *dimensions },
        ScalarType::Enum(name) => FieldType::Enum(schema.enum_type(name).map(|e| e.values.clone()).unwrap_or_default()),
    }
}
