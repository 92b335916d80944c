//! `federation-wstrust-password`: a client sent a user name and password to the federation
//! server's WS-Trust `usernamemixed` endpoint.
//!
//! That is legacy authentication through federation: the password travels to AD FS (or the
//! IdP's WS-Trust endpoint) in the SOAP body, no MFA or conditional access applies, and the
//! endpoint published to the Internet is what password sprays and extranet lockouts hit.
//! Clients doing it: older Office (ADAL without WAM, "username/password" flows), scripts and
//! third-party apps. A warning, naming the user only by domain. `windowstransport` (Windows
//! integrated, no password) raises nothing.

use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::federation::{FederationEvent, IdpKind};

pub fn check(cx: &Context) -> Vec<Finding> {
    let mut sessions = Vec::new();
    let mut hosts: Vec<String> = Vec::new();
    let mut domains: Vec<String> = Vec::new();
    let mut processes: Vec<String> = Vec::new();
    for f in cx.federation() {
        let FederationEvent::Idp(r) = f else { continue };
        if r.kind != IdpKind::WsTrustUsernameMixed {
            continue;
        }
        sessions.push(r.session);
        for (list, v) in [
            (&mut hosts, Some(&r.host)),
            (&mut domains, r.user_domain.as_ref()),
            (&mut processes, r.process.as_ref()),
        ] {
            if let Some(v) = v {
                if !list.contains(v) {
                    list.push(v.clone());
                }
            }
        }
    }
    if sessions.is_empty() {
        return Vec::new();
    }
    let sessions = sorted(sessions);
    let who = if domains.is_empty() {
        String::new()
    } else {
        format!(" for user(s) at {}", domains.join(", "))
    };
    let by = if processes.is_empty() {
        String::new()
    } else {
        format!(", sent by {}", processes.join(", "))
    };
    vec![Finding {
        id: "federation-wstrust-password".into(),
        severity: Severity::Warning,
        title: format!(
            "A user name and password were sent to the federation server's WS-Trust endpoint ({})",
            hosts.join(", ")
        ),
        evidence: format!(
            "{} request(s) to /adfs/services/trust/.../usernamemixed{who}{by} (session(s) {}). \
             This is legacy authentication through federation: the password goes to AD FS in the \
             SOAP body, outside MFA and conditional access.",
            sessions.len(),
            session_list(&sessions)
        ),
        sessions,
        fix: "Move the client to modern authentication (Outlook 2016 or later with WAM, MSAL-based \
apps; scripts to certificate or managed identity authentication). Then stop publishing the endpoint \
to the Internet, on the AD FS server: Set-AdfsEndpoint -TargetAddressPath \
/adfs/services/trust/2005/usernamemixed -Proxy $false (and /adfs/services/trust/13/usernamemixed), \
then restart the AD FS service on each server and the Web Application Proxies. Until then, AD FS \
extranet smart lockout: Set-AdfsProperties -EnableExtranetLockout $true -ExtranetLockoutThreshold 15 \
-ExtranetObservationWindow (New-TimeSpan -Minutes 30) -ExtranetLockoutMode AdfsSmartLockoutEnforce \
(AD FS 2016 or later). In Entra ID, block legacy authentication with a conditional access policy \
(client apps: Exchange ActiveSync clients and other clients)."
            .into(),
        remedy: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;

    fn rst(id: u64, path: &str) -> S {
        S::new(id, "POST", &format!("https://sts.contoso.com{path}"), 200)
            .req_header("Content-Type", "application/soap+xml; charset=utf-8")
            .req_body(r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><o:Security xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><o:UsernameToken><o:Username>jo@contoso.com</o:Username><o:Password>Hunter2!</o:Password></o:UsernameToken></o:Security></s:Header><s:Body/></s:Envelope>"#)
            .process("olk:77")
    }

    #[test]
    fn usernamemixed_is_a_warning_naming_the_domain_only() {
        let f = run(
            check,
            vec![rst(5, "/adfs/services/trust/2005/usernamemixed")],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "federation-wstrust-password");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].evidence.contains("at contoso.com"),
            "{}",
            f[0].evidence
        );
        assert!(f[0].evidence.contains("olk:77"), "{}", f[0].evidence);
        let json = serde_json::to_string(&f).unwrap_or_default();
        assert!(!json.contains("jo@") && !json.contains("Hunter2"), "{json}");
    }

    #[test]
    fn does_not_trigger() {
        // Windows integrated WS-Trust, the passive sign-in page, the metadata exchange.
        for path in [
            "/adfs/services/trust/13/windowstransport",
            "/adfs/ls/?wa=wsignin1.0",
            "/adfs/services/trust/mex",
        ] {
            assert!(run(check, vec![rst(5, path)]).is_empty(), "{path}");
        }
        // Entra ID's own WS-Trust endpoint for managed users is not a federation server.
        let aad = S::new(6, "POST", "https://login.microsoftonline.com/rst2.srf", 200);
        assert!(run(check, vec![aad]).is_empty());
    }
}
