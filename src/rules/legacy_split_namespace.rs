//! `legacy-split-namespace`: the capture shows one namespace for clients and another for
//! Exchange Online's IntraOrganizationConnector (its `TargetSharingEpr`), and one of them
//! accepts more than it should.
//!
//! The lock-down many hybrid sites aim for: the user-facing namespace offers only Bearer on
//! EWS, MAPI, OAB and ActiveSync (Negotiate only on names inside the network), and a
//! separate namespace, reachable from Microsoft 365 alone, takes Exchange Online's free/busy
//! and MailTips calls with Bearer and nothing else. A capture at the on-premises edge shows
//! both: clients challenged on one host, Exchange Online (`GetUserAvailabilityRequest`, user
//! agent `Exchange/15...`, a token of app 00000002-0000-0ff1-ce00-000000000000) calling EWS
//! on another. Each host is checked against what it should offer; a warning (exposure, not
//! the failure on the ticket) lists per host and virtual directory what is too much, with
//! the lock-down commands per virtual directory and the connector's, as the Exchange
//! Management Shell block of the fix script.

use std::collections::{BTreeMap, BTreeSet};

use super::exchange::{self, Vdir};
use super::{sorted, Context, Finding, Remedy, Severity};
use crate::auth::Event;

/// Schemes offered (or credentials sent), and the sessions that show them.
type Seen = (Vec<String>, Vec<u64>);

/// What the user-facing namespace is checked on.
const USER_VDIRS: &[Vdir] = &[Vdir::Ews, Vdir::Mapi, Vdir::Oab, Vdir::ActiveSync];

pub fn check(cx: &Context) -> Vec<Finding> {
    // Exchange Online's calls, per host.
    let mut ioc: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut user_agent: Option<String> = None;
    for e in cx.events() {
        if let Event::EwsCall(c) = e {
            if !cx.from_exchange_online(c) {
                continue;
            }
            let Some(host) = crate::capture::host_of(&c.url) else {
                continue;
            };
            if exchange::is_microsoft_cloud(&host) {
                continue;
            }
            ioc.entry(host).or_default().push(c.session);
            if user_agent.is_none() {
                user_agent = c.user_agent.as_deref().map(str::to_string);
            }
        }
    }
    if ioc.is_empty() {
        return Vec::new();
    }
    // What each other host offered clients, per vdir; and what the IOC hosts offered.
    let mut user: BTreeMap<(String, Vdir), Seen> = BTreeMap::new();
    let mut ioc_offers: BTreeMap<String, Seen> = BTreeMap::new();
    for c in cx.challenges().filter(|c| c.status == 401) {
        let offered = exchange::offered(c);
        let legacy = exchange::legacy(&offered);
        if ioc.contains_key(&c.host) {
            if !legacy.is_empty() {
                let e = ioc_offers.entry(c.host.clone()).or_default();
                merge(&mut e.0, &legacy);
                e.1.push(c.session);
            }
            continue;
        }
        if exchange::is_microsoft_cloud(&c.host) || !exchange::looks_external(&c.host) {
            continue;
        }
        let Some(vdir) = exchange::vdir_of_path(&c.url).filter(|v| USER_VDIRS.contains(v)) else {
            continue;
        };
        let e = user.entry((c.host.clone(), vdir)).or_default();
        merge(&mut e.0, &offered);
        e.1.push(c.session);
    }
    // Clients that sent a password or a Windows credential to the IOC namespace.
    let mut ioc_legacy: BTreeMap<String, Seen> = BTreeMap::new();
    for s in cx.sessions {
        let (Some(host), Some(cred)) = (s.host.as_deref(), s.credential) else {
            continue;
        };
        if ioc.contains_key(host) && cred.is_legacy() {
            let e = ioc_legacy.entry(host.to_string()).or_default();
            merge(&mut e.0, &[cred.as_str().to_string()]);
            e.1.push(s.id);
        }
    }
    let user_hosts: BTreeSet<&str> = user.keys().map(|(h, _)| h.as_str()).collect();
    if user_hosts.is_empty() {
        // One namespace for both, or no client challenged: not the split this is about.
        return Vec::new();
    }
    let too_much: Vec<(&(String, Vdir), &Seen)> = user
        .iter()
        .filter(|(_, (offered, _))| !exchange::legacy(offered).is_empty())
        .collect();
    if too_much.is_empty() && ioc_offers.is_empty() && ioc_legacy.is_empty() {
        return Vec::new();
    }

    let mut sessions: Vec<u64> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for ((host, vdir), (offered, ids)) in &too_much {
        sessions.extend(ids);
        let bearer = if offered.iter().any(|s| s == "Bearer") {
            "next to Bearer"
        } else {
            "without Bearer"
        };
        lines.push(format!(
            "clients' {} https://{host}{} offered {} {bearer} (session(s) {})",
            vdir.name(),
            vdir.path(),
            exchange::join(&exchange::legacy(offered)),
            super::session_list(ids)
        ));
    }
    let ioc_hosts: Vec<&str> = ioc.keys().map(String::as_str).collect();
    for (host, ids) in &ioc {
        sessions.extend(ids);
        let how = match (ioc_offers.get(host), ioc_legacy.get(host)) {
            (None, None) => "with Bearer, and offered nothing else".to_string(),
            (offers, creds) => {
                let mut parts = Vec::new();
                if let Some((schemes, ids)) = offers {
                    sessions.extend(ids);
                    parts.push(format!(
                        "offered {} as well (session(s) {})",
                        exchange::join(schemes),
                        super::session_list(ids)
                    ));
                }
                if let Some((creds, ids)) = creds {
                    sessions.extend(ids);
                    parts.push(format!(
                        "was sent {} (session(s) {})",
                        exchange::join(creds),
                        super::session_list(ids)
                    ));
                }
                parts.join(" and ")
            }
        };
        lines.push(format!(
            "Exchange Online's IntraOrganizationConnector calls https://{host}/EWS/ \
             (session(s) {}{}): {how}",
            super::session_list(ids),
            user_agent
                .as_deref()
                .map(|ua| format!(", user agent {ua}"))
                .unwrap_or_default()
        ));
    }
    let mut vdirs: Vec<&str> = too_much.iter().map(|((_, v), _)| v.name()).collect();
    vdirs.dedup();
    let users: Vec<&str> = user_hosts.into_iter().collect();
    let title = match (
        vdirs.is_empty(),
        ioc_offers.is_empty() && ioc_legacy.is_empty(),
    ) {
        (false, true) => format!(
            "Split namespace not locked down: {} (clients) still offers legacy auth on {}; \
             {} (Exchange Online's calls) takes Bearer only",
            users.join(", "),
            vdirs.join(", "),
            ioc_hosts.join(", ")
        ),
        (true, _) => format!(
            "Split namespace not locked down: {} (Exchange Online's calls) accepts more than \
             Bearer",
            ioc_hosts.join(", ")
        ),
        (false, false) => format!(
            "Split namespace not locked down: {} (clients) offers legacy auth on {}, and {} \
             (Exchange Online's calls) accepts more than Bearer",
            users.join(", "),
            vdirs.join(", "),
            ioc_hosts.join(", ")
        ),
    };
    vec![Finding {
        id: "legacy-split-namespace".into(),
        severity: Severity::Warning,
        title,
        sessions: sorted(sessions),
        evidence: format!(
            "{}. The clients' namespace should offer only Bearer on EWS, MAPI, OAB and \
             ActiveSync (Negotiate only on names inside the network); the IntraOrganization\
             Connector's should take Bearer from Exchange Online and nothing else. \
             \"External\" is a guess from the host name.",
            lines.join("; ")
        ),
        fix: format!(
            "Exchange Management Shell (on-premises), on the servers that publish {}: \
             ActiveSync Basic off, EWS and OAB Windows and Basic authentication off with OAuth \
             on, MAPI OAuth only (Set-MapiVirtualDirectory -IISAuthenticationMethods OAuth); \
             keep Negotiate only on internal names that need it. Keep {} for Exchange Online \
             alone (Bearer only, reachable from Microsoft 365's addresses) and the connector \
             on it, in Exchange Online PowerShell: Get-IntraOrganizationConnector | \
             Set-IntraOrganizationConnector -TargetSharingEpr https://{}/EWS/Exchange.asmx. \
             The commands are in the fix script's Exchange Management Shell block.",
            users.join(", "),
            ioc_hosts.join(", "),
            ioc_hosts[0]
        ),
        remedy: Some(Remedy::ExchangeShell {
            check: CHECK.to_vec(),
            change: CHANGE.to_vec(),
        }),
    }]
}

/// Read-only, on-premises: each virtual directory's authentication.
const CHECK: &[&str] = &[
    "Get-ActiveSyncVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthEnabled,WindowsAuthEnabled",
    "Get-WebServicesVirtualDirectory | Format-List Server,InternalUrl,ExternalUrl,BasicAuthentication,WindowsAuthentication,OAuthAuthentication",
    "Get-OabVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthentication,WindowsAuthentication,OAuthAuthentication",
    "Get-MapiVirtualDirectory | Format-List Server,ExternalUrl,IISAuthenticationMethods",
];

/// The lock-down per virtual directory, then the connector, which lives in Exchange Online
/// (its TargetSharingEpr points at the on-premises EWS): written commented.
const CHANGE: &[&str] = &[
    "Get-ActiveSyncVirtualDirectory -Server <server publishing the clients' namespace> | Set-ActiveSyncVirtualDirectory -BasicAuthEnabled $false",
    "Get-WebServicesVirtualDirectory -Server <server> | Set-WebServicesVirtualDirectory -BasicAuthentication $false -WindowsAuthentication $false -OAuthAuthentication $true",
    "Get-OabVirtualDirectory -Server <server> | Set-OabVirtualDirectory -BasicAuthentication $false -WindowsAuthentication $false -OAuthAuthentication $true",
    "Get-MapiVirtualDirectory -Server <server> | Set-MapiVirtualDirectory -IISAuthenticationMethods OAuth",
    "iisreset /noforce",
    "The connector, in Exchange Online PowerShell (Connect-ExchangeOnline), not on-premises:",
    "Get-IntraOrganizationConnector | Format-List Name,Enabled,TargetAddressDomains,TargetSharingEpr,DiscoveryEndpoint",
    "Get-IntraOrganizationConnector | Set-IntraOrganizationConnector -TargetSharingEpr https://<IntraOrganizationConnector namespace>/EWS/Exchange.asmx",
];

fn merge(into: &mut Vec<String>, items: &[String]) {
    for s in items {
        if !into.contains(s) {
            into.push(s.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, HMA, S};
    use super::*;

    const AVAILABILITY: &str = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><soap:Body><m:GetUserAvailabilityRequest/></soap:Body></soap:Envelope>"#;

    /// Exchange Online's free/busy call to `host`, with a token.
    fn from_exo(id: u64, host: &str, status: u16) -> S {
        S::new(id, "POST", &format!("https://{host}/EWS/Exchange.asmx"), status)
            .req_headers(&[
                ("User-Agent", "Exchange/15.20.7918.024 (Microsoft Exchange)"),
                ("Content-Type", "text/xml; charset=utf-8"),
            ])
            .bearer(r#"{"aud":"https://hybrid.contoso.com","appid":"00000002-0000-0ff1-ce00-000000000000","tid":"72f988bf-0000-4000-8000-0123456789ab"}"#)
            .req_body(AVAILABILITY)
    }

    fn outlook_ews(id: u64, host: &str, offers: &[&str]) -> S {
        S::new(
            id,
            "POST",
            &format!("https://{host}/EWS/Exchange.asmx"),
            401,
        )
        .offers(offers)
    }

    #[test]
    fn the_clients_namespace_offering_ntlm_and_basic_beside_a_bearer_only_ioc_namespace() {
        let f = run(
            check,
            vec![
                outlook_ews(
                    2,
                    "mail.contoso.com",
                    &[HMA, "NTLM", "Basic realm=\"mail\""],
                ),
                from_exo(5, "hybrid.contoso.com", 200),
                from_exo(9, "hybrid.contoso.com", 200),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!(
            (f.id.as_str(), f.severity),
            ("legacy-split-namespace", Severity::Warning)
        );
        assert_eq!(f.sessions, vec![2, 5, 9]);
        assert_eq!(
            f.title,
            "Split namespace not locked down: mail.contoso.com (clients) still offers legacy \
             auth on EWS; hybrid.contoso.com (Exchange Online's calls) takes Bearer only"
        );
        assert!(f.evidence.contains("clients' EWS https://mail.contoso.com/EWS/ offered NTLM, Basic next to Bearer (session(s) 2)"), "{}", f.evidence);
        assert!(f.evidence.contains("calls https://hybrid.contoso.com/EWS/ (session(s) 5, 9, user agent Exchange/15.20.7918.024 (Microsoft Exchange)): with Bearer, and offered nothing else"), "{}", f.evidence);
        assert!(f
            .fix
            .contains("-TargetSharingEpr https://hybrid.contoso.com/EWS/Exchange.asmx"));
        let Some(Remedy::ExchangeShell { check, change }) = &f.remedy else {
            panic!("a shell remedy");
        };
        assert!(check.iter().all(|c| c.starts_with("Get-")));
        assert!(change
            .iter()
            .any(|c| c.contains("Set-MapiVirtualDirectory -IISAuthenticationMethods OAuth")));
        assert!(change
            .iter()
            .any(|c| c.contains("Set-IntraOrganizationConnector -TargetSharingEpr")));
    }

    #[test]
    fn an_ioc_namespace_that_offers_ntlm_is_named() {
        let f = run(
            check,
            vec![
                outlook_ews(2, "mail.contoso.com", &[HMA]),
                from_exo(5, "hybrid.contoso.com", 200),
                outlook_ews(7, "hybrid.contoso.com", &[HMA, "NTLM"]),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].title
                .ends_with("hybrid.contoso.com (Exchange Online's calls) accepts more than Bearer"),
            "{}",
            f[0].title
        );
        assert!(
            f[0].evidence
                .contains("offered NTLM as well (session(s) 7)"),
            "{}",
            f[0].evidence
        );
    }

    /// Does not trigger: both namespaces locked down; one namespace for clients and Exchange
    /// Online (legacy-auth-exposed's case); no call from Exchange Online (a capture on a
    /// client); a clients' namespace that looks internal.
    #[test]
    fn locked_down_single_namespace_client_side_and_internal_raise_nothing() {
        let none = |sessions: Vec<S>| assert!(run(check, sessions).is_empty());
        none(vec![
            outlook_ews(2, "mail.contoso.com", &[HMA]),
            from_exo(5, "hybrid.contoso.com", 200),
        ]);
        none(vec![
            outlook_ews(2, "mail.contoso.com", &[HMA, "NTLM"]),
            from_exo(5, "mail.contoso.com", 200),
        ]);
        none(vec![outlook_ews(
            2,
            "mail.contoso.com",
            &[HMA, "NTLM", "Basic"],
        )]);
        none(vec![
            outlook_ews(2, "exch01.contoso.local", &[HMA, "NTLM"]),
            from_exo(5, "hybrid.contoso.com", 200),
        ]);
    }
}
