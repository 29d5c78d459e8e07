//! The database shell: live databases read into the model (introspection), migrations applied, plan facts measured.
//!
//! One module per dialect with the same file roles: `postgres` and `sqlite`.
//!
//! Everything here talks to a server through sqlx. What can be pure is kept
//! pure and apart: `postgres::catalog` turns catalog rows into a `Schema`
//! without a connection, so its rules are unit-tested; `postgres::introspect`
//! only runs the queries that fetch those rows.

pub mod history;
pub mod postgres;
mod probes;
pub mod sqlite;
