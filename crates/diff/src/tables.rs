//! Tables: created, dropped, renamed, and for each table in both schemas its
//! columns, keys, checks, indexes, row-level security, policies and comments.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use schemaforge_model::{
    Check, Column, ColumnDefault, ColumnType, Dialect, ForeignKey, Identity, Index, IndexElement, IndexKey, Policy, PrimaryKey,
    QualifiedName, ScalarType, Table, Unique,
};

use schemaforge_fragment::{self as fragment, ExpressionSlot};

use crate::compare::{same_default, same_expression};
use crate::enums::{EnumChange, enum_changes, enum_value_renames};
use crate::{ColumnChange, Options, Pairing, Step, TablePair};

pub(crate) fn diff_tables(pairing: &Pairing<'_>, options: Options, steps: &mut Vec<Step>) {
    let swapped = swapped_enums(pairing);
    for table in &pairing.created {
        create_table(table, steps);
    }
    for pair in &pairing.tables {
        diff_table(pairing, pair, &swapped, options, steps);
    }
    for table in &pairing.dropped {
        steps.push(Step::DropTable { table: table.name.clone() });
    }
}

/// Enums whose type is rebuilt, so every column of them is converted.
fn swapped_enums(pairing: &Pairing<'_>) -> BTreeSet<QualifiedName> {
    enum_changes(pairing.schemas.from, pairing.schemas.to)
        .into_iter()
        .filter(|(_, change)| *change == EnumChange::Rebuild)
        .map(|(name, _)| name)
        .collect()
}

fn create_table(table: &Table, steps: &mut Vec<Step>) {
    let name = &table.name;
    steps.push(Step::CreateTable { table: name.clone() });
    // A new table is empty: nothing to build concurrently or validate later.
    steps.extend(table.indexes.iter().map(|i| Step::CreateIndex { table: name.clone(), name: i.name.clone(), concurrently: false }));
    steps.extend(table.foreign_keys.iter().map(|fk| Step::AddForeignKey { table: name.clone(), name: fk.name.clone(), not_valid: false }));
    if table.rls_enabled() {
        steps.push(Step::EnableRowLevelSecurity { table: name.clone() });
    }
    steps.extend(table.policies.iter().map(|p| Step::CreatePolicy { table: name.clone(), name: p.name.clone() }));
    if table.comment.is_some() {
        steps.push(Step::CommentOnTable { table: name.clone() });
    }
    steps.extend(
        table.columns.iter().filter(|c| c.comment.is_some()).map(|c| Step::CommentOnColumn { table: name.clone(), column: c.name.clone() }),
    );
}

fn diff_table(pairing: &Pairing<'_>, pair: &TablePair<'_>, swapped: &BTreeSet<QualifiedName>, options: Options, steps: &mut Vec<Step>) {
    let dialect = pairing.schemas.to.dialect;
    let (from, to) = (pair.tables.from, pair.tables.to);
    let (old_name, new_name) = (&from.name, &to.name);
    if old_name != new_name {
        steps.push(Step::RenameTable { from: old_name.clone(), to: new_name.clone() });
    }

    // Columns whose change PostgreSQL can only make by dropping and adding them
    // (a generated expression that changed, or whose columns are converted):
    // everything built on them is rebuilt too.
    let mut recreated: BTreeSet<String> = BTreeSet::new();
    // Columns whose type changes: PostgreSQL refuses that while a policy uses them.
    let mut retyped = false;
    for column in &pair.dropped {
        steps.push(Step::DropColumn { table: new_name.clone(), column: column.name.clone() });
    }
    for column in &pair.added {
        steps.push(Step::AddColumn { table: new_name.clone(), column: column.name.clone() });
    }
    // PostgreSQL refuses to change the type of a column a generated column
    // uses: such a generated column is dropped first and added back after
    // the type changes (`AddColumn` runs after `AlterColumn`).
    // SQLite converts nothing in place (a changed column rebuilds its table,
    // which re-creates everything on it), so nothing needs this there.
    let converted: Vec<_> = match dialect {
        Dialect::Postgresql => {
            pair.columns.iter().filter(|c| c.from.ty != c.to.ty || enum_of(&c.to.ty).is_some_and(|e| swapped.contains(e))).collect()
        }
        Dialect::Sqlite => Vec::new(),
    };
    let converted_columns: BTreeSet<&str> = converted.iter().map(|c| c.to.name.as_str()).collect();
    // A check or index expression on a column converted to or from an enum
    // holds literals of the old type (`'live'::status__old` once the type is
    // set aside); PostgreSQL re-reads it after the conversion and fails, so
    // it is dropped before and added back after.
    let enum_converted: BTreeSet<&str> =
        converted.iter().filter(|c| enum_of(&c.from.ty).is_some() || enum_of(&c.to.ty).is_some()).map(|c| c.to.name.as_str()).collect();
    for columns in &pair.columns {
        let (old, new) = (columns.from, columns.to);
        if old.name != new.name {
            steps.push(Step::RenameColumn { table: new_name.clone(), from: old.name.clone(), to: new.name.clone() });
        }
        let generated_changed = match (&old.generated, &new.generated) {
            (None, None) => false,
            (Some(a), Some(b)) => {
                !same_expression(dialect, &a.sql, &b.sql, || pair.column_names())
                    || uses_any(
                        dialect,
                        ExpressionSlot::GeneratedColumn,
                        &b.sql,
                        &converted_columns.iter().filter(|c| **c != new.name).copied().collect(),
                    )
            }
            _ => true,
        };
        if generated_changed {
            recreated.insert(new.name.clone());
            steps.push(Step::DropColumn { table: new_name.clone(), column: new.name.clone() });
            steps.push(Step::AddColumn { table: new_name.clone(), column: new.name.clone() });
            continue;
        }
        let converts_enum = enum_of(&new.ty).is_some_and(|e| swapped.contains(e)) && old.ty == new.ty;
        let relabelled = relabel_default(pairing, old, new);
        let changes = match dialect {
            Dialect::Postgresql => column_changes(&relabelled, new, converts_enum, || pair.column_names()),
            Dialect::Sqlite => sqlite_column_changes(pair, old, new),
        };
        // Sequences keep their names when their table or column is renamed;
        // follow the new names, so the database matches one built afresh.
        if let (Some(a), Some(b)) = (&old.identity, &new.identity)
            && a.sequence_name != b.sequence_name
        {
            steps.push(Step::RenameSequence { table: new_name.clone(), from: a.sequence_name.clone(), to: b.sequence_name.clone() });
        }
        if old.ty.scalar.is_serial() && new.ty.scalar.is_serial() && (old.name != new.name || old_name != new_name) {
            steps.push(Step::RenameSerialSequence { table: new_name.clone(), column: new.name.clone() });
        }
        retyped |= changes.contains(&ColumnChange::SetType);
        for change in changes {
            steps.push(Step::AlterColumn { table: new_name.clone(), column: new.name.clone(), change });
        }
        if old.comment != new.comment {
            steps.push(Step::CommentOnColumn { table: new_name.clone(), column: new.name.clone() });
        }
    }
    for column in pair.added.iter().filter(|c| c.comment.is_some()) {
        steps.push(Step::CommentOnColumn { table: new_name.clone(), column: column.name.clone() });
    }

    let context = Context { pairing, pair, recreated: &recreated, enum_converted: &enum_converted };
    diff_primary_key(&context, steps);
    let uniques = matched(&from.uniques, &to.uniques, |u| &u.name, |a, b| context.same_unique(a, b));
    uniques.emit(
        old_name,
        new_name,
        steps,
        |t, n| Step::DropConstraint { table: t, name: n },
        |t, n| vec![Step::AddUnique { table: t, name: n }],
        |t, a, b| Step::RenameConstraint { table: t, from: a, to: b },
    );
    let checks = matched(&from.checks, &to.checks, |c| &c.name, |a, b| context.same_check(a, b) && !context.reads_converted_enum_check(b));
    checks.emit(
        old_name,
        new_name,
        steps,
        |t, n| Step::DropConstraint { table: t, name: n },
        // The table may have rows: the constraint guards new rows at once and
        // the old ones are validated apart, under a lock that blocks no one.
        |t, n| vec![Step::AddCheck { table: t.clone(), name: n.clone(), not_valid: true }, Step::ValidateConstraint { table: t, name: n }],
        |t, a, b| Step::RenameConstraint { table: t, from: a, to: b },
    );
    let foreign_keys = matched(&from.foreign_keys, &to.foreign_keys, |f| &f.name, |a, b| context.same_foreign_key(a, b));
    foreign_keys.emit(
        old_name,
        new_name,
        steps,
        |t, n| Step::DropForeignKey { table: t, name: n },
        |t, n| {
            vec![Step::AddForeignKey { table: t.clone(), name: n.clone(), not_valid: true }, Step::ValidateConstraint { table: t, name: n }]
        },
        |t, a, b| Step::RenameConstraint { table: t, from: a, to: b },
    );
    let indexes =
        matched(&from.indexes, &to.indexes, |i| &i.name, |a, b| context.same_index(a, b) && !context.reads_converted_enum_index(b));
    indexes.emit(
        old_name,
        new_name,
        steps,
        |t, n| Step::DropIndex { table: t, name: n, concurrently: options.concurrent_indexes },
        |t, n| vec![Step::CreateIndex { table: t, name: n, concurrently: options.concurrent_indexes }],
        |t, a, b| Step::RenameIndex { table: t, from: a, to: b },
    );

    if from.rls_enabled() && !to.rls_enabled() {
        steps.push(Step::DisableRowLevelSecurity { table: old_name.clone() });
    }
    if !from.rls_enabled() && to.rls_enabled() {
        steps.push(Step::EnableRowLevelSecurity { table: new_name.clone() });
    }
    diff_policies(&context, retyped, steps);
    if from.comment != to.comment {
        steps.push(Step::CommentOnTable { table: new_name.clone() });
    }
}

impl Context<'_, '_> {
    /// The (new) check names a column converted to, from or between enums.
    fn reads_converted_enum_check(&self, check: &Check) -> bool {
        uses_any(self.dialect(), ExpressionSlot::Check, &check.expression, self.enum_converted)
    }

    /// The (new) index's predicate or an expression of it names a column
    /// converted to, from or between enums.
    fn reads_converted_enum_index(&self, index: &Index) -> bool {
        index.predicate.as_ref().is_some_and(|p| uses_any(self.dialect(), ExpressionSlot::IndexPredicate, p, self.enum_converted))
            || index.elements.iter().any(|e| match &e.key {
                IndexKey::Expression(x) => uses_any(self.dialect(), ExpressionSlot::IndexExpression, x, self.enum_converted),
                IndexKey::Column(_) => false,
            })
    }
}

/// Whether the (valid) expression `sql`, written for `slot`, names one of `columns`.
fn uses_any(dialect: Dialect, slot: ExpressionSlot, sql: &str, columns: &BTreeSet<&str>) -> bool {
    if columns.is_empty() {
        return false;
    }
    match fragment::check_expression(dialect, slot, sql) {
        Ok(facts) => facts.column_references.iter().filter_map(|r| r.last()).any(|c| columns.contains(c.as_str())),
        // Unreadable here (it was checked when the definition was read): rebuild to be safe.
        Err(_) => true,
    }
}

/// The old column with an enum default under the new label of a renamed
/// value: `RENAME VALUE` carries the default along, so that is no change.
fn relabel_default<'c>(pairing: &Pairing<'_>, old: &'c Column, new: &Column) -> Cow<'c, Column> {
    let (Some(name), Some(ColumnDefault::Value(value))) = (enum_of(&new.ty), &old.default) else { return Cow::Borrowed(old) };
    let renames = enum_value_renames(pairing.schemas.from, pairing.schemas.to, name);
    if renames.is_empty() || old.ty != new.ty {
        return Cow::Borrowed(old);
    }
    fn relabel(value: &serde_json::Value, renames: &[(String, String)]) -> serde_json::Value {
        match value {
            serde_json::Value::String(s) => {
                serde_json::Value::String(renames.iter().find(|(from, _)| from == s).map_or_else(|| s.clone(), |(_, to)| to.clone()))
            }
            serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(|i| relabel(i, renames)).collect()),
            other => other.clone(),
        }
    }
    Cow::Owned(Column { default: Some(ColumnDefault::Value(relabel(value, &renames))), ..old.clone() })
}

fn enum_of(ty: &ColumnType) -> Option<&QualifiedName> {
    match &ty.scalar {
        ScalarType::Enum(name) => Some(name),
        _ => None,
    }
}

/// The changes turning column `old` into `new` (same name by now).
fn column_changes<'r>(
    old: &Column,
    new: &Column,
    converts_enum: bool,
    renames: impl FnOnce() -> &'r BTreeMap<String, String>,
) -> Vec<ColumnChange> {
    let mut changes = Vec::new();
    let type_changes = old.ty != new.ty || converts_enum;
    let default_changes = !same_default(Dialect::Postgresql, old, new, renames);
    // A default of the old type may not cast to the new one: drop it first,
    // set it again after.
    if old.default.is_some() && (default_changes || type_changes) {
        changes.push(ColumnChange::DropDefault);
    }
    if new.default.is_some() && (default_changes || type_changes) {
        changes.push(ColumnChange::SetDefault);
    }
    if type_changes {
        changes.push(ColumnChange::SetType);
    }
    match (&old.identity, &new.identity) {
        (None, Some(_)) => changes.push(ColumnChange::AddIdentity),
        (Some(_), None) => changes.push(ColumnChange::DropIdentity),
        // A new sequence name alone is a rename (`RenameSequence`), not an alteration.
        (Some(a), Some(b)) if Identity { sequence_name: b.sequence_name.clone(), ..a.clone() } != *b => {
            changes.push(ColumnChange::AlterIdentity)
        }
        _ => {}
    }
    // Identity columns are NOT NULL by nature; their nullability follows the identity.
    if old.identity.is_none() && new.identity.is_none() {
        match (old.not_null, new.not_null) {
            (false, true) => changes.push(ColumnChange::SetNotNull),
            (true, false) => changes.push(ColumnChange::DropNotNull),
            _ => {}
        }
    }
    changes.sort();
    changes
}

/// The changes SQLite sees between two versions of a column: its declared
/// type (a boolean and an integer are one column to SQLite), whether it
/// numbers itself, its default as stored, and its nullability.
fn sqlite_column_changes(pair: &TablePair<'_>, old: &Column, new: &Column) -> Vec<ColumnChange> {
    use schemaforge_model::sqlite::{SqliteType, autoincrement};
    let mut changes = Vec::new();
    let type_changes =
        SqliteType::of(&old.ty) != SqliteType::of(&new.ty) || autoincrement(pair.tables.from, old) != autoincrement(pair.tables.to, new);
    if !same_default(Dialect::Sqlite, old, new, || pair.column_names()) {
        changes.push(if new.default.is_some() { ColumnChange::SetDefault } else { ColumnChange::DropDefault });
    }
    if type_changes {
        changes.push(ColumnChange::SetType);
    }
    match (old.not_null, new.not_null) {
        (false, true) => changes.push(ColumnChange::SetNotNull),
        (true, false) => changes.push(ColumnChange::DropNotNull),
        _ => {}
    }
    changes.sort();
    changes
}

struct Context<'p, 'a> {
    pairing: &'p Pairing<'a>,
    pair: &'p TablePair<'a>,
    recreated: &'p BTreeSet<String>,
    /// Columns converted to, from or between enums (new names).
    enum_converted: &'p BTreeSet<&'p str>,
}

impl Context<'_, '_> {
    fn dialect(&self) -> Dialect {
        self.pairing.schemas.to.dialect
    }

    /// An old column's new name, unless it is rebuilt (then nothing on it survives).
    fn column(&self, old: &str) -> Option<&str> {
        self.pair.new_column_name(old).filter(|new| !self.recreated.contains(*new))
    }

    fn same_columns(&self, old: &[String], new: &[String]) -> bool {
        old.len() == new.len() && old.iter().zip(new).all(|(a, b)| self.column(a) == Some(b.as_str()))
    }

    fn same_unique(&self, a: &Unique, b: &Unique) -> bool {
        a.nulls_not_distinct == b.nulls_not_distinct && self.same_columns(&a.columns, &b.columns)
    }

    fn same_check(&self, a: &Check, b: &Check) -> bool {
        self.recreated.is_empty() && same_expression(self.dialect(), &a.expression, &b.expression, || self.pair.column_names())
    }

    fn same_foreign_key(&self, a: &ForeignKey, b: &ForeignKey) -> bool {
        let Some(target) = self.pairing.new_table_name(&a.referenced_table) else { return false };
        if target != &b.referenced_table
            || a.on_delete != b.on_delete
            || a.on_update != b.on_update
            || !self.same_columns(&a.columns, &b.columns)
        {
            return false;
        }
        // Referenced columns follow the target table's own column renames.
        let target_pair = self.pairing.pair_of_old(&a.referenced_table);
        a.referenced_columns.len() == b.referenced_columns.len()
            && a.referenced_columns.iter().zip(&b.referenced_columns).all(|(x, y)| {
                let renamed = match target_pair {
                    Some(p) if p.tables.to.name == self.pair.tables.to.name => self.column(x),
                    Some(p) => p.new_column_name(x),
                    None => None,
                };
                renamed == Some(y.as_str())
            })
    }

    fn same_index(&self, a: &Index, b: &Index) -> bool {
        a.unique == b.unique
            && a.method == b.method
            && a.elements.len() == b.elements.len()
            && a.elements.iter().zip(&b.elements).all(|(x, y)| self.same_element(x, y))
            && match (&a.predicate, &b.predicate) {
                (None, None) => true,
                (Some(x), Some(y)) => self.recreated.is_empty() && same_expression(self.dialect(), x, y, || self.pair.column_names()),
                _ => false,
            }
    }

    fn same_element(&self, a: &IndexElement, b: &IndexElement) -> bool {
        a.order == b.order
            && a.nulls == b.nulls
            && a.opclass == b.opclass
            && match (&a.key, &b.key) {
                (IndexKey::Column(x), IndexKey::Column(y)) => self.column(x) == Some(y.as_str()),
                (IndexKey::Expression(x), IndexKey::Expression(y)) => {
                    self.recreated.is_empty() && same_expression(self.dialect(), x, y, || self.pair.column_names())
                }
                _ => false,
            }
    }
}

fn diff_primary_key(context: &Context<'_, '_>, steps: &mut Vec<Step>) {
    let (from, to) = (context.pair.tables.from, context.pair.tables.to);
    let same = |a: &PrimaryKey, b: &PrimaryKey| context.same_columns(&a.columns, &b.columns);
    match (&from.primary_key, &to.primary_key) {
        (None, None) => {}
        (Some(a), Some(b)) if same(a, b) => {
            if a.name != b.name {
                steps.push(Step::RenameConstraint { table: to.name.clone(), from: a.name.clone(), to: b.name.clone() });
            }
        }
        (old, new) => {
            if let Some(a) = old {
                steps.push(Step::DropConstraint { table: from.name.clone(), name: a.name.clone() });
            }
            if let Some(b) = new {
                steps.push(Step::AddPrimaryKey { table: to.name.clone(), name: b.name.clone() });
            }
        }
    }
}

fn diff_policies(context: &Context<'_, '_>, rebuild_all: bool, steps: &mut Vec<Step>) {
    let (from, to) = (context.pair.tables.from, context.pair.tables.to);
    let old: BTreeMap<&String, &Policy> = from.policies.iter().map(|p| (&p.name, p)).collect();
    let new: BTreeSet<&String> = to.policies.iter().map(|p| &p.name).collect();
    for policy in &from.policies {
        let rebuilt =
            rebuild_all || context.pair.tables.to.policies.iter().any(|p| p.name == policy.name && needs_rebuild(context, policy, p));
        if !new.contains(&policy.name) || rebuilt {
            steps.push(Step::DropPolicy { table: from.name.clone(), name: policy.name.clone() });
        }
    }
    for policy in &to.policies {
        match old.get(&policy.name) {
            None => steps.push(Step::CreatePolicy { table: to.name.clone(), name: policy.name.clone() }),
            Some(previous) if rebuild_all || needs_rebuild(context, previous, policy) => {
                steps.push(Step::CreatePolicy { table: to.name.clone(), name: policy.name.clone() });
            }
            Some(previous) if !same_policy(context, previous, policy) => {
                steps.push(Step::AlterPolicy { table: to.name.clone(), name: policy.name.clone() });
            }
            Some(_) => {}
        }
    }
}

fn same_clause(context: &Context<'_, '_>, a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => same_expression(context.dialect(), x, y, || context.pair.column_names()),
        _ => false,
    }
}

fn same_policy(context: &Context<'_, '_>, a: &Policy, b: &Policy) -> bool {
    a.roles == b.roles && same_clause(context, &a.using, &b.using) && same_clause(context, &a.with_check, &b.with_check)
}

/// `ALTER POLICY` cannot change the kind or command, nor remove a clause.
fn needs_rebuild(context: &Context<'_, '_>, a: &Policy, b: &Policy) -> bool {
    a.kind != b.kind
        || a.command != b.command
        || (a.using.is_some() && b.using.is_none())
        || (a.with_check.is_some() && b.with_check.is_none())
        || (!context.recreated.is_empty() && !same_policy(context, a, b))
}

/// Objects of one kind in a table pair, matched by name, then by definition
/// (a same definition under a new name is a rename).
struct Matched {
    dropped: Vec<String>,
    added: Vec<String>,
    renamed: Vec<(String, String)>,
}

fn matched<T>(old: &[T], new: &[T], name: impl Fn(&T) -> &String, same: impl Fn(&T, &T) -> bool) -> Matched {
    let mut result = Matched { dropped: Vec::new(), added: Vec::new(), renamed: Vec::new() };
    let new_by_name: BTreeMap<&String, &T> = new.iter().map(|n| (name(n), n)).collect();
    let old_names: BTreeSet<&String> = old.iter().map(&name).collect();
    let mut unmatched_old = Vec::new();
    for item in old {
        match new_by_name.get(name(item)) {
            Some(counterpart) if same(item, counterpart) => {}
            Some(_) => {
                result.dropped.push(name(item).clone());
                result.added.push(name(item).clone());
            }
            None => unmatched_old.push(item),
        }
    }
    let mut unmatched_new: Vec<&T> = new.iter().filter(|n| !old_names.contains(name(n))).collect();
    for item in unmatched_old {
        match unmatched_new.iter().position(|n| same(item, n)) {
            Some(i) => {
                let counterpart = unmatched_new.remove(i);
                result.renamed.push((name(item).clone(), name(counterpart).clone()));
            }
            None => result.dropped.push(name(item).clone()),
        }
    }
    result.added.extend(unmatched_new.into_iter().map(|n| name(n).clone()));
    result
}

impl Matched {
    fn emit(
        self,
        old_table: &QualifiedName,
        new_table: &QualifiedName,
        steps: &mut Vec<Step>,
        drop: impl Fn(QualifiedName, String) -> Step,
        add: impl Fn(QualifiedName, String) -> Vec<Step>,
        rename: impl Fn(QualifiedName, String, String) -> Step,
    ) {
        // Drops run before renames (on the old table name); the rest after.
        steps.extend(self.dropped.into_iter().map(|n| drop(old_table.clone(), n)));
        steps.extend(self.renamed.into_iter().map(|(a, b)| rename(new_table.clone(), a, b)));
        steps.extend(self.added.into_iter().flat_map(|n| add(new_table.clone(), n)));
    }
}
