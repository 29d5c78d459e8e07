//! Top-level objects: schemas, extensions, roles, enums and custom SQL.

use std::collections::BTreeMap;

use schemaforge_fragment as fragment;
use schemaforge_model::{BUILTIN_POLICY_ROLES, CustomSql, DEFAULT_NAMESPACE, Enum, Extension, QualifiedName, Role};

use super::{Lowerer, names};
use crate::diagnostic::{Code, Diagnostic, Pointer};
use crate::document::{Definition, EnumDef, ExtensionDef};

/// Role names PostgreSQL refuses to create.
const RESERVED_ROLES: [&str; 1] = ["none"];

impl Lowerer {
    pub(super) fn namespaces(&mut self, definition: &Definition, root: &Pointer) -> Vec<String> {
        let mut namespaces = Vec::new();
        for (i, name) in definition.schemas.iter().enumerate() {
            let path = root.key("schemas").index(i);
            if self.skipped(&path) || !self.identifier(&path, name, "schema name") {
                continue;
            }
            if name == DEFAULT_NAMESPACE {
                self.push(Diagnostic::new(&path, Code::InvalidValue, "`public` always exists and is not declared").with_hint("remove it"));
                continue;
            }
            if name.starts_with("pg_") {
                self.push(Diagnostic::new(
                    &path,
                    Code::InvalidIdentifier,
                    format!("schema name `{name}` starts with `pg_`, which PostgreSQL reserves"),
                ));
                continue;
            }
            if !self.namespaces.insert(name.clone()) {
                self.push(Diagnostic::new(&path, Code::DuplicateName, format!("schema `{name}` is listed twice")));
                continue;
            }
            namespaces.push(name.clone());
        }
        namespaces
    }

    pub(super) fn extensions(&mut self, definition: &Definition, root: &Pointer) -> Vec<Extension> {
        let mut extensions: Vec<Extension> = Vec::new();
        for (i, def) in definition.extensions.iter().enumerate() {
            let path = root.key("extensions").index(i);
            if self.skipped(&path) {
                continue;
            }
            let (name, schema, name_path) = match def {
                ExtensionDef::Name(name) => (name, None, path.clone()),
                ExtensionDef::Spec(spec) => (&spec.name, spec.schema.as_ref(), path.key("name")),
            };
            if let Some(d) = names::check_extension_name(&name_path, name) {
                self.push(d);
                continue;
            }
            // The schema may be one the platform provides (Supabase's
            // `extensions`), so it need not be declared; it must be a name.
            if let Some(schema) = schema
                && !self.identifier(&path.key("schema"), schema, "schema name")
            {
                continue;
            }
            if extensions.iter().any(|e| &e.name == name) {
                self.push(Diagnostic::new(&name_path, Code::DuplicateName, format!("extension `{name}` is listed twice")));
                continue;
            }
            extensions.push(Extension { name: name.clone(), schema: schema.cloned() });
        }
        extensions
    }

    pub(super) fn roles(&mut self, definition: &Definition, root: &Pointer) -> Vec<Role> {
        let mut roles = Vec::new();
        for (i, def) in definition.roles.iter().enumerate() {
            let path = root.key("roles").index(i);
            if self.skipped(&path) {
                // Policies naming it are not to be reported as unknown.
                self.roles.insert(def.name.clone());
                continue;
            }
            if !self.identifier(&path.key("name"), &def.name, "role name") {
                continue;
            }
            if def.name.starts_with("pg_")
                || BUILTIN_POLICY_ROLES.contains(&def.name.as_str())
                || RESERVED_ROLES.contains(&def.name.as_str())
            {
                self.push(Diagnostic::new(
                    path.key("name"),
                    Code::InvalidIdentifier,
                    format!("role name `{}` is reserved by PostgreSQL", def.name),
                ));
                continue;
            }
            if def.existing && (def.create_db.is_some() || def.create_role.is_some() || def.inherit.is_some()) {
                self.push(
                    Diagnostic::new(
                        &path,
                        Code::ConflictingOptions,
                        format!("role `{}` is `existing`, so its options are not ours to set", def.name),
                    )
                    .with_hint("remove `createDb` / `createRole` / `inherit`, or drop `existing`"),
                );
            }
            if !self.roles.insert(def.name.clone()) {
                self.push(Diagnostic::new(path.key("name"), Code::DuplicateName, format!("role `{}` is declared twice", def.name)));
                continue;
            }
            roles.push(Role {
                name: def.name.clone(),
                existing: def.existing,
                create_db: def.create_db.unwrap_or(false),
                create_role: def.create_role.unwrap_or(false),
                inherit: def.inherit.unwrap_or(true),
            });
        }
        roles
    }

    pub(super) fn enums(&mut self, definition: &Definition, root: &Pointer) {
        for (i, def) in definition.enums.iter().enumerate() {
            let path = root.key("enums").index(i);
            let qualified = Self::qualified(def.schema.as_deref(), &def.name);
            if self.skipped(&path) || !self.identifier(&path.key("name"), &def.name, "enum name") {
                self.broken_enums.insert(qualified);
                continue;
            }
            let Some(schema) = self.schema_of(&path.key("schema"), def.schema.as_deref()) else {
                self.broken_enums.insert(qualified);
                continue;
            };
            let name = QualifiedName::new(schema, def.name.clone());
            if self.enum_positions.contains_key(&name) {
                self.push(Diagnostic::new(path.key("name"), Code::DuplicateEnum, format!("enum `{name}` is declared twice")));
                continue;
            }
            if def.values.is_empty() {
                self.broken_enums.insert(name.clone());
                self.push(
                    Diagnostic::new(path.key("values"), Code::InvalidValue, format!("enum `{name}` has no values"))
                        .with_hint("list at least one value"),
                );
                continue;
            }
            let mut ok = true;
            let mut first_at: BTreeMap<&str, usize> = BTreeMap::new();
            for (j, value) in def.values.iter().enumerate() {
                let value_path = path.key("values").index(j);
                if value.is_empty() || value.len() > names::MAX_IDENTIFIER_BYTES {
                    ok = false;
                    self.push(Diagnostic::new(&value_path, Code::InvalidValue, format!("enum value `{value}` must be 1 to 63 bytes")));
                } else if !self.sql_text(&value_path, value, "enum value") {
                    ok = false;
                } else if let Some(first) = first_at.insert(value, j) {
                    ok = false;
                    self.push(
                        Diagnostic::new(&value_path, Code::DuplicateEnumValue, format!("enum `{name}` lists `{value}` twice"))
                            .with_hint(format!("remove one; the first is /enums/{i}/values/{first}")),
                    );
                }
            }
            ok &= self.renamed_values(&path, &name, def);
            if ok {
                self.enum_positions.insert(name.clone(), i);
                self.enums.push(Enum { name, values: def.values.clone(), renamed_values: def.renamed_values.clone() });
            } else {
                self.broken_enums.insert(name);
            }
        }
    }

    /// Checks `renamedValues`: each new label is a value, each previous label
    /// is not, and no previous label is claimed twice.
    fn renamed_values(&mut self, path: &Pointer, name: &QualifiedName, def: &EnumDef) -> bool {
        let mut ok = true;
        let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
        for (new, old) in &def.renamed_values {
            let at = path.key("renamedValues").key(new);
            let problem = if old == new {
                Some((format!("enum value `{new}` is renamed from itself"), "remove the entry".to_string()))
            } else if !def.values.contains(new) {
                Some((
                    format!("`{new}` is renamed from `{old}`, but `{new}` is not a value of enum `{name}`"),
                    format!("add `{new}` to `values`"),
                ))
            } else if def.values.contains(old) {
                Some((
                    format!("`{new}` is renamed from `{old}`, but `{old}` is still a value of enum `{name}`"),
                    format!("remove `{old}` from `values`"),
                ))
            } else if let Some(first) = claimed.insert(old, new) {
                Some((format!("`{first}` and `{new}` are both renamed from `{old}`"), "keep one of them".to_string()))
            } else if old.is_empty() || old.len() > names::MAX_IDENTIFIER_BYTES {
                Some((format!("enum value `{old}` must be 1 to 63 bytes"), "fix the previous label".to_string()))
            } else if !self.sql_text(&at, old, "enum value") {
                ok = false;
                None
            } else {
                None
            };
            if let Some((message, hint)) = problem {
                ok = false;
                self.push(Diagnostic::new(at, Code::InvalidRename, message).with_hint(hint));
            }
        }
        ok
    }

    pub(super) fn custom_sql(&mut self, definition: &Definition, root: &Pointer) -> CustomSql {
        let Some(sql) = &definition.sql else { return CustomSql::default() };
        let check = |this: &mut Self, key: &str, script: &Option<String>| -> Vec<String> {
            let Some(script) = script.as_ref() else { return Vec::new() };
            let path = root.key("sql").key(key);
            if !this.sql_text(&path, script, &format!("`sql.{key}`")) {
                return Vec::new();
            }
            match fragment::split_script(this.dialect, script) {
                Ok(statements) => statements,
                Err(error) => {
                    this.push(Diagnostic::new(path, Code::InvalidSql, format!("`sql.{key}`: {error}")));
                    Vec::new()
                }
            }
        };
        CustomSql { before: check(self, "before", &sql.before), after: check(self, "after", &sql.after) }
    }
}
