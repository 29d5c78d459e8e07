//! Lowering: a shape-checked `Definition` becomes a `model::Schema`, or a list of
//! every semantic problem found on the way.
//!
//! Lowering runs in passes so each check sees what it needs: top-level objects
//! (schemas, roles, enums: `toplevel`), then each table on its own (columns,
//! keys, indexes, checks, policies: `tables` and friends), then what crosses
//! tables (foreign keys), then names that must be unique per schema
//! (`namespaces`). A failed object is remembered as broken and left out of later
//! passes, so it causes no follow-on errors where it is referenced.

mod defaults;
mod expressions;

pub(crate) use expressions::check_fragments_of;
mod indexes;
mod keys;
pub(crate) mod names;
mod namespaces;
mod policies;
mod sqlite;

pub(crate) use sqlite::enum_check_name;
mod tables;
mod text;
mod toplevel;
mod types;

use std::collections::{BTreeMap, BTreeSet};

use schemaforge_fragment::{ExpressionFacts, ExpressionSlot, FragmentError};
use schemaforge_model::{Dialect, Enum, QualifiedName, Schema, Table};

use crate::diagnostic::{Code, Diagnostic, Pointer};
use crate::document::{Definition, DialectName, TableDef};
use crate::suggest;

/// Lowers a definition, returning the schema only when there is no diagnostic.
/// Entities at the `skipped` pointers were already reported (they are
/// placeholders from error recovery): they and references to them are skipped
/// silently.
pub fn lower(definition: &Definition, skipped: &BTreeSet<String>, target: Option<Dialect>) -> Result<Schema, Vec<Diagnostic>> {
    lower_with(definition, skipped, target, CheckedFragments::new())
}

/// The dialect `definition` is lowered for with `target` (as `choose_dialect` decides).
pub(crate) fn dialect_of(definition: &Definition, target: Option<Dialect>) -> Dialect {
    let named = match definition.dialect {
        Some(DialectName::Postgresql) => Some(Dialect::Postgresql),
        Some(DialectName::Sqlite) => Some(Dialect::Sqlite),
        Some(DialectName::Mysql) | None => None,
    };
    target.or(named).unwrap_or(Dialect::Postgresql)
}

/// SQL fragments already checked, by dialect, slot and text.
pub(crate) type CheckedFragments = BTreeMap<(Dialect, ExpressionSlot, String), Result<ExpressionFacts, FragmentError>>;

/// `lower`, starting from fragments checked already (`check_fragments_of`).
pub(crate) fn lower_with(
    definition: &Definition,
    skipped: &BTreeSet<String>,
    target: Option<Dialect>,
    checked: CheckedFragments,
) -> Result<Schema, Vec<Diagnostic>> {
    lower_keeping(definition, skipped, target, checked).0
}

/// `lower_with`, giving back the fragments checked, those it started from
/// included.
pub(crate) fn lower_keeping(
    definition: &Definition,
    skipped: &BTreeSet<String>,
    target: Option<Dialect>,
    checked: CheckedFragments,
) -> (Result<Schema, Vec<Diagnostic>>, CheckedFragments) {
    let mut lowerer = Lowerer {
        skipped: skipped.clone(),
        dialect: target.unwrap_or(Dialect::Postgresql),
        dialect_is_targeted: target.is_some(),
        checked_fragments: checked,
        ..Lowerer::default()
    };
    let schema = lowerer.definition(definition);
    let checked = std::mem::take(&mut lowerer.checked_fragments);
    (if lowerer.diagnostics.is_empty() { Ok(schema) } else { Err(lowerer.diagnostics) }, checked)
}

pub(crate) struct Lowerer {
    /// The dialect the definition is lowered for: its own `dialect`, else the target's.
    dialect: Dialect,
    /// The dialect was set by the target database, not defaulted.
    dialect_is_targeted: bool,
    diagnostics: Vec<Diagnostic>,
    skipped: BTreeSet<String>,
    namespaces: BTreeSet<String>,
    roles: BTreeSet<String>,
    enums: Vec<Enum>,
    /// Definition index of each lowered enum (`/enums/N`), for diagnostics.
    enum_positions: BTreeMap<QualifiedName, usize>,
    /// Objects that failed to lower (already reported): references to them are
    /// skipped silently instead of reported a second time.
    broken_tables: BTreeSet<QualifiedName>,
    broken_columns: BTreeSet<(QualifiedName, String)>,
    broken_enums: BTreeSet<QualifiedName>,
    /// Constraint names taken in each table (PostgreSQL keeps them unique per table).
    constraint_names: BTreeMap<QualifiedName, BTreeSet<String>>,
    /// Where each constraint and index was declared, for later diagnostics.
    declared_at: BTreeMap<(QualifiedName, String), Pointer>,
    /// Every SQL fragment checked so far, by dialect, slot and text: a large
    /// schema repeats the same default or expression (`CURRENT_TIMESTAMP`,
    /// `gen_random_uuid()`) over many tables, and the grammar runs once for it.
    checked_fragments: CheckedFragments,
}

impl Default for Lowerer {
    fn default() -> Self {
        Lowerer {
            dialect: Dialect::Postgresql,
            dialect_is_targeted: false,
            diagnostics: Vec::new(),
            skipped: BTreeSet::new(),
            namespaces: BTreeSet::new(),
            roles: BTreeSet::new(),
            enums: Vec::new(),
            enum_positions: BTreeMap::new(),
            broken_tables: BTreeSet::new(),
            broken_columns: BTreeSet::new(),
            broken_enums: BTreeSet::new(),
            constraint_names: BTreeMap::new(),
            declared_at: BTreeMap::new(),
            checked_fragments: BTreeMap::new(),
        }
    }
}

/// A table lowered on its own, waiting for the cross-table passes.
pub(crate) struct PendingTable<'d> {
    /// Its position in the definition's `tables`.
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

    /// Whether `column` of `table` failed to lower and was already reported.
    fn is_broken(&self, table: &QualifiedName, column: &str) -> bool {
        self.broken_tables.contains(table) || self.broken_columns.contains(&(table.clone(), column.to_string()))
    }

    /// Claims a constraint name in `table`; reports and returns false when taken.
    fn claim_constraint(&mut self, path: &Pointer, table: &QualifiedName, name: &str) -> bool {
        if !self.constraint_names.entry(table.clone()).or_default().insert(name.to_string()) {
            self.push(Diagnostic::new(path, Code::DuplicateConstraint, format!("table `{table}` already has a constraint named `{name}`")));
            return false;
        }
        self.declared_at.insert((table.clone(), name.to_string()), path.clone());
        true
    }

    /// The name a definition's `schema` + `name` stands for, without checks.
    fn qualified(schema: Option<&str>, name: &str) -> QualifiedName {
        QualifiedName::new(schema.map(String::from), name)
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

    fn definition(&mut self, definition: &Definition) -> Schema {
        let root = Pointer::root();
        self.choose_dialect(definition, &root);
        self.check_fragments_ahead(definition);
        if self.dialect == Dialect::Sqlite {
            self.sqlite_limits(definition, &root);
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
                self.broken_tables.insert(Self::qualified(def.schema.as_deref(), &def.name));
                continue;
            }
            // A second declaration is reported once, not through every
            // constraint name it shares with the first.
            let qualified = Self::qualified(def.schema.as_deref(), &def.name);
            if let Some(first) = seen_tables.get(&qualified) {
                self.push(
                    Diagnostic::new(path.key("name"), Code::DuplicateTable, format!("table `{qualified}` is declared twice"))
                        .with_hint(format!("the first declaration is /tables/{first}")),
                );
                continue;
            }
            seen_tables.insert(qualified, index);
            let Some(table) = self.table(&path, def) else { continue };
            pending.push(PendingTable { index, def, table });
        }
        self.renamed_tables(&pending, &tables_path);
        self.foreign_keys(&mut pending, &tables_path);
        self.schema_wide_names(&pending, &tables_path);
        let mut tables: Vec<Table> = pending.into_iter().map(|p| p.table).collect();
        let enums = std::mem::take(&mut self.enums);
        match self.dialect {
            Dialect::Postgresql => {}
            Dialect::Sqlite => sqlite::store(&mut tables, &enums),
        }
        Schema { dialect: self.dialect, namespaces, extensions, roles, enums, tables, custom_sql }
    }

    /// The definition's own dialect, checked against the target's.
    fn choose_dialect(&mut self, definition: &Definition, root: &Pointer) {
        let named = match definition.dialect {
            None => return,
            Some(DialectName::Postgresql) => Dialect::Postgresql,
            Some(DialectName::Sqlite) => Dialect::Sqlite,
            Some(DialectName::Mysql) => {
                self.push(
                    Diagnostic::new(root.key("dialect"), Code::UnsupportedDialect, "dialect `mysql` is not supported by this version")
                        .with_hint("use `postgresql` or `sqlite`"),
                );
                return;
            }
        };
        if named != self.dialect && self.dialect_is_targeted {
            self.push(
                Diagnostic::new(
                    root.key("dialect"),
                    Code::UnsupportedDialect,
                    format!("the definition is for `{}`, but the target database is `{}`", named.as_str(), self.dialect.as_str()),
                )
                .with_hint("remove `dialect` to let the target decide, or target a database of the definition's dialect"),
            );
            return;
        }
        self.dialect = named;
    }
}

/// Splits `schema.name` into its parts; a bare name has no schema.
pub(crate) fn split_qualified(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((schema, bare)) => (Some(schema), bare),
        None => (None, name),
    }
}
