//! Names PostgreSQL keeps unique per schema. Relations — tables, indexes
//! (including those behind primary keys and unique constraints) and sequences
//! (behind serial and identity columns) — share one namespace; types — enums
//! and the row type every table and sequence gets — share another.
//!
//! SQLite keeps tables and indexes (unique constraints are unique indexes) in
//! one namespace per database, and compares names without regard to ASCII
//! case: `Users` and `users` are one table there. Its key constraints and
//! AUTOINCREMENT columns name nothing, and it has no types.

use std::collections::BTreeMap;

use schemaforge_model::{Dialect, names};

use super::{Lowerer, PendingTable};
use crate::diagnostic::{Code, Diagnostic, Pointer};

/// One namespace: `(schema, name)` → what owns the name, for messages.
#[derive(Default)]
struct Namespace {
    owners: BTreeMap<(String, String), String>,
    /// Names that differ only in ASCII case are one name (SQLite).
    fold_case: bool,
}

impl Namespace {
    /// Records `description` as the owner of the name, or returns the current owner.
    fn claim(&mut self, schema: &str, name: &str, description: &str) -> Result<(), String> {
        let name = if self.fold_case { name.to_ascii_lowercase() } else { name.to_string() };
        let key = (schema.to_string(), name);
        match self.owners.get(&key) {
            Some(owner) => Err(owner.clone()),
            None => {
                self.owners.insert(key, description.to_string());
                Ok(())
            }
        }
    }
}

impl Lowerer {
    /// Claims a name in `namespace`; reports a clash and returns false.
    fn claim_name(&mut self, namespace: &mut Namespace, schema: &str, name: &str, description: &str, path: Pointer, code: Code) -> bool {
        match namespace.claim(schema, name, description) {
            Ok(()) => true,
            Err(owner) if self.dialect == Dialect::Sqlite => {
                self.push(
                    Diagnostic::new(path, code, format!("{description} has the same name as {owner}"))
                        .with_hint("SQLite keeps tables and indexes in one namespace and ignores the case of names: rename one"),
                );
                false
            }
            Err(owner) => {
                self.push(
                    Diagnostic::new(path, code, format!("{description} has the same name as {owner} in schema `{schema}`")).with_hint(
                        "PostgreSQL keeps tables, indexes, key constraints and sequences in one namespace per schema, and types in another: rename one",
                    ),
                );
                false
            }
        }
    }

    pub(super) fn schema_wide_names(&mut self, pending: &[PendingTable<'_>], tables_path: &Pointer) {
        let sqlite = self.dialect == Dialect::Sqlite;
        let (mut relations, mut types) = (Namespace { fold_case: sqlite, ..Namespace::default() }, Namespace::default());
        for p in pending {
            let (schema, table) = (p.table.name.namespace(), &p.table.name.name);
            let description = format!("table `{}`", p.table.name);
            let path = tables_path.index(p.index).key("name");
            // A clash is reported once, even where both namespaces clash.
            if self.claim_name(&mut relations, schema, table, &description, path.clone(), Code::DuplicateTable) && !sqlite {
                self.claim_name(&mut types, schema, table, &description, path, Code::DuplicateTable);
            }
        }
        for p in pending {
            let table = &p.table;
            let schema = table.name.namespace();
            let table_path = tables_path.index(p.index);
            let declared = |this: &Self, name: &str, fallback: Pointer| -> Pointer {
                this.declared_at.get(&(table.name.clone(), name.to_string())).cloned().unwrap_or(fallback)
            };
            if let Some(pk) = table.primary_key.as_ref().filter(|_| !sqlite) {
                let path = declared(self, &pk.name, table_path.key("primaryKey"));
                let description = format!("the primary key `{}` of `{}`", pk.name, table.name);
                self.claim_name(&mut relations, schema, &pk.name, &description, path, Code::DuplicateConstraint);
            }
            for unique in &table.uniques {
                let path = declared(self, &unique.name, table_path.key("uniques"));
                self.claim_name(
                    &mut relations,
                    schema,
                    &unique.name,
                    &format!("unique constraint `{}`", unique.name),
                    path,
                    Code::DuplicateConstraint,
                );
            }
            for index in &table.indexes {
                let path = declared(self, &index.name, table_path.key("indexes"));
                self.claim_name(&mut relations, schema, &index.name, &format!("index `{}`", index.name), path, Code::DuplicateIndex);
            }
            for (c, column) in table.columns.iter().enumerate().filter(|_| !sqlite) {
                let sequence = match (&column.identity, column.ty.scalar.is_serial()) {
                    (Some(identity), _) => identity.sequence_name.clone(),
                    (None, true) => names::sequence(&table.name.name, &column.name),
                    (None, false) => continue,
                };
                let path = table_path.key("columns").index(c);
                let description = format!("the sequence `{sequence}` of column `{}.{}`", table.name, column.name);
                if self.claim_name(&mut relations, schema, &sequence, &description, path.clone(), Code::DuplicateName) {
                    self.claim_name(&mut types, schema, &sequence, &description, path, Code::DuplicateName);
                }
            }
        }
        let enums: Vec<_> = self.enums.iter().map(|e| e.name.clone()).collect();
        for name in enums {
            let index = self.enum_positions.get(&name).copied().unwrap_or(0);
            let path = Pointer::root().key("enums").index(index).key("name");
            self.claim_name(&mut types, name.namespace(), &name.name, &format!("enum `{name}`"), path, Code::DuplicateEnum);
        }
    }
}
