//! Reading a migration folder from disk for the live commands: its journal,
//! each migration's files, and the checks that the folder is whole (the sum
//! file, no two migrations branching from one parent).

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use schemaforge_kit::Journal;
use schemaforge_kit::folder::{MigrationFile, definition_path, snapshot_path, summed_paths};
use schemaforge_kit::sum::{self, SUM_FILE};

/// A folder read for applying.
pub struct Folder {
    pub dir: PathBuf,
    pub migrations: Vec<MigrationFile>,
    /// False when the folder has no `schemaforge.sum` (made by drizzle-kit alone).
    pub summed: bool,
    /// The journal's dialect (`postgresql`, `sqlite`).
    pub dialect: String,
}

impl Folder {
    /// The definition a migration was generated from, when the folder keeps it.
    pub fn definition(&self, tag: &str) -> Option<schemaforge_model::Schema> {
        let text = fs::read_to_string(self.dir.join(definition_path(tag))).ok()?;
        schemaforge_spec::parse_definition_for(&text, schemaforge_model::Dialect::from_name(&self.dialect)).ok()
    }
}

/// The migrations folder: `--dir`, else `dir` under `[migrations]` in
/// `./schemaforge.toml`, else `./drizzle`. A configuration file that does not
/// parse is an error, not a reason to fall back to `./drizzle` unannounced.
pub fn resolve_dir(flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir.to_path_buf());
    }
    Ok(crate::config::load()?.migrations.dir.unwrap_or_else(|| PathBuf::from("drizzle")))
}

/// Reads and checks the folder at `dir`.
pub fn read(dir: &Path) -> anyhow::Result<Folder> {
    let journal_path = dir.join("meta").join("_journal.json");
    let text = fs::read_to_string(&journal_path)
        .with_context(|| format!("cannot read {}: is {} a migrations folder?", journal_path.display(), dir.display()))?;
    let journal = Journal::parse(&text)?;
    let mut migrations = Vec::with_capacity(journal.entries.len());
    for entry in &journal.entries {
        let path = dir.join(format!("{}.sql", entry.tag));
        let sql = fs::read_to_string(&path).with_context(|| format!("{} is in the journal but cannot be read", path.display()))?;
        let down = fs::read_to_string(dir.join(format!("{}.down.sql", entry.tag))).ok();
        migrations.push(MigrationFile {
            idx: entry.idx,
            tag: entry.tag.clone(),
            when: entry.when,
            breakpoints: entry.breakpoints,
            sql,
            down,
        });
    }
    check_branches(dir, &journal)?;
    let sum_path = dir.join(SUM_FILE);
    let summed = sum_path.exists();
    if summed {
        let text = fs::read_to_string(&sum_path).with_context(|| format!("cannot read {}", sum_path.display()))?;
        sum::verify(&text, &summed_files(dir, &journal, &[]))
            .with_context(|| format!("{} does not match the folder", sum_path.display()))?;
    }
    Ok(Folder { dir: dir.to_path_buf(), migrations, summed, dialect: journal.dialect.clone() })
}

/// Two snapshots with the same parent mean two branches were merged: the
/// later migration was generated without the other one.
fn check_branches(dir: &Path, journal: &Journal) -> anyhow::Result<()> {
    let mut parents: Vec<(String, String)> = Vec::new();
    for entry in &journal.entries {
        let path = dir.join(snapshot_path(entry.idx));
        let Ok(text) = fs::read_to_string(&path) else { continue };
        let value: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
        let Some(parent) = value.get("prevId").and_then(|v| v.as_str()) else { continue };
        if let Some((other, _)) = parents.iter().find(|(_, p)| p == parent) {
            bail!(
                "{} and {} were both generated from the same parent snapshot: two branches were merged. \
                 Remove the later one (and its journal entry) and run `schemaforge generate` again so it follows the other",
                other,
                entry.tag
            );
        }
        parents.push((entry.tag.clone(), parent.to_string()));
    }
    Ok(())
}

/// The files `schemaforge.sum` covers, read from `dir` unless given in `fresh`
/// (files about to be written, borrowed: a large definition is megabytes).
pub fn summed_files<'a>(dir: &Path, journal: &Journal, fresh: &[(PathBuf, &'a str)]) -> Vec<(String, Cow<'a, str>)> {
    summed_paths(journal)
        .into_iter()
        .filter_map(|path| {
            let full = dir.join(&path);
            let contents = match fresh.iter().find(|(p, _)| *p == full) {
                Some((_, contents)) => Some(Cow::Borrowed(*contents)),
                None => fs::read_to_string(&full).ok().map(Cow::Owned),
            }?;
            Some((path, contents))
        })
        .collect()
}
