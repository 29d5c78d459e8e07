//! SQLite: the steps its `ALTER TABLE` can take, and table rebuilds for the rest.
//!
//! SQLite alters a table in place only to rename it or a column, to add a
//! column that needs no computed default, and to drop a column nothing else
//! depends on; indexes come and go with `CREATE`/`DROP INDEX`. Every other
//! change to an existing table (a column's type, default or nullability, its
//! keys, checks and foreign keys) is made by rebuilding the table, as the
//! SQLite documentation prescribes: one `RebuildTable` step replaces all of
//! that table's other steps. Renames stay `ALTER`s and run first, because
//! SQLite then rewrites every reference to the renamed table or column
//! (other tables' foreign keys included), which a rebuild would not.
//!
//! What SQLite has no notion of is left out: enum types (their labels are a
//! check on each column, see the spec's SQLite lowering), comments,
//! sequences, `VALIDATE CONSTRAINT` (there is no `NOT VALID`), and names of
//! foreign keys and primary keys, which SQLite does not store.

use std::collections::{BTreeMap, BTreeSet};

use schemaforge_fragment::{self as fragment, ExpressionSlot};
use schemaforge_model::{Column, ColumnDefault, Dialect, QualifiedName, Table};

use crate::{Pairing, Step, TablePair};

pub(crate) fn adapt(pairing: &Pairing<'_>, steps: Vec<Step>) -> Vec<Step> {
    let created: BTreeSet<&QualifiedName> = pairing.created.iter().map(|t| &t.name).collect();
    let rebuilt: BTreeSet<QualifiedName> = pairing
        .tables
        .iter()
        .filter(|pair| steps.iter().any(|s| needs_rebuild(pairing, pair, s)))
        .map(|p| p.tables.to.name.clone())
        .collect();
    let mut changes: BTreeMap<QualifiedName, Vec<Step>> = BTreeMap::new();
    let mut out = Vec::with_capacity(steps.len());
    for step in steps {
        if names_unstored_key(pairing, &step) {
            continue;
        }
        if let Some(pair) = table_of(pairing, &step)
            && rebuilt.contains(&pair.tables.to.name)
            && !matches!(step, Step::RenameTable { .. } | Step::RenameColumn { .. })
        {
            changes.entry(pair.tables.to.name.clone()).or_default().push(step);
            continue;
        }
        match step {
            // SQLite has no enum types, comments, sequences or deferred validation.
            Step::CreateEnum { .. }
            | Step::DropEnum { .. }
            | Step::AddEnumValue { .. }
            | Step::RenameEnumValue { .. }
            | Step::RenameEnumAside { .. }
            | Step::DropEnumAside { .. }
            | Step::CommentOnTable { .. }
            | Step::CommentOnColumn { .. }
            | Step::RenameSequence { .. }
            | Step::RenameSerialSequence { .. }
            | Step::ValidateConstraint { .. } => {}
            // Foreign keys are written inside `CREATE TABLE`.
            Step::AddForeignKey { ref table, .. } if created.contains(table) => {}
            Step::RenameIndex { table, from, to } => {
                out.push(Step::DropIndex { table: table.clone(), name: from, concurrently: false });
                out.push(Step::CreateIndex { table, name: to, concurrently: false });
            }
            // Only uniques (unique indexes) reach here: a renamed check
            // rebuilds its table, and key renames were left out above.
            Step::RenameConstraint { table, from, to } => {
                out.push(Step::DropConstraint { table: table.clone(), name: from });
                out.push(Step::AddUnique { table, name: to });
            }
            Step::CreateTable { table } => {
                let uniques: Vec<Step> = pairing
                    .created
                    .iter()
                    .find(|t| t.name == table)
                    .map(|t| t.uniques.iter().map(|u| Step::AddUnique { table: table.clone(), name: u.name.clone() }).collect())
                    .unwrap_or_default();
                out.push(Step::CreateTable { table });
                out.extend(uniques);
            }
            other => out.push(other),
        }
    }
    for (table, changes) in changes {
        out.push(Step::RebuildTable { table, changes });
    }
    children_dropped_first(pairing, &mut out);
    out
}

/// Orders the dropped tables so that a table is dropped before the tables it
/// references: with foreign keys enforced (drizzle-orm's migrator cannot turn
/// them off), dropping a parent first would delete or refuse its child rows.
fn children_dropped_first(pairing: &Pairing<'_>, steps: &mut [Step]) {
    let positions: Vec<usize> = steps.iter().enumerate().filter(|(_, s)| matches!(s, Step::DropTable { .. })).map(|(i, _)| i).collect();
    let mut remaining: Vec<QualifiedName> =
        positions.iter().filter_map(|&i| if let Step::DropTable { table } = &steps[i] { Some(table.clone()) } else { None }).collect();
    let references = |child: &QualifiedName, parent: &QualifiedName| {
        child != parent
            && pairing.dropped.iter().any(|t| &t.name == child && t.foreign_keys.iter().any(|fk| &fk.referenced_table == parent))
    };
    let mut ordered = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        // A table no other remaining one references; when every one is
        // referenced, a table of a cycle that nothing outside the cycle
        // references (one always exists), never a parent of a table that
        // could still be dropped first.
        let next = remaining
            .iter()
            .position(|t| !remaining.iter().any(|other| references(other, t)))
            .or_else(|| {
                remaining.iter().position(|t| {
                    remaining.iter().filter(|other| references(other, t)).all(|child| reaches(&remaining, &references, t, child))
                })
            })
            .unwrap_or(0);
        ordered.push(remaining.remove(next));
    }
    for (position, table) in positions.into_iter().zip(ordered) {
        steps[position] = Step::DropTable { table };
    }
}

/// Whether `from` reaches `to` by following references among `tables`
/// (`references(child, parent)`): then `from` and a child `to` of it are on one cycle.
fn reaches(
    tables: &[QualifiedName],
    references: &impl Fn(&QualifiedName, &QualifiedName) -> bool,
    from: &QualifiedName,
    to: &QualifiedName,
) -> bool {
    let mut seen: BTreeSet<&QualifiedName> = BTreeSet::from([from]);
    let mut frontier = vec![from];
    while let Some(table) = frontier.pop() {
        for parent in tables.iter().filter(|parent| references(table, parent)) {
            if parent == to {
                return true;
            }
            if seen.insert(parent) {
                frontier.push(parent);
            }
        }
    }
    false
}

/// A rename of a primary or foreign key: SQLite stores no names for them,
/// so there is nothing to rename.
fn names_unstored_key(pairing: &Pairing<'_>, step: &Step) -> bool {
    let Step::RenameConstraint { table, from, to } = step else { return false };
    let Some(pair) = table_of_new(pairing, table) else { return false };
    let check = pair.tables.from.checks.iter().any(|c| &c.name == from);
    let unique = pair.tables.to.uniques.iter().any(|u| &u.name == to);
    !check && !unique
}

/// The table pair a step of an existing table belongs to (drops name the
/// table by its old name, everything else by its new one).
fn table_of<'p, 'a>(pairing: &'p Pairing<'a>, step: &Step) -> Option<&'p TablePair<'a>> {
    match step {
        Step::DropPolicy { table, .. }
        | Step::DisableRowLevelSecurity { table }
        | Step::DropForeignKey { table, .. }
        | Step::DropIndex { table, .. }
        | Step::DropConstraint { table, .. } => pairing.pair_of_old(table),
        Step::RenameTable { to, .. } => table_of_new(pairing, to),
        Step::RenameColumn { table, .. }
        | Step::RenameConstraint { table, .. }
        | Step::RenameIndex { table, .. }
        | Step::RenameSequence { table, .. }
        | Step::RenameSerialSequence { table, .. }
        | Step::DropColumn { table, .. }
        | Step::AddColumn { table, .. }
        | Step::AlterColumn { table, .. }
        | Step::AddPrimaryKey { table, .. }
        | Step::AddUnique { table, .. }
        | Step::AddCheck { table, .. }
        | Step::CreateIndex { table, .. }
        | Step::AddForeignKey { table, .. }
        | Step::ValidateConstraint { table, .. }
        | Step::EnableRowLevelSecurity { table }
        | Step::CreatePolicy { table, .. }
        | Step::AlterPolicy { table, .. }
        | Step::CommentOnTable { table }
        | Step::CommentOnColumn { table, .. }
        | Step::RebuildTable { table, .. } => table_of_new(pairing, table),
        Step::RunSqlBefore
        | Step::CreateSchema { .. }
        | Step::CreateExtension { .. }
        | Step::CreateEnum { .. }
        | Step::RenameEnumValue { .. }
        | Step::AddEnumValue { .. }
        | Step::RenameEnumAside { .. }
        | Step::CreateRole { .. }
        | Step::AlterRole { .. }
        | Step::CreateTable { .. }
        | Step::DropTable { .. }
        | Step::DropEnumAside { .. }
        | Step::DropEnum { .. }
        | Step::DropRole { .. }
        | Step::DropExtension { .. }
        | Step::DropSchema { .. }
        | Step::RunSqlAfter => None,
    }
}

fn table_of_new<'p, 'a>(pairing: &'p Pairing<'a>, name: &QualifiedName) -> Option<&'p TablePair<'a>> {
    pairing.pair_of_new(name)
}

/// Whether `step`, a change to the table of `pair`, is beyond SQLite's `ALTER TABLE`.
fn needs_rebuild(pairing: &Pairing<'_>, pair: &TablePair<'_>, step: &Step) -> bool {
    if table_of(pairing, step).is_none_or(|p| p.tables.to.name != pair.tables.to.name) {
        return false;
    }
    let (old, new) = (pair.tables.from, pair.tables.to);
    match step {
        Step::AlterColumn { .. } | Step::AddPrimaryKey { .. } | Step::AddCheck { .. } => true,
        Step::AddForeignKey { .. } | Step::DropForeignKey { .. } => true,
        Step::DropConstraint { name, .. } => !old.uniques.iter().any(|u| &u.name == name),
        Step::RenameConstraint { from, .. } => old.checks.iter().any(|c| &c.name == from),
        Step::AddColumn { column, .. } => new.column(column).is_none_or(|c| !addable(new, c)),
        Step::DropColumn { column, .. } => !droppable(pairing, old, column),
        _ => false,
    }
}

/// Whether `ALTER TABLE … ADD COLUMN` can add `column`: SQLite refuses a key
/// column, a stored generated column, a computed default (anything in
/// parentheses or a clock keyword), and NOT NULL without a default.
fn addable(table: &Table, column: &Column) -> bool {
    let in_key = table.primary_key.as_ref().is_some_and(|pk| pk.columns.contains(&column.name))
        || table.foreign_keys.iter().any(|fk| fk.columns.contains(&column.name));
    let literal_default = match &column.default {
        None => !column.not_null,
        Some(ColumnDefault::Value(value)) => !value.is_null() || !column.not_null,
        Some(ColumnDefault::Sql(_)) => false,
    };
    !in_key && column.generated.is_none() && literal_default
}

/// Whether `ALTER TABLE … DROP COLUMN` can drop `column` of `table`: SQLite
/// refuses a column that is part of a key, a foreign key (either end), a
/// check or a generated column. (Indexes and uniques on it are dropped by
/// earlier steps.)
fn droppable(pairing: &Pairing<'_>, table: &Table, column: &str) -> bool {
    let named = |sql: &str, slot: ExpressionSlot| {
        fragment::check_expression(Dialect::Sqlite, slot, sql)
            .map(|facts| facts.column_references.iter().any(|r| r.last().is_some_and(|c| c.eq_ignore_ascii_case(column))))
            .unwrap_or(true)
    };
    let in_key = table.primary_key.as_ref().is_some_and(|pk| pk.columns.iter().any(|c| c == column))
        || table.foreign_keys.iter().any(|fk| fk.columns.iter().any(|c| c == column));
    let referenced =
        pairing.schemas.from.tables.iter().any(|t| {
            t.foreign_keys.iter().any(|fk| fk.referenced_table == table.name && fk.referenced_columns.iter().any(|c| c == column))
        });
    let in_check = table.checks.iter().any(|c| named(&c.expression, ExpressionSlot::Check));
    let in_generated = table.columns.iter().filter_map(|c| c.generated.as_ref()).any(|g| named(&g.sql, ExpressionSlot::GeneratedColumn));
    !(in_key || referenced || in_check || in_generated)
}

#[cfg(test)]
mod tests {
    use schemaforge_model::Schema;

    use crate::{Step, diff};

    fn schema(json: &str) -> Schema {
        schemaforge_spec::parse_definition(json).unwrap_or_else(|d| panic!("invalid test definition: {d:?}"))
    }

    fn dropped(steps: &[Step]) -> Vec<String> {
        steps.iter().filter_map(|s| if let Step::DropTable { table } = s { Some(table.name.clone()) } else { None }).collect()
    }

    #[test]
    fn children_are_dropped_before_parents_even_beside_a_cycle() {
        // accounts ← people ← members ⇄ teams: the cycle is broken inside
        // itself, and accounts and people wait for their children.
        let full = schema(
            r#"{"dialect": "sqlite", "tables": [
              {"name": "accounts", "columns": [{"name": "id", "type": "integer", "primaryKey": true}]},
              {"name": "people", "columns": [{"name": "id", "type": "integer", "primaryKey": true},
                {"name": "account_id", "type": "integer", "references": {"table": "accounts", "column": "id"}}]},
              {"name": "teams", "columns": [{"name": "id", "type": "integer", "primaryKey": true},
                {"name": "lead_id", "type": "integer", "references": {"table": "members", "column": "person_id"}}]},
              {"name": "members", "columns": [{"name": "person_id", "type": "integer", "primaryKey": true,
                "references": {"table": "people", "column": "id"}},
                {"name": "team_id", "type": "integer", "references": {"table": "teams", "column": "id"}}]}
            ]}"#,
        );
        let empty = schema(r#"{"dialect": "sqlite", "tables": []}"#);
        let order = dropped(&diff(&full, &empty));
        let position = |t: &str| order.iter().position(|d| d == t).unwrap_or_else(|| panic!("{t} is not dropped: {order:?}"));
        assert!(position("members") < position("people"), "{order:?}");
        assert!(position("people") < position("accounts"), "{order:?}");
        assert_eq!(order.len(), 4);
    }
}
