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
use crate::auth::{AadError, Challenge, Claims, DelegateCheck, Event, GatewaySign, TokenOutcome};
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
    pub tenant_name: Option<String>,
    pub codes: Vec<u32>,
}

impl<'a> Context<'a> {
    pub fn new(sessions: &'a [SessionSummary], events: &'a [Event], flows: &'a [Flow]) -> Self {
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
        self.events().find_map(|e| match e {
            Event::BearerPresented {
                session: s, claims, ..
            } if *s == session => Some(&**claims),
            _ => None,
        })
    }

    /// Every `GetDelegate` answer (or refusal) the capture holds.
    pub fn delegate_checks(&self) -> impl Iterator<Item = &'a DelegateCheck> + 'a {
        self.events().filter_map(|e| match e {
            Event::Delegate(d) => Some(&**d),
            _ => None,
        })
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
