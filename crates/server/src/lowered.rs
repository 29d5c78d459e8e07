//! The latest definition of recently changed tenants, kept lowered, so a
//! tenant's next change need not validate again the definition it stored.
//!
//! A change plans from the definition its tenant's latest version holds,
//! stored as the text of the request that made it; validating that text
//! again (its shape, lowering, every SQL fragment through the server's
//! grammar) was about a quarter of a warm request's instructions. The
//! request that stores a version has just validated the same definition, so
//! after its commit it leaves the result here, under the version's tag and
//! the exact text stored. The next change takes it only when the latest
//! version read from the database has that tag and byte for byte that text:
//! anything else (another replica's change, a rollback, a tenant not seen
//! lately) is validated from the text as before. The text is
//! `serde_json::Value::to_string` of the value that was validated, and the
//! spec crate reads a text exactly as it validates the value it holds (its
//! one-pass reader accepts and lowers what the layered path does), so what
//! is taken from here is what validating the text would give.
//!
//! With it are kept the SQL fragments checked validating it: the tenant's
//! next definition repeats nearly all of them, and only those it adds are
//! run through the server's grammar (`schemaforge_spec::validate_value_known`).
//!
//! Bounded: the tenants changed last, as many as the service keeps tenant
//! connections for (the same tenants are warm in both).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use schemaforge_model::Schema;
use schemaforge_spec::Fragments;

use crate::tenant::UserId;

struct Entry {
    user: UserId,
    tag: String,
    text: String,
    schema: Arc<Schema>,
    /// The SQL fragments checked validating it, for the tenant's next definition.
    fragments: Fragments,
}

pub struct Lowered {
    /// Least recently used first.
    entries: Mutex<VecDeque<Entry>>,
    capacity: usize,
}

impl Lowered {
    pub fn new(capacity: usize) -> Lowered {
        Lowered { entries: Mutex::new(VecDeque::new()), capacity }
    }

    /// The lowered definition of `user`'s version `tag`, when it is the one
    /// kept for it and was stored as exactly `text`.
    pub fn get(&self, user: &UserId, tag: &str, text: &str) -> Option<Arc<Schema>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let at = entries.iter().position(|e| &e.user == user)?;
        let entry = entries.remove(at)?;
        let found = (entry.tag == tag && entry.text == text).then(|| Arc::clone(&entry.schema));
        if found.is_some() {
            entries.push_back(entry);
        }
        found
    }

    /// The SQL fragments checked validating what is kept for `user`, whatever
    /// its version (a fragment's check depends on its text alone), so its
    /// next definition checks only those it adds.
    pub fn fragments(&self, user: &UserId) -> Fragments {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.iter().find(|e| &e.user == user).map(|e| e.fragments.clone()).unwrap_or_default()
    }

    /// Keeps `schema`, the lowered `text` of `user`'s committed version `tag`,
    /// and the `fragments` checked making it, in place of whatever was kept
    /// for `user`.
    pub fn put(&self, user: &UserId, tag: &str, text: &str, schema: Arc<Schema>, fragments: Fragments) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|e| &e.user != user);
        while entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back(Entry { user: user.clone(), tag: tag.to_string(), text: text.to_string(), schema, fragments });
    }
}

#[cfg(test)]
mod tests {
    use schemaforge_model::Dialect;

    use super::*;

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn schema() -> Arc<Schema> {
        Arc::new(Schema::empty(Dialect::Postgresql))
    }

    #[test]
    fn a_definition_is_taken_only_for_its_tenant_tag_and_exact_text() {
        let lowered = Lowered::new(4);
        lowered.put(&user("ada"), "0001_a", "{\"tables\":[]}", schema(), Fragments::default());
        assert!(lowered.get(&user("bo"), "0001_a", "{\"tables\":[]}").is_none());
        assert!(lowered.get(&user("ada"), "0001_b", "{\"tables\":[]}").is_none());
        // A miss forgets it: the tenant has moved on.
        assert!(lowered.get(&user("ada"), "0001_a", "{\"tables\":[]}").is_none());
        lowered.put(&user("ada"), "0001_a", "{\"tables\":[]}", schema(), Fragments::default());
        assert!(lowered.get(&user("ada"), "0001_a", "{\"tables\": []}").is_none(), "another text under the same tag");
        lowered.put(&user("ada"), "0001_a", "{\"tables\":[]}", schema(), Fragments::default());
        assert!(lowered.get(&user("ada"), "0001_a", "{\"tables\":[]}").is_some());
        assert!(lowered.get(&user("ada"), "0001_a", "{\"tables\":[]}").is_some(), "a hit keeps it");
    }

    #[test]
    fn the_tenants_changed_last_are_kept() {
        let lowered = Lowered::new(2);
        for name in ["a", "b", "c"] {
            lowered.put(&user(name), "0000_init", name, schema(), Fragments::default());
        }
        assert!(lowered.get(&user("a"), "0000_init", "a").is_none());
        assert!(lowered.get(&user("b"), "0000_init", "b").is_some());
        assert!(lowered.get(&user("c"), "0000_init", "c").is_some());
        lowered.put(&user("c"), "0001_next", "c2", schema(), Fragments::default());
        assert!(lowered.get(&user("b"), "0000_init", "b").is_some(), "a tenant's new version replaced another's");
        let none = Lowered::new(0);
        none.put(&user("a"), "0000_init", "a", schema(), Fragments::default());
        assert!(none.get(&user("a"), "0000_init", "a").is_none());
    }
}
