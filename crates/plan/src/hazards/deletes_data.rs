//! `deletes-data`: dropping a table or column, an extension, or converting a
//! column to a type that keeps less. Conversions that would cut a value
//! (`varchar(20)` → `varchar(10)`) fail instead (`may-fail-on-existing-data`);
//! the ones here succeed and quietly round, approximate or drop parts.

use schemaforge_diff::{ColumnChange, Step};
use schemaforge_model::ScalarType;

use super::Context;
use crate::{Finding, Hazard};

pub(super) fn check(context: &Context<'_>, step: &Step) -> Option<Finding> {
    let message = match step {
        Step::DropTable { table } => format!("drops table {table} and every row in it"),
        Step::DropColumn { table, column } if !context.rebuilt(table, column) => format!("deletes every value of column {table}.{column}"),
        Step::DropExtension { name } => format!("drops extension {name} and everything it provides, with any data stored in its types"),
        // SQLite keeps any value in any declared type: a type change converts nothing.
        Step::AlterColumn { table, column, change: ColumnChange::SetType }
            if context.existing(table) && context.dialect() == schemaforge_model::Dialect::Postgresql =>
        {
            let (old, new) = context.column_pair(table, column)?;
            let (verb, tail) = lossy_conversion(&old.ty.scalar, &new.ty.scalar)?;
            format!("{verb} every value of {table}.{column}{tail}")
        }
        _ => return None,
    };
    Some(Finding::new(Hazard::DeletesData, message))
}

/// What a successful conversion from `old` to `new` loses, as the words
/// around "every value of t.c" ("rounds", " to 2 decimal places"), or `None`
/// when it keeps values.
pub(super) fn lossy_conversion(old: &ScalarType, new: &ScalarType) -> Option<(&'static str, String)> {
    // Decimal places a type keeps; unconstrained `numeric` keeps them all.
    let scale = |s: &ScalarType| match s {
        ScalarType::Numeric { precision: None, scale: None } => Some(u32::MAX),
        ScalarType::Numeric { scale, .. } => Some(scale.unwrap_or(0)),
        _ => None,
    };
    let fraction = |s: &ScalarType| match s {
        ScalarType::Timestamp { precision, .. } | ScalarType::Time { precision, .. } => Some(precision.unwrap_or(6)),
        _ => None,
    };
    let fractional = matches!(old, ScalarType::Real | ScalarType::DoublePrecision) || scale(old).is_some_and(|s| s > 0);
    let integral = matches!(
        new,
        ScalarType::SmallInt
            | ScalarType::Integer
            | ScalarType::BigInt
            | ScalarType::SmallSerial
            | ScalarType::Serial
            | ScalarType::BigSerial
    );
    let lost = match (old, new) {
        _ if fractional && integral => ("rounds", " to a whole number".to_string()),
        (ScalarType::DoublePrecision, ScalarType::Real) => ("keeps about 6 significant digits of", String::new()),
        (ScalarType::Numeric { .. }, ScalarType::Real | ScalarType::DoublePrecision) => {
            ("approximates", " as a floating-point number".to_string())
        }
        (ScalarType::Timestamp { .. }, ScalarType::Date) => ("drops the time of day from", String::new()),
        (ScalarType::Timestamp { .. }, ScalarType::Time { .. }) => ("drops the date from", String::new()),
        // `char(n)` pads with spaces and ignores them: 'a ' and 'a' become one value.
        (ScalarType::Text | ScalarType::Varchar { .. }, ScalarType::Char { .. }) => ("drops trailing spaces from", String::new()),
        _ => match (scale(old), scale(new), fraction(old), fraction(new)) {
            (Some(a), Some(b), _, _) if b < a => ("rounds", format!(" to {b} decimal places")),
            (_, _, Some(a), Some(b)) if b < a => ("rounds", format!(" to {b} fractional-second digits")),
            _ => return None,
        },
    };
    Some(lost)
}

#[cfg(test)]
mod tests {
    use super::lossy_conversion;
    use schemaforge_model::ScalarType::{self, *};

    fn numeric(precision: Option<u32>, scale: Option<u32>) -> ScalarType {
        Numeric { precision, scale }
    }

    fn timestamp(precision: Option<u32>) -> ScalarType {
        Timestamp { precision, with_time_zone: false }
    }

    #[test]
    fn conversions_that_quietly_lose_data_are_named() {
        let lossy = |old: ScalarType, new: ScalarType| lossy_conversion(&old, &new).map(|(verb, tail)| format!("{verb}{tail}"));
        assert_eq!(lossy(numeric(Some(10), Some(4)), numeric(Some(10), Some(2))).as_deref(), Some("rounds to 2 decimal places"));
        assert_eq!(lossy(numeric(None, None), numeric(Some(10), Some(2))).as_deref(), Some("rounds to 2 decimal places"));
        assert_eq!(lossy(numeric(Some(10), Some(2)), Integer).as_deref(), Some("rounds to a whole number"));
        assert_eq!(lossy(DoublePrecision, BigInt).as_deref(), Some("rounds to a whole number"));
        assert_eq!(lossy(DoublePrecision, Real).as_deref(), Some("keeps about 6 significant digits of"));
        assert_eq!(lossy(numeric(None, None), DoublePrecision).as_deref(), Some("approximates as a floating-point number"));
        assert_eq!(lossy(timestamp(None), Date).as_deref(), Some("drops the time of day from"));
        assert_eq!(lossy(timestamp(Some(6)), timestamp(Some(3))).as_deref(), Some("rounds to 3 fractional-second digits"));
        assert_eq!(lossy(Varchar { length: Some(10) }, Char { length: Some(10) }).as_deref(), Some("drops trailing spaces from"));
        assert_eq!(lossy(Text, Char { length: Some(3) }).as_deref(), Some("drops trailing spaces from"));
        // Conversions that keep every value, or fail rather than cut one.
        assert_eq!(lossy(numeric(Some(10), Some(2)), numeric(Some(12), Some(2))), None);
        assert_eq!(lossy(numeric(Some(10), None), Integer), None);
        assert_eq!(lossy(Integer, BigInt), None);
        assert_eq!(lossy(Real, DoublePrecision), None);
        assert_eq!(lossy(Text, Varchar { length: Some(3) }), None);
        assert_eq!(lossy(Date, timestamp(None)), None);
        assert_eq!(lossy(Char { length: Some(3) }, Char { length: Some(5) }), None);
        assert_eq!(lossy(Char { length: Some(3) }, Text), None);
    }
}
