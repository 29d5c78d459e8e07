//! `generate` on a folder that already holds migrations: the blog chain
//! v1 → v2 → v3 as three migrations with down scripts, snapshot chained,
//! journal extended, and the migration names derived from the changes.

mod common;

use common::{generate, text};
use schemaforge_testkit::{repo_root, scratch_dir};

#[test]
fn the_blog_chain_becomes_three_migrations() {
    let out = scratch_dir("incremental-blog").join("drizzle");
    for version in ["v1", "v2", "v3"] {
        generate(&repo_root().join(format!("fixtures/examples/blog.{version}.json")), &out);
    }
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let journal: serde_json::Value = serde_json::from_str(&read("meta/_journal.json")).expect("journal");
    let tags: Vec<&str> = journal["entries"].as_array().expect("entries").iter().filter_map(|e| e["tag"].as_str()).collect();
    assert_eq!(tags, ["0000_init", "0001_add_comments_and_more", "0002_rename_posts_to_articles_and_more"]);
    let whens: Vec<u64> = journal["entries"].as_array().expect("entries").iter().filter_map(|e| e["when"].as_u64()).collect();
    assert!(whens.windows(2).all(|w| w[0] < w[1]), "journal `when` must increase: {whens:?}");
    for (i, tag) in tags.iter().enumerate() {
        let snapshot: serde_json::Value = serde_json::from_str(&read(&format!("meta/{i:04}_snapshot.json"))).expect("snapshot");
        if i > 0 {
            let previous: serde_json::Value = serde_json::from_str(&read(&format!("meta/{:04}_snapshot.json", i - 1))).expect("snapshot");
            assert_eq!(snapshot["prevId"], previous["id"], "{tag}: snapshots are chained");
        }
        assert!(out.join(format!("{tag}.down.sql")).exists(), "{tag}: no down script");
        assert!(out.join(format!("definitions/{tag}.json")).exists(), "{tag}: no stored definition");
    }
    insta::assert_snapshot!("blog-0001.sql", read("0001_add_comments_and_more.sql"));
    insta::assert_snapshot!("blog-0001.down.sql", read("0001_add_comments_and_more.down.sql"));
    insta::assert_snapshot!("blog-0002.sql", read("0002_rename_posts_to_articles_and_more.sql"));
    insta::assert_snapshot!("blog-0002.down.sql", read("0002_rename_posts_to_articles_and_more.down.sql"));
}

#[test]
fn an_explicit_name_is_used_and_checked() {
    let out = scratch_dir("incremental-name").join("drizzle");
    generate(&repo_root().join("fixtures/examples/blog.v1.json"), &out);
    let v2 = repo_root().join("fixtures/examples/blog.v2.json");
    let output =
        common::schemaforge(&["generate", "--schema", &v2.to_string_lossy(), "--out", &out.to_string_lossy(), "--name", "comments"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(out.join("0001_comments.sql").exists());
    assert!(text(&output.stdout).contains("Hazards:"), "{}", text(&output.stdout));
}

#[test]
fn concurrent_indexes_make_a_migration_that_runs_outside_a_transaction() {
    let out = scratch_dir("incremental-concurrently").join("drizzle");
    let (v1, v2) = (repo_root().join("fixtures/examples/blog.v1.json"), repo_root().join("fixtures/examples/blog.v2.json"));
    generate(&v1, &out);
    let args = ["generate", "--schema", &v2.to_string_lossy(), "--out", &out.to_string_lossy(), "--concurrent-indexes"];
    let output = common::schemaforge(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let up = std::fs::read_to_string(out.join("0001_add_comments_and_more.sql")).expect("up");
    assert!(up.starts_with("-- schemaforge:no-transaction\n"), "{up}");
    assert!(up.contains("CREATE INDEX CONCURRENTLY"), "{up}");
    assert!(!schemaforge_kit::folder::is_transactional(&up));
    let init = std::fs::read_to_string(out.join("0000_init.sql")).expect("init");
    assert!(schemaforge_kit::folder::is_transactional(&init), "a folder's first migration builds on empty tables");

    let plan = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["plan", "--from", v1.to_str().expect("utf-8"), "--to", v2.to_str().expect("utf-8"), "--format", "json"];
        args.extend_from_slice(extra);
        let output = common::schemaforge(&args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("json")
    };
    assert_eq!(plan(&[])["summary"]["transactional"], true);
    assert_eq!(plan(&["--concurrent-indexes"])["summary"]["transactional"], false);
}
