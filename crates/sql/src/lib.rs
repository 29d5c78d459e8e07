//! SQL rendering: each dialect turns `Step`s into statements.
//!
//! Conventions shared by every dialect module:
//! - a renderer never adds the terminating `;`: how statements are separated is
//!   a property of the output format (the drizzle-kit folder joins them with
//!   `;--> statement-breakpoint`), not of the statement;
//! - identifiers go through the dialect's one quoting function, literals
//!   through its one literal function;
//! - every `Step` variant is matched explicitly, so a new step fails to compile
//!   until every dialect renders it.

pub use schemaforge_model::js;
pub mod postgres;
pub mod sqlite;

use schemaforge_diff::Step;
use schemaforge_model::{Dialect, Schema};

/// One SQL statement and the step it implements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub step: Step,
    /// The statement text, without a terminating `;`.
    pub sql: String,
}

/// Why a plan could not be rendered. A plan made by `schemaforge-diff` from
/// validated schemas always renders; these errors mean the plan and the
/// schemas it is rendered against disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the plan refers to {0}, which the schemas do not contain; re-plan from the same schemas")]
    MissingObject(String),
    #[error("the plan holds {what}, which {dialect} has no statement for; re-plan for {dialect}")]
    NotInDialect { what: String, dialect: &'static str },
}

/// Renders `steps`, planned from `from` to `to`, as statements of `to.dialect`.
pub fn render(from: &Schema, to: &Schema, steps: &[Step]) -> Result<Vec<Statement>, RenderError> {
    match to.dialect {
        Dialect::Postgresql => postgres::render(from, to, steps),
        Dialect::Sqlite => sqlite::render(from, to, steps),
    }
}

/// Renders each of `steps` apart: the statements of `steps[i]` at index `i`,
/// the same as `render` gives for all of them. For callers that attach
/// something to each step (a plan's hazards): rendering step by step with
/// `render` would index both schemas again for every step.
pub fn render_each(from: &Schema, to: &Schema, steps: &[Step]) -> Result<Vec<Vec<Statement>>, RenderError> {
    render_each_paired(&schemaforge_diff::Pairing::new(from, to), steps)
}

/// `render_each` for schemas already paired (`Pairing::new(from, to)`), for
/// a caller that also diffed them with that pairing.
pub fn render_each_paired(pairing: &schemaforge_diff::Pairing<'_>, steps: &[Step]) -> Result<Vec<Vec<Statement>>, RenderError> {
    match pairing.schemas.to.dialect {
        Dialect::Postgresql => postgres::render_each(pairing, steps),
        Dialect::Sqlite => sqlite::render_each(pairing, steps),
    }
}

/// Renders the creation of `schema` from nothing.
pub fn render_create(schema: &Schema) -> Result<Vec<Statement>, RenderError> {
    render(&Schema::empty(schema.dialect), schema, &schemaforge_diff::plan_create(schema))
}
