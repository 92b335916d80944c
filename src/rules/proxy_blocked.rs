//! `proxy-blocked`: the client's proxy refuses a Microsoft 365, Entra ID or Exchange host
//! (403 or 451 from Zscaler, Blue Coat / Symantec, Squid, Palo Alto, Netskope, Forcepoint,
//! or a refused CONNECT) and the client never reaches it.
//!
//! Looks at: `Event::Gateway` block signs on hosts that matter (`proxy::matters`), with no
//! answer below 400 from that host after the last one. A 403 from the site itself (no
//! proxy's headers, not a CONNECT), and blocks of hosts that do not matter (CDNs, ads), are
//! not findings.

use super::evidence::and_list;
use super::proxy;
use super::{Context, Finding, Severity};
use crate::auth::Sign;

/// A finding's title is this and its host.
const TITLE: &str = "The proxy blocks ";

/// The first sentence of the fix: what to allow.
fn allow(hosts: &str) -> String {
    format!(
        "Allow {hosts} at the proxy, without TLS inspection or authentication: {}.",
        proxy::M365_BYPASS
    )
}

/// The verdict's one line for this rule's errors on several hosts: one proxy policy to
/// change is one cause, not one per host (as all missing SPNs are one line). `None` for
/// fewer than two, or a title not this rule's.
pub fn one_cause(findings: &[&Finding]) -> Option<String> {
    let hosts: Vec<&str> = findings
        .iter()
        .map(|f| f.title.strip_prefix(TITLE))
        .collect::<Option<_>>()?;
    if hosts.len() < 2 {
        return None;
    }
    Some(format!(
        "{TITLE}{} hosts ({}). {}",
        hosts.len(),
        hosts.join(", "),
        allow(&and_list(&hosts))
    ))
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let hosts = proxy::by_host(cx, |s| matches!(s, Sign::Blocked));
    proxy::never_through(cx, hosts)
        .into_iter()
        .map(|(host, hits)| {
            let statuses: Vec<String> = {
                let mut v: Vec<String> = hits.iter().map(|g| g.status.to_string()).collect();
                v.sort();
                v.dedup();
                v
            };
            let connect = hits.iter().any(|g| !g.url.contains("://"));
            Finding {
                id: "proxy-blocked".into(),
                severity: Severity::Error,
                title: format!("{TITLE}{host}"),
                evidence: format!(
                    "{}: {} from the proxy{}; no request to {host} got through afterwards. \
                     Proxy: {}.",
                    proxy::count_line(&host, &hits),
                    statuses.join("/"),
                    if connect {
                        " (the CONNECT tunnel itself was refused)"
                    } else {
                        ""
                    },
                    proxy::devices(&hits, "not named by its headers (a refused CONNECT)")
                ),
                fix: format!(
                    "{} In the proxy's logs, the block names its category or rule (e.g. \
                     Squid's X-Squid-Error, Blue Coat's policy trace, Zscaler's URL category).",
                    allow(&host)
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

    fn zscaler(id: u64, url: &str) -> S {
        S::new(id, "GET", url, 403)
            .resp_header("Server", "Zscaler/6.2")
            .resp_header("Content-Type", "text/html")
    }

    /// Two hosts blocked are one cause for the verdict, the fix's first sentence naming
    /// both; one host, or a title not this rule's, is not merged.
    #[test]
    fn two_hosts_blocked_are_one_cause() {
        let f = run(
            check,
            vec![
                zscaler(1, "https://outlook.office.com/owa/"),
                zscaler(
                    2,
                    "https://login.microsoftonline.com/common/oauth2/authorize",
                ),
            ],
        );
        assert_eq!(f.len(), 2, "{f:#?}");
        let both: Vec<&Finding> = f.iter().collect();
        let line = one_cause(&both).expect("one line");
        let hosts: Vec<&str> = f.iter().map(|g| &g.title[TITLE.len()..]).collect();
        assert_eq!(
            line,
            format!(
                "The proxy blocks 2 hosts ({}, {}). Allow {} and {} at the proxy, without TLS \
                 inspection or authentication: {}.",
                hosts[0],
                hosts[1],
                hosts[0],
                hosts[1],
                proxy::M365_BYPASS
            )
        );
        assert!(f[0].fix.starts_with(&allow(hosts[0])), "{}", f[0].fix);
        assert_eq!(one_cause(&both[..1]), None);
        let mut other = f[1].clone();
        other.title = "something else".into();
        assert_eq!(one_cause(&[&f[0], &other]), None);
    }

    #[test]
    fn zscaler_blocking_exchange_online_is_an_error() {
        let f = run(
            check,
            vec![
                zscaler(1, "https://outlook.office365.com/EWS/Exchange.asmx"),
                zscaler(2, "https://outlook.office365.com/EWS/Exchange.asmx"),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].evidence.contains("Zscaler (Server: Zscaler/6.2)"),
            "{}",
            f[0].evidence
        );
    }

    /// Does not trigger: a CDN's own 403, a block of an unrelated host, a block followed by
    /// success, a 403 from Exchange.
    #[test]
    fn unrelated_and_recovered_blocks_raise_nothing() {
        let cdn = S::new(1, "GET", "https://res.cdn.office.net/x.js", 403)
            .resp_header("Server", "AkamaiGHost");
        let ads = S::new(2, "GET", "https://ads.example.net/x", 403)
            .resp_header("X-Squid-Error", "ERR_ACCESS_DENIED 0");
        let ews = "https://outlook.office365.com/EWS/Exchange.asmx";
        let later = S::new(4, "GET", ews, 200);
        let exchange = S::new(5, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 403)
            .resp_header("Server", "Microsoft-IIS/10.0");
        assert!(run(check, vec![cdn, ads, zscaler(3, ews), later, exchange]).is_empty());
    }
}
