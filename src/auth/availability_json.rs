//! Free/busy (availability) answers in JSON: what Outlook on the web and Microsoft Graph
//! answered when a client asked for other mailboxes' free/busy, per mailbox
//! ([`AvailabilityJson`]).
//!
//! Two shapes are read:
//! - **OWA** `POST /owa/service.svc?action=GetUserAvailabilityInternal` (and
//!   `?action=GetUserAvailability`), on-premises OWA and `outlook.office.com` /
//!   `outlook.office365.com`. The request is `{"request": {"Body": {"MailboxDataArray":
//!   [{"Email": {"Address": ...}}, ...]}}}` (or the same JSON URL-encoded in the
//!   `X-OWA-UrlPostData` header); the answer `{"Body": {"ResponseClass", "ResponseCode",
//!   "MessageText", "Responses": [{"ResponseMessage": {"ResponseClass", "ResponseCode",
//!   "MessageText"}, "CalendarView": ...}, ...]}}`, one `Responses` entry per mailbox asked
//!   about, in order. The member names come from Exchange's data contracts
//!   (`GetUserAvailabilityInternalJsonResponse`, `UserAvailabilityInternalResponse`,
//!   `ResponseMessage`) and from public clients that build these requests; no real failed
//!   answer was available to check the whole shape against, so a `FreeBusyResponseArray`
//!   (the SOAP operation's name for the same list) is read as well.
//! - **Microsoft Graph** `POST .../v1.0|beta/me|users/{id}/calendar/getSchedule` (Teams,
//!   new Outlook, Outlook on the web's scheduling): the answer `{"value": [{"scheduleId":
//!   <address>, "availabilityView": ..., "error": {"message", "responseCode"}}, ...]}`
//!   (`scheduleInformation` and `freeBusyError` as documented), or an error on the whole
//!   request `{"error": {"code": "ErrorAccessDenied", "message": ...}}`. Any host with that
//!   path is read (Outlook REST's `/api/v2.0|beta/me/calendar/getschedule` has the same
//!   answer shape).
//!
//! Outlook REST's `findmeetingtimes` is not read: its answer holds suggestions with an
//! `emptySuggestionsReason`, not per-mailbox errors.
//!
//! An event is made only for an answer that failed: an error for a mailbox, an error on the
//! whole request, or a 403/5xx status. A 401 is the challenge rules' and never an event here.
//! Bodies are decoded only for requests to these two endpoints (a few per capture), read with
//! serde_json (its depth limit) under the body cap; the request is decoded only when an OWA
//! answer holds an error, for the mailbox it is about. Strings are capped; a hostile body
//! yields less, never a panic. Addresses asked about are kept: they are not secrets.

use serde::Serialize;
use serde_json::{Map, Value};

use super::ews_answer::{cap, AnswerError};
use super::json::{self, member};
use super::target::Target;
use super::text::ends_with_ignore_case;
use crate::capture::url_parts::{percent_decoded, strip_query, UrlParts};
use crate::capture::{DecodeLimits, Session};

/// Longest message kept.
const MAX_TEXT: usize = 400;
/// Longest code, address or URL kept.
const MAX_SHORT: usize = 200;
/// Most errors kept per answer.
const MAX_ERRORS: usize = 32;
/// Most mailboxes read from a request.
const MAX_MAILBOXES: usize = 100;

/// Which client path asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonClient {
    /// OWA's `service.svc` (`GetUserAvailabilityInternal` / `GetUserAvailability`).
    Owa,
    /// Microsoft Graph (or Outlook REST) `calendar/getSchedule`.
    GetSchedule,
}

impl JsonClient {
    /// How evidence names the path.
    pub fn label(self) -> &'static str {
        match self {
            JsonClient::Owa => "OWA service.svc availability",
            JsonClient::GetSchedule => "Graph getSchedule",
        }
    }
}

/// A JSON availability answer that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AvailabilityJson {
    pub session: u64,
    /// The request URL without its query (OWA's keeps `?action=...`), capped.
    pub url: String,
    pub client: JsonClient,
    pub status: Option<u16>,
    pub user_agent: Option<String>,
    /// The errors, in document order, at most 32: per mailbox (`mailbox` set when the answer
    /// or the request names it), or on the whole request (`mailbox` `None`).
    pub errors: Vec<AnswerError>,
}

/// The client path of a URL, when it is one of the two endpoints read here. Asked of every
/// session (through `auth::reads_body` and `problems_of`): it allocates nothing.
pub fn client_of(url: &str) -> Option<JsonClient> {
    client_of_parts(&UrlParts::split(url))
}

/// [`client_of`] of a URL already split.
pub fn client_of_parts(parts: &UrlParts) -> Option<JsonClient> {
    let path = parts.path_or_root().trim_end_matches('/');
    if ends_with_ignore_case(path, "/calendar/getschedule") {
        return Some(JsonClient::GetSchedule);
    }
    if ends_with_ignore_case(path, "/service.svc") {
        let action = owa_action(parts.query()?)?;
        return Some(JsonClient::Owa).filter(|_| {
            action.eq_ignore_ascii_case("GetUserAvailabilityInternal")
                || action.eq_ignore_ascii_case("GetUserAvailability")
        });
    }
    None
}

/// Whether the analysis reads the bodies of a request to `url` (see `auth::reads_body`).
pub fn is_availability_json_url(url: &str) -> bool {
    client_of(url).is_some()
}

/// Whether [`availability_json`] decodes this session's answer: every answer to these
/// endpoints but a 401 (`auth::problems_of` reports the damaged ones).
pub fn reads_answer(target: &Target) -> bool {
    client_of_parts(&target.parts).is_some() && target.session.status() != Some(401)
}

fn owa_action(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case("action"))
        .map(|(_, v)| v.into_owned())
}

/// The event of one session, when it is a JSON availability request whose answer failed.
pub fn availability_json(session: &Session, limits: &DecodeLimits) -> Option<AvailabilityJson> {
    availability_json_at(&Target::of(session), limits)
}

/// [`availability_json`] of a session whose URL and host are read.
pub fn availability_json_at(target: &Target, limits: &DecodeLimits) -> Option<AvailabilityJson> {
    let session = target.session;
    let url = target.url();
    let parts = &target.parts;
    let client = client_of_parts(parts)?;
    let response = session.response.as_ref()?;
    let status = response.status;
    if status == 401 {
        return None;
    }
    let root = if response.body.is_empty() {
        None
    } else {
        parse(&response.decoded_body_partial(limits).bytes)
    };
    let mut errors = match (client, &root) {
        (JsonClient::GetSchedule, Some(v)) => schedule_errors(v),
        (JsonClient::Owa, Some(v)) => owa_errors(v),
        (_, None) => Vec::new(),
    };
    if errors.is_empty() && !(status == 403 || status >= 500) {
        return None;
    }
    if client == JsonClient::Owa && errors.iter().any(|(_, at)| at.is_some()) {
        let asked = owa_mailboxes(session, limits);
        for (e, at) in errors.iter_mut() {
            e.mailbox = at.and_then(|i| asked.get(i).cloned());
        }
    }
    let shown = match (client, parts.query().and_then(owa_action)) {
        (JsonClient::Owa, Some(action)) => format!("{}?action={action}", strip_query(url)),
        _ => strip_query(url).to_string(),
    };
    Some(AvailabilityJson {
        session: session.id,
        url: cap(&shown, MAX_SHORT),
        client,
        status: Some(status),
        user_agent: session
            .request
            .headers
            .get("user-agent")
            .map(|u| cap(u, MAX_SHORT)),
        errors: errors.into_iter().map(|(e, _)| e).collect(),
    })
}

fn parse(bytes: &[u8]) -> Option<Value> {
    json::document(&String::from_utf8_lossy(bytes))
}

fn string(map: &Map<String, Value>, name: &str, n: usize) -> Option<String> {
    member(map, name)
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(x) => Some(x.to_string()),
            _ => None,
        })
        .map(|s| cap(&s, n))
        .filter(|s| !s.is_empty())
}

/// Graph: the `error` of each `value` entry (with its `scheduleId`), or the request's own
/// `error`.
fn schedule_errors(root: &Value) -> Vec<(AnswerError, Option<usize>)> {
    let Some(map) = root.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(Value::Object(e)) = member(map, "error") {
        out.push((
            AnswerError {
                code: string(e, "code", MAX_SHORT).or_else(|| string(e, "responseCode", MAX_SHORT)),
                message: string(e, "message", MAX_TEXT),
                mailbox: None,
            },
            None,
        ));
    }
    if let Some(Value::Array(items)) = member(map, "value") {
        for item in items.iter().filter_map(Value::as_object) {
            if out.len() >= MAX_ERRORS {
                break;
            }
            let Some(Value::Object(e)) = member(item, "error") else {
                continue;
            };
            let code =
                string(e, "responseCode", MAX_SHORT).or_else(|| string(e, "code", MAX_SHORT));
            let message = string(e, "message", MAX_TEXT);
            if code.is_none() && message.is_none() {
                continue;
            }
            out.push((
                AnswerError {
                    code,
                    message,
                    mailbox: string(item, "scheduleId", MAX_SHORT),
                },
                None,
            ));
        }
    }
    out
}

/// A `ResponseMessage`-like object whose `ResponseClass` is `Error`.
fn error_message(map: &Map<String, Value>) -> Option<AnswerError> {
    let class = string(map, "ResponseClass", 40)?;
    class.eq_ignore_ascii_case("Error").then(|| AnswerError {
        code: string(map, "ResponseCode", MAX_SHORT),
        message: string(map, "MessageText", MAX_TEXT),
        mailbox: None,
    })
}

/// OWA: the answer's own `ResponseClass` (the whole request), then each `Responses` entry's
/// `ResponseMessage`, with its position (the mailbox asked about at the same position).
fn owa_errors(root: &Value) -> Vec<(AnswerError, Option<usize>)> {
    let Some(map) = root.as_object() else {
        return Vec::new();
    };
    let body = match member(map, "Body") {
        Some(Value::Object(b)) => b,
        _ => map,
    };
    let mut out = Vec::new();
    if let Some(e) = error_message(body) {
        out.push((e, None));
    }
    let list = member(body, "Responses").or_else(|| member(body, "FreeBusyResponseArray"));
    if let Some(Value::Array(items)) = list {
        for (i, item) in items.iter().enumerate() {
            if out.len() >= MAX_ERRORS {
                break;
            }
            let Some(item) = item.as_object() else {
                continue;
            };
            let message = match member(item, "ResponseMessage") {
                Some(Value::Object(m)) => m,
                _ => item,
            };
            if let Some(e) = error_message(message) {
                out.push((e, Some(i)));
            }
        }
    }
    out
}

/// The addresses an OWA availability request asks about, in order: from its JSON body, or
/// from the `X-OWA-UrlPostData` header OWA uses instead of a body.
fn owa_mailboxes(session: &Session, limits: &DecodeLimits) -> Vec<String> {
    let req = &session.request;
    let from_body = if req.body.is_empty() {
        None
    } else {
        parse(&req.decoded_body_partial(limits).bytes)
    };
    let root = from_body.or_else(|| {
        // Percent-encoded JSON (`encodeURIComponent`, as OWA sends it) or JSON as it is:
        // a `+` is a plus in both, never a space.
        let posted = req.headers.get("x-owa-urlpostdata")?;
        json::document(&percent_decoded(posted))
    });
    root.as_ref().map(requested_mailboxes).unwrap_or_default()
}

/// `MailboxDataArray[].Email.Address` under `request.Body`, `Body` or the root.
pub fn requested_mailboxes(root: &Value) -> Vec<String> {
    let Some(mut map) = root.as_object() else {
        return Vec::new();
    };
    for wrapper in ["request", "Body"] {
        if let Some(Value::Object(inner)) = member(map, wrapper) {
            map = inner;
        }
    }
    let Some(Value::Array(items)) = member(map, "MailboxDataArray") else {
        return Vec::new();
    };
    items
        .iter()
        .take(MAX_MAILBOXES)
        .map(|m| {
            m.as_object()
                .and_then(|m| match member(m, "Email") {
                    Some(Value::Object(e)) => string(e, "Address", MAX_SHORT),
                    _ => None,
                })
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::S;

    const OWA: &str = "https://mail.contoso.com/owa/service.svc?action=GetUserAvailabilityInternal&app=Calendar&n=61";
    const GRAPH: &str = "https://graph.microsoft.com/v1.0/me/calendar/getSchedule";

    pub(crate) const OWA_REQUEST: &str = r#"{"request":{"__type":"GetUserAvailabilityInternalJsonRequest:#Exchange","Header":{"__type":"JsonRequestHeaders:#Exchange","RequestServerVersion":"Exchange2013"},"Body":{"__type":"GetUserAvailabilityRequest:#Exchange","MailboxDataArray":[{"__type":"MailboxData:#Exchange","Email":{"__type":"EmailAddress:#Exchange","Address":"room101@contoso.com"}},{"__type":"MailboxData:#Exchange","Email":{"__type":"EmailAddress:#Exchange","Address":"cloudowner@contoso.com"}}]}}}"#;

    fn owa_answer(code2: &str, text2: &str) -> String {
        format!(
            r#"{{"Header":{{"ServerVersionInfo":{{"MajorVersion":15}}}},"Body":{{"__type":"GetUserAvailabilityInternalResponse:#Exchange","ResponseClass":"Success","ResponseCode":"NoError","Responses":[{{"ResponseMessage":{{"ResponseClass":"Success","ResponseCode":"NoError"}},"CalendarView":{{"FreeBusyViewType":"Detailed","Items":[]}}}},{{"ResponseMessage":{{"ResponseClass":"Error","ResponseCode":"{code2}","MessageText":"{text2}"}},"CalendarView":{{"FreeBusyViewType":"None"}}}}]}}}}"#
        )
    }

    fn read(s: S) -> Option<AvailabilityJson> {
        availability_json(&s.0, &DecodeLimits::default())
    }

    #[test]
    fn urls() {
        assert_eq!(client_of(OWA), Some(JsonClient::Owa));
        assert_eq!(
            client_of("https://outlook.office365.com/owa/service.svc?action=GetUserAvailability"),
            Some(JsonClient::Owa)
        );
        assert_eq!(client_of(GRAPH), Some(JsonClient::GetSchedule));
        assert_eq!(
            client_of("https://graph.microsoft.com/beta/users/0f1e2d3c-0000-4000-8000-000000000001/calendar/getschedule"),
            Some(JsonClient::GetSchedule)
        );
        for other in [
            "https://mail.contoso.com/owa/service.svc?action=FindItem",
            "https://mail.contoso.com/owa/service.svc",
            "https://graph.microsoft.com/v1.0/me/calendar/events",
            "https://graph.microsoft.com/v1.0/me/findMeetingTimes",
            "https://mail.contoso.com/EWS/Exchange.asmx",
        ] {
            assert_eq!(client_of(other), None, "{other}");
        }
        // `redact --drop-bodies-except-auth` keeps exactly these bodies.
        assert!(crate::auth::reads_body("mail.contoso.com", OWA));
        assert!(crate::auth::reads_body("graph.microsoft.com", GRAPH));
        assert!(!crate::auth::reads_body(
            "graph.microsoft.com",
            "https://graph.microsoft.com/v1.0/me/calendar/events"
        ));
        assert!(!crate::auth::reads_body(
            "outlook.office.com",
            "https://outlook.office.com/owa/service.svc?action=FindConversation&app=Mail"
        ));
    }

    #[test]
    fn owa_errors_name_the_mailbox_at_their_position() {
        let a = read(
            S::new(7, "POST", OWA, 200)
                .req_header("User-Agent", "Mozilla/5.0 Edg/131.0")
                .req_body(OWA_REQUEST)
                .resp_body(&owa_answer(
                    "ErrorProxyRequestNotAllowed",
                    "The proxy request is not allowed.",
                )),
        )
        .expect("an event");
        assert_eq!(a.client, JsonClient::Owa);
        assert_eq!(
            a.url,
            "https://mail.contoso.com/owa/service.svc?action=GetUserAvailabilityInternal"
        );
        assert_eq!(a.errors.len(), 1, "{a:?}");
        assert_eq!(
            a.errors[0].code.as_deref(),
            Some("ErrorProxyRequestNotAllowed")
        );
        assert_eq!(
            a.errors[0].mailbox.as_deref(),
            Some("cloudowner@contoso.com")
        );
        // The request in the header instead of the body.
        let posted: String = url::form_urlencoded::byte_serialize(OWA_REQUEST.as_bytes()).collect();
        let a = read(
            S::new(8, "POST", OWA, 200)
                .req_header("X-OWA-UrlPostData", &posted)
                .resp_body(&owa_answer("ErrorNoFreeBusyAccess", "x")),
        )
        .expect("an event");
        assert_eq!(
            a.errors[0].mailbox.as_deref(),
            Some("cloudowner@contoso.com")
        );
        // A `+` in the header is a plus, as `decodeURIComponent` reads it: in JSON sent as
        // it is, and beside `%2B` in JSON percent-encoded.
        let request = OWA_REQUEST.replace("cloudowner@", "cloud+owner@");
        let encoded = request
            .replace('{', "%7B")
            .replace('"', "%22")
            .replace('+', "%2B");
        for posted in [request.as_str(), encoded.as_str()] {
            let a = read(
                S::new(9, "POST", OWA, 200)
                    .req_header("X-OWA-UrlPostData", posted)
                    .resp_body(&owa_answer("ErrorNoFreeBusyAccess", "x")),
            )
            .expect("an event");
            assert_eq!(
                a.errors[0].mailbox.as_deref(),
                Some("cloud+owner@contoso.com"),
                "{posted}"
            );
        }
    }

    #[test]
    fn graph_errors_per_schedule_and_on_the_whole_request() {
        let body = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)","value":[{"scheduleId":"adele@contoso.com","availabilityView":"0020","scheduleItems":[]},{"scheduleId":"onprem@contoso.com","error":{"message":"Proxy web request failed., inner exception: The remote server returned an error: (401) Unauthorized.","responseCode":"ErrorProxyRequestProcessingFailed"}}]}"#;
        let a = read(S::new(3, "POST", GRAPH, 200).resp_body(body)).expect("an event");
        assert_eq!(a.client, JsonClient::GetSchedule);
        assert_eq!(a.errors.len(), 1);
        assert_eq!(a.errors[0].mailbox.as_deref(), Some("onprem@contoso.com"));
        assert_eq!(
            a.errors[0].code.as_deref(),
            Some("ErrorProxyRequestProcessingFailed")
        );
        let denied = r#"{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again.","innerError":{"date":"2026-11-20T09:00:00","request-id":"x"}}}"#;
        let a = read(S::new(4, "POST", GRAPH, 403).resp_body(denied)).expect("an event");
        assert_eq!(a.errors[0].code.as_deref(), Some("ErrorAccessDenied"));
        assert_eq!(a.errors[0].mailbox, None);
        // A numeric responseCode is kept as text.
        let a = read(S::new(5, "POST", GRAPH, 200).resp_body(r#"{"value":[{"scheduleId":"x@fabrikam.com","error":{"message":"Unable to resolve e-mail address x@fabrikam.com to an Active Directory object.","responseCode":5009}}]}"#)).expect("an event");
        assert_eq!(a.errors[0].code.as_deref(), Some("5009"));
    }

    /// No event: healthy answers, a 401, other OWA actions, an empty 200, a bare 503 is one.
    #[test]
    fn healthy_answers_and_401_are_no_event() {
        let healthy_graph = r#"{"value":[{"scheduleId":"adele@contoso.com","availabilityView":"0020","scheduleItems":[],"workingHours":{"daysOfWeek":["monday"]}}]}"#;
        let healthy_owa = owa_answer("NoError", "").replace("\"Error\"", "\"Success\"");
        assert!(read(S::new(1, "POST", GRAPH, 200).resp_body(healthy_graph)).is_none());
        assert!(read(S::new(2, "POST", OWA, 200).resp_body(&healthy_owa)).is_none());
        assert!(read(S::new(3, "POST", GRAPH, 401).resp_body(r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired"}}"#)).is_none());
        assert!(read(
            S::new(
                4,
                "POST",
                "https://mail.contoso.com/owa/service.svc?action=GetMailTips",
                200
            )
            .resp_body(&owa_answer("ErrorNoFreeBusyAccess", "x"))
        )
        .is_none());
        assert!(read(S::new(5, "POST", GRAPH, 200)).is_none());
        let bare = read(S::new(6, "POST", GRAPH, 503)).expect("a 503 is an event");
        assert!(bare.errors.is_empty());
    }

    #[test]
    fn hostile_bodies_yield_less_never_a_panic() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let long = owa_answer("ErrorX", &"y".repeat(10_000));
        let many = format!(
            r#"{{"value":[{}]}}"#,
            vec![r#"{"scheduleId":"a@b","error":{"responseCode":"E"}}"#; 500].join(",")
        );
        for body in [
            "",
            "{",
            "null",
            "[]",
            "{\"value\":7}",
            "{\"Body\":[]}",
            &deep,
            &long,
            &many,
        ] {
            for url in [OWA, GRAPH] {
                if let Some(a) = read(S::new(1, "POST", url, 200).req_body(body).resp_body(body)) {
                    assert!(a.errors.len() <= MAX_ERRORS);
                    for e in &a.errors {
                        assert!(
                            e.message.as_deref().map_or(0, |m| m.chars().count()) <= MAX_TEXT + 3
                        );
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(req in ".{0,300}", resp in ".{0,300}", status in 100u16..600) {
            for url in [OWA, GRAPH] {
                let _ = read(S::new(1, "POST", url, status).req_body(&req).resp_body(&resp));
            }
        }
    }
}
