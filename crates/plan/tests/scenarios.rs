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

#[test]
fn what_the_up_plan_deletes_the_down_plan_marks_irreversible() {
    use schemaforge_diff::{ColumnChange, Pairing, Step};
    use schemaforge_plan::Hazard;
    let mut lossy_conversions = 0;
    for scenario in common::scenarios() {
        let up = plan_with(&scenario.from, &scenario.to, scenario.options).expect("plans");
        let down = plan_down_with(&scenario.from, &scenario.to, scenario.options).expect("plans");
        let pairing = Pairing::new(&scenario.from, &scenario.to);
        let pair = |new: &schemaforge_model::QualifiedName| {
            pairing.tables.iter().find(|p| &p.tables.to.name == new).unwrap_or_else(|| panic!("{}: {new} is not paired", scenario.name))
        };
        for statement in up.statements.iter().filter(|s| s.hazards.iter().any(|f| f.hazard == Hazard::DeletesData)) {
            // The step of the down plan that undoes it, under the old names.
            let undo = match &statement.step {
                Step::DropTable { table } => Step::CreateTable { table: table.clone() },
                Step::DropColumn { table, column } => {
                    Step::AddColumn { table: pair(table).tables.from.name.clone(), column: column.clone() }
                }
                Step::AlterColumn { table, column, change: ColumnChange::SetType } => {
                    lossy_conversions += 1;
                    let pair = pair(table);
                    let old = pair.columns.iter().find(|c| &c.to.name == column).expect("a converted column is paired").from;
                    Step::AlterColumn { table: pair.tables.from.name.clone(), column: old.name.clone(), change: ColumnChange::SetType }
                }
                // Its data lived in columns of its types, dropped (and marked) themselves.
                Step::DropExtension { .. } => continue,
                other => panic!("{}: deletes-data on an unexpected step {other:?}", scenario.name),
            };
            let marked = down.statements.iter().any(|s| s.step == undo && s.hazards.iter().any(|f| f.hazard == Hazard::Irreversible));
            assert!(marked, "{}: the down plan does not mark {undo:?} irreversible", scenario.name);
        }
    }
    assert!(lossy_conversions > 0, "no scenario converts a column lossily");
}
