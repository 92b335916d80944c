//! Resource identifiers as Entra ID compares them: scheme and host case-insensitive, the
//! trailing slash and a default port ignored. `https://AutoDiscover.Contoso.com` asked for by
//! Outlook, `https://autodiscover.contoso.com/` in the SPN list and the name in an AADSTS500011
//! message are the same resource.

use std::fmt;

use serde::Serialize;

use crate::capture::url_parts::UrlParts;

/// A normalised resource: `scheme://host[:port]/` for URLs, the lower-cased text otherwise
/// (an AppId GUID is a valid resource too).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct Resource {
    scheme: Option<String>,
    host: String,
    port: Option<u16>,
}

impl Resource {
    /// Parse what a client sent as `resource` (or the resource part of a v2 scope), what a
    /// challenged URL was, or a name from an error message.
    pub fn parse(raw: &str) -> Option<Resource> {
        let raw = raw.trim().trim_end_matches(['.', ',', ';']);
        if raw.is_empty() {
            return None;
        }
        let parts = UrlParts::split(raw);
        let Some(scheme) = parts.scheme else {
            return Some(Resource {
                scheme: None,
                host: raw.trim_end_matches('/').to_ascii_lowercase(),
                port: None,
            });
        };
        let scheme = scheme.to_ascii_lowercase();
        let authority = parts.host_port();
        if authority.is_empty() {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() => match p.parse::<u16>() {
                Ok(port) => (h, Some(port)),
                Err(_) => (authority, None),
            },
            _ => (authority, None),
        };
        let default = match scheme.as_str() {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        };
        let port = if port == default { None } else { port };
        Some(Resource {
            scheme: Some(scheme),
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// The host (or, for a non-URL resource, the whole identifier).
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn scheme(&self) -> Option<&str> {
        self.scheme.as_deref()
    }

    /// A plain `http://` resource: the SPN alone will not fix it.
    pub fn is_plain_http(&self) -> bool {
        self.scheme.as_deref() == Some("http")
    }

    /// Whether this looks like a URL resource at all.
    pub fn is_url(&self) -> bool {
        self.scheme.is_some()
    }

    /// The SPN to add to the Exchange Online principal: always `https://host/` (a port kept).
    pub fn spn(&self) -> Option<String> {
        if !self.is_url() || !is_plain_host(&self.host) {
            return None;
        }
        Some(match self.port {
            Some(p) if p != 443 && self.scheme.as_deref() == Some("https") => {
                format!("https://{}:{p}/", self.host)
            }
            _ => format!("https://{}/", self.host),
        })
    }
}

/// Only letters, digits, `-` and `.`: anything else did not come from a real host name and
/// must never reach a generated script.
pub fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.scheme, self.port) {
            (Some(s), Some(p)) => write!(f, "{s}://{}:{p}/", self.host),
            (Some(s), None) => write!(f, "{s}://{}/", self.host),
            (None, _) => f.write_str(&self.host),
        }
    }
}

impl From<Resource> for String {
    fn from(r: Resource) -> String {
        r.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_trailing_slash_and_default_port_do_not_matter() {
        let a = Resource::parse("https://AutoDiscover.Contoso.com").unwrap();
        let b = Resource::parse("https://autodiscover.contoso.com/").unwrap();
        let c =
            Resource::parse("HTTPS://autodiscover.contoso.com:443/autodiscover/autodiscover.xml")
                .unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.to_string(), "https://autodiscover.contoso.com/");
        assert_eq!(
            a.spn().as_deref(),
            Some("https://autodiscover.contoso.com/")
        );
    }

    #[test]
    fn http_is_its_own_resource_but_the_spn_is_https() {
        let h = Resource::parse("http://autodiscover.contoso.com").unwrap();
        assert!(h.is_plain_http());
        assert_ne!(
            h,
            Resource::parse("https://autodiscover.contoso.com").unwrap()
        );
        assert_eq!(h.to_string(), "http://autodiscover.contoso.com/");
        assert_eq!(
            h.spn().as_deref(),
            Some("https://autodiscover.contoso.com/")
        );
    }

    #[test]
    fn non_default_ports_and_app_ids() {
        let p = Resource::parse("https://mail.contoso.com:8443/ews").unwrap();
        assert_eq!(p.to_string(), "https://mail.contoso.com:8443/");
        let g = Resource::parse("00000002-0000-0FF1-CE00-000000000000").unwrap();
        assert_eq!(g.to_string(), "00000002-0000-0ff1-ce00-000000000000");
        assert_eq!(g.spn(), None);
        assert_eq!(Resource::parse("  "), None);
        assert_eq!(Resource::parse("https:///x"), None);
    }

    #[test]
    fn hosts_that_could_inject_into_a_script_get_no_spn() {
        let r = Resource::parse("https://evil.com';Remove-Item C:\\;'/").unwrap();
        assert_eq!(r.spn(), None);
    }
}
