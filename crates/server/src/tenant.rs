//! Tenants: who a userID is in the database, and what a definition may hold
//! when it belongs to one.
//!
//! On PostgreSQL each tenant is one schema owned by one login role. Its
//! migrations run on a connection that logs in *as that role*, so nothing the
//! tenant writes (a default, a check, a policy) runs with more than the
//! tenant's own rights: not `SET ROLE` from a privileged session, which an
//! expression could undo. Other tenants' schemas are not even visible to it.

use schemaforge_model::{ColumnType, QualifiedName, ScalarType, Schema};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// A validated userID: `^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$`. Short enough that
/// `tenant_<id>` fits PostgreSQL's 63-byte identifiers; no `.`, `/` or quote,
/// so it is safe in paths, identifiers and object-store keys alike.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(String);

pub const MAX_USER_ID: usize = 48;

impl UserId {
    pub fn parse(text: &str) -> Result<UserId, ApiError> {
        let mut chars = text.chars();
        let valid = text.len() <= MAX_USER_ID
            && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if valid {
            Ok(UserId(text.to_string()))
        } else {
            Err(ApiError::bad_request(
                "invalid-user-id",
                format!("userID must be 1 to {MAX_USER_ID} letters, digits, `_` or `-`, starting with a letter or digit"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant's schema and role (the same name).
    pub fn namespace(&self) -> String {
        format!("tenant_{}", self.0)
    }

    /// The tenant role's password, derived from the service secret: never
    /// stored, the same on every replica.
    pub fn password(&self, secret: &str) -> String {
        let digest = Sha256::digest(format!("schemaforge tenant password\0{secret}\0{}", self.0).as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Refuses what a tenant's definition cannot hold in a shared database:
/// schemas, extensions and roles are the database's, and custom SQL would run
/// unanalysed. Every such field is reported with its pointer.
pub fn check_definition(value: &serde_json::Value) -> Result<(), ApiError> {
    let mut details = Vec::new();
    for (field, why) in [
        ("schemas", "a tenant lives in one schema of its own"),
        ("extensions", "extensions belong to the whole database; ask the operator to install them"),
        ("roles", "roles belong to the whole database"),
        ("sql", "custom SQL is not run for tenants"),
        ("dialect", "the service chooses the dialect"),
    ] {
        if value.get(field).is_some_and(|v| !v.is_null() && v != &json!([]) && v != &json!({})) {
            details.push(json!({"path": format!("/schema/{field}"), "code": "not-supported", "message": format!("`{field}` is not available in the service: {why}")}));
        }
    }
    if let Some(tables) = value.get("tables").and_then(|t| t.as_array()) {
        for (i, table) in tables.iter().enumerate() {
            if table.get("schema").is_some_and(|s| !s.is_null()) {
                details.push(json!({"path": format!("/schema/tables/{i}/schema"), "code": "not-supported", "message": "tables live in the tenant's schema; remove `schema`"}));
            }
        }
    }
    if let Some(enums) = value.get("enums").and_then(|t| t.as_array()) {
        for (i, e) in enums.iter().enumerate() {
            if e.get("schema").is_some_and(|s| !s.is_null()) {
                details.push(json!({"path": format!("/schema/enums/{i}/schema"), "code": "not-supported", "message": "enums live in the tenant's schema; remove `schema`"}));
            }
        }
    }
    if details.is_empty() {
        Ok(())
    } else {
        Err(ApiError::BadRequest {
            code: "invalid-definition",
            message: format!("the definition uses {} feature(s) the service does not offer", details.len()),
            details: serde_json::Value::Array(details),
        })
    }
}

/// The tenant's empty schema: its namespace exists (the service made it).
pub fn baseline(namespace: &str) -> Schema {
    let mut schema = Schema::empty(schemaforge_model::Dialect::Postgresql);
    schema.namespaces = vec![namespace.to_string()];
    schema
}

/// `schema` moved into the tenant's namespace: every object that would be in
/// `public` is in `namespace` instead.
pub fn into_namespace(schema: &Schema, namespace: &str) -> Schema {
    let place = |name: &mut QualifiedName| {
        if name.schema.is_none() {
            name.schema = Some(namespace.to_string());
        }
    };
    let place_type = |ty: &mut ColumnType| {
        if let ScalarType::Enum(name) = &mut ty.scalar
            && name.schema.is_none()
        {
            name.schema = Some(namespace.to_string());
        }
    };
    let mut moved = schema.clone();
    moved.namespaces = vec![namespace.to_string()];
    for e in &mut moved.enums {
        place(&mut e.name);
    }
    for table in &mut moved.tables {
        place(&mut table.name);
        for column in &mut table.columns {
            place_type(&mut column.ty);
        }
        for fk in &mut table.foreign_keys {
            place(&mut fk.referenced_table);
        }
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_safe_in_paths_and_identifiers() {
        for good in ["alice", "Bob-2", "a", "team_7", &"x".repeat(MAX_USER_ID)] {
            assert!(UserId::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "../../etc", "a/b", "a.b", "_lead", "-lead", "quote\"", "x y", "é", &"x".repeat(MAX_USER_ID + 1)] {
            assert!(UserId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(UserId::parse("alice").map(|u| u.namespace()).ok(), Some("tenant_alice".into()));
    }

    #[test]
    fn passwords_differ_by_tenant_and_secret() {
        let (a, b) = (UserId::parse("a").expect("valid"), UserId::parse("b").expect("valid"));
        assert_ne!(a.password("s"), b.password("s"));
        assert_ne!(a.password("s"), a.password("t"));
        assert_eq!(a.password("s"), a.password("s"));
    }

    #[test]
    fn database_wide_features_are_refused_with_pointers() {
        let error =
            check_definition(&json!({"extensions": ["pgcrypto"], "sql": {"before": "x"}, "tables": [{"name": "t", "schema": "x"}]}))
                .expect_err("refused");
        let ApiError::BadRequest { details, .. } = error else { panic!("400 expected") };
        let paths: Vec<&str> = details.as_array().into_iter().flatten().filter_map(|d| d["path"].as_str()).collect();
        assert_eq!(paths, ["/schema/extensions", "/schema/sql", "/schema/tables/0/schema"]);
        assert!(check_definition(&json!({"tables": []})).is_ok());
    }
}
