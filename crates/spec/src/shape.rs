//! Checks a JSON value against the format's JSON Schema and reports every
//! mismatch as a diagnostic.
//!
//! The schema is generated from the `document` types, so the structure the
//! validator enforces, the structure serde deserialises and the schema editors
//! see are the same by construction. This interpreter covers the subset of JSON
//! Schema that schemars emits for those types (`$ref`, `anyOf`/`oneOf`, `type`,
//! `enum`/`const`, `properties`/`required`/`additionalProperties`, `items`,
//! integer formats); an unknown keyword is a bug caught by the tests.

use serde_json::{Map, Value};

use crate::diagnostic::{Code, Diagnostic, Pointer, describe_value};
use crate::suggest;

pub(crate) fn check(schema: &Value, instance: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let validator = Validator { root: schema };
    validator.validate(schema, instance, &Pointer::root(), None, &mut out);
    out
}

struct Validator<'a> {
    root: &'a Value,
}

/// The keywords `validate` reads from one schema object, found in one pass
/// over its few entries: looking each up by name would hash it (serde_json's
/// maps are `IndexMap`s) six times for every value of the definition.
#[derive(Default)]
struct Keywords<'a> {
    reference: Option<&'a Value>,
    any_of: Option<&'a Value>,
    one_of: Option<&'a Value>,
    types: Option<&'a Value>,
    allowed: Option<&'a Value>,
    constant: Option<&'a Value>,
    items: Option<&'a Value>,
}

impl<'a> Keywords<'a> {
    fn of(schema: &'a Map<String, Value>) -> Self {
        let mut keywords = Keywords::default();
        for (key, value) in schema {
            let slot = match key.as_str() {
                "$ref" => &mut keywords.reference,
                "anyOf" => &mut keywords.any_of,
                "oneOf" => &mut keywords.one_of,
                "type" => &mut keywords.types,
                "enum" => &mut keywords.allowed,
                "const" => &mut keywords.constant,
                "items" => &mut keywords.items,
                _ => continue,
            };
            *slot = Some(value);
        }
        keywords
    }
}

impl<'a> Validator<'a> {
    fn resolve(&self, reference: &'a str) -> Option<(&'a Value, &'a str)> {
        let name = reference.strip_prefix("#/$defs/")?;
        self.root.get("$defs")?.get(name).map(|schema| (schema, name))
    }

    /// `definition` is the `$defs` name of the schema being applied, if any:
    /// it selects a precise code (`unknown-type` for a bad `TypeName`).
    fn validate(&self, schema: &'a Value, instance: &Value, path: &Pointer, definition: Option<&'a str>, out: &mut Vec<Diagnostic>) {
        let Some(schema) = schema.as_object() else {
            // `true` accepts anything; `false` nothing (schemars never emits it).
            return;
        };
        let keywords = Keywords::of(schema);
        if let Some(Value::String(reference)) = keywords.reference {
            if let Some((target, name)) = self.resolve(reference) {
                self.validate(target, instance, path, Some(name), out);
            }
            return;
        }
        if let Some(Value::Array(branches)) = keywords.any_of.or(keywords.one_of) {
            self.validate_union(branches, instance, path, definition, out);
            return;
        }
        if let Some(expected) = keywords.types
            && !type_matches(expected, instance)
        {
            if instance.is_null() {
                // A null in a required, non-nullable slot reads best as "missing".
                out.push(Diagnostic::new(path, Code::WrongType, format!("expected {}, found null", describe_types(expected))));
            } else {
                out.push(Diagnostic::new(
                    path,
                    Code::WrongType,
                    format!("expected {}, found {}", describe_types(expected), describe_value(instance)),
                ));
            }
            return;
        }
        if let Some(Value::Array(allowed)) = keywords.allowed
            && !allowed.contains(instance)
        {
            out.push(invalid_value(path, instance, allowed.iter(), definition));
            return;
        }
        if let Some(constant) = keywords.constant
            && constant != instance
        {
            out.push(invalid_value(path, instance, std::iter::once(constant), definition));
            return;
        }
        if let Some(number) = instance.as_number() {
            self.check_number(schema, number, path, out);
        }
        match instance {
            Value::Object(object) => self.validate_object(schema, object, path, out),
            Value::Array(items) => {
                if let Some(item_schema) = keywords.items {
                    for (index, item) in items.iter().enumerate() {
                        self.validate(item_schema, item, &path.index(index), None, out);
                    }
                }
            }
            _ => {}
        }
    }

    fn validate_union(
        &self,
        branches: &'a [Value],
        instance: &Value,
        path: &Pointer,
        definition: Option<&'a str>,
        out: &mut Vec<Diagnostic>,
    ) {
        let mut candidates: Vec<(&'a Value, Vec<Diagnostic>)> = Vec::new();
        for branch in branches {
            let mut errors = Vec::new();
            self.validate(branch, instance, path, definition, &mut errors);
            if errors.is_empty() {
                return;
            }
            candidates.push((branch, errors));
        }
        // Report against the branch the value was evidently meant for: the one
        // whose JSON type matches. If none does, say which types would do.
        let matching: Vec<_> = candidates.iter().filter(|(branch, _)| self.branch_accepts_type(branch, instance)).collect();
        if let Some((_, errors)) = matching.iter().min_by_key(|(_, errors)| errors.len()) {
            out.extend(errors.iter().cloned());
            return;
        }
        let constants: Vec<&Value> = branches.iter().filter_map(|b| self.constant_values(b)).flatten().collect();
        if !constants.is_empty() && constants.len() == branches.len() {
            out.push(invalid_value(path, instance, constants.into_iter(), definition));
            return;
        }
        let mut types: Vec<String> = Vec::new();
        for branch in branches {
            for t in self.branch_types(branch) {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
        }
        let expected = match types.as_slice() {
            [] => "a different value".to_string(),
            [one] => article(one),
            many => format!(
                "{} or {}",
                many[..many.len() - 1].iter().map(|t| article(t)).collect::<Vec<_>>().join(", "),
                article(&many[many.len() - 1])
            ),
        };
        out.push(Diagnostic::new(path, Code::WrongType, format!("expected {expected}, found {}", describe_value(instance))));
    }

    fn constant_values(&self, branch: &'a Value) -> Option<Vec<&'a Value>> {
        let branch = self.deref(branch);
        if let Some(c) = branch.get("const") {
            return Some(vec![c]);
        }
        branch.get("enum").and_then(Value::as_array).map(|values| values.iter().collect())
    }

    fn deref(&self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str).and_then(|r| self.resolve(r)) {
            Some((target, _)) => target,
            None => schema,
        }
    }

    fn branch_types(&self, branch: &'a Value) -> Vec<String> {
        let branch = self.deref(branch);
        if let Some(Value::Array(nested)) = branch.get("anyOf").or_else(|| branch.get("oneOf")) {
            return nested.iter().flat_map(|b| self.branch_types(b)).collect();
        }
        match branch.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(String::from).collect(),
            _ if branch.get("const").is_some() || branch.get("enum").is_some() => vec!["string".into()],
            _ => vec![],
        }
    }

    fn branch_accepts_type(&self, branch: &'a Value, instance: &Value) -> bool {
        let actual = json_type(instance);
        self.branch_types(branch).iter().any(|t| t == actual || (t == "number" && actual == "integer"))
    }

    fn check_number(&self, schema: &Map<String, Value>, number: &serde_json::Number, path: &Pointer, out: &mut Vec<Diagnostic>) {
        let range: Option<(i128, i128)> = match schema.get("format").and_then(Value::as_str) {
            Some("uint8") => Some((0, u8::MAX as i128)),
            Some("uint16") => Some((0, u16::MAX as i128)),
            Some("uint32") => Some((0, u32::MAX as i128)),
            Some("uint64" | "uint") => Some((0, u64::MAX as i128)),
            Some("int32") => Some((i32::MIN as i128, i32::MAX as i128)),
            Some("int64" | "int") => Some((i64::MIN as i128, i64::MAX as i128)),
            _ => None,
        };
        let Some((low, high)) = range else { return };
        let value = number.as_i64().map(i128::from).or_else(|| number.as_u64().map(i128::from));
        match value {
            Some(v) if v < low || v > high => out.push(Diagnostic::new(
                path,
                Code::OutOfRange,
                format!("{v} is out of range: expected a whole number from {low} to {high}"),
            )),
            Some(_) => {}
            None => out.push(Diagnostic::new(path, Code::WrongType, format!("expected a whole number, found {number}"))),
        }
    }

    fn validate_object(&self, schema: &'a Map<String, Value>, object: &Map<String, Value>, path: &Pointer, out: &mut Vec<Diagnostic>) {
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(required)) = schema.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !object.contains_key(name) {
                    out.push(Diagnostic::new(path, Code::MissingField, format!("missing required field `{name}`")));
                }
            }
        }
        for (key, value) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(property_schema) => self.validate(property_schema, value, &path.key(key), None, out),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    let known = properties.map(|p| p.keys().map(String::as_str).collect::<Vec<_>>()).unwrap_or_default();
                    let (code, message) = if key == "collections" && path.as_str().is_empty() {
                        (Code::NotSupported, "`collections` are not supported by this version yet".to_string())
                    } else {
                        (Code::UnknownField, format!("unknown field `{key}`"))
                    };
                    let hint = suggest::field_alias_hint(key)
                        .map(String::from)
                        .or_else(|| suggest::did_you_mean(key, known.iter().copied()))
                        .or_else(|| (!known.is_empty()).then(|| format!("known fields: {}", known.join(", "))));
                    out.push(Diagnostic::new(path.key(key), code, message).with_hint_opt(hint));
                }
                None => {
                    // A map (`{"type": "object", "additionalProperties": {…}}`): every value has that shape.
                    if let Some(extra @ Value::Object(_)) = schema.get("additionalProperties") {
                        self.validate(extra, value, &path.key(key), None, out);
                    }
                }
            }
        }
    }
}

fn invalid_value<'v>(path: &Pointer, instance: &Value, allowed: impl Iterator<Item = &'v Value>, definition: Option<&str>) -> Diagnostic {
    let allowed: Vec<&str> = allowed.filter_map(Value::as_str).collect();
    let shown = instance.as_str().map(|s| format!("`{s}`")).unwrap_or_else(|| describe_value(instance));
    let (code, message) = match definition {
        Some("TypeName") => (Code::UnknownType, format!("unknown column type {shown}")),
        _ => (Code::InvalidValue, format!("{shown} is not one of the allowed values")),
    };
    let hint = instance
        .as_str()
        .and_then(|s| {
            let alias = (definition == Some("TypeName")).then(|| suggest::type_alias_hint(s)).flatten().map(String::from);
            alias.or_else(|| suggest::did_you_mean(s, allowed.iter().copied()))
        })
        .unwrap_or_else(|| format!("expected one of: {}", allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")));
    Diagnostic::new(path, code, message).with_hint(hint)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(expected: &Value, instance: &Value) -> bool {
    let actual = json_type(instance);
    let one = |t: &str| t == actual || (t == "number" && actual == "integer");
    match expected {
        Value::String(t) => one(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(one),
        _ => true,
    }
}

fn describe_types(expected: &Value) -> String {
    let names: Vec<String> = match expected {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").map(String::from).collect(),
        _ => vec![],
    };
    names.iter().map(|n| article(n)).collect::<Vec<_>>().join(" or ")
}

fn article(type_name: &str) -> String {
    match type_name {
        "integer" => "a whole number".into(),
        "array" => "an array".into(),
        "object" => "an object".into(),
        "null" => "null".into(),
        "boolean" => "true or false".into(),
        other => format!("a {other}"),
    }
}
