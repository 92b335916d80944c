//! `federation-seamless-sso`: Seamless SSO (the `AZUREADSSOACC` Kerberos sign-in at
//! `autologon.microsoftazuread-sso.com`) failed, so users are prompted.
//!
//! Two signs: Entra ID's 81xxx codes (81010 ticket expired or invalid, often after the
//! AZUREADSSOACC key was rolled or the account re-created; 81012 another user than the one
//! logged on; 81001 ticket too large; 81011/81013 user not found from the ticket; 81004/81009
//! ticket not validated), and the `autologon` endpoint offering Negotiate while the client never
//! answered with a ticket (the URL is not in the Local intranet zone, or the device is not
//! domain-joined or not on the network). A warning: the user can still sign in with a password.

use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::federation::FederationEvent;

/// The Seamless SSO codes, with what each calls for.
fn advice(code: u32) -> Option<&'static str> {
    Some(match code {
        81001 => "the user's Kerberos ticket is too large (too many group memberships): reduce them",
        81004 | 81009 | 81002 | 81003 | 81008 => "the Kerberos ticket could not be validated: check the AZUREADSSOACC computer account exists in each forest and roll its key over",
        81010 => "the Kerberos ticket expired or is invalid: klist purge (or sign out and in) on a domain-joined device inside the network; for many users, roll the AZUREADSSOACC key over",
        81011 | 81013 => "no user object matches the ticket: sync the user with Microsoft Entra Connect",
        81012 => "the user signing in is not the user logged on to Windows: expected when another account is used",
        _ => return None,
    })
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let mut code_sessions: Vec<u64> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut codes_seen: Vec<u32> = Vec::new();
    for (session, e) in cx.aad_errors() {
        for c in &e.codes {
            if advice(*c).is_some() {
                code_sessions.push(session);
                if !codes_seen.contains(c) {
                    codes_seen.push(*c);
                }
            }
        }
    }
    codes_seen.sort_unstable();
    for c in &codes_seen {
        let ids: Vec<u64> = cx
            .aad_errors()
            .filter(|(_, e)| e.codes.contains(c))
            .map(|(s, _)| s)
            .collect();
        lines.push(format!(
            "AADSTS{c} in session(s) {}: {}",
            session_list(&sorted(ids)),
            advice(*c).unwrap_or_default()
        ));
    }
    let autologon: Vec<_> = cx
        .federation()
        .filter_map(|f| match f {
            FederationEvent::SeamlessSso(s) => Some(s),
            _ => None,
        })
        .collect();
    let mut no_ticket: Vec<u64> = Vec::new();
    if !autologon.is_empty() && !autologon.iter().any(|s| s.negotiate_sent) {
        no_ticket = autologon
            .iter()
            .filter(|s| s.negotiate_offered)
            .map(|s| s.session)
            .collect();
    }
    if !no_ticket.is_empty() {
        lines.push(format!(
            "autologon.microsoftazuread-sso.com offered Negotiate (401) in session(s) {} and the client never answered with a Kerberos ticket: the URL is not in the Local intranet zone, the device is not domain-joined, or no domain controller was reachable",
            session_list(&no_ticket)
        ));
    }
    if lines.is_empty() {
        return Vec::new();
    }
    let mut sessions = code_sessions;
    sessions.extend(no_ticket.iter().copied());
    let title = if codes_seen.is_empty() {
        "Seamless SSO did not sign the user in: the client sent no Kerberos ticket to autologon"
            .to_string()
    } else {
        let list: Vec<String> = codes_seen.iter().map(|c| format!("AADSTS{c}")).collect();
        format!(
            "Seamless SSO failed ({}): users are prompted instead of signed in",
            list.join(", ")
        )
    };
    vec![Finding {
        id: "federation-seamless-sso".into(),
        severity: Severity::Warning,
        title,
        sessions: sorted(sessions),
        evidence: format!("{}.", lines.join("; ")),
        fix: "Roll over the Kerberos decryption key of the AZUREADSSOACC computer account (Microsoft \
recommends every 30 days; required after the account was re-created or its key reset), on the \
Microsoft Entra Connect server in PowerShell: cd \"$env:ProgramFiles\\Microsoft Azure Active Directory \
Connect\"; Import-Module .\\AzureADSSO.psd1; New-AzureADSSOAuthenticationContext; \
Get-AzureADSSOStatus | ConvertFrom-Json; Update-AzureADSSOForest -OnPremCredentials (Get-Credential) \
(a domain administrator of each forest, in order). On clients: add \
https://autologon.microsoftazuread-sso.com to the Local intranet zone by Group Policy (User \
Configuration > Administrative Templates > Windows Components > Internet Explorer > Internet Control \
Panel > Security Page > Site to Zone Assignment List, value 1) and enable \"Allow updates to status \
bar via script\" in the intranet zone; never the Trusted sites zone. Check the user's ticket with \
klist (a ticket for HTTP/autologon.microsoftazuread-sso.com), and the DC's security log for event \
4769 for AZUREADSSOACC$."
            .into(),
        remedy: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;

    const AUTOLOGON: &str =
        "https://autologon.microsoftazuread-sso.com/contoso.com/winauth/sso?client-request-id=1";

    fn aad(id: u64, code: u32) -> S {
        S::new(id, "POST", "https://login.microsoftonline.com/common/oauth2/token", 400)
            .resp_header("Content-Type", "application/json")
            .resp_body(&format!(
                r#"{{"error":"invalid_grant","error_description":"AADSTS{code}: Desktop SSO failed.","error_codes":[{code}]}}"#
            ))
    }

    #[test]
    fn code_81010_names_the_key_rollover() {
        let f = run(check, vec![aad(3, 81010)]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "federation-seamless-sso");
        assert_eq!(f[0].sessions, vec![3]);
        assert!(f[0].title.contains("AADSTS81010"));
        assert!(f[0].fix.contains("Update-AzureADSSOForest"));
    }

    #[test]
    fn negotiate_offered_and_never_answered() {
        let f = run(
            check,
            vec![S::new(2, "GET", AUTOLOGON, 401).resp_header("WWW-Authenticate", "Negotiate")],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].evidence.contains("Local intranet zone"));
    }

    #[test]
    fn does_not_trigger() {
        // The handshake that works: 401 Negotiate, then a ticket, then 200.
        let ok = vec![
            S::new(2, "GET", AUTOLOGON, 401).resp_header("WWW-Authenticate", "Negotiate"),
            S::new(3, "GET", AUTOLOGON, 200).req_header("Authorization", "Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnagMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCqKCBkAEggY8YIIGOAYJKoZIhvcSAQICAQBuggYnMIIGI6ADAgEFoQMCAQ6iBwMFACAAAACj"),
        ];
        assert!(run(check, ok).is_empty());
        // Other AADSTS codes; no autologon session at all.
        assert!(run(check, vec![aad(3, 50126)]).is_empty());
        assert!(run(check, vec![aad(3, 50076)]).is_empty());
    }
}
