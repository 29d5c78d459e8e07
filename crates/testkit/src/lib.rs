//! Test support shared by the integration tests: fixture paths, throw-away
//! PostgreSQL databases, and the pinned Node toolchain (drizzle-kit,
//! drizzle-orm, TypeScript) that judges our output.
//!
//! Nothing here skips silently: a missing server or toolchain fails the test
//! with the command that fixes it, because CI must run these checks.

pub mod catalog;
pub mod http;
pub mod node;
pub mod postgres;
pub mod rows;
pub mod sqlite;
pub mod wide;

pub use wide::wide_definition;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// `fixtures/examples/*.json`, sorted by name.
pub fn examples() -> Vec<PathBuf> {
    let dir = repo_root().join("fixtures/examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

/// The definitions this version generates for: the examples (all but the
/// collections front end) and `fixtures/features/*.json`, which exercise every
/// feature of the format.
pub fn supported_examples() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = examples().into_iter().filter(|p| p.file_name().is_none_or(|n| n != "collections-cms.json")).collect();
    let features = repo_root().join("fixtures/features");
    let mut extra: Vec<PathBuf> = std::fs::read_dir(&features)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", features.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    extra.sort();
    paths.extend(extra);
    paths
}

/// `fixtures/sqlite/*.json`, sorted by name: SQLite versions of the examples
/// and a kitchen sink exercising every feature SQLite holds.
pub fn sqlite_fixtures() -> Vec<PathBuf> {
    let dir = repo_root().join("fixtures/sqlite");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

/// The file stem of a fixture: `blog.v1` for `blog.v1.json`.
pub fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// A fresh, empty directory under `target/` for one test's files.
pub fn scratch_dir(label: &str) -> PathBuf {
    fresh_dir(&repo_root().join("target/test-scratch"), label)
}

/// A fresh, empty directory `<parent>/<label>-<pid>-<n>`, unique per call.
pub fn fresh_dir(parent: &Path, label: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = parent.join(format!("{label}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// `schema` without what needs the pgvector extension (the extension itself,
/// `vector` columns and indexes on them), and a description of what was removed:
/// for servers without pgvector, so the rest of a definition is still checked.
pub fn without_vector(schema: &schemaforge_model::Schema) -> (schemaforge_model::Schema, Vec<String>) {
    use schemaforge_model::{IndexKey, ScalarType};
    let mut schema = schema.clone();
    let mut removed = Vec::new();
    schema.extensions.retain(|e| {
        let keep = e.name != "vector";
        if !keep {
            removed.push("extension vector".to_string());
        }
        keep
    });
    for table in &mut schema.tables {
        let vector_columns: Vec<String> =
            table.columns.iter().filter(|c| matches!(c.ty.scalar, ScalarType::Vector { .. })).map(|c| c.name.clone()).collect();
        if vector_columns.is_empty() {
            continue;
        }
        table.columns.retain(|c| !vector_columns.contains(&c.name));
        table.indexes.retain(|i| {
            let keep = !i.elements.iter().any(|e| matches!(&e.key, IndexKey::Column(c) if vector_columns.contains(c)));
            if !keep {
                removed.push(format!("index {}", i.name));
            }
            keep
        });
        removed.extend(vector_columns.iter().map(|c| format!("column {}.{c}", table.name)));
    }
    (schema, removed)
}

/// `schema` with each role it creates renamed `<role>_<suffix>` (policies
/// follow), and the new names. Roles are global to a PostgreSQL cluster, so
/// tests that create them must not collide with each other or with old runs.
pub fn isolate_roles(schema: &schemaforge_model::Schema, suffix: &str) -> (schemaforge_model::Schema, Vec<String>) {
    let mut schema = schema.clone();
    let mut renamed = std::collections::BTreeMap::new();
    for role in schema.roles.iter_mut().filter(|r| !r.existing) {
        let new = format!("{}_{suffix}", role.name);
        renamed.insert(role.name.clone(), new.clone());
        role.name = new;
    }
    for table in &mut schema.tables {
        for policy in &mut table.policies {
            for role in &mut policy.roles {
                if let Some(new) = renamed.get(role) {
                    *role = new.clone();
                }
            }
            policy.roles.sort();
        }
    }
    (schema, renamed.into_values().collect())
}
