//! Keys: primary keys, unique constraints and foreign keys (resolved across tables).

use std::collections::BTreeMap;

use schemaforge_model::{ForeignKey, PrimaryKey, QualifiedName, ReferentialAction, ScalarType, Table, TypeFamily, Unique, names};

use super::{Lowerer, PendingTable};
use crate::diagnostic::{Code, Diagnostic, Pointer};
use crate::document::{PrimaryKeyDef, ReferentialActionName, TableDef};
use crate::suggest;

impl Lowerer {
    /// Resolves the column names of a key; reports each unknown one.
    fn key_columns(&mut self, path: &Pointer, table: &Table, columns: &[String], what: &str) -> Option<Vec<String>> {
        if columns.is_empty() {
            self.push(Diagnostic::new(path, Code::InvalidValue, format!("{what} lists no columns")));
            return None;
        }
        let mut ok = true;
        for (i, name) in columns.iter().enumerate() {
            if table.column(name).is_none() && self.is_broken(&table.name, name) {
                ok = false;
            } else if table.column(name).is_none() {
                ok = false;
                let hint = suggest::did_you_mean(name, table.columns.iter().map(|c| c.name.as_str()));
                self.push(
                    Diagnostic::new(
                        path.index(i),
                        Code::UnknownColumn,
                        format!("{what} names column `{name}`, which table `{}` does not have", table.name),
                    )
                    .with_hint_opt(hint),
                );
            } else if columns[..i].contains(name) {
                // Keys are short (PostgreSQL allows 32 columns), so this is cheap.
                ok = false;
                self.push(Diagnostic::new(path.index(i), Code::DuplicateName, format!("{what} lists column `{name}` twice")));
            }
        }
        ok.then(|| columns.to_vec())
    }

    pub(super) fn primary_key(&mut self, path: &Pointer, def: &TableDef, table: &mut Table) {
        let column_keys: Vec<(usize, &str)> =
            def.columns.iter().enumerate().filter(|(_, c)| c.primary_key == Some(true)).map(|(i, c)| (i, c.name.as_str())).collect();
        if column_keys.len() > 1 {
            let names: Vec<String> = column_keys.iter().map(|(_, n)| format!("`{n}`")).collect();
            self.push(
                Diagnostic::new(
                    path.key("columns").index(column_keys[1].0).key("primaryKey"),
                    Code::MultiplePrimaryKeys,
                    format!("table `{}` marks {} columns as primary key", def.name, names.join(", ")),
                )
                .with_hint(format!(
                    "a table has one primary key: for a composite key use `\"primaryKey\": [{}]` on the table",
                    column_keys.iter().map(|(_, n)| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
                )),
            );
            return;
        }
        match (&def.primary_key, column_keys.first()) {
            (Some(_), Some((i, column))) => {
                self.push(
                    Diagnostic::new(
                        path.key("primaryKey"),
                        Code::MultiplePrimaryKeys,
                        format!("table `{}` declares a primary key here and on column `{column}`", def.name),
                    )
                    .with_hint(format!("keep one: remove `primaryKey` from {} or from the table", path.key("columns").index(*i).as_str())),
                );
            }
            (None, Some((i, column))) => {
                let name = names::inline_primary_key(&def.name);
                if self.claim_constraint(&path.key("columns").index(*i).key("primaryKey"), &table.name, &name) {
                    table.primary_key = Some(PrimaryKey { name, columns: vec![column.to_string()] });
                }
            }
            (Some(pk), None) => {
                let pk_path = path.key("primaryKey");
                let (name, columns, columns_path) = match pk {
                    PrimaryKeyDef::Columns(columns) => (None, columns, pk_path.clone()),
                    PrimaryKeyDef::Named(named) => (named.name.as_ref(), &named.columns, pk_path.key("columns")),
                };
                let Some(columns) = self.key_columns(&columns_path, table, columns, "the primary key") else { return };
                let name = match name {
                    Some(n) => {
                        if !self.identifier(&pk_path.key("name"), n, "primary key name") {
                            return;
                        }
                        n.clone()
                    }
                    None => {
                        let derived = names::primary_key(&def.name, &columns);
                        if !self.derived_name(
                            &pk_path,
                            &derived,
                            "primary key name",
                            "give the key a shorter `name`: `{\"name\": …, \"columns\": […]}`",
                        ) {
                            return;
                        }
                        derived
                    }
                };
                if !self.claim_constraint(&pk_path, &table.name, &name) {
                    return;
                }
                for column in &mut table.columns {
                    if columns.contains(&column.name) {
                        column.not_null = true;
                    }
                }
                table.primary_key = Some(PrimaryKey { name, columns });
            }
            (None, None) => {}
        }
    }

    pub(super) fn uniques(&mut self, path: &Pointer, def: &TableDef, table: &mut Table) {
        for (i, column) in def.columns.iter().enumerate() {
            if column.unique == Some(true) && table.column(&column.name).is_some() {
                let name = names::unique(&def.name, std::slice::from_ref(&column.name));
                let column_path = path.key("columns").index(i).key("unique");
                if self.derived_name(
                    &column_path,
                    &name,
                    "unique constraint name",
                    "declare it in the table's `uniques` with a shorter `name`",
                ) {
                    self.add_unique(&column_path, table, Unique { name, columns: vec![column.name.clone()], nulls_not_distinct: false });
                }
            }
        }
        for (i, unique) in def.uniques.iter().enumerate() {
            let unique_path = path.key("uniques").index(i);
            if self.skipped(&unique_path) {
                continue;
            }
            let Some(columns) = self.key_columns(&unique_path.key("columns"), table, &unique.columns, "the unique constraint") else {
                continue;
            };
            let name = match &unique.name {
                Some(n) => {
                    if !self.identifier(&unique_path.key("name"), n, "unique constraint name") {
                        continue;
                    }
                    n.clone()
                }
                None => {
                    let derived = names::unique(&def.name, &columns);
                    if !self.derived_name(&unique_path, &derived, "unique constraint name", "give the constraint a shorter `name`") {
                        continue;
                    }
                    derived
                }
            };
            self.add_unique(&unique_path, table, Unique { name, columns, nulls_not_distinct: unique.nulls_not_distinct });
        }
        // Canonical order, whichever way a unique was declared: single-column
        // uniques with their default name first, in column order, then the rest
        // in declaration order. `"unique": true` on a column and the same
        // constraint in `uniques` thus lower to the same model (and drizzle,
        // which lists `.unique()` columns first, agrees).
        let position = |u: &Unique| -> usize {
            match u.columns.as_slice() {
                [only] if u.name == names::unique(&table.name.name, &u.columns) && !u.nulls_not_distinct => {
                    table.columns.iter().position(|c| &c.name == only).unwrap_or(usize::MAX)
                }
                _ => usize::MAX,
            }
        };
        let mut keyed: Vec<(usize, Unique)> = std::mem::take(&mut table.uniques).into_iter().map(|u| (position(&u), u)).collect();
        keyed.sort_by_key(|(p, _)| *p);
        table.uniques = keyed.into_iter().map(|(_, u)| u).collect();
    }

    fn add_unique(&mut self, path: &Pointer, table: &mut Table, unique: Unique) {
        if self.claim_constraint(path, &table.name, &unique.name) {
            table.uniques.push(unique);
        }
    }

    pub(super) fn foreign_keys(&mut self, pending: &mut [PendingTable<'_>], tables_path: &Pointer) {
        // Targets are read from a snapshot of the lowered tables, so a table may
        // reference itself or any other table regardless of order.
        let targets: BTreeMap<QualifiedName, Table> = pending.iter().map(|p| (p.table.name.clone(), p.table.clone())).collect();
        for p in pending.iter_mut() {
            let path = tables_path.index(p.index);
            let def = p.def;
            for (i, column) in def.columns.iter().enumerate() {
                let Some(reference) = &column.references else { continue };
                if p.table.column(&column.name).is_none() {
                    continue; // the column itself failed and was reported
                }
                let ref_path = path.key("columns").index(i).key("references");
                let Some(target_schema) = self.schema_of(&ref_path.key("schema"), reference.schema.as_deref()) else { continue };
                let target_name = QualifiedName::new(target_schema, reference.table.clone());
                let name = names::foreign_key(
                    &def.name,
                    std::slice::from_ref(&column.name),
                    &reference.table,
                    std::slice::from_ref(&reference.column),
                );
                let fk = ForeignKey {
                    name,
                    columns: vec![column.name.clone()],
                    referenced_table: target_name,
                    referenced_columns: vec![reference.column.clone()],
                    on_delete: action(reference.on_delete),
                    on_update: action(reference.on_update),
                    declared_on_column: true,
                };
                let fields = FkPaths {
                    table: ref_path.key("table"),
                    columns: vec![ref_path.clone()],
                    referenced: vec![ref_path.key("column")],
                    object: ref_path.clone(),
                    name: None,
                };
                self.add_foreign_key(&mut p.table, &targets, fk, &fields);
            }
            for (i, fk_def) in def.foreign_keys.iter().enumerate() {
                let fk_path = path.key("foreignKeys").index(i);
                if self.skipped(&fk_path) {
                    continue;
                }
                let Some(columns) = self.key_columns(&fk_path.key("columns"), &p.table, &fk_def.columns, "the foreign key") else {
                    continue;
                };
                let Some(target_schema) = self.schema_of(&fk_path.key("references").key("schema"), fk_def.references.schema.as_deref())
                else {
                    continue;
                };
                if fk_def.references.columns.len() != columns.len() {
                    self.push(Diagnostic::new(
                        fk_path.key("references").key("columns"),
                        Code::InvalidForeignKey,
                        format!("the foreign key has {} columns but references {}", columns.len(), fk_def.references.columns.len()),
                    ));
                    continue;
                }
                let name = fk_def
                    .name
                    .clone()
                    .unwrap_or_else(|| names::foreign_key(&def.name, &columns, &fk_def.references.table, &fk_def.references.columns));
                let fk = ForeignKey {
                    name,
                    columns,
                    referenced_table: QualifiedName::new(target_schema, fk_def.references.table.clone()),
                    referenced_columns: fk_def.references.columns.clone(),
                    on_delete: action(fk_def.on_delete),
                    on_update: action(fk_def.on_update),
                    declared_on_column: false,
                };
                let referenced_path = fk_path.key("references").key("columns");
                let fields = FkPaths {
                    table: fk_path.key("references").key("table"),
                    columns: (0..fk.columns.len()).map(|c| fk_path.key("columns").index(c)).collect(),
                    referenced: (0..fk.columns.len()).map(|c| referenced_path.index(c)).collect(),
                    object: fk_path.clone(),
                    name: fk_def.name.as_ref().map(|_| fk_path.key("name")),
                };
                self.add_foreign_key(&mut p.table, &targets, fk, &fields);
            }
        }
    }

    fn add_foreign_key(&mut self, table: &mut Table, targets: &BTreeMap<QualifiedName, Table>, fk: ForeignKey, paths: &FkPaths) {
        let name_ok = match &paths.name {
            Some(name_path) => self.identifier(name_path, &fk.name, "foreign key name"),
            None => self.derived_name(
                &paths.object,
                &fk.name,
                "foreign key name",
                if fk.declared_on_column {
                    "declare the reference in the table's `foreignKeys` with a shorter `name`"
                } else {
                    "give the foreign key a shorter `name`"
                },
            ),
        };
        // The table being lowered is compared with its own latest state, so a
        // self-reference sees the table's primary key and uniques.
        let target = if fk.referenced_table == table.name { Some(&*table) } else { targets.get(&fk.referenced_table) };
        let Some(target) = target else {
            if self.broken_tables.contains(&fk.referenced_table) {
                return;
            }
            let names: Vec<String> = targets.keys().map(ToString::to_string).collect();
            let hint = suggest::did_you_mean(&fk.referenced_table.to_string(), names.iter().map(String::as_str));
            self.push(
                Diagnostic::new(
                    &paths.table,
                    Code::UnknownTable,
                    format!("foreign key `{}` references table `{}`, which is not declared", fk.name, fk.referenced_table),
                )
                .with_hint_opt(hint),
            );
            return;
        };
        let mut ok = name_ok;
        for (i, (from, to)) in fk.columns.iter().zip(&fk.referenced_columns).enumerate() {
            let Some(to_column) = target.column(to) else {
                ok = false;
                if self.is_broken(&target.name, to) {
                    continue;
                }
                let hint = suggest::did_you_mean(to, target.columns.iter().map(|c| c.name.as_str()));
                self.push(
                    Diagnostic::new(&paths.referenced[i], Code::UnknownColumn, format!("table `{}` has no column `{to}`", target.name))
                        .with_hint_opt(hint),
                );
                continue;
            };
            let Some(from_column) = table.column(from) else { continue };
            if !compatible(&from_column.ty, &to_column.ty) {
                ok = false;
                self.push(
                    Diagnostic::new(
                        &paths.columns[i],
                        Code::ForeignKeyTypeMismatch,
                        format!(
                            "column `{}.{from}` is {} but references `{}.{to}`, which is {}",
                            table.name,
                            describe(&from_column.ty),
                            target.name,
                            describe(&to_column.ty)
                        ),
                    )
                    .with_hint(format!("make `{from}` {}", describe(&to_column.ty))),
                );
            }
            for (field, action) in [("onDelete", fk.on_delete), ("onUpdate", fk.on_update)] {
                if from_column.not_null && action == ReferentialAction::SetNull {
                    ok = false;
                    self.push(
                        Diagnostic::new(
                            &paths.object,
                            Code::InvalidForeignKey,
                            format!("`{field}: set null` can never succeed: column `{from}` is NOT NULL"),
                        )
                        .with_hint("make the column nullable or choose another action"),
                    );
                }
            }
            // A generated column cannot be written by a referential action.
            let writes = |action: ReferentialAction| {
                matches!(action, ReferentialAction::SetNull | ReferentialAction::SetDefault | ReferentialAction::Cascade)
            };
            let writes_column = matches!(fk.on_delete, ReferentialAction::SetNull | ReferentialAction::SetDefault) || writes(fk.on_update);
            if from_column.generated.is_some() && writes_column {
                ok = false;
                self.push(
                    Diagnostic::new(
                        &paths.object,
                        Code::InvalidForeignKey,
                        format!("column `{from}` is generated, so a referential action cannot write to it"),
                    )
                    .with_hint("use `no action`, `restrict`, or `onDelete: cascade`"),
                );
            }
        }
        if !ok {
            return;
        }
        let mut wanted: Vec<&String> = fk.referenced_columns.iter().collect();
        wanted.sort();
        let same = |columns: &[String]| {
            let mut c: Vec<&String> = columns.iter().collect();
            c.sort();
            c == wanted
        };
        let unique_target = target.primary_key.as_ref().is_some_and(|pk| same(&pk.columns))
            || target.uniques.iter().any(|u| same(&u.columns))
            || target.indexes.iter().any(|i| {
                i.unique
                    && i.predicate.is_none()
                    && i.elements.iter().all(|e| matches!(e.key, schemaforge_model::IndexKey::Column(_)))
                    && same(
                        &i.elements
                            .iter()
                            .filter_map(|e| match &e.key {
                                schemaforge_model::IndexKey::Column(c) => Some(c.clone()),
                                schemaforge_model::IndexKey::Expression(_) => None,
                            })
                            .collect::<Vec<_>>(),
                    )
            });
        if !unique_target {
            self.push(
                Diagnostic::new(
                    paths.referenced.first().unwrap_or(&paths.object),
                    Code::ForeignKeyTargetNotUnique,
                    format!(
                        "foreign key `{}` references ({}) of `{}`, which is neither its primary key nor unique",
                        fk.name,
                        fk.referenced_columns.join(", "),
                        target.name
                    ),
                )
                .with_hint("PostgreSQL requires the referenced columns to be a primary key or have a unique constraint"),
            );
            return;
        }
        let name_path = paths.name.clone().unwrap_or_else(|| paths.object.clone());
        if self.claim_constraint(&name_path, &table.name, &fk.name) {
            table.foreign_keys.push(fk);
        }
    }
}

struct FkPaths {
    table: Pointer,
    columns: Vec<Pointer>,
    referenced: Vec<Pointer>,
    object: Pointer,
    name: Option<Pointer>,
}

fn action(name: Option<ReferentialActionName>) -> ReferentialAction {
    match name {
        None | Some(ReferentialActionName::NoAction) => ReferentialAction::NoAction,
        Some(ReferentialActionName::Restrict) => ReferentialAction::Restrict,
        Some(ReferentialActionName::Cascade) => ReferentialAction::Cascade,
        Some(ReferentialActionName::SetNull) => ReferentialAction::SetNull,
        Some(ReferentialActionName::SetDefault) => ReferentialAction::SetDefault,
    }
}

/// Whether a foreign key column may reference a column of type `to`: the same
/// stored type (serials are integers), or two string types.
fn compatible(from: &schemaforge_model::ColumnType, to: &schemaforge_model::ColumnType) -> bool {
    if from.array_dimensions != to.array_dimensions {
        return false;
    }
    let (a, b) = (from.scalar.storage_type(), to.scalar.storage_type());
    if a.family() == TypeFamily::String && b.family() == TypeFamily::String {
        return true;
    }
    match (&a, &b) {
        (ScalarType::Numeric { .. }, ScalarType::Numeric { .. }) => true,
        (ScalarType::Timestamp { with_time_zone: x, .. }, ScalarType::Timestamp { with_time_zone: y, .. }) => x == y,
        (ScalarType::Time { with_time_zone: x, .. }, ScalarType::Time { with_time_zone: y, .. }) => x == y,
        (ScalarType::Interval { .. }, ScalarType::Interval { .. }) => true,
        _ => a == b,
    }
}

pub(crate) fn describe(ty: &schemaforge_model::ColumnType) -> String {
    let scalar = match ty.scalar.storage_type() {
        ScalarType::SmallInt => "`smallint`".to_string(),
        ScalarType::Integer => "`integer`".to_string(),
        ScalarType::BigInt => "`bigint`".to_string(),
        ScalarType::Boolean => "`boolean`".to_string(),
        ScalarType::Text => "`text`".to_string(),
        ScalarType::Varchar { .. } => "`varchar`".to_string(),
        ScalarType::Char { .. } => "`char`".to_string(),
        ScalarType::Numeric { .. } => "`numeric`".to_string(),
        ScalarType::Real => "`real`".to_string(),
        ScalarType::DoublePrecision => "`doublePrecision`".to_string(),
        ScalarType::Date => "`date`".to_string(),
        ScalarType::Time { with_time_zone, .. } => {
            if with_time_zone {
                "`time` with time zone".into()
            } else {
                "`time`".into()
            }
        }
        ScalarType::Timestamp { with_time_zone, .. } => {
            if with_time_zone {
                "`timestamp` with time zone".into()
            } else {
                "`timestamp`".into()
            }
        }
        ScalarType::Interval { .. } => "`interval`".to_string(),
        ScalarType::Json => "`json`".to_string(),
        ScalarType::Jsonb => "`jsonb`".to_string(),
        ScalarType::Uuid => "`uuid`".to_string(),
        ScalarType::Bytea => "`bytea`".to_string(),
        ScalarType::Inet => "`inet`".to_string(),
        ScalarType::Cidr => "`cidr`".to_string(),
        ScalarType::MacAddr => "`macaddr`".to_string(),
        ScalarType::Vector { dimensions } => format!("`vector({dimensions})`"),
        ScalarType::Enum(name) => format!("enum `{name}`"),
        ScalarType::Custom { sql } => format!("`{sql}`"),
        ScalarType::SmallSerial | ScalarType::Serial | ScalarType::BigSerial => "an integer".to_string(),
    };
    if ty.is_array() { format!("an array of {scalar}") } else { scalar }
}
