//! The definition format v1 as Rust types: the single source of its JSON Schema.
//!
//! These types describe the *shape* of a definition only. Whether names resolve,
//! defaults fit their columns or SQL parses is decided in `lower`, which reports
//! every problem with a JSON pointer. Field docs become the JSON Schema's
//! descriptions, which editors show on hover, so they are written for users.

use schemars::JsonSchema;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, IntoDeserializer};
use serde::{Deserialize, Serialize};

use crate::typed::{ByJsonType, deserialize_by_json_type};

/// A schemaforge definition: a declarative description of a relational schema.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "schemaforge definition (v1)")]
pub struct Definition {
    /// URL or path of this JSON Schema, for editors; ignored by schemaforge.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<String>,
    /// Target SQL dialect. Defaults to `postgresql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialect: Option<DialectName>,
    /// PostgreSQL schemas (namespaces) to create. `public` always exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// PostgreSQL extensions the schema needs, e.g. `"pgcrypto"` or `{"name": "vector", "schema": "extensions"}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<ExtensionDef>,
    /// Database roles. `existing: true` marks a role that policies name but that schemaforge never creates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleDef>,
    /// Enumerated types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<EnumDef>,
    /// Tables.
    #[serde(default)]
    pub tables: Vec<TableDef>,
    /// SQL run verbatim before and after each migration (functions, grants, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<CustomSqlDef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DialectName {
    Postgresql,
    Sqlite,
    Mysql,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ExtensionDef {
    /// The extension's name, installed where the server chooses.
    Name(String),
    Spec(ExtensionSpec),
}

impl ByJsonType for ExtensionDef {
    const EXPECTING: &'static str = "an extension name or an object with `name` and `schema`";

    fn from_str<E: de::Error>(v: &str) -> Option<Result<Self, E>> {
        Some(Ok(ExtensionDef::Name(v.to_owned())))
    }
    fn from_map<'de, A: de::MapAccess<'de>>(map: A) -> Option<Result<Self, A::Error>> {
        Some(ExtensionSpec::deserialize(MapAccessDeserializer::new(map)).map(ExtensionDef::Spec))
    }
}

impl<'de> Deserialize<'de> for ExtensionDef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_by_json_type(deserializer)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionSpec {
    pub name: String,
    /// Schema to install the extension into (`CREATE EXTENSION … SCHEMA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RoleDef {
    pub name: String,
    /// The role already exists (created by the platform): reference it, never create or drop it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub existing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_db: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_role: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherit: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnumDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The labels, in sort order.
    pub values: Vec<String>,
    /// Values renamed since the previous version: each new label mapped to the
    /// label it had (`{"live": "published"}`). Rows keep their value under the
    /// new label; without this a changed label is a removal plus an addition.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty", deserialize_with = "crate::json::unique_keys")]
    pub renamed_values: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomSqlDef {
    /// Statements run at the start of every migration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Statements run at the end of every migration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TableDef {
    pub name: String,
    /// PostgreSQL schema; `public` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The table's previous name: the migration renames it instead of dropping and creating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub columns: Vec<ColumnDef>,
    /// Composite primary key: column names, or `{"name", "columns"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKeyDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<UniqueDef>,
    /// Table-level (composite or named) foreign keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKeyDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<IndexDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckDef>,
    /// Enable row-level security (implied by `policies`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rls: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyDef>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ColumnDef {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: TypeName,
    /// `varchar` / `char` length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    /// `numeric` precision, or fractional-second digits of `time` / `timestamp` / `interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<u32>,
    /// `numeric` scale (at most `precision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    /// `time` / `timestamp` with time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_timezone: Option<bool>,
    /// `vector` dimensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// Name of the enum (`"status"` or `"schema.status"`) for `type: "enum"`.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub enum_name: Option<String>,
    /// An array of the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array: Option<bool>,
    /// The SQL type name for `type: "custom"`, e.g. `"tsvector"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_null: Option<bool>,
    /// A literal of the column's type (`"draft"`, `0`, `false`, `{}`, `[]`), `{"sql": "…"}` for an
    /// SQL expression, or one of `CURRENT_TIMESTAMP`, `CURRENT_DATE`, `CURRENT_TIME`, `LOCALTIMESTAMP`
    /// on a date/time column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultDef>,
    /// `always` or `byDefault`, or an object with sequence options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityDef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<GeneratedDef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<ReferenceDef>,
    /// The column's previous name: the migration renames it instead of dropping and adding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Logical column types, mapped to each dialect's own types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TypeName {
    Smallint,
    Integer,
    Bigint,
    Serial,
    Smallserial,
    Bigserial,
    Boolean,
    Text,
    Varchar,
    Char,
    Numeric,
    Real,
    DoublePrecision,
    Date,
    Time,
    Timestamp,
    Interval,
    Json,
    Jsonb,
    Uuid,
    Bytea,
    Inet,
    Cidr,
    Macaddr,
    Vector,
    Enum,
    Custom,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum DefaultDef {
    /// An SQL expression, e.g. `{"sql": "gen_random_uuid()"}`.
    Sql(SqlDefault),
    /// A literal of the column's type.
    Value(serde_json::Value),
}

// Written by hand: serde's untagged derive would also read a one-element
// array `["x"]` as `{"sql": "x"}` (structs accept sequences), turning an
// array literal into SQL. Only an object with exactly a string `sql` is SQL.
// A literal is read strictly: a repeated key in it is an error, not the last one kept.
impl<'de> Deserialize<'de> for DefaultDef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let crate::json::StrictValue(value) = crate::json::StrictValue::deserialize(deserializer)?;
        match &value {
            serde_json::Value::Object(map) if map.len() == 1 => match map.get("sql") {
                Some(serde_json::Value::String(sql)) => Ok(DefaultDef::Sql(SqlDefault { sql: sql.clone() })),
                _ => Ok(DefaultDef::Value(value)),
            },
            _ => Ok(DefaultDef::Value(value)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlDefault {
    pub sql: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum IdentityDef {
    Kind(IdentityKindName),
    Spec(IdentitySpec),
}

impl ByJsonType for IdentityDef {
    const EXPECTING: &'static str = "`always`, `byDefault` or an object with `kind` and sequence options";

    fn from_str<E: de::Error>(v: &str) -> Option<Result<Self, E>> {
        Some(IdentityKindName::deserialize(v.into_deserializer()).map(IdentityDef::Kind))
    }
    fn from_map<'de, A: de::MapAccess<'de>>(map: A) -> Option<Result<Self, A::Error>> {
        Some(IdentitySpec::deserialize(MapAccessDeserializer::new(map)).map(IdentityDef::Spec))
    }
}

impl<'de> Deserialize<'de> for IdentityDef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_by_json_type(deserializer)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum IdentityKindName {
    /// `GENERATED ALWAYS AS IDENTITY`: inserts may not supply a value.
    Always,
    /// `GENERATED BY DEFAULT AS IDENTITY`: inserts may supply a value.
    ByDefault,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdentitySpec {
    pub kind: IdentityKindName,
    /// Name of the backing sequence; `<table>_<column>_seq` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub increment: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeneratedDef {
    /// The SQL expression computing the column.
    pub sql: String,
    /// Stored (computed on write). PostgreSQL before 18 supports only stored generated columns.
    #[serde(default = "default_true")]
    pub stored: bool,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReferenceDef {
    pub table: String,
    /// Schema of the referenced table; `public` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub column: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<ReferentialActionName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<ReferentialActionName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum ReferentialActionName {
    #[serde(rename = "no action")]
    NoAction,
    #[serde(rename = "restrict")]
    Restrict,
    #[serde(rename = "cascade")]
    Cascade,
    #[serde(rename = "set null")]
    SetNull,
    #[serde(rename = "set default")]
    SetDefault,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PrimaryKeyDef {
    Columns(Vec<String>),
    Named(NamedPrimaryKey),
}

impl ByJsonType for PrimaryKeyDef {
    const EXPECTING: &'static str = "an array of column names or an object with `name` and `columns`";

    fn from_seq<'de, A: de::SeqAccess<'de>>(seq: A) -> Option<Result<Self, A::Error>> {
        Some(Vec::<String>::deserialize(SeqAccessDeserializer::new(seq)).map(PrimaryKeyDef::Columns))
    }
    fn from_map<'de, A: de::MapAccess<'de>>(map: A) -> Option<Result<Self, A::Error>> {
        Some(NamedPrimaryKey::deserialize(MapAccessDeserializer::new(map)).map(PrimaryKeyDef::Named))
    }
}

impl<'de> Deserialize<'de> for PrimaryKeyDef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_by_json_type(deserializer)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedPrimaryKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UniqueDef {
    /// Constraint name; `<table>_<columns>_unique` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Vec<String>,
    /// Treat NULLs as equal (PostgreSQL 15+).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nulls_not_distinct: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ForeignKeyDef {
    /// Constraint name; `<table>_<columns>_<target>_<columns>_fk` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub references: ForeignKeyTarget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<ReferentialActionName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<ReferentialActionName>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForeignKeyTarget {
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexDef {
    /// Index name; `<table>_<columns>_index` when absent (required for expression indexes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Vec<IndexColumnDef>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    /// Access method: `btree` (default), `hash`, `gin`, `gist`, `spgist`, `brin`, `hnsw`, `ivfflat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// Partial-index predicate (an SQL expression).
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum IndexColumnDef {
    /// A column name.
    Name(String),
    Spec(IndexColumnSpec),
}

impl ByJsonType for IndexColumnDef {
    const EXPECTING: &'static str = "a column name or an object with `column` or `expression`";

    fn from_str<E: de::Error>(v: &str) -> Option<Result<Self, E>> {
        Some(Ok(IndexColumnDef::Name(v.to_owned())))
    }
    fn from_map<'de, A: de::MapAccess<'de>>(map: A) -> Option<Result<Self, A::Error>> {
        Some(IndexColumnSpec::deserialize(MapAccessDeserializer::new(map)).map(IndexColumnDef::Spec))
    }
}

impl<'de> Deserialize<'de> for IndexColumnDef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_by_json_type(deserializer)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexColumnSpec {
    /// A column name (give either `column` or `expression`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// An SQL expression, e.g. `lower(email)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<SortOrderName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nulls: Option<NullsOrderName>,
    /// Operator class, e.g. `vector_cosine_ops`, `gin_trgm_ops`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opclass: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrderName {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NullsOrderName {
    First,
    Last,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckDef {
    pub name: String,
    /// A boolean SQL expression over the table's columns.
    pub expression: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyDef {
    pub name: String,
    /// `permissive` (default) or `restrictive`.
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub kind: Option<PolicyKindName>,
    /// Command the policy applies to; `all` when absent.
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub command: Option<PolicyCommandName>,
    /// Roles the policy applies to; `public` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    /// SQL expression rows must satisfy to be visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// SQL expression new rows must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKindName {
    Permissive,
    Restrictive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicyCommandName {
    All,
    Select,
    Insert,
    Update,
    Delete,
}
