//! The HAR 1.2 writer, shaped like a Chrome/Edge DevTools export. Bodies are stored decoded
//! (as browsers store them); binary content goes in base64.

use crate::json::J;
use crate::model::{Capture, Request, Response, Session};
use crate::secrets::b64;
use crate::wire::{self, RequestForm};

/// Format knobs, for the variant files.
#[derive(Clone, Debug, Default)]
pub struct HarOptions {
    /// Start the file with a UTF-8 BOM.
    pub bom: bool,
    /// Write headers as HTTP/2 does: `:method`, `:authority`, `:scheme`, `:path`, lower-case
    /// names, no `Host`/`Connection`/`Transfer-Encoding`.
    pub h2: bool,
    /// Form posts as `postData.params` (no `text`); every response body in base64.
    pub params_and_base64: bool,
    /// Entry ids (from 1) whose response is reduced to `status: 0` without the optional
    /// fields, and ids whose `response` member is left out altogether.
    pub status_zero: Vec<usize>,
    /// See `status_zero`.
    pub no_response_member: Vec<usize>,
    /// Write without indentation (keeps the large capture small).
    pub compact: bool,
}

/// `{"log": {...}}` as DevTools writes it, around `entries`.
pub fn log(entries: Vec<J>) -> J {
    J::o(vec![(
        "log",
        J::o(vec![
            ("version", J::s("1.2")),
            (
                "creator",
                J::o(vec![
                    ("name", J::s("WebInspector")),
                    ("version", J::s("537.36")),
                ]),
            ),
            ("pages", J::Arr(vec![])),
            ("entries", J::Arr(entries)),
        ]),
    )])
}

/// HAR text of a capture.
pub fn har_bytes(cap: &Capture, opt: &HarOptions) -> Vec<u8> {
    let entries = cap
        .sessions
        .iter()
        .enumerate()
        .map(|(i, s)| entry(i + 1, s, opt))
        .collect();
    let doc = log(entries);
    let mut out = Vec::new();
    if opt.bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let text = if opt.compact {
        doc.compact()
    } else {
        doc.pretty()
    };
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
    out
}

/// The HAR entry of session `id`.
pub fn entry(id: usize, s: &Session, opt: &HarOptions) -> J {
    let reused = s.reused;
    let https = s.request.url.starts_with("https://");
    let blocked = if reused { 0.912 } else { 1.347 };
    let connect: f64 = if reused { -1.0 } else { 35.25 };
    let ssl: f64 = if reused || !https { -1.0 } else { 24.118 };
    let send = 0.131;
    let (wait, receive) = match &s.response {
        Some(_) => (s.wait_ms as f64 + 0.447, s.receive_ms as f64 + 0.219),
        None => (-1.0, -1.0),
    };
    let time = blocked + connect.max(0.0) + send + wait.max(0.0) + receive.max(0.0);
    let mut timings = vec![
        ("blocked", J::f(blocked)),
        ("dns", J::n(-1)),
        ("ssl", J::f(ssl)),
        ("connect", J::f(connect)),
        ("send", J::f(send)),
        ("wait", J::f(wait)),
        ("receive", J::f(receive)),
        ("_blocked_queueing", J::f(0.583)),
    ];
    let sparse = opt.status_zero.contains(&id) || opt.no_response_member.contains(&id);
    if sparse {
        timings.truncate(7);
    }
    let mut e: Vec<(&str, J)> = Vec::new();
    if !sparse {
        e.push(("_initiator", J::o(vec![("type", J::s("other"))])));
        e.push(("_priority", J::s("High")));
        e.push(("_resourceType", J::s(resource_type(s))));
        e.push(("cache", J::o(Vec::<(&str, J)>::new())));
        e.push(("connection", J::s(s.egress_port.to_string())));
    }
    e.push(("request", request(&s.request, opt)));
    if opt.status_zero.contains(&id) {
        e.push((
            "response",
            J::o(vec![
                ("status", J::n(0)),
                ("statusText", J::s("")),
                ("_error", J::s("net::ERR_CONNECTION_RESET")),
            ]),
        ));
    } else if !opt.no_response_member.contains(&id) {
        e.push(("response", response(s.response.as_ref(), opt)));
    }
    if !sparse && s.response.is_some() {
        e.push(("serverIPAddress", J::s(s.host_ip.clone())));
    }
    e.push(("startedDateTime", J::s(s.begin.iso_utc_ms())));
    e.push(("time", J::f(time)));
    e.push(("timings", J::o(timings)));
    J::o(e)
}

fn resource_type(s: &Session) -> &'static str {
    let ct = s
        .response
        .as_ref()
        .and_then(|r| header(&r.headers, "Content-Type"))
        .unwrap_or_default();
    if ct.starts_with("text/html") {
        "document"
    } else if ct.starts_with("image/") {
        "image"
    } else if s.request.method == "CONNECT" {
        "other"
    } else {
        "fetch"
    }
}

fn header(h: &[(String, String)], name: &str) -> Option<String> {
    h.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

fn nv(name: &str, value: &str) -> J {
    J::o(vec![("name", J::s(name)), ("value", J::s(value))])
}

/// The URL a HAR shows: CONNECT targets as Fiddler's HAR export names them.
fn har_url(req: &Request) -> String {
    if req.method == "CONNECT" {
        format!("http://{}", req.url)
    } else {
        req.url.clone()
    }
}

fn request(req: &Request, opt: &HarOptions) -> J {
    let url = har_url(req);
    let expanded = wire::expand_headers(&req.headers, req.body.as_ref());
    let headers: Vec<J> = if opt.h2 {
        let (scheme, rest) = url.split_once("://").unwrap_or(("https", &url));
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let mut v = vec![
            nv(":method", &req.method),
            nv(":authority", authority),
            nv(":scheme", scheme),
            nv(":path", &crate::model::path_of(&url)),
        ];
        for (n, val) in &expanded {
            let l = n.to_ascii_lowercase();
            if matches!(
                l.as_str(),
                "host" | "connection" | "transfer-encoding" | "keep-alive" | "expect"
            ) {
                continue;
            }
            v.push(nv(&l, val));
        }
        v
    } else {
        expanded.iter().map(|(n, v)| nv(n, v)).collect()
    };
    let query: Vec<J> = url
        .split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (n, v) = p.split_once('=').unwrap_or((p, ""));
                    nv(n, v)
                })
                .collect()
        })
        .unwrap_or_default();
    let cookies: Vec<J> = expanded
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Cookie"))
        .flat_map(|(_, v)| {
            v.split(';')
                .filter_map(|c| {
                    let c = c.trim();
                    c.split_once('=').map(|(n, v)| nv(n, v))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let head_size = if opt.h2 {
        -1
    } else {
        wire::request_head(req, RequestForm::Origin).len() as i64
    };
    let body = req.body.as_ref().filter(|_| req.method != "CONNECT");
    let body_size = body
        .map(|b| wire::wire_body(b).encoded.len() as i64)
        .unwrap_or(0);
    let mut r = vec![
        ("method", J::s(req.method.clone())),
        ("url", J::s(url.clone())),
        (
            "httpVersion",
            J::s(if opt.h2 { "http/2.0" } else { "HTTP/1.1" }),
        ),
        ("headers", J::Arr(headers)),
        ("queryString", J::Arr(query)),
        ("cookies", J::Arr(cookies)),
        ("headersSize", J::n(head_size)),
        ("bodySize", J::n(body_size)),
    ];
    if let Some(b) = body {
        let mime = header(&req.headers, "Content-Type").unwrap_or_default();
        let text = String::from_utf8_lossy(&b.data).into_owned();
        let pd = if opt.params_and_base64 && mime.starts_with("application/x-www-form-urlencoded") {
            let params = text
                .split('&')
                .map(|p| {
                    let (n, v) = p.split_once('=').unwrap_or((p, ""));
                    nv(&form_decode(n), &form_decode(v))
                })
                .collect();
            J::o(vec![("mimeType", J::s(mime)), ("params", J::Arr(params))])
        } else {
            J::o(vec![("mimeType", J::s(mime)), ("text", J::s(text))])
        };
        r.push(("postData", pd));
    }
    J::o(r)
}

/// Decodes `application/x-www-form-urlencoded` text.
pub fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hexval(b[i + 1]), hexval(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hexval(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn set_cookie(v: &str) -> J {
    let mut parts = v.split(';');
    let (name, value) = parts
        .next()
        .and_then(|p| p.trim().split_once('='))
        .unwrap_or(("", ""));
    let mut c = vec![("name", J::s(name)), ("value", J::s(value))];
    let mut http_only = false;
    let mut secure = false;
    for a in parts {
        let a = a.trim();
        let (k, val) = a.split_once('=').unwrap_or((a, ""));
        match k.to_ascii_lowercase().as_str() {
            "path" => c.push(("path", J::s(val))),
            "domain" => c.push(("domain", J::s(val))),
            "httponly" => http_only = true,
            "secure" => secure = true,
            "samesite" => c.push(("sameSite", J::s(val))),
            _ => {}
        }
    }
    c.push(("httpOnly", J::Bool(http_only)));
    c.push(("secure", J::Bool(secure)));
    J::o(c)
}

fn is_binary(mime: &str, data: &[u8]) -> bool {
    mime.starts_with("image/")
        || mime.starts_with("application/octet-stream")
        || std::str::from_utf8(data).is_err()
}

fn response(resp: Option<&Response>, opt: &HarOptions) -> J {
    let Some(resp) = resp else {
        return J::o(vec![
            ("status", J::n(0)),
            ("statusText", J::s("")),
            ("httpVersion", J::s("")),
            ("headers", J::Arr(vec![])),
            ("cookies", J::Arr(vec![])),
            (
                "content",
                J::o(vec![("size", J::n(0)), ("mimeType", J::s("x-unknown"))]),
            ),
            ("redirectURL", J::s("")),
            ("headersSize", J::n(-1)),
            ("bodySize", J::n(-1)),
            ("_transferSize", J::n(0)),
            ("_error", J::s("net::ERR_CONNECTION_RESET")),
        ]);
    };
    let expanded = wire::expand_headers(&resp.headers, resp.body.as_ref());
    let headers: Vec<J> = if opt.h2 {
        expanded
            .iter()
            .filter(|(n, _)| {
                !matches!(
                    n.to_ascii_lowercase().as_str(),
                    "connection" | "transfer-encoding" | "keep-alive"
                )
            })
            .map(|(n, v)| nv(&n.to_ascii_lowercase(), v))
            .collect()
    } else {
        expanded.iter().map(|(n, v)| nv(n, v)).collect()
    };
    let cookies: Vec<J> = expanded
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Set-Cookie"))
        .map(|(_, v)| set_cookie(v))
        .collect();
    let mime = header(&resp.headers, "Content-Type").unwrap_or_else(|| "x-unknown".into());
    let (data, encoded_len) = match &resp.body {
        Some(b) => (b.data.clone(), wire::wire_body(b).encoded.len()),
        None => (Vec::new(), 0),
    };
    let mut content = vec![
        ("size", J::n(data.len() as i64)),
        ("mimeType", J::s(mime.clone())),
    ];
    if !data.is_empty() {
        if opt.params_and_base64 || is_binary(&mime, &data) {
            content.push(("text", J::s(b64(&data))));
            content.push(("encoding", J::s("base64")));
        } else {
            content.push(("text", J::s(String::from_utf8_lossy(&data))));
        }
    }
    let head_size = if opt.h2 {
        -1
    } else {
        wire::response_head(resp).len() as i64
    };
    J::o(vec![
        ("status", J::n(resp.status as i64)),
        ("statusText", J::s(if opt.h2 { "" } else { &resp.reason })),
        (
            "httpVersion",
            J::s(if opt.h2 { "http/2.0" } else { &resp.version }),
        ),
        ("headers", J::Arr(headers)),
        ("cookies", J::Arr(cookies)),
        ("content", J::o(content)),
        (
            "redirectURL",
            J::s(header(&resp.headers, "Location").unwrap_or_default()),
        ),
        ("headersSize", J::n(head_size)),
        ("bodySize", J::n(encoded_len as i64)),
        ("_transferSize", J::n(head_size.max(0) + encoded_len as i64)),
        ("_error", J::Null),
    ])
}
