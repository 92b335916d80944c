//! `ioc-oauth-failure`: Exchange Online's free/busy calls to on-premises EWS are refused.
//!
//! Cross-premises free/busy (and photos, MailTips) from cloud mailboxes go through the
//! IntraOrganizationConnector: Exchange Online calls on-premises EWS with an OAuth token of its
//! own app (`00000002-0000-0ff1-ce00-000000000000`) and its own user agent (`Exchange/15.x`).
//! A capture at the on-premises edge shows those calls answered 401 with `x-ms-diagnostics`
//! when the trust, the namespace or the EWS vdir's OAuth set-up is wrong.
//!
//! Looks at: EWS calls (`Event::EwsCall`) answered 401 that are `GetUserAvailability`, or come
//! with an `Exchange/15` user agent, or present a token whose `appid` is Exchange Online's.
//! `GetDelegate` is left to `delegate-ews-auth`.

use super::evidence::claims_line;
use super::{sorted, Context, Finding, Severity};
use crate::auth::{Event, EwsCall};

pub fn check(cx: &Context) -> Vec<Finding> {
    let failed: Vec<&EwsCall> = cx
        .events()
        .filter_map(|e| match e {
            Event::EwsCall(c) => Some(c),
            _ => None,
        })
        .filter(|c| c.status == Some(401))
        .filter(|c| {
            !c.operation
                .as_deref()
                .is_some_and(|o| o.eq_ignore_ascii_case("GetDelegate"))
        })
        .filter(|c| cx.from_exchange_online(c))
        .collect();
    let Some(first) = failed.first() else {
        return Vec::new();
    };
    let host = crate::capture::host_of(&first.url).unwrap_or_else(|| "<ews namespace>".into());
    let ops: Vec<String> = {
        let mut o: Vec<String> = failed
            .iter()
            .map(|c| {
                c.operation
                    .as_deref()
                    .unwrap_or("(operation not readable)")
                    .to_string()
            })
            .collect();
        o.sort();
        o.dedup();
        o
    };
    let mut evidence = format!(
        "{} EWS call(s) from Exchange Online answered 401 ({}), first session {}: {}{}.",
        failed.len(),
        ops.join(", "),
        first.session,
        cx.describe(first.session),
        first
            .user_agent
            .as_deref()
            .map(|ua| format!(", user agent {ua}"))
            .unwrap_or_default()
    );
    let mut codes: Vec<String> = Vec::new();
    for c in &failed {
        if let Some(d) = cx
            .challenge_in(c.session)
            .and_then(|ch| ch.diagnostics.as_ref())
        {
            let line = format!(
                "{}{}{}",
                d.code,
                d.reason
                    .as_deref()
                    .map(|r| format!(" \"{r}\""))
                    .unwrap_or_default(),
                d.meaning().map(|m| format!(" ({m})")).unwrap_or_default()
            );
            if !codes.contains(&line) {
                codes.push(line);
            }
        }
    }
    if !codes.is_empty() {
        evidence.push_str(&format!(" x-ms-diagnostics: {}.", codes.join("; ")));
    }
    if let Some(claims) = failed.iter().find_map(|c| cx.claims_in(c.session)) {
        evidence.push_str(&format!(" Token presented: {}.", claims_line(claims)));
    }
    vec![Finding {
        id: "ioc-oauth-failure".into(),
        severity: Severity::Error,
        title: format!(
            "Exchange Online's free/busy (IntraOrganizationConnector) OAuth calls to {host} are refused"
        ),
        sessions: sorted(failed.iter().map(|c| c.session).collect()),
        evidence,
        fix: format!(
            "In Exchange Online PowerShell point the connector at the on-premises EWS namespace \
             as published, unaltered by any reverse proxy: Get-IntraOrganizationConnector | \
             Set-IntraOrganizationConnector -TargetSharingEpr \
             \"https://{host}/ews/Exchange.asmx\" -DiscoveryEndpoint $null (or use the autodiscover \
             endpoint only when it is published without pre-authentication). Allow that namespace \
             from Microsoft 365's addresses at the firewall and restrict it to them where possible \
             (no pre-authentication, no TLS offload that changes the URL). Check the on-premises \
             side with Test-OAuthConnectivity -Service EWS -TargetUri \
             https://{host}/ews/Exchange.asmx -Mailbox <on-premises mailbox> -Verbose, and the \
             cloud side with Test-OAuthConnectivity -Service EWS -TargetUri \
             https://{host}/ews/Exchange.asmx -Mailbox <cloud mailbox> -Verbose; the \
             x-ms-diagnostics code above says which check failed."
        ),
        remedy: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_no_token, run, HMA, S};
    use super::*;

    const AVAIL: &str = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:GetUserAvailabilityRequest xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"/></soap:Body></soap:Envelope>"#;
    const EXO: &str = r#"{"aud":"https://mail.contoso.com","appid":"00000002-0000-0ff1-ce00-000000000000","tid":"72f988bf-0000-4000-8000-0123456789ab"}"#;

    #[test]
    fn free_busy_from_exchange_online_refused() {
        let f = run(
            check,
            vec![
                S::new(3, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401)
                    .process("")
                    .req_header("User-Agent", "Exchange/15.20.7452.000")
                    .bearer(EXO)
                    .req_body(AVAIL)
                    .offers(&[HMA])
                    .diag(r#"2000003;reason="The audience claim value is invalid.""#),
                // An Outlook user's 401 on EWS is not the connector.
                S::new(4, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401)
                    .req_header("User-Agent", "Microsoft Office/16.0")
                    .offers(&[HMA]),
                // Answered: fine.
                S::new(5, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200)
                    .bearer(EXO)
                    .req_body(AVAIL),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].id.as_str(), f[0].severity),
            ("ioc-oauth-failure", Severity::Error)
        );
        assert_eq!(f[0].sessions, vec![3]);
        assert!(f[0].evidence.contains("GetUserAvailabilityRequest"));
        assert!(f[0].evidence.contains("x-ms-diagnostics: 2000003"));
        assert!(f[0].fix.contains("-TargetSharingEpr \"https://mail.contoso.com/ews/Exchange.asmx\" -DiscoveryEndpoint $null"));
        assert!(f[0].fix.contains("Test-OAuthConnectivity -Service EWS"));
        assert_no_token(&f);
    }
}
