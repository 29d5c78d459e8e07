//! Lowering: a shape-checked `Definition` becomes a `model::Schema`, or a list of
//! every semantic problem found on the way.
//!
//! Lowering runs in passes so each check sees what it needs: top-level objects
//! (schemas, roles, enums), then each table on its own (columns, keys, indexes,
//! checks, policies), then what crosses tables (foreign keys), then names that
//! must be unique per schema (relations, types). A failed object is left out of
//! later passes instead of producing follow-on errors about it.

mod defaults;
mod indexes;
mod keys;
pub(crate) mod names;
mod policies;
mod types;

use std::collections::{BTreeMap, BTreeSet};

use schemaforge_fragment::{self as fragment, ExpressionSlot};
use schemaforge_model::{
    Check, Column, CustomSql, Dialect, Enum, Extension, Generated, Identity, IdentityKind, QualifiedName, Role, ScalarType, Schema, Table,
};

use crate::diagnostic::{Code, Diagnostic, Pointer};
use crate::document::{ColumnDef, Definition, DialectName, ExtensionDef, IdentityDef, IdentityKindName, TableDef};
use crate::suggest;

pub use defaults::SQL_KEYWORD_DEFAULTS;

/// Lowers a definition, returning the schema only when there is no diagnostic.
/// Entities at the `skipped` pointers were already reported (they are
/// placeholders from error recovery): they and references to them are skipped
/// silently.
pub fn lower(definition: &Definition, skipped: &BTreeSet<String>) -> Result<Schema, Vec<Diagnostic>> {
    let mut lowerer = Lowerer { skipped: skipped.clone(), ..Lowerer::default() };
    let schema = lowerer.definition(definition);
    if lowerer.diagnostics.is_empty() { Ok(schema) } else { Err(lowerer.diagnostics) }
}

#[derive(Default)]
pub(crate) struct Lowerer {
    diagnostics: Vec<Diagnostic>,
    namespaces: BTreeSet<String>,
    roles: BTreeSet<String>,
    enums: Vec<Enum>,
    /// Tables and columns that failed to lower (already reported): references
    /// to them are skipped silently instead of reported a second time.
    broken_tables: BTreeSet<String>,
    broken_columns: BTreeSet<(String, String)>,
    broken_enums: BTreeSet<String>,
    skipped: BTreeSet<String>,
}

/// A table lowered on its own, waiting for the cross-table pass.
struct PendingTable<'d> {
    index: usize,
    def: &'d TableDef,
    table: Table,
}

impl Lowerer {
    fn skipped(&self, path: &Pointer) -> bool {
        self.skipped.contains(path.as_str())
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn identifier(&mut self, path: &Pointer, name: &str, what: &str) -> bool {
        match names::check_identifier(path, name, what) {
            Some(d) => {
                self.push(d);
                false
            }
            None => true,
        }
    }

    fn derived_name(&mut self, path: &Pointer, name: &str, what: &str, hint: &str) -> bool {
        match names::check_length(path, name, what) {
            Some(d) => {
                self.push(d.with_hint(hint));
                false
            }
            None => true,
        }
    }

    fn expression(&mut self, path: &Pointer, slot: ExpressionSlot, sql: &str) -> Option<String> {
        match fragment::check_expression(Dialect::Postgresql, slot, sql) {
            Ok(()) => Some(sql.trim().to_string()),
            Err(error) => {
                let capitalised = {
                    let d = slot.describe();
                    d.strip_prefix("a ").or_else(|| d.strip_prefix("an ")).unwrap_or(d).to_string()
                };
                self.push(Diagnostic::new(path, types::fragment_code(&error), format!("{capitalised}: {error}")));
                None
            }
        }
    }

    fn definition(&mut self, definition: &Definition) -> Schema {
        let root = Pointer::root();
        if let Some(dialect @ (DialectName::Sqlite | DialectName::Mysql)) = definition.dialect {
            let name = match dialect {
                DialectName::Sqlite => "sqlite",
                DialectName::Mysql => "mysql",
                DialectName::Postgresql => "postgresql",
            };
            self.push(
                Diagnostic::new(
                    root.key("dialect"),
                    Code::UnsupportedDialect,
                    format!("dialect `{name}` is not supported by this version"),
                )
                .with_hint("use `postgresql` (the default)"),
            );
        }

        let namespaces = self.namespaces(definition, &root);
        let extensions = self.extensions(definition, &root);
        let roles = self.roles(definition, &root);
        self.enums(definition, &root);
        let custom_sql = self.custom_sql(definition, &root);

        let tables_path = root.key("tables");
        let mut pending = Vec::new();
        let mut seen_tables: BTreeMap<QualifiedName, usize> = BTreeMap::new();
        for (index, def) in definition.tables.iter().enumerate() {
            let path = tables_path.index(index);
            if self.skipped(&path) {
                self.broken_tables.insert(def.name.clone());
                continue;
            }
            let Some(table) = self.table(&path, def) else { continue };
            if let Some(first) = seen_tables.insert(table.name.clone(), index) {
                self.push(
                    Diagnostic::new(path.key("name"), Code::DuplicateTable, format!("table `{}` is declared twice", table.name))
                        .with_hint(format!("the first declaration is /tables/{first}")),
                );
                continue;
            }
            pending.push(PendingTable { index, def, table });
        }
        self.renamed_tables(&pending, &tables_path);
        self.foreign_keys(&mut pending, &tables_path);
        let tables: Vec<Table> = pending.into_iter().map(|p| p.table).collect();
        self.schema_wide_names(&tables, &tables_path);

        Schema { dialect: Dialect::Postgresql, namespaces, extensions, roles, enums: std::mem::take(&mut self.enums), tables, custom_sql }
    }

    fn namespaces(&mut self, definition: &Definition, root: &Pointer) -> Vec<String> {
        let mut namespaces = Vec::new();
        for (i, name) in definition.schemas.iter().enumerate() {
            let path = root.key("schemas").index(i);
            if self.skipped(&path) {
                continue;
            }
            if !self.identifier(&path, name, "schema name") {
                continue;
            }
            if name == schemaforge_model::DEFAULT_NAMESPACE {
                self.push(Diagnostic::new(&path, Code::InvalidValue, "`public` always exists and is not declared").with_hint("remove it"));
                continue;
            }
            if name.starts_with("pg_") {
                self.push(Diagnostic::new(
                    &path,
                    Code::InvalidIdentifier,
                    format!("schema name `{name}` starts with `pg_`, which PostgreSQL reserves"),
                ));
                continue;
            }
            if !self.namespaces.insert(name.clone()) {
                self.push(Diagnostic::new(&path, Code::DuplicateName, format!("schema `{name}` is listed twice")));
                continue;
            }
            namespaces.push(name.clone());
        }
        namespaces
    }

    fn extensions(&mut self, definition: &Definition, root: &Pointer) -> Vec<Extension> {
        let mut extensions: Vec<Extension> = Vec::new();
        for (i, def) in definition.extensions.iter().enumerate() {
            let path = root.key("extensions").index(i);
            if self.skipped(&path) {
                continue;
            }
            let (name, schema, name_path) = match def {
                ExtensionDef::Name(name) => (name, None, path.clone()),
                ExtensionDef::Spec(spec) => (&spec.name, spec.schema.as_ref(), path.key("name")),
            };
            if let Some(d) = names::check_extension_name(&name_path, name) {
                self.push(d);
                continue;
            }
            if let Some(schema) = schema
                && !self.identifier(&path.key("schema"), schema, "schema name")
            {
                continue;
            }
            if extensions.iter().any(|e| &e.name == name) {
                self.push(Diagnostic::new(&name_path, Code::DuplicateName, format!("extension `{name}` is listed twice")));
                continue;
            }
            extensions.push(Extension { name: name.clone(), schema: schema.cloned() });
        }
        extensions
    }

    fn roles(&mut self, definition: &Definition, root: &Pointer) -> Vec<Role> {
        let mut roles = Vec::new();
        for (i, def) in definition.roles.iter().enumerate() {
            let path = root.key("roles").index(i);
            if self.skipped(&path) {
                // Policies naming it are not to be reported as unknown.
                self.roles.insert(def.name.clone());
                continue;
            }
            if !self.identifier(&path.key("name"), &def.name, "role name") {
                continue;
            }
            if def.name.starts_with("pg_") || schemaforge_model::BUILTIN_POLICY_ROLES.contains(&def.name.as_str()) {
                self.push(Diagnostic::new(
                    path.key("name"),
                    Code::InvalidIdentifier,
                    format!("role name `{}` is reserved by PostgreSQL", def.name),
                ));
                continue;
            }
            if def.existing && (def.create_db.is_some() || def.create_role.is_some() || def.inherit.is_some()) {
                self.push(
                    Diagnostic::new(
                        &path,
                        Code::ConflictingOptions,
                        format!("role `{}` is `existing`, so its options are not ours to set", def.name),
                    )
                    .with_hint("remove `createDb` / `createRole` / `inherit`, or drop `existing`"),
                );
            }
            if !self.roles.insert(def.name.clone()) {
                self.push(Diagnostic::new(path.key("name"), Code::DuplicateName, format!("role `{}` is declared twice", def.name)));
                continue;
            }
            roles.push(Role {
                name: def.name.clone(),
                existing: def.existing,
                create_db: def.create_db.unwrap_or(false),
                create_role: def.create_role.unwrap_or(false),
                inherit: def.inherit.unwrap_or(true),
            });
        }
        roles
    }

    fn enums(&mut self, definition: &Definition, root: &Pointer) {
        for (i, def) in definition.enums.iter().enumerate() {
            let path = root.key("enums").index(i);
            if self.skipped(&path) || !self.identifier(&path.key("name"), &def.name, "enum name") {
                self.broken_enums.insert(def.name.clone());
                continue;
            }
            let Some(schema) = self.schema_of(&path.key("schema"), def.schema.as_deref()) else { continue };
            let name = QualifiedName::new(schema, def.name.clone());
            if self.enums.iter().any(|e| e.name == name) {
                self.push(Diagnostic::new(path.key("name"), Code::DuplicateEnum, format!("enum `{name}` is declared twice")));
                continue;
            }
            if def.values.is_empty() {
                self.broken_enums.insert(def.name.clone());
                self.push(
                    Diagnostic::new(path.key("values"), Code::InvalidValue, format!("enum `{name}` has no values"))
                        .with_hint("list at least one value"),
                );
                continue;
            }
            let mut ok = true;
            for (j, value) in def.values.iter().enumerate() {
                let value_path = path.key("values").index(j);
                if value.is_empty() || value.len() > names::MAX_IDENTIFIER_BYTES || value.contains('\0') {
                    ok = false;
                    self.push(Diagnostic::new(&value_path, Code::InvalidValue, format!("enum value `{value}` must be 1 to 63 bytes")));
                } else if let Some(first) = def.values[..j].iter().position(|v| v == value) {
                    ok = false;
                    self.push(
                        Diagnostic::new(&value_path, Code::DuplicateEnumValue, format!("enum `{name}` lists `{value}` twice"))
                            .with_hint(format!("remove one; the first is /enums/{i}/values/{first}")),
                    );
                }
            }
            if ok {
                self.enums.push(Enum { name, values: def.values.clone() });
            } else {
                self.broken_enums.insert(def.name.clone());
            }
        }
    }

    fn custom_sql(&mut self, definition: &Definition, root: &Pointer) -> CustomSql {
        let Some(sql) = &definition.sql else { return CustomSql::default() };
        let check = |this: &mut Self, key: &str, script: &Option<String>| -> Option<String> {
            let script = script.as_ref()?;
            match fragment::split_script(Dialect::Postgresql, script) {
                Ok(_) => Some(script.clone()),
                Err(error) => {
                    this.push(Diagnostic::new(root.key("sql").key(key), Code::InvalidSql, format!("`sql.{key}`: {error}")));
                    None
                }
            }
        };
        CustomSql { before: check(self, "before", &sql.before), after: check(self, "after", &sql.after) }
    }

    /// Whether `column` of `table` failed to lower and was already reported.
    fn is_broken(&self, table: &str, column: &str) -> bool {
        self.broken_tables.contains(table) || self.broken_columns.contains(&(table.to_string(), column.to_string()))
    }

    /// Resolves an optional schema name: `None`/`public` is the default namespace;
    /// anything else must be declared in `schemas`.
    fn schema_of(&mut self, path: &Pointer, schema: Option<&str>) -> Option<Option<String>> {
        match schema {
            None => Some(None),
            Some(s) if s == schemaforge_model::DEFAULT_NAMESPACE => Some(None),
            Some(s) => {
                if !self.identifier(path, s, "schema name") {
                    return None;
                }
                if !self.namespaces.contains(s) {
                    let hint = suggest::did_you_mean(s, self.namespaces.iter().map(String::as_str))
                        .unwrap_or_else(|| format!("add `\"{s}\"` to the top-level `schemas`"));
                    self.push(Diagnostic::new(path, Code::UnknownSchema, format!("schema `{s}` is not declared")).with_hint(hint));
                    return None;
                }
                Some(Some(s.to_string()))
            }
        }
    }

    fn table(&mut self, path: &Pointer, def: &TableDef) -> Option<Table> {
        let name_ok = self.identifier(&path.key("name"), &def.name, "table name");
        let schema = self.schema_of(&path.key("schema"), def.schema.as_deref());
        if let Some(old) = &def.renamed_from
            && self.identifier(&path.key("renamedFrom"), old, "table name")
            && old == &def.name
        {
            self.push(
                Diagnostic::new(path.key("renamedFrom"), Code::InvalidRename, format!("table `{old}` is renamed from itself"))
                    .with_hint("remove `renamedFrom`"),
            );
        }
        if def.columns.is_empty() {
            self.push(Diagnostic::new(path.key("columns"), Code::MissingField, format!("table `{}` has no columns", def.name)));
        }
        let columns = self.columns(path, def);
        let Some(schema) = schema.filter(|_| name_ok) else {
            self.broken_tables.insert(def.name.clone());
            return None;
        };
        let mut table = Table {
            name: QualifiedName::new(schema, def.name.clone()),
            renamed_from: def.renamed_from.clone(),
            comment: def.comment.clone(),
            columns,
            primary_key: None,
            uniques: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            checks: Vec::new(),
            rls: def.rls,
            policies: Vec::new(),
        };
        self.primary_key(path, def, &mut table);
        self.uniques(path, def, &mut table);
        self.indexes(path, def, &mut table);
        self.checks(path, def, &mut table);
        self.policies(path, def, &mut table);
        Some(table)
    }

    fn columns(&mut self, table_path: &Pointer, def: &TableDef) -> Vec<Column> {
        let mut columns: Vec<Column> = Vec::new();
        let mut first_index: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, column_def) in def.columns.iter().enumerate() {
            let path = table_path.key("columns").index(i);
            if self.skipped(&path) {
                self.broken_columns.insert((def.name.clone(), column_def.name.clone()));
                continue;
            }
            if let Some(first) = first_index.insert(&column_def.name, i) {
                self.push(
                    Diagnostic::new(
                        path.key("name"),
                        Code::DuplicateColumn,
                        format!("column `{}` is declared twice in table `{}`", column_def.name, def.name),
                    )
                    .with_hint(format!("the first declaration is {}", table_path.key("columns").index(first).as_str())),
                );
                continue;
            }
            match self.column(&path, &def.name, column_def) {
                Some(column) => columns.push(column),
                None => {
                    self.broken_columns.insert((def.name.clone(), column_def.name.clone()));
                }
            }
        }
        self.renamed_columns(table_path, def);
        columns
    }

    fn column(&mut self, path: &Pointer, table: &str, def: &ColumnDef) -> Option<Column> {
        let name_ok = self.identifier(&path.key("name"), &def.name, "column name");
        let ty = self.lower_column_type(path, def)?;
        if !name_ok {
            return None;
        }
        let enum_values = match &ty.scalar {
            ScalarType::Enum(name) => self.enums.iter().find(|e| &e.name == name).map(|e| e.values.clone()),
            _ => None,
        };
        let default = match &def.default {
            Some(d) => Some(self.lower_default(&path.key("default"), &ty, d, enum_values.as_deref())?),
            None => None,
        };
        let identity = match &def.identity {
            Some(identity) => Some(self.identity(path, table, def, &ty, identity)?),
            None => None,
        };
        let generated = match &def.generated {
            None => None,
            Some(generated) => {
                let generated_path = path.key("generated");
                if !generated.stored {
                    self.push(
                        Diagnostic::new(generated_path.key("stored"), Code::NotSupported, "virtual generated columns need PostgreSQL 18")
                            .with_hint("use `\"stored\": true`"),
                    );
                    return None;
                }
                Some(Generated { sql: self.expression(&generated_path.key("sql"), ExpressionSlot::GeneratedColumn, &generated.sql)? })
            }
        };
        let conflicts: [(bool, &str, &str); 4] = [
            (identity.is_some() && default.is_some(), "identity", "a default"),
            (generated.is_some() && default.is_some(), "generated", "a default"),
            (generated.is_some() && identity.is_some(), "generated", "identity"),
            (ty.scalar.is_serial() && def.not_null == Some(false), "serial", "`notNull: false`"),
        ];
        for (conflict, a, b) in conflicts {
            if conflict {
                self.push(Diagnostic::new(path, Code::ConflictingOptions, format!("column `{}` combines {a} with {b}", def.name)));
                return None;
            }
        }
        if def.primary_key == Some(true) && def.not_null == Some(false) {
            self.push(
                Diagnostic::new(
                    path.key("notNull"),
                    Code::ConflictingOptions,
                    format!("primary key column `{}` cannot be nullable", def.name),
                )
                .with_hint("remove `notNull: false`"),
            );
            return None;
        }
        if let Some(old) = &def.renamed_from {
            self.identifier(&path.key("renamedFrom"), old, "column name");
        }
        let not_null = def.not_null.unwrap_or(false) || def.primary_key == Some(true) || ty.scalar.is_serial() || identity.is_some();
        Some(Column {
            name: def.name.clone(),
            ty,
            not_null,
            default,
            identity,
            generated,
            renamed_from: def.renamed_from.clone(),
            comment: def.comment.clone(),
        })
    }

    fn identity(
        &mut self,
        path: &Pointer,
        table: &str,
        def: &ColumnDef,
        ty: &schemaforge_model::ColumnType,
        identity: &IdentityDef,
    ) -> Option<Identity> {
        let identity_path = path.key("identity");
        let Some((type_min, type_max)) = ty.scalar.integer_range().filter(|_| !ty.scalar.is_serial() && !ty.is_array()) else {
            self.push(
                Diagnostic::new(
                    &identity_path,
                    Code::ConflictingOptions,
                    format!("identity needs a smallint, integer or bigint column; `{}` is not one", def.name),
                )
                .with_hint(if ty.scalar.is_serial() {
                    "use type `integer` with identity instead of `serial`"
                } else {
                    "change the type or remove `identity`"
                }),
            );
            return None;
        };
        let (kind, spec) = match identity {
            IdentityDef::Kind(kind) => (*kind, None),
            IdentityDef::Spec(spec) => (spec.kind, Some(spec)),
        };
        let option = |f: fn(&crate::document::IdentitySpec) -> Option<i64>| spec.and_then(f);
        // The same defaults drizzle-orm applies, so the snapshot agrees.
        let increment = option(|s| s.increment).unwrap_or(1);
        let min_value = option(|s| s.min_value).unwrap_or(if increment < 0 { type_min } else { 1 });
        let max_value = option(|s| s.max_value).unwrap_or(if increment < 0 { -1 } else { type_max });
        let start_with = option(|s| s.start).unwrap_or(if increment < 0 { max_value } else { min_value });
        let cache = option(|s| s.cache).unwrap_or(1);
        let sequence_name = spec.and_then(|s| s.sequence_name.clone()).unwrap_or_else(|| format!("{table}_{}_seq", def.name));
        let mut problems = Vec::new();
        if increment == 0 {
            problems.push(("increment", "the increment cannot be 0".to_string()));
        }
        if min_value >= max_value {
            problems.push(("minValue", format!("minValue {min_value} must be below maxValue {max_value}")));
        }
        if min_value < type_min || max_value > type_max {
            problems
                .push(("maxValue", format!("the range {min_value}..{max_value} does not fit the column's type ({type_min}..{type_max})")));
        }
        if start_with < min_value || start_with > max_value {
            problems.push(("start", format!("start {start_with} is outside {min_value}..{max_value}")));
        }
        if cache < 1 {
            problems.push(("cache", "cache must be at least 1".to_string()));
        }
        if !problems.is_empty() {
            for (field, message) in problems {
                let p = if spec.is_some() { identity_path.key(field) } else { identity_path.clone() };
                self.push(Diagnostic::new(p, Code::OutOfRange, message));
            }
            return None;
        }
        let name_path =
            if spec.is_some_and(|s| s.sequence_name.is_some()) { identity_path.key("sequenceName") } else { identity_path.clone() };
        let named_ok = if spec.is_some_and(|s| s.sequence_name.is_some()) {
            self.identifier(&name_path, &sequence_name, "sequence name")
        } else {
            self.derived_name(&name_path, &sequence_name, "identity sequence name", "give the sequence a shorter `sequenceName`")
        };
        named_ok.then_some(Identity {
            kind: match kind {
                IdentityKindName::Always => IdentityKind::Always,
                IdentityKindName::ByDefault => IdentityKind::ByDefault,
            },
            sequence_name,
            increment,
            min_value,
            max_value,
            start_with,
            cache,
            cycle: spec.and_then(|s| s.cycle).unwrap_or(false),
        })
    }

    fn renamed_columns(&mut self, table_path: &Pointer, def: &TableDef) {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, column) in def.columns.iter().enumerate() {
            let Some(old) = column.renamed_from.as_deref() else { continue };
            let path = table_path.key("columns").index(i).key("renamedFrom");
            if old == column.name {
                self.push(
                    Diagnostic::new(&path, Code::InvalidRename, format!("column `{old}` is renamed from itself"))
                        .with_hint("remove `renamedFrom`"),
                );
            } else if def.columns.iter().any(|c| c.name == old) {
                self.push(
                    Diagnostic::new(
                        &path,
                        Code::InvalidRename,
                        format!("column `{}` is renamed from `{old}`, but `{old}` is still a column of this table", column.name),
                    )
                    .with_hint("a rename needs the old name to be gone"),
                );
            } else if let Some(first) = seen.insert(old, i) {
                self.push(
                    Diagnostic::new(&path, Code::InvalidRename, format!("two columns are renamed from `{old}`"))
                        .with_hint(format!("see column {first}")),
                );
            }
        }
    }

    fn renamed_tables(&mut self, pending: &[PendingTable<'_>], tables_path: &Pointer) {
        let mut seen: BTreeMap<QualifiedName, usize> = BTreeMap::new();
        for p in pending {
            let Some(old) = &p.table.renamed_from else { continue };
            let old_name = QualifiedName::new(p.table.name.schema.clone(), old.clone());
            let path = tables_path.index(p.index).key("renamedFrom");
            if old_name != p.table.name && pending.iter().any(|other| other.table.name == old_name) {
                self.push(
                    Diagnostic::new(
                        &path,
                        Code::InvalidRename,
                        format!("table `{}` is renamed from `{old_name}`, which is still declared", p.table.name),
                    )
                    .with_hint("a rename needs the old name to be gone"),
                );
            } else if let Some(first) = seen.insert(old_name.clone(), p.index) {
                self.push(
                    Diagnostic::new(&path, Code::InvalidRename, format!("two tables are renamed from `{old_name}`"))
                        .with_hint(format!("see /tables/{first}")),
                );
            }
        }
    }

    fn checks(&mut self, path: &Pointer, def: &TableDef, table: &mut Table) {
        for (i, check) in def.checks.iter().enumerate() {
            let check_path = path.key("checks").index(i);
            if self.skipped(&check_path) {
                continue;
            }
            let name_ok = self.identifier(&check_path.key("name"), &check.name, "check name");
            let expression = self.expression(&check_path.key("expression"), ExpressionSlot::Check, &check.expression);
            if name_ok && self.constraint_name_taken(table, &check.name) {
                self.push(Diagnostic::new(
                    check_path.key("name"),
                    Code::DuplicateConstraint,
                    format!("table `{}` already has a constraint named `{}`", table.name, check.name),
                ));
                continue;
            }
            if let (true, Some(expression)) = (name_ok, expression) {
                table.checks.push(Check { name: check.name.clone(), expression });
            }
        }
    }

    /// Names PostgreSQL keeps unique per schema: relations (tables, indexes,
    /// the indexes behind primary keys and uniques, sequences) share one
    /// namespace, and types (enums, each table's row type) share another.
    fn schema_wide_names(&mut self, tables: &[Table], tables_path: &Pointer) {
        let mut relations: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut claim = |this: &mut Self, schema: &str, name: &str, what: String, path: Pointer, code: Code| {
            let key = (schema.to_string(), name.to_string());
            if let Some(owner) = relations.get(&key) {
                this.push(
                    Diagnostic::new(path, code, format!("{what} `{name}` has the same name as {owner} in schema `{schema}`")).with_hint(
                        "PostgreSQL keeps tables, indexes, key constraints and sequences in one namespace per schema: rename one",
                    ),
                );
            } else {
                relations.insert(key, what);
            }
        };
        for (t, table) in tables.iter().enumerate() {
            let schema = table.name.namespace();
            claim(
                self,
                schema,
                &table.name.name,
                format!("table `{}`", table.name),
                tables_path.index(t).key("name"),
                Code::DuplicateTable,
            );
        }
        for (t, table) in tables.iter().enumerate() {
            let schema = table.name.namespace();
            let path = tables_path.index(t);
            if let Some(pk) = &table.primary_key {
                claim(
                    self,
                    schema,
                    &pk.name,
                    format!("the primary key of `{}`", table.name),
                    path.key("primaryKey"),
                    Code::DuplicateConstraint,
                );
            }
            for unique in &table.uniques {
                claim(
                    self,
                    schema,
                    &unique.name,
                    format!("unique constraint `{}`", unique.name),
                    path.key("uniques"),
                    Code::DuplicateConstraint,
                );
            }
            for (i, index) in table.indexes.iter().enumerate() {
                claim(
                    self,
                    schema,
                    &index.name,
                    format!("index `{}`", index.name),
                    path.key("indexes").index(i).key("name"),
                    Code::DuplicateIndex,
                );
            }
            for (c, column) in table.columns.iter().enumerate() {
                if let Some(identity) = &column.identity {
                    claim(
                        self,
                        schema,
                        &identity.sequence_name,
                        format!("sequence `{}`", identity.sequence_name),
                        path.key("columns").index(c).key("identity"),
                        Code::DuplicateName,
                    );
                }
            }
        }
        let mut types: BTreeMap<(String, String), String> = BTreeMap::new();
        for table in tables {
            types.insert((table.name.namespace().to_string(), table.name.name.clone()), format!("table `{}`", table.name));
        }
        let enums = self.enums.clone();
        for enum_type in &enums {
            let key = (enum_type.name.namespace().to_string(), enum_type.name.name.clone());
            if let Some(owner) = types.get(&key) {
                let index = enums.iter().position(|e| e.name == enum_type.name).unwrap_or(0);
                self.push(
                    Diagnostic::new(
                        Pointer::root().key("enums").index(index).key("name"),
                        Code::DuplicateEnum,
                        format!("enum `{}` has the same name as {owner}", enum_type.name),
                    )
                    .with_hint("every table also defines a type of its own name: rename the enum"),
                );
            }
        }
    }
}

/// Splits `schema.name` into its parts; a bare name has no schema.
pub(crate) fn split_qualified(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((schema, bare)) => (Some(schema), bare),
        None => (None, name),
    }
}
