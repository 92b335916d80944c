//! Stage 2: session -> auth events.
//!
//! Each event is derived from exactly one session and knows nothing of the others; tying
//! them together is the flows stage's work. Bodies are decoded only for the sessions whose
//! host or path says an event may be inside (login endpoints, EWS SOAP, autodiscover v2
//! JSON), so a capture of thousands of CDN and telemetry sessions costs almost nothing here.
//!
//! No event holds a token, code, password or cookie: where a credential is evidence (the
//! Bearer token Outlook presented), only its decoded claims are kept.

pub mod aadsts;
pub mod autodiscover;
pub mod autodiscover_v2;
pub mod availability_json;
pub mod challenge;
pub mod diagnostics;
pub mod ews;
pub mod ews_answer;
pub mod federation;
pub mod gateway;
pub mod json;
pub mod jwt;
pub mod login;
pub mod mapi;
pub mod negotiate;
pub mod saml;
pub mod target;
mod text;
pub mod token_result;
pub mod wam;
mod xml;

use serde::Serialize;

use crate::capture::url_parts::UrlParts;
use crate::capture::{DecodeLimits, Interner, Session};
use target::Target;

/// The AppId of Office 365 Exchange Online: the service principal whose names must include
/// every on-premises URL Outlook asks tokens for, and the audience of Exchange's own tokens.
pub const EXCHANGE_ONLINE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";

pub use autodiscover::{Answer as AutodiscoverKind, AutodiscoverAnswer, Published};
pub use autodiscover_v2::{AutodiscoverV2, V2Answer};
pub use availability_json::{AvailabilityJson, JsonClient};
pub use challenge::{AuthScheme, BearerChallenge, Challenge};
pub use diagnostics::ExchangeDiagnostic;
pub use ews::{DelegateCheck, DelegateUser, EwsCall};
pub use ews_answer::{AnswerError, EwsAnswer};
pub use federation::FederationEvent;
pub use gateway::{Device, GatewaySign, Sign};
pub use jwt::Claims;
pub use login::{DeviceCredential, LoginKind, LoginRequest};
pub use mapi::MapiAnswer;
pub use token_result::{AadError, ErrorSource, TokenOutcome, TokenResult};

/// Something an auth rule may care about, seen in one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A 401 (or 403) with its `WWW-Authenticate` schemes and `x-ms-diagnostics`.
    Challenge(Box<Challenge>),
    /// An authorize or token request to an Entra ID (Azure AD) authority.
    Login(Box<LoginRequest>),
    /// What the authority answered: a token, or an AAD error with its AADSTS codes.
    TokenResult(Box<TokenResult>),
    /// An `x-ms-diagnostics` header on a response that was not a 401.
    Diagnostic {
        session: u64,
        url: String,
        diagnostic: Box<ExchangeDiagnostic>,
    },
    /// A Bearer token presented to a non-login host, by its claims only.
    BearerPresented {
        session: u64,
        url: String,
        claims: Box<Claims>,
        /// The answer's `Date` header (the server's clock), in Unix seconds, when it had one.
        #[serde(skip_serializing_if = "Option::is_none")]
        server_date: Option<i64>,
    },
    /// An EWS `GetDelegate` request and what it answered.
    Delegate(Box<DelegateCheck>),
    /// A request to EWS (`/EWS/Exchange.asmx`): its operation and status.
    ///
    /// The one event nearly every session of an Outlook capture has, so it alone is kept
    /// inline, its strings [`crate::capture::Atom`]s; the rarer variants are boxed. An
    /// `Event` is the size of its largest inline variant: 280 bytes before, for 88 000
    /// events in a 100k-session capture (docs/performance.md).
    EwsCall(EwsCall),
    /// A request to autodiscover v2 (`/autodiscover/autodiscover.json`) and its answer: the
    /// URL published, a redirect, a JSON error or what stood in the way.
    AutodiscoverV2(Box<AutodiscoverV2>),
    /// A federation step: realm discovery, a request to the IdP, the SAML response posted
    /// back to Entra ID, Seamless SSO.
    Federation(Box<FederationEvent>),
    /// A Negotiate or NTLM blob sent or answered (Kerberos or NTLM, the NTLM message
    /// type, the names a challenge gives), never the blob.
    WindowsAuth(Box<negotiate::WindowsAuth>),
    /// An EWS answer that failed inside (`ResponseClass="Error"`, a SOAP fault) or with a
    /// 403/5xx, for the bounded set of answers that are read (`ews_answer`).
    EwsAnswer(Box<EwsAnswer>),
    /// A MAPI over HTTP `Connect`/`Bind` answer, or one that failed (`X-ResponseCode`,
    /// `ecProtocolDisabled`, a Client Access Rule).
    Mapi(Box<MapiAnswer>),
    /// What a request to Autodiscover (POX `autodiscover.xml`, SOAP `autodiscover.svc`)
    /// answered: settings and the URLs they publish, a redirect, an error, a web page.
    Autodiscover(Box<AutodiscoverAnswer>),
    /// A sign of an intermediary: a pre-authenticating reverse proxy in front of Exchange,
    /// or the client's proxy (407, block page, gateway error, tenant restrictions).
    Gateway(Box<GatewaySign>),
    /// A free/busy answer in JSON that failed (OWA `service.svc` availability, Graph
    /// `getSchedule`): the errors per mailbox or on the whole request, or a 403/5xx.
    AvailabilityJson(Box<AvailabilityJson>),
}

impl Event {
    pub fn session(&self) -> u64 {
        match self {
            Event::Challenge(c) => c.session,
            Event::Login(l) => l.session,
            Event::TokenResult(t) => t.session,
            Event::Diagnostic { session, .. } => *session,
            Event::BearerPresented { session, .. } => *session,
            Event::Delegate(d) => d.session,
            Event::EwsCall(c) => c.session,
            Event::AutodiscoverV2(a) => a.session,
            Event::Federation(f) => f.session(),
            Event::WindowsAuth(w) => w.session,
            Event::EwsAnswer(a) => a.session,
            Event::Mapi(m) => m.session,
            Event::Autodiscover(a) => a.session,
            Event::Gateway(g) => g.session,
            Event::AvailabilityJson(a) => a.session,
        }
    }

    /// Share the strings every session repeats with equal ones seen before (see
    /// [`crate::capture::Atom`]). Only the frequent events carry any.
    pub fn intern(&mut self, interner: &mut Interner) {
        if let Event::EwsCall(c) = self {
            c.intern(interner);
        }
    }
}

/// The events of `session` in `events` sorted by session (as the analysis keeps them), found
/// by binary search: a scan of every event per session asked about is quadratic.
pub fn events_of_session(events: &[Event], session: u64) -> &[Event] {
    let start = events.partition_point(|e| e.session() < session);
    let len = events[start..].partition_point(|e| e.session() == session);
    &events[start..start + len]
}

/// What one session yields: its auth events, and the problems of the bodies they were read
/// from.
#[derive(Debug, Default)]
pub struct SessionReading {
    /// Every auth event, in a stable order (request-side events first).
    pub events: Vec<Event>,
    /// Why a body the parsers read did not decode (see [`problems_of`]).
    pub problems: Vec<String>,
}

/// Read one session's auth events and its body problems in one pass: the EWS parser says
/// which answers it decoded, so the problems need no second parse of the request.
pub fn read_session(session: &Session, limits: &DecodeLimits) -> SessionReading {
    let target = Target::of(session);
    let (events, answer_read) = events_and_answer(&target, limits);
    SessionReading {
        events,
        problems: problems_of(&target, limits, answer_read),
    }
}

/// Every auth event in one session, in a stable order (request-side events first).
pub fn events_of(session: &Session, limits: &DecodeLimits) -> Vec<Event> {
    events_and_answer(&Target::of(session), limits).0
}

/// The events, and whether a parser (EWS, MAPI, or the gateway's login-form search) decoded
/// the answer. Every parser is handed the one [`Target`]: the URL is split and the host read
/// once per session.
fn events_and_answer(target: &Target, limits: &DecodeLimits) -> (Vec<Event>, bool) {
    let session = target.session;
    let mut events = Vec::new();
    if let Some(login) = login::login_request_at(target, limits) {
        events.push(Event::Login(Box::new(login)));
        if let Some(result) = token_result::token_result_at(target, limits) {
            events.push(Event::TokenResult(Box::new(result)));
        }
    } else if let Some(presented) = jwt::presented_bearer_at(target) {
        events.push(presented);
    }
    if let Some(challenge) = challenge::challenge_at(target) {
        events.push(Event::Challenge(Box::new(challenge)));
    } else if let Some(diag) = diagnostics::on_response(session) {
        events.push(diag);
    }
    let ews = ews::ews_events_at(target, limits);
    if let Some(call) = ews.call {
        events.push(Event::EwsCall(call));
    }
    if let Some(check) = ews.delegate {
        events.push(Event::Delegate(Box::new(check)));
    }
    if let Some(windows) = negotiate::windows_auth_at(target) {
        events.push(Event::WindowsAuth(Box::new(windows)));
    }
    if let Some(v2) = autodiscover_v2::autodiscover_v2_at(target, limits) {
        events.push(Event::AutodiscoverV2(Box::new(v2)));
    }
    if let Some(step) = federation::events_at(target, limits) {
        events.push(Event::Federation(Box::new(step)));
    }
    if let Some(answer) = ews.answer {
        events.push(Event::EwsAnswer(Box::new(answer)));
    }
    let mapi = mapi::mapi_answer_at(target, limits);
    if let Some(answer) = mapi.answer {
        events.push(Event::Mapi(Box::new(answer)));
    }
    if let Some(answer) =
        autodiscover::autodiscover_answer_at(target, limits).filter(|a| a.says_anything())
    {
        events.push(Event::Autodiscover(Box::new(answer)));
    }
    let (sign, gateway_read) = gateway::gateway_sign_at(target, limits);
    if let Some(sign) = sign {
        events.push(Event::Gateway(Box::new(sign)));
    }
    if let Some(answer) = availability_json::availability_json_at(target, limits) {
        events.push(Event::AvailabilityJson(Box::new(answer)));
    }
    (events, ews.answer_read || mapi.body_read || gateway_read)
}

/// Whether the parsers above ever read a body of a session to `url` (an absolute URL, or a
/// path with `host` beside it): sign-ins and token requests to an Entra ID authority, EWS,
/// Autodiscover (POX and SOAP: the answer, and the address asked about), autodiscover v2
/// (`autodiscover.json`), federation steps, and MAPI over HTTP (whose
/// `Connect`/`Bind` and failed answers are read: the predicate sees no request type, so a
/// redacted copy keeps every MAPI body), and the JSON free/busy requests of OWA
/// (`service.svc?action=GetUserAvailability[Internal]`) and Graph (`calendar/getSchedule`)
/// ([`availability_json`]); EWS HTML answers are also searched for a login form
/// ([`gateway`]). The bodies of every other session are never decoded by the analysis, so
/// `redact --drop-bodies-except-auth` may drop them without changing the diagnosis.
pub fn reads_body(host: &str, url: &str) -> bool {
    BodyReaders::of(login::is_authority_host(host), host, &UrlParts::split(url)).any()
}

/// Which of the parsers that read bodies a request is for, by its host and URL (see
/// [`reads_body`]): found once for [`problems_of`], which asks each of them again.
struct BodyReaders {
    authority: bool,
    ews: bool,
    autodiscover: bool,
    autodiscover_json: bool,
    idp: bool,
    mapi: bool,
    availability_json: bool,
}

impl BodyReaders {
    fn of(authority: bool, host: &str, url: &UrlParts) -> BodyReaders {
        let path = url.path;
        BodyReaders {
            authority,
            ews: ews::is_ews_path(path),
            autodiscover: autodiscover::is_autodiscover_path(path),
            autodiscover_json: autodiscover_v2::is_autodiscover_json_path(path),
            idp: federation::idp_kind_of_path(host, path).is_some(),
            mapi: mapi::endpoint_of_path(path).is_some(),
            availability_json: availability_json::client_of_parts(url).is_some(),
        }
    }

    fn any(&self) -> bool {
        self.authority
            || self.ews
            || self.autodiscover
            || self.autodiscover_json
            || self.idp
            || self.mapi
            || self.availability_json
    }
}

/// Why a body that the parsers above read did not decode (bad chunked framing, a gzip that
/// ends early, brotli garbage, an unknown coding, the size cap), as problems for the
/// session. Without this, a damaged token response was silently no event at all, and the
/// report said nothing (issue 8): now `capture.errors` names the session.
///
/// Only the bodies the parsers decode are checked (login endpoints; EWS requests, and the
/// EWS answers [`ews::EwsEvents::answer_read`] says are read; the MAPI answers
/// [`mapi::MapiReading::body_read`] says are read, never a MAPI request; Autodiscover
/// requests and answers; autodiscover v2, federation and JSON free/busy answers), so other
/// sessions cost nothing here. The messages never carry
/// body content.
fn problems_of(target: &Target, limits: &DecodeLimits, answer_read: bool) -> Vec<String> {
    let session = target.session;
    let readers = BodyReaders::of(target.is_authority(), target.host_or_empty(), &target.parts);
    if !readers.any() {
        return Vec::new();
    }
    let login = readers.authority;
    let mapi = readers.mapi;
    let mut out = Vec::new();
    if mapi {
        // A MAPI request body is never read.
    } else if let Some(e) = redacted_damage(&session.request.headers) {
        out.push(format!("request body: {e}"));
    } else if !session.request.body.is_empty() {
        if let Some(e) = &target.request_body(limits).problem {
            out.push(format!("request body: {e}"));
        }
    }
    let answer_read = login
        || answer_read
        || readers.autodiscover
        || readers.autodiscover_json
        || readers.idp
        || (readers.availability_json && availability_json::reads_answer(target));
    if session.flags.body_unrecorded && (answer_read || !mapi) {
        // A NetLog without raw bytes: the body went over the wire and the log does not hold
        // it, so what the parsers would have read in it is unknown.
        out.push(UNRECORDED.to_string());
        return out;
    }
    if let Some(r) = session.response.as_ref().filter(|_| answer_read) {
        if let Some(e) = redacted_damage(&r.headers) {
            out.push(format!("response body: {e}"));
        } else if !r.body.is_empty() {
            if let Some(e) = target.response_body(limits).and_then(|d| d.problem.clone()) {
                out.push(format!("response body: {e}"));
            }
        }
    }
    out
}

/// The problem of a session whose body the parsers read but the capture did not record.
pub const UNRECORDED: &str =
    "body not recorded: the NetLog was captured without \"Include raw bytes\"";

/// The damage a `traceadal redact` copy records in its marker header: the original's body
/// did not decode (the copy holds a placeholder) or decoded only in part (the copy holds that
/// part). The copy then reports a problem where the original did, so that a redacted capture
/// that cannot show the failure is inconclusive as the original was, never "ok".
fn redacted_damage(headers: &crate::capture::Headers) -> Option<&'static str> {
    use crate::capture::rewrite::{BODY_PARTIAL, BODY_UNREAD, MARKER_HEADER};
    let marks = headers.get(MARKER_HEADER)?;
    let has = |m: &str| marks.split(',').any(|x| x.trim().eq_ignore_ascii_case(m));
    if has(BODY_UNREAD) {
        Some("did not decode or passed a size cap in the original capture (this is a redacted copy holding a placeholder)")
    } else if has(BODY_PARTIAL) {
        Some("decoded only in part in the original capture (this is a redacted copy holding that part)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::S;
    use crate::capture::Body;

    type Req<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);
    type Resp<'a> = (u16, &'a [(&'a str, &'a str)], &'a str);

    fn session(id: u64, req: Req, resp: Resp) -> Session {
        let (method, url, req_headers, req_body) = req;
        let (status, resp_headers, resp_body) = resp;
        S::new(id, method, url, status)
            .req_headers(req_headers)
            .req_body(req_body)
            .resp_headers(resp_headers)
            .resp_body(resp_body)
            .0
    }

    #[test]
    fn the_500011_loop_as_events() {
        let limits = DecodeLimits::default();
        let challenge = session(
            12,
            (
                "POST",
                "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                &[("Authorization", "Bearer")],
                "",
            ),
            (
                401,
                &[
                    (
                        "WWW-Authenticate",
                        r#"Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f", authorization_uri="https://login.windows.net/common/oauth2/authorize", error="invalid_token""#,
                    ),
                    ("WWW-Authenticate", "Negotiate"),
                    ("WWW-Authenticate", "NTLM"),
                    (
                        "X-MS-Diagnostics",
                        r#"2000001;reason="The token has an invalid signature.";error_category="invalid_token""#,
                    ),
                ],
                "",
            ),
        );
        let events = events_of(&challenge, &limits);
        assert_eq!(events.len(), 1, "{events:?}");
        let Event::Challenge(c) = &events[0] else {
            panic!("expected a challenge: {events:?}");
        };
        assert_eq!(c.resource(), "https://autodiscover.contoso.com");
        assert_eq!(
            c.bearer().and_then(|b| b.authorization_uri).as_deref(),
            Some("https://login.windows.net/common/oauth2/authorize")
        );
        assert_eq!(
            c.diagnostics.as_ref().map(|d| d.code.as_str()),
            Some("2000001")
        );

        let token = session(
            15,
            (
            "POST",
            "https://login.windows.net/common/oauth2/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            "resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&grant_type=refresh_token&refresh_token=SECRET",
            ),
            (
            400,
            &[("Content-Type", "application/json")],
            r#"{"error":"invalid_resource","error_description":"AADSTS500011: The resource principal named https://autodiscover.contoso.com was not found in the tenant named Contoso. This can happen ...","error_codes":[500011]}"#,
            ),
        );
        let events = events_of(&token, &limits);
        assert_eq!(events.len(), 2, "{events:?}");
        match (&events[0], &events[1]) {
            (Event::Login(l), Event::TokenResult(r)) => {
                assert_eq!(
                    l.resource.as_deref(),
                    Some("https://autodiscover.contoso.com")
                );
                assert_eq!(l.kind, LoginKind::Token);
                let TokenOutcome::AadError(e) = &r.outcome else {
                    panic!("expected an AAD error");
                };
                assert_eq!(e.codes, vec![500011]);
                assert_eq!(e.tenant_named.as_deref(), Some("Contoso"));
            }
            other => panic!("unexpected events {other:?}"),
        }
        let json = serde_json::to_string(&events).unwrap_or_default();
        assert!(!json.contains("SECRET"), "{json}");
        assert!(json.contains(r#""kind":"login""#), "{json}");
    }

    #[test]
    fn noise_yields_nothing_and_diagnostics_stand_alone() {
        let limits = DecodeLimits::default();
        let cdn = session(
            1,
            ("GET", "https://res.cdn.office.net/x.js", &[], ""),
            (200, &[], "var $Config={};"),
        );
        assert!(events_of(&cdn, &limits).is_empty());
        let ews = session(
            2,
            (
                "POST",
                "https://mail.contoso.com/EWS/Exchange.asmx",
                &[],
                "",
            ),
            (
                500,
                &[("x-ms-diagnostics", "2000005;reason=\"user not found\"")],
                "",
            ),
        );
        let events = events_of(&ews, &limits);
        assert!(
            matches!(
                events.as_slice(),
                [Event::Diagnostic { session: 2, .. }, Event::EwsCall(_)]
            ),
            "{events:?}"
        );
        assert_eq!(events[0].session(), 2);
    }

    /// A damaged body is a problem on its session only where a parser reads it: an EWS
    /// answer to `FindItem` is never decoded, so its broken gzip is not reported; the same
    /// answer to `GetDelegate`, or to a request with no body, is.
    #[test]
    fn problems_follow_what_the_parsers_read() {
        let body_problems = |s: &Session, limits: &DecodeLimits| read_session(s, limits).problems;
        let limits = DecodeLimits::default();
        let ews = |request_body: &str| {
            let mut s = session(
                3,
                (
                    "POST",
                    "https://mail.contoso.com/EWS/Exchange.asmx",
                    &[("Content-Type", "text/xml; charset=utf-8")],
                    request_body,
                ),
                (200, &[("Content-Encoding", "gzip")], ""),
            );
            if let Some(r) = s.response.as_mut() {
                r.body = Body {
                    raw: vec![0x1f, 0x8b, 0x08, 0x00, 0x00],
                    wire: true,
                    truncated: false,
                };
            }
            s
        };
        let soap = |op: &str| {
            format!(
                r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Body><m:{op}/></s:Body></s:Envelope>"#
            )
        };
        assert_eq!(
            body_problems(&ews(&soap("FindItem")), &limits),
            Vec::<String>::new()
        );
        for request in [soap("GetDelegate"), String::new()] {
            let problems = body_problems(&ews(&request), &limits);
            assert_eq!(problems.len(), 1, "{request:?}: {problems:?}");
            assert!(problems[0].starts_with("response body: "), "{problems:?}");
        }
    }
}
