//! What a session shows beyond its summary: request and response heads and a decoded body
//! excerpt, for the renderers that show sessions in detail (the HTML page). Analysis keeps
//! none of this (memory follows the largest session, not the capture), so the orchestrator
//! gathers it with a second read of the capture, keeping only the sessions a report cites.

use std::collections::BTreeSet;

use super::{BodyError, Capture, CaptureError, DecodeLimits, Headers, Session};

/// The most of a body the page shows.
pub const BODY_EXCERPT: usize = 16 * 1024;
/// The most of a body decoded to make an excerpt: a bigger one is reported, not shown.
pub const BODY_DECODE_CAP: u64 = 8 * 1024 * 1024;

/// How an excerpt is cut: at most `max` bytes of the text, and whether it was cut. The
/// orchestrator passes `redact::cut::prefix`, which never leaves half a secret (capture,
/// the first stage, cannot name the redaction layer); [`SessionDetail::of`] cuts before a
/// split word only.
pub type Cut = fn(&str, usize) -> (&str, bool);

/// One session as the page's detail block shows it. Values are as captured: the renderer
/// redacts and escapes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionDetail {
    pub id: u64,
    pub method: String,
    pub url: String,
    pub request_version: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: BodyExcerpt,
    /// `None` when no response was recorded.
    pub response: Option<ResponseDetail>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseDetail {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: BodyExcerpt,
}

/// The start of a decoded body, as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyExcerpt {
    /// The excerpt (lossy UTF-8, cut at a character boundary). Empty for an empty or
    /// binary body.
    pub text: String,
    /// Decoded size in bytes, when the body could be decoded.
    pub size: Option<usize>,
    /// Why the body is not (all) shown: cut, binary, too large, not decodable.
    pub note: Option<String>,
}

impl SessionDetail {
    /// The detail, excerpts cut before a word they would split (no knowledge of secrets:
    /// the orchestrator uses [`SessionDetail::with_cut`] through [`gather`]).
    pub fn of(session: &Session) -> SessionDetail {
        SessionDetail::with_cut(session, cut_at)
    }

    /// The detail, excerpts cut by `cut`.
    pub fn with_cut(session: &Session, cut: Cut) -> SessionDetail {
        let limits = DecodeLimits {
            max_decoded: BODY_DECODE_CAP,
            ..DecodeLimits::default()
        };
        let req = &session.request;
        SessionDetail {
            id: session.id,
            method: req.method.clone(),
            url: req.url.clone(),
            request_version: req.version.clone(),
            request_headers: pairs(&req.headers),
            request_body: excerpt(
                req.decoded_body(&limits),
                req.headers.get("content-type"),
                req.body.truncated,
                cut,
            ),
            response: session.response.as_ref().map(|r| ResponseDetail {
                version: r.version.clone(),
                status: r.status,
                reason: r.reason.clone(),
                headers: pairs(&r.headers),
                body: excerpt(
                    r.decoded_body(&limits),
                    r.content_type(),
                    r.body.truncated,
                    cut,
                ),
            }),
        }
    }
}

/// Read `capture` again and keep the detail of the `wanted` sessions only, in id order,
/// body excerpts cut by `cut`. Sessions that cannot be read are left out (the report
/// already lists them as errors).
pub fn gather(
    capture: &Capture,
    wanted: &BTreeSet<u64>,
    cut: Cut,
) -> Result<Vec<SessionDetail>, CaptureError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut details: Vec<SessionDetail> = capture
        .map_sessions(|r| match r {
            Ok(s) if wanted.contains(&s.id) => Some(SessionDetail::with_cut(&s, cut)),
            _ => None,
        })?
        .into_iter()
        .flatten()
        .collect();
    details.sort_by_key(|d| d.id);
    Ok(details)
}

fn pairs(h: &Headers) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn excerpt(
    decoded: Result<Vec<u8>, BodyError>,
    content_type: Option<&str>,
    truncated: bool,
    cut: Cut,
) -> BodyExcerpt {
    let bytes = match decoded {
        Ok(b) => b,
        Err(e) => {
            return BodyExcerpt {
                text: String::new(),
                size: None,
                note: Some(format!("body not shown: {e}")),
            }
        }
    };
    let mut notes = Vec::new();
    if truncated {
        notes.push("the capture cut this body short".to_string());
    }
    if bytes.is_empty() {
        return BodyExcerpt {
            text: String::new(),
            size: Some(0),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        };
    }
    if looks_binary(&bytes) {
        notes.push(format!("binary body, {} bytes, not shown", bytes.len()));
        return BodyExcerpt {
            text: String::new(),
            size: Some(bytes.len()),
            note: Some(notes.join("; ")),
        };
    }
    let full = String::from_utf8_lossy(&bytes);
    let is_json = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("json"))
        || full.trim_start().starts_with('{');
    let pretty = if is_json && bytes.len() <= BODY_EXCERPT * 4 {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
    } else {
        None
    };
    let shown = pretty.unwrap_or_else(|| full.into_owned());
    let (text, was_cut) = cut(&shown, BODY_EXCERPT);
    if was_cut {
        notes.push(format!(
            "first {} of {} bytes shown",
            text.len(),
            shown.len()
        ));
    }
    BodyExcerpt {
        text: text.to_string(),
        size: Some(bytes.len()),
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

/// At most `max` bytes of `s`, cut at a character boundary, before a word (letters and
/// digits) the cut would split when that word is short.
fn cut_at(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    let word = |c: char| c.is_alphanumeric();
    if s[end..].starts_with(word) {
        let start = s[..end].trim_end_matches(word).len();
        if end - start <= 256 {
            end = start;
        }
    }
    (&s[..end], true)
}

/// Whether a decoded body is binary: invalid UTF-8 (beyond a cut character) or many
/// control bytes in its first KiB.
pub fn looks_binary(b: &[u8]) -> bool {
    let head = &b[..b.len().min(1024)];
    if std::str::from_utf8(head).is_err() && std::str::from_utf8(b).is_err() {
        // Invalid UTF-8 that is not just a cut multi-byte character at the end.
        let bad = String::from_utf8_lossy(head).matches('\u{FFFD}').count();
        if bad * 20 > head.len() {
            return true;
        }
    }
    head.iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r'))
        .count()
        * 20
        > head.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Body, Request, Response};

    fn session(body: &[u8], ct: &str) -> Session {
        let mut headers = Headers::new();
        headers.push("Content-Type", ct);
        Session {
            id: 7,
            request: Request {
                method: "POST".into(),
                url: "https://login.microsoftonline.com/common/oauth2/token".into(),
                version: "HTTP/1.1".into(),
                headers: Headers::new(),
                body: Body::default(),
            },
            response: Some(Response {
                version: "HTTP/1.1".into(),
                status: 400,
                reason: "Bad Request".into(),
                headers,
                body: Body {
                    raw: body.to_vec(),
                    wire: false,
                    truncated: false,
                },
            }),
            ..Session::default()
        }
    }

    #[test]
    fn json_is_pretty_and_long_bodies_are_cut_on_a_char_boundary() {
        let d = SessionDetail::of(&session(
            br#"{"error":"invalid_resource","error_codes":[500011]}"#,
            "application/json",
        ));
        let r = d
            .response
            .as_ref()
            .map(|r| r.body.text.clone())
            .unwrap_or_default();
        assert!(r.contains("\"error_codes\": [\n"), "{r}");

        let long = "é".repeat(BODY_EXCERPT);
        let d = SessionDetail::of(&session(long.as_bytes(), "text/plain"));
        let b = d.response.map(|r| r.body).unwrap_or_default();
        assert!(b.text.len() <= BODY_EXCERPT);
        assert!(b.note.as_deref().is_some_and(|n| n.starts_with("first ")));
        assert_eq!(b.size, Some(long.len()));
    }

    #[test]
    fn binary_bodies_are_not_shown() {
        let d = SessionDetail::of(&session(
            &[0u8, 1, 2, 3, 0xff, 0xfe, 0, 0, 7, 8],
            "image/png",
        ));
        let b = d.response.map(|r| r.body).unwrap_or_default();
        assert!(b.text.is_empty());
        assert!(b.note.as_deref().is_some_and(|n| n.contains("binary")));
    }
}
