//! One pass from text to `Definition` for a definition whose shape is sound.
//!
//! Most definitions are well formed, and reading them into a JSON value, then
//! checking that value against the JSON Schema, then deserializing it was
//! most of a large definition's validation and memory. `read` goes straight
//! from the text to the typed definition and accepts exactly what the strict
//! JSON reader and the shape check together accept; anything else returns
//! `None`, and the caller takes the full path, which explains the problem.
//!
//! serde alone is more lenient than the shape check in three ways, each closed here:
//! - a struct also reads from an array of its fields in order: `ObjectsOnly`
//!   reads structs from objects only;
//! - an enum also reads from a one-key object (`{"text": null}`): the format's
//!   enums are all plain strings, and `ObjectsOnly` reads them from strings only;
//! - a map keeps the last of two equal keys: the two maps in the format
//!   (`renamedValues` and a literal default) refuse a repeated key
//!   (`json::unique_keys`, `json::StrictValue`); structs already refuse
//!   a repeated field.
//!
//! The untagged enums of `document` are read by the JSON type of their value
//! (`ByJsonType`), never by trying variants one after another.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess, Visitor};

use crate::document::Definition;

/// The typed definition of `text`, or `None` when the text is not a
/// definition sound in shape (too large, malformed, or not of the format).
pub(crate) fn read(text: &str) -> Option<Definition> {
    if text.len() > crate::json::MAX_DEFINITION_BYTES {
        return None;
    }
    let mut json = serde_json::Deserializer::from_str(text);
    let definition = <Definition as serde::Deserialize>::deserialize(ObjectsOnly(&mut json)).ok()?;
    json.end().ok()?;
    Some(definition)
}

/// An untagged enum of the format, read by the JSON type of its value:
/// what a string, an array or an object becomes (each `None` when that
/// type is not one of the enum's).
pub(crate) trait ByJsonType: Sized {
    const EXPECTING: &'static str;

    fn from_str<E: de::Error>(_: &str) -> Option<Result<Self, E>> {
        None
    }
    fn from_seq<'de, A: SeqAccess<'de>>(_: A) -> Option<Result<Self, A::Error>> {
        None
    }
    fn from_map<'de, A: MapAccess<'de>>(_: A) -> Option<Result<Self, A::Error>> {
        None
    }
}

/// `Deserialize::deserialize` for a `ByJsonType` enum.
pub(crate) fn deserialize_by_json_type<'de, D: Deserializer<'de>, T: ByJsonType>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_any(ByJsonTypeVisitor(PhantomData))
}

struct ByJsonTypeVisitor<T>(PhantomData<T>);

impl<'de, T: ByJsonType> Visitor<'de> for ByJsonTypeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        T::from_str(v).unwrap_or_else(|| Err(E::invalid_type(de::Unexpected::Str(v), &self)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq).unwrap_or_else(|| Err(de::Error::invalid_type(de::Unexpected::Seq, &self)))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map).unwrap_or_else(|| Err(de::Error::invalid_type(de::Unexpected::Map, &self)))
    }
}

/// A deserializer that reads structs from JSON objects only and enums from
/// strings only, at every depth (see the module's docs).
struct ObjectsOnly<D>(D);

/// Wraps what `ObjectsOnly` hands on (visitors, seeds, accesses), so every
/// value read below keeps going through `ObjectsOnly`.
struct Wrap<T>(T);

macro_rules! forward_deserialize {
    ($($method:ident),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(Wrap(visitor))
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectsOnly<D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Wrap(visitor))
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, Wrap(visitor))
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Wrap(visitor))
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(self, name: &'static str, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, Wrap(visitor))
    }
    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(Wrap(visitor))
    }
    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(UnitVariantFromString(visitor))
    }
    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// Reads an enum of unit variants from a JSON string, and from nothing else.
struct UnitVariantFromString<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for UnitVariantFromString<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.0.visit_enum(v.into_deserializer())
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.0.$method(v)
        })*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }
    forward_visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(ObjectsOnly(deserializer))
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(ObjectsOnly(deserializer))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Wrap(seq))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(Wrap(map))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(Wrap(data))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Wrap<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(ObjectsOnly(deserializer))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Wrap(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Wrap(seed))
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Wrap(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Wrap<A> {
    type Error = A::Error;
    type Variant = Wrap<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Wrap<A::Variant>), A::Error> {
        self.0.variant_seed(Wrap(seed)).map(|(value, variant)| (value, Wrap(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Wrap(seed))
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap(visitor))
    }
    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Wrap(visitor))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// Whether the layered path finds the text sound in shape, and the
    /// definition it then deserializes.
    fn layered(text: &str) -> Option<Definition> {
        let value = crate::json::parse_strict(text).ok()?;
        if !crate::shape::check(crate::json_schema(), &value).is_empty() {
            return None;
        }
        Some(<Definition as serde::Deserialize>::deserialize(&value).expect("the shape check accepts only what deserializes"))
    }

    #[track_caller]
    fn agree(text: &str) {
        assert_eq!(read(text), layered(text), "the readers disagree on\n{text}");
    }

    /// Every JSON pointer in `value`, the root included.
    fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    pointers(child, format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")), out);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    pointers(child, format!("{at}/{index}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }

    /// The ways a value can be of the wrong shape, each tried at every node
    /// of real definitions: both readers must accept or refuse each alike.
    fn replacements(node: &Value) -> Vec<Value> {
        let mut out = vec![
            Value::Null,
            json!(1.5),
            json!(-1),
            json!(4_294_967_296_u64),
            json!(9_223_372_036_854_775_808_u64),
            json!("x"),
            json!(true),
            json!([]),
            json!({}),
            json!(["x"]),
            json!({"x": null}),
        ];
        match node {
            // A struct written as the array of its fields (serde would read it).
            Value::Object(map) => {
                out.push(Value::Array(map.values().cloned().collect()));
                let mut extra = map.clone();
                extra.insert("unknownField".into(), json!(1));
                out.push(Value::Object(extra));
            }
            // A plain-string enum written as a one-key object (serde would read it).
            Value::String(s) => {
                out.push(json!({ s.clone(): null }));
                out.push(json!([s]));
                out.push(json!({"sql": s}));
            }
            Value::Array(items) => out.push(items.first().cloned().unwrap_or(Value::Null)),
            _ => {}
        }
        out
    }

    fn mutate_everywhere(text: &str) -> usize {
        let original: Value = serde_json::from_str(text).unwrap();
        let mut all = Vec::new();
        pointers(&original, String::new(), &mut all);
        let mut tried = 0;
        for pointer in &all {
            let node = original.pointer(pointer).unwrap().clone();
            for replacement in replacements(&node) {
                let mut mutated = original.clone();
                *mutated.pointer_mut(pointer).unwrap() = replacement;
                agree(&serde_json::to_string(&mutated).unwrap());
                tried += 1;
            }
            // A repeated key: written into the text, as no JSON value can hold one.
            if let Value::Object(map) = &node
                && let Some((key, value)) = map.iter().next()
            {
                let mut mutated = original.clone();
                *mutated.pointer_mut(pointer).unwrap() = json!("\u{1}repeated\u{1}");
                let entry = format!("{}: {}", serde_json::to_string(key).unwrap(), serde_json::to_string(value).unwrap());
                let object = serde_json::to_string(&node).unwrap();
                let repeated = format!("{{{entry},{}", &object[1..]);
                let text = serde_json::to_string(&mutated).unwrap().replace("\"\\u0001repeated\\u0001\"", &repeated);
                agree(&text);
                tried += 1;
            }
        }
        tried
    }

    #[test]
    fn agrees_with_the_layered_path_on_every_misshapen_value() {
        // Every fixture, as is, is compared in `tests/large.rs`.
        let mut tried = 0;
        for text in [
            include_str!("../../../fixtures/features/naming-edge-cases.json"),
            include_str!("../../../fixtures/examples/saas-platform.json"),
        ] {
            tried += mutate_everywhere(text);
        }
        assert!(tried > 1_000, "{tried}");
    }

    #[test]
    fn refuses_what_serde_alone_would_read() {
        let column = |extra: &str| format!(r#"{{"tables": [{{"name": "t", "columns": [{{"name": "a", "type": "text"{extra}}}]}}]}}"#);
        assert!(read(&column("")).is_some());
        // A struct from an array of its fields.
        assert!(read(&column(r#", "references": ["u", null, "id"]"#)).is_none());
        // A unit enum from a one-key object.
        assert!(read(r#"{"tables": [{"name": "t", "columns": [{"name": "a", "type": {"text": null}}]}]}"#).is_none());
        // A repeated key in each of the two maps, and in a struct.
        assert!(read(&column(r#", "default": {"a": 1, "a": 2}"#)).is_none());
        assert!(read(r#"{"enums": [{"name": "e", "values": ["a"], "renamedValues": {"a": "b", "a": "c"}}], "tables": []}"#).is_none());
        assert!(read(&column(r#", "notNull": true, "notNull": false"#)).is_none());
        // Trailing text, and the size limit.
        assert!(read(&format!("{} x", column(""))).is_none());
        let huge = format!(r#"{{"tables": [], "$schema": "{}"}}"#, "a".repeat(crate::json::MAX_DEFINITION_BYTES));
        assert!(read(&huge).is_none());
    }
}
