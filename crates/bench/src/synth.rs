//! Synthetic definitions of realistic shape for benchmarks, deterministic per seed.
//!
//! `definition(n, seed)` builds `n` tables of about twelve columns of mixed
//! types: a primary key (serial, identity or UUID), a foreign key to an
//! earlier table (the first table references itself), an enum column, a
//! unique, an index and a check, plus a few optional columns chosen by the
//! seed. `edited(base, seed)` is the next version of it, the kind of change a
//! team makes between two deploys: about 10% of the tables gain a column, 5%
//! lose one, 5% gain an index, and one table is new.
//!
//! The edits are chosen so that drizzle-kit, fed the same `schema.ts`, never
//! stops to ask a question: no table both gains and loses a column (that is a
//! possible rename it would prompt about) and no table is dropped.

use serde_json::{Value, json};

/// A small deterministic generator (xorshift64): the seed is the whole schema.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // xorshift never leaves zero; mix the seed so nearby seeds differ at once.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// `items` in a seeded order (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Table names are a noun and a number, like a real schema grown large.
const NOUNS: [&str; 16] = [
    "account",
    "order",
    "invoice",
    "product",
    "customer",
    "shipment",
    "payment",
    "ticket",
    "project",
    "task",
    "document",
    "event",
    "member",
    "review",
    "coupon",
    "warehouse",
];

const ENUMS: [(&str, &[&str]); 4] = [
    ("record_status", &["draft", "active", "archived"]),
    ("priority", &["low", "normal", "high", "urgent"]),
    ("visibility", &["private", "team", "public"]),
    ("lifecycle", &["new", "in_progress", "blocked", "done", "cancelled"]),
];

/// How a table's primary key is made; a foreign key to it takes the matching type.
#[derive(Debug, Clone, Copy)]
enum Key {
    Serial,
    Identity,
    Uuid,
}

impl Key {
    fn column(self) -> Value {
        match self {
            Key::Serial => json!({"name": "id", "type": "serial", "primaryKey": true}),
            Key::Identity => json!({"name": "id", "type": "bigint", "primaryKey": true, "identity": "byDefault"}),
            Key::Uuid => json!({"name": "id", "type": "uuid", "primaryKey": true, "default": {"sql": "gen_random_uuid()"}}),
        }
    }

    fn referencing_type(self) -> &'static str {
        match self {
            Key::Serial => "integer",
            Key::Identity => "bigint",
            Key::Uuid => "uuid",
        }
    }
}

/// The name of table `index` (unique, and short enough for every derived name).
pub fn table_name(index: usize) -> String {
    format!("{}_{index:04}", NOUNS[index % NOUNS.len()])
}

/// Optional columns; each table takes a seeded few, so tables differ in shape.
fn optional_column(rng: &mut Rng, which: usize) -> Value {
    match which {
        0 => json!({"name": "score", "type": "doublePrecision"}),
        1 => json!({"name": "starts_on", "type": "date"}),
        2 => json!({"name": "tags", "type": "text", "array": true, "notNull": true, "default": []}),
        3 => json!({"name": "external_ref", "type": "uuid"}),
        4 => json!({"name": "weight", "type": "real"}),
        5 => json!({"name": "notes", "type": "varchar", "length": 2000}),
        6 => json!({"name": "duration", "type": "interval"}),
        _ => json!({"name": "rank", "type": "smallint", "notNull": true, "default": rng.below(10)}),
    }
}

const OPTIONAL_COLUMNS: usize = 8;

/// A definition with `tables` tables, the same for the same `seed`.
pub fn definition(tables: usize, seed: u64) -> Value {
    let mut rng = Rng::new(seed);
    let keys: Vec<Key> = (0..tables)
        .map(|_| match rng.below(10) {
            0..=5 => Key::Serial,
            6..=7 => Key::Identity,
            _ => Key::Uuid,
        })
        .collect();
    let enums: Vec<Value> = ENUMS.iter().map(|(name, values)| json!({"name": name, "values": values})).collect();
    let mut list = Vec::with_capacity(tables);
    for (index, key) in keys.iter().enumerate() {
        let name = table_name(index);
        let target = if index == 0 { 0 } else { rng.below(index) };
        let target_key = keys[target];
        let (enum_name, enum_values) = ENUMS[rng.below(ENUMS.len())];
        let nullable_parent = index == 0 || rng.chance(40);
        let mut parent = json!({
            "name": "parent_id",
            "type": target_key.referencing_type(),
            "references": {"table": table_name(target), "column": "id", "onDelete": if nullable_parent { "set null" } else { "cascade" }}
        });
        if !nullable_parent {
            parent["notNull"] = json!(true);
        }
        let mut columns = vec![
            key.column(),
            parent,
            json!({"name": "name", "type": "varchar", "length": 120, "notNull": true}),
            json!({"name": "code", "type": "varchar", "length": 64, "notNull": true, "unique": true}),
            json!({"name": "description", "type": "text"}),
            json!({"name": "state", "type": "enum", "enum": enum_name, "notNull": true, "default": enum_values[0]}),
            json!({"name": "amount", "type": "numeric", "precision": 12, "scale": 2, "notNull": true, "default": 0}),
            json!({"name": "quantity", "type": "integer", "notNull": true, "default": 0}),
            json!({"name": "is_active", "type": "boolean", "notNull": true, "default": true}),
            json!({"name": "metadata", "type": "jsonb", "notNull": true, "default": {}}),
            json!({"name": "created_at", "type": "timestamp", "withTimezone": true, "notNull": true, "default": "CURRENT_TIMESTAMP"}),
            json!({"name": "updated_at", "type": "timestamp", "withTimezone": true}),
        ];
        let mut optional: Vec<usize> = (0..OPTIONAL_COLUMNS).collect();
        rng.shuffle(&mut optional);
        for which in optional.into_iter().take(rng.below(3)) {
            columns.push(optional_column(&mut rng, which));
        }
        let index_definition = if rng.chance(30) {
            json!({"name": format!("{name}_state_created_idx"), "columns": ["state", {"column": "created_at", "order": "desc"}]})
        } else {
            json!({"name": format!("{name}_parent_idx"), "columns": ["parent_id"]})
        };
        // Checks differ from table to table, as business rules do.
        let limit = 100 + rng.below(100_000);
        let check = if rng.chance(50) {
            json!({"name": format!("{name}_quantity_check"), "expression": format!("quantity >= 0 AND quantity <= {limit}")})
        } else {
            json!({"name": format!("{name}_amount_check"), "expression": format!("amount >= 0 AND amount < {limit}000")})
        };
        list.push(json!({"name": name, "columns": columns, "indexes": [index_definition], "checks": [check]}));
    }
    json!({"enums": enums, "tables": list})
}

/// The next version of `base` (a `definition`): about 10% of the tables gain
/// a column, 5% lose one, 5% gain an index (never the same table twice), and
/// one table is new.
pub fn edited(base: &Value, seed: u64) -> Value {
    let mut rng = Rng::new(seed ^ 0x00ed_17ed);
    let mut next = base.clone();
    let Some(tables) = next.get_mut("tables").and_then(Value::as_array_mut) else { return next };
    let count = tables.len();
    let mut order: Vec<usize> = (0..count).collect();
    rng.shuffle(&mut order);
    // At least one of each kind of edit, even on a ten-table schema.
    let added = (count / 10).max(1);
    let dropped = (count / 20).max(1);
    let indexed = (count / 20).max(1);
    let mut picks = order.into_iter();
    let add: Vec<usize> = picks.by_ref().take(added).collect();
    let drop: Vec<usize> = picks.by_ref().take(dropped).collect();
    let index: Vec<usize> = picks.by_ref().take(indexed).collect();
    for i in add {
        if let Some(columns) = tables[i].get_mut("columns").and_then(Value::as_array_mut) {
            columns.push(json!({"name": "archived_at", "type": "timestamp", "withTimezone": true}));
        }
    }
    for i in drop {
        if let Some(columns) = tables[i].get_mut("columns").and_then(Value::as_array_mut) {
            // `description` carries no key, index or check: dropping it is a plain DROP COLUMN.
            columns.retain(|c| c["name"] != "description");
        }
    }
    for i in index {
        let name = tables[i]["name"].as_str().unwrap_or_default().to_string();
        if let Some(indexes) = tables[i].get_mut("indexes").and_then(Value::as_array_mut) {
            indexes.push(json!({"name": format!("{name}_code_name_idx"), "columns": ["code", "name"]}));
        }
    }
    let new_name = format!("audit_log_{count:04}");
    let subject_type = key_type_of(&tables[0]);
    tables.push(json!({
        "name": new_name,
        "columns": [
            {"name": "id", "type": "bigint", "primaryKey": true, "identity": "always"},
            {"name": "subject_id", "type": subject_type, "references": {"table": table_name(0), "column": "id", "onDelete": "cascade"}},
            {"name": "action", "type": "text", "notNull": true},
            {"name": "payload", "type": "jsonb"},
            {"name": "at", "type": "timestamp", "withTimezone": true, "notNull": true, "default": "CURRENT_TIMESTAMP"}
        ],
        "indexes": [{"name": format!("{new_name}_subject_idx"), "columns": ["subject_id", {"column": "at", "order": "desc"}]}]
    }));
    next
}

/// The type a foreign key to `table`'s `id` must have.
fn key_type_of(table: &Value) -> &'static str {
    match table["columns"][0]["type"].as_str() {
        Some("uuid") => Key::Uuid.referencing_type(),
        Some("bigint") => Key::Identity.referencing_type(),
        _ => Key::Serial.referencing_type(),
    }
}

/// Which database a generated definition is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Postgresql,
    Sqlite,
}

/// `definition` made valid for SQLite, with the same tables and the same
/// seeded choices: `numeric` loses its precision, the optional columns SQLite
/// has no type for (`date`, `interval`, arrays) go, and UUID keys lose their
/// `gen_random_uuid()` default (SQLite has no such function).
pub fn for_sqlite(mut definition: Value) -> Value {
    for table in definition.get_mut("tables").and_then(Value::as_array_mut).into_iter().flatten() {
        let Some(columns) = table.get_mut("columns").and_then(Value::as_array_mut) else { continue };
        columns.retain(|c| !matches!(c["type"].as_str(), Some("date" | "interval")) && c.get("array").is_none());
        for column in columns {
            let Some(object) = column.as_object_mut() else { continue };
            if object.get("type").and_then(Value::as_str) == Some("numeric") {
                object.remove("precision");
                object.remove("scale");
            }
            if object.get("default").is_some_and(|d| d.get("sql").is_some_and(|sql| sql == "gen_random_uuid()")) {
                object.remove("default");
            }
        }
    }
    definition
}

/// A tenant's definition after `changes` incremental requests to the service:
/// the ten-table `definition(10, seed)`, and change `k` (1-based) adds a
/// nullable column `extra_k` to table `k % 10`, every fourth change with an
/// index on it. Each is a small, hazard-free migration of the kind an app
/// builder sends when its user adds a field.
pub fn tenant_definition(seed: u64, changes: usize, target: Target) -> Value {
    let mut definition = match target {
        Target::Postgresql => definition(10, seed),
        Target::Sqlite => for_sqlite(definition(10, seed)),
    };
    let Some(tables) = definition.get_mut("tables").and_then(Value::as_array_mut) else { return definition };
    const TYPES: [&str; 4] = ["text", "integer", "boolean", "jsonb"];
    for k in 1..=changes {
        let table = &mut tables[k % 10];
        let name = table["name"].as_str().unwrap_or_default().to_string();
        let column = format!("extra_{k}");
        if let Some(columns) = table.get_mut("columns").and_then(Value::as_array_mut) {
            columns.push(json!({"name": column, "type": TYPES[k % TYPES.len()]}));
        }
        if k % 4 == 0
            && let Some(indexes) = table.get_mut("indexes").and_then(Value::as_array_mut)
        {
            indexes.push(json!({"name": format!("{name}_{column}_idx"), "columns": [column]}));
        }
    }
    definition
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_definition() {
        assert_eq!(definition(50, 7), definition(50, 7));
        assert_ne!(definition(50, 7), definition(50, 8));
        assert_eq!(edited(&definition(50, 7), 7), edited(&definition(50, 7), 7));
    }

    #[test]
    fn every_generated_definition_is_valid() {
        let base = definition(60, 3);
        for (what, value) in [("base", base.clone()), ("edited", edited(&base, 3)), ("tenant", tenant_definition(3, 9, Target::Postgresql))]
        {
            if let Err(diagnostics) = schemaforge_spec::validate_value(&value) {
                panic!("the {what} definition is invalid: {diagnostics:#?}");
            }
        }
        for (what, mut value) in [("base", for_sqlite(base.clone())), ("tenant", tenant_definition(3, 9, Target::Sqlite))] {
            value["dialect"] = json!("sqlite");
            if let Err(diagnostics) = schemaforge_spec::validate_value(&value) {
                panic!("the SQLite {what} definition is invalid: {diagnostics:#?}");
            }
        }
    }

    #[test]
    fn the_edit_touches_the_advertised_share_of_tables() {
        let base = definition(100, 1);
        let next = edited(&base, 1);
        let (before, after) = (base["tables"].as_array().map_or(0, Vec::len), next["tables"].as_array().map_or(0, Vec::len));
        assert_eq!((before, after), (100, 101));
        let columns = |v: &Value, i: usize| v["tables"][i]["columns"].as_array().map_or(0, Vec::len);
        let grown = (0..100).filter(|&i| columns(&next, i) > columns(&base, i)).count();
        let shrunk = (0..100).filter(|&i| columns(&next, i) < columns(&base, i)).count();
        assert_eq!((grown, shrunk), (10, 5));
    }
}
