//! Repository invariants that review alone would let slip:
//! every Rust file says what it is for, and the pure core stays pure.

use std::path::{Path, PathBuf};

use schemaforge_testkit::repo_root;

/// Crates that do no IO: no clock, no file system, no network, no processes.
const PURE_CRATES: [&str; 7] = ["model", "fragment", "spec", "diff", "sql", "kit", "codegen"];

/// Dependencies that would pull IO or async into a pure crate.
const IO_DEPENDENCIES: [&str; 8] = ["tokio", "sqlx", "axum", "clap", "reqwest", "object_store", "anyhow", "hyper"];

/// Source patterns that mean IO or non-determinism.
/// (`HashMap` iteration order is random: output must come from ordered maps.)
const IO_PATTERNS: [&str; 10] =
    ["std::fs", "TcpStream", "TcpListener", "UdpSocket", "std::process", "std::env", "SystemTime", "Instant::now", "HashMap", "HashSet"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "snapshots" || n == "target") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&repo_root().join("crates"), &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap_or_default().starts_with("//!"))
        .map(|f| f.strip_prefix(repo_root()).unwrap_or(f).display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a leading `//!` line saying what they are for:\n{}", missing.join("\n"));
}

#[test]
fn pure_crates_do_no_io() {
    for name in PURE_CRATES {
        let dir = repo_root().join("crates").join(name);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
        let dependencies = manifest.split("[dependencies]").nth(1).unwrap_or("").split("\n[").next().unwrap_or("");
        for dependency in IO_DEPENDENCIES {
            assert!(!dependencies.lines().any(|l| l.trim_start().starts_with(dependency)), "pure crate `{name}` depends on `{dependency}`");
        }
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source");
            for pattern in IO_PATTERNS {
                assert!(!text.contains(pattern), "pure crate file {} uses `{pattern}`", file.display());
            }
            assert!(!text.contains("async fn"), "pure crate file {} is async", file.display());
        }
    }
}
