//! Shortening text without leaving half a secret. A cut can make a secret unrecognisable:
//! `Bearer eyJ0eXAi…` keeps its scheme and is still found, but a JWT cut before its second
//! dot, a token whose key comes after it (`<input value="…" name="code">`), or a user term
//! cut in two (`conto…`) are not, and their first part would be printed.
//!
//! Two ways, by where the cut is made:
//! - **Where the text is printed** (a table cell, a URL in `sessions`, a label in the HTML
//!   page): redact first, then cut ([`super::Redactor::shorten`], [`middle`], [`tail`]): what is
//!   cut is already `<redacted>` or `<term>`.
//! - **Where the analysis keeps a bounded copy** (an error description, a body excerpt, an
//!   XML text node), before any redaction, which happens on output: [`prefix`] moves the cut
//!   back so that it never falls inside a secret the finders see in the whole text, nor
//!   drops the context that makes one recognisable, nor splits a word (a user term the
//!   analysis does not know). [`after_cut`] does what it can for a text already cut blind.

// Capture data is hostile: no unwrap/expect outside tests (issue 8).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::borrow::Cow;
use std::ops::Range;

use super::{scrub, Counts, Style};

/// The most a cut is moved back to keep a word whole: a longer run of word characters (a
/// base64 blob) is cut inside (the finders' spans still keep secrets whole).
const WORD_MAX: usize = 256;
/// Rounds of moving the cut back before giving up and cutting before the first secret.
const ROUNDS: usize = 8;
/// How far past the cut [`prefix`] looks for the secrets it must not split: a secret that
/// starts before the cut and goes on further than this is not seen whole. Bounds the work
/// for an 8 MiB body of which 16 KiB are shown.
const SCOPE: usize = 1024 * 1024;

/// `text` shortened to `max` characters with `…` in the middle, keeping the beginning (the
/// host) and the end (where autodiscover, EWS and token paths differ). Cuts blindly: give
/// it redacted text ([`super::Redactor::shorten`]).
pub fn middle(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max || max < 5 {
        return text.to_string();
    }
    let head = (max - 1) * 2 / 3;
    let tail = max - 1 - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(count - tail).collect();
    format!("{start}…{end}")
}

/// `text` shortened to `max` characters keeping its end, `…` first. Cuts blindly: give it
/// redacted text.
pub fn tail(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max || max < 2 {
        return text.to_string();
    }
    let kept: String = text.chars().skip(n - (max - 1)).collect();
    format!("…{kept}")
}

/// At most `max` characters of `text` ([`prefix`] by characters), and whether it was cut.
pub fn prefix_chars(text: &str, max: usize) -> (&str, bool) {
    // No more bytes than `max`, so no more characters: not counted (EWS cuts every
    // session's `User-Agent` to 200 characters, and counting them was 0.7 % of the
    // instructions of reading a 10k-session HAR).
    if text.len() <= max {
        return (text, false);
    }
    match text.char_indices().nth(max) {
        None => (text, false),
        Some((i, _)) => (prefix(text, i).0, true),
    }
}

/// At most `max` bytes of the start of `text`, cut where it leaves nothing secret half
/// shown, and whether it was cut. The cut is moved back (never forward) until:
/// - it is on a character boundary;
/// - it is not inside a secret the finders see in `text` (up to [`SCOPE`] past the cut: the
///   bytes a same-length placeholder replaces, widened to the whole token);
/// - it does not split a word of up to [`WORD_MAX`] bytes (letters, digits, `-_.@%+~`):
///   a user term (`--redact-term`) stays whole or goes;
/// - every secret left before it is still found in what is kept (a key after its value,
///   a closing element): else the cut goes before that secret.
pub fn prefix(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = floor(text, max);
    let spans = secret_spans(&text[..floor(text, max.saturating_add(SCOPE))]);
    for _ in 0..ROUNDS {
        end = floor(text, end);
        if let Some(s) = spans.iter().find(|s| s.start < end && end < s.end) {
            end = s.start;
            continue;
        }
        end = word_start(text, end);
        // A secret wholly before the cut that the kept text no longer shows as one.
        let kept = secret_spans(&text[..end]);
        let lost = spans
            .iter()
            .filter(|s| s.end <= end)
            .find(|s| !kept.iter().any(|k| k.start < s.end && s.start < k.end));
        match lost {
            Some(s) => end = s.start,
            None => return (&text[..end], true),
        }
    }
    // Still moving: keep only what comes before the first secret.
    let first = spans.first().map_or(end, |s| s.start.min(end));
    (&text[..word_start(text, floor(text, first))], true)
}

/// A text that was already cut at its end without knowing what followed (a bounded read):
/// without its last word, and without its last token-like run (letters, digits and
/// `-_.~+/=%`), which may be the first part of a secret whose rest was cut off.
pub fn after_cut(text: &str) -> &str {
    let end = text
        .char_indices()
        .rev()
        .find(|&(_, c)| !(is_word(c) || matches!(c, '/' | '=')))
        .map_or(0, |(i, c)| i + c.len_utf8());
    &text[..end]
}

/// The byte ranges of `text` the secret finders replace, each widened to the whole run of
/// word characters around it (a placeholder can agree with the secret's first or last
/// letters). When the finders changed the length (they should not), everything from the
/// first to the last changed byte is one span.
fn secret_spans(text: &str) -> Vec<Range<usize>> {
    let mut counts = Counts::default();
    let scrubbed = match scrub(text, Style::Placeholder, &mut counts) {
        Cow::Borrowed(_) => return Vec::new(),
        Cow::Owned(s) => s,
    };
    let (a, b) = (text.as_bytes(), scrubbed.as_bytes());
    let mut spans: Vec<Range<usize>> = Vec::new();
    if a.len() == b.len() {
        let mut i = 0;
        while i < a.len() {
            if a[i] == b[i] {
                i += 1;
                continue;
            }
            let start = i;
            while i < a.len() && a[i] != b[i] {
                i += 1;
            }
            spans.push(start..i);
        }
    } else {
        let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let back = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
            .min(a.len() - head);
        spans.push(head..a.len() - back);
    }
    let mut widened: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for s in spans {
        let start = floor(text, s.start);
        let start = text[..start]
            .char_indices()
            .rev()
            .find(|&(_, c)| !is_token(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let end = ceil(text, s.end);
        let end = text[end..]
            .char_indices()
            .find(|&(_, c)| !is_token(c))
            .map_or(text.len(), |(i, _)| end + i);
        match widened.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => widened.push(start..end),
        }
    }
    widened
}

/// A character of a word a cut should not split.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '%' | '+' | '~')
}

/// A character of a token (base64, base64url, percent-encoded).
fn is_token(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '%' | '+' | '/' | '~')
}

/// `end`, or the start of the word it splits (when that word is short enough).
fn word_start(text: &str, end: usize) -> usize {
    let (before, after) = text.split_at(end);
    let splits = before.chars().next_back().is_some_and(is_word)
        && after.chars().next().is_some_and(is_word);
    if !splits {
        return end;
    }
    let start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !is_word(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    if end - start <= WORD_MAX {
        start
    } else {
        end
    }
}

fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Redactor;

    const JWT: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2F1dG9kaXNjb3Zlci5jb250b3NvLmNvbS8ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";
    const SIG: &str = "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";

    /// Every cut point of `text`: what is kept, once redacted, holds no part of `secret`
    /// at least `min` characters long.
    fn no_part_at_any_cut(text: &str, secret: &str, min: usize) {
        let r = Redactor::default();
        for max in 0..=text.len() {
            let (kept, _) = prefix(text, max);
            assert!(kept.len() <= max || kept == text);
            assert!(text.starts_with(kept));
            let shown = r.text(kept);
            for i in 0..=secret.len().saturating_sub(min) {
                let part = &secret[i..i + min];
                assert!(
                    !shown.contains(part),
                    "cut at {max}: {shown:?} shows {part:?}"
                );
            }
        }
    }

    #[test]
    fn a_jwt_signature_straddling_the_cut_is_never_half_shown() {
        let text = format!("{{\"note\":\"x\",\"value\":\"{JWT}\",\"more\":\"y\"}}");
        no_part_at_any_cut(&text, SIG, 6);
        // A cut inside the signature goes back before the token.
        let at = text.find(SIG).unwrap() + 10;
        assert_eq!(prefix(&text, at).0, "{\"note\":\"x\",\"value\":\"");
    }

    #[test]
    fn a_value_before_its_key_is_never_shown_without_it() {
        let text = r#"<form><input value="0.AXoA-secret-code-1234" name="code"/></form>"#;
        no_part_at_any_cut(text, "0.AXoA-secret-code-1234", 6);
        // Cut after the value but before `name="code"`: the value goes too.
        let at = text.find(" name=").unwrap();
        assert_eq!(prefix(text, at).0, "<form><input value=\"");
    }

    #[test]
    fn a_query_token_and_a_user_word_stay_whole_or_go() {
        let text = "GET https://autodiscover.contoso.com/x?access_token=SECRETTOKEN0123456789&y=1";
        no_part_at_any_cut(text, "SECRETTOKEN0123456789", 4);
        // A word is not split: `contoso` is whole or not there.
        for max in 0..text.len() {
            let kept = prefix(text, max).0;
            assert!(
                !kept.ends_with("cont") && !kept.ends_with("autodisc"),
                "{kept}"
            );
        }
        assert_eq!(prefix(text, 30).0, "GET https://");
        assert_eq!(prefix(text, text.len()), (text, false));
    }

    /// Cut blindly, `Bearer qwertyuiop` reads as prose (no digit, no inner capital) and
    /// would be printed.
    #[test]
    fn a_credential_cut_into_prose_goes_whole() {
        let token = "qwertyuiopasdfghjklzxcvbnmQwErTyZ9";
        let text = format!("sent Authorization: Bearer {token} then");
        let blind = &text[..text.find(token).unwrap() + 12];
        assert_eq!(Redactor::default().text(blind), blind);
        no_part_at_any_cut(&text, token, 6);
        assert_eq!(
            prefix(&text, text.find(token).unwrap() + 12).0,
            "sent Authorization: Bearer "
        );
    }

    #[test]
    fn chars_and_boundaries() {
        assert_eq!(prefix_chars("ééé ééé", 5), ("ééé ", true));
        assert_eq!(prefix_chars("ééé", 3), ("ééé", false));
        // At and around the byte-length shortcut: as many bytes as `max` is never cut, one
        // more is cut only when it is one character more.
        assert_eq!(prefix_chars("abcde", 5), ("abcde", false));
        assert_eq!(prefix_chars("ab cd ef", 5), ("ab cd", true));
        assert_eq!(prefix_chars("abcdé", 5), ("abcdé", false));
        assert_eq!(prefix_chars("", 0), ("", false));
        assert_eq!(
            middle(
                "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                30
            )
            .chars()
            .count(),
            30
        );
        assert_eq!(tail("/autodiscover/autodiscover.xml", 10), "…cover.xml");
        assert_eq!(tail("short", 10), "short");
    }

    #[test]
    fn after_a_blind_cut_the_last_token_goes() {
        assert_eq!(
            after_cut("error: bad token eyJ0eXAiOiJKV1QiLCJh"),
            "error: bad token "
        );
        assert_eq!(after_cut("see ?refresh_token=0.AR-abc"), "see ?");
        assert_eq!(after_cut("ends with a space "), "ends with a space ");
    }
}
