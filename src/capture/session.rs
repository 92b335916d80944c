//! The one session model every capture format is read into.
//!
//! A `Session` is one HTTP exchange as the capture recorded it. Bodies are kept as they
//! were stored (`Body::raw`: a SAZ's as on the wire, a HAR's still JSON-escaped); decoding
//! is lazy (see `body.rs`) because most rules never look at most bodies, and a 2 GB capture
//! must not be inflated twice.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::body::{decode, decode_partial, json_unescape, BodyError, DecodeLimits, Decoded};
use super::headers::Headers;
use super::url_parts::UrlParts;

/// When things happened, as the capture tells it. `None` is Fiddler's "never" (0001-01-01)
/// or a field the format does not have.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timers {
    pub client_begin_request: Option<DateTime<FixedOffset>>,
    pub server_got_request: Option<DateTime<FixedOffset>>,
    pub server_begin_response: Option<DateTime<FixedOffset>>,
    pub server_done_response: Option<DateTime<FixedOffset>>,
    pub client_done_response: Option<DateTime<FixedOffset>>,
}

impl Timers {
    /// The best known start of the exchange.
    pub fn start(&self) -> Option<DateTime<FixedOffset>> {
        self.client_begin_request.or(self.server_got_request)
    }

    /// The best known end of the exchange.
    pub fn end(&self) -> Option<DateTime<FixedOffset>> {
        self.client_done_response
            .or(self.server_done_response)
            .or(self.server_begin_response)
    }
}

/// Facts about a session that are not HTTP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SessionFlags {
    /// The client or the server gave up before a response was recorded.
    pub aborted: bool,
    /// A `CONNECT` tunnel (HTTPS not decrypted, or the tunnel before decrypted sessions).
    pub tunnel: bool,
    /// The session upgraded to a WebSocket.
    pub websocket: bool,
    /// A body of the session went over the wire but the capture does not hold it (a NetLog
    /// captured without "Include raw bytes").
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub body_unrecorded: bool,
    /// The capture replaced a cookie or credential of the session with a byte count (a
    /// NetLog in its default mode, "Strip private data"): the header holds only the count.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub credentials_stripped: bool,
}

/// A body exactly as the capture stored it.
#[derive(Debug, Clone, Default)]
pub struct Body {
    /// The bytes as stored: see `stored` for what they are. Read them through
    /// [`Body::bytes`], [`Body::len`] or `capture::body::decode`, which undo a HAR body's
    /// JSON escapes; `raw` itself is only the same bytes when `stored` is `Bytes`.
    pub raw: Vec<u8>,
    /// `true` when the bytes are as on the wire: `Transfer-Encoding: chunked` framing and
    /// `Content-Encoding` still applied, to be undone by `decode`. SAZ bodies are; HAR bodies
    /// (already decoded by the browser that exported them) are not.
    pub wire: bool,
    /// The capture cut the body short (a size cap, a truncated archive).
    pub truncated: bool,
    /// How `raw` holds the bytes.
    pub stored: Stored,
}

/// How [`Body::raw`] holds a body's bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Stored {
    /// The bytes themselves.
    #[default]
    Bytes,
    /// A JSON string as the HAR wrote it, quotes included, escapes not yet undone: a HAR
    /// text body with escapes in it, kept so until something reads it (most bodies never
    /// are). The reader stores a body so only when serde_json reads its text into a
    /// `String` (escapes valid, surrogates paired, UTF-8) and it is not base64; `len` is the
    /// length of the text with the escapes undone.
    JsonString { len: usize },
}

impl Body {
    /// Length of the stored bytes (a HAR body's with its JSON escapes undone).
    pub fn len(&self) -> usize {
        match self.stored {
            Stored::Bytes => self.raw.len(),
            Stored::JsonString { len } => len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stored bytes, a HAR body's JSON escapes undone (framing and content codings are
    /// `capture::body::decode`'s).
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match self.stored {
            Stored::Bytes => Cow::Borrowed(&self.raw),
            Stored::JsonString { .. } => Cow::Owned(json_unescape(&self.raw, usize::MAX)),
        }
    }

    /// The stored bytes begin with `prefix` (escapes undone as far as the prefix reaches).
    pub fn starts_with(&self, prefix: &[u8]) -> bool {
        match self.stored {
            Stored::Bytes => self.raw.starts_with(prefix),
            Stored::JsonString { .. } => json_unescape(&self.raw, prefix.len()).starts_with(prefix),
        }
    }
}

/// Bodies are equal when they hold the same bytes, however they are stored.
impl PartialEq for Body {
    fn eq(&self, other: &Body) -> bool {
        self.wire == other.wire
            && self.truncated == other.truncated
            && (self.stored == other.stored && self.raw == other.raw
                || self.bytes() == other.bytes())
    }
}

impl Eq for Body {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Absolute URL (`https://host/path?query`); `host:port` for `CONNECT`.
    pub url: String,
    /// `HTTP/1.1`, `HTTP/2`, ...
    pub version: String,
    pub headers: Headers,
    pub body: Body,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Body,
}

impl Request {
    /// The body with framing and content codings undone, within `limits`.
    pub fn decoded_body(&self, limits: &DecodeLimits) -> Result<Vec<u8>, BodyError> {
        decode(&self.body, &self.headers, limits)
    }

    /// As much of the decoded body as decodes, with what stopped it.
    pub fn decoded_body_partial(&self, limits: &DecodeLimits) -> Decoded {
        decode_partial(&self.body, &self.headers, limits)
    }
}

impl Response {
    /// The body with framing and content codings undone, within `limits`.
    pub fn decoded_body(&self, limits: &DecodeLimits) -> Result<Vec<u8>, BodyError> {
        decode(&self.body, &self.headers, limits)
    }

    /// As much of the decoded body as decodes, with what stopped it: a cut-off error page
    /// still shows its AADSTS code.
    pub fn decoded_body_partial(&self, limits: &DecodeLimits) -> Decoded {
        decode_partial(&self.body, &self.headers, limits)
    }

    pub fn content_type(&self) -> Option<&str> {
        self.headers.get("content-type")
    }
}

/// One HTTP exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    /// The capture's own number: the SAZ session number, the HAR entry index from 1.
    pub id: u64,
    /// The id Fiddler gave the session (`SID` in a SAZ's `_m.xml`; issue 20): what Fiddler
    /// showed in its `#` column when it captured or saved the session. It differs from `id`
    /// when sessions were removed or only some were saved. `None` for HAR and NetLog.
    pub fiddler_id: Option<u64>,
    pub timers: Timers,
    /// The client process, as Fiddler records it (`outlook:4242`).
    pub process: Option<String>,
    pub client_ip: Option<String>,
    pub host_ip: Option<String>,
    pub request: Request,
    /// `None` when the session was aborted before a response was recorded.
    pub response: Option<Response>,
    pub flags: SessionFlags,
    /// Problems found while reading this session that did not stop it being read
    /// ("response body truncated: ..."). Never contains header or body content.
    pub problems: Vec<String>,
}

impl Session {
    /// The host the request went to, lower-cased, without port: from the URL, else `Host`.
    pub fn host(&self) -> Option<String> {
        host_of(&self.request.url).or_else(|| {
            self.request
                .headers
                .get("host")
                .map(|h| UrlParts::split(h.trim()).host().to_ascii_lowercase())
        })
    }

    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }
}

/// Host of an absolute URL or of `host:port`, lower-cased, without port or user info.
pub fn host_of(url: &str) -> Option<String> {
    let host = UrlParts::split(url).host();
    if host.is_empty() || host.contains(' ') {
        None
    } else {
        Some(host.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_handles_ports_userinfo_and_case() {
        assert_eq!(
            host_of("https://AutoDiscover.Contoso.com:443/autodiscover/autodiscover.xml")
                .as_deref(),
            Some("autodiscover.contoso.com")
        );
        assert_eq!(
            host_of("outlook.office365.com:443").as_deref(),
            Some("outlook.office365.com")
        );
        assert_eq!(host_of("http://u:p@[::1]:8080/x").as_deref(), Some("::1"));
        assert_eq!(host_of("/relative/path"), None);
    }
}
