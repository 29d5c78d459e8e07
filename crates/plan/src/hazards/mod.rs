//! Hazard checks: one file per hazard, each a function from a step (in the
//! context of its whole plan) to what it risks. A step on a table created in
//! the same migration risks nothing about data: the table is empty.

mod access_exclusive_lock;
mod authorization_change;
mod builds_index;
mod custom_sql;
mod deletes_data;
mod irreversible;
mod may_fail_on_existing_data;
mod possible_rename;
mod rewrites_table;
mod updates_rows;
mod validation_scan;

use std::collections::BTreeSet;

use schemaforge_diff::{Pairing, Step, TablePair};
use schemaforge_model::{Column, Dialect, QualifiedName, Table};

use crate::Finding;

/// What the checks may look at besides the step itself.
pub(crate) struct Context<'a> {
    pub pairing: &'a Pairing<'a>,
    pub steps: &'a [Step],
    /// This plan undoes another (a down migration).
    pub inverse: bool,
    created: BTreeSet<&'a QualifiedName>,
}

impl<'a> Context<'a> {
    pub fn new(pairing: &'a Pairing<'a>, steps: &'a [Step], inverse: bool) -> Self {
        let created = pairing.created.iter().map(|t| &t.name).collect();
        Context { pairing, steps, inverse, created }
    }

    /// The table (by its name in the new schema) existed before this migration,
    /// so it may hold rows.
    pub fn existing(&self, table: &QualifiedName) -> bool {
        !self.created.contains(table)
    }

    /// The dialect the plan is for: it decides what locks, converts or fails.
    pub fn dialect(&self) -> Dialect {
        self.pairing.schemas.to.dialect
    }

    pub fn pair(&self, table: &QualifiedName) -> Option<&TablePair<'a>> {
        self.pairing.pair_of_new(table)
    }

    pub fn new_table(&self, table: &QualifiedName) -> Option<&'a Table> {
        self.pairing.new_table(table)
    }

    pub fn old_table(&self, table: &QualifiedName) -> Option<&'a Table> {
        self.pairing.old_table(table)
    }

    pub fn new_column(&self, table: &QualifiedName, column: &str) -> Option<&'a Column> {
        self.new_table(table).and_then(|t| t.column(column))
    }

    /// Old and new version of a column that exists in both schemas.
    pub fn column_pair(&self, table: &QualifiedName, column: &str) -> Option<(&'a Column, &'a Column)> {
        self.pair(table)?.columns.iter().find(|c| c.to.name == column).map(|c| (c.from, c.to))
    }

    /// The constraint `name` of the new table is a foreign key (else a check).
    pub fn is_foreign_key(&self, table: &QualifiedName, name: &str) -> bool {
        self.new_table(table).is_some_and(|t| t.foreign_keys.iter().any(|fk| fk.name == name))
    }

    /// The values of enum `name` that the new schema no longer has (under
    /// their own or a declared new label).
    pub fn removed_enum_values(&self, name: &QualifiedName) -> Vec<&'a String> {
        let (from, to) = (self.pairing.schemas.from, self.pairing.schemas.to);
        let Some(old) = from.enums.iter().find(|e| &e.name == name) else { return Vec::new() };
        let new = to.enums.iter().find(|e| &e.name == name);
        let renamed: Vec<String> = schemaforge_diff::enum_value_renames(from, to, name).into_iter().map(|(old, _)| old).collect();
        old.values.iter().filter(|v| !new.is_some_and(|n| n.values.contains(v)) && !renamed.contains(v)).collect()
    }

    /// The column is dropped and added again in this plan (a generated
    /// column whose expression changed): its values are derived, not lost.
    pub fn rebuilt(&self, table: &QualifiedName, column: &str) -> bool {
        let drop = Step::DropColumn { table: table.clone(), column: column.to_string() };
        let add = Step::AddColumn { table: table.clone(), column: column.to_string() };
        let has = |step: &Step| {
            self.steps.iter().any(|s| match s {
                Step::RebuildTable { changes, .. } => changes.contains(step),
                other => other == step,
            })
        };
        has(&drop) && has(&add)
    }
}

/// Every hazard of `step`, in `Hazard` order. A SQLite table rebuild carries
/// its own (the copy, the re-created indexes) and those of every change it makes.
pub(crate) fn assess(context: &Context<'_>, step: &Step) -> Vec<Finding> {
    let mut findings = assess_one(context, step);
    if let Step::RebuildTable { changes, .. } = step {
        for change in changes {
            for finding in assess_one(context, change) {
                if !findings.contains(&finding) {
                    findings.push(finding);
                }
            }
        }
        findings.sort_by_key(|f| f.hazard);
    }
    findings
}

fn assess_one(context: &Context<'_>, step: &Step) -> Vec<Finding> {
    let checks: [fn(&Context<'_>, &Step) -> Option<Finding>; 11] = [
        deletes_data::check,
        rewrites_table::check,
        access_exclusive_lock::check,
        builds_index::check,
        validation_scan::check,
        may_fail_on_existing_data::check,
        updates_rows::check,
        authorization_change::check,
        possible_rename::check,
        custom_sql::check,
        irreversible::check,
    ];
    let mut findings: Vec<Finding> = checks.iter().filter_map(|check| check(context, step)).collect();
    findings.sort_by_key(|f| f.hazard);
    findings
}
