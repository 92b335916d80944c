//! What only the customer knows is sensitive: `--redact-term TEXT` and `--redact-regex RE`
//! (user names, tenant names, internal host names). Applied after the secret finders, to
//! every output ([`super::Redactor`]) and to `traceadal redact`'s copy
//! ([`super::Placeholders`]).
//!
//! A term matches case-insensitively, also when each of its characters is written
//! percent-encoded (`%40`, `%2540`), JSON-escaped (`\u0040`, `\"`), or as an HTML character
//! reference (`&#64;`, `&#x40;`, `&amp;`): `alice%40contoso.com` is `alice@contoso.com`. A
//! regex is the `regex` crate's syntax, matched as written (add `(?i)` for case-insensitive).
//! Both are also looked for inside base64 and base64url runs that decode to text (a JWT's
//! claims, a Basic credential), which are re-encoded with placeholders at the same length.
//!
//! In printed output a match becomes [`TERM_MARK`] (`<term>`), which no secret finder
//! writes; in a copy it becomes a same-length placeholder that keeps ASCII punctuation and
//! writes `TERM...` over letters and digits, so lengths, URLs, JSON and markup stay valid.
//! A match never swallows a quote, a line break or markup around it: `alice@\S+` on the
//! JSON text `"u":"alice@contoso.com",` replaces the address and keeps `",`.

// Capture data is hostile: no unwrap/expect outside tests (issue 8).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use regex::Regex;

use super::{Counts, Kind, Style, MARK};

/// What replaces a user term in printed output.
pub const TERM_MARK: &str = "<term>";

/// The longest `--redact-term` accepted, in bytes: each character becomes an alternation of
/// its encoded forms in one regex.
const MAX_TERM: usize = 1024;
/// The longest base64 run decoded to look for matches inside it.
const MAX_BASE64: usize = 4 * 1024 * 1024;
/// The most compiled regex memory per rule (the `regex` crate's default is 10 MiB).
const SIZE_LIMIT: usize = 64 * 1024 * 1024;

/// The user's rules, compiled once. Empty by default: nothing is replaced.
#[derive(Default, Clone)]
pub struct UserRules {
    /// Every term, as one case-insensitive alternation of their encoded forms.
    terms: Option<Regex>,
    /// `--redact-regex`, in the order given.
    regexes: Vec<Regex>,
}

/// Rules are what the customer said is sensitive: never print them, not even in a debug
/// dump.
impl fmt::Debug for UserRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRules")
            .field("terms", &self.terms.is_some())
            .field("regexes", &self.regexes.len())
            .finish()
    }
}

impl UserRules {
    /// Compile `terms` (`--redact-term`) and `regexes` (`--redact-regex`). The error names
    /// the flag and the rule's position, never the rule (it is what must not be printed).
    pub fn new(terms: &[String], regexes: &[String]) -> Result<UserRules, String> {
        let mut alternatives = Vec::new();
        for (i, t) in terms.iter().enumerate() {
            let n = i + 1;
            if t.is_empty() {
                return Err(format!("--redact-term (#{n}): the term is empty"));
            }
            if t.len() > MAX_TERM {
                return Err(format!(
                    "--redact-term (#{n}): a term may be at most {MAX_TERM} bytes"
                ));
            }
            alternatives.push(term_pattern(t));
        }
        // Longest first: a term inside another must not cut the longer one's match short.
        alternatives.sort_by_key(|a| std::cmp::Reverse(a.len()));
        let terms = if alternatives.is_empty() {
            None
        } else {
            let pattern = format!("(?i:{})", alternatives.join("|"));
            Some(
                regex::RegexBuilder::new(&pattern)
                    .size_limit(SIZE_LIMIT)
                    .build()
                    .map_err(|_| {
                        "--redact-term: the terms are too many or too long to compile".to_string()
                    })?,
            )
        };
        let mut compiled = Vec::new();
        for (i, r) in regexes.iter().enumerate() {
            let n = i + 1;
            let re = regex::RegexBuilder::new(r)
                .size_limit(SIZE_LIMIT)
                .build()
                .map_err(|e| format!("--redact-regex (#{n}): not a valid regex: {}", why(&e)))?;
            compiled.push(re);
        }
        Ok(UserRules {
            terms,
            regexes: compiled,
        })
    }

    /// No rule given.
    pub fn is_empty(&self) -> bool {
        self.terms.is_none() && self.regexes.is_empty()
    }

    /// `text` with every match replaced in `style`, each counted as [`Kind::UserTerm`].
    pub fn apply<'a>(&self, text: &'a str, style: Style, counts: &mut Counts) -> Cow<'a, str> {
        if self.is_empty() || text.is_empty() {
            return Cow::Borrowed(text);
        }
        let direct = self.apply_direct(text, style, counts);
        match self.apply_base64(&direct, counts) {
            Some(s) => Cow::Owned(s),
            None => direct,
        }
    }

    /// The matches in `text` itself.
    fn apply_direct<'a>(&self, text: &'a str, style: Style, counts: &mut Counts) -> Cow<'a, str> {
        let spans = self.spans(text, style);
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for span in spans {
            out.push_str(&text[at..span.start]);
            let piece = &text[span.clone()];
            match style {
                Style::Mark => mark(piece, &mut out),
                Style::Placeholder => out.push_str(&placeholder(piece)),
            }
            counts.add(Kind::UserTerm);
            at = span.end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// Matches inside base64 and base64url runs (a JWT's header and claims, which printed
    /// output keeps; a Basic credential's user, which a copy keeps): each run that decodes
    /// to UTF-8 text holding a match is decoded, given same-length placeholders, and
    /// encoded again in its own alphabet and padding, so a JWT stays a JWT of the same
    /// length. `None` when nothing was replaced.
    fn apply_base64(&self, text: &str, counts: &mut Counts) -> Option<String> {
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        use base64::Engine as _;
        static RUN: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
        let run = RUN
            .get_or_init(|| Regex::new(r"[A-Za-z0-9+/_-]{8,}={0,2}").ok())
            .as_ref()?;
        let mut out = String::new();
        let mut at = 0;
        for m in run.find_iter(text) {
            let token = m.as_str();
            if token.len() > MAX_BASE64 {
                continue;
            }
            let body = token.trim_end_matches('=');
            let padded = body.len() != token.len();
            let url = body.contains(['-', '_']);
            if url && body.contains(['+', '/']) {
                continue;
            }
            let engine = match (url, padded) {
                (false, false) => &STANDARD_NO_PAD,
                (false, true) => &STANDARD,
                (true, false) => &URL_SAFE_NO_PAD,
                (true, true) => &URL_SAFE,
            };
            let Ok(decoded) = engine.decode(token) else {
                continue;
            };
            let Ok(decoded) = String::from_utf8(decoded) else {
                continue;
            };
            let mut found = Counts::default();
            let Cow::Owned(replaced) = self.apply_direct(&decoded, Style::Placeholder, &mut found)
            else {
                continue;
            };
            let encoded = engine.encode(replaced.as_bytes());
            if encoded.len() != token.len() {
                continue;
            }
            counts.merge(&found);
            out.push_str(&text[at..m.start()]);
            out.push_str(&encoded);
            at = m.end();
        }
        if at == 0 {
            return None;
        }
        out.push_str(&text[at..]);
        Some(out)
    }

    /// `bytes` with every match replaced by a same-length placeholder; `None` when nothing
    /// was. Runs of valid UTF-8 are searched; other bytes pass unchanged.
    pub fn apply_bytes(&self, bytes: &[u8], counts: &mut Counts) -> Option<Vec<u8>> {
        if self.is_empty() {
            return None;
        }
        if let Ok(text) = std::str::from_utf8(bytes) {
            return match self.apply(text, Style::Placeholder, counts) {
                Cow::Borrowed(_) => None,
                Cow::Owned(s) => Some(s.into_bytes()),
            };
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut changed = false;
        for chunk in bytes.utf8_chunks() {
            match self.apply(chunk.valid(), Style::Placeholder, counts) {
                Cow::Borrowed(s) => out.extend_from_slice(s.as_bytes()),
                Cow::Owned(s) => {
                    changed = true;
                    out.extend_from_slice(s.as_bytes());
                }
            }
            out.extend_from_slice(chunk.invalid());
        }
        changed.then_some(out)
    }

    /// The byte ranges of `text` to replace: every non-empty match of every rule, merged,
    /// in order. In printed output a match wholly inside a mark already written
    /// (`<redacted>`, `<term>`) is left alone, so that applying the rules again changes
    /// nothing.
    pub(crate) fn spans(&self, text: &str, style: Style) -> Vec<Range<usize>> {
        let mut found: Vec<Range<usize>> = Vec::new();
        for re in self.terms.iter().chain(&self.regexes) {
            found.extend(
                re.find_iter(text)
                    .map(|m| m.range())
                    .filter(|r| !r.is_empty()),
            );
        }
        if found.is_empty() {
            return found;
        }
        if style == Style::Mark {
            let marks = marks_in(text);
            found.retain(|r| !marks.iter().any(|m| m.start <= r.start && r.end <= m.end));
        }
        found.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(found.len());
        for r in found {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }
}

/// The ranges of the marks the layer writes (also HTML-escaped, as the page shows them), so
/// that a second pass leaves them alone.
fn marks_in(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for m in [MARK, TERM_MARK, "&lt;redacted&gt;", "&lt;term&gt;"] {
        out.extend(text.match_indices(m).map(|(i, s)| i..i + s.len()));
    }
    out
}

/// The regex error's reason, without the pattern it quotes (`regex parse error:\n  <the
/// pattern>\n  ^\nerror: unclosed group`): the pattern is what the user wants hidden.
fn why(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => s
            .lines()
            .rev()
            .find_map(|l| l.trim().strip_prefix("error: "))
            .map(str::to_string)
            .unwrap_or_else(|| "syntax error".to_string()),
        regex::Error::CompiledTooBig(_) => "too big to compile".to_string(),
        _ => "cannot be compiled".to_string(),
    }
}

/// One term as a regex: each character literal (the whole is wrapped in `(?i:...)`), or
/// percent-encoded (also twice, `%2540`), JSON-escaped, or an HTML character reference.
fn term_pattern(term: &str) -> String {
    let mut p = String::new();
    for c in term.chars() {
        let mut forms = vec![regex::escape(c.encode_utf8(&mut [0; 4]))];
        let mut utf8 = [0u8; 4];
        let bytes = c.encode_utf8(&mut utf8).as_bytes();
        let pct: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
        let pct2: String = bytes.iter().map(|b| format!("%25{b:02X}")).collect();
        forms.push(pct);
        forms.push(pct2);
        let code = u32::from(c);
        if code <= 0xFFFF {
            forms.push(format!(r"\\u{code:04X}"));
        } else {
            let v = code - 0x1_0000;
            let (hi, lo) = (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            forms.push(format!(r"\\u{hi:04X}\\u{lo:04X}"));
        }
        forms.push(format!("&#0*{code};"));
        forms.push(format!("&#x0*{code:X};"));
        match c {
            '"' => forms.extend([r#"\\""#.to_string(), "&quot;".to_string()]),
            '\\' => forms.push(r"\\\\".to_string()),
            '/' => forms.push(r"\\/".to_string()),
            '&' => forms.push("&amp;".to_string()),
            '<' => forms.push("&lt;".to_string()),
            '>' => forms.push("&gt;".to_string()),
            '\'' => forms.push("&apos;".to_string()),
            ' ' => forms.push(r"\+".to_string()),
            _ => {}
        }
        p.push_str("(?:");
        p.push_str(&forms.join("|"));
        p.push(')');
    }
    p
}

/// A quote not escaped by a backslash, a line break, a tab or markup: where a printed value
/// ends (a JSON string, a table cell, an element). A match keeps them.
fn is_boundary(piece: &str, i: usize, c: char) -> bool {
    match c {
        '"' => !piece[..i].ends_with('\\'),
        '\n' | '\r' | '\t' | '<' | '>' | '|' | '`' => true,
        _ => false,
    }
}

/// `piece` for printed output: each run between boundaries that holds a letter or a digit
/// becomes [`TERM_MARK`]; boundaries, bare punctuation and a tag name between `<` and `>`
/// (`</td>` after an address that `\S+` ran into) stay.
fn mark(piece: &str, out: &mut String) {
    let mut cuts: Vec<(usize, char)> = piece
        .char_indices()
        .filter(|&(i, c)| is_boundary(piece, i, c))
        .collect();
    let mut start = 0;
    let mut before = None;
    cuts.push((piece.len(), '\0'));
    for (i, c) in cuts {
        let run = &piece[start..i];
        let tag = before == Some('<')
            && c == '>'
            && run
                .trim_start_matches('/')
                .starts_with(|c: char| c.is_ascii_alphabetic())
            && run
                .trim_start_matches('/')
                .chars()
                .all(|c| c.is_ascii_alphanumeric());
        if !tag && run.chars().any(|c| c.is_alphanumeric() || !c.is_ascii()) {
            out.push_str(TERM_MARK);
        } else {
            out.push_str(run);
        }
        if i < piece.len() {
            out.push(c);
            start = i + c.len_utf8();
            before = Some(c);
        }
    }
}

/// `piece` for a copy, the same number of bytes: ASCII letters and digits become `TERM...`,
/// other characters `X` for each of their bytes, a `%XX` escape `%58` and a `\uXXXX` escape
/// `\u0058` (an `X`: the copy stays valid URL and JSON), ASCII punctuation and white space
/// stay (they may be a file's structure).
fn placeholder(piece: &str) -> String {
    const FILL: &[u8] = b"TERM";
    let b = piece.as_bytes();
    let mut out = String::with_capacity(piece.len());
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' && is_hex(b.get(i + 1)) && is_hex(b.get(i + 2)) {
            out.push_str("%58");
            i += 3;
        } else if c == b'\\' && b.get(i + 1) == Some(&b'u') && (2..6).all(|k| is_hex(b.get(i + k)))
        {
            // A JSON escape stays one: `\u0058`.
            out.push_str("\\u0058");
            i += 6;
        } else if c.is_ascii_alphanumeric() {
            out.push(char::from(FILL[n % FILL.len()]));
            n += 1;
            i += 1;
        } else if c.is_ascii() {
            out.push(char::from(c));
            i += 1;
        } else {
            out.push('X');
            i += 1;
        }
    }
    out
}

fn is_hex(b: Option<&u8>) -> bool {
    b.is_some_and(u8::is_ascii_hexdigit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(terms: &[&str], regexes: &[&str]) -> UserRules {
        let t: Vec<String> = terms.iter().map(|s| s.to_string()).collect();
        let r: Vec<String> = regexes.iter().map(|s| s.to_string()).collect();
        UserRules::new(&t, &r).unwrap()
    }

    fn mark_text(r: &UserRules, s: &str) -> (String, u64) {
        let mut c = Counts::default();
        let out = r.apply(s, Style::Mark, &mut c).into_owned();
        (out, c.get(Kind::UserTerm))
    }

    #[test]
    fn terms_match_every_case_and_encoding() {
        let r = rules(&["alice@contoso.com"], &[]);
        let cases = [
            ("user=alice@contoso.com&x=1", "user=<term>&x=1"),
            ("user=ALICE@Contoso.COM", "user=<term>"),
            ("u=alice%40contoso.com&x", "u=<term>&x"),
            ("u=alice%2540contoso.com", "u=<term>"),
            (r#"{"upn":"alice\u0040contoso.com"}"#, r#"{"upn":"<term>"}"#),
            ("<b>alice&#64;contoso&#x2E;com</b>", "<b><term></b>"),
        ];
        for (input, want) in cases {
            let (out, n) = mark_text(&r, input);
            assert_eq!(out, want, "{input}");
            assert_eq!(n, 1, "{input}");
        }
        assert_eq!(
            mark_text(&r, "alice@contoso.net"),
            ("alice@contoso.net".into(), 0)
        );
    }

    #[test]
    fn non_ascii_terms_and_their_percent_forms() {
        let r = rules(&["Müller"], &[]);
        assert_eq!(
            mark_text(&r, "by MÜLLER and müller").0,
            "by <term> and <term>"
        );
        assert_eq!(mark_text(&r, "cn=M%C3%BCller,ou=x").0, "cn=<term>,ou=x");
        assert_eq!(mark_text(&r, r#""M\u00fcller""#).0, r#""<term>""#);
    }

    #[test]
    fn a_regex_match_keeps_quotes_line_breaks_and_markup() {
        let r = rules(&[], &[r"alice@\S+"]);
        assert_eq!(
            mark_text(&r, "\"url\": \"https://x/?u=alice@contoso.com\",\n").0,
            "\"url\": \"https://x/?u=<term>\",\n"
        );
        assert_eq!(
            mark_text(&r, "<td>alice@contoso.com</td>").0,
            "<td><term></td>"
        );
        // An escaped quote inside a JSON string is part of the value.
        assert_eq!(mark_text(&r, r#""alice@a\"b""#).0, r#""<term>""#);
    }

    #[test]
    fn applying_twice_changes_nothing_more() {
        let r = rules(&["term", "redacted", "contoso"], &[]);
        let (once, n) = mark_text(&r, "contoso <redacted> term");
        assert_eq!(once, "<term> <redacted> <term>");
        assert_eq!(n, 2);
        assert_eq!(mark_text(&r, &once), (once.clone(), 0));
        let page = "&lt;term&gt; and &lt;redacted&gt;";
        assert_eq!(mark_text(&r, page), (page.to_string(), 0));
    }

    #[test]
    fn placeholders_keep_the_length_and_the_punctuation() {
        let r = rules(&["contoso", "alice@contoso.com"], &[]);
        let mut c = Counts::default();
        let s = "GET https://autodiscover.Contoso.com/?u=alice%40contoso.com HTTP/1.1";
        let out = r.apply(s, Style::Placeholder, &mut c).into_owned();
        assert_eq!(out.len(), s.len());
        assert_eq!(
            out,
            "GET https://autodiscover.TERMTER.com/?u=TERMT%58ERMTERM.TER HTTP/1.1"
        );
        assert_eq!(c.get(Kind::UserTerm), 2);
        assert_eq!(c.to_string(), "user terms: 2");
        // Bytes: invalid UTF-8 passes, the rest is searched.
        let mut c = Counts::default();
        let b = b"\xff\xfecn=CONTOSO\xff";
        let out = r.apply_bytes(b, &mut c).unwrap();
        assert_eq!(out, b"\xff\xfecn=TERMTER\xff");
        assert_eq!(r.apply_bytes(b"nothing here", &mut c), None);
    }

    #[test]
    fn placeholders_keep_json_escapes_valid() {
        let r = rules(&["alice@contoso.com"], &[]);
        let mut c = Counts::default();
        let s = r#"{"upn":"alice\u0040contoso.com","n":1}"#;
        let out = r.apply(s, Style::Placeholder, &mut c).into_owned();
        assert_eq!(out, r#"{"upn":"TERMT\u0058ERMTERM.TER","n":1}"#);
        assert_eq!(out.len(), s.len());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["upn"], "TERMTXERMTERM.TER");
    }

    #[test]
    fn matches_inside_base64_are_replaced_and_the_encoding_kept() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        use base64::Engine as _;
        let r = rules(&["alice@contoso.com"], &[]);
        // A JWT's claims, which printed output keeps.
        let claims = r#"{"aud":"https://outlook.office365.com/","upn":"Alice@Contoso.com"}"#;
        let jwt = format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.<redacted>",
            URL_SAFE_NO_PAD.encode(claims)
        );
        let (out, n) = mark_text(&r, &format!("request={jwt}&x=1"));
        assert_eq!(n, 1);
        let payload = out.split('.').nth(1).unwrap();
        assert_eq!(payload.len(), URL_SAFE_NO_PAD.encode(claims).len());
        let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(
            decoded,
            r#"{"aud":"https://outlook.office365.com/","upn":"TERMT@ERMTERM.TER"}"#
        );
        assert!(
            out.starts_with("request=eyJhbGciOiJSUzI1NiJ9.") && out.ends_with(".<redacted>&x=1")
        );
        // A Basic credential's user, as a copy keeps it (padding kept).
        let cred = STANDARD.encode("alice@contoso.com:XXXXXXXX");
        let mut c = Counts::default();
        let out = r
            .apply(
                &format!("Authorization: Basic {cred}"),
                Style::Placeholder,
                &mut c,
            )
            .into_owned();
        let new = out.strip_prefix("Authorization: Basic ").unwrap();
        assert_eq!(new.len(), cred.len());
        assert_eq!(STANDARD.decode(new).unwrap(), b"TERMT@ERMTERM.TER:XXXXXXXX");
        assert_eq!(c.get(Kind::UserTerm), 1);
        // Base64 that holds no term, or is not text, is left alone.
        let other = STANDARD.encode("bob@fabrikam.com:pw");
        assert_eq!(mark_text(&r, &other), (other.clone(), 0));
    }

    #[test]
    fn non_ascii_placeholders_keep_the_byte_length() {
        let r = rules(&["müller"], &[]);
        let mut c = Counts::default();
        let out = r
            .apply("x=Müller;", Style::Placeholder, &mut c)
            .into_owned();
        assert_eq!(out, "x=TXXERMT;");
        assert_eq!(out.len(), "x=Müller;".len());
    }

    #[test]
    fn empty_matches_and_empty_rules() {
        let r = rules(&[], &["x*"]);
        assert_eq!(mark_text(&r, "abc"), ("abc".into(), 0));
        assert_eq!(mark_text(&r, "axxb").0, "a<term>b");
        let none = UserRules::default();
        assert!(none.is_empty());
        assert!(matches!(
            none.apply("contoso", Style::Mark, &mut Counts::default()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn errors_name_the_flag_never_the_rule() {
        let bad = UserRules::new(&[], &["ok".into(), "secret-(alice".into()]).unwrap_err();
        assert_eq!(
            bad,
            "--redact-regex (#2): not a valid regex: unclosed group"
        );
        assert!(!bad.contains("alice"));
        let empty = UserRules::new(&["".into()], &[]).unwrap_err();
        assert_eq!(empty, "--redact-term (#1): the term is empty");
        let dbg = format!("{:?}", rules(&["contoso"], &["alice"]));
        assert!(!dbg.contains("contoso") && !dbg.contains("alice"), "{dbg}");
    }
}
