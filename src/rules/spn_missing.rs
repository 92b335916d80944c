//! `spn-missing`: Entra ID does not know the on-premises URL as a resource.
//!
//! Outlook asks for a token whose resource is the challenged host (`https://autodiscover.
//! contoso.com`). Entra resolves it against the service principal names of Office 365
//! Exchange Online; when no SPN matches it answers AADSTS500011 (legacy: 50001). The fix is
//! to add `https://host/` to that principal's SPNs.

use super::evidence::quote_error;
use super::{Context, Finding, Remedy, Severity};
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
                remedy: Some(Remedy::AddSpns {
                    tenant: m.tenant.clone(),
                    tenant_name: m.tenant_name.clone(),
                    spns: vec![m.spn.clone()],
                }),
            }
        })
        .collect()
}
