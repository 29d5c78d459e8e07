//! The schema model: a validated, fully resolved description of a database schema.
//!
//! Everything here is plain data. A `Schema` is only ever built by lowering a
//! definition that passed validation (`schemaforge-spec`) or, later, by
//! introspecting a database; consumers may therefore rely on the invariants listed
//! on each type (names resolved, defaults filled in, references pointing at
//! existing tables) instead of re-checking them.

pub mod js;
pub mod names;
pub mod sqlite;
mod types;

use std::collections::BTreeMap;

pub use types::{ColumnType, ScalarType, TypeFamily};

/// The SQL dialect a schema targets. Every dialect-specific behaviour matches on
/// this enum exhaustively so that adding a dialect breaks the build wherever a
/// decision has to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dialect {
    Postgresql,
    /// The embedded default: bundled SQLite, no server.
    Sqlite,
}

impl Dialect {
    /// The name used in definitions, drizzle-kit journals and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Postgresql => "postgresql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// The dialect a definition, journal or URL names.
    pub fn from_name(name: &str) -> Option<Dialect> {
        [Dialect::Postgresql, Dialect::Sqlite].into_iter().find(|d| d.as_str() == name)
    }
}

/// The schema (namespace) that objects without an explicit schema live in.
pub const DEFAULT_NAMESPACE: &str = "public";

/// A possibly schema-qualified object name. `schema == None` means the default
/// namespace (`public` on PostgreSQL); it is kept distinct from `Some("public")`
/// only by construction: lowering always normalises `public` to `None`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualifiedName {
    pub schema: Option<String>,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: Option<String>, name: impl Into<String>) -> Self {
        let schema = schema.filter(|s| s != DEFAULT_NAMESPACE);
        QualifiedName { schema, name: name.into() }
    }

    pub fn unqualified(name: impl Into<String>) -> Self {
        QualifiedName { schema: None, name: name.into() }
    }

    /// The namespace this name lives in, with the default made explicit.
    pub fn namespace(&self) -> &str {
        self.schema.as_deref().unwrap_or(DEFAULT_NAMESPACE)
    }
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A whole schema. Object lists keep the order of the definition; renderers that
/// need another order (drizzle-kit's, dependency order) sort explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    pub dialect: Dialect,
    /// Namespaces to create, in definition order, never containing `public`.
    pub namespaces: Vec<String>,
    pub extensions: Vec<Extension>,
    pub roles: Vec<Role>,
    pub enums: Vec<Enum>,
    pub tables: Vec<Table>,
    pub custom_sql: CustomSql,
}

impl Schema {
    pub fn empty(dialect: Dialect) -> Self {
        Schema {
            dialect,
            namespaces: Vec::new(),
            extensions: Vec::new(),
            roles: Vec::new(),
            enums: Vec::new(),
            tables: Vec::new(),
            custom_sql: CustomSql::default(),
        }
    }

    pub fn table(&self, name: &QualifiedName) -> Option<&Table> {
        self.tables.iter().find(|t| &t.name == name)
    }

    pub fn enum_type(&self, name: &QualifiedName) -> Option<&Enum> {
        self.enums.iter().find(|e| &e.name == name)
    }
}

/// A PostgreSQL extension the schema needs (`CREATE EXTENSION IF NOT EXISTS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    /// Schema to install the extension's objects into; `None` lets the server choose.
    pub schema: Option<String>,
}

/// A database role. `existing` roles are referenced (by policies) but never
/// created or dropped: they belong to the platform (e.g. Supabase's `anon`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub existing: bool,
    pub create_db: bool,
    pub create_role: bool,
    pub inherit: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enum {
    pub name: QualifiedName,
    /// Distinct labels, in declaration order (the order PostgreSQL sorts by).
    pub values: Vec<String>,
    /// Declared value renames: new label → previous label. Every key is one of
    /// `values`; no previous label is.
    pub renamed_values: BTreeMap<String, String>,
}

/// SQL run verbatim around a migration: `before` first, `after` last. Each is
/// the list of complete statements the definition's script parsed into (text
/// without the terminating `;`); empty when the definition has none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomSql {
    pub before: Vec<String>,
    pub after: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: QualifiedName,
    /// The table's previous name, when the definition declares a rename.
    pub renamed_from: Option<String>,
    pub comment: Option<String>,
    pub columns: Vec<Column>,
    pub primary_key: Option<PrimaryKey>,
    pub uniques: Vec<Unique>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<Index>,
    pub checks: Vec<Check>,
    /// Row-level security enabled (also implied by having policies).
    pub rls: bool,
    pub policies: Vec<Policy>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// True when the primary key was declared on a single column with the
    /// server's default name (`<table>_pkey`), i.e. `PRIMARY KEY` inline.
    pub fn primary_key_is_inline(&self) -> bool {
        self.primary_key.as_ref().is_some_and(|pk| pk.columns.len() == 1 && pk.name == names::inline_primary_key(&self.name.name))
    }

    /// Whether row-level security ends up enabled on the table.
    pub fn rls_enabled(&self) -> bool {
        self.rls || !self.policies.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    /// Resolved nullability: primary-key, serial and identity columns are always
    /// `true` here, as they are in the database.
    pub not_null: bool,
    pub default: Option<ColumnDefault>,
    pub identity: Option<Identity>,
    pub generated: Option<Generated>,
    pub renamed_from: Option<String>,
    pub comment: Option<String>,
}

/// A column default, already checked against the column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnDefault {
    /// A JSON literal of the column's type (`"draft"`, `0`, `false`, `{}`, `[]`).
    Value(serde_json::Value),
    /// One SQL expression, parsed and accepted by the dialect's grammar.
    Sql(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdentityKind {
    Always,
    ByDefault,
}

/// `GENERATED … AS IDENTITY` with every sequence option resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub kind: IdentityKind,
    pub sequence_name: String,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub start_with: i64,
    pub cache: i64,
    pub cycle: bool,
}

/// `GENERATED ALWAYS AS (sql) STORED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub sql: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryKey {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unique {
    pub name: String,
    pub columns: Vec<String>,
    pub nulls_not_distinct: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReferentialAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl ReferentialAction {
    /// The SQL spelling, lower-case as drizzle-kit writes it.
    pub fn as_sql(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "no action",
            ReferentialAction::Restrict => "restrict",
            ReferentialAction::Cascade => "cascade",
            ReferentialAction::SetNull => "set null",
            ReferentialAction::SetDefault => "set default",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub referenced_table: QualifiedName,
    pub referenced_columns: Vec<String>,
    pub on_delete: ReferentialAction,
    pub on_update: ReferentialAction,
    /// Declared with `references` on a single column (drizzle's `.references()`),
    /// rather than in the table's `foreignKeys`.
    pub declared_on_column: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NullsOrder {
    First,
    Last,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexKey {
    Column(String),
    /// One SQL expression over the table's columns.
    Expression(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexElement {
    pub key: IndexKey,
    pub order: SortOrder,
    /// Resolved: when the definition is silent this is PostgreSQL's default
    /// (`First` for descending, `Last` for ascending).
    pub nulls: NullsOrder,
    pub opclass: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// Access method, lower-case (`btree`, `gin`, `gist`, `hash`, `brin`, `hnsw`, …).
    pub method: String,
    pub elements: Vec<IndexElement>,
    /// Partial-index predicate: one SQL expression.
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub expression: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyKind {
    Permissive,
    Restrictive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyCommand {
    All,
    Select,
    Insert,
    Update,
    Delete,
}

impl PolicyCommand {
    pub fn as_sql(self) -> &'static str {
        match self {
            PolicyCommand::All => "ALL",
            PolicyCommand::Select => "SELECT",
            PolicyCommand::Insert => "INSERT",
            PolicyCommand::Update => "UPDATE",
            PolicyCommand::Delete => "DELETE",
        }
    }
}

impl PolicyKind {
    pub fn as_sql(self) -> &'static str {
        match self {
            PolicyKind::Permissive => "PERMISSIVE",
            PolicyKind::Restrictive => "RESTRICTIVE",
        }
    }
}

/// Role names a policy may name without declaring them: PostgreSQL's keywords.
pub const BUILTIN_POLICY_ROLES: [&str; 4] = ["public", "current_user", "current_role", "session_user"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub kind: PolicyKind,
    pub command: PolicyCommand,
    /// Role names, sorted and de-duplicated; `["public"]` when the definition is silent.
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}
