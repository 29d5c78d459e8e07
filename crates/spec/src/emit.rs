//! A model written back as a definition: what `pull` saves for a database.
//!
//! The inverse of `lower`: `parse_definition(to_json(s))` plans no change
//! against `s`. What the format spells more briefly is written briefly:
//! a single-column primary key, unique or foreign key with its default name
//! goes on the column, default options are left out.

use schemaforge_model::{
    Column, ColumnDefault, Dialect, ForeignKey, IdentityKind, IndexKey, NullsOrder, PolicyCommand, PolicyKind, ReferentialAction,
    ScalarType, Schema, SortOrder, Table, names,
};

use crate::document::{
    CheckDef, ColumnDef, CustomSqlDef, DefaultDef, Definition, DialectName, EnumDef, ExtensionDef, ExtensionSpec, ForeignKeyDef,
    ForeignKeyTarget, GeneratedDef, IdentityDef, IdentityKindName, IdentitySpec, IndexColumnDef, IndexColumnSpec, IndexDef,
    NamedPrimaryKey, NullsOrderName, PolicyCommandName, PolicyDef, PolicyKindName, PrimaryKeyDef, ReferenceDef, ReferentialActionName,
    RoleDef, SortOrderName, SqlDefault, TableDef, TypeName, UniqueDef,
};

/// `schema` as definition JSON text (pretty-printed, two spaces, newline-terminated).
pub fn to_json(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(&to_definition(schema)).unwrap_or_default();
    text.push('\n');
    text
}

/// `schema` as a definition.
pub fn to_definition(schema: &Schema) -> Definition {
    Definition {
        json_schema: None,
        dialect: match schema.dialect {
            Dialect::Postgresql => None,
            Dialect::Sqlite => Some(DialectName::Sqlite),
        },
        schemas: schema.namespaces.clone(),
        extensions: schema
            .extensions
            .iter()
            .map(|e| match &e.schema {
                None => ExtensionDef::Name(e.name.clone()),
                Some(schema) => ExtensionDef::Spec(ExtensionSpec { name: e.name.clone(), schema: Some(schema.clone()) }),
            })
            .collect(),
        roles: schema
            .roles
            .iter()
            .map(|r| RoleDef {
                name: r.name.clone(),
                existing: r.existing,
                create_db: r.create_db.then_some(true),
                create_role: r.create_role.then_some(true),
                inherit: (!r.inherit).then_some(false),
            })
            .collect(),
        enums: schema
            .enums
            .iter()
            .map(|e| EnumDef {
                name: e.name.name.clone(),
                schema: e.name.schema.clone(),
                values: e.values.clone(),
                renamed_values: e.renamed_values.clone(),
            })
            .collect(),
        tables: schema.tables.iter().map(|t| table(schema, t)).collect(),
        sql: (!schema.custom_sql.before.is_empty() || !schema.custom_sql.after.is_empty())
            .then(|| CustomSqlDef { before: script(&schema.custom_sql.before), after: script(&schema.custom_sql.after) }),
    }
}

/// On SQLite, the check lowering adds to keep an enum column's labels: the
/// definition says it with the column's type, and lowering adds it again.
fn keeps_enum_labels(schema: &Schema, table: &Table, check: &str) -> bool {
    match schema.dialect {
        Dialect::Postgresql => false,
        Dialect::Sqlite => table
            .columns
            .iter()
            .any(|c| matches!(c.ty.scalar, ScalarType::Enum(_)) && crate::lower::enum_check_name(&table.name.name, &c.name) == check),
    }
}

fn script(statements: &[String]) -> Option<String> {
    (!statements.is_empty()).then(|| statements.iter().map(|s| format!("{s};")).collect::<Vec<_>>().join("\n"))
}

fn table(schema: &Schema, t: &Table) -> TableDef {
    let inline_pk = t.primary_key_is_inline();
    let mut columns: Vec<ColumnDef> = t.columns.iter().map(|c| column(t, c, inline_pk)).collect();
    let mut uniques = Vec::new();
    for unique in &t.uniques {
        let default_name = names::unique(&t.name.name, &unique.columns);
        let on_column = unique.columns.len() == 1 && unique.name == default_name && !unique.nulls_not_distinct;
        match columns.iter_mut().find(|c| on_column && c.name == unique.columns[0] && c.unique.is_none()) {
            Some(column) => column.unique = Some(true),
            None => uniques.push(UniqueDef {
                name: Some(unique.name.clone()).filter(|n| *n != default_name),
                columns: unique.columns.clone(),
                nulls_not_distinct: unique.nulls_not_distinct,
            }),
        }
    }
    let mut foreign_keys = Vec::new();
    for fk in &t.foreign_keys {
        match columns
            .iter_mut()
            .find(|c| fk.declared_on_column && fk.columns.len() == 1 && c.name == fk.columns[0] && c.references.is_none())
        {
            Some(column) => column.references = Some(reference(fk)),
            None => foreign_keys.push(foreign_key(t, fk)),
        }
    }
    let primary_key = t.primary_key.as_ref().filter(|_| !inline_pk).map(|pk| {
        let default_name = names::primary_key(&t.name.name, &pk.columns);
        if pk.name == default_name {
            PrimaryKeyDef::Columns(pk.columns.clone())
        } else {
            PrimaryKeyDef::Named(NamedPrimaryKey { name: Some(pk.name.clone()), columns: pk.columns.clone() })
        }
    });
    TableDef {
        name: t.name.name.clone(),
        schema: t.name.schema.clone(),
        renamed_from: t.renamed_from.clone(),
        comment: t.comment.clone(),
        columns,
        primary_key,
        uniques,
        foreign_keys,
        indexes: t.indexes.iter().map(|i| index(schema.dialect, i)).collect(),
        checks: t
            .checks
            .iter()
            .filter(|c| !keeps_enum_labels(schema, t, &c.name))
            .map(|c| CheckDef { name: c.name.clone(), expression: c.expression.clone() })
            .collect(),
        rls: t.rls && t.policies.is_empty(),
        policies: t.policies.iter().map(policy).collect(),
    }
}

fn column(t: &Table, c: &Column, inline_pk: bool) -> ColumnDef {
    let is_pk = inline_pk && t.primary_key.as_ref().is_some_and(|pk| pk.columns[0] == c.name);
    let implied_not_null = is_pk || c.ty.scalar.is_serial() || c.identity.is_some();
    let mut def = ColumnDef {
        name: c.name.clone(),
        ty: TypeName::Text,
        length: None,
        precision: None,
        scale: None,
        with_timezone: None,
        dimensions: None,
        enum_name: None,
        array: c.ty.is_array().then_some(true),
        sql: None,
        primary_key: is_pk.then_some(true),
        unique: None,
        not_null: (c.not_null && !implied_not_null).then_some(true),
        default: c.default.as_ref().map(|d| match d {
            ColumnDefault::Value(value) => DefaultDef::Value(value.clone()),
            ColumnDefault::Sql(sql) => DefaultDef::Sql(SqlDefault { sql: sql.clone() }),
        }),
        identity: c.identity.as_ref().map(|i| {
            let kind = match i.kind {
                IdentityKind::Always => IdentityKindName::Always,
                IdentityKind::ByDefault => IdentityKindName::ByDefault,
            };
            IdentityDef::Spec(IdentitySpec {
                kind,
                sequence_name: Some(i.sequence_name.clone()).filter(|n| *n != names::sequence(&t.name.name, &c.name)),
                start: Some(i.start_with),
                increment: Some(i.increment),
                min_value: Some(i.min_value),
                max_value: Some(i.max_value),
                cache: Some(i.cache),
                cycle: i.cycle.then_some(true),
            })
        }),
        generated: c.generated.as_ref().map(|g| GeneratedDef { sql: g.sql.clone(), stored: true }),
        references: None,
        renamed_from: c.renamed_from.clone(),
        comment: c.comment.clone(),
    };
    def.ty = match &c.ty.scalar {
        ScalarType::SmallInt => TypeName::Smallint,
        ScalarType::Integer => TypeName::Integer,
        ScalarType::BigInt => TypeName::Bigint,
        ScalarType::SmallSerial => TypeName::Smallserial,
        ScalarType::Serial => TypeName::Serial,
        ScalarType::BigSerial => TypeName::Bigserial,
        ScalarType::Boolean => TypeName::Boolean,
        ScalarType::Text => TypeName::Text,
        ScalarType::Varchar { length } => {
            def.length = *length;
            TypeName::Varchar
        }
        ScalarType::Char { length } => {
            def.length = *length;
            TypeName::Char
        }
        ScalarType::Numeric { precision, scale } => {
            def.precision = *precision;
            def.scale = *scale;
            TypeName::Numeric
        }
        ScalarType::Real => TypeName::Real,
        ScalarType::DoublePrecision => TypeName::DoublePrecision,
        ScalarType::Date => TypeName::Date,
        ScalarType::Time { precision, with_time_zone } => {
            def.precision = *precision;
            def.with_timezone = with_time_zone.then_some(true);
            TypeName::Time
        }
        ScalarType::Timestamp { precision, with_time_zone } => {
            def.precision = *precision;
            def.with_timezone = with_time_zone.then_some(true);
            TypeName::Timestamp
        }
        ScalarType::Interval { precision } => {
            def.precision = *precision;
            TypeName::Interval
        }
        ScalarType::Json => TypeName::Json,
        ScalarType::Jsonb => TypeName::Jsonb,
        ScalarType::Uuid => TypeName::Uuid,
        ScalarType::Bytea => TypeName::Bytea,
        ScalarType::Inet => TypeName::Inet,
        ScalarType::Cidr => TypeName::Cidr,
        ScalarType::MacAddr => TypeName::Macaddr,
        ScalarType::Vector { dimensions } => {
            def.dimensions = Some(*dimensions);
            TypeName::Vector
        }
        ScalarType::Enum(name) => {
            def.enum_name = Some(name.to_string());
            TypeName::Enum
        }
        ScalarType::Custom { sql } => {
            def.sql = Some(sql.clone());
            TypeName::Custom
        }
    };
    def
}

fn action(action: ReferentialAction) -> Option<ReferentialActionName> {
    match action {
        ReferentialAction::NoAction => None,
        ReferentialAction::Restrict => Some(ReferentialActionName::Restrict),
        ReferentialAction::Cascade => Some(ReferentialActionName::Cascade),
        ReferentialAction::SetNull => Some(ReferentialActionName::SetNull),
        ReferentialAction::SetDefault => Some(ReferentialActionName::SetDefault),
    }
}

fn reference(fk: &ForeignKey) -> ReferenceDef {
    ReferenceDef {
        table: fk.referenced_table.name.clone(),
        schema: fk.referenced_table.schema.clone(),
        column: fk.referenced_columns.first().cloned().unwrap_or_default(),
        on_delete: action(fk.on_delete),
        on_update: action(fk.on_update),
    }
}

fn foreign_key(t: &Table, fk: &ForeignKey) -> ForeignKeyDef {
    let default_name = names::foreign_key(&t.name.name, &fk.columns, &fk.referenced_table.name, &fk.referenced_columns);
    ForeignKeyDef {
        name: Some(fk.name.clone()).filter(|n| *n != default_name),
        columns: fk.columns.clone(),
        references: ForeignKeyTarget {
            table: fk.referenced_table.name.clone(),
            schema: fk.referenced_table.schema.clone(),
            columns: fk.referenced_columns.clone(),
        },
        on_delete: action(fk.on_delete),
        on_update: action(fk.on_update),
    }
}

/// Where `dialect` sorts an element's NULLs when the definition is silent:
/// PostgreSQL treats NULL as the largest value, SQLite as the smallest (and
/// refuses `nulls` in a definition, so it must never be written for it).
fn default_nulls(dialect: Dialect, order: SortOrder) -> NullsOrder {
    match (dialect, order) {
        (Dialect::Postgresql, SortOrder::Asc) | (Dialect::Sqlite, SortOrder::Desc) => NullsOrder::Last,
        (Dialect::Postgresql, SortOrder::Desc) | (Dialect::Sqlite, SortOrder::Asc) => NullsOrder::First,
    }
}

fn index(dialect: Dialect, i: &schemaforge_model::Index) -> IndexDef {
    let columns = i
        .elements
        .iter()
        .map(|e| {
            let default_nulls = default_nulls(dialect, e.order);
            let plain = e.order == SortOrder::Asc && e.nulls == default_nulls && e.opclass.is_none();
            match &e.key {
                IndexKey::Column(name) if plain => IndexColumnDef::Name(name.clone()),
                key => IndexColumnDef::Spec(IndexColumnSpec {
                    column: match key {
                        IndexKey::Column(name) => Some(name.clone()),
                        IndexKey::Expression(_) => None,
                    },
                    expression: match key {
                        IndexKey::Expression(sql) => Some(sql.clone()),
                        IndexKey::Column(_) => None,
                    },
                    order: (e.order == SortOrder::Desc).then_some(SortOrderName::Desc),
                    nulls: (e.nulls != default_nulls).then_some(match e.nulls {
                        NullsOrder::First => NullsOrderName::First,
                        NullsOrder::Last => NullsOrderName::Last,
                    }),
                    opclass: e.opclass.clone(),
                }),
            }
        })
        .collect();
    IndexDef {
        name: Some(i.name.clone()),
        columns,
        unique: i.unique,
        using: (i.method != "btree").then(|| i.method.clone()),
        predicate: i.predicate.clone(),
    }
}

fn policy(p: &schemaforge_model::Policy) -> PolicyDef {
    PolicyDef {
        name: p.name.clone(),
        kind: (p.kind == PolicyKind::Restrictive).then_some(PolicyKindName::Restrictive),
        command: match p.command {
            PolicyCommand::All => None,
            PolicyCommand::Select => Some(PolicyCommandName::Select),
            PolicyCommand::Insert => Some(PolicyCommandName::Insert),
            PolicyCommand::Update => Some(PolicyCommandName::Update),
            PolicyCommand::Delete => Some(PolicyCommandName::Delete),
        },
        to: (p.roles != ["public"]).then(|| p.roles.clone()),
        using: p.using.clone(),
        with_check: p.with_check.clone(),
    }
}
