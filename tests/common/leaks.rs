//! Looking for a secret in every form it could leak in, and in every layer a capture file
//! hides bytes in. Shared by tests/secrets.rs (the samples' planted secrets) and
//! tests/adversarial.rs (the adversarial set's oracle).
//!
//! The decoders here are the tests' own (zip crate, flate2, brotli), not traceadal's: a
//! layer traceadal cannot read is still searched.

use std::io::{Cursor, Read};

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;

/// Decompression stops here (the over-cap case inflates to 64 MiB and a bit).
const MAX_INFLATE: u64 = 256 << 20;

/// The stretch of `base64(x)` that is the same wherever `secret` starts inside `x`, for each
/// of the three alignments (standard and URL-safe alphabets).
pub fn base64_forms(secret: &str) -> Vec<String> {
    base64_forms_of(secret.as_bytes())
}

fn base64_forms_of(secret: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for offset in 0..3usize {
        let mut data = vec![0u8; offset];
        data.extend_from_slice(secret);
        let enc = STANDARD.encode(&data);
        let start = if offset == 0 { 0 } else { 4 };
        let end = data.len() / 3 * 4;
        if end > start + 8 {
            let s = enc[start..end].to_string();
            out.push(s.replace('+', "-").replace('/', "_"));
            out.push(s);
        }
    }
    out.push(URL_SAFE_NO_PAD.encode(secret));
    out
}

/// Percent-encoding of every byte but the unreserved ones (upper-case hex).
pub fn percent(secret: &str, plus_for_space: bool) -> String {
    let mut out = String::new();
    for b in secret.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' if plus_for_space => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Every form in which `secret` could leak (text forms).
pub fn forms(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap_or_default();
    let mut f = vec![
        secret.to_string(),
        percent(secret, false),
        percent(secret, false).to_lowercase(),
        percent(secret, true),
        json.trim_matches('"').to_string(),
    ];
    f.extend(base64_forms(secret));
    f.sort();
    f.dedup();
    f
}

/// Every form of `secret` with the name of its encoding, as bytes: raw, URL and double-URL
/// encoded (upper and lower hex, `+` for space), JSON-escaped and `\u`-escaped, HTML numeric
/// references (decimal and hex), base64 and base64url at every alignment, UTF-16LE and BE
/// (and base64 of UTF-16LE). Forms equal to an earlier one are left out.
pub fn named_forms(secret: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut v: Vec<(&'static str, Vec<u8>)> = vec![("raw", secret.as_bytes().to_vec())];
    let pct = percent(secret, false);
    v.push(("url", pct.clone().into_bytes()));
    v.push(("url-lower", pct.to_lowercase().into_bytes()));
    v.push(("url-plus", percent(secret, true).into_bytes()));
    v.push(("double-url", pct.replace('%', "%25").into_bytes()));
    let json = serde_json::to_string(secret).unwrap_or_default();
    v.push(("json", json.trim_matches('"').as_bytes().to_vec()));
    let u: String = secret
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    v.push(("json-u-escape", u.clone().into_bytes()));
    v.push((
        "json-u-escape-upper",
        u.to_uppercase().replace("\\U", "\\u").into_bytes(),
    ));
    let dec: String = secret.chars().map(|c| format!("&#{};", c as u32)).collect();
    v.push(("html-decimal", dec.into_bytes()));
    let hex: String = secret
        .chars()
        .map(|c| format!("&#x{:x};", c as u32))
        .collect();
    v.push(("html-hex", hex.into_bytes()));
    for f in base64_forms(secret) {
        v.push(("base64", f.into_bytes()));
    }
    let le: Vec<u8> = secret.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = secret.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for f in base64_forms_of(&le) {
        v.push(("base64-utf16le", f.into_bytes()));
    }
    v.push(("utf16le", le));
    v.push(("utf16be", be));
    let mut seen: Vec<Vec<u8>> = Vec::new();
    v.retain(|(_, b)| {
        if seen.contains(b) {
            false
        } else {
            seen.push(b.clone());
            true
        }
    });
    v
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(hay, needle).is_some()
}

/// The name of the first form of `forms` found in `hay`, also with every ASCII blank
/// removed (base64 wrapped in lines, a folded header); then `"partial"` when 16 characters
/// of `secret` in a row are there raw (a cut excerpt, a shortened URL).
pub fn find(hay: &[u8], secret: &str, forms: &[(&'static str, Vec<u8>)]) -> Option<&'static str> {
    for (name, f) in forms {
        if contains(hay, f) {
            return Some(name);
        }
    }
    let squeezed: Vec<u8> = hay
        .iter()
        .copied()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .collect();
    if squeezed.len() != hay.len() {
        for (name, f) in forms {
            if *name != "utf16le" && *name != "utf16be" && contains(&squeezed, f) {
                return Some(name);
            }
        }
    }
    let s = secret.as_bytes();
    if s.len() > 16 && s.windows(16).any(|w| contains(hay, w)) {
        return Some("partial");
    }
    None
}

/// A named part of a capture file.
pub struct Layer {
    /// Where it is (`file`, `zip-comment`, `entry:raw/3_s.txt`, `body:raw/3_s.txt`...).
    pub place: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

fn layer(place: impl Into<String>, bytes: Vec<u8>) -> Layer {
    Layer {
        place: place.into(),
        bytes,
    }
}

/// Every layer of a capture: the file; for a zip, its comment, and per entry the name,
/// comment, extra fields, content, the HTTP body decoded (chunked, gzip (every member),
/// deflate (zlib or raw), br, layer after layer) and websocket payloads unmasked; for a HAR,
/// every JSON string unescaped and every string that decodes as base64 (any alphabet,
/// padded or not, wrapped), decoded.
pub fn layers(bytes: &[u8]) -> Vec<Layer> {
    let mut out = vec![layer("file", bytes.to_vec())];
    if bytes.starts_with(b"PK") {
        zip_layers(bytes, &mut out);
    } else if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let mut strings = Vec::new();
        walk(&v, &mut strings);
        let mut all = Vec::new();
        let mut decoded = Vec::new();
        for s in &strings {
            all.extend_from_slice(s.as_bytes());
            all.push(b'\n');
            if let Some(d) = base64_any(s) {
                decoded.extend(inflate_any(&d));
                decoded.extend(d);
                decoded.push(b'\n');
            }
        }
        out.push(layer("har-strings", all));
        out.push(layer("har-base64-decoded", decoded));
    } else {
        // Neither zip nor JSON: a HAR with invalid UTF-8 or a damaged one, searched raw only.
    }
    out
}

fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                walk(x, out);
            }
        }
        _ => {}
    }
}

/// `s` decoded as base64 (standard or URL-safe, padded or not, blanks ignored), when it is.
fn base64_any(s: &str) -> Option<Vec<u8>> {
    let t: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if t.len() < 8
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'='))
    {
        return None;
    }
    let bare = t.trim_end_matches('=');
    let std = bare.replace('-', "+").replace('_', "/");
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(&std)
        .ok()
        .or_else(|| URL_SAFE.decode(&t).ok())
}

fn zip_layers(bytes: &[u8], out: &mut Vec<Layer>) {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return;
    };
    out.push(layer("zip-comment", zip.comment().to_vec()));
    for i in 0..zip.len() {
        let Ok(mut e) = zip.by_index(i) else {
            continue;
        };
        let name = String::from_utf8_lossy(e.name_raw()).into_owned();
        out.push(layer("entry-name", e.name_raw().to_vec()));
        out.push(layer(
            format!("entry-comment:{name}"),
            e.comment_raw().to_vec(),
        ));
        if let Some(x) = e.extra_data() {
            out.push(layer(format!("entry-extra:{name}"), x));
        }
        let mut data = Vec::new();
        let _ = (&mut e).take(MAX_INFLATE).read_to_end(&mut data);
        if name.ends_with("_c.txt") || name.ends_with("_s.txt") {
            out.push(layer(format!("body:{name}"), http_body(&data)));
        }
        if name.ends_with("_w.txt") {
            out.push(layer(format!("websocket:{name}"), unmask_frames(&data)));
        }
        out.push(layer(format!("entry:{name}"), data));
    }
}

/// The body of an HTTP message (`_c.txt`/`_s.txt`) with every coding undone that can be:
/// the transfer coding, then the content codings in reverse order; what does not decode is
/// kept as it is, and every layer met is kept.
pub fn http_body(msg: &[u8]) -> Vec<u8> {
    let (head, body) = match memchr::memmem::find(msg, b"\r\n\r\n") {
        Some(i) => (&msg[..i], &msg[i + 4..]),
        None => match memchr::memmem::find(msg, b"\n\n") {
            Some(i) => (&msg[..i], &msg[i + 2..]),
            None => return Vec::new(),
        },
    };
    let head = String::from_utf8_lossy(head)
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ");
    let header = |name: &str| -> String {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut data = if header("transfer-encoding").contains("chunked") {
        dechunk(body)
    } else {
        body.to_vec()
    };
    let mut all = data.clone();
    let codings: Vec<String> = header("content-encoding")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for c in codings.iter().rev() {
        let next = match c.as_str() {
            "gzip" | "x-gzip" | "deflate" => inflate_any(&data),
            "br" => {
                let mut d = Vec::new();
                let _ = brotli_decompressor::Decompressor::new(&data[..], 4096)
                    .take(MAX_INFLATE)
                    .read_to_end(&mut d);
                d
            }
            _ => Vec::new(),
        };
        if next.is_empty() {
            break;
        }
        all.push(b'\n');
        all.extend_from_slice(&next);
        data = next;
    }
    // Mislabelled layers: whatever still starts like gzip.
    let mut guard = 0;
    while data.starts_with(&[0x1f, 0x8b]) && guard < 4 {
        let next = inflate_any(&data);
        if next.is_empty() {
            break;
        }
        all.push(b'\n');
        all.extend_from_slice(&next);
        data = next;
        guard += 1;
    }
    all
}

/// gzip (every member), zlib, or raw deflate, whichever decodes; empty when none does.
fn inflate_any(data: &[u8]) -> Vec<u8> {
    let mut d = Vec::new();
    if data.starts_with(&[0x1f, 0x8b]) {
        let _ = flate2::read::MultiGzDecoder::new(data)
            .take(MAX_INFLATE)
            .read_to_end(&mut d);
        if !d.is_empty() {
            return d;
        }
    }
    let _ = flate2::read::ZlibDecoder::new(data)
        .take(MAX_INFLATE)
        .read_to_end(&mut d);
    if !d.is_empty() {
        return d;
    }
    let _ = flate2::read::DeflateDecoder::new(data)
        .take(MAX_INFLATE)
        .read_to_end(&mut d);
    d
}

/// Chunked framing undone, leniently: sizes read up to `;` (extensions ignored), data
/// concatenated, whatever follows the last chunk appended.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = memchr::memmem::find(b, b"\r\n") else {
            out.extend_from_slice(b);
            return out;
        };
        let line = String::from_utf8_lossy(&b[..eol]);
        let size = line.split(';').next().unwrap_or("").trim();
        let Ok(n) = usize::from_str_radix(size, 16) else {
            out.extend_from_slice(b);
            return out;
        };
        b = &b[eol + 2..];
        if n == 0 {
            out.extend_from_slice(b);
            return out;
        }
        let take = n.min(b.len());
        out.extend_from_slice(&b[..take]);
        b = &b[take..];
        if b.starts_with(b"\r\n") {
            b = &b[2..];
        }
    }
}

/// The payloads of the websocket frames in a Fiddler `_w.txt`, unmasked: each message is a
/// header block (`...-Length: N`), a blank line, and an N-byte frame.
pub fn unmask_frames(w: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = w;
    while let Some(i) = memchr::memmem::find(rest, b"-Length: ") {
        let after = &rest[i + 9..];
        let digits: Vec<u8> = after
            .iter()
            .copied()
            .take_while(u8::is_ascii_digit)
            .collect();
        let n: usize = String::from_utf8_lossy(&digits).parse().unwrap_or(0);
        let Some(blank) = memchr::memmem::find(after, b"\r\n\r\n") else {
            break;
        };
        let frame = &after[blank + 4..];
        let frame = &frame[..n.min(frame.len())];
        out.extend(unmask(frame));
        out.push(b'\n');
        rest = &after[blank + 4 + frame.len()..];
    }
    out
}

/// One frame's payload, unmasked (whatever it holds if the header is cut).
pub fn unmask(f: &[u8]) -> Vec<u8> {
    if f.len() < 2 {
        return Vec::new();
    }
    let masked = f[1] & 0x80 != 0;
    let (len, mut at) = match f[1] & 0x7f {
        126 if f.len() >= 4 => (usize::from(u16::from_be_bytes([f[2], f[3]])), 4),
        127 if f.len() >= 10 => (
            usize::try_from(u64::from_be_bytes(f[2..10].try_into().unwrap_or([0; 8])))
                .unwrap_or(usize::MAX),
            10,
        ),
        n => (usize::from(n), 2),
    };
    let key = if masked && f.len() >= at + 4 {
        let k = [f[at], f[at + 1], f[at + 2], f[at + 3]];
        at += 4;
        Some(k)
    } else {
        None
    };
    let end = at.saturating_add(len).min(f.len());
    let payload = f.get(at..end).unwrap_or(&[]);
    match key {
        Some(k) => payload
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ k[i % 4])
            .collect(),
        None => payload.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_form_is_found_and_named() {
        let s = "ADV001xAbCdEfGhIjKlMnOpQrStUvWx";
        let forms = named_forms(s);
        for (name, f) in &forms {
            let mut hay = b"prefix ".to_vec();
            hay.extend_from_slice(f);
            assert_eq!(find(&hay, s, &forms), Some(*name), "{name}");
        }
        assert_eq!(find(b"nothing here", s, &forms), None);
        assert_eq!(find(b"cut: ADV001xAbCdEfGhI", s, &forms), Some("partial"));
    }
}
