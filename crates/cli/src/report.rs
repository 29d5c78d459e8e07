//! Printing diagnostics for people (`human`) and programs (`json`).

use std::path::Path;

use schemaforge_plan::{Fact, Hazard, Plan};
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

/// A plan for people: numbered statements, each followed by its hazards and
/// the facts measured for it (`=` informative, `x` cannot succeed).
pub fn plan_human(title: &str, plan: &Plan, facts: &[Fact]) -> String {
    let mut out = format!("Plan: {title}\n");
    if plan.is_empty() {
        out.push_str("No changes.\n");
        return out;
    }
    out.push('\n');
    for (i, statement) in plan.statements.iter().enumerate() {
        let mut lines = statement.sql.lines();
        out.push_str(&format!("{:>4}. {}", i + 1, lines.next().unwrap_or_default()));
        for line in lines {
            out.push_str(&format!("\n      {line}"));
        }
        out.push_str(";\n");
        for finding in &statement.hazards {
            out.push_str(&format!("      ! {}: {}\n", finding.hazard, finding.message));
        }
        let first_of_step = i == 0 || plan.statements[i - 1].step != statement.step;
        for fact in facts.iter().filter(|f| first_of_step && f.step == statement.step) {
            out.push_str(&format!("      {} {}\n", if fact.blocks { "x" } else { "=" }, fact.message));
        }
    }
    let hazards = plan.hazards();
    if !plan.transactional() {
        out.push_str("\nRuns outside a transaction, statement by statement (CONCURRENTLY cannot run inside one).\n");
    }
    out.push_str(&format!("\n{} statements, {} changes", plan.statements.len(), plan.changes.len()));
    if hazards.is_empty() {
        out.push_str(", no hazards\n");
    } else {
        out.push_str(&format!("; hazards: {}\n", hazards.iter().map(|h| h.code()).collect::<Vec<_>>().join(", ")));
    }
    out
}

/// `{"statements":[{"sql","hazards":[{"code","message"}],"facts":[…]}],"summary":{…}}`;
/// the summary says whether the plan can run in one transaction. Facts
/// (`{"message","blocks"}`) appear when the plan was made against a database.
pub fn plan_json(plan: &Plan, facts: &[Fact]) -> String {
    let mut text = serde_json::to_string_pretty(&plan.to_json(facts)).unwrap_or_default();
    text.push('\n');
    text
}

/// A plan as an SQL script; hazards that cannot be undone become comments.
pub fn script(plan: &Plan) -> String {
    let mut out = String::new();
    if !plan.transactional() {
        out.push_str(schemaforge_kit::folder::NO_TRANSACTION);
        out.push('\n');
    }
    for statement in &plan.statements {
        for finding in statement.hazards.iter().filter(|f| f.hazard == Hazard::Irreversible) {
            out.push_str(&format!("-- irreversible: {}\n", finding.message));
        }
        out.push_str(&statement.sql);
        out.push_str(";\n");
    }
    out
}
