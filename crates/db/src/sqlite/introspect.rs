//! Reads a live SQLite database into the model: one query per kind of
//! object, joining SQLite's pragma table-valued functions over every table
//! at once (never one query per table), inside one read so the schema cannot
//! change between the queries.

use sqlx::SqliteConnection;

use super::catalog::{self, ColumnRow, ForeignKeyRow, IndexColumnRow, IndexRow, Introspected, ObjectRow, SchemaRows};

#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    #[error("reading the schema ({what}) failed: {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

fn query_error(what: &'static str) -> impl FnOnce(sqlx::Error) -> IntrospectError {
    move |source| IntrospectError::Query { what, source }
}

/// A savepoint, not `BEGIN`: it opens a read transaction when there is none
/// and nests inside one the caller holds (a migration's `BEGIN IMMEDIATE`).
const BEGIN_READ: &str = "SAVEPOINT schemaforge_introspect";
const END_READ: &str = "RELEASE schemaforge_introspect";

/// Reads the database `conn` is connected to (its `main` schema).
pub async fn introspect(conn: &mut SqliteConnection) -> Result<Introspected, IntrospectError> {
    sqlx::query(BEGIN_READ).execute(&mut *conn).await.map_err(query_error("a read transaction"))?;
    let read = read(conn).await;
    // Nothing was written: releasing ends the read whether it succeeded or not.
    let released = sqlx::query(END_READ).execute(&mut *conn).await;
    let rows = read?;
    released.map_err(query_error("a read transaction"))?;
    Ok(catalog::assemble(&rows))
}

async fn read(conn: &mut SqliteConnection) -> Result<SchemaRows, IntrospectError> {
    let mut rows = SchemaRows::default();
    type ObjectTuple = (String, String, String, Option<String>, Option<String>);
    let objects: Vec<ObjectTuple> = sqlx::query_as(
        "SELECT m.type, m.name, m.tbl_name, m.sql, l.type
         FROM sqlite_master m
         LEFT JOIN pragma_table_list l ON m.type = 'table' AND l.schema = 'main' AND l.name = m.name
         ORDER BY m.rowid",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("schema objects"))?;
    rows.objects =
        objects.into_iter().map(|(kind, name, table, sql, table_kind)| ObjectRow { kind, name, table, sql, table_kind }).collect();
    // The tables to read, as one JSON array parameter that `json_each` turns
    // back into rows (its `key` is the array position, so order is kept).
    let tables = serde_json::Value::from(catalog::tables_to_read(&rows.objects)).to_string();

    type ColumnTuple = (String, String, String, i64, Option<String>, i64, i64);
    let columns: Vec<ColumnTuple> = sqlx::query_as(
        "SELECT t.value, c.name, c.type, c.\"notnull\", c.dflt_value, c.pk, c.hidden
         FROM json_each(?1) t JOIN pragma_table_xinfo(t.value) c
         ORDER BY t.key, c.cid",
    )
    .bind(&tables)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("columns"))?;
    rows.columns = columns
        .into_iter()
        .map(|(table, name, declared_type, not_null, default, primary_key_position, hidden)| ColumnRow {
            table,
            name,
            declared_type,
            not_null: not_null != 0,
            default,
            primary_key_position,
            hidden,
        })
        .collect();

    // SQLite numbers a table's last declared foreign key 0: descending ids are declaration order.
    type ForeignKeyTuple = (String, i64, i64, String, String, Option<String>, String, String);
    let foreign_keys: Vec<ForeignKeyTuple> = sqlx::query_as(
        "SELECT t.value, f.id, f.seq, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete
         FROM json_each(?1) t JOIN pragma_foreign_key_list(t.value) f
         ORDER BY t.key, f.id DESC, f.seq",
    )
    .bind(&tables)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("foreign keys"))?;
    rows.foreign_keys = foreign_keys
        .into_iter()
        .map(|(table, id, seq, referenced_table, column, referenced_column, on_update, on_delete)| ForeignKeyRow {
            table,
            id,
            seq,
            referenced_table,
            column,
            referenced_column,
            on_update,
            on_delete,
        })
        .collect();

    // Likewise, the last created index is listed first.
    type IndexTuple = (String, String, i64, String, i64, Option<String>);
    let indexes: Vec<IndexTuple> = sqlx::query_as(
        "SELECT t.value, i.name, i.\"unique\", i.origin, i.partial, m.sql
         FROM json_each(?1) t JOIN pragma_index_list(t.value) i
         LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = i.name
         ORDER BY t.key, i.seq DESC",
    )
    .bind(&tables)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("indexes"))?;
    rows.indexes = indexes
        .into_iter()
        .map(|(table, name, unique, origin, partial, sql)| IndexRow {
            table,
            name,
            unique: unique != 0,
            origin,
            partial: partial != 0,
            sql,
        })
        .collect();

    let index_columns: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT i.name, x.name, x.\"desc\"
         FROM json_each(?1) t JOIN pragma_index_list(t.value) i JOIN pragma_index_xinfo(i.name) x
         WHERE x.key = 1
         ORDER BY t.key, i.seq DESC, x.seqno",
    )
    .bind(&tables)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("index columns"))?;
    rows.index_columns = index_columns
        .into_iter()
        .map(|(index, column, descending)| IndexColumnRow { index, column, descending: descending != 0 })
        .collect();
    Ok(rows)
}
