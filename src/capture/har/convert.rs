//! One HAR entry, read leniently, turned into the [`Session`] model: method and URL (HTTP/2
//! pseudo-headers folded in, relative URLs made absolute), headers, bodies (base64 decoded,
//! params re-encoded as a form), timers, and the problems found on the way.
//!
//! Kept apart from the lexer and visitors because it is the part that knows HAR semantics;
//! the rest only knows JSON.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeDelta};

#[allow(unused_imports)]
use super::*;
use crate::capture::headers::Headers;
use crate::capture::session::{Body, Request, Response, Session, SessionFlags, Timers};
use crate::capture::url_parts::UrlParts;
use crate::capture::{SessionError, SessionResult};

/// HTTP/2 and HTTP/3 pseudo-headers of a request, folded into method and URL.
#[derive(Default)]
pub(super) struct Pseudo {
    pub(super) method: Option<String>,
    pub(super) scheme: Option<String>,
    pub(super) authority: Option<String>,
    pub(super) path: Option<String>,
    pub(super) status: Option<String>,
}

impl Pseudo {
    /// Where the pseudo-header `name` (`:method`, any case) goes; `None` for one not read.
    pub(super) fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        // Only a pseudo-header's name is lowercased.
        Some(match name.to_ascii_lowercase().as_str() {
            ":method" => &mut self.method,
            ":scheme" => &mut self.scheme,
            ":authority" => &mut self.authority,
            ":path" => &mut self.path,
            ":status" => &mut self.status,
            _ => return None,
        })
    }
}

/// The problem of a header list longer than [`MAX_LIST`].
pub(super) fn dropped_headers(path: &str, dropped: u64) -> String {
    format!("{path}: {dropped} more headers than the {MAX_LIST} kept were dropped")
}

pub(super) fn convert(
    id: u64,
    raw: RawEntry,
    cut_strings: u64,
    limits: &HarLimits,
) -> SessionResult {
    let mut problems = Vec::new();
    if cut_strings > 0 {
        problems.push(format!(
            "{cut_strings} string value(s) longer than {} bytes were cut",
            limits.max_string
        ));
    }
    let Some(req) = raw.request.take("request", &mut problems) else {
        return Err(SessionError {
            session: Some(id),
            message: "entry has no request object".into(),
        });
    };

    let mut pseudo = Pseudo::default();
    let headers = headers_of(req.headers, "request.headers", &mut pseudo, &mut problems);
    let method = req
        .method
        .take("request.method", &mut problems)
        .filter(|m| !m.is_empty())
        .or_else(|| pseudo.method.take())
        .unwrap_or_else(|| {
            problems.push("request.method missing".into());
            String::new()
        });
    let url = req
        .url
        .take("request.url", &mut problems)
        .unwrap_or_default();
    let url = full_url(url, &method, &pseudo, &headers, &mut problems);
    let version = normalize_version(
        req.version
            .take("request.httpVersion", &mut problems)
            .unwrap_or_default(),
    );
    let body = match req.post.take("request.postData", &mut problems) {
        Some(post) => post_body(post, limits, &mut problems),
        None => Body::default(),
    };
    let request = Request {
        method,
        url,
        version,
        headers,
        body,
    };

    let entry_error = raw
        .error
        .take("_error", &mut problems)
        .filter(|e| !e.is_empty());
    let mut aborted = entry_error.is_some();
    let response = match raw.response.take("response", &mut problems) {
        Some(resp) => {
            let (response, error) = response_of(resp, limits, &mut problems);
            aborted |= error || response.is_none();
            response
        }
        None => {
            aborted = true;
            None
        }
    };
    let timers = timers_of(
        raw.started.take("startedDateTime", &mut problems),
        raw.time.take("time", &mut problems),
        raw.timings.take("timings", &mut problems),
        &mut problems,
    );
    let host_ip = raw
        .server_ip
        .take("serverIPAddress", &mut problems)
        .map(|ip| {
            trimmed(ip, |ip| {
                ip.trim().trim_start_matches('[').trim_end_matches(']')
            })
        })
        .filter(|ip| !ip.is_empty());
    let process = raw
        .process_info
        .take("_processInfo", &mut problems)
        .or_else(|| raw.process.take("_process", &mut problems))
        .filter(|p| !p.is_empty());
    let websocket = raw
        .ws_messages
        .take("_webSocketMessages", &mut problems)
        .is_some()
        || response.as_ref().is_some_and(|r| r.status == 101);
    let flags = SessionFlags {
        aborted,
        tunnel: request.method.eq_ignore_ascii_case("CONNECT"),
        websocket,
        ..SessionFlags::default()
    };
    Ok(Session {
        id,
        fiddler_id: None,
        timers,
        process,
        client_ip: None,
        host_ip,
        request,
        response,
        flags,
        problems,
    })
}

/// The response, or `None` when the HAR says none came (status 0 or missing). The flag says
/// the exporter recorded an error (`_error`).
pub(super) fn response_of(
    resp: RawResponse,
    limits: &HarLimits,
    problems: &mut Vec<String>,
) -> (Option<Response>, bool) {
    let error = resp
        .error
        .take("response._error", problems)
        .is_some_and(|e| !e.is_empty());
    let mut pseudo = Pseudo::default();
    let headers = headers_of(resp.headers, "response.headers", &mut pseudo, problems);
    let status = resp
        .status
        .take("response.status", problems)
        .or_else(|| pseudo.status.as_deref().and_then(|s| s.trim().parse().ok()));
    let status = match status {
        // Status 0: the exporter saw no response (Chrome's failed requests, mitmproxy's
        // incomplete flows).
        None | Some(0.0) => return (None, error),
        Some(s) if s.fract() == 0.0 && (100.0..=999.0).contains(&s) => s as u16,
        Some(_) => {
            problems.push("response.status is not an HTTP status code".into());
            return (None, error);
        }
    };
    let reason = resp
        .reason
        .take("response.statusText", problems)
        .unwrap_or_default();
    let version = normalize_version(
        resp.version
            .take("response.httpVersion", problems)
            .unwrap_or_default(),
    );
    let body = match resp.content.take("response.content", problems) {
        Some(content) => {
            let encoding = content.encoding.take("response.content.encoding", problems);
            match content
                .text
                .take("response.content.text", problems)
                .map(|t| t.0)
            {
                Some(text) => {
                    text_body(text, encoding.as_deref(), "response body", limits, problems)
                }
                None => Body::default(),
            }
        }
        None => Body::default(),
    };
    (
        Some(Response {
            version,
            status,
            reason,
            headers,
            body,
        }),
        error,
    )
}

/// Headers in order, pseudo-headers taken out into `pseudo`, the problems of the items that
/// are not plain headers reported in order.
pub(super) fn headers_of(
    list: Field<RawHeaders>,
    path: &str,
    pseudo: &mut Pseudo,
    problems: &mut Vec<String>,
) -> Headers {
    let Some(list) = list.take(path, problems) else {
        return Headers::new();
    };
    if list.dropped > 0 {
        problems.push(dropped_headers(path, list.dropped));
    }
    let headers = list.headers;
    for (i, note) in list.notes {
        let (at, want, found, converted) = match note {
            Note::NotObject(kind) => (String::new(), Kind::Object, kind, false),
            Note::Name(kind, converted) => (".name".into(), Kind::String, kind, converted),
            Note::Value(kind, converted) => (".value".into(), Kind::String, kind, converted),
            Note::NoName => {
                problems.push(format!("{path}[{i}]: header without a name"));
                continue;
            }
            Note::Pseudo(name, value) => {
                if let Some(slot) = pseudo.slot(headers.text_at(name)) {
                    slot.get_or_insert_with(|| headers.text_at(value).to_string());
                }
                continue;
            }
        };
        problems.push(wrong_kind(
            &format!("{path}[{i}]{at}"),
            want,
            found,
            converted,
        ));
    }
    headers
}

/// The request URL made absolute: HAR exporters write it absolute, but hand-made or
/// re-saved files may leave it out or relative, and HTTP/2 carries it in pseudo-headers.
pub(super) fn full_url(
    url: String,
    method: &str,
    pseudo: &Pseudo,
    headers: &Headers,
    problems: &mut Vec<String>,
) -> String {
    let is_connect = method.eq_ignore_ascii_case("CONNECT");
    let parts = UrlParts::split(&url);
    if parts.scheme.is_some() {
        if is_connect {
            // The session model writes a tunnel as `host:port`.
            return parts.authority.to_string();
        }
        return url;
    }
    let authority = pseudo
        .authority
        .clone()
        .or_else(|| headers.get("host").map(|h| h.trim().to_string()))
        .filter(|a| !a.is_empty());
    if is_connect {
        return if url.is_empty() {
            authority.unwrap_or_default()
        } else {
            url
        };
    }
    let Some(authority) = authority else {
        problems.push(if url.is_empty() {
            "request.url missing and no :authority or Host header to rebuild it".into()
        } else {
            "request.url is not absolute and no :authority or Host header gives the host".into()
        });
        return url;
    };
    let scheme = pseudo.scheme.as_deref().unwrap_or("https");
    let path = match (url.is_empty(), pseudo.path.as_deref()) {
        (false, _) => url.as_str(),
        (true, Some(p)) => p,
        (true, None) => "/",
    };
    let sep = if path.starts_with('/') { "" } else { "/" };
    if url.is_empty() {
        problems.push("request.url missing; rebuilt from the request headers".into());
    }
    format!("{scheme}://{authority}{sep}{path}")
}

/// `http/2.0`, `h2`, `HTTP/2` all mean HTTP/2; the session model writes `HTTP/x[.y]`.
pub(super) fn normalize_version(read: String) -> String {
    let v = trimmed(read, str::trim);
    // What nearly every request and response says, already in the model's form: the
    // `String` read is kept (the general case below lower-cases a copy and formats another).
    if v.starts_with("HTTP/1.") {
        return v;
    }
    let lower = v.to_ascii_lowercase();
    match lower.as_str() {
        "" => String::new(),
        "h2" | "http/2" | "http/2.0" => "HTTP/2".into(),
        "h3" | "http/3" | "http/3.0" => "HTTP/3".into(),
        _ if lower.starts_with("http/") => format!("HTTP/{}", &v[5..]),
        _ => v,
    }
}

/// `read` with `trim` applied: the `String` itself when `trim` took nothing off (nearly
/// always), else a copy of what is left.
fn trimmed(read: String, trim: impl FnOnce(&str) -> &str) -> String {
    let kept = trim(&read);
    if kept.len() == read.len() {
        read
    } else {
        kept.to_string()
    }
}

/// The request body: `postData.text`, else `postData.params` re-encoded as a form.
pub(super) fn post_body(post: RawPostData, limits: &HarLimits, problems: &mut Vec<String>) -> Body {
    let encoding = post.encoding.take("request.postData.encoding", problems);
    let text = post
        .text
        .take("request.postData.text", problems)
        .map(|t| t.0);
    let params = post.params.take("request.postData.params", problems);
    match (text, params) {
        (Some(text), _) if !text.is_empty() => {
            text_body(text, encoding.as_deref(), "request body", limits, problems)
        }
        (_, Some(params)) if !params.items.is_empty() => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (i, item) in params.items.into_iter().enumerate() {
                let path = format!("request.postData.params[{i}]");
                let Some(p) = item.take(&path, problems) else {
                    continue;
                };
                let name = p
                    .name
                    .take(&format!("{path}.name"), problems)
                    .unwrap_or_default();
                let value = p
                    .value
                    .take(&format!("{path}.value"), problems)
                    .unwrap_or_default();
                form.append_pair(&name, &value);
            }
            Body {
                raw: form.finish().into_bytes(),
                wire: false,
                truncated: false,
            }
        }
        _ => Body::default(),
    }
}

/// A HAR text body (UTF-8: see [`BodyString`]), base64-decoded when the HAR says so. HAR
/// text is already de-chunked and content-decoded by the exporter, so `wire` is false.
pub(super) fn text_body(
    text: Vec<u8>,
    encoding: Option<&str>,
    what: &str,
    limits: &HarLimits,
    problems: &mut Vec<String>,
) -> Body {
    // The guard cuts a string one byte past the limit at the earliest.
    let truncated = text.len() as u64 >= limits.max_string;
    if truncated {
        problems.push(format!(
            "{what} truncated at {} bytes of HAR text",
            text.len()
        ));
    }
    let base64 = encoding.is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"));
    if !base64 {
        return Body {
            raw: text,
            wire: false,
            truncated,
        };
    }
    // `text` is UTF-8 (`BodyString`); text that is not would not be base64 either.
    let mut b64 = std::str::from_utf8(&text).unwrap_or("\u{0}");
    if truncated {
        // A cut base64 text only decodes up to its last whole quantum.
        // (Not base64 at all when that is not a character boundary: no panic, a problem.)
        let mut end = b64.len() - b64.len() % 4;
        while !b64.is_char_boundary(end) {
            end -= 1;
        }
        b64 = &b64[..end];
    }
    match decode_base64(b64) {
        Some(raw) => Body {
            raw,
            wire: false,
            truncated,
        },
        None => {
            problems.push(format!("{what}: invalid base64"));
            Body {
                raw: Vec::new(),
                wire: false,
                truncated,
            }
        }
    }
}

/// Standard base64 with or without padding; exporters that wrap lines or use the URL-safe
/// alphabet are accepted too.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let standard = GeneralPurpose::new(&alphabet::STANDARD, config);
    if let Ok(raw) = standard.decode(text) {
        return Some(raw);
    }
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if let Ok(raw) = standard.decode(&compact) {
        return Some(raw);
    }
    GeneralPurpose::new(&alphabet::URL_SAFE, config)
        .decode(&compact)
        .ok()
}

/// The problem of an entry whose `startedDateTime` has no UTC offset (a local time, read as
/// UTC): the capture's clock cannot be placed (`analysis::limits` says so).
pub const NO_UTC_OFFSET: &str = "startedDateTime has no UTC offset; read as UTC";

/// `startedDateTime` and the durations after it (milliseconds; -1 means "not applicable").
pub(super) fn timers_of(
    started: Option<Started>,
    time: Option<f64>,
    timings: Option<RawTimings>,
    problems: &mut Vec<String>,
) -> Timers {
    let mut timers = Timers::default();
    let Some(Started(started)) = started else {
        return timers;
    };
    let begin = match started {
        Some((t, exact)) => {
            if !exact {
                problems.push(NO_UTC_OFFSET.into());
            }
            t
        }
        None => {
            problems.push("startedDateTime is not an RFC 3339 time".into());
            return timers;
        }
    };
    timers.client_begin_request = Some(begin);
    timers.client_done_response = time.and_then(|ms| after(begin, ms));
    if let Some(t) = timings {
        let mut ms = |f: Field<f64>, name: &str| -> Option<f64> {
            // The path is made only for a problem (six of them formatted for every entry
            // cost 0.8% of reading the 10k HAR).
            f.take_at(|| format!("timings.{name}"), problems)
                .filter(|v| v.is_finite() && *v >= 0.0)
        };
        let before_send: f64 = [
            ms(t.blocked, "blocked"),
            ms(t.dns, "dns"),
            ms(t.connect, "connect"),
        ]
        .into_iter()
        .flatten()
        .sum();
        let send = ms(t.send, "send");
        let wait = ms(t.wait, "wait");
        let receive = ms(t.receive, "receive");
        if let Some(send) = send {
            let got = before_send + send;
            timers.server_got_request = after(begin, got);
            if let Some(wait) = wait {
                timers.server_begin_response = after(begin, got + wait);
                if let Some(receive) = receive {
                    timers.server_done_response = after(begin, got + wait + receive);
                }
            }
        }
    }
    timers
}

/// RFC 3339, or a local time without offset (read as UTC, `false`).
pub(super) fn parse_time(s: &str) -> Option<(DateTime<FixedOffset>, bool)> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some((t, true));
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some((naive.and_utc().fixed_offset(), false))
}

/// `begin` plus `ms` milliseconds, when that is a sane duration (under ~300 years).
pub(super) fn after(begin: DateTime<FixedOffset>, ms: f64) -> Option<DateTime<FixedOffset>> {
    if !ms.is_finite() || !(0.0..=1e13).contains(&ms) {
        return None;
    }
    begin.checked_add_signed(TimeDelta::microseconds((ms * 1000.0).round() as i64))
}
