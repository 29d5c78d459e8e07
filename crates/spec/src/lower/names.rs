//! Identifier rules: what a name may contain and how long it may be.

use crate::diagnostic::{Code, Diagnostic, Pointer};

/// PostgreSQL's NAMEDATALEN - 1: longer identifiers are silently truncated by
/// the server, which would make the database disagree with the definition.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Checks a user-chosen identifier. `what` names it in messages ("table name").
///
/// We accept `[A-Za-z_][A-Za-z0-9_]*`: every identifier is quoted when rendered,
/// but these are also the names that survive every generated client (TS, Python,
/// Zod) and every dialect without escaping surprises.
pub fn check_identifier(path: &Pointer, name: &str, what: &str) -> Option<Diagnostic> {
    if name.is_empty() {
        return Some(Diagnostic::new(path, Code::InvalidIdentifier, format!("{what} is empty")));
    }
    if let Some(bad) = name.chars().enumerate().find(|&(i, c)| !(c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit()))) {
        let suggestion = sanitize(name);
        let shown = if bad.1.is_ascii_digit() { "a leading digit".to_string() } else { format!("`{}`", bad.1.escape_default()) };
        return Some(
            Diagnostic::new(path, Code::InvalidIdentifier, format!("{what} `{name}` contains {shown}"))
                .with_hint(format!("use letters, digits and `_`, starting with a letter or `_`, e.g. `{suggestion}`")),
        );
    }
    check_length(path, name, what)
}

/// Checks only the length, for names schemaforge derives itself.
pub fn check_length(path: &Pointer, name: &str, what: &str) -> Option<Diagnostic> {
    (name.len() > MAX_IDENTIFIER_BYTES).then(|| {
        Diagnostic::new(
            path,
            Code::IdentifierTooLong,
            format!("{what} `{name}` is {} bytes; PostgreSQL allows {MAX_IDENTIFIER_BYTES}", name.len()),
        )
        .with_hint("shorten it: the server would silently truncate it and the database would no longer match the definition")
    })
}

/// Extension names may also contain `-` (`uuid-ossp`).
pub fn check_extension_name(path: &Pointer, name: &str) -> Option<Diagnostic> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Some(
            Diagnostic::new(path, Code::InvalidIdentifier, format!("extension name `{name}` is not a valid extension name"))
                .with_hint("extension names use letters, digits, `_` and `-`"),
        );
    }
    check_length(path, name, "extension name")
}

fn sanitize(name: &str) -> String {
    let mut out: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        let p = Pointer::root();
        assert!(check_identifier(&p, "users_2", "table name").is_none());
        assert!(check_identifier(&p, "_x", "table name").is_none());
        let bad = check_identifier(&p, "user-profiles", "table name").unwrap();
        assert_eq!(bad.code, Code::InvalidIdentifier);
        assert!(bad.hint.unwrap().contains("user_profiles"));
        assert_eq!(check_identifier(&p, "1abc", "x").unwrap().code, Code::InvalidIdentifier);
        assert_eq!(check_identifier(&p, "a\"b", "x").unwrap().code, Code::InvalidIdentifier);
        assert_eq!(check_identifier(&p, &"a".repeat(64), "x").unwrap().code, Code::IdentifierTooLong);
        assert!(check_identifier(&p, &"a".repeat(63), "x").is_none());
    }
}
