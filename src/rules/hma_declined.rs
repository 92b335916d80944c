//! `hma-declined`: Exchange offered modern auth and the client answered with Basic, NTLM or
//! Negotiate.
//!
//! An Outlook that uses hybrid modern auth answers the Bearer challenge (`authorization_uri`)
//! with a token from Entra ID. One that answers it with a password (Basic) or a Windows
//! handshake (NTLM, Kerberos) has modern auth off: the "Need Password" prompts, no MFA, no
//! conditional access. Judged per client process and host, by outcome: an error when those
//! requests never got in (the user is prompted again and again), a warning when they did.
//!
//! Does not trigger: a client that presented a Bearer token, legacy credentials sent to a
//! host that never offered HMA (that is `hma-not-advertised`), a credential sent before the
//! first offer, Entra ID's own hosts.

use std::collections::BTreeMap;

use super::exchange::hma_offers;
use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::negotiate::Mechanism;
use crate::capture::Credential;

/// What one client process sent one host after it offered modern auth.
#[derive(Default)]
struct Declined {
    schemes: Vec<Credential>,
    sessions: Vec<u64>,
    /// One of those requests got an answer below 400.
    got_in: bool,
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let offers = hma_offers(cx);
    let mut declined: BTreeMap<(&str, Option<&str>), Declined> = BTreeMap::new();
    // NTLM wrapped in a SPNEGO token (`Negotiate YH...`) is NTLM, not Kerberos: the decoded
    // blob says which.
    let ntlm_in_negotiate: Vec<u64> = cx
        .windows_auth()
        .filter(|w| {
            w.sent
                .as_ref()
                .is_some_and(|t| t.blob.mechanism == Mechanism::Ntlm)
        })
        .map(|w| w.session)
        .collect();
    for s in cx.sessions {
        let (Some(host), Some(credential)) = (s.host.as_deref(), s.credential) else {
            continue;
        };
        let credential = match credential {
            Credential::Negotiate if ntlm_in_negotiate.contains(&s.id) => Credential::Ntlm,
            c => c,
        };
        if !credential.is_legacy() {
            continue;
        }
        let Some(first_offer) = offers.get(host).and_then(|o| o.first()) else {
            continue;
        };
        if s.id < *first_offer {
            continue;
        }
        let e = declined.entry((host, s.process.as_deref())).or_default();
        if !e.schemes.contains(&credential) {
            e.schemes.push(credential);
        }
        e.sessions.push(s.id);
        e.got_in |= s.status.is_some_and(|c| (200..400).contains(&c));
    }
    declined
        .into_iter()
        .map(|((host, process), d)| {
            let Declined {
                schemes,
                sessions,
                got_in,
            } = d;
            let offered_in = &offers[host];
            let names: Vec<&str> = schemes.iter().map(|c| c.as_str()).collect();
            let who = process.unwrap_or("The client");
            let outcome = if got_in {
                "and got in: it works, without MFA or conditional access"
            } else {
                "and was refused every time: the user sees the password prompt again and again"
            };
            Finding {
                id: "hma-declined".into(),
                severity: if got_in {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                title: format!(
                    "{who} answered {host}'s modern-auth offer with {}",
                    names.join(" and ")
                ),
                evidence: format!(
                    "{host} offered a Bearer challenge with authorization_uri (first in session \
                     {}); {who} sent {} in {} request(s) (sessions {}) {outcome}.",
                    offered_in[0],
                    names.join(" and "),
                    sessions.len(),
                    session_list(&sessions),
                ),
                fix: "The client is not using modern auth for this mailbox. On the client: \
                      HKCU\\Software\\Microsoft\\Office\\16.0\\Common\\Identity must not set \
                      EnableADAL=0 (Outlook 2013 needs EnableADAL=1 and Version=1); remove \
                      saved credentials for the host in Credential Manager; clear \"Always \
                      prompt for logon credentials\" in the account's security settings; then \
                      restart Outlook. If Outlook runs an older build, update it (hybrid modern \
                      auth needs Outlook 2013 SP1 with the ADAL keys, or 2016 and later). If \
                      only Autodiscover is answered with NTLM or Kerberos, set \
                      HKCU\\Software\\Microsoft\\Exchange AlwaysUseMSOAuthForAutoDiscover=1 \
                      (DWORD)."
                    .into(),
                sessions: sorted(sessions.iter().copied().chain([offered_in[0]]).collect()),
                remedy: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{build, run, HMA, S};
    use super::*;

    const AD: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
    const EWS: &str = "https://mail.contoso.com/EWS/Exchange.asmx";

    fn offer(id: u64, url: &str) -> S {
        S::new(id, "POST", url, 401).offers(&[HMA, "Negotiate", "NTLM", "Basic realm=\"x\""])
    }

    #[test]
    fn basic_refused_is_an_error_and_ntlm_that_got_in_a_warning() {
        let f = run(
            check,
            vec![
                offer(1, AD),
                S::new(2, "POST", AD, 401)
                    .req_header("Authorization", "Basic dXNlcjpzZWNyZXQ=")
                    .offers(&[HMA, "Basic realm=\"x\""]),
                S::new(3, "POST", AD, 401).req_header("Authorization", "Basic dXNlcjpzZWNyZXQ="),
                offer(4, EWS),
                S::new(5, "POST", EWS, 401)
                    .req_header("Authorization", "NTLM TlRMTVNTUAABAAAAB4IIog==")
                    .resp_header("WWW-Authenticate", "NTLM TlRMTVNTUAACAAAA"),
                S::new(6, "POST", EWS, 200).req_header("Authorization", "NTLM TlRMTVNTUAADAAAA"),
            ],
        );
        let got: Vec<(&str, Severity, Vec<u64>)> = f
            .iter()
            .map(|x| (x.title.as_str(), x.severity, x.sessions.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "outlook:4242 answered autodiscover.contoso.com's modern-auth offer with Basic",
                    Severity::Error,
                    vec![1, 2, 3]
                ),
                (
                    "outlook:4242 answered mail.contoso.com's modern-auth offer with NTLM",
                    Severity::Warning,
                    vec![4, 5, 6]
                ),
            ]
        );
        let json = serde_json::to_string(&f).unwrap();
        assert!(
            !json.contains("dXNlcjpzZWNyZXQ") && !json.contains("TlRMTVNT"),
            "{json}"
        );
    }

    #[test]
    fn a_bearer_answer_or_a_host_that_never_offered_hma_is_not_declined() {
        let a = build(vec![
            offer(1, AD),
            S::new(2, "POST", AD, 200).bearer(r#"{"aud":"https://autodiscover.contoso.com/"}"#),
            // Negotiate to a host that offered no Bearer: hma-not-advertised's business.
            S::new(3, "POST", EWS, 401).offers(&["Negotiate", "NTLM"]),
            S::new(4, "POST", EWS, 200).req_header("Authorization", "Negotiate YIIHXAYGKwYB"),
        ]);
        assert!(
            a.findings.iter().all(|f| f.id != "hma-declined"),
            "{:#?}",
            a.findings
        );
    }

    /// NTLM inside a SPNEGO token is named NTLM, not Kerberos.
    #[test]
    fn ntlm_wrapped_in_negotiate_is_named_ntlm() {
        use crate::auth::negotiate::testkit::{ntlm3, spnego_ntlm};
        let f = run(
            check,
            vec![
                offer(1, EWS),
                S::new(2, "POST", EWS, 200).req_header(
                    "Authorization",
                    &format!("Negotiate {}", spnego_ntlm(&ntlm3("CONTOSO", "jdoe", 330))),
                ),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].title.ends_with("with NTLM"), "{}", f[0].title);
        assert!(
            f[0].fix.contains("AlwaysUseMSOAuthForAutoDiscover=1"),
            "{}",
            f[0].fix
        );
    }
}
