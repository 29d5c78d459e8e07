//! Semantic versions for a schema's history, and the changelog of each.
//!
//! The bump says whether code written against the previous version (a
//! generated client, a query) can break against the new one:
//!
//! - **major**: it can. Data is deleted; a table, column or enum is dropped; a
//!   column changes type or nullability (a new
//!   NOT NULL refuses the NULLs writers send, a dropped one hands readers NULLs
//!   their types do not allow); an insert must now give a column it could
//!   leave out (a new NOT NULL column without a default, a default or identity
//!   dropped from one) or may no longer give one (identity `ALWAYS`); an enum
//!   label is renamed or removed.
//! - **minor**: it cannot, something was added or loosened: tables, nullable
//!   or defaulted columns, enum labels (also when the type is rebuilt to add or
//!   reorder them), defaults, keys, constraints, indexes, policies. A declared
//!   rename of a table or column is minor too: the migration carries every row
//!   over under the new name, and the version's clients (served per version)
//!   spell the new name; its changelog line says which name changed, so code
//!   that spells names by hand can follow. (An enum label renamed stays major:
//!   stored rows change value.)
//! - **patch**: nothing a client sees: comments, and renames of indexes,
//!   constraints and sequences.

use std::fmt;

use schemaforge_diff::{ColumnChange, Step};
use schemaforge_model::{Column, IdentityKind, QualifiedName, Schema};

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

/// The bump the plan from `from` to `to` calls for (`Patch` for an empty plan).
pub fn bump_of(plan: &Plan, from: &Schema, to: &Schema) -> Bump {
    if plan.hazards().contains(&Hazard::DeletesData) {
        return Bump::Major;
    }
    let context = Context { from, to };
    plan.steps().into_iter().map(|step| context.bump_of_step(step)).max().unwrap_or(Bump::Patch)
}

/// The two schemas a plan goes between, to judge its steps by.
struct Context<'a> {
    from: &'a Schema,
    to: &'a Schema,
}

impl Context<'_> {
    /// The column `column` of table `table` (both named as in `to`), before and after.
    fn column(&self, table: &QualifiedName, column: &str) -> (Option<&Column>, Option<&Column>) {
        let new_table = self.to.table(table);
        let new = new_table.and_then(|t| t.column(column));
        // An exact name wins over a declared rename, as the diff pairs them.
        let old_table = self.from.table(table).or_else(|| {
            let previous = new_table?.renamed_from.as_ref()?;
            self.from.table(&QualifiedName::new(table.schema.clone(), previous.clone()))
        });
        let old = old_table.and_then(|t| t.column(column).or_else(|| t.column(new?.renamed_from.as_ref()?)));
        (old, new)
    }

    /// Whether an insert into `to` must give the column.
    fn required_on_insert(&self, table: &QualifiedName, column: &str) -> bool {
        let Some(new_table) = self.to.table(table) else { return false };
        let Some(c) = new_table.column(column) else { return false };
        let in_primary_key = new_table.primary_key.as_ref().is_some_and(|pk| pk.columns.iter().any(|k| k == column));
        (c.not_null || in_primary_key) && c.default.is_none() && c.identity.is_none() && c.generated.is_none() && !c.ty.scalar.is_serial()
    }

    fn bump_of_step(&self, step: &Step) -> Bump {
        let major_if = |breaking: bool| if breaking { Bump::Major } else { Bump::Minor };
        match step {
            Step::RebuildTable { changes, .. } => changes.iter().map(|change| self.bump_of_step(change)).max().unwrap_or(Bump::Patch),
            Step::DropTable { .. } | Step::DropColumn { .. } | Step::DropEnum { .. } | Step::RenameEnumValue { .. } => Bump::Major,
            Step::AlterColumn { table, column, change } => match change {
                ColumnChange::SetNotNull | ColumnChange::DropNotNull => Bump::Major,
                // An enum rebuilt under the same name converts its columns:
                // the enum's own steps say what that does to clients.
                ColumnChange::SetType => major_if(!matches!(self.column(table, column), (Some(old), Some(new)) if old.ty == new.ty)),
                ColumnChange::DropDefault | ColumnChange::DropIdentity => major_if(self.required_on_insert(table, column)),
                ColumnChange::AddIdentity | ColumnChange::AlterIdentity => {
                    let kind = |c: Option<&Column>| c.and_then(|c| c.identity.as_ref()).map(|i| i.kind);
                    let (old, new) = self.column(table, column);
                    major_if(kind(new) == Some(IdentityKind::Always) && kind(old) != Some(IdentityKind::Always))
                }
                ColumnChange::SetDefault => Bump::Minor,
            },
            Step::AddColumn { table, column } => major_if(self.required_on_insert(table, column)),
            // Values removed or reordered, or added and used at once: only a
            // label that is gone (removed, or renamed) breaks a client.
            Step::RenameEnumAside { name } | Step::DropEnumAside { name } => {
                let gone = match (self.from.enum_type(name), self.to.enum_type(name)) {
                    (Some(old), Some(new)) => old.values.iter().any(|v| !new.values.contains(v)),
                    _ => true,
                };
                major_if(gone)
            }
            Step::CommentOnTable { .. }
            | Step::CommentOnColumn { .. }
            | Step::RenameIndex { .. }
            | Step::RenameConstraint { .. }
            | Step::RenameSequence { .. }
            | Step::RenameSerialSequence { .. } => Bump::Patch,
            Step::RunSqlBefore
            | Step::RenameTable { .. }
            | Step::RenameColumn { .. }
            | Step::CreateSchema { .. }
            | Step::CreateExtension { .. }
            | Step::CreateEnum { .. }
            | Step::AddEnumValue { .. }
            | Step::CreateRole { .. }
            | Step::AlterRole { .. }
            | Step::DropPolicy { .. }
            | Step::DisableRowLevelSecurity { .. }
            | Step::DropForeignKey { .. }
            | Step::DropIndex { .. }
            | Step::DropConstraint { .. }
            | Step::CreateTable { .. }
            | Step::AddPrimaryKey { .. }
            | Step::AddUnique { .. }
            | Step::AddCheck { .. }
            | Step::CreateIndex { .. }
            | Step::AddForeignKey { .. }
            | Step::ValidateConstraint { .. }
            | Step::EnableRowLevelSecurity { .. }
            | Step::CreatePolicy { .. }
            | Step::AlterPolicy { .. }
            | Step::DropRole { .. }
            | Step::DropExtension { .. }
            | Step::DropSchema { .. }
            | Step::RunSqlAfter => Bump::Minor,
        }
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

    /// The bump from one `users` table (plus an optional enum) to another.
    fn bump(from: serde_json::Value, to: serde_json::Value) -> Bump {
        let parse = |v: serde_json::Value| schemaforge_spec::parse_definition(&v.to_string()).expect("valid");
        let (from, to) = (parse(from), parse(to));
        bump_of(&crate::plan(&from, &to).expect("plans"), &from, &to)
    }

    fn users(columns: serde_json::Value) -> serde_json::Value {
        let mut all = vec![serde_json::json!({"name": "id", "type": "serial", "primaryKey": true})];
        all.extend(columns.as_array().cloned().unwrap_or_default());
        serde_json::json!({"tables": [{"name": "users", "columns": all}]})
    }

    fn with_enum(values: serde_json::Value, default: &str) -> serde_json::Value {
        let mut schema =
            users(serde_json::json!([{"name": "status", "type": "enum", "enum": "status", "notNull": true, "default": default}]));
        schema["enums"] = serde_json::json!([{"name": "status", "values": values}]);
        schema
    }

    #[test]
    fn what_breaks_a_client_is_major() {
        use serde_json::{Value, json};
        let name = |extra: serde_json::Value| {
            let mut column = json!({"name": "name", "type": "varchar", "length": 10});
            if let (Some(column), Some(extra)) = (column.as_object_mut(), extra.as_object()) {
                column.extend(extra.clone());
            }
            users(json!([column]))
        };
        let base = name(json!({}));
        let mut renamed_table = base.clone();
        renamed_table["tables"][0]["name"] = json!("people");
        renamed_table["tables"][0]["renamedFrom"] = json!("users");
        // Declared renames carry every row over; the version's clients follow them.
        assert_eq!(bump(base.clone(), renamed_table), Bump::Minor, "table renamed");
        let renamed_column = users(json!([{"name": "full_name", "type": "varchar", "length": 10, "renamedFrom": "name"}]));
        assert_eq!(bump(base.clone(), renamed_column), Bump::Minor, "column renamed");
        let cases = [
            ("type widened", name(json!({"length": 20}))),
            ("type converted", users(json!([{"name": "name", "type": "integer"}]))),
            ("made NOT NULL", name(json!({"notNull": true, "default": "x"}))),
            (
                "required column added",
                users(json!([{"name": "name", "type": "varchar", "length": 10}, {"name": "age", "type": "integer", "notNull": true}])),
            ),
            ("column dropped", users(json!([]))),
        ];
        for (what, to) in cases {
            assert_eq!(bump(base.clone(), to), Bump::Major, "{what}");
        }
        assert_eq!(bump(name(json!({"notNull": true})), base.clone()), Bump::Major, "NOT NULL dropped: readers get NULLs");
        let counter = |identity: serde_json::Value| {
            let mut column = json!({"name": "n", "type": "integer", "notNull": true, "default": 0});
            if !identity.is_null() {
                column = json!({"name": "n", "type": "integer", "identity": identity});
            }
            users(json!([column]))
        };
        assert_eq!(bump(counter(Value::Null), counter(json!("always"))), Bump::Major, "identity ALWAYS: inserts may no longer give it");
        assert_eq!(bump(counter(Value::Null), counter(json!("byDefault"))), Bump::Minor, "identity BY DEFAULT: inserts still may");
        assert_eq!(
            bump(
                base.clone(),
                users(json!([{"name": "name", "type": "varchar", "length": 10}, {"name": "n", "type": "integer", "identity": "always"}]))
            ),
            Bump::Minor,
            "a new identity column"
        );
        assert_eq!(
            bump(name(json!({"notNull": true, "default": "x"})), name(json!({"notNull": true}))),
            Bump::Major,
            "default dropped from a NOT NULL column"
        );

        let statuses = || json!(["draft", "live"]);
        let (draft, live) = (with_enum(statuses(), "draft"), with_enum(statuses(), "live"));
        assert_eq!(bump(draft.clone(), with_enum(json!(["draft"]), "draft")), Bump::Major, "an enum label removed");
        let mut relabelled = with_enum(json!(["draft", "published"]), "draft");
        relabelled["enums"][0]["renamedValues"] = json!({"published": "live"});
        assert_eq!(bump(draft.clone(), relabelled), Bump::Major, "an enum label renamed");
        assert_eq!(bump(draft.clone(), with_enum(json!(["draft", "live", "gone"]), "draft")), Bump::Minor, "a label added in place");
        assert_eq!(bump(draft.clone(), with_enum(json!(["draft", "live", "new"]), "new")), Bump::Minor, "a label added and used: rebuilt");
        assert_eq!(bump(live, with_enum(json!(["live", "draft"]), "live")), Bump::Minor, "labels reordered: rebuilt");
    }

    #[test]
    fn additions_are_minor_and_cosmetics_a_patch() {
        use serde_json::json;
        let base = users(json!([{"name": "name", "type": "text", "notNull": true, "default": "x"}]));
        let minor = [
            (
                "nullable column",
                users(json!([{"name": "name", "type": "text", "notNull": true, "default": "x"}, {"name": "bio", "type": "text"}])),
            ),
            (
                "defaulted column",
                users(
                    json!([{"name": "name", "type": "text", "notNull": true, "default": "x"}, {"name": "n", "type": "integer", "notNull": true, "default": 0}]),
                ),
            ),
            ("default changed", users(json!([{"name": "name", "type": "text", "notNull": true, "default": "y"}]))),
        ];
        for (what, to) in minor {
            assert_eq!(bump(base.clone(), to), Bump::Minor, "{what}");
        }
        let mut indexed = base.clone();
        indexed["tables"][0]["indexes"] = json!([{"name": "users_name_idx", "columns": ["name"]}]);
        assert_eq!(bump(base.clone(), indexed.clone()), Bump::Minor, "index added");
        let mut reindexed = indexed.clone();
        reindexed["tables"][0]["indexes"][0]["name"] = json!("users_by_name");
        assert_eq!(bump(indexed, reindexed), Bump::Patch, "index renamed");
        let mut commented = base.clone();
        commented["tables"][0]["comment"] = json!("People.");
        assert_eq!(bump(base.clone(), commented), Bump::Patch);
        let nullable = users(json!([{"name": "name", "type": "text", "default": "x"}]));
        assert_eq!(bump(nullable, users(json!([{"name": "name", "type": "text"}]))), Bump::Minor, "default dropped from a nullable column");
    }
}
