//! Row-level security policies: roles resolved, clauses checked against the command.

use schemaforge_fragment::ExpressionSlot;
use schemaforge_model::{BUILTIN_POLICY_ROLES, Policy, PolicyCommand, PolicyKind, Table};

use super::Lowerer;
use crate::diagnostic::{Code, Diagnostic, Pointer};
use crate::document::{PolicyCommandName, PolicyKindName, TableDef};
use crate::suggest;

impl Lowerer {
    pub(super) fn policies(&mut self, path: &Pointer, def: &TableDef, table: &mut Table) {
        for (i, policy) in def.policies.iter().enumerate() {
            let policy_path = path.key("policies").index(i);
            if self.skipped(&policy_path) {
                continue;
            }
            let mut ok = self.identifier(&policy_path.key("name"), &policy.name, "policy name");
            if table.policies.iter().any(|p| p.name == policy.name) {
                ok = false;
                self.push(Diagnostic::new(
                    policy_path.key("name"),
                    Code::DuplicateName,
                    format!("table `{}` has two policies named `{}`", table.name, policy.name),
                ));
            }
            let command = match policy.command {
                None | Some(PolicyCommandName::All) => PolicyCommand::All,
                Some(PolicyCommandName::Select) => PolicyCommand::Select,
                Some(PolicyCommandName::Insert) => PolicyCommand::Insert,
                Some(PolicyCommandName::Update) => PolicyCommand::Update,
                Some(PolicyCommandName::Delete) => PolicyCommand::Delete,
            };
            let mut roles: Vec<String> = match &policy.to {
                None => vec!["public".to_string()],
                Some(roles) if roles.is_empty() => {
                    ok = false;
                    self.push(
                        Diagnostic::new(policy_path.key("to"), Code::InvalidPolicy, "`to` lists no roles")
                            .with_hint("omit `to` to apply the policy to every role (`public`)"),
                    );
                    Vec::new()
                }
                Some(roles) => roles.clone(),
            };
            for (j, role) in roles.iter().enumerate() {
                if !BUILTIN_POLICY_ROLES.contains(&role.as_str()) && !self.roles.contains(role) {
                    ok = false;
                    let hint = suggest::did_you_mean(role, self.roles.iter().map(String::as_str))
                        .unwrap_or_else(|| format!("declare it in `roles` (with `\"existing\": true` if the database already has it): {{\"name\": \"{role}\", \"existing\": true}}"));
                    self.push(
                        Diagnostic::new(
                            policy_path.key("to").index(j),
                            Code::UnknownRole,
                            format!("policy `{}` names role `{role}`, which is not declared", policy.name),
                        )
                        .with_hint(hint),
                    );
                }
            }
            roles.sort();
            roles.dedup();
            if roles.len() > 1 && roles.iter().any(|r| r == "public") {
                ok = false;
                self.push(
                    Diagnostic::new(
                        policy_path.key("to"),
                        Code::InvalidPolicy,
                        "`public` already means every role; PostgreSQL ignores the others listed with it",
                    )
                    .with_hint("list `public` alone, or only the specific roles"),
                );
            }
            if policy.using.is_some() && command == PolicyCommand::Insert {
                ok = false;
                self.push(
                    Diagnostic::new(policy_path.key("using"), Code::InvalidPolicy, "an INSERT policy cannot have `using`")
                        .with_hint("use `withCheck` for rows being inserted"),
                );
            }
            if policy.with_check.is_some() && matches!(command, PolicyCommand::Select | PolicyCommand::Delete) {
                ok = false;
                self.push(
                    Diagnostic::new(
                        policy_path.key("withCheck"),
                        Code::InvalidPolicy,
                        format!("a {} policy cannot have `withCheck`", command.as_sql()),
                    )
                    .with_hint("use `using`"),
                );
            }
            let using = match &policy.using {
                Some(sql) => {
                    let checked = self.expression(&policy_path.key("using"), ExpressionSlot::PolicyUsing, sql).map(|(text, _)| text);
                    ok &= checked.is_some();
                    checked
                }
                None => None,
            };
            let with_check = match &policy.with_check {
                Some(sql) => {
                    let checked =
                        self.expression(&policy_path.key("withCheck"), ExpressionSlot::PolicyWithCheck, sql).map(|(text, _)| text);
                    ok &= checked.is_some();
                    checked
                }
                None => None,
            };
            if ok {
                table.policies.push(Policy {
                    name: policy.name.clone(),
                    kind: match policy.kind {
                        None | Some(PolicyKindName::Permissive) => PolicyKind::Permissive,
                        Some(PolicyKindName::Restrictive) => PolicyKind::Restrictive,
                    },
                    command,
                    roles,
                    using,
                    with_check,
                });
            }
        }
    }
}
