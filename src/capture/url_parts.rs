//! The one tolerant URL splitter. Captures hold URLs no strict parser accepts (a host with a
//! space, a 1 KB fuzzed authority, `urn:` redirect URIs, `host:port` tunnels, origin-form
//! paths), and every stage needs their parts, so they are split here without validation or
//! normalisation; where a stage needs the normalised form (an origin, a resource) it asks
//! the `url` crate about what this splitter found. A property test holds the two equal on
//! the URLs both accept.
//!
//! How a string is read:
//! - `scheme://authority/path?query#fragment`: the scheme is what precedes the first `://`.
//! - No `://` and a leading `/`: an origin-form target (`/EWS/Exchange.asmx?x`), no authority.
//! - No `://` otherwise: an authority-form target (`host:443`, a CONNECT tunnel) followed by
//!   an optional path.
//!
//! The fragment is what follows the first `#`; the query what follows the first `?` before it.

/// `s` with its `%XX` escapes decoded, lossily (invalid UTF-8 replaced, a `%` that escapes
/// nothing kept): `decodeURIComponent`'s reading, so `+` stays a plus (it is a space only
/// in form bodies and queries, which `url::form_urlencoded` reads) and `&` and `=` are
/// characters like the others. For an address in a path segment (autodiscover v2's
/// `/autodiscover.json/v1.0/a%40contoso.com`) and a percent-encoded header value (OWA's
/// `X-OWA-UrlPostData`).
pub fn percent_decoded(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The parts of a URL, as borrowed slices of it. Splitting stops at the end of the path:
/// the query and fragment are found only when asked for, so that the many callers that need
/// the host of a long login URL do not scan its query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// Before `://`, as written (not lower-cased).
    pub scheme: Option<&'a str>,
    /// `userinfo@host:port`, as written; empty for an origin-form target.
    pub authority: &'a str,
    /// From the first `/` after the authority to `?` or `#`; empty when there is none.
    pub path: &'a str,
    /// The rest: empty, or from the `?` or `#` that ends the path.
    tail: &'a str,
}

/// The first byte of `s` at or after `from` that `stop` accepts, or `s.len()`.
///
/// A plain byte loop: the parts of a URL before its query are a few dozen bytes, where
/// `memchr`'s set-up per call costs more than the scan (485 instructions a split with three
/// `memchr` calls, ~20 splits per session, issue 22). The delimiters are ASCII, so the
/// index is a character boundary.
#[inline]
fn first(s: &str, from: usize, stop: impl Fn(u8) -> bool) -> usize {
    let b = s.as_bytes();
    let mut i = from;
    while i < b.len() && !stop(b[i]) {
        i += 1;
    }
    i
}

impl<'a> UrlParts<'a> {
    pub fn split(url: &'a str) -> UrlParts<'a> {
        // A scheme is `://` before any `?`, `#` or `/` of its own: the first of `:`, `/`,
        // `?` and `#` decides (a scheme has no `:` of its own either).
        let delim = first(url, 0, |b| matches!(b, b':' | b'/' | b'?' | b'#'));
        let scheme_end = Some(delim).filter(|&i| url.as_bytes()[i..].starts_with(b"://"));
        let (scheme, rest) = match scheme_end {
            Some(i) => (Some(&url[..i]), &url[i + 3..]),
            None => (None, url),
        };
        let (authority, rest) = if scheme.is_none() && rest.starts_with('/') {
            ("", rest)
        } else {
            rest.split_at(first(rest, 0, |b| matches!(b, b'/' | b'?' | b'#')))
        };
        let (path, tail) = rest.split_at(first(rest, 0, |b| b == b'?' || b == b'#'));
        UrlParts {
            scheme,
            authority,
            path,
            tail,
        }
    }

    /// After the first `?`, up to the first `#`.
    pub fn query(&self) -> Option<&'a str> {
        let q = self.tail.strip_prefix('?')?;
        Some(q.split_once('#').map_or(q, |(q, _)| q))
    }

    /// After the first `#`.
    pub fn fragment(&self) -> Option<&'a str> {
        self.tail.split_once('#').map(|(_, f)| f)
    }

    /// The authority without user information (`user:password@` never leaves here).
    pub fn host_port(&self) -> &'a str {
        // Byte searches, as in `split`: `rsplit_once` with a `char` sets up a searcher.
        match self.authority.bytes().rposition(|b| b == b'@') {
            Some(i) => &self.authority[i + 1..],
            None => self.authority,
        }
    }

    /// The host as written: without user information, port or IPv6 brackets.
    pub fn host(&self) -> &'a str {
        let hp = self.host_port();
        if let Some(v6) = hp.strip_prefix('[') {
            return &v6[..first(v6, 0, |b| b == b']')];
        }
        match hp.bytes().rposition(|b| b == b':') {
            Some(i) if hp[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &hp[..i],
            _ => hp,
        }
    }

    /// The port, when one is written and is a number.
    pub fn port(&self) -> Option<u16> {
        let hp = self.host_port();
        let after = match hp.rfind(']') {
            Some(i) => &hp[i + 1..],
            None => hp,
        };
        after.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
    }

    /// The path's first segment (`EWS` of `/EWS/Exchange.asmx`), as written; empty when the
    /// path is.
    pub fn first_segment(&self) -> &'a str {
        self.path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
    }

    /// The path, `/` when none is written.
    pub fn path_or_root(&self) -> &'a str {
        if self.path.is_empty() {
            "/"
        } else {
            self.path
        }
    }
}

/// A URL without its query string and fragment: queries carry codes and hints that do not
/// belong in a ticket.
pub fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn percent_decoding_reads_escapes_and_keeps_plus_ampersand_and_stray_percents() {
        assert_eq!(percent_decoded("a%40contoso.com"), "a@contoso.com");
        assert_eq!(percent_decoded("a+b%2Bc%20d"), "a+b+c d");
        assert_eq!(percent_decoded("x&y=z%26"), "x&y=z&");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(percent_decoded("%zz%4"), "%zz%4");
        assert_eq!(percent_decoded("%C3%A9%FF"), "\u{e9}\u{fffd}");
        assert_eq!(percent_decoded(""), "");
        // JSON as encodeURIComponent writes it, and as some clients send it, unencoded.
        let json = r#"{"Address":"room+1@contoso.com","Subject":"A & B = C"}"#;
        let encoded: String = json
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        assert_eq!(percent_decoded(&encoded), json);
        assert_eq!(percent_decoded(json), json);
    }

    #[test]
    fn first_segment_of_the_path() {
        let first = |url| UrlParts::split(url).first_segment();
        assert_eq!(first("https://mail.contoso.com/EWS/Exchange.asmx"), "EWS");
        assert_eq!(
            first("https://login.microsoftonline.com//common/oauth2"),
            "common"
        );
        assert_eq!(first("/mapi/emsmdb/?MailboxId=x"), "mapi");
        assert_eq!(first("https://autodiscover.contoso.com"), "");
        assert_eq!(first("https://autodiscover.contoso.com/?x=/ews/"), "");
        assert_eq!(first("outlook.office365.com:443"), "");
    }

    #[test]
    fn splits_the_forms_captures_hold() {
        let p = UrlParts::split("https://u:p@AutoDiscover.Contoso.com:443/a/b.xml?x=1&y#frag");
        assert_eq!(p.scheme, Some("https"));
        assert_eq!(p.authority, "u:p@AutoDiscover.Contoso.com:443");
        assert_eq!(p.host_port(), "AutoDiscover.Contoso.com:443");
        assert_eq!(p.host(), "AutoDiscover.Contoso.com");
        assert_eq!(p.port(), Some(443));
        assert_eq!(p.path, "/a/b.xml");
        assert_eq!(p.query(), Some("x=1&y"));
        assert_eq!(p.fragment(), Some("frag"));

        let tunnel = UrlParts::split("outlook.office365.com:443");
        assert_eq!(
            (tunnel.scheme, tunnel.host(), tunnel.port()),
            (None, "outlook.office365.com", Some(443))
        );
        assert_eq!(tunnel.path_or_root(), "/");

        let origin = UrlParts::split("/EWS/Exchange.asmx?x#y");
        assert_eq!((origin.authority, origin.path), ("", "/EWS/Exchange.asmx"));

        let v6 = UrlParts::split("http://[::1]:8080/x");
        assert_eq!((v6.host(), v6.port()), ("::1", Some(8080)));

        // A query holding `://` does not make a scheme.
        let q = UrlParts::split("https://h/p?redirect_uri=https://evil/");
        assert_eq!(
            (q.host(), q.path, q.query()),
            ("h", "/p", Some("redirect_uri=https://evil/"))
        );

        let urn = UrlParts::split("urn:ietf:wg:oauth:2.0:oob?code=x");
        assert_eq!((urn.scheme, urn.query()), (None, Some("code=x")));
        // A `#` before any `?`: no query, the rest is the fragment.
        let f = UrlParts::split("https://h/p#a?b");
        assert_eq!((f.path, f.query(), f.fragment()), ("/p", None, Some("a?b")));
        assert_eq!(strip_query("https://h/p?code=secret#f"), "https://h/p");
    }

    fn segment() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_~-]{0,8}"
    }

    proptest! {
        /// On the http(s) URLs the `url` crate accepts without rewriting, both read the same
        /// scheme, host, port, path, query and fragment.
        #[test]
        fn agrees_with_the_url_crate(
            scheme in prop::sample::select(vec!["http", "https"]),
            user in prop::option::of("[a-z0-9]{1,6}(:[a-z0-9]{1,6})?"),
            host in "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?){0,3}",
            port in prop::option::of(1u16..),
            segments in prop::collection::vec(segment(), 0..5),
            query in prop::option::of("[A-Za-z0-9=&_-]{0,12}"),
            fragment in prop::option::of("[A-Za-z0-9_-]{0,8}"),
        ) {
            let mut url = format!("{scheme}://");
            if let Some(u) = &user {
                url.push_str(&format!("{u}@"));
            }
            url.push_str(&host);
            if let Some(p) = port {
                url.push_str(&format!(":{p}"));
            }
            for s in &segments {
                url.push('/');
                url.push_str(s);
            }
            if let Some(q) = &query {
                url.push('?');
                url.push_str(q);
            }
            if let Some(f) = &fragment {
                url.push('#');
                url.push_str(f);
            }
            // A host whose last label is a number (decimal, or `0x` and hex digits, none
            // included: WHATWG's "ends in a number") is IPv4 to the url crate, rewritten
            // (`0x` is 0.0.0.0) or refused: not a case to compare.
            let last = host.rsplit('.').next().unwrap_or_default();
            let hex = last.strip_prefix("0x").is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
            prop_assume!(!hex && !last.bytes().all(|b| b.is_ascii_digit()));
            let Ok(parsed) = url::Url::parse(&url) else {
                return Ok(());
            };
            let ours = UrlParts::split(&url);
            prop_assert_eq!(ours.scheme, Some(parsed.scheme()));
            prop_assert_eq!(Some(ours.host()), parsed.host_str());
            // The url crate drops a default port; compare with the default filled in.
            let default = if scheme == "https" { 443 } else { 80 };
            prop_assert_eq!(Some(ours.port().unwrap_or(default)), parsed.port_or_known_default());
            prop_assert_eq!(ours.path_or_root(), parsed.path());
            prop_assert_eq!(ours.query(), parsed.query());
            prop_assert_eq!(ours.fragment(), parsed.fragment());
            let tail = ours.query().map_or(0, |q| q.len() + 1) + ours.fragment().map_or(0, |f| f.len() + 1);
            prop_assert_eq!(strip_query(&url).len() + tail, url.len());
        }

        /// Any string, non-ASCII included, splits as the `char`-pattern reading did: the
        /// byte search finds the same delimiters at the same character boundaries.
        #[test]
        fn byte_search_splits_like_char_search(url in "[a-z:/?#@é€\u{1F600} ]{0,24}") {
            let ours = UrlParts::split(&url);
            let scheme_end = url
                .find(':')
                .filter(|&i| url[i..].starts_with("://") && !url[..i].contains(['/', '?', '#']));
            let (scheme, rest) = match scheme_end {
                Some(i) => (Some(&url[..i]), &url[i + 3..]),
                None => (None, url.as_str()),
            };
            let (authority, rest) = if scheme.is_none() && rest.starts_with('/') {
                ("", rest)
            } else {
                rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()))
            };
            let path = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
            prop_assert_eq!((ours.scheme, ours.authority, ours.path), (scheme, authority, path));
        }
    }
}
