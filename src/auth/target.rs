//! Where one session's request went, read once for every parser of this stage.
//!
//! Each parser used to split the request URL and derive the host itself: ~20 splits and ~5
//! lower-cased `String`s of the host per session, ~7 % of the CPU time of analysing a 10k
//! session HAR (issue 22). [`read_session`](super::read_session) now makes one [`Target`]
//! per session and hands it to every parser. It lives only as long as that call: nothing is
//! cached inside [`Session`], whose URL `redact` rewrites in place.

use std::borrow::Cow;
use std::cell::OnceCell;

use super::login::is_authority_host;
use crate::capture::body::Decoded;
use crate::capture::url_parts::UrlParts;
use crate::capture::{DecodeLimits, Session};

/// A session with its request's URL split and its host read, once.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub session: &'a Session,
    /// `session.request.url`, split.
    pub parts: UrlParts<'a>,
    /// [`Session::host`]: lower-cased, from the URL, else from `Host`; borrowed unless it
    /// had to be lower-cased.
    host: Option<Cow<'a, str>>,
    /// Whether the host is an Entra ID authority ([`is_authority_host`]).
    authority: bool,
    /// The request's and the response's bodies decoded, with the limits they were decoded
    /// within: made when a parser first asks ([`Self::request_body`]), then shared by the
    /// others and by `read_session`'s damage check. Decoding twice (a token error page by
    /// its parser and by the damage check, an EWS request likewise) was a sixth of the
    /// instructions of reading a SAZ's sessions.
    request_body: OnceCell<(DecodeLimits, Decoded)>,
    response_body: OnceCell<(DecodeLimits, Decoded)>,
}

impl<'a> Target<'a> {
    pub fn of(session: &'a Session) -> Target<'a> {
        let parts = UrlParts::split(&session.request.url);
        let host = session.host_in(&parts);
        let authority = host.as_deref().is_some_and(is_authority_host);
        Target {
            session,
            parts,
            host,
            authority,
            request_body: OnceCell::new(),
            response_body: OnceCell::new(),
        }
    }

    /// The request body with framing and codings undone as far as they go, within `limits`
    /// ([`crate::capture::Request::decoded_body_partial`]), decoded once: a strict reading
    /// (`decoded_body`) is these bytes when `problem` is `None`, else the error. Asked with
    /// other limits than the first time, it decodes again (read_session passes one).
    pub fn request_body(&self, limits: &DecodeLimits) -> Cow<'_, Decoded> {
        decoded_once(&self.request_body, limits, |l| {
            self.session.request.decoded_body_partial(l)
        })
    }

    /// [`Self::request_body`] of the response, when the session has one.
    pub fn response_body(&self, limits: &DecodeLimits) -> Option<Cow<'_, Decoded>> {
        let response = self.session.response.as_ref()?;
        Some(decoded_once(&self.response_body, limits, |l| {
            response.decoded_body_partial(l)
        }))
    }

    /// The request URL, as the capture wrote it.
    pub fn url(&self) -> &'a str {
        &self.session.request.url
    }

    /// The URL's path (empty when none is written), without query or fragment.
    pub fn path(&self) -> &'a str {
        self.parts.path
    }

    /// [`Session::host`], borrowed.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The host, or `""` when the session names none.
    pub fn host_or_empty(&self) -> &str {
        self.host().unwrap_or_default()
    }

    /// Whether the host is an Entra ID authority (`false` without a host).
    pub fn is_authority(&self) -> bool {
        self.authority
    }
}

/// A body decoded within `limits` once, kept in `cell` with those limits; decoded anew when
/// asked with other limits than the first time.
fn decoded_once<'c>(
    cell: &'c OnceCell<(DecodeLimits, Decoded)>,
    limits: &DecodeLimits,
    decode: impl Fn(&DecodeLimits) -> Decoded,
) -> Cow<'c, Decoded> {
    let (first, decoded) = cell.get_or_init(|| (*limits, decode(limits)));
    if first == limits {
        Cow::Borrowed(decoded)
    } else {
        Cow::Owned(decode(limits))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::capture::testkit::S;

    /// `Session::host` as it was before the target: split, then a lower-cased `String`.
    fn host_before(s: &Session) -> Option<String> {
        let from_url = {
            let host = UrlParts::split(&s.request.url).host();
            (!host.is_empty() && !host.contains(' ')).then(|| host.to_ascii_lowercase())
        };
        from_url.or_else(|| {
            s.request
                .headers
                .get("host")
                .map(|h| UrlParts::split(h.trim()).host().to_ascii_lowercase())
        })
    }

    fn session(url: &str, host_header: Option<&str>) -> Session {
        let mut s = S::new(1, "GET", url, 200).0;
        if let Some(h) = host_header {
            s.request.headers.push("Host", h);
        }
        s
    }

    fn check(url: &str, host_header: Option<&str>) {
        let s = session(url, host_header);
        let t = Target::of(&s);
        let want = host_before(&s);
        assert_eq!(t.host(), want.as_deref(), "{url:?} {host_header:?}");
        assert_eq!(s.host(), want, "{url:?} {host_header:?}");
        assert_eq!(t.parts, UrlParts::split(url));
        assert_eq!(t.path(), UrlParts::split(url).path);
        assert_eq!(t.url(), url);
        assert_eq!(t.host_or_empty(), want.as_deref().unwrap_or_default());
        assert_eq!(
            t.is_authority(),
            is_authority_host(&want.unwrap_or_default())
        );
    }

    #[test]
    fn host_and_parts_are_the_sessions() {
        check("https://mail.contoso.com/EWS/Exchange.asmx", None);
        check(
            "https://AutoDiscover.Contoso.COM:443/autodiscover/autodiscover.xml",
            None,
        );
        check("http://u:p@[::1]:8080/x?y#z", None);
        check("http://u:p@[FE80::1]/x", None);
        check(
            "https://user@Login.MicrosoftOnline.com/common/oauth2/token",
            None,
        );
        check("outlook.office365.com:443", None);
        // Origin-form: the host comes from `Host`, port, spaces and case as there.
        check("/EWS/Exchange.asmx", Some(" Mail.Contoso.com:444 "));
        check("/EWS/Exchange.asmx", Some("[::1]:80"));
        check("/EWS/Exchange.asmx", Some(""));
        check("/EWS/Exchange.asmx", Some("a b"));
        check("/EWS/Exchange.asmx", None);
        // A URL host with a space or none at all falls back to `Host`.
        check("https://bad host/x", Some("good.example"));
        check("https:///x", Some("LOGIN.microsoftonline.com"));
        check("", None);
        check("", Some("h"));
    }

    #[test]
    fn an_authority_host_is_one_in_any_case_and_a_lower_case_host_is_borrowed() {
        let s = session(
            "https://LOGIN.microsoftonline.com/common/oauth2/token",
            None,
        );
        let t = Target::of(&s);
        assert!(t.is_authority());
        assert!(matches!(t.host, Some(Cow::Owned(_))));
        let s = session(
            "https://login.microsoftonline.com/common/oauth2/token",
            None,
        );
        let t = Target::of(&s);
        assert!(t.is_authority());
        assert!(matches!(t.host, Some(Cow::Borrowed(_))));
        assert!(!Target::of(&session("/x", None)).is_authority());
    }

    proptest! {
        #[test]
        fn reads_the_host_as_before(
            url in "[a-zA-Z:/?#@\\[\\]. 0-9é]{0,40}",
            host in proptest::option::of("[a-zA-Z:\\[\\]. 0-9é]{0,20}"),
        ) {
            let s = session(&url, host.as_deref());
            let want = host_before(&s);
            let target = Target::of(&s);
            prop_assert_eq!(target.host(), want.as_deref());
            prop_assert_eq!(s.host(), want.clone());
            prop_assert_eq!(
                crate::capture::host_of(&url),
                {
                    let h = UrlParts::split(&url).host();
                    (!h.is_empty() && !h.contains(' ')).then(|| h.to_ascii_lowercase())
                }
            );
        }
    }
}
