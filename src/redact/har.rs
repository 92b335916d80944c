//! `traceadal redact` for a HAR: a valid HAR 1.2 copy with every secret replaced by a
//! same-length placeholder.
//!
//! The file is read whole (plain, gzip or zlib, with or without a BOM) into a
//! `serde_json::Value` (keys in their original order) and written back as indented JSON,
//! uncompressed. That needs memory of a few times the file's size: fine for the HARs a ticket
//! carries (tens of MB), not for a 2 GB one — analysis streams, this does not.
//!
//! Where secrets are looked for:
//! - `headers[]`: each `{name, value}` as a header line (`Authorization`, `Cookie`, ...);
//! - `cookies[]`: every cookie value (names kept);
//! - `queryString[]`, `postData.params[]`: the value of a secret parameter name, other values
//!   scrubbed as text;
//! - `content.text` with `encoding: base64`: decoded, scrubbed, re-encoded;
//! - every other string anywhere (URLs, `postData.text`, `redirectURL`, comments, websocket
//!   messages): scrubbed as text.

use std::io::{Read, Write};
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flate2::read::{MultiGzDecoder, ZlibDecoder};
use serde_json::{Map, Value};

use super::{is_replaced, placeholder, scrub, scrub_bytes, scrub_header, scrub_param};
use super::{Counts, Kind, Style};
use crate::capture::detect::is_zlib_header;
use crate::capture::CaptureErrorKind;

/// The largest HAR (decompressed) this reads into memory.
pub const MAX_HAR_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Rewrite the HAR at `input` into `output`; the counts of what was replaced.
pub fn rewrite<W: Write>(input: &Path, output: W) -> Result<Counts, CaptureErrorKind> {
    let raw = std::fs::read(input)?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        inflate(MultiGzDecoder::new(raw.as_slice()), "gzip")?
    } else if is_zlib_header(&raw) {
        inflate(ZlibDecoder::new(raw.as_slice()), "zlib")?
    } else {
        raw
    };
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let mut har: Value = serde_json::from_slice(text).map_err(|e| {
        CaptureErrorKind::Har(format!(
            "not valid JSON ({:?} error at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    if !har
        .get("log")
        .and_then(|l| l.get("entries"))
        .is_some_and(Value::is_array)
    {
        return Err(CaptureErrorKind::Har("no log.entries array".into()));
    }
    let mut counts = Counts::default();
    walk(&mut har, None, &mut counts);
    let mut output = output;
    serde_json::to_writer_pretty(&mut output, &har)
        .map_err(|e| CaptureErrorKind::Io(std::io::Error::other(e.to_string())))?;
    output.write_all(b"\n")?;
    Ok(counts)
}

fn inflate<R: Read>(reader: R, what: &str) -> Result<Vec<u8>, CaptureErrorKind> {
    let mut out = Vec::new();
    reader
        .take(MAX_HAR_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|_| CaptureErrorKind::Har(format!("the {what} compression is damaged")))?;
    if out.len() as u64 > MAX_HAR_BYTES {
        return Err(CaptureErrorKind::Har(format!(
            "decompresses to more than {MAX_HAR_BYTES} bytes"
        )));
    }
    Ok(out)
}

/// Scrub every string under `v`; `parent` is the key of the array or object holding it.
fn walk(v: &mut Value, parent: Option<&str>, counts: &mut Counts) {
    match v {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(new) = scrub(s, Style::Placeholder, counts) {
                *s = new;
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, parent, counts);
            }
        }
        Value::Object(map) => {
            if name_value(map, parent, counts) {
                return;
            }
            if parent == Some("content") {
                base64_text(map, counts);
            }
            for (k, child) in map.iter_mut() {
                let key = k.clone();
                walk(child, Some(&key), counts);
            }
        }
        _ => {}
    }
}

/// `{name, value}` items of `headers`, `cookies`, `queryString` and `params`; `true` when
/// `map` was one (and is done).
fn name_value(map: &mut Map<String, Value>, parent: Option<&str>, counts: &mut Counts) -> bool {
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
    }
    // Anything else in the item (a cookie's path, a param's fileName) is scrubbed as text.
    for (k, child) in map.iter_mut() {
        if k != "name" && k != "value" {
            walk(child, None, counts);
        }
    }
    true
}

/// `content.text` stored as base64: decode, scrub, re-encode.
fn base64_text(map: &mut Map<String, Value>, counts: &mut Counts) {
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
    }
}
