//! PostgreSQL: introspection (`introspect`), the pure reading of catalog rows
//! into the model (`catalog`), a definition as the server spells it
//! (`shadow`), applying folders (`migrate`) and pushes (`push`), and the
//! facts behind a plan (`probes`).

pub mod catalog;
mod introspect;
pub mod migrate;
pub mod probes;
pub mod push;
mod shadow;

pub use crate::declarations::{declared_view, scope, with_declarations};
pub use introspect::{IntrospectError, IntrospectOptions, introspect};
pub use shadow::{ShadowError, build_shadow};

/// Schemas that hold migration bookkeeping, never user objects: drizzle's
/// `drizzle.__drizzle_migrations` and our own history.
pub const BOOKKEEPING_SCHEMAS: [&str; 2] = ["drizzle", "schemaforge"];
