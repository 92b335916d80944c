//! The one session model every capture format is read into.
//!
//! A `Session` is one HTTP exchange as the capture recorded it. Bodies are kept as they
//! were stored (`Body::raw`); decoding is lazy (see `body.rs`) because most rules never
//! look at most bodies, and a 2 GB capture must not be inflated twice.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::body::{decode, decode_partial, BodyError, DecodeLimits, Decoded};
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    /// The bytes as stored.
    pub raw: Vec<u8>,
    /// `true` when `raw` is as on the wire: `Transfer-Encoding: chunked` framing and
    /// `Content-Encoding` still applied, to be undone by `decode`. SAZ bodies are; HAR bodies
    /// (already decoded by the browser that exported them) are not.
    pub wire: bool,
    /// The capture cut the body short (a size cap, a truncated archive).
    pub truncated: bool,
}

impl Body {
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

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
        self.host_in(&UrlParts::split(&self.request.url))
            .map(Cow::into_owned)
    }

    /// [`Self::host`] for a caller that has already split `self.request.url` into `url`
    /// (passing the parts of another URL gives that URL's host): borrowed from the URL or
    /// the `Host` header unless it holds an upper-case letter, so asking costs no
    /// allocation and no second split (issue 22: five allocations per session).
    pub fn host_in<'a>(&'a self, url: &UrlParts<'a>) -> Option<Cow<'a, str>> {
        host_in_parts(url).or_else(|| {
            self.request
                .headers
                .get("host")
                .map(|h| lower_ascii(UrlParts::split(h.trim()).host()))
        })
    }

    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }
}

/// Host of an absolute URL or of `host:port`, lower-cased, without port or user info.
pub fn host_of(url: &str) -> Option<String> {
    host_in_parts(&UrlParts::split(url)).map(Cow::into_owned)
}

/// [`host_of`] of a URL already split, borrowed when it is already lower-case.
pub fn host_in_parts<'a>(url: &UrlParts<'a>) -> Option<Cow<'a, str>> {
    let host = url.host();
    if host.is_empty() || host.contains(' ') {
        None
    } else {
        Some(lower_ascii(host))
    }
}

/// `s` with ASCII letters lower-cased, allocating only when one is upper-case.
fn lower_ascii(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
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
