//! What the Exchange rules share: which virtual directory a URL is, which schemes a 401
//! offered, and whether a host looks reached from the Internet. Not a rule.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::Context;
use crate::auth::Challenge;
use crate::capture::url_parts::UrlParts;

/// An Exchange virtual directory, by the first segment of the URL's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Vdir {
    Autodiscover,
    Ews,
    Mapi,
    Oab,
    ActiveSync,
    Rpc,
    Owa,
    Ecp,
    PowerShell,
}

impl Vdir {
    /// The name an Exchange administrator uses.
    pub fn name(self) -> &'static str {
        match self {
            Vdir::Autodiscover => "Autodiscover",
            Vdir::Ews => "EWS",
            Vdir::Mapi => "MAPI",
            Vdir::Oab => "OAB",
            Vdir::ActiveSync => "ActiveSync",
            Vdir::Rpc => "RPC",
            Vdir::Owa => "OWA",
            Vdir::Ecp => "ECP",
            Vdir::PowerShell => "PowerShell",
        }
    }

    /// The path as Exchange publishes it.
    pub fn path(self) -> &'static str {
        match self {
            Vdir::Autodiscover => "/autodiscover/",
            Vdir::Ews => "/EWS/",
            Vdir::Mapi => "/mapi/",
            Vdir::Oab => "/OAB/",
            Vdir::ActiveSync => "/Microsoft-Server-ActiveSync",
            Vdir::Rpc => "/rpc/",
            Vdir::Owa => "/owa/",
            Vdir::Ecp => "/ecp/",
            Vdir::PowerShell => "/PowerShell/",
        }
    }
}

/// The path of an absolute URL (or of an origin-form target), without query or fragment.
pub fn path_of(url: &str) -> &str {
    UrlParts::split(url).path_or_root()
}

/// The virtual directory a URL's path is in, case-insensitively.
pub fn vdir_of_path(url: &str) -> Option<Vdir> {
    let first = UrlParts::split(url).first_segment();
    // Compared in place: the rules ask this of every session, several times.
    const VDIRS: [(&str, Vdir); 9] = [
        ("autodiscover", Vdir::Autodiscover),
        ("ews", Vdir::Ews),
        ("mapi", Vdir::Mapi),
        ("oab", Vdir::Oab),
        ("microsoft-server-activesync", Vdir::ActiveSync),
        ("rpc", Vdir::Rpc),
        ("owa", Vdir::Owa),
        ("ecp", Vdir::Ecp),
        ("powershell", Vdir::PowerShell),
    ];
    VDIRS
        .iter()
        .find(|(name, _)| first.eq_ignore_ascii_case(name))
        .map(|&(_, vdir)| vdir)
}

/// The vdir of a URL, an `autodiscover.` host counting as Autodiscover whatever the path.
pub fn vdir_of(url: &str, host: &str) -> Option<Vdir> {
    vdir_of_path(url).or_else(|| {
        host.starts_with("autodiscover.")
            .then_some(Vdir::Autodiscover)
    })
}

/// Microsoft's own cloud hosts (Exchange Online, Entra ID): not the customer's Exchange.
pub fn is_microsoft_cloud(host: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "office365.com",
        "office.com",
        "outlook.com",
        "microsoft.com",
        "microsoftonline.com",
        "windows.net",
        "office365.us",
        "partner.outlook.cn",
    ];
    let host = host.trim_end_matches('.');
    crate::auth::login::is_authority_host(host)
        || SUFFIXES
            .iter()
            .any(|s| host == *s || host.strip_suffix(s).is_some_and(|rest| rest.ends_with('.')))
}

/// Schemes that let a client in without Entra ID (no conditional access, no MFA).
pub const LEGACY_SCHEMES: &[&str] = &["Basic", "NTLM", "Negotiate", "Digest"];

/// The schemes a 401 offered to start a handshake, canonically spelled, in order, once each.
/// NTLM/Negotiate continuations (a scheme carrying a token68 blob) are the middle of a
/// handshake the client chose, not an offer, and are left out.
pub fn offered(c: &Challenge) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in c.schemes.iter().filter(|s| s.token68_len.is_none()) {
        let name = LEGACY_SCHEMES
            .iter()
            .chain(["Bearer"].iter())
            .find(|k| s.is(k))
            .map_or_else(|| s.name.clone(), |k| (*k).to_string());
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The legacy schemes among `offered`.
pub fn legacy(offered: &[String]) -> Vec<String> {
    offered
        .iter()
        .filter(|s| LEGACY_SCHEMES.iter().any(|l| l.eq_ignore_ascii_case(s)))
        .cloned()
        .collect()
}

/// The challenge offered hybrid modern auth: a Bearer scheme with `authorization_uri`.
pub fn offers_hma(c: &Challenge) -> bool {
    c.bearer().is_some_and(|b| b.authorization_uri.is_some())
}

/// Whether a host is probably reached from the Internet.
///
/// A capture cannot tell where the client stood, so this is a guess: a DNS name with a dot
/// that does not end in a private-use suffix (`.local`, `.lan`, `.internal`, `.corp`,
/// `.home.arpa`, `.localdomain`), or a public IP literal. Single-label names, private,
/// loopback and link-local addresses are taken as internal. Split DNS (the same name inside
/// and outside) makes an internal capture look external.
pub fn looks_external(host: &str) -> bool {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return false;
    }
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return match ip {
            IpAddr::V4(v4) => {
                !(v4.is_private()
                    || v4.is_loopback()
                    || v4.is_link_local()
                    || v4.is_unspecified()
                    // 100.64.0.0/10, carrier-grade NAT
                    || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64))
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80)
            }
        };
    }
    const PRIVATE_SUFFIXES: &[&str] = &[
        ".local",
        ".lan",
        ".internal",
        ".intranet",
        ".corp",
        ".home.arpa",
        ".localdomain",
        ".localhost",
    ];
    host.contains('.') && !PRIVATE_SUFFIXES.iter().any(|s| host.ends_with(s))
}

/// `a, b and c`-style list of strings.
pub fn join(items: &[String]) -> String {
    items.join(", ")
}

/// Group `(key, session)` pairs, sessions sorted and unique per key.
pub fn group<K: Ord>(pairs: impl IntoIterator<Item = (K, u64)>) -> BTreeMap<K, Vec<u64>> {
    let mut map: BTreeMap<K, Vec<u64>> = BTreeMap::new();
    for (k, s) in pairs {
        map.entry(k).or_default().push(s);
    }
    for v in map.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    map
}

/// Every host that offered hybrid modern auth (a 401 with `authorization_uri`), with the
/// sessions that offered it, ascending. Entra ID's own 401s are answers, not offers.
pub fn hma_offers<'a>(cx: &Context<'a>) -> BTreeMap<&'a str, Vec<u64>> {
    group(
        cx.challenges()
            .filter(|c| !crate::auth::login::is_authority_host(&c.host))
            .filter(|c| offers_hma(c))
            .map(|c| (c.host.as_str(), c.session)),
    )
}

/// The organisation's Exchange hosts a capture shows: `autodiscover.` names and hosts that
/// served (or were asked for) an Exchange virtual directory, tunnels included. One pass,
/// no allocation per session: the cloud test runs once per distinct host found.
pub fn exchange_hosts(
    sessions: &[crate::capture::SessionSummary],
) -> std::collections::BTreeSet<&str> {
    let mut hosts = std::collections::BTreeSet::new();
    for s in sessions {
        let Some(host) = s.host.as_deref() else {
            continue;
        };
        if hosts.contains(host) {
            continue;
        }
        let exchange = host.starts_with("autodiscover.")
            || (!s.flags.tunnel && vdir_of_path(&s.url).is_some());
        if exchange && !is_microsoft_cloud(host) {
            hosts.insert(host);
        }
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vdirs_by_path_and_autodiscover_host() {
        assert_eq!(
            vdir_of_path("https://mail.contoso.com/EWS/Exchange.asmx"),
            Some(Vdir::Ews)
        );
        assert_eq!(
            vdir_of_path("https://mail.contoso.com/Microsoft-Server-ActiveSync?Cmd=Sync"),
            Some(Vdir::ActiveSync)
        );
        assert_eq!(
            vdir_of_path("https://mail.contoso.com/MAPI/emsmdb/?MailboxId=x"),
            Some(Vdir::Mapi)
        );
        assert_eq!(vdir_of_path("https://mail.contoso.com/ewsx/"), None);
        assert_eq!(vdir_of_path("https://mail.contoso.com/?/ews/"), None);
        assert_eq!(
            vdir_of(
                "https://autodiscover.contoso.com/",
                "autodiscover.contoso.com"
            ),
            Some(Vdir::Autodiscover)
        );
        assert_eq!(vdir_of("https://www.contoso.com/", "www.contoso.com"), None);
    }

    #[test]
    fn external_heuristic() {
        for h in [
            "mail.contoso.com",
            "203.0.113.7",
            "2001:db8::1",
            "MAIL.CONTOSO.COM.",
        ] {
            assert!(looks_external(h), "{h}");
        }
        for h in [
            "exch01",
            "exch01.contoso.local",
            "10.1.2.3",
            "192.168.0.10",
            "172.20.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "fd00::1",
            "[fe80::1]",
            "",
        ] {
            assert!(!looks_external(h), "{h}");
        }
        assert!(is_microsoft_cloud("outlook.office365.com"));
        assert!(is_microsoft_cloud("login.microsoftonline.com"));
        assert!(!is_microsoft_cloud("mail.contoso.com"));
        assert!(!is_microsoft_cloud("notoffice.com"));
    }
}
