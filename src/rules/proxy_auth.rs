//! `proxy-auth-required`: the client's proxy demands authentication (407) for a Microsoft
//! 365, Entra ID or Exchange host, and the client never gets past it.
//!
//! Office's background requests, the Windows broker (WAM) and services often cannot answer a
//! proxy's Negotiate/NTLM/Basic challenge, or answer with credentials the proxy refuses; the
//! sign-in then never reaches Entra ID. A 407 followed by a request that gets through is the
//! normal proxy handshake and raises nothing.
//!
//! Looks at: `Event::Gateway` 407 signs (`Proxy-Authenticate` schemes, the scheme of the
//! request's `Proxy-Authorization`), on hosts that matter (`proxy::matters`), two or more
//! per host and no answer below 400 from that host after the last one.

use super::evidence::first_sentence;
use super::proxy;
use super::{Context, Finding, Severity};
use crate::auth::Sign;

/// A finding's title is these around its host.
const TITLE_START: &str = "The proxy demands authentication (407) for ";
const TITLE_END: &str = " and the client never got through";

/// The verdict's one line for this rule's errors on several hosts: one proxy to exempt
/// them from is one cause, not one per host (as all missing SPNs are one line). The fix
/// is the same for every host. `None` for fewer than two, or a title not this rule's.
pub fn one_cause(findings: &[&Finding]) -> Option<String> {
    let hosts: Vec<&str> = findings
        .iter()
        .map(|f| f.title.strip_prefix(TITLE_START)?.strip_suffix(TITLE_END))
        .collect::<Option<_>>()?;
    let fix = findings.first()?.fix.as_str();
    if hosts.len() < 2 || findings.iter().any(|f| f.fix != fix) {
        return None;
    }
    Some(format!(
        "{TITLE_START}{} hosts ({}){TITLE_END}. {}",
        hosts.len(),
        hosts.join(", "),
        first_sentence(fix)
    ))
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let hosts = proxy::by_host(cx, |s| matches!(s, Sign::ProxyAuth { .. }));
    proxy::never_through(cx, hosts)
        .into_iter()
        .filter(|(_, hits)| hits.len() >= 2)
        .map(|(host, hits)| {
            let mut offered: Vec<&str> = Vec::new();
            let mut answered: Vec<&str> = Vec::new();
            for g in &hits {
                if let Sign::ProxyAuth {
                    schemes,
                    answered_with,
                } = &g.sign
                {
                    for s in schemes {
                        if !offered.contains(&s.as_str()) {
                            offered.push(s);
                        }
                    }
                    if let Some(a) = answered_with {
                        answered.push(a);
                    }
                }
            }
            let client = if answered.is_empty() {
                "The client never sent Proxy-Authorization: it cannot authenticate to the \
                 proxy (a service, the Windows broker or a background request without the \
                 user's credentials)."
                    .to_string()
            } else {
                let mut schemes = answered.clone();
                schemes.dedup();
                format!(
                    "The client answered {} time(s) with Proxy-Authorization ({}); the proxy \
                     never accepted it.",
                    answered.len(),
                    schemes.join(", ")
                )
            };
            Finding {
                id: "proxy-auth-required".into(),
                severity: Severity::Error,
                title: format!("{TITLE_START}{host}{TITLE_END}"),
                evidence: format!(
                    "{}: 407 Proxy Authentication Required, Proxy-Authenticate offered {}; no \
                     request to {host} got through afterwards. {client} Proxy: {}.",
                    proxy::count_line(&host, &hits),
                    if offered.is_empty() {
                        "no scheme".to_string()
                    } else {
                        offered.join(", ")
                    },
                    proxy::devices(&hits, "not named by its headers")
                ),
                fix: format!(
                    "Exempt Microsoft 365 and Entra ID from proxy authentication (and from TLS \
                     inspection): {} and the organisation's own Exchange hosts, as Microsoft's \
                     network connectivity principles for Microsoft 365 recommend. If the proxy \
                     must authenticate, check the account and the proxy's Kerberos SPN (HTTP/<proxy \
                     FQDN>) so that Negotiate succeeds, and that the PAC file sends these hosts \
                     DIRECT or to a proxy without authentication.",
                    proxy::M365_BYPASS
                ),
                sessions: proxy::ids(&hits),
                remedy: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;

    fn p407(id: u64, host: &str, answered: bool) -> S {
        let s = S::new(id, "CONNECT", &format!("{host}:443"), 407)
            .resp_header("Proxy-Authenticate", "Negotiate")
            .resp_header("Proxy-Authenticate", "NTLM")
            .resp_header("Via", "1.1 proxy.contoso.local");
        if answered {
            s.req_header("Proxy-Authorization", "NTLM TlRMTVNTUAADAAAAGAAYAEAAAAA=")
        } else {
            s
        }
    }

    #[test]
    fn a_407_loop_to_entra_is_an_error() {
        let host = "login.microsoftonline.com";
        let f = run(
            check,
            vec![
                p407(1, host, false),
                p407(2, host, true),
                p407(3, host, true),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].sessions, vec![1, 2, 3]);
        assert!(
            f[0].evidence.contains("Negotiate, NTLM"),
            "{}",
            f[0].evidence
        );
        assert!(
            f[0].evidence.contains("answered 2 time(s)"),
            "{}",
            f[0].evidence
        );
        assert!(!f[0].evidence.contains("TlRM"), "{}", f[0].evidence);
    }

    /// Two hosts behind the same proxy are one cause for the verdict; one host, or a
    /// title not this rule's, is not merged.
    #[test]
    fn two_hosts_behind_one_proxy_are_one_cause() {
        let (a, b) = ("login.microsoftonline.com", "outlook.office365.com");
        let f = run(
            check,
            vec![
                p407(1, a, false),
                p407(2, b, false),
                p407(3, a, false),
                p407(4, b, false),
            ],
        );
        assert_eq!(f.len(), 2, "{f:#?}");
        let both: Vec<&Finding> = f.iter().collect();
        let line = one_cause(&both).expect("one line");
        assert!(
            line.starts_with(
                "The proxy demands authentication (407) for 2 hosts (login.microsoftonline.com, \
                 outlook.office365.com) and the client never got through. Exempt Microsoft 365 \
                 and Entra ID from proxy authentication"
            ),
            "{line}"
        );
        assert!(
            line.ends_with("recommend."),
            "only the fix's first sentence: {line}"
        );
        assert_eq!(one_cause(&both[..1]), None);
        let mut other = f[1].clone();
        other.title = "something else".into();
        assert_eq!(one_cause(&[&f[0], &other]), None);
    }

    /// Does not trigger: the handshake (407 then 200), one trailing 407, a host that does
    /// not matter.
    #[test]
    fn the_handshake_and_unrelated_hosts_raise_nothing() {
        let host = "login.microsoftonline.com";
        let ok = S::new(3, "CONNECT", "login.microsoftonline.com:443", 200)
            .req_header("Proxy-Authorization", "Negotiate YIIG");
        assert!(run(check, vec![p407(1, host, false), p407(2, host, true), ok]).is_empty());
        assert!(run(check, vec![p407(1, host, false)]).is_empty());
        let cdn = "ads.example.net";
        assert!(run(check, vec![p407(1, cdn, false), p407(2, cdn, false)]).is_empty());
    }
}
