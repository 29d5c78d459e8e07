//! The pinned Node toolchain in `oracle/` (installed by `.ci/run` with `npm ci`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// `oracle/`: package.json, lock file and node_modules of the drizzle toolchain.
pub fn oracle_dir() -> PathBuf {
    crate::repo_root().join("oracle")
}

/// Fails with the fix when the toolchain is not installed.
pub fn require_toolchain() {
    let bin = oracle_dir().join("node_modules/drizzle-kit/bin.cjs");
    assert!(bin.exists(), "the drizzle toolchain is not installed: run `npm ci --prefix oracle` (`.ci/run` does)");
}

/// As [`require_toolchain`], and better-sqlite3 (drizzle-orm's SQLite driver, a native module) built.
pub fn require_sqlite_toolchain() {
    require_toolchain();
    let addon = oracle_dir().join("node_modules/better-sqlite3/build/Release/better_sqlite3.node");
    assert!(addon.exists(), "better-sqlite3 is not built: run `npm ci --prefix oracle` (`.ci/run` does)");
}

/// A fresh directory inside `oracle/`, so code there resolves `drizzle-orm`.
pub fn work_dir(label: &str) -> PathBuf {
    crate::fresh_dir(&oracle_dir().join("work"), label)
}

/// Output of a finished command.
#[derive(Debug)]
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `node <script> <args>` with `cwd`, environment `env`.
pub fn node(cwd: &Path, script: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new("node");
    command.current_dir(cwd).arg(script).args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap_or_else(|e| panic!("cannot run node (is Node.js installed?): {e}"));
    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `drizzle-kit <args>` (dialect `postgresql`) with a config for the given
/// schema file and folder (both relative to `cwd`, which must be inside `oracle/`).
pub fn drizzle_kit(cwd: &Path, command: &str, schema: &str, out: &str, extra: &[&str]) -> Run {
    drizzle_kit_for("postgresql", cwd, command, schema, out, extra)
}

/// `drizzle-kit <args>` for `dialect` (`postgresql`, `sqlite`), as [`drizzle_kit`].
/// The config is written into `cwd`, so runs in different directories may go in parallel.
pub fn drizzle_kit_for(dialect: &str, cwd: &Path, command: &str, schema: &str, out: &str, extra: &[&str]) -> Run {
    let config = cwd.join("drizzle.config.json.ts");
    let text = format!("export default {{ dialect: {dialect:?}, schema: {schema:?}, out: {out:?} }};\n");
    std::fs::write(&config, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", config.display()));
    let bin = oracle_dir().join("node_modules/drizzle-kit/bin.cjs");
    let mut args = vec![command, "--config", "drizzle.config.json.ts"];
    args.extend_from_slice(extra);
    node(cwd, &bin, &args, &[])
}

/// `tsc --noEmit` over `files` with strict settings.
pub fn typecheck(cwd: &Path, files: &[String]) -> Run {
    let tsconfig = serde_like_tsconfig(files);
    std::fs::write(cwd.join("tsconfig.json"), tsconfig).unwrap_or_else(|e| panic!("cannot write tsconfig: {e}"));
    let bin = oracle_dir().join("node_modules/typescript/bin/tsc");
    node(cwd, &bin, &["--noEmit", "-p", "tsconfig.json"], &[])
}

fn serde_like_tsconfig(files: &[String]) -> String {
    let list: Vec<String> = files.iter().map(|f| format!("{f:?}")).collect();
    format!(
        r#"{{
  "compilerOptions": {{
    "strict": true,
    "noEmit": true,
    "target": "ES2022",
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "skipLibCheck": true,
    "noUnusedLocals": true,
    "types": []
  }},
  "files": [{}]
}}
"#,
        list.join(", ")
    )
}
