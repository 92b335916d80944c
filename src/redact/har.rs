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

use super::{
    is_oauth_context, is_replaced, placeholder, scrub, scrub_bytes, scrub_header, scrub_param_in,
};
use super::{Counts, Kind, ReadsBody, Style};
use crate::capture::body::decode_partial;
use crate::capture::har::decode_base64;
use crate::capture::rewrite::PLACEHOLDER_PREFIX;
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
        oauth: false,
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
    rewrite_entry_dropping(id, json, None, counts, notes).map(|(out, _)| out)
}

/// [`rewrite_entry`]; with `drop` (why, and whether the analysis reads the bodies of a
/// host and URL: `--drop-bodies-except-auth`), the bodies of an entry the analysis does not
/// read are replaced first ([`drop_bodies`]). Also says whether they were.
pub fn rewrite_entry_dropping(
    id: u64,
    json: &str,
    drop: Option<(&str, ReadsBody)>,
    counts: &mut Counts,
    notes: &mut Vec<String>,
) -> Result<(Vec<u8>, bool), String> {
    let mut ctx = Ctx {
        id,
        counts,
        notes,
        changed: false,
        codings: Vec::new(),
        oauth: false,
    };
    let mut entry = parse(json)?;
    let dropped = drop.is_some_and(|(why, reads_body)| drop_bodies(&mut entry, why, reads_body));
    // As an element of `entries`: its parent key is the list's.
    walk(&mut entry, Some("entries"), &mut ctx);
    Ok((write(&entry)?, dropped))
}

fn parse_and_walk(json: &str, ctx: &mut Ctx<'_>) -> Result<Value, String> {
    let mut entry = parse(json)?;
    // As an element of `entries`: its parent key is the list's.
    walk(&mut entry, Some("entries"), ctx);
    Ok(entry)
}

fn parse(json: &str) -> Result<Value, String> {
    serde_json::from_str(json).map_err(|e| {
        format!(
            "not valid JSON ({:?} error at line {}, column {} of the entry)",
            e.classify(),
            e.line(),
            e.column()
        )
    })
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
    /// The `queryString`/`params` list being walked is an OAuth exchange's.
    oauth: bool,
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

/// Replace the bodies of `entry` by placeholders saying `why` when `reads_body` says the
/// analysis never reads a body of its URL (`--drop-bodies-except-auth`): the request's
/// `postData` (text and params), the response's `content.text` and websocket messages.
/// Whether anything was replaced.
fn drop_bodies(entry: &mut Value, why: &str, reads_body: ReadsBody) -> bool {
    let url = entry
        .pointer("/request/url")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let host = crate::capture::url_parts::UrlParts::split(&url)
        .host()
        .to_ascii_lowercase();
    if reads_body(&host, &url) {
        return false;
    }
    let mut dropped_any = false;
    if let Some(Value::Object(post)) = entry.pointer_mut("/request/postData") {
        let len = post.get("text").and_then(Value::as_str).map_or(0, str::len);
        if len > 0
            || post
                .get("params")
                .is_some_and(|p| p.as_array().is_some_and(|a| !a.is_empty()))
        {
            post.insert(
                "text".into(),
                Value::from(dropped("request body", len, why)),
            );
            post.insert("params".into(), Value::Array(Vec::new()));
            post.remove("encoding");
            dropped_any = true;
        }
    }
    if let Some(Value::Object(content)) = entry.pointer_mut("/response/content") {
        let len = content
            .get("text")
            .and_then(Value::as_str)
            .map_or(0, str::len);
        if len > 0 {
            content.insert(
                "text".into(),
                Value::from(dropped("response body", len, why)),
            );
            content.remove("encoding");
            dropped_any = true;
        }
    }
    if let Value::Object(map) = entry {
        if map.remove("_webSocketMessages").is_some() {
            dropped_any = true;
        }
    }
    dropped_any
}

/// Replace the response body of `entry` whole when it is a bare token: a 2xx answer from
/// a host that answers one ([`super::token_answer`]).
fn token_answer(entry: &mut Value, ctx: &mut Ctx<'_>) {
    use super::token_answer::{is_token_answer, is_token_status, WHY};
    let url = entry
        .pointer("/request/url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let method = entry
        .pointer("/request/method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let status = entry.pointer("/response/status").and_then(Value::as_u64);
    if !is_token_answer(method, url) || !status.is_some_and(is_token_status) {
        return;
    }
    let Some(Value::Object(content)) = entry.pointer_mut("/response/content") else {
        return;
    };
    let len = content
        .get("text")
        .and_then(Value::as_str)
        .map_or(0, str::len);
    if len == 0
        || content
            .get("text")
            .and_then(Value::as_str)
            .is_some_and(is_replaced_whole)
    {
        return;
    }
    content.insert(
        "text".into(),
        Value::from(dropped("response body", len, WHY)),
    );
    content.remove("encoding");
    ctx.counts.add(super::Kind::OtherToken);
    ctx.changed = true;
    ctx.note(format!("response body replaced by a placeholder ({WHY})"));
}

/// Whether `text` is already a placeholder for a whole body (a second rewrite).
fn is_replaced_whole(text: &str) -> bool {
    text.starts_with(PLACEHOLDER_PREFIX) && text.ends_with(']') && !text.contains('\n')
}

/// The placeholder text that replaces something dropped: what it was, its size, why.
pub fn dropped(what: &str, len: usize, why: &str) -> String {
    format!("{PLACEHOLDER_PREFIX}{what} dropped ({len} bytes): {why}]")
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
    if parent == Some("entries") && v.is_object() {
        token_answer(v, ctx);
    }
    match v {
        Value::String(s) => ctx.text(s),
        Value::Array(items) => {
            if parent == Some("headers") {
                split_lines(items, ctx);
            }
            let outer = ctx.oauth;
            if matches!(parent, Some("queryString" | "params")) {
                // An authorization code is a secret whatever its length next to the
                // parameters of an OAuth exchange (state, client_id, redirect_uri).
                ctx.oauth = is_oauth_context(
                    items
                        .iter()
                        .filter_map(|i| i.get("name").and_then(Value::as_str)),
                );
            }
            for item in items {
                walk(item, parent, ctx);
            }
            ctx.oauth = outer;
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
            let done_ws = parent == Some("_webSocketMessages") && websocket_message(map, ctx);
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
        _ => scrub_param_in(&name, value, ctx.oauth, ctx.counts),
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
/// re-encoded; a placeholder when it does not decode. `true` when `map` was one (its
/// `data` is done).
fn websocket_message(map: &mut Map<String, Value>, ctx: &mut Ctx<'_>) -> bool {
    if map.get("opcode").and_then(Value::as_f64) != Some(2.0) {
        return false;
    }
    let Some(Value::String(data)) = map.get_mut("data") else {
        return false;
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
    true
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
            oauth: false,
        };
        walk(&mut har, None, &mut ctx);
        (har, counts)
    }

    /// Seamless SSO answers the desktop SSO token as a bare body: the HAR copy holds a
    /// placeholder for it whole (`text` and base64 alike); its 401 and other hosts stay.
    #[test]
    fn a_seamless_sso_token_body_is_replaced_whole() {
        const TOKEN: &str = "dGhpcyBpcyBhIGJhcmUgZGVza3RvcCBTU08gdG9rZW4";
        let entry = |host: &str, status: u16, text: &str, encoding: Option<&str>| {
            let mut e = serde_json::json!({
                "request": {"method": "GET", "url": format!("https://{host}/contoso.com/winauth/sso?client-request-id=1"), "headers": []},
                "response": {"status": status, "headers": [], "content": {"size": text.len(), "mimeType": "text/plain", "text": text}}
            });
            if let Some(enc) = encoding {
                e["response"]["content"]["encoding"] = Value::from(enc);
            }
            e.to_string()
        };
        let sso = "autologon.microsoftazuread-sso.com";
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, TOKEN);
        for (text, encoding) in [(TOKEN.to_string(), None), (b64, Some("base64"))] {
            let mut counts = Counts::default();
            let out = scrub_entry(&entry(sso, 200, &text, encoding), &mut counts)
                .unwrap()
                .unwrap();
            let out = String::from_utf8(out).unwrap();
            assert!(!out.contains(TOKEN) && !out.contains(&text), "{out}");
            assert!(out.contains(super::super::token_answer::WHY), "{out}");
            assert!(counts.total() >= 1);
            // A second rewrite keeps the copy as it is.
            let mut again = Counts::default();
            let twice = scrub_entry(&out, &mut again).unwrap();
            assert!(twice.is_none_or(|t| t == out.as_bytes()));
            let mut notes = Vec::new();
            let out = rewrite_entry(3, &entry(sso, 200, &text, encoding), &mut again, &mut notes)
                .unwrap();
            assert!(!String::from_utf8(out).unwrap().contains(TOKEN));
            assert_eq!(notes.len(), 1, "{notes:?}");
        }
        let mut counts = Counts::default();
        assert_eq!(
            scrub_entry(&entry(sso, 401, "Unauthorized", None), &mut counts),
            Ok(None)
        );
        assert_eq!(
            scrub_entry(
                &entry("login.microsoftonline.com", 200, TOKEN, None),
                &mut counts
            ),
            Ok(None)
        );
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

    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use serde_json::json;

    use crate::capture::har::map_reader;
    use crate::capture::Session;

    /// Entry 7 rewritten: the value written, the notes, what was replaced.
    fn rw(entry: Value) -> (Value, Vec<String>, Counts) {
        let mut counts = Counts::default();
        let mut notes = Vec::new();
        let out = rewrite_entry(7, &entry.to_string(), &mut counts, &mut notes).unwrap();
        (serde_json::from_slice(&out).unwrap(), notes, counts)
    }

    /// The session the reader makes of one entry.
    fn session(entry: &Value) -> Session {
        let har = json!({"log": {"version": "1.2", "entries": [entry]}}).to_string();
        let mut s = map_reader(har.as_bytes(), &HarLimits::default(), |r| r).unwrap();
        s.remove(0).unwrap()
    }

    fn response(content: Value, headers: Value) -> Value {
        json!({"request": {"method": "GET", "url": "https://x.contoso.com/"},
               "response": {"status": 200, "headers": headers, "content": content}})
    }

    #[test]
    fn joined_set_cookie_lines_become_one_header_each_and_every_cookie_is_replaced() {
        let entry = json!({"request": {"method": "GET", "url": "https://x/"}, "response": {"status": 200, "headers": [
            {"name": "set-cookie", "value": "ESTSAUTH=abc123; path=/\nESTSAUTHPERSISTENT=def456; secure\r\n\nfpc=xyz"},
            {"name": "X-Folded", "value": "a\n  b"},
            {"name": "Host", "value": "x"}
        ]}});
        let (v, notes, counts) = rw(entry.clone());
        assert_eq!(
            v["response"]["headers"],
            json!([
                {"name": "set-cookie", "value": "ESTSAUTH=REDACT; path=/"},
                {"name": "set-cookie", "value": "ESTSAUTHPERSISTENT=REDACT; secure"},
                {"name": "set-cookie", "value": "fpc=RED"},
                {"name": "X-Folded", "value": "a b"},
                {"name": "Host", "value": "x"}
            ])
        );
        assert_eq!(counts.get(Kind::Cookie), 3);
        assert!(notes.is_empty());
        // The reader sees three Set-Cookie headers now, one before.
        let before = session(&entry);
        let after = session(&v);
        let set = |s: &Session| {
            s.response
                .as_ref()
                .unwrap()
                .headers
                .get_all("set-cookie")
                .count()
        };
        assert_eq!((set(&before), set(&after)), (1, 3));
    }

    #[test]
    fn cookie_values_are_replaced_names_kept_other_fields_scrubbed() {
        let entry = json!({"request": {"cookies": [
            {"name": "ESTSAUTH", "value": "abc", "expires": "refresh_token=SECRET-rt-9", "path": "/"},
            {"name": "empty", "value": ""}
        ]}});
        let (v, _, counts) = rw(entry);
        assert_eq!(
            v["request"]["cookies"],
            json!([
                {"name": "ESTSAUTH", "value": "RED", "expires": "refresh_token=REDACTEDRED", "path": "/"},
                {"name": "empty", "value": ""}
            ])
        );
        assert_eq!(counts.get(Kind::Cookie), 1);
        assert_eq!(counts.get(Kind::RefreshToken), 1);
    }

    const FORM: &str = "grant_type=refresh_token&refresh_token=SECRET-rt-1&x=1";
    const FORM_OUT: &str = "grant_type=refresh_token&refresh_token=REDACTEDRED&x=1";

    /// Every base64 form the reader accepts is decoded, scrubbed and written as text; the
    /// reader reads the body the same, but for the secret.
    #[test]
    fn base64_bodies_in_every_form_the_reader_accepts() {
        let std = STANDARD.encode(FORM);
        let wrapped = format!("{}\r\n{}", &std[..20], &std[20..]);
        for (encoding, text) in [
            ("base64", std.clone()),
            ("Base64", std.clone()),
            (" BASE64 ", std.clone()),
            ("base64", STANDARD_NO_PAD.encode(FORM)),
            ("base64", URL_SAFE_NO_PAD.encode(FORM)),
            ("base64", wrapped),
        ] {
            let entry = response(
                json!({"size": 1, "mimeType": "text/plain", "text": text, "encoding": encoding}),
                json!([]),
            );
            let (v, notes, counts) = rw(entry.clone());
            assert_eq!(
                v["response"]["content"],
                json!({"size": 1, "mimeType": "text/plain", "text": FORM_OUT}),
                "{encoding} {text}"
            );
            assert!(notes.is_empty());
            assert_eq!(counts.get(Kind::RefreshToken), 1);
            let body = |e: &Value| session(e).response.unwrap().body.raw;
            assert_eq!(body(&entry), FORM.as_bytes());
            assert_eq!(body(&v), FORM_OUT.as_bytes());
        }
        // Bytes that are not UTF-8 stay base64, standard and padded.
        let bin = [&[0xff, 0xfe, 0x00][..], FORM.as_bytes()].concat();
        let entry = response(
            json!({"text": URL_SAFE_NO_PAD.encode(&bin), "encoding": "BASE64"}),
            json!([]),
        );
        let (v, _, _) = rw(entry);
        let want = [&[0xff, 0xfe, 0x00][..], FORM_OUT.as_bytes()].concat();
        assert_eq!(
            v["response"]["content"],
            json!({"text": STANDARD.encode(&want), "encoding": "base64"})
        );
        assert_eq!(session(&v).response.unwrap().body.raw, want);
    }

    #[test]
    fn base64_that_does_not_decode_is_replaced_and_noted() {
        let entry = response(
            json!({"text": "SECRET-not*base64", "encoding": "base64", "mimeType": "x"}),
            json!([]),
        );
        let (v, notes, _) = rw(entry);
        assert_eq!(
            v["response"]["content"],
            json!({"text": "[traceadal redact: response body dropped (17 bytes): base64 that does not decode]", "mimeType": "x"})
        );
        assert_eq!(
            notes,
            ["entry 7: response body: 17 bytes of base64 that does not decode; replaced by a placeholder"]
        );
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    /// A response body stored still compressed is decompressed, scrubbed and written as
    /// text; one that does not decompress is dropped. Text bodies of a response labelled
    /// gzip (the usual export: the exporter decoded them) are scrubbed as they are.
    #[test]
    fn compressed_bodies_are_decompressed_or_dropped() {
        let gz = gzip(FORM.as_bytes());
        let headers = json!([{"name": "Content-Encoding", "value": "gzip"}]);
        let entry = response(
            json!({"text": STANDARD.encode(&gz), "encoding": "base64"}),
            headers.clone(),
        );
        let (v, notes, _) = rw(entry);
        assert_eq!(v["response"]["content"], json!({"text": FORM_OUT}));
        assert_eq!(v["response"]["headers"], headers);
        assert_eq!(
            notes,
            ["entry 7: response body: stored still compressed (gzip); written decompressed"]
        );
        let cut = &gz[..gz.len() - 12];
        let entry = response(
            json!({"text": STANDARD.encode(cut), "encoding": "base64"}),
            headers.clone(),
        );
        let (v, notes, _) = rw(entry);
        let len = cut.len();
        assert_eq!(
            v["response"]["content"],
            json!({"text": format!("[traceadal redact: response body dropped ({len} bytes): compressed bytes that do not decompress]")})
        );
        assert_eq!(notes.len(), 1);
        let entry = response(json!({"text": FORM}), headers);
        let (v, notes, _) = rw(entry);
        assert_eq!(v["response"]["content"], json!({"text": FORM_OUT}));
        assert!(notes.is_empty());
    }

    #[test]
    fn post_data_base64_params_and_multipart() {
        let multipart = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nrefresh_token=SECRET-rt-1\r\n--b--";
        let entry = json!({"request": {"method": "POST", "url": "https://x/", "postData": {
            "mimeType": "application/x-www-form-urlencoded",
            "encoding": "base64",
            "text": STANDARD.encode(FORM),
            "params": [{"name": "client_secret", "value": "SECRET-cs"}, {"name": "x", "value": "1"}]
        }}});
        let (v, _, counts) = rw(entry);
        assert_eq!(
            v["request"]["postData"],
            json!({"mimeType": "application/x-www-form-urlencoded", "text": FORM_OUT,
                   "params": [{"name": "client_secret", "value": "REDACTEDR"}, {"name": "x", "value": "1"}]})
        );
        assert_eq!(counts.get(Kind::ClientSecret), 1);
        let entry = json!({"request": {"postData": {"mimeType": "multipart/form-data; boundary=b", "text": multipart}}});
        let (v, _, _) = rw(entry);
        let text = v["request"]["postData"]["text"].as_str().unwrap();
        assert_eq!(text, multipart.replace("SECRET-rt-1", "REDACTEDRED"));
    }

    #[test]
    fn websocket_messages_binary_decoded_text_scrubbed_undecodable_dropped() {
        let entry = json!({"_webSocketMessages": [
            {"type": "send", "time": 1.5, "opcode": 2, "data": URL_SAFE_NO_PAD.encode(FORM)},
            {"type": "receive", "time": 1.6, "opcode": 1, "data": FORM},
            {"type": "receive", "time": 1.7, "opcode": 2, "data": "SECRET*not-base64"}
        ]});
        let (v, notes, counts) = rw(entry);
        assert_eq!(
            v["_webSocketMessages"],
            json!([
                {"type": "send", "time": 1.5, "opcode": 2, "data": STANDARD.encode(FORM_OUT)},
                {"type": "receive", "time": 1.6, "opcode": 1, "data": FORM_OUT},
                {"type": "receive", "time": 1.7, "opcode": 2, "data": "[traceadal redact: binary websocket message dropped (17 bytes): base64 that does not decode]"}
            ])
        );
        assert_eq!(counts.get(Kind::RefreshToken), 2);
        assert_eq!(
            notes,
            ["entry 7: a binary websocket message of 17 bytes of base64 that does not decode; replaced by a placeholder"]
        );
    }

    /// Nothing of the entry's text is copied: a repeated key's first value (which the
    /// reader never sees) is gone, and custom fields, comments and unknown keys are scrubbed.
    #[test]
    fn no_string_is_copied_unscanned() {
        let json = r#"{"request": {"url": "https://x/?code=SECRET-first", "url": "https://x/"},
            "comment": "refresh_token=SECRET-rt-1", "_custom": {"deep": ["access_token=SECRET-at-1"]},
            "_k": {"refresh_token=SECRET-key-1": 1}}"#;
        let mut counts = Counts::default();
        let mut notes = Vec::new();
        let out = rewrite_entry(3, json, &mut counts, &mut notes).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            r#"{"request":{"url":"https://x/"},"comment":"refresh_token=REDACTEDRED","_custom":{"deep":["access_token=REDACTEDRED"]},"_k":{"refresh_token=REDACTEDREDA":1}}"#
        );
        assert_eq!(scrub_entry(r#"{"a": 1, "a": 2}"#, &mut counts), Ok(None));
    }

    /// A whole file through the real scrubber: entries with invalid UTF-8, `NaN` and
    /// `1e999` and a BOM; the copy is valid JSON with no invalid bytes, the unreadable
    /// entries are `null` and their text is not in it, each listed in the notes.
    #[test]
    fn damaged_entries_through_the_real_scrubber() {
        let good = r#"{"request": {"method": "GET", "url": "https://x/?code=SECRET-c-1"}, "response": {"status": 200}}"#;
        let mut bytes = b"\xef\xbb\xbf{\"log\": {\"version\": \"1.2\", \"entries\": [".to_vec();
        bytes.extend_from_slice(good.as_bytes());
        bytes.extend_from_slice(
            b", {\"request\": {\"url\": \"https://x/\xff\xfe?code=SECRET-c-2\"}}",
        );
        bytes.extend_from_slice(
            b", {\"request\": {\"url\": \"https://x/?code=SECRET-c-3\"}, \"time\": NaN}",
        );
        bytes.extend_from_slice(
            b", {\"request\": {\"url\": \"https://x/?code=SECRET-c-4\"}, \"time\": 1e999}",
        );
        bytes.extend_from_slice(b"]}}");
        let mut scrubber = Placeholders::default();
        let mut out = Vec::new();
        let r = rewrite_reader(
            bytes.as_slice(),
            &HarLimits::default(),
            &mut out,
            &mut scrubber,
        )
        .unwrap();
        let text = String::from_utf8(out).expect("no invalid bytes");
        assert!(!text.contains("SECRET"), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        let entries = v["log"]["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(
            entries[1]["request"]["url"],
            "https://x/\u{fffd}\u{fffd}?code=REDACTEDRE"
        );
        assert_eq!((entries[2].is_null(), entries[3].is_null()), (true, true));
        assert_eq!(r.notes.len(), 3, "{:?}", r.notes);
        assert!(r.notes[0].starts_with("entry 2: invalid UTF-8"));
        assert!(r.notes[1].starts_with("entry 3: not valid JSON"));
        assert!(r.notes[2].starts_with("entry 4: not valid JSON"));
    }

    /// Every shipped HAR redacted with its entries scrubbed apart on the pool is the copy
    /// scrubbed in order: the same bytes, notes, counts and dropped bodies, with the user's
    /// rules and `--drop-bodies-except-auth`, batches of three entries.
    #[test]
    fn entries_scrubbed_apart_are_the_copy_scrubbed_in_order() {
        use crate::capture::rewrite::{InOrder, Scrubber};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let mut hars: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "har"))
            .collect();
        hars.sort();
        assert!(hars.len() >= 20, "{hars:?}");
        let limits = HarLimits {
            batch_entries: 3,
            ..HarLimits::default()
        };
        let user = std::sync::Arc::new(
            crate::redact::UserRules::new(&["contoso".into()], &["user[0-9]+".into()]).unwrap(),
        );
        let mut changed = 0;
        for path in &hars {
            let bytes = std::fs::read(path).unwrap();
            for drop in [false, true] {
                let settings = || Placeholders {
                    user: user.clone(),
                    reads_body: drop.then_some(crate::auth::reads_body as crate::redact::ReadsBody),
                    ..Placeholders::default()
                };
                let mut apart = settings();
                assert!(apart.har_entries().is_some());
                let mut in_order = InOrder(settings());
                let (mut a, mut b) = (Vec::new(), Vec::new());
                let ra = rewrite_reader(bytes.as_slice(), &limits, &mut a, &mut apart).unwrap();
                let rb = rewrite_reader(bytes.as_slice(), &limits, &mut b, &mut in_order).unwrap();
                let name = path.display();
                assert!(a == b, "{name} (drop {drop}): the copies differ");
                assert_eq!(ra.notes, rb.notes, "{name}");
                assert_eq!(ra.entries, rb.entries, "{name}");
                assert_eq!(apart.outcome.counts, in_order.0.outcome.counts, "{name}");
                assert_eq!(apart.bodies_dropped, in_order.0.bodies_dropped, "{name}");
                changed += usize::from(a != bytes);
            }
        }
        // Not a comparison of copies that keep everything: most samples hold secrets.
        assert!(
            changed > hars.len(),
            "{changed} of {} copies changed",
            2 * hars.len()
        );
    }
}
