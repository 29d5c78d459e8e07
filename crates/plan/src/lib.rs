//! Migration plans: the statements that turn one schema into another, each
//! with the hazards it carries, plus the inverse plan and a summary.
//!
//! `plan(from, to)` is pure: it diffs (`schemaforge-diff`), renders
//! (`schemaforge-sql`) and assesses every step with the checks in `hazards`
//! (one file per hazard). `plan_down` plans the inverse: renames reversed,
//! and what the up migration deleted marked `irreversible`.

mod describe;
mod hazard;
mod hazards;
mod report;
mod version;

pub use schemaforge_diff::Options;
use schemaforge_diff::{Pairing, Step};
use schemaforge_model::Schema;
use schemaforge_sql::RenderError;

pub use describe::{describe, migration_name};
pub use hazard::{Finding, Hazard};
pub use report::Fact;
pub use version::{Bump, Version, bump_of, changelog};

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStatement {
    pub sql: String,
    pub step: Step,
    /// The hazards of the statement's step; a step rendered as several
    /// statements carries them on its first.
    pub hazards: Vec<Finding>,
}

/// A migration plan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub statements: Vec<PlannedStatement>,
    /// One line per change, in plan order ("add column users.bio").
    pub changes: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Every distinct hazard in the plan.
    pub fn hazards(&self) -> Vec<Hazard> {
        let mut all: Vec<Hazard> = self.statements.iter().flat_map(|s| s.hazards.iter().map(|f| f.hazard)).collect();
        all.sort();
        all.dedup();
        all
    }

    /// Whether the plan can run inside one transaction. When it cannot (an
    /// index built `CONCURRENTLY`), its statements run one by one, each
    /// committed on its own.
    pub fn transactional(&self) -> bool {
        self.statements.iter().all(|s| s.step.transactional())
    }

    /// The statements as a migration file holds them: what cannot be undone
    /// becomes a `-- irreversible: …` comment above its statement.
    pub fn file_statements(&self) -> Vec<schemaforge_sql::Statement> {
        self.statements
            .iter()
            .map(|s| {
                let notes: String = s
                    .hazards
                    .iter()
                    .filter(|f| f.hazard == Hazard::Irreversible)
                    .map(|f| format!("-- irreversible: {}\n", f.message))
                    .collect();
                schemaforge_sql::Statement { step: s.step.clone(), sql: format!("{notes}{}", s.sql) }
            })
            .collect()
    }

    /// The steps, each once, in order.
    pub fn steps(&self) -> Vec<&Step> {
        let mut steps: Vec<&Step> = Vec::new();
        for statement in &self.statements {
            if steps.last() != Some(&&statement.step) {
                steps.push(&statement.step);
            }
        }
        steps
    }
}

/// The plan turning `from` into `to`.
pub fn plan(from: &Schema, to: &Schema) -> Result<Plan, RenderError> {
    plan_with(from, to, Options::default())
}

/// The plan undoing `plan(from, to)`: from `to` back to `from`.
pub fn plan_down(from: &Schema, to: &Schema) -> Result<Plan, RenderError> {
    plan_down_with(from, to, Options::default())
}

/// `plan` with explicit `Options`.
pub fn plan_with(from: &Schema, to: &Schema, options: Options) -> Result<Plan, RenderError> {
    build(from, to, options, false)
}

/// `plan_down` with explicit `Options`.
pub fn plan_down_with(from: &Schema, to: &Schema, options: Options) -> Result<Plan, RenderError> {
    let reversed = schemaforge_diff::reverse_renames(from, to);
    build(to, &reversed, options, true)
}

fn build(from: &Schema, to: &Schema, options: Options, inverse: bool) -> Result<Plan, RenderError> {
    // Diffing, rendering and the hazard checks all work from one pairing of the schemas.
    let pairing = Pairing::new(from, to);
    let steps = schemaforge_diff::diff_paired(&pairing, options);
    let context = hazards::Context::new(&pairing, &steps, inverse);
    let mut plan = Plan::default();
    for (step, rendered) in steps.iter().zip(schemaforge_sql::render_each_paired(&pairing, &steps)?) {
        let mut findings = hazards::assess(&context, step);
        for statement in rendered {
            plan.statements.push(PlannedStatement { sql: statement.sql, step: step.clone(), hazards: std::mem::take(&mut findings) });
        }
        if let Some(change) = describe(step, &steps) {
            plan.changes.push(change);
        }
    }
    Ok(plan)
}
