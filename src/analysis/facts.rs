//! Facts computed once for the report and the page: every AADSTS code seen per resource, and
//! what each session showed of authentication (the labels of the sequence diagrams).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::auth::{aadsts, events_of_session, Event, TokenOutcome};
use crate::flows::{Flow, Resource};

/// One AADSTS code seen for one resource.
#[derive(Debug, Clone, Serialize)]
pub struct AadstsSeen {
    pub code: u32,
    pub count: usize,
    pub summary: String,
    pub resource: Option<String>,
    pub sessions: Vec<u64>,
}

/// Every AADSTS code seen, per resource: the resource from the login in the same session,
/// else the one the error message names.
pub(super) fn aadsts_seen(events: &[Event], flows: &[Flow]) -> Vec<AadstsSeen> {
    let mut login_resource: BTreeMap<u64, String> = BTreeMap::new();
    for e in events {
        if let Event::Login(l) = e {
            if let Some(r) = l.resource.as_deref().and_then(Resource::parse) {
                login_resource.insert(l.session, r.to_string());
            }
        }
    }
    // Results whose own session named no resource take the flow's.
    for f in flows {
        for a in &f.attempts {
            if let Some(s) = a.result {
                login_resource
                    .entry(s)
                    .or_insert_with(|| f.resource.to_string());
            }
        }
    }
    let mut seen: BTreeMap<(u32, Option<String>), Vec<u64>> = BTreeMap::new();
    for e in events {
        let Event::TokenResult(r) = e else { continue };
        let TokenOutcome::AadError(err) = &r.outcome else {
            continue;
        };
        let resource = login_resource.get(&r.session).cloned().or_else(|| {
            err.resource_named
                .as_deref()
                .and_then(Resource::parse)
                .map(|r| r.to_string())
        });
        for code in &err.codes {
            seen.entry((*code, resource.clone()))
                .or_default()
                .push(r.session);
        }
    }
    seen.into_iter()
        .map(|((code, resource), mut sessions)| {
            sessions.sort_unstable();
            sessions.dedup();
            AadstsSeen {
                code,
                count: sessions.len(),
                summary: aadsts::lookup(code)
                    .map(|i| i.summary.to_string())
                    .unwrap_or_else(|| "not in traceadal's catalog".to_string()),
                resource,
                sessions,
            }
        })
        .collect()
}

/// The facts about one session that the diagrams label arrows with.
#[derive(Debug, Clone, Default)]
pub struct SessionFacts {
    /// An authorize or token request, or an answer from an authority.
    pub entra: bool,
    pub aadsts: Vec<u32>,
    /// A Bearer challenge was offered (`true` when it carried `authorization_uri`).
    pub bearer: Option<bool>,
    /// Other schemes offered with a 401.
    pub schemes: Vec<String>,
    /// `x-ms-diagnostics` code.
    pub diagnostic: Option<String>,
    pub token_issued: bool,
}

impl SessionFacts {
    /// The arrow's label: schemes offered, `x-ms-diagnostics` code, token issued.
    pub fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        match self.bearer {
            Some(true) => parts.push("Bearer+authorization_uri".to_string()),
            Some(false) => parts.push("Bearer".to_string()),
            None if !self.schemes.is_empty() => parts.push(self.schemes.join(",")),
            None => {}
        }
        if let Some(d) = &self.diagnostic {
            parts.push(format!("diag {d}"));
        }
        if self.token_issued {
            parts.push("token issued".to_string());
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }
}

/// The facts of one session: `None` when it has no auth event. `events` is sorted by session,
/// as [`super::Analysis::events`] is, so a session's events are found by binary search.
///
/// Asked per drawn session, not built for every session: a map of every session with an
/// event held 17 MiB of the 100k-session HAR's peak (86 000 sessions) for the sessions the
/// diagrams draw (docs/performance.md).
pub(super) fn of_session(events: &[Event], session: u64) -> Option<SessionFacts> {
    let own = events_of_session(events, session);
    if own.is_empty() {
        return None;
    }
    let mut f = SessionFacts::default();
    for e in own {
        match e {
            Event::Login(_) => f.entra = true,
            Event::TokenResult(r) => {
                f.entra = true;
                match &r.outcome {
                    TokenOutcome::AadError(err) => {
                        for c in &err.codes {
                            if !f.aadsts.contains(c) {
                                f.aadsts.push(*c);
                            }
                        }
                    }
                    TokenOutcome::Issued { .. } => f.token_issued = true,
                }
            }
            Event::Challenge(c) => {
                f.bearer = c
                    .bearer()
                    .map(|b| b.authorization_uri.is_some())
                    .or_else(|| {
                        c.schemes.iter().any(|s| s.is("bearer")).then(|| {
                            c.schemes
                                .iter()
                                .any(|s| s.param("authorization_uri").is_some())
                        })
                    });
                f.schemes = c
                    .schemes
                    .iter()
                    .filter(|s| !s.is("bearer"))
                    .map(|s| s.name.clone())
                    .collect();
                if let Some(d) = &c.diagnostics {
                    f.diagnostic = Some(d.code.clone());
                }
            }
            Event::Diagnostic { diagnostic, .. } => f.diagnostic = Some(diagnostic.code.clone()),
            _ => {}
        }
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Redactor;

    #[test]
    fn facts_note_names_the_challenge_and_the_outcome() {
        let f = SessionFacts {
            bearer: Some(true),
            diagnostic: Some("2000003".into()),
            ..SessionFacts::default()
        };
        assert_eq!(
            f.note().as_deref(),
            Some("Bearer+authorization_uri · diag 2000003")
        );
        assert_eq!(SessionFacts::default().note(), None);
        // A note must not read as a credential to the redaction layer.
        let n = f.note().unwrap_or_default();
        assert_eq!(Redactor::default().text(&n), n);
    }
}
