//! Throw-away SQLite database files for live tests, under `target/test-scratch`.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

/// A fresh database file, removed with its scratch directory on the next run.
pub struct TestFile {
    pub path: PathBuf,
    /// `sqlite://…` for the CLI and `Database::connect`.
    pub url: String,
}

impl TestFile {
    pub fn create(label: &str) -> TestFile {
        let path = crate::scratch_dir(label).join("database.sqlite");
        let url = format!("sqlite://{}", path.display());
        TestFile { path, url }
    }

    /// A connection with foreign keys enforced, as the CLI opens one.
    pub async fn connect(&self) -> SqliteConnection {
        let options = SqliteConnectOptions::from_str(&self.url)
            .unwrap_or_else(|e| panic!("{}: {e}", self.url))
            .create_if_missing(true)
            .foreign_keys(true);
        options.connect().await.unwrap_or_else(|e| panic!("cannot open {}: {e}", self.path.display()))
    }
}
