//! User SQL expressions: parsed with the dialect's grammar, then checked for
//! what their position allows them to refer to.
//!
//! PostgreSQL refuses, at `CREATE` time, a default that names a column, a
//! check or index that names a column the table lacks or uses a subquery, and a
//! generated column computed from another generated column. Catching these here
//! turns a failed migration into a validation error that points at the text.

use std::collections::BTreeSet;

use schemaforge_fragment::{self as fragment, ExpressionFacts, ExpressionSlot};
use schemaforge_model::{Dialect, QualifiedName};

use super::types::fragment_code;
use super::{CheckedFragments, Lowerer};
use crate::diagnostic::{Code, Diagnostic, Pointer};
use crate::document::{DefaultDef, Definition, IndexColumnDef, IndexColumnSpec};
use crate::suggest;

/// The columns an expression may name.
pub(super) enum Scope<'a> {
    /// A column default: no column at all.
    NoColumns,
    /// Columns of one table (`generated` ones only when `allow_generated`).
    Table { table: &'a QualifiedName, columns: &'a BTreeSet<&'a str>, generated: &'a BTreeSet<&'a str>, allow_generated: bool },
}

/// Below this many distinct fragments a second thread costs more than it saves.
const FRAGMENTS_WORTH_A_THREAD: usize = 64;

/// Checks `wanted`, the second half on another thread. A thread that
/// panicked leaves its half unchecked: lowering checks what it does not find.
fn check_in_halves(wanted: &[(Dialect, ExpressionSlot, &str)]) -> CheckedFragments {
    let check_all = |part: &[(Dialect, ExpressionSlot, &str)]| -> Vec<_> {
        part.iter()
            .map(|&(dialect, slot, sql)| ((dialect, slot, sql.to_string()), fragment::check_expression(dialect, slot, sql)))
            .collect()
    };
    let (first, second) = wanted.split_at(wanted.len() / 2);
    let (mine, theirs) = std::thread::scope(|scope| {
        let theirs = scope.spawn(|| check_all(second));
        (check_all(first), theirs.join())
    });
    let mut checked: CheckedFragments = mine.into_iter().collect();
    if let Ok(theirs) = theirs {
        checked.extend(theirs);
    }
    checked
}

/// The fragments of several definitions, each to be lowered for its dialect
/// (`dialect_of`), checked once for all of them: a definition and its next
/// version share most of theirs.
pub(crate) fn check_fragments_of(definitions: &[(&Definition, Dialect)]) -> CheckedFragments {
    let wanted: BTreeSet<(Dialect, ExpressionSlot, &str)> = definitions
        .iter()
        .flat_map(|&(definition, dialect)| fragments(definition).into_iter().map(move |(slot, sql)| (dialect, slot, sql)))
        .collect();
    let wanted: Vec<_> = wanted.into_iter().collect();
    if wanted.len() < FRAGMENTS_WORTH_A_THREAD {
        return CheckedFragments::new();
    }
    check_in_halves(&wanted)
}

/// Every SQL fragment of `definition` with the slot it is checked for.
fn fragments(definition: &Definition) -> BTreeSet<(ExpressionSlot, &str)> {
    let mut found = BTreeSet::new();
    for table in &definition.tables {
        for column in &table.columns {
            if let Some(DefaultDef::Sql(default)) = &column.default {
                found.insert((ExpressionSlot::ColumnDefault, default.sql.as_str()));
            }
            if let Some(generated) = &column.generated {
                found.insert((ExpressionSlot::GeneratedColumn, generated.sql.as_str()));
            }
        }
        for check in &table.checks {
            found.insert((ExpressionSlot::Check, check.expression.as_str()));
        }
        for index in &table.indexes {
            if let Some(predicate) = &index.predicate {
                found.insert((ExpressionSlot::IndexPredicate, predicate.as_str()));
            }
            for column in &index.columns {
                if let IndexColumnDef::Spec(IndexColumnSpec { expression: Some(expression), .. }) = column {
                    found.insert((ExpressionSlot::IndexExpression, expression.as_str()));
                }
            }
        }
        for policy in &table.policies {
            if let Some(using) = &policy.using {
                found.insert((ExpressionSlot::PolicyUsing, using.as_str()));
            }
            if let Some(with_check) = &policy.with_check {
                found.insert((ExpressionSlot::PolicyWithCheck, with_check.as_str()));
            }
        }
    }
    found
}

impl Lowerer {
    /// Checks the definition's fragments before lowering, half of them on a
    /// second thread: the grammar is the largest part of lowering a large
    /// definition, and each fragment is checked on its own. This only fills
    /// the cache `expression` reads (by dialect, slot and text), so lowering
    /// stays one sequential pass and checks whatever was not found here.
    pub(super) fn check_fragments_ahead(&mut self, definition: &Definition) {
        let dialect = self.dialect;
        let wanted: Vec<(Dialect, ExpressionSlot, &str)> = fragments(definition)
            .into_iter()
            .filter(|&(slot, sql)| !self.checked_fragments.contains_key(&(dialect, slot, sql.to_string())))
            .map(|(slot, sql)| (dialect, slot, sql))
            .collect();
        if wanted.len() >= FRAGMENTS_WORTH_A_THREAD {
            self.checked_fragments.extend(check_in_halves(&wanted));
        }
    }

    /// Checks an expression for `slot`; returns its trimmed text and facts.
    pub(super) fn expression(&mut self, path: &Pointer, slot: ExpressionSlot, sql: &str) -> Option<(String, ExpressionFacts)> {
        let dialect = self.dialect;
        let checked = self
            .checked_fragments
            .entry((dialect, slot, sql.to_string()))
            .or_insert_with(|| fragment::check_expression(dialect, slot, sql))
            .clone();
        match checked {
            Ok(facts) => Some((sql.trim().to_string(), facts)),
            Err(error) => {
                self.push(Diagnostic::new(path, fragment_code(&error), format!("{}: {error}", slot_noun(slot))));
                None
            }
        }
    }

    /// Reports what `facts` refers to that `scope` does not allow.
    pub(super) fn references(&mut self, path: &Pointer, slot: ExpressionSlot, facts: &ExpressionFacts, scope: &Scope<'_>) -> bool {
        let noun = slot_noun(slot);
        if facts.subquery {
            self.push(Diagnostic::new(
                path,
                Code::InvalidExpression,
                format!("PostgreSQL does not allow a subquery in {}", slot.describe()),
            ));
            return false;
        }
        if slot == ExpressionSlot::ColumnDefault && facts.collates {
            self.push(
                Diagnostic::new(
                    path,
                    Code::InvalidExpression,
                    "`COLLATE` at the top of a default would set the column's collation, not the default's",
                )
                .with_hint("wrap the expression in parentheses"),
            );
            return false;
        }
        let mut ok = true;
        for reference in &facts.column_references {
            let shown = reference.join(".");
            match scope {
                Scope::NoColumns => {
                    ok = false;
                    self.push(
                        Diagnostic::new(path, Code::InvalidExpression, format!("a column default cannot refer to a column (`{shown}`)"))
                            .with_hint("use a generated column to compute a value from other columns"),
                    );
                }
                Scope::Table { table, columns, generated, allow_generated } => {
                    let (qualifier, column) = match reference.as_slice() {
                        [column] => (None, column.as_str()),
                        [qualifier, column] => (Some(vec![qualifier.as_str()]), column.as_str()),
                        [schema, qualifier, column] => (Some(vec![schema.as_str(), qualifier.as_str()]), column.as_str()),
                        _ => (None, "*"),
                    };
                    let qualifier_ok = match qualifier.as_deref() {
                        None => true,
                        Some([t]) => *t == table.name,
                        Some([s, t]) => *s == table.namespace() && *t == table.name,
                        Some(_) => false,
                    };
                    if !qualifier_ok || column == "*" {
                        ok = false;
                        self.push(Diagnostic::new(
                            path,
                            Code::InvalidExpression,
                            format!("{noun} may only refer to columns of table `{table}`, not `{shown}`"),
                        ));
                    } else if !self.has_column(columns, column) {
                        ok = false;
                        if self.is_broken(table, column) {
                            continue;
                        }
                        let hint = columns
                            .iter()
                            .find(|c| c.to_lowercase() == column && **c != column)
                            .map(|c| format!("PostgreSQL folds unquoted names to lower case: write \"{c}\" in double quotes"))
                            .or_else(|| suggest::did_you_mean(column, columns.iter().copied()));
                        self.push(
                            Diagnostic::new(
                                path,
                                Code::InvalidExpression,
                                format!("{noun} refers to column `{column}`, which table `{table}` does not have"),
                            )
                            .with_hint_opt(hint),
                        );
                    } else if !allow_generated && self.has_column(generated, column) {
                        ok = false;
                        self.push(Diagnostic::new(
                            path,
                            Code::InvalidExpression,
                            format!("{noun} refers to generated column `{column}`; PostgreSQL computes generated columns only from ordinary ones"),
                        ));
                    }
                }
            }
        }
        ok
    }
}

impl Lowerer {
    /// Whether `columns` has `name` as the dialect compares names: exactly on
    /// PostgreSQL (unquoted names were folded already), regardless of ASCII
    /// case on SQLite.
    fn has_column(&self, columns: &BTreeSet<&str>, name: &str) -> bool {
        match self.dialect {
            schemaforge_model::Dialect::Postgresql => columns.contains(name),
            schemaforge_model::Dialect::Sqlite => columns.iter().any(|c| c.eq_ignore_ascii_case(name)),
        }
    }
}

/// `a check constraint` → `check constraint`, for the start of a message.
fn slot_noun(slot: ExpressionSlot) -> &'static str {
    let described = slot.describe();
    described.strip_prefix("a ").or_else(|| described.strip_prefix("an ")).unwrap_or(described)
}
