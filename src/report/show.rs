//! `traceadal show`: one session as Fiddler's inspectors show it (heads in wire order, the
//! decoded body, pretty when it is JSON or XML, binary summarised) with what the analysis
//! knows about it (auth schemes, token claims by name, AADSTS codes, `x-ms-diagnostics`, the
//! flows and findings that cite it). Also the per-session facts `sessions` lists (auth
//! schemes offered and sent, times).
//!
//! Values are as captured: the caller prints through the redaction layer
//! (`cli::output::emit`). No token is kept here: claims are read by name
//! ([`auth::jwt::decode_claims`]) and only the ones rules cite are shown.

use std::io::{self, Write};

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeZone, Utc};
use serde::Serialize;

use crate::analysis::Analysis;
use crate::auth::{self, Event, ExchangeDiagnostic, TokenOutcome};
use crate::capture::{Body, DecodeLimits, Headers, Session};
use crate::redact::token_answer;

/// Schema name of `show --format json`.
pub const SCHEMA: &str = "traceadal.show/1";
/// The most of a decoded body shown, in bytes.
pub const BODY_SHOWN: usize = 64 * 1024;
/// The largest body decoded to be shown; bigger bodies show their start.
pub const BODY_DECODE_CAP: u64 = 16 * 1024 * 1024;
/// Bodies up to this size are pretty-printed (JSON, XML).
const PRETTY_MAX: usize = 2 * 1024 * 1024;
/// The first bytes of a binary body shown as hex.
const HEX_BYTES: usize = 32;

/// `show --format json`: `{"schema", "capture": {"path", "format"}, "sessions": [...]}`.
#[derive(Debug, Serialize)]
pub struct ShowDocument<'a> {
    pub schema: &'static str,
    pub capture: CaptureRef<'a>,
    pub sessions: &'a [Shown],
}

#[derive(Debug, Serialize)]
pub struct CaptureRef<'a> {
    pub path: &'a str,
    pub format: &'a str,
}

/// One session, shown.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub id: u64,
    /// Fiddler's id of the session (the SAZ's `SID`, issue 20); absent for HAR and NetLog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fiddler_id: Option<u64>,
    /// When the client began the request, RFC 3339 in UTC.
    pub start: Option<String>,
    /// When the exchange ended, RFC 3339 in UTC.
    pub end: Option<String>,
    /// Milliseconds from the capture's first session to this one's start.
    pub elapsed_ms: Option<i64>,
    pub process: Option<String>,
    pub client_ip: Option<String>,
    pub host_ip: Option<String>,
    pub request: RequestShown,
    /// `null` when no response was recorded (aborted).
    pub response: Option<ResponseShown>,
    pub auth: AuthSeen,
    /// Claims of the tokens this session carries (the `Authorization: Bearer` token sent,
    /// tokens in a token answer), by name: never the token.
    pub tokens: Vec<TokenClaims>,
    /// The sign-in request, when this is one to Entra ID.
    pub sign_in: Option<SignIn>,
    /// AADSTS codes Entra ID answered, with the catalog's name and meaning.
    pub aadsts: Vec<AadstsCode>,
    /// Entra ID's error answer (not its description's secrets: ids and time only).
    pub entra_error: Option<EntraError>,
    /// Every `x-ms-diagnostics` of the response, decoded.
    pub diagnostics: Vec<Diagnostic>,
    /// The report's flows holding this session (`index`: 1-based, the order of `loops`).
    pub flows: Vec<FlowRef>,
    /// The findings citing this session.
    pub findings: Vec<FindingRef>,
    /// What went wrong reading this session.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestShown {
    pub method: String,
    pub url: String,
    pub version: String,
    /// In wire order, as captured.
    pub headers: Vec<Header>,
    pub body: BodyShown,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResponseShown {
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// In wire order, as captured.
    pub headers: Vec<Header>,
    pub body: BodyShown,
}

/// One header line, as HAR writes it.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A decoded body.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BodyShown {
    /// `empty`, `json`, `xml`, `form`, `text`, `binary`, `undecodable`, `withheld` (a
    /// body that is a bare credential, shown only with --show-secrets).
    pub kind: &'static str,
    /// Bytes as stored in the capture (framing and content codings included).
    pub stored_bytes: usize,
    /// Bytes once de-chunked and decompressed, when it decoded.
    pub decoded_bytes: Option<usize>,
    pub content_type: Option<String>,
    /// The text (JSON and XML pretty-printed), at most [`BODY_SHOWN`] bytes.
    pub text: Option<String>,
    /// The first bytes of a binary body, as hex.
    pub hex: Option<String>,
    /// Why not all of it is shown.
    pub note: Option<String>,
}

/// Auth schemes, never credentials.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthSeen {
    /// Schemes the response's `WWW-Authenticate` offered, in order (`Bearer`, `NTLM`...).
    pub offered: Vec<String>,
    /// The scheme of the request's `Authorization` header.
    pub sent: Option<String>,
    /// What the credential sent is: `bearer`, `basic`, `ntlm` (also NTLM inside
    /// Negotiate), `negotiate` (Kerberos), `other`.
    pub sent_kind: Option<crate::capture::Credential>,
}

impl AuthSeen {
    pub fn of(session: &Session) -> AuthSeen {
        let sent_value = session.request.headers.get("authorization");
        AuthSeen {
            offered: session
                .response
                .as_ref()
                .map(|r| offered_schemes(&r.headers))
                .unwrap_or_default(),
            sent: sent_value.and_then(scheme_name),
            sent_kind: sent_value.and_then(crate::capture::Credential::of),
        }
    }

    /// `offered / sent` for a list column: `Bearer,NTLM / -`; empty when neither.
    pub fn column(&self) -> String {
        if self.offered.is_empty() && self.sent.is_none() {
            return String::new();
        }
        let offered = if self.offered.is_empty() {
            "-".to_string()
        } else {
            self.offered.join(",")
        };
        format!("{offered} / {}", self.sent.as_deref().unwrap_or("-"))
    }
}

/// The schemes `WWW-Authenticate` offers, each once, in order.
pub fn offered_schemes(headers: &Headers) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for scheme in auth::challenge::parse_www_authenticate(headers.get_all("www-authenticate")) {
        if let Some(name) = clean_scheme(&scheme.name) {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                names.push(name);
            }
        }
    }
    names
}

/// The scheme of an `Authorization` value (its first word), never what follows it.
pub fn scheme_name(value: &str) -> Option<String> {
    clean_scheme(value.split_whitespace().next()?)
}

fn clean_scheme(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Some(name.to_string())
    } else if name.is_empty() {
        None
    } else {
        Some("other".to_string())
    }
}

/// The claims rules cite, by name. Dates are RFC 3339 in UTC.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TokenClaims {
    /// Where the token was: `authorization` (sent), or the answer's field (`access_token`,
    /// `id_token`).
    pub source: String,
    pub aud: Option<String>,
    pub tid: Option<String>,
    pub appid: Option<String>,
    /// The application `appid` names, when well known.
    pub app_name: Option<&'static str>,
    /// The domain of `upn` (else `unique_name`, `preferred_username`), never the user.
    pub upn_domain: Option<String>,
    pub iat: Option<String>,
    pub nbf: Option<String>,
    pub exp: Option<String>,
    /// `scp`, split.
    pub scp: Vec<String>,
    /// `roles`.
    pub roles: Vec<String>,
    /// Why the claims could not be read (an encrypted or opaque token).
    pub unreadable: Option<String>,
}

impl TokenClaims {
    fn of(source: &str, token: &str) -> TokenClaims {
        match auth::jwt::decode_claims(token) {
            Err(why) => TokenClaims {
                source: source.to_string(),
                unreadable: Some(why),
                ..TokenClaims::default()
            },
            Ok(c) => {
                let date = |v: Option<i64>| v.and_then(unix_date);
                let iat = c.all.get("iat").and_then(|v| {
                    v.as_i64()
                        .or_else(|| v.as_f64().map(|f| f as i64))
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                });
                let roles = match c.all.get("roles") {
                    Some(serde_json::Value::Array(items)) => items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                    Some(serde_json::Value::String(s)) => vec![s.clone()],
                    _ => Vec::new(),
                };
                TokenClaims {
                    source: source.to_string(),
                    app_name: c.appid.as_deref().and_then(auth::login::client_name),
                    aud: c.aud,
                    tid: c.tid,
                    appid: c.appid,
                    upn_domain: c
                        .upn
                        .as_deref()
                        .and_then(|u| u.rsplit_once('@'))
                        .map(|(_, d)| d.to_string()),
                    iat: date(iat),
                    nbf: date(c.nbf),
                    exp: date(c.exp),
                    scp: c
                        .scp
                        .as_deref()
                        .map(|s| s.split_whitespace().map(str::to_string).collect())
                        .unwrap_or_default(),
                    roles,
                    unreadable: None,
                }
            }
        }
    }
}

fn unix_date(secs: i64) -> Option<String> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// A sign-in request to Entra ID.
#[derive(Debug, Clone, Serialize)]
pub struct SignIn {
    pub kind: String,
    pub authority: String,
    pub tenant: Option<String>,
    pub resource: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_name: Option<&'static str>,
    pub grant_type: Option<String>,
    /// What Entra ID's sign-in logs call the correlation id.
    pub client_request_id: Option<String>,
    /// Through the Windows broker (WAM).
    pub wam: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AadstsCode {
    pub code: u32,
    pub name: Option<&'static str>,
    pub meaning: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntraError {
    pub error: Option<String>,
    /// The description's first line.
    pub message: Option<String>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub code: String,
    pub reason: Option<String>,
    pub error_category: Option<String>,
    pub meaning: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlowRef {
    /// 1-based, in the report's order (`loops`, the "Token flows" table).
    pub index: usize,
    pub resource: String,
    pub client: Option<String>,
    pub outcome: serde_json::Value,
    pub state: serde_json::Value,
    pub first_session: u64,
    pub last_session: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingRef {
    pub id: String,
    pub severity: serde_json::Value,
    pub title: String,
}

/// The start of the capture: its earliest session start.
pub fn capture_start(analysis: &Analysis) -> Option<DateTime<FixedOffset>> {
    analysis.sessions.iter().filter_map(|s| s.start).min()
}

/// A time for a person matching the Entra sign-in logs: UTC, milliseconds.
pub fn utc_millis(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Shown {
    /// `session` as shown, with what `analysis` (of the same capture) knows about it.
    /// Unless `show_secrets`, an answer whose whole body is a bare token (Seamless SSO's
    /// `autologon`, which no text finder can recognise) is not shown.
    pub fn of(
        session: &Session,
        analysis: &Analysis,
        limits: &DecodeLimits,
        show_secrets: bool,
    ) -> Shown {
        let limits = DecodeLimits {
            max_decoded: limits.max_decoded.min(BODY_DECODE_CAP),
            ..*limits
        };
        let id = session.id;
        let start = session.timers.start();
        let events: Vec<&Event> = analysis
            .events
            .iter()
            .filter(|e| e.session() == id)
            .collect();
        let req = &session.request;
        let request = RequestShown {
            method: req.method.clone(),
            url: req.url.clone(),
            version: req.version.clone(),
            headers: pairs(&req.headers),
            body: body_shown(
                &req.body,
                req.decoded_body_partial(&limits),
                req.headers.get("content-type"),
            ),
        };
        let response = session.response.as_ref().map(|r| ResponseShown {
            version: r.version.clone(),
            status: r.status,
            reason: r.reason.clone(),
            headers: pairs(&r.headers),
            body: if !show_secrets && is_bare_token(session) {
                BodyShown {
                    kind: "withheld",
                    stored_bytes: r.body.len(),
                    content_type: r.content_type().map(str::to_string),
                    note: Some(format!("not shown: {}", token_answer::WHY)),
                    ..BodyShown::default()
                }
            } else {
                body_shown(&r.body, r.decoded_body_partial(&limits), r.content_type())
            },
        });
        let mut tokens = Vec::new();
        if let Some(token) = req
            .headers
            .get("authorization")
            .and_then(crate::auth::jwt::bearer_token)
        {
            tokens.push(TokenClaims::of("authorization", token));
        }
        if let Some(text) = response
            .as_ref()
            .filter(|r| r.body.kind == "json")
            .and(session.response.as_ref())
            .and_then(|r| r.decoded_body(&limits).ok())
        {
            if let Ok(serde_json::Value::Object(map)) =
                serde_json::from_slice::<serde_json::Value>(&text)
            {
                for field in ["access_token", "id_token"] {
                    if let Some(serde_json::Value::String(t)) = map.get(field) {
                        tokens.push(TokenClaims::of(field, t));
                    }
                }
            }
        }
        let mut sign_in = None;
        let mut aadsts = Vec::new();
        let mut entra_error = None;
        for e in &events {
            match e {
                Event::Login(l) => {
                    sign_in = Some(SignIn {
                        kind: serde_json::to_value(l.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default(),
                        authority: l.authority.clone(),
                        tenant: l.tenant.clone(),
                        resource: l.resource.clone(),
                        scope: l.scope.clone(),
                        client_id: l.client_id.clone(),
                        client_name: l.client_id.as_deref().and_then(auth::login::client_name),
                        grant_type: l.grant_type.clone(),
                        client_request_id: l.client_request_id.clone(),
                        wam: l.wam,
                    })
                }
                Event::TokenResult(t) => {
                    if let TokenOutcome::AadError(err) = &t.outcome {
                        for &code in &err.codes {
                            if !aadsts.iter().any(|a: &AadstsCode| a.code == code) {
                                let info = auth::aadsts::lookup(code);
                                aadsts.push(AadstsCode {
                                    code,
                                    name: info.map(|i| i.name),
                                    meaning: info.map(|i| i.summary),
                                });
                            }
                        }
                        entra_error = Some(EntraError {
                            error: err.error.clone(),
                            message: err
                                .description
                                .as_deref()
                                .and_then(|d| d.lines().next())
                                .map(str::to_string),
                            trace_id: err.trace_id.clone(),
                            correlation_id: err.correlation_id.clone(),
                            timestamp: err.timestamp.clone(),
                        });
                    }
                }
                _ => {}
            }
        }
        let diagnostics = session
            .response
            .iter()
            .flat_map(|r| r.headers.get_all("x-ms-diagnostics"))
            .filter_map(ExchangeDiagnostic::parse)
            .map(|d| Diagnostic {
                meaning: d.meaning(),
                code: d.code.clone(),
                reason: d.reason.clone(),
                error_category: d.error_category.clone(),
            })
            .collect();
        let flows = analysis
            .flows
            .iter()
            .enumerate()
            .filter(|(_, f)| f.sessions.binary_search(&id).is_ok())
            .map(|(i, f)| FlowRef {
                index: i + 1,
                resource: f.resource.to_string(),
                client: match (&f.client_process, f.client_name) {
                    (Some(p), Some(n)) => Some(format!("{p} ({n})")),
                    (Some(p), None) => Some(p.clone()),
                    (None, Some(n)) => Some(n.to_string()),
                    (None, None) => f.client_id.clone(),
                },
                outcome: serde_json::to_value(f.outcome).unwrap_or_default(),
                state: serde_json::to_value(f.state).unwrap_or_default(),
                first_session: f.first_session,
                last_session: f.last_session,
            })
            .collect();
        let findings = analysis
            .findings
            .iter()
            .filter(|f| f.sessions.contains(&id))
            .map(|f| FindingRef {
                id: f.id.clone(),
                severity: serde_json::to_value(f.severity).unwrap_or_default(),
                title: f.title.clone(),
            })
            .collect();
        let problems = analysis
            .errors
            .iter()
            .filter(|e| e.session == Some(id))
            .map(|e| e.message.clone())
            .collect();
        Shown {
            id,
            fiddler_id: session.fiddler_id,
            start: start.map(utc_millis),
            end: session.timers.end().map(utc_millis),
            elapsed_ms: start
                .zip(capture_start(analysis))
                .map(|(s, c)| (s - c).num_milliseconds()),
            process: session.process.clone(),
            client_ip: session.client_ip.clone(),
            host_ip: session.host_ip.clone(),
            request,
            response,
            auth: AuthSeen::of(session),
            tokens,
            sign_in,
            aadsts,
            entra_error,
            diagnostics,
            flows,
            findings,
            problems,
        }
    }
}

/// Whether the session's answer body is a bare token ([`token_answer`]).
pub fn is_bare_token(session: &Session) -> bool {
    session.response.as_ref().is_some_and(|r| {
        token_answer::is_token_status(u64::from(r.status))
            && token_answer::is_token_answer(&session.request.method, &session.request.url)
    })
}

fn pairs(h: &Headers) -> Vec<Header> {
    h.iter()
        .map(|(n, v)| Header {
            name: n.to_string(),
            value: v.to_string(),
        })
        .collect()
}

/// A body as `show` shows it, decoded under `limits` with `headers`' codings, its kind
/// read from their `Content-Type` (what the fuzz target `body_decode` runs too).
pub fn body_of(body: &Body, headers: &Headers, limits: &DecodeLimits) -> BodyShown {
    body_shown(
        body,
        crate::capture::body::decode_partial(body, headers, limits),
        headers.get("content-type"),
    )
}

fn body_shown(
    stored: &Body,
    decoded: crate::capture::Decoded,
    content_type: Option<&str>,
) -> BodyShown {
    let mut notes = Vec::new();
    let content_type = content_type.map(str::to_string);
    if stored.truncated {
        notes.push("the capture cut this body short".to_string());
    }
    let mut shown = BodyShown {
        kind: "empty",
        stored_bytes: stored.len(),
        decoded_bytes: None,
        content_type: content_type.clone(),
        ..BodyShown::default()
    };
    let bytes = decoded.bytes;
    match decoded.problem {
        None => shown.decoded_bytes = Some(bytes.len()),
        Some(p) if bytes.is_empty() => {
            shown.kind = "undecodable";
            notes.push(format!("body not decoded: {p}"));
            shown.note = Some(notes.join("; "));
            return shown;
        }
        Some(p) => notes.push(format!("only the first {} bytes decoded: {p}", bytes.len())),
    }
    if bytes.is_empty() {
        shown.note = (!notes.is_empty()).then(|| notes.join("; "));
        return shown;
    }
    let ct = content_type.as_deref().unwrap_or("").to_ascii_lowercase();
    if crate::capture::detail::looks_binary(&bytes) {
        shown.kind = "binary";
        shown.hex = Some(
            bytes[..bytes.len().min(HEX_BYTES)]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        shown.note = (!notes.is_empty()).then(|| notes.join("; "));
        return shown;
    }
    let text = String::from_utf8_lossy(&bytes);
    let head = text.trim_start();
    let (kind, pretty) = if ct.contains("json") || head.starts_with('{') || head.starts_with('[') {
        let pretty = (bytes.len() <= PRETTY_MAX)
            .then(|| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .flatten()
            .and_then(|v| serde_json::to_string_pretty(&v).ok());
        (if pretty.is_some() { "json" } else { "text" }, pretty)
    } else if ct.contains("xml") || head.starts_with("<?xml") || head.starts_with("<soap") {
        let pretty = (bytes.len() <= PRETTY_MAX)
            .then(|| pretty_xml(&text))
            .flatten();
        ("xml", pretty)
    } else if ct.contains("x-www-form-urlencoded") {
        ("form", None)
    } else {
        ("text", None)
    };
    shown.kind = kind;
    let full = pretty.unwrap_or_else(|| text.into_owned());
    let (cut, was_cut) = crate::redact::cut::prefix(&full, BODY_SHOWN);
    if was_cut {
        notes.push(format!("first {} of {} bytes shown", cut.len(), full.len()));
    }
    shown.text = Some(cut.to_string());
    shown.note = (!notes.is_empty()).then(|| notes.join("; "));
    shown
}

/// XML indented two spaces a level; `None` when it does not parse (shown as it is).
fn pretty_xml(text: &str) -> Option<String> {
    use quick_xml::events::Event as X;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(X::Eof) => break,
            Ok(e) => writer.write_event(e).ok()?,
            Err(_) => return None,
        }
    }
    String::from_utf8(writer.into_inner()).ok()
}

impl Shown {
    /// Pass every text taken from the capture (URL, header values, bodies, problems)
    /// through `f` (the redaction layer) before it is serialised: the final pass over the
    /// JSON document sees bodies JSON-escaped, where a finder can miss what it finds in
    /// the raw text (an HTML form's `name=\"code\" value=\"...\"`).
    pub fn map_text(&mut self, f: impl Fn(&str) -> String) {
        self.request.url = f(&self.request.url);
        let mut bodies = vec![(&mut self.request.headers, &mut self.request.body)];
        if let Some(r) = self.response.as_mut() {
            bodies.push((&mut r.headers, &mut r.body));
        }
        for (headers, body) in bodies {
            for h in headers.iter_mut() {
                h.value = f(&h.value);
            }
            if let Some(t) = body.text.as_mut() {
                *t = f(t);
            }
        }
        for p in &mut self.problems {
            *p = f(p);
        }
    }

    /// Hide the first bytes of a binary body when, read as text, they hold something
    /// `hidden` changes (a secret, a `--redact-term`): hex would carry it past the
    /// redaction layer, which reads text.
    pub fn hide_hex(&mut self, hidden: impl Fn(&str) -> bool) {
        let bodies = std::iter::once(&mut self.request.body)
            .chain(self.response.as_mut().map(|r| &mut r.body));
        for body in bodies {
            let Some(hex) = &body.hex else { continue };
            let text: String = hex
                .split(' ')
                .filter_map(|h| u8::from_str_radix(h, 16).ok())
                .map(|b| {
                    if (0x20..0x7f).contains(&b) {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            if hidden(&text) {
                body.hex = None;
                let note = "first bytes not shown: read as text they hold what the redaction hides";
                body.note = Some(match body.note.take() {
                    Some(n) => format!("{n}; {note}"),
                    None => note.to_string(),
                });
            }
        }
    }
}

/// Milliseconds as `+12.345 s`.
pub fn elapsed(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "+" };
    let ms = ms.unsigned_abs();
    format!("{sign}{}.{:03} s", ms / 1000, ms % 1000)
}

/// The text rendering of sessions, one after the other.
pub fn write_text(out: &mut dyn Write, shown: &[Shown]) -> io::Result<()> {
    for (i, s) in shown.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        write_one(out, s)?;
    }
    Ok(())
}

fn write_one(out: &mut dyn Write, s: &Shown) -> io::Result<()> {
    let status = match &s.response {
        Some(r) => format!("{} {}", r.status, r.reason),
        None => "no response (aborted)".to_string(),
    };
    let fiddler = match s.fiddler_id {
        Some(f) if f != s.id => format!(" (Fiddler #{f})"),
        _ => String::new(),
    };
    writeln!(
        out,
        "Session {}{fiddler}: {} {} -> {}",
        s.id, s.request.method, s.request.url, status
    )?;
    if let Some(start) = &s.start {
        let elapsed = s
            .elapsed_ms
            .map(|ms| format!(" ({} after the capture's first session)", self::elapsed(ms)))
            .unwrap_or_default();
        writeln!(out, "  Time        {start}{elapsed}")?;
    }
    if let Some(p) = &s.process {
        writeln!(out, "  Process     {p}")?;
    }
    if s.client_ip.is_some() || s.host_ip.is_some() {
        writeln!(
            out,
            "  Addresses   client {}, server {}",
            s.client_ip.as_deref().unwrap_or("-"),
            s.host_ip.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(out)?;
    writeln!(out, "What traceadal knows")?;
    let offered = if s.auth.offered.is_empty() {
        "-".to_string()
    } else {
        s.auth.offered.join(", ")
    };
    let sent = match (&s.auth.sent, s.auth.sent_kind) {
        (Some(name), Some(kind)) if !kind.as_str().eq_ignore_ascii_case(name) => {
            format!("{name} ({})", kind.as_str())
        }
        (Some(name), _) => name.clone(),
        (None, _) => "-".to_string(),
    };
    writeln!(
        out,
        "  Auth        offered (WWW-Authenticate): {offered}; sent (Authorization): {sent}"
    )?;
    if let Some(l) = &s.sign_in {
        let mut parts = vec![format!("{} request to {}", l.kind, l.authority)];
        if let Some(g) = &l.grant_type {
            parts.push(format!("grant_type {g}"));
        }
        if let Some(r) = &l.resource {
            parts.push(format!("resource {r}"));
        }
        if let Some(sc) = &l.scope {
            parts.push(format!("scope {sc}"));
        }
        if let Some(c) = &l.client_id {
            let name = l.client_name.map(|n| format!(" ({n})")).unwrap_or_default();
            parts.push(format!("client_id {c}{name}"));
        }
        if let Some(t) = &l.tenant {
            parts.push(format!("tenant {t}"));
        }
        if let Some(id) = &l.client_request_id {
            parts.push(format!("client-request-id {id}"));
        }
        if l.wam {
            parts.push("through WAM".to_string());
        }
        writeln!(out, "  Sign-in     {}", parts.join("; "))?;
    }
    for code in &s.aadsts {
        let name = code.name.map(|n| format!(" {n}")).unwrap_or_default();
        let meaning = code.meaning.map(|m| format!(": {m}")).unwrap_or_default();
        writeln!(out, "  AADSTS      AADSTS{}{name}{meaning}", code.code)?;
    }
    if let Some(e) = &s.entra_error {
        let mut parts = Vec::new();
        if let Some(x) = &e.error {
            parts.push(x.clone());
        }
        if let Some(x) = &e.trace_id {
            parts.push(format!("trace id {x}"));
        }
        if let Some(x) = &e.correlation_id {
            parts.push(format!("correlation id {x}"));
        }
        if let Some(x) = &e.timestamp {
            parts.push(format!("at {x}"));
        }
        writeln!(out, "  Entra ID    {}", parts.join("; "))?;
        if let Some(m) = &e.message {
            writeln!(out, "              \"{m}\"")?;
        }
    }
    for t in &s.tokens {
        write_claims(out, t)?;
    }
    for d in &s.diagnostics {
        let mut parts = vec![d.code.clone()];
        if let Some(r) = &d.reason {
            parts.push(format!("reason \"{r}\""));
        }
        if let Some(c) = &d.error_category {
            parts.push(format!("category {c}"));
        }
        writeln!(out, "  Diagnostic  x-ms-diagnostics {}", parts.join("; "))?;
        if let Some(m) = d.meaning {
            writeln!(out, "              {m}")?;
        }
    }
    for f in &s.flows {
        let client = f.client.as_deref().unwrap_or("-");
        writeln!(
            out,
            "  Flow {:<6} {} for {}: {}, {} (sessions {}-{})",
            f.index,
            client,
            f.resource,
            f.outcome.as_str().unwrap_or("-"),
            f.state.as_str().unwrap_or("-"),
            f.first_session,
            f.last_session
        )?;
    }
    if s.flows.is_empty() {
        writeln!(out, "  Flow        none")?;
    }
    for f in &s.findings {
        writeln!(
            out,
            "  Finding     {} {}: {}",
            f.severity.as_str().unwrap_or("-").to_ascii_uppercase(),
            f.id,
            f.title
        )?;
    }
    if s.findings.is_empty() {
        writeln!(out, "  Finding     none cites this session")?;
    }
    for p in &s.problems {
        writeln!(out, "  Problem     {p}")?;
    }
    writeln!(out)?;
    writeln!(out, "Request")?;
    writeln!(
        out,
        "{} {} {}",
        s.request.method, s.request.url, s.request.version
    )?;
    write_heads_and_body(out, &s.request.headers, &s.request.body)?;
    writeln!(out)?;
    writeln!(out, "Response")?;
    match &s.response {
        None => writeln!(out, "(none recorded: the session was aborted)")?,
        Some(r) => {
            writeln!(out, "{} {} {}", r.version, r.status, r.reason)?;
            write_heads_and_body(out, &r.headers, &r.body)?;
        }
    }
    Ok(())
}

fn write_claims(out: &mut dyn Write, t: &TokenClaims) -> io::Result<()> {
    let label = match t.source.as_str() {
        "authorization" => "token sent (Authorization: Bearer)".to_string(),
        other => format!("token issued ({other})"),
    };
    if let Some(why) = &t.unreadable {
        return writeln!(out, "  Token       {label}: claims not readable: {why}");
    }
    writeln!(out, "  Token       {label}, claims:")?;
    let mut line = |name: &str, value: Option<String>| match value {
        Some(v) if !v.is_empty() => writeln!(out, "              {name:<11}{v}"),
        _ => Ok(()),
    };
    line("aud", t.aud.clone())?;
    line("tid", t.tid.clone())?;
    line(
        "appid",
        t.appid.as_ref().map(|a| match t.app_name {
            Some(n) => format!("{a} ({n})"),
            None => a.clone(),
        }),
    )?;
    line("upn domain", t.upn_domain.clone())?;
    line("iat", t.iat.clone())?;
    line("nbf", t.nbf.clone())?;
    line("exp", t.exp.clone())?;
    line("scp", Some(t.scp.join(" ")))?;
    line("roles", Some(t.roles.join(" ")))?;
    Ok(())
}

fn write_heads_and_body(
    out: &mut dyn Write,
    headers: &[Header],
    body: &BodyShown,
) -> io::Result<()> {
    for h in headers {
        writeln!(out, "{}: {}", h.name, h.value)?;
    }
    writeln!(out)?;
    let size = match (body.decoded_bytes, body.stored_bytes) {
        (Some(d), s) if d != s => format!("{d} bytes decoded, {s} stored"),
        (Some(d), _) => format!("{d} bytes"),
        (None, s) => format!("{s} bytes stored"),
    };
    let ct = body
        .content_type
        .as_deref()
        .map(|c| format!(", {c}"))
        .unwrap_or_default();
    match body.kind {
        "empty" => writeln!(out, "[no body]")?,
        "binary" => {
            writeln!(out, "[binary body, {size}{ct}]")?;
            if let Some(hex) = &body.hex {
                writeln!(out, "first bytes: {hex}")?;
            }
        }
        "undecodable" => writeln!(out, "[body not decoded, {size}{ct}]")?,
        "withheld" => writeln!(out, "[body withheld, {size}{ct}]")?,
        kind => {
            writeln!(out, "[{kind} body, {size}{ct}]")?;
            if let Some(text) = &body.text {
                writeln!(out, "{}", text.trim_end())?;
            }
        }
    }
    if let Some(note) = &body.note {
        writeln!(out, "[{note}]")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_names_only() {
        assert_eq!(
            scheme_name("Bearer eyJ0eXAi.x.y").as_deref(),
            Some("Bearer")
        );
        assert_eq!(scheme_name("  ").as_deref(), None);
        assert_eq!(scheme_name("b@d!secret").as_deref(), Some("other"));
        let mut h = Headers::new();
        h.push(
            "WWW-Authenticate",
            "Bearer client_id=\"x\", trusted_issuers=\"y\"",
        );
        h.push("WWW-Authenticate", "Negotiate");
        h.push("WWW-Authenticate", "NTLM");
        h.push("WWW-Authenticate", "negotiate");
        assert_eq!(offered_schemes(&h), ["Bearer", "Negotiate", "NTLM"]);
    }

    #[test]
    fn bodies_are_pretty_or_summarised() {
        let body = |raw: &[u8]| Body {
            raw: raw.to_vec(),
            wire: false,
            truncated: false,
        };
        let shown = |raw: &[u8], ct: &str| {
            let b = body(raw);
            body_shown(
                &b,
                crate::capture::Decoded {
                    bytes: raw.to_vec(),
                    problem: None,
                },
                Some(ct),
            )
        };
        let j = shown(br#"{"a":[1,2]}"#, "application/json");
        assert_eq!(j.kind, "json");
        assert!(j.text.as_deref().is_some_and(|t| t.contains("\"a\": [\n")));
        let x = shown(b"<a><b>1</b><c/></a>", "text/xml");
        assert_eq!(x.kind, "xml");
        assert_eq!(x.text.as_deref(), Some("<a>\n  <b>1</b>\n  <c/>\n</a>"));
        let bad = shown(b"<a><b></a>", "text/xml");
        assert_eq!(bad.text.as_deref(), Some("<a><b></a>"));
        let bin = shown(&[0, 1, 2, 0xff, 0xfe, 0, 0, 9], "image/png");
        assert_eq!(bin.kind, "binary");
        assert_eq!(bin.hex.as_deref(), Some("00 01 02 ff fe 00 00 09"));
        assert!(bin.text.is_none());
    }

    #[test]
    fn hostile_xml_and_json_do_not_panic() {
        for raw in [
            &b"<"[..],
            b"<?xml",
            b"<a>&unknown;</a>",
            b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>",
            b"{\"a\":",
            b"<![CDATA[",
        ] {
            let _ = pretty_xml(&String::from_utf8_lossy(raw));
        }
        let deep = "<a>".repeat(10_000);
        let _ = pretty_xml(&deep);
    }

    #[test]
    fn claims_are_named_never_the_token() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(r#"{"alg":"RS256"}"#),
            b64(
                r#"{"aud":"https://outlook.office365.com","tid":"t-1","appid":"d3590ed6-52b3-4102-aeff-aad2292ab01c","upn":"alice@contoso.com","iat":1700000000,"nbf":1700000000,"exp":1700003600,"scp":"EWS.AccessAsUser.All Mail.Read","roles":["A","B"]}"#
            )
        );
        let c = TokenClaims::of("authorization", &token);
        assert_eq!(c.upn_domain.as_deref(), Some("contoso.com"));
        assert_eq!(c.exp.as_deref(), Some("2023-11-14T23:13:20Z"));
        assert_eq!(c.scp, ["EWS.AccessAsUser.All", "Mail.Read"]);
        assert_eq!(c.roles, ["A", "B"]);
        assert_eq!(c.app_name, Some("Microsoft Office"));
        let json = serde_json::to_string(&c).unwrap();
        assert!(
            !json.contains("alice") && !json.contains("c2lnbmF0dXJl"),
            "{json}"
        );
        let mut out = Vec::new();
        write_claims(&mut out, &c).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("alice") && !text.contains(&token), "{text}");
    }
}
