//! drizzle-kit 0.31 compatibility: everything a drizzle-kit user's tools read.
//!
//! - `names`: what each object is called in `schema.ts` (shared with codegen);
//! - `snapshot`: `meta/NNNN_snapshot.json` (PostgreSQL snapshot version 7),
//!   exactly what drizzle-kit computes from our `schema.ts`;
//! - `folder`: the migration file, the journal and the file layout;
//! - `sum`: `schemaforge.sum`, the chained hash that protects the folder;
//! - `halves`: a list's work split between two threads, in order.
//!
//! The formats are pinned by the real drizzle-kit in the oracle tests: running
//! `drizzle-kit generate` over our `schema.ts` and folder must find nothing to do.

pub mod defaults;
pub mod folder;
pub mod halves;
pub mod names;
pub mod snapshot;
pub mod sum;

pub use folder::{
    FolderError, Journal, KitFile, Migration, NewMigration, Previous, next_migration, next_migration_with_snapshot, next_snapshot,
};
pub use names::DrizzleNames;
