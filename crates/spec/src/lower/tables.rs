//! One table on its own: its name, columns, identity and generated columns,
//! checks, and the renames it declares.

use std::collections::{BTreeMap, BTreeSet};

use schemaforge_fragment::ExpressionSlot;
use schemaforge_model::{Check, Column, ColumnType, Dialect, Generated, Identity, IdentityKind, QualifiedName, Table};

use super::expressions::Scope;
use super::{Lowerer, PendingTable};
use crate::diagnostic::{Code, Diagnostic, Pointer};
use crate::document::{ColumnDef, IdentityDef, IdentityKindName, IdentitySpec, TableDef};

/// PostgreSQL's limit on columns per table.
const MAX_COLUMNS: usize = 1600;

/// Names PostgreSQL gives every table's system columns.
const SYSTEM_COLUMNS: [&str; 6] = ["tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"];

impl Lowerer {
    pub(super) fn table(&mut self, path: &Pointer, def: &TableDef) -> Option<Table> {
        let name_ok = self.identifier(&path.key("name"), &def.name, "table name");
        let schema = self.schema_of(&path.key("schema"), def.schema.as_deref());
        let qualified = Self::qualified(def.schema.as_deref(), &def.name);
        if let Some(old) = &def.renamed_from
            && self.identifier(&path.key("renamedFrom"), old, "table name")
            && old == &def.name
        {
            self.push(
                Diagnostic::new(path.key("renamedFrom"), Code::InvalidRename, format!("table `{old}` is renamed from itself"))
                    .with_hint("remove `renamedFrom`"),
            );
        }
        if let Some(comment) = &def.comment {
            self.sql_text(&path.key("comment"), comment, "the comment");
        }
        if def.columns.is_empty() {
            self.push(Diagnostic::new(path.key("columns"), Code::MissingField, format!("table `{}` has no columns", def.name)));
        }
        if def.columns.len() > MAX_COLUMNS {
            self.push(Diagnostic::new(
                path.key("columns"),
                Code::InvalidValue,
                format!("table `{}` has {} columns; PostgreSQL allows {MAX_COLUMNS}", def.name, def.columns.len()),
            ));
            self.broken_tables.insert(qualified);
            return None;
        }
        let columns = self.columns(path, &qualified, def);
        let Some(schema) = schema.filter(|_| name_ok) else {
            self.broken_tables.insert(qualified);
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
        self.generated_references(path, def, &table);
        self.primary_key(path, def, &mut table);
        self.uniques(path, def, &mut table);
        self.indexes(path, def, &mut table);
        self.checks(path, def, &mut table);
        self.policies(path, def, &mut table);
        Some(table)
    }

    fn columns(&mut self, table_path: &Pointer, table: &QualifiedName, def: &TableDef) -> Vec<Column> {
        let mut columns: Vec<Column> = Vec::new();
        // SQLite compares column names without regard to ASCII case.
        let fold_case = self.dialect == Dialect::Sqlite;
        let mut first_index: BTreeMap<String, usize> = BTreeMap::new();
        for (i, column_def) in def.columns.iter().enumerate() {
            let path = table_path.key("columns").index(i);
            if self.skipped(&path) {
                self.broken_columns.insert((table.clone(), column_def.name.clone()));
                continue;
            }
            let key = if fold_case { column_def.name.to_ascii_lowercase() } else { column_def.name.clone() };
            if let Some(first) = first_index.insert(key, i) {
                let first_name = &def.columns[first].name;
                let message = if *first_name == column_def.name {
                    format!("column `{}` is declared twice in table `{}`", column_def.name, def.name)
                } else {
                    format!(
                        "column `{}` is column `{first_name}` of table `{}`: SQLite ignores the case of names",
                        column_def.name, def.name
                    )
                };
                self.push(
                    Diagnostic::new(path.key("name"), Code::DuplicateColumn, message)
                        .with_hint(format!("the first declaration is {}", table_path.key("columns").index(first).as_str())),
                );
                continue;
            }
            match self.column(&path, &def.name, column_def) {
                Some(column) => columns.push(column),
                None => {
                    self.broken_columns.insert((table.clone(), column_def.name.clone()));
                }
            }
        }
        self.renamed_columns(table_path, def);
        columns
    }

    fn column(&mut self, path: &Pointer, table: &str, def: &ColumnDef) -> Option<Column> {
        let mut name_ok = self.identifier(&path.key("name"), &def.name, "column name");
        if name_ok && SYSTEM_COLUMNS.contains(&def.name.as_str()) {
            name_ok = false;
            self.push(
                Diagnostic::new(
                    path.key("name"),
                    Code::InvalidIdentifier,
                    format!("`{}` is the name of a PostgreSQL system column", def.name),
                )
                .with_hint("choose another name"),
            );
        }
        if let Some(comment) = &def.comment {
            name_ok &= self.sql_text(&path.key("comment"), comment, "the comment");
        }
        let ty = self.lower_column_type(path, def)?;
        if !name_ok {
            return None;
        }
        let enum_values = match &ty.scalar {
            schemaforge_model::ScalarType::Enum(name) => self.enums.iter().find(|e| &e.name == name).map(|e| e.values.clone()),
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
                let (sql, _) = self.expression(&generated_path.key("sql"), ExpressionSlot::GeneratedColumn, &generated.sql)?;
                Some(Generated { sql })
            }
        };
        let conflicts: [(bool, &str, &str); 5] = [
            (identity.is_some() && default.is_some(), "identity", "a default"),
            (generated.is_some() && default.is_some(), "generated", "a default"),
            (generated.is_some() && identity.is_some(), "generated", "identity"),
            (generated.is_some() && ty.scalar.is_serial(), "generated", "a serial type"),
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

    /// A generated column may refer only to ordinary columns of its own table.
    fn generated_references(&mut self, path: &Pointer, def: &TableDef, table: &Table) {
        if table.columns.iter().all(|c| c.generated.is_none()) {
            return;
        }
        let columns: BTreeSet<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let generated: BTreeSet<&str> = table.columns.iter().filter(|c| c.generated.is_some()).map(|c| c.name.as_str()).collect();
        let scope = Scope::Table { table: &table.name, columns: &columns, generated: &generated, allow_generated: false };
        for (i, column_def) in def.columns.iter().enumerate() {
            let (Some(generated_def), Some(column)) = (&column_def.generated, table.column(&column_def.name)) else { continue };
            if column.generated.is_none() {
                continue;
            }
            let sql_path = path.key("columns").index(i).key("generated").key("sql");
            if let Some((_, facts)) = self.expression(&sql_path, ExpressionSlot::GeneratedColumn, &generated_def.sql) {
                self.references(&sql_path, ExpressionSlot::GeneratedColumn, &facts, &scope);
            }
        }
    }

    fn identity(&mut self, path: &Pointer, table: &str, def: &ColumnDef, ty: &ColumnType, identity: &IdentityDef) -> Option<Identity> {
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
        let option = |f: fn(&IdentitySpec) -> Option<i64>| spec.and_then(f);
        // The same defaults drizzle-orm applies, so the snapshot agrees.
        let increment = option(|s| s.increment).unwrap_or(1);
        let min_value = option(|s| s.min_value).unwrap_or(if increment < 0 { type_min } else { 1 });
        let max_value = option(|s| s.max_value).unwrap_or(if increment < 0 { -1 } else { type_max });
        let start_with = option(|s| s.start).unwrap_or(if increment < 0 { max_value } else { min_value });
        let cache = option(|s| s.cache).unwrap_or(1);
        let sequence_name =
            spec.and_then(|s| s.sequence_name.clone()).unwrap_or_else(|| schemaforge_model::names::sequence(table, &def.name));
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
        let named_ok = if spec.is_some_and(|s| s.sequence_name.is_some()) {
            self.identifier(&identity_path.key("sequenceName"), &sequence_name, "sequence name")
        } else {
            self.derived_name(&identity_path, &sequence_name, "identity sequence name", "give the sequence a shorter `sequenceName`")
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
        let names: BTreeSet<&str> = def.columns.iter().map(|c| c.name.as_str()).collect();
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, column) in def.columns.iter().enumerate() {
            let Some(old) = column.renamed_from.as_deref() else { continue };
            let path = table_path.key("columns").index(i).key("renamedFrom");
            if old == column.name {
                self.push(
                    Diagnostic::new(&path, Code::InvalidRename, format!("column `{old}` is renamed from itself"))
                        .with_hint("remove `renamedFrom`"),
                );
            } else if names.contains(old) {
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
                        .with_hint(format!("see {}", table_path.key("columns").index(first).as_str())),
                );
            }
        }
    }

    pub(super) fn renamed_tables(&mut self, pending: &[PendingTable<'_>], tables_path: &Pointer) {
        let current: BTreeSet<&QualifiedName> = pending.iter().map(|p| &p.table.name).collect();
        let mut seen: BTreeMap<QualifiedName, usize> = BTreeMap::new();
        for p in pending {
            let Some(old) = &p.table.renamed_from else { continue };
            let old_name = QualifiedName::new(p.table.name.schema.clone(), old.clone());
            let path = tables_path.index(p.index).key("renamedFrom");
            if old_name != p.table.name && current.contains(&old_name) {
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

    pub(super) fn checks(&mut self, path: &Pointer, def: &TableDef, table: &mut Table) {
        let columns: BTreeSet<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let generated = BTreeSet::new();
        for (i, check) in def.checks.iter().enumerate() {
            let check_path = path.key("checks").index(i);
            if self.skipped(&check_path) {
                continue;
            }
            let name_ok = self.identifier(&check_path.key("name"), &check.name, "check name");
            let expression_path = check_path.key("expression");
            let expression = self.expression(&expression_path, ExpressionSlot::Check, &check.expression);
            let Some((expression, facts)) = expression else { continue };
            let scope = Scope::Table { table: &table.name, columns: &columns, generated: &generated, allow_generated: true };
            if !self.references(&expression_path, ExpressionSlot::Check, &facts, &scope) || !name_ok {
                continue;
            }
            if self.claim_constraint(&check_path.key("name"), &table.name, &check.name) {
                table.checks.push(Check { name: check.name.clone(), expression });
            }
        }
    }
}
