//! The names a schema gets in drizzle `schema.ts`: exports, column keys, types.
//!
//! Both the code generator (which writes the names) and the snapshot writer
//! (which must order tables the way drizzle-kit will see them) use this one
//! assignment, so they cannot disagree.

use std::collections::{BTreeMap, BTreeSet};

use schemaforge_model::{QualifiedName, ScalarType, Schema};

/// Identifiers `schema.ts` imports; an export with one of these names would shadow it.
pub const IMPORTED: &[&str] = &[
    "pgTable",
    "pgEnum",
    "pgSchema",
    "pgRole",
    "pgPolicy",
    "sqliteTable",
    "blob",
    "sql",
    "relations",
    "customType",
    "smallint",
    "integer",
    "bigint",
    "serial",
    "smallserial",
    "bigserial",
    "boolean",
    "text",
    "varchar",
    "char",
    "numeric",
    "real",
    "doublePrecision",
    "date",
    "time",
    "timestamp",
    "interval",
    "json",
    "jsonb",
    "uuid",
    "inet",
    "cidr",
    "macaddr",
    "vector",
    "index",
    "uniqueIndex",
    "unique",
    "check",
    "primaryKey",
    "foreignKey",
    // Parameters of the callbacks schema.ts writes: `(t) => [...]`, `({ one, many }) => …`.
    "t",
    "one",
    "many",
];

const JS_RESERVED: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "undefined",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// Every name a schema's objects get in `schema.ts`.
#[derive(Debug, Clone, Default)]
pub struct DrizzleNames {
    pub schemas: BTreeMap<String, String>,
    pub roles: BTreeMap<String, String>,
    pub enums: BTreeMap<QualifiedName, String>,
    pub tables: BTreeMap<QualifiedName, TableNames>,
    /// SQL type name → the module-private `customType` declaring it.
    pub custom_types: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct TableNames {
    /// The exported table variable, e.g. `users`.
    pub export: String,
    /// `usersRelations`.
    pub relations: String,
    /// The `$inferSelect` type, e.g. `User`.
    pub select_type: String,
    /// The `$inferInsert` type, e.g. `NewUser`.
    pub insert_type: String,
    /// Column name → object key in the table's column map.
    pub columns: BTreeMap<String, String>,
}

impl DrizzleNames {
    pub fn assign(schema: &Schema) -> Self {
        let mut values = Allocator::new(IMPORTED.iter().chain(JS_RESERVED).copied(), Some("Table"));
        // Types the file itself names: a declaration of the same name would shadow them.
        let mut types = Allocator::new(
            JS_RESERVED.iter().copied().chain(["Date", "Buffer", "Record", "Array", "AnyPgColumn", "Uint8Array"]),
            Some("Row"),
        );
        let mut names = DrizzleNames::default();
        for namespace in &schema.namespaces {
            let name = values.take(&format!("{}Schema", camel(namespace)));
            names.schemas.insert(namespace.clone(), name);
        }
        for role in &schema.roles {
            let name = values.take(&format!("{}Role", camel(&role.name)));
            names.roles.insert(role.name.clone(), name);
        }
        for e in &schema.enums {
            let base = match &e.name.schema {
                Some(s) => format!("{}In{}", camel(&e.name.name), pascal(s)),
                None => camel(&e.name.name),
            };
            names.enums.insert(e.name.clone(), values.take(&format!("{base}Enum")));
        }
        for table in &schema.tables {
            for column in &table.columns {
                let sql = match &column.ty.scalar {
                    ScalarType::Custom { sql } => sql.clone(),
                    ScalarType::Bytea => "bytea".to_string(),
                    _ => continue,
                };
                if let std::collections::btree_map::Entry::Vacant(slot) = names.custom_types.entry(sql) {
                    let var = values.take(&format!("{}Type", camel(&slot.key().replace(|c: char| !c.is_ascii_alphanumeric(), "_"))));
                    slot.insert(var);
                }
            }
        }
        for table in &schema.tables {
            let base = match &table.name.schema {
                Some(s) => format!("{}In{}", camel(&table.name.name), pascal(s)),
                None => camel(&table.name.name),
            };
            let export = values.take(&base);
            let relations = values.take(&format!("{export}Relations"));
            let singular = match &table.name.schema {
                Some(s) => format!("{}In{}", pascal(&singularize(&table.name.name)), pascal(s)),
                None => pascal(&singularize(&table.name.name)),
            };
            let select_type = types.take(&singular);
            let insert_type = types.take(&format!("New{singular}"));
            // Properties drizzle's table object has itself (`enableRLS()`).
            let mut keys = Allocator::new(["enableRLS", "_"].into_iter(), None);
            let columns = table.columns.iter().map(|c| (c.name.clone(), keys.take(&camel(&c.name)))).collect();
            names.tables.insert(table.name.clone(), TableNames { export, relations, select_type, insert_type, columns });
        }
        names
    }

    pub fn table(&self, name: &QualifiedName) -> &TableNames {
        // Every table of the schema the names were assigned for has an entry.
        &self.tables[name]
    }
}

/// Hands out unique identifiers: on a collision, first `<name><word>` (when a
/// word is given, e.g. `textTable`), then `<name>2`, `<name>3`, ….
struct Allocator {
    taken: BTreeSet<String>,
    word: Option<&'static str>,
}

impl Allocator {
    fn new<'a>(reserved: impl Iterator<Item = &'a str>, word: Option<&'static str>) -> Self {
        Allocator { taken: reserved.map(String::from).collect(), word }
    }

    fn take(&mut self, wanted: &str) -> String {
        let mut candidate = wanted.to_string();
        if let Some(word) = self.word
            && self.taken.contains(&candidate)
        {
            candidate = format!("{wanted}{word}");
        }
        let mut n = 2;
        while self.taken.contains(&candidate) {
            candidate = format!("{wanted}{n}");
            n += 1;
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

/// `created_at` → `createdAt`, `Users` → `users`, `_x` → `x`.
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        let Some(first) = chars.next() else { continue };
        if out.is_empty() {
            out.extend(first.to_lowercase());
        } else {
            out.extend(first.to_uppercase());
        }
        out.push_str(chars.as_str());
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// `created_at` → `CreatedAt`.
pub fn pascal(name: &str) -> String {
    let c = camel(name);
    let mut chars = c.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => c,
    }
}

/// A cautious English singular: only the regular plurals, so a wrong guess
/// never mangles a name (`status` stays `status`).
pub fn singularize(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    for (plural, singular) in [("people", "person"), ("children", "child"), ("men", "man"), ("women", "woman"), ("mice", "mouse")] {
        if lower.ends_with(plural) {
            let stem = &word[..word.len() - plural.len()];
            // Keep the case of the first letter of the replaced word.
            let replaced = &word[word.len() - plural.len()..];
            let singular = if replaced.starts_with(|c: char| c.is_ascii_uppercase()) { pascal(singular) } else { singular.to_string() };
            return format!("{stem}{singular}");
        }
    }
    if lower.ends_with("ies") && word.len() > 4 {
        return format!("{}y", &word[..word.len() - 3]);
    }
    for suffix in ["sses", "shes", "ches", "xes", "zes"] {
        if lower.ends_with(suffix) {
            return word[..word.len() - 2].to_string();
        }
    }
    if lower.ends_with('s') && !lower.ends_with("ss") && !lower.ends_with("us") && !lower.ends_with("is") && word.len() > 3 {
        return word[..word.len() - 1].to_string();
    }
    word.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casing() {
        assert_eq!(camel("created_at"), "createdAt");
        assert_eq!(camel("Users"), "users");
        assert_eq!(camel("user__id"), "userId");
        assert_eq!(camel("_private"), "private");
        assert_eq!(pascal("general_user_profiles"), "GeneralUserProfiles");
    }

    #[test]
    fn singulars() {
        assert_eq!(singularize("users"), "user");
        assert_eq!(singularize("categories"), "category");
        assert_eq!(singularize("addresses"), "address");
        assert_eq!(singularize("status"), "status");
        assert_eq!(singularize("boxes"), "box");
        assert_eq!(singularize("people"), "person");
        assert_eq!(singularize("salesPeople"), "salesPerson");
        assert_eq!(singularize("invoice_lines"), "invoice_line");
    }

    #[test]
    fn allocations_avoid_imports_and_collisions() {
        let mut a = Allocator::new(IMPORTED.iter().copied(), Some("Table"));
        assert_eq!(a.take("text"), "textTable");
        assert_eq!(a.take("users"), "users");
        assert_eq!(a.take("users"), "usersTable");
        assert_eq!(a.take("users"), "users2");
    }
}
