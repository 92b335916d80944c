//! `federation-realm-unknown`: Entra ID's realm discovery answered `NameSpaceType: Unknown`
//! for the domain of the name the user signs in with.
//!
//! Entra ID knows no tenant with that domain verified: the user typed a wrong UPN suffix
//! (often the mail address where the UPN differs, or an internal `.local` suffix), or the
//! domain was never added and verified. The sign-in cannot reach the IdP or the tenant.
//! A warning: the client may ask again with another name (the capture then shows a realm
//! answer for it, which clears the finding for that domain).

use super::federation::realms;
use super::{sorted, Context, Finding, Severity};
use crate::auth::federation::Namespace;

pub fn check(cx: &Context) -> Vec<Finding> {
    let all = realms(cx);
    let mut unknown: Vec<(String, Vec<u64>)> = Vec::new();
    for r in &all {
        if r.namespace != Namespace::Unknown {
            continue;
        }
        let Some(domain) = r.login_domain.clone() else {
            continue;
        };
        // The same domain answered as known elsewhere in the capture: not this problem.
        let known_elsewhere = all.iter().any(|o| {
            matches!(o.namespace, Namespace::Managed | Namespace::Federated)
                && (o.login_domain.as_deref() == Some(domain.as_str())
                    || o.domain.as_deref() == Some(domain.as_str()))
        });
        if known_elsewhere {
            continue;
        }
        match unknown.iter_mut().find(|(d, _)| *d == domain) {
            Some((_, ids)) => ids.push(r.session),
            None => unknown.push((domain, vec![r.session])),
        }
    }
    unknown
        .into_iter()
        .map(|(domain, ids)| {
            let sessions = sorted(ids);
            let first = sessions.first().copied().unwrap_or_default();
            Finding {
                id: "federation-realm-unknown".into(),
                severity: Severity::Warning,
                title: format!(
                    "Realm discovery does not know the domain {domain}: the user signs in with a UPN suffix no tenant has verified"
                ),
                evidence: format!(
                    "Entra ID answered NameSpaceType Unknown for a user name at {domain} {} time(s) \
                     (first in session {first}: {}); no answer in the capture calls that domain \
                     Managed or Federated.",
                    sessions.len(),
                    cx.describe(first)
                ),
                sessions,
                fix: format!(
                    "Find the user's real sign-in name: whoami /upn on the device, or Get-MgUser \
                     -UserId <mail address> -Property UserPrincipalName (Microsoft Graph \
                     PowerShell). If the user typed the mail address and the UPN differs, sign in \
                     with the UPN (or align the on-premises UPN with the mail address and let \
                     Microsoft Entra Connect sync it). If {domain} is the intended suffix, check it \
                     is added and verified in the tenant: Get-MgDomain -DomainId {domain} | \
                     Format-List Id, IsVerified, AuthenticationType (Microsoft Graph PowerShell); \
                     add it with New-MgDomain -Id {domain} and verify it with Confirm-MgDomain \
                     after publishing the DNS record. A non-routable suffix (.local) needs an \
                     alternative UPN suffix in Active Directory Domains and Trusts and \
                     Set-ADUser -UserPrincipalName on the users."
                ),
                remedy: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;

    fn realm(id: u64, user: &str, ns: &str) -> S {
        S::new(
            id,
            "GET",
            &format!("https://login.microsoftonline.com/common/userrealm/?user={user}&api-version=2.1"),
            200,
        )
        .resp_header("Content-Type", "application/json; charset=utf-8")
        .resp_body(&format!(
            r#"{{"NameSpaceType":"{ns}","Login":"{user}","DomainName":"contoso.com","CloudInstanceName":"microsoftonline.com"}}"#
        ))
    }

    #[test]
    fn unknown_domain_is_a_warning_naming_only_the_domain() {
        let f = run(check, vec![realm(4, "jo@contoso.local", "Unknown")]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "federation-realm-unknown");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].sessions, vec![4]);
        assert!(f[0].title.contains("contoso.local"), "{}", f[0].title);
        let json = serde_json::to_string(&f).unwrap_or_default();
        assert!(!json.contains("jo@"), "{json}");
    }

    #[test]
    fn does_not_trigger() {
        // Managed and Federated answers.
        assert!(run(check, vec![realm(1, "jo@contoso.com", "Managed")]).is_empty());
        assert!(run(check, vec![realm(1, "jo@contoso.com", "Federated")]).is_empty());
        // Unknown, then the same domain answered Federated (a retry that found the tenant).
        assert!(run(
            check,
            vec![
                realm(1, "jo@contoso.com", "Unknown"),
                realm(2, "jo@contoso.com", "Federated")
            ]
        )
        .is_empty());
        // Unknown without a user name in the URL (no domain to blame).
        let bare = S::new(
            3,
            "GET",
            "https://login.microsoftonline.com/common/userrealm/?api-version=2.1",
            200,
        )
        .resp_body(r#"{"NameSpaceType":"Unknown"}"#);
        assert!(run(check, vec![bare]).is_empty());
        // A realm path on a host that is not Entra ID.
        let elsewhere = S::new(
            5,
            "GET",
            "https://mail.contoso.com/common/userrealm/?user=a@contoso.local",
            200,
        )
        .resp_body(r#"{"NameSpaceType":"Unknown"}"#);
        assert!(run(check, vec![elsewhere]).is_empty());
    }
}
