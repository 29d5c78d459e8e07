//! The TypeScript and Zod clients, judged by the real toolchain: for every
//! fixture, `tsc` (strict) proves their types are exactly drizzle-orm's row
//! types for the generated `schema.ts`, both ways; and Zod, run, accepts a
//! valid row and rejects what the definition forbids.

mod common;

use std::fmt::Write;

use schemaforge_codegen::Language;
use schemaforge_codegen::rows::rows;
use schemaforge_testkit::node::{self, oracle_dir, require_toolchain, work_dir};
use schemaforge_testkit::{repo_root, stem, supported_examples};

fn fixtures() -> Vec<std::path::PathBuf> {
    let mut paths = supported_examples();
    paths.push(repo_root().join("fixtures/features/kitchen-sink.json"));
    paths.push(repo_root().join("fixtures/features/naming-edge-cases.json"));
    paths
}

#[test]
fn typescript_and_zod_types_are_drizzles_row_types() {
    require_toolchain();
    let dir = work_dir("clients");
    let mut files = Vec::new();
    for path in fixtures() {
        let name = stem(&path).replace(['.', '-'], "_");
        let schema = common::load(&path);
        let out = dir.join(&name);
        std::fs::create_dir_all(&out).expect("creatable");
        for language in Language::ALL {
            let file = language.generate(&schema);
            std::fs::write(out.join(&file.path), file.contents).expect("writable");
        }
        let mut check = String::from(
            "import type * as D from \"./schema\";\nimport type * as T from \"./types\";\nimport * as Z from \"./zod\";\nimport type { z } from \"zod\";\n\
             type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;\n",
        );
        for (i, row) in rows(&schema).iter().enumerate() {
            let (select, insert, export) = (&row.select_type, &row.insert_type, &row.export);
            let _ = writeln!(check, "export const select{i}: Same<D.{select}, T.{select}> = true;");
            let _ = writeln!(check, "export const insert{i}: Same<D.{insert}, T.{insert}> = true;");
            let _ = writeln!(check, "export const zodSelect{i}: Same<z.infer<typeof Z.{export}Select>, T.{select}> = true;");
            let _ = writeln!(check, "export const zodInsert{i}: Same<z.input<typeof Z.{export}Insert>, T.{insert}> = true;");
        }
        std::fs::write(out.join("check.ts"), check).expect("writable");
        files.push(format!("{name}/check.ts"));
    }
    let run = node::typecheck(&dir, &files);
    assert!(run.success, "tsc: the clients' types differ from drizzle-orm's:\n{}", run.combined());
}

#[test]
fn zod_schemas_check_what_the_definition_says() {
    require_toolchain();
    let dir = oracle_dir().join(format!(".zod-runtime-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creatable");
    let schema = common::load(&repo_root().join("fixtures/examples/blog.v2.json"));
    let file = Language::Zod.generate(&schema);
    std::fs::write(dir.join("zod.ts"), file.contents).expect("writable");
    let script = r#"
import { usersSelect, usersInsert, postsInsert } from "./zod";
const results = {
  validUser: usersSelect.safeParse({ id: 1, email: "a@b.co", displayName: "A", bio: null, createdAt: new Date() }).success,
  longEmail: usersInsert.safeParse({ email: "x".repeat(256) }).success,
  missingEmail: usersInsert.safeParse({}).success,
  badStatus: postsInsert.safeParse({ authorId: 1, title: "t", status: "deleted" }).success,
  goodStatus: postsInsert.safeParse({ authorId: 1, title: "t", status: "archived" }).success,
  hugeId: usersSelect.safeParse({ id: 2 ** 31, email: "a@b.co", displayName: "A", bio: null, createdAt: new Date() }).success,
};
console.log(JSON.stringify(results));
"#;
    std::fs::write(dir.join("run.ts"), script).expect("writable");
    let tsx = oracle_dir().join("node_modules/tsx/dist/cli.mjs");
    let run = node::node(&dir, &tsx, &["run.ts"], &[]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(run.success, "{}", run.combined());
    let results: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("json");
    assert_eq!(
        results,
        serde_json::json!({"validUser": true, "longEmail": false, "missingEmail": false, "badStatus": false, "goodStatus": true, "hugeId": false})
    );
}
