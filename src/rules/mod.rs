//! Stage 4: flows and events -> findings.
//!
//! One file per rule, each a `check(&Context) -> Vec<Finding>` that knows nothing of how the
//! findings will be shown. A finding's `id` is stable: scripts and dashboards key on it.

mod aadsts_codes;
mod auth_loop;
mod delegate_empty;
mod delegate_ews_auth;
mod delegate_permission;
mod exchange;
mod exchange_oauth_error;
mod hma_not_advertised;
mod http_resource;
mod ioc_oauth_failure;
mod legacy_auth_exposed;
pub mod spn_missing;
#[cfg(test)]
mod testkit;

use serde::Serialize;

use crate::auth::Event;
use crate::capture::SessionSummary;
use crate::flows::Flow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier (`spn-missing`, `auth-loop`, ...).
    pub id: String,
    pub severity: Severity,
    pub title: String,
    /// The sessions that prove it, ascending.
    pub sessions: Vec<u64>,
    /// What was seen, quoting the capture. Never a credential.
    pub evidence: String,
    /// What to do about it.
    pub fix: String,
}

/// What every rule may look at.
pub struct Context<'a> {
    /// Every session, sorted by id.
    pub sessions: &'a [SessionSummary],
    pub events: &'a [Event],
    pub flows: &'a [Flow],
}

impl Context<'_> {
    pub fn session(&self, id: u64) -> Option<&SessionSummary> {
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
}

/// A URL without its query string and fragment.
pub fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

type Rule = fn(&Context) -> Vec<Finding>;

/// Every rule, in the order their findings are reported.
/// Causes come before symptoms: at equal severity the verdict quotes the first finding, and
/// an analyst should read "AADSTS50076: MFA required" before "tried 6 times".
const RULES: &[Rule] = &[
    spn_missing::check,
    http_resource::check,
    aadsts_codes::check,
    hma_not_advertised::check,
    exchange_oauth_error::check,
    delegate_ews_auth::check,
    delegate_permission::check,
    delegate_empty::check,
    ioc_oauth_failure::check,
    auth_loop::check,
    legacy_auth_exposed::check,
];

/// Run every rule; findings come most severe first, then in rule order.
pub fn run_all(cx: &Context) -> Vec<Finding> {
    let mut findings: Vec<Finding> = RULES.iter().flat_map(|rule| rule(cx)).collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

/// Sorted, deduplicated session list.
pub(crate) fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids.dedup();
    ids
}
