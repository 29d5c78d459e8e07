//! Semantic versions for a schema's history, and the changelog of each.
//!
//! What a plan does decides the bump: anything that deletes data or removes
//! something a client reads (a table, a column, an enum) is breaking (major);
//! anything else that changes the structure is an addition (minor); comments
//! and renames of indexes, constraints and sequences are cosmetic (patch).

use std::fmt;

use schemaforge_diff::Step;

use crate::{Hazard, Plan};

/// `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    /// The first version of every schema.
    pub const FIRST: Version = Version { major: 1, minor: 0, patch: 0 };

    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.split('.').map(|p| p.parse::<u64>().ok());
        let version = Version { major: parts.next()??, minor: parts.next()??, patch: parts.next()?? };
        parts.next().is_none().then_some(version)
    }

    #[must_use]
    pub fn bumped(self, bump: Bump) -> Version {
        match bump {
            Bump::Major => Version { major: self.major + 1, minor: 0, patch: 0 },
            Bump::Minor => Version { major: self.major, minor: self.minor + 1, patch: 0 },
            Bump::Patch => Version { major: self.major, minor: self.minor, patch: self.patch + 1 },
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Which part of the version a plan moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bump {
    Patch,
    Minor,
    Major,
}

impl Bump {
    pub fn as_str(self) -> &'static str {
        match self {
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        }
    }
}

/// The bump `plan` calls for (`Patch` for an empty plan).
pub fn bump_of(plan: &Plan) -> Bump {
    if plan.hazards().contains(&Hazard::DeletesData) {
        return Bump::Major;
    }
    plan.steps().into_iter().map(bump_of_step).max().unwrap_or(Bump::Patch)
}

fn bump_of_step(step: &Step) -> Bump {
    match step {
        Step::RebuildTable { changes, .. } => changes.iter().map(bump_of_step).max().unwrap_or(Bump::Patch),
        Step::DropTable { .. } | Step::DropColumn { .. } | Step::DropEnum { .. } => Bump::Major,
        Step::CommentOnTable { .. }
        | Step::CommentOnColumn { .. }
        | Step::RenameIndex { .. }
        | Step::RenameConstraint { .. }
        | Step::RenameSequence { .. }
        | Step::RenameSerialSequence { .. } => Bump::Patch,
        Step::RunSqlBefore
        | Step::CreateSchema { .. }
        | Step::CreateExtension { .. }
        | Step::CreateEnum { .. }
        | Step::RenameEnumValue { .. }
        | Step::AddEnumValue { .. }
        | Step::RenameEnumAside { .. }
        | Step::CreateRole { .. }
        | Step::AlterRole { .. }
        | Step::DropPolicy { .. }
        | Step::DisableRowLevelSecurity { .. }
        | Step::DropForeignKey { .. }
        | Step::DropIndex { .. }
        | Step::DropConstraint { .. }
        | Step::RenameTable { .. }
        | Step::RenameColumn { .. }
        | Step::CreateTable { .. }
        | Step::AddColumn { .. }
        | Step::AlterColumn { .. }
        | Step::AddPrimaryKey { .. }
        | Step::AddUnique { .. }
        | Step::AddCheck { .. }
        | Step::CreateIndex { .. }
        | Step::AddForeignKey { .. }
        | Step::ValidateConstraint { .. }
        | Step::EnableRowLevelSecurity { .. }
        | Step::CreatePolicy { .. }
        | Step::AlterPolicy { .. }
        | Step::DropEnumAside { .. }
        | Step::DropRole { .. }
        | Step::DropExtension { .. }
        | Step::DropSchema { .. }
        | Step::RunSqlAfter => Bump::Minor,
    }
}

/// The changelog of one version, in Markdown: a heading, the optional
/// message, then one line per change and the hazards the migration carried.
pub fn changelog(version: Version, message: Option<&str>, plan: &Plan) -> String {
    let mut out = format!("## {version}\n\n");
    if let Some(message) = message.map(str::trim).filter(|m| !m.is_empty()) {
        out.push_str(message);
        out.push_str("\n\n");
    }
    if plan.changes.is_empty() {
        out.push_str("- no structural change\n");
    }
    for change in &plan.changes {
        out.push_str(&format!("- {change}\n"));
    }
    let hazards = plan.hazards();
    if !hazards.is_empty() {
        out.push_str(&format!("\nHazards: {}\n", hazards.iter().map(|h| format!("`{}`", h.code())).collect::<Vec<_>>().join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_print_and_bump() {
        let v = Version::parse("1.4.2").expect("valid");
        assert_eq!(v.to_string(), "1.4.2");
        assert_eq!(v.bumped(Bump::Major).to_string(), "2.0.0");
        assert_eq!(v.bumped(Bump::Minor).to_string(), "1.5.0");
        assert_eq!(v.bumped(Bump::Patch).to_string(), "1.4.3");
        assert_eq!(Version::parse("1.2"), None);
        assert_eq!(Version::parse("1.2.3.4"), None);
        assert_eq!(Version::parse("1.x.3"), None);
    }
}
