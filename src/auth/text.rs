//! Small, linear-time text helpers shared by the auth parsers. Nothing here panics on any
//! input: every slice is taken at an ASCII delimiter, so it is always on a char boundary.

/// Read an HTTP quoted-string whose opening `"` is at byte `start` of `s`.
///
/// Returns the unescaped content and the byte index just past the closing quote. A `\x`
/// pair yields `x`. An unbalanced quote runs to the end of `s`.
pub(crate) fn read_quoted(s: &str, start: usize) -> (String, usize) {
    let mut out = String::new();
    let body = s.get(start + 1..).unwrap_or("");
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return (out, start + 1 + i + 1);
        } else {
            out.push(c);
        }
    }
    (out, s.len())
}

/// The index of the first `sep` byte at or after `from` that is not inside a double-quoted
/// string (`\"` escapes honoured), or `b.len()`. An unbalanced quote runs to the end.
pub(crate) fn find_outside_quotes(b: &[u8], from: usize, sep: u8) -> usize {
    let mut in_quote = false;
    let mut escaped = false;
    for (i, &c) in b.iter().enumerate().skip(from) {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_quote = false;
            }
        } else if c == b'"' {
            in_quote = true;
        } else if c == sep {
            return i;
        }
    }
    b.len()
}

/// Split `s` at every `sep` byte that is not inside a double-quoted string.
pub(crate) fn split_outside_quotes(s: &str, sep: u8) -> Vec<&str> {
    let b = s.as_bytes();
    let mut parts = Vec::new();
    let mut start = 0;
    loop {
        let end = find_outside_quotes(b, start, sep);
        // `sep` is ASCII, so `end` is a character boundary.
        parts.push(&s[start..end]);
        if end >= b.len() {
            return parts;
        }
        start = end + 1;
    }
}

/// A value that may be quoted: the unescaped content of a leading quoted-string, else the
/// trimmed text.
pub(crate) fn unquote(s: &str) -> String {
    let t = s.trim();
    if t.starts_with('"') {
        read_quoted(t, 0).0
    } else {
        t.to_string()
    }
}

/// The ASCII case-insensitive comparisons, from `capture` so that `redact` (an earlier stage)
/// shares them.
pub(crate) use crate::capture::ascii::{
    contains_ignore_case, ends_with_ignore_case, starts_with_ignore_case,
};

/// Split a URL-like string into (before `?`/`#`, query, fragment). Works on anything,
/// including `urn:ietf:wg:oauth:2.0:oob?error=...` and relative references.
pub(crate) fn split_url(url: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, fragment) = match url.find('#') {
        Some(i) => (&url[..i], Some(&url[i + 1..])),
        None => (url, None),
    };
    match rest.find('?') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..]), fragment),
        None => (rest, None, fragment),
    }
}

/// `host` without surrounding space, trailing dots or `:port`, as written (compare it
/// case-insensitively): a slice, not a lower-cased copy, as it is asked of every session.
pub(crate) fn bare_host(host: &str) -> &str {
    // Nearly every host starts with a letter or digit and ends with a letter: nothing to
    // trim, no dot to drop, no `:port` (the slow way was ~200 instructions, asked ~6 times
    // a session).
    if let (Some(first), Some(last)) = (host.as_bytes().first(), host.as_bytes().last()) {
        if first.is_ascii_alphanumeric() && last.is_ascii_alphabetic() {
            return host;
        }
    }
    trimmed_host(host)
}

/// [`bare_host`] the slow way, for any host.
fn trimmed_host(host: &str) -> &str {
    let host = host.trim().trim_end_matches('.');
    let host = match host.bytes().rposition(|b| b == b':') {
        Some(i) if i + 1 < host.len() && host[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            &host[..i]
        }
        _ => host,
    };
    host.trim_end_matches('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_hosts_lose_space_dots_and_port_but_keep_their_case() {
        assert_eq!(
            bare_host(" Login.MicrosoftOnline.com.:443 "),
            "Login.MicrosoftOnline.com"
        );
        assert_eq!(bare_host("sts.contoso.com:"), "sts.contoso.com:");
        assert_eq!(bare_host("sts.contoso.com:44x"), "sts.contoso.com:44x");
        assert_eq!(bare_host("a:1:2"), "a:1");
        assert_eq!(bare_host("[::1]:8080"), "[::1]");
        assert_eq!(bare_host("...:9."), "");
        assert_eq!(bare_host("h\u{e9}:80"), "h\u{e9}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 4096, ..Default::default() })]

        #[test]
        fn bare_host_agrees_with_its_slow_way(
            host in r"[ \t\u{a0}]{0,2}(\[[0-9a-f:]{0,6}\]|[a-zA-Z0-9\u{e9}-]{0,4}(\.[a-zA-Z0-9]{1,4}){0,2})\.{0,2}(:[0-9]{0,3}|:[0-9a-z]{0,2})?\.?[ \t\u{a0}]{0,2}",
            noise in r"[ \t.:0-9a-zA-Z\u{a0}\u{e9}\[\]-]{0,12}",
        ) {
            proptest::prop_assert_eq!(bare_host(&host), trimmed_host(&host), "{:?}", host);
            proptest::prop_assert_eq!(bare_host(&noise), trimmed_host(&noise), "{:?}", noise);
        }
    }

    #[test]
    fn quoted_strings_unescape_and_tolerate_missing_close() {
        assert_eq!(
            read_quoted(r#""a \"b\", c" tail"#, 0),
            ("a \"b\", c".to_string(), 12)
        );
        assert_eq!(read_quoted(r#""open"#, 0), ("open".to_string(), 5));
        assert_eq!(read_quoted(r#""é""#, 0), ("é".to_string(), 4));
    }

    #[test]
    fn split_respects_quotes() {
        assert_eq!(
            split_outside_quotes(r#"1;reason="a;b";c=d"#, b';'),
            vec!["1", r#"reason="a;b""#, "c=d"]
        );
    }

    #[test]
    fn url_split_and_prefixes() {
        assert_eq!(
            split_url("urn:x?error=a&b=c#frag"),
            ("urn:x", Some("error=a&b=c"), Some("frag"))
        );
        assert_eq!(split_url("https://h/p"), ("https://h/p", None, None));
        assert!(starts_with_ignore_case(
            "Microsoft.AAD.BrokerPlugin:1",
            "microsoft.aad.brokerplugin"
        ));
        assert!(!starts_with_ignore_case("m", "microsoft"));
    }
}
