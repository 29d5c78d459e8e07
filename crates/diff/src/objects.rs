//! Objects outside tables: custom SQL, schemas, extensions, enums and roles.

use std::collections::{BTreeMap, BTreeSet};

use schemaforge_model::{QualifiedName, Role};

use crate::enums::{EnumChange, enum_changes};
use crate::{Pairing, Step};

pub(crate) fn diff_objects(pairing: &Pairing<'_>, steps: &mut Vec<Step>) {
    let (from, to) = (pairing.schemas.from, pairing.schemas.to);
    // Custom SQL runs when it is new or changed: it is meant to be idempotent
    // (`CREATE OR REPLACE …`), and re-running it on every migration would make
    // no migration ever empty.
    if !to.custom_sql.before.is_empty() && to.custom_sql.before != from.custom_sql.before {
        steps.push(Step::RunSqlBefore);
    }
    if !to.custom_sql.after.is_empty() && to.custom_sql.after != from.custom_sql.after {
        steps.push(Step::RunSqlAfter);
    }

    let old_schemas: BTreeSet<&String> = from.namespaces.iter().collect();
    let new_schemas: BTreeSet<&String> = to.namespaces.iter().collect();
    steps.extend(to.namespaces.iter().filter(|n| !old_schemas.contains(n)).map(|name| Step::CreateSchema { name: name.clone() }));
    steps.extend(from.namespaces.iter().filter(|n| !new_schemas.contains(n)).map(|name| Step::DropSchema { name: name.clone() }));

    let old_extensions: BTreeSet<&String> = from.extensions.iter().map(|e| &e.name).collect();
    let new_extensions: BTreeSet<&String> = to.extensions.iter().map(|e| &e.name).collect();
    steps
        .extend(to.extensions.iter().filter(|e| !old_extensions.contains(&e.name)).map(|e| Step::CreateExtension { name: e.name.clone() }));
    // Dropped in reverse order of installation: a later one may depend on an earlier one.
    steps.extend(
        from.extensions.iter().rev().filter(|e| !new_extensions.contains(&e.name)).map(|e| Step::DropExtension { name: e.name.clone() }),
    );

    diff_enums(pairing, steps);
    diff_roles(&from.roles, &to.roles, steps);
}

fn diff_enums(pairing: &Pairing<'_>, steps: &mut Vec<Step>) {
    let (from, to) = (pairing.schemas.from, pairing.schemas.to);
    let old: BTreeSet<&QualifiedName> = from.enums.iter().map(|e| &e.name).collect();
    let new: BTreeSet<&QualifiedName> = to.enums.iter().map(|e| &e.name).collect();
    let changes = enum_changes(from, to);
    for e in &to.enums {
        if !old.contains(&e.name) {
            steps.push(Step::CreateEnum { name: e.name.clone() });
            continue;
        }
        match changes.get(&e.name) {
            None => {}
            Some(EnumChange::InPlace { renames, additions }) => {
                for (from, to) in renames {
                    steps.push(Step::RenameEnumValue { name: e.name.clone(), from: from.clone(), to: to.clone() });
                }
                for (value, before) in additions {
                    steps.push(Step::AddEnumValue { name: e.name.clone(), value: value.clone(), before: before.clone() });
                }
            }
            Some(EnumChange::Rebuild) => {
                steps.push(Step::RenameEnumAside { name: e.name.clone() });
                steps.push(Step::CreateEnum { name: e.name.clone() });
                steps.push(Step::DropEnumAside { name: e.name.clone() });
            }
        }
    }
    steps.extend(from.enums.iter().filter(|e| !new.contains(&e.name)).map(|e| Step::DropEnum { name: e.name.clone() }));
}

fn diff_roles(from: &[Role], to: &[Role], steps: &mut Vec<Step>) {
    let old: BTreeMap<&String, &Role> = from.iter().map(|r| (&r.name, r)).collect();
    let new: BTreeSet<&String> = to.iter().map(|r| &r.name).collect();
    for role in to.iter().filter(|r| !r.existing) {
        match old.get(&role.name) {
            None => steps.push(Step::CreateRole { name: role.name.clone() }),
            // A role the platform provided (`existing`) is not ours to create.
            Some(previous) if previous.existing => {}
            Some(previous)
                if (previous.create_db, previous.create_role, previous.inherit) != (role.create_db, role.create_role, role.inherit) =>
            {
                steps.push(Step::AlterRole { name: role.name.clone() });
            }
            Some(_) => {}
        }
    }
    steps.extend(from.iter().filter(|r| !r.existing && !new.contains(&r.name)).map(|r| Step::DropRole { name: r.name.clone() }));
}
