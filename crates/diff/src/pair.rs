//! Which object of the old schema becomes which object of the new one.
//!
//! Objects are matched by name. A rename is never guessed: a table or column
//! is matched to a differently named one only when the new schema declares it
//! with `renamedFrom` and the old name is free in the new schema. An exact name
//! match always wins over a declared rename, so a rename that was already
//! applied (the definition still carries `renamedFrom`) is a no-op.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use schemaforge_model::{Column, QualifiedName, Schema, Table};

/// A before/after pair of anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair<T> {
    pub from: T,
    pub to: T,
}

impl<T> Pair<T> {
    pub fn new(from: T, to: T) -> Self {
        Pair { from, to }
    }

    pub fn map<U>(self, f: impl Fn(T) -> U) -> Pair<U> {
        Pair { from: f(self.from), to: f(self.to) }
    }
}

/// How the tables and columns of two schemas correspond.
#[derive(Debug)]
pub struct Pairing<'a> {
    pub schemas: Pair<&'a Schema>,
    /// Tables in both schemas, in the new schema's order.
    pub tables: Vec<TablePair<'a>>,
    /// Tables only in the new schema.
    pub created: Vec<&'a Table>,
    /// Tables only in the old schema.
    pub dropped: Vec<&'a Table>,
    /// Old table name → new table name, for every matched table.
    renamed: BTreeMap<QualifiedName, QualifiedName>,
    /// Each schema's tables by name, and the index in `tables` of each
    /// matched table by its old and by its new name: steps look tables up by
    /// name, and scanning for them made a large diff quadratic.
    old_tables: BTreeMap<&'a QualifiedName, &'a Table>,
    new_tables: BTreeMap<&'a QualifiedName, &'a Table>,
    by_old_name: BTreeMap<&'a QualifiedName, usize>,
    by_new_name: BTreeMap<&'a QualifiedName, usize>,
}

/// One table in both schemas.
#[derive(Debug)]
pub struct TablePair<'a> {
    pub tables: Pair<&'a Table>,
    /// Columns in both, in the new table's order.
    pub columns: Vec<Pair<&'a Column>>,
    pub added: Vec<&'a Column>,
    pub dropped: Vec<&'a Column>,
    /// Old column name → new column name, for every matched column: made
    /// on first use, as most tables of a large diff never need it.
    column_names: OnceLock<BTreeMap<String, String>>,
}

impl<'a> Pairing<'a> {
    pub fn new(from: &'a Schema, to: &'a Schema) -> Self {
        let old: BTreeMap<&QualifiedName, &Table> = from.tables.iter().map(|t| (&t.name, t)).collect();
        let new_names: BTreeSet<&QualifiedName> = to.tables.iter().map(|t| &t.name).collect();
        let mut used = BTreeSet::new();
        let (mut tables, mut created) = (Vec::new(), Vec::new());
        for table in &to.tables {
            let renamed_source =
                table.renamed_from.as_ref().map(|old_name| QualifiedName::new(table.name.schema.clone(), old_name.clone()));
            let source = old
                .get(&table.name)
                .copied()
                .or_else(|| renamed_source.filter(|n| !new_names.contains(n)).and_then(|n| old.get(&n).copied()))
                .filter(|t| !used.contains(&t.name));
            match source {
                Some(previous) => {
                    used.insert(previous.name.clone());
                    tables.push(TablePair::new(previous, table));
                }
                None => created.push(table),
            }
        }
        let dropped = from.tables.iter().filter(|t| !used.contains(&t.name)).collect();
        let renamed = tables.iter().map(|p| (p.tables.from.name.clone(), p.tables.to.name.clone())).collect();
        let by_old_name = tables.iter().enumerate().map(|(i, p)| (&p.tables.from.name, i)).collect();
        let by_new_name = tables.iter().enumerate().map(|(i, p)| (&p.tables.to.name, i)).collect();
        let new_tables = to.tables.iter().map(|t| (&t.name, t)).collect();
        Pairing { schemas: Pair::new(from, to), tables, created, dropped, renamed, old_tables: old, new_tables, by_old_name, by_new_name }
    }

    /// The new name of an old table, if it survives.
    pub fn new_table_name(&self, old: &QualifiedName) -> Option<&QualifiedName> {
        self.renamed.get(old)
    }

    /// The pair an old table belongs to.
    pub fn pair_of_old(&self, old: &QualifiedName) -> Option<&TablePair<'a>> {
        self.by_old_name.get(old).and_then(|&i| self.tables.get(i))
    }

    /// The pair a new table belongs to.
    pub fn pair_of_new(&self, new: &QualifiedName) -> Option<&TablePair<'a>> {
        self.by_new_name.get(new).and_then(|&i| self.tables.get(i))
    }

    /// The old schema's table of that name.
    pub fn old_table(&self, name: &QualifiedName) -> Option<&'a Table> {
        self.old_tables.get(name).copied()
    }

    /// The new schema's table of that name.
    pub fn new_table(&self, name: &QualifiedName) -> Option<&'a Table> {
        self.new_tables.get(name).copied()
    }
}

impl<'a> TablePair<'a> {
    fn new(from: &'a Table, to: &'a Table) -> Self {
        // Columns mostly keep their places: the old column at a new column's
        // own position is looked at first, and the old columns are indexed by
        // name only for a table where that fails. Pairing is most of what a
        // plan costs on a large schema, and it used to build three maps per table.
        let mut index: Option<BTreeMap<&str, usize>> = None;
        let mut old_position = |name: &str, hint: usize| -> Option<usize> {
            if from.columns.get(hint).is_some_and(|c| c.name == name) {
                return Some(hint);
            }
            index.get_or_insert_with(|| from.columns.iter().enumerate().map(|(i, c)| (c.name.as_str(), i)).collect()).get(name).copied()
        };
        let mut used = vec![false; from.columns.len()];
        let (mut columns, mut added) = (Vec::with_capacity(to.columns.len()), Vec::new());
        for (position, column) in to.columns.iter().enumerate() {
            let source = old_position(&column.name, position)
                .or_else(|| {
                    // A declared rename counts only when the old name is free in the new table.
                    let old_name = column.renamed_from.as_deref().filter(|n| !to.columns.iter().any(|c| c.name == *n))?;
                    old_position(old_name, position)
                })
                .filter(|&i| !used[i]);
            match source {
                Some(i) => {
                    used[i] = true;
                    columns.push(Pair::new(&from.columns[i], column));
                }
                None => added.push(column),
            }
        }
        let dropped = from.columns.iter().zip(&used).filter(|(_, used)| !**used).map(|(c, _)| c).collect();
        TablePair { tables: Pair::new(from, to), columns, added, dropped, column_names: OnceLock::new() }
    }

    /// Old column name → new column name, for every matched column.
    pub fn column_names(&self) -> &BTreeMap<String, String> {
        self.column_names.get_or_init(|| self.columns.iter().map(|p| (p.from.name.clone(), p.to.name.clone())).collect())
    }

    /// Whether some matched column has a new name.
    pub fn renames_columns(&self) -> bool {
        self.columns.iter().any(|p| p.from.name != p.to.name)
    }

    /// An old column's new name (`None` when it is dropped).
    pub fn new_column_name<'s>(&'s self, old: &str) -> Option<&'s str> {
        self.column_names().get(old).map(String::as_str)
    }
}
