//! drizzle-orm 0.45 sqlite-core `schema.ts`: the same schema in SQLite's terms.
//!
//! Types map as drizzle's sqlite-core maps them (`integer` with a boolean or
//! timestamp mode, `text` with a length, an enum or the JSON mode, `real`,
//! `numeric`, `blob`), the sole integer primary key that numbers itself is
//! `.primaryKey({ autoIncrement: true })`, and every unique is a unique index
//! (`.unique()` where drizzle names it the same, `uniqueIndex` otherwise),
//! which is what drizzle-kit's snapshot records and SQLite stores. Enum
//! columns keep their labels in TypeScript (`text({ enum })`) and in the
//! database (the check lowering added).

use std::collections::BTreeSet;

use schemaforge_kit::defaults::drizzle_default;
use schemaforge_kit::names::{DrizzleNames, TableNames};
use schemaforge_kit::snapshot::{foreign_key_is_column_style, index_element, unique_is_column_style};
use schemaforge_model::sqlite::autoincrement;
use schemaforge_model::{Column, Dialect, QualifiedName, ScalarType, Schema, Table};

use super::{
    HEADER, Links, cyclic_references, default_call, foreign_key_extra, join_imports, options, primary_key_extra, property, references_call,
    string, template_escape, write_relations,
};
use crate::GeneratedFile;
use crate::writer::Writer;

pub(super) fn generate(schema: &Schema, names: &DrizzleNames) -> GeneratedFile {
    let links = Links::new(schema);
    let mut generator = Generator {
        schema,
        names,
        links: &links,
        core_imports: BTreeSet::new(),
        orm_imports: BTreeSet::new(),
        cyclic: cyclic_references(schema),
    };
    let body = generator.body();
    let mut out = Writer::default();
    out.line(HEADER);
    if !generator.orm_imports.is_empty() {
        out.line(format!("import {{ {} }} from \"drizzle-orm\";", join_imports(&generator.orm_imports)));
    }
    out.line(format!("import {{ {} }} from \"drizzle-orm/sqlite-core\";", join_imports(&generator.core_imports)));
    out.blank();
    let mut contents = out.finish();
    contents.push_str(&body);
    GeneratedFile { path: "schema.ts".into(), contents }
}

struct Generator<'a> {
    schema: &'a Schema,
    names: &'a DrizzleNames,
    links: &'a Links<'a>,
    core_imports: BTreeSet<String>,
    orm_imports: BTreeSet<String>,
    cyclic: BTreeSet<(QualifiedName, String)>,
}

impl Generator<'_> {
    fn core(&mut self, name: &str) -> String {
        self.core_imports.insert(name.to_string());
        name.trim_start_matches("type ").to_string()
    }

    fn sql(&mut self, text: &str) -> String {
        self.orm_imports.insert("sql".into());
        format!("sql`{}`", template_escape(text))
    }

    fn body(&mut self) -> String {
        let mut w = Writer::default();
        let custom: Vec<(String, String)> = self.names.custom_types.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (sql, var) in custom.into_iter().filter(|(sql, _)| sql != "bytea") {
            let f = self.core("customType");
            w.line(format!("const {var} = {f}<{{ data: string; driverData: string }}>({{"));
            w.indent();
            w.line("dataType() {");
            w.indent();
            w.line(format!("return {};", string(&sql)));
            w.dedent();
            w.line("},");
            w.dedent();
            w.line("});");
        }
        w.blank();
        for table in &self.schema.tables {
            self.table(&mut w, table);
            w.blank();
        }
        for table in &self.schema.tables {
            write_relations(&mut w, self.links, self.names, table, &mut self.orm_imports);
        }
        for table in &self.schema.tables {
            let n = self.names.table(&table.name);
            w.line(format!("export type {} = typeof {}.$inferSelect;", n.select_type, n.export));
            w.line(format!("export type {} = typeof {}.$inferInsert;", n.insert_type, n.export));
        }
        w.finish()
    }

    fn table(&mut self, w: &mut Writer, table: &Table) {
        let n = self.names.table(&table.name);
        if let Some(comment) = &table.comment {
            w.comment(comment);
        }
        let constructor = self.core("sqliteTable");
        w.line(format!("export const {} = {constructor}({}, {{", n.export, string(&table.name.name)));
        w.indent();
        for column in &table.columns {
            if let Some(comment) = &column.comment {
                w.comment(comment);
            }
            let builder = self.column(table, column);
            w.line(format!("{}: {builder},", property(&n.columns[&column.name])));
        }
        w.dedent();
        let extras = self.extras(table, n);
        if extras.is_empty() {
            w.line("});");
        } else {
            w.line("}, (t) => [");
            w.indent();
            for extra in extras {
                w.line(format!("{extra},"));
            }
            w.dedent();
            w.line("]);");
        }
    }

    fn column(&mut self, table: &Table, column: &Column) -> String {
        let name = string(&column.name);
        let mut b = match &column.ty.scalar {
            ScalarType::SmallInt
            | ScalarType::Integer
            | ScalarType::BigInt
            | ScalarType::SmallSerial
            | ScalarType::Serial
            | ScalarType::BigSerial => format!("{}({name})", self.core("integer")),
            ScalarType::Boolean => format!("{}({name}, {{ mode: \"boolean\" }})", self.core("integer")),
            ScalarType::Timestamp { precision, .. } => {
                let mode = if *precision == Some(3) { "timestamp_ms" } else { "timestamp" };
                format!("{}({name}, {{ mode: \"{mode}\" }})", self.core("integer"))
            }
            ScalarType::Text | ScalarType::Uuid => format!("{}({name})", self.core("text")),
            ScalarType::Varchar { length } | ScalarType::Char { length } => {
                format!("{}({name}{})", self.core("text"), options(&[("length", length.map(|l| l.to_string()))]))
            }
            ScalarType::Enum(e) => {
                let labels: Vec<String> =
                    self.schema.enum_type(e).map(|e| e.values.iter().map(|v| string(v)).collect()).unwrap_or_default();
                format!("{}({name}, {{ enum: [{}] }})", self.core("text"), labels.join(", "))
            }
            ScalarType::Json | ScalarType::Jsonb => format!("{}({name}, {{ mode: \"json\" }})", self.core("text")),
            ScalarType::Numeric { .. } => format!("{}({name})", self.core("numeric")),
            ScalarType::Real | ScalarType::DoublePrecision => format!("{}({name})", self.core("real")),
            ScalarType::Bytea => format!("{}({name}, {{ mode: \"buffer\" }})", self.core("blob")),
            ScalarType::Custom { sql } => format!("{}({name})", self.names.custom_types[sql]),
            // Validation refuses these for SQLite; a schema holding one
            // anyway gets the declared type drizzle would need spelled out.
            ScalarType::Date
            | ScalarType::Time { .. }
            | ScalarType::Interval { .. }
            | ScalarType::Inet
            | ScalarType::Cidr
            | ScalarType::MacAddr
            | ScalarType::Vector { .. } => format!("{}({name})", self.core("text")),
        };
        let sole_key = table.primary_key.as_ref().is_some_and(|pk| pk.columns.len() == 1 && pk.columns[0] == column.name);
        if sole_key {
            if autoincrement(table, column) {
                b.push_str(".primaryKey({ autoIncrement: true })");
            } else {
                b.push_str(".primaryKey()");
            }
        }
        if column.not_null && !sole_key {
            b.push_str(".notNull()");
        }
        b.push_str(&default_call(drizzle_default(Dialect::Sqlite, column), |sql| self.sql(sql)));
        if let Some(generated) = &column.generated {
            let sql = self.sql(&generated.sql);
            b.push_str(&format!(".generatedAlwaysAs({sql}, {{ mode: \"stored\" }})"));
        }
        if table.uniques.iter().any(|u| u.columns.first() == Some(&column.name) && unique_is_column_style(table, u)) {
            b.push_str(".unique()");
        }
        if let Some(fk) =
            table.foreign_keys.iter().find(|fk| fk.columns.first() == Some(&column.name) && foreign_key_is_column_style(table, fk))
        {
            let cyclic = self.cyclic.contains(&(table.name.clone(), fk.name.clone()));
            let any_column = cyclic.then(|| self.core("type AnySQLiteColumn"));
            b.push_str(&references_call(self.names, fk, any_column));
        }
        b
    }

    /// The table's extras, in the order drizzle-kit's snapshot lists them:
    /// composite key, foreign keys, unique indexes, indexes, checks.
    fn extras(&mut self, table: &Table, n: &TableNames) -> Vec<String> {
        let key = |column: &str| format!("t.{}", n.columns.get(column).map(String::as_str).unwrap_or(column));
        let mut extras = Vec::new();
        if let Some(pk) = table.primary_key.as_ref().filter(|pk| pk.columns.len() > 1) {
            let f = self.core("primaryKey");
            extras.push(primary_key_extra(&f, table, pk, &key));
        }
        for fk in table.foreign_keys.iter().filter(|fk| !foreign_key_is_column_style(table, fk)) {
            let f = self.core("foreignKey");
            extras.push(foreign_key_extra(&f, self.names, table, fk, &key));
        }
        for unique in table.uniques.iter().filter(|u| !unique_is_column_style(table, u)) {
            let f = self.core("uniqueIndex");
            let columns: Vec<String> = unique.columns.iter().map(|c| key(c)).collect();
            extras.push(format!("{f}({}).on({})", string(&unique.name), columns.join(", ")));
        }
        for index in &table.indexes {
            let f = self.core(if index.unique { "uniqueIndex" } else { "index" });
            let elements: Vec<String> = index
                .elements
                .iter()
                .map(|e| match index_element(&e.key, e.order) {
                    (text, true) => self.sql(&text),
                    (column, false) => key(&column),
                })
                .collect();
            let mut s = format!("{f}({}).on({})", string(&index.name), elements.join(", "));
            if let Some(predicate) = &index.predicate {
                let sql = self.sql(predicate);
                s.push_str(&format!(".where({sql})"));
            }
            extras.push(s);
        }
        for check in &table.checks {
            let f = self.core("check");
            let sql = self.sql(&check.expression);
            extras.push(format!("{f}({}, {sql})", string(&check.name)));
        }
        extras
    }
}
