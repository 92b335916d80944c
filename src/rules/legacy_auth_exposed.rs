//! `legacy-auth-exposed`: an Exchange virtual directory reached by an external name still
//! offers Basic, NTLM or Negotiate.
//!
//! Conditional access and MFA only apply to Entra ID tokens. A vdir that also accepts Basic,
//! NTLM or Negotiate lets any client (or a password spray) in without them. This is exposure,
//! not the failure on the ticket: a warning, one finding listing per vdir which schemes were
//! offered, with the lock-down commands.
//!
//! Looks at: 401 challenges from EWS, MAPI, OAB, ActiveSync, RPC, OWA, ECP and PowerShell on
//! hosts that look external (`exchange::looks_external`: a dotted DNS name without a private
//! suffix, or a public IP; a guess, see docs/rules.md), not Microsoft's cloud. A vdir that
//! offered only Bearer raises nothing. Autodiscover is left out: it must answer before the
//! client knows how to authenticate, and its exposure is covered by the Exchange 2019 policy.

use super::exchange::{self, Vdir};
use super::{Context, Finding, Severity};

const VDIRS: &[Vdir] = &[
    Vdir::Ews,
    Vdir::Mapi,
    Vdir::Oab,
    Vdir::ActiveSync,
    Vdir::Rpc,
    Vdir::Owa,
    Vdir::Ecp,
    Vdir::PowerShell,
];

/// `(vdir, host)`, the schemes it offered, the sessions.
type PerVdir = ((Vdir, String), Vec<String>, Vec<u64>);

pub fn check(cx: &Context) -> Vec<Finding> {
    let mut per: Vec<PerVdir> = Vec::new();
    for c in cx.challenges() {
        if c.status != 401
            || exchange::is_microsoft_cloud(&c.host)
            || !exchange::looks_external(&c.host)
        {
            continue;
        }
        let Some(vdir) = exchange::vdir_of_path(&c.url).filter(|v| VDIRS.contains(v)) else {
            continue;
        };
        let offered = exchange::offered(c);
        if exchange::legacy(&offered).is_empty() {
            continue;
        }
        let key = (vdir, c.host.clone());
        let at = match per.iter().position(|(k, _, _)| *k == key) {
            Some(i) => i,
            None => {
                per.push((key, Vec::new(), Vec::new()));
                per.len() - 1
            }
        };
        let entry = &mut per[at];
        for s in offered {
            if !entry.1.contains(&s) {
                entry.1.push(s);
            }
        }
        entry.2.push(c.session);
    }
    if per.is_empty() {
        return Vec::new();
    }
    per.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sessions = Vec::new();
    let lines: Vec<String> = per
        .iter()
        .map(|((vdir, host), offered, ids)| {
            sessions.extend(ids.iter().copied());
            let legacy = exchange::legacy(offered);
            let bearer = if offered.iter().any(|s| s == "Bearer") {
                "next to Bearer"
            } else {
                "without Bearer"
            };
            format!(
                "{} https://{host}{} offered {} {bearer} (session(s) {})",
                vdir.name(),
                vdir.path(),
                exchange::join(&legacy),
                short(ids)
            )
        })
        .collect();
    let mut names: Vec<&str> = per.iter().map(|((v, _), _, _)| v.name()).collect();
    names.dedup();
    vec![Finding {
        id: "legacy-auth-exposed".into(),
        severity: Severity::Warning,
        title: format!(
            "Legacy authentication offered on externally reached Exchange virtual directories: {}",
            names.join(", ")
        ),
        sessions: super::sorted(sessions),
        evidence: format!(
            "{}. Basic, NTLM and Negotiate bypass Entra ID conditional access and MFA. \
             \"External\" is a guess from the host name; a capture taken inside the network \
             with split DNS looks the same.",
            lines.join("; ")
        ),
        fix: FIX.to_string(),
        remedy: None,
    }]
}

const FIX: &str = "Once every client uses modern auth (hma-not-advertised raises nothing, Outlook \
2016+ and Outlook mobile), turn legacy authentication off where the Internet reaches Exchange. \
Exchange 2016 (externally facing servers or the vdirs the load balancer publishes): \
Set-ActiveSyncVirtualDirectory -Identity '<server>\\Microsoft-Server-ActiveSync (Default Web Site)' \
-BasicAuthEnabled $false; Set-WebServicesVirtualDirectory -Identity '<server>\\EWS (Default Web \
Site)' -WindowsAuthentication $false -BasicAuthentication $false -OAuthAuthentication $true; \
Set-MapiVirtualDirectory -Identity '<server>\\mapi (Default Web Site)' -IISAuthenticationMethods \
@('OAuth'); Set-OabVirtualDirectory -Identity '<server>\\OAB (Default Web Site)' \
-WindowsAuthentication $false -BasicAuthentication $false -OAuthAuthentication $true; block \
/ecp, /owa (unless published with modern auth), /PowerShell and /rpc from the Internet at the load \
balancer or with an IIS IP restriction; then iisreset. Exchange 2019 CU2 or later: \
New-AuthenticationPolicy -Name \"Block Legacy Auth\" -BlockLegacyAuthActiveSync \
-BlockLegacyAuthAutodiscover -BlockLegacyAuthImap -BlockLegacyAuthMapi \
-BlockLegacyAuthOfflineAddressBook -BlockLegacyAuthPop -BlockLegacyAuthRpc \
-BlockLegacyAuthWebServices; Set-OrganizationConfig -DefaultAuthenticationPolicy \"Block Legacy \
Auth\" (exceptions per user with Set-User -AuthenticationPolicy; allow up to 30 minutes or restart \
MSExchangeServiceHost). Internal-only clients that still need NTLM/Kerberos keep them on the \
internal servers or URLs.";

fn short(ids: &[u64]) -> String {
    let shown: Vec<String> = ids.iter().take(6).map(|i| i.to_string()).collect();
    if ids.len() > 6 {
        format!("{}, ... {} in all", shown.join(", "), ids.len())
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, HMA, S};
    use super::*;

    #[test]
    fn one_finding_listing_each_vdir() {
        let f = run(
            check,
            vec![
                S::new(2, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401).offers(&[
                    HMA,
                    "Negotiate",
                    "NTLM",
                    "Basic realm=\"mail.contoso.com\"",
                ]),
                S::new(
                    4,
                    "POST",
                    "https://mail.contoso.com/mapi/emsmdb/?MailboxId=x",
                    401,
                )
                .offers(&[HMA, "Negotiate", "NTLM"]),
                S::new(
                    6,
                    "OPTIONS",
                    "https://mail.contoso.com/Microsoft-Server-ActiveSync",
                    401,
                )
                .offers(&["Basic realm=\"mail.contoso.com\""]),
                S::new(7, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401)
                    .offers(&["Basic realm=\"mail.contoso.com\""]),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!(
            (f.id.as_str(), f.severity),
            ("legacy-auth-exposed", Severity::Warning)
        );
        assert_eq!(f.sessions, vec![2, 4, 6, 7]);
        assert!(f.title.ends_with("EWS, MAPI, ActiveSync"), "{}", f.title);
        assert!(f.evidence.contains(
            "EWS https://mail.contoso.com/EWS/ offered Negotiate, NTLM, Basic next to Bearer (session(s) 2, 7)"
        ), "{}", f.evidence);
        assert!(f.evidence.contains("ActiveSync https://mail.contoso.com/Microsoft-Server-ActiveSync offered Basic without Bearer"));
        assert!(f.fix.contains("-BlockLegacyAuthWebServices"));
        assert!(f.fix.contains("Set-MapiVirtualDirectory"));
    }

    #[test]
    fn bearer_only_internal_autodiscover_and_cloud_raise_nothing() {
        let f = run(
            check,
            vec![
                S::new(1, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401).offers(&[HMA]),
                S::new(
                    2,
                    "POST",
                    "https://exch01.contoso.local/EWS/Exchange.asmx",
                    401,
                )
                .offers(&["NTLM"]),
                S::new(3, "POST", "https://10.0.0.5/mapi/emsmdb/", 401).offers(&["NTLM"]),
                S::new(
                    4,
                    "POST",
                    "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                    401,
                )
                .offers(&[HMA, "NTLM"]),
                S::new(
                    5,
                    "GET",
                    "https://outlook.office365.com/EWS/Exchange.asmx",
                    401,
                )
                .offers(&["Basic realm=\"x\""]),
                S::new(6, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401)
                    .offers(&["NTLM TlRMTVNTUAACAAAADAAMADgAAAA="]),
            ],
        );
        assert!(f.is_empty(), "{f:#?}");
    }
}
