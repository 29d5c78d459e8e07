//! Text that ends up verbatim inside SQL (comments, string literals, enum
//! labels, custom scripts) must survive the trip: no NUL character (PostgreSQL
//! cuts strings at it) and no `--> statement-breakpoint` (drizzle-orm's
//! migrator splits migration files on it, wherever it appears).

use serde_json::Value;

use super::Lowerer;
use crate::diagnostic::{Code, Diagnostic, Pointer};

/// drizzle-kit's statement separator.
pub const BREAKPOINT_MARKER: &str = "--> statement-breakpoint";

impl Lowerer {
    /// Checks one string; `what` names it in the message.
    pub(super) fn sql_text(&mut self, path: &Pointer, text: &str, what: &str) -> bool {
        if text.contains('\0') {
            self.push(
                Diagnostic::new(path, Code::InvalidValue, format!("{what} contains a NUL character"))
                    .with_hint("PostgreSQL text cannot hold NUL: remove it"),
            );
            return false;
        }
        if text.contains(BREAKPOINT_MARKER) {
            self.push(
                Diagnostic::new(path, Code::InvalidValue, format!("{what} contains `{BREAKPOINT_MARKER}`"))
                    .with_hint("drizzle's migrator splits migration files on this text wherever it appears: reword it"),
            );
            return false;
        }
        true
    }

    /// Checks every string inside a JSON value (keys included).
    pub(super) fn sql_value(&mut self, path: &Pointer, value: &Value, what: &str) -> bool {
        match value {
            Value::String(s) => self.sql_text(path, s, what),
            Value::Array(items) => items.iter().all(|item| self.sql_value(path, item, what)),
            Value::Object(map) => map.iter().all(|(k, v)| self.sql_text(path, k, what) && self.sql_value(path, v, what)),
            Value::Null | Value::Bool(_) | Value::Number(_) => true,
        }
    }
}
