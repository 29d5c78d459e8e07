//! Column types: the logical types of the definition format, with their parameters resolved.

use crate::QualifiedName;

/// A column's type: a scalar type, possibly as an array.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnType {
    pub scalar: ScalarType,
    /// Number of array dimensions; `0` for a plain scalar.
    pub array_dimensions: u8,
}

impl ColumnType {
    pub fn scalar(scalar: ScalarType) -> Self {
        ColumnType { scalar, array_dimensions: 0 }
    }

    pub fn is_array(&self) -> bool {
        self.array_dimensions > 0
    }
}

/// The logical scalar types of definition format v1. Parameters are exactly the
/// ones the definition gave: renderers decide what an absent parameter means.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScalarType {
    SmallInt,
    Integer,
    BigInt,
    SmallSerial,
    Serial,
    BigSerial,
    Boolean,
    Text,
    Varchar {
        length: Option<u32>,
    },
    Char {
        length: Option<u32>,
    },
    Numeric {
        precision: Option<u32>,
        scale: Option<u32>,
    },
    Real,
    DoublePrecision,
    Date,
    Time {
        precision: Option<u32>,
        with_time_zone: bool,
    },
    Timestamp {
        precision: Option<u32>,
        with_time_zone: bool,
    },
    Interval {
        precision: Option<u32>,
    },
    Json,
    Jsonb,
    Uuid,
    Bytea,
    Inet,
    Cidr,
    MacAddr,
    Vector {
        dimensions: u32,
    },
    Enum(QualifiedName),
    /// A type the format has no name for, spelled in the dialect's own SQL
    /// (e.g. `tsvector`); parsed as exactly one type name.
    Custom {
        sql: String,
    },
}

/// Broad families used for compatibility questions (foreign keys, defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeFamily {
    Integer,
    Decimal,
    Float,
    Boolean,
    String,
    Temporal,
    Json,
    Uuid,
    Binary,
    Network,
    Vector,
    Enum,
    Custom,
}

impl ScalarType {
    pub fn family(&self) -> TypeFamily {
        match self {
            ScalarType::SmallInt
            | ScalarType::Integer
            | ScalarType::BigInt
            | ScalarType::SmallSerial
            | ScalarType::Serial
            | ScalarType::BigSerial => TypeFamily::Integer,
            ScalarType::Numeric { .. } => TypeFamily::Decimal,
            ScalarType::Real | ScalarType::DoublePrecision => TypeFamily::Float,
            ScalarType::Boolean => TypeFamily::Boolean,
            ScalarType::Text | ScalarType::Varchar { .. } | ScalarType::Char { .. } => TypeFamily::String,
            ScalarType::Date | ScalarType::Time { .. } | ScalarType::Timestamp { .. } | ScalarType::Interval { .. } => TypeFamily::Temporal,
            ScalarType::Json | ScalarType::Jsonb => TypeFamily::Json,
            ScalarType::Uuid => TypeFamily::Uuid,
            ScalarType::Bytea => TypeFamily::Binary,
            ScalarType::Inet | ScalarType::Cidr | ScalarType::MacAddr => TypeFamily::Network,
            ScalarType::Vector { .. } => TypeFamily::Vector,
            ScalarType::Enum(_) => TypeFamily::Enum,
            ScalarType::Custom { .. } => TypeFamily::Custom,
        }
    }

    /// `serial`, `smallserial`, `bigserial`: an integer with an owned sequence default.
    pub fn is_serial(&self) -> bool {
        matches!(self, ScalarType::SmallSerial | ScalarType::Serial | ScalarType::BigSerial)
    }

    /// The type a column holds once created: serials are plain integers with a
    /// sequence default, so a foreign key to a `serial` column is an `integer`.
    pub fn storage_type(&self) -> ScalarType {
        match self {
            ScalarType::SmallSerial => ScalarType::SmallInt,
            ScalarType::Serial => ScalarType::Integer,
            ScalarType::BigSerial => ScalarType::BigInt,
            other => other.clone(),
        }
    }

    /// Inclusive value range of the integer types, used for defaults and identity.
    pub fn integer_range(&self) -> Option<(i64, i64)> {
        match self.storage_type() {
            ScalarType::SmallInt => Some((i16::MIN as i64, i16::MAX as i64)),
            ScalarType::Integer => Some((i32::MIN as i64, i32::MAX as i64)),
            ScalarType::BigInt => Some((i64::MIN, i64::MAX)),
            _ => None,
        }
    }
}
