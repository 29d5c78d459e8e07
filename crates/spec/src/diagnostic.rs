//! Validation diagnostics: what is wrong, where (a JSON pointer), and how to fix it.

use std::fmt;

/// One problem in a definition. Validation reports all of them at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// JSON pointer (RFC 6901) to the offending value, `""` for the whole document.
    pub path: String,
    pub code: Code,
    pub message: String,
    /// What to do about it, when we can tell ("did you mean `varchar`?").
    pub hint: Option<String>,
    /// 1-based line and column of the offending value in the source text, when known.
    pub position: Option<Position>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Diagnostic {
    #[must_use]
    pub fn new(path: impl Into<String>, code: Code, message: impl Into<String>) -> Self {
        Diagnostic { path: path.into(), code, message: message.into(), hint: None, position: None }
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    #[must_use]
    pub fn with_hint_opt(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "/" } else { &self.path };
        write!(f, "{path}")?;
        if let Some(Position { line, column }) = self.position {
            write!(f, " (line {line}, column {column})")?;
        }
        write!(f, ": {} [{}]", self.message, self.code)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, )*) => {
        /// Stable diagnostic codes. A code never changes meaning once released;
        /// programs (and LLMs) may branch on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable kebab-case identifier.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// One line saying what the code means, for docs and `--explain`.
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => concat!($($doc),*).trim_ascii(),)* }
            }
        }
    };
}

codes! {
    /// The input is not valid JSON.
    InvalidJson = "invalid-json",
    /// The input is larger than the accepted maximum.
    TooLarge = "too-large",
    /// An object has the same key twice.
    DuplicateKey = "duplicate-key",
    /// An object has a field the format does not define.
    UnknownField = "unknown-field",
    /// A required field is absent.
    MissingField = "missing-field",
    /// A value has the wrong JSON type (string where a number belongs, …).
    WrongType = "wrong-type",
    /// A value is not one of the allowed values.
    InvalidValue = "invalid-value",
    /// A number is outside the range its field accepts.
    OutOfRange = "out-of-range",
    /// A feature of the format that this version does not support yet.
    NotSupported = "not-supported",
    /// The definition targets a dialect this version cannot generate for.
    UnsupportedDialect = "unsupported-dialect",
    /// The target dialect cannot hold this feature or type (schemas, policies, arrays, … on SQLite).
    NotInDialect = "not-in-dialect",
    /// A column type name is not one of the format's types.
    UnknownType = "unknown-type",
    /// A type parameter is missing, out of range, contradictory or does not apply to the type.
    InvalidTypeParameter = "invalid-type-parameter",
    /// An identifier is longer than the dialect allows (63 bytes on PostgreSQL).
    IdentifierTooLong = "identifier-too-long",
    /// An identifier is empty or contains characters schemaforge refuses.
    InvalidIdentifier = "invalid-identifier",
    /// Two tables share a name in the same schema.
    DuplicateTable = "duplicate-table",
    /// Two columns of a table share a name.
    DuplicateColumn = "duplicate-column",
    /// Two constraints of a table, or two indexes/constraints/relations in a schema, share a name.
    DuplicateConstraint = "duplicate-constraint",
    /// Two indexes, or an index and another relation, share a name in a schema.
    DuplicateIndex = "duplicate-index",
    /// Two enums (or an enum and a table's row type) share a name in a schema.
    DuplicateEnum = "duplicate-enum",
    /// An enum lists the same value twice.
    DuplicateEnumValue = "duplicate-enum-value",
    /// A name appears twice in a list where names must be distinct (schemas, roles, policies, …).
    DuplicateName = "duplicate-name",
    /// A reference names a table that the definition does not declare.
    UnknownTable = "unknown-table",
    /// A reference names a column that its table does not have.
    UnknownColumn = "unknown-column",
    /// A column uses an enum that the definition does not declare.
    UnknownEnum = "unknown-enum",
    /// A table or enum lives in a schema that the definition does not declare.
    UnknownSchema = "unknown-schema",
    /// A policy names a role that the definition does not declare.
    UnknownRole = "unknown-role",
    /// A foreign key column's type differs from the type of the column it references.
    ForeignKeyTypeMismatch = "fk-type-mismatch",
    /// A foreign key references columns that are not a primary key or unique constraint.
    ForeignKeyTargetNotUnique = "fk-target-not-unique",
    /// A foreign key's column lists differ in length, or its action can never succeed.
    InvalidForeignKey = "invalid-foreign-key",
    /// A default value does not fit the column's type.
    InvalidDefault = "invalid-default",
    /// A table declares more than one primary key.
    MultiplePrimaryKeys = "multiple-primary-keys",
    /// A column combines options that cannot go together (identity with a default, …).
    ConflictingOptions = "conflicting-options",
    /// An index is malformed (no name for an expression, options its method does not support, …).
    InvalidIndex = "invalid-index",
    /// A policy is malformed (a clause its command does not allow, no roles, …).
    InvalidPolicy = "invalid-policy",
    /// An SQL fragment does not parse with the dialect's grammar.
    InvalidSql = "invalid-sql",
    /// An SQL fragment is not exactly one expression (several statements, a trailing clause, a comment, …).
    NotAnExpression = "not-an-expression",
    /// An SQL expression refers to something its position does not allow (a column in a default, an unknown column, a subquery in a check, …).
    InvalidExpression = "invalid-expression",
    /// A rename declaration cannot be applied (renames to itself, clashes with an existing name).
    InvalidRename = "invalid-rename",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JSON value as it is named in messages: `the string "x"`, `an array`.
pub(crate) fn describe_value(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() <= 40 => format!("the string \"{s}\""),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Builds JSON pointers (RFC 6901), escaping `~` and `/` in keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pointer(String);

impl Pointer {
    pub fn root() -> Self {
        Pointer(String::new())
    }

    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut s = String::with_capacity(self.0.len() + key.len() + 1);
        s.push_str(&self.0);
        s.push('/');
        if !key.contains(['~', '/']) {
            s.push_str(key);
            return Pointer(s);
        }
        for c in key.chars() {
            match c {
                '~' => s.push_str("~0"),
                '/' => s.push_str("~1"),
                c => s.push(c),
            }
        }
        Pointer(s)
    }

    /// Lowering makes a pointer for every column it visits: written by hand
    /// rather than through `format!`.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut digits = [0u8; 20];
        let (mut rest, mut start) = (index, digits.len());
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let mut s = String::with_capacity(self.0.len() + 1 + digits.len() - start);
        s.push_str(&self.0);
        s.push('/');
        s.extend(digits[start..].iter().map(|&d| char::from(d)));
        Pointer(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Pointer> for String {
    fn from(p: Pointer) -> String {
        p.0
    }
}

impl From<&Pointer> for String {
    fn from(p: &Pointer) -> String {
        p.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{code}");
            assert!(!code.description().is_empty(), "{code} has no description");
        }
    }

    #[test]
    fn pointers_escape_keys() {
        assert_eq!(Pointer::root().key("a/b").key("c~d").index(3).as_str(), "/a~1b/c~0d/3");
        for index in [0, 9, 10, 99, 100, 12345, usize::MAX] {
            assert_eq!(Pointer::root().key("columns").index(index).as_str(), format!("/columns/{index}"));
        }
    }
}
