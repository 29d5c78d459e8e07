//! Where each migration of a folder stands, from the two histories a database keeps: the same rules for every dialect.
//!
//! A database records what was applied twice: in our history (name,
//! checksum, status, progress) and in drizzle-orm's (hash and the journal's
//! `when`). `assess` reads both against the folder and refuses what must not
//! be applied over: a recorded migration whose file is gone, a drizzle entry
//! the folder does not know, a file edited after it partly ran. Entries
//! applied by drizzle-orm alone are adopted into ours.

use schemaforge_kit::folder::MigrationFile;

/// Where a migration of the folder stands in a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Applied,
    Pending,
    /// It failed (after `done` statements, when it runs outside a transaction).
    Failed {
        done: i32,
    },
    /// Applied, but the file has changed since.
    Edited,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Failed { .. } => "failed",
            State::Edited => "edited",
        }
    }
}

/// One migration's standing, for `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub tag: String,
    pub state: State,
    /// Recorded for it: when it finished (applied) or the error (failed).
    pub applied_at: Option<String>,
    pub applied_by: Option<String>,
    pub error: Option<String>,
}

/// What `migrate` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Tags applied by this run, in order.
    pub applied: Vec<String>,
    /// Tags found applied by drizzle-orm and recorded in our history.
    pub adopted: Vec<String>,
}

/// Why the folder cannot be applied. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "{tag}.sql was applied with checksum {applied} but the file's is now {current}: applied migrations must not change; restore the file, and put the change in a new migration (`schemaforge generate`)"
    )]
    Edited { tag: String, applied: String, current: String },
    #[error("{tag} is recorded as applied, but the folder has no such migration; restore its file (and journal entry) before migrating")]
    Missing { tag: String },
    #[error(
        "the database has a migration applied at {created_at} (drizzle hash {hash}) that the folder does not have; migrate from the folder that applied it"
    )]
    UnknownApplied { hash: String, created_at: i64 },
    #[error(
        "{tag} is not applied, but {later} after it is: the folder gained a migration behind the database (a merge?); regenerate it after the applied ones"
    )]
    OutOfOrder { tag: String, later: String },
    #[error(
        "{tag} failed at statement {number} of {total}:\n{statement}\n{error}\nNothing of it was kept; fix the cause and run migrate again"
    )]
    Failed { tag: String, number: usize, total: usize, statement: String, error: String },
    #[error(
        "{tag} (outside a transaction) failed at statement {number} of {total}:\n{statement}\n{error}\nThe {done} statements before it are applied and recorded; fix the cause and run migrate again to resume at statement {number}"
    )]
    FailedPartway { tag: String, number: usize, total: usize, done: usize, statement: String, error: String },
    #[error(
        "{tag} stopped partway outside a transaction and its file has changed since; the database holds its first {done} statements. Restore the file to resume, or repair the database by hand and remove its row from schemaforge.migrations"
    )]
    EditedPartway { tag: String, done: i32 },
    #[error(
        "{tag} would leave rows whose foreign keys point nowhere ({violations}); nothing of it was kept: fix the rows or the migration and run migrate again"
    )]
    ForeignKeysBroken { tag: String, violations: String },
    #[error(
        "{tag} rebuilds tables and must run with foreign keys off, which SQLite only allows before its transaction begins: begin the write transaction with foreign keys off"
    )]
    ForeignKeysEnforced { tag: String },
    #[error(
        "{tag} could not be recorded: the migration history's tables were expected on this connection and are gone; nothing of it was kept, apply it again"
    )]
    HistoryMissing { tag: String },
    #[error("the migration history cannot be read or written: {0}")]
    Database(#[from] sqlx::Error),
}

/// One row of our history table, as read.
pub(crate) struct HistoryRow {
    pub name: String,
    pub checksum: String,
    pub status: String,
    pub finished_at: Option<String>,
    pub applied_by: String,
    pub statements_done: i32,
    pub error: Option<String>,
}

/// Each migration's standing, checked against the folder, and the tags
/// drizzle-orm applied that our history does not know yet.
pub(crate) fn assess(
    history: &[HistoryRow],
    drizzle: &[(String, i64)],
    files: &[MigrationFile],
) -> Result<(Vec<Standing>, Vec<String>), MigrateError> {
    for row in history {
        if row.status != "rolled back" && !files.iter().any(|f| f.tag == row.name) {
            return Err(MigrateError::Missing { tag: row.name.clone() });
        }
    }
    for (hash, created_at) in drizzle {
        if !files.iter().any(|f| i64::try_from(f.when).ok() == Some(*created_at)) {
            return Err(MigrateError::UnknownApplied { hash: hash.clone(), created_at: *created_at });
        }
    }
    let mut standings = Vec::with_capacity(files.len());
    let mut adopted = Vec::new();
    for file in files {
        let ours = history.iter().find(|r| r.name == file.tag);
        let theirs = drizzle.iter().find(|(_, created_at)| i64::try_from(file.when).ok() == Some(*created_at));
        let checksum = file.checksum();
        let state = match (ours, theirs) {
            (Some(row), _) if row.status == "applied" => {
                if row.checksum == checksum {
                    State::Applied
                } else {
                    State::Edited
                }
            }
            (_, Some((hash, _))) => {
                // Applied by drizzle-orm's migrator.
                if ours.is_none() {
                    adopted.push(file.tag.clone());
                }
                if *hash == checksum { State::Applied } else { State::Edited }
            }
            (Some(row), None) if row.status == "failed" || row.status == "running" => {
                if row.statements_done > 0 && row.checksum != checksum {
                    return Err(MigrateError::EditedPartway { tag: file.tag.clone(), done: row.statements_done });
                }
                State::Failed { done: row.statements_done }
            }
            _ => State::Pending,
        };
        standings.push(Standing {
            tag: file.tag.clone(),
            state,
            applied_at: ours.and_then(|r| r.finished_at.clone()),
            applied_by: ours.map(|r| r.applied_by.clone()),
            error: ours.and_then(|r| r.error.clone()),
        });
    }
    Ok((standings, adopted))
}
