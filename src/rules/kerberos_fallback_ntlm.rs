//! `kerberos-fallback-ntlm`: Exchange or AD FS offered Negotiate and the client answered
//! with NTLM inside it, never with a Kerberos ticket.
//!
//! A domain-joined Windows client answers `WWW-Authenticate: Negotiate` with a Kerberos
//! AP-REQ (`YII...`) when it can get a ticket for `HTTP/<host>`. When it cannot (no SPN for
//! the name, the SPN on another account, a duplicate SPN, the Exchange alternate service
//! account credential missing or stale on a load-balanced name, the site not in the
//! intranet zone), SPNEGO falls back to NTLM (`Negotiate TlRMTVNT...` or NTLMSSP inside a
//! `YH...` token). It still works, but every request costs an extra round trip, NTLM
//! needs the domain controller per connection (MaxConcurrentApi), and on AD FS the
//! Windows integrated sign-in becomes a prompt outside the intranet zone. A warning.
//!
//! Looks at: the decoded Negotiate blobs (`auth::negotiate`) a client sent to an Exchange
//! virtual directory or an AD FS path (`/adfs/`), after a 401 from that host offered
//! Negotiate; grouped per host and client process.
//!
//! Does not trigger: a client that sent a Kerberos ticket to that host (once is enough: a
//! later NTLM is another account or a retry, not a broken SPN); `Authorization: NTLM`
//! (the client or the server chose NTLM, no Kerberos was attempted); a host that never
//! offered Negotiate; Microsoft's cloud hosts; any other host (a proxy, an intranet site).

use std::collections::BTreeMap;

use super::exchange::{self, path_of};
use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::negotiate::{Mechanism, NtlmMessage, Scheme, WindowsAuth};

/// What one client process sent one host under Negotiate.
#[derive(Default)]
struct Seen<'a> {
    ntlm: Vec<u64>,
    kerberos: bool,
    /// The domain the client named in its NTLM authenticate message.
    client_domain: Option<&'a str>,
    /// The server's NetBIOS and DNS domains from its NTLM challenge.
    server_domain: Option<(&'a str, Option<&'a str>)>,
    got_in: bool,
}

/// Exchange's virtual directories and AD FS: where Kerberos is expected.
fn in_scope(w: &WindowsAuth) -> Option<&'static str> {
    if exchange::is_microsoft_cloud(&w.host) {
        return None;
    }
    let path = path_of(&w.url).to_ascii_lowercase();
    if path.starts_with("/adfs/") {
        return Some("AD FS");
    }
    exchange::vdir_of(&w.url, &w.host).map(|_| "Exchange")
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let negotiate_offered: Vec<&str> = cx
        .challenges()
        .filter(|c| exchange::offered(c).iter().any(|s| s == "Negotiate"))
        .map(|c| c.host.as_str())
        .collect();
    let mut seen: BTreeMap<(&str, Option<&str>, &'static str), Seen> = BTreeMap::new();
    for w in cx.windows_auth() {
        let Some(kind) = in_scope(w) else {
            continue;
        };
        if !negotiate_offered.contains(&w.host.as_str()) {
            continue;
        }
        let e = seen
            .entry((w.host.as_str(), w.process.as_deref(), kind))
            .or_default();
        if let Some(NtlmMessage::Challenge {
            netbios_domain: Some(nb),
            dns_domain,
            ..
        }) = w.answered.as_ref().and_then(|t| t.blob.ntlm.as_ref())
        {
            e.server_domain = Some((nb, dns_domain.as_deref()));
        }
        let Some(sent) = w.sent.as_ref().filter(|t| t.scheme == Scheme::Negotiate) else {
            continue;
        };
        match sent.blob.mechanism {
            Mechanism::Kerberos => e.kerberos = true,
            Mechanism::Ntlm => {
                e.ntlm.push(w.session);
                if let Some(NtlmMessage::Authenticate {
                    domain: Some(d), ..
                }) = &sent.blob.ntlm
                {
                    e.client_domain = Some(d);
                }
                e.got_in |= w.status.is_some_and(|s| (200..400).contains(&s));
            }
            Mechanism::Unknown => {}
        }
    }
    seen.into_iter()
        .filter(|(_, s)| !s.kerberos && !s.ntlm.is_empty())
        .map(|((host, process, kind), s)| finding(host, process, kind, s))
        .collect()
}

fn finding(host: &str, process: Option<&str>, kind: &str, s: Seen) -> Finding {
    // Mid-sentence: a HAR names no process.
    let who = process.unwrap_or("the client");
    let domains = match (s.client_domain, s.server_domain) {
        (Some(c), Some((nb, dns))) => format!(
            " The client named the domain {c}; the server's challenge names {nb}{}.",
            dns.map(|d| format!(" ({d})")).unwrap_or_default()
        ),
        (Some(c), None) => format!(" The client named the domain {c}."),
        (None, Some((nb, dns))) => format!(
            " The server's challenge names the domain {nb}{}.",
            dns.map(|d| format!(" ({d})")).unwrap_or_default()
        ),
        (None, None) => String::new(),
    };
    let outcome = if s.got_in {
        "NTLM then let it in"
    } else {
        "and it did not get in with NTLM either"
    };
    let fix = if kind == "AD FS" {
        format!(
            "Check the SPN of the AD FS farm name: setspn -Q HTTP/{host} (any domain-joined \
             machine) must name exactly one account, the AD FS service account (gMSA); add it \
             with setspn -S HTTP/{host} <DOMAIN>\\<adfs-service-account> or remove the \
             duplicate. On the client, {host} must be in the Local intranet zone (Windows \
             integrated authentication sends Kerberos only there), and its clock within 5 \
             minutes of the domain controllers'."
        )
    } else {
        format!(
            "Kerberos needs an SPN for the name clients use: setspn -Q HTTP/{host} (any \
             domain-joined machine) must name exactly one account. For a load-balanced name, \
             that account is the Exchange alternate service account (ASA): check it with \
             Get-ClientAccessService | Format-List Name,AlternateServiceAccountConfiguration \
             (Exchange Management Shell, on-premises) and set or refresh its credential on \
             every server with .\\RollAlternateServiceAccountPassword.ps1 -ToEntireForest \
             -GenerateNewPasswordFor <DOMAIN>\\<ASA-computer-account>$ (Exchange Scripts folder), \
             then setspn -S HTTP/{host} <DOMAIN>\\<ASA-computer-account>$. On the client, \
             {host} must be in the Local intranet zone with automatic logon (\"Automatic \
             logon only in Intranet zone\"); klist get HTTP/{host} shows whether a ticket can \
             be had."
        )
    };
    Finding {
        id: "kerberos-fallback-ntlm".into(),
        severity: Severity::Warning,
        title: format!("{kind} at {host} offered Kerberos and {who} fell back to NTLM"),
        evidence: format!(
            "{host} offered Negotiate; {who} answered with NTLM inside Negotiate in {} \
             request(s) (sessions {}) and never with a Kerberos ticket, {outcome}. The client \
             could not get a Kerberos ticket for HTTP/{host}.{domains}",
            s.ntlm.len(),
            session_list(&s.ntlm),
        ),
        fix,
        sessions: sorted(s.ntlm),
        remedy: None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{build, run, S};
    use super::*;
    use crate::auth::negotiate::testkit::{b64, kerberos, ntlm1, ntlm2, ntlm3, spnego_ntlm};

    const MAPI: &str = "https://mail.contoso.com/mapi/emsmdb/?MailboxId=x";

    fn offer(id: u64, url: &str) -> S {
        S::new(id, "POST", url, 401).offers(&["Negotiate", "NTLM"])
    }

    /// The SPNEGO-wrapped three legs: type 1, the challenge, type 3.
    fn ntlm_in_negotiate(first: u64, url: &str, last_status: u16) -> Vec<S> {
        vec![
            offer(first, url),
            S::new(first + 1, "POST", url, 401)
                .req_header(
                    "Authorization",
                    &format!("Negotiate {}", spnego_ntlm(&ntlm1())),
                )
                .resp_header(
                    "WWW-Authenticate",
                    &format!(
                        "Negotiate {}",
                        b64(&ntlm2("CONTOSO", "contoso.com", "exch01.contoso.com"))
                    ),
                ),
            S::new(first + 2, "POST", url, last_status).req_header(
                "Authorization",
                &format!("Negotiate {}", spnego_ntlm(&ntlm3("CONTOSO", "jdoe", 330))),
            ),
        ]
    }

    #[test]
    fn ntlm_inside_negotiate_to_exchange_is_a_fallback() {
        let f = run(check, ntlm_in_negotiate(1, MAPI, 200));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].id, "kerberos-fallback-ntlm");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].sessions, vec![2, 3]);
        let e = &f[0].evidence;
        assert!(e.contains("NTLM then let it in"), "{e}");
        assert!(
            e.contains(
                "named the domain CONTOSO; the server's challenge names CONTOSO (contoso.com)"
            ),
            "{e}"
        );
        assert!(!e.contains("jdoe"), "{e}");
        assert!(
            f[0].fix.contains("setspn -Q HTTP/mail.contoso.com"),
            "{}",
            f[0].fix
        );
        assert!(
            f[0].fix.contains("RollAlternateServiceAccountPassword.ps1"),
            "{}",
            f[0].fix
        );
        // AD FS gets its own fix.
        let adfs = "https://adfs.contoso.com/adfs/ls/wia?client-request-id=x";
        let f = run(check, ntlm_in_negotiate(1, adfs, 200));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].title.starts_with("AD FS at adfs.contoso.com"),
            "{}",
            f[0].title
        );
        assert!(f[0].fix.contains("Local intranet zone"), "{}", f[0].fix);
    }

    #[test]
    fn kerberos_plain_ntlm_and_other_hosts_are_no_fallback() {
        // Kerberos that works.
        let krb = vec![
            offer(1, MAPI),
            S::new(2, "POST", MAPI, 200)
                .req_header("Authorization", &format!("Negotiate {}", kerberos())),
        ];
        assert!(run(check, krb).is_empty());
        // Kerberos once, NTLM later from the same process (another account, a retry).
        let mut mixed = ntlm_in_negotiate(3, MAPI, 200);
        mixed.insert(
            0,
            S::new(2, "POST", MAPI, 200)
                .req_header("Authorization", &format!("Negotiate {}", kerberos())),
        );
        mixed.insert(0, offer(1, MAPI));
        assert!(run(check, mixed).is_empty());
        // Authorization: NTLM, the scheme the client chose.
        let plain = vec![
            offer(1, MAPI),
            S::new(2, "POST", MAPI, 401)
                .req_header("Authorization", &format!("NTLM {}", b64(&ntlm1())))
                .resp_header(
                    "WWW-Authenticate",
                    &format!("NTLM {}", b64(&ntlm2("CONTOSO", "contoso.com", "x"))),
                ),
            S::new(3, "POST", MAPI, 200).req_header(
                "Authorization",
                &format!("NTLM {}", b64(&ntlm3("CONTOSO", "jdoe", 330))),
            ),
        ];
        assert!(run(check, plain).is_empty());
        // Negotiate never offered by that host (the client started it unasked).
        let unasked: Vec<S> = ntlm_in_negotiate(1, MAPI, 200)
            .into_iter()
            .skip(1)
            .collect();
        assert!(run(check, unasked).is_empty());
        // Not Exchange, not AD FS: an intranet site, a proxy.
        assert!(run(
            check,
            ntlm_in_negotiate(1, "https://intranet.contoso.com/sites/hr", 200)
        )
        .is_empty());
        // In the pipeline: no other finding on a working fallback but this one.
        let a = build(ntlm_in_negotiate(
            1,
            "https://mail.contoso.local/mapi/emsmdb/",
            200,
        ));
        let ids: Vec<&str> = a.findings.iter().map(|f| f.id.as_str()).collect();
        assert!(ids.contains(&"kerberos-fallback-ntlm"), "{ids:?}");
        assert!(!ids.contains(&"ntlm-loop"), "{ids:?}");
    }
}
