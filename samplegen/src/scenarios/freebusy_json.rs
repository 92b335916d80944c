//! Issue 19 item 3, the JSON half: free/busy lookups of Outlook on the web (`service.svc`
//! `GetUserAvailabilityInternal`) and of Teams through Microsoft Graph (`calendar/getSchedule`)
//! that fail inside a 200, and a healthy set of the same calls.
//!
//! The answers' shapes follow Exchange's data contracts and Graph's documented
//! `scheduleInformation` / `freeBusyError`. The codes are Exchange's; the two message texts
//! (`ErrorProxyRequestNotAllowed`'s, `ErrorAutoDiscoverFailed`'s) are written in the style of
//! Exchange's availability messages, not copied from a recorded answer: the rule classifies
//! the first by its code, the second by "Autodiscover failed".

use crate::actors::entra::hourly_token;
use crate::actors::exchange::Exchange;
use crate::actors::{hdrs, noise as nz, EDGE, EDGE_UA, TEAMS_CLIENT};
use crate::clock::Instant;
use crate::model::{Body, Coding, Framing, Request, Response, Role, BODY_HEADERS};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{noise_run, tunnel};
use crate::scenarios::precision::teams_token;
use crate::secrets;

const OWA_HOST: &str = "mail.contoso.com";
const GRAPH_SCHEDULE: &str = "https://graph.microsoft.com/v1.0/me/calendar/getSchedule";
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const TEAMS_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0 Teams/24295.605.3225.8804/49";

/// One mailbox's answer: free/busy, or `(class, code, text)`.
type Outcome<'a> = Option<(&'a str, &'a str, &'a str)>;

/// The JSON body of OWA's `GetUserAvailabilityInternal` for `targets`.
fn owa_request_body(targets: &[&str]) -> String {
    let data: Vec<String> = targets
        .iter()
        .map(|t| format!(r#"{{"__type":"MailboxData:#Exchange","Email":{{"__type":"EmailAddress:#Exchange","Address":"{t}"}},"AttendeeType":"Required"}}"#))
        .collect();
    format!(
        r#"{{"request":{{"__type":"GetUserAvailabilityInternalJsonRequest:#Exchange","Header":{{"__type":"JsonRequestHeaders:#Exchange","RequestServerVersion":"Exchange2013","TimeZoneContext":{{"__type":"TimeZoneContext:#Exchange","TimeZoneDefinition":{{"__type":"TimeZoneDefinitionType:#Exchange","Id":"W. Europe Standard Time"}}}}}},"Body":{{"__type":"GetUserAvailabilityRequest:#Exchange","MailboxDataArray":[{}],"FreeBusyViewOptions":{{"__type":"FreeBusyViewOptions:#Exchange","MergedFreeBusyIntervalInMinutes":30,"RequestedView":"DetailedMerged","TimeWindow":{{"__type":"Duration:#Exchange","StartTime":"2026-11-20T00:00:00.000","EndTime":"2026-11-22T00:00:00.000"}}}}}}}}}}"#,
        data.join(",")
    )
}

/// OWA's answer: one `Responses` entry per mailbox.
fn owa_answer(outcomes: &[Outcome]) -> String {
    let items: Vec<String> = outcomes
        .iter()
        .map(|o| match o {
            None => r#"{"ResponseMessage":{"ResponseClass":"Success","ResponseCode":"NoError"},"CalendarView":{"__type":"UserAvailabilityCalendarView:#Exchange","FreeBusyViewType":"DetailedMerged","Items":[{"__type":"UserAvailabilityCalendarEvent:#Exchange","StartTime":"2026-11-20T10:00:00","EndTime":"2026-11-20T11:00:00","FreeBusyType":"Busy"}],"WorkingHours":{"StartTimeInMinutes":480,"EndTimeInMinutes":1020}}}"#.to_string(),
            Some((class, code, text)) => format!(
                r#"{{"ResponseMessage":{{"ResponseClass":"{class}","ResponseCode":"{code}","MessageText":"{text}"}},"CalendarView":{{"__type":"UserAvailabilityCalendarView:#Exchange","FreeBusyViewType":"None","Items":[]}}}}"#
            ),
        })
        .collect();
    format!(
        r#"{{"Header":{{"ServerVersionInfo":{{"MajorVersion":15,"MinorVersion":2,"MajorBuildNumber":1544,"MinorBuildNumber":14,"Version":"V2017_07_11"}}}},"Body":{{"__type":"GetUserAvailabilityInternalResponse:#Exchange","ResponseClass":"Success","ResponseCode":"NoError","Responses":[{}]}}}}"#,
        items.join(",")
    )
}

/// OWA (on-premises, forms sign-in: cookies) asks its server for `targets`' free/busy.
fn owa_availability(sb: &mut Sb, n: usize, targets: &[&str], outcomes: &[Outcome]) -> usize {
    let corr = sb.guid();
    let url = format!(
        "https://{OWA_HOST}/owa/service.svc?action=GetUserAvailabilityInternal&EP=1&ID=-{}&AC=1",
        40 + n
    );
    let headers = hdrs(&[
        ("Host", OWA_HOST),
        ("Connection", "keep-alive"),
        (BODY_HEADERS, ""),
        ("sec-ch-ua-platform", "\"Windows\""),
        ("Action", "GetUserAvailabilityInternal"),
        ("X-Requested-With", "XMLHttpRequest"),
        ("X-OWA-ActionName", "GetUserAvailabilityInternal_Scheduling"),
        ("X-OWA-CorrelationId", &corr),
        ("client-request-id", &corr),
        ("X-OWA-ActionId", &format!("-{}", 40 + n)),
        ("User-Agent", EDGE_UA),
        ("Content-Type", "application/json; charset=UTF-8"),
        ("Accept", "*/*"),
        ("Origin", &format!("https://{OWA_HOST}")),
        ("Sec-Fetch-Site", "same-origin"),
        ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Dest", "empty"),
        ("Referer", &format!("https://{OWA_HOST}/owa/")),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9"),
        (
            "Cookie",
            &format!(
                "ClientId=8A1B0000C0DE4000; X-OWA-CANARY={}; X-BackEndCookie={}; PrivateComputer=true; PBack=0",
                secrets::COOKIE_OWA_CANARY,
                secrets::COOKIE_X_BACKEND
            ),
        ),
    ]);
    let req = Request {
        method: "POST".into(),
        url,
        version: "HTTP/1.1".into(),
        headers,
        body: Some(Body::plain(owa_request_body(targets))),
    };
    let rid = sb.guid();
    let now = sb.now;
    let resp = owa_json(owa_answer(outcomes), &rid, now);
    sb.add(Some(EDGE), req, Some(resp), 420, Role::Signal)
}

/// On-premises OWA's JSON answer: Exchange's headers, gzip and chunked.
fn owa_json(body: String, rid: &str, now: Instant) -> Response {
    let mut resp = Exchange::new().ok_html(String::new(), rid, now);
    for (n, v) in resp.headers.iter_mut() {
        if n == "Content-Type" {
            *v = "application/json; charset=utf-8".into();
        }
    }
    let at = resp
        .headers
        .iter()
        .position(|(n, _)| n == "X-Powered-By")
        .unwrap_or(resp.headers.len());
    resp.headers
        .insert(at, ("X-OWA-Version".into(), "15.2.1544.14".into()));
    resp.headers
        .insert(at + 1, ("X-OWA-DiagnosticsInfo".into(), "11;2;0".into()));
    resp.body = Some(Body::coded(body, Coding::Gzip, Framing::Chunked(1024)));
    resp
}

/// Graph's `scheduleInformation` list: free/busy, or `(responseCode, message)`.
fn schedule_answer(entries: &[(&str, Option<(&str, &str)>)]) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|(id, e)| match e {
            None => format!(r#"{{"scheduleId":"{id}","availabilityView":"000022000000000000000000","scheduleItems":[{{"isPrivate":false,"status":"busy","subject":"","location":"","isMeeting":true,"isRecurring":false,"isException":false,"isReminderSet":true,"start":{{"dateTime":"2026-11-20T10:00:00.0000000","timeZone":"UTC"}},"end":{{"dateTime":"2026-11-20T11:00:00.0000000","timeZone":"UTC"}}}}],"workingHours":{{"daysOfWeek":["monday","tuesday","wednesday","thursday","friday"],"startTime":"08:00:00.0000000","endTime":"17:00:00.0000000","timeZone":{{"name":"W. Europe Standard Time"}}}}}}"#),
            Some((code, message)) => format!(
                r#"{{"scheduleId":"{id}","availabilityView":"","scheduleItems":[],"error":{{"message":"{message}","responseCode":"{code}"}}}}"#
            ),
        })
        .collect();
    format!(
        r#"{{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)","value":[{}]}}"#,
        items.join(",")
    )
}

/// Teams (WebView2) asks Graph `getSchedule` for `entries`' schedules with `token`.
fn teams_get_schedule(sb: &mut Sb, token: &str, entries: &[(&str, Option<(&str, &str)>)]) -> usize {
    let crid = sb.guid();
    let ids: Vec<String> = entries.iter().map(|(id, _)| format!("\"{id}\"")).collect();
    let body = format!(
        r#"{{"schedules":[{}],"startTime":{{"dateTime":"2026-11-20T00:00:00","timeZone":"UTC"}},"endTime":{{"dateTime":"2026-11-21T00:00:00","timeZone":"UTC"}},"availabilityViewInterval":30}}"#,
        ids.join(",")
    );
    let headers = hdrs(&[
        ("Host", "graph.microsoft.com"),
        ("Connection", "keep-alive"),
        (BODY_HEADERS, ""),
        ("sec-ch-ua-platform", "\"Windows\""),
        ("authorization", &format!("Bearer {token}")),
        ("client-request-id", &crid),
        ("sec-ch-ua-mobile", "?0"),
        ("User-Agent", TEAMS_UA),
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
        ("Prefer", "outlook.timezone=\"UTC\""),
        ("x-ms-client-request-id", &crid),
        ("Origin", "https://teams.microsoft.com"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Dest", "empty"),
        ("Referer", "https://teams.microsoft.com/"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ]);
    let req = Request {
        method: "POST".into(),
        url: GRAPH_SCHEDULE.into(),
        version: "HTTP/1.1".into(),
        headers,
        body: Some(Body::plain(body)),
    };
    let rid = sb.guid();
    let now = sb.now;
    let h = hdrs(&[
        ("Cache-Control", "private"),
        (BODY_HEADERS, ""),
        (
            "Content-Type",
            "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8",
        ),
        ("Vary", "Accept-Encoding"),
        ("Strict-Transport-Security", "max-age=31536000"),
        ("request-id", &rid),
        ("client-request-id", &crid),
        (
            "x-ms-ags-diagnostic",
            r#"{"ServerInfo":{"DataCenter":"West Europe","Slice":"E","Ring":"5","ScaleUnit":"003","RoleInstance":"AM2PEPF0001C7B1"}}"#,
        ),
        ("Preference-Applied", "outlook.timezone=\"UTC\""),
        ("x-ms-resource-unit", "1"),
        ("OData-Version", "4.0"),
        ("Date", &now.http_date()),
    ]);
    let resp = Response {
        status: 200,
        reason: "OK".into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::coded(
            schedule_answer(entries),
            Coding::Gzip,
            Framing::Chunked(2048),
        )),
    };
    sb.add(Some(nz::TEAMS), req, Some(resp), 380, Role::Signal)
}

/// Teams' token for Graph (refreshed on the v2 endpoint) and the token it presents.
fn teams_graph_token(sb: &mut Sb) -> String {
    tunnel(sb, "login.microsoftonline.com", nz::TEAMS);
    // A flow with no challenge before it (the expected facts record it as one).
    let l = sb.begin_loop(
        "https://graph.microsoft.com/",
        "",
        "login.microsoftonline.com",
        "",
        TEAMS_CLIENT,
        nz::TEAMS,
    );
    let id = teams_token(sb, GRAPH_SCOPE);
    sb.entra(l, id, true);
    sb.token(l);
    sb.wait(120);
    hourly_token(
        "https://graph.microsoft.com",
        TEAMS_CLIENT,
        "Calendars.ReadWrite Calendars.Read.Shared User.Read People.Read",
        sb.now.unix(),
        false,
        secrets::SIG_BACKGROUND_AT,
    )
}

const NOT_ALLOWED: &str =
    "Proxy requests for free/busy information are not allowed for the requester's organization.";

/// `freebusy-owa-proxy-failed`: a user of on-premises Outlook on the web opens the
/// scheduling assistant for a local room and a colleague whose mailbox moved to Exchange
/// Online, twice: OWA's `GetUserAvailabilityInternal` answers 200 with the room's free/busy
/// and, for the cloud mailbox, `ErrorProxyRequestNotAllowed`.
pub fn freebusy_owa_proxy_failed(sb: &mut Sb) {
    tunnel(sb, OWA_HOST, EDGE);
    noise_run(sb, 0, 3);
    let targets = ["room101@contoso.com", "cloudowner@contoso.com"];
    for n in 0..2 {
        owa_availability(
            sb,
            n,
            &targets,
            &[
                None,
                Some(("Error", "ErrorProxyRequestNotAllowed", NOT_ALLOWED)),
            ],
        );
        noise_run(sb, 2 + n, 2);
        sb.wait(45_000);
    }
}

const AUTODISCOVER_FAILED: &str = "Autodiscover failed for email address onprem@contoso.com with error System.Net.WebException: The remote name could not be resolved: 'autodiscover.contoso.com'.";

/// `freebusy-teams-getschedule`: Teams refreshes its Graph token, then asks `getSchedule` for
/// a cloud colleague and a colleague whose mailbox is on-premises, twice: 200 with the cloud
/// mailbox's schedule and, for the on-premises one, an `error` (`ErrorAutoDiscoverFailed`:
/// Exchange Online's autodiscover for the on-premises side failed).
pub fn freebusy_teams_getschedule(sb: &mut Sb) {
    noise_run(sb, 0, 2);
    let token = teams_graph_token(sb);
    tunnel(sb, "graph.microsoft.com", nz::TEAMS);
    for n in 0..2 {
        teams_get_schedule(
            sb,
            &token,
            &[
                ("adele@contoso.com", None),
                (
                    "onprem@contoso.com",
                    Some(("ErrorAutoDiscoverFailed", AUTODISCOVER_FAILED)),
                ),
            ],
        );
        noise_run(sb, 3 + n, 2);
        sb.wait(30_000);
    }
}

/// `freebusy-json-healthy`: on-premises OWA and Teams' Graph `getSchedule` answer every
/// lookup, one of them with a Warning (a distribution list too large to expand); silent.
pub fn freebusy_json_healthy(sb: &mut Sb) {
    tunnel(sb, OWA_HOST, EDGE);
    noise_run(sb, 0, 2);
    owa_availability(
        sb,
        0,
        &["room101@contoso.com", "cloudowner@contoso.com", "all-staff@contoso.com"],
        &[
            None,
            None,
            Some((
                "Warning",
                "ErrorFreeBusyDLLimitReached",
                "The distribution list all-staff@contoso.com has more members than the free/busy limit.",
            )),
        ],
    );
    noise_run(sb, 2, 2);
    let token = teams_graph_token(sb);
    tunnel(sb, "graph.microsoft.com", nz::TEAMS);
    teams_get_schedule(
        sb,
        &token,
        &[("adele@contoso.com", None), ("onprem@contoso.com", None)],
    );
    noise_run(sb, 4, 3);
}
