//! `traceadal redact` for a SAZ: every entry rewritten in a normal form, then scrubbed.
//!
//! The archive is not read here: `capture::saz::rewrite` walks it with the reader's own
//! central-directory reader and entry reading, leaves out what is not SAZ layout, replaces
//! what cannot be read by a placeholder entry, and hands every other entry over
//! ([`scrub_entry`]). Nothing comes back as it was stored:
//!
//! - `raw/NN_c.txt` and `raw/NN_s.txt` ([`normalise_message`]) are parsed with the reader's
//!   HTTP parser and written anew: the start line, then every header on a line of its own
//!   (folded lines joined, lines without a colon dropped), CRLF line ends, each line scrubbed
//!   whole. A body is decoded as the analysis decodes it (`capture::body`: chunked framing,
//!   gzip, deflate, br, stacked) and stored identity-encoded: `Transfer-Encoding`,
//!   `Content-Encoding` and `Content-Length` go, one `Content-Length` of the stored body is
//!   written. What the decoding drops is gone: chunk extensions, trailers (not kept: the
//!   analysis never reads them), bytes after the last chunk, after a gzip member or after a
//!   deflate stream. A decoded body is kept when it is text (UTF-8, or UTF-16 written back
//!   as UTF-16, or a text type in a legacy charset, read byte by byte), scrubbed; an image,
//!   audio, video or font body is kept with its UTF-8 runs scrubbed; any other body is replaced by a one-line placeholder ([`body_placeholder`])
//!   saying what it was, and so is a body that does not decode at all or passes the decode
//!   cap. A body that decodes only in part (cut framing, trailing garbage) keeps what
//!   decoded, marked `X-Traceadal-Redacted: body-partial`.
//! - `raw/NN_w.txt` (websocket messages) is parsed by `capture::saz::websocket` (client
//!   frames unmasked, permessage-deflate messages inflated, fragments joined), its payloads
//!   scrubbed ([`ws`]), and written back as Fiddler writes it, one unmasked frame per
//!   message.
//! - `_m.xml`, `_index.htm` and `[Content_Types].xml` are scrubbed as text.
//!
//! Every replacement is listed in [`Outcome::notes`] by entry label and reason, never by
//! content.

mod ws;

use std::borrow::Cow;

use super::{scrub, scrub_bytes, Counts, Style};
use crate::capture::body::{decode_wire_partial, BodyError, DecodeLimits};
use crate::capture::http::{self, SchemeHint};
use crate::capture::rewrite::{SazEntry, SazEntryKind, PLACEHOLDER_PREFIX};
use crate::capture::Headers;

pub use crate::capture::rewrite::{BODY_PARTIAL, BODY_UNREAD, MARKER_HEADER};

/// What scrubbing entries found, besides what was replaced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub counts: Counts,
    /// Things the user should know (a body replaced by a placeholder). Never content.
    pub notes: Vec<String>,
}

/// One SAZ entry in its normal form, secrets replaced; `None` when it is text with nothing
/// to replace (stored as read).
pub fn scrub_entry(
    entry: SazEntry<'_>,
    limits: &DecodeLimits,
    out: &mut Outcome,
) -> Option<Vec<u8>> {
    match entry.kind {
        Some(SazEntryKind::Request) => Some(normalise_message(&entry, true, limits, out)),
        Some(SazEntryKind::Response) => Some(normalise_message(&entry, false, limits, out)),
        Some(SazEntryKind::WebSocket) => Some(ws::rewrite(entry.bytes, entry.label, limits, out)),
        Some(SazEntryKind::Meta) | None => scrub_text_bytes(entry.bytes, None, &mut out.counts),
    }
}

/// [`scrub_entry`] for the response of a session whose request went to a host that
/// answers a bare token ([`super::token_answer`]): a 2xx answer's body is replaced whole.
pub fn scrub_token_answer(
    entry: SazEntry<'_>,
    limits: &DecodeLimits,
    out: &mut Outcome,
) -> Option<Vec<u8>> {
    match entry.kind {
        Some(SazEntryKind::Response) => Some(normalise_as(&entry, false, limits, out, None, true)),
        _ => scrub_entry(entry, limits, out),
    }
}

/// [`scrub_entry`] for a session whose bodies are not kept (`--drop-bodies-except-auth`):
/// the heads in normal form, each body (and websocket messages) replaced by a placeholder
/// saying `why`.
pub fn scrub_entry_without_body(
    entry: SazEntry<'_>,
    why: &str,
    limits: &DecodeLimits,
    out: &mut Outcome,
) -> Option<Vec<u8>> {
    match entry.kind {
        Some(SazEntryKind::Request) => Some(normalise(&entry, true, limits, out, Some(why))),
        Some(SazEntryKind::Response) => Some(normalise(&entry, false, limits, out, Some(why))),
        Some(SazEntryKind::WebSocket) => {
            Some(format!("[traceadal redact: websocket messages removed: {why}]\r\n").into_bytes())
        }
        Some(SazEntryKind::Meta) | None => scrub_entry(entry, limits, out),
    }
}

/// The host and URL of the request in a `raw/NN_c.txt` entry (the reader's own: absolute
/// as Fiddler stores proxied requests, else built from `Host`); `None` when it is not a
/// request.
pub fn request_url(bytes: &[u8]) -> Option<(String, String)> {
    let (head, _) = http::parse_request(bytes, SchemeHint::Unknown).ok()?;
    let host = crate::capture::url_parts::UrlParts::split(&head.url)
        .host()
        .to_ascii_lowercase();
    Some((host, head.url))
}

/// A request or response entry written in its normal form, its secrets replaced.
pub fn normalise_message(
    entry: &SazEntry<'_>,
    request: bool,
    limits: &DecodeLimits,
    out: &mut Outcome,
) -> Vec<u8> {
    normalise(entry, request, limits, out, None)
}

/// [`normalise_message`]; with `drop`, a body is replaced by a placeholder saying why.
fn normalise(
    entry: &SazEntry<'_>,
    request: bool,
    limits: &DecodeLimits,
    out: &mut Outcome,
    drop: Option<&str>,
) -> Vec<u8> {
    normalise_as(entry, request, limits, out, drop, false)
}

/// [`normalise`]; with `token_answer`, the body of a 2xx response is a bare token
/// ([`super::token_answer`]) and is replaced whole.
fn normalise_as(
    entry: &SazEntry<'_>,
    request: bool,
    limits: &DecodeLimits,
    out: &mut Outcome,
    drop: Option<&str>,
    token_answer: bool,
) -> Vec<u8> {
    let label = entry.label;
    let bytes = entry.bytes;
    // An empty or blank response entry is how Fiddler stores "no response".
    if !request && bytes.iter().all(u8::is_ascii_whitespace) {
        return Vec::new();
    }
    let mut status = 0;
    let parsed = if request {
        http::parse_request(bytes, SchemeHint::Unknown).map(|(h, off)| {
            (
                format!("{} {} {}", h.method, h.target, h.version),
                h.headers,
                off,
            )
        })
    } else {
        http::parse_response(bytes).map(|(h, off)| {
            status = u64::from(h.status);
            (
                format!("{} {:03} {}", h.version, h.status, h.reason),
                h.headers,
                off,
            )
        })
    };
    let (start, headers, offset) = match parsed {
        Ok(p) => p,
        Err(e) => {
            out.notes.push(format!(
                "{label}: not an HTTP message ({e}); replaced by a placeholder entry"
            ));
            return format!("[traceadal redact: entry removed: {label}: {e}]\r\n").into_bytes();
        }
    };
    let stored = bytes.get(offset..).unwrap_or_default();
    let mut marks: Vec<&str> = Vec::new();
    if entry.damaged.is_some() {
        marks.push("entry-damaged");
    }
    let body = if entry.cut {
        Some(Rewritten::Removed(
            format!(
                "the entry is larger than the {}-byte read cap",
                limits
                    .max_decoded
                    .saturating_add(crate::capture::saz::HEAD_ALLOWANCE)
            ),
            true,
        ))
    } else if stored.is_empty() {
        None
    } else if let Some(why) = drop {
        Some(Rewritten::Removed(why.to_string(), false))
    } else if token_answer
        && super::token_answer::is_token_status(status)
        && !stored.starts_with(PLACEHOLDER_PREFIX.as_bytes())
    {
        out.counts.add(super::Kind::OtherToken);
        Some(Rewritten::Removed(
            super::token_answer::WHY.to_string(),
            false,
        ))
    } else {
        Some(rewrite_body(stored, &headers, limits, &mut out.counts))
    };

    let mut msg = Vec::with_capacity(offset.saturating_add(256));
    push_line(&mut msg, start.trim_end(), &mut out.counts);
    let body_bytes = match body {
        None => {
            // No body: the head as it was, framing headers included (a HEAD answer's
            // Content-Length describes a body that was never sent).
            for (name, value) in headers.iter() {
                push_line(&mut msg, &format!("{name}: {value}"), &mut out.counts);
            }
            push_marks(&mut msg, &marks);
            Vec::new()
        }
        Some(body) => {
            let removed = matches!(body, Rewritten::Removed(..));
            for (name, value) in headers.iter() {
                if crate::capture::write::is_framing(name)
                    || (removed && name.eq_ignore_ascii_case("content-type"))
                {
                    continue;
                }
                push_line(&mut msg, &format!("{name}: {value}"), &mut out.counts);
            }
            let data = match body {
                Rewritten::Kept(b) => b,
                Rewritten::Partial(b, why) => {
                    out.notes.push(format!(
                        "{label}: the body decodes only in part ({why}); the rest was dropped"
                    ));
                    marks.push(BODY_PARTIAL);
                    b
                }
                Rewritten::Removed(why, unread) => {
                    // Dropped on request: counted by the caller, not listed per session.
                    if drop.is_none() {
                        out.notes
                            .push(format!("{label}: body replaced by a placeholder ({why})"));
                    }
                    marks.push("body-removed");
                    if unread {
                        // The analysis of the original could not read it either: the copy
                        // says so, and `auth` reports it as the original's problem.
                        marks.push(BODY_UNREAD);
                    }
                    msg.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
                    body_placeholder(headers.get("content-type"), stored.len(), &why)
                }
            };
            push_marks(&mut msg, &marks);
            msg.extend_from_slice(format!("Content-Length: {}\r\n", data.len()).as_bytes());
            data
        }
    };
    msg.extend_from_slice(b"\r\n");
    msg.reserve_exact(body_bytes.len());
    msg.extend_from_slice(&body_bytes);
    msg
}

/// The marker header, when the rewrite changed more than secrets. Written before the
/// `Content-Length` it comes with, so that a second rewrite keeps the order.
fn push_marks(msg: &mut Vec<u8>, marks: &[&str]) {
    if !marks.is_empty() {
        msg.extend_from_slice(format!("{MARKER_HEADER}: {}\r\n", marks.join(", ")).as_bytes());
    }
}

/// One head line, scrubbed, CRLF-terminated; a bare CR or a NUL inside it made a space.
fn push_line(msg: &mut Vec<u8>, line: &str, counts: &mut Counts) {
    let line: Cow<str> = if line.contains(['\r', '\n', '\0']) {
        Cow::Owned(line.replace(['\r', '\n', '\0'], " "))
    } else {
        Cow::Borrowed(line)
    };
    msg.extend_from_slice(scrub(&line, Style::Placeholder, counts).as_bytes());
    msg.extend_from_slice(b"\r\n");
}

/// What became of a body.
#[derive(Debug, PartialEq, Eq)]
enum Rewritten {
    /// Decoded whole, scrubbed.
    Kept(Vec<u8>),
    /// What decoded before the damage, scrubbed; why the rest did not.
    Partial(Vec<u8>, String),
    /// Not kept: why, and whether the analysis could not read it either (it did not
    /// decode, or passed a cap) rather than a body left out by choice.
    Removed(String, bool),
}

/// A stored (wire-form) body, decoded and scrubbed, or why it is not kept.
fn rewrite_body(
    stored: &[u8],
    headers: &Headers,
    limits: &DecodeLimits,
    counts: &mut Counts,
) -> Rewritten {
    let d = decode_wire_partial(stored, headers, limits);
    let partial = match d.problem {
        None => None,
        Some(BodyError::TooLarge(max)) => {
            return Rewritten::Removed(
                format!("decoded it is larger than the {max}-byte decode cap (--max-body-mib)"),
                true,
            )
        }
        Some(p) if d.bytes.is_empty() => return Rewritten::Removed(why_not_decoded(&p), true),
        Some(p) => Some(why_not_decoded(&p)),
    };
    let ctype = headers.get("content-type");
    let kept = if is_text(&d.bytes, ctype, partial.is_some()) {
        scrub_text_bytes(&d.bytes, ctype, counts).unwrap_or(d.bytes)
    } else if is_textual(ctype) && !d.bytes.contains(&0) {
        scrub_single_byte(&d.bytes, counts).unwrap_or(d.bytes)
    } else if is_media(ctype) {
        scrub_bytes(&d.bytes, counts).unwrap_or(d.bytes)
    } else {
        return Rewritten::Removed("binary content is not kept".into(), partial.is_some());
    };
    match partial {
        None => Rewritten::Kept(kept),
        Some(why) => Rewritten::Partial(kept, why),
    }
}

/// A decoding problem in the placeholder's words (no content: coding names are checked
/// tokens, see `capture::body`).
fn why_not_decoded(p: &BodyError) -> String {
    match p {
        BodyError::Coding { coding, reason } if reason == "unsupported content coding" => {
            format!("content-encoding {coding} not decoded")
        }
        other => other.to_string(),
    }
}

/// The placeholder body: `[traceadal redact: body removed: application/json, 123 bytes
/// stored, content-encoding zstd not decoded]`.
pub fn body_placeholder(content_type: Option<&str>, stored: usize, why: &str) -> Vec<u8> {
    format!(
        "{PLACEHOLDER_PREFIX}body removed: {}, {stored} bytes stored, {why}]",
        media_type(content_type).unwrap_or("no or unknown content type")
    )
    .into_bytes()
}

/// The media type of a `Content-Type` value when it is one (`type/subtype` of token
/// characters, lower case in the value or not), else `None`: header values are content.
fn media_type(ctype: Option<&str>) -> Option<&str> {
    let t = ctype?.split(';').next()?.trim();
    let (a, b) = t.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 40
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&c))
    };
    (token(a) && token(b)).then_some(t)
}

/// Images, audio, video and fonts: binary bodies kept (their UTF-8 runs scrubbed).
fn is_media(ctype: Option<&str>) -> bool {
    media_type(ctype).is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        ["image/", "audio/", "video/", "font/"]
            .iter()
            .any(|p| t.starts_with(p))
    })
}

/// A media type that is text in some charset: `text/*`, JSON, XML, JavaScript, a form.
fn is_textual(ctype: Option<&str>) -> bool {
    media_type(ctype).is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        t.starts_with("text/")
            || t.ends_with("+xml")
            || t.ends_with("+json")
            || [
                "application/json",
                "application/xml",
                "application/javascript",
                "application/x-javascript",
                "application/ecmascript",
                "application/x-www-form-urlencoded",
            ]
            .contains(&t.as_str())
    })
}

/// Text in a legacy charset (Latin-1, Windows-1252, Shift_JIS...) scrubbed as one string:
/// each byte read as the character of that number, so a secret with a byte above 127 in it
/// stays one stretch of text, and written back byte for byte (placeholders are ASCII).
fn scrub_single_byte(bytes: &[u8], counts: &mut Counts) -> Option<Vec<u8>> {
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    match scrub(&text, Style::Placeholder, counts) {
        Cow::Borrowed(_) => None,
        Cow::Owned(new) => Some(
            new.chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect(),
        ),
    }
}

/// Valid UTF-8 (a sequence cut at the very end allowed when the body is cut), or UTF-16.
fn is_text(bytes: &[u8], ctype: Option<&str>, cut: bool) -> bool {
    if utf16_form(bytes, ctype).is_some() {
        return true;
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) if cut && e.error_len().is_none() => true,
        Err(_) => false,
    }
}

/// How a UTF-16 text is written: little-endian or not, with a byte-order mark or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Utf16 {
    le: bool,
    bom: bool,
}

/// `bytes` as UTF-16 text, when they are: a byte-order mark, a UTF-16 charset, or the
/// shape of ASCII-range text in UTF-16 (every other byte zero).
fn utf16_form(bytes: &[u8], ctype: Option<&str>) -> Option<Utf16> {
    if bytes.len() < 2 || bytes.len() % 2 != 0 {
        return None;
    }
    if bytes.starts_with(&[0xff, 0xfe]) {
        return Some(Utf16 {
            le: true,
            bom: true,
        });
    }
    if bytes.starts_with(&[0xfe, 0xff]) {
        return Some(Utf16 {
            le: false,
            bom: true,
        });
    }
    let sample = &bytes[..bytes.len().min(4096)];
    let pairs = sample.len() / 2;
    let zeros_at = |i: usize| {
        sample
            .iter()
            .skip(i)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    let charset = ctype.map(str::to_ascii_lowercase).unwrap_or_default();
    let declared = charset.contains("utf-16") || charset.contains("charset=unicode");
    let mostly = |z: usize| z * 10 >= pairs * 8;
    let rarely = |z: usize| z * 20 <= pairs;
    if (declared || mostly(odd)) && rarely(even) && odd > 0 {
        return Some(Utf16 {
            le: true,
            bom: false,
        });
    }
    if (declared || mostly(even)) && rarely(odd) && even > 0 {
        return Some(Utf16 {
            le: false,
            bom: false,
        });
    }
    None
}

/// Text scrubbed: UTF-16 (decoded,
/// scrubbed, encoded back the same way) or UTF-8 (runs of it in other bytes, as
/// [`scrub_bytes`]). `None` when nothing was replaced.
fn scrub_text_bytes(bytes: &[u8], ctype: Option<&str>, counts: &mut Counts) -> Option<Vec<u8>> {
    // UTF-16 first: ASCII-range UTF-16 is valid UTF-8 too (a NUL every other byte).
    if let Some(form) = utf16_form(bytes, ctype) {
        let body = if form.bom { &bytes[2..] } else { bytes };
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| {
                if form.le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        let text = String::from_utf16_lossy(&units);
        let Cow::Owned(new) = scrub(&text, Style::Placeholder, counts) else {
            return None;
        };
        let mut out = Vec::with_capacity(bytes.len());
        if form.bom {
            out.extend_from_slice(&bytes[..2]);
        }
        for u in new.encode_utf16() {
            out.extend_from_slice(&if form.le {
                u.to_le_bytes()
            } else {
                u.to_be_bytes()
            });
        }
        return Some(out);
    }
    scrub_bytes(bytes, counts)
}

#[cfg(test)]
mod tests;
