//! `autodiscover-v2`: the autodiscover v2 chain Teams and Outlook mobile use does not end in
//! an anonymous `200 {"Protocol", "Url"}` with a public https URL.
//!
//! Teams' scheduling and calendar services find an on-premises mailbox's EWS with an
//! unauthenticated `GET https://outlook.office365.com/autodiscover/autodiscover.json?Email=
//! <address>&Protocol=EWS`; Exchange Online redirects (302) to the organisation's own
//! `autodiscover.json`, which must answer anonymously with the external EWS URL. Outlook
//! for iOS and Android (hybrid Modern Authentication) finds ActiveSync the same way.
//!
//! Looks at: every `Event::AutodiscoverV2` for `EWS`, `ActiveSync` or `AutodiscoverV1`
//! (what on-premises Exchange serves). On a non-Microsoft host: a 401, 403, 404, an HTML
//! page, a 5xx, a JSON error, an answer without a `Url`, a redirect away from
//! `autodiscover.json` (a login page), a `Url` on an internal host or over `http://`. On any
//! host: a redirect chain that comes back to an endpoint it already visited, or runs past
//! ten hops. One finding per host and kind of failure: an error when no anonymous request to
//! the organisation's hosts for the same domain and protocol got a usable answer in the
//! capture, a warning when one did (a retry, or another name the client tried).
//!
//! Does not trigger: Exchange Online answering an Exchange Online mailbox itself (200 from
//! `outlook.office365.com`); other protocols (`REST`, `Substrate`, ... which on-premises
//! Exchange does not serve); a redirect followed to a usable answer; a session with no
//! response.

use std::collections::BTreeMap;

use super::exchange::{self, is_microsoft_cloud, looks_external};
use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::{AutodiscoverV2, V2Answer};
use crate::capture::url_parts::UrlParts;

/// The protocols on-premises Exchange publishes over autodiscover v2.
const JUDGED: &[&str] = &["ews", "activesync", "autodiscoverv1"];
/// Hops after which a chain counts as a loop.
const MAX_HOPS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Challenged,
    Forbidden,
    NotFound,
    Html,
    ServerError,
    JsonError,
    NoUrl,
    RedirectedAway,
    InternalUrl,
    HttpUrl,
}

/// `(domain, protocol)` of a request, lower-cased: what a chain is about.
fn key(a: &AutodiscoverV2) -> (String, String) {
    (
        a.domain.clone().unwrap_or_default(),
        a.protocol.as_deref().unwrap_or("").to_ascii_lowercase(),
    )
}

fn judged(a: &AutodiscoverV2) -> bool {
    a.protocol
        .as_deref()
        .is_some_and(|p| JUDGED.iter().any(|j| j.eq_ignore_ascii_case(p)))
}

/// The host of a published URL, and whether it is https.
fn url_facts(url: &str) -> (String, bool) {
    let parts = UrlParts::split(url);
    (
        parts.host().to_ascii_lowercase(),
        parts
            .scheme
            .is_some_and(|s| s.eq_ignore_ascii_case("https")),
    )
}

/// What is wrong with one answer from the organisation's host, if anything.
fn kind_of(a: &AutodiscoverV2) -> Option<Kind> {
    let status = a.status?;
    Some(match &a.answer {
        V2Answer::NoResponse => return None,
        V2Answer::Redirect { target } => {
            if crate::auth::autodiscover_v2::is_autodiscover_json_url(target) {
                return None;
            }
            Kind::RedirectedAway
        }
        V2Answer::Error { .. } => Kind::JsonError,
        _ if status == 401 => Kind::Challenged,
        _ if status == 403 => Kind::Forbidden,
        _ if status == 404 => Kind::NotFound,
        _ if status >= 500 => Kind::ServerError,
        V2Answer::Published { url, .. } => {
            let (host, https) = url_facts(url);
            if !https {
                Kind::HttpUrl
            } else if !looks_external(&host) {
                Kind::InternalUrl
            } else if status == 200 {
                return None;
            } else {
                Kind::NoUrl
            }
        }
        V2Answer::Html { .. } => Kind::Html,
        V2Answer::Other => Kind::NoUrl,
    })
}

/// A usable answer: 200, a public https `Url`, asked without credentials.
fn usable(cx: &Context, a: &AutodiscoverV2) -> bool {
    a.status == Some(200)
        && kind_of(a).is_none()
        && a.published().is_some()
        && cx
            .session(a.session)
            .is_some_and(|s| s.credential.is_none())
}

type Key = (String, String);

/// The requests, indexed once, so that a capture of many requests costs `n log n`.
struct Index<'a> {
    hops: Vec<&'a AutodiscoverV2>,
    by_session: BTreeMap<u64, &'a AutodiscoverV2>,
    /// The request each redirect led to: the first later request to its target for the
    /// same domain and protocol.
    links: BTreeMap<u64, &'a AutodiscoverV2>,
    /// The reverse: the (latest) redirect that led to a request.
    led: BTreeMap<u64, u64>,
    /// Usable answers from the organisation's hosts, by chain.
    good: BTreeMap<Key, Vec<&'a AutodiscoverV2>>,
    /// Requests answered 200 with a `Url` only with credentials, by host.
    authenticated: BTreeMap<&'a str, Vec<u64>>,
}

impl<'a> Index<'a> {
    fn new(cx: &Context<'a>, hops: Vec<&'a AutodiscoverV2>) -> Index<'a> {
        // (endpoint, chain) -> positions of the requests to it, ascending.
        let mut to: BTreeMap<(String, Key), Vec<usize>> = BTreeMap::new();
        for (i, h) in hops.iter().enumerate() {
            to.entry((h.endpoint.to_ascii_lowercase(), key(h)))
                .or_default()
                .push(i);
        }
        let mut links = BTreeMap::new();
        let mut led = BTreeMap::new();
        for (i, h) in hops.iter().enumerate() {
            let Some(target) = h.redirect() else { continue };
            let Some(at) = to.get(&(target.to_ascii_lowercase(), key(h))) else {
                continue;
            };
            let next = at.partition_point(|&j| j <= i);
            if let Some(&j) = at.get(next) {
                links.insert(h.session, hops[j]);
                led.insert(hops[j].session, h.session);
            }
        }
        let mut good: BTreeMap<Key, Vec<&AutodiscoverV2>> = BTreeMap::new();
        let mut authenticated: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for h in &hops {
            if is_microsoft_cloud(&h.host) {
                continue;
            }
            if usable(cx, h) {
                good.entry(key(h)).or_default().push(h);
            } else if h.status == Some(200)
                && h.published().is_some()
                && cx
                    .session(h.session)
                    .is_some_and(|s| s.credential.is_some())
            {
                authenticated.entry(&h.host).or_default().push(h.session);
            }
        }
        Index {
            by_session: hops.iter().map(|h| (h.session, *h)).collect(),
            hops,
            links,
            led,
            good,
            authenticated,
        }
    }

    /// The redirect sessions that led to `session`, first first.
    fn led_by(&self, session: u64) -> Vec<u64> {
        let mut chain = Vec::new();
        let mut cur = session;
        while let Some(&from) = self.led.get(&cur) {
            if chain.contains(&from) || chain.len() > MAX_HOPS {
                break;
            }
            chain.push(from);
            cur = from;
        }
        chain.reverse();
        chain
    }
}

/// Redirect walks that come back to an endpoint they visited, or run past [`MAX_HOPS`]:
/// the sessions of each.
fn loops(ix: &Index) -> Vec<Vec<u64>> {
    let links = &ix.links;
    let mut out: Vec<Vec<u64>> = Vec::new();
    for root in ix.hops.iter().filter(|h| !ix.led.contains_key(&h.session)) {
        let mut visited = vec![root.endpoint.to_ascii_lowercase()];
        let mut sessions = vec![root.session];
        let mut cur = *root;
        while let Some(target) = cur.redirect() {
            let target = target.to_ascii_lowercase();
            if visited.contains(&target) || sessions.len() > MAX_HOPS {
                // The request that came back, when the capture holds it.
                if let Some(next) = links.get(&cur.session) {
                    sessions.push(next.session);
                }
                out.push(sessions.clone());
                break;
            }
            let Some(next) = links.get(&cur.session) else {
                break;
            };
            visited.push(target);
            sessions.push(next.session);
            cur = next;
        }
    }
    out
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let hops: Vec<&AutodiscoverV2> = cx.autodiscover_v2().filter(|a| judged(a)).collect();
    if hops.is_empty() {
        return Vec::new();
    }
    let ix = Index::new(cx, hops);
    // (kind, host) -> the failing requests.
    let mut failures: BTreeMap<(Kind, &str), Vec<&AutodiscoverV2>> = BTreeMap::new();
    for h in ix.hops.iter().filter(|h| !is_microsoft_cloud(&h.host)) {
        if let Some(kind) = kind_of(h) {
            failures.entry((kind, h.host.as_str())).or_default().push(h);
        }
    }
    let mut findings: Vec<Finding> = failures
        .into_iter()
        .map(|((kind, host), failed)| failure(cx, &ix, kind, host, &failed))
        .collect();
    for walk in loops(&ix) {
        let Some(first) = ix.by_session.get(&walk[0]).copied() else {
            continue;
        };
        let recovered = ix.good.contains_key(&key(first));
        findings.push(loop_finding(cx, &ix, first, &walk, recovered));
    }
    findings
}

/// A host as evidence names it: Microsoft's hosts by their role.
fn who(host: &str) -> &str {
    if is_microsoft_cloud(host) {
        "Exchange Online"
    } else {
        host
    }
}

/// `GET https://host/autodiscover/autodiscover.json (Protocol=EWS, an address in contoso.com)`.
fn describe(cx: &Context, a: &AutodiscoverV2) -> String {
    let method = cx
        .session(a.session)
        .map_or_else(|| "GET".to_string(), |s| s.method.to_string());
    let mut what = Vec::new();
    if let Some(p) = &a.protocol {
        what.push(format!("Protocol={p}"));
    }
    if let Some(d) = &a.domain {
        what.push(format!("an address in {d}"));
    }
    // Microsoft's hosts by their role (the endpoint is the same for every tenant).
    let endpoint = if is_microsoft_cloud(&a.host) {
        "Exchange Online's /autodiscover/autodiscover.json".to_string()
    } else {
        a.endpoint.clone()
    };
    format!("{method} {endpoint} ({})", what.join(", "))
}

fn status_text(a: &AutodiscoverV2) -> String {
    a.status
        .map_or_else(|| "no answer".into(), |s| format!("HTTP {s}"))
}

/// What one failing answer said, for the evidence.
fn answer_detail(cx: &Context, a: &AutodiscoverV2, kind: Kind) -> String {
    let mut out = status_text(a);
    match (&a.answer, kind) {
        (_, Kind::Challenged) => {
            let offered = cx
                .challenge_in(a.session)
                .map(exchange::offered)
                .unwrap_or_default();
            if !offered.is_empty() {
                out.push_str(&format!(" offering {}", offered.join(", ")));
            }
        }
        (V2Answer::Error { code, message }, _) => {
            out.push_str(&format!(" ErrorCode {code}"));
            if let Some(m) = message {
                out.push_str(&format!(" \"{m}\""));
            }
        }
        (V2Answer::Html { title }, _) => {
            out.push_str(" with an HTML page");
            if let Some(t) = title {
                out.push_str(&format!(" titled \"{t}\""));
            }
        }
        (V2Answer::Published { protocol, url }, _) => {
            out.push_str(&format!(
                " publishing {} {url}",
                protocol.as_deref().unwrap_or("(no protocol)")
            ));
        }
        (V2Answer::Redirect { target }, _) => {
            out.push_str(&format!(" redirecting to {target}"));
        }
        _ => {}
    }
    if let Some(server) = &a.server {
        out.push_str(&format!(", Server: {server}"));
    }
    out
}

fn failure(
    cx: &Context,
    ix: &Index,
    kind: Kind,
    host: &str,
    failed: &[&AutodiscoverV2],
) -> Finding {
    let first = failed[0];
    // Recovered: one of the organisation's hosts (this one, or another the client tried)
    // gave a usable answer for the same domain and protocol. Exchange Online answering its
    // own mailboxes of the same domain is not this chain.
    let unrecovered = failed.iter().any(|f| !ix.good.contains_key(&key(f)));
    let good = failed
        .iter()
        .find_map(|f| ix.good.get(&key(f)).and_then(|g| g.first()));
    let mut sessions: Vec<u64> = failed.iter().map(|f| f.session).collect();
    let mut via = Vec::new();
    for f in failed {
        let chain = ix.led_by(f.session);
        sessions.extend(chain.iter().copied());
        via.extend(chain);
    }
    let via = sorted(via);
    let protocols: Vec<String> = {
        let mut p: Vec<String> = failed.iter().filter_map(|f| f.protocol.clone()).collect();
        p.sort_by_key(|x| x.to_ascii_lowercase());
        p.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        p
    };
    let protocol = protocols.join("/");
    let mut evidence = format!(
        "{} autodiscover v2 request(s) to {host} for {protocol} got no usable answer (session(s) {}): first, \
         session {}: {} answered {}.",
        failed.len(),
        session_list(&sorted(failed.iter().map(|f| f.session).collect())),
        first.session,
        describe(cx, first),
        answer_detail(cx, first, kind)
    );
    if !via.is_empty() {
        let mut from: Vec<&str> = via
            .iter()
            .filter_map(|r| ix.by_session.get(r))
            .map(|h| who(&h.host))
            .collect();
        from.dedup();
        evidence.push_str(&format!(
            " Reached by the redirect(s) of {} in session(s) {}.",
            from.join(", "),
            session_list(&via)
        ));
    }
    if let Some(authenticated) = ix.authenticated.get(host) {
        evidence.push_str(&format!(
            " Session(s) {} got a 200 only with credentials: Teams' and Outlook mobile's \
             services ask anonymously.",
            session_list(authenticated)
        ));
    }
    match good.filter(|_| !unrecovered) {
        None => evidence.push_str(&format!(
            " No anonymous request to the organisation's autodiscover.json{} got a usable \
             {protocol} Url in this capture.",
            first
                .domain
                .as_deref()
                .map(|d| format!(" for {d}"))
                .unwrap_or_default()
        )),
        Some(g) => {
            evidence.push_str(&format!(
                " Session {} got {} anonymously from {}: the failure is intermittent, was \
                 fixed, or is on a name the client tried besides the one that works.",
                g.session,
                g.published().map(|(u, _)| u).unwrap_or_default(),
                g.host
            ));
            sessions.push(g.session);
        }
    }
    evidence.push_str(&format!(" {IMPACT}"));
    Finding {
        id: "autodiscover-v2".into(),
        severity: if unrecovered {
            Severity::Error
        } else {
            Severity::Warning
        },
        title: title(kind, host, &protocol, first),
        sessions: sorted(sessions),
        evidence,
        fix: fix(kind, host),
        remedy: None,
    }
}

const IMPACT: &str = "Teams finds an on-premises mailbox's EWS through this lookup (Exchange \
     Online redirects it to the organisation's autodiscover.json, which must answer \
     anonymously): without it the Teams calendar app (\"Sorry, we couldn't get your meeting \
     details\"), delegate scheduling and meeting features fail for on-premises mailboxes, and \
     Outlook for iOS and Android cannot find the on-premises ActiveSync endpoint.";

const TEST: &str = "Check from outside (Windows PowerShell): Invoke-RestMethod -Uri \
     \"https://outlook.office365.com/autodiscover/autodiscover.json?Email=<on-premises \
     mailbox>&Protocol=EWS&RedirectCount=5\" -UserAgent Teams must print Protocol EWS and the \
     public EWS URL.";

fn title(kind: Kind, host: &str, protocol: &str, first: &AutodiscoverV2) -> String {
    match kind {
        Kind::Challenged => format!(
            "{host}'s autodiscover.json demands authentication (401): Teams and Outlook mobile cannot find {protocol}"
        ),
        Kind::Forbidden => format!(
            "{host}'s autodiscover.json refuses anonymous requests (403): Teams and Outlook mobile cannot find {protocol}"
        ),
        Kind::NotFound => format!(
            "{host} does not serve autodiscover v2 (404 on /autodiscover/autodiscover.json)"
        ),
        Kind::Html => format!(
            "{host} answers autodiscover.json with an HTML page, not Exchange's JSON"
        ),
        Kind::ServerError => format!(
            "{host}'s autodiscover.json fails with {}",
            status_text(first)
        ),
        Kind::JsonError => format!(
            "{host}'s autodiscover.json answers error {} for {protocol}",
            first.error_code().unwrap_or("(no code)")
        ),
        Kind::NoUrl => format!(
            "{host}'s autodiscover.json answers {} without a {protocol} Url",
            status_text(first)
        ),
        Kind::RedirectedAway => format!(
            "{host} redirects autodiscover.json to {}: a login page, not Exchange",
            first.redirect().unwrap_or("another page")
        ),
        Kind::InternalUrl => format!(
            "{host}'s autodiscover v2 publishes an internal {protocol} URL: {}",
            first.published().map(|(u, _)| u).unwrap_or_default()
        ),
        Kind::HttpUrl => format!(
            "{host}'s autodiscover v2 publishes a plain http:// {protocol} URL: {}",
            first.published().map(|(u, _)| u).unwrap_or_default()
        ),
    }
}

fn fix(kind: Kind, host: &str) -> String {
    let publish = format!(
        "On the reverse proxy or load balancer publishing {host}, let \
         /autodiscover/autodiscover.json* through to Exchange without pre-authentication (as \
         /autodiscover/autodiscover.svc and /ews/exchange.asmx), at least from Microsoft 365's \
         addresses."
    );
    let specific = match kind {
        Kind::Challenged | Kind::Forbidden => format!(
            "autodiscover.json must answer anonymously. Exchange Management Shell \
             (on-premises): Get-AutodiscoverVirtualDirectory | fl \
             Server,InternalUrl,ExternalUrl,*Authentication* (Exchange serves autodiscover.json \
             anonymously itself: do not turn off anonymous access on the Autodiscover virtual \
             directory in IIS). {publish}"
        ),
        Kind::NotFound => format!(
            "Autodiscover v2 needs Exchange 2013 CU19 or later (Teams' calendar app needs \
             Exchange 2016 CU3 or later): Exchange Management Shell (on-premises): \
             Get-ExchangeServer | fl Name,AdminDisplayVersion. If the version is right, the \
             path is not published: {publish}"
        ),
        Kind::Html | Kind::RedirectedAway => format!(
            "The request never reached Exchange: {host} is answered by a web host or a \
             proxy's login page. Point {host} at Exchange (DNS, the proxy's rule for \
             /autodiscover/*). {publish}"
        ),
        Kind::ServerError => format!(
            "Exchange or the proxy in front of it failed. On the Exchange front end look at \
             the MSExchangeAutodiscoverAppPool and the HttpProxy\\Autodiscover logs under \
             %ExchangeInstallPath%Logging for the request's time; on the proxy, its health \
             check and pool for /autodiscover/. {publish}"
        ),
        Kind::JsonError => "Exchange answered but refused the request: read the ErrorCode \
             and ErrorMessage quoted above. Exchange Management Shell (on-premises): \
             Get-Recipient <address> | fl RecipientTypeDetails,PrimarySmtpAddress (the mailbox \
             must be on-premises and the address its own), and Get-ExchangeServer | fl \
             Name,AdminDisplayVersion (Exchange 2013 CU19 or later)."
            .to_string(),
        Kind::NoUrl => format!(
            "The answer is not Exchange's JSON: check what answers {host} (the Server header \
             above). {publish}"
        ),
        Kind::InternalUrl | Kind::HttpUrl => "Exchange publishes the virtual directory's \
             ExternalUrl here, and Teams calls it from the Internet. Exchange Management \
             Shell (on-premises): Get-WebServicesVirtualDirectory | fl \
             Server,InternalUrl,ExternalUrl; Set-WebServicesVirtualDirectory -Identity \
             \"<server>\\EWS (Default Web Site)\" -ExternalUrl \
             https://<public name>/EWS/Exchange.asmx (for ActiveSync: \
             Set-ActiveSyncVirtualDirectory -ExternalUrl \
             https://<public name>/Microsoft-Server-ActiveSync), a public https name in the \
             certificate, on every server; then re-run the Hybrid Configuration Wizard."
            .to_string(),
    };
    format!("{specific} {TEST}")
}

fn loop_finding(
    cx: &Context,
    ix: &Index,
    first: &AutodiscoverV2,
    walk: &[u64],
    recovered: bool,
) -> Finding {
    let path: Vec<String> = walk
        .iter()
        .filter_map(|s| ix.by_session.get(s))
        .map(|h| format!("{} ({})", who(&h.host), h.session))
        .collect();
    let what = first
        .domain
        .as_deref()
        .map_or_else(String::new, |d| format!(" for {d}"));
    let protocol = first.protocol.as_deref().unwrap_or("");
    Finding {
        id: "autodiscover-v2".into(),
        severity: if recovered {
            Severity::Warning
        } else {
            Severity::Error
        },
        title: format!("autodiscover v2 redirects in a loop{what} ({protocol})"),
        sessions: sorted(walk.to_vec()),
        evidence: format!(
            "{} was redirected from request to request ({} in the capture) until it came back to an endpoint it had visited: {}. {} {IMPACT}",
            describe(cx, first),
            walk.len(),
            path.join(" -> "),
            if recovered {
                "Another request for the same domain and protocol got a usable Url."
            } else {
                "No request for the same domain and protocol got a usable Url in this capture."
            }
        ),
        fix: format!(
            "Exchange Online and on-premises Exchange each send the mailbox to the other: the \
             mailbox objects disagree. Exchange Management Shell (on-premises): Get-Recipient \
             <address> | fl RecipientTypeDetails,RemoteRoutingAddress (a mailbox moved to the \
             cloud is a RemoteMailbox); Exchange Online PowerShell: Get-Recipient <address> | \
             fl RecipientTypeDetails,ExternalEmailAddress (an on-premises mailbox is a \
             MailUser); both sides: Get-OrganizationRelationship | fl \
             Name,DomainNames,TargetAutodiscoverEpr,Enabled, or re-run the Hybrid \
             Configuration Wizard. {TEST}"
        ),
        remedy: None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_no_token, run, S};
    use super::*;

    const EXO: &str = "https://outlook.office365.com/autodiscover/autodiscover.json?Email=user%40contoso.com&Protocol=EWS";
    const ONPREM: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.json?Email=user%40contoso.com&Protocol=EWS&RedirectCount=1";

    fn redirect(id: u64) -> S {
        S::new(id, "GET", EXO, 302)
            .resp_header("Content-Type", "text/html; charset=utf-8")
            .resp_header("Location", ONPREM)
            .resp_body("<html><head><title>Object moved</title></head></html>")
    }

    fn ok(id: u64, url: &str) -> S {
        S::new(id, "GET", ONPREM, 200)
            .resp_header("Content-Type", "application/json; charset=utf-8")
            .resp_body(&format!(r#"{{"Protocol":"EWS","Url":"{url}"}}"#))
    }

    #[test]
    fn a_401_on_premises_is_an_error_with_the_redirect_that_led_there() {
        let f = run(
            check,
            vec![
                redirect(3),
                S::new(4, "GET", ONPREM, 401).offers(&["Negotiate", "NTLM"]),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].id.as_str(), f[0].severity),
            ("autodiscover-v2", Severity::Error)
        );
        assert_eq!(f[0].sessions, vec![3, 4]);
        assert!(
            f[0].title.contains("demands authentication (401)"),
            "{}",
            f[0].title
        );
        assert!(
            f[0].evidence.contains("offering Negotiate, NTLM"),
            "{}",
            f[0].evidence
        );
        assert!(f[0]
            .evidence
            .contains("redirect(s) of Exchange Online in session(s) 3."));
        assert!(f[0].evidence.contains("an address in contoso.com"));
        assert!(!f[0].evidence.contains("user@contoso.com"));
        assert!(f[0].fix.contains("Get-AutodiscoverVirtualDirectory"));
        assert!(f[0].fix.contains("-UserAgent Teams"));
        assert_no_token(&f);
    }

    #[test]
    fn a_401_then_an_anonymous_200_is_a_warning_but_an_authenticated_200_is_not_a_recovery() {
        let f = run(
            check,
            vec![
                S::new(4, "GET", ONPREM, 401).offers(&["Negotiate", "NTLM"]),
                ok(5, "https://mail.contoso.com/EWS/Exchange.asmx"),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].sessions, vec![4, 5]);
        let f = run(
            check,
            vec![
                S::new(4, "GET", ONPREM, 401).offers(&["Negotiate", "NTLM"]),
                ok(5, "https://mail.contoso.com/EWS/Exchange.asmx")
                    .req_header("Authorization", "NTLM TlRMTVNTUAADAAAA"),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].evidence.contains("only with credentials"),
            "{}",
            f[0].evidence
        );
        // Another of the organisation's names answered: a warning on the one that did not.
        let root = "https://contoso.com/autodiscover/autodiscover.json?Email=user%40contoso.com&Protocol=EWS";
        let f = run(
            check,
            vec![
                S::new(1, "GET", root, 200)
                    .resp_header("Content-Type", "text/html")
                    .resp_body("<html><title>Contoso</title></html>"),
                redirect(2),
                ok(3, "https://mail.contoso.com/EWS/Exchange.asmx"),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].evidence.contains("from autodiscover.contoso.com"),
            "{}",
            f[0].evidence
        );
        // Exchange Online answering a cloud mailbox of the same domain is not a recovery.
        let f = run(
            check,
            vec![
                redirect(1),
                S::new(2, "GET", ONPREM, 401).offers(&["Negotiate", "NTLM"]),
                S::new(3, "GET", EXO, 200).resp_body(
                    r#"{"Protocol":"EWS","Url":"https://outlook.office365.com/EWS/Exchange.asmx"}"#,
                ),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Error);
    }

    #[test]
    fn internal_and_http_urls() {
        for (url, words) in [
            ("https://exch01/EWS/Exchange.asmx", "internal EWS URL"),
            (
                "https://exch01.contoso.local/EWS/Exchange.asmx",
                "internal EWS URL",
            ),
            ("https://10.1.2.3/EWS/Exchange.asmx", "internal EWS URL"),
            ("http://mail.contoso.com/EWS/Exchange.asmx", "plain http://"),
        ] {
            let f = run(check, vec![redirect(1), ok(2, url)]);
            assert_eq!(f.len(), 1, "{url}: {f:#?}");
            assert_eq!(f[0].severity, Severity::Error);
            assert!(f[0].title.contains(words), "{}", f[0].title);
            assert!(f[0].fix.contains("Set-WebServicesVirtualDirectory"));
        }
    }

    #[test]
    fn not_found_html_server_error_json_error_and_login_redirects() {
        let cases: Vec<(S, &str)> = vec![
            (S::new(2, "GET", ONPREM, 404), "404"),
            (
                S::new(2, "GET", ONPREM, 200)
                    .resp_header("Content-Type", "text/html")
                    .resp_header("Server", "nginx/1.24.0")
                    .resp_body("<html><head><title>Contoso</title></head></html>"),
                "HTML page",
            ),
            (S::new(2, "GET", ONPREM, 503), "HTTP 503"),
            (
                S::new(2, "GET", ONPREM, 500)
                    .resp_body(r#"{"ErrorCode":"InternalServerError","ErrorMessage":"x"}"#),
                "error InternalServerError",
            ),
            (
                S::new(2, "GET", ONPREM, 302)
                    .resp_header("Location", "https://autodiscover.contoso.com/my.policy"),
                "redirects autodiscover.json to https://autodiscover.contoso.com/my.policy",
            ),
        ];
        for (s, words) in cases {
            let f = run(check, vec![redirect(1), s]);
            assert_eq!(f.len(), 1, "{words}: {f:#?}");
            assert_eq!(f[0].severity, Severity::Error);
            assert!(f[0].title.contains(words), "{}", f[0].title);
            assert_eq!(f[0].sessions, vec![1, 2]);
        }
    }

    #[test]
    fn a_redirect_loop() {
        let back = "https://outlook.office365.com/autodiscover/autodiscover.json?Email=user%40contoso.com&Protocol=EWS&RedirectCount=2";
        let f = run(
            check,
            vec![
                redirect(1),
                S::new(2, "GET", ONPREM, 302).resp_header("Location", back),
                S::new(3, "GET", back, 302).resp_header("Location", ONPREM),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].title.contains("loop for contoso.com (EWS)"),
            "{}",
            f[0].title
        );
        assert_eq!(f[0].sessions, vec![1, 2, 3]);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].fix.contains("Get-OrganizationRelationship"));
    }

    /// What must not trigger it.
    #[test]
    fn healthy_chains_and_what_is_not_judged_raise_nothing() {
        // EXO 302 -> on-premises 200 with a public https Url.
        assert!(run(
            check,
            vec![
                redirect(1),
                ok(2, "https://mail.contoso.com/EWS/Exchange.asmx")
            ]
        )
        .is_empty());
        // An Exchange Online mailbox answered by Exchange Online itself.
        assert!(run(
            check,
            vec![S::new(1, "GET", EXO, 200).resp_body(
                r#"{"Protocol":"EWS","Url":"https://outlook.office365.com/EWS/Exchange.asmx"}"#
            )]
        )
        .is_empty());
        // REST is not served on-premises: its 400 InvalidProtocol is no finding.
        assert!(run(
            check,
            vec![S::new(
                1,
                "GET",
                "https://autodiscover.contoso.com/autodiscover/autodiscover.json?Email=a%40contoso.com&Protocol=REST",
                400
            )
            .resp_body(r#"{"ErrorCode":"InvalidProtocol","ErrorMessage":"The given protocol value 'REST' is invalid."}"#)]
        )
        .is_empty());
        // Aborted: no response.
        assert!(run(check, vec![S::new(1, "GET", ONPREM, 200).no_response()]).is_empty());
        // Autodiscover POX and EWS are not autodiscover v2.
        assert!(run(
            check,
            vec![S::new(
                1,
                "POST",
                "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                401
            )
            .offers(&["Negotiate"])]
        )
        .is_empty());
        // Exchange Online's own 401 is not the organisation's autodiscover.json.
        assert!(run(check, vec![S::new(1, "GET", EXO, 401).offers(&["Bearer"])]).is_empty());
        // The same retry twice is two EXO redirects, not a loop.
        assert!(run(
            check,
            vec![
                redirect(1),
                ok(2, "https://mail.contoso.com/EWS/Exchange.asmx"),
                redirect(3),
                ok(4, "https://mail.contoso.com/EWS/Exchange.asmx"),
            ]
        )
        .is_empty());
    }

    /// Many requests cost `n log n`, not `n²`: redirects whose targets never come, each to
    /// its own endpoint, and 404s from as many hosts (one finding each).
    #[test]
    fn many_hosts_and_unfollowed_redirects() {
        let mut sessions = Vec::new();
        for i in 0..2_000u64 {
            sessions.push(
                S::new(2 * i + 1, "GET", EXO, 302).resp_header(
                    "Location",
                    &format!("https://h{i}.contoso.com/autodiscover/autodiscover.json?Email=a%40contoso.com&Protocol=EWS"),
                ),
            );
            sessions.push(S::new(
                2 * i + 2,
                "GET",
                &format!("https://x{i}.contoso.com/autodiscover/autodiscover.json?Email=a%40contoso.com&Protocol=EWS"),
                404,
            ));
        }
        let f = run(check, sessions);
        assert_eq!(f.len(), 2_000);
        assert!(f
            .iter()
            .all(|f| f.sessions.len() == 1 && f.severity == Severity::Error));
    }

    /// The 401 is this rule's: hma-not-advertised yields it (autodiscover.json must be
    /// anonymous; a Bearer offer there would not help Teams).
    #[test]
    fn hma_not_advertised_yields_the_v2_401() {
        let a = super::super::testkit::build(vec![
            redirect(1),
            S::new(2, "GET", ONPREM, 401).offers(&["Negotiate", "NTLM"]),
        ]);
        let ids: Vec<&str> = a.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, vec!["autodiscover-v2"]);
    }

    #[test]
    fn published_urls_for_spn_prediction() {
        let a = super::super::testkit::build(vec![
            redirect(1),
            ok(2, "https://mail.contoso.com/EWS/Exchange.asmx"),
        ]);
        let cx = a.context();
        let urls: Vec<(&str, u64)> = cx.v2_published_urls().collect();
        assert_eq!(
            urls,
            vec![("https://mail.contoso.com/EWS/Exchange.asmx", 2)]
        );
    }
}
