//! SQLite: what it cannot hold is refused by name, and what it holds differently is stored its way.
//!
//! SQLite has no schemas, extensions, roles, row-level security, arrays,
//! native enums, dates without times, intervals or network types, and only
//! the `INTEGER PRIMARY KEY` can count by itself. Each of those is an error
//! that says what to use instead, never a silent substitution. What it does
//! hold is lowered as drizzle-orm's sqlite-core stores it: enums as text with
//! a check listing the labels, timestamps as integer seconds (milliseconds
//! with `precision: 3`), uniques as unique indexes.

use schemaforge_model::{Check, ColumnDefault, Enum, Index, NullsOrder, ScalarType, SortOrder, Table, Unique};

use super::Lowerer;
use crate::diagnostic::{Code, Diagnostic, Pointer};
use crate::document::{ColumnDef, DefaultDef, Definition, IdentityDef, IndexColumnDef, PrimaryKeyDef, TableDef, TypeName};

impl Lowerer {
    /// Reports every feature of `definition` that SQLite cannot hold.
    pub(super) fn sqlite_limits(&mut self, definition: &Definition, root: &Pointer) {
        let not_here = |what: &str| format!("SQLite has no {what}");
        if !definition.schemas.is_empty() {
            self.refuse(root.key("schemas"), not_here("schemas (namespaces)"), "put every table in the one database, without `schema`");
        }
        if !definition.extensions.is_empty() {
            self.refuse(root.key("extensions"), not_here("extensions"), "remove `extensions`");
        }
        if !definition.roles.is_empty() {
            self.refuse(root.key("roles"), not_here("roles"), "remove `roles`; access control lives in the application");
        }
        for (e, def) in definition.enums.iter().enumerate() {
            if def.schema.is_some() {
                self.refuse(root.key("enums").index(e).key("schema"), not_here("schemas (namespaces)"), "remove `schema`");
            }
        }
        for (t, table) in definition.tables.iter().enumerate() {
            self.sqlite_table_limits(&root.key("tables").index(t), table);
        }
    }

    fn refuse(&mut self, path: Pointer, message: String, hint: &str) {
        self.push(Diagnostic::new(path, Code::NotInDialect, message).with_hint(hint));
    }

    fn sqlite_table_limits(&mut self, path: &Pointer, table: &TableDef) {
        if table.schema.is_some() {
            self.refuse(path.key("schema"), "SQLite has no schemas (namespaces)".into(), "remove `schema`");
        }
        if table.rls {
            self.refuse(path.key("rls"), "SQLite has no row-level security".into(), "remove `rls`; enforce access in the application");
        }
        if !table.policies.is_empty() {
            self.refuse(path.key("policies"), "SQLite has no row-level security policies".into(), "remove `policies`");
        }
        if table.name.starts_with("sqlite_") {
            self.push(Diagnostic::new(
                path.key("name"),
                Code::InvalidIdentifier,
                format!("`{}`: SQLite reserves names starting with `sqlite_` for itself", table.name),
            ));
        }
        let primary_key_columns: Vec<&str> = match &table.primary_key {
            Some(PrimaryKeyDef::Columns(columns)) => columns.iter().map(String::as_str).collect(),
            Some(PrimaryKeyDef::Named(named)) => named.columns.iter().map(String::as_str).collect(),
            None => table.columns.iter().filter(|c| c.primary_key == Some(true)).map(|c| c.name.as_str()).collect(),
        };
        for (c, column) in table.columns.iter().enumerate() {
            let sole_key = primary_key_columns == [column.name.as_str()];
            self.sqlite_column_limits(&path.key("columns").index(c), table, column, sole_key);
        }
        for (u, unique) in table.uniques.iter().enumerate() {
            if unique.nulls_not_distinct {
                self.refuse(
                    path.key("uniques").index(u).key("nullsNotDistinct"),
                    "SQLite's unique indexes always treat NULLs as distinct".into(),
                    "remove `nullsNotDistinct`",
                );
            }
        }
        for (i, index) in table.indexes.iter().enumerate() {
            let index_path = path.key("indexes").index(i);
            if index.using.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case("btree")) {
                self.refuse(index_path.key("using"), "SQLite has one kind of index (a b-tree)".into(), "remove `using`");
            }
            for (e, element) in index.columns.iter().enumerate() {
                let IndexColumnDef::Spec(spec) = element else { continue };
                let element_path = index_path.key("columns").index(e);
                if spec.opclass.is_some() {
                    self.refuse(element_path.key("opclass"), "SQLite has no operator classes".into(), "remove `opclass`");
                }
                if spec.nulls.is_some() {
                    self.refuse(
                        element_path.key("nulls"),
                        "SQLite's indexes sort NULLs first in ascending order and cannot be told otherwise".into(),
                        "remove `nulls`",
                    );
                }
            }
        }
    }

    fn sqlite_column_limits(&mut self, path: &Pointer, table: &TableDef, column: &ColumnDef, sole_key: bool) {
        let refused_type = match column.ty {
            TypeName::Date => Some("`date`: store dates as `timestamp` (integer seconds) or as ISO-8601 `text`"),
            TypeName::Time => Some("`time`: store times as `text` (`HH:MM:SS`) or as `integer` seconds"),
            TypeName::Interval => Some("`interval`: store durations as `integer` seconds or as `text`"),
            TypeName::Inet => Some("`inet`: store network addresses as `text`"),
            TypeName::Cidr => Some("`cidr`: store network addresses as `text`"),
            TypeName::Macaddr => Some("`macaddr`: store network addresses as `text`"),
            TypeName::Vector => Some("`vector`: store embeddings as `blob` (`bytea`) or `json`"),
            _ => None,
        };
        if let Some(message) = refused_type {
            let (what, hint) = message.split_once(": ").unwrap_or((message, ""));
            self.refuse(path.key("type"), format!("SQLite has no {what} type"), hint);
        }
        if column.array == Some(true) {
            self.refuse(path.key("array"), "SQLite has no array columns".into(), "store the list as `json`");
        }
        if column.ty == TypeName::Numeric && (column.precision.is_some() || column.scale.is_some()) {
            let field = if column.precision.is_some() { "precision" } else { "scale" };
            self.refuse(
                path.key(field),
                "SQLite's `numeric` has no precision or scale: it keeps what it is given".into(),
                "remove `precision` and `scale`",
            );
        }
        if column.ty == TypeName::Timestamp && column.precision.is_some_and(|p| p != 0 && p != 3) {
            self.refuse(
                path.key("precision"),
                "SQLite timestamps are integer seconds, or milliseconds with `precision: 3`".into(),
                "use no precision (seconds) or `3` (milliseconds)",
            );
        }
        let counts_itself =
            matches!(column.ty, TypeName::Serial | TypeName::Smallserial | TypeName::Bigserial) || column.identity.is_some();
        if counts_itself && !sole_key {
            let field = if column.identity.is_some() { "identity" } else { "type" };
            self.refuse(
                path.key(field),
                format!("column `{}`: SQLite can only number rows in the table's sole `integer` primary key", column.name),
                "make it the table's only primary key column, or use `integer` and assign values yourself",
            );
        }
        if let Some(IdentityDef::Spec(spec)) = &column.identity {
            let options = spec.sequence_name.is_some()
                || spec.start.is_some()
                || spec.increment.is_some()
                || spec.min_value.is_some()
                || spec.max_value.is_some()
                || spec.cache.is_some()
                || spec.cycle.is_some();
            if options {
                self.refuse(
                    path.key("identity"),
                    "SQLite's AUTOINCREMENT has no sequence options".into(),
                    "use `\"identity\": \"always\"` or `\"byDefault\"` without options",
                );
            }
        }
        if column.ty == TypeName::Timestamp
            && let Some(DefaultDef::Value(serde_json::Value::String(text))) = &column.default
            && !is_now_keyword(text)
        {
            self.refuse(
                path.key("default"),
                "SQLite stores timestamps as integer seconds, so a date literal is not a default for them".into(),
                "use `{\"sql\": \"unixepoch('2024-01-01 00:00:00')\"}`, or `CURRENT_TIMESTAMP`",
            );
        }
        if column.ty == TypeName::Enum && table.checks.iter().any(|c| c.name == enum_check_name(&table.name, &column.name)) {
            self.push(
                Diagnostic::new(
                    path.key("name"),
                    Code::DuplicateConstraint,
                    format!(
                        "on SQLite the labels of enum column `{}` are kept by a check named `{}`, which the table already declares",
                        column.name,
                        enum_check_name(&table.name, &column.name)
                    ),
                )
                .with_hint("rename the table's own check"),
            );
        }
    }
}

fn is_now_keyword(text: &str) -> bool {
    ["CURRENT_TIMESTAMP", "LOCALTIMESTAMP", "CURRENT_DATE"].iter().any(|k| k.eq_ignore_ascii_case(text))
}

/// The check that keeps an enum column's labels on SQLite.
pub(crate) fn enum_check_name(table: &str, column: &str) -> String {
    schemaforge_model::names::enum_check(table, column)
}

/// The SQL that reads the clock keyword `keyword` into a timestamp column of
/// SQLite: seconds, or milliseconds for `precision: 3`.
fn clock_sql(keyword: &str, precision: Option<u32>) -> &'static str {
    let midnight = keyword.eq_ignore_ascii_case("CURRENT_DATE");
    match (precision, midnight) {
        (Some(3), false) => "cast(unixepoch('subsec') * 1000 as integer)",
        (Some(3), true) => "unixepoch('now', 'start of day') * 1000",
        (_, false) => "unixepoch()",
        (_, true) => "unixepoch('now', 'start of day')",
    }
}

/// Stores a validated SQLite schema SQLite's way: enum columns keep their
/// labels with a check, "now" defaults read the clock as numbers, unique
/// indexes over plain columns are uniques (SQLite cannot tell them apart),
/// and index NULLs sort where SQLite sorts them.
pub(super) fn store(tables: &mut [Table], enums: &[Enum]) {
    for table in tables {
        let mut checks = Vec::new();
        for column in &mut table.columns {
            if let ScalarType::Enum(name) = &column.ty.scalar
                && let Some(e) = enums.iter().find(|e| &e.name == name)
            {
                let labels: Vec<String> = e.values.iter().map(|v| format!("'{}'", v.replace('\'', "''"))).collect();
                checks.push(Check {
                    name: enum_check_name(&table.name.name, &column.name),
                    expression: format!("\"{}\" IN ({})", column.name, labels.join(", ")),
                });
            }
            if let (ScalarType::Timestamp { precision, .. }, Some(ColumnDefault::Sql(sql))) = (&column.ty.scalar, &column.default)
                && is_now_keyword(sql)
            {
                column.default = Some(ColumnDefault::Sql(clock_sql(sql, *precision).to_string()));
            }
        }
        table.checks.extend(checks);
        let (plain, indexes): (Vec<Index>, Vec<Index>) = std::mem::take(&mut table.indexes).into_iter().partition(is_plain_unique);
        table.indexes = indexes;
        for index in plain {
            let columns = index
                .elements
                .into_iter()
                .filter_map(|e| match e.key {
                    schemaforge_model::IndexKey::Column(c) => Some(c),
                    schemaforge_model::IndexKey::Expression(_) => None,
                })
                .collect();
            table.uniques.push(Unique { name: index.name, columns, nulls_not_distinct: false });
        }
        for index in &mut table.indexes {
            for element in &mut index.elements {
                element.nulls = match element.order {
                    SortOrder::Asc => NullsOrder::First,
                    SortOrder::Desc => NullsOrder::Last,
                };
            }
        }
    }
}

fn is_plain_unique(index: &Index) -> bool {
    index.unique
        && index.predicate.is_none()
        && index.elements.iter().all(|e| matches!(e.key, schemaforge_model::IndexKey::Column(_)) && e.order == SortOrder::Asc)
}
