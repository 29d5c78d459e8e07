//! Strict JSON reading: size limit, nesting limit, duplicate keys refused, and
//! JSON pointers mapped back to line/column for error messages.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::diagnostic::{Code, Diagnostic, Position};

/// Largest definition accepted, in bytes. The biggest realistic definitions
/// (thousands of tables) are a few megabytes.
pub const MAX_DEFINITION_BYTES: usize = 32 * 1024 * 1024;

/// Parses `text` into a JSON value, refusing oversized input, duplicate keys and
/// nesting deeper than serde_json's recursion limit (128), so hostile input can
/// neither exhaust the stack nor silently shadow a key.
pub fn parse_strict(text: &str) -> Result<Value, Diagnostic> {
    if text.len() > MAX_DEFINITION_BYTES {
        return Err(Diagnostic::new(
            "",
            Code::TooLarge,
            format!("the definition is {} bytes; the limit is {MAX_DEFINITION_BYTES} bytes", text.len()),
        )
        .with_hint("split the schema or remove generated noise; real definitions are far smaller"));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = StrictValue::deserialize(&mut deserializer).and_then(|v| deserializer.end().map(|()| v));
    match parsed {
        Ok(StrictValue(value)) => Ok(value),
        Err(error) => {
            let full = error.to_string();
            let message = match full.rfind(" at line ") {
                Some(at) => full[..at].to_string(),
                None => full,
            };
            let code = if message.starts_with("duplicate key") { Code::DuplicateKey } else { Code::InvalidJson };
            let hint = if message.contains("recursion limit") {
                Some("the input nests arrays or objects more than 128 levels deep".to_string())
            } else if code == Code::DuplicateKey {
                Some("keep one of the two entries".to_string())
            } else {
                None
            };
            let mut diagnostic = Diagnostic::new("", code, message).with_hint_opt(hint);
            if error.line() > 0 {
                diagnostic.position = Some(Position { line: error.line(), column: error.column() });
            }
            Err(diagnostic)
        }
    }
}

/// A JSON value read strictly: a repeated key in an object is an error.
pub(crate) struct StrictValue(pub(crate) Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            let StrictValue(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// `#[serde(deserialize_with)]` for a map of strings that refuses a repeated
/// key instead of keeping the last one, as the strict reader does.
pub(crate) fn unique_keys<'de, D: de::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct UniqueKeys;

    impl<'de> Visitor<'de> for UniqueKeys {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of strings")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, String>()? {
                if out.contains_key(&key) {
                    return Err(de::Error::custom(format!("duplicate key `{key}`")));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }

    deserializer.deserialize_map(UniqueKeys)
}

/// Finds where each wanted JSON pointer's value starts in `text` (which must be
/// valid JSON), in one pass over the text.
pub fn locate(text: &str, wanted: &BTreeSet<String>) -> BTreeMap<String, Position> {
    let mut found = BTreeMap::new();
    if wanted.is_empty() {
        return found;
    }
    let mut scanner = Scanner { chars: text.char_indices().peekable(), line: 1, column: 1 };
    // Each frame: Some(key) inside an object, or the current index inside an array.
    let mut stack: Vec<Frame> = Vec::new();
    let mut segments: Vec<String> = Vec::new();
    let mut expecting_key = false;

    loop {
        scanner.skip_whitespace();
        let Some(&(_, c)) = scanner.chars.peek() else { break };
        match c {
            ',' => {
                scanner.bump();
                match stack.last_mut() {
                    Some(Frame::Array(index)) => {
                        *index += 1;
                        if let Some(last) = segments.last_mut() {
                            *last = index.to_string();
                        }
                    }
                    Some(Frame::Object) => {
                        segments.pop();
                        expecting_key = true;
                    }
                    None => {}
                }
            }
            ':' => {
                scanner.bump();
            }
            '}' | ']' => {
                scanner.bump();
                if let Some(frame) = stack.pop() {
                    let has_segment = match frame {
                        Frame::Array(_) => true,
                        Frame::Object => !expecting_key,
                    };
                    if has_segment {
                        segments.pop();
                    }
                }
                expecting_key = false;
            }
            '"' if expecting_key => {
                let key = scanner.string();
                segments.push(key);
                expecting_key = false;
            }
            _ => {
                let position = Position { line: scanner.line, column: scanner.column };
                let pointer = pointer_of(&segments);
                if wanted.contains(&pointer) {
                    found.insert(pointer, position);
                    if found.len() == wanted.len() {
                        break;
                    }
                }
                match c {
                    '{' => {
                        scanner.bump();
                        stack.push(Frame::Object);
                        expecting_key = true;
                    }
                    '[' => {
                        scanner.bump();
                        stack.push(Frame::Array(0));
                        segments.push("0".to_string());
                        // An empty array pops a segment it never used; keep the stack balanced.
                        scanner.skip_whitespace();
                        if matches!(scanner.chars.peek(), Some(&(_, ']'))) {
                            scanner.bump();
                            stack.pop();
                            segments.pop();
                        }
                    }
                    '"' => {
                        scanner.string();
                    }
                    _ => scanner.literal(),
                }
            }
        }
    }
    found
}

enum Frame {
    Object,
    Array(usize),
}

fn pointer_of(segments: &[String]) -> String {
    let mut pointer = String::new();
    for segment in segments {
        pointer.push('/');
        for c in segment.chars() {
            match c {
                '~' => pointer.push_str("~0"),
                '/' => pointer.push_str("~1"),
                c => pointer.push(c),
            }
        }
    }
    pointer
}

struct Scanner<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    line: usize,
    column: usize,
}

impl Scanner<'_> {
    fn bump(&mut self) -> Option<char> {
        let (_, c) = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn skip_whitespace(&mut self) {
        while let Some(&(_, c)) = self.chars.peek() {
            if c.is_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn literal(&mut self) {
        while let Some(&(_, c)) = self.chars.peek() {
            if c.is_whitespace() || matches!(c, ',' | '}' | ']' | ':') {
                break;
            }
            self.bump();
        }
    }

    /// Consumes a string literal and returns its decoded contents.
    fn string(&mut self) -> String {
        let mut out = String::new();
        self.bump(); // opening quote
        while let Some(c) = self.bump() {
            match c {
                '"' => break,
                '\\' => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('u') => {
                        let high = self.hex4();
                        let code = if (0xD800..0xDC00).contains(&high) {
                            // A surrogate pair: `\uD83D\uDE00`.
                            self.bump();
                            self.bump();
                            let low = self.hex4();
                            0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF)
                        } else {
                            high
                        };
                        out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                    }
                    Some(other) => out.push(other),
                    None => break,
                },
                c => out.push(c),
            }
        }
        out
    }

    fn hex4(&mut self) -> u32 {
        let mut value = 0;
        for _ in 0..4 {
            let digit = self.bump().and_then(|c| c.to_digit(16)).unwrap_or(0);
            value = value * 16 + digit;
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_duplicate_keys_with_position() {
        let error = parse_strict("{\n  \"a\": 1,\n  \"a\": 2\n}").unwrap_err();
        assert_eq!(error.code, Code::DuplicateKey);
        assert_eq!(error.position.map(|p| p.line), Some(3));
    }

    #[test]
    fn deep_nesting_fails_cleanly() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let error = parse_strict(&deep).unwrap_err();
        assert_eq!(error.code, Code::InvalidJson);
        assert!(error.message.contains("recursion limit"), "{}", error.message);
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let error = parse_strict("{\n  \"tables\": [,]\n}").unwrap_err();
        assert_eq!(error.code, Code::InvalidJson);
        assert_eq!(error.position, Some(Position { line: 2, column: 14 }));
    }

    #[test]
    fn locates_pointers() {
        let text = "{\"tables\": [\n  {\"name\": \"a\", \"columns\": []},\n  {\"name\": \"b\\\"x\", \"a/b\": [1, {\"k\": true}]}\n]}";
        let wanted: BTreeSet<String> =
            ["/tables/1/name", "/tables/1/a~1b/1/k", "/tables/0/columns", "/tables"].into_iter().map(String::from).collect();
        let found = locate(text, &wanted);
        assert_eq!(found["/tables"], Position { line: 1, column: 12 });
        assert_eq!(found["/tables/0/columns"], Position { line: 2, column: 28 });
        assert_eq!(found["/tables/1/name"], Position { line: 3, column: 12 });
        assert_eq!(found["/tables/1/a~1b/1/k"], Position { line: 3, column: 37 });
    }
}
