//! `auth-loop`: the same flow tried again and again.
//!
//! The white box about a minute after Outlook starts is this loop: each round is a 401 from
//! on-premises, a trip to Entra ID, and an answer that does not end it. A healthy client
//! gets one token and stops; a flow whose every round ended with a token but that is still
//! challenged means Exchange rejects the token it got (see the `x-ms-diagnostics` findings).

use super::{sorted, Context, Finding, Severity};
use crate::flows::Outcome;

/// Rounds from which a loop is an error rather than a retry.
const ERROR_ATTEMPTS: usize = 3;

pub fn check(cx: &Context) -> Vec<Finding> {
    cx.flows
        .iter()
        .filter(|f| f.is_loop())
        .map(|f| {
            let failed = f
                .attempts
                .iter()
                .filter(|a| a.outcome != Outcome::Token)
                .count();
            let codes: Vec<String> = f.aadsts.iter().map(|c| format!("AADSTS{c}")).collect();
            let why = if failed == 0 {
                "every round got a token, yet the resource challenged again: Exchange rejects \
                 the token"
                    .to_string()
            } else if codes.is_empty() {
                format!("{failed} round(s) ended without a token")
            } else {
                format!("{failed} round(s) ended with {}", codes.join(", "))
            };
            let duration = f
                .duration_ms
                .map(|ms| format!(" over {:.1} s", ms as f64 / 1000.0))
                .unwrap_or_default();
            Finding {
                id: "auth-loop".into(),
                severity: if f.attempts.len() >= ERROR_ATTEMPTS {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                title: format!(
                    "{} tried {} times to get a token for {}",
                    f.client_process.as_deref().unwrap_or("The client"),
                    f.attempts.len(),
                    f.resource
                ),
                sessions: sorted(f.sessions.clone()),
                evidence: format!(
                    "{} attempts from session {} to {}{duration}; {why}.",
                    f.attempts.len(),
                    f.first_session,
                    f.last_session
                ),
                fix: "Fix the cause the other findings name (a missing SPN, a rejected token, \
                      an identity error); the loop stops when a round ends with a token that \
                      the on-premises server accepts."
                    .into(),
                remedy: None,
            }
        })
        .collect()
}
