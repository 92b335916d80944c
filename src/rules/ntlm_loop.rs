//! `ntlm-loop`: NTLM handshakes on one host failing again and again: the password prompt
//! that keeps coming back.
//!
//! An NTLM handshake is three legs: negotiate (type 1), the server's challenge (type 2),
//! the client's authenticate (type 3). A type 3 answered by another 401 means the server
//! refused the credential. A client that keeps sending type 3s that are refused, and never
//! gets in, is in a prompt loop: a wrong or stale saved password, a domain the server does
//! not trust, NTLMv1 refused by `LmCompatibilityLevel`, or Extended Protection (channel
//! binding) failing because a proxy or load balancer terminates TLS in front of IIS.
//!
//! Looks at: the decoded NTLM messages (`auth::negotiate`, raw `NTLM` or inside
//! `Negotiate`), per host and client process; an error from 3 refused authenticate
//! messages on, when none of that process's NTLM answers to the host got in.
//!
//! Does not trigger: a handshake that ends in 2xx/3xx (the normal three legs: two 401s
//! are part of it); one or two refusals followed by a success (a retyped password);
//! Kerberos; Basic; Microsoft's cloud hosts; the sessions `hma-declined` already explains
//! (modern auth was offered and the client answered with NTLM: that is the cause).

use std::collections::BTreeMap;

use super::exchange;
use super::{session_list, sorted, Context, Finding, Remedy, Severity};
use crate::auth::negotiate::{Mechanism, NtlmMessage};

/// Refused authenticate messages from which the client is looping, not retrying.
const LOOP: usize = 3;

#[derive(Default)]
struct Seen<'a> {
    refused: Vec<u64>,
    got_in: bool,
    domains: Vec<&'a str>,
    server_domain: Option<&'a str>,
    v1: bool,
    anonymous: bool,
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let mut seen: BTreeMap<(&str, Option<&str>), Seen> = BTreeMap::new();
    for w in cx.windows_auth() {
        if exchange::is_microsoft_cloud(&w.host) {
            continue;
        }
        let e = seen
            .entry((w.host.as_str(), w.process.as_deref()))
            .or_default();
        if let Some(NtlmMessage::Challenge {
            netbios_domain: Some(nb),
            ..
        }) = w.answered.as_ref().and_then(|t| t.blob.ntlm.as_ref())
        {
            e.server_domain = Some(nb);
        }
        let Some(sent) = w
            .sent
            .as_ref()
            .filter(|t| t.blob.mechanism == Mechanism::Ntlm)
        else {
            continue;
        };
        let ok = w.status.is_some_and(|s| (200..400).contains(&s));
        e.got_in |= ok;
        if let Some(NtlmMessage::Authenticate {
            domain,
            user_name_len,
            nt_response_len,
        }) = &sent.blob.ntlm
        {
            if w.status == Some(401) {
                e.refused.push(w.session);
                if let Some(d) = domain.as_deref() {
                    if !e.domains.contains(&d) {
                        e.domains.push(d);
                    }
                }
                e.v1 |= *nt_response_len == 24;
                e.anonymous |= *user_name_len == 0;
            }
        }
    }
    seen.into_iter()
        .filter(|(_, s)| !s.got_in && s.refused.len() >= LOOP)
        .map(|((host, process), s)| finding(host, process, s))
        .collect()
}

fn finding(host: &str, process: Option<&str>, s: Seen) -> Finding {
    let who = process.unwrap_or("The client");
    // Mid-sentence: a HAR names no process.
    let whose = process.unwrap_or("the client");
    let mut notes = Vec::new();
    match (s.domains.as_slice(), s.server_domain) {
        ([], _) => {}
        (domains, Some(server)) if domains.iter().any(|d| !d.eq_ignore_ascii_case(server)) => {
            notes.push(format!(
                "the client named the domain {} where the server's challenge names {server}: \
                 a user name typed with another domain (or a local account) is refused",
                domains.join(", ")
            ));
        }
        (domains, _) => notes.push(format!(
            "the client named the domain {}",
            domains.join(", ")
        )),
    }
    if s.v1 {
        notes.push(
            "the client sent an NTLMv1 response (24 bytes), which a server or domain \
             controller with LmCompatibilityLevel 5 refuses"
                .to_string(),
        );
    }
    if s.anonymous {
        notes.push("an authenticate message carried no user name (anonymous)".to_string());
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" In these handshakes {}.", notes.join("; "))
    };
    Finding {
        id: "ntlm-loop".into(),
        severity: Severity::Error,
        title: format!("{who} failed NTLM sign-in to {host} again and again: a password prompt loop"),
        evidence: format!(
            "{} NTLM authenticate message(s) (type 3) to {host} were answered 401 (sessions {}) \
             and none of {whose}'s NTLM requests to it got in.{notes}",
            s.refused.len(),
            session_list(&s.refused),
        ),
        fix: format!(
            "First the credential: remove the saved entries for {host} in Credential Manager \
             (Windows Credentials) and sign in with DOMAIN\\user or the UPN; check the account \
             is not locked out or expired. If it persists for every user: NTLMv1 refused (the \
             client's HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa LmCompatibilityLevel must \
             be 3 or more), or Extended Protection failing behind a proxy or load balancer that \
             terminates TLS: compare Get-WebServicesVirtualDirectory | Format-List \
             Server,ExtendedProtection* (Exchange Management Shell, on-premises; likewise \
             Get-MapiVirtualDirectory, Get-OabVirtualDirectory) with the TLS path: Extended \
             Protection needs TLS end to end (SSL bridging with the same certificate), not \
             offloading."
        ),
        sessions: sorted(s.refused),
        remedy: Some(Remedy::ExchangeShell {
            check: vec![
                "Get-WebServicesVirtualDirectory | Format-List Server,InternalUrl,ExternalUrl,ExtendedProtectionTokenChecking,ExtendedProtectionFlags,ExtendedProtectionSPNList",
                "Get-MapiVirtualDirectory | Format-List Server,IISAuthenticationMethods",
            ],
            change: Vec::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{build, run, HMA, S};
    use super::*;
    use crate::auth::negotiate::testkit::{b64, kerberos, ntlm1, ntlm2, ntlm3};

    const EWS: &str = "https://mail.contoso.local/EWS/Exchange.asmx";

    /// One three-leg handshake with EWS from session `first`, ending in `last`.
    fn handshake(first: u64, domain: &str, nt_len: usize, last: u16) -> Vec<S> {
        handshake_at(EWS, first, domain, nt_len, last)
    }

    /// The same with `url`.
    fn handshake_at(url: &str, first: u64, domain: &str, nt_len: usize, last: u16) -> Vec<S> {
        vec![
            S::new(first, "POST", url, 401).offers(&["NTLM"]),
            S::new(first + 1, "POST", url, 401)
                .req_header("Authorization", &format!("NTLM {}", b64(&ntlm1())))
                .resp_header(
                    "WWW-Authenticate",
                    &format!(
                        "NTLM {}",
                        b64(&ntlm2("CONTOSO", "contoso.local", "exch01.contoso.local"))
                    ),
                ),
            S::new(first + 2, "POST", url, last)
                .req_header(
                    "Authorization",
                    &format!("NTLM {}", b64(&ntlm3(domain, "jdoe", nt_len))),
                )
                .offers(&["NTLM"]),
        ]
    }

    fn rounds(n: u64, domain: &str, nt_len: usize) -> Vec<S> {
        (0..n)
            .flat_map(|i| handshake(1 + i * 3, domain, nt_len, 401))
            .collect()
    }

    #[test]
    fn refused_again_and_again_is_a_loop() {
        let f = run(check, rounds(3, "CONTOSO", 330));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].id, "ntlm-loop");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].sessions, vec![3, 6, 9]);
        assert!(
            f[0].evidence
                .contains("the client named the domain CONTOSO"),
            "{}",
            f[0].evidence
        );
        assert!(!f[0].evidence.contains("jdoe"));
        assert!(f[0].fix.contains("ExtendedProtection"), "{}", f[0].fix);
        // Another domain, NTLMv1: said.
        let f = run(check, rounds(4, "WKS-LOCAL", 24));
        let e = &f[0].evidence;
        assert!(
            e.contains("WKS-LOCAL where the server's challenge names CONTOSO"),
            "{e}"
        );
        assert!(e.contains("NTLMv1"), "{e}");
    }

    #[test]
    fn handshakes_that_end_in_success_are_no_loop() {
        // The normal three legs.
        assert!(run(check, handshake(1, "CONTOSO", 330, 200)).is_empty());
        // Two wrong passwords, then the right one.
        let mut retyped = rounds(2, "CONTOSO", 330);
        retyped.extend(handshake(7, "CONTOSO", 330, 200));
        assert!(run(check, retyped).is_empty());
        // Kerberos refused is not NTLM.
        let krb: Vec<S> = (1..=4)
            .map(|i| {
                S::new(i, "POST", EWS, 401)
                    .req_header("Authorization", &format!("Negotiate {}", kerberos()))
            })
            .collect();
        assert!(run(check, krb).is_empty());
        // A healthy capture in the pipeline raises nothing at all.
        let a = build(handshake(1, "CONTOSO", 330, 200));
        assert!(
            a.findings.iter().all(|f| f.severity != Severity::Error),
            "{:#?}",
            a.findings
        );
    }

    /// On an intranet site (no Exchange, no Entra ID in the capture) a loop is still the
    /// prompt that keeps coming back, an error; a handshake that got in shows nothing the
    /// diagnosis reads, so the capture is inconclusive, not "OK".
    #[test]
    fn on_an_intranet_site_a_loop_is_an_error_and_a_good_handshake_is_inconclusive() {
        let site = "http://sp01.contoso.local/_api/contextinfo";
        let looping: Vec<S> = (0..3u64)
            .flat_map(|i| handshake_at(site, 1 + i * 3, "CONTOSO", 330, 401))
            .collect();
        let a = build(looping);
        assert_eq!(a.verdict.exit_code, crate::analysis::Status::Findings);
        assert!(
            a.findings.iter().any(|f| f.id == "ntlm-loop"),
            "{:#?}",
            a.findings
        );
        let a = build(handshake_at(site, 1, "CONTOSO", 330, 200));
        assert_eq!(a.verdict.status, "inconclusive", "{}", a.verdict.summary);
        assert_eq!(a.verdict.exit_code, crate::analysis::Status::Inconclusive);
    }

    #[test]
    fn modern_auth_declined_explains_the_loop() {
        let ad = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
        let mut sessions = vec![S::new(1, "POST", ad, 401).offers(&[HMA, "NTLM"])];
        for i in 0..3u64 {
            let at = 2 + i * 2;
            sessions.push(
                S::new(at, "POST", ad, 401)
                    .req_header("Authorization", &format!("NTLM {}", b64(&ntlm1())))
                    .resp_header(
                        "WWW-Authenticate",
                        &format!("NTLM {}", b64(&ntlm2("CONTOSO", "contoso.com", "x"))),
                    ),
            );
            sessions.push(
                S::new(at + 1, "POST", ad, 401)
                    .req_header(
                        "Authorization",
                        &format!("NTLM {}", b64(&ntlm3("CONTOSO", "jdoe", 330))),
                    )
                    .offers(&[HMA, "NTLM"]),
            );
        }
        let a = build(sessions);
        let ids: Vec<&str> = a.findings.iter().map(|f| f.id.as_str()).collect();
        assert!(ids.contains(&"hma-declined"), "{ids:?}");
        assert!(!ids.contains(&"ntlm-loop"), "{ids:?}");
    }
}
