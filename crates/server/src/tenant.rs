//! Tenants: who a userID is in each backend, and what a definition may hold
//! when it belongs to one.
//!
//! On PostgreSQL each tenant is one schema owned by one login role
//! (`namespace`, `password`); on SQLite one file (`file_stem`). Every name
//! is derived from a validated `UserId`, which can hold nothing that escapes
//! a path, an identifier or an object-store key.

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

    /// The name of the tenant's SQLite file (without `.sqlite`): the userID,
    /// with each capital written `+` and its lower case (`Hana` → `+hana`).
    /// Two userIDs that differ only in case are two tenants, so they must be
    /// two files on a file system that ignores case too; `+` is never in a
    /// userID, so no two userIDs share a name, and the name is never a path.
    pub fn file_stem(&self) -> String {
        let mut stem = String::with_capacity(self.0.len() + 4);
        for c in self.0.chars() {
            if c.is_ascii_uppercase() {
                stem.push('+');
                stem.push(c.to_ascii_lowercase());
            } else {
                stem.push(c);
            }
        }
        stem
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
/// unanalysed. Every such field is reported with its pointer. A `dialect` is
/// left to validation, which lowers the definition for the service's
/// database and refuses one naming another dialect.
pub fn check_definition(value: &serde_json::Value) -> Result<(), ApiError> {
    let mut details = Vec::new();
    for (field, why) in [
        ("schemas", "a tenant lives in one schema of its own"),
        ("extensions", "extensions belong to the whole database; ask the operator to install them"),
        ("roles", "roles belong to the whole database"),
        ("sql", "custom SQL is not run for tenants"),
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

    /// Every string that is a userID names a plain file in the tenants
    /// directory, and no two userIDs name one file, even where case is ignored.
    #[test]
    fn hostile_user_ids_never_name_a_file_outside_the_tenants_directory() {
        let hostile = [
            "..",
            "../../etc/passwd",
            "..\\..\\windows",
            "a/../../b",
            "/etc/passwd",
            "%2e%2e%2f",
            "a\0b",
            "a\nb",
            "C:",
            "~root",
            "service.sqlite",
            ".hidden",
            "a b",
            "a;b",
            "a'b",
            "a\"b",
            "$(id)",
            "a\u{2215}b",
            "\u{ff0e}\u{ff0e}",
            "",
        ];
        for text in hostile {
            assert!(UserId::parse(text).is_err(), "{text:?} was accepted");
        }
        let dir = std::path::Path::new("/data/tenants");
        let mut seen = std::collections::BTreeMap::new();
        let alphabet: Vec<char> = ('a'..='c').chain('A'..='C').chain(['0', '_', '-']).collect();
        // Every string of up to three of those characters, and some names of the data directory's own.
        let mut ids = std::collections::BTreeSet::from([String::new()]);
        for _ in 0..3 {
            let longer: Vec<String> = ids.iter().flat_map(|id| alphabet.iter().map(move |c| format!("{id}{c}"))).collect();
            ids.extend(longer);
        }
        ids.extend(["service".to_string(), "tenants".to_string(), "x".repeat(MAX_USER_ID)]);
        for text in ids {
            let Ok(user) = UserId::parse(&text) else { continue };
            let path = dir.join(format!("{}.sqlite", user.file_stem()));
            assert_eq!(path.parent(), Some(dir), "{text}");
            assert!(path.components().count() == dir.components().count() + 1, "{text}");
            let folded = path.to_string_lossy().to_lowercase();
            assert!(!folded.contains("..") && !user.file_stem().starts_with('.'), "{text}");
            if let Some(other) = seen.insert(folded, text.clone()) {
                panic!("{other} and {text} share a file");
            }
        }
        assert_eq!(UserId::parse("Hana").map(|u| u.file_stem()).ok(), Some("+hana".into()));
        assert_eq!(UserId::parse("hana").map(|u| u.file_stem()).ok(), Some("hana".into()));
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
