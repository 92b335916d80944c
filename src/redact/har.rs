//! `traceadal redact` for a HAR: one HAR entry read, normalised and written back with every
//! secret replaced by a same-length placeholder.
//!
//! The file is not read here: `capture::har::rewrite` streams it through the reader's lexer
//! and hands over one entry's JSON text at a time ([`rewrite_entry`]) and each string around
//! the entries (scrubbed with its key, as text). An entry is parsed into a
//! `serde_json::Value` (keys in their original order), normalised, scrubbed, and always
//! written back compact from that value, never as its original text (a repeated key, whose
//! first value the reader never sees, is not carried over). Memory follows the largest entry.
//!
//! What is normalised and where secrets are looked for:
//! - `headers[]`: an item whose value holds several lines (DevTools joins repeated
//!   `Set-Cookie` headers with `\n`) becomes one item per line (a line starting with a space
//!   or tab continues the one before); each `{name, value}` is then scrubbed as a header line.
//! - `cookies[]`: every value replaced (names kept); the other fields scrubbed as text.
//! - `queryString[]`, `postData.params[]`: the value of a secret parameter name replaced,
//!   other values scrubbed as text.
//! - `content.text` and `postData.text` with `encoding: base64` (any form the reader accepts:
//!   any case, unpadded, URL-safe, wrapped) are decoded with the reader's own decoder. A
//!   response body stored still compressed (a `content-encoding` the bytes really are in,
//!   which the reader does not undo for a HAR) is decompressed. The bytes are scrubbed and
//!   written as text when they are UTF-8 (`encoding` removed: the reader reads the same
//!   bytes), else as standard padded base64 with `encoding: "base64"`. Base64 that does not
//!   decode, or compressed bytes that do not decompress, are replaced by a placeholder text
//!   saying what was dropped, and noted.
//! - `_webSocketMessages[]`: binary messages (`opcode` 2, base64 `data`) decoded, scrubbed
//!   and re-encoded; `data` that does not decode is replaced by a placeholder. Text messages
//!   are scrubbed as text.
//! - every other string anywhere (URLs, comments, custom `_` fields, unknown keys) is
//!   scrubbed as text, and so is every object key outside the HAR schema.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

use super::{is_replaced, placeholder, scrub, scrub_bytes, scrub_header, scrub_param};
use super::{Counts, Kind, Style};
use crate::capture::body::decode_partial;
use crate::capture::har::decode_base64;
use crate::capture::{Body, DecodeLimits, Headers};

/// One entry of `log.entries`, as JSON text, with its secrets replaced: the JSON text to
/// write, `None` when nothing was replaced or normalised, `Err` (never content) when it is
/// not JSON. Notes are dropped; see [`rewrite_entry`].
pub fn scrub_entry(json: &str, counts: &mut Counts) -> Result<Option<Vec<u8>>, String> {
    let mut notes = Vec::new();
    let mut ctx = Ctx {
        id: 0,
        counts,
        notes: &mut notes,
        changed: false,
        codings: Vec::new(),
    };
    let entry = parse_and_walk(json, &mut ctx)?;
    if !ctx.changed {
        return Ok(None);
    }
    write(&entry).map(Some)
}

/// Entry `id` of `log.entries`, as JSON text, normalised and with its secrets replaced:
/// the JSON text to write (always written from the parsed value), or `Err` (never content)
/// when it is not JSON. What was dropped goes to `notes`, naming the entry, never content.
pub fn rewrite_entry(
    id: u64,
    json: &str,
    counts: &mut Counts,
    notes: &mut Vec<String>,
) -> Result<Vec<u8>, String> {
    let mut ctx = Ctx {
        id,
        counts,
        notes,
        changed: false,
        codings: Vec::new(),
    };
    let entry = parse_and_walk(json, &mut ctx)?;
    write(&entry)
}

fn parse_and_walk(json: &str, ctx: &mut Ctx<'_>) -> Result<Value, String> {
    let mut entry: Value = serde_json::from_str(json).map_err(|e| {
        format!(
            "not valid JSON ({:?} error at line {}, column {} of the entry)",
            e.classify(),
            e.line(),
            e.column()
        )
    })?;
    // As an element of `entries`: its parent key is the list's.
    walk(&mut entry, Some("entries"), ctx);
    Ok(entry)
}

fn write(entry: &Value) -> Result<Vec<u8>, String> {
    serde_json::to_vec(entry)
        .map_err(|e| format!("cannot be written back ({:?} error)", e.classify()))
}

/// What a walk over one entry carries.
struct Ctx<'a> {
    id: u64,
    counts: &'a mut Counts,
    notes: &'a mut Vec<String>,
    /// Anything was replaced or normalised.
    changed: bool,
    /// The content codings of the response being walked (for its `content`).
    codings: Vec<String>,
}

impl Ctx<'_> {
    fn note(&mut self, what: String) {
        self.notes.push(if self.id > 0 {
            format!("entry {}: {what}", self.id)
        } else {
            what
        });
    }

    fn text(&mut self, s: &mut String) {
        if let Cow::Owned(new) = scrub(s, Style::Placeholder, self.counts) {
            *s = new;
            self.changed = true;
        }
    }
}

/// The placeholder text that replaces something dropped: what it was, its size, why.
pub fn dropped(what: &str, len: usize, why: &str) -> String {
    format!("[traceadal redact: {what} dropped ({len} bytes): {why}]")
}

/// Keys of the HAR schema (and of the common exporter extensions): not scrubbed as text.
fn known_key(k: &str) -> bool {
    matches!(
        k,
        "log"
            | "version"
            | "creator"
            | "browser"
            | "pages"
            | "entries"
            | "name"
            | "value"
            | "startedDateTime"
            | "time"
            | "request"
            | "response"
            | "cache"
            | "timings"
            | "serverIPAddress"
            | "connection"
            | "comment"
            | "pageref"
            | "method"
            | "url"
            | "httpVersion"
            | "cookies"
            | "headers"
            | "queryString"
            | "postData"
            | "headersSize"
            | "bodySize"
            | "status"
            | "statusText"
            | "content"
            | "redirectURL"
            | "size"
            | "compression"
            | "mimeType"
            | "text"
            | "encoding"
            | "params"
            | "fileName"
            | "contentType"
            | "path"
            | "domain"
            | "expires"
            | "httpOnly"
            | "secure"
            | "sameSite"
            | "blocked"
            | "dns"
            | "connect"
            | "send"
            | "wait"
            | "receive"
            | "ssl"
            | "beforeRequest"
            | "afterRequest"
            | "lastAccess"
            | "eTag"
            | "hitCount"
            | "id"
            | "title"
            | "pageTimings"
            | "onContentLoad"
            | "onLoad"
            | "_initiator"
            | "_priority"
            | "_resourceType"
            | "_transferSize"
            | "_error"
            | "_webSocketMessages"
            | "type"
            | "opcode"
            | "data"
            | "_fromCache"
            | "_connectionId"
            | "_blocked_queueing"
            | "_blocked_proxy"
            | "_workerStart"
            | "_workerReady"
            | "_workerFetchStart"
            | "_workerRespondWithSettled"
            | "_processInfo"
            | "_process"
            | "_fromDiskCache"
            | "_fromServiceWorker"
    )
}

/// Scrub every string under `v`; `parent` is the key of the array or object holding it.
fn walk(v: &mut Value, parent: Option<&str>, ctx: &mut Ctx<'_>) {
    match v {
        Value::String(s) => ctx.text(s),
        Value::Array(items) => {
            if parent == Some("headers") {
                split_lines(items, ctx);
            }
            let ws = parent == Some("_webSocketMessages");
            for item in items {
                if ws {
                    if let Value::Object(m) = item {
                        websocket_message(m, ctx);
                    }
                }
                walk(item, parent, ctx);
            }
        }
        Value::Object(map) => {
            keys(map, ctx);
            if name_value(map, parent, ctx) {
                return;
            }
            let saved = if parent == Some("response") {
                Some(std::mem::replace(
                    &mut ctx.codings,
                    content_codings(map.get("headers")),
                ))
            } else {
                None
            };
            let done_body = match parent {
                Some("content") => {
                    let codings = std::mem::take(&mut ctx.codings);
                    body(map, "response body", &codings, ctx);
                    ctx.codings = codings;
                    true
                }
                Some("postData") => {
                    body(map, "request body", &[], ctx);
                    true
                }
                _ => false,
            };
            let done_ws = parent == Some("_webSocketMessages");
            for (k, child) in map.iter_mut() {
                // Bodies and binary messages were scrubbed as what they hold.
                let done = (done_body && k == "text") || (done_ws && k == "data");
                if done && child.is_string() {
                    continue;
                }
                walk(child, Some(k.as_str()), ctx);
            }
            if let Some(saved) = saved {
                ctx.codings = saved;
            }
        }
        _ => {}
    }
}

/// Object keys outside the HAR schema, scrubbed as text (a custom field named by a token).
fn keys(map: &mut Map<String, Value>, ctx: &mut Ctx<'_>) {
    let renamed = map.keys().any(|k| {
        !known_key(k)
            && matches!(
                scrub(k, Style::Placeholder, &mut Counts::default()),
                Cow::Owned(_)
            )
    });
    if !renamed {
        return;
    }
    let old = std::mem::take(map);
    for (k, v) in old {
        let k = if known_key(&k) {
            k
        } else {
            match scrub(&k, Style::Placeholder, ctx.counts) {
                Cow::Owned(new) => new,
                Cow::Borrowed(_) => k,
            }
        };
        map.insert(k, v);
    }
    ctx.changed = true;
}

/// Header items whose value holds several lines become one item per line; a line that
/// starts with a space or tab continues the one before (a folded header).
fn split_lines(items: &mut Vec<Value>, ctx: &mut Ctx<'_>) {
    let multi = |v: &Value| {
        v.get("value")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains(['\n', '\r']))
    };
    if !items.iter().any(multi) {
        return;
    }
    let old = std::mem::take(items);
    for item in old {
        if !multi(&item) {
            items.push(item);
            continue;
        }
        let value = item
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut lines: Vec<String> = Vec::new();
        for line in value.split(['\n', '\r']) {
            match lines.last_mut() {
                Some(last) if line.starts_with([' ', '\t']) => {
                    last.push(' ');
                    last.push_str(line.trim_start_matches([' ', '\t']));
                }
                _ if line.trim().is_empty() => {}
                _ => lines.push(line.to_string()),
            }
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        for line in lines {
            let mut one = item.clone();
            if let Some(v) = one.get_mut("value") {
                *v = Value::String(line);
            }
            items.push(one);
        }
        ctx.changed = true;
    }
}

/// `{name, value}` items of `headers`, `cookies`, `queryString` and `params`; `true` when
/// `map` was one (and is done).
fn name_value(map: &mut Map<String, Value>, parent: Option<&str>, ctx: &mut Ctx<'_>) -> bool {
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
        "headers" => scrub_header(&name, value, ctx.counts),
        "cookies" if !value.is_empty() && !is_replaced(value) => {
            ctx.counts.add(Kind::Cookie);
            Some(placeholder(value))
        }
        "cookies" => None,
        _ => scrub_param(&name, value, ctx.counts),
    };
    if let Some(new) = new {
        *value = new;
        ctx.changed = true;
    }
    // The name, and anything else in the item (a cookie's path and expiry, a param's
    // fileName), is scrubbed as text.
    for (k, child) in map.iter_mut() {
        if k != "value" {
            walk(child, None, ctx);
        }
    }
    true
}

/// The content codings a response's `headers[]` name, in the order applied (`identity`
/// left out).
fn content_codings(headers: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(items)) = headers else {
        return Vec::new();
    };
    items
        .iter()
        .filter(|h| {
            h.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.trim().eq_ignore_ascii_case("content-encoding"))
        })
        .filter_map(|h| h.get("value").and_then(Value::as_str))
        .flat_map(|v| v.split([',', '\n']))
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect()
}

/// Whether `bytes` begin as a gzip member or a zlib stream does.
fn looks_compressed(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b]) || crate::capture::detect::is_zlib_header(bytes)
}

/// `content` or `postData`: its `text` decoded as the reader decodes it, scrubbed, and
/// written back normalised (see the module documentation).
fn body(map: &mut Map<String, Value>, what: &str, codings: &[String], ctx: &mut Ctx<'_>) {
    let base64 = map
        .get("encoding")
        .and_then(Value::as_str)
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"));
    let Some(Value::String(text)) = map.get_mut("text") else {
        return;
    };
    let mut bytes = if base64 {
        match decode_base64(text) {
            Some(b) => b,
            None => {
                let len = text.len();
                *text = dropped(what, len, "base64 that does not decode");
                map.remove("encoding");
                ctx.changed = true;
                ctx.note(format!(
                    "{what}: {len} bytes of base64 that does not decode; replaced by a placeholder"
                ));
                return;
            }
        }
    } else {
        // Text: scrubbed as it is.
        ctx.text(text);
        return;
    };
    if !codings.is_empty() && std::str::from_utf8(&bytes).is_err() {
        let mut headers = Headers::new();
        headers.push("Content-Encoding", codings.join(", "));
        let coded = Body {
            raw: std::mem::take(&mut bytes),
            wire: true,
            truncated: false,
        };
        let limits = DecodeLimits {
            max_decoded: u64::MAX / 4,
            ..DecodeLimits::default()
        };
        let decoded = decode_partial(&coded, &headers, &limits);
        match decoded.problem {
            None => {
                bytes = decoded.bytes;
                ctx.note(format!(
                    "{what}: stored still compressed ({}); written decompressed",
                    codings.join(", ")
                ));
            }
            Some(_) if looks_compressed(&coded.raw) => {
                let len = coded.raw.len();
                *text = dropped(what, len, "compressed bytes that do not decompress");
                map.remove("encoding");
                ctx.changed = true;
                ctx.note(format!(
                    "{what}: {len} compressed bytes that do not decompress; replaced by a placeholder"
                ));
                return;
            }
            // Binary content the coding does not apply to (the exporter decoded it).
            Some(_) => bytes = coded.raw,
        }
    }
    let new = match String::from_utf8(bytes) {
        Ok(s) => {
            let s = match scrub(&s, Style::Placeholder, ctx.counts) {
                Cow::Owned(new) => new,
                Cow::Borrowed(_) => s,
            };
            map.remove("encoding");
            s
        }
        Err(e) => {
            let bytes = e.into_bytes();
            let bytes = scrub_bytes(&bytes, ctx.counts).unwrap_or(bytes);
            map.insert("encoding".into(), Value::String("base64".into()));
            STANDARD.encode(bytes)
        }
    };
    if map.get("text").and_then(Value::as_str) != Some(new.as_str())
        || map.get("encoding").is_some_and(|e| e != "base64")
    {
        ctx.changed = true;
    }
    map.insert("text".into(), Value::String(new));
}

/// A binary websocket message (`opcode` 2): its base64 `data` decoded, scrubbed and
/// re-encoded; a placeholder when it does not decode.
fn websocket_message(map: &mut Map<String, Value>, ctx: &mut Ctx<'_>) {
    if map.get("opcode").and_then(Value::as_f64) != Some(2.0) {
        return;
    }
    let Some(Value::String(data)) = map.get_mut("data") else {
        return;
    };
    match decode_base64(data) {
        Some(bytes) => {
            let bytes = scrub_bytes(&bytes, ctx.counts).unwrap_or(bytes);
            let new = STANDARD.encode(bytes);
            if *data != new {
                *data = new;
                ctx.changed = true;
            }
        }
        None => {
            let len = data.len();
            *data = dropped(
                "binary websocket message",
                len,
                "base64 that does not decode",
            );
            ctx.changed = true;
            ctx.note(format!(
                "a binary websocket message of {len} bytes of base64 that does not decode; \
                 replaced by a placeholder"
            ));
        }
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
        let mut notes = Vec::new();
        let mut ctx = Ctx {
            id: 0,
            counts: &mut counts,
            notes: &mut notes,
            changed: false,
            codings: Vec::new(),
        };
        walk(&mut har, None, &mut ctx);
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
