//! Printing diagnostics for people (`human`) and programs (`json`).

use std::path::Path;

use schemaforge_spec::Diagnostic;
use serde_json::json;

/// `error[code]: message`, then where, then the hint.
pub fn human(file: &Path, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&format!("error[{}]: {}\n", d.code, d.message));
        let location = match d.position {
            Some(p) => format!("{}:{}:{}", file.display(), p.line, p.column),
            None => file.display().to_string(),
        };
        let pointer = if d.path.is_empty() { "/" } else { &d.path };
        out.push_str(&format!("  --> {location} at {pointer}\n"));
        if let Some(hint) = &d.hint {
            out.push_str(&format!("  hint: {hint}\n"));
        }
    }
    let n = diagnostics.len();
    out.push_str(&format!("{} {} in {}\n", n, if n == 1 { "error" } else { "errors" }, file.display()));
    out
}

/// `{"errors": [{"path", "code", "message", "hint", "line", "column"}]}`.
pub fn json(diagnostics: &[Diagnostic]) -> String {
    let errors: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            json!({
                "path": d.path,
                "code": d.code.as_str(),
                "message": d.message,
                "hint": d.hint,
                "line": d.position.map(|p| p.line),
                "column": d.position.map(|p| p.column),
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&json!({ "errors": errors })).unwrap_or_default();
    text.push('\n');
    text
}
