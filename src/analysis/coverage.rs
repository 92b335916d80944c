//! What a capture can show: whether it holds decrypted traffic to the hosts a diagnosis of
//! Outlook and Teams sign-in needs (Exchange on-premises, Exchange Online, Entra ID), and
//! which of those hosts it saw only as tunnels it never decrypted.
//!
//! A capture taken with HTTPS decryption off holds `CONNECT` tunnels and nothing inside
//! them: no rule can fire, and without this the verdict would say "OK" about a machine the
//! capture never saw. The verdict uses it to say "inconclusive" instead, and what to capture
//! again.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::auth::federation::idp_kind;
use crate::auth::login::is_authority_host;
use crate::auth::Event;
use crate::capture::{SessionError, SessionSummary};
use crate::rules::exchange_hosts;

/// The part a host plays in the diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Entra ID (`login.microsoftonline.com`, ...).
    EntraId,
    /// Exchange Online (`outlook.office365.com`, ...).
    ExchangeOnline,
    /// The organisation's Exchange (autodiscover, a virtual directory, a host in the same
    /// domain as its autodiscover).
    Exchange,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::EntraId => "Entra ID",
            Role::ExchangeOnline => "Exchange Online",
            Role::Exchange => "Exchange",
        }
    }
}

/// Tunnels to one host that were established and never decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlindHost {
    pub host: String,
    pub role: Role,
    pub tunnels: usize,
    pub first_session: u64,
}

/// What the capture can show (report `coverage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Sessions read.
    pub sessions: usize,
    /// Decrypted sessions to Exchange, Exchange Online or Entra ID, or carrying an auth
    /// event: what the diagnosis rests on.
    pub relevant_sessions: usize,
    /// Decrypted sessions to Entra ID.
    pub entra_sessions: usize,
    /// Hosts the diagnosis needs that the capture saw only as undecrypted tunnels, Entra ID
    /// first.
    pub blind: Vec<BlindHost>,
    /// Problems that cost whole sessions or the rest of the file: the capture is cut short,
    /// or sessions could not be read. What was lost may hold the failure.
    pub lost: Vec<String>,
    /// Read sessions the diagnosis needs whose bodies were not fully read (truncated, over
    /// the body cap, undecodable), ascending.
    pub incomplete: Vec<u64>,
    /// Of `incomplete`, the sessions whose bodies the capture never recorded (a NetLog
    /// without raw bytes), ascending (not in the report JSON: the capture errors say it).
    #[serde(skip)]
    pub unrecorded: Vec<u64>,
    /// CONNECTs to a host the diagnosis needs that were refused (a proxy's 407 or 403): the
    /// client tried to reach it, and the answer is in the capture (not in the report JSON).
    #[serde(skip)]
    pub refused_tunnels: usize,
}

impl Coverage {
    /// The blind hosts of one role.
    pub fn blind_of(&self, role: Role) -> impl Iterator<Item = &BlindHost> {
        self.blind.iter().filter(move |b| b.role == role)
    }

    /// "8 tunnels to login.microsoftonline.com (first session 3), 2 to ..."
    pub fn describe_blind<'a>(blind: impl Iterator<Item = &'a BlindHost>) -> String {
        let parts: Vec<String> = blind
            .map(|b| {
                format!(
                    "{} tunnel(s) to {} (first session {})",
                    b.tunnels, b.host, b.first_session
                )
            })
            .collect();
        parts.join(", ")
    }
}

/// Measure what `sessions` (sorted by id) and their `events` can show.
pub fn measure(
    sessions: &[SessionSummary],
    events: &[Event],
    problems: &[SessionError],
) -> Coverage {
    // Sessions whose events belong to the diagnosis. A Bearer token sent to any API, a 401
    // that offers no hybrid modern auth, or a Windows sign-in (Negotiate, NTLM) to an
    // intranet site, is every web application's: not evidence that the capture saw
    // Exchange or Entra ID. A Windows sign-in counts on a federation server (AD FS); on
    // Exchange's own hosts their role counts the session. (Sorted lists and a map of each
    // distinct host's role, rather than ordered sets and the role worked out per session:
    // this runs once per capture on the serial end of the analysis, over every session.)
    let mut with_event: Vec<u64> = events
        .iter()
        .filter(|e| match e {
            Event::BearerPresented { .. } => false,
            Event::Challenge(c) => c.bearer().is_some_and(|b| b.authorization_uri.is_some()),
            Event::WindowsAuth(w) => idp_kind(&w.host, &w.url).is_some(),
            _ => true,
        })
        .map(Event::session)
        .collect();
    with_event.sort_unstable();
    with_event.dedup();
    let exchange = exchange_hosts(sessions);
    let domains: Vec<&str> = exchange
        .iter()
        .filter_map(|h| h.strip_prefix("autodiscover."))
        .collect();
    let role_of = |host: &str| -> Option<Role> {
        if is_authority_host(host) {
            Some(Role::EntraId)
        } else if is_exchange_online(host) {
            Some(Role::ExchangeOnline)
        } else if exchange.contains(host) || same_domain(host, &domains) {
            Some(Role::Exchange)
        } else {
            None
        }
    };
    let mut roles: HashMap<&str, Option<Role>, foldhash::fast::RandomState> = HashMap::default();
    let mut role = |host| *roles.entry(host).or_insert_with(|| role_of(host));
    let mut decrypted_hosts: HashSet<&str, foldhash::fast::RandomState> = HashSet::default();
    let mut relevant: Vec<u64> = Vec::new();
    let mut coverage = Coverage {
        sessions: sessions.len(),
        ..Coverage::default()
    };
    for s in sessions.iter().filter(|s| !s.flags.tunnel) {
        let host = s.host.as_deref();
        if let Some(h) = host {
            decrypted_hosts.insert(h);
        }
        let r = host.and_then(&mut role);
        if r.is_some() || with_event.binary_search(&s.id).is_ok() {
            coverage.relevant_sessions += 1;
            relevant.push(s.id);
        }
        if r == Some(Role::EntraId) {
            coverage.entra_sessions += 1;
        }
    }
    relevant.sort_unstable();
    // Established tunnels (a refused CONNECT is not blindness, it is an answer) to a needed
    // host with nothing decrypted to that host.
    let mut blind: BTreeMap<(Role, &str), (usize, u64)> = BTreeMap::new();
    for s in sessions.iter().filter(|s| s.flags.tunnel) {
        let Some(host) = s.host.as_deref() else {
            continue;
        };
        if decrypted_hosts.contains(host) {
            continue;
        }
        if !s.status.is_some_and(|c| (200..300).contains(&c)) {
            if role(host).is_some() {
                coverage.refused_tunnels += 1;
            }
            continue;
        }
        if let Some(r) = role(host) {
            let e = blind.entry((r, host)).or_insert((0, s.id));
            e.0 += 1;
        }
    }
    // A session is incomplete once, and unrecorded when its first problem says so.
    let mut incomplete: HashSet<u64, foldhash::fast::RandomState> = HashSet::default();
    for p in problems {
        match p.session {
            Some(id) if sessions.binary_search_by_key(&id, |s| s.id).is_ok() => {
                if relevant.binary_search(&id).is_ok() && incomplete.insert(id) {
                    coverage.incomplete.push(id);
                    if p.message == crate::auth::UNRECORDED {
                        coverage.unrecorded.push(id);
                    }
                }
            }
            _ => coverage.lost.push(p.to_string()),
        }
    }
    coverage.incomplete.sort_unstable();
    coverage.unrecorded.sort_unstable();
    coverage.blind = blind
        .into_iter()
        .map(|((role, host), (tunnels, first_session))| BlindHost {
            host: host.to_string(),
            role,
            tunnels,
            first_session,
        })
        .collect();
    coverage
}

/// Exchange Online's client endpoints.
fn is_exchange_online(host: &str) -> bool {
    matches!(
        host,
        "outlook.office365.com" | "outlook.office.com" | "autodiscover-s.outlook.com"
    ) || host.ends_with(".outlook.office365.com")
}

/// `host` is in the domain of a known Exchange host's autodiscover name
/// (`mail.contoso.com` beside `autodiscover.contoso.com`).
fn same_domain(host: &str, domains: &[&str]) -> bool {
    domains.iter().any(|domain| {
        host == *domain
            || host
                .strip_suffix(domain)
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::S;

    fn tunnel(id: u64, host: &str, status: u16) -> SessionSummary {
        let mut s = S::new(id, "CONNECT", &format!("{host}:443"), status);
        s.0.flags.tunnel = true;
        SessionSummary::of(&s.0)
    }

    fn plain(id: u64, url: &str) -> SessionSummary {
        SessionSummary::of(&S::new(id, "GET", url, 200).0)
    }

    #[test]
    fn undecrypted_tunnels_to_needed_hosts_are_blind_and_decrypted_ones_are_not() {
        let sessions = vec![
            tunnel(1, "autodiscover.contoso.com", 200),
            tunnel(2, "login.microsoftonline.com", 200),
            tunnel(3, "login.microsoftonline.com", 200),
            tunnel(4, "mail.contoso.com", 200),
            tunnel(5, "outlook.office365.com", 200),
            tunnel(6, "www.bing.com", 200),
            tunnel(7, "outlook.office.com", 200),
            plain(8, "https://outlook.office.com/owa/"),
            tunnel(9, "login.windows.net", 502),
            plain(10, "http://ctldl.windowsupdate.com/x.cab"),
        ];
        let c = measure(&sessions, &[], &[]);
        assert_eq!(
            (c.sessions, c.relevant_sessions, c.entra_sessions),
            (10, 1, 0)
        );
        let blind: Vec<(&str, Role, usize, u64)> = c
            .blind
            .iter()
            .map(|b| (b.host.as_str(), b.role, b.tunnels, b.first_session))
            .collect();
        assert_eq!(
            blind,
            vec![
                ("login.microsoftonline.com", Role::EntraId, 2, 2),
                ("outlook.office365.com", Role::ExchangeOnline, 1, 5),
                ("autodiscover.contoso.com", Role::Exchange, 1, 1),
                ("mail.contoso.com", Role::Exchange, 1, 4),
            ]
        );
    }

    #[test]
    fn a_token_sent_to_any_api_is_not_evidence_of_exchange() {
        let s = S::new(1, "GET", "https://api.example.com/users", 200)
            .bearer(r#"{"aud":"api://example"}"#);
        let events = crate::auth::events_of(&s.0, &crate::capture::DecodeLimits::default());
        assert!(!events.is_empty(), "the token is an event");
        let c = measure(&[SessionSummary::of(&s.0)], &events, &[]);
        assert_eq!(c.relevant_sessions, 0);
    }

    /// A Windows sign-in to an intranet site (SharePoint here) is every intranet
    /// application's, as a Bearer token is every API's: a capture holding only that cannot
    /// show an Outlook or Teams failure. The same handshake with AD FS is the federation
    /// sign-in the diagnosis reads, and with Exchange its host counts.
    #[test]
    fn a_windows_sign_in_counts_on_ad_fs_and_exchange_not_on_an_intranet_site() {
        use crate::auth::negotiate::testkit::{b64, ntlm1, ntlm2, ntlm3};
        let handshake = |first: u64, url: &str| {
            vec![
                S::new(first, "GET", url, 401)
                    .req_header("Authorization", &format!("NTLM {}", b64(&ntlm1())))
                    .resp_header(
                        "WWW-Authenticate",
                        &format!("NTLM {}", b64(&ntlm2("CONTOSO", "contoso.local", "sp01"))),
                    ),
                S::new(first + 1, "GET", url, 200).req_header(
                    "Authorization",
                    &format!("NTLM {}", b64(&ntlm3("CONTOSO", "jdoe", 330))),
                ),
            ]
        };
        let relevant = |url: &str| {
            let sessions = handshake(1, url);
            let limits = crate::capture::DecodeLimits::default();
            let events: Vec<Event> = sessions
                .iter()
                .flat_map(|s| crate::auth::events_of(&s.0, &limits))
                .collect();
            assert!(
                events.iter().any(|e| matches!(e, Event::WindowsAuth(_))),
                "{url}: the handshake is read"
            );
            let summaries: Vec<SessionSummary> =
                sessions.iter().map(|s| SessionSummary::of(&s.0)).collect();
            measure(&summaries, &events, &[]).relevant_sessions
        };
        assert_eq!(relevant("http://sharepoint.contoso.local/_api/web"), 0);
        assert_eq!(
            relevant("https://sts.contoso.com/adfs/services/trust/2005/windowstransport"),
            2
        );
        assert_eq!(relevant("https://mail.contoso.local/EWS/Exchange.asmx"), 2);
    }
}
