//! `exchange-oauth-error`: Exchange rejected an OAuth token, and said why in
//! `x-ms-diagnostics`.
//!
//! Entra ID issued a token, the client presented it, and on-premises Exchange answered 401
//! (or another error) with a code: 2000000 invalid signature, 2000001 invalid token, 2000003
//! invalid resource (audience), 2000004 invalid tenant, 2000005 invalid user, 2000008 (not
//! documented), 4000000 OAuth not available. One finding per code, with the claims of the
//! token presented in the same session (`aud`, `tid`, `appid`, `upn`, `exp`; never the
//! token), and for 2000003 the audience against the URL that was served.
//!
//! Judged in context, per code family:
//! - 2000001 for an expired token (the reason says so, or the token's `exp` is past) followed
//!   by a request to the same host that presented a token and got in: the hourly refresh
//!   cycle. Not reported. Expired and never followed by a success: a warning.
//! - Any other 2000000-2000008 refusal followed by a success with a token on that host: a
//!   warning (refused, then accepted: a transient or a stale token). Refused and never
//!   accepted after it: the error, with the claims presented.
//!
//! Not reported: 2000001 on a 401 to a request that presented no token (Exchange's normal
//! answer to Outlook's empty-Bearer probe, part of every HMA flow). The sessions
//! `hma-not-advertised` cites are not seen here at all (it has precedence: `rules::RULES`), so
//! its 4000000 "OAuth not available" is reported once, as the missing HMA it is.

use std::collections::HashMap;

use super::evidence::claims_line;
use super::exchange;
use super::{sorted, Context, Finding, Severity};
use crate::auth::challenge::resource_of;
use crate::auth::diagnostics::InvalidUser;
use crate::auth::{Event, ExchangeDiagnostic};
use crate::capture::Credential;

/// One diagnostic seen on an Exchange response.
struct Seen<'a> {
    session: u64,
    url: &'a str,
    status: Option<u16>,
    diag: &'a ExchangeDiagnostic,
    /// A later request to the same host presented a token and got in.
    accepted_later: bool,
    /// 2000001 for a token past its `exp`.
    expired: bool,
}

/// Per host, the last session in which a request presenting a Bearer token got an answer
/// below 400.
fn last_accepted<'a>(cx: &Context<'a>) -> HashMap<&'a str, u64> {
    let mut last = HashMap::new();
    for s in cx.sessions {
        if s.credential == Some(Credential::Bearer) && s.status.is_some_and(|c| c < 400) {
            if let Some(h) = s.host.as_deref() {
                last.insert(h, s.id);
            }
        }
    }
    last
}

/// The refusal is Exchange's answer to an expired token.
fn is_expired(cx: &Context, session: u64, diag: &ExchangeDiagnostic) -> bool {
    if diag.code_number() != Some(2000001) {
        return false;
    }
    let said = diag
        .reason
        .as_deref()
        .is_some_and(|r| r.to_ascii_lowercase().contains("expired"));
    let past = match (
        cx.claims_in(session).and_then(|c| c.exp),
        cx.session(session).and_then(|s| s.start),
    ) {
        (Some(exp), Some(at)) => exp <= at.timestamp(),
        _ => false,
    };
    said || past
}

fn seen<'a>(cx: &'a Context) -> Vec<Seen<'a>> {
    let accepted = last_accepted(cx);
    cx.events()
        .filter_map(|e| match e {
            Event::Challenge(c) => c.diagnostics.as_ref().map(|d| Seen {
                session: c.session,
                url: &c.url,
                status: Some(c.status),
                diag: d,
                accepted_later: false,
                expired: false,
            }),
            Event::Diagnostic {
                session,
                url,
                diagnostic,
            } => Some(Seen {
                session: *session,
                url,
                status: cx.session(*session).and_then(|s| s.status),
                diag: diagnostic,
                accepted_later: false,
                expired: false,
            }),
            _ => None,
        })
        .filter(|s| {
            crate::capture::host_of(s.url)
                .is_some_and(|h| !crate::auth::login::is_authority_host(&h))
        })
        .filter(|s| match s.diag.code_number() {
            Some(2000001) => cx.claims_in(s.session).is_some() || s.status != Some(401),
            _ => true,
        })
        .map(|mut s| {
            let host = crate::capture::host_of(s.url).unwrap_or_default();
            s.accepted_later = accepted.get(host.as_str()).is_some_and(|&l| l > s.session);
            s.expired = is_expired(cx, s.session, s.diag);
            s
        })
        // The hourly cycle: an expired token refused, a fresh one accepted.
        .filter(|s| !(s.expired && s.accepted_later))
        .collect()
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let all = seen(cx);
    let codes = exchange::group(all.iter().map(|s| (s.diag.code.clone(), s.session)));
    codes
        .into_iter()
        .map(|(code, sessions)| {
            let items: Vec<&Seen> = all.iter().filter(|s| s.diag.code == code).collect();
            finding(cx, &code, &items, sessions)
        })
        .collect()
}

fn finding(cx: &Context, code: &str, items: &[&Seen], sessions: Vec<u64>) -> Finding {
    let first = items[0];
    let number = first.diag.code_number();
    let shown = if code.is_empty() { "(no code)" } else { code };
    let meaning = first
        .diag
        .meaning()
        .unwrap_or("a code traceadal does not know: read the reason as sent");
    // Refused and never accepted after: the error. Refused, then accepted, or refused only
    // for having expired: worth a look.
    let rejected = items
        .iter()
        .any(|s| matches!(s.status, Some(401 | 403)) && !s.accepted_later && !s.expired);
    let severity = match number {
        Some(2000000..=2000008) if rejected => Severity::Error,
        _ => Severity::Warning,
    };
    let mut reasons: Vec<String> = Vec::new();
    for s in items {
        let r = match (&s.diag.reason, &s.diag.error_category) {
            (Some(r), Some(k)) => format!("\"{r}\" ({k})"),
            (Some(r), None) => format!("\"{r}\""),
            (None, Some(k)) => k.clone(),
            (None, None) => continue,
        };
        if !reasons.contains(&r) && reasons.len() < 3 {
            reasons.push(r);
        }
    }
    let mut evidence = format!(
        "x-ms-diagnostics {shown} on {} response(s), first session {}: {} -> {}. Meaning: {meaning}.",
        sessions.len(),
        first.session,
        cx.describe(first.session),
        first.status.map_or("no status".into(), |s| s.to_string()),
    );
    if !reasons.is_empty() {
        evidence.push_str(&format!(" Reason: {}.", reasons.join("; ")));
    }
    if items.iter().all(|s| s.accepted_later) {
        evidence.push_str(" A later request to the same host presented a token and got in.");
    }
    if let Some((s, claims)) = items
        .iter()
        .find_map(|s| cx.claims_in(s.session).map(|c| (s, c)))
    {
        evidence.push_str(&format!(
            " Token presented in session {}: {}.",
            s.session,
            claims_line(claims)
        ));
        if number == Some(2000003) {
            evidence.push_str(&audience_note(claims.aud.as_deref(), s.url));
        }
    }
    Finding {
        id: "exchange-oauth-error".into(),
        severity,
        title: format!(
            "Exchange refused OAuth: x-ms-diagnostics {shown} ({})",
            label(first.diag)
        ),
        sessions: sorted(sessions),
        evidence,
        fix: fix(
            first.diag,
            first.url,
            items
                .iter()
                .find_map(|s| cx.claims_in(s.session).and_then(|c| c.upn.as_deref())),
        ),
        remedy: None,
    }
}

/// A few words for the title.
fn label(diag: &ExchangeDiagnostic) -> &'static str {
    match diag.invalid_user() {
        Some(InvalidUser::Ambiguous) => return "invalid user: ambiguous",
        Some(InvalidUser::NotFound) => return "invalid user: not found on-premises",
        None => {}
    }
    match diag.code_number() {
        Some(2000000) => "invalid signature",
        Some(2000001) => "invalid token",
        Some(2000003) => "invalid resource: audience does not match the URL",
        Some(2000004) => "invalid tenant",
        Some(2000005) => "invalid user",
        Some(2000008) => "undocumented code",
        Some(4000000) => "OAuth not available",
        _ => "unknown code",
    }
}

/// For 2000003: what the token was for against what was served, and which part differs.
fn audience_note(aud: Option<&str>, url: &str) -> String {
    let served = resource_of(url);
    let Some(aud) = aud else {
        return format!(" The URL served is {served}; the token's audience could not be read.");
    };
    let a = aud.trim_end_matches('/').to_ascii_lowercase();
    let differs = match (a.split_once("://"), served.split_once("://")) {
        (Some((sa, ha)), Some((ss, hs))) if sa != ss && ha == hs => format!(
            "the scheme differs ({sa} vs {ss}): TLS is offloaded or rewritten in front of Exchange, \
             or a virtual directory URL says {ss}"
        ),
        (Some((_, ha)), Some((_, hs))) if ha != hs => format!(
            "the host differs ({ha} vs {hs}): the client took the token for another name \
             (autodiscover vs mail) or the ExternalUrl/InternalUrl do not match the name clients use"
        ),
        (None, _) => "the audience is not a URL (an AppId): the client asked for the wrong resource".into(),
        _ => "they look alike: check the port and the exact ExternalUrl/InternalUrl".into(),
    };
    format!(" Audience {aud} against the URL served {served}: {differs}.")
}

/// An address safe to paste into a PowerShell string: what a UPN holds, nothing else.
fn pasteable(upn: Option<&str>) -> Option<&str> {
    upn.filter(|u| {
        !u.is_empty()
            && u.len() <= 256
            && u.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._@+".contains(c))
    })
}

fn fix(diag: &ExchangeDiagnostic, url: &str, upn: Option<&str>) -> String {
    let host = crate::capture::host_of(url).unwrap_or_else(|| "<host>".into());
    let user = pasteable(upn).unwrap_or("<upn of the token>");
    match diag.invalid_user() {
        Some(InvalidUser::Ambiguous) => {
            return format!(
                "Exchange found more than one on-premises object with the UPN, SMTP or SIP \
                 address of {user}. Find the duplicate (Exchange Management Shell, on-premises): \
                 Get-Recipient -Filter \"EmailAddresses -eq 'smtp:{user}' -or EmailAddresses -eq \
                 'sip:{user}'\" and Get-User -Filter \"UserPrincipalName -eq '{user}'\" (or the \
                 LDAP query (|(userPrincipalName={user})(proxyAddresses=smtp:{user})(proxyAddresses=sip:{user})) \
                 in LDP.exe or Active Directory Users and Computers); change the duplicate address \
                 or remove the duplicate object, then let it replicate."
            );
        }
        Some(InvalidUser::NotFound) => {
            return format!(
                "No on-premises user matches {user}: the account is not in on-premises Active \
                 Directory (a cloud-only account presenting a token to on-premises Exchange), or \
                 its UPN and primary SMTP address on-premises are not the ones Entra ID has (not \
                 synchronised yet, a sync error, a UPN changed on one side). Check on-premises \
                 with Get-User -Filter \"UserPrincipalName -eq '{user}'\" and Get-Recipient \
                 -Filter \"EmailAddresses -eq 'smtp:{user}'\" (Exchange Management Shell), and \
                 the user's sync in Microsoft Entra Connect: Get-MgUser -UserId {user} -Property \
                 OnPremisesSyncEnabled,OnPremisesUserPrincipalName,OnPremisesLastSyncDateTime \
                 (Microsoft Graph PowerShell); run a delta sync (Start-ADSyncSyncCycle -PolicyType \
                 Delta on the Entra Connect server) after fixing the attributes."
            );
        }
        None => {}
    }
    if let Some(domain) = diag.flighting_domain() {
        return format!(
            "Exchange has no OAuth authorization server for {domain}: the EvoSTS auth server the \
             Hybrid Configuration Wizard creates (Exchange 2016 CU18 / 2019 CU7 and later, HCW \
             after September 2020) lists the domains it serves. Check with Get-AuthServer | \
             Format-List Name,Enabled,DomainName,IsDefaultAuthorizationEndpoint (Exchange \
             Management Shell, on-premises) and set it with Set-AuthServer -Identity \"EvoSTS - \
             <GUID>\" -DomainName \"<tenant domain>\" -IsDefaultAuthorizationEndpoint $true (the \
             domain of {domain}); with several tenants, each EvoSTS auth server lists its own \
             domains. Then Set-OrganizationConfig -OAuth2ClientProfileEnabled $true, and check \
             OAuth is among the vdir's authentication methods."
        );
    }
    match diag.code_number() {
        Some(2000000) => "The signature did not validate: refresh Exchange's copy of the Entra ID \
            signing metadata with Set-AuthServer -Identity EvoSTS -RefreshAuthMetadata (and \
            Get-AuthServer | Format-List Name,*Metadata*,IsDefaultAuthorizationEndpoint); check the \
            OAuth certificate with Get-AuthConfig (CurrentCertificateThumbprint) exists, is not \
            expired and is on every server (Get-ExchangeCertificate -Thumbprint ...); if it was \
            renewed, publish it again (run the Hybrid Configuration Wizard)."
            .into(),
        Some(2000001) => "Read the reason: an expired token (client clock, token lifetime), a \
            token for another issuer (trusted_issuers / Get-AuthServer EvoSTS), or a malformed \
            token. Refresh the auth metadata (Set-AuthServer -Identity EvoSTS -RefreshAuthMetadata) \
            and test with Test-OAuthConnectivity -Service EWS -TargetUri https://<ews host>/ews/Exchange.asmx \
            -Mailbox <mailbox> -Verbose."
            .into(),
        Some(2000003) => format!(
            "The token's audience must be exactly the URL Exchange sees. Compare the aud claim with \
             https://{host}/: if the scheme differs, stop TLS offload or http rewriting at the load \
             balancer/reverse proxy for Exchange paths; if the host differs, fix the \
             ExternalUrl/InternalUrl of the virtual directories (Get-WebServicesVirtualDirectory, \
             Get-MapiVirtualDirectory, Get-OabVirtualDirectory | Format-List Server,*Url) and make \
             sure https://{host}/ is a ServicePrincipalName of Office 365 Exchange Online."
        ),
        Some(2000004) => "The token's tenant (tid) is not the tenant Exchange trusts: check \
            Get-AuthServer EvoSTS (its metadata URL names the tenant) and Get-IntraOrganizationConnector \
            / Get-PartnerApplication; re-run the Hybrid Configuration Wizard for the right tenant."
            .into(),
        Some(2000005) => "The user in the token (upn) has no matching on-premises mailbox: check \
            the UPN/primary SMTP of the user on-premises and in Entra ID (synchronised, same \
            address), and that the mailbox is on-premises (not moved to Exchange Online)."
            .into(),
        Some(4000000) => "OAuth is not available on this virtual directory: turn on hybrid \
            modern authentication (see hma-not-advertised) and check that OAuth is among the \
            vdir's authentication methods."
            .into(),
        _ => "A code without public documentation: read the reason as sent, compare the token's \
            claims with the URL served, and test with Test-OAuthConnectivity -Service EWS \
            -TargetUri https://<ews host>/ews/Exchange.asmx -Mailbox <mailbox> -Verbose."
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{
        assert_no_token, build, run, HMA, NO_TOKEN_DIAG, OAUTH_NOT_AVAILABLE, S,
    };
    use super::*;

    const CLAIMS: &str = r#"{"aud":"https://autodiscover.contoso.com","tid":"72f988bf-0000-4000-8000-0123456789ab","appid":"d3590ed6-52b3-4102-aeff-aad2292ab01c","upn":"user@contoso.com","exp":1795000000}"#;
    const D2000003: &str = r#"2000003;reason="The hostname component of the audience claim value is invalid. Expected 'https://mail.contoso.com'. Actual 'https://autodiscover.contoso.com'.";error_category="invalid_resource""#;

    #[test]
    fn audience_mismatch_shows_claims_never_the_token() {
        let f = run(
            check,
            vec![S::new(
                8,
                "POST",
                "https://mail.contoso.com/mapi/emsmdb/?MailboxId=x",
                401,
            )
            .bearer(CLAIMS)
            .offers(&[HMA, "NTLM"])
            .diag(D2000003)],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].id, "exchange-oauth-error");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].sessions, vec![8]);
        let e = &f[0].evidence;
        assert!(e.contains("aud=https://autodiscover.contoso.com"), "{e}");
        assert!(e.contains("upn=user@contoso.com"), "{e}");
        assert!(
            e.contains("the host differs (autodiscover.contoso.com vs mail.contoso.com)"),
            "{e}"
        );
        assert!(!e.contains("MailboxId"), "queries stay out: {e}");
        assert_no_token(&f);
    }

    /// 2000005's two documented cases get their own title and fix, with the token's upn.
    #[test]
    fn invalid_user_ambiguous_or_not_found() {
        let refused = |reason: &str| {
            run(
                check,
                vec![
                    S::new(8, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401)
                        .bearer(CLAIMS)
                        .offers(&[HMA])
                        .diag(&format!(
                            r#"2000005;reason="{reason}";error_category="invalid_user""#
                        )),
                ],
            )
        };
        let f = refused("The user specified by the user-context in the token is ambiguous.");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].title.ends_with("(invalid user: ambiguous)"),
            "{}",
            f[0].title
        );
        assert!(
            f[0].fix
                .contains("Get-Recipient -Filter \"EmailAddresses -eq 'smtp:user@contoso.com'"),
            "{}",
            f[0].fix
        );
        let f = refused("The user specified by the user-context in the token does not exist.");
        assert!(
            f[0].title
                .ends_with("(invalid user: not found on-premises)"),
            "{}",
            f[0].title
        );
        assert!(f[0].fix.contains("Microsoft Entra Connect"), "{}", f[0].fix);
        assert!(f[0]
            .fix
            .contains("Get-User -Filter \"UserPrincipalName -eq 'user@contoso.com'\""));
        let f = refused("Something else.");
        assert!(f[0].title.ends_with("(invalid user)"), "{}", f[0].title);
        assert_no_token(&f);
        // A upn that is not an address is not pasted into a command.
        assert_eq!(pasteable(Some("a'; Remove-Mailbox x")), None);
    }

    #[test]
    fn scheme_mismatch_is_named() {
        let note = audience_note(
            Some("https://mail.contoso.com/"),
            "http://mail.contoso.com/ews/exchange.asmx",
        );
        assert!(note.contains("scheme differs (https vs http)"), "{note}");
    }

    #[test]
    fn one_finding_per_code_and_the_probe_is_quiet() {
        let f = run(
            check,
            vec![
                // The normal HMA probe: no token, 2000001. Not a rejection.
                S::new(
                    1,
                    "POST",
                    "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                    401,
                )
                .offers(&[HMA])
                .diag(NO_TOKEN_DIAG),
                // A token presented and refused: 2000000.
                S::new(5, "POST", "https://mail.contoso.com/ews/exchange.asmx", 401)
                    .bearer(CLAIMS)
                    .offers(&[HMA])
                    .diag(r#"2000000;reason="The token has an invalid signature.""#),
                S::new(6, "POST", "https://mail.contoso.com/ews/exchange.asmx", 401)
                    .bearer(CLAIMS)
                    .offers(&[HMA])
                    .diag(r#"2000000;reason="The token has an invalid signature.""#),
                // 2000008 on a non-401 answer: raw, a warning.
                S::new(9, "POST", "https://mail.contoso.com/ews/exchange.asmx", 500)
                    .diag(r#"2000008;reason="Something undocumented""#),
                // A code nobody knows.
                S::new(10, "GET", "https://mail.contoso.com/owa/", 500).diag("9999999"),
            ],
        );
        let ids: Vec<(&str, Severity, Vec<u64>)> = f
            .iter()
            .map(|x| {
                (
                    x.evidence.split(" on ").next().unwrap_or(""),
                    x.severity,
                    x.sessions.clone(),
                )
            })
            .collect();
        assert_eq!(
            ids,
            vec![
                ("x-ms-diagnostics 2000000", Severity::Error, vec![5, 6]),
                ("x-ms-diagnostics 2000008", Severity::Warning, vec![9]),
                ("x-ms-diagnostics 9999999", Severity::Warning, vec![10]),
            ],
            "{f:#?}"
        );
        assert!(f[0]
            .fix
            .contains("Set-AuthServer -Identity EvoSTS -RefreshAuthMetadata"));
        assert!(f[0].fix.contains("Get-AuthConfig"));
        assert!(f[1].evidence.contains("Something undocumented"));
    }

    #[test]
    fn oauth_not_available_is_left_to_hma_not_advertised() {
        let legacy = |id| {
            S::new(
                id,
                "POST",
                "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                401,
            )
            .offers(&["NTLM"])
            .diag(OAUTH_NOT_AVAILABLE)
        };
        // On its own the rule sees the 4000000; in the pipeline it yields those sessions to
        // hma-not-advertised (RULES: yields_to), so the problem is reported once.
        assert_eq!(run(check, vec![legacy(1), legacy(2)]).len(), 1);
        let ids: Vec<String> = build(vec![legacy(1), legacy(2)])
            .findings
            .into_iter()
            .map(|f| f.id)
            .collect();
        assert!(ids.contains(&"hma-not-advertised".to_string()), "{ids:?}");
        assert!(
            !ids.contains(&"exchange-oauth-error".to_string()),
            "{ids:?}"
        );
        // Outside an Exchange vdir hma-not-advertised does not look: reported here.
        let f: Vec<Finding> = build(vec![S::new(
            3,
            "GET",
            "https://mail.contoso.com/custom/",
            401,
        )
        .offers(&["NTLM"])
        .diag(OAUTH_NOT_AVAILABLE)])
        .findings
        .into_iter()
        .filter(|f| f.id == "exchange-oauth-error")
        .collect();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
    }
}

#[cfg(test)]
mod context_tests {
    use super::super::testkit::{run, HMA, S};
    use super::*;

    const MAPI: &str = "https://mail.contoso.com/mapi/emsmdb/?MailboxId=x";
    const EXPIRED: &str =
        r#"2000001;reason="The token has expired.";error_category="invalid_token""#;
    const OLD: &str = r#"{"aud":"https://mail.contoso.com/","exp":1795000000}"#;

    fn refused(id: u64, t: i64, diag: &str) -> S {
        S::new(id, "POST", MAPI, 401)
            .at(t)
            .bearer(OLD)
            .offers(&[HMA])
            .diag(diag)
    }

    fn accepted(id: u64, t: i64) -> S {
        S::new(id, "POST", MAPI, 200).at(t).bearer(OLD)
    }

    #[test]
    fn an_expired_token_refused_then_a_fresh_one_accepted_is_the_hourly_cycle() {
        let day: Vec<S> = (0..8)
            .flat_map(|h| {
                [
                    refused(h * 2 + 1, h as i64 * 3600, EXPIRED),
                    accepted(h * 2 + 2, h as i64 * 3600 + 3),
                ]
            })
            .collect();
        assert_eq!(run(check, day).len(), 0);
        // Expired and never followed by a success: worth a look, not an error.
        let f = run(check, vec![refused(1, 0, EXPIRED), refused(2, 5, EXPIRED)]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
    }

    #[test]
    fn a_refusal_repeated_and_never_accepted_is_the_error_and_one_later_accepted_is_not() {
        const SIG: &str = r#"2000000;reason="The token has an invalid signature.""#;
        let f = run(check, vec![refused(1, 0, SIG), refused(3, 9, SIG)]);
        assert_eq!(f[0].severity, Severity::Error);
        let f = run(check, vec![refused(1, 0, SIG), accepted(2, 4)]);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].evidence.contains("got in"), "{}", f[0].evidence);
        // Accepted before, refused after: still the error.
        let f = run(check, vec![accepted(1, 0), refused(2, 4, SIG)]);
        assert_eq!(f[0].severity, Severity::Error);
    }
}

#[cfg(test)]
mod report_tests {
    use super::super::testkit::{markdown, HMA, S};

    #[test]
    fn the_report_shows_claims_and_no_token() {
        let md = markdown(vec![S::new(8, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401)
            .bearer(r#"{"aud":"https://autodiscover.contoso.com","upn":"user@contoso.com","exp":1795000000}"#)
            .offers(&[HMA, "NTLM", "Basic realm=\"mail.contoso.com\""])
            .diag(r#"2000003;reason="The audience claim value is invalid.";error_category="invalid_resource""#)]);
        assert!(md.contains("`exchange-oauth-error`"), "{md}");
        assert!(md.contains("`legacy-auth-exposed`"), "{md}");
        assert!(md.contains("aud=https://autodiscover.contoso.com"), "{md}");
        assert!(!md.contains("U0lHTkFUVVJF") && !md.contains("eyJ"), "{md}");
        assert!(md.contains("**Verdict: ERROR**"), "{md}");
    }
}
