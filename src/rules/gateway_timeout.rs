//! `gateway-timeout`: a Microsoft 365, Entra ID or Exchange host answered only by a proxy's
//! 502/503/504, or by Fiddler's own error answer ("Fiddler - Connection Failed", "Fiddler -
//! DNS Lookup Failed", ...), and never reached afterwards.
//!
//! Looks at: `Event::Gateway` gateway failures on hosts that matter (`proxy::matters`) with
//! no answer below 400 from that host after the last one. A 504 followed by success is a
//! hiccup and raises nothing; so do failures on Autodiscover candidates (the root domain,
//! `autodiscover.<domain>`) when another host answered Autodiscover: Outlook tries several
//! and uses the one that answers.

use super::exchange::{vdir_of_path, Vdir};
use super::proxy;
use super::{Context, Finding, Severity};
use crate::auth::{Device, Sign};

pub fn check(cx: &Context) -> Vec<Finding> {
    let hosts = proxy::by_host(cx, |s| matches!(s, Sign::GatewayFailure { .. }));
    // Asked only of a host whose failures were all Autodiscover's, and then once: a scan
    // of every session's URL, on every capture, was most of this rule's cost.
    let autodiscover_answered = std::cell::OnceCell::new();
    let autodiscover_answered = || {
        *autodiscover_answered.get_or_init(|| {
            cx.sessions
                .iter()
                .any(|s| s.status == Some(200) && vdir_of_path(&s.url) == Some(Vdir::Autodiscover))
        })
    };
    proxy::never_through(cx, hosts)
        .into_iter()
        .filter(|(_, hits)| {
            !(hits
                .iter()
                .all(|g| vdir_of_path(&g.url) == Some(Vdir::Autodiscover))
                && autodiscover_answered())
        })
        .map(|(host, hits)| {
            let mut said: Vec<String> = Vec::new();
            for g in &hits {
                let line = match &g.sign {
                    Sign::GatewayFailure { fiddler: Some(r) } => format!("{} \"{r}\"", g.status),
                    _ => g.status.to_string(),
                };
                if !said.contains(&line) {
                    said.push(line);
                }
            }
            let fiddler = hits.iter().any(|g| g.device == Some(Device::Fiddler));
            let fix = if fiddler {
                format!(
                    "Fiddler itself could not reach {host}: check from the capture machine that \
                     the name resolves and the port answers (Resolve-DnsName {host}; \
                     Test-NetConnection {host} -Port 443). If the network needs a proxy, set \
                     Fiddler's upstream gateway (Tools > Options > Gateway) to it; for HTTPS \
                     handshake failures, make sure Tools > Options > HTTPS > Decrypt HTTPS \
                     traffic is on with Fiddler's root certificate trusted, or skip decryption \
                     for this host. Then capture again: the failure may be the capture's, not \
                     the user's."
                )
            } else {
                format!(
                    "The proxy could not reach {host} or timed out: send Microsoft 365 and Entra \
                     ID DIRECT or through a proxy without TLS inspection ({}), and check the \
                     proxy's upstream connectivity and DNS for the host.",
                    proxy::M365_BYPASS
                )
            };
            Finding {
                id: "gateway-timeout".into(),
                severity: Severity::Error,
                title: format!(
                    "{host} answered only by {}: never reached",
                    if fiddler {
                        "Fiddler's own error answer"
                    } else {
                        "a gateway error from the proxy"
                    }
                ),
                evidence: format!(
                    "{}: {}; no request to {host} got through afterwards. From: {}.",
                    proxy::count_line(&host, &hits),
                    said.join(", "),
                    proxy::devices(&hits, "a proxy (Via, or a CONNECT answered by the proxy)")
                ),
                fix,
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

    fn fiddler(id: u64, url: &str, reason: &str) -> S {
        let mut s = S::new(id, "POST", url, 502)
            .resp_header("Content-Type", "text/html; charset=UTF-8")
            .resp_header("Connection", "close");
        if let Some(r) = s.0.response.as_mut() {
            r.reason = reason.into();
        }
        s
    }

    #[test]
    fn fiddler_connection_failed_to_ews_is_an_error() {
        let ews = "https://mail.contoso.com/EWS/Exchange.asmx";
        let f = run(
            check,
            vec![
                fiddler(1, ews, "Fiddler - Connection Failed"),
                fiddler(2, ews, "Fiddler - Connection Failed"),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].title.contains("Fiddler"), "{}", f[0].title);
        assert!(f[0]
            .evidence
            .contains("502 \"Fiddler - Connection Failed\""));
        assert!(f[0]
            .fix
            .contains("Test-NetConnection mail.contoso.com -Port 443"));
    }

    /// Does not trigger: one 504 then success; a 504 from Exchange itself (its own headers,
    /// no Via); the root domain's Autodiscover failing when another Autodiscover answered;
    /// an unrelated host.
    #[test]
    fn hiccups_and_autodiscover_candidates_raise_nothing() {
        let mapi = "https://outlook.office365.com/mapi/emsmdb/";
        let hiccup = S::new(1, "POST", mapi, 504).resp_header("Via", "1.1 proxy.contoso.local");
        let ok = S::new(2, "POST", mapi, 200);
        let own = S::new(3, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 503)
            .resp_header("X-FEServer", "EX01");
        let root = fiddler(
            4,
            "https://contoso.com/autodiscover/autodiscover.xml",
            "Fiddler - DNS Lookup Failed",
        );
        let ad = S::new(
            5,
            "POST",
            "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
            200,
        );
        let cdn = S::new(6, "GET", "https://cdn.example.net/a.js", 504).resp_header("Via", "1.1 p");
        assert!(run(check, vec![hiccup, ok, own, root, ad, cdn]).is_empty());
    }
}
