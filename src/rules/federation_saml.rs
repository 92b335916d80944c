//! `federation-saml-issuer-mismatch`, `federation-saml-rejected`, `federation-saml-time`: the
//! SAML response the IdP had the browser post back to Entra ID (`login.srf`), beside what
//! Entra ID answered to it.
//!
//! - issuer mismatch: Entra ID answered AADSTS50107 ("the requested federation realm object
//!   does not exist"): the issuer in the assertion is not the IssuerUri of any federated
//!   domain. The assertion's issuer is quoted next to the realm's domain.
//! - rejected: any other AADSTS code answering the post (50008 assertion missing or
//!   misconfigured, 50126 through federation, 90072 ImmutableID not found, 50000, ...), with the
//!   evidence the assertion gives (its window against the post's time, the signing
//!   certificate's thumbprint and validity, the claims' names).
//! - time: no error answered, but the assertion was already expired or not yet valid when
//!   posted, or its signing certificate is outside its validity (a warning: the next sign-in
//!   fails, or clocks disagree).
//!
//! Nothing of the assertion is quoted but its issuer, claim names, the UPN's domain, the
//! certificate's thumbprint and dates.

use chrono::{DateTime, Duration, FixedOffset};

use super::evidence::quote_error;
use super::federation::{domain_fix, domain_or_placeholder, federated_domains};
use super::{sorted, Context, Finding, Severity};
use crate::auth::federation::{FederationEvent, SamlPosted};

/// Clock difference tolerated before the window counts as missed (Entra ID allows a few
/// minutes of skew).
const SKEW_MINUTES: i64 = 5;

fn fmt(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// What is wrong with the assertion's times, as sentences (empty when nothing is).
fn time_problems(p: &SamlPosted) -> Vec<String> {
    let mut out = Vec::new();
    let e = &p.evidence;
    let skew = Duration::minutes(SKEW_MINUTES);
    if let Some(sent) = p.sent {
        if let Some(end) = e.not_on_or_after {
            if sent > end + skew {
                out.push(format!(
                    "the assertion expired at {} (NotOnOrAfter), {} minute(s) before it was posted",
                    fmt(&end),
                    (sent - end).num_minutes()
                ));
            }
        }
        if let Some(start) = e.not_before {
            if start > sent + skew {
                out.push(format!(
                    "the assertion is valid only from {} (NotBefore), {} minute(s) after it was posted: the IdP's clock runs ahead",
                    fmt(&start),
                    (start - sent).num_minutes()
                ));
            }
        }
        if let Some(c) = &e.signing_cert {
            if let Some(na) = c.not_after.filter(|na| *na < sent) {
                out.push(format!(
                    "the signing certificate {} expired on {}",
                    c.thumbprint,
                    fmt(&na)
                ));
            }
            if let Some(nb) = c.not_before.filter(|nb| *nb > sent) {
                out.push(format!(
                    "the signing certificate {} is valid only from {}",
                    c.thumbprint,
                    fmt(&nb)
                ));
            }
        }
    }
    out
}

/// The assertion's evidence in one sentence.
fn describe(p: &SamlPosted) -> String {
    let e = &p.evidence;
    let protocol = match e.protocol {
        crate::auth::saml::SamlProtocol::WsFed => "WS-Federation (wresult)",
        crate::auth::saml::SamlProtocol::SamlP => "SAML-P (SAMLResponse)",
    };
    let mut parts = vec![format!(
        "{protocol} response posted in session {}",
        p.session
    )];
    if !e.readable {
        parts.push(
            "its assertion is not in the capture (a redacted copy or a cut body)".to_string(),
        );
        if let Some(sent) = &p.sent {
            parts.push(format!("posted at {}", fmt(&sent.to_utc().fixed_offset())));
        }
        return parts.join("; ");
    }
    parts.push(format!(
        "issuer {}",
        e.issuer.as_deref().unwrap_or("(none in the assertion)")
    ));
    match (&e.not_before, &e.not_on_or_after) {
        (Some(a), Some(b)) => parts.push(format!("valid {} to {}", fmt(a), fmt(b))),
        (None, Some(b)) => parts.push(format!("valid until {}", fmt(b))),
        _ => {}
    }
    if let Some(sent) = &p.sent {
        parts.push(format!("posted at {}", fmt(&sent.to_utc().fixed_offset())));
    }
    if let Some(d) = &e.upn_domain {
        parts.push(format!("UPN claim at {d}"));
    }
    if !e.claims.is_empty() {
        parts.push(format!("claims {}", e.claims.join(", ")));
    }
    parts.push(if e.has_immutable_id {
        "an ImmutableID (or opaque NameID) present".to_string()
    } else {
        "no ImmutableID claim".to_string()
    });
    if let Some(c) = &e.signing_cert {
        let until = c
            .not_after
            .map(|t| format!(", valid until {}", fmt(&t)))
            .unwrap_or_default();
        parts.push(format!(
            "signed with certificate thumbprint {}{until}",
            c.thumbprint
        ));
    } else {
        parts.push("no signing certificate in the assertion".to_string());
    }
    parts.join("; ")
}

/// What an AADSTS code answering a SAML post means for it.
fn meaning(code: u32) -> &'static str {
    match code {
        50008 => "the SAML assertion is missing or misconfigured (claims, audience or format Entra ID expects)",
        50126 => "the IdP's sign-in went through but Entra ID rejected the credentials it carried",
        90072 => "the user in the assertion does not exist in this tenant: the ImmutableID (sourceAnchor) does not match a synced user",
        50132 => "the sign-in session is no longer valid (password changed or expired)",
        50000 => "Entra ID failed issuing a token from the assertion",
        _ => "Entra ID refused the assertion",
    }
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let posted: Vec<&SamlPosted> = cx
        .federation()
        .filter_map(|f| match f {
            FederationEvent::SamlPosted(p) => Some(p),
            _ => None,
        })
        .collect();
    let domains = federated_domains(cx);
    let domain = {
        let from_claims: Vec<String> = posted
            .iter()
            .filter_map(|p| p.evidence.upn_domain.clone())
            .collect();
        let mut all = domains.clone();
        for d in from_claims {
            if !all.contains(&d) {
                all.push(d);
            }
        }
        domain_or_placeholder(&all)
    };
    let mut mismatch: Vec<(&SamlPosted, String)> = Vec::new();
    let mut rejected: Vec<(&SamlPosted, Vec<u32>, String)> = Vec::new();
    let mut timing: Vec<(&SamlPosted, Vec<String>)> = Vec::new();
    for p in &posted {
        match cx.aad_error_at(p.session) {
            Some(err) if err.codes.contains(&50107) => mismatch.push((p, quote_error(err))),
            Some(err) => rejected.push((p, err.codes.clone(), quote_error(err))),
            None => {
                let problems = time_problems(p);
                if !problems.is_empty() {
                    timing.push((p, problems));
                }
            }
        }
    }
    let realm = if domains.is_empty() {
        String::new()
    } else {
        format!(
            " Realm discovery named the federated domain(s) {}.",
            domains.join(", ")
        )
    };
    let mut out = Vec::new();
    if !mismatch.is_empty() {
        let issuers: Vec<String> = mismatch
            .iter()
            .filter_map(|(p, _)| p.evidence.issuer.clone())
            .fold(Vec::new(), |mut v, i| {
                if !v.contains(&i) {
                    v.push(i);
                }
                v
            });
        out.push(Finding {
            id: "federation-saml-issuer-mismatch".into(),
            severity: Severity::Error,
            title: format!(
                "AADSTS50107: the IdP's issuer {} is not the IssuerUri of a federated domain",
                if issuers.is_empty() {
                    "(not in the capture)".to_string()
                } else {
                    issuers.join(", ")
                }
            ),
            sessions: sorted(mismatch.iter().map(|(p, _)| p.session).collect()),
            evidence: format!(
                "{}.{}{realm} Entra ID matches the assertion's issuer against the IssuerUri of the \
                 user's domain: a subdomain or a second top-level domain federated without \
                 -SupportMultipleDomain, or a third-party IdP sending its own entity id, answers \
                 this.",
                mismatch
                    .iter()
                    .map(|(p, _)| describe(p))
                    .collect::<Vec<_>>()
                    .join(". "),
                mismatch[0].1
            ),
            fix: domain_fix(&domain),
            remedy: None,
        });
    }
    if !rejected.is_empty() {
        let mut codes: Vec<u32> = rejected.iter().flat_map(|(_, c, _)| c.clone()).collect();
        codes.sort_unstable();
        codes.dedup();
        let lines: Vec<String> = rejected
            .iter()
            .map(|(p, c, said)| {
                let times = time_problems(p);
                let times = if times.is_empty() {
                    String::new()
                } else {
                    format!("; {}", times.join("; "))
                };
                let what: Vec<String> = c
                    .iter()
                    .map(|c| format!("AADSTS{c}: {}", meaning(*c)))
                    .collect();
                format!("{}{times}. {}.{said}", describe(p), what.join("; "))
            })
            .collect();
        let list: Vec<String> = codes.iter().map(|c| format!("AADSTS{c}")).collect();
        out.push(Finding {
            id: "federation-saml-rejected".into(),
            severity: Severity::Error,
            title: format!(
                "Entra ID refused the IdP's SAML response ({})",
                list.join(", ")
            ),
            sessions: sorted(rejected.iter().map(|(p, _, _)| p.session).collect()),
            evidence: format!("{}{realm}", lines.join(" ")),
            fix: format!(
                "Read the code's meaning above. An ImmutableID mismatch (90072, or 50008 with the \
                 claim present): compare the NameID/ImmutableID the IdP sends with the user's \
                 OnPremisesImmutableId (Get-MgUser -UserId <upn> -Property \
                 OnPremisesImmutableId,UserPrincipalName, Microsoft Graph PowerShell) and the AD \
                 FS issuance transform rule of the Microsoft Office 365 Identity Platform relying \
                 party (Get-AdfsRelyingPartyTrust -Name 'Microsoft Office 365 Identity Platform'). \
                 Expired or early assertions: synchronise the AD FS servers' clocks (w32tm /query \
                 /status). Certificates and issuer: {}",
                domain_fix(&domain)
            ),
            remedy: None,
        });
    }
    if !timing.is_empty() {
        out.push(Finding {
            id: "federation-saml-time".into(),
            severity: Severity::Warning,
            title: "The IdP's SAML response was outside its validity when posted (clock skew or an expired signing certificate)".into(),
            sessions: sorted(timing.iter().map(|(p, _)| p.session).collect()),
            evidence: timing
                .iter()
                .map(|(p, t)| format!("{}: {}.", describe(p), t.join("; ")))
                .collect::<Vec<_>>()
                .join(" "),
            fix: format!(
                "Entra ID answered no error in the capture, but the next sign-in may fail. Check \
                 the clocks of the AD FS servers and of the capturing client (w32tm /query \
                 /status; w32tm /resync). An expired token-signing certificate: AD FS \
                 (Get-AdfsCertificate -CertificateType Token-Signing) with AutoCertificateRollover \
                 renews it; Entra ID must then know the new one: {}",
                domain_fix(&domain)
            ),
            remedy: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;
    use crate::auth::saml::tests::wresult;

    const ISSUER: &str = "http://sts.contoso.com/adfs/services/trust/";

    /// The login.srf post at 08:00:10+01:00 (07:00:10Z) with an assertion valid in the window.
    fn post(id: u64, not_before: &str, not_after: &str, answer: &str) -> S {
        let xml = wresult(ISSUER, not_before, not_after);
        let body = format!(
            "wa=wsignin1.0&wresult={}&wctx=LoginOptions%3D3",
            url::form_urlencoded::byte_serialize(xml.as_bytes()).collect::<String>()
        );
        S::new(
            id,
            "POST",
            "https://login.microsoftonline.com/login.srf",
            200,
        )
        .req_header("Content-Type", "application/x-www-form-urlencoded")
        .req_body(&body)
        .resp_header("Content-Type", "text/html; charset=utf-8")
        .resp_body(answer)
        .at(10)
    }

    fn error_page(code: u32, message: &str) -> String {
        format!(
            r#"<html><head><script>//<![CDATA[
$Config={{"iErrorCode":{code},"strServiceExceptionMessage":"AADSTS{code}: {message}","correlationId":"aaaa0000-bb11-2222-33cc-444444dddddd"}};
//]]></script></head></html>"#
        )
    }

    const OK: &str = "<html><body><form method=\"POST\" name=\"hiddenform\" action=\"https://outlook.office365.com/owa/\"><input type=\"hidden\" name=\"code\" value=\"x\"/></form></body></html>";

    #[test]
    fn issuer_mismatch_quotes_issuer_and_thumbprint_not_the_assertion() {
        let f = run(
            check,
            vec![post(
                3,
                "2026-11-20T06:59:50Z",
                "2026-11-20T07:59:50Z",
                &error_page(50107, "The requested federation realm object 'http://sts.contoso.com/adfs/services/trust/' does not exist."),
            )],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "federation-saml-issuer-mismatch");
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].title.contains(ISSUER), "{}", f[0].title);
        assert!(f[0].evidence.contains("thumbprint"), "{}", f[0].evidence);
        assert!(f[0]
            .fix
            .contains("Get-MgDomainFederationConfiguration -DomainId contoso.com"));
        assert!(f[0].fix.contains("Update-MsolFederatedDomain"));
        let json = serde_json::to_string(&f).unwrap_or_default();
        for secret in ["q2Vsb0lt", "U0lHTkFUVVJF", "user@"] {
            assert!(!json.contains(secret), "{secret}: {json}");
        }
    }

    #[test]
    fn other_codes_and_an_expired_assertion_are_rejected() {
        let f = run(
            check,
            vec![post(
                3,
                "2026-11-20T05:00:00Z",
                "2026-11-20T06:00:00Z",
                &error_page(50008, "SAML token is invalid."),
            )],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "federation-saml-rejected");
        assert!(
            f[0].evidence.contains("expired at 2026-11-20 06:00:00Z"),
            "{}",
            f[0].evidence
        );
        assert!(f[0].evidence.contains("AADSTS50008"), "{}", f[0].evidence);
    }

    #[test]
    fn a_skewed_assertion_without_error_is_a_warning() {
        let f = run(
            check,
            vec![post(3, "2026-11-20T07:20:00Z", "2026-11-20T08:20:00Z", OK)],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "federation-saml-time");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].evidence.contains("NotBefore"), "{}", f[0].evidence);
    }

    #[test]
    fn does_not_trigger() {
        // A healthy post: in the window, no error.
        assert!(run(
            check,
            vec![post(3, "2026-11-20T06:59:50Z", "2026-11-20T07:59:50Z", OK)]
        )
        .is_empty());
        // Within the tolerated skew (NotBefore 3 minutes ahead).
        assert!(run(
            check,
            vec![post(3, "2026-11-20T07:03:10Z", "2026-11-20T08:03:10Z", OK)]
        )
        .is_empty());
        // A login.srf post without a SAML response (a password form post).
        let form = S::new(
            4,
            "POST",
            "https://login.microsoftonline.com/common/login",
            200,
        )
        .req_header("Content-Type", "application/x-www-form-urlencoded")
        .req_body("login=a%40contoso.com&passwd=x")
        .resp_body(&error_page(
            50107,
            "The requested federation realm object 'x' does not exist.",
        ));
        assert!(run(check, vec![form]).is_empty());
    }
}
