//! `hma-not-advertised`: on-premises Exchange does not offer hybrid modern authentication.
//!
//! Outlook learns that it may use modern auth from the 401: a `Bearer` challenge carrying
//! `authorization_uri` (Entra ID's authorize endpoint). When an Exchange host or virtual
//! directory (autodiscover, EWS, MAPI, OAB, ActiveSync, RPC) answers 401 with only
//! Negotiate / NTLM / Basic (or a bare `Bearer` without `authorization_uri`), Outlook falls
//! back to them: no Entra token, no conditional access, no MFA. Exchange often says so itself
//! with `x-ms-diagnostics: 4000000 ... oauth_not_available`.
//!
//! Looks at: every 401 `Challenge` from a non-Microsoft host whose URL is an Exchange vdir
//! (or an `autodiscover.` host). A host+vdir that offered HMA anywhere in the capture is not
//! reported (the legacy-only 401 was then something else); NTLM/Negotiate handshake
//! continuations are not offers and are ignored.

use super::exchange::{self, Vdir};
use super::{sorted, Context, Finding, Remedy, Severity};
use crate::auth::Challenge;

/// The vdirs Outlook reaches with modern auth (OWA/ECP/PowerShell use other sign-ins).
const OUTLOOK_VDIRS: &[Vdir] = &[
    Vdir::Autodiscover,
    Vdir::Ews,
    Vdir::Mapi,
    Vdir::Oab,
    Vdir::ActiveSync,
    Vdir::Rpc,
];

/// The legacy-only 401s this rule reports: `(challenge, vdir)`.
fn legacy_only<'a>(cx: &'a Context) -> Vec<(&'a Challenge, Vdir)> {
    let in_scope = |c: &Challenge| {
        if c.status != 401 || exchange::is_microsoft_cloud(&c.host) {
            return None;
        }
        exchange::vdir_of(&c.url, &c.host).filter(|v| OUTLOOK_VDIRS.contains(v))
    };
    let hma_somewhere: Vec<(String, Vdir)> = cx
        .challenges()
        .filter(|c| exchange::offers_hma(c))
        .filter_map(|c| in_scope(c).map(|v| (c.host.clone(), v)))
        .collect();
    cx.challenges()
        .filter_map(|c| in_scope(c).map(|v| (c, v)))
        .filter(|(c, v)| !hma_somewhere.contains(&(c.host.clone(), *v)))
        .filter(|(c, _)| !exchange::offers_hma(c))
        .filter(|(c, _)| !exchange::legacy(&exchange::offered(c)).is_empty())
        .collect()
}

fn is_oauth_not_available(c: &Challenge) -> bool {
    c.diagnostics.as_ref().is_some_and(|d| {
        d.code_number() == Some(4000000)
            || d.error_category
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("oauth_not_available"))
    })
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let found = legacy_only(cx);
    if found.is_empty() {
        return Vec::new();
    }
    let groups = exchange::group(found.iter().map(|(c, v)| ((c.host.clone(), *v), c.session)));
    let mut lines = Vec::new();
    for ((host, vdir), sessions) in &groups {
        let mut offered: Vec<String> = Vec::new();
        let mut bare_bearer = false;
        for (c, _) in found.iter().filter(|(c, v)| &c.host == host && v == vdir) {
            for s in exchange::offered(c) {
                if s == "Bearer" {
                    bare_bearer = true;
                } else if !offered.contains(&s) {
                    offered.push(s);
                }
            }
        }
        lines.push(format!(
            "{host} {} (session(s) {}): 401 offered {}{}",
            vdir.path(),
            list(sessions),
            exchange::join(&offered),
            if bare_bearer {
                ", and Bearer without authorization_uri"
            } else {
                ", no Bearer"
            }
        ));
    }
    let not_available: Vec<&Challenge> = found
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| is_oauth_not_available(c))
        .collect();
    let diag = not_available
        .first()
        .and_then(|c| c.diagnostics.as_ref())
        .map(|d| {
            format!(
                " Exchange said x-ms-diagnostics {} oauth_not_available{} (session(s) {}).",
                d.code,
                d.reason
                    .as_deref()
                    .map(|r| format!(": \"{r}\""))
                    .unwrap_or_default(),
                list(&sorted(not_available.iter().map(|c| c.session).collect()))
            )
        })
        .unwrap_or_default();
    let hosts: Vec<String> = {
        let mut h: Vec<String> = groups.keys().map(|(h, _)| h.clone()).collect();
        h.dedup();
        h
    };
    vec![Finding {
        id: "hma-not-advertised".into(),
        severity: if not_available.is_empty() {
            Severity::Warning
        } else {
            Severity::Error
        },
        title: format!(
            "Hybrid modern authentication is not offered by {}: Outlook falls back to \
             Basic/NTLM and no conditional access applies",
            exchange::join(&hosts)
        ),
        sessions: sorted(found.iter().map(|(c, _)| c.session).collect()),
        evidence: format!("{}.{diag}", lines.join("; ")),
        fix: match not_available
            .iter()
            .find_map(|c| c.diagnostics.as_ref()?.flighting_domain())
        {
            Some(domain) => format!(
                "{FIX} Exchange said \"Flighting is not enabled for domain\" {domain}: on Exchange \
                 2016 CU18 / 2019 CU7 and later configured by a Hybrid Configuration Wizard from \
                 after September 2020, the EvoSTS auth server must list the tenant's domain: \
                 Get-AuthServer | Format-List Name,Enabled,DomainName,IsDefaultAuthorizationEndpoint, \
                 then Set-AuthServer -Identity \"EvoSTS - <GUID>\" -DomainName \"<tenant domain>\" \
                 -IsDefaultAuthorizationEndpoint $true (with several tenants, one EvoSTS auth \
                 server per tenant, each with its domains)."
            ),
            None => FIX.to_string(),
        },
        remedy: Some(Remedy::ExchangeShell {
            check: vec![
                "Get-AuthServer | Format-List Name,Enabled,IsDefaultAuthorizationEndpoint,AuthMetadataUrl",
                "Get-OrganizationConfig | Format-List OAuth2ClientProfileEnabled",
            ],
            change: vec![
                "Set-AuthServer -Identity EvoSTS -IsDefaultAuthorizationEndpoint $true",
                "Set-OrganizationConfig -OAuth2ClientProfileEnabled $true",
            ],
        }),
    }]
}

const FIX: &str = "Turn on hybrid modern authentication on the Exchange servers (Exchange \
Management Shell): Set-AuthServer -Identity EvoSTS -IsDefaultAuthorizationEndpoint $true, then \
Set-OrganizationConfig -OAuth2ClientProfileEnabled $true (the EvoSTS auth server comes from the \
Hybrid Configuration Wizard; check it with Get-AuthServer). Make sure OAuth is among the \
authentication methods of each virtual directory (Get-MapiVirtualDirectory, \
Get-WebServicesVirtualDirectory, Get-OabVirtualDirectory, Get-AutodiscoverVirtualDirectory, \
Get-ActiveSyncVirtualDirectory | Format-List Server,*Url,*Auth*). Add every internal and \
external URL of those virtual directories as https://host/ to the ServicePrincipalNames of Office \
365 Exchange Online (AppId 00000002-0000-0ff1-ce00-000000000000), or Entra ID will answer \
AADSTS500011 next. Client side: Outlook 2016 and later use modern auth by default; Outlook 2013 \
needs HKCU\\Software\\Microsoft\\Office\\15.0\\Common\\Identity EnableADAL=1 and Version=1 \
(REG_DWORD). Restart Outlook after the change (IIS app pools recycle on their own; allow a few \
minutes).";

fn list(ids: &[u64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, HMA, NO_TOKEN_DIAG, OAUTH_NOT_AVAILABLE, S};
    use super::*;

    const AD: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";

    #[test]
    fn legacy_only_with_4000000_is_an_error() {
        let f = run(
            check,
            vec![
                S::new(3, "POST", AD, 401)
                    .offers(&[
                        "Negotiate",
                        "NTLM",
                        r#"Basic realm="autodiscover.contoso.com""#,
                    ])
                    .diag(OAUTH_NOT_AVAILABLE),
                S::new(
                    7,
                    "POST",
                    "https://mail.contoso.com/mapi/emsmdb/?MailboxId=x",
                    401,
                )
                .offers(&["Bearer", "NTLM"]),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].id, "hma-not-advertised");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].sessions, vec![3, 7]);
        assert!(f[0].evidence.contains("4000000"), "{}", f[0].evidence);
        assert!(f[0].evidence.contains("Flighting is not enabled"));
        assert!(f[0]
            .evidence
            .contains("mail.contoso.com /mapi/ (session(s) 7): 401 offered NTLM, and Bearer without authorization_uri"));
        assert!(f[0].fix.contains("-IsDefaultAuthorizationEndpoint $true"));
        assert!(f[0].fix.contains("-OAuth2ClientProfileEnabled $true"));
        // The domain Exchange named, and the documented -DomainName form.
        assert!(
            f[0].fix
                .contains("\"Flighting is not enabled for domain\" contoso.com")
                && f[0].fix.contains("-DomainName \"<tenant domain>\""),
            "{}",
            f[0].fix
        );
        assert!(f[0].fix.contains("EnableADAL"));
    }

    #[test]
    fn without_the_diagnostic_it_is_a_warning() {
        let f = run(
            check,
            vec![
                S::new(2, "GET", "https://mail.contoso.com/OAB/x/oab.xml", 401)
                    .offers(&["Negotiate", "NTLM"]),
            ],
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
    }

    #[test]
    fn hma_offered_ntlm_continuations_and_non_exchange_are_quiet() {
        let f = run(
            check,
            vec![
                // HMA on: the usual on-premises challenge.
                S::new(1, "POST", AD, 401)
                    .offers(&[HMA, "Negotiate", "NTLM", "Basic realm=\"x\""])
                    .diag(NO_TOKEN_DIAG),
                // The client chose NTLM afterwards: the type-2 continuation is no offer.
                S::new(2, "POST", AD, 401).offers(&["NTLM TlRMTVNTUAACAAAADAAMADgAAAA="]),
                // Same host and vdir, legacy-only (e.g. a second probe): HMA was offered there.
                S::new(3, "POST", AD, 401).offers(&["NTLM"]),
                // Not Exchange.
                S::new(4, "GET", "https://intranet.contoso.com/sites/x", 401).offers(&["NTLM"]),
                // Exchange Online is not on-premises.
                S::new(
                    5,
                    "GET",
                    "https://outlook.office365.com/EWS/Exchange.asmx",
                    401,
                )
                .offers(&["Basic realm=\"x\""]),
                // 403 is not a challenge to fall back from.
                S::new(6, "GET", "https://mail.contoso.com/ews/exchange.asmx", 403)
                    .offers(&["NTLM"]),
            ],
        );
        assert!(f.is_empty(), "{f:#?}");
    }
}
