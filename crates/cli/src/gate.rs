//! The hazard gate: nothing with a hazard runs unless allowed by name, or
//! confirmed by a person at an interactive prompt; nothing that cannot
//! succeed on the current data runs at all.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};

use anyhow::bail;
use schemaforge_db::postgres::probes::Fact;
use schemaforge_plan::{Hazard, Plan};

/// The hazards a run may carry out.
#[derive(Debug, Clone, Default)]
pub struct Allowance {
    all: bool,
    codes: BTreeSet<Hazard>,
}

impl Allowance {
    /// From `--allow-hazard` values: codes, comma-separated or repeated, or `all`.
    pub fn parse(values: &[String]) -> anyhow::Result<Self> {
        let mut allowance = Allowance::default();
        for code in values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|c| !c.is_empty()) {
            if code == "all" {
                allowance.all = true;
                continue;
            }
            match Hazard::from_code(code) {
                Some(hazard) => {
                    allowance.codes.insert(hazard);
                }
                None => {
                    let known: Vec<&str> = Hazard::ALL.iter().map(|h| h.code()).collect();
                    bail!("--allow-hazard {code}: unknown hazard; known: all, {}", known.join(", "))
                }
            }
        }
        Ok(allowance)
    }

    fn allows(&self, hazard: Hazard) -> bool {
        self.all || self.codes.contains(&hazard)
    }
}

/// What the gate decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    /// Refused, with the reason to print.
    Refused(String),
}

/// Whether a prompt may be shown: a person at a terminal, not CI.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal() && std::env::var_os("CI").is_none()
}

/// Decides whether `plan` may run, given the measured `facts`.
pub fn decide(plan: &Plan, facts: &[Fact], allowance: &Allowance, interactive: bool) -> anyhow::Result<Verdict> {
    let blocking: Vec<&Fact> = facts.iter().filter(|f| f.blocks).collect();
    if !blocking.is_empty() {
        let reasons: Vec<String> = blocking.iter().map(|f| format!("  x {}", f.message)).collect();
        return Ok(Verdict::Refused(format!("the plan cannot succeed on the data as it is; nothing was applied:\n{}", reasons.join("\n"))));
    }
    let refused: Vec<Hazard> = plan.hazards().into_iter().filter(|h| !allowance.allows(*h)).collect();
    if refused.is_empty() {
        return Ok(Verdict::Proceed);
    }
    let codes: Vec<&str> = refused.iter().map(|h| h.code()).collect();
    if interactive {
        print!("The plan carries hazards not allowed by --allow-hazard ({}). Apply it? [y/N] ", codes.join(", "));
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if matches!(answer.trim(), "y" | "Y" | "yes") {
            return Ok(Verdict::Proceed);
        }
        return Ok(Verdict::Refused("not confirmed; nothing was applied".into()));
    }
    Ok(Verdict::Refused(format!(
        "hazards not allowed: {}; nothing was applied. Review the plan above, then rerun with --allow-hazard {}",
        codes.join(", "),
        codes.join(",")
    )))
}

#[cfg(test)]
mod tests {
    use super::Allowance;
    use schemaforge_plan::Hazard;

    #[test]
    fn allowances_are_codes_or_all() {
        let a = Allowance::parse(&["deletes-data,updates-rows".into(), "builds-index".into()]).expect("valid");
        assert!(a.allows(Hazard::DeletesData) && a.allows(Hazard::BuildsIndex) && !a.allows(Hazard::RewritesTable));
        assert!(Allowance::parse(&["all".into()]).expect("valid").allows(Hazard::RewritesTable));
        let error = Allowance::parse(&["delete-data".into()]).expect_err("unknown");
        assert!(error.to_string().contains("known: all, deletes-data"));
    }
}
