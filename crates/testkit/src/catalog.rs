//! A text picture of a PostgreSQL database's schema, for comparing a migrated
//! database with one built directly from the target definition.
//!
//! One sorted line per object, spelled by the server itself (`format_type`,
//! `pg_get_constraintdef`, `pg_get_indexdef`, `pg_get_expr`), so two databases
//! with the same schema give the same lines whatever order their objects and
//! columns were created in.

use sqlx::{PgConnection, Row};

const QUERY: &str = r#"
WITH user_namespaces AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\_%' AND nspname NOT IN ('information_schema', 'drizzle')
)
SELECT 'schema ' || nspname FROM user_namespaces WHERE nspname <> 'public'
UNION ALL
SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'
UNION ALL
SELECT 'enum ' || n.nspname || '.' || t.typname || ' (' || string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) || ')'
FROM pg_type t JOIN user_namespaces n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
GROUP BY n.nspname, t.typname
UNION ALL
SELECT 'table ' || n.nspname || '.' || c.relname || CASE WHEN c.relrowsecurity THEN ' rls' ELSE '' END
    || COALESCE(' comment=' || quote_literal(obj_description(c.oid, 'pg_class')), '')
FROM pg_class c JOIN user_namespaces n ON n.oid = c.relnamespace WHERE c.relkind = 'r'
UNION ALL
SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
    || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
    || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
    || CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END
    || CASE a.attgenerated WHEN 's' THEN ' generated' ELSE '' END
    || COALESCE(' comment=' || quote_literal(col_description(c.oid, a.attnum)), '')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN user_namespaces n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || n.nspname || '.' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN user_namespaces n ON n.oid = c.relnamespace
UNION ALL
SELECT 'index ' || n.nspname || '.' || ic.relname || ' ' || pg_get_indexdef(i.indexrelid)
    || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN user_namespaces n ON n.oid = ic.relnamespace
UNION ALL
SELECT 'sequence ' || schemaname || '.' || sequencename || ' ' || data_type || ' start ' || start_value || ' min ' || min_value
    || ' max ' || max_value || ' increment ' || increment_by || ' cache ' || cache_size || CASE WHEN cycle THEN ' cycle' ELSE '' END
FROM pg_sequences WHERE schemaname IN (SELECT nspname FROM user_namespaces)
UNION ALL
SELECT 'policy ' || schemaname || '.' || tablename || '.' || policyname || ' ' || permissive || ' ' || cmd
    || ' to ' || array_to_string(roles, ',') || COALESCE(' using ' || qual, '') || COALESCE(' check ' || with_check, '')
FROM pg_policies
UNION ALL
SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
FROM pg_proc p JOIN user_namespaces n ON n.oid = p.pronamespace
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'trigger ' || c.relname || '.' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN user_namespaces n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal
"#;

/// The schema of the connected database, one sorted line per object.
pub async fn snapshot(conn: &mut PgConnection) -> Vec<String> {
    let rows = sqlx::query(QUERY).fetch_all(conn).await.unwrap_or_else(|e| panic!("catalog query failed: {e}"));
    // `now()` and `CURRENT_TIMESTAMP` are one default that the server spells
    // as written; schemaforge treats them as equal, and so does this picture.
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| {
            r.get::<String, _>(0)
                .replace(" default now()", " default CURRENT_TIMESTAMP")
                .replace(" default transaction_timestamp()", " default CURRENT_TIMESTAMP")
        })
        .collect();
    lines.sort();
    lines
}

/// Lines only in `a` and only in `b`, for a readable assertion message.
pub fn difference(a: &[String], b: &[String]) -> String {
    let only_a: Vec<&String> = a.iter().filter(|l| !b.contains(l)).collect();
    let only_b: Vec<&String> = b.iter().filter(|l| !a.contains(l)).collect();
    let mut out = String::new();
    for line in only_a {
        out.push_str(&format!("- {line}\n"));
    }
    for line in only_b {
        out.push_str(&format!("+ {line}\n"));
    }
    out
}
