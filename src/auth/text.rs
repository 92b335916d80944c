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

/// ASCII case-insensitive `starts_with`.
pub(crate) fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// ASCII case-insensitive `ends_with`.
///
/// The parsers ask every session's URL path what it is (EWS? MAPI? autodiscover? ADFS?);
/// comparing in place spares each question a lower-cased copy of the path.
pub(crate) fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len()
        .checked_sub(suffix.len())
        .and_then(|start| s.as_bytes().get(start..))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix.as_bytes()))
}

/// ASCII case-insensitive `contains` (an empty `needle` is in every string).
pub(crate) fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    needle.is_empty()
        || hay
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_comparisons_agree_with_lower_casing_first() {
        let cases = [
            ("/EWS/Exchange.asmx", "/ews/exchange.asmx"),
            ("/ews/exchange.asmx/", "exchange.asmx/"),
            ("/MAPI/emsmdb/?MailboxId=x", "/mapi/emsmdb"),
            ("/adfs/ls", "/ADFS/LS/"),
            ("", "x"),
            ("x", ""),
            ("ab", "abc"),
            ("/Ä/ews", "/ä/ews"),
        ];
        for (hay, needle) in cases {
            let (h, n) = (hay.to_ascii_lowercase(), needle.to_ascii_lowercase());
            assert_eq!(
                starts_with_ignore_case(hay, needle),
                h.starts_with(&n),
                "{hay} {needle}"
            );
            assert_eq!(
                ends_with_ignore_case(hay, needle),
                h.ends_with(&n),
                "{hay} {needle}"
            );
            assert_eq!(
                contains_ignore_case(hay, needle),
                h.contains(&n),
                "{hay} {needle}"
            );
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
