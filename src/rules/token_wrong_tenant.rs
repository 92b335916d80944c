//! `token-wrong-tenant`: a token from, or a sign-in to, another tenant than the one
//! Exchange's challenge names.
//!
//! Exchange's Bearer challenge names its tenant: the GUID after `@` in `trusted_issuers`,
//! and the tenant path of `authorization_uri` when it is not `common`. Two cases:
//! - before any token exists: the client sent its sign-in to another tenant (a GUID or
//!   domain in the authority path) and Entra ID answered an error, typically AADSTS500011
//!   "not found in the tenant named <other>". The SPN is not missing (it is looked for in
//!   the wrong tenant): `spn-missing` lists no SPN for it and no fix script targets that
//!   tenant (`Context::missing_spns` leaves such flows out);
//! - a token whose `tid` is not the challenge's tenant was presented and refused: a guest
//!   account, a second tenant signed in to Office, a token cached from another organisation.
//!
//! Tenants are compared only in the same form (GUID with GUID, domain with domain): a domain
//! cannot be told from a GUID without asking Entra ID, so a sign-in to `fabrikam.com` under
//! a challenge naming only a GUID is not judged. An Exchange Online token presented
//! on-premises carries the same tenant: `token-audience-mismatch` finds it by its audience.

use std::collections::BTreeMap;

use super::evidence::{loops_sentence, quote_error};
use super::tokens::{exchange_host, refused};
use super::{sorted, Context, Finding, Severity};
use crate::flows::is_guid;

pub fn check(cx: &Context) -> Vec<Finding> {
    let mut out = asked_elsewhere(cx);
    out.extend(presented_elsewhere(cx));
    out
}

/// Sign-ins sent to another tenant than the challenge named, answered with an error.
fn asked_elsewhere(cx: &Context) -> Vec<Finding> {
    cx.unexplained_flows()
        .filter(|f| !f.error_sessions().is_empty())
        .filter_map(|f| {
            let (asked, named) = f.other_tenant_asked()?;
            let errors = f.error_sessions();
            let first = errors[0];
            let said = cx.aad_error_at(first).map(quote_error).unwrap_or_default();
            let codes: Vec<String> = f.aadsts.iter().map(|c| format!("AADSTS{c}")).collect();
            let challenged = f.challenge_host.as_deref().unwrap_or("the server");
            let login = f
                .attempts
                .iter()
                .flat_map(|a| a.logins.iter().copied())
                .next()
                .unwrap_or(f.first_session);
            let mut sessions = errors.clone();
            sessions.extend(f.sessions.iter().copied());
            Some(Finding {
                id: "token-wrong-tenant".into(),
                severity: Severity::Error,
                title: format!(
                    "The sign-in for {} went to tenant {asked}, not the challenge's tenant {named}",
                    f.resource
                ),
                evidence: format!(
                    "{challenged}'s Bearer challenge names tenant {named}; the client sent its \
                     sign-in to tenant {asked} (session {}: {}) and Entra ID answered {} \
                     (first in session {first}: {}).{said}{} The SPN is looked for in the \
                     wrong tenant: no SPN is missing here.",
                    login,
                    cx.describe(login),
                    codes.join("/"),
                    cx.describe(first),
                    loops_sentence(std::iter::once(f)),
                ),
                fix: format!(
                    "The client signed in with an account of another tenant ({asked}) than the \
                     organisation whose Exchange it calls ({named}): a guest or second account \
                     added to Office, or a cached sign-in. In Outlook: File > Office Account, \
                     sign out of the other account and sign in with the mailbox's own account \
                     (Windows: Settings > Accounts > Access work or school). Do not add SPNs in \
                     tenant {asked}: the error goes away when the client asks the right tenant."
                ),
                sessions: sorted(sessions),
                remedy: None,
            })
        })
        .collect()
}

/// Tokens whose `tid` is not the challenge's tenant, presented and refused.
fn presented_elsewhere(cx: &Context) -> Vec<Finding> {
    // host -> tenant GUIDs the host's challenges name
    let mut named: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in cx.challenges() {
        let Some(b) = c.bearer() else { continue };
        let list = named.entry(c.host.clone()).or_default();
        for t in b.tenant_ids.iter().filter(|t| is_guid(t)) {
            if !list.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                list.push(t.clone());
            }
        }
    }
    // (host, tid) -> sessions
    let mut seen: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for p in cx.presented() {
        let Some(host) = exchange_host(p.url) else {
            continue;
        };
        let Some(tid) = p.claims.tid.as_deref().filter(|t| is_guid(t)) else {
            continue;
        };
        let Some(tenants) = named.get(&host).filter(|t| !t.is_empty()) else {
            continue;
        };
        if tenants.iter().any(|t| t.eq_ignore_ascii_case(tid)) || !refused(cx, p.session) {
            continue;
        }
        seen.entry((host, tid.to_ascii_lowercase()))
            .or_default()
            .push(p.session);
    }
    seen.into_iter()
        .map(|((host, tid), sessions)| {
            let first = sessions[0];
            let tenants = named.get(&host).map(|t| t.join(", ")).unwrap_or_default();
            let app = cx
                .claims_in(first)
                .and_then(|c| c.appid.clone())
                .map(|a| format!(", appid={a}"))
                .unwrap_or_default();
            Finding {
                id: "token-wrong-tenant".into(),
                severity: Severity::Error,
                title: format!(
                    "A token from tenant {tid} was presented to {host}, whose tenant is {tenants}"
                ),
                evidence: format!(
                    "{host}'s Bearer challenge names tenant {tenants} (trusted_issuers); a token \
                     with tid={tid}{app} was presented {} time(s) and refused, first in session \
                     {first}: {}.",
                    sessions.len(),
                    cx.describe(first),
                ),
                fix: format!(
                    "The client holds a token of another organisation (tenant {tid}): a guest \
                     account, or a second work account signed in to Office. Sign out of that \
                     account (Outlook: File > Office Account; Windows: Settings > Accounts > \
                     Access work or school) and sign in with the mailbox's own account of tenant \
                     {tenants}, then restart the client."
                ),
                sessions: sorted(sessions),
                remedy: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_no_token, build, run, HMA, S};
    use super::*;

    /// The challenge's tenant (HMA's trusted_issuers).
    const CONTOSO: &str = "72f988bf-0000-4000-8000-0123456789ab";
    const FABRIKAM: &str = "4c1f2b3a-5d6e-4f70-8a9b-0c1d2e3f4a5b";
    const AD: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
    const FORM: &str = "resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&grant_type=refresh_token&refresh_token=SECRET";

    fn e500011(id: u64, tenant: &str, named: &str) -> S {
        S::new(id, "POST", &format!("https://login.microsoftonline.com/{tenant}/oauth2/token"), 400)
            .req_header("Content-Type", "application/x-www-form-urlencoded")
            .req_body(FORM)
            .resp_header("Content-Type", "application/json")
            .resp_body(&format!(r#"{{"error":"invalid_resource","error_description":"AADSTS500011: The resource principal named https://autodiscover.contoso.com was not found in the tenant named {named}. This can happen if the application has not been installed by the administrator of the tenant.","error_codes":[500011]}}"#))
    }

    fn round(first: u64, tenant: &str, named: &str) -> Vec<S> {
        vec![
            S::new(first, "POST", AD, 401).offers(&[HMA]),
            e500011(first + 1, tenant, named),
        ]
    }

    #[test]
    fn a_sign_in_to_another_tenant_is_not_a_missing_spn() {
        let mut sessions = round(1, FABRIKAM, "Fabrikam");
        sessions.extend(round(3, FABRIKAM, "Fabrikam"));
        let analysis = build(sessions);
        let ids: Vec<&str> = analysis.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, vec!["token-wrong-tenant"], "{:#?}", analysis.findings);
        let f = &analysis.findings[0];
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.sessions, vec![1, 2, 3, 4]);
        assert!(
            f.title.contains(&format!(
                "went to tenant {FABRIKAM}, not the challenge's tenant {CONTOSO}"
            )),
            "{}",
            f.title
        );
        assert!(
            f.evidence.contains("tenant named Fabrikam"),
            "{}",
            f.evidence
        );
        assert!(f.remedy.is_none());
        assert!(analysis.context().missing_spns().is_empty());
        let script = crate::report::Report::new(&analysis).powershell;
        assert!(
            !script.contains(FABRIKAM) && !script.contains("Fabrikam"),
            "{script}"
        );
        assert_no_token(&analysis.findings);
    }

    #[test]
    fn a_refused_token_of_another_tenant() {
        let claims = format!(
            r#"{{"aud":"https://mail.contoso.com","tid":"{FABRIKAM}","appid":"d3590ed6-52b3-4102-aeff-aad2292ab01c","exp":1795000000}}"#
        );
        let ews = |id| {
            S::new(
                id,
                "POST",
                "https://mail.contoso.com/EWS/Exchange.asmx",
                401,
            )
            .bearer(&claims)
            .offers(&[HMA])
        };
        let f = run(check, vec![ews(5), ews(6)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].sessions, vec![5, 6]);
        assert!(
            f[0].evidence.contains(&format!("tid={FABRIKAM}")),
            "{}",
            f[0].evidence
        );
        assert_no_token(&f);
    }

    /// What must not trigger it.
    #[test]
    fn the_right_tenant_common_accepted_or_incomparable_do_not_trigger() {
        // The SPN really missing in the challenge's own tenant (GUID or `common` in the path):
        // spn-missing, not this.
        for tenant in [CONTOSO, "common"] {
            let analysis = build(round(1, tenant, "Contoso"));
            let ids: Vec<&str> = analysis.findings.iter().map(|f| f.id.as_str()).collect();
            assert_eq!(ids, vec!["spn-missing"], "{tenant}");
        }
        // A domain in the path against a GUID in the challenge: not comparable, not judged.
        let analysis = build(round(1, "fabrikam.onmicrosoft.com", "Fabrikam"));
        let ids: Vec<&str> = analysis.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, vec!["spn-missing"]);
        // Tokens: the challenge's tenant; another tenant accepted; no challenge to compare.
        let token = |id, tid: &str, status| {
            S::new(
                id,
                "POST",
                "https://mail.contoso.com/EWS/Exchange.asmx",
                status,
            )
            .bearer(&format!(
                r#"{{"aud":"https://mail.contoso.com","tid":"{tid}"}}"#
            ))
        };
        assert!(run(check, vec![token(1, CONTOSO, 401).offers(&[HMA])]).is_empty());
        assert!(run(check, vec![token(1, FABRIKAM, 200)]).is_empty());
        assert!(run(check, vec![token(1, FABRIKAM, 401).offers(&["NTLM"])]).is_empty());
    }
}
