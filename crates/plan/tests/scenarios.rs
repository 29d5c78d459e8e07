//! Fixture in, plan out: every scenario's up and down plan, with hazards,
//! pinned by insta snapshots; and no plan between a schema and itself.

mod common;

use schemaforge_plan::{Plan, plan_down_with, plan_with};

fn render(plan: &Plan) -> String {
    let mut out = String::new();
    if !plan.transactional() {
        out.push_str("-- outside a transaction\n");
    }
    for statement in &plan.statements {
        out.push_str(&statement.sql);
        out.push_str(";\n");
        for finding in &statement.hazards {
            out.push_str(&format!("  ! {}: {}\n", finding.hazard, finding.message));
        }
    }
    out
}

#[test]
fn every_scenario_plans_up_and_down() {
    let scenarios = common::scenarios();
    assert!(scenarios.len() >= 15, "found only {} scenarios", scenarios.len());
    for scenario in scenarios {
        let up = plan_with(&scenario.from, &scenario.to, scenario.options).unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
        let down = plan_down_with(&scenario.from, &scenario.to, scenario.options).unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
        assert!(!up.is_empty(), "{}: the scenario changes nothing", scenario.name);
        let text = format!(
            "{}\n\n-- changes\n{}\n\n-- up\n{}\n-- down\n{}",
            scenario.description,
            up.changes.join("\n"),
            render(&up),
            render(&down)
        );
        insta::assert_snapshot!(scenario.name.clone(), text);
    }
}

#[test]
fn a_schema_diffed_with_itself_plans_nothing() {
    for scenario in common::scenarios() {
        for schema in [&scenario.from, &scenario.to] {
            let steps = schemaforge_diff::diff(schema, schema);
            assert!(steps.is_empty(), "{}: diff(a, a) = {steps:?}", scenario.name);
        }
    }
    for example in schemaforge_testkit::supported_examples() {
        let schema = schemaforge_spec::parse_definition(&std::fs::read_to_string(&example).expect("example")).expect("valid");
        assert!(schemaforge_diff::diff(&schema, &schema).is_empty(), "{}", example.display());
    }
}
