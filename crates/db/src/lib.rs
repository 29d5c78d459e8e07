//! The database shell: live databases read into the model (introspection), migrations applied, plan facts measured.
//!
//! One module per dialect with the same file roles: `postgres` and `sqlite`.
//!
//! Everything here talks to a server through sqlx. What can be pure is kept
//! pure and apart: `postgres::catalog` turns catalog rows into a `Schema`
//! without a connection, so its rules are unit-tested; `postgres::introspect`
//! only runs the queries that fetch those rows.

pub mod postgres;
pub mod sqlite;

/// The schema read from a database, and what could not be represented exactly.
#[derive(Debug, Clone)]
pub struct Introspected {
    pub schema: schemaforge_model::Schema,
    /// One line per approximation ("index t_idx: INCLUDE columns are not kept").
    pub notes: Vec<String>,
}
