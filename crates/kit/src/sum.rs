//! `schemaforge.sum`: the folder's integrity file, a chained hash of every
//! migration file (like Atlas's `atlas.sum`).
//!
//! Each line names a file and a hash of that file chained to the line before,
//! so an edited, added, removed or reordered file is caught and named; the
//! first line hashes all the others, so a hand-edited sum file is caught too.
//! `generate` rewrites it; `migrate` and `check` verify it.

use sha2::{Digest, Sha256};

/// The sum file's name, at the folder root.
pub const SUM_FILE: &str = "schemaforge.sum";

/// Why a folder does not match its sum file. Messages say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SumError {
    #[error(
        "{0} changed after it was generated; restore it (e.g. `git checkout -- {0}`), or if the edit is intended and the migration is not applied anywhere, run `schemaforge hash` to accept it"
    )]
    Edited(String),
    #[error(
        "{0} is in the folder but not in schemaforge.sum: it was not written by `schemaforge generate`; remove it, or run `schemaforge hash` to accept it"
    )]
    Added(String),
    #[error("{0} is listed in schemaforge.sum but missing from the folder; restore it")]
    Removed(String),
    #[error("schemaforge.sum was edited by hand; run `schemaforge hash` to rewrite it from the folder")]
    Tampered,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sum file for `files` (path relative to the folder, contents), in folder order.
pub fn compute<C: AsRef<str>>(files: &[(String, C)]) -> String {
    chained(Vec::new(), files)
}

/// The sum file of a folder whose sum file was `text` (verified against the
/// folder) after `files` are added at its end: the chain goes on from its
/// last line, so the files before are neither read nor hashed again. The
/// same text as `compute` over all the files.
pub fn extend<C: AsRef<str>>(text: &str, files: &[(String, C)]) -> String {
    chained(text.lines().skip(1).filter(|l| !l.is_empty()).map(String::from).collect(), files)
}

/// The paths a sum file lists, in order, when its first line is the hash
/// of the others (`None`: edited by hand or cut short). It says nothing of
/// the files' contents: a caller that trusts the sum file to cover these
/// paths with their current contents (a projection that only ever writes
/// sum files it computed) can then `extend` it without hashing them again.
pub fn listed(text: &str) -> Option<Vec<&str>> {
    let mut lines = text.lines();
    let header = lines.next()?;
    let listed: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    if header != format!("h1:{}", hex(&Sha256::digest(listed.join("\n").as_bytes()))) {
        return None;
    }
    listed.iter().map(|line| line.split_once(' ').map(|(path, _)| path)).collect()
}

/// `lines` (a verified chain) followed by one line per file, under the header that hashes them all.
fn chained<C: AsRef<str>>(mut lines: Vec<String>, files: &[(String, C)]) -> String {
    let mut previous = lines.last().and_then(|line| line.rsplit(' ').next()).unwrap_or_default().to_string();
    for (path, contents) in files {
        let mut hasher = Sha256::new();
        hasher.update(previous.as_bytes());
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(contents.as_ref().as_bytes());
        previous = format!("h1:{}", hex(&hasher.finalize()));
        lines.push(format!("{path} {previous}"));
    }
    let body = lines.join("\n");
    format!("h1:{}\n{body}\n", hex(&Sha256::digest(body.as_bytes())))
}

/// Checks `files` against the sum file `text`, naming the first file that differs.
pub fn verify<C: AsRef<str>>(text: &str, files: &[(String, C)]) -> Result<(), SumError> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let listed: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    if header != format!("h1:{}", hex(&Sha256::digest(listed.join("\n").as_bytes()))) {
        return Err(SumError::Tampered);
    }
    let expected = compute(files);
    let actual_lines: Vec<&str> = expected.lines().skip(1).collect();
    for (i, line) in actual_lines.iter().enumerate() {
        let path = line.split(' ').next().unwrap_or_default();
        match listed.get(i) {
            Some(old) if old == line => {}
            Some(old) if old.split(' ').next() == Some(path) => return Err(SumError::Edited(path.to_string())),
            Some(_) if listed.iter().any(|l| l.split(' ').next() == Some(path)) => {
                let missing = listed[i].split(' ').next().unwrap_or_default();
                return Err(SumError::Removed(missing.to_string()));
            }
            _ => return Err(SumError::Added(path.to_string())),
        }
    }
    match listed.get(actual_lines.len()) {
        Some(extra) => Err(SumError::Removed(extra.split(' ').next().unwrap_or_default().to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> Vec<(String, String)> {
        entries.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect()
    }

    #[test]
    fn every_kind_of_change_is_named() {
        let original = files(&[("0000_a.sql", "A"), ("0001_b.sql", "B"), ("0002_c.sql", "C")]);
        let sum = compute(&original);
        assert_eq!(verify(&sum, &original), Ok(()));
        let edited = files(&[("0000_a.sql", "A"), ("0001_b.sql", "B!"), ("0002_c.sql", "C")]);
        assert_eq!(verify(&sum, &edited), Err(SumError::Edited("0001_b.sql".into())));
        let removed = files(&[("0000_a.sql", "A"), ("0002_c.sql", "C")]);
        assert_eq!(verify(&sum, &removed), Err(SumError::Removed("0001_b.sql".into())));
        let added = files(&[("0000_a.sql", "A"), ("0001_b.sql", "B"), ("0002_c.sql", "C"), ("0003_d.sql", "D")]);
        assert_eq!(verify(&sum, &added), Err(SumError::Added("0003_d.sql".into())));
        let last_removed = files(&[("0000_a.sql", "A"), ("0001_b.sql", "B")]);
        assert_eq!(verify(&sum, &last_removed), Err(SumError::Removed("0002_c.sql".into())));
        let tampered = sum.replace("0001_b.sql", "0001_x.sql");
        assert_eq!(verify(&tampered, &original), Err(SumError::Tampered));
    }

    #[test]
    fn extending_a_sum_file_equals_computing_it_afresh() {
        let first = files(&[("0000_a.sql", "A"), ("0000_a.down.sql", "a")]);
        let more = files(&[("0001_b.sql", "B"), ("0001_b.down.sql", "b")]);
        let all: Vec<(String, String)> = first.iter().chain(&more).cloned().collect();
        assert_eq!(extend(&compute(&first), &more), compute(&all));
        assert_eq!(extend(&compute::<String>(&[]), &first), compute(&first));
        assert_eq!(verify(&extend(&compute(&first), &more), &all), Ok(()));
    }

    #[test]
    fn listed_names_the_paths_of_an_untouched_sum_file_only() {
        let sum = compute(&files(&[("0000_a.sql", "A"), ("0000_a.down.sql", "a")]));
        assert_eq!(listed(&sum), Some(vec!["0000_a.sql", "0000_a.down.sql"]));
        assert_eq!(listed(&compute::<String>(&[])), Some(vec![]));
        assert_eq!(listed(&sum.replace("0000_a.down.sql", "0000_b.down.sql")), None);
        assert_eq!(listed(""), None);
    }

    #[test]
    fn output_is_stable() {
        let sum = compute(&files(&[("0000_a.sql", "A")]));
        assert_eq!(sum, compute(&files(&[("0000_a.sql", "A")])));
        assert!(sum.starts_with("h1:") && sum.ends_with('\n'));
    }
}
