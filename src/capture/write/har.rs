//! A session as a HAR 1.2 entry, laid out as Chrome's DevTools and Fiddler's HTTPArchive
//! exporter write it (`startedDateTime`, `time`, `request`, `response`, `cache`, `timings`,
//! `serverIPAddress`, then the custom `_process` and `_error` fields the HAR reader takes
//! back), and the file around the entries, streamed: [`HarWriter`].

use std::io::{self, Write};

use base64::Engine;
use chrono::SecondsFormat;
use serde_json::{json, Map, Value};

use super::{header, millis};
use crate::capture::body::DecodeLimits;
use crate::capture::url_parts::UrlParts;
use crate::capture::{Headers, Session};

/// The `creator` a converted HAR names.
pub const CREATOR: &str = "traceadal";

/// Writes `{"log": {...,"entries": [` then one entry at a time, then `]}}`.
pub struct HarWriter<W: Write> {
    w: W,
    entries: usize,
}

impl<W: Write> HarWriter<W> {
    /// The file's head: version, creator, an empty `pages` (a capture proxy has no pages).
    pub fn new(mut w: W, comment: &str) -> io::Result<Self> {
        let creator = json!({"name": CREATOR, "version": env!("CARGO_PKG_VERSION")});
        let comment = Value::from(comment);
        write!(
            w,
            "{{\n  \"log\": {{\n    \"version\": \"1.2\",\n    \"creator\": {creator},\n    \"pages\": [],\n    \"comment\": {comment},\n    \"entries\": ["
        )?;
        Ok(HarWriter { w, entries: 0 })
    }

    pub fn entry(&mut self, entry: &Value) -> io::Result<()> {
        let text = serde_json::to_string_pretty(entry).map_err(io::Error::other)?;
        let sep = if self.entries == 0 { "\n" } else { ",\n" };
        self.w.write_all(sep.as_bytes())?;
        self.w.write_all(text.as_bytes())?;
        self.entries += 1;
        Ok(())
    }

    /// Close the arrays and objects; the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.write_all(b"\n    ]\n  }\n}\n")?;
        Ok(self.w)
    }

    pub fn entries(&self) -> usize {
        self.entries
    }
}

/// One session as a HAR entry. Bodies are decoded (framing and content codings undone, as
/// a browser exports them) within `limits`; text is stored as text, anything else as base64
/// with `"encoding": "base64"`. What could not be decoded is said in `notes` (never content).
pub fn entry(s: &Session, limits: &DecodeLimits, notes: &mut Vec<String>) -> Value {
    let mut e = Map::new();
    let begin = s.timers.start();
    if let Some(t) = begin {
        e.insert(
            "startedDateTime".into(),
            t.to_rfc3339_opts(SecondsFormat::Micros, true).into(),
        );
    }
    let time = millis(begin, s.timers.end()).unwrap_or(0.0);
    e.insert("time".into(), json!(time));
    e.insert("request".into(), request(s, limits, notes));
    e.insert("response".into(), response(s, limits, notes));
    e.insert("cache".into(), json!({}));
    e.insert("timings".into(), timings(s));
    if let Some(ip) = &s.host_ip {
        e.insert("serverIPAddress".into(), ip.as_str().into());
    }
    if let Some(p) = &s.process {
        e.insert("_process".into(), p.as_str().into());
    }
    if s.flags.aborted {
        e.insert("_error".into(), "aborted".into());
    }
    Value::Object(e)
}

/// Chrome's `timings`: `send` from the client's start to the server getting the request,
/// `wait` to the first byte of the answer, `receive` to its end; -1 where the capture has
/// no time (the HAR reader reads -1 as unknown).
fn timings(s: &Session) -> Value {
    let t = &s.timers;
    let ms = |v: Option<f64>| v.map_or(json!(-1), |v| json!(v));
    json!({
        "blocked": -1,
        "dns": -1,
        "connect": -1,
        "ssl": -1,
        "send": ms(millis(t.start(), t.server_got_request)),
        "wait": ms(millis(t.server_got_request, t.server_begin_response)),
        "receive": ms(millis(t.server_begin_response, t.server_done_response)),
    })
}

fn name_values(h: &Headers) -> Value {
    h.iter()
        .map(|(n, v)| json!({"name": n, "value": v}))
        .collect()
}

/// The size of a head as sent: start line, headers, the blank line.
fn head_size(start: &str, h: &Headers) -> usize {
    start.len() + 2 + h.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>() + 2
}

fn request(s: &Session, limits: &DecodeLimits, notes: &mut Vec<String>) -> Value {
    let r = &s.request;
    let tunnel = r.method.eq_ignore_ascii_case("CONNECT");
    // A tunnel's target is `host:port`; HAR wants a URL (Fiddler's export writes this form).
    let url = if tunnel && UrlParts::split(&r.url).scheme.is_none() {
        format!("http://{}", r.url)
    } else {
        r.url.clone()
    };
    let version = version_or_default(&r.version);
    let query: Vec<Value> = UrlParts::split(&r.url)
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect()
        })
        .unwrap_or_default();
    let cookies: Vec<Value> = r
        .headers
        .get_all("cookie")
        .flat_map(|c| c.split(';'))
        .filter_map(|c| {
            let (n, v) = c.trim().split_once('=')?;
            Some(json!({"name": n, "value": v}))
        })
        .collect();
    let mut m = Map::new();
    m.insert("method".into(), r.method.as_str().into());
    m.insert("url".into(), url.into());
    m.insert("httpVersion".into(), version.into());
    m.insert("headers".into(), name_values(&r.headers));
    m.insert("queryString".into(), query.into());
    m.insert("cookies".into(), cookies.into());
    let start = format!("{} {} {}", r.method, r.url, version);
    m.insert(
        "headersSize".into(),
        json!(head_size(&start, &r.headers) as i64),
    );
    m.insert("bodySize".into(), json!(r.body.len()));
    if !r.body.is_empty() {
        let d = r.decoded_body_partial(limits);
        if let Some(p) = d.problem {
            notes.push(format!("session {}: request body: {p}", s.id));
        }
        let mime = header(&r.headers, "content-type");
        let mut post = Map::new();
        post.insert("mimeType".into(), mime.into());
        if mime
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            if let Ok(text) = std::str::from_utf8(&d.bytes) {
                let params: Vec<Value> = url::form_urlencoded::parse(text.as_bytes())
                    .map(|(n, v)| json!({"name": n, "value": v}))
                    .collect();
                post.insert("params".into(), params.into());
            }
        }
        text_or_base64(&d.bytes, &mut post);
        m.insert("postData".into(), Value::Object(post));
    }
    Value::Object(m)
}

fn response(s: &Session, limits: &DecodeLimits, notes: &mut Vec<String>) -> Value {
    let Some(r) = &s.response else {
        // How Chrome writes a request that got no answer.
        return json!({
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "headers": [],
            "cookies": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        });
    };
    let version = version_or_default(&r.version);
    let cookies: Vec<Value> = r
        .headers
        .get_all("set-cookie")
        .filter_map(set_cookie)
        .collect();
    let d = r.decoded_body_partial(limits);
    if let Some(p) = &d.problem {
        notes.push(format!("session {}: response body: {p}", s.id));
    }
    let mime = r.content_type().unwrap_or("x-unknown");
    let mut content = Map::new();
    content.insert("size".into(), json!(d.bytes.len()));
    content.insert("mimeType".into(), mime.into());
    if !d.bytes.is_empty() {
        text_or_base64(&d.bytes, &mut content);
    }
    let start = format!("{} {:03} {}", version, r.status, r.reason);
    json!({
        "status": r.status,
        "statusText": r.reason,
        "httpVersion": version,
        "headers": name_values(&r.headers),
        "cookies": cookies,
        "content": content,
        "redirectURL": header(&r.headers, "location"),
        "headersSize": head_size(&start, &r.headers) as i64,
        "bodySize": r.body.len(),
    })
}

/// `Set-Cookie: name=value; Path=/; Domain=x; HttpOnly; Secure` as a HAR cookie.
fn set_cookie(v: &str) -> Option<Value> {
    let mut parts = v.split(';');
    let (name, value) = parts.next()?.trim().split_once('=')?;
    let mut c = Map::new();
    c.insert("name".into(), name.trim().into());
    c.insert("value".into(), value.trim().into());
    for attr in parts {
        let (k, val) = attr.trim().split_once('=').unwrap_or((attr.trim(), ""));
        match k.to_ascii_lowercase().as_str() {
            "path" => {
                c.insert("path".into(), val.into());
            }
            "domain" => {
                c.insert("domain".into(), val.into());
            }
            "expires" => {
                c.insert("expires".into(), val.into());
            }
            "httponly" => {
                c.insert("httpOnly".into(), true.into());
            }
            "secure" => {
                c.insert("secure".into(), true.into());
            }
            _ => {}
        }
    }
    Some(Value::Object(c))
}

/// `text` when the bytes are UTF-8, else base64 with `"encoding": "base64"`.
fn text_or_base64(bytes: &[u8], into: &mut Map<String, Value>) {
    match std::str::from_utf8(bytes) {
        Ok(t) => {
            into.insert("text".into(), t.into());
        }
        Err(_) => {
            into.insert(
                "text".into(),
                base64::engine::general_purpose::STANDARD
                    .encode(bytes)
                    .into(),
            );
            into.insert("encoding".into(), "base64".into());
        }
    }
}

fn version_or_default(v: &str) -> &str {
    if v.is_empty() {
        "HTTP/1.1"
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::session::{Body, Request, Response};
    use chrono::DateTime;

    #[test]
    fn an_entry_has_chrome_s_fields_and_binary_goes_as_base64() {
        let mut req = Headers::new();
        req.push("Content-Type", "application/x-www-form-urlencoded");
        req.push("Cookie", "a=1; b=2");
        let mut resp = Headers::new();
        resp.push("Content-Type", "image/png");
        resp.push("Set-Cookie", "s=x; Path=/; HttpOnly; Secure");
        resp.push("Location", "https://login.microsoftonline.com/");
        let t = |s| Some(DateTime::parse_from_rfc3339(s).unwrap());
        let mut s = Session {
            id: 1,
            request: Request {
                method: "POST".into(),
                url: "https://login.microsoftonline.com/common/oauth2/token?x=1&y=%20".into(),
                version: "HTTP/1.1".into(),
                headers: req,
                body: Body {
                    raw: b"grant_type=refresh_token&resource=https%3A%2F%2Fa".to_vec(),
                    wire: true,
                    truncated: false,
                },
            },
            response: Some(Response {
                version: "HTTP/1.1".into(),
                status: 302,
                reason: "Found".into(),
                headers: resp,
                body: Body {
                    raw: vec![0x89, b'P', b'N', b'G', 0xff],
                    wire: false,
                    truncated: false,
                },
            }),
            process: Some("outlook:4242".into()),
            host_ip: Some("203.0.113.5".into()),
            ..Session::default()
        };
        s.timers.client_begin_request = t("2026-11-20T08:14:02.100+01:00");
        s.timers.server_got_request = t("2026-11-20T08:14:02.110+01:00");
        s.timers.server_begin_response = t("2026-11-20T08:14:02.210+01:00");
        s.timers.server_done_response = t("2026-11-20T08:14:02.215+01:00");
        s.timers.client_done_response = t("2026-11-20T08:14:02.220+01:00");
        let mut notes = Vec::new();
        let e = entry(&s, &DecodeLimits::default(), &mut notes);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(e["startedDateTime"], "2026-11-20T08:14:02.100000+01:00");
        assert_eq!(e["time"], 120.0);
        assert_eq!(e["timings"]["send"], 10.0);
        assert_eq!(e["timings"]["wait"], 100.0);
        assert_eq!(e["timings"]["receive"], 5.0);
        assert_eq!(
            e["request"]["queryString"][1],
            json!({"name": "y", "value": " "})
        );
        assert_eq!(
            e["request"]["cookies"][1],
            json!({"name": "b", "value": "2"})
        );
        assert_eq!(
            e["request"]["postData"]["params"][1],
            json!({"name": "resource", "value": "https://a"})
        );
        let r = &e["response"];
        assert_eq!(r["redirectURL"], "https://login.microsoftonline.com/");
        assert_eq!(r["cookies"][0]["httpOnly"], true);
        assert_eq!(r["content"]["encoding"], "base64");
        assert_eq!(r["content"]["text"], "iVBOR/8=");
        assert_eq!(e["_process"], "outlook:4242");
        assert_eq!(e["serverIPAddress"], "203.0.113.5");
        assert!(e.get("_error").is_none());
    }

    #[test]
    fn no_answer_is_status_0_with_an_error_and_the_file_is_json() {
        let s = Session {
            request: Request {
                method: "CONNECT".into(),
                url: "autodiscover.contoso.com:443".into(),
                ..Request::default()
            },
            flags: crate::capture::SessionFlags {
                aborted: true,
                ..Default::default()
            },
            ..Session::default()
        };
        let e = entry(&s, &DecodeLimits::default(), &mut Vec::new());
        assert_eq!(e["request"]["url"], "http://autodiscover.contoso.com:443");
        assert_eq!(e["response"]["status"], 0);
        assert_eq!(e["_error"], "aborted");
        let mut w = HarWriter::new(Vec::new(), "c \"q\"").unwrap();
        w.entry(&e).unwrap();
        w.entry(&e).unwrap();
        let bytes = w.finish().unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["log"]["version"], "1.2");
        assert_eq!(v["log"]["entries"].as_array().unwrap().len(), 2);
        let empty: Value =
            serde_json::from_slice(&HarWriter::new(Vec::new(), "").unwrap().finish().unwrap())
                .unwrap();
        assert_eq!(empty["log"]["entries"], json!([]));
    }
}
