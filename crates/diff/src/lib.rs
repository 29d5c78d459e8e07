//! Migration steps and the plan that orders them.
//!
//! A `Step` names objects; it never copies them. Renderers look the names up in
//! the schema the step applies to, so a step is cheap, `Ord`, and renders the
//! same way every time. The variant order of `Step` is the execution phase
//! order: objects are created before anything that depends on them (schemas
//! and types before tables, tables before their indexes, indexes before the
//! foreign keys that may rely on them, policies after, custom `after` SQL last).
//!
//! This version plans the creation of a whole schema (`plan_create`), which is
//! what an initial migration is. Alterations and drops between two schemas are
//! planned by the differ that extends this enum.

use schemaforge_model::{QualifiedName, Schema};

/// One unit of a migration. Variant order is phase order (see the module docs
/// and `Step::phase`); within a phase, steps keep the definition's order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// The definition's `sql.before` script.
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
    CreateRole {
        name: String,
    },
    CreateTable {
        table: QualifiedName,
    },
    /// Indexes before foreign keys: a foreign key may rely on a unique index.
    CreateIndex {
        table: QualifiedName,
        name: String,
    },
    /// Foreign keys come after every table exists, so cycles need no special case.
    AddForeignKey {
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
    CommentOnTable {
        table: QualifiedName,
    },
    CommentOnColumn {
        table: QualifiedName,
        column: String,
    },
    /// The definition's `sql.after` script.
    RunSqlAfter,
}

/// The steps that create `schema` from nothing, in execution order.
pub fn plan_create(schema: &Schema) -> Vec<Step> {
    let mut steps = Vec::new();
    if !schema.custom_sql.before.is_empty() {
        steps.push(Step::RunSqlBefore);
    }
    steps.extend(schema.namespaces.iter().map(|name| Step::CreateSchema { name: name.clone() }));
    steps.extend(schema.extensions.iter().map(|e| Step::CreateExtension { name: e.name.clone() }));
    steps.extend(schema.enums.iter().map(|e| Step::CreateEnum { name: e.name.clone() }));
    steps.extend(schema.roles.iter().filter(|r| !r.existing).map(|r| Step::CreateRole { name: r.name.clone() }));
    for table in &schema.tables {
        let name = &table.name;
        steps.push(Step::CreateTable { table: name.clone() });
        steps.extend(table.foreign_keys.iter().map(|fk| Step::AddForeignKey { table: name.clone(), name: fk.name.clone() }));
        steps.extend(table.indexes.iter().map(|i| Step::CreateIndex { table: name.clone(), name: i.name.clone() }));
        if table.rls_enabled() {
            steps.push(Step::EnableRowLevelSecurity { table: name.clone() });
        }
        steps.extend(table.policies.iter().map(|p| Step::CreatePolicy { table: name.clone(), name: p.name.clone() }));
        if table.comment.is_some() {
            steps.push(Step::CommentOnTable { table: name.clone() });
        }
        steps.extend(
            table
                .columns
                .iter()
                .filter(|c| c.comment.is_some())
                .map(|c| Step::CommentOnColumn { table: name.clone(), column: c.name.clone() }),
        );
    }
    if !schema.custom_sql.after.is_empty() {
        steps.push(Step::RunSqlAfter);
    }
    // A stable sort by phase keeps the definition's order within a phase:
    // extensions may depend on each other, and tables, keys and indexes read
    // in the order their author wrote them (which is also drizzle-kit's).
    steps.sort_by_key(Step::phase);
    steps
}

impl Step {
    /// The execution phase: steps of a lower phase run first.
    pub fn phase(&self) -> u8 {
        match self {
            Step::RunSqlBefore => 0,
            Step::CreateSchema { .. } => 1,
            Step::CreateExtension { .. } => 2,
            Step::CreateEnum { .. } => 3,
            Step::CreateRole { .. } => 4,
            Step::CreateTable { .. } => 5,
            Step::CreateIndex { .. } => 6,
            Step::AddForeignKey { .. } => 7,
            Step::EnableRowLevelSecurity { .. } => 8,
            Step::CreatePolicy { .. } => 9,
            Step::CommentOnTable { .. } => 10,
            Step::CommentOnColumn { .. } => 11,
            Step::RunSqlAfter => 12,
        }
    }
}
