//! What the proxy rules share (`preauth-proxy`, `proxy-auth-required`, `proxy-blocked`,
//! `gateway-timeout`): which hosts matter to a hybrid diagnosis, whether a host was reached
//! after all, and the wording of devices and markers. Not a rule.

use std::collections::BTreeMap;

use super::exchange::{self, is_microsoft_cloud};
use super::Context;
use crate::auth::{Device, GatewaySign, Sign};

/// The Microsoft 365 endpoints a client-side proxy must let through without
/// authentication or TLS inspection, for the fixes.
pub const M365_BYPASS: &str = "Microsoft's \"Office 365 URLs and IP address ranges\" list, \
     categories Optimize and Allow (at least login.microsoftonline.com, login.windows.net, \
     login.microsoft.com, aadcdn.msftauth.net, outlook.office365.com, outlook.office.com, \
     autodiscover-s.outlook.com, *.protection.outlook.com)";

/// Whether a host matters to the diagnosis: Microsoft 365 / Entra ID, or a host of the
/// customer's Exchange seen in the capture. A CDN or an ad host a proxy blocks does not.
pub fn matters(cx: &Context, host: &str) -> bool {
    is_microsoft_cloud(host) || exchange::exchange_hosts(cx.sessions).contains(host)
}

/// Whether any session to `host` after the last of `hits`, from a process that got them,
/// got an answer that is not a proxy's refusal (status below 400, not itself a sign of an
/// intermediary in `all`): a 407 followed by a 200 is the proxy handshake, a 504 followed by
/// a 200 a hiccup. Other processes getting through (a background token request by the
/// broker) do not mean this client did: proxies authenticate and filter per application.
pub fn got_through(cx: &Context, host: &str, hits: &[&GatewaySign], all: &[&GatewaySign]) -> bool {
    let last = hits.iter().map(|g| g.session).max().unwrap_or(0);
    let processes: Vec<Option<&str>> = hits
        .iter()
        .map(|g| cx.session(g.session).and_then(|s| s.process.as_deref()))
        .collect();
    cx.sessions.iter().any(|s| {
        s.id > last
            && s.host.as_deref() == Some(host)
            && s.status.is_some_and(|st| (100..400).contains(&st))
            && !all.iter().any(|g| g.session == s.id)
            && processes
                .iter()
                .any(|p| p.is_none() || s.process.is_none() || *p == s.process.as_deref())
    })
}

/// The signs of the kind `keep` accepts on hosts that matter, by host.
pub fn by_host<'a>(
    cx: &Context<'a>,
    keep: impl Fn(&Sign) -> bool,
) -> BTreeMap<String, Vec<&'a GatewaySign>> {
    let mut out: BTreeMap<String, Vec<&'a GatewaySign>> = BTreeMap::new();
    for g in cx.gateway_signs().filter(|g| keep(&g.sign)) {
        if matters(cx, &g.host) {
            out.entry(g.host.clone()).or_default().push(g);
        }
    }
    out
}

/// The devices named and what named them, in one phrase: "F5 BIG-IP APM (cookie
/// MRHSession, Server: BigIP)", or `unnamed` when nothing named one.
pub fn devices(signs: &[&GatewaySign], unnamed: &str) -> String {
    let mut named: BTreeMap<Device, Vec<&str>> = BTreeMap::new();
    for g in signs {
        if let Some(d) = g.device {
            let markers = named.entry(d).or_default();
            for m in &g.markers {
                if !markers.contains(&m.as_str()) && markers.len() < 6 {
                    markers.push(m);
                }
            }
        }
    }
    if named.is_empty() {
        return unnamed.to_string();
    }
    named
        .into_iter()
        .map(|(d, m)| {
            if m.is_empty() {
                d.name().to_string()
            } else {
                format!("{} ({})", d.name(), m.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Session ids of `signs`, ascending.
pub fn ids(signs: &[&GatewaySign]) -> Vec<u64> {
    super::sorted(signs.iter().map(|g| g.session).collect())
}

/// Every sign of the capture, for [`got_through`].
pub fn all_signs<'a>(cx: &Context<'a>) -> Vec<&'a GatewaySign> {
    cx.gateway_signs().collect()
}

/// The hosts, among `by_host`, that never got through after their last sign, with their
/// signs: what a client-side proxy rule reports. A refusal followed by success (the 407
/// handshake, a 504 then a 200) is left out.
pub fn never_through<'a>(
    cx: &Context<'a>,
    by_host: BTreeMap<String, Vec<&'a GatewaySign>>,
) -> Vec<(String, Vec<&'a GatewaySign>)> {
    let all = all_signs(cx);
    by_host
        .into_iter()
        .filter(|(host, hits)| !got_through(cx, host, hits, &all))
        .collect()
}

/// "N session(s) to host (sessions a, b)", for evidence.
pub fn count_line(host: &str, hits: &[&GatewaySign]) -> String {
    format!(
        "{} answer(s) for {host} (session(s) {})",
        hits.len(),
        super::session_list(&ids(hits))
    )
}
