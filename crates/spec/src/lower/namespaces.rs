//! Names PostgreSQL keeps unique per schema. Relations — tables, indexes
//! (including those behind primary keys and unique constraints) and sequences
//! (behind serial and identity columns) — share one namespace; types — enums
//! and the row type every table and sequence gets — share another.
//!
//! SQLite keeps tables and indexes (unique constraints are unique indexes) in
//! one namespace per database, and compares names without regard to ASCII
//! case: `Users` and `users` are one table there. Its key constraints and
//! AUTOINCREMENT columns name nothing, and it has no types.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemaforge_model::{Dialect, QualifiedName, names};

use super::{Lowerer, PendingTable};
use crate::diagnostic::{Code, Diagnostic, Pointer};

/// What holds a name, borrowed from the definition: it is written out only
/// for a clash, as a large schema claims tens of thousands of names.
#[derive(Clone)]
enum Owner<'a> {
    Table(&'a QualifiedName),
    PrimaryKey { name: &'a str, table: &'a QualifiedName },
    Unique(&'a str),
    Index(&'a str),
    Sequence { sequence: String, table: &'a QualifiedName, column: &'a str },
    Enum(&'a QualifiedName),
}

impl fmt::Display for Owner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Table(name) => write!(f, "table `{name}`"),
            Owner::PrimaryKey { name, table } => write!(f, "the primary key `{name}` of `{table}`"),
            Owner::Unique(name) => write!(f, "unique constraint `{name}`"),
            Owner::Index(name) => write!(f, "index `{name}`"),
            Owner::Sequence { sequence, table, column } => write!(f, "the sequence `{sequence}` of column `{table}.{column}`"),
            Owner::Enum(name) => write!(f, "enum `{name}`"),
        }
    }
}

/// One namespace: schema → name → what owns the name, for messages.
#[derive(Default)]
struct Namespace<'a> {
    owners: BTreeMap<&'a str, BTreeMap<Cow<'a, str>, Owner<'a>>>,
    /// Names that differ only in ASCII case are one name (SQLite).
    fold_case: bool,
}

impl<'a> Namespace<'a> {
    /// Records `owner` as the owner of the name, or returns the current owner.
    fn claim(&mut self, schema: &'a str, name: &'a str, owner: &Owner<'a>) -> Result<(), Owner<'a>> {
        let name = if self.fold_case { Cow::Owned(name.to_ascii_lowercase()) } else { Cow::Borrowed(name) };
        match self.owners.entry(schema).or_default().entry(name) {
            std::collections::btree_map::Entry::Occupied(held) => Err(held.get().clone()),
            std::collections::btree_map::Entry::Vacant(free) => {
                free.insert(owner.clone());
                Ok(())
            }
        }
    }
}

impl Lowerer {
    /// Claims a name in `namespace`; reports a clash and returns false.
    fn claim_name<'a>(
        &mut self,
        namespace: &mut Namespace<'a>,
        schema: &'a str,
        name: &'a str,
        claimant: &Owner<'a>,
        path: Pointer,
        code: Code,
    ) -> bool {
        match namespace.claim(schema, name, claimant) {
            Ok(()) => true,
            Err(owner) if self.dialect == Dialect::Sqlite => {
                self.push(
                    Diagnostic::new(path, code, format!("{claimant} has the same name as {owner}"))
                        .with_hint("SQLite keeps tables and indexes in one namespace and ignores the case of names: rename one"),
                );
                false
            }
            Err(owner) => {
                self.push(
                    Diagnostic::new(path, code, format!("{claimant} has the same name as {owner} in schema `{schema}`")).with_hint(
                        "PostgreSQL keeps tables, indexes, key constraints and sequences in one namespace per schema, and types in another: rename one",
                    ),
                );
                false
            }
        }
    }

    pub(super) fn schema_wide_names(&mut self, pending: &[PendingTable<'_>], tables_path: &Pointer) {
        let sqlite = self.dialect == Dialect::Sqlite;
        // Owned here, so that the namespaces can borrow them while `self` records clashes.
        let enums: Vec<QualifiedName> = self.enums.iter().map(|e| e.name.clone()).collect();
        let sequences: Vec<Vec<(usize, String)>> = pending
            .iter()
            .map(|p| {
                let table = &p.table;
                table
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|_| !sqlite)
                    .filter_map(|(c, column)| match (&column.identity, column.ty.scalar.is_serial()) {
                        (Some(identity), _) => Some((c, identity.sequence_name.clone())),
                        (None, true) => Some((c, names::sequence(&table.name.name, &column.name))),
                        (None, false) => None,
                    })
                    .collect()
            })
            .collect();
        let (mut relations, mut types) = (Namespace { fold_case: sqlite, ..Namespace::default() }, Namespace::default());
        for p in pending {
            let (schema, table) = (p.table.name.namespace(), &p.table.name.name);
            let owner = Owner::Table(&p.table.name);
            let path = tables_path.index(p.index).key("name");
            // A clash is reported once, even where both namespaces clash.
            if self.claim_name(&mut relations, schema, table, &owner, path.clone(), Code::DuplicateTable) && !sqlite {
                self.claim_name(&mut types, schema, table, &owner, path, Code::DuplicateTable);
            }
        }
        for (p, sequences) in pending.iter().zip(&sequences) {
            let table = &p.table;
            let schema = table.name.namespace();
            let table_path = tables_path.index(p.index);
            let declared = |this: &Self, name: &str, fallback: Pointer| -> Pointer {
                this.declared_at.get(&(table.name.clone(), name.to_string())).cloned().unwrap_or(fallback)
            };
            if let Some(pk) = table.primary_key.as_ref().filter(|_| !sqlite) {
                let path = declared(self, &pk.name, table_path.key("primaryKey"));
                let owner = Owner::PrimaryKey { name: &pk.name, table: &table.name };
                self.claim_name(&mut relations, schema, &pk.name, &owner, path, Code::DuplicateConstraint);
            }
            for unique in &table.uniques {
                let path = declared(self, &unique.name, table_path.key("uniques"));
                self.claim_name(&mut relations, schema, &unique.name, &Owner::Unique(&unique.name), path, Code::DuplicateConstraint);
            }
            for index in &table.indexes {
                let path = declared(self, &index.name, table_path.key("indexes"));
                self.claim_name(&mut relations, schema, &index.name, &Owner::Index(&index.name), path, Code::DuplicateIndex);
            }
            for (c, sequence) in sequences {
                let column = table.columns.get(*c).map_or("", |column| column.name.as_str());
                let path = table_path.key("columns").index(*c);
                let owner = Owner::Sequence { sequence: sequence.clone(), table: &table.name, column };
                if self.claim_name(&mut relations, schema, sequence, &owner, path.clone(), Code::DuplicateName) {
                    self.claim_name(&mut types, schema, sequence, &owner, path, Code::DuplicateName);
                }
            }
        }
        for name in &enums {
            let index = self.enum_positions.get(name).copied().unwrap_or(0);
            let path = Pointer::root().key("enums").index(index).key("name");
            self.claim_name(&mut types, name.namespace(), &name.name, &Owner::Enum(name), path, Code::DuplicateEnum);
        }
    }
}
