//! What the Autodiscover rules share: the chains of redirects a client followed, whether
//! a capture shows Autodiscover giving settings, the domain of an address. Not a rule.

use std::collections::BTreeSet;

use super::exchange::is_microsoft_cloud;
use super::Context;
use crate::auth::autodiscover::is_exchange_online_host;
use crate::auth::{AutodiscoverAnswer, AutodiscoverKind};
use crate::capture::url_parts::UrlParts;

/// Outlook follows at most this many redirects in one lookup.
pub const MAX_HOPS: usize = 10;

/// Where a redirect sends the client.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Address(String),
    Url(String),
}

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::Address(a) => a.clone(),
            Target::Url(u) => u.clone(),
        }
    }

    /// The domain it names: the address's domain, or the URL's host.
    fn domain(&self) -> String {
        match self {
            Target::Address(a) => domain_of(a).to_string(),
            Target::Url(u) => host_of(u),
        }
    }

    /// Whether it points into Exchange Online.
    fn is_online(&self) -> bool {
        match self {
            Target::Address(a) => {
                let d = domain_of(a);
                d.ends_with(".onmicrosoft.com") || d.ends_with(".onmicrosoft.us")
            }
            Target::Url(u) => is_exchange_online_host(&host_of(u)),
        }
    }
}

/// One redirect a chain followed.
#[derive(Debug, Clone)]
pub struct Hop {
    pub session: u64,
    pub target: Target,
    /// The answer came from Exchange Online.
    pub from_online: bool,
}

/// One lookup: the answers a client got while following redirects for one address.
#[derive(Debug, Clone, Default)]
pub struct Chain<'a> {
    /// The address the lookup started with, when the capture shows it.
    pub address: Option<String>,
    /// The first host asked.
    pub first_host: String,
    pub answers: Vec<&'a AutodiscoverAnswer>,
    pub hops: Vec<Hop>,
    /// The first target met a second time.
    pub looped: Option<Target>,
    /// How it ended: settings or an error (none while a redirect is pending).
    pub end: Option<&'a AutodiscoverAnswer>,
    visited: BTreeSet<Target>,
    current: Option<String>,
    pending: Option<Target>,
}

impl Chain<'_> {
    pub fn sessions(&self) -> Vec<u64> {
        self.answers.iter().map(|a| a.session).collect()
    }

    /// The domain the lookup is for: the address's, else the first host without
    /// `autodiscover.`.
    pub fn domain(&self) -> String {
        match &self.address {
            Some(a) => domain_of(a).to_string(),
            None => self
                .first_host
                .strip_prefix("autodiscover.")
                .unwrap_or(&self.first_host)
                .to_string(),
        }
    }

    /// Redirects to a domain that is neither the lookup's (or a subdomain of it), nor
    /// Exchange Online's: Outlook asks the user whether to trust such a server.
    pub fn unexpected(&self) -> Vec<&Hop> {
        let domain = self.domain();
        self.hops
            .iter()
            .filter(|h| {
                let d = h.target.domain();
                !(d.is_empty()
                    || org_of(&d) == org_of(&domain)
                    || h.target.is_online()
                    || is_microsoft_cloud(&d))
            })
            .collect()
    }

    /// Exchange Online sent the client on-premises and on-premises sent it to Exchange
    /// Online, in the same lookup.
    pub fn ping_pong(&self) -> bool {
        let to_onprem = self
            .hops
            .iter()
            .any(|h| h.from_online && !h.target.is_online());
        let to_online = self
            .hops
            .iter()
            .any(|h| !h.from_online && h.target.is_online());
        to_onprem && to_online
    }

    fn matches(&self, a: &AutodiscoverAnswer) -> bool {
        if self.end.is_some() {
            return false;
        }
        let url = norm_url(&a.url);
        match &self.pending {
            Some(Target::Url(u)) if *u == url => true,
            Some(Target::Address(p)) => a.address.as_deref() == Some(p.as_str()),
            _ => a.address.is_some() && a.address == self.current,
        }
    }

    fn push<'b>(chain: &mut Chain<'b>, a: &'b AutodiscoverAnswer) {
        if chain.answers.is_empty() {
            chain.first_host = a.host.clone();
        }
        chain.answers.push(a);
        if let Some(addr) = &a.address {
            if chain.address.is_none() {
                chain.address = Some(addr.clone());
            }
            chain.current = Some(addr.clone());
            chain.visited.insert(Target::Address(addr.clone()));
        }
        chain.visited.insert(Target::Url(norm_url(&a.url)));
        let target = match &a.answer {
            AutodiscoverKind::RedirectAddr { address } => Target::Address(address.clone()),
            AutodiscoverKind::RedirectUrl { url } => Target::Url(norm_url(url)),
            AutodiscoverKind::HttpRedirect { location, .. } => Target::Url(norm_url(location)),
            AutodiscoverKind::Settings | AutodiscoverKind::Error { .. } => {
                chain.end = Some(a);
                chain.pending = None;
                return;
            }
            _ => return,
        };
        if chain.looped.is_none() && chain.visited.contains(&target) {
            chain.looped = Some(target.clone());
        }
        chain.visited.insert(target.clone());
        chain.hops.push(Hop {
            session: a.session,
            target: target.clone(),
            from_online: a.from_exchange_online(),
        });
        chain.pending = Some(target);
    }
}

/// Whether an answer takes part in a lookup (settings, an error, a redirect); 401s, web
/// pages and empty answers are candidates the client gave up on.
fn in_chain(a: &AutodiscoverAnswer) -> bool {
    matches!(
        a.answer,
        AutodiscoverKind::Settings
            | AutodiscoverKind::Error { .. }
            | AutodiscoverKind::RedirectAddr { .. }
            | AutodiscoverKind::RedirectUrl { .. }
            | AutodiscoverKind::HttpRedirect { .. }
    )
}

/// The lookups of a capture, in the order they started: each answer continues the open
/// lookup whose pending redirect it follows (or whose address it asks again at another
/// URL), else starts one.
pub fn chains<'a>(cx: &Context<'a>) -> Vec<Chain<'a>> {
    let mut out: Vec<Chain<'a>> = Vec::new();
    for a in cx.autodiscover_answers().filter(|a| in_chain(a)) {
        let at = out
            .iter()
            .rposition(|c| c.pending.is_some() && c.matches(a));
        let at = at.or_else(|| out.iter().rposition(|c| c.matches(a)));
        match at {
            Some(i) => Chain::push(&mut out[i], a),
            None => {
                let mut c = Chain::default();
                Chain::push(&mut c, a);
                out.push(c);
            }
        }
    }
    out
}

/// Whether the capture shows Autodiscover giving settings to anyone.
pub fn any_settings(cx: &Context) -> bool {
    cx.autodiscover_answers().any(|a| a.is_settings())
}

/// The addresses Autodiscover gave settings for: asked for them directly, or at the end of
/// a lookup redirected from them. Built once per rule, so that each finding's question is
/// a look-up, not another pass over the capture's events.
pub struct Settled {
    any: bool,
    addresses: BTreeSet<String>,
}

impl Settled {
    pub fn of(cx: &Context, chains: &[Chain]) -> Settled {
        let asked = cx
            .autodiscover_answers()
            .filter(|a| a.is_settings())
            .filter_map(|a| a.address.clone());
        let redirected = chains
            .iter()
            .filter(|c| c.end.is_some_and(|e| e.is_settings()))
            .filter_map(|c| c.address.clone());
        Settled {
            any: any_settings(cx),
            addresses: asked.chain(redirected).collect(),
        }
    }

    /// Whether `address` got settings; with no address, whether anyone did.
    pub fn has(&self, address: Option<&str>) -> bool {
        match address {
            Some(a) => self.addresses.contains(a),
            None => self.any,
        }
    }
}

/// The organisation's part of a domain: its last two labels, or three under a two-letter
/// country code with a short second level (`contoso.co.uk`). `mail.contoso.com`,
/// `autodiscover.contoso.com` and `contoso.com` are one organisation.
pub fn org_of(domain: &str) -> &str {
    let domain = domain.trim_end_matches('.');
    let labels: Vec<&str> = domain.rsplitn(4, '.').collect();
    let keep = match labels.as_slice() {
        [tld, second, _, ..] if tld.len() == 2 && second.len() <= 3 => 3,
        _ => 2,
    };
    let cut: usize = labels
        .iter()
        .take(keep)
        .map(|l| l.len() + 1)
        .sum::<usize>()
        .saturating_sub(1);
    &domain[domain.len().saturating_sub(cut)..]
}

/// The domain of an e-mail address (lower case), or the whole text.
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(_, d)| d)
}

fn host_of(url: &str) -> String {
    UrlParts::split(url).host().to_ascii_lowercase()
}

/// A URL as a redirect target: scheme and host lower case, path as is, no query, no
/// trailing slash.
fn norm_url(url: &str) -> String {
    let parts = UrlParts::split(url);
    let scheme = parts.scheme.unwrap_or("https").to_ascii_lowercase();
    format!(
        "{scheme}://{}{}",
        parts.host_port().to_ascii_lowercase(),
        parts
            .path_or_root()
            .to_ascii_lowercase()
            .trim_end_matches('/')
    )
}

/// Where the Autodiscover commands run, for the fixes.
pub const EMS: &str = "Exchange Management Shell (on-premises)";
pub const EXO_PS: &str = "Exchange Online PowerShell";

#[cfg(test)]
mod tests {
    use super::org_of;

    #[test]
    fn organisations() {
        assert_eq!(org_of("autodiscover.contoso.com"), "contoso.com");
        assert_eq!(org_of("contoso.com"), "contoso.com");
        assert_eq!(org_of("mail.contoso.co.uk"), "contoso.co.uk");
        assert_eq!(org_of("localhost"), "localhost");
        assert_eq!(org_of(""), "");
        assert_eq!(org_of("a.b.c.d.example.net."), "example.net");
    }
}
