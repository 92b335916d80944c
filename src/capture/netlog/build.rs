//! NetLog events -> sessions: the state machine over each `URL_REQUEST` source's event
//! stream, with the sockets that carried their request bodies.
//!
//! A `URL_REQUEST` source is one request as the page or app made it. Inside it,
//! `URL_REQUEST_START_JOB` (url, method) begins each hop (a redirect starts a new job in the
//! same source), `HTTP_TRANSACTION_*SEND_REQUEST_HEADERS` gives the request head as sent
//! (a second one after an answer is the same job restarted: an auth round), and
//! `HTTP_TRANSACTION_READ_RESPONSE_HEADERS` the answer's head with its status line first.
//! Response bodies are in `URL_REQUEST_JOB_FILTERED_BYTES_READ` (decoded) when the log was
//! captured with raw bytes; request bodies only in the bytes the socket sent
//! (`SSL_SOCKET_BYTES_SENT`, or `SOCKET_BYTES_SENT` without TLS), tied to the request through
//! `HTTP_STREAM_REQUEST_BOUND_TO_JOB` and the socket's `SOCKET_IN_USE`.
//!
//! Memory: one small state per open request and socket (capped: past the cap the oldest is
//! closed and counted), bodies capped at the decode limit.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::super::har::decode_base64;
use super::super::{Body, Headers, Request, Response, Session, SessionFlags, Timers};
use super::envelope::Envelope;

/// The event types the builder reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ev {
    RequestAlive,
    StartJob,
    SendHeaders(&'static str),
    ResponseHeaders,
    FilteredBytes,
    RawBytes,
    BoundToJob,
    SocketInUse,
    SslConnect,
    SslBytesSent,
    SocketBytesSent,
}

impl Ev {
    fn of(name: &str) -> Option<Ev> {
        Some(match name {
            "REQUEST_ALIVE" => Ev::RequestAlive,
            "URL_REQUEST_START_JOB" => Ev::StartJob,
            "HTTP_TRANSACTION_SEND_REQUEST_HEADERS" => Ev::SendHeaders("HTTP/1.1"),
            "HTTP_TRANSACTION_HTTP2_SEND_REQUEST_HEADERS" => Ev::SendHeaders("HTTP/2"),
            "HTTP_TRANSACTION_QUIC_SEND_REQUEST_HEADERS"
            | "HTTP_TRANSACTION_HTTP3_SEND_REQUEST_HEADERS" => Ev::SendHeaders("HTTP/3"),
            "HTTP_TRANSACTION_READ_RESPONSE_HEADERS" => Ev::ResponseHeaders,
            "URL_REQUEST_JOB_FILTERED_BYTES_READ" => Ev::FilteredBytes,
            "URL_REQUEST_JOB_BYTES_READ" => Ev::RawBytes,
            "HTTP_STREAM_REQUEST_BOUND_TO_JOB" => Ev::BoundToJob,
            "SOCKET_IN_USE" => Ev::SocketInUse,
            "SSL_CONNECT" => Ev::SslConnect,
            "SSL_SOCKET_BYTES_SENT" => Ev::SslBytesSent,
            "SOCKET_BYTES_SENT" => Ev::SocketBytesSent,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    UrlRequest,
    Socket,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Begin,
    End,
    None,
}

/// How the log was captured (`constants.logCaptureMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// "Strip private data": no cookies or credentials, no bytes.
    Default,
    /// "Include cookies and credentials": no bytes.
    IncludeSensitive,
    /// "Include raw bytes": bodies too.
    Everything,
    /// Not said.
    Unknown,
}

/// What the `constants` object says that the builder needs.
#[derive(Debug, Clone)]
pub(super) struct Constants {
    types: HashMap<u64, Ev>,
    sources: HashMap<u64, Src>,
    phases: HashMap<u64, Phase>,
    tick_offset_ms: Option<i64>,
    pub mode: Mode,
    /// The app that hosted the network stack, when the log names it (Edge WebView2's
    /// `--webview-exe-name`: `ms-teams.exe`, `olk.exe`).
    pub process: Option<String>,
}

impl Constants {
    /// Read from the `constants` object's JSON text; `None` if it is not an object.
    pub(super) fn parse(text: &[u8]) -> Option<Constants> {
        let v: Value = serde_json::from_slice(text).ok()?;
        let obj = v.as_object()?;
        let ids = |key: &str| -> Vec<(String, u64)> {
            obj.get(key)
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                        .collect()
                })
                .unwrap_or_default()
        };
        let types = ids("logEventTypes")
            .into_iter()
            .filter_map(|(k, id)| Some((id, Ev::of(&k)?)))
            .collect();
        let sources = ids("logSourceType")
            .into_iter()
            .filter_map(|(k, id)| Some((id, src_of(&k)?)))
            .collect();
        let phases = ids("logEventPhase")
            .into_iter()
            .filter_map(|(k, id)| Some((id, phase_of(&k)?)))
            .collect();
        let tick_offset_ms = obj.get("timeTickOffset").and_then(int_of);
        let mode = match obj.get("logCaptureMode") {
            Some(Value::String(s)) => match s.as_str() {
                "Default" => Mode::Default,
                "IncludeSensitive" | "IncludeCookiesAndCredentials" => Mode::IncludeSensitive,
                "Everything" | "IncludeSocketBytes" => Mode::Everything,
                _ => Mode::Unknown,
            },
            _ => Mode::Unknown,
        };
        let process = obj
            .get("clientInfo")
            .and_then(|c| c.get("command_line"))
            .and_then(Value::as_str)
            .and_then(webview_exe);
        Some(Constants {
            types,
            sources,
            phases,
            tick_offset_ms,
            mode,
            process,
        })
    }
}

fn src_of(name: &str) -> Option<Src> {
    match name {
        "URL_REQUEST" => Some(Src::UrlRequest),
        "SOCKET" => Some(Src::Socket),
        _ => None,
    }
}

fn phase_of(name: &str) -> Option<Phase> {
    match name {
        "PHASE_BEGIN" => Some(Phase::Begin),
        "PHASE_END" => Some(Phase::End),
        "PHASE_NONE" => Some(Phase::None),
        _ => None,
    }
}

/// An integer given as a number or a string (NetLog writes 64-bit times as strings).
fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The host app of an Edge WebView2 (`--webview-exe-name=ms-teams.exe`), as Fiddler names
/// processes: `ms-teams`.
fn webview_exe(command_line: &str) -> Option<String> {
    let rest = command_line.split("--webview-exe-name=").nth(1)?;
    let rest = rest.trim_start_matches('"');
    let name: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"')
        .take(64)
        .collect();
    let name = name.rsplit(['\\', '/']).next().unwrap_or("");
    let name = name
        .strip_suffix(".exe")
        .or_else(|| name.strip_suffix(".EXE"))
        .unwrap_or(name);
    (!name.is_empty()).then(|| name.to_string())
}

/// Bounds of the builder.
#[derive(Debug, Clone, Copy)]
pub(super) struct BuildLimits {
    /// Largest body kept (the decode cap); the rest is cut and the body marked truncated.
    pub max_body: usize,
    /// Most requests and sockets followed at once.
    pub max_open: usize,
}

/// Finished sessions held back at most, waiting for an older request to end.
const MAX_HELD: usize = 1024;

/// One hop of one request, being read.
#[derive(Default)]
struct Pending {
    id: Option<u64>,
    method: String,
    url: String,
    version: String,
    request_headers: Option<Headers>,
    /// The request declared a body (`Content-Length` > 0, chunked).
    request_has_body: bool,
    response: Option<Response>,
    body: Vec<u8>,
    body_cut: bool,
    raw: Vec<u8>,
    raw_cut: bool,
    /// Bytes were read that the log does not hold (no raw bytes in the capture mode).
    body_unrecorded: bool,
    sent: Vec<u8>,
    sent_cut: bool,
    credentials_stripped: bool,
    begin: Option<DateTime<FixedOffset>>,
    answered: Option<DateTime<FixedOffset>>,
    last: Option<DateTime<FixedOffset>>,
}

#[derive(Default)]
struct Req {
    url: String,
    method: String,
    current: Option<Pending>,
    jobs: Vec<u64>,
}

#[derive(Default)]
struct Socket {
    ssl: bool,
    job: Option<u64>,
}

/// The state of the whole log.
pub(super) struct Builder {
    constants: Option<Constants>,
    limits: BuildLimits,
    requests: HashMap<u64, Req>,
    /// Requests by the order they were first seen, for closing the oldest past the cap.
    order: BTreeMap<u64, u64>,
    seq: u64,
    sockets: HashMap<u64, Socket>,
    jobs: HashMap<u64, u64>,
    next_id: u64,
    /// Ids of sessions still being read, for handing sessions over in id order.
    open_ids: BTreeSet<u64>,
    done: BTreeMap<u64, Session>,
    pub events: u64,
    pub unreadable_events: u64,
    pub oversized_events: u64,
    pub closed_early: u64,
    pub unknown_time: bool,
}

impl Builder {
    pub(super) fn new(limits: BuildLimits) -> Builder {
        Builder {
            constants: None,
            limits,
            requests: HashMap::new(),
            order: BTreeMap::new(),
            seq: 0,
            sockets: HashMap::new(),
            jobs: HashMap::new(),
            next_id: 1,
            open_ids: BTreeSet::new(),
            done: BTreeMap::new(),
            events: 0,
            unreadable_events: 0,
            oversized_events: 0,
            closed_early: 0,
            unknown_time: false,
        }
    }

    pub(super) fn constants(&self) -> Option<&Constants> {
        self.constants.as_ref()
    }

    pub(super) fn set_constants(&mut self, c: Constants) {
        self.constants = Some(c);
    }

    /// Read one event's JSON text. Its `params` are parsed only when the event is one of a
    /// request or a socket the builder reads ([`Envelope`]).
    pub(super) fn event(&mut self, text: &[u8]) {
        self.events += 1;
        let Some(v) = Envelope::read(text) else {
            self.unreadable_events += 1;
            return;
        };
        let Some(c) = self.constants.as_ref() else {
            return;
        };
        let ty = match &v.ty {
            Some(Value::String(s)) => Ev::of(s),
            Some(n) => n.as_u64().and_then(|n| c.types.get(&n).copied()),
            None => None,
        };
        let Some(ty) = ty else { return };
        let source = v.source.as_ref();
        let Some(id) = source.and_then(|s| s.get("id")).and_then(Value::as_u64) else {
            self.unreadable_events += 1;
            return;
        };
        let src = match source.and_then(|s| s.get("type")) {
            Some(Value::String(s)) => src_of(s),
            Some(n) => n.as_u64().and_then(|n| c.sources.get(&n).copied()),
            None => None,
        };
        let phase = match &v.phase {
            Some(Value::String(s)) => phase_of(s),
            Some(n) => n.as_u64().and_then(|n| c.phases.get(&n).copied()),
            None => None,
        }
        .unwrap_or(Phase::None);
        let time = v
            .time
            .as_ref()
            .and_then(int_of)
            .zip(c.tick_offset_ms)
            .and_then(|(t, o)| t.checked_add(o))
            .and_then(DateTime::from_timestamp_millis)
            .map(|t| t.fixed_offset());
        if time.is_none() {
            self.unknown_time = true;
        }
        let Some(src) = src else { return };
        let Some(params) = v.params() else {
            self.unreadable_events += 1;
            return;
        };
        match src {
            Src::UrlRequest => self.request_event(id, ty, phase, time, &params),
            Src::Socket => self.socket_event(id, ty, phase, &params),
        }
    }

    fn request_event(
        &mut self,
        id: u64,
        ty: Ev,
        phase: Phase,
        time: Option<DateTime<FixedOffset>>,
        params: &Value,
    ) {
        if !self.requests.contains_key(&id) {
            if self.requests.len() >= self.limits.max_open {
                self.close_oldest();
            }
            self.seq += 1;
            self.order.insert(self.seq, id);
            self.requests.insert(id, Req::default());
        }
        let max_body = self.limits.max_body;
        let str_param = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
        match (ty, phase) {
            (Ev::RequestAlive, Phase::Begin) => {
                if let Some(req) = self.requests.get_mut(&id) {
                    if let Some(url) = str_param("url") {
                        req.url = url;
                    }
                }
            }
            (Ev::RequestAlive, Phase::End) => {
                if let Some(p) = self.req_current(id) {
                    p.last = time.or(p.last);
                }
                self.close(id);
            }
            (Ev::StartJob, Phase::Begin) => {
                self.finish_current(id);
                if let Some(req) = self.requests.get_mut(&id) {
                    if let Some(url) = str_param("url") {
                        req.url = url;
                    }
                    if let Some(m) = str_param("method") {
                        req.method = m;
                    }
                    req.current = Some(Pending {
                        method: req.method.clone(),
                        url: req.url.clone(),
                        begin: time,
                        last: time,
                        ..Pending::default()
                    });
                }
            }
            (Ev::SendHeaders(version), _) => {
                let restarted = self
                    .req_current(id)
                    .is_some_and(|p| p.response.is_some() || p.request_headers.is_some());
                if restarted {
                    self.finish_current(id);
                }
                let next_id = self.next_id;
                let Some(req) = self.requests.get_mut(&id) else {
                    return;
                };
                let (method, url) = (req.method.clone(), req.url.clone());
                let p = req.current.get_or_insert_with(|| Pending {
                    method,
                    url,
                    begin: time,
                    ..Pending::default()
                });
                let (headers, pseudo, stripped) = header_list(params.get("headers"));
                p.credentials_stripped |= stripped;
                p.version = version.to_string();
                if let Some(line) = params.get("line").and_then(Value::as_str) {
                    let mut words = line.split_whitespace();
                    if let Some(m) = words.next() {
                        p.method = m.to_string();
                    }
                    if let Some(v) = words.nth(1).filter(|v| v.starts_with("HTTP/")) {
                        p.version = v.to_string();
                    }
                }
                if let Some(m) = pseudo.method.clone() {
                    p.method = m;
                }
                if p.url.is_empty() {
                    p.url = url_from(&pseudo, &headers);
                }
                if p.method.is_empty() {
                    p.method = "GET".into();
                }
                p.request_has_body = headers
                    .get("content-length")
                    .and_then(|l| l.trim().parse::<u64>().ok())
                    .is_some_and(|l| l > 0)
                    || headers
                        .get("transfer-encoding")
                        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
                p.request_headers = Some(headers);
                p.begin = time.or(p.begin);
                p.last = time.or(p.last);
                if p.id.is_none() {
                    p.id = Some(next_id);
                    self.next_id += 1;
                    self.open_ids.insert(next_id);
                }
            }
            (Ev::ResponseHeaders, _) => {
                let Some(p) = self.req_current(id) else {
                    return;
                };
                let list = params.get("headers");
                let first = list
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let (version, status, reason) = status_line(first);
                let (headers, _, stripped) = header_list_from(list, 1);
                p.credentials_stripped |= stripped;
                if let Some(status) = status {
                    p.response = Some(Response {
                        version,
                        status,
                        reason,
                        headers,
                        body: Body::default(),
                    });
                    p.answered = time;
                    p.body.clear();
                    p.raw.clear();
                }
                p.last = time.or(p.last);
            }
            (Ev::FilteredBytes | Ev::RawBytes, _) => {
                let Some(p) = self.req_current(id) else {
                    return;
                };
                let count = params.get("byte_count").and_then(int_of).unwrap_or(0);
                let filtered = ty == Ev::FilteredBytes;
                match params.get("bytes").and_then(Value::as_str) {
                    Some(b64) => {
                        let bytes = decode_base64(b64).unwrap_or_default();
                        let (buf, cut) = if filtered {
                            (&mut p.body, &mut p.body_cut)
                        } else {
                            (&mut p.raw, &mut p.raw_cut)
                        };
                        append_capped(buf, cut, &bytes, max_body);
                    }
                    None if count > 0 => p.body_unrecorded = true,
                    None => {}
                }
                p.last = time.or(p.last);
            }
            (Ev::BoundToJob, _) => {
                if let Some(job) = dependency(params) {
                    if self.jobs.len() < self.limits.max_open * 4 {
                        self.jobs.insert(job, id);
                        if let Some(req) = self.requests.get_mut(&id) {
                            req.jobs.push(job);
                        }
                    }
                }
            }
            _ => {
                if let Some(p) = self.req_current(id) {
                    p.last = time.or(p.last);
                }
            }
        }
    }

    fn socket_event(&mut self, id: u64, ty: Ev, phase: Phase, params: &Value) {
        if !self.sockets.contains_key(&id) {
            if self.sockets.len() >= self.limits.max_open {
                // Sockets left open are forgotten, never their requests.
                self.sockets.clear();
            }
            self.sockets.insert(id, Socket::default());
        }
        let Some(socket) = self.sockets.get_mut(&id) else {
            return;
        };
        match (ty, phase) {
            (Ev::SslConnect, _) => socket.ssl = true,
            (Ev::SocketInUse, Phase::Begin) => socket.job = dependency(params),
            (Ev::SocketInUse, Phase::End) => socket.job = None,
            (Ev::SslBytesSent, _) | (Ev::SocketBytesSent, _) => {
                if ty == Ev::SocketBytesSent && socket.ssl {
                    return;
                }
                let Some(job) = socket.job else { return };
                let Some(bytes) = params
                    .get("bytes")
                    .and_then(Value::as_str)
                    .and_then(decode_base64)
                else {
                    return;
                };
                let Some(&req) = self.jobs.get(&job) else {
                    return;
                };
                let max = self.limits.max_body.saturating_add(64 * 1024);
                if let Some(p) = self.req_current(req) {
                    append_capped(&mut p.sent, &mut p.sent_cut, &bytes, max);
                }
            }
            _ => {}
        }
    }

    fn req_current(&mut self, id: u64) -> Option<&mut Pending> {
        self.requests.get_mut(&id)?.current.as_mut()
    }

    /// The current hop of request `id` is over: keep it as a session if it sent anything.
    fn finish_current(&mut self, id: u64) {
        let Some(p) = self.requests.get_mut(&id).and_then(|r| r.current.take()) else {
            return;
        };
        let process = self.constants.as_ref().and_then(|c| c.process.clone());
        let bytes_logged = self
            .constants
            .as_ref()
            .is_none_or(|c| matches!(c.mode, Mode::Everything | Mode::Unknown));
        if let Some(session) = p.into_session(process, bytes_logged) {
            self.open_ids.remove(&session.id);
            self.done.insert(session.id, session);
        }
    }

    fn close(&mut self, id: u64) {
        self.finish_current(id);
        if let Some(req) = self.requests.remove(&id) {
            for job in req.jobs {
                self.jobs.remove(&job);
            }
        }
        self.order.retain(|_, v| *v != id);
    }

    fn close_oldest(&mut self) {
        if let Some((_, id)) = self.order.pop_first() {
            self.closed_early += 1;
            self.close(id);
        }
    }

    /// The sessions ready to hand over, in id order: every finished one numbered before the
    /// oldest still open, or all of them once [`MAX_HELD`] wait behind one request that
    /// stays open (a long poll, a WebSocket): memory stays bounded, and that request's
    /// session comes later, out of order (the analysis sorts by id).
    pub(super) fn ready(&mut self) -> Vec<Session> {
        let limit = if self.done.len() > MAX_HELD {
            u64::MAX
        } else {
            self.open_ids.first().copied().unwrap_or(u64::MAX)
        };
        let keep = self.done.split_off(&limit);
        let out = std::mem::replace(&mut self.done, keep);
        out.into_values().collect()
    }

    /// The log ended: every request still open is kept as it stands.
    pub(super) fn finish(&mut self) -> Vec<Session> {
        let open: Vec<u64> = self.order.values().copied().collect();
        for id in open {
            self.close(id);
        }
        self.open_ids.clear();
        std::mem::take(&mut self.done).into_values().collect()
    }
}

impl Pending {
    /// `bytes_logged`: the capture mode logs bodies; when it does not, an answer that
    /// declares one lost it.
    fn into_session(self, process: Option<String>, bytes_logged: bool) -> Option<Session> {
        let id = self.id?;
        let headers = self.request_headers.unwrap_or_default();
        let mut problems = Vec::new();
        // The socket's bytes: the request head as sent, then its body (HTTP/1.x only: an
        // HTTP/2 socket carries frames of many streams).
        let mut body = Body::default();
        let mut body_unrecorded = self.body_unrecorded;
        if self.request_has_body {
            let sent = &self.sent;
            let head_end = memchr::memmem::find(sent, b"\r\n\r\n");
            let plain = self.version.starts_with("HTTP/1")
                && sent.starts_with(self.method.as_bytes())
                && sent.get(self.method.len()) == Some(&b' ');
            match head_end.filter(|_| plain) {
                Some(end) => {
                    body = Body {
                        raw: sent[end + 4..].to_vec(),
                        wire: true,
                        truncated: self.sent_cut,
                    };
                }
                None => body_unrecorded = true,
            }
        }
        if !bytes_logged && self.body.is_empty() && self.raw.is_empty() {
            if let Some(r) = self.response.as_ref() {
                body_unrecorded |= declares_body(&r.headers, r.status, &self.method);
            }
        }
        let response = self.response.map(|mut r| {
            let coded = r.headers.get("content-encoding").is_some();
            let (raw, truncated) = if !self.body.is_empty() || self.raw.is_empty() || coded {
                (self.body, self.body_cut)
            } else {
                (self.raw, self.raw_cut)
            };
            if truncated {
                problems.push("response body: cut at the body size cap".to_string());
            }
            r.body = Body {
                raw,
                wire: false,
                truncated,
            };
            r
        });
        let aborted = response.is_none();
        Some(Session {
            id,
            fiddler_id: None,
            timers: Timers {
                client_begin_request: self.begin,
                server_begin_response: self.answered,
                client_done_response: self.last.filter(|_| !aborted),
                ..Timers::default()
            },
            process,
            client_ip: None,
            host_ip: None,
            request: Request {
                method: self.method,
                url: self.url,
                version: self.version,
                headers,
                body,
            },
            response,
            flags: SessionFlags {
                aborted,
                body_unrecorded,
                credentials_stripped: self.credentials_stripped,
                ..SessionFlags::default()
            },
            problems,
        })
    }
}

/// An answer whose head says a body follows.
fn declares_body(headers: &Headers, status: u16, method: &str) -> bool {
    if method.eq_ignore_ascii_case("HEAD") || status < 200 || status == 204 || status == 304 {
        return false;
    }
    match headers.get("content-length") {
        Some(l) => l.trim().parse::<u64>().map_or(true, |l| l > 0),
        None => true,
    }
}

fn append_capped(buf: &mut Vec<u8>, cut: &mut bool, bytes: &[u8], max: usize) {
    let room = max.saturating_sub(buf.len());
    if bytes.len() > room {
        *cut = true;
    }
    buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

fn dependency(params: &Value) -> Option<u64> {
    params
        .get("source_dependency")
        .and_then(|d| d.get("id"))
        .and_then(Value::as_u64)
}

#[derive(Default)]
struct Pseudo {
    method: Option<String>,
    scheme: Option<String>,
    authority: Option<String>,
    path: Option<String>,
}

fn header_list(list: Option<&Value>) -> (Headers, Pseudo, bool) {
    header_list_from(list, 0)
}

/// `["Name: value", ...]` from index `skip` on, HTTP/2 pseudo-headers taken out; whether
/// Chrome stripped a value in its default mode (`[42 bytes were stripped]`, kept as is).
fn header_list_from(list: Option<&Value>, skip: usize) -> (Headers, Pseudo, bool) {
    let mut headers = Headers::new();
    let mut pseudo = Pseudo::default();
    let mut stripped = false;
    let Some(items) = list.and_then(Value::as_array) else {
        return (headers, pseudo, stripped);
    };
    for line in items
        .iter()
        .skip(skip)
        .filter_map(Value::as_str)
        .take(10_000)
    {
        let split_at = if let Some(rest) = line.strip_prefix(':') {
            rest.find(':').map(|i| i + 1)
        } else {
            line.find(':')
        };
        let Some(i) = split_at else { continue };
        let (name, value) = (line[..i].trim(), line[i + 1..].trim());
        if name.is_empty() {
            continue;
        }
        if value.ends_with("bytes were stripped]") {
            // Kept as logged: a credential of unknown scheme was sent (or set), which is
            // not the same as none.
            stripped = true;
        }
        let slot = match name.to_ascii_lowercase().as_str() {
            ":method" => &mut pseudo.method,
            ":scheme" => &mut pseudo.scheme,
            ":authority" => &mut pseudo.authority,
            ":path" => &mut pseudo.path,
            n if n.starts_with(':') => continue,
            _ => {
                headers.push(name, value);
                continue;
            }
        };
        slot.get_or_insert(value.to_string());
    }
    (headers, pseudo, stripped)
}

/// The URL of a request whose job the log did not show (it began before logging did).
fn url_from(pseudo: &Pseudo, headers: &Headers) -> String {
    let host = pseudo
        .authority
        .clone()
        .or_else(|| headers.get("host").map(str::to_string))
        .unwrap_or_default();
    let scheme = pseudo.scheme.as_deref().unwrap_or("https");
    let path = pseudo.path.as_deref().unwrap_or("/");
    if host.is_empty() {
        return String::new();
    }
    format!("{scheme}://{host}{path}")
}

/// `HTTP/1.1 401 Unauthorized` -> version, status, reason.
fn status_line(line: &str) -> (String, Option<u16>, String) {
    let mut parts = line.trim().splitn(3, ' ');
    let version = parts.next().unwrap_or("").to_string();
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..=999).contains(s));
    let reason = parts.next().unwrap_or("").to_string();
    let version = if version.starts_with("HTTP/") {
        version
    } else {
        "HTTP/1.1".into()
    };
    (version, status, reason)
}
