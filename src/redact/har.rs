//! `traceadal redact` for a HAR: what is a secret in one HAR entry, and how it is replaced by
//! a same-length placeholder.
//!
//! The file is not read here: `capture::har::rewrite` streams it through the reader's lexer
//! and hands over one entry's JSON text at a time ([`scrub_entry`]) and each string around
//! the entries (`Scrubber::text`, scrubbed as text). An entry is parsed into a
//! `serde_json::Value` (keys in their original order), scrubbed, and written back compact;
//! an entry with nothing to replace is written as it was. Memory follows the largest entry.
//!
//! Where secrets are looked for:
//! - `headers[]`: each `{name, value}` as a header line (`Authorization`, `Cookie`, ...);
//! - `cookies[]`: every cookie value (names kept);
//! - `queryString[]`, `postData.params[]`: the value of a secret parameter name, other values
//!   scrubbed as text;
//! - `content.text` with `encoding: base64`: decoded, scrubbed, re-encoded;
//! - every other string anywhere (URLs, `postData.text`, `redirectURL`, comments, websocket
//!   messages): scrubbed as text.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

use super::{is_replaced, placeholder, scrub, scrub_bytes, scrub_header, scrub_param};
use super::{Counts, Kind, Style};

/// One entry of `log.entries`, as JSON text, with its secrets replaced: the JSON text to
/// write, `None` when nothing was replaced, `Err` (never content) when it is not JSON.
pub fn scrub_entry(json: &str, counts: &mut Counts) -> Result<Option<Vec<u8>>, String> {
    let mut entry: Value = serde_json::from_str(json).map_err(|e| {
        format!(
            "not valid JSON ({:?} error at line {}, column {} of the entry)",
            e.classify(),
            e.line(),
            e.column()
        )
    })?;
    let mut changed = false;
    // As an element of `entries`: its parent key is the list's.
    walk(&mut entry, Some("entries"), counts, &mut changed);
    if !changed {
        return Ok(None);
    }
    serde_json::to_vec(&entry)
        .map(Some)
        .map_err(|e| format!("cannot be written back ({:?} error)", e.classify()))
}

/// Scrub every string under `v`; `parent` is the key of the array or object holding it.
/// `changed` is set when anything was replaced.
fn walk(v: &mut Value, parent: Option<&str>, counts: &mut Counts, changed: &mut bool) {
    match v {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(new) = scrub(s, Style::Placeholder, counts) {
                *s = new;
                *changed = true;
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, parent, counts, changed);
            }
        }
        Value::Object(map) => {
            if name_value(map, parent, counts, changed) {
                return;
            }
            if parent == Some("content") {
                base64_text(map, counts, changed);
            }
            for (k, child) in map.iter_mut() {
                let key = k.clone();
                walk(child, Some(&key), counts, changed);
            }
        }
        _ => {}
    }
}

/// `{name, value}` items of `headers`, `cookies`, `queryString` and `params`; `true` when
/// `map` was one (and is done).
fn name_value(
    map: &mut Map<String, Value>,
    parent: Option<&str>,
    counts: &mut Counts,
    changed: &mut bool,
) -> bool {
    let list = match parent {
        Some(p @ ("headers" | "cookies" | "queryString" | "params")) => p,
        _ => return false,
    };
    let Some(name) = map.get("name").and_then(Value::as_str).map(str::to_string) else {
        return false;
    };
    let Some(Value::String(value)) = map.get_mut("value") else {
        return false;
    };
    let new = match list {
        "headers" => scrub_header(&name, value, counts),
        "cookies" if !value.is_empty() && !is_replaced(value) => {
            counts.add(Kind::Cookie);
            Some(placeholder(value))
        }
        "cookies" => None,
        _ => scrub_param(&name, value, counts),
    };
    if let Some(new) = new {
        *value = new;
        *changed = true;
    }
    // Anything else in the item (a cookie's path, a param's fileName) is scrubbed as text.
    for (k, child) in map.iter_mut() {
        if k != "name" && k != "value" {
            walk(child, None, counts, changed);
        }
    }
    true
}

/// `content.text` stored as base64: decode, scrub, re-encode.
fn base64_text(map: &mut Map<String, Value>, counts: &mut Counts, changed: &mut bool) {
    if map.get("encoding").and_then(Value::as_str) != Some("base64") {
        return;
    }
    let Some(Value::String(text)) = map.get_mut("text") else {
        return;
    };
    let Ok(bytes) = STANDARD.decode(text.trim()) else {
        return;
    };
    if let Some(new) = scrub_bytes(&bytes, counts) {
        *text = STANDARD.encode(new);
        *changed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::har::{rewrite_reader, HarLimits};
    use crate::redact::Placeholders;

    /// What `redact` did before it streamed: the whole file into one `Value`, every string
    /// walked.
    fn whole_file(bytes: &[u8]) -> (Value, Counts) {
        let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let mut har: Value = serde_json::from_slice(text).unwrap();
        let mut counts = Counts::default();
        walk(&mut har, None, &mut counts, &mut false);
        (har, counts)
    }

    #[test]
    fn streaming_equals_the_whole_file_rewrite_on_every_sample() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for dir in ["samples", "samples/variants"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                let path = e.path();
                if path.extension().is_none_or(|x| x != "har") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let (want, want_counts) = whole_file(&bytes);
                let mut scrubber = Placeholders::default();
                let mut out = Vec::new();
                let r = rewrite_reader(
                    bytes.as_slice(),
                    &HarLimits::default(),
                    &mut out,
                    &mut scrubber,
                )
                .unwrap();
                let got: Value = serde_json::from_slice(&out).unwrap();
                // Same document (entries, order, every value), same secrets replaced.
                assert_eq!(got, want, "{}", path.display());
                assert_eq!(scrubber.outcome.counts, want_counts, "{}", path.display());
                assert_eq!(
                    r.entries,
                    want["log"]["entries"].as_array().unwrap().len(),
                    "{}",
                    path.display()
                );
                seen += 1;
            }
        }
        assert!(seen >= 20, "{seen} samples");
    }

    #[test]
    fn an_entry_without_secrets_is_kept_as_written() {
        let entry =
            r#"{ "request": {"url": "https://x/", "headers": [ {"name":"Host","value":"x"} ]} }"#;
        let mut counts = Counts::default();
        assert_eq!(scrub_entry(entry, &mut counts), Ok(None));
        let secret = r#"{"request": {"headers": [{"name":"Cookie","value":"a=b"}]}}"#;
        let new = scrub_entry(secret, &mut counts).unwrap().unwrap();
        assert_eq!(
            String::from_utf8(new).unwrap(),
            r#"{"request":{"headers":[{"name":"Cookie","value":"a=R"}]}}"#
        );
        assert!(scrub_entry("{\"time\": NaN}", &mut counts).is_err());
    }
}
