//! Where the database is: `--db`, else `DATABASE_URL`, else `DATABASE_URL` in `./.env`.

use std::path::Path;

use anyhow::bail;

/// The URL to connect to, from the flag, the environment or `.env` (in that order).
pub fn resolve(flag: Option<&str>) -> anyhow::Result<String> {
    match find(flag)? {
        Some(url) => Ok(url),
        None => bail!("no database given: pass --db postgres://…, or set DATABASE_URL (in the environment or in ./.env)"),
    }
}

/// The URL when one is given anywhere `resolve` looks, for commands where a
/// database is optional (`check`).
pub fn find(flag: Option<&str>) -> anyhow::Result<Option<String>> {
    if let Some(url) = flag {
        return Ok(Some(url.to_string()));
    }
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.trim().is_empty()
    {
        return Ok(Some(url));
    }
    from_dotenv(Path::new(".env"))
}

fn from_dotenv(path: &Path) -> anyhow::Result<Option<String>> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(None) };
    Ok(text.lines().find_map(|line| {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (key, value) = line.split_once('=')?;
        (key.trim() == "DATABASE_URL").then(|| unquote(value.trim()).to_string())
    }))
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote).and_then(|v| v.strip_suffix(quote)) {
            return inner;
        }
    }
    value
}

/// The URL with its password hidden, for messages.
pub fn redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let rest = &url[scheme_end..];
    let Some(at) = rest.find('@') else { return url.to_string() };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end], &rest[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{redacted, unquote};

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(redacted("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(redacted("postgres://app@db/x"), "postgres://app@db/x");
    }

    #[test]
    fn dotenv_values_lose_their_quotes() {
        assert_eq!(unquote("\"postgres://x\""), "postgres://x");
        assert_eq!(unquote("'a'"), "a");
        assert_eq!(unquote("plain"), "plain");
    }
}
