//! Sessions as a SAZ laid out as Fiddler Classic saves one: `[Content_Types].xml` first,
//! then per session `raw/NN_c.txt` (request), `raw/NN_s.txt` (response, empty when none
//! came), `raw/NN_m.xml` (timers and flags), numbered from 1 and zero-padded to the digits of
//! the session count, then `_index.htm`, and Fiddler's archive comment.

use std::io::{self, Seek, Write};

use chrono::{DateTime, FixedOffset};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{header, is_framing};
use crate::capture::saz_meta::bits;
use crate::capture::session::Body;
use crate::capture::url_parts::UrlParts;
use crate::capture::{Headers, Session};

/// The archive comment: Fiddler Classic's own form, so that readers take `BitFlags` as hex.
pub const COMMENT: &str = "Fiddler (v5.0.20204.45441) Session Archive. See http://fiddler2.com";

/// `[Content_Types].xml` as Fiddler writes it.
pub const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\r\n<Default Extension=\"htm\" ContentType=\"text/html\" />\r\n<Default Extension=\"xml\" ContentType=\"application/xml\" />\r\n<Default Extension=\"txt\" ContentType=\"text/plain\" />\r\n</Types>";

const INDEX_HEAD: &str = "<html><head><style>body,thead,td,a,p{font-family:verdana,sans-serif;font-size: 10px;}</style></head><body><table cols=12><thead><tr><th>&nbsp;</th><th>#</th><th>Result</th><th>Protocol</th><th>Host</th><th>URL</th><th>Body</th><th>Caching</th><th>Content-Type</th><th>Process</th><th>Comments</th><th>Custom</th></tr></thead><tbody>";
const INDEX_TAIL: &str = "</tbody></table></body></html>";

/// Fiddler's "never" in a timer.
const NEVER: &str = "0001-01-01T00:00:00";

/// Writes the archive one session at a time.
pub struct SazWriter<W: Write + Seek> {
    zip: ZipWriter<W>,
    /// How many sessions the archive holds: [`stem`]'s padding.
    count: usize,
    next: usize,
    index: String,
}

/// The name stem of session `n` (from 1) among `count`: `raw/007`.
pub fn stem(n: usize, count: usize) -> String {
    let pad = count.max(1).to_string().len();
    format!("raw/{n:0pad$}")
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .system(zip::System::Dos)
}

impl<W: Write + Seek> SazWriter<W> {
    /// `count` sessions will follow (the numbering's padding depends on it).
    pub fn new(w: W, count: usize) -> io::Result<Self> {
        let mut zip = ZipWriter::new(w);
        zip.start_file("[Content_Types].xml", options())
            .map_err(io::Error::other)?;
        zip.write_all(CONTENT_TYPES.as_bytes())?;
        Ok(SazWriter {
            zip,
            count,
            next: 1,
            index: String::from(INDEX_HEAD),
        })
    }

    fn put(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        self.zip
            .start_file(name, options())
            .map_err(io::Error::other)?;
        self.zip.write_all(data)
    }

    /// The next session's three entries, numbered in order from 1.
    pub fn session(&mut self, s: &Session) -> io::Result<()> {
        let n = self.next;
        self.next += 1;
        let stem = stem(n, self.count);
        self.put(&format!("{stem}_c.txt"), &request_bytes(s))?;
        self.put(&format!("{stem}_s.txt"), &response_bytes(s))?;
        self.put(&format!("{stem}_m.xml"), meta_xml(n, s).as_bytes())?;
        self.index.push_str(&index_row(n, &stem, s));
        Ok(())
    }

    /// `_index.htm`, the comment, the central directory; the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.index.push_str(INDEX_TAIL);
        let index = std::mem::take(&mut self.index);
        self.put("_index.htm", index.as_bytes())?;
        self.zip.set_comment(COMMENT).map_err(io::Error::other)?;
        self.zip.finish().map_err(io::Error::other)
    }

    /// Sessions written so far.
    pub fn sessions(&self) -> usize {
        self.next - 1
    }
}

/// A head and body as Fiddler stores them. A wire body (a SAZ's) goes as stored, with its
/// head as it was; a decoded one (a HAR's) goes identity-encoded: the framing headers are
/// left out and one `Content-Length` of the body ends the head, as `redact` writes a body it
/// decoded. Without a body the head is kept whole (a HEAD answer's `Content-Length`).
fn message(start: &str, headers: &Headers, body: &Body) -> Vec<u8> {
    let reframe = !body.wire && !body.is_empty();
    let mut m = Vec::with_capacity(body.len() + 512);
    m.extend_from_slice(start.as_bytes());
    m.extend_from_slice(b"\r\n");
    for (name, value) in headers.iter() {
        if reframe && is_framing(name) {
            continue;
        }
        // A HAR can hold any string: no name or value may end the line or the head early.
        let name = token(name, "X-Unnamed");
        let value = one_line(value);
        m.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if reframe {
        m.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    m.extend_from_slice(b"\r\n");
    m.extend_from_slice(&body.raw);
    m
}

/// `v` on one line: CR, LF and NUL made spaces.
fn one_line(v: &str) -> String {
    v.replace(['\r', '\n', '\0'], " ")
}

/// `v` as one HTTP token (a method, a header name): anything else in it made `-`; `empty`
/// when there is nothing.
fn token(v: &str, empty: &str) -> String {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let t: String = v.chars().map(|c| if tchar(c) { c } else { '-' }).collect();
    if t.is_empty() {
        empty.into()
    } else {
        t
    }
}

/// Fiddler's request line: the absolute URL of a proxied request, `host:port` for CONNECT.
pub fn request_bytes(s: &Session) -> Vec<u8> {
    let r = &s.request;
    let target = if r.method.eq_ignore_ascii_case("CONNECT") {
        let parts = UrlParts::split(&r.url);
        if parts.scheme.is_some() {
            parts.authority.to_string()
        } else {
            r.url.clone()
        }
    } else {
        r.url.clone()
    };
    let start = format!(
        "{} {} {}",
        token(&r.method, "GET"),
        target.replace(['\r', '\n', '\0', ' ', '\t'], "%20"),
        http1(&r.version)
    );
    message(&start, &r.headers, &r.body)
}

/// The response entry; empty when no response was recorded (how Fiddler stores one).
pub fn response_bytes(s: &Session) -> Vec<u8> {
    match &s.response {
        Some(r) => {
            let start = format!(
                "{} {:03} {}",
                http1(&r.version),
                r.status,
                one_line(&r.reason)
            );
            message(&start, &r.headers, &r.body)
        }
        None => Vec::new(),
    }
}

/// The version for a Fiddler head: Fiddler Classic speaks HTTP/1.x to both sides, so an
/// HTTP/2 or HTTP/3 exchange is written as HTTP/1.1 (its pseudo-headers are not headers).
fn http1(v: &str) -> &str {
    if v.starts_with("HTTP/1.") {
        v
    } else {
        "HTTP/1.1"
    }
}

/// A time as .NET's round-trip format writes it: 7 fraction digits, the offset.
fn dotnet(t: Option<DateTime<FixedOffset>>) -> String {
    match t {
        Some(t) => format!(
            "{}.{:07}{}",
            t.format("%Y-%m-%dT%H:%M:%S"),
            t.timestamp_subsec_nanos() / 100,
            t.format("%:z")
        ),
        None => NEVER.into(),
    }
}

fn xml_attr(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\r', '\n', '\t', '\0'], " ")
}

/// `_m.xml` of session `n`: `BitFlags` (hex, as Fiddler), the timers the session has (the
/// rest "never"), and the flags it knows: `x-clientip`, `x-hostip`, `x-processinfo`,
/// `x-failsession` for a session that got no answer.
pub fn meta_xml(n: usize, s: &Session) -> String {
    let mut flags = 0u64;
    if s.request.url.starts_with("https://") {
        flags |= bits::IS_HTTPS;
    }
    if s.flags.websocket {
        flags |= bits::IS_WEBSOCKET_TUNNEL;
    }
    let t = &s.timers;
    let timers = [
        ("ClientConnected", t.client_begin_request),
        ("ClientBeginRequest", t.client_begin_request),
        ("GotRequestHeaders", t.client_begin_request),
        ("ClientDoneRequest", t.client_begin_request),
        ("GatewayTime", None),
        ("DNSTime", None),
        ("TCPConnectTime", None),
        ("HTTPSHandshakeTime", None),
        ("ServerConnected", None),
        ("FiddlerBeginRequest", t.server_got_request),
        ("ServerGotRequest", t.server_got_request),
        ("ServerBeginResponse", t.server_begin_response),
        ("GotResponseHeaders", t.server_begin_response),
        ("ServerDoneResponse", t.server_done_response),
        ("ClientBeginResponse", t.server_done_response),
        ("ClientDoneResponse", t.client_done_response),
    ];
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n");
    x.push_str(&format!("<Session SID=\"{n}\" BitFlags=\"{flags:x}\">\r\n"));
    x.push_str("  <SessionTimers");
    for (k, v) in timers {
        let v = match k {
            "GatewayTime" | "DNSTime" | "TCPConnectTime" | "HTTPSHandshakeTime" => "0".into(),
            _ => dotnet(v),
        };
        x.push_str(&format!(" {k}=\"{v}\""));
    }
    x.push_str(" />\r\n  <PipeInfo />\r\n  <SessionFlags>\r\n");
    let mut f: Vec<(&str, &str)> = Vec::new();
    if let Some(ip) = &s.client_ip {
        f.push(("x-clientip", ip));
    }
    if let Some(p) = &s.process {
        f.push(("x-processinfo", p));
    }
    if let Some(ip) = &s.host_ip {
        f.push(("x-hostip", ip));
    }
    if s.flags.aborted {
        f.push(("x-failsession", "The session was aborted."));
    }
    for (k, v) in f {
        x.push_str(&format!(
            "    <SessionFlag N=\"{k}\" V=\"{}\" />\r\n",
            xml_attr(v)
        ));
    }
    x.push_str("  </SessionFlags>\r\n</Session>");
    x
}

fn html(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
}

/// The `_index.htm` row of session `n`, whose entries are named `stem` (`raw/007`): the
/// index names them with Windows' separator.
fn index_row(n: usize, stem: &str, s: &Session) -> String {
    let f = stem.replace('/', "\\");
    let (status, len, ctype, cache) = match &s.response {
        Some(r) => (
            r.status.to_string(),
            r.body.len().to_string(),
            header(&r.headers, "content-type"),
            header(&r.headers, "cache-control"),
        ),
        None => ("-".into(), "-1".into(), "", ""),
    };
    let parts = UrlParts::split(&s.request.url);
    let (proto, host, path) = if s.request.method.eq_ignore_ascii_case("CONNECT") {
        ("HTTP", "Tunnel to".to_string(), s.request.url.clone())
    } else {
        let proto = if s.request.url.starts_with("https://") {
            "HTTPS"
        } else {
            "HTTP"
        };
        (proto, parts.authority.to_string(), parts.path.to_string())
    };
    format!(
        "<tr><TD><a href='{f}_c.txt'>C</a>&nbsp;<a href='{f}_s.txt'>S</a>&nbsp;<a href='{f}_m.xml'>M</a></TD><td>{n}</td><td>{status}</td><td>{proto}</td><td>{}</td><td>{}</td><td>{len}</td><td>{}</td><td>{}</td><td>{}</td><td></td><td></td></tr>\r\n",
        html(&host),
        html(&path),
        html(cache),
        html(ctype),
        html(s.process.as_deref().unwrap_or("")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::session::{Request, Response};
    use chrono::DateTime;

    fn session() -> Session {
        let mut h = Headers::new();
        h.push("Host", "mail.contoso.com");
        h.push("Content-Encoding", "gzip");
        h.push("X-Evil\r\nInjected", "a\r\nB: c");
        Session {
            id: 9,
            request: Request {
                method: "POST".into(),
                url: "https://mail.contoso.com/EWS/Exchange.asmx?a b".into(),
                version: "HTTP/2".into(),
                headers: h.clone(),
                body: Body {
                    raw: b"<soap/>".to_vec(),
                    wire: false,
                    truncated: false,
                },
            },
            response: Some(Response {
                version: "h2".into(),
                status: 401,
                reason: "Unauthorized\r\nX: y".into(),
                headers: Headers::new(),
                body: Body::default(),
            }),
            process: Some("outlook:42 \"<&>".into()),
            ..Session::default()
        }
    }

    #[test]
    fn a_decoded_body_is_stored_identity_encoded_and_nothing_breaks_the_head() {
        let c = String::from_utf8(request_bytes(&session())).unwrap();
        assert_eq!(
            c,
            "POST https://mail.contoso.com/EWS/Exchange.asmx?a%20b HTTP/1.1\r\nHost: mail.contoso.com\r\nX-Evil--Injected: a  B: c\r\nContent-Length: 7\r\n\r\n<soap/>"
        );
        let s = String::from_utf8(response_bytes(&session())).unwrap();
        assert_eq!(s, "HTTP/1.1 401 Unauthorized  X: y\r\n\r\n");
        let mut none = session();
        none.response = None;
        assert!(response_bytes(&none).is_empty());
    }

    #[test]
    fn the_meta_has_fiddler_s_timers_and_escaped_flags() {
        let mut s = session();
        s.timers.client_begin_request =
            Some(DateTime::parse_from_rfc3339("2026-11-20T08:14:02.1234567+01:00").unwrap());
        s.flags.aborted = true;
        let m = meta_xml(3, &s);
        assert!(m.contains("<Session SID=\"3\" BitFlags=\"1\">"), "{m}");
        assert!(m.contains("ClientBeginRequest=\"2026-11-20T08:14:02.1234567+01:00\""));
        assert!(m.contains("ServerGotRequest=\"0001-01-01T00:00:00\""));
        assert!(m.contains("V=\"outlook:42 &quot;&lt;&amp;&gt;\""));
        assert!(m.contains("N=\"x-failsession\""));
        let back = crate::capture::saz_meta::parse(
            m.as_bytes(),
            crate::capture::saz_meta::BitFlagsRadix::Fiddler,
        )
        .unwrap();
        assert_eq!(back.process(), Some("outlook:42 \"<&>"));
        assert_eq!(
            back.timers.client_begin_request,
            s.timers.client_begin_request
        );
    }

    proptest::proptest! {
        /// Whatever strings a HAR holds, the request written reads back with the same
        /// method, the same number of headers in the same order, and the body.
        #[test]
        fn any_strings_write_a_request_that_reads_back(
            method in "\\PC{0,8}",
            url in "\\PC{0,40}",
            headers in proptest::collection::vec(("\\PC{1,12}", "\\PC{0,30}"), 0..6),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
        ) {
            let mut h = Headers::new();
            for (n, v) in &headers {
                h.push(n.as_str(), v.as_str());
            }
            let s = Session {
                request: Request {
                    method: method.clone(),
                    url: format!("https://x.test/{url}"),
                    headers: h.clone(),
                    body: Body { raw: body.clone(), wire: false, truncated: false },
                    ..Request::default()
                },
                ..Session::default()
            };
            let bytes = request_bytes(&s);
            let (head, off) = crate::capture::http::parse_request(
                &bytes,
                crate::capture::http::SchemeHint::Unknown,
            )
            .unwrap();
            proptest::prop_assert_eq!(head.method, token(&method, "GET"));
            let kept: Vec<String> = h
                .iter()
                .filter(|(n, _)| body.is_empty() || !is_framing(n))
                .map(|(n, _)| token(n, "X-Unnamed").to_ascii_lowercase())
                .collect();
            let mut read: Vec<String> =
                head.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
            if !body.is_empty() {
                proptest::prop_assert_eq!(read.pop(), Some("content-length".to_string()));
            }
            proptest::prop_assert_eq!(read, kept);
            proptest::prop_assert_eq!(&bytes[off..], &body[..]);
        }
    }

    #[test]
    fn numbering_is_padded_to_the_count() {
        assert_eq!(stem(7, 35), "raw/07");
        assert_eq!(stem(7, 9), "raw/7");
        assert_eq!(stem(12, 1000), "raw/0012");
        assert_eq!(stem(1, 0), "raw/1");
    }
}
