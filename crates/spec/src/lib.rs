//! The schemaforge definition format: reading, validating and lowering definitions.
//!
//! `parse_definition` is the one entry point: JSON text in, a `model::Schema`
//! out, or every problem found, each with a JSON pointer, a stable code, a
//! message and usually a hint. Reading happens in three layers, each reporting
//! all of its problems before the next runs:
//!
//! 1. `json`: strict JSON (size and depth limits, duplicate keys refused);
//! 2. `shape`: the value against the format's JSON Schema (unknown fields,
//!    wrong types, unknown type names), generated from `document`;
//! 3. `lower`: meaning (names resolve, defaults fit, SQL parses, keys hold).
//!
//! A definition text sound in shape skips the first two layers' intermediate
//! value: `typed` reads it straight into the typed definition, accepting
//! exactly what they accept, and anything else takes the layered path. For
//! a parsed value (the HTTP API's), the shape check and lowering run side by
//! side; lowering's result counts only when the shape is sound (see
//! `validate_value_for`).

pub mod diagnostic;
pub mod document;
pub mod emit;
pub mod json;
mod lower;
mod recover;
mod shape;
pub mod suggest;
mod typed;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use schemaforge_model::{Dialect, Schema};
use serde_json::Value;

pub use diagnostic::{Code, Diagnostic, Pointer, Position};
pub use document::Definition;

/// The JSON Schema of the definition format, generated from `document`.
pub fn json_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let generated = schemars::schema_for!(Definition).to_value();
        // Identification first, then the body, for people reading the file.
        let mut ordered = serde_json::Map::new();
        if let Value::Object(mut object) = generated {
            for key in ["$schema", "$id", "title", "description"] {
                if key == "$id" {
                    ordered.insert(key.into(), Value::String("https://schemaforge.dev/schema/definition-v1.json".into()));
                } else if let Some(value) = object.remove(key) {
                    ordered.insert(key.into(), value);
                }
            }
            ordered.extend(object);
        }
        Value::Object(ordered)
    })
}

/// Parses and validates a definition, returning the model or every diagnostic.
/// Diagnostics carry line/column positions in `text`. The dialect is the
/// definition's own `dialect`, PostgreSQL when it names none.
pub fn parse_definition(text: &str) -> Result<Schema, Vec<Diagnostic>> {
    parse_definition_for(text, None)
}

/// `parse_definition` for a target database: a definition that names no
/// dialect is lowered for `target`; one that names another is refused.
///
/// A definition sound in shape (most are) is read straight into the typed
/// definition (`typed`); the layered path runs only for one that is not,
/// to explain what is wrong with it.
pub fn parse_definition_for(text: &str, target: Option<Dialect>) -> Result<Schema, Vec<Diagnostic>> {
    if let Some(definition) = typed::read(text) {
        return lower::lower(&definition, &BTreeSet::new(), target).map_err(|diagnostics| with_positions(text, diagnostics));
    }
    let value = json::parse_strict(text).map_err(|d| vec![d])?;
    validate_value_for(&value, target).map_err(|diagnostics| with_positions(text, diagnostics))
}

/// `parse_definition_for` for several definitions at once, typically a
/// migrations folder's last definition and its next version: their SQL
/// fragments, most of which they share, are checked once for all of them,
/// and each is read and lowered on a thread of its own. The results are in
/// the order of `texts`, each exactly what `parse_definition_for` gives.
pub fn parse_definitions_for(texts: &[(&str, Option<Dialect>)]) -> Vec<Result<Schema, Vec<Diagnostic>>> {
    let read: Vec<Option<Definition>> = on_threads(texts, |&(text, _)| typed::read(text));
    let readable: Vec<(&Definition, Dialect)> = read
        .iter()
        .zip(texts)
        .filter_map(|(definition, &(_, target))| Some((definition.as_ref()?, lower::dialect_of(definition.as_ref()?, target))))
        .collect();
    let checked = lower::check_fragments_of(&readable);
    let work: Vec<(&str, Option<Dialect>, Option<&Definition>)> =
        texts.iter().zip(&read).map(|(&(text, target), definition)| (text, target, definition.as_ref())).collect();
    on_threads(&work, |&(text, target, definition)| match definition {
        Some(definition) => lower::lower_with(definition, &BTreeSet::new(), target, checked.clone())
            .map_err(|diagnostics| with_positions(text, diagnostics)),
        None => parse_definition_for(text, target),
    })
}

/// `items.iter().map(f)`, each item on a thread of its own but the first.
fn on_threads<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let Some((first, rest)) = items.split_first() else { return Vec::new() };
    std::thread::scope(|scope| {
        let others: Vec<_> = rest.iter().map(|item| scope.spawn(|| f(item))).collect();
        let mut out = vec![f(first)];
        for (handle, item) in others.into_iter().zip(rest) {
            // A panic there is a bug; doing the work here reports it as one.
            out.push(handle.join().unwrap_or_else(|_| f(item)));
        }
        out
    })
}

/// Below this many tables, checking the shape on a second thread costs more than it saves.
const TABLES_WORTH_A_THREAD: usize = 50;

/// Validates an already-parsed JSON value (as the HTTP API receives it).
pub fn validate_value(value: &Value) -> Result<Schema, Vec<Diagnostic>> {
    validate_value_for(value, None)
}

/// `validate_value` for a target database (see `parse_definition_for`).
///
/// Shape problems do not hide semantic ones: the value is repaired around its
/// shape problems (see `recover`) and lowered anyway, so one run reports both.
pub fn validate_value_for(value: &Value, target: Option<Dialect>) -> Result<Schema, Vec<Diagnostic>> {
    let lower = || deserialize(value).and_then(|definition| lower::lower(&definition, &BTreeSet::new(), target));
    let tables = value.get("tables").and_then(Value::as_array).map_or(0, Vec::len);
    let shape_problems = if tables < TABLES_WORTH_A_THREAD {
        shape::check(json_schema(), value)
    } else {
        // On a large definition the shape check and lowering run side by side
        // (both only read the value, and most definitions pass the first);
        // the lowering is thrown away when the shape check finds problems
        // (lowering accepts whatever deserializes, so running it early is safe).
        let (problems, lowered) = std::thread::scope(|scope| {
            let shape = scope.spawn(|| shape::check(json_schema(), value));
            let lowered = lower();
            (shape.join().unwrap_or_else(|_| shape::check(json_schema(), value)), lowered)
        });
        if problems.is_empty() {
            return lowered;
        }
        problems
    };
    if shape_problems.is_empty() {
        return lower();
    }
    let mut diagnostics = shape_problems;
    if let Some(repaired) = recover::repair(value, &diagnostics)
        && let Ok(definition) = deserialize(&repaired.value)
        && let Err(semantic) = lower::lower(&definition, &repaired.skipped, target)
    {
        diagnostics.extend(semantic);
    }
    Err(diagnostics)
}

/// SQL fragments checked by earlier validations (see `validate_value_known`).
#[derive(Debug, Clone, Default)]
pub struct Fragments(lower::CheckedFragments);

impl Fragments {
    /// Past this many, `validate_value_known` starts afresh rather than keep
    /// every fragment a long run of definitions ever held.
    const MAX: usize = 4096;
}

/// `validate_value_for`, with the fragments `known` from earlier validations
/// not checked again; gives back `known` with this definition's added. A
/// fragment's check depends on its dialect, slot and text alone, so the
/// answer is `validate_value_for`'s; a service validating a tenant's next
/// definition, which repeats nearly every default and check of the last,
/// saves running the server's grammar over them again.
pub fn validate_value_known(value: &Value, target: Option<Dialect>, known: Fragments) -> (Result<Schema, Vec<Diagnostic>>, Fragments) {
    let tables = value.get("tables").and_then(Value::as_array).map_or(0, Vec::len);
    // Large or misshapen definitions take the usual path (side by side, or
    // with error recovery); they are not what repeats.
    if tables >= TABLES_WORTH_A_THREAD || !shape::check(json_schema(), value).is_empty() {
        return (validate_value_for(value, target), known);
    }
    let definition = match deserialize(value) {
        Ok(definition) => definition,
        Err(diagnostics) => return (Err(diagnostics), known),
    };
    let start = if known.0.len() > Fragments::MAX { lower::CheckedFragments::new() } else { known.0 };
    let (result, checked) = lower::lower_keeping(&definition, &BTreeSet::new(), target, start);
    (result, Fragments(checked))
}

fn deserialize(value: &Value) -> Result<Definition, Vec<Diagnostic>> {
    // The shape check accepts exactly what serde accepts; this fallback keeps a
    // disagreement between the two a reported error rather than a panic.
    <Definition as serde::Deserialize>::deserialize(value)
        .map_err(|error| vec![Diagnostic::new("", Code::InvalidValue, format!("the definition does not deserialize: {error}"))])
}

fn with_positions(text: &str, mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let wanted: BTreeSet<String> = diagnostics.iter().map(|d| d.path.clone()).collect();
    let found = json::locate(text, &wanted);
    for diagnostic in &mut diagnostics {
        if diagnostic.position.is_none() {
            diagnostic.position = found.get(&diagnostic.path).copied();
        }
    }
    diagnostics
}
