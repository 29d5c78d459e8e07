//! SQLite spelling of identifiers and types: the one place SQLite identifiers are quoted.

use schemaforge_model::sqlite::SqliteType;
use schemaforge_model::{Column, ColumnType};

pub use schemaforge_model::sqlite::{default_sql, quote_literal};

/// Quotes an identifier with backticks, as drizzle-kit's SQLite output does.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The declared type of a column; `None` for a type validation refuses on SQLite.
pub fn type_sql(ty: &ColumnType) -> Option<String> {
    SqliteType::of(ty).map(|t| t.to_string())
}

/// A column's declared type, for a column validation accepted.
pub(crate) fn column_type(column: &Column) -> Result<String, crate::RenderError> {
    type_sql(&column.ty)
        .ok_or_else(|| crate::RenderError::NotInDialect { what: format!("the type of column `{}`", column.name), dialect: "SQLite" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_embedded_backticks() {
        assert_eq!(quote_ident("a`b"), "`a``b`");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
