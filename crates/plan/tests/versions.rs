//! Version bumps and changelogs for real plans: the blog chain goes 1.0.0 →
//! 1.1.0 (v2 adds, and renames `users.name` with its rows carried over) →
//! 2.0.0 (v3 deletes data); additions alone are a minor, a comment alone is a patch.

use schemaforge_plan::{Bump, Version, bump_of, changelog, plan};
use schemaforge_testkit::repo_root;

fn blog(version: &str) -> schemaforge_model::Schema {
    let text = std::fs::read_to_string(repo_root().join(format!("fixtures/examples/blog.{version}.json"))).expect("fixture");
    schemaforge_spec::parse_definition(&text).expect("valid")
}

#[test]
fn the_blog_chain_is_a_minor_then_a_major() {
    let (v1, v2, v3) = (blog("v1"), blog("v2"), blog("v3"));
    let first = plan(&v2, &v2).expect("plans");
    assert_eq!(bump_of(&first, &v2, &v2), Bump::Patch, "an empty plan moves nothing but the patch");
    let second = plan(&v1, &v2).expect("plans");
    assert_eq!(bump_of(&second, &v1, &v2), Bump::Minor, "additions, and a declared rename that keeps the rows");
    let third = plan(&v2, &v3).expect("plans");
    assert_eq!(bump_of(&third, &v2, &v3), Bump::Major);
    let versions = [Version::FIRST, Version::FIRST.bumped(bump_of(&second, &v1, &v2))];
    assert_eq!(versions.map(|v| v.to_string()), ["1.0.0", "1.1.0"]);
    assert_eq!(versions[1].bumped(bump_of(&third, &v2, &v3)).to_string(), "2.0.0");

    let log = changelog(Version::parse("2.0.0").expect("version"), Some("Posts become articles."), &third);
    assert!(log.starts_with("## 2.0.0\n\nPosts become articles.\n\n- "), "{log}");
    assert!(log.contains("Hazards: `deletes-data`"), "{log}");
}

#[test]
fn a_comment_alone_is_a_patch() {
    let v1 = blog("v1");
    let mut commented = v1.clone();
    commented.tables[0].comment = Some("People who write.".into());
    assert_eq!(bump_of(&plan(&v1, &commented).expect("plans"), &v1, &commented), Bump::Patch);
}

#[test]
fn v2_without_its_rename_is_a_minor_too() {
    let v1 = blog("v1");
    let text = std::fs::read_to_string(repo_root().join("fixtures/examples/blog.v2.json")).expect("fixture");
    let mut additive: serde_json::Value = serde_json::from_str(&text).expect("json");
    additive["tables"][0]["columns"][2] = serde_json::json!({"name": "name", "type": "text"});
    let additive = schemaforge_spec::parse_definition(&additive.to_string()).expect("valid");
    assert_eq!(bump_of(&plan(&v1, &additive).expect("plans"), &v1, &additive), Bump::Minor);
}
