//! `schema.ts` for a large schema (its tables written in halves on two
//! threads) pinned byte for byte, on both dialects. The digests were taken
//! from the earlier, sequential writer; the readable form of small files is
//! in the CLI's snapshots of each example folder.

use std::fmt::Write;

use schemaforge_model::Dialect;
use schemaforge_testkit::wide_definition;
use sha2::{Digest, Sha256};

#[test]
fn the_file_is_pinned_byte_for_byte() {
    let mut report = String::new();
    for dialect in [Dialect::Postgresql, Dialect::Sqlite] {
        for tables in [1, 63, 64, 65, 200] {
            let schema = schemaforge_spec::validate_value_for(&wide_definition(tables, dialect), Some(dialect)).expect("valid");
            let text = schemaforge_codegen::drizzle::generate(&schema).contents;
            let digest: String = Sha256::digest(text.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect();
            writeln!(report, "{dialect:?} {tables} tables: {digest}").unwrap();
        }
    }
    insta::assert_snapshot!(report);
}
