//! What a definition declares that a catalog cannot show, and what part of a
//! database a definition speaks for.
//!
//! A catalog has no `renamedFrom`, no `renamedValues`, no custom SQL, and
//! cannot tell a platform role from one of ours. And a database holds more
//! than one definition describes (Supabase's `auth` schema, extensions the
//! platform installed): comparing a definition with a database must only look
//! at what the definition speaks for, or every unmentioned object would be
//! planned for dropping.
//!
//! `scope` is PostgreSQL's (a SQLite file is read whole); the rest serves
//! both dialects: a definition built apart and read back gets its
//! declarations put back the same way.

use std::collections::BTreeSet;

use schemaforge_model::{DEFAULT_NAMESPACE, Schema};

use crate::postgres::IntrospectOptions;

/// The schemas a definition speaks for: `public`, the schemas it declares and
/// those its tables and enums live in; and the roles it declares.
pub fn scope(definition: &Schema) -> IntrospectOptions {
    let mut schemas: BTreeSet<String> = BTreeSet::from([DEFAULT_NAMESPACE.to_string()]);
    schemas.extend(definition.namespaces.iter().cloned());
    schemas.extend(definition.tables.iter().map(|t| t.name.namespace().to_string()));
    schemas.extend(definition.enums.iter().map(|e| e.name.namespace().to_string()));
    IntrospectOptions { schemas: schemas.into_iter().collect(), roles: definition.roles.iter().map(|r| r.name.clone()).collect() }
}

/// A database read within `scope(definition)`, seen as the definition sees it:
/// only the extensions and roles it declares, roles marked `existing` as it
/// marks them.
pub fn declared_view(mut database: Schema, definition: &Schema) -> Schema {
    let declared_extensions: BTreeSet<&String> = definition.extensions.iter().map(|e| &e.name).collect();
    database.extensions.retain(|e| declared_extensions.contains(&e.name));
    database.roles = definition
        .roles
        .iter()
        .filter_map(|declared| {
            let mut role = database.roles.iter().find(|r| r.name == declared.name)?.clone();
            role.existing = declared.existing;
            Some(role)
        })
        .collect();
    database
}

/// A database built from `definition` (and read back) with the definition's
/// declarations put back: renames, custom SQL, declared roles, and how its
/// foreign keys were declared. The result is the definition as the server
/// spells it, the right target to compare another database with.
pub fn with_declarations(built: Schema, definition: &Schema) -> Schema {
    let mut schema = declared_view(built, definition);
    schema.roles = definition.roles.clone();
    schema.custom_sql = definition.custom_sql.clone();
    for e in &mut schema.enums {
        if let Some(declared) = definition.enum_type(&e.name) {
            e.renamed_values = declared.renamed_values.clone();
        }
    }
    for table in &mut schema.tables {
        let Some(declared) = definition.table(&table.name) else { continue };
        table.renamed_from = declared.renamed_from.clone();
        for column in &mut table.columns {
            column.renamed_from = declared.column(&column.name).and_then(|c| c.renamed_from.clone());
        }
        for fk in &mut table.foreign_keys {
            if let Some(d) = declared.foreign_keys.iter().find(|d| d.name == fk.name) {
                fk.declared_on_column = d.declared_on_column;
            }
        }
    }
    schema
}
