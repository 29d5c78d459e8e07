//! JSON written straight to text, as `JSON.stringify(value, null, 2)` prints
//! it, with the compact form alongside (what the snapshot id hashes).
//!
//! A snapshot of a thousand tables was hundreds of thousands of small maps
//! built only to be printed twice and dropped; writing the text directly
//! touches a fraction of the memory. The output is byte for byte what
//! serde_json's pretty printer makes of the same value (`tests/snapshot_text.rs`).

use serde_json::Value;

pub(crate) struct JsonText {
    pretty: String,
    compact: String,
    /// The indentation level of the value this writer starts with.
    base: usize,
    /// Per open object or array: whether it has an entry yet.
    open: Vec<bool>,
}

impl JsonText {
    /// A writer for a value that sits `depth` levels deep in the document.
    pub(crate) fn at_depth(depth: usize) -> Self {
        JsonText { pretty: String::new(), compact: String::new(), base: depth, open: Vec::new() }
    }

    /// The pretty text and the compact text.
    pub(crate) fn finish(self) -> (String, String) {
        (self.pretty, self.compact)
    }

    fn both(&mut self, text: &str) {
        self.pretty.push_str(text);
        self.compact.push_str(text);
    }

    fn newline_and_indent(&mut self, level: usize) {
        self.pretty.push('\n');
        for _ in 0..level {
            self.pretty.push_str("  ");
        }
    }

    pub(crate) fn begin_object(&mut self) {
        self.both("{");
        self.open.push(false);
    }

    pub(crate) fn end_object(&mut self) {
        self.close("}");
    }

    pub(crate) fn begin_array(&mut self) {
        self.both("[");
        self.open.push(false);
    }

    pub(crate) fn end_array(&mut self) {
        self.close("]");
    }

    fn close(&mut self, bracket: &str) {
        if self.open.pop() == Some(true) {
            self.newline_and_indent(self.base + self.open.len());
        }
        self.both(bracket);
    }

    /// Starts the next entry of the innermost open object or array.
    fn next_entry(&mut self) {
        let level = self.base + self.open.len();
        if let Some(has_entries) = self.open.last_mut() {
            let first = !*has_entries;
            *has_entries = true;
            if !first {
                self.both(",");
            }
        }
        self.newline_and_indent(level);
    }

    /// The key of the next entry of the open object; its value follows.
    pub(crate) fn key(&mut self, key: &str) {
        self.next_entry();
        self.string(key);
        self.pretty.push_str(": ");
        self.compact.push(':');
    }

    /// Starts the next element of the open array; its value follows.
    pub(crate) fn element(&mut self) {
        self.next_entry();
    }

    pub(crate) fn string(&mut self, text: &str) {
        escape_into(&mut self.pretty, text);
        escape_into(&mut self.compact, text);
    }

    pub(crate) fn bool(&mut self, value: bool) {
        self.both(if value { "true" } else { "false" });
    }

    /// Any JSON value, laid out as the rest.
    pub(crate) fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.both("null"),
            Value::Bool(b) => self.bool(*b),
            Value::Number(n) => self.both(&n.to_string()),
            Value::String(s) => self.string(s),
            Value::Array(items) => {
                self.begin_array();
                for item in items {
                    self.element();
                    self.value(item);
                }
                self.end_array();
            }
            Value::Object(map) => {
                self.begin_object();
                for (key, item) in map {
                    self.key(key);
                    self.value(item);
                }
                self.end_object();
            }
        }
    }

    /// A value written by another writer started at the right depth.
    pub(crate) fn append(&mut self, written: (String, String)) {
        self.pretty.push_str(&written.0);
        self.compact.push_str(&written.1);
    }

    pub(crate) fn str_field(&mut self, key: &str, value: &str) {
        self.key(key);
        self.string(value);
    }

    pub(crate) fn bool_field(&mut self, key: &str, value: bool) {
        self.key(key);
        self.bool(value);
    }

    pub(crate) fn strings_field(&mut self, key: &str, values: &[String]) {
        self.key(key);
        self.begin_array();
        for value in values {
            self.element();
            self.string(value);
        }
        self.end_array();
    }

    /// `key: {}`.
    pub(crate) fn empty_object_field(&mut self, key: &str) {
        self.key(key);
        self.both("{}");
    }
}

/// A JSON string literal, escaped exactly as serde_json escapes it (and as
/// `JSON.stringify` does): `"` and `\`, and control characters as `\n`-style
/// escapes where one exists, `\u00xx` otherwise; everything else as is.
fn escape_into(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..index]);
        if escaped.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escaped);
        }
        start = index + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn prints_what_serde_json_prints() {
        let values = [
            json!({}),
            json!([]),
            json!({"a": {}, "b": [], "c": [1, 2.5, -3, null, true], "d": {"e": {"f": "g"}}}),
            json!([{"a": 1}, [], [[]], "x"]),
            json!("every control character: \u{0}\u{1}\u{7}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1b}\u{1f} \u{7f} \" \\ / é ✓ 😀"),
            json!({"key \"quoted\"\n": 1e300, "k": 0.1, "n": 12345678901234567890_u64}),
        ];
        for value in values {
            for depth in [0, 2] {
                let mut writer = JsonText::at_depth(depth);
                writer.value(&value);
                let (pretty, compact) = writer.finish();
                let mut expected = serde_json::to_string_pretty(&value).unwrap();
                if depth > 0 {
                    expected = expected.replace('\n', &format!("\n{}", "  ".repeat(depth)));
                }
                assert_eq!(pretty, expected);
                assert_eq!(compact, serde_json::to_string(&value).unwrap());
            }
        }
    }
}
