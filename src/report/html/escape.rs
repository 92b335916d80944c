//! Escaping for everything that reaches the page from a capture. A capture is input an
//! attacker may write: a header value or a body can hold `<script>`, `"onmouseover=`, a
//! closing `</pre>` or a bidi override that reorders what the analyst reads.
//!
//! [`text`] is for element content (also inside SVG `<text>` and `<title>`), [`attr`] for a
//! double-quoted attribute value. Both make invisible and reordering characters visible.

/// Characters that reorder or hide text (bidi overrides and isolates, zero-width joiners):
/// shown as `[U+XXXX]` so they cannot disguise a host name or a script line.
fn is_sneaky(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fn push_common(out: &mut String, c: char) -> bool {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '\t' | '\n' => out.push(c),
        // A bare CR would be folded into the next line by the parser anyway.
        '\r' => {}
        c if c.is_control() => out.push('\u{FFFD}'),
        c if is_sneaky(c) => out.push_str(&format!("[U+{:04X}]", c as u32)),
        _ => return false,
    }
    true
}

/// Element content. Quotes are left as they are: harmless outside attributes, they keep
/// JSON readable and a challenge's `Bearer client_id="..."` recognisable to the redaction
/// layer (which exempts a scheme followed by a quoted parameter).
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        if !push_common(&mut out, c) {
            out.push(c);
        }
    }
    out
}

/// Escaped capture text made stable under a second pass of the redaction layer, which the
/// whole page gets in `output::emit`: an already redacted JSON value, escaped, reads
/// `"&lt;redacted&gt;"` and would be taken for a secret and replaced by a raw `<redacted>`
/// (an invisible element); a body line starting `Cookie:` likewise. The first becomes
/// `&quot;&lt;redacted&gt;&quot;`, the second starts with a character reference.
pub fn stable(escaped: String) -> String {
    const MARK: &str = "\"&lt;redacted&gt;\"";
    let mut s = if escaped.contains(MARK) {
        escaped.replace(MARK, "&quot;&lt;redacted&gt;&quot;")
    } else {
        escaped
    };
    if s.to_ascii_lowercase().contains("cookie:") {
        s = s
            .split('\n')
            .map(|line| {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("cookie:") || lower.starts_with("set-cookie:") {
                    let mut chars = line.chars();
                    let first = chars.next().map_or(0, |c| c as u32);
                    format!("&#{first};{}", chars.as_str())
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    s
}

/// A double-quoted attribute value.
pub fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        if push_common(&mut out, c) {
            continue;
        }
        match c {
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '`' => out.push_str("&#96;"),
            '=' => out.push_str("&#61;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[&str] = &[
        "<script>alert(1)</script>",
        "</pre><script>window.pwned=1</script>",
        "\"><img src=x onerror=alert(1)>",
        "' onmouseover='alert(1)",
        "</textarea></title></svg><svg onload=alert(1)>",
        "<!-- --><![CDATA[ ]]>",
        "&lt;script&gt; already escaped",
        "javascript:alert(1)",
    ];

    #[test]
    fn text_never_lets_markup_through() {
        for h in HOSTILE {
            let t = text(h);
            assert!(!t.contains('<'), "{t}");
            assert!(!t.contains('>'), "{t}");
            // Every `&` starts an entity we wrote.
            for (i, _) in t.match_indices('&') {
                let rest = &t[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;"]
                        .iter()
                        .any(|e| rest.starts_with(e)),
                    "{t}"
                );
            }
        }
        assert_eq!(
            text("<script>alert(\"x\")</script>"),
            "&lt;script&gt;alert(\"x\")&lt;/script&gt;"
        );
        assert_eq!(text("a & b"), "a &amp; b");
        assert_eq!(text("&lt;"), "&amp;lt;");
    }

    #[test]
    fn attr_cannot_close_the_quote() {
        for h in HOSTILE {
            let a = attr(h);
            for bad in ['<', '>', '"', '\'', '`'] {
                assert!(!a.contains(bad), "{a}");
            }
        }
        assert_eq!(attr("a\"b'c"), "a&quot;b&#39;c");
    }

    #[test]
    fn stable_survives_a_second_redaction() {
        let r = crate::redact::Redactor::default();
        let body = "{\"refresh_token\": \"x-secret-x\"}\nCookie: a=b";
        let page = stable(text(&r.text(body)));
        assert!(!page.contains("x-secret-x"));
        assert_eq!(r.text(&page), page);
        assert!(page.contains("&#67;ookie: a=&lt;redacted&gt;"), "{page}");
    }

    #[test]
    fn controls_and_bidi_become_visible() {
        assert_eq!(text("a\u{0}b\u{1b}[31m"), "a\u{FFFD}b\u{FFFD}[31m");
        assert_eq!(text("evil\u{202E}moc.osotnoc"), "evil[U+202E]moc.osotnoc");
        assert_eq!(text("line1\r\nline2\tx"), "line1\nline2\tx");
    }
}
