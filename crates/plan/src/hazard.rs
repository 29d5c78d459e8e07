//! The closed set of hazards a migration step can carry.

use std::fmt;

macro_rules! hazards {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, )*) => {
        /// What a step risks. Codes are stable: `--allow-hazard deletes-data`
        /// and API clients name hazards by them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Hazard {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Hazard {
            pub const ALL: &'static [Hazard] = &[$(Hazard::$variant,)*];

            /// The stable kebab-case code.
            pub fn code(self) -> &'static str {
                match self { $(Hazard::$variant => $code,)* }
            }

            /// One line saying what the hazard means.
            pub fn description(self) -> &'static str {
                match self { $(Hazard::$variant => concat!($($doc),*).trim_ascii(),)* }
            }

            pub fn from_code(code: &str) -> Option<Hazard> {
                Hazard::ALL.iter().copied().find(|h| h.code() == code)
            }
        }
    };
}

hazards! {
    /// Deletes stored data: a table, a column, or values a conversion cannot keep.
    DeletesData = "deletes-data",
    /// Rewrites every row of the table, holding an ACCESS EXCLUSIVE lock meanwhile.
    RewritesTable = "rewrites-table",
    /// Takes an ACCESS EXCLUSIVE lock: every read and write of the table waits.
    AccessExclusiveLock = "access-exclusive-lock",
    /// Builds an index over existing rows, blocking writes to the table while it runs.
    BuildsIndex = "builds-index",
    /// Scans every existing row to validate a new NOT NULL, CHECK or FOREIGN KEY.
    ValidationScan = "validation-scan",
    /// Fails if existing rows do not satisfy the change (NULLs, duplicates, values that do not convert).
    MayFailOnExistingData = "may-fail-on-existing-data",
    /// Updates existing rows (NULLs backfilled with the new default).
    UpdatesRows = "updates-rows",
    /// Changes who may see or change what: row-level security, policies, roles.
    AuthorizationChange = "authorization-change",
    /// A column or table is dropped and a similar one added: if it is a rename, declare `renamedFrom` to keep the data.
    PossibleRename = "possible-rename",
    /// Runs the definition's own SQL, which schemaforge does not analyse.
    CustomSql = "custom-sql",
    /// Cannot undo what the up migration did: data it deleted does not come back.
    Irreversible = "irreversible",
}

impl fmt::Display for Hazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A hazard found on a step, with what exactly is at risk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub hazard: Hazard,
    pub message: String,
}

impl Finding {
    #[must_use]
    pub fn new(hazard: Hazard, message: impl Into<String>) -> Self {
        Finding { hazard, message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::Hazard;

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::BTreeSet::new();
        for hazard in Hazard::ALL {
            assert!(seen.insert(hazard.code()));
            assert!(hazard.code().chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            assert!(!hazard.description().is_empty());
            assert_eq!(Hazard::from_code(hazard.code()), Some(*hazard));
        }
    }
}
