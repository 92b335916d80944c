//! Answers whose whole body is a credential with no key name around it: Seamless SSO's
//! `autologon` endpoints (`/<tenant>/winauth/sso`, `/winauth/trust/...`) answer a ticket
//! with the desktop SSO token, a bare string (or a small XML or JSON answer holding it) that
//! the sign-in page then posts as `dssoToken`. No finder can tell a bare token from text,
//! so the body of every 2xx answer from such a host is replaced whole, by host, not by
//! content: it cannot be missed, and no other host's body is touched.

use crate::capture::url_parts::UrlParts;

/// Why such a body is not kept.
pub const WHY: &str = "a Seamless SSO answer: its body is the desktop SSO token";

/// Seamless SSO's domains (public cloud and its subdomains, US Government).
const DOMAINS: &[&str] = &["microsoftazuread-sso.com", "autologon.microsoft.us"];

/// Whether a 2xx answer to a `method` request for `url` is a bare token: its host is
/// Seamless SSO's and it is not a proxy's `CONNECT` (whose answer is the tunnel's).
pub fn is_token_answer(method: &str, url: &str) -> bool {
    if method.eq_ignore_ascii_case("CONNECT") {
        return false;
    }
    let host = UrlParts::split(url).host().to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    DOMAINS
        .iter()
        .any(|d| host == *d || host.strip_suffix(d).is_some_and(|rest| rest.ends_with('.')))
}

/// Whether `status` is one whose body is the token (2xx).
pub fn is_token_status(status: u64) -> bool {
    (200..300).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seamless_sso_hosts_only() {
        for url in [
            "https://autologon.microsoftazuread-sso.com/contoso.com/winauth/sso?client-request-id=1",
            "https://AUTOLOGON.microsoftazuread-sso.com:443/winauth/trust/2005/windowstransport",
            "https://autologon.microsoftazuread-sso.com./contoso.com/winauth/trust/13/windowstransport",
            "https://autologon.microsoft.us/contoso.us/winauth/sso",
            "autologon.microsoftazuread-sso.com:443",
        ] {
            assert!(is_token_answer("GET", url), "{url}");
        }
        for url in [
            "https://login.microsoftonline.com/common/login",
            "https://notmicrosoftazuread-sso.com/x",
            "https://microsoftazuread-sso.com.evil.example/x",
            "https://outlook.office.com/owa/?autologon.microsoftazuread-sso.com",
            "",
        ] {
            assert!(!is_token_answer("GET", url), "{url}");
        }
        assert!(!is_token_answer(
            "CONNECT",
            "autologon.microsoftazuread-sso.com:443"
        ));
        assert!(is_token_status(200) && is_token_status(204));
        assert!(!is_token_status(401) && !is_token_status(302) && !is_token_status(500));
    }
}
