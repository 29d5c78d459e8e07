//! "Did you mean …?" hints: edit distance over the candidates, plus known aliases.

/// Longest input worth suggesting for: names are at most 63 bytes, and the
/// edit distance costs input × candidate length.
const MAX_SUGGESTION_INPUT: usize = 64;

/// The candidate closest to `input`, if it is close enough to be a plausible typo.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input_length = input.chars().count();
    if input_length > MAX_SUGGESTION_INPUT {
        return None;
    }
    let lowered = input.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let candidate_length = candidate.chars().count();
        let limit = (candidate_length.max(input_length) / 3).max(1);
        // The distance is at least the difference in length: skip hopeless candidates cheaply.
        if candidate_length.abs_diff(input_length) > limit || candidate_length > MAX_SUGGESTION_INPUT {
            continue;
        }
        let distance = levenshtein(&lowered, &candidate.to_ascii_lowercase());
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// `did you mean `x`?` for the closest candidate.
pub fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(input, candidates).map(|c| format!("did you mean `{c}`?"))
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Type names people (and LLMs) write that mean one of ours.
pub fn type_alias_hint(input: &str) -> Option<&'static str> {
    let hint = match input.to_ascii_lowercase().trim() {
        "int" | "int4" | "integer4" => "use `integer`",
        "int2" => "use `smallint`",
        "int8" => "use `bigint`",
        "serial4" => "use `serial`",
        "serial8" => "use `bigserial`",
        "serial2" => "use `smallserial`",
        "bool" => "use `boolean`",
        "string" | "str" | "character varying" => "use `text`, or `varchar` with a `length`",
        "float" | "float8" | "double" | "double precision" | "number" => "use `doublePrecision`",
        "float4" => "use `real`",
        "decimal" | "money" => "use `numeric` with `precision` and `scale`",
        "timestamptz" | "timestamp with time zone" => "use `timestamp` with `\"withTimezone\": true`",
        "timetz" => "use `time` with `\"withTimezone\": true`",
        "datetime" => "use `timestamp`",
        "blob" | "binary" => "use `bytea`",
        "character" => "use `char`",
        "array" => "set `\"array\": true` on a column of the element type",
        _ => return None,
    };
    Some(hint)
}

/// Fields people put on the wrong object or spell the way another tool does.
pub fn field_alias_hint(field: &str) -> Option<&'static str> {
    let hint = match field {
        "nullable" => "columns are nullable unless `\"notNull\": true`; use `notNull`",
        "required" => "use `\"notNull\": true`",
        "primary" | "pk" | "isPrimaryKey" | "primary_key" => "use `\"primaryKey\": true`",
        "autoIncrement" | "autoincrement" | "auto_increment" => "use type `serial`, or `\"identity\": \"byDefault\"` on an integer column",
        "size" | "maxLength" | "max_length" => "use `length`",
        "onDelete" | "onUpdate" => "put `onDelete` / `onUpdate` inside `references`",
        "fields" => "tables have `columns`",
        "not_null" | "notnull" => "use `notNull`",
        "default_value" | "defaultValue" => "use `default`",
        "foreign_keys" | "foreignKey" => "use `foreignKeys` (a list)",
        "index" => "use `indexes` (a list)",
        "collections" => "collections are not supported by this version yet: declare `tables`",
        _ => return None,
    };
    Some(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("varchr", ["text", "varchar", "char"]), Some("varchar"));
        assert_eq!(closest("notnull", ["notNull", "name"]), Some("notNull"));
        assert_eq!(closest("zzzzzz", ["text", "varchar"]), None);
    }
}
