//! Version bumps and changelogs for real plans: the blog chain goes 1.0.0 →
//! 1.1.0 (additions) → 2.0.0 (v3 deletes data); a comment alone is a patch.

use schemaforge_plan::{Bump, Version, bump_of, changelog, plan};
use schemaforge_testkit::repo_root;

fn blog(version: &str) -> schemaforge_model::Schema {
    let text = std::fs::read_to_string(repo_root().join(format!("fixtures/examples/blog.{version}.json"))).expect("fixture");
    schemaforge_spec::parse_definition(&text).expect("valid")
}

#[test]
fn the_blog_chain_is_one_minor_then_one_major() {
    let (v1, v2, v3) = (blog("v1"), blog("v2"), blog("v3"));
    let first = plan(&v2, &v2).expect("plans");
    assert_eq!(bump_of(&first), Bump::Patch, "an empty plan moves nothing but the patch");
    let second = plan(&v1, &v2).expect("plans");
    assert_eq!(bump_of(&second), Bump::Minor);
    let third = plan(&v2, &v3).expect("plans");
    assert_eq!(bump_of(&third), Bump::Major);
    let versions = [Version::FIRST, Version::FIRST.bumped(bump_of(&second))];
    assert_eq!(versions.map(|v| v.to_string()), ["1.0.0", "1.1.0"]);
    assert_eq!(versions[1].bumped(bump_of(&third)).to_string(), "2.0.0");

    let log = changelog(Version::parse("2.0.0").expect("version"), Some("Posts become articles."), &third);
    assert!(log.starts_with("## 2.0.0\n\nPosts become articles.\n\n- "), "{log}");
    assert!(log.contains("Hazards: `deletes-data`"), "{log}");
}

#[test]
fn a_comment_alone_is_a_patch() {
    let v1 = blog("v1");
    let mut commented = v1.clone();
    commented.tables[0].comment = Some("People who write.".into());
    assert_eq!(bump_of(&plan(&v1, &commented).expect("plans")), Bump::Patch);
}
