//! `federation-sts-unreachable` and `federation-idp-error`: the round trip to the federation
//! server (ADFS, a Web Application Proxy in front of it, PingFederate, Okta) failed.
//!
//! Unreachable: requests to the IdP got no answer at all (aborted, refused, timed out) or a
//! 502/503/504 (WAP or the load balancer with no healthy AD FS behind it), and no later request
//! to that host succeeded; or Entra ID itself said `FederatedStsUnreachable`. IdP error: the IdP
//! answered its error page ("An error occurred" with an Activity ID and an `MSIS` code) or a
//! SOAP fault (`ID3242`) or another 4xx/5xx on a sign-in endpoint. A 401 is the Windows
//! integrated handshake, not an error.
//!
//! Hosts: every host whose path is a federation endpoint (`/adfs/`, `/idp/`, Okta's SSO), and
//! the `AuthURL` hosts realm discovery named (a tunnel to them that never got an answer).

use std::collections::BTreeMap;

use super::federation::idp_hosts;
use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::federation::{FederationEvent, IdpKind, IdpRequest};

/// Per host: the failing sessions, and whether a later request succeeded.
#[derive(Default)]
struct HostSeen {
    failed: Vec<(u64, String)>,
    last_failure: u64,
    last_success: Option<u64>,
}

fn ok_status(s: u16) -> bool {
    (200..400).contains(&s)
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let idp: Vec<&IdpRequest> = cx
        .federation()
        .filter_map(|f| match f {
            FederationEvent::Idp(r) => Some(r),
            _ => None,
        })
        .collect();
    let mut findings = Vec::new();
    findings.extend(unreachable(cx, &idp));
    findings.extend(errors(cx, &idp));
    findings
}

fn unreachable(cx: &Context, idp: &[&IdpRequest]) -> Option<Finding> {
    let mut hosts: BTreeMap<String, HostSeen> = BTreeMap::new();
    let mut note = |host: &str, session: u64, failure: Option<String>| {
        let seen = hosts.entry(host.to_string()).or_default();
        match failure {
            Some(why) => {
                seen.failed.push((session, why));
                seen.last_failure = seen.last_failure.max(session);
            }
            None => seen.last_success = Some(seen.last_success.unwrap_or(0).max(session)),
        }
    };
    for r in idp {
        match r.status {
            None => note(&r.host, r.session, Some("no answer".into())),
            Some(s @ (502..=504)) => note(&r.host, r.session, Some(format!("HTTP {s}"))),
            Some(s) if ok_status(s) && r.error.is_none() => note(&r.host, r.session, None),
            _ => {}
        }
    }
    // Tunnels and other requests to the hosts realm discovery named.
    let named = idp_hosts(cx);
    for s in cx.sessions {
        let Some(host) = s.host.as_deref().map(|h| {
            h.split(':')
                .next()
                .unwrap_or(h)
                .trim_end_matches('.')
                .to_ascii_lowercase()
        }) else {
            continue;
        };
        if !named.contains(&host) || idp.iter().any(|r| r.session == s.id) {
            continue;
        }
        match s.status {
            None => note(&host, s.id, Some("no answer".into())),
            Some(st @ (502..=504)) => note(&host, s.id, Some(format!("HTTP {st}"))),
            Some(st) if ok_status(st) && !s.flags.tunnel => note(&host, s.id, None),
            _ => {}
        }
    }
    let mut sessions = Vec::new();
    let mut lines = Vec::new();
    for (host, seen) in &hosts {
        if seen.failed.is_empty() || seen.last_success.is_some_and(|s| s > seen.last_failure) {
            continue;
        }
        let ids: Vec<u64> = seen.failed.iter().map(|(s, _)| *s).collect();
        let mut why: Vec<&str> = seen.failed.iter().map(|(_, w)| w.as_str()).collect();
        why.sort_unstable();
        why.dedup();
        lines.push(format!(
            "{host}: {} (session(s) {})",
            why.join(", "),
            session_list(&ids)
        ));
        sessions.extend(ids);
    }
    let mut said = Vec::new();
    for (session, e) in cx.aad_errors() {
        let text = format!(
            "{} {}",
            e.error.as_deref().unwrap_or(""),
            e.description.as_deref().unwrap_or("")
        );
        if text
            .to_ascii_lowercase()
            .contains("federatedstsunreachable")
        {
            said.push(session);
        }
    }
    if !said.is_empty() {
        lines.push(format!(
            "Entra ID answered FederatedStsUnreachable (session(s) {})",
            session_list(&said)
        ));
        sessions.extend(said);
    }
    if lines.is_empty() {
        return None;
    }
    Some(Finding {
        id: "federation-sts-unreachable".into(),
        severity: Severity::Error,
        title: "The federation server (AD FS / IdP) could not be reached: federated users cannot sign in".into(),
        sessions: sorted(sessions),
        evidence: format!(
            "{}. No later request to the same host succeeded. A 503 comes from the Web \
             Application Proxy or the load balancer when no AD FS server answers behind it.",
            lines.join("; ")
        ),
        fix: "From the client's network, open https://<federation host>/adfs/ls/idpinitiatedsignon.aspx \
(if enabled) or https://<federation host>/FederationMetadata/2007-06/FederationMetadata.xml and \
https://<federation host>/adfs/probe (AD FS 2016+ health probe). On each AD FS server: \
Get-Service adfssrv; Get-AdfsProperties | Format-List HostName, HttpsPort; the AD FS/Admin event log. \
On each Web Application Proxy: Get-WebApplicationProxyHealth; Get-WebApplicationProxyConfiguration; \
the trust with AD FS is lost when the proxy certificate expired: Install-WebApplicationProxy \
-FederationServiceName <federation host> -CertificateThumbprint <thumbprint> re-establishes it. Check \
the external DNS name and the load balancer's health probes. Entra ID's own calls (legacy \
protocols, FederatedStsUnreachable) come from the Internet: the WS-Trust endpoint \
/adfs/services/trust/2005/usernamemixed must be published through the proxy for them."
            .into(),
        remedy: None,
    })
}

/// What an AD FS or WS-Trust code usually means, for the evidence.
fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "MSIS7012" => "AD FS failed processing the request: read the event with this Activity ID in the AD FS/Admin log (often the relying party trust or its token-signing/encryption certificate)",
        "MSIS7042" => "the same browser session made too many requests in a short time: a sign-in loop between AD FS and the application",
        "MSIS3173" => "Active Directory account validation failed (disabled, locked, expired password or a trust problem)",
        "MSIS5007" => "caller authorization failed: the relying party's issuance authorization rules denied the user",
        "MSIS7065" => "no protocol handler for the path: a wrong AD FS URL",
        "ID3242" => "the security token could not be authenticated or authorized: wrong user name or password, or the account is locked or disabled",
        _ => return None,
    })
}

fn errors(cx: &Context, idp: &[&IdpRequest]) -> Option<Finding> {
    let mut sessions = Vec::new();
    let mut lines = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    for r in idp {
        let Some(e) = &r.error else { continue };
        let status = r.status.unwrap_or(0);
        if matches!(status, 401 | 502..=504) {
            continue;
        }
        // Another AD FS page (portal, metadata) failing says nothing without a code.
        if r.kind == IdpKind::AdfsOther && e.codes.is_empty() {
            continue;
        }
        let mut line = format!("{} answered HTTP {status}", cx.describe(r.session));
        if !e.codes.is_empty() {
            line.push_str(&format!(" with {}", e.codes.join(", ")));
        }
        if let Some(a) = &e.activity_id {
            line.push_str(&format!(", Activity ID {a}"));
        }
        line.push_str(&format!(" (session {})", r.session));
        lines.push(line);
        sessions.push(r.session);
        for c in &e.codes {
            if let Some(h) = hint(c) {
                let h = format!("{c}: {h}");
                if !hints.contains(&h) {
                    hints.push(h);
                }
            }
        }
    }
    if lines.is_empty() {
        return None;
    }
    let mut evidence = lines.join("; ");
    evidence.push('.');
    if !hints.is_empty() {
        evidence.push_str(&format!(" {}.", hints.join("; ")));
    }
    Some(Finding {
        id: "federation-idp-error".into(),
        severity: Severity::Error,
        title: "The federation server (AD FS / IdP) answered the sign-in with an error".into(),
        sessions: sorted(sessions),
        evidence,
        fix: "On the AD FS servers, find the Activity ID in Event Viewer > Applications and Services \
Logs > AD FS > Admin (event 364 and the events before it) or with Get-WinEvent -LogName 'AD FS/Admin' \
| Where-Object Message -match '<Activity ID>'; it names the failing relying party, claim rule or \
certificate. Check the Office 365 relying party: Get-AdfsRelyingPartyTrust -Name 'Microsoft Office 365 \
Identity Platform' | Format-List Enabled, Identifier, IssuanceTransformRules, \
AccessControlPolicyName; the token-signing certificate: Get-AdfsCertificate -CertificateType \
Token-Signing (NotAfter, IsPrimary). For ID3242 on WS-Trust, check the account in Active Directory \
(enabled, not locked, password not expired) and AD FS extranet lockout (Get-AdfsAccountActivity \
-Identity <user>). Third-party IdPs: their admin console's sign-in log for the same time."
            .into(),
        remedy: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;

    const LS: &str = "https://sts.contoso.com/adfs/ls/?client-request-id=1&wa=wsignin1.0";
    const PAGE: &str = "<html><body><span>An error occurred</span><span>MSIS7012: An error occurred while processing the request.</span><span>Activity ID:</span> <span>00000000-0000-0000-4500-0080000000d0</span></body></html>";

    fn realm(id: u64) -> S {
        S::new(id, "GET", "https://login.microsoftonline.com/common/userrealm/?user=jo@contoso.com&api-version=2.1", 200)
            .resp_body(r#"{"NameSpaceType":"Federated","DomainName":"contoso.com","AuthURL":"https://sts.contoso.com/adfs/ls/?username=jo%40contoso.com"}"#)
    }

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn adfs_503_and_no_answer_are_unreachable() {
        let f = run(
            check,
            vec![
                realm(1),
                S::new(2, "GET", LS, 503).resp_body("<h2>Service Unavailable</h2>"),
                S::new(3, "GET", LS, 0).no_response(),
            ],
        );
        assert_eq!(ids(&f), vec!["federation-sts-unreachable"]);
        assert_eq!(f[0].sessions, vec![2, 3]);
        assert!(
            f[0].evidence.contains("HTTP 503, no answer"),
            "{}",
            f[0].evidence
        );
    }

    #[test]
    fn a_tunnel_to_the_auth_url_host_without_answer_is_unreachable() {
        let tunnel = S::new(2, "CONNECT", "sts.contoso.com:443", 0).no_response();
        let f = run(check, vec![realm(1), tunnel]);
        assert_eq!(ids(&f), vec!["federation-sts-unreachable"]);
    }

    #[test]
    fn error_page_names_code_activity_and_hint() {
        let f = run(
            check,
            vec![realm(1), S::new(2, "GET", LS, 200).resp_body(PAGE)],
        );
        assert_eq!(ids(&f), vec!["federation-idp-error"]);
        assert!(f[0].evidence.contains("MSIS7012"), "{}", f[0].evidence);
        assert!(f[0]
            .evidence
            .contains("00000000-0000-0000-4500-0080000000d0"));
        assert!(f[0].evidence.contains("AD FS/Admin"));
    }

    #[test]
    fn federated_sts_unreachable_from_entra() {
        let s = S::new(4, "POST", "https://login.microsoftonline.com/common/oauth2/token", 400)
            .resp_header("Content-Type", "application/json")
            .resp_body(r#"{"error":"invalid_grant","error_description":"AADSTS50000: FederatedStsUnreachable: There was an error issuing a token.","error_codes":[50000]}"#);
        let f = run(check, vec![s]);
        assert_eq!(ids(&f), vec!["federation-sts-unreachable"]);
        assert_eq!(f[0].sessions, vec![4]);
    }

    #[test]
    fn does_not_trigger() {
        let form = "<html><form method=\"post\" action=\"https://login.microsoftonline.com/login.srf\"></form></html>";
        // The Windows integrated handshake: 401 Negotiate, then 200.
        let wia = vec![
            realm(1),
            S::new(2, "GET", LS, 401).resp_header("WWW-Authenticate", "Negotiate"),
            S::new(3, "GET", LS, 200).resp_body(form),
        ];
        assert!(run(check, wia).is_empty());
        // An aborted request retried with success.
        let retried = vec![
            realm(1),
            S::new(2, "GET", LS, 0).no_response(),
            S::new(3, "GET", LS, 200).resp_body(form),
        ];
        assert!(run(check, retried).is_empty());
        // A 404 for an AD FS asset without a code, and an aborted request to an unrelated host.
        let noise = vec![
            realm(1),
            S::new(
                2,
                "GET",
                "https://sts.contoso.com/adfs/portal/logo.png",
                404,
            ),
            S::new(3, "GET", "https://cdn.example.net/x.js", 0).no_response(),
        ];
        assert!(run(check, noise).is_empty());
        // An ordinary AAD error that does not mention the STS.
        let aad = S::new(4, "POST", "https://login.microsoftonline.com/common/oauth2/token", 400)
            .resp_body(r#"{"error":"invalid_grant","error_description":"AADSTS50126: Error validating credentials.","error_codes":[50126]}"#);
        assert!(run(check, vec![aad]).is_empty());
    }
}
