//! `autodiscover-header-error`: what Exchange's headers say went wrong on an Autodiscover
//! request: `X-AutoDiscovery-Error` (Exchange Online: `LiveIdBasicAuth:FederatedStsUnreachable`,
//! `BasicAuthBlocked`, ...), or an `X-BackEndHttpStatus` that shows the mailbox server failed
//! (5xx) or refused differently from what the front end answered.
//!
//! Warning; error when the capture never shows Autodiscover giving settings.

use std::collections::BTreeMap;

use super::autodiscover::{any_settings, EMS, EXO_PS};
use super::{session_list, sorted, Context, Finding, Severity};

pub fn check(cx: &Context) -> Vec<Finding> {
    // (host, what) -> sessions
    let mut by: BTreeMap<(&str, String), Vec<u64>> = BTreeMap::new();
    for a in cx.autodiscover_answers() {
        if let Some(e) = &a.discovery_error {
            by.entry((a.host.as_str(), format!("X-AutoDiscovery-Error: {e}")))
                .or_default()
                .push(a.session);
        }
        if let Some(b) = a.backend_status {
            let front = a.status.unwrap_or_default();
            let odd = b >= 500 || (b >= 400 && b != 401 && b != front);
            if odd {
                by.entry((
                    a.host.as_str(),
                    format!("X-BackEndHttpStatus: {b} (front end answered {front})"),
                ))
                .or_default()
                .push(a.session);
            }
        }
    }
    if by.is_empty() {
        return Vec::new();
    }
    let got = any_settings(cx);
    by.into_iter()
        .map(|((host, what), sessions)| {
            let sessions = sorted(sessions);
            let first = sessions.first().copied().unwrap_or_default();
            Finding {
                id: "autodiscover-header-error".into(),
                severity: if got {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                title: format!("Autodiscover on {host}: {what}"),
                evidence: format!(
                    "{what} on {} session(s) ({}; first: {}).{}",
                    sessions.len(),
                    session_list(&sessions),
                    cx.describe(first),
                    if got {
                        ""
                    } else {
                        " No Autodiscover answer in this capture gave settings."
                    }
                ),
                fix: fix(&what),
                sessions,
                remedy: None,
            }
        })
        .collect()
}

fn fix(what: &str) -> String {
    let lower = what.to_ascii_lowercase();
    if lower.contains("federatedstsunreachable") {
        format!(
            "Exchange Online tried to check the password with the domain's federation server \
             (AD FS) and could not reach it: the client used Basic authentication against \
             Exchange Online. Make the client use modern authentication (Outlook 2016 and later \
             do by default; check `Get-OrganizationConfig | fl OAuth2ClientProfileEnabled` in \
             {EXO_PS}: it must be True), and check that the federation service answers from the \
             Internet (its /adfs/services/trust/ endpoints through the Web Application Proxy)."
        )
    } else if lower.contains("basicauthblocked") {
        format!(
            "Exchange Online refused Basic authentication (retired for Autodiscover and the \
             client protocols). Make the client use modern authentication: \
             `Get-OrganizationConfig | fl OAuth2ClientProfileEnabled` in {EXO_PS} must be True, \
             and old Outlook builds need an update (or EnableADAL=1 for Outlook 2013)."
        )
    } else if lower.contains("x-autodiscovery-error") {
        format!(
            "Exchange Online's Autodiscover refused the request: the header names the reason. \
             Check the user's sign-in in the Entra ID sign-in logs and the organisation's \
             modern-auth setting (`Get-OrganizationConfig | fl OAuth2ClientProfileEnabled`, \
             {EXO_PS})."
        )
    } else {
        format!(
            "Exchange's front end passed the request to a mailbox server that failed. On that \
             server (X-BEServer / X-CalculatedBETarget in the answer), in the {EMS}: \
             `Test-OutlookWebServices -Identity <user>`, `Get-ServerComponentState <server>`, \
             and the MSExchangeAutodiscoverAppPool application pool and Autodiscover logs \
             (%ExchangeInstallPath%Logging\\Autodiscover)."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::autodiscover_testkit::*;
    use crate::rules::testkit::run;

    #[test]
    fn discovery_error_and_backend_failure() {
        let f = run(
            check,
            vec![
                S::new(
                    1,
                    "POST",
                    "https://outlook.office365.com/autodiscover/autodiscover.xml",
                    401,
                )
                .resp_header(
                    "X-AutoDiscovery-Error",
                    "LiveIdBasicAuth:FederatedStsUnreachable:<X-forwarded-for:198.51.100.7>;",
                ),
                ad(2, AD, "user@contoso.com", 500, "").resp_header("X-BackEndHttpStatus", "500"),
            ],
        );
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|f| f.severity == Severity::Error));
        assert!(f
            .iter()
            .any(|f| f.fix.contains("OAuth2ClientProfileEnabled")));
        assert!(f
            .iter()
            .any(|f| f.title.contains("X-BackEndHttpStatus: 500")));
        assert!(!f.iter().any(|f| f.evidence.contains("198.51.100.7")));
    }

    /// Does not trigger: the back end's 401 behind a 401, its 200 behind a 200, headers on
    /// another path.
    #[test]
    fn does_not_trigger() {
        let f = run(
            check,
            vec![
                ad(1, AD, "user@contoso.com", 401, "").resp_header("X-BackEndHttpStatus", "401"),
                onprem_settings(2).resp_header("X-BackEndHttpStatus", "200"),
                S::new(3, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 500)
                    .resp_header("X-BackEndHttpStatus", "500"),
            ],
        );
        assert!(f.is_empty(), "{f:?}");
    }
}
