//! `traceadal redact` for a SAZ: what is a secret in one archive entry, and how it is
//! replaced by a same-length placeholder.
//!
//! The archive is not read here: `capture::saz::rewrite` walks it with the reader's own
//! central-directory reader and entry reading, hands each entry over ([`scrub_entry`]) and
//! writes back what comes back (an entry with nothing to replace is copied as stored).
//!
//! - `raw/NN_c.txt` and `raw/NN_s.txt`: the head is scrubbed line by line; the body is
//!   scrubbed as stored when it has no transfer or content coding. A chunked or compressed
//!   body is decoded (see `capture::body`) and scrubbed; when something was replaced it is
//!   stored decoded: `Transfer-Encoding` and `Content-Encoding` are removed and
//!   `Content-Length` set (what Fiddler's own "Remove all encodings" does). A body with
//!   nothing to replace keeps its encoding, byte for byte.
//! - Every other entry (`_m.xml`, `_w.txt`, `_index.htm`, ...) is scrubbed as text (runs of
//!   valid UTF-8; binary bytes pass unchanged).

use super::{scrub_bytes, Counts};
use crate::capture::body::{decode_partial, DecodeLimits};
use crate::capture::rewrite::{SazEntry, SazEntryKind};
use crate::capture::{Body, Headers};

/// What scrubbing entries found, besides what was replaced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub counts: Counts,
    /// Things the user should know (a body that could not be decoded). Never content.
    pub notes: Vec<String>,
}

/// One SAZ entry with its secrets replaced; `None` when it has none.
pub fn scrub_entry(
    entry: SazEntry<'_>,
    limits: &DecodeLimits,
    out: &mut Outcome,
) -> Option<Vec<u8>> {
    match entry.kind {
        Some(SazEntryKind::Request) | Some(SazEntryKind::Response) => {
            rewrite_message(entry.bytes, limits, out, entry.label)
        }
        _ => scrub_bytes(entry.bytes, &mut out.counts),
    }
}

/// A request or response entry with its secrets replaced; `None` when it has none.
fn rewrite_message(
    bytes: &[u8],
    limits: &DecodeLimits,
    out: &mut Outcome,
    label: &str,
) -> Option<Vec<u8>> {
    let Some((head_end, body_start)) = head_split(bytes) else {
        return scrub_bytes(bytes, &mut out.counts);
    };
    let head = &bytes[..head_end];
    let sep = &bytes[head_end..body_start];
    let body = &bytes[body_start..];
    let new_head = scrub_bytes(head, &mut out.counts);
    let head_now = new_head.as_deref().unwrap_or(head);
    let headers = parse_headers(head_now);
    let coded = headers.contains("transfer-encoding") || headers.contains("content-encoding");

    let mut new_body: Option<Vec<u8>> = None;
    let mut decoded = false;
    if !body.is_empty() {
        if coded {
            let raw = Body {
                raw: body.to_vec(),
                wire: true,
                truncated: false,
            };
            let d = decode_partial(&raw, &headers, limits);
            if let Some(found) = scrub_bytes(&d.bytes, &mut out.counts) {
                new_body = Some(found);
                decoded = true;
                if d.problem.is_some() {
                    out.notes.push(format!(
                        "{label}: the body decodes only in part; stored decoded as far as it goes"
                    ));
                }
            } else if d.problem.is_some() {
                out.notes.push(format!(
                    "{label}: the body does not decode; nothing found in what does, kept as stored"
                ));
            }
        } else {
            new_body = scrub_bytes(body, &mut out.counts);
        }
    }
    if new_head.is_none() && new_body.is_none() {
        return None;
    }
    let body_now = new_body.as_deref().unwrap_or(body);
    let head_out = if decoded {
        set_length(head_now, body_now.len(), true)
    } else if new_body.is_some() && body_now.len() != body.len() {
        set_length(head_now, body_now.len(), false)
    } else {
        head_now.to_vec()
    };
    let mut msg = head_out;
    msg.extend_from_slice(sep);
    msg.extend_from_slice(body_now);
    Some(msg)
}

/// Where the head ends (before the blank line) and the body starts.
fn head_split(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(p) = bytes[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        let rest = &bytes[nl + 1..];
        if rest.starts_with(b"\r\n") {
            return Some((nl + 1, nl + 3));
        }
        if rest.starts_with(b"\n") {
            return Some((nl + 1, nl + 2));
        }
        i = nl + 1;
    }
    None
}

/// The header fields of a head (the start line skipped), tolerant of anything.
fn parse_headers(head: &[u8]) -> Headers {
    let mut h = Headers::new();
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = String::from_utf8_lossy(line);
        if let Some((n, v)) = line.split_once(':') {
            h.push(n.trim(), v.trim());
        }
    }
    h
}

/// `head` with `Content-Length: len`; with `decoded`, without `Transfer-Encoding` and
/// `Content-Encoding` (the body is now stored decoded). Line ends are kept as they were.
fn set_length(head: &[u8], len: usize, decoded: bool) -> Vec<u8> {
    let is = |line: &[u8], name: &[u8]| {
        line.len() > name.len()
            && line[..name.len()].eq_ignore_ascii_case(name)
            && line[name.len()..].trim_ascii_start().starts_with(b":")
    };
    let crlf = head.windows(2).any(|w| w == b"\r\n");
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut out = Vec::with_capacity(head.len() + 24);
    let mut set = false;
    for line in head.split_inclusive(|&b| b == b'\n') {
        if decoded && (is(line, b"transfer-encoding") || is(line, b"content-encoding")) {
            continue;
        }
        if is(line, b"content-length") {
            if !set {
                out.extend_from_slice(format!("Content-Length: {len}").as_bytes());
                out.extend_from_slice(eol);
                set = true;
            }
            continue;
        }
        out.extend_from_slice(line);
    }
    if !set {
        if !out.ends_with(b"\n") {
            out.extend_from_slice(eol);
        }
        out.extend_from_slice(format!("Content-Length: {len}").as_bytes());
        out.extend_from_slice(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_gzip_body_is_stored_decoded_with_its_length() {
        use std::io::Write as _;
        let body = br#"{"refresh_token":"SECRET-RT-abcdefgh","token_type":"Bearer"}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(body).unwrap();
        let gz = gz.finish().unwrap();
        let mut chunked = format!("{:x}\r\n", gz.len()).into_bytes();
        chunked.extend_from_slice(&gz);
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let mut msg = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
        msg.extend_from_slice(&chunked);
        let mut out = Outcome::default();
        let new = rewrite_message(&msg, &DecodeLimits::default(), &mut out, "raw/1_s.txt")
            .expect("a secret was replaced");
        let text = String::from_utf8(new).unwrap();
        assert!(!text.contains("SECRET-RT"), "{text}");
        assert!(!text.to_ascii_lowercase().contains("transfer-encoding"));
        assert!(!text.to_ascii_lowercase().contains("content-encoding"));
        assert!(text.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(text.ends_with(r#""token_type":"Bearer"}"#));
        assert_eq!(out.counts.get(super::super::Kind::RefreshToken), 1);
    }

    #[test]
    fn a_message_without_secrets_is_left_alone() {
        let msg = b"GET https://x.contoso.com/a?b=c HTTP/1.1\r\nHost: x.contoso.com\r\n\r\n";
        let mut out = Outcome::default();
        assert!(rewrite_message(msg, &DecodeLimits::default(), &mut out, "raw/1_c.txt").is_none());
    }

    #[test]
    fn content_length_follows_a_changed_body() {
        let head = b"POST / HTTP/1.1\nHost: x\nContent-Length: 99\n";
        let new = set_length(head, 5, false);
        assert_eq!(new, b"POST / HTTP/1.1\nHost: x\nContent-Length: 5\n");
    }
}
