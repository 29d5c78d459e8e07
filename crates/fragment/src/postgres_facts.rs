//! What a PostgreSQL expression refers to, read off its parse tree in one walk.
//!
//! pg_query's tree types only offer `serde::Serialize` as a generic way to
//! visit every node, so the walk is a serializer that writes nothing: it
//! notes column references and subqueries as it passes them. Building a
//! `serde_json::Value` of the tree first (the earlier way) cost more than
//! parsing the expression did.

use std::fmt;

use serde::Serialize;
use serde::ser;

use crate::ExpressionFacts;

/// The facts of `expression` (the target of `SELECT <expression>`).
pub(crate) fn facts_of(expression: &pg_query::protobuf::Node) -> ExpressionFacts {
    let mut walker = Walker::default();
    if expression.serialize(&mut walker).is_err() {
        return ExpressionFacts::default();
    }
    // Column references are listed last to first, the order diagnostics
    // have always named them in.
    walker.column_references.reverse();
    ExpressionFacts {
        column_references: walker.column_references,
        subquery: walker.subquery,
        collates: matches!(expression.node, Some(pg_query::NodeEnum::CollateClause(_))),
    }
}

#[derive(Default)]
struct Walker {
    column_references: Vec<Vec<String>>,
    subquery: bool,
}

/// A column reference's dotted parts: each `String` node's text, `*` for anything else.
fn column_reference_parts<T: Serialize + ?Sized>(column: &T) -> Vec<String> {
    let Ok(tree) = serde_json::to_value(column) else { return Vec::new() };
    let fields = tree.get("fields").and_then(serde_json::Value::as_array);
    fields
        .map(|fields| {
            fields.iter().map(|f| f.pointer("/node/String/sval").and_then(serde_json::Value::as_str).unwrap_or("*").to_string()).collect()
        })
        .unwrap_or_default()
}

#[derive(Debug)]
struct WalkError(String);

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WalkError {}

impl ser::Error for WalkError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        WalkError(message.to_string())
    }
}

/// Scalars carry no facts: every one of them is passed over.
macro_rules! pass_over {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, _: $ty) -> Result<(), WalkError> { Ok(()) })*
    };
}

impl ser::Serializer for &mut Walker {
    type Ok = ();
    type Error = WalkError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    pass_over!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_none(self) -> Result<(), WalkError> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), WalkError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), WalkError> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), WalkError> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), WalkError> {
        value.serialize(self)
    }
    /// Every node of the tree is a variant of `NodeEnum`, named after its type.
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        match variant {
            "ColumnRef" => self.column_references.push(column_reference_parts(value)),
            "SubLink" => self.subquery = true,
            _ => {}
        }
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, WalkError> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, WalkError> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }
}

/// The parts of a sequence, tuple or struct are walked alike, whatever their kind.
macro_rules! walk_parts {
    ($($kind:ident :: $method:ident ($($name:ty)?)),* $(,)?) => {
        $(impl ser::$kind for &mut Walker {
            type Ok = ();
            type Error = WalkError;
            fn $method<T: Serialize + ?Sized>(&mut self, $(_: $name,)? value: &T) -> Result<(), WalkError> {
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<(), WalkError> {
                Ok(())
            }
        })*
    };
}

walk_parts!(
    SerializeSeq::serialize_element(),
    SerializeTuple::serialize_element(),
    SerializeTupleStruct::serialize_field(),
    SerializeTupleVariant::serialize_field(),
    SerializeStruct::serialize_field(&'static str),
    SerializeStructVariant::serialize_field(&'static str),
);

impl ser::SerializeMap for &mut Walker {
    type Ok = ();
    type Error = WalkError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), WalkError> {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), WalkError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The earlier walk, over a `serde_json::Value` of the whole tree: the
    /// reference the one-pass walk must agree with, order included.
    fn facts_through_json(expression: &pg_query::protobuf::Node) -> ExpressionFacts {
        let mut facts = ExpressionFacts::default();
        let tree = serde_json::to_value(expression).unwrap();
        facts.collates = tree.pointer("/node/CollateClause").is_some();
        let mut stack = vec![&tree];
        while let Some(value) = stack.pop() {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::Object(column)) = map.get("ColumnRef") {
                        let fields = column.get("fields").and_then(serde_json::Value::as_array).unwrap();
                        facts.column_references.push(
                            fields
                                .iter()
                                .map(|f| f.pointer("/node/String/sval").and_then(serde_json::Value::as_str).unwrap_or("*").to_string())
                                .collect(),
                        );
                    }
                    facts.subquery |= map.contains_key("SubLink");
                    stack.extend(map.values());
                }
                serde_json::Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        facts
    }

    fn target(sql: &str) -> pg_query::protobuf::Node {
        let parsed = pg_query::parse(&format!("SELECT {sql}"), 0).unwrap().protobuf;
        let statement = parsed.stmts[0].stmt.as_ref().unwrap().node.as_ref().unwrap();
        let pg_query::NodeEnum::SelectStmt(select) = statement else { panic!("not a SELECT: {sql}") };
        let Some(pg_query::NodeEnum::ResTarget(target)) = select.target_list[0].node.as_ref() else { panic!("no target: {sql}") };
        (**target.val.as_ref().unwrap()).clone()
    }

    #[test]
    fn agrees_with_the_walk_over_json_in_content_and_order() {
        let expressions = [
            "a",
            "t.b",
            "s.t.c",
            "t.*",
            "coalesce(a, t.b) > CASE WHEN \"C\" THEN 1 WHEN d THEN e ELSE f END",
            "price >= 0 AND price < max_price OR (discount IS NULL AND x IN (y, z, 3))",
            "EXISTS (SELECT 1 FROM other o WHERE o.id = owner_id) AND a",
            "a = ANY (SELECT b FROM c) OR lower(name) LIKE 'x%'",
            "'x' COLLATE \"C\"",
            "lower('x' COLLATE \"C\")",
            "(a + b) * (c - d) / nullif(e, 0)",
            "jsonb_path_exists(doc, '$.a ? (@ > 1)') AND doc->>'k' = other",
            "ARRAY[a, b, c] @> ARRAY[d]",
            "row(a, b) = row(c, d)",
            "now()",
            "gen_random_uuid()",
            "42",
            "auth.uid() = user_id",
            "CAST(a AS text) || b::text",
        ];
        for sql in expressions {
            let node = target(sql);
            assert_eq!(facts_of(&node), facts_through_json(&node), "{sql}");
        }
    }
}
