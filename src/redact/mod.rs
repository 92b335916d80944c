//! The one redaction layer. Everything traceadal prints — every report format, every log line,
//! every error message — passes through [`Redactor::text`] on its way out (see
//! `cli::output`), so a renderer cannot forget it. `--show-secrets` is the only way around it.
//! `traceadal redact` uses the same finders to rewrite a capture ([`saz`], [`har`]) with
//! same-length placeholders instead of [`MARK`].
//!
//! Redaction keeps the evidence an analyst needs (the scheme of an `Authorization` header, the
//! names of cookies, the claims of a JWT) and removes what would let a reader act as the user
//! (the token's signature, the code, the password). The list of what counts as a secret, and
//! how to add one, is `docs/secrets.md`.

// Capture data is hostile: no unwrap/expect outside tests (issue 8).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod cut;
pub mod har;
mod patterns;
pub mod saz;
pub mod token_answer;
pub mod user;
mod windows_auth;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::capture::rewrite::{
    EntryScrubber, SazEntry, SazEntryKind, SazSession, Scrubber, SessionScrubber, Tally,
};
use crate::capture::DecodeLimits;

pub use patterns::{
    is_replaced, is_secret_key, kind_of_key, normalise_key, placeholder, SECRET_KEYS,
};
pub use user::{UserRules, TERM_MARK};

/// What replaces a secret in output.
pub const MARK: &str = "<redacted>";

/// How a secret is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// By [`MARK`]: for what traceadal prints.
    Mark,
    /// By a same-length placeholder (`REDACTEDRED...`, a JWT keeps its header and claims):
    /// for a rewritten capture, whose lengths and formats must stay valid.
    Placeholder,
}

/// The kinds of secret, as `traceadal redact` counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    BearerToken,
    BasicCredential,
    NtlmNegotiate,
    JwtSignature,
    Jwe,
    AccessToken,
    RefreshToken,
    IdToken,
    Code,
    ClientSecret,
    ClientAssertion,
    Assertion,
    Password,
    Cookie,
    SamlResponse,
    Wresult,
    RsaCtfData,
    XmlSecret,
    OtherToken,
    /// What `--redact-term` and `--redact-regex` matched ([`user::UserRules`]).
    UserTerm,
}

impl Kind {
    /// Plural label for the summary line.
    pub fn label(self) -> &'static str {
        match self {
            Kind::BearerToken => "bearer tokens",
            Kind::BasicCredential => "basic credentials",
            Kind::NtlmNegotiate => "NTLM/Negotiate blobs",
            Kind::JwtSignature => "JWT signatures",
            Kind::Jwe => "encrypted tokens (JWE)",
            Kind::AccessToken => "access tokens",
            Kind::RefreshToken => "refresh tokens",
            Kind::IdToken => "id tokens",
            Kind::Code => "codes",
            Kind::ClientSecret => "client secrets",
            Kind::ClientAssertion => "client assertions",
            Kind::Assertion => "assertions",
            Kind::Password => "passwords",
            Kind::Cookie => "cookies",
            Kind::SamlResponse => "SAML responses",
            Kind::Wresult => "WS-Federation results",
            Kind::RsaCtfData => "RSA ctfData",
            Kind::XmlSecret => "XML signatures/secrets",
            Kind::OtherToken => "other tokens",
            Kind::UserTerm => "user terms",
        }
    }
}

/// How many secrets of each kind were replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(BTreeMap<Kind, u64>);

impl Counts {
    pub fn add(&mut self, kind: Kind) {
        *self.0.entry(kind).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Counts) {
        for (k, n) in &other.0 {
            *self.0.entry(*k).or_default() += n;
        }
    }

    pub fn get(&self, kind: Kind) -> u64 {
        self.0.get(&kind).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Kind, u64)> + '_ {
        self.0.iter().map(|(k, n)| (*k, *n))
    }
}

/// `bearer tokens: 4, refresh tokens: 2, cookies: 7`; `nothing` when empty.
impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("nothing");
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(k, n)| format!("{}: {n}", k.label()))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// The redaction layer for printed output: the secret finders (unless `--show-secrets`),
/// then the user's own rules (`--redact-term`, `--redact-regex`: always, also with
/// `--show-secrets`). Cheap to clone (the rules are shared).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// `--show-secrets`: pass every secret through (user rules still apply).
    pub show_secrets: bool,
    /// `--redact-term`, `--redact-regex`.
    pub user: Arc<UserRules>,
}

impl Redactor {
    pub fn new(show_secrets: bool) -> Self {
        Redactor {
            show_secrets,
            user: Arc::default(),
        }
    }

    /// The same, with the user's rules.
    pub fn with_user(mut self, user: Arc<UserRules>) -> Self {
        self.user = user;
        self
    }

    /// Compile the secret finders [`Redactor::text`] will run, now rather than at its first
    /// call (see [`patterns::warm`]); nothing to do when secrets are shown.
    pub fn warm(&self) {
        if !self.show_secrets {
            patterns::warm();
        }
    }

    /// `text` with every secret replaced by [`MARK`], then every user term by
    /// [`TERM_MARK`].
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut counts = Counts::default();
        let scrubbed = if self.show_secrets {
            Cow::Borrowed(text)
        } else {
            scrub(text, Style::Mark, &mut counts)
        };
        if self.user.is_empty() {
            return scrubbed;
        }
        match self.user.apply(&scrubbed, Style::Mark, &mut counts) {
            Cow::Borrowed(_) => scrubbed,
            Cow::Owned(s) => Cow::Owned(s),
        }
    }

    /// At most `max` characters of `text` as it will be printed: redacted first, then
    /// shortened with an ellipsis in the middle ([`cut::middle`]), so that no cut can
    /// leave a secret or a user term unrecognisable. The result passes [`Redactor::text`]
    /// unchanged.
    pub fn shorten(&self, text: &str, max: usize) -> String {
        cut::middle(&self.text(text), max)
    }
}

/// `text` with every secret replaced in `style`, counted in `counts`.
pub fn scrub<'a>(text: &'a str, style: Style, counts: &mut Counts) -> Cow<'a, str> {
    patterns::Scrubber {
        style,
        counts,
        depth: 0,
    }
    .text(text)
}

/// How a byte string is text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Utf16 {
    Le,
    Be,
}

/// UTF-16 by its byte order mark, or by its NULs (ASCII-range text has one NUL in every
/// other byte): the caller may not know the charset.
fn utf16_order(bytes: &[u8]) -> Option<Utf16> {
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => return None, // UTF-32 LE
        [0xFF, 0xFE, ..] => return Some(Utf16::Le),
        [0xFE, 0xFF, ..] => return Some(Utf16::Be),
        _ => {}
    }
    let sample = &bytes[..bytes.len().min(4096) & !1];
    let pairs = sample.len() / 2;
    if pairs < 4 {
        return None;
    }
    let zeros = |odd: usize| {
        sample
            .iter()
            .skip(odd)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    if odd * 10 >= pairs * 7 && even * 10 <= pairs {
        Some(Utf16::Le)
    } else if even * 10 >= pairs * 7 && odd * 10 <= pairs {
        Some(Utf16::Be)
    } else {
        None
    }
}

/// A UTF-16 `bytes` scrubbed as text and written back in the same byte order (its BOM and
/// an odd last byte kept); `None` when nothing was replaced.
fn scrub_utf16(bytes: &[u8], order: Utf16, counts: &mut Counts) -> Option<Vec<u8>> {
    let even = bytes.len() & !1;
    let units = bytes[..even].chunks_exact(2).map(|p| match order {
        Utf16::Le => u16::from_le_bytes([p[0], p[1]]),
        Utf16::Be => u16::from_be_bytes([p[0], p[1]]),
    });
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    let Cow::Owned(new) = scrub(&text, Style::Placeholder, counts) else {
        return None;
    };
    let mut out = Vec::with_capacity(bytes.len());
    for u in new.encode_utf16() {
        out.extend_from_slice(&match order {
            Utf16::Le => u.to_le_bytes(),
            Utf16::Be => u.to_be_bytes(),
        });
    }
    out.extend_from_slice(&bytes[even..]);
    Some(out)
}

/// The byte that stands for an invalid one while a non-UTF-8 text is scanned: a letter, so a
/// value around it stays one value, and not one a placeholder writes.
const STAND_IN: u8 = b'Q';

/// `bytes` with every secret replaced by a placeholder; `None` when nothing was. UTF-16
/// (by BOM or by its NULs) is scanned as text and written back as UTF-16. Bytes that are not
/// UTF-8 (Latin-1, binary) do not cut a value in two: the text is scanned with each invalid
/// byte standing in as a letter, and the bytes outside what was replaced are written back
/// unchanged.
pub fn scrub_bytes(bytes: &[u8], counts: &mut Counts) -> Option<Vec<u8>> {
    // Bytes that look like UTF-16 (a BOM, NULs) are scanned as UTF-16 and then as UTF-8
    // too: a binary prefix that happens to be a BOM must not hide the text after it.
    let utf16 = utf16_order(bytes).and_then(|order| scrub_utf16(bytes, order, counts));
    let now = utf16.as_deref().unwrap_or(bytes);
    scrub_utf8_runs(now, counts).or(utf16)
}

/// [`scrub_bytes`] of bytes read as UTF-8: runs of valid UTF-8 scanned, every other byte a
/// stand-in letter during the scan (so it cannot split a secret) and itself afterwards.
fn scrub_utf8_runs(bytes: &[u8], counts: &mut Counts) -> Option<Vec<u8>> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return match scrub(text, Style::Placeholder, counts) {
            Cow::Borrowed(_) => None,
            Cow::Owned(s) => Some(s.into_bytes()),
        };
    }
    let mut text = String::with_capacity(bytes.len());
    let mut invalid = Vec::new();
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for _ in chunk.invalid() {
            invalid.push(text.len());
            text.push(char::from(STAND_IN));
        }
    }
    let Cow::Owned(new) = scrub(&text, Style::Placeholder, counts) else {
        return None;
    };
    let mut out = new.into_bytes();
    if out.len() == bytes.len() {
        // Placeholders keep every length: a position is the same byte in both.
        for i in invalid {
            if out[i] == STAND_IN {
                out[i] = bytes[i];
            }
        }
    }
    Some(out)
}

/// A query, form or cookie parameter `name=value` (decoded, as a HAR lists them) with its
/// value replaced by a placeholder when `name` is a secret's, else scrubbed as text; `None`
/// when nothing was replaced. An OAuth `code` shorter than 32 characters is kept here (an
/// error number or name); [`scrub_param_in`] knows its context.
pub fn scrub_param(name: &str, value: &str, counts: &mut Counts) -> Option<String> {
    scrub_param_in(name, value, false, counts)
}

/// [`scrub_param`] for a parameter of an OAuth request or answer (see [`is_oauth_context`]):
/// there a `code` is a secret whatever its length (only an AADSTS number stays).
pub fn scrub_param_in(name: &str, value: &str, oauth: bool, counts: &mut Counts) -> Option<String> {
    if is_secret_key(name) {
        if patterns::keep_value_in(name, value, oauth) {
            return None;
        }
        let mut s = patterns::Scrubber {
            style: Style::Placeholder,
            counts,
            depth: 0,
        };
        return Some(s.value(name, value));
    }
    match scrub(value, Style::Placeholder, counts) {
        Cow::Borrowed(_) => None,
        Cow::Owned(s) => Some(s),
    }
}

/// Do these parameter names (a query string's, a form's) make an OAuth request or answer:
/// `state`, `session_state`, `client_id`, `redirect_uri` (any case and style)?
pub fn is_oauth_context<'a>(names: impl IntoIterator<Item = &'a str>) -> bool {
    names.into_iter().any(|n| {
        matches!(
            normalise_key(n).as_str(),
            "state" | "session_state" | "client_id" | "redirect_uri"
        )
    })
}

/// The value of header `name` with its secrets replaced by placeholders; `None` when
/// nothing was. The name decides as it does on a header line (`Cookie`, `Authorization`).
/// A `Set-Cookie` value holding several cookies on separate lines (DevTools' HAR form) has
/// each replaced.
pub fn scrub_header(name: &str, value: &str, counts: &mut Counts) -> Option<String> {
    if value.contains('\n') {
        let mut changed = false;
        let lines: Vec<String> = value
            .split('\n')
            .map(|line| match scrub_header(name, line, counts) {
                Some(new) => {
                    changed = true;
                    new
                }
                None => line.to_string(),
            })
            .collect();
        return changed.then(|| lines.join("\n"));
    }
    let line = format!("{name}: {value}");
    match scrub(&line, Style::Placeholder, counts) {
        Cow::Borrowed(_) => None,
        Cow::Owned(s) => match s.strip_prefix(&format!("{name}: ")) {
            Some(v) => Some(v.to_string()),
            // A rule touched the name itself: replace the whole value.
            None => Some(placeholder(value)),
        },
    }
}

/// The scrubber `traceadal redact` hands a capture's rewriter (`capture::formats`): every
/// secret replaced by a same-length placeholder, counted; notes on what could not be
/// rewritten as it was.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    pub limits: DecodeLimits,
    pub outcome: saz::Outcome,
    /// `--redact-term`, `--redact-regex`: applied after the secret finders, with
    /// same-length placeholders ([`UserRules::apply`]).
    pub user: Arc<UserRules>,
    /// `--drop-bodies-except-auth`: whether the analysis reads the bodies of a session
    /// (host, URL); the bodies of every other session become placeholders. The caller
    /// passes the analysis's own predicate (`auth::reads_body`): redaction comes before the
    /// stages that read bodies and does not name them.
    pub reads_body: Option<ReadsBody>,
    /// Sessions (SAZ) or entries (HAR) whose bodies were dropped by `reads_body`.
    pub bodies_dropped: u64,
    /// SAZ: whether each session's request (`raw/NN_c.txt`) kept its body, for its
    /// response and websocket entries.
    kept: std::collections::HashMap<u64, bool>,
    /// SAZ: sessions whose request went to a host that answers a bare token
    /// ([`token_answer`]), for their response entries.
    token_answers: std::collections::HashSet<u64>,
}

/// Whether the analysis reads the bodies of a session to (host, URL): what
/// `--drop-bodies-except-auth` keeps.
pub type ReadsBody = fn(&str, &str) -> bool;

/// Why a body is dropped under `--drop-bodies-except-auth`.
const NOT_READ: &str = "not read by the diagnosis (--drop-bodies-except-auth)";

impl Placeholders {
    pub fn new(limits: DecodeLimits) -> Self {
        Placeholders {
            limits,
            ..Placeholders::default()
        }
    }

    /// Whether the session of SAZ entry `entry` keeps its bodies. A request decides for
    /// its session; a response or websocket entry seen before its request drops them.
    fn saz_keeps_bodies(&mut self, entry: &SazEntry<'_>) -> bool {
        let Some(reads_body) = self.reads_body else {
            return true;
        };
        let session = entry.session;
        match entry.kind {
            Some(SazEntryKind::Request) => {
                let keep = saz::request_url(entry.bytes)
                    .is_some_and(|(host, url)| reads_body(&host, &url));
                if let Some(n) = session {
                    self.kept.insert(n, keep);
                }
                if !keep {
                    self.bodies_dropped += 1;
                }
                keep
            }
            Some(SazEntryKind::Response) | Some(SazEntryKind::WebSocket) => {
                session.and_then(|n| self.kept.get(&n).copied()) == Some(true)
            }
            _ => true,
        }
    }
}

impl Placeholders {
    /// Whether SAZ entry `entry` is the response of a session whose request went to a host
    /// that answers a bare token ([`token_answer::is_token_answer`]); a request entry
    /// records its session.
    fn saz_token_answer(&mut self, entry: &SazEntry<'_>) -> bool {
        let Some(session) = entry.session else {
            return false;
        };
        match entry.kind {
            Some(SazEntryKind::Request) => {
                let method = entry.bytes.split(|b| *b == b' ').next().unwrap_or_default();
                let method = std::str::from_utf8(method).unwrap_or_default();
                if saz::request_url(entry.bytes)
                    .is_some_and(|(_, url)| token_answer::is_token_answer(method, &url))
                {
                    self.token_answers.insert(session);
                }
                false
            }
            Some(SazEntryKind::Response) => self.token_answers.contains(&session),
            _ => false,
        }
    }
}

impl Scrubber for Placeholders {
    fn text(&mut self, text: &str) -> Option<String> {
        let counts = &mut self.outcome.counts;
        let scrubbed = scrub(text, Style::Placeholder, counts);
        match self.user.apply(&scrubbed, Style::Placeholder, counts) {
            Cow::Owned(s) => Some(s),
            Cow::Borrowed(_) => match scrubbed {
                Cow::Borrowed(_) => None,
                Cow::Owned(s) => Some(s),
            },
        }
    }

    fn har_entry(&mut self, json: &str) -> Result<Option<Vec<u8>>, String> {
        let out = har::scrub_entry(json, &mut self.outcome.counts)?;
        Ok(self.user_bytes(out, json.as_bytes()))
    }

    fn har_entry_at(
        &mut self,
        id: u64,
        json: &str,
        notes: &mut Vec<String>,
    ) -> Result<Option<Vec<u8>>, String> {
        let drop = self.reads_body.map(|reads_body| (NOT_READ, reads_body));
        let (out, dropped) =
            har::rewrite_entry_dropping(id, json, drop, &mut self.outcome.counts, notes)?;
        if dropped {
            self.bodies_dropped += 1;
        }
        Ok(self.user_bytes(Some(out), json.as_bytes()))
    }

    /// A HAR entry's scrubbing reads the entry alone (the secret finders, the user's
    /// rules, `reads_body` on its own URL), so entries are scrubbed apart, on the pool.
    fn har_entries(&self) -> Option<Box<dyn EntryScrubber>> {
        Some(Box::new(EntriesApart(self.settings())))
    }

    /// What a SAZ entry's scrubbing carries over is its own session's (`kept`,
    /// `token_answers`), so sessions are scrubbed apart, on the pool.
    fn saz_sessions(&self) -> Option<Box<dyn SessionScrubber>> {
        Some(Box::new(SessionsApart(self.settings())))
    }

    fn absorb(&mut self, tally: Tally) {
        if let Ok(t) = tally.0.downcast::<PartTally>() {
            let t = *t;
            self.outcome.counts.merge(&t.counts);
            self.outcome.notes.extend(t.notes);
            self.bodies_dropped += t.bodies_dropped;
            if let Some((session, kept, token_answer)) = t.session {
                if let Some(kept) = kept {
                    self.kept.insert(session, kept);
                }
                if token_answer {
                    self.token_answers.insert(session);
                }
            }
        }
    }

    fn field(&mut self, key: &str, value: &str) -> Option<String> {
        let scrubbed = scrub_param(key, value, &mut self.outcome.counts);
        let now = scrubbed.as_deref().unwrap_or(value);
        match self
            .user
            .apply(now, Style::Placeholder, &mut self.outcome.counts)
        {
            Cow::Owned(s) => Some(s),
            Cow::Borrowed(_) => scrubbed,
        }
    }

    fn saz_entry(&mut self, entry: SazEntry<'_>) -> Option<Vec<u8>> {
        let raw = entry.bytes;
        let token_answer = self.saz_token_answer(&entry);
        let out = if self.saz_keeps_bodies(&entry) {
            if token_answer {
                saz::scrub_token_answer(entry, &self.limits, &mut self.outcome)
            } else {
                saz::scrub_entry(entry, &self.limits, &mut self.outcome)
            }
        } else {
            saz::scrub_entry_without_body(entry, NOT_READ, &self.limits, &mut self.outcome)
        };
        self.user_bytes(out, raw)
    }
}

/// A [`Placeholders`] with the settings of the one that handed it out and nothing counted,
/// for scrubbing HAR entries apart ([`Scrubber::har_entries`]): each entry by a copy of it,
/// whose tally ([`PartTally`]) the one that handed this out adds up.
struct EntriesApart(Placeholders);

impl EntryScrubber for EntriesApart {
    fn har_entry_at(
        &self,
        id: u64,
        json: &str,
        notes: &mut Vec<String>,
    ) -> (Result<Option<Vec<u8>>, String>, Tally) {
        let mut one = self.0.clone();
        let result = one.har_entry_at(id, json, notes);
        (result, one.tally(None))
    }
}

/// A [`Placeholders`] with the settings of the one that handed it out, for scrubbing SAZ
/// sessions apart ([`Scrubber::saz_sessions`]): each session by a copy of it, which starts
/// knowing nothing of the session, as the one that handed this out knows nothing of a
/// session it has not seen.
struct SessionsApart(Placeholders);

impl SessionScrubber for SessionsApart {
    fn saz_session(&self) -> Box<dyn SazSession> {
        Box::new(OneSession(self.0.clone()))
    }
}

/// One SAZ session's [`Placeholders`]: what it learns of its session stays with it for the
/// session's next entry, and goes in each entry's tally to the one that handed it out.
struct OneSession(Placeholders);

/// What scrubbing one HAR entry or SAZ entry apart counted, noted and learnt of its
/// session ([`Placeholders::tally`]).
struct PartTally {
    counts: Counts,
    notes: Vec<String>,
    bodies_dropped: u64,
    /// The entry's session: whether it keeps its bodies, if a request said, and whether
    /// its request asks for a bare token.
    session: Option<(u64, Option<bool>, bool)>,
}

impl SazSession for OneSession {
    fn saz_entry(&mut self, entry: SazEntry<'_>) -> (Option<Vec<u8>>, Tally) {
        let session = entry.session;
        let out = Scrubber::saz_entry(&mut self.0, entry);
        (out, self.0.tally(session))
    }
}

impl Placeholders {
    /// What this scrubber, scrubbing apart, counted and noted since its last tally, and
    /// what it knows of SAZ session `session`: for [`Scrubber::absorb`] of the one that
    /// handed it out.
    fn tally(&mut self, session: Option<u64>) -> Tally {
        Tally(Box::new(PartTally {
            counts: std::mem::take(&mut self.outcome.counts),
            notes: std::mem::take(&mut self.outcome.notes),
            bodies_dropped: std::mem::take(&mut self.bodies_dropped),
            session: session.map(|n| {
                (
                    n,
                    self.kept.get(&n).copied(),
                    self.token_answers.contains(&n),
                )
            }),
        }))
    }

    /// A scrubber with this one's settings (limits, the user's rules, `reads_body`) that has
    /// counted and seen nothing: what scrubs entries or sessions apart.
    fn settings(&self) -> Placeholders {
        Placeholders {
            limits: self.limits,
            user: Arc::clone(&self.user),
            reads_body: self.reads_body,
            ..Placeholders::default()
        }
    }

    /// What a rewriter writes once the user's terms are replaced too (same length, so the
    /// lengths a format records stay true): `out` when the finders changed something, else
    /// `input` (`None` when neither changed anything).
    fn user_bytes(&mut self, out: Option<Vec<u8>>, input: &[u8]) -> Option<Vec<u8>> {
        if self.user.is_empty() {
            return out;
        }
        let now = out.as_deref().unwrap_or(input);
        match self.user.apply_bytes(now, &mut self.outcome.counts) {
            Some(replaced) => Some(replaced),
            None => out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2F1dG9kaXNjb3Zlci5jb250b3NvLmNvbS8ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";

    #[test]
    fn keeps_the_scheme_and_claims_but_not_the_credential() {
        let r = Redactor::default();
        let s = format!("Authorization: Bearer {JWT}");
        let out = r.text(&s);
        assert_eq!(out, "Authorization: Bearer <redacted>");
        let out = r.text(JWT);
        assert!(out.ends_with(".<redacted>"));
        assert!(!out.contains("c2lnbmF0dXJl"));
        assert_eq!(
            r.text("Authorization: Basic dXNlcjpwYXNzd29yZA=="),
            "Authorization: Basic <redacted>"
        );
        let challenge = r#"WWW-Authenticate: Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="x""#;
        assert_eq!(r.text(challenge), challenge);
    }

    #[test]
    fn a_scheme_at_the_end_of_a_line_does_not_swallow_the_next_one() {
        let r = Redactor::default();
        let h = "WWW-Authenticate: NTLM\nX-MS-Diagnostics: 2000001;reason=\"x\"";
        assert_eq!(r.text(h), h);
    }

    #[test]
    fn form_query_and_json_values() {
        let r = Redactor::default();
        assert_eq!(
            r.text("grant_type=refresh_token&refresh_token=0.AAAA-secret&resource=https%3A%2F%2Fx"),
            "grant_type=refresh_token&refresh_token=<redacted>&resource=https%3A%2F%2Fx"
        );
        assert_eq!(
            r.text(r#"{"access_token":"abc\"def","token_type":"Bearer","password":"hunter2"}"#),
            r#"{"access_token":"<redacted>","token_type":"Bearer","password":"<redacted>"}"#
        );
        // An AADSTS error URI is evidence, not a secret.
        assert_eq!(
            r.text("https://login.microsoftonline.com/error?code=500011"),
            "https://login.microsoftonline.com/error?code=500011"
        );
        assert_eq!(
            r.text("?code=0.AXoA1234567890abcdef&state=x"),
            "?code=<redacted>&state=x"
        );
    }

    #[test]
    fn cookies_keep_their_names() {
        let r = Redactor::default();
        assert_eq!(
            r.text("Cookie: ESTSAUTH=abc123; x-ms-gateway-slice=estsfd"),
            "Cookie: ESTSAUTH=<redacted>; x-ms-gateway-slice=<redacted>"
        );
        assert_eq!(
            r.text("Set-Cookie: ESTSAUTHPERSISTENT=abc; domain=.login.microsoftonline.com; path=/"),
            "Set-Cookie: ESTSAUTHPERSISTENT=<redacted>; domain=.login.microsoftonline.com; path=/"
        );
    }

    #[test]
    fn show_secrets_passes_everything() {
        let r = Redactor::new(true);
        let s = format!("Bearer {JWT}");
        assert_eq!(r.text(&s), s);
    }

    fn b64url(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    /// Word boundaries are ASCII ones: a letter outside ASCII next to a secret (a German
    /// user name, a localized error page) neither hides it nor makes the passes slow.
    #[test]
    fn non_ascii_neighbours_do_not_hide_a_secret() {
        let r = Redactor::default();
        assert_eq!(
            r.text("Müller:Bearer eyJ0eXAiOiJKV1QifQ"),
            "Müller:Bearer <redacted>"
        );
        assert_eq!(
            r.text("größe=1&refresh_token=0.ARsecret&ü=2"),
            "größe=1&refresh_token=<redacted>&ü=2"
        );
        assert_eq!(
            r.text("éNTLM TlRMTVNTUAADAAAAGAAYAEgAAABAAE=="),
            "éNTLM <redacted>"
        );
    }

    #[test]
    fn prose_and_challenge_parameters_are_not_credentials() {
        let r = Redactor::default();
        for s in [
            "the server offers Basic authentication and a Bearer challenge",
            "WWW-Authenticate: Bearer authorization_uri=https://login.windows.net/common/oauth2/authorize",
            "Negotiate/NTLM/Basic",
            "token_type=Bearer&expires_in=3599",
            r#"{"token_type":"Bearer","error":"invalid_grant","error_codes":[500011]}"#,
            r#"{"error":{"code":"InvalidAuthenticationToken","message":"x"}}"#,
            "error_code=invalid_resource&response_type=code&grant_type=authorization_code",
            "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer",
        ] {
            assert_eq!(r.text(s), s);
        }
        assert_eq!(
            r.text("x-note: NTLM TlRMTVNTUAADAAAAGAAYAEgAAABAAE=="),
            "x-note: NTLM <redacted>"
        );
    }

    #[test]
    fn jwt_claims_stay_but_secret_claims_go() {
        let r = Redactor::default();
        let claims = r#"{"resource":"https://autodiscover.contoso.com","refresh_token":"SECRET-RT-wam-1234"}"#;
        let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{}.c2lnbmF0dXJlLXNpZw", b64url(claims));
        let out = r.text(&format!("request={jwt}&x=1")).into_owned();
        let payload = out.split('.').nth(1).unwrap();
        use base64::Engine;
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        let decoded = String::from_utf8(decoded).unwrap();
        assert!(
            decoded.contains("https://autodiscover.contoso.com"),
            "{decoded}"
        );
        assert!(!decoded.contains("SECRET-RT-wam"), "{decoded}");
        assert!(out.ends_with(".<redacted>&x=1"), "{out}");
    }

    #[test]
    fn encoded_escaped_and_markup_forms() {
        let r = Redactor::default();
        assert_eq!(
            r.text("redirect=https%3A%2F%2Fx%2Fcb%3Fcode%3DSECRET-code-123%26state%3D1"),
            "redirect=https%3A%2F%2Fx%2Fcb%3Fcode%3D<redacted>%26state%3D1"
        );
        assert_eq!(
            r.text(r#"evidence: "{\"refresh_token\":\"SECRET-1\",\"foci\":\"1\"}""#),
            r#"evidence: "{\"refresh_token\":\"<redacted>\",\"foci\":\"1\"}""#
        );
        assert_eq!(
            r.text(r#"<input type="hidden" name="code" value="0.AXoA-secret"/>"#),
            r#"<input type="hidden" name="code" value="<redacted>"/>"#
        );
        assert_eq!(
            r.text(r#"<input value='x-secret-1' name="wresult">"#),
            r#"<input value='<redacted>' name="wresult">"#
        );
        assert_eq!(
            r.text("<ds:SignatureValue>abc+/def==</ds:SignatureValue>"),
            "<ds:SignatureValue><redacted></ds:SignatureValue>"
        );
        assert_eq!(
            r.text("&lt;ds:SignatureValue&gt;abc+/def==&lt;/ds:SignatureValue&gt;"),
            "&lt;ds:SignatureValue&gt;<redacted>&lt;/ds:SignatureValue&gt;"
        );
        assert_eq!(
            r.text(r#"<o:Password o:Type="x#PasswordText">hunter2</o:Password>"#),
            r#"<o:Password o:Type="x#PasswordText"><redacted></o:Password>"#
        );
        // The quote after a value in markup stays.
        assert_eq!(
            r.text(r#"<a href="com.rsa.securid://ctf?ctfData=SECRET-CTF-1">"#),
            r#"<a href="com.rsa.securid://ctf?ctfData=<redacted>">"#
        );
    }

    #[test]
    fn redaction_is_idempotent() {
        let r = Redactor::default();
        let s = format!(
            "Authorization: Bearer {JWT}\nCookie: a=b; c=d\n{JWT}\n?code=0.AX-secret&client_assertion={JWT}"
        );
        let once = r.text(&s).into_owned();
        assert_eq!(r.text(&once), once);
        assert!(!once.contains("c2lnbmF0dXJl"));
    }

    #[test]
    fn placeholders_keep_the_shape() {
        let mut c = Counts::default();
        let s = format!(
            "POST https://x/?code=0.AXoA-secret-code HTTP/1.1\r\nAuthorization: Bearer {JWT}\r\nCookie: ESTSAUTH=abc123; fpc=xyz\r\n\r\nrefresh_token=rt-secret-1&password=p%40ss"
        );
        let out = scrub(&s, Style::Placeholder, &mut c).into_owned();
        assert_eq!(out.len(), s.len());
        assert!(out.contains("?code=REDACTEDREDACTEDRE HTTP/1.1"), "{out}");
        assert!(out.contains("ESTSAUTH=REDACT; fpc=RED"), "{out}");
        // The JWT keeps header and claims.
        let (head, _) = JWT.rsplit_once('.').unwrap();
        assert!(
            out.contains(&format!("Bearer {head}.REDACTEDREDACTED")),
            "{out}"
        );
        assert!(!out.contains("c2lnbmF0dXJl"));
        assert!(
            out.ends_with("refresh_token=REDACTEDRED&password=REDACT"),
            "{out}"
        );
        assert_eq!(c.get(Kind::Cookie), 2);
        assert_eq!(c.get(Kind::BearerToken), 1);
        assert_eq!(c.get(Kind::Password), 1);
        // A second run finds nothing more.
        let mut again = Counts::default();
        assert_eq!(scrub(&out, Style::Placeholder, &mut again), out);
        assert_eq!(again.total(), 0);
    }

    #[test]
    fn basic_keeps_the_user_and_the_length() {
        use base64::Engine;
        let e = base64::engine::general_purpose::STANDARD;
        let cred = e.encode("user@contoso.com:SECRET-pw");
        let mut c = Counts::default();
        let line = format!("Authorization: Basic {cred}");
        let out = scrub(&line, Style::Placeholder, &mut c);
        let new = out.strip_prefix("Authorization: Basic ").unwrap();
        assert_eq!(new.len(), cred.len());
        assert_eq!(e.decode(new).unwrap(), b"user@contoso.com:XXXXXXXXX");
        assert_eq!(c.total(), 1);
    }

    #[test]
    fn header_values_and_params() {
        let mut c = Counts::default();
        assert_eq!(
            scrub_header("Set-Cookie", "fpc=abc; path=/", &mut c).as_deref(),
            Some("fpc=RED; path=/")
        );
        assert_eq!(scrub_header("Host", "x.contoso.com", &mut c), None);
        assert_eq!(
            scrub_param("refresh_token", "rt-1", &mut c).as_deref(),
            Some("REDA")
        );
        assert_eq!(scrub_param("code", "500011", &mut c), None);
        assert_eq!(scrub_param("resource", "https://x/", &mut c), None);
        assert_eq!(c.total(), 2);
        assert_eq!(c.to_string(), "refresh tokens: 1, cookies: 1");
    }

    /// Seamless SSO answers the desktop SSO token as a bare body: a SAZ copy holds a
    /// placeholder for it whole; its 401, its CONNECT and other hosts' bodies stay.
    #[test]
    fn a_seamless_sso_token_body_is_replaced_whole() {
        const TOKEN: &str = "dGhpcyBpcyBhIGJhcmUgZGVza3RvcCBTU08gdG9rZW4";
        let url = "https://autologon.microsoftazuread-sso.com/contoso.com/winauth/sso?client-request-id=1";
        let ok = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{TOKEN}",
            TOKEN.len()
        );
        let xml = format!("<DesktopSsoToken>{TOKEN}</DesktopSsoToken>");
        let ok_xml = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}",
            xml.len()
        );
        let unauthorized = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nUnauthorized";
        let tunnel = format!(
            "HTTP/1.1 200 Connection Established\r\nContent-Length: {}\r\n\r\n{TOKEN}",
            TOKEN.len()
        );
        let run = |method: &str, url: &str, answer: &str| -> String {
            let mut p = Placeholders::new(DecodeLimits::default());
            let request = format!("{method} {url} HTTP/1.1\r\nHost: x\r\n\r\n");
            let entry = |label, kind, bytes| SazEntry {
                label,
                session: Some(7),
                kind: Some(kind),
                bytes,
                cut: false,
                damaged: None,
            };
            p.saz_entry(entry(
                "raw/07_c.txt",
                SazEntryKind::Request,
                request.as_bytes(),
            ));
            let out = p
                .saz_entry(entry(
                    "raw/07_s.txt",
                    SazEntryKind::Response,
                    answer.as_bytes(),
                ))
                .unwrap_or_else(|| answer.as_bytes().to_vec());
            String::from_utf8(out).unwrap()
        };
        for answer in [&ok, &ok_xml] {
            let out = run("GET", url, answer);
            assert!(!out.contains(TOKEN), "{out}");
            assert!(out.contains(token_answer::WHY), "{out}");
            // A second rewrite keeps the copy as it is.
            assert_eq!(run("GET", url, &out), out);
        }
        let post = "https://autologon.microsoftazuread-sso.com/winauth/trust/2005/windowstransport";
        assert!(!run("POST", post, &ok).contains(TOKEN));
        assert!(run("GET", url, unauthorized).ends_with("\r\n\r\nUnauthorized"));
        assert!(run("CONNECT", "autologon.microsoftazuread-sso.com:443", &tunnel).contains(TOKEN));
        let other = "https://login.microsoftonline.com/common/instance";
        assert!(run("GET", other, &ok).contains(TOKEN));
    }
}
