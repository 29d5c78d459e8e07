//! Column types: parameters checked against the type and resolved into the model.

use schemaforge_fragment as fragment;
use schemaforge_model::{ColumnType, QualifiedName, ScalarType};

use super::{Lowerer, split_qualified};
use crate::diagnostic::{Code, Diagnostic, Pointer};
use crate::document::{ColumnDef, TypeName};
use crate::suggest;

/// Longest `varchar`/`char` PostgreSQL accepts.
const MAX_LENGTH: u32 = 10_485_760;
/// Largest `numeric` precision PostgreSQL accepts.
const MAX_NUMERIC_PRECISION: u32 = 1000;
/// Largest fractional-seconds precision of `time`/`timestamp`/`interval`.
const MAX_TIME_PRECISION: u32 = 6;
/// Most dimensions pgvector stores.
const MAX_VECTOR_DIMENSIONS: u32 = 16_000;

impl Lowerer {
    pub(super) fn lower_column_type(&mut self, path: &Pointer, column: &ColumnDef) -> Option<ColumnType> {
        let ty = column.ty;
        let type_name = type_name_str(ty);
        let errors_before = self.diagnostics.len();
        let not_applicable = |this: &mut Self, field: &str, present: bool| {
            if present {
                this.push(
                    Diagnostic::new(path.key(field), Code::InvalidTypeParameter, format!("`{field}` does not apply to type `{type_name}`"))
                        .with_hint(format!("remove `{field}`")),
                );
            }
        };
        let takes = |t: &[TypeName]| t.contains(&ty);
        not_applicable(self, "length", column.length.is_some() && !takes(&[TypeName::Varchar, TypeName::Char]));
        not_applicable(
            self,
            "precision",
            column.precision.is_some() && !takes(&[TypeName::Numeric, TypeName::Time, TypeName::Timestamp, TypeName::Interval]),
        );
        not_applicable(self, "scale", column.scale.is_some() && ty != TypeName::Numeric);
        not_applicable(self, "withTimezone", column.with_timezone.is_some() && !takes(&[TypeName::Time, TypeName::Timestamp]));
        not_applicable(self, "dimensions", column.dimensions.is_some() && ty != TypeName::Vector);
        not_applicable(self, "enum", column.enum_name.is_some() && ty != TypeName::Enum);
        not_applicable(self, "sql", column.sql.is_some() && ty != TypeName::Custom);

        let in_range = |this: &mut Self, field: &str, value: Option<u32>, low: u32, high: u32| -> Option<u32> {
            let v = value?;
            if v < low || v > high {
                this.push(Diagnostic::new(
                    path.key(field),
                    Code::InvalidTypeParameter,
                    format!("`{field}` of `{type_name}` must be from {low} to {high}, found {v}"),
                ));
                return None;
            }
            Some(v)
        };

        let scalar = match ty {
            TypeName::Smallint => ScalarType::SmallInt,
            TypeName::Integer => ScalarType::Integer,
            TypeName::Bigint => ScalarType::BigInt,
            TypeName::Serial => ScalarType::Serial,
            TypeName::Smallserial => ScalarType::SmallSerial,
            TypeName::Bigserial => ScalarType::BigSerial,
            TypeName::Boolean => ScalarType::Boolean,
            TypeName::Text => ScalarType::Text,
            TypeName::Varchar => ScalarType::Varchar { length: in_range(self, "length", column.length, 1, MAX_LENGTH) },
            TypeName::Char => ScalarType::Char { length: in_range(self, "length", column.length, 1, MAX_LENGTH) },
            TypeName::Numeric => {
                let precision = in_range(self, "precision", column.precision, 1, MAX_NUMERIC_PRECISION);
                let scale = column.scale;
                match (column.precision, scale) {
                    (None, Some(_)) => {
                        self.push(
                            Diagnostic::new(path.key("scale"), Code::InvalidTypeParameter, "`scale` needs a `precision`")
                                .with_hint("add `precision` (total number of digits)"),
                        );
                    }
                    (Some(p), Some(s)) if s > p => {
                        self.push(
                            Diagnostic::new(
                                path.key("scale"),
                                Code::InvalidTypeParameter,
                                format!("numeric scale {s} is greater than its precision {p}"),
                            )
                            .with_hint("scale counts the digits after the decimal point and must be at most `precision`"),
                        );
                    }
                    _ => {}
                }
                ScalarType::Numeric { precision, scale }
            }
            TypeName::Real => ScalarType::Real,
            TypeName::DoublePrecision => ScalarType::DoublePrecision,
            TypeName::Date => ScalarType::Date,
            TypeName::Time => ScalarType::Time {
                precision: in_range(self, "precision", column.precision, 0, MAX_TIME_PRECISION),
                with_time_zone: column.with_timezone.unwrap_or(false),
            },
            TypeName::Timestamp => ScalarType::Timestamp {
                precision: in_range(self, "precision", column.precision, 0, MAX_TIME_PRECISION),
                with_time_zone: column.with_timezone.unwrap_or(false),
            },
            // drizzle-orm drops a precision of 0 from `interval`, so schema.ts
            // could not say what the database holds: 1 to 6 only.
            TypeName::Interval => ScalarType::Interval { precision: in_range(self, "precision", column.precision, 1, MAX_TIME_PRECISION) },
            TypeName::Json => ScalarType::Json,
            TypeName::Jsonb => ScalarType::Jsonb,
            TypeName::Uuid => ScalarType::Uuid,
            TypeName::Bytea => ScalarType::Bytea,
            TypeName::Inet => ScalarType::Inet,
            TypeName::Cidr => ScalarType::Cidr,
            TypeName::Macaddr => ScalarType::MacAddr,
            TypeName::Vector => match column.dimensions {
                None => {
                    self.push(
                        Diagnostic::new(path, Code::InvalidTypeParameter, "type `vector` needs `dimensions`")
                            .with_hint("add e.g. `\"dimensions\": 1536`"),
                    );
                    ScalarType::Vector { dimensions: 1 }
                }
                Some(d) => ScalarType::Vector { dimensions: in_range(self, "dimensions", Some(d), 1, MAX_VECTOR_DIMENSIONS).unwrap_or(1) },
            },
            TypeName::Enum => match &column.enum_name {
                None => {
                    let hint = (!self.enums.is_empty()).then(|| {
                        format!("declared enums: {}", self.enums.iter().map(|e| format!("`{}`", e.name)).collect::<Vec<_>>().join(", "))
                    });
                    self.push(
                        Diagnostic::new(path, Code::InvalidTypeParameter, "type `enum` needs `enum`: the name of a declared enum")
                            .with_hint_opt(hint),
                    );
                    return None;
                }
                Some(name) => {
                    let (schema, bare) = split_qualified(name);
                    let qualified = QualifiedName::new(schema.map(String::from), bare);
                    if self.enum_positions.contains_key(&qualified) {
                        ScalarType::Enum(qualified)
                    } else if self.broken_enums.contains(&qualified) {
                        // The enum itself is broken and already reported.
                        return None;
                    } else {
                        let names: Vec<String> = self.enums.iter().map(|e| e.name.to_string()).collect();
                        let hint = suggest::did_you_mean(name, names.iter().map(String::as_str))
                            .unwrap_or_else(|| "declare it in `enums`".to_string());
                        self.push(
                            Diagnostic::new(path.key("enum"), Code::UnknownEnum, format!("enum `{name}` is not declared")).with_hint(hint),
                        );
                        return None;
                    }
                }
            },
            TypeName::Custom => match &column.sql {
                None => {
                    self.push(
                        Diagnostic::new(path, Code::InvalidTypeParameter, "type `custom` needs `sql`: the SQL type name")
                            .with_hint("e.g. `\"sql\": \"tsvector\"`"),
                    );
                    return None;
                }
                Some(sql) => match fragment::check_type_name(self.dialect, sql) {
                    Ok(()) => ScalarType::Custom { sql: sql.trim().to_string() },
                    Err(error) => {
                        self.push(Diagnostic::new(path.key("sql"), fragment_code(&error), format!("custom type: {error}")));
                        return None;
                    }
                },
            },
        };

        let array_dimensions = u8::from(column.array.unwrap_or(false));
        if array_dimensions > 0 && scalar.is_serial() {
            self.push(
                Diagnostic::new(path.key("array"), Code::InvalidTypeParameter, format!("`{type_name}` cannot be an array"))
                    .with_hint("use an array of `integer` instead"),
            );
        }
        (self.diagnostics.len() == errors_before).then_some(ColumnType { scalar, array_dimensions })
    }
}

pub(super) fn fragment_code(error: &fragment::FragmentError) -> Code {
    match error {
        fragment::FragmentError::Syntax { .. }
        | fragment::FragmentError::NotAcceptedHere { .. }
        | fragment::FragmentError::UnknownFunction { .. } => Code::InvalidSql,
        fragment::FragmentError::Empty
        | fragment::FragmentError::TooLong { .. }
        | fragment::FragmentError::NulCharacter
        | fragment::FragmentError::Comment
        | fragment::FragmentError::Semicolon
        | fragment::FragmentError::NotOneExpression { .. }
        | fragment::FragmentError::NotOneTypeName { .. } => Code::NotAnExpression,
    }
}

pub(crate) fn type_name_str(ty: TypeName) -> &'static str {
    match ty {
        TypeName::Smallint => "smallint",
        TypeName::Integer => "integer",
        TypeName::Bigint => "bigint",
        TypeName::Serial => "serial",
        TypeName::Smallserial => "smallserial",
        TypeName::Bigserial => "bigserial",
        TypeName::Boolean => "boolean",
        TypeName::Text => "text",
        TypeName::Varchar => "varchar",
        TypeName::Char => "char",
        TypeName::Numeric => "numeric",
        TypeName::Real => "real",
        TypeName::DoublePrecision => "doublePrecision",
        TypeName::Date => "date",
        TypeName::Time => "time",
        TypeName::Timestamp => "timestamp",
        TypeName::Interval => "interval",
        TypeName::Json => "json",
        TypeName::Jsonb => "jsonb",
        TypeName::Uuid => "uuid",
        TypeName::Bytea => "bytea",
        TypeName::Inet => "inet",
        TypeName::Cidr => "cidr",
        TypeName::Macaddr => "macaddr",
        TypeName::Vector => "vector",
        TypeName::Enum => "enum",
        TypeName::Custom => "custom",
    }
}
