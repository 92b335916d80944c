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
        remedy: Some(super::Remedy::ExchangeShell {
            check: CHECK.to_vec(),
            change: CHANGE.to_vec(),
        }),
    }]
}

/// One line in the report: the commands are the remedy, printed once at the end in the fix
/// script's Exchange Management Shell block, so that this warning, in many reports, does not
/// bury the finding the ticket is about (issue 20).
const FIX: &str = "Once every client uses modern auth, turn legacy authentication off where the \
Internet reaches Exchange (Exchange Management Shell, on-premises): per virtual directory on \
Exchange 2016, or an authentication policy on Exchange 2019 CU2+; block /ecp, /owa, /PowerShell \
and /rpc from the Internet. The commands are in the fix script's Exchange Management Shell block.";

/// Read-only: each virtual directory's authentication and the organisation's policy.
const CHECK: &[&str] = &[
    "Get-ActiveSyncVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthEnabled,WindowsAuthEnabled",
    "Get-WebServicesVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthentication,WindowsAuthentication,OAuthAuthentication",
    "Get-MapiVirtualDirectory | Format-List Server,ExternalUrl,IISAuthenticationMethods",
    "Get-OabVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthentication,WindowsAuthentication,OAuthAuthentication",
    "Get-OrganizationConfig | Format-List DefaultAuthenticationPolicy",
];

/// The lock-down (written commented): Exchange 2016 per vdir, or the Exchange 2019 CU2+
/// policy; internal-only clients that need NTLM/Kerberos keep them on internal servers or URLs.
const CHANGE: &[&str] = &[
    "Exchange 2016, on the servers the Internet reaches:",
    "Get-ActiveSyncVirtualDirectory -Server <server> | Set-ActiveSyncVirtualDirectory -BasicAuthEnabled $false",
    "Get-WebServicesVirtualDirectory -Server <server> | Set-WebServicesVirtualDirectory -WindowsAuthentication $false -BasicAuthentication $false -OAuthAuthentication $true",
    "Get-MapiVirtualDirectory -Server <server> | Set-MapiVirtualDirectory -IISAuthenticationMethods OAuth",
    "Get-OabVirtualDirectory -Server <server> | Set-OabVirtualDirectory -WindowsAuthentication $false -BasicAuthentication $false -OAuthAuthentication $true",
    "iisreset /noforce",
    "Exchange 2019 CU2 or later, instead:",
    "New-AuthenticationPolicy -Name 'Block Legacy Auth' -BlockLegacyAuthActiveSync -BlockLegacyAuthAutodiscover -BlockLegacyAuthImap -BlockLegacyAuthMapi -BlockLegacyAuthOfflineAddressBook -BlockLegacyAuthPop -BlockLegacyAuthRpc -BlockLegacyAuthWebServices",
    "Set-OrganizationConfig -DefaultAuthenticationPolicy 'Block Legacy Auth'",
    "Exceptions per user: Set-User <user> -AuthenticationPolicy <policy>; allow 30 minutes or restart MSExchangeServiceHost.",
];

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
        // One line here; the commands are the remedy, printed once in the script.
        assert!(f.fix.len() < 400, "{}", f.fix);
        let Some(super::super::Remedy::ExchangeShell { check, change }) = &f.remedy else {
            panic!("a shell remedy");
        };
        assert!(check.iter().all(|c| c.starts_with("Get-")));
        assert!(change
            .iter()
            .any(|c| c.contains("-BlockLegacyAuthWebServices")));
        assert!(change
            .iter()
            .any(|c| c.contains("Set-MapiVirtualDirectory -IISAuthenticationMethods OAuth")));
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
