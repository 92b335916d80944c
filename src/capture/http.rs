//! HTTP/1.x message head parsing for Fiddler's raw `_c.txt` / `_s.txt` files.
//!
//! The files hold the message as Fiddler saw it on the wire, but captures come from many
//! tools and many broken clients, so the parser is tolerant rather than strict: CRLF or bare
//! LF, obs-fold continuation lines, NUL bytes and invalid UTF-8 (decoded lossily), a head cut
//! off before its blank line (parsed as far as it goes and flagged). It never fails on a bad
//! header line, only on a first line that is not a request or status line at all.
//!
//! Cost is linear in the input: each line is found with one forward scan, and folded lines
//! are appended to the previous value in place, so a 10 MB header line or 100 000 headers
//! cost what their bytes cost.

// Capture data is hostile: no unwrap/expect outside tests (issue 8).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::borrow::Cow;

use super::headers::Headers;

/// What the first line and the context say about the scheme of an origin-form request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemeHint {
    /// Nothing known: `http`, unless the `Host` port is 443.
    #[default]
    Unknown,
    /// The request travelled inside a decrypted HTTPS tunnel (Fiddler's `IsHTTPS` bit).
    Https,
    /// The request is known to be plain HTTP.
    Http,
}

/// The form of a request target (RFC 9112 section 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetForm {
    /// `GET https://host/path HTTP/1.1`, as Fiddler stores proxied requests.
    Absolute,
    /// `GET /path HTTP/1.1` with a `Host` header.
    Origin,
    /// `CONNECT host:443 HTTP/1.1`.
    Authority,
    /// `OPTIONS * HTTP/1.1`.
    Asterisk,
    /// Anything else; kept as written.
    Other,
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    /// The request target exactly as written (lossy UTF-8).
    pub target: String,
    pub form: TargetForm,
    /// The absolute URL: the target itself in absolute form, `scheme://Host + target` in
    /// origin form, `host:port` for `CONNECT`; the bare target when no host is known.
    pub url: String,
    /// `HTTP/1.1`; empty when the request line has none.
    pub version: String,
    pub headers: Headers,
    pub flaws: HeadFlaws,
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub version: String,
    pub status: u16,
    /// Reason phrase; empty when the status line has none.
    pub reason: String,
    pub headers: Headers,
    pub flaws: HeadFlaws,
}

/// Damage the parser worked around. Reported per session; never carries content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadFlaws {
    /// The input ended before the blank line that ends the head.
    pub truncated: bool,
    /// Header lines without a colon (skipped).
    pub malformed_lines: usize,
    /// An origin-form target and no `Host` header: the URL is relative.
    pub no_host: bool,
}

impl HeadFlaws {
    /// Human-readable descriptions, for `Session::problems`.
    pub fn describe(&self, what: &str) -> Vec<String> {
        let mut out = Vec::new();
        if self.truncated {
            out.push(format!(
                "{what} head is truncated (no blank line after the headers)"
            ));
        }
        if self.malformed_lines > 0 {
            out.push(format!(
                "{what} head has {} malformed header line(s), skipped",
                self.malformed_lines
            ));
        }
        if self.no_host {
            out.push(format!(
                "{what} has an origin-form target and no Host header"
            ));
        }
        out
    }
}

/// Why a head could not be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("empty message")]
    Empty,
    #[error("first line is not an HTTP request line")]
    BadRequestLine,
    #[error("first line is not an HTTP status line")]
    BadStatusLine,
}

/// Parse a request head. Returns the head and the offset of the body in `raw`.
pub fn parse_request(raw: &[u8], hint: SchemeHint) -> Result<(RequestHead, usize), HeadError> {
    let mut lines = Lines::new(raw);
    let first = lines.first_line().ok_or(HeadError::Empty)?;
    let first = lossy(first);
    let (method, rest) = split_token(first.trim());
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(HeadError::BadRequestLine);
    }
    // The version is the last token when it looks like one; everything between it and the
    // method is the target, spaces included (broken clients send unescaped spaces).
    let (target, version) = match rest.rsplit_once(|c: char| c.is_ascii_whitespace()) {
        Some((t, v)) if is_http_version(v) => (t.trim(), v),
        _ if is_http_version(rest) => ("", rest),
        _ => (rest, ""),
    };
    let (method, target, version) = (method.to_string(), target.to_string(), version.to_string());
    let (headers, mut flaws) = parse_headers(&mut lines);
    let (form, url) = build_url(&method, &target, &headers, hint, &mut flaws);
    let head = RequestHead {
        method,
        target,
        form,
        url,
        version,
        headers,
        flaws,
    };
    Ok((head, lines.body_offset()))
}

/// Parse a response head. Returns the head and the offset of the body in `raw`.
pub fn parse_response(raw: &[u8]) -> Result<(ResponseHead, usize), HeadError> {
    let mut lines = Lines::new(raw);
    let first = lines.first_line().ok_or(HeadError::Empty)?;
    let first = lossy(first);
    let first = first.trim();
    let (version, rest) = split_token(first);
    if !is_http_version(version) {
        return Err(HeadError::BadStatusLine);
    }
    let (code, reason) = split_token(rest);
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HeadError::BadStatusLine);
    }
    let status: u16 = code.parse().map_err(|_| HeadError::BadStatusLine)?;
    let (headers, flaws) = parse_headers(&mut lines);
    let head = ResponseHead {
        version: version.to_string(),
        status,
        reason: reason.trim().to_string(),
        headers,
        flaws,
    };
    Ok((head, lines.body_offset()))
}

/// The bytes as text, invalid UTF-8 replaced: `String::from_utf8_lossy`, with valid text
/// (nearly every head) checked by the much faster `from_utf8` first. Every reader of capture
/// text that is usually valid UTF-8 goes through it (`_m.xml`, heads, the XML parser).
pub(crate) fn lossy(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// `s` starts with `HTTP/` in any case (compared in place: an upper-cased copy per head was
/// one allocation per session).
fn is_http_version(s: &str) -> bool {
    s.as_bytes()
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP/"))
}

/// `(first token, rest without its leading whitespace)`.
fn split_token(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(|c: char| c.is_ascii_whitespace()) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

/// RFC 9110 token characters, which a method consists of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Header lines until the blank line or the end of input.
fn parse_headers(lines: &mut Lines<'_>) -> (Headers, HeadFlaws) {
    let mut flaws = HeadFlaws::default();
    // Names and values go into one text (see `Headers`), room made for a typical head.
    let mut out = Headers::with_capacity(16, 1024);
    loop {
        let Some(line) = lines.next_line() else {
            flaws.truncated = true;
            break;
        };
        if line.is_empty() {
            break;
        }
        if matches!(line[0], b' ' | b'\t') {
            // obs-fold: a continuation of the previous value, joined with one space.
            let cont = lossy(line);
            let cont = cont.trim();
            if out.is_empty() {
                flaws.malformed_lines += 1;
            } else if !cont.is_empty() {
                out.extend_last_value(" ", cont);
            }
            continue;
        }
        match memchr::memchr(b':', line) {
            Some(colon) if colon > 0 => {
                let name = lossy(&line[..colon]);
                let name = name.trim();
                if name.is_empty() {
                    flaws.malformed_lines += 1;
                } else {
                    out.push(name, lossy(&line[colon + 1..]).trim());
                }
            }
            _ => flaws.malformed_lines += 1,
        }
    }
    (out, flaws)
}

fn build_url(
    method: &str,
    target: &str,
    headers: &Headers,
    hint: SchemeHint,
    flaws: &mut HeadFlaws,
) -> (TargetForm, String) {
    if method.eq_ignore_ascii_case("CONNECT") {
        return (TargetForm::Authority, target.to_string());
    }
    if has_scheme(target) {
        return (TargetForm::Absolute, target.to_string());
    }
    let form = if target.starts_with('/') {
        TargetForm::Origin
    } else if target == "*" {
        TargetForm::Asterisk
    } else {
        return (TargetForm::Other, target.to_string());
    };
    let Some(host) = headers.get("host").map(str::trim).filter(|h| !h.is_empty()) else {
        flaws.no_host = true;
        return (form, target.to_string());
    };
    let scheme = match hint {
        SchemeHint::Https => "https",
        SchemeHint::Http => "http",
        SchemeHint::Unknown if host.ends_with(":443") => "https",
        SchemeHint::Unknown => "http",
    };
    let path = if form == TargetForm::Asterisk {
        ""
    } else {
        target
    };
    (form, format!("{scheme}://{host}{path}"))
}

/// `scheme://...` with an RFC 3986 scheme.
fn has_scheme(target: &str) -> bool {
    match target.find("://") {
        Some(i) if i > 0 => {
            let s = &target[..i];
            s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        }
        _ => false,
    }
}

/// A forward-only line splitter over raw bytes: LF or CRLF endings.
struct Lines<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    fn new(raw: &'a [u8]) -> Self {
        Lines { raw, pos: 0 }
    }

    /// The first non-empty line: some writers leave blank lines before the request line.
    fn first_line(&mut self) -> Option<&'a [u8]> {
        loop {
            let line = self.next_line()?;
            if !line.iter().all(|b| b.is_ascii_whitespace()) {
                return Some(line);
            }
        }
    }

    /// The next line without its ending; `None` at the end of input. A last line without
    /// an ending is returned too; the caller sees the head as truncated at the next call.
    fn next_line(&mut self) -> Option<&'a [u8]> {
        let rest = self.raw.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let (line, advance) = match memchr::memchr(b'\n', rest) {
            Some(nl) => (&rest[..nl], nl + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }

    fn body_offset(&self) -> usize {
        self.pos.min(self.raw.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn absolute_form_request() {
        let raw = b"GET https://autodiscover.contoso.com/autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.contoso.com\r\nAuthorization: Bearer\r\n\r\nBODY";
        let (h, off) = parse_request(raw, SchemeHint::Unknown).unwrap();
        assert_eq!(h.method, "GET");
        assert_eq!(h.form, TargetForm::Absolute);
        assert_eq!(
            h.url,
            "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"
        );
        assert_eq!(h.version, "HTTP/1.1");
        assert_eq!(h.headers.len(), 2);
        assert_eq!(&raw[off..], b"BODY");
        assert_eq!(h.flaws, HeadFlaws::default());
    }

    #[test]
    fn origin_form_builds_url_from_host_and_context() {
        let raw = b"POST /EWS/Exchange.asmx?x=1 HTTP/1.1\nHost: mail.contoso.com\n\n";
        let (h, off) = parse_request(raw, SchemeHint::Unknown).unwrap();
        assert_eq!(h.url, "http://mail.contoso.com/EWS/Exchange.asmx?x=1");
        assert_eq!(off, raw.len());
        let (h, _) = parse_request(raw, SchemeHint::Https).unwrap();
        assert_eq!(h.url, "https://mail.contoso.com/EWS/Exchange.asmx?x=1");
        let raw = b"GET / HTTP/1.1\r\nHost: mail.contoso.com:443\r\n\r\n";
        let (h, _) = parse_request(raw, SchemeHint::Unknown).unwrap();
        assert_eq!(h.url, "https://mail.contoso.com:443/");
        let raw = b"GET /x HTTP/1.1\r\n\r\n";
        let (h, _) = parse_request(raw, SchemeHint::Unknown).unwrap();
        assert_eq!(h.url, "/x");
        assert!(h.flaws.no_host);
    }

    #[test]
    fn connect_is_authority_form() {
        let raw = b"CONNECT outlook.office365.com:443 HTTP/1.0\r\nHost: outlook.office365.com:443\r\n\r\n";
        let (h, _) = parse_request(raw, SchemeHint::Unknown).unwrap();
        assert_eq!(h.form, TargetForm::Authority);
        assert_eq!(h.url, "outlook.office365.com:443");
        assert_eq!(h.version, "HTTP/1.0");
    }

    #[test]
    fn status_line_with_and_without_reason() {
        let raw = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer a=\"b\"\r\nWWW-Authenticate: NTLM\r\n\r\n";
        let (h, off) = parse_response(raw).unwrap();
        assert_eq!((h.status, h.reason.as_str()), (401, "Unauthorized"));
        assert_eq!(h.headers.get_all("www-authenticate").count(), 2);
        assert_eq!(off, raw.len());
        let (h, _) = parse_response(b"HTTP/1.1 200\r\n\r\n").unwrap();
        assert_eq!((h.status, h.reason.as_str()), (200, ""));
        let (h, _) = parse_response(b"HTTP/1.1 200 Connection Established\r\n\r\n").unwrap();
        assert_eq!(h.reason, "Connection Established");
        assert_eq!(parse_response(b"garbage"), Err(HeadError::BadStatusLine));
        assert_eq!(
            parse_response(b"HTTP/1.1 2000 X\r\n\r\n"),
            Err(HeadError::BadStatusLine)
        );
        assert_eq!(parse_response(b""), Err(HeadError::Empty));
    }

    #[test]
    fn obs_fold_nul_invalid_utf8_and_malformed_lines() {
        let raw = b"HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\n\tc\r\nno colon here\r\nX-Bin: \xff\x00z\r\n\r\n";
        let (h, _) = parse_response(raw).unwrap();
        assert_eq!(h.headers.get("x-long"), Some("a b c"));
        assert_eq!(h.headers.get("x-bin"), Some("\u{fffd}\u{0}z"));
        assert_eq!(h.flaws.malformed_lines, 1);
    }

    #[test]
    fn truncated_head_is_flagged() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/ht";
        let (h, off) = parse_response(raw).unwrap();
        assert!(h.flaws.truncated);
        assert_eq!(h.headers.get("content-type"), Some("text/ht"));
        assert_eq!(off, raw.len());
        let (h, _) = parse_request(b"GET http://x/ HTTP/1.1", SchemeHint::Unknown).unwrap();
        assert!(h.flaws.truncated);
    }

    #[test]
    fn huge_lines_and_many_headers_are_linear() {
        let mut raw = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
        raw.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
        raw.extend_from_slice(b"\r\n");
        for i in 0..100_000 {
            raw.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        let start = std::time::Instant::now();
        let (h, off) = parse_response(&raw).unwrap();
        assert_eq!(h.headers.len(), 100_001);
        assert_eq!(off, raw.len());
        assert!(start.elapsed().as_secs() < 10);
    }

    #[test]
    fn many_fold_lines_are_linear() {
        let mut raw = b"HTTP/1.1 200 OK\r\nX: a\r\n".to_vec();
        for _ in 0..200_000 {
            raw.extend_from_slice(b" b\r\n");
        }
        raw.extend_from_slice(b"\r\n");
        let (h, _) = parse_response(&raw).unwrap();
        assert_eq!(h.headers.get("x").map(str::len), Some(1 + 2 * 200_000));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Ok((_, off)) = parse_request(&raw, SchemeHint::Unknown) {
                prop_assert!(off <= raw.len());
            }
            if let Ok((_, off)) = parse_response(&raw) {
                prop_assert!(off <= raw.len());
            }
        }

        #[test]
        fn head_like_input_never_panics(
            first in "[A-Z]{1,8} [ -~]{0,40} HTTP/1\\.[01]",
            lines in proptest::collection::vec("[ -~\t]{0,40}", 0..20),
            lf_only in any::<bool>(),
        ) {
            let eol = if lf_only { "\n" } else { "\r\n" };
            let text = format!("{first}{eol}{}{eol}{eol}body", lines.join(eol));
            let parsed = parse_request(text.as_bytes(), SchemeHint::Unknown);
            prop_assert!(parsed.is_ok());
        }
    }
}
