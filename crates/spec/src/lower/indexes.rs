//! Indexes: columns or expressions, order, nulls, operator classes, method, predicate.

use std::collections::BTreeSet;

use schemaforge_fragment::{self as fragment, ExpressionSlot};
use schemaforge_model::{Dialect, Index, IndexElement, IndexKey, NullsOrder, ScalarType, SortOrder, Table};

use super::Lowerer;
use super::expressions::Scope;
use crate::diagnostic::{Code, Diagnostic, Pointer};
use crate::document::{IndexColumnDef, IndexColumnSpec, NullsOrderName, SortOrderName, TableDef};
use crate::suggest;

/// Access methods PostgreSQL and its common extensions provide. Others are
/// accepted (an extension may add one) unless they look like a typo of these.
const KNOWN_METHODS: [&str; 8] = ["btree", "hash", "gin", "gist", "spgist", "brin", "hnsw", "ivfflat"];

impl Lowerer {
    pub(super) fn indexes(&mut self, path: &Pointer, def: &TableDef, table: &mut Table) {
        for (i, index_def) in def.indexes.iter().enumerate() {
            let index_path = path.key("indexes").index(i);
            if self.skipped(&index_path) {
                continue;
            }
            let method = index_def.using.clone().unwrap_or_else(|| "btree".to_string());
            let mut ok = true;
            if index_def.using.is_some() {
                let method_path = index_path.key("using");
                if !fragment::is_plain_identifier(Dialect::Postgresql, &method) {
                    ok = false;
                    self.push(
                        Diagnostic::new(&method_path, Code::InvalidIndex, format!("`{method}` is not an index method name"))
                            .with_hint("methods are lower-case names such as `btree`, `gin`, `gist`, `hnsw`"),
                    );
                } else if !KNOWN_METHODS.contains(&method.as_str())
                    && let Some(hint) = suggest::did_you_mean(&method, KNOWN_METHODS)
                {
                    ok = false;
                    self.push(
                        Diagnostic::new(&method_path, Code::InvalidIndex, format!("unknown index method `{method}`")).with_hint(hint),
                    );
                }
            }
            if index_def.unique && method != "btree" {
                ok = false;
                self.push(
                    Diagnostic::new(
                        index_path.key("unique"),
                        Code::InvalidIndex,
                        format!("index method `{method}` does not support unique indexes"),
                    )
                    .with_hint("only `btree` indexes can be unique"),
                );
            }
            if index_def.columns.is_empty() {
                ok = false;
                self.push(Diagnostic::new(index_path.key("columns"), Code::InvalidIndex, "the index lists no columns"));
            }
            let columns: BTreeSet<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            let mut elements = Vec::new();
            for (j, column_def) in index_def.columns.iter().enumerate() {
                let element_path = index_path.key("columns").index(j);
                match self.index_element(&element_path, column_def, table, &columns, &method) {
                    Some(element) => elements.push(element),
                    None => ok = false,
                }
            }
            let predicate = match &index_def.predicate {
                Some(sql) => {
                    let predicate_path = index_path.key("where");
                    match self.expression(&predicate_path, ExpressionSlot::IndexPredicate, sql) {
                        Some((predicate, facts)) => {
                            ok &= self.references(&predicate_path, ExpressionSlot::IndexPredicate, &facts, &table_scope(table, &columns));
                            Some(predicate)
                        }
                        None => {
                            ok = false;
                            None
                        }
                    }
                }
                None => None,
            };
            let name = match &index_def.name {
                Some(name) => {
                    ok &= self.identifier(&index_path.key("name"), name, "index name");
                    name.clone()
                }
                None => {
                    let columns: Option<Vec<&str>> = elements
                        .iter()
                        .map(|e| match &e.key {
                            IndexKey::Column(c) => Some(c.as_str()),
                            IndexKey::Expression(_) => None,
                        })
                        .collect();
                    match columns {
                        Some(columns) => {
                            let derived = schemaforge_model::names::index(&def.name, &columns);
                            ok &= self.derived_name(&index_path, &derived, "index name", "give the index a shorter `name`");
                            derived
                        }
                        None => {
                            ok = false;
                            self.push(
                                Diagnostic::new(&index_path, Code::InvalidIndex, "an index on an expression needs a `name`")
                                    .with_hint("add `\"name\": \"…\"`"),
                            );
                            String::new()
                        }
                    }
                }
            };
            if ok {
                self.declared_at.insert((table.name.clone(), name.clone()), index_path.key("name"));
                table.indexes.push(Index { name, unique: index_def.unique, method, elements, predicate });
            }
        }
    }

    fn index_element(
        &mut self,
        path: &Pointer,
        def: &IndexColumnDef,
        table: &Table,
        columns: &BTreeSet<&str>,
        method: &str,
    ) -> Option<IndexElement> {
        let spec = match def {
            IndexColumnDef::Name(name) => {
                &IndexColumnSpec { column: Some(name.clone()), expression: None, order: None, nulls: None, opclass: None }
            }
            IndexColumnDef::Spec(spec) => spec,
        };
        let column_path = match def {
            IndexColumnDef::Name(_) => path.clone(),
            IndexColumnDef::Spec(_) => path.key("column"),
        };
        let key = match (&spec.column, &spec.expression) {
            (Some(_), Some(_)) | (None, None) => {
                self.push(Diagnostic::new(path, Code::InvalidIndex, "an index element needs exactly one of `column` and `expression`"));
                return None;
            }
            (Some(column), None) => {
                let Some(found) = table.column(column) else {
                    if self.is_broken(&table.name, column) {
                        return None;
                    }
                    let hint = suggest::did_you_mean(column, table.columns.iter().map(|c| c.name.as_str()));
                    self.push(
                        Diagnostic::new(
                            &column_path,
                            Code::UnknownColumn,
                            format!("the index names column `{column}`, which table `{}` does not have", table.name),
                        )
                        .with_hint_opt(hint),
                    );
                    return None;
                };
                if matches!(found.ty.scalar, ScalarType::Vector { .. }) && spec.opclass.is_none() {
                    self.push(
                        Diagnostic::new(path, Code::InvalidIndex, format!("an index on vector column `{column}` needs an `opclass`"))
                            .with_hint(
                                "pgvector has no default operator class: use e.g. `vector_cosine_ops`, `vector_l2_ops` or `vector_ip_ops`",
                            ),
                    );
                    return None;
                }
                IndexKey::Column(column.clone())
            }
            (None, Some(expression)) => {
                let expression_path = path.key("expression");
                let (expression, facts) = self.expression(&expression_path, ExpressionSlot::IndexExpression, expression)?;
                if !self.references(&expression_path, ExpressionSlot::IndexExpression, &facts, &table_scope(table, columns)) {
                    return None;
                }
                IndexKey::Expression(expression)
            }
        };
        if (spec.order.is_some() || spec.nulls.is_some()) && method != "btree" {
            self.push(
                Diagnostic::new(path, Code::InvalidIndex, format!("index method `{method}` does not support `order` or `nulls`"))
                    .with_hint("remove them, or use `btree`"),
            );
            return None;
        }
        if let Some(opclass) = &spec.opclass {
            // Rendered unquoted (as drizzle writes it), so each part must mean itself unquoted.
            let plain =
                opclass.split('.').count() <= 2 && opclass.split('.').all(|part| fragment::is_plain_identifier(Dialect::Postgresql, part));
            if !plain {
                self.push(
                    Diagnostic::new(path.key("opclass"), Code::InvalidIndex, format!("`{opclass}` is not an operator class name"))
                        .with_hint("operator classes are lower-case names such as `text_pattern_ops`, optionally schema-qualified"),
                );
                return None;
            }
        }
        let order = match spec.order {
            Some(SortOrderName::Desc) => SortOrder::Desc,
            Some(SortOrderName::Asc) | None => SortOrder::Asc,
        };
        let nulls = match (spec.nulls, order) {
            (Some(NullsOrderName::First), _) => NullsOrder::First,
            (Some(NullsOrderName::Last), _) => NullsOrder::Last,
            (None, SortOrder::Desc) => NullsOrder::First,
            (None, SortOrder::Asc) => NullsOrder::Last,
        };
        Some(IndexElement { key, order, nulls, opclass: spec.opclass.clone() })
    }
}

/// Index expressions and predicates may name any column of their table.
fn table_scope<'a>(table: &'a Table, columns: &'a BTreeSet<&'a str>) -> Scope<'a> {
    static NONE: BTreeSet<&str> = BTreeSet::new();
    Scope::Table { table: &table.name, columns, generated: &NONE, allow_generated: true }
}
