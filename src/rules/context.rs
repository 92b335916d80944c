//! What every rule may look at, and the queries rules share.
//!
//! Rules never call one another: a fact two rules need (every AAD error, the SPNs Entra ID
//! could not find, the `GetDelegate` answers, the claims presented in a session) is a method
//! here, computed from the earlier stages' output. Which rule yields to which is not a query
//! a rule makes either: it is data in [`super::RULES`], applied once by
//! [`super::run_all`] through [`Context::yielding`].

use std::collections::{BTreeMap, BTreeSet};

use super::sorted;
use crate::auth::aadsts::NOT_FOUND_CODES;
use crate::auth::negotiate::WindowsAuth;
use crate::auth::{
    events_of_session, AadError, AutodiscoverAnswer, AutodiscoverV2, AvailabilityJson, Challenge,
    Claims, DelegateCheck, DeviceCredential, Event, EwsAnswer, EwsCall, FederationEvent,
    GatewaySign, MapiAnswer, TokenOutcome, EXCHANGE_ONLINE_APP_ID,
};
use crate::capture::url_parts::strip_query;
use crate::capture::SessionSummary;
use crate::flows::{Flow, Resource};

/// The analysis so far, as the rules see it.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// Every session, sorted by id.
    pub sessions: &'a [SessionSummary],
    events: &'a [Event],
    pub flows: &'a [Flow],
    /// Sessions another rule has precedence over (see [`super::RuleSpec::yields_to`]):
    /// their events are invisible to the rule this context is given to.
    yielded: Option<&'a BTreeSet<u64>>,
}

/// Beyond this many seconds between the client's clock and the server's, tokens look
/// expired or not yet valid to one of them (Entra ID and Exchange allow five minutes).
pub const CLOCK_SKEW_TOLERANCE: i64 = 300;

/// One host's clock against the capture's ([`Context::clock_skews`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostClock {
    pub host: String,
    /// The capture's clock minus the host's, seconds (median): positive when the client is
    /// ahead.
    pub delta: i64,
    /// Every session beyond the tolerance, the same way.
    pub skewed: bool,
    /// The median within the tolerance.
    pub agrees: bool,
    /// The sessions measured.
    pub sessions: Vec<u64>,
}

/// A Bearer token presented to a non-login host: its claims, never the token.
#[derive(Clone, Copy)]
pub struct Presented<'a> {
    pub session: u64,
    pub url: &'a str,
    pub claims: &'a Claims,
    /// The answer's `Date` header, Unix seconds.
    pub server_date: Option<i64>,
}

/// One SPN Entra could not find, with what proves it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MissingSpn {
    /// `https://host/`.
    pub spn: String,
    /// The resources as clients asked for them (http and https forms, case as seen).
    pub resources: Vec<Resource>,
    /// Sessions where Entra answered 500011 / 50001 for it.
    pub error_sessions: Vec<u64>,
    /// Every session of the flows concerned.
    pub sessions: Vec<u64>,
    /// Tenant identifier for the fix script, when known.
    pub tenant: Option<String>,
    /// The tenant's GUID when the capture shows it (`Flow::tenant_guid`), which may differ
    /// from `tenant` when that is a domain.
    pub tenant_id: Option<String>,
    pub tenant_name: Option<String>,
    pub codes: Vec<u32>,
}

/// A URL the capture shows clients will use: where it was published and by which session.
/// Autodiscover's POX and SOAP answers are one source; another (Autodiscover v2's `Url`, a
/// free/busy target) is one more arm of [`Context::published_endpoints`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedEndpoint {
    pub url: String,
    pub session: u64,
    /// What published it, for the evidence: `autodiscover EXHTTP EwsUrl`, ...
    pub source: String,
}

impl<'a> Context<'a> {
    /// `events` are in session order (the collector sorts them).
    pub fn new(sessions: &'a [SessionSummary], events: &'a [Event], flows: &'a [Flow]) -> Self {
        debug_assert!(events.is_sorted_by_key(Event::session));
        Context {
            sessions,
            events,
            flows,
            yielded: None,
        }
    }

    /// The same context without the events of `sessions`: what a rule sees when another
    /// rule has already explained those sessions.
    pub fn yielding(&self, sessions: &'a BTreeSet<u64>) -> Context<'a> {
        Context {
            yielded: Some(sessions),
            ..*self
        }
    }

    /// Every event the rule may see, in session order.
    pub fn events(&self) -> impl Iterator<Item = &'a Event> + 'a {
        let yielded = self.yielded;
        self.events
            .iter()
            .filter(move |e| yielded.is_none_or(|y| !y.contains(&e.session())))
    }

    /// The flows holding any of `sessions`.
    pub fn flows_with(&self, sessions: &'a [u64]) -> impl Iterator<Item = &'a Flow> + 'a {
        self.flows
            .iter()
            .filter(move |f| sessions.iter().any(|s| f.sessions.binary_search(s).is_ok()))
    }

    /// The flows no rule with precedence has explained: none of their sessions is cited by
    /// a finding this context yields to.
    pub fn unexplained_flows(&self) -> impl Iterator<Item = &'a Flow> + 'a {
        let yielded = self.yielded;
        self.flows
            .iter()
            .filter(move |f| yielded.is_none_or(|y| !f.sessions.iter().any(|s| y.contains(s))))
    }

    pub fn session(&self, id: u64) -> Option<&'a SessionSummary> {
        self.sessions
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .and_then(|i| self.sessions.get(i))
    }

    /// `METHOD scheme://host/path` of a session, without the query string: queries carry
    /// codes and hints that do not belong in a ticket.
    pub fn describe(&self, id: u64) -> String {
        match self.session(id) {
            Some(s) => format!("{} {}", s.method, strip_query(&s.url)),
            None => format!("session {id}"),
        }
    }

    /// Every AAD error in the capture with its session.
    pub fn aad_errors(&self) -> impl Iterator<Item = (u64, &'a AadError)> + 'a {
        self.events().filter_map(|e| match e {
            Event::TokenResult(r) => match &r.outcome {
                TokenOutcome::AadError(err) => Some((r.session, err)),
                TokenOutcome::Issued { .. } => None,
            },
            _ => None,
        })
    }

    /// The AAD error seen in `session`, if any.
    pub fn aad_error_at(&self, session: u64) -> Option<&'a AadError> {
        self.aad_errors()
            .find(|(s, _)| *s == session)
            .map(|(_, e)| e)
    }

    /// Every 401/403 challenge of the capture, by session.
    pub fn challenges(&self) -> impl Iterator<Item = &'a Challenge> + 'a {
        self.events().filter_map(|e| match e {
            Event::Challenge(c) => Some(&**c),
            _ => None,
        })
    }

    /// The challenge answered in `session`, if any.
    pub fn challenge_in(&self, session: u64) -> Option<&'a Challenge> {
        self.challenges().find(|c| c.session == session)
    }

    /// The claims of the Bearer token presented in `session`, if one was.
    pub fn claims_in(&self, session: u64) -> Option<&'a Claims> {
        if self.yielded.is_some_and(|y| y.contains(&session)) {
            return None;
        }
        // Rules ask this per EWS call: a scan of every event each time made it quadratic
        // (0.36 G of the 3.6 G instructions of a 10k-session capture).
        events_of_session(self.events, session)
            .iter()
            .find_map(|e| match e {
                Event::BearerPresented { claims, .. } => Some(&**claims),
                _ => None,
            })
    }

    /// Every Bearer token presented to a non-login host, in session order.
    pub fn presented(&self) -> impl Iterator<Item = Presented<'a>> + 'a {
        self.events().filter_map(|e| match e {
            Event::BearerPresented {
                session,
                url,
                claims,
                server_date,
            } => Some(Presented {
                session: *session,
                url,
                claims,
                server_date: *server_date,
            }),
            _ => None,
        })
    }

    /// Per host that answered tokens with a `Date`: the capture's clock minus the host's,
    /// in seconds (the request's start against the answer's `Date`), measured on the
    /// sessions that presented a token. A host is skewed when every one of its sessions is
    /// beyond [`CLOCK_SKEW_TOLERANCE`], the same way (one slow answer is not a skew); it
    /// agrees when its median is within it. Hosts, sorted, with their median.
    pub fn clock_skews(&self) -> Vec<HostClock> {
        let mut by_host: BTreeMap<String, Vec<(i64, u64)>> = BTreeMap::new();
        for p in self.presented() {
            let Some(s) = self.session(p.session) else {
                continue;
            };
            let (Some(at), Some(date), Some(host)) = (s.start, p.server_date, s.host.as_deref())
            else {
                continue;
            };
            by_host
                .entry(host.to_ascii_lowercase())
                .or_default()
                .push((at.timestamp() - date, p.session));
        }
        by_host
            .into_iter()
            .map(|(host, mut seen)| {
                let beyond = |d: i64| d.abs() > CLOCK_SKEW_TOLERANCE;
                let skewed = seen.iter().all(|(d, _)| beyond(*d))
                    && (seen.iter().all(|(d, _)| *d > 0) || seen.iter().all(|(d, _)| *d < 0));
                let sessions = sorted(seen.iter().map(|(_, s)| *s).collect());
                seen.sort_unstable();
                let delta = seen[seen.len() / 2].0;
                HostClock {
                    host,
                    delta,
                    skewed,
                    agrees: !beyond(delta),
                    sessions,
                }
            })
            .collect()
    }

    /// The sign-in requests that led to the AAD error answered in `session`: the logins of
    /// the flow's round whose answer it was (the answer's own session when it is a login),
    /// with the device credentials each carried (by name only).
    pub fn logins_before(&self, session: u64) -> Vec<(u64, DeviceCredential)> {
        let mut ids: Vec<u64> = self
            .flows
            .iter()
            .flat_map(|f| f.attempts.iter())
            .filter(|a| a.result == Some(session))
            .flat_map(|a| a.logins.iter().copied())
            .collect();
        ids.push(session);
        let ids = sorted(ids);
        self.events()
            .filter_map(|e| match e {
                Event::Login(l) if ids.binary_search(&l.session).is_ok() => {
                    Some((l.session, l.device))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether an EWS call comes from Exchange Online's IntraOrganizationConnector: a
    /// `GetUserAvailability` request, an `Exchange/15` user agent, or a token of Exchange
    /// Online's own app (`appid` 00000002-0000-0ff1-ce00-000000000000).
    pub fn from_exchange_online(&self, c: &EwsCall) -> bool {
        c.is_availability()
            || c.user_agent
                .as_deref()
                .is_some_and(|ua| crate::capture::ascii::starts_with_ignore_case(ua, "exchange/15"))
            || self
                .claims_in(c.session)
                .and_then(|cl| cl.appid.as_deref())
                .is_some_and(|a| a.eq_ignore_ascii_case(EXCHANGE_ONLINE_APP_ID))
    }

    /// Every `GetDelegate` answer (or refusal) the capture holds.
    pub fn delegate_checks(&self) -> impl Iterator<Item = &'a DelegateCheck> + 'a {
        self.events().filter_map(|e| match e {
            Event::Delegate(d) => Some(&**d),
            _ => None,
        })
    }

    /// Every autodiscover v2 (`autodiscover.json`) request of the capture, in session order.
    pub fn autodiscover_v2(&self) -> impl Iterator<Item = &'a AutodiscoverV2> + 'a {
        self.events().filter_map(|e| match e {
            Event::AutodiscoverV2(a) => Some(&**a),
            _ => None,
        })
    }

    /// `(url, session)` of every URL an autodiscover v2 answer published (`{"Url": ...}`), in
    /// session order: the hosts clients will ask tokens for next (Teams' and Outlook
    /// mobile's EWS or ActiveSync), for whatever predicts their SPNs.
    pub fn v2_published_urls(&self) -> impl Iterator<Item = (&'a str, u64)> + 'a {
        self.autodiscover_v2()
            .filter_map(|a| a.published().map(|(url, _)| (url, a.session)))
    }

    /// Every Negotiate/NTLM blob sent or answered, by session.
    pub fn windows_auth(&self) -> impl Iterator<Item = &'a WindowsAuth> + 'a {
        self.events().filter_map(|e| match e {
            Event::WindowsAuth(w) => Some(&**w),
            _ => None,
        })
    }

    /// Every EWS answer that failed inside (or with 403/5xx), of the answers that are read.
    pub fn ews_answers(&self) -> impl Iterator<Item = &'a EwsAnswer> + 'a {
        self.events().filter_map(|e| match e {
            Event::EwsAnswer(a) => Some(&**a),
            _ => None,
        })
    }

    /// Every failed JSON free/busy answer (OWA `service.svc` availability, Graph
    /// `getSchedule`).
    pub fn availability_json(&self) -> impl Iterator<Item = &'a AvailabilityJson> + 'a {
        self.events().filter_map(|e| match e {
            Event::AvailabilityJson(a) => Some(&**a),
            _ => None,
        })
    }

    /// Every MAPI over HTTP `Connect`/`Bind` answer and every failed MAPI answer.
    pub fn mapi_answers(&self) -> impl Iterator<Item = &'a MapiAnswer> + 'a {
        self.events().filter_map(|e| match e {
            Event::Mapi(m) => Some(&**m),
            _ => None,
        })
    }

    /// Whether a rule with precedence has explained `session` (its events are hidden).
    pub fn is_yielded(&self, session: u64) -> bool {
        self.yielded.is_some_and(|y| y.contains(&session))
    }

    /// Every Autodiscover answer (POX or SOAP, and the HTTP-level answers to those URLs)
    /// that Autodiscover gave: an answer that a device in the path gave instead (a
    /// pre-authenticating proxy's login redirect or page, a proxy's or Fiddler's own error
    /// answer, see [`Self::gateway_signs`]) is that device's, not Autodiscover's.
    pub fn autodiscover_answers(&self) -> impl Iterator<Item = &'a AutodiscoverAnswer> + 'a {
        use crate::auth::Sign;
        let devices: BTreeSet<u64> = self
            .gateway_signs()
            .filter(|g| {
                matches!(
                    g.sign,
                    Sign::LoginRedirect { .. }
                        | Sign::LoginForm
                        | Sign::ProxyAuth { .. }
                        | Sign::Blocked
                        | Sign::GatewayFailure { .. }
                )
            })
            .map(|g| g.session)
            .collect();
        self.events().filter_map(move |e| match e {
            Event::Autodiscover(a) if !devices.contains(&a.session) => Some(&**a),
            _ => None,
        })
    }

    /// Every URL the capture shows published for clients, in session order: the URLs of
    /// Autodiscover answers that gave settings, and the `Url` of autodiscover v2 answers
    /// (Teams' and Outlook mobile's EWS or ActiveSync).
    pub fn published_endpoints(&self) -> Vec<PublishedEndpoint> {
        let mut out: Vec<PublishedEndpoint> = self
            .autodiscover_answers()
            .filter(|a| a.is_settings())
            .flat_map(|a| {
                a.published.iter().map(|p| PublishedEndpoint {
                    url: p.url.clone(),
                    session: a.session,
                    source: format!("autodiscover {}", p.source),
                })
            })
            .collect();
        out.extend(self.autodiscover_v2().filter_map(|a| {
            a.published().map(|(url, protocol)| PublishedEndpoint {
                url: url.to_string(),
                session: a.session,
                source: match protocol {
                    Some(p) => format!("autodiscover v2 {p} Url"),
                    None => "autodiscover v2 Url".to_string(),
                },
            })
        }));
        out.sort_by_key(|p| p.session);
        out
    }

    /// The hosts (lower case) the capture proves Entra ID issues tokens for, or that
    /// accepted a Bearer token: a flow that ended with a token, a token issued for a
    /// resource, a Bearer presented and answered 2xx.
    pub fn bearer_proven_hosts(&self) -> BTreeSet<String> {
        let mut hosts = BTreeSet::new();
        for f in self.flows {
            if f.outcome == crate::flows::Outcome::Token && f.resource.is_url() {
                hosts.insert(f.resource.host().to_string());
            }
        }
        for e in self.events() {
            match e {
                Event::TokenResult(r) => {
                    if let TokenOutcome::Issued {
                        resource: Some(res),
                        ..
                    } = &r.outcome
                    {
                        if let Some(r) = Resource::parse(res).filter(Resource::is_url) {
                            hosts.insert(r.host().to_string());
                        }
                    }
                }
                Event::BearerPresented { session, url, .. } => {
                    let ok = self
                        .session(*session)
                        .and_then(|s| s.status)
                        .is_some_and(|st| (200..300).contains(&st));
                    if let Some(r) = Resource::parse(url).filter(|_| ok) {
                        hosts.insert(r.host().to_string());
                    }
                }
                _ => {}
            }
        }
        hosts
    }

    /// Every SPN the capture proves missing (AADSTS500011 / 50001 for a resource), sorted by
    /// SPN: from the flows, and from errors outside any flow by the name in Entra's message.
    pub fn missing_spns(&self) -> Vec<MissingSpn> {
        let mut by_spn: BTreeMap<String, MissingSpn> = BTreeMap::new();
        let mut seen_results = Vec::new();
        for flow in self.flows {
            let codes = not_found(&flow.aadsts);
            if codes.is_empty() {
                continue;
            }
            // Asked in another tenant than the challenge named: no SPN is missing there
            // (`token-wrong-tenant`), and no fix may target that tenant.
            if flow.other_tenant_asked().is_some() {
                seen_results.extend(flow.error_sessions());
                continue;
            }
            let Some(spn) = flow.resource.spn() else {
                continue;
            };
            let errors: Vec<u64> = flow
                .attempts
                .iter()
                .filter(|a| a.aadsts.iter().any(|c| NOT_FOUND_CODES.contains(c)))
                .filter_map(|a| a.result)
                .collect();
            seen_results.extend(errors.iter().copied());
            let m = by_spn.entry(spn.clone()).or_insert_with(|| MissingSpn {
                spn,
                ..MissingSpn::default()
            });
            if !m.resources.contains(&flow.resource) {
                m.resources.push(flow.resource.clone());
            }
            m.error_sessions.extend(errors);
            m.sessions.extend(flow.sessions.iter().copied());
            m.tenant = m.tenant.take().or_else(|| flow.tenant.clone());
            m.tenant_name = m.tenant_name.take().or_else(|| flow.tenant_name.clone());
            m.tenant_id = m
                .tenant_id
                .take()
                .or_else(|| flow.tenant_guid().map(str::to_string));
            add_codes(&mut m.codes, codes);
        }
        // Errors outside any flow (the login named no resource): trust the name in the message.
        for (session, error) in self.aad_errors() {
            if seen_results.contains(&session) {
                continue;
            }
            let codes = not_found(&error.codes);
            if codes.is_empty() {
                continue;
            }
            let Some(resource) = error.resource_named.as_deref().and_then(Resource::parse) else {
                continue;
            };
            let Some(spn) = resource.spn() else {
                continue;
            };
            let m = by_spn.entry(spn.clone()).or_insert_with(|| MissingSpn {
                spn,
                tenant_name: error.tenant_named.clone(),
                ..MissingSpn::default()
            });
            if !m.resources.contains(&resource) {
                m.resources.push(resource);
            }
            m.error_sessions.push(session);
            m.sessions.push(session);
            add_codes(&mut m.codes, codes);
        }
        by_spn
            .into_values()
            .map(|mut m| {
                m.error_sessions = sorted(m.error_sessions);
                m.sessions = sorted(m.sessions);
                m
            })
            .collect()
    }

    /// Every federation step of the capture (realm discovery, IdP requests, SAML responses
    /// posted back, Seamless SSO), in session order.
    pub fn federation(&self) -> impl Iterator<Item = &'a FederationEvent> + 'a {
        self.events().filter_map(|e| match e {
            Event::Federation(f) => Some(&**f),
            _ => None,
        })
    }
}

impl<'a> Context<'a> {
    /// Every sign of an intermediary (a pre-authenticating reverse proxy, the client's
    /// proxy, Fiddler's own error answers, tenant-restriction headers), by session.
    pub fn gateway_signs(&self) -> impl Iterator<Item = &'a GatewaySign> + 'a {
        self.events().filter_map(|e| match e {
            Event::Gateway(g) => Some(&**g),
            _ => None,
        })
    }
}

/// The "resource principal not found" codes among `codes`, in their order.
fn not_found(codes: &[u32]) -> Vec<u32> {
    codes
        .iter()
        .copied()
        .filter(|c| NOT_FOUND_CODES.contains(c))
        .collect()
}

fn add_codes(into: &mut Vec<u32>, codes: Vec<u32>) {
    for c in codes {
        if !into.contains(&c) {
            into.push(c);
        }
    }
}
