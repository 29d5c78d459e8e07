//! Migration steps: what changes between two schemas, in an order that always
//! applies.
//!
//! `diff(from, to)` pairs the objects of two schemas (`pair`: by name, or by a
//! declared `renamedFrom`), compares each pair (`tables`, `objects`, using the
//! normalisations in `compare`) and emits `Step`s. A step names objects; it
//! never copies them: renderers look the names up in the old or new schema.
//!
//! Order comes from `Step::phase`, one number per kind of step, so every plan
//! runs in the same shape: custom `before` SQL; schemas, extensions, enums and
//! roles; drops of things that depend on others (policies, foreign keys,
//! indexes, constraints); renames; new tables; column changes; dropped tables;
//! new constraints, indexes, foreign keys and policies; comments; drops of
//! enums, roles, extensions and schemas; custom `after` SQL. Within a phase,
//! steps keep the order of the definition, so plans are deterministic.

mod compare;
mod enums;
mod objects;
mod pair;
mod sqlite;
mod tables;

pub use compare::{TypeChange, classify_type_change};
pub use enums::enum_value_renames;
pub use pair::{Pair, Pairing, TablePair};

use schemaforge_model::{Dialect, QualifiedName, Schema};

/// One unit of a migration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// The definition's `sql.before` statements (new or changed).
    RunSqlBefore,
    CreateSchema {
        name: String,
    },
    CreateExtension {
        name: String,
    },
    CreateEnum {
        name: QualifiedName,
    },
    /// `ALTER TYPE … RENAME VALUE`, for a declared `renamedValues` entry.
    RenameEnumValue {
        name: QualifiedName,
        from: String,
        to: String,
    },
    /// `ALTER TYPE … ADD VALUE`, before the given existing value or at the end.
    AddEnumValue {
        name: QualifiedName,
        value: String,
        before: Option<String>,
    },
    /// Values are removed or reordered: the old type is renamed aside, a new one
    /// created (`CreateEnum`), columns converted, the old one dropped (`DropEnumAside`).
    RenameEnumAside {
        name: QualifiedName,
    },
    CreateRole {
        name: String,
    },
    AlterRole {
        name: String,
    },
    DropPolicy {
        table: QualifiedName,
        name: String,
    },
    DisableRowLevelSecurity {
        table: QualifiedName,
    },
    DropForeignKey {
        table: QualifiedName,
        name: String,
    },
    DropIndex {
        table: QualifiedName,
        name: String,
        /// `DROP INDEX CONCURRENTLY`: outside a transaction, without blocking queries.
        concurrently: bool,
    },
    /// A primary key, unique or check constraint.
    DropConstraint {
        table: QualifiedName,
        name: String,
    },
    RenameTable {
        from: QualifiedName,
        to: QualifiedName,
    },
    RenameColumn {
        table: QualifiedName,
        from: String,
        to: String,
    },
    RenameConstraint {
        table: QualifiedName,
        from: String,
        to: String,
    },
    RenameIndex {
        table: QualifiedName,
        from: String,
        to: String,
    },
    RenameSequence {
        table: QualifiedName,
        from: String,
        to: String,
    },
    /// The sequence behind a serial column whose table or column was renamed
    /// takes the name a fresh `serial` would get.
    RenameSerialSequence {
        table: QualifiedName,
        column: String,
    },
    CreateTable {
        table: QualifiedName,
    },
    DropColumn {
        table: QualifiedName,
        column: String,
    },
    AddColumn {
        table: QualifiedName,
        column: String,
    },
    AlterColumn {
        table: QualifiedName,
        column: String,
        change: ColumnChange,
    },
    DropTable {
        table: QualifiedName,
    },
    /// SQLite: the table is rebuilt (a new table with the new definition, the
    /// rows copied over, the old one dropped, the new one renamed into place,
    /// its indexes re-created) because its `ALTER TABLE` cannot make
    /// `changes`, the steps this one replaces.
    RebuildTable {
        table: QualifiedName,
        changes: Vec<Step>,
    },
    AddPrimaryKey {
        table: QualifiedName,
        name: String,
    },
    AddUnique {
        table: QualifiedName,
        name: String,
    },
    /// On an existing table the check is added `NOT VALID` (new rows are
    /// checked at once) and its existing rows validated by `ValidateConstraint`.
    AddCheck {
        table: QualifiedName,
        name: String,
        not_valid: bool,
    },
    CreateIndex {
        table: QualifiedName,
        name: String,
        /// `CREATE INDEX CONCURRENTLY`: outside a transaction, without blocking writes.
        concurrently: bool,
    },
    /// Like `AddCheck`: `NOT VALID` on an existing table, validated after.
    AddForeignKey {
        table: QualifiedName,
        name: String,
        not_valid: bool,
    },
    /// Checks the existing rows against a check or foreign key added `NOT
    /// VALID`, under a lock that lets reads and writes continue.
    ValidateConstraint {
        table: QualifiedName,
        name: String,
    },
    EnableRowLevelSecurity {
        table: QualifiedName,
    },
    CreatePolicy {
        table: QualifiedName,
        name: String,
    },
    AlterPolicy {
        table: QualifiedName,
        name: String,
    },
    /// Sets (or, when the new schema has none, removes) a table's comment.
    CommentOnTable {
        table: QualifiedName,
    },
    CommentOnColumn {
        table: QualifiedName,
        column: String,
    },
    DropEnumAside {
        name: QualifiedName,
    },
    DropEnum {
        name: QualifiedName,
    },
    DropRole {
        name: String,
    },
    DropExtension {
        name: String,
    },
    DropSchema {
        name: String,
    },
    /// The definition's `sql.after` statements (new or changed).
    RunSqlAfter,
}

/// One change to an existing column. The variant order is the order in which
/// several changes to one column run: what the new type could trip over goes
/// first (default, identity, NOT NULL), what needs the new type comes after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ColumnChange {
    DropDefault,
    DropIdentity,
    DropNotNull,
    SetType,
    SetDefault,
    /// NULLs are first replaced by the new default, when there is one.
    SetNotNull,
    AddIdentity,
    AlterIdentity,
}

impl Step {
    /// Execution order: steps with a lower key run first.
    pub fn phase(&self) -> (u8, u8) {
        match self {
            Step::RunSqlBefore => (0, 0),
            Step::CreateSchema { .. } => (1, 0),
            Step::CreateExtension { .. } => (2, 0),
            Step::RenameEnumAside { .. } => (3, 0),
            Step::CreateEnum { .. } => (3, 1),
            Step::RenameEnumValue { .. } => (3, 2),
            Step::AddEnumValue { .. } => (3, 3),
            Step::CreateRole { .. } => (4, 0),
            Step::AlterRole { .. } => (4, 1),
            Step::DropPolicy { .. } => (5, 0),
            Step::DisableRowLevelSecurity { .. } => (5, 1),
            Step::DropForeignKey { .. } => (5, 2),
            Step::DropIndex { .. } => (5, 3),
            Step::DropConstraint { .. } => (5, 4),
            Step::RenameTable { .. } => (6, 0),
            Step::RenameColumn { .. } => (6, 1),
            Step::RenameConstraint { .. } => (6, 2),
            Step::RenameIndex { .. } => (6, 3),
            Step::RenameSequence { .. } => (6, 4),
            Step::RenameSerialSequence { .. } => (6, 5),
            Step::CreateTable { .. } => (7, 0),
            Step::DropColumn { .. } => (8, 0),
            Step::AlterColumn { change, .. } => (8, 2 + *change as u8),
            // After the type changes: a generated column may use a converted one.
            Step::AddColumn { .. } => (8, 12),
            Step::RebuildTable { .. } => (8, 20),
            Step::DropTable { .. } => (9, 0),
            Step::AddPrimaryKey { .. } => (10, 0),
            Step::AddUnique { .. } => (10, 1),
            Step::AddCheck { .. } => (10, 2),
            // Indexes before foreign keys: a foreign key may rely on a unique index.
            Step::CreateIndex { .. } => (10, 3),
            Step::AddForeignKey { .. } => (10, 4),
            Step::ValidateConstraint { .. } => (10, 5),
            Step::EnableRowLevelSecurity { .. } => (11, 0),
            Step::CreatePolicy { .. } => (11, 1),
            Step::AlterPolicy { .. } => (11, 2),
            Step::CommentOnTable { .. } => (12, 0),
            Step::CommentOnColumn { .. } => (12, 1),
            Step::DropEnumAside { .. } => (13, 0),
            Step::DropEnum { .. } => (13, 1),
            Step::DropRole { .. } => (13, 2),
            Step::DropExtension { .. } => (13, 3),
            Step::DropSchema { .. } => (13, 4),
            Step::RunSqlAfter => (14, 0),
        }
    }
}

impl Step {
    /// Whether the step can run inside a transaction. A migration with a step
    /// that cannot must run statement by statement.
    pub fn transactional(&self) -> bool {
        !matches!(self, Step::CreateIndex { concurrently: true, .. } | Step::DropIndex { concurrently: true, .. })
    }
}

/// Choices about how a migration is made, where more than one way is correct.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Build and drop the indexes of existing tables `CONCURRENTLY`, so writes
    /// continue meanwhile. Such a migration cannot run inside a transaction.
    pub concurrent_indexes: bool,
}

/// The steps that turn `from` into `to`, in execution order. `diff(a, a)` is empty.
pub fn diff(from: &Schema, to: &Schema) -> Vec<Step> {
    diff_with(from, to, Options::default())
}

/// `diff` with explicit `Options`.
pub fn diff_with(from: &Schema, to: &Schema, options: Options) -> Vec<Step> {
    diff_paired(&Pairing::new(from, to), options)
}

/// `diff_with` for schemas already paired (`Pairing::new(from, to)`), for a
/// caller that also renders the steps: pairing two large schemas costs about
/// as much as diffing them.
pub fn diff_paired(pairing: &Pairing<'_>, options: Options) -> Vec<Step> {
    let to = pairing.schemas.to;
    let mut steps = Vec::new();
    objects::diff_objects(pairing, &mut steps);
    tables::diff_tables(pairing, options, &mut steps);
    // A stable sort by phase keeps generation order within a phase: the
    // definition's order, which is also drizzle-kit's.
    steps.sort_by_key(Step::phase);
    match to.dialect {
        Dialect::Postgresql => steps,
        Dialect::Sqlite => {
            let mut steps = sqlite::adapt(pairing, steps);
            steps.sort_by_key(Step::phase);
            steps
        }
    }
}

/// The steps that create `schema` from nothing (an initial migration).
pub fn plan_create(schema: &Schema) -> Vec<Step> {
    diff(&Schema::empty(schema.dialect), schema)
}

/// The old and new names of everything a migration renames, for the inverse
/// plan: a schema with `renamedFrom` pointing the other way.
pub fn reverse_renames(from: &Schema, to: &Schema) -> Schema {
    let pairing = Pairing::new(from, to);
    let mut reversed = from.clone();
    for e in &mut reversed.enums {
        e.renamed_values = enum_value_renames(from, to, &e.name).into_iter().collect();
    }
    for table in &mut reversed.tables {
        table.renamed_from = None;
        for column in &mut table.columns {
            column.renamed_from = None;
        }
        let Some(pair) = pairing.pair_of_old(&table.name) else { continue };
        if pair.tables.to.name != table.name {
            table.renamed_from = Some(pair.tables.to.name.name.clone());
        }
        if !pair.renames_columns() {
            continue;
        }
        for column in &mut table.columns {
            if let Some(new) = pair.new_column_name(&column.name).filter(|new| *new != column.name) {
                column.renamed_from = Some(new.to_string());
            }
        }
    }
    reversed
}
