//! Reads a live PostgreSQL database into the model: one query per kind of
//! object over the whole database (never one per table), so a thousand
//! tables cost the same ten round trips as one.

use sqlx::PgConnection;

use super::BOOKKEEPING_SCHEMAS;
use super::catalog::{self, CatalogRows, ColumnRow, ConstraintRow, IndexRow, Introspected, PolicyRow, SequenceRow, TableRow};

/// Which part of the database to read.
#[derive(Debug, Clone, Default)]
pub struct IntrospectOptions {
    /// Only these schemas (`public` included by name); every user schema when empty.
    pub schemas: Vec<String>,
    /// Roles to read besides those the policies name.
    pub roles: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    #[error("reading the catalog ({what}) failed: {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("PostgreSQL {found} is too old: introspection needs PostgreSQL 12 or newer")]
    TooOld { found: String },
}

fn query_error(what: &'static str) -> impl FnOnce(sqlx::Error) -> IntrospectError {
    move |source| IntrospectError::Query { what, source }
}

/// Objects created by an extension (`pg_depend` type `e`) belong to it, not to the schema.
const NOT_FROM_EXTENSION: &str =
    "NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{catalog}'::regclass AND x.objid = {oid} AND x.deptype = 'e')";

fn not_from_extension(catalog: &str, oid: &str) -> String {
    NOT_FROM_EXTENSION.replace("{catalog}", catalog).replace("{oid}", oid)
}

/// Reads the database `conn` is connected to.
pub async fn introspect(conn: &mut PgConnection, options: &IntrospectOptions) -> Result<Introspected, IntrospectError> {
    // The server spells a name without its schema only when the schema is on
    // the search path, so expressions read back depend on it. Two readings
    // compare equal only under the same path: the schemas read, `public` first.
    let previous: String =
        sqlx::query_scalar("SELECT current_setting('search_path')").fetch_one(&mut *conn).await.map_err(query_error("search path"))?;
    let mut path: Vec<&str> = options.schemas.iter().map(String::as_str).filter(|s| *s != "public").collect();
    path.insert(0, "public");
    let path = path.iter().map(|s| schemaforge_sql::postgres::quote_ident(s)).collect::<Vec<_>>().join(", ");
    sqlx::query("SELECT set_config('search_path', $1, false)").bind(&path).execute(&mut *conn).await.map_err(query_error("search path"))?;
    let result = read(conn, options).await;
    let restored = sqlx::query("SELECT set_config('search_path', $1, false)").bind(&previous).execute(&mut *conn).await;
    let read = result?;
    restored.map_err(query_error("search path"))?;
    Ok(read)
}

async fn read(conn: &mut PgConnection, options: &IntrospectOptions) -> Result<Introspected, IntrospectError> {
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int4")
        .fetch_one(&mut *conn)
        .await
        .map_err(query_error("server version"))?;
    if version < 120_000 {
        return Err(IntrospectError::TooOld { found: version.to_string() });
    }
    let mut rows = CatalogRows::default();
    let bookkeeping: Vec<String> = BOOKKEEPING_SCHEMAS.iter().map(|s| s.to_string()).collect();
    let namespaces_sql = format!(
        "SELECT n.nspname::text FROM pg_namespace n
         WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' AND n.nspname <> ALL($1)
           AND (cardinality($2::text[]) = 0 OR n.nspname = ANY($2)) AND {}
         ORDER BY n.oid",
        not_from_extension("pg_namespace", "n.oid")
    );
    rows.namespaces = sqlx::query_scalar(sqlx::AssertSqlSafe(namespaces_sql))
        .bind(&bookkeeping)
        .bind(&options.schemas)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error("schemas"))?;
    let namespaces = &rows.namespaces;

    rows.extensions = sqlx::query_as(
        "SELECT e.extname::text, n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname <> 'plpgsql' ORDER BY e.oid",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("extensions"))?;

    let enums_sql = format!(
        "SELECT n.nspname::text, t.typname::text, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
         WHERE n.nspname = ANY($1) AND {}
         GROUP BY t.oid, n.nspname, t.typname ORDER BY t.oid",
        not_from_extension("pg_type", "t.oid")
    );
    rows.enums =
        sqlx::query_as(sqlx::AssertSqlSafe(enums_sql)).bind(namespaces).fetch_all(&mut *conn).await.map_err(query_error("enums"))?;

    let tables_sql = format!(
        "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relrowsecurity, obj_description(c.oid, 'pg_class')
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY($1)
           AND c.relname NOT IN ('__drizzle_migrations', '__schemaforge_migrations', '__schemaforge_versions') AND {}
         ORDER BY c.oid",
        not_from_extension("pg_class", "c.oid")
    );
    let tables: Vec<(i64, String, String, bool, Option<String>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(tables_sql)).bind(namespaces).fetch_all(&mut *conn).await.map_err(query_error("tables"))?;
    rows.tables = tables.into_iter().map(|(oid, schema, name, rls, comment)| TableRow { oid, schema, name, rls, comment }).collect();
    let oids: Vec<i64> = rows.tables.iter().map(|t| t.oid).collect();

    type ColumnTuple = (i64, String, bool, String, String, i32, i32, String, String, String, String, Option<String>, Option<String>);
    let columns: Vec<ColumnTuple> = sqlx::query_as(
        "SELECT a.attrelid::int8, a.attname::text, a.attnotnull, a.attidentity::text, a.attgenerated::text,
                CASE WHEN t.typcategory = 'A' THEN greatest(a.attndims, 1) ELSE 0 END::int4, a.atttypmod,
                et.typname::text, etn.nspname::text, et.typtype::text, format_type(et.oid, a.atttypmod),
                pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum)
         FROM pg_attribute a
         JOIN pg_type t ON t.oid = a.atttypid
         JOIN pg_type et ON et.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
         JOIN pg_namespace etn ON etn.oid = et.typnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = ANY($1::int8[]::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attrelid, a.attnum",
    )
    .bind(&oids)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("columns"))?;
    rows.columns = columns
        .into_iter()
        .map(
            |(
                table,
                name,
                not_null,
                identity,
                generated,
                dimensions,
                typmod,
                type_name,
                type_schema,
                type_kind,
                type_sql,
                default,
                comment,
            )| {
                ColumnRow {
                    table,
                    name,
                    not_null,
                    identity,
                    generated,
                    dimensions,
                    typmod,
                    type_name,
                    type_schema,
                    type_kind,
                    type_sql,
                    default,
                    comment,
                }
            },
        )
        .collect();

    type SequenceTuple = (i64, String, String, String, i64, i64, i64, i64, i64, bool);
    let sequences: Vec<SequenceTuple> = sqlx::query_as(
        "SELECT d.refobjid::int8, a.attname::text, d.deptype::text, c.relname::text,
                s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
         FROM pg_depend d
         JOIN pg_class c ON c.oid = d.objid AND c.relkind = 'S'
         JOIN pg_sequence s ON s.seqrelid = c.oid
         JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
           AND d.deptype IN ('a', 'i') AND d.refobjid = ANY($1::int8[]::oid[])",
    )
    .bind(&oids)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("sequences"))?;
    rows.sequences = sequences
        .into_iter()
        .map(|(table, column, dependency, name, start, increment, min, max, cache, cycle)| SequenceRow {
            table,
            column,
            dependency,
            name,
            start,
            increment,
            min,
            max,
            cache,
            cycle,
        })
        .collect();

    // `NULLS NOT DISTINCT` exists from PostgreSQL 15.
    let nulls_not_distinct = if version >= 150_000 { "COALESCE(i.indnullsnotdistinct, false)" } else { "false" };
    let constraints_sql = format!(
        "SELECT k.conrelid::int8, k.conname::text, k.contype::text,
                ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
                      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o),
                fn.nspname::text, fc.relname::text,
                ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
                      JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o),
                k.confupdtype::text, k.confdeltype::text,
                CASE WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid) END,
                {nulls_not_distinct}
         FROM pg_constraint k
         LEFT JOIN pg_class fc ON fc.oid = k.confrelid
         LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
         LEFT JOIN pg_index i ON i.indexrelid = k.conindid
         WHERE k.conrelid = ANY($1::int8[]::oid[]) AND k.contype IN ('p', 'u', 'f', 'c')
         ORDER BY k.conrelid, k.oid"
    );
    type ConstraintTuple =
        (i64, String, String, Vec<String>, Option<String>, Option<String>, Vec<String>, String, String, Option<String>, bool);
    let constraints: Vec<ConstraintTuple> =
        sqlx::query_as(sqlx::AssertSqlSafe(constraints_sql)).bind(&oids).fetch_all(&mut *conn).await.map_err(query_error("constraints"))?;
    rows.constraints = constraints
        .into_iter()
        .map(
            |(
                table,
                name,
                kind,
                columns,
                referenced_schema,
                referenced_table,
                referenced_columns,
                on_update,
                on_delete,
                check,
                nulls_not_distinct,
            )| ConstraintRow {
                table,
                name,
                kind,
                columns,
                referenced_schema,
                referenced_table,
                referenced_columns,
                on_update,
                on_delete,
                check,
                nulls_not_distinct,
            },
        )
        .collect();

    type IndexTuple = (i64, String, bool, String, Vec<String>, Vec<String>, Vec<i16>, Vec<String>, Option<String>, i32);
    let indexes: Vec<IndexTuple> = sqlx::query_as(
        "SELECT i.indrelid::int8, ic.relname::text, i.indisunique, am.amname::text,
                ARRAY(SELECT COALESCE(a.attname::text, '') FROM generate_series(0, i.indnkeyatts - 1) k
                      LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k] ORDER BY k),
                ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
                ARRAY(SELECT i.indoption[k] FROM generate_series(0, i.indnkeyatts - 1) k ORDER BY k)::int2[],
                ARRAY(SELECT CASE WHEN oc.opcdefault THEN '' ELSE oc.opcname::text END
                      FROM generate_series(0, i.indnkeyatts - 1) k JOIN pg_opclass oc ON oc.oid = i.indclass[k] ORDER BY k),
                pg_get_expr(i.indpred, i.indrelid), (i.indnatts - i.indnkeyatts)::int4
         FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_am am ON am.oid = ic.relam
         WHERE i.indrelid = ANY($1::int8[]::oid[])
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
         ORDER BY i.indrelid, i.indexrelid",
    )
    .bind(&oids)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("indexes"))?;
    rows.indexes = indexes
        .into_iter()
        .map(|(table, name, unique, method, key_columns, key_sql, options, opclasses, predicate, included)| IndexRow {
            table,
            name,
            unique,
            method,
            key_columns,
            key_sql,
            options,
            opclasses,
            predicate,
            included,
        })
        .collect();

    type PolicyTuple = (i64, String, bool, String, Vec<String>, Option<String>, Option<String>);
    let policies: Vec<PolicyTuple> = sqlx::query_as(
        "SELECT p.polrelid::int8, p.polname::text, p.polpermissive, p.polcmd::text,
                ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END FROM unnest(p.polroles) r),
                pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
         FROM pg_policy p WHERE p.polrelid = ANY($1::int8[]::oid[]) ORDER BY p.polrelid, p.oid",
    )
    .bind(&oids)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("policies"))?;
    rows.policies = policies
        .into_iter()
        .map(|(table, name, permissive, command, roles, using, with_check)| PolicyRow {
            table,
            name,
            permissive,
            command,
            roles,
            using,
            with_check,
        })
        .collect();

    let mut role_names: Vec<String> = rows
        .policies
        .iter()
        .flat_map(|p| p.roles.iter())
        .chain(&options.roles)
        .filter(|r| !schemaforge_model::BUILTIN_POLICY_ROLES.contains(&r.as_str()))
        .cloned()
        .collect();
    role_names.sort();
    role_names.dedup();
    rows.roles = sqlx::query_as(
        "SELECT rolname::text, rolcreatedb, rolcreaterole, rolinherit FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname",
    )
    .bind(&role_names)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("roles"))?;

    Ok(catalog::assemble(&rows))
}
