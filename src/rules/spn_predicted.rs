//! `spn-predicted`: an on-premises host clients will ask Entra ID tokens for, that the
//! capture does not prove Entra ID knows: published by Autodiscover (EWS, MAPI, OAB URLs) or
//! challenging with a hybrid Bearer offer, with no token issued for it and no Bearer request
//! to it answered 2xx, and not already a proven missing SPN.
//!
//! Only when the capture shows hybrid modern auth in use (a token asked for an on-premises
//! resource, or a Bearer token presented on-premises): without it no client asks tokens for
//! these hosts, and an offer nobody takes up is another finding's. Microsoft's own
//! hosts never. A host another finding already explains (its sessions yielded), or that a
//! client already asked a token for (a flow exists: it is judged), is left to that.

use std::collections::BTreeMap;

use super::exchange::{exchange_hosts, hma_offers, is_microsoft_cloud};
use super::{session_list, sorted, Context, Finding, Remedy, Severity};
use crate::auth::{Event, EXCHANGE_ONLINE_APP_ID};
use crate::flows::Resource;

pub fn check(cx: &Context) -> Vec<Finding> {
    // Modern auth in use on-premises: a client asked Entra ID for a token for one of the
    // organisation's Exchange hosts, or presented one to it. An offer alone is not use (a
    // probe, or a client that ignores it: hma-ignored's case).
    let exchange = exchange_hosts(cx.sessions);
    let on_prem = |r: &Resource| r.is_url() && exchange.contains(r.host());
    let used = cx.flows.iter().any(|f| on_prem(&f.resource))
        || cx.events().any(|e| match e {
            Event::BearerPresented { url, .. } => Resource::parse(url).is_some_and(|r| on_prem(&r)),
            _ => false,
        });
    if !used {
        return Vec::new();
    }
    let offers = hma_offers(cx);
    let proven = cx.bearer_proven_hosts();
    let missing: Vec<String> = cx.missing_spns().into_iter().map(|m| m.spn).collect();
    // host -> (spn, reasons, sessions)
    let mut by: BTreeMap<String, (String, Vec<String>, Vec<u64>)> = BTreeMap::new();
    let mut add = |url: &str, reason: String, session: u64| {
        let Some(r) = Resource::parse(url).filter(|r| r.scheme() == Some("https")) else {
            return;
        };
        let Some(spn) = r.spn() else { return };
        let host = r.host().to_string();
        if microsofts(&host) || proven.contains(&host) || missing.contains(&spn) {
            return;
        }
        let e = by
            .entry(host)
            .or_insert_with(|| (spn, Vec::new(), Vec::new()));
        if !e.1.contains(&reason) {
            e.1.push(reason);
        }
        e.2.push(session);
    };
    for p in cx.published_endpoints() {
        add(
            &p.url,
            format!("published by {} ({})", p.source, p.url),
            p.session,
        );
    }
    for (host, sessions) in &offers {
        for s in sessions {
            add(
                &format!("https://{host}/"),
                "challenged with a hybrid modern auth Bearer offer".to_string(),
                *s,
            );
        }
    }
    let tenant = cx.flows.iter().find_map(|f| f.tenant.clone()).or_else(|| {
        cx.challenges()
            .find_map(|c| c.bearer().and_then(|b| b.tenant_ids.first().cloned()))
    });
    let tenant_name = cx.flows.iter().find_map(|f| f.tenant_name.clone());
    by.into_iter()
        .filter(|(host, (_, _, sessions))| {
            // A host clients already asked Entra ID a token for is not "not yet asked for":
            // its flow is judged, and a failure there (federation, a proxy, a wrong tenant)
            // is another finding's.
            !cx.flows
                .iter()
                .any(|f| f.resource.is_url() && f.resource.host().eq_ignore_ascii_case(host))
            // A host whose sessions a finding with precedence already explains.
            && !cx.sessions.iter().any(|s| {
                s.host.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(host))
                    && cx.is_yielded(s.id)
            }) && !sessions.iter().all(|s| cx.is_yielded(*s))
        })
        .map(|(_, (spn, reasons, sessions))| {
            let sessions = sorted(sessions);
            let short = if reasons.iter().any(|r| r.starts_with("published")) {
                "published by autodiscover"
            } else {
                "challenged with a Bearer offer"
            };
            let reason = format!("{short}, not yet asked for in this capture");
            let shown = if reasons.len() > 3 {
                format!("{} and {} more", reasons[..3].join("; "), reasons.len() - 3)
            } else {
                reasons.join("; ")
            };
            Finding {
                id: "spn-predicted".into(),
                severity: Severity::Warning,
                title: format!("likely missing SPN {spn}: {reason}"),
                evidence: format!(
                    "{spn}: {} (sessions {}). No token was issued for it and no Bearer request to \
                     it was answered 2xx in this capture; it is not a proven missing SPN either.",
                    shown,
                    session_list(&sessions)
                ),
                fix: format!(
                    "Clients will ask Entra ID for a token for {spn}; if it is not a service \
                     principal name of Office 365 Exchange Online (AppId {EXCHANGE_ONLINE_APP_ID}) \
                     they get AADSTS500011. Check in Microsoft Graph PowerShell: \
                     `(Get-MgServicePrincipal -Filter \"AppId eq '{EXCHANGE_ONLINE_APP_ID}'\").ServicePrincipalNames`; \
                     add it if absent (the commented block of this report's PowerShell)."
                ),
                sessions,
                remedy: Some(Remedy::PredictedSpns {
                    tenant: tenant.clone(),
                    tenant_name: tenant_name.clone(),
                    spns: vec![spn],
                    reason,
                }),
            }
        })
        .collect()
}

/// Microsoft's own hosts, which are never a customer's SPN: Exchange Online and Entra ID,
/// and the other Microsoft 365 services clients ask tokens for.
fn microsofts(host: &str) -> bool {
    const MORE: &[&str] = &[
        "live.com",
        "skype.com",
        "lync.com",
        "sharepoint.com",
        "office.net",
    ];
    is_microsoft_cloud(host)
        || MORE
            .iter()
            .any(|s| host == *s || host.strip_suffix(s).is_some_and(|r| r.ends_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::autodiscover_testkit::*;
    use crate::rules::testkit::{run, HMA};

    fn hma_challenge(id: u64) -> S {
        ad(id, AD, "user@contoso.com", 401, "").offers(&[HMA, "Negotiate", "NTLM"])
    }

    fn bearer_ok(id: u64, url: &str, aud: &str) -> S {
        S::new(id, "POST", url, 200).bearer(&format!(
            r#"{{"aud":"{aud}","appid":"d3590ed6-52b3-4102-aeff-aad2292ab01c","tid":"72f988bf-0000-4000-8000-0123456789ab"}}"#
        ))
    }

    #[test]
    fn published_and_never_asked_for() {
        let f = run(
            check,
            vec![
                hma_challenge(1),
                bearer_ok(2, AD, "https://autodiscover.contoso.com/")
                    .resp_header("Content-Type", "text/xml")
                    .req_body("<Autodiscover><Request><EMailAddress>user@contoso.com</EMailAddress></Request></Autodiscover>")
                    .resp_body(&settings_xml("mail.contoso.com", false)),
            ],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].title,
            "likely missing SPN https://mail.contoso.com/: published by autodiscover, not yet asked for in this capture"
        );
        assert!(
            matches!(&f[0].remedy, Some(Remedy::PredictedSpns { spns, .. }) if spns == &vec!["https://mail.contoso.com/".to_string()])
        );
        crate::rules::testkit::assert_no_token(&f);
    }

    /// Does not trigger: the published host answered a Bearer request 200; Exchange
    /// Online's hosts; no modern auth in the capture at all.
    #[test]
    fn does_not_trigger() {
        let settings = |id| {
            bearer_ok(id, AD, "https://autodiscover.contoso.com/")
                .req_body("<Autodiscover><Request><EMailAddress>user@contoso.com</EMailAddress></Request></Autodiscover>")
                .resp_body(&settings_xml("mail.contoso.com", false))
        };
        let f = run(
            check,
            vec![
                hma_challenge(1),
                settings(2),
                bearer_ok(
                    3,
                    "https://mail.contoso.com/mapi/emsmdb/",
                    "https://mail.contoso.com/",
                ),
            ],
        );
        assert!(f.is_empty(), "{f:?}");
        let f = run(
            check,
            vec![
                hma_challenge(1),
                settings(2),
                ad(
                    3,
                    EXO_AD,
                    "user@contoso.com",
                    200,
                    &settings_xml("outlook.office365.com", true),
                ),
            ],
        );
        assert!(f.iter().all(|f| !f.title.contains("office365")), "{f:?}");
        let f = run(check, vec![onprem_settings(1)]);
        assert!(f.is_empty(), "{f:?}");
        // Offers nobody took up (a probe; hma-ignored's case).
        let f = run(
            check,
            vec![
                hma_challenge(1),
                S::new(2, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401).offers(&[HMA]),
            ],
        );
        assert!(f.is_empty(), "{f:?}");
    }

    /// Does not trigger: the client asked Entra ID a token for the challenging host and the
    /// sign-in failed for another reason (here a wrong password, AADSTS50126; in the
    /// federation samples an unreachable AD FS): the host was asked for, its flow is judged,
    /// and the failure is another finding's, not a guess about its SPN.
    #[test]
    fn a_host_already_asked_for_is_not_predicted() {
        let sign_in = S::new(
            2,
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            400,
        )
        .req_header("Content-Type", "application/x-www-form-urlencoded")
        .req_body("resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&grant_type=password")
        .resp_header("Content-Type", "application/json")
        .resp_body(r#"{"error":"invalid_grant","error_description":"AADSTS50126: Error validating credentials due to invalid username or password.","error_codes":[50126]}"#);
        let f = run(check, vec![hma_challenge(1), sign_in]);
        assert!(f.is_empty(), "{f:?}");
        // Without the sign-in, the same challenge is a prediction.
        let f = run(
            check,
            vec![
                hma_challenge(1),
                bearer_ok(
                    2,
                    "https://mail.contoso.com/EWS/Exchange.asmx",
                    "https://mail.contoso.com/",
                ),
                hma_challenge(3),
            ],
        );
        assert!(
            f.iter()
                .any(|f| f.title.contains("https://autodiscover.contoso.com/")),
            "{f:?}"
        );
    }
}
