//! The database shell: live databases read into the model (introspection), migrations applied, plan facts measured.
//!
//! One module per dialect with the same file roles: `postgres` and `sqlite`.
//!
//! Everything here talks to a server through sqlx. What can be pure is kept
//! pure and apart: `postgres::catalog` turns catalog rows into a `Schema`
//! without a connection, so its rules are unit-tested; `postgres::introspect`
//! only runs the queries that fetch those rows.

mod database;
mod declarations;
pub mod history;
pub mod postgres;
mod probes;
pub mod sqlite;

pub use database::{Comparison, Database, ReadError};

/// Why a pushed plan was not applied. Nothing of it was kept unless it says so.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("statement {number} of {total} failed; nothing was applied:\n{statement}\n{error}")]
    Failed { number: usize, total: usize, statement: String, error: String },
    #[error(
        "statement {number} of {total} failed (outside a transaction: the statements before it are applied):\n{statement}\n{error}\nFix the cause and push again"
    )]
    FailedPartway { number: usize, total: usize, statement: String, error: String },
    #[error("the database changed while the plan was being made; nothing was applied: push again")]
    Changed,
    #[error("the push would leave foreign keys pointing nowhere ({0}); nothing was applied")]
    ForeignKeysBroken(String),
    #[error("the database could not be read again before applying: {0}")]
    Read(String),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// The schema read from a database, and what could not be represented exactly.
#[derive(Debug, Clone)]
pub struct Introspected {
    pub schema: schemaforge_model::Schema,
    /// One line per approximation ("index t_idx: INCLUDE columns are not kept").
    pub notes: Vec<String>,
}
