//! `delegate-ews-auth`: the EWS `GetDelegate` call itself was refused.
//!
//! Teams' delegate check reaches the owner's on-premises mailbox through Exchange Online,
//! which calls on-premises EWS with an OAuth token (the same trust as free/busy). When that
//! call is answered 401/403, Teams cannot see any delegate and refuses to schedule, whatever
//! the permissions are.
//!
//! Looks at: every `GetDelegate` request (`Event::Delegate`) answered 401 or 403, with the
//! challenge's `x-ms-diagnostics` and the claims of the token presented, when there are.

use super::evidence::{claims_line, owner_of};
use super::exchange;
use super::{sorted, Context, Finding, Severity};

pub fn check(cx: &Context) -> Vec<Finding> {
    let refused: Vec<_> = cx
        .delegate_checks()
        .filter(|d| matches!(d.status, Some(401 | 403)))
        .collect();
    let Some(first) = refused.first() else {
        return Vec::new();
    };
    let mut evidence = format!(
        "GetDelegate for {} answered {} in {} session(s) (first {}: {}).",
        owner_of(first),
        first.status.unwrap_or_default(),
        refused.len(),
        first.session,
        cx.describe(first.session)
    );
    if let Some(c) = refused.iter().find_map(|d| cx.challenge_in(d.session)) {
        evidence.push_str(&format!(
            " Offered: {}.",
            exchange::join(&exchange::offered(c))
        ));
        if let Some(d) = &c.diagnostics {
            evidence.push_str(&format!(
                " x-ms-diagnostics {}{}{}.",
                d.code,
                d.reason
                    .as_deref()
                    .map(|r| format!(" \"{r}\""))
                    .unwrap_or_default(),
                d.meaning().map(|m| format!(": {m}")).unwrap_or_default()
            ));
        }
    }
    if let Some(claims) = refused.iter().find_map(|d| cx.claims_in(d.session)) {
        evidence.push_str(&format!(" Token presented: {}.", claims_line(claims)));
    }
    vec![Finding {
        id: "delegate-ews-auth".into(),
        severity: Severity::Error,
        title: "The EWS GetDelegate call (Teams delegate check) was refused by on-premises Exchange".into(),
        sessions: sorted(refused.iter().map(|d| d.session).collect()),
        evidence,
        fix: "Repair the OAuth trust Exchange Online uses to call on-premises EWS: \
              Test-OAuthConnectivity -Service EWS -TargetUri https://<ews namespace>/ews/Exchange.asmx \
              -Mailbox <on-premises owner> -Verbose (on-premises) and, in Exchange Online, \
              Get-IntraOrganizationConnector | Format-List TargetSharingEpr,DiscoveryEndpoint,Enabled; \
              check that OAuth is enabled on the EWS virtual directory \
              (Get-WebServicesVirtualDirectory | Format-List Server,ExternalUrl,OAuthAuthentication), \
              that the EWS namespace is published without pre-authentication (no reverse proxy \
              asking for credentials) and reachable from Microsoft 365, and read the x-ms-diagnostics \
              code and its meaning above."
            .into(),
        remedy: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_no_token, build, run, HMA, S};
    use super::*;
    use crate::auth::ews::tests::{resp, user, REQ};

    /// A GetDelegate refused with a Bearer presented and x-ms-diagnostics 2000004.
    fn refused() -> S {
        S::new(21, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401)
            .req_header("User-Agent", "Exchange/15.20.7452.000")
            .bearer(r#"{"aud":"https://mail.contoso.com","appid":"00000002-0000-0ff1-ce00-000000000000","tid":"72f988bf-0000-4000-8000-0123456789ab"}"#)
            .req_body(REQ)
            .offers(&[HMA])
            .diag(r#"2000004;reason="The tenant is not trusted.""#)
    }

    /// One problem, one finding: exchange-oauth-error yields these sessions to this rule
    /// (`RULES`), so the refusal is not reported twice.
    #[test]
    fn the_refusal_is_not_reported_again_as_an_exchange_oauth_error() {
        let ids: Vec<String> = build(vec![refused()])
            .findings
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.id)
            .collect();
        assert_eq!(ids, vec!["delegate-ews-auth".to_string()]);
    }

    #[test]
    fn a_refused_get_delegate_is_reported_with_its_diagnostic() {
        let f = run(check, vec![refused()]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].id.as_str(), f[0].severity),
            ("delegate-ews-auth", Severity::Error)
        );
        assert_eq!(f[0].sessions, vec![21]);
        assert!(f[0]
            .evidence
            .contains("GetDelegate for owner@contoso.com answered 401"));
        assert!(f[0].evidence.contains("x-ms-diagnostics 2000004"));
        assert!(f[0]
            .evidence
            .contains("appid=00000002-0000-0ff1-ce00-000000000000"));
        assert_no_token(&f);
    }

    #[test]
    fn an_answered_call_is_quiet() {
        let ok = S::new(2, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200)
            .req_body(REQ)
            .resp_body(&resp(&user("bob@contoso.com", "Editor"), "NoError"));
        assert!(run(check, vec![ok]).is_empty());
    }
}
