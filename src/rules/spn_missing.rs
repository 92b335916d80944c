//! `spn-missing`: Entra ID does not know the on-premises URL as a resource.
//!
//! Outlook asks for a token whose resource is the challenged host (`https://autodiscover.
//! contoso.com`). Entra resolves it against the service principal names of Office 365
//! Exchange Online; when no SPN matches it answers AADSTS500011 (legacy: 50001). The fix is
//! to add `https://host/` to that principal's SPNs.

use std::collections::BTreeMap;

use super::{sorted, Context, Finding, Severity};
use crate::auth::{AadError, Event, TokenOutcome};
use crate::flows::Resource;

/// AADSTS codes that mean "resource principal not found".
pub const NOT_FOUND_CODES: &[u32] = &[500011, 50001];

/// The AppId of Office 365 Exchange Online, whose SPNs are fixed.
pub const EXCHANGE_ONLINE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";

/// One SPN Entra could not find, with what proves it.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Every SPN the capture proves missing, sorted by SPN.
pub fn missing_spns(cx: &Context) -> Vec<MissingSpn> {
    let mut by_spn: BTreeMap<String, MissingSpn> = BTreeMap::new();
    let mut seen_results = Vec::new();
    for flow in cx.flows {
        let codes: Vec<u32> = flow
            .aadsts
            .iter()
            .copied()
            .filter(|c| NOT_FOUND_CODES.contains(c))
            .collect();
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
        let entry = by_spn.entry(spn.clone()).or_insert_with(|| MissingSpn {
            spn,
            resources: Vec::new(),
            error_sessions: Vec::new(),
            sessions: Vec::new(),
            tenant: None,
            tenant_name: None,
            codes: Vec::new(),
        });
        if !entry.resources.contains(&flow.resource) {
            entry.resources.push(flow.resource.clone());
        }
        entry.error_sessions.extend(errors);
        entry.sessions.extend(flow.sessions.iter().copied());
        entry.tenant = entry.tenant.take().or_else(|| flow.tenant.clone());
        entry.tenant_name = entry
            .tenant_name
            .take()
            .or_else(|| flow.tenant_name.clone());
        for c in codes {
            if !entry.codes.contains(&c) {
                entry.codes.push(c);
            }
        }
    }
    // Errors outside any flow (the login named no resource): trust the name in the message.
    for (session, error) in aad_errors(cx) {
        if seen_results.contains(&session) {
            continue;
        }
        let codes: Vec<u32> = error
            .codes
            .iter()
            .copied()
            .filter(|c| NOT_FOUND_CODES.contains(c))
            .collect();
        if codes.is_empty() {
            continue;
        }
        let Some(resource) = error.resource_named.as_deref().and_then(Resource::parse) else {
            continue;
        };
        let Some(spn) = resource.spn() else {
            continue;
        };
        let entry = by_spn.entry(spn.clone()).or_insert_with(|| MissingSpn {
            spn,
            resources: Vec::new(),
            error_sessions: Vec::new(),
            sessions: Vec::new(),
            tenant: None,
            tenant_name: error.tenant_named.clone(),
            codes: Vec::new(),
        });
        if !entry.resources.contains(&resource) {
            entry.resources.push(resource);
        }
        entry.error_sessions.push(session);
        entry.sessions.push(session);
        for c in codes {
            if !entry.codes.contains(&c) {
                entry.codes.push(c);
            }
        }
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

/// Every AAD error in the capture with its session.
pub(crate) fn aad_errors<'a>(cx: &'a Context) -> impl Iterator<Item = (u64, &'a AadError)> + 'a {
    cx.events.iter().filter_map(|e| match e {
        Event::TokenResult(r) => match &r.outcome {
            TokenOutcome::AadError(err) => Some((r.session, err)),
            TokenOutcome::Issued { .. } => None,
        },
        _ => None,
    })
}

/// What Entra said, with the ids its sign-in logs and Microsoft support look errors up by.
pub(crate) fn quote_error(e: &AadError) -> String {
    let mut s = match &e.description {
        Some(d) => format!(" Entra ID said: \"{d}\""),
        None => String::new(),
    };
    let ids: Vec<String> = [
        e.trace_id.as_deref().map(|t| format!("trace id {t}")),
        e.correlation_id
            .as_deref()
            .map(|c| format!("correlation id {c}")),
        e.timestamp.as_deref().map(|t| format!("at {t}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !ids.is_empty() {
        s.push_str(&format!(" ({})", ids.join(", ")));
    }
    s
}

/// The AAD error seen in `session`, if any.
pub(crate) fn aad_error_at<'a>(cx: &'a Context, session: u64) -> Option<&'a AadError> {
    aad_errors(cx).find(|(s, _)| *s == session).map(|(_, e)| e)
}

pub fn check(cx: &Context) -> Vec<Finding> {
    missing_spns(cx)
        .into_iter()
        .map(|m| {
            let codes: Vec<String> = m.codes.iter().map(|c| format!("AADSTS{c}")).collect();
            let asked: Vec<String> = m.resources.iter().map(|r| r.to_string()).collect();
            let first = m.error_sessions.first().copied();
            let quote = first
                .and_then(|s| aad_error_at(cx, s))
                .map(quote_error)
                .unwrap_or_default();
            let where_ = first
                .map(|s| format!(" (first in session {s}: {})", cx.describe(s)))
                .unwrap_or_default();
            let evidence = format!(
                "{} answered {} time(s) for resource {}{}.{}",
                codes.join("/"),
                m.error_sessions.len(),
                asked.join(", "),
                where_,
                quote
            );
            Finding {
                id: "spn-missing".into(),
                severity: Severity::Error,
                title: format!(
                    "{} is not a service principal name of Exchange Online",
                    m.spn
                ),
                sessions: m.error_sessions.clone(),
                evidence,
                fix: format!(
                    "Add {} to the ServicePrincipalNames of the Office 365 Exchange Online \
                     service principal (AppId {EXCHANGE_ONLINE_APP_ID}) with the PowerShell in \
                     this report (Microsoft Graph PowerShell, scope Application.ReadWrite.All). \
                     Allow up to an hour for the change to reach every Entra ID region, then \
                     restart Outlook (or sign out and in again in Teams).",
                    m.spn
                ),
            }
        })
        .collect()
}
