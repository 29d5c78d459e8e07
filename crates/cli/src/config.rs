//! `schemaforge.toml`: settings a project keeps with its code. Flags win over
//! the environment, the environment over the file, the file over defaults.
//!
//! ```toml
//! [migrations]
//! dir = "drizzle"
//!
//! [serve]
//! listen = "0.0.0.0:8080"
//! data_dir = "data"
//! database_url = "postgres://schemaforge@db/app"
//! store = "s3://artifacts/prod"
//! body_limit = 8388608
//! request_timeout_seconds = 120
//! tenant_connections = 32
//! ```
//!
//! Secrets (the admin token, the tenant secret) come from the environment only.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub migrations: Migrations,
    #[serde(default)]
    pub serve: Serve,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migrations {
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Serve {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub store: Option<String>,
    pub body_limit: Option<usize>,
    pub request_timeout_seconds: Option<u64>,
    pub tenant_connections: Option<usize>,
    pub log_segment_bytes: Option<u64>,
}

/// The file: `SCHEMAFORGE_CONFIG`, else `./schemaforge.toml` when it exists.
pub fn load() -> anyhow::Result<FileConfig> {
    let path = match std::env::var("SCHEMAFORGE_CONFIG") {
        Ok(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from("schemaforge.toml"),
    };
    if !path.exists() {
        return Ok(FileConfig::default());
    }
    parse(&path)
}

fn parse(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a valid schemaforge configuration", path.display()))
}

/// An environment variable, when set and not empty.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::FileConfig;

    #[test]
    fn the_documented_file_parses_and_typos_are_refused() {
        let text = "[migrations]\ndir = \"db\"\n[serve]\nlisten = \"0.0.0.0:8080\"\nstore = \"s3://a/b\"\nbody_limit = 10\n";
        let config: FileConfig = toml::from_str(text).expect("valid");
        assert_eq!(config.migrations.dir.as_deref(), Some(std::path::Path::new("db")));
        assert_eq!(config.serve.body_limit, Some(10));
        assert!(toml::from_str::<FileConfig>("[serve]\nlisen = \"x\"\n").is_err());
    }
}
