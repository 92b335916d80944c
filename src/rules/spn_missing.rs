//! `spn-missing`: Entra ID does not know the on-premises URL as a resource.
//!
//! Outlook asks for a token whose resource is the challenged host (`https://autodiscover.
//! contoso.com`). Entra resolves it against the service principal names of Office 365
//! Exchange Online; when no SPN matches it answers AADSTS500011 (legacy: 50001). The fix is
//! to add `https://host/` to that principal's SPNs.
//!
//! The loop the missing SPN causes is this finding's evidence (who retried, how often, which
//! sessions), not an `auth-loop` of its own. When the client asked for the plain-http form,
//! the http URL is the root cause (`http-resource`) and this is its second step.

use super::evidence::{loops_sentence, quote_error};
use super::{sorted, Context, Finding, Remedy, Severity};
use crate::auth::EXCHANGE_ONLINE_APP_ID;

pub fn check(cx: &Context) -> Vec<Finding> {
    cx.missing_spns()
        .into_iter()
        .map(|m| {
            let codes: Vec<String> = m.codes.iter().map(|c| format!("AADSTS{c}")).collect();
            let asked: Vec<String> = m.resources.iter().map(|r| r.to_string()).collect();
            let first = m.error_sessions.first().copied();
            let quote = first
                .and_then(|s| cx.aad_error_at(s))
                .map(quote_error)
                .unwrap_or_default();
            let where_ = first
                .map(|s| format!(" (first in session {s}: {})", cx.describe(s)))
                .unwrap_or_default();
            let evidence = format!(
                "{} answered {} time(s) for resource {}{}.{}{}",
                codes.join("/"),
                m.error_sessions.len(),
                asked.join(", "),
                where_,
                quote,
                loops_sentence(cx.flows_with(&m.error_sessions)),
            );
            let http = m.resources.iter().any(|r| r.is_plain_http());
            let second = if http {
                format!(
                    "Second step, after the http-resource fix (Outlook asked for {}: no SPN \
                     stops that loop until it asks for https): ",
                    asked.join(", ")
                )
            } else {
                String::new()
            };
            let mut sessions: Vec<u64> = m.error_sessions.clone();
            for f in cx.flows_with(&m.error_sessions).filter(|f| f.is_loop()) {
                sessions.extend(f.sessions.iter().copied());
            }
            Finding {
                id: "spn-missing".into(),
                severity: Severity::Error,
                title: format!(
                    "{} is not a service principal name of Exchange Online",
                    m.spn
                ),
                sessions: sorted(sessions),
                evidence,
                fix: format!(
                    "{second}Add {} to the ServicePrincipalNames of the Office 365 Exchange Online \
                     service principal (AppId {EXCHANGE_ONLINE_APP_ID}) with the PowerShell in \
                     this report (Microsoft Graph PowerShell, scope Application.ReadWrite.All). \
                     Allow up to an hour for the change to reach every Entra ID region, then \
                     restart Outlook (or sign out and in again in Teams).",
                    m.spn
                ),
                remedy: Some(Remedy::AddSpns {
                    tenant: m.tenant.clone(),
                    tenant_name: m.tenant_name.clone(),
                    tenant_id: m.tenant_id.clone(),
                    spns: vec![m.spn.clone()],
                    first: http.then(|| {
                        format!(
                            "the client asks for {}: serve it over https so that it asks for \
                             {} (http-resource)",
                            asked.join(", "),
                            m.spn
                        )
                    }),
                }),
            }
        })
        .collect()
}
