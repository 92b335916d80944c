//! `http-resource`: the client asked for a token for a plain `http://` URL.
//!
//! Outlook takes the resource from the URL Exchange handed it. An `http://` resource means an
//! `ExternalUrl`/`InternalUrl` or an autodiscover answer says http, or a load balancer that
//! offloads TLS rewrites the scheme. Adding the https SPN is needed but will not fix it: the
//! audience will still not match what Exchange expects.

use super::{sorted, Context, Finding, Severity};
use crate::flows::Outcome;

pub fn check(cx: &Context) -> Vec<Finding> {
    cx.flows
        .iter()
        .filter(|f| f.resource.is_plain_http())
        .map(|f| {
            let failed = f.outcome != Outcome::Token;
            let host = f.resource.host();
            Finding {
                id: "http-resource".into(),
                severity: if failed {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                title: format!(
                    "{} asks Entra ID for a token for the plain-http resource {}",
                    f.client_process.as_deref().unwrap_or("The client"),
                    f.resource
                ),
                sessions: sorted(f.sessions.clone()),
                evidence: format!(
                    "{} asked Entra ID for resource {} in {} attempt(s) (sessions {}-{}), \
                     outcome {}{}.",
                    f.client_process.as_deref().unwrap_or("the client"),
                    f.resource,
                    f.attempts.len(),
                    f.first_session,
                    f.last_session,
                    f.outcome.as_str(),
                    match &f.challenge_host {
                        Some(h) => format!("; the challenge came from {h} over http"),
                        None => String::new(),
                    }
                ),
                fix: format!(
                    "Serve {host} over https only: check the virtual directory URLs \
                     (Get-AutodiscoverVirtualDirectory, Get-WebServicesVirtualDirectory, \
                     Get-MapiVirtualDirectory, Get-OabVirtualDirectory | Format-List Server,*Url) \
                     and set any http URL to https://{host}/...; make sure the load balancer or \
                     reverse proxy does not offload TLS for these paths (Exchange must see \
                     https). Then add https://{host}/ to the Exchange Online SPNs (spn-missing)."
                ),
                remedy: None,
            }
        })
        .collect()
}
