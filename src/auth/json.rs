//! JSON bodies as the auth parsers read them: the text after a byte-order mark and white
//! space (what Windows tools and some servers put first), parsed by serde_json, members
//! looked up by name whatever their case (`Url` and `url`, `ErrorCode` and `errorCode` are
//! both seen). One reading for autodiscover v2, the realm answers, the token endpoint and
//! the JSON availability answers.
//!
//! serde_json's parser is recursive but capped (depth 128: an error, never a stack
//! overflow), and the bodies are already capped by `DecodeLimits`.

use serde_json::{Map, Value};

/// `text` without a leading byte-order mark and white space.
pub fn trimmed(text: &str) -> &str {
    text.trim_start_matches('\u{feff}').trim_start()
}

/// The JSON document `text` holds ([`trimmed`]): an object or an array that parses, else
/// `None` (a bare string or number is not a body these parsers read).
pub fn document(text: &str) -> Option<Value> {
    let text = trimmed(text);
    if !(text.starts_with('{') || text.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<Value>(text).ok()
}

/// The JSON object `text` holds ([`trimmed`]), else `None`.
pub fn object(text: &str) -> Option<Map<String, Value>> {
    if !trimmed(text).starts_with('{') {
        return None;
    }
    match document(text) {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// The member of `map` named `name`, whatever the case: the first in document order.
pub fn member<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// [`member`] when it is a string. The first member of the name counts, even when it is
/// not a string.
pub fn string<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v str> {
    member(map, name).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_and_white_space_before_the_document_are_skipped() {
        assert_eq!(trimmed("\u{feff} \r\n {\"a\":1}"), "{\"a\":1}");
        assert_eq!(trimmed("\u{feff}\u{feff}[1]"), "[1]");
        assert_eq!(trimmed("x {"), "x {");
        let map = object("\u{feff}\n  {\"Url\": \"https://x/\"}").expect("an object");
        assert_eq!(string(&map, "url"), Some("https://x/"));
        assert_eq!(document("\u{feff}[1, 2]"), Some(serde_json::json!([1, 2])));
    }

    #[test]
    fn only_an_object_or_an_array_that_parses_is_a_document() {
        for text in [
            "", "   ", "\"s\"", "42", "null", "<a/>", "{\"a\":", "{} x", "[1,]",
        ] {
            assert_eq!(document(text), None, "{text:?}");
            assert_eq!(object(text), None, "{text:?}");
        }
        assert_eq!(object("[{\"a\": 1}]"), None);
        assert!(object("{}").is_some_and(|m| m.is_empty()));
    }

    #[test]
    fn members_are_found_whatever_their_case_the_first_counting() {
        let map = object(r#"{"ErrorCode": "X", "errorcode": "Y", "n": 3, "Url": null}"#).unwrap();
        assert_eq!(string(&map, "errorCode"), Some("X"));
        assert_eq!(string(&map, "ERRORCODE"), Some("X"));
        assert_eq!(member(&map, "N"), Some(&serde_json::json!(3)));
        // Present but not a string.
        assert_eq!(string(&map, "n"), None);
        assert_eq!(string(&map, "url"), None);
        assert_eq!(member(&map, "missing"), None);
    }

    #[test]
    fn hostile_json_is_refused_not_a_panic() {
        let deep = "[".repeat(100_000);
        assert_eq!(document(&deep), None);
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(document(&deep), None);
        let wide = format!(
            "{{{}}}",
            (0..5000)
                .map(|i| format!("\"k{i}\":{i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(object(&wide).map(|m| m.len()), Some(5000));
    }
}
