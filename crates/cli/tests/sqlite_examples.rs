//! SQLite fixtures in, snapshots out: `schemaforge validate` and `generate` on
//! every `fixtures/sqlite` definition (up and down SQL, `schema.ts`, snapshot,
//! journal pinned by insta), and the blog chain v1 → v2 → v3 generated into
//! one folder, whose table rebuilds and their inverses are pinned too.

mod common;

use common::{generate, text};
use schemaforge_testkit::{repo_root, scratch_dir, sqlite_fixtures, stem};

#[test]
fn every_sqlite_fixture_validates() {
    for definition in sqlite_fixtures() {
        let output = common::schemaforge(&["validate", &definition.to_string_lossy()]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        insta::assert_snapshot!(
            format!("{}.validate", stem(&definition)),
            text(&output.stdout).replace(&definition.to_string_lossy().to_string(), "<file>")
        );
    }
}

#[test]
fn every_sqlite_fixture_generates() {
    for definition in sqlite_fixtures() {
        let name = stem(&definition);
        let out = scratch_dir(&format!("sqlite-gen-{name}"));
        generate(&definition, &out);
        let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap_or_else(|e| panic!("{name}: {p}: {e}"));
        insta::assert_snapshot!(format!("{name}.sql"), read("0000_init.sql"));
        insta::assert_snapshot!(format!("{name}.down.sql"), read("0000_init.down.sql"));
        insta::assert_snapshot!(format!("{name}.schema.ts"), read("schema.ts"));
        insta::assert_snapshot!(format!("{name}.snapshot.json"), read("meta/0000_snapshot.json"));
        insta::assert_snapshot!(format!("{name}.journal.json"), read("meta/_journal.json"));

        let snapshot: serde_json::Value = serde_json::from_str(&read("meta/0000_snapshot.json")).expect("snapshot");
        assert_eq!((&snapshot["version"], &snapshot["dialect"]), (&"6".into(), &"sqlite".into()), "{name}: snapshot kind");
        let journal: serde_json::Value = serde_json::from_str(&read("meta/_journal.json")).expect("journal");
        assert_eq!((&journal["dialect"], &journal["entries"][0]["version"]), (&"sqlite".into(), &"6".into()), "{name}: journal");
        for file in ["meta/_journal.json", "meta/0000_snapshot.json"] {
            assert!(!read(file).ends_with('\n'), "{name}: {file} ends with a newline; drizzle-kit writes none");
        }
        let sql = read("0000_init.sql");
        let last = sql.rsplit("--> statement-breakpoint").next().unwrap_or_default().trim_start();
        assert_eq!(sql.ends_with('\n'), last.starts_with("CREATE TABLE"), "{name}: trailing newline");
        assert!(!sql.trim_end().ends_with("--> statement-breakpoint"), "{name}: trailing breakpoint");
    }
}

#[test]
fn sqlite_generation_is_deterministic() {
    for definition in sqlite_fixtures() {
        let (a, b) = (scratch_dir("sqlite-det-a"), scratch_dir("sqlite-det-b"));
        generate(&definition, &a);
        generate(&definition, &b);
        for file in ["0000_init.sql", "0000_init.down.sql", "schema.ts", "meta/_journal.json", "meta/0000_snapshot.json"] {
            assert_eq!(
                std::fs::read(a.join(file)).expect("first run"),
                std::fs::read(b.join(file)).expect("second run"),
                "{}: {file} differs between two runs",
                definition.display()
            );
        }
    }
}

#[test]
fn the_sqlite_blog_chain_becomes_three_migrations() {
    let out = scratch_dir("sqlite-incremental-blog").join("drizzle");
    for version in ["v1", "v2", "v3"] {
        generate(&repo_root().join(format!("fixtures/sqlite/blog.{version}.json")), &out);
    }
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let journal: serde_json::Value = serde_json::from_str(&read("meta/_journal.json")).expect("journal");
    let entries = journal["entries"].as_array().expect("entries");
    let tags: Vec<&str> = entries.iter().filter_map(|e| e["tag"].as_str()).collect();
    assert_eq!(tags, ["0000_init", "0001_add_comments_and_more", "0002_rename_posts_to_articles_and_more"]);
    assert!(entries.iter().all(|e| e["version"] == "6"), "{journal}");
    for (i, tag) in tags.iter().enumerate().skip(1) {
        let snapshot: serde_json::Value = serde_json::from_str(&read(&format!("meta/{i:04}_snapshot.json"))).expect("snapshot");
        let previous: serde_json::Value = serde_json::from_str(&read(&format!("meta/{:04}_snapshot.json", i - 1))).expect("snapshot");
        assert_eq!(snapshot["prevId"], previous["id"], "{tag}: snapshots are chained");
    }
    for tag in &tags[1..] {
        insta::assert_snapshot!(format!("blog-{}.sql", &tag[..4]), read(&format!("{tag}.sql")));
        insta::assert_snapshot!(format!("blog-{}.down.sql", &tag[..4]), read(&format!("{tag}.down.sql")));
    }
    insta::assert_snapshot!("blog-chain.schema.ts", read("schema.ts"));
}
