//! `freebusy-error`: free/busy (availability) lookups that fail inside their answer.
//!
//! Outlook, OWA and Teams (and Exchange Online's IntraOrganizationConnector calls to
//! on-premises EWS) ask `GetUserAvailability`; a failed lookup is often a 200 whose
//! `FreeBusyResponse` holds `ResponseClass="Error"` with a `ResponseCode` and a `MessageText`
//! that names the cross-premises failure ("Proxy web request failed ... (401)"). A 403 or 5xx
//! from the availability service is reported too. The meaning and fix of each error are in
//! `freebusy_catalog`.
//!
//! OWA's JSON availability service (`service.svc?action=GetUserAvailabilityInternal`) and
//! Microsoft Graph's `calendar/getSchedule` (Teams, new Outlook) answer the same lookups with
//! the same Exchange error codes and texts, per mailbox, in JSON; they are read the same way
//! and quoted with their client path.
//!
//! Looks at: `Event::EwsAnswer` for availability requests and `Event::AvailabilityJson`. One
//! finding per error kind and answering host. A `Warning` class is not an error (the answer holds data with a caveat,
//! e.g. a distribution list too large to expand). A 401 is `ioc-oauth-failure`'s (or the
//! challenge rules') and never read here.

use std::collections::BTreeMap;

use super::exchange::is_microsoft_cloud;
use super::freebusy_catalog::{
    classify, Kind, GRAPH_HTTP_403, GRAPH_HTTP_5XX, HTTP_403, HTTP_5XX, OWA_HTTP_403, OWA_HTTP_5XX,
};
use super::{sorted, Context, Finding, Severity};
use crate::auth::availability_json::JsonClient;
use crate::auth::AnswerError;

/// One failed lookup: what is quoted of it.
struct Hit {
    session: u64,
    quote: String,
    user_agent: Option<String>,
}

/// Failed lookups by kind, answering host and client path (empty for EWS SOAP): a 403 from
/// OWA and one from EWS on the same host are different failures with different fixes.
type Groups = BTreeMap<(&'static str, String, &'static str), (&'static Kind, Vec<Hit>)>;

pub fn check(cx: &Context) -> Vec<Finding> {
    let mut groups: Groups = BTreeMap::new();
    let mut add = |url: &str,
                   path: &'static str,
                   session: u64,
                   ua: Option<&String>,
                   hits: Vec<(&'static Kind, String)>| {
        let host = crate::capture::host_of(url).unwrap_or_else(|| "<ews host>".into());
        for (kind, quote) in hits {
            groups
                .entry((kind.name, host.clone(), path))
                .or_insert_with(|| (kind, Vec::new()))
                .1
                .push(Hit {
                    session,
                    quote,
                    user_agent: ua.cloned(),
                });
        }
    };
    for a in cx.ews_answers().filter(|a| a.is_availability()) {
        let fault = a.fault.as_deref().map(|f| (f, a.fault_code.as_deref()));
        add(
            &a.url,
            "",
            a.session,
            a.user_agent.as_ref(),
            failures(&a.errors, fault, a.status, None),
        );
    }
    for a in cx.availability_json() {
        add(
            &a.url,
            a.client.label(),
            a.session,
            a.user_agent.as_ref(),
            failures(&a.errors, None, a.status, Some(a.client)),
        );
    }
    groups
        .into_iter()
        .map(|((name, host, _), (kind, hits))| finding(cx, name, &host, kind, &hits))
        .collect()
}

/// The failures of one answer: each error message by kind, else its fault, else its status.
/// `client` is the client path of a JSON answer (`None` for EWS SOAP): quotes name it, and a
/// bare 403 or 5xx gets that service's meaning and fix, not EWS's.
fn failures(
    errors: &[AnswerError],
    fault: Option<(&str, Option<&str>)>,
    status: Option<u16>,
    client: Option<JsonClient>,
) -> Vec<(&'static Kind, String)> {
    let via = client.map_or(String::new(), |c| format!("{}: ", c.label()));
    let (forbidden, failed) = match client {
        None => (&HTTP_403, &HTTP_5XX),
        Some(JsonClient::Owa) => (&OWA_HTTP_403, &OWA_HTTP_5XX),
        Some(JsonClient::GetSchedule) => (&GRAPH_HTTP_403, &GRAPH_HTTP_5XX),
    };
    let mut out: Vec<(&'static Kind, String)> = Vec::new();
    for e in errors {
        let kind = classify(e.code.as_deref(), e.message.as_deref());
        let quote = format!(
            "{via}{}{}{}",
            e.code.as_deref().unwrap_or("(no ResponseCode)"),
            e.message
                .as_deref()
                .map(|m| format!(" \"{m}\""))
                .unwrap_or_default(),
            e.mailbox
                .as_deref()
                .filter(|m| !m.is_empty())
                .map(|m| format!(" for {m}"))
                .unwrap_or_default()
        );
        out.push((kind, quote));
    }
    if out.is_empty() {
        if let Some((f, code)) = fault {
            let kind = classify(code, Some(f));
            out.push((kind, format!("SOAP fault {} \"{f}\"", code.unwrap_or(""))));
        }
    }
    if out.is_empty() {
        match status {
            Some(403) => out.push((forbidden, format!("{via}HTTP 403"))),
            Some(s) if s >= 500 => out.push((failed, format!("{via}HTTP {s}"))),
            _ => {}
        }
    }
    out
}

fn finding(cx: &Context, name: &str, host: &str, kind: &Kind, hits: &[Hit]) -> Finding {
    let sessions = sorted(hits.iter().map(|h| h.session).collect());
    let mut quotes: Vec<&str> = Vec::new();
    for h in hits {
        if !quotes.contains(&h.quote.as_str()) {
            quotes.push(&h.quote);
        }
    }
    let shown: Vec<&str> = quotes.iter().take(3).copied().collect();
    let more = quotes.len().saturating_sub(3);
    let caller = hits
        .iter()
        .find_map(|h| h.user_agent.as_deref())
        .map(|ua| format!(" Caller: {ua}."))
        .unwrap_or_default();
    let side = if is_microsoft_cloud(host) {
        "The answer came from Exchange Online: the lookup starts at a cloud mailbox, so the cloud-side configuration (Exchange Online PowerShell) is checked first."
    } else {
        "The answer came from on-premises Exchange: the lookup was answered (or proxied) on-premises, so the on-premises side (Exchange Management Shell) is checked first; when the caller is Exchange Online (user agent Exchange/15...), the call came through the IntraOrganizationConnector or organization relationship."
    };
    Finding {
        id: "freebusy-error".into(),
        severity: Severity::Error,
        title: format!("Free/busy lookups answered by {host} fail: {name}"),
        evidence: format!(
            "{} availability answer(s) from {host} hold an error (first session {}: {}): {}{}. \
             Meaning: {}.{caller}",
            sessions.len(),
            sessions[0],
            cx.describe(sessions[0]),
            shown.join("; "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            kind.meaning
        ),
        fix: format!("{} {side}", kind.fix),
        sessions,
        remedy: None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_no_token, run, HMA, S};
    use super::*;

    pub(crate) const AVAIL: &str = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><soap:Body><m:GetUserAvailabilityRequest xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>room@contoso.com</t:Address></t:Email></t:MailboxData><t:MailboxData><t:Email><t:Address>owner@contoso.com</t:Address></t:Email></t:MailboxData></m:MailboxDataArray></m:GetUserAvailabilityRequest></soap:Body></soap:Envelope>"#;

    fn answer(class2: &str, code2: &str, text2: &str) -> String {
        format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><FreeBusyResponseArray><FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><FreeBusyView><FreeBusyViewType>MergedOnly</FreeBusyViewType><MergedFreeBusy>0000</MergedFreeBusy></FreeBusyView></FreeBusyResponse><FreeBusyResponse><ResponseMessage ResponseClass="{class2}"><MessageText>{text2}</MessageText><ResponseCode>{code2}</ResponseCode></ResponseMessage></FreeBusyResponse></FreeBusyResponseArray></GetUserAvailabilityResponse></s:Body></s:Envelope>"#
        )
    }

    pub(super) fn ews(id: u64, status: u16, body: &str) -> S {
        S::new(
            id,
            "POST",
            "https://mail.contoso.com/EWS/Exchange.asmx",
            status,
        )
        .req_header(
            "User-Agent",
            "Exchange/15.20.8158.20 (ExchangeServicesClient/15.20.8158.20)",
        )
        .req_body(AVAIL)
        .resp_body(body)
    }

    #[test]
    fn errors_inside_a_200_by_kind() {
        let f = run(
            check,
            vec![
                ews(3, 200, &answer("Error", "ErrorProxyRequestProcessingFailed", "Proxy web request failed., inner exception: The remote server returned an error: (401) Unauthorized.")),
                ews(4, 200, &answer("Error", "ErrorProxyRequestProcessingFailed", "Proxy web request failed., inner exception: The remote server returned an error: (401) Unauthorized.")),
                ews(5, 200, &answer("Error", "ErrorNoFreeBusyAccess", "No free/busy access.")),
                ews(6, 503, ""),
            ],
        );
        let names: Vec<(&str, &[u64])> = f
            .iter()
            .map(|x| {
                (
                    x.title.rsplit(": ").next().unwrap_or(""),
                    x.sessions.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("ErrorNoFreeBusyAccess", &[5][..]),
                ("http-5xx", &[6][..]),
                ("oauth-401", &[3, 4][..]),
            ],
            "{f:#?}"
        );
        let oauth = &f[2];
        assert_eq!(
            (oauth.id.as_str(), oauth.severity),
            ("freebusy-error", Severity::Error)
        );
        assert!(oauth
            .evidence
            .contains("ErrorProxyRequestProcessingFailed \"Proxy web request failed."));
        assert!(
            oauth.evidence.contains("for owner@contoso.com"),
            "{}",
            oauth.evidence
        );
        assert!(oauth.fix.contains("Test-OAuthConnectivity"));
        assert!(oauth.fix.contains("Get-IntraOrganizationConnector"));
        assert!(f[0].fix.contains("AvailabilityOnly"));
        assert_no_token(&f);
    }

    /// Does not trigger: a healthy answer, a Warning, a 401 (the challenge rules'), another
    /// operation's error, an availability answer from a body that is not SOAP.
    #[test]
    fn does_not_trigger() {
        let f = run(
            check,
            vec![
                ews(3, 200, &answer("Success", "NoError", "")),
                ews(
                    4,
                    200,
                    &answer(
                        "Warning",
                        "ErrorFreeBusyDLLimitReached",
                        "The distribution list is too large.",
                    ),
                ),
                ews(5, 401, "").offers(&[HMA]),
                S::new(6, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200)
                    .req_body(&AVAIL.replace("GetUserAvailabilityRequest", "GetMailTips"))
                    .resp_body(
                        &answer("Error", "ErrorNoFreeBusyAccess", "x")
                            .replace("GetUserAvailabilityResponse", "GetMailTipsResponse"),
                    ),
                ews(7, 200, "<html>not soap ResponseClass=\"Error\"</html>"),
            ],
        );
        assert!(f.is_empty(), "{f:#?}");
    }

    const GRAPH: &str = "https://graph.microsoft.com/v1.0/me/calendar/getSchedule";
    const OWA: &str =
        "https://mail.contoso.com/owa/service.svc?action=GetUserAvailabilityInternal&app=Calendar";
    const TEAMS_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0 Teams/24295.605.3225.8804/49";

    fn schedule(entries: &[(&str, Option<(&str, &str)>)]) -> String {
        let items: Vec<String> = entries
            .iter()
            .map(|(id, err)| match err {
                None => format!(r#"{{"scheduleId":"{id}","availabilityView":"0022","scheduleItems":[],"workingHours":{{"startTime":"08:00:00.0000000"}}}}"#),
                Some((code, msg)) => format!(r#"{{"scheduleId":"{id}","availabilityView":"","scheduleItems":[],"error":{{"message":"{msg}","responseCode":"{code}"}}}}"#),
            })
            .collect();
        format!(
            r#"{{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)","value":[{}]}}"#,
            items.join(",")
        )
    }

    pub(super) fn graph(id: u64, status: u16, body: &str) -> S {
        S::new(id, "POST", GRAPH, status)
            .req_header("User-Agent", TEAMS_UA)
            .req_body(r#"{"schedules":["adele@contoso.com","onprem@contoso.com"],"startTime":{"dateTime":"2026-11-20T08:00:00","timeZone":"UTC"},"endTime":{"dateTime":"2026-11-20T18:00:00","timeZone":"UTC"},"availabilityViewInterval":30}"#)
            .resp_body(body)
    }

    const OWA_REQ: &str = r#"{"request":{"__type":"GetUserAvailabilityInternalJsonRequest:#Exchange","Body":{"__type":"GetUserAvailabilityRequest:#Exchange","MailboxDataArray":[{"Email":{"Address":"room101@contoso.com"}},{"Email":{"Address":"cloudowner@contoso.com"}}]}}}"#;

    /// An OWA availability request answered with `status` and `body` as they are.
    pub(super) fn owa_status(id: u64, status: u16, body: &str) -> S {
        S::new(id, "POST", OWA, status)
            .req_header(
                "User-Agent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/131.0.0.0",
            )
            .req_body(OWA_REQ)
            .resp_body(body)
    }

    fn owa(id: u64, status: u16, class2: &str, code2: &str, text2: &str) -> S {
        S::new(id, "POST", OWA, status)
            .req_header("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/131.0.0.0")
            .req_body(OWA_REQ)
            .resp_body(&format!(r#"{{"Body":{{"ResponseClass":"Success","ResponseCode":"NoError","Responses":[{{"ResponseMessage":{{"ResponseClass":"Success","ResponseCode":"NoError"}}}},{{"ResponseMessage":{{"ResponseClass":"{class2}","ResponseCode":"{code2}","MessageText":"{text2}"}}}}]}}}}"#))
    }

    /// Graph getSchedule and OWA answers feed the same catalog, quoted with their client
    /// path, mailbox, code and message.
    #[test]
    fn json_answers_by_kind_with_their_path() {
        let f = run(
            check,
            vec![
                graph(3, 200, &schedule(&[("adele@contoso.com", None), ("onprem@contoso.com", Some(("ErrorProxyRequestProcessingFailed", "Proxy web request failed., inner exception: The remote server returned an error: (401) Unauthorized., LID: 43532")))])),
                owa(4, 200, "Error", "ErrorProxyRequestNotAllowed", "Proxy requests are not allowed for this mailbox."),
                graph(5, 200, &schedule(&[("x@fabrikam.com", Some(("5009", "Unable to resolve e-mail address x@fabrikam.com to an Active Directory object.")))])),
                graph(6, 403, r#"{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again."}}"#),
            ],
        );
        let got: Vec<(String, &[u64])> = f
            .iter()
            .map(|x| (x.title.clone(), x.sessions.as_slice()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Free/busy lookups answered by graph.microsoft.com fail: ErrorAccessDenied".to_string(), &[6][..]),
                ("Free/busy lookups answered by graph.microsoft.com fail: ErrorMailRecipientNotFound".to_string(), &[5][..]),
                ("Free/busy lookups answered by mail.contoso.com fail: ErrorProxyRequestNotAllowed".to_string(), &[4][..]),
                ("Free/busy lookups answered by graph.microsoft.com fail: oauth-401".to_string(), &[3][..]),
            ],
            "{f:#?}"
        );
        let oauth = &f[3];
        assert!(
            oauth.evidence.contains(
                "Graph getSchedule: ErrorProxyRequestProcessingFailed \"Proxy web request failed."
            ),
            "{}",
            oauth.evidence
        );
        assert!(
            oauth.evidence.contains("for onprem@contoso.com"),
            "{}",
            oauth.evidence
        );
        assert!(oauth.evidence.contains("Teams/"), "{}", oauth.evidence);
        assert!(
            oauth.fix.contains("Get-IntraOrganizationConnector")
                && oauth.fix.contains("Exchange Online")
        );
        let owa = &f[2];
        assert!(
            owa.evidence
                .contains("OWA service.svc availability: ErrorProxyRequestNotAllowed"),
            "{}",
            owa.evidence
        );
        assert!(
            owa.evidence.contains("for cloudowner@contoso.com"),
            "{}",
            owa.evidence
        );
        assert!(owa.fix.contains("Set-OrganizationRelationship"));
        assert!(owa.fix.contains("on-premises side"), "{}", owa.fix);
        assert!(f[1].fix.contains("Get-Recipient"));
        assert!(f[0].fix.contains("Test-ApplicationAccessPolicy"));
        assert!(f.iter().all(|x| x.severity == Severity::Error));
        assert_no_token(&f);
    }

    /// Does not trigger: healthy getSchedule and OWA answers, a Graph or OWA 401 (expired
    /// token: the token rules'), an OWA Warning, another OWA action's error or 403, Graph's
    /// other calendar calls (also a 503), a getSchedule answer that is not JSON.
    #[test]
    fn json_does_not_trigger() {
        let f = run(
            check,
            vec![
                graph(3, 200, &schedule(&[("adele@contoso.com", None), ("onprem@contoso.com", None)])),
                owa(4, 200, "Success", "NoError", ""),
                graph(5, 401, r#"{"error":{"code":"InvalidAuthenticationToken","message":"Lifetime validation failed, the token is expired."}}"#),
                owa(6, 200, "Warning", "ErrorFreeBusyDLLimitReached", "The distribution list is too large."),
                S::new(7, "POST", "https://mail.contoso.com/owa/service.svc?action=GetMailTips", 200)
                    .resp_body(r#"{"Body":{"ResponseClass":"Error","ResponseCode":"ErrorNoFreeBusyAccess"}}"#),
                S::new(8, "GET", "https://graph.microsoft.com/v1.0/me/calendar/events", 200)
                    .resp_body(r#"{"value":[{"error":{"message":"x","responseCode":"ErrorNoFreeBusyAccess"}}]}"#),
                graph(9, 200, "<html>ResponseClass Error \"error\"</html>"),
                // An OWA sign-in that expired (401), and a 403 / 503 on other OWA and Graph
                // calls: not free/busy lookups, whatever their status.
                owa_status(10, 401, ""),
                S::new(11, "POST", "https://mail.contoso.com/owa/service.svc?action=GetMailTips", 403),
                S::new(12, "GET", "https://graph.microsoft.com/v1.0/me/calendar/events", 503),
            ],
        );
        assert!(f.is_empty(), "{f:#?}");
    }
}

#[cfg(test)]
mod path_tests {
    //! A bare 403 or 5xx is read with the service that answered it: OWA's and Graph's get
    //! their own meaning and fix, EWS keeps its own, and the three never share a finding.
    use super::super::testkit::run;
    use super::tests::{ews, graph, owa_status};
    use super::*;

    #[test]
    fn a_bare_403_or_5xx_gets_the_fix_of_the_service_that_answered() {
        let f = run(
            check,
            vec![
                ews(3, 403, ""),
                owa_status(4, 403, "<html>Forbidden</html>"),
                graph(5, 503, ""),
                owa_status(6, 502, "<html>Bad Gateway</html>"),
            ],
        );
        let got: Vec<(&str, &[u64], bool, bool, bool)> = f
            .iter()
            .map(|f| {
                (
                    f.title.as_str(),
                    f.sessions.as_slice(),
                    f.fix.contains("EwsEnabled"),
                    f.fix.contains("OWAEnabled") || f.fix.contains("MSExchangeOWAAppPool"),
                    f.fix.contains("Microsoft 365 service health")
                        && f.evidence.contains("Microsoft Graph"),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "Free/busy lookups answered by mail.contoso.com fail: http-403",
                    &[3][..],
                    true,
                    false,
                    false
                ),
                (
                    "Free/busy lookups answered by mail.contoso.com fail: http-403",
                    &[4][..],
                    false,
                    true,
                    false
                ),
                (
                    "Free/busy lookups answered by graph.microsoft.com fail: http-5xx",
                    &[5][..],
                    false,
                    false,
                    true
                ),
                (
                    "Free/busy lookups answered by mail.contoso.com fail: http-5xx",
                    &[6][..],
                    false,
                    true,
                    false
                ),
            ]
        );
        assert!(f[1]
            .evidence
            .contains("OWA service.svc availability: HTTP 403"));
    }
}
