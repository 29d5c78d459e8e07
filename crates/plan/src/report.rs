//! Plans as JSON, the one shape the CLI (`--format json`) and the service
//! return: `{"statements": [{"sql", "hazards": [{"code", "message"}],
//! "facts": [{"message", "blocks"}]}], "summary": {…}}`.

use schemaforge_diff::Step;
use serde_json::{Value, json};

use crate::{Hazard, Plan};

/// A fact measured on a live database for one step (see `schemaforge-db`'s
/// probes): "table users has 1,204 rows". `blocks` when the step cannot
/// succeed on the data as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub step: Step,
    pub message: String,
    pub blocks: bool,
}

impl Plan {
    /// The plan as JSON, with `facts` under the first statement of their step.
    pub fn to_json(&self, facts: &[Fact]) -> Value {
        let statements: Vec<Value> = self
            .statements
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let first_of_step = i == 0 || self.statements[i - 1].step != s.step;
                let facts: Vec<Value> = facts
                    .iter()
                    .filter(|f| first_of_step && f.step == s.step)
                    .map(|f| json!({"message": f.message, "blocks": f.blocks}))
                    .collect();
                json!({
                    "sql": s.sql,
                    "hazards": s.hazards.iter().map(|f| json!({"code": f.hazard.code(), "message": f.message})).collect::<Vec<_>>(),
                    "facts": facts,
                })
            })
            .collect();
        let hazards: Vec<&str> = self.hazards().into_iter().map(Hazard::code).collect();
        json!({
            "statements": statements,
            "summary": {
                "statements": self.statements.len(),
                "changes": self.changes,
                "hazards": hazards,
                "transactional": self.transactional(),
            }
        })
    }
}
