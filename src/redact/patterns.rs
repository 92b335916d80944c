//! The secret finders: one regex per shape a secret takes in text, each compiled once
//! (`OnceLock`), each run as one linear `replace_all` pass. The passes run in a fixed order
//! (header lines first, then the shapes that can occur anywhere) and every pass leaves what an
//! earlier one replaced alone, so nothing is counted twice.
//!
//! Every pattern is linear: the `regex` crate has no backtracking, and no pattern needs a
//! look-around; the few context checks (is this scheme followed by a challenge parameter? is
//! this value an AADSTS number?) are done in the replacement closures.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use regex::{Captures, Regex};

use super::{Counts, Kind, Style, MARK};
use crate::capture::ascii::contains_ignore_case;

/// Parameter names (query strings, form bodies, JSON, hidden form inputs) whose values are
/// credentials, as regex alternatives. A name matches itself or with any `word_` prefix
/// (`client_secret`, `device_code`, `new_password`), case-insensitively.
pub const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "code",
    "code_verifier",
    "client_secret",
    "secret",
    "client_assertion",
    "assertion",
    "password",
    "passwd",
    "pwd",
    "samlresponse",
    "wresult",
    "ctfdata",
    "api_key",
    "apikey",
    "sig",
];

/// Separators inside a key name a finder accepts: `refresh_token`, `refresh-token`,
/// `refreshToken` (none), `refresh%5Ftoken`, `refresh%2Dtoken`.
const KEY_SEP: &str = r"(?:[_-]|%5[fF]|%2[dD])";

/// Key names that look like a secret's but are not: ESTS's `flowToken` (a single-use
/// anti-forgery value the analysis reads), `urlResetPassword` and other `url*` links.
const NOT_SECRET_KEYS: &[&str] = &["flow_token", "flowtoken", "s_ft", "token_type"];

/// `*_code` keys whose value is a secret whatever it looks like (an activation code is often
/// digits only; a device or user code is short).
const SECRET_CODE_KEYS: &[&str] = &[
    "activation_code",
    "device_code",
    "user_code",
    "auth_code",
    "authorization_code",
    "verification_code",
    "otp_code",
];

/// XML elements whose text is a credential: an XML signature (SAML assertions, WS-Trust
/// tokens), a WS-Security password, a symmetric key, a WS-Security binary token (a Kerberos
/// AP-REQ, an X.509 certificate), a CT-KIP activation code.
const XML_SECRET_ELEMENTS: &str =
    "SignatureValue|Password|BinarySecret|BinarySecurityToken|ActivationCode";

/// Header names whose values the generic header pass leaves alone: the ones an earlier pass
/// handles, and evidence that only looks random (ids, diagnostics, challenges, dates).
const KEEP_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "cookie2",
    "set-cookie",
    "set-cookie2",
    "host",
    "date",
    "expires",
    "last-modified",
    "user-agent",
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "content-security-policy",
    "content-security-policy-report-only",
    "x-ms-diagnostics",
    "client-request-id",
    "return-client-request-id",
    "request-id",
    "x-ms-request-id",
    "x-ms-correlation-id",
    "x-correlation-id",
    "x-request-id",
    "x-requestid",
    "traceparent",
    "tracestate",
    "etag",
    "if-none-match",
    "www-authenticate",
    "proxy-authenticate",
    "location",
    "referer",
    "origin",
    "http",
    "https",
    "x-ms-ests-server",
    "x-ms-srs",
    "x-ms-clitelem",
    "x-diaginfo",
    "x-beserver",
    "x-feserver",
    "x-calculatedbetarget",
    "x-anchormailbox",
    "x-ms-server-fqdn",
    "x-ms-exchange-diagnostics",
    "x-azure-ref",
    "x-msedge-ref",
    "x-ms-routing-request-id",
    "x-cache",
    "x-owa-version",
];

/// A finder's regex, compiled the first time a pass uses it.
///
/// Compiling all 28 costs ~48 M instructions (callgrind), a sixth of analysing a
/// 1000-session HAR, and every process paid it on its first redaction. Some passes return
/// before their regex when the text holds none of their marker words, so a run that only
/// redacts its report compiles the finders that text reaches (~36 M on the bench's
/// captures), each when first asked for.
///
/// Searching is per thread ([`Pattern::searcher`]): the first thread that searches with a
/// finder searches with this regex, and every other thread with a copy it compiles for
/// itself. A `Regex` shared by threads that search at the same time shares more than its
/// program: each match clones its group table's `Arc` and each search takes a cache from
/// the pool, writes to memory both threads hold, which costs more than the search on
/// the other core. With `redact` scrubbing a HAR's entries on both cores, sharing made
/// the copy take 1.9 s of CPU for its 1.5 s on one core; with copies, 1.6 s, for ~7 ms of
/// compiling per thread (`analyze` redacts its report on one thread: no copy).
struct Pattern {
    source: String,
    re: OnceLock<Regex>,
    /// Its index among each thread's copies ([`COPIES`]).
    id: usize,
    /// [`THREAD`] of the thread that searches with `re`; 0 before one has.
    owner: AtomicUsize,
}

/// The next [`Pattern::id`].
static NEXT_PATTERN: AtomicUsize = AtomicUsize::new(0);
/// The next [`THREAD`] (from 1: 0 is [`Pattern::owner`]'s "nobody").
static NEXT_THREAD: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    /// A number for this thread, for [`Pattern::owner`].
    static THREAD: usize = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
    /// This thread's own copies of the finders it does not own, by [`Pattern::id`].
    static COPIES: RefCell<Vec<Option<Rc<Regex>>>> = const { RefCell::new(Vec::new()) };
}

/// The regex a thread searches with ([`Pattern::searcher`]).
enum Searcher<'p> {
    /// The pattern's own regex: this thread owns it.
    Shared(&'p Regex),
    /// This thread's copy.
    Copy(Rc<Regex>),
}

impl std::ops::Deref for Searcher<'_> {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        match self {
            Searcher::Shared(re) => re,
            Searcher::Copy(re) => re,
        }
    }
}

impl Pattern {
    fn new(source: &str) -> Self {
        Pattern {
            source: source.to_string(),
            re: OnceLock::new(),
            id: NEXT_PATTERN.fetch_add(1, Ordering::Relaxed),
            owner: AtomicUsize::new(0),
        }
    }

    fn compile(&self) -> Regex {
        Regex::new(&self.source).unwrap_or_else(|e| panic!("static regex: {e}"))
    }

    /// The regex this thread searches with: the pattern's own when this thread is the
    /// first to search with it, else this thread's copy (see [`Pattern`]). Compiling the
    /// pattern's own regex ([`warm`]) does not make a thread its owner.
    fn searcher(&self) -> Searcher<'_> {
        let me = THREAD.with(|t| *t);
        let owner = match self.owner.load(Ordering::Relaxed) {
            0 => match self
                .owner
                .compare_exchange(0, me, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => me,
                Err(other) => other,
            },
            owner => owner,
        };
        if owner == me {
            return Searcher::Shared(self);
        }
        COPIES.with(|copies| {
            let mut copies = copies.borrow_mut();
            if copies.len() <= self.id {
                copies.resize(self.id + 1, None);
            }
            let copy = copies[self.id].get_or_insert_with(|| Rc::new(self.compile()));
            Searcher::Copy(Rc::clone(copy))
        })
    }
}

impl std::ops::Deref for Pattern {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        self.re.get_or_init(|| self.compile())
    }
}

struct Patterns {
    header_auth: Pattern,
    cookie: Pattern,
    har_cookie: Pattern,
    header: Pattern,
    flag: Pattern,
    token: Pattern,
    multipart: Pattern,
    userinfo: Pattern,
    userinfo_encoded: Pattern,
    scheme: Pattern,
    scheme_encoded: Pattern,
    cookie_encoded: Pattern,
    jwe: Pattern,
    jwt: Pattern,
    kv: Pattern,
    kv_encoded: Pattern,
    json: Pattern,
    json_escaped: Pattern,
    json_u: Pattern,
    json_html: Pattern,
    input: Pattern,
    input_escaped: Pattern,
    attr: Pattern,
    secret_attr: Pattern,
    xml: Pattern,
    xml_escaped: Pattern,
    base64_element: Pattern,
    base64_param: Pattern,
    /// The literal each of three passes needs, matched case-blind as their regexes match it
    /// (`(?i)`), so that the cheap look before a pass can never skip text the pass would
    /// have changed (`"nAme"`, `FORM-data` included).
    har_cookie_marker: Pattern,
    multipart_marker: Pattern,
    flag_marker: Pattern,
}

impl Patterns {
    /// Every finder.
    fn all(&self) -> [&Pattern; 31] {
        [
            &self.header_auth,
            &self.cookie,
            &self.har_cookie,
            &self.header,
            &self.flag,
            &self.token,
            &self.multipart,
            &self.userinfo,
            &self.userinfo_encoded,
            &self.scheme,
            &self.scheme_encoded,
            &self.cookie_encoded,
            &self.jwe,
            &self.jwt,
            &self.kv,
            &self.kv_encoded,
            &self.json,
            &self.json_escaped,
            &self.json_u,
            &self.json_html,
            &self.input,
            &self.input_escaped,
            &self.attr,
            &self.secret_attr,
            &self.xml,
            &self.xml_escaped,
            &self.base64_element,
            &self.base64_param,
            &self.har_cookie_marker,
            &self.multipart_marker,
            &self.flag_marker,
        ]
    }

    /// The finders [`warm`] leaves to be compiled when first used: three whose pass first
    /// looks for a marker a report rarely holds, and the attributes of an `<input>` tag.
    fn rarely_reached(&self) -> [&Pattern; 4] {
        [&self.multipart, &self.flag, &self.json_u, &self.attr]
    }
}

/// One JWT part character: base64url, or its `\u` escape in JSON text.
const JWT_CHAR: &str = r"(?:[A-Za-z0-9_-]|\\u00(?:2[dD]|5[fF]))";
/// Where a JWT starts: a word boundary, or after a `\u00XX` escape (`\u0022eyJ...` in JSON
/// that System.Text.Json wrote inside a JSON string) or a `%XX` (`Bearer%20eyJ...`,
/// `%3DeyJ...` in a URL-encoded header line), which have none.
const JWT_START: &str = r"(?-u:\b)|\\u00[0-9A-Fa-f]{2}|%[0-9A-Fa-f]{2}";
/// A JWT dot, or its `\u002e` escape in JSON text.
const JWT_DOT: &str = r"(?:\.|\\u002[eE])";

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let alts: Vec<String> = SECRET_KEYS
            .iter()
            .map(|k| k.replace('_', &format!("{KEY_SEP}?")))
            .collect();
        let alts = alts.join("|");
        // A key: a secret name, or any word ending in one (the closure decides with
        // `is_secret_key`, which also splits camelCase).
        let keys = format!(r"(?:[A-Za-z0-9](?:[A-Za-z0-9]|{KEY_SEP})*?)?(?:{alts})");
        // Where a key starts: a word boundary, or after an escaped `&`/`?` (`\u0026`,
        // `%26`), which has no boundary before the key.
        let start = r"(?:(?-u:\b)|\\u00(?:26|3[fF])|%(?:25)?(?:26|3[fF]))";
        let fold = r"(?:\r\n[ \t]+[^\r\n]*)*";
        let compile = Pattern::new;
        Patterns {
            header_auth: compile(
                r"(?im)^((?:proxy-)?authorization)([ \t]*:[ \t]*)([^\r\n]*(?:\r?\n[ \t]+[^\r\n]*)*)",
            ),
            cookie: compile(&format!(r"(?im)^((?:set-)?cookie2?)([ \t]*:[ \t]*)([^\r\n]*{fold})")),
            // A HAR header object (`{"name": "set-cookie", "value": "a=1\nb=2"}`).
            har_cookie: compile(
                r#"(?i)("name"\s*:\s*"([A-Za-z0-9_.%-]{1,100})"\s*,\s*"value"\s*:\s*")((?:[^"\\]|\\.)*)(")"#,
            ),
            header: compile(&format!(
                r"(?m)^([A-Za-z][A-Za-z0-9_-]{{0,63}})([ \t]*:[ \t]*)([^\r\n]*{fold})"
            )),
            flag: compile(r#"(?i)(<SessionFlag\s+N=")([^"]*)("\s+V=")([^"]*)(")"#),
            token: compile(r"[A-Za-z0-9+/_=-]{32,}"),
            multipart: compile(
                r#"(?i)(Content-Disposition:[ \t]*form-data[^\r\n]*?;[ \t]*name="?([^";\r\n]*)"?[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*?\r?\n)((?s:.*?))(\r?\n--)"#,
            ),
            userinfo: compile(
                r#"(?i)(?-u:\b)([a-z][a-z0-9+.-]{0,15}://[^\s/?#@:"'<>\\]*:)([^\s/?#@"'<>\\]+)(@)"#,
            ),
            userinfo_encoded: compile(
                r"(?i)(?-u:\b)([a-z][a-z0-9+.-]{0,15}(?:%3A|%253A)(?:%2F|%252F){2}[A-Za-z0-9._~-]*(?:%3A|%253A))((?:[A-Za-z0-9._~!$*+,;=-]|%(?:[013-9A-Fa-f][0-9A-Fa-f]|2[0-9A-Ea-e]|3[0-9A-Ea-e]|4[1-9A-Fa-f]))+)(%40|%2540)",
            ),
            // token68 (RFC 9110 11.2) after a scheme name.
            scheme: compile(
                r"(?i)(?-u:\b)(Bearer|Basic|NTLM|Negotiate|Kerberos|Digest)([ \t]+)([A-Za-z0-9._~+/-]+=*)",
            ),
            // The same URL-encoded (`Authorization%3A%20Basic%20dXNl...%3D`, once or twice).
            scheme_encoded: compile(
                r"(?i)((?-u:\b)|%(?:25)?[0-9A-Fa-f]{2})(Bearer|Basic|NTLM|Negotiate|Kerberos|Digest)(%20|%2520|\+)((?:[A-Za-z0-9._~-]|%(?:25)?(?:2[bBfF]|3[dD]))+)",
            ),
            // A `Cookie:`/`Set-Cookie:` header line URL-encoded into a parameter
            // (`Cookie%3A%20a%3D1%3B%20b%3D2`, once or twice): up to `&`, blank or quote.
            cookie_encoded: compile(
                r#"(?i)((?-u:\b)|%(?:25)?[0-9A-Fa-f]{2})((?:set-)?cookie2?)(%3A|%253A)((?:[A-Za-z0-9._~!$()*+,/:;=@-]|%[0-9A-Fa-f]{2})+)"#,
            ),
            // header.encrypted_key.iv.ciphertext.tag (RFC 7516 compact form).
            jwe: compile(&format!(
                r"({JWT_START})(eyJ[A-Za-z0-9_-]{{4,}})({JWT_DOT})([A-Za-z0-9_-]*){JWT_DOT}([A-Za-z0-9_-]{{8,}}){JWT_DOT}([A-Za-z0-9_-]{{8,}}){JWT_DOT}([A-Za-z0-9_-]{{8,}})"
            )),
            // header.payload.signature; the signature is what makes it a credential.
            jwt: compile(&format!(
                r"(?P<pre>{JWT_START})(?P<h>eyJ{JWT_CHAR}{{4,}})(?P<d1>{JWT_DOT})(?P<p>{JWT_CHAR}{{4,}})(?P<d2>{JWT_DOT})(?P<s>{JWT_CHAR}{{8,}})"
            )),
            // `key=value` in a query string or form body; the value ends at `&`, white
            // space, a quote, markup, an escape or a fragment. The `=` may be an HTML entity
            // or a JSON escape (`code\u003d...`).
            kv: compile(&format!(
                r#"(?i){start}({keys})(=|&\#0*61;|&\#[xX]0*3[dD];|&equals;|\\u003[dD])([^&\s'"<>\\#]+)"#
            )),
            // The same inside a URL-encoded value (`redirect_uri=...%3Fcode%3D...%26...`):
            // the value ends at an encoded `&`.
            kv_encoded: compile(&format!(
                r#"(?i){start}({keys})(%3D|%253D)((?:[^&%\s'"<>\\#]|%(?:[013-9A-Fa-f][0-9A-Fa-f]|2[0-57-9A-Fa-f]|25(?:[013-9A-Fa-f][0-9A-Fa-f]|2[0-57-9A-Fa-f])))+)"#
            )),
            // Any JSON key (also `\u`-escaped); the closure decides.
            json: compile(
                r#""((?:[A-Za-z0-9_.$-]|\\u[0-9A-Fa-f]{4}){1,100})"(\s*:\s*)"((?:[^"\\]|\\.)*)""#,
            ),
            // JSON inside a JSON string (a report's evidence quoting a body).
            json_escaped: compile(
                r#"\\"([A-Za-z0-9_.$-]{1,100})\\"(\s*:\s*)\\"((?:[^"\\]|\\[^"])*)\\""#,
            ),
            // JSON inside a JSON string written by System.Text.Json (`\u0022key\u0022:
            // \u0022value\u0022`): the value ends at the first `\u0022` that is not an
            // escaped quote of a third level (`\\\u0022`, XML attributes in the value).
            json_u: compile(
                r#"\\u0022([A-Za-z0-9_.$-]{1,100})\\u0022(\s*:\s*)\\u0022((?:[^"\\]|\\\\\\u0022|\\.)*?)\\u0022"#,
            ),
            // JSON shown in an HTML page (`{&quot;key&quot;:&quot;value&quot;}`, `&#34;`).
            json_html: compile(
                r#"(?i)(?:&quot;|&\#0*34;|&\#x0*22;)([A-Za-z0-9_.$-]{1,100})(?:&quot;|&\#0*34;|&\#x0*22;)(\s*:\s*)(?:&quot;|&\#0*34;|&\#x0*22;)([^"<>&]*(?:&(?:amp|lt|gt|\#0*(?:[0-24-9][0-9]?|3[0-35-9]|[1-9][0-9][0-9])|\#x0*(?:[013-9a-f][0-9a-f]?|2[013-9a-f]));[^"<>&]*)*)(?:&quot;|&\#0*34;|&\#x0*22;)"#,
            ),
            // A whole `<input ...>` tag; quoted attribute values may hold `>`. Or the tag
            // written inside JSON (`\u003cinput ... \u003e`) or HTML-escaped
            // (`&lt;input ... &gt;`): up to the first escaped `>`.
            input: compile(r#"(?i)<input(?-u:\b)(?:[^>"']|"[^"]*"|'[^']*')*>"#),
            input_escaped: compile(
                r#"(?i)(?:\\u003c|&lt;|&\#0*60;|&\#x0*3c;)input(?-u:\b)[^<>]*?(?:\\u003e|&gt;|&\#0*62;|&\#x0*3e;)"#,
            ),
            // `name` or `value` and its quoted value; the quotes may be JSON-escaped (`\"`,
            // `\u0022`, `\u0027`) or HTML references (`&quot;`, `&#34;`, `&#x22;`, `&#39;`,
            // `&apos;`), the `=` a JSON escape. One of groups 4 to 14 is the value inside
            // its quotes.
            attr: compile(concat!(
                r#"(?i)(?-u:\b)(name|value)(\s*(?:=|\\u003d)\s*)("#,
                r#""([^"]*)"|'([^']*)'|\\"((?:[^"\\]|\\[^"])*)\\""#,
                r#"|\\u0022(.*?)\\u0022|\\u0027(.*?)\\u0027|&quot;(.*?)&quot;|&apos;(.*?)&apos;"#,
                r#"|&\#0*34;(.*?)&\#0*34;|&\#x0*22;(.*?)&\#x0*22;|&\#0*39;(.*?)&\#0*39;|&\#x0*27;(.*?)&\#x0*27;)"#
            )),
            // An XML or HTML attribute named like a secret (`activationCode="..."`).
            secret_attr: compile(&format!(
                r#"(?i)[ \t\r\n]({keys})(\s*=\s*["'])([^"'<>]*)(["'])"#
            )),
            xml: compile(&format!(
                r#"(?i)(<(?:[A-Za-z0-9_.-]+:)?(?:{XML_SECRET_ELEMENTS})(?:\s[^<>]*)?>)([^<]+)(<)"#
            )),
            xml_escaped: compile(&format!(
                r#"(?i)(&lt;(?:[A-Za-z0-9_.-]+:)?(?:{XML_SECRET_ELEMENTS})(?:\s[^<>&]*(?:&(?:quot|amp|apos|\#[0-9]+);[^<>&]*)*)?&gt;)([^<>&]+)(&lt;)"#
            )),
            // Element text that is base64 (EWS `MimeContent`, an attachment): decoded and
            // scanned when it is text.
            base64_element: compile(
                r#"(>|")(\s*[A-Za-z0-9+/_-]{40}[A-Za-z0-9+/_\r\n \t-]*={0,2}\s*)(<|")"#,
            ),
            // A parameter value that is base64 (maybe percent-encoded): `state=`, `RelayState=`.
            base64_param: compile(r"(=)((?:[A-Za-z0-9+/_-]|%2[bBfF]){40,}(?:=|%3[dD]){0,2})"),
            har_cookie_marker: compile(r#"(?i)"name""#),
            multipart_marker: compile(r"(?i)form-data"),
            flag_marker: compile(r"(?i)<SessionFlag"),
        }
    })
}

/// `key` decoded (`%5F`, `\u0072`), camelCase and PascalCase split, `-` as `_`, lower case:
/// `accessToken`, `AccessToken`, `access-token`, `refresh%5Ftoken` become `access_token`,
/// `refresh_token`.
pub fn normalise_key(key: &str) -> String {
    let mut decoded = String::with_capacity(key.len());
    let mut rest = key;
    while let Some(ch) = rest.chars().next() {
        let hex = |s: &str| u32::from_str_radix(s, 16).ok().and_then(char::from_u32);
        if ch == '%' && rest.len() >= 3 && rest.is_char_boundary(3) {
            if let Some(c) = hex(&rest[1..3]) {
                decoded.push(c);
                rest = &rest[3..];
                continue;
            }
        }
        if rest.starts_with("\\u") && rest.len() >= 6 && rest.is_char_boundary(6) {
            if let Some(c) = hex(&rest[2..6]) {
                decoded.push(c);
                rest = &rest[6..];
                continue;
            }
        }
        decoded.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    let chars: Vec<char> = decoded.chars().collect();
    let mut out = String::with_capacity(decoded.len() + 4);
    for (i, &ch) in chars.iter().enumerate() {
        if ch == '-' || ch == '_' {
            if !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if ch.is_ascii_uppercase() && i > 0 && !out.ends_with('_') {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

/// What a parameter name says the secret is.
pub fn kind_of_key(key: &str) -> Kind {
    let raw = key.to_ascii_lowercase();
    let k = normalise_key(key);
    let ends = |s: &str| k == s || k.ends_with(&format!("_{s}"));
    if ends("refresh_token") {
        Kind::RefreshToken
    } else if ends("access_token") {
        Kind::AccessToken
    } else if ends("id_token") {
        Kind::IdToken
    } else if ends("code") || ends("code_verifier") {
        Kind::Code
    } else if ends("client_assertion") {
        Kind::ClientAssertion
    } else if ends("assertion") {
        Kind::Assertion
    } else if ends("password") || ends("passwd") || ends("pwd") {
        Kind::Password
    } else if ends("secret") {
        Kind::ClientSecret
    } else if raw == "samlresponse" || raw.ends_with("_samlresponse") || ends("saml_response") {
        Kind::SamlResponse
    } else if ends("wresult") {
        Kind::Wresult
    } else if ends("ctfdata") || ends("ctf_data") {
        Kind::RsaCtfData
    } else {
        Kind::OtherToken
    }
}

/// A whole key that names a credential ([`is_secret_key`]).
fn secret_key_regex() -> &'static Pattern {
    static KEY: OnceLock<Pattern> = OnceLock::new();
    KEY.get_or_init(|| {
        let keys = format!(r"(?i)^(?:[A-Za-z0-9]+[_-])*(?:{})$", SECRET_KEYS.join("|"));
        Pattern::new(&keys)
    })
}

/// The words a credential's key holds somewhere ([`is_secret_key`]'s cheap first look).
fn secret_word_regex() -> &'static Pattern {
    static WORDS: OnceLock<Pattern> = OnceLock::new();
    WORDS.get_or_init(|| {
        Pattern::new(
            r"(?i)token|code|secret|assertion|passw|pwd|saml|response|wresult|ctf|data|key|sig|%|\\u",
        )
    })
}

/// Compile now, on the calling thread, the finders a report's text reaches. A run that
/// redacts its output only at the end (`analyze` redacting its report) calls this on a
/// spare core while the analysis finishes, so that compiling them (~40 M instructions, most
/// of a 1000-session capture's fixed cost) is not paid after everything else with one core
/// idle. That is every finder but four: three whose pass first looks for a marker a report
/// rarely holds (`form-data`, `<SessionFlag`, `\u0022`), and the attributes of an `<input>`
/// tag; those still compile when a text first has them. (On the bench's 1000-session HAR
/// and two samples, in all four formats, redacting the report compiled no other.)
pub fn warm() {
    let p = patterns();
    let rare = p.rarely_reached();
    for pattern in p.all() {
        if !rare.iter().any(|r| std::ptr::eq(*r, pattern)) {
            let _compiled: &Regex = pattern;
        }
    }
    let _compiled: &Regex = secret_key_regex();
    let _compiled: &Regex = secret_word_regex();
}

/// Is `name` (a query, form or JSON key, a header or attribute name) one whose value is a
/// credential? Case and style do not matter (`refresh_token`, `refreshToken`,
/// `Refresh-Token`, `refresh%5Ftoken`, `\u0072efresh_token`).
pub fn is_secret_key(name: &str) -> bool {
    let re = secret_key_regex().searcher();
    // Most keys hold none of the words a secret's name ends with: no allocation for them.
    if !secret_word_regex().searcher().is_match(name) {
        return false;
    }
    let n = normalise_key(name);
    if NOT_SECRET_KEYS.contains(&n.as_str()) || n.starts_with("url_") {
        return false;
    }
    re.is_match(name) || re.is_match(&n) || re.is_match(&n.replace('_', ""))
}

/// What replaces a secret of the placeholder style: `REDACTED` repeated to the same length,
/// base64 padding (`=`) kept. Letters only, so it is valid in base64, base64url, a URL, a
/// cookie, JSON, XML and a header, and keeps every length a file records.
pub fn placeholder(original: &str) -> String {
    let body = original.trim_end_matches('=');
    let pad = original.len() - body.len();
    let mut out: String = "REDACTED"
        .bytes()
        .cycle()
        .take(body.len())
        .map(char::from)
        .collect();
    out.extend(std::iter::repeat_n('=', pad));
    out
}

/// `Authorization: Bearer` with nothing after the scheme (clients send it, e.g. Office's
/// WOPI requests): the lone word is the scheme name, no credential, and is kept so that the
/// copy shows the same scheme. A lone word that is not a scheme name is still a credential.
fn is_bare_scheme(scheme: &str, lone: &str) -> bool {
    const SCHEMES: &[&str] = &[
        "bearer",
        "basic",
        "ntlm",
        "negotiate",
        "kerberos",
        "digest",
        "pop",
        "mutual",
    ];
    scheme.is_empty() && SCHEMES.iter().any(|s| lone.eq_ignore_ascii_case(s))
}

/// Already replaced: the mark, its HTML-escaped form, or a placeholder.
pub fn is_replaced(value: &str) -> bool {
    if value == MARK || value == "&lt;redacted&gt;" {
        return true;
    }
    let body = value.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .zip(b"REDACTED".iter().cycle())
            .all(|(a, b)| a == *b)
}

/// Values that are not secrets although their key usually is: an AADSTS number in
/// `error?code=500011`, an error code name in `"code":"InvalidAuthenticationToken"`, an
/// empty value, an already-replaced one.
pub(crate) fn keep_value(key: &str, value: &str) -> bool {
    keep_value_in(key, value, false)
}

/// [`keep_value`] knowing whether the value sits in an OAuth context (a query or form that
/// also carries `state`, `client_id`, `redirect_uri`..., an `/oauth2/` URL): there an
/// authorization `code` is a secret whatever its length; only an AADSTS number stays.
pub(crate) fn keep_value_in(key: &str, value: &str, oauth: bool) -> bool {
    if value.is_empty() || is_replaced(value) {
        return true;
    }
    let k = normalise_key(key);
    if !(k == "code" || k.ends_with("_code")) || SECRET_CODE_KEYS.contains(&k.as_str()) {
        return false;
    }
    if k == "code" && oauth {
        return value.bytes().all(|b| b.is_ascii_digit());
    }
    value.len() < 32
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Does the stretch of `hay` around `start..end` (up to white space, a quote or markup, at
/// most 4 KiB each way) look like an OAuth request or answer?
pub(crate) fn oauth_context(hay: &str, start: usize, end: usize) -> bool {
    const REACH: usize = 4096;
    let stop = |b: &u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>');
    let bytes = hay.as_bytes();
    let lo = start.saturating_sub(REACH);
    let from = bytes[lo..start]
        .iter()
        .rposition(stop)
        .map_or(lo, |i| lo + i + 1);
    let hi = (end + REACH).min(bytes.len());
    let to = bytes[end..hi].iter().position(stop).map_or(hi, |i| end + i);
    let window = String::from_utf8_lossy(&bytes[from..to]).to_ascii_lowercase();
    [
        "state",
        "client_id",
        "client%5fid",
        "clientid",
        "redirect_uri",
        "redirect%5furi",
        "/oauth2/",
        "%2foauth2%2f",
        "nativeclient",
        "#code",
    ]
    .iter()
    .any(|w| window.contains(w))
}

/// One redaction run over a text, with its style and tally.
pub struct Scrubber<'c> {
    pub style: Style,
    pub counts: &'c mut Counts,
    /// How many base64 layers deep this text is (decoded and scanned up to 2).
    pub depth: u8,
}

impl Scrubber<'_> {
    fn replace(&mut self, kind: Kind, value: &str) -> String {
        self.counts.add(kind);
        match self.style {
            Style::Mark => MARK.to_string(),
            Style::Placeholder => placeholder(value),
        }
    }

    /// Every pass, in order.
    pub fn text<'a>(&mut self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        out = self.pass(out, Self::header_auth);
        out = self.pass(out, Self::cookies);
        out = self.pass(out, Self::har_cookies);
        out = self.pass(out, Self::multipart);
        out = self.pass(out, Self::scheme);
        out = self.pass(out, Self::encoded_headers);
        out = self.pass(out, Self::jwes);
        out = self.pass(out, Self::jwts);
        out = self.pass(out, Self::userinfo);
        out = self.pass(out, Self::inputs);
        out = self.pass(out, Self::kv);
        out = self.pass(out, Self::kv_encoded);
        out = self.pass(out, Self::json);
        out = self.pass(out, Self::json_escaped);
        out = self.pass(out, Self::json_quoted);
        out = self.pass(out, Self::secret_attrs);
        out = self.pass(out, Self::xml);
        out = self.pass(out, Self::flags);
        out = self.pass(out, Self::headers);
        out = self.pass(out, Self::base64_elements);
        out = self.pass(out, Self::base64_params);
        out
    }

    fn pass<'a>(
        &mut self,
        text: Cow<'a, str>,
        f: impl FnOnce(&mut Self, &str) -> Option<String>,
    ) -> Cow<'a, str> {
        match f(self, &text) {
            Some(s) => Cow::Owned(s),
            None => text,
        }
    }

    /// `re.replace_all` with a closure that may borrow `self`; `None` when nothing changed.
    fn each(
        &mut self,
        pattern: &Pattern,
        text: &str,
        mut f: impl FnMut(&mut Self, &Captures, &str) -> Option<String>,
    ) -> Option<String> {
        let re = pattern.searcher();
        // Most texts hold nothing a finder looks for: asked first whether they do, a text
        // that does not costs no `Captures` (each one clones the pattern's shared group
        // table, an atomic count that the threads scrubbing HAR entries on the pool would
        // all be writing).
        if !re.is_match(text) {
            return None;
        }
        let mut out = String::new();
        let mut last = 0;
        let mut changed = false;
        for c in re.captures_iter(text) {
            let Some(m) = c.get(0) else { continue };
            if let Some(rep) = f(self, &c, text) {
                out.push_str(&text[last..m.start()]);
                out.push_str(&rep);
                last = m.end();
                changed = true;
            }
        }
        if !changed {
            return None;
        }
        out.push_str(&text[last..]);
        Some(out)
    }

    /// `Authorization: <scheme> <credentials>`: everything after the scheme, also when the
    /// header is folded (a continuation line starts with white space).
    fn header_auth(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().header_auth, text, |s, c, _| {
            let full = &c[3];
            // A continuation after a bare `\n` (a report, not the wire) counts only when the
            // first line holds no credential yet.
            let (value, tail) = match full.find('\n') {
                Some(i) if !full[..i].ends_with('\r') && full[..i].trim().contains([' ', '\t']) => {
                    (&full[..i], &full[i..])
                }
                _ => (full, ""),
            };
            let scheme_len = value
                .find(|ch: char| ch.is_ascii_whitespace())
                .unwrap_or(value.len());
            let (scheme, rest) = if scheme_len == value.len() {
                ("", value)
            } else {
                (&value[..scheme_len], value[scheme_len..].trim_start())
            };
            let gap = &value[scheme.len()..value.len() - rest.len()];
            let rest_trim = rest.trim_end();
            if rest_trim.is_empty() || is_replaced(rest_trim) || is_bare_scheme(scheme, rest_trim) {
                return None;
            }
            let new = s.credential(scheme, rest_trim)?;
            Some(format!(
                "{}{}{scheme}{gap}{new}{}{tail}",
                &c[1],
                &c[2],
                &rest[rest_trim.len()..]
            ))
        })
    }

    /// The credential after an auth scheme: a JWT keeps its claims in a placeholder copy.
    fn credential(&mut self, scheme: &str, value: &str) -> Option<String> {
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "bearer" => Kind::BearerToken,
            "basic" => Kind::BasicCredential,
            "ntlm" | "negotiate" | "kerberos" => Kind::NtlmNegotiate,
            _ => Kind::OtherToken,
        };
        if self.style == Style::Placeholder {
            if kind == Kind::BearerToken {
                if let Some(j) = patterns().jwt.searcher().captures(value) {
                    if j.get(0).is_some_and(|m| m.len() == value.len()) && is_replaced(&j["s"]) {
                        return None;
                    }
                }
                if let Some(jwt) = self.jwt_placeholder(value) {
                    self.counts.add(Kind::BearerToken);
                    return Some(jwt);
                }
            }
            if kind == Kind::NtlmNegotiate {
                // The structure the diagnosis reads kept, the secrets zeroed; a copy of a
                // copy is itself (nothing left to redact).
                if let Some(copy) = super::windows_auth::placeholder(value) {
                    if copy == value {
                        return None;
                    }
                    self.counts.add(Kind::NtlmNegotiate);
                    return Some(copy);
                }
            }
            if kind == Kind::BasicCredential {
                if is_basic_placeholder(value) {
                    return None;
                }
                if let Some(basic) = basic_placeholder(value) {
                    self.counts.add(Kind::BasicCredential);
                    return Some(basic);
                }
            }
        }
        Some(self.replace(kind, value))
    }

    /// A whole JWT (Placeholder style): claims kept (their secret claims replaced), the
    /// signature replaced. `None` when `value` is not a JWT.
    fn jwt_placeholder(&mut self, value: &str) -> Option<String> {
        let caps = patterns().jwt.searcher().captures(value)?;
        let m = caps.get(0)?;
        if m.start() != 0 || m.end() != value.len() {
            return None;
        }
        let payload = self.claims(&caps["p"]);
        Some(format!(
            "{}{}{payload}{}{}",
            &caps["h"],
            &caps["d1"],
            &caps["d2"],
            placeholder(&caps["s"])
        ))
    }

    /// A JWT payload with its secret claims (WAM's `request=` JWT carries a refresh token)
    /// replaced; as it was when it holds none or is not JSON.
    fn claims(&mut self, payload: &str) -> String {
        let unescaped = unescape_jwt(payload);
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(unescaped.trim_end_matches('=')) else {
            return payload.to_string();
        };
        let Ok(json) = std::str::from_utf8(&bytes) else {
            return payload.to_string();
        };
        match self.json(json) {
            Some(new) => URL_SAFE_NO_PAD.encode(new),
            None => payload.to_string(),
        }
    }

    /// `Cookie: a=1; b=2` -> names kept, values replaced; for `Set-Cookie` the first pair is
    /// the cookie and the rest are attributes (`path`, `domain`), which stay. A nameless
    /// cookie (`Cookie: abc`, `; =abc`) is replaced whole; several `Set-Cookie` values joined
    /// by a line break (DevTools' HAR form, raw or JSON-escaped) are each a cookie.
    fn cookies(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().cookie, text, |s, c, _| {
            let set_cookie = c[1].to_ascii_lowercase().starts_with("set-");
            let new = s.cookie_list(set_cookie, &c[3])?;
            Some(format!("{}{}{new}", &c[1], &c[2]))
        })
    }

    /// A HAR name/value object in text: `{"name": "set-cookie", "value": "a=1; path=/\nb=2"}`
    /// (each cookie replaced), `{"name": "Authorization", "value": "Bearer ..."}` (the scheme
    /// kept), `{"name": "refresh_token", "value": "..."}` (a query or form parameter).
    fn har_cookies(&mut self, text: &str) -> Option<String> {
        // A cheap look before the case-blind regex scans the whole text.
        if !patterns().har_cookie_marker.searcher().is_match(text) {
            return None;
        }
        self.each(&patterns().har_cookie, text, |s, c, _| {
            let name = normalise_key(&c[2]);
            let value = &c[3];
            let new = match name.as_str() {
                "cookie" | "cookie2" | "set_cookie" | "set_cookie2" => {
                    s.cookie_list(name.starts_with("set"), value)?
                }
                "authorization" | "proxy_authorization" => {
                    let (scheme, cred) = value.split_once(' ').unwrap_or(("", value));
                    if cred.trim().is_empty()
                        || is_replaced(cred.trim())
                        || is_bare_scheme(scheme, cred.trim())
                    {
                        return None;
                    }
                    let new = s.credential(scheme, cred.trim())?;
                    if scheme.is_empty() {
                        new
                    } else {
                        format!("{scheme} {new}")
                    }
                }
                _ => {
                    if !is_secret_key(&c[2]) || keep_value(&c[2], value) {
                        return None;
                    }
                    s.value(&c[2], value)
                }
            };
            Some(format!("{}{new}{}", &c[1], &c[4]))
        })
    }

    /// A `Cookie` or `Set-Cookie` value, split on line breaks (`\n`, or `\n` escaped).
    fn cookie_list(&mut self, set_cookie: bool, value: &str) -> Option<String> {
        let mut out = String::with_capacity(value.len());
        let mut changed = false;
        let mut rest = value;
        loop {
            let cut = if set_cookie {
                match (rest.find('\n'), rest.find("\\n")) {
                    (Some(a), Some(b)) if b < a => Some((b, 2)),
                    (Some(a), _) => Some((a, 1)),
                    (None, Some(b)) => Some((b, 2)),
                    (None, None) => None,
                }
            } else {
                None
            };
            let (one, sep, next) = match cut {
                Some((i, n)) => (&rest[..i], &rest[i..i + n], Some(&rest[i + n..])),
                None => (rest, "", None),
            };
            match self.one_cookie(set_cookie, one) {
                Some(new) => {
                    changed = true;
                    out.push_str(&new);
                }
                None => out.push_str(one),
            }
            out.push_str(sep);
            match next {
                Some(n) => rest = n,
                None => break,
            }
        }
        changed.then_some(out)
    }

    fn one_cookie(&mut self, set_cookie: bool, value: &str) -> Option<String> {
        let mut changed = false;
        let parts: Vec<String> = value
            .split(';')
            .enumerate()
            .map(|(i, part)| {
                if set_cookie && i > 0 {
                    return part.to_string();
                }
                let (name, value) = match part.split_once('=') {
                    Some((name, value)) => (Some(name), value),
                    None => (None, part),
                };
                let v = value.trim();
                if v.is_empty() || is_replaced(v) || v == "\"\"" {
                    return part.to_string();
                }
                changed = true;
                let lead = &value[..value.len() - value.trim_start().len()];
                let tail = &value[lead.len() + v.len()..];
                let new = self.replace(Kind::Cookie, v);
                match name {
                    Some(name) => format!("{name}={lead}{new}{tail}"),
                    None => format!("{lead}{new}{tail}"),
                }
            })
            .collect();
        changed.then(|| parts.join(";"))
    }

    /// A `multipart/form-data` part named like a secret (`name="password"`): its value,
    /// up to the next boundary.
    fn multipart(&mut self, text: &str) -> Option<String> {
        if !patterns().multipart_marker.searcher().is_match(text) {
            return None;
        }
        self.each(&patterns().multipart, text, |s, c, _| {
            let (name, value) = (&c[2], &c[3]);
            if !is_secret_key(name) || keep_value(name, value.trim()) {
                return None;
            }
            let new = s.value(name, value);
            Some(format!("{}{new}{}", &c[1], &c[4]))
        })
    }

    /// `scheme://user:password@host`, raw or percent-encoded: the password; the user stays.
    fn userinfo(&mut self, text: &str) -> Option<String> {
        let p = patterns();
        let mut out: Option<String> = None;
        for re in [&p.userinfo, &p.userinfo_encoded] {
            let cur = out.as_deref().unwrap_or(text);
            if let Some(new) = self.each(re, cur, |s, c, _| {
                let v = &c[2];
                if is_replaced(v) {
                    return None;
                }
                Some(format!(
                    "{}{}{}",
                    &c[1],
                    s.replace(Kind::Password, v),
                    &c[3]
                ))
            }) {
                out = Some(new);
            }
        }
        out
    }

    /// `Bearer <token68>` anywhere (a quoted header, a log line). A scheme followed by an
    /// auth parameter (`Bearer client_id="..."`, `Bearer authorization_uri=https://...`) is
    /// a challenge and stays; so does prose (`Basic authentication`): a credential has a
    /// digit, an upper-case letter after the first or a base64 sign — or is quoted with its
    /// scheme (`"Bearer abc"`, `'Basic abc'`).
    fn scheme(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().scheme, text, |s, c, hay| {
            let (start, end) = c.get(0).map_or((0, 0), |m| (m.start(), m.end()));
            let next = hay[end..].chars().next();
            let prev = hay[..start].chars().next_back();
            let token = &c[3];
            let quoted = matches!(prev, Some('"' | '\'')) && next == prev;
            let param = next == Some('"')
                && token.ends_with('=')
                && token
                    .trim_end_matches('=')
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-');
            if next.is_some_and(|n| n.is_alphanumeric() || n == '=')
                || param
                || is_replaced(token)
                || (!quoted && (token.len() < 8 || !looks_like_credential(token)))
            {
                return None;
            }
            let new = s.credential(&c[1], token)?;
            Some(format!("{}{}{new}", &c[1], &c[2]))
        })
    }

    /// A credential or cookie header line URL-encoded into a parameter (a trace or error
    /// URL quoting a request): `Authorization%3A%20Bearer%20...`, `Basic%20dXNl...%3D`,
    /// `Cookie%3A%20ESTSAUTH%3D...%3B%20...`; once or twice encoded. The scheme and cookie
    /// names stay, the rest is replaced as it is written (same length).
    fn encoded_headers(&mut self, text: &str) -> Option<String> {
        // Both finders need an escape, or a form's `+` between scheme and credential
        // (`Bearer+s3cr3t...` has no `%`).
        if !text.contains(['%', '+']) {
            return None;
        }
        let p = patterns();
        // Group 1 is what comes before (a boundary, or a `%XX` such as `%20`, which has
        // none): written back as it was.
        let mut out = self.each(&p.scheme_encoded, text, |s, c, _| {
            let token = &c[4];
            // A challenge's parameter name (`Bearer+authorization_uri`, a label joining
            // scheme and parameters) is no credential.
            let param_name = token
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-');
            if is_replaced(token) || token.len() < 8 || param_name || !looks_like_credential(token)
            {
                return None;
            }
            let new = s.credential(&c[2], token)?;
            Some(format!("{}{}{}{new}", &c[1], &c[2], &c[3]))
        });
        let cur = out.as_deref().unwrap_or(text);
        if let Some(new) = self.each(&p.cookie_encoded, cur, |s, c, _| {
            let set_cookie = c[2].to_ascii_lowercase().starts_with("set");
            let new = s.encoded_cookie_list(set_cookie, &c[4])?;
            Some(format!("{}{}{}{new}", &c[1], &c[2], &c[3]))
        }) {
            out = Some(new);
        }
        out
    }

    /// The pairs of a URL-encoded cookie list (`%3B` between pairs, `%3D` in each): every
    /// value (of a `Set-Cookie`, the first pair's) replaced as written, the names kept.
    fn encoded_cookie_list(&mut self, set_cookie: bool, value: &str) -> Option<String> {
        let lower = value.to_ascii_lowercase();
        let (semi, eq) = if lower.contains("%253b") || lower.contains("%253d") {
            ("%253b", "%253d")
        } else {
            ("%3b", "%3d")
        };
        let mut out = String::with_capacity(value.len());
        let mut changed = false;
        let mut at = 0;
        let mut first = true;
        while at <= value.len() {
            let end = lower[at..].find(semi).map_or(value.len(), |i| at + i);
            let part = &value[at..end];
            if let Some(i) = part.to_ascii_lowercase().find(eq) {
                let v = &part[i + eq.len()..];
                if (first || !set_cookie) && !v.is_empty() && !is_replaced(v) {
                    out.push_str(&part[..i + eq.len()]);
                    out.push_str(&self.replace(Kind::Cookie, v));
                    changed = true;
                } else {
                    out.push_str(part);
                }
            } else {
                out.push_str(part);
            }
            first = false;
            if end == value.len() {
                break;
            }
            out.push_str(&value[end..end + semi.len()]);
            at = end + semi.len();
        }
        changed.then_some(out)
    }

    /// Every JWE (five parts): the header stays, the encrypted key, IV, ciphertext and tag
    /// are replaced.
    fn jwes(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().jwe, text, |s, c, _| {
            let whole = c.get(0)?.as_str();
            let pre = &c[1];
            let head = &c[2];
            let parts = &whole[pre.len() + head.len() + c[3].len()..];
            if (4..=7).all(|i| {
                c.get(i)
                    .is_none_or(|m| m.as_str().is_empty() || is_replaced(m.as_str()))
            }) {
                return None;
            }
            s.counts.add(Kind::Jwe);
            let new = match s.style {
                Style::Mark => MARK.to_string(),
                Style::Placeholder => {
                    let mut out = String::with_capacity(parts.len());
                    let mut rest = parts;
                    for i in 4..=7 {
                        let part = c.get(i).map_or("", |m| m.as_str());
                        let at = rest.find(part).unwrap_or(0);
                        out.push_str(&rest[..at]);
                        out.push_str(&placeholder(part));
                        rest = &rest[at + part.len()..];
                    }
                    out.push_str(rest);
                    out
                }
            };
            Some(format!("{pre}{head}{}{new}", &c[3]))
        })
    }

    /// Every JWT: the signature replaced, secret claims replaced, other claims kept.
    fn jwts(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().jwt, text, |s, c, _| {
            let sig = &c["s"];
            let payload = s.claims(&c["p"]);
            if is_replaced(sig) && payload == c["p"] {
                return None;
            }
            let sig = if is_replaced(sig) {
                sig.to_string()
            } else {
                s.replace(Kind::JwtSignature, sig)
            };
            Some(format!(
                "{}{}{}{payload}{}{sig}",
                &c["pre"], &c["h"], &c["d1"], &c["d2"]
            ))
        })
    }

    fn kv(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().kv, text, Self::pair)
    }

    fn kv_encoded(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().kv_encoded, text, Self::pair)
    }

    fn json(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().json, text, Self::pair)
    }

    fn json_escaped(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().json_escaped, text, Self::pair)
    }

    /// JSON quoted in another JSON string with `\u0022`, or in HTML with `&quot;`/`&#34;`.
    fn json_quoted(&mut self, text: &str) -> Option<String> {
        let p = patterns();
        let mut out: Option<String> = None;
        if memchr::memmem::find(text.as_bytes(), b"\\u0022").is_some() {
            out = self.each(&p.json_u, text, Self::pair);
        }
        let cur = out.as_deref().unwrap_or(text);
        if memchr::memchr(b'&', cur.as_bytes()).is_some() {
            if let Some(new) = self.each(&p.json_html, cur, Self::pair) {
                out = Some(new);
            }
        }
        out
    }

    fn secret_attrs(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().secret_attr, text, Self::pair)
    }

    /// A match whose group 1 is the key and group 3 the value: the match with the value
    /// replaced when the key is a secret's. A JWT value keeps its claims in the placeholder
    /// style; a JWT whose signature the JWT pass already replaced is left alone. A JSON
    /// `"Authorization"` value keeps its scheme.
    fn pair(&mut self, c: &Captures, hay: &str) -> Option<String> {
        let (whole, key, value) = (c.get(0)?, &c[1], c.get(3)?);
        let text = whole.as_str();
        let (start, end) = (value.start() - whole.start(), value.end() - whole.start());
        if !is_secret_key(key) {
            // A JSON `"Cookie"`/`"Set-Cookie"` value (a log, a HAR quoted in text).
            if key.len() < 13 && contains_ignore_case(key, "cookie") {
                let n = normalise_key(key);
                if !matches!(
                    n.as_str(),
                    "cookie" | "cookie2" | "set_cookie" | "set_cookie2"
                ) {
                    return None;
                }
                let new = self.cookie_list(n.starts_with("set"), value.as_str())?;
                return Some(format!("{}{new}{}", &text[..start], &text[end..]));
            }
            if key.len() < 13 || !contains_ignore_case(key, "authorization") {
                return None;
            }
            let n = normalise_key(key);
            if n != "authorization" && n != "proxy_authorization" {
                return None;
            }
            let v = value.as_str();
            let (scheme, cred) = v.split_once(' ').unwrap_or(("", v));
            let cred = cred.trim();
            if cred.is_empty()
                || is_replaced(cred)
                || is_bare_scheme(scheme, cred)
                || hay[whole.end()..].starts_with(MARK)
            {
                return None;
            }
            let new = self.credential(scheme, cred)?;
            let lead = &v[..v.len() - v.trim_start().len()];
            let gap = if scheme.is_empty() { "" } else { " " };
            return Some(format!(
                "{}{lead}{scheme}{gap}{new}{}",
                &text[..start],
                &text[end..]
            ));
        }
        let oauth = oauth_context(hay, whole.start(), whole.end());
        if keep_value_in(key, value.as_str(), oauth) || hay[whole.end()..].starts_with(MARK) {
            return None;
        }
        if let Some(j) = patterns().jwt.searcher().captures(value.as_str()) {
            if j.get(0).is_some_and(|m| m.len() == value.len()) && is_replaced(&j["s"]) {
                return None;
            }
        }
        let new = self.value(key, value.as_str());
        Some(format!("{}{new}{}", &text[..start], &text[end..]))
    }

    /// The replacement of one parameter value.
    pub fn value(&mut self, key: &str, value: &str) -> String {
        if self.style == Style::Placeholder {
            if let Some(jwt) = self.jwt_placeholder(value) {
                self.counts.add(kind_of_key(key));
                return jwt;
            }
        }
        self.replace(kind_of_key(key), value)
    }

    /// `<input type="hidden" name="code" value="...">` (form_post answers, the ADFS page
    /// that posts `wresult`). A hidden `code` is an authorization code whatever its length.
    fn inputs(&mut self, text: &str) -> Option<String> {
        let p = patterns();
        let out = self.each(&p.input, text, Self::input_tag);
        let cur = out.as_deref().unwrap_or(text);
        // The escaped tag only where an escaped `<` can be (a cheap look first).
        if memchr::memchr2(b'\\', b'&', cur.as_bytes()).is_none() {
            return out;
        }
        self.each(&p.input_escaped, cur, Self::input_tag).or(out)
    }

    /// One `<input ...>` tag, raw or escaped: a secret-named input's value replaced.
    fn input_tag(&mut self, c: &Captures, _: &str) -> Option<String> {
        let p = patterns();
        let tag = &c[0];
        let mut name = None;
        let mut value = None;
        for a in p.attr.searcher().captures_iter(tag) {
            let Some(m) = (4..=14).find_map(|i| a.get(i)) else {
                continue;
            };
            let inner = (m.start(), m.end());
            if a[1].eq_ignore_ascii_case("name") {
                name = Some(tag[inner.0..inner.1].to_string());
            } else {
                value = Some(inner);
            }
        }
        let (name, (start, end)) = (name?, value?);
        let v = &tag[start..end];
        if !is_secret_key(&name) || keep_value_in(&name, v, true) {
            return None;
        }
        let new = self.value(&name, v);
        Some(format!("{}{new}{}", &tag[..start], &tag[end..]))
    }

    /// The text of `<ds:SignatureValue>`, `<o:Password>`, `<t:BinarySecret>`,
    /// `<wsse:BinarySecurityToken>`, `<ActivationCode>`, raw or HTML-escaped.
    fn xml(&mut self, text: &str) -> Option<String> {
        let p = patterns();
        let mut out: Option<String> = None;
        for re in [&p.xml, &p.xml_escaped] {
            let cur = out.as_deref().unwrap_or(text);
            if let Some(new) = self.each(re, cur, |s, c, _| {
                let v = &c[2];
                if v.trim().is_empty() || is_replaced(v.trim()) {
                    return None;
                }
                Some(format!(
                    "{}{}{}",
                    &c[1],
                    s.replace(Kind::XmlSecret, v),
                    &c[3]
                ))
            }) {
                out = Some(new);
            }
        }
        out
    }

    /// Fiddler session flags in `_m.xml`: `x-AutoAuth` (`DOMAIN\user:password`) loses its
    /// password; a flag named like a secret loses its value; any other goes through the value
    /// detectors.
    fn flags(&mut self, text: &str) -> Option<String> {
        if !patterns().flag_marker.searcher().is_match(text) {
            return None;
        }
        self.each(&patterns().flag, text, |s, c, _| {
            let new = s.header_value(&c[2], &c[4])?;
            Some(format!("{}{}{}{new}{}", &c[1], &c[2], &c[3], &c[5]))
        })
    }

    /// Header lines no earlier pass handled (`X-Api-Key: ...`, `x-AutoAuth: ...`, an unknown
    /// `X-Foo: <token>`), unless the header is in [`KEEP_HEADERS`].
    fn headers(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().header, text, |s, c, _| {
            let name = c[1].to_ascii_lowercase();
            if KEEP_HEADERS.contains(&name.as_str()) {
                return None;
            }
            let new = s.header_value(&c[1], &c[3])?;
            Some(format!("{}{}{new}", &c[1], &c[2]))
        })
    }

    /// The value detectors for a header or flag `name: value`.
    fn header_value(&mut self, name: &str, value: &str) -> Option<String> {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        let lead = &value[..value.len() - value.trim_start().len()];
        let tail = &value[lead.len() + v.len()..];
        if name.eq_ignore_ascii_case("x-autoauth") {
            let (user, password) = v.split_once(':')?;
            if password.is_empty() || is_replaced(password) {
                return None;
            }
            let new = self.replace(Kind::Password, password);
            return Some(format!("{lead}{user}:{new}{tail}"));
        }
        if is_secret_key(name) && !v.contains(char::is_whitespace) {
            if keep_value(name, v) {
                return None;
            }
            let new = self.value(name, v);
            return Some(format!("{lead}{new}{tail}"));
        }
        if credential_header(name)
            && v.len() >= 8
            && !v.contains(char::is_whitespace)
            && !is_replaced(v)
        {
            let new = self.replace(Kind::OtherToken, v);
            return Some(format!("{lead}{new}{tail}"));
        }
        self.each(&patterns().token, value, |s, c, _| {
            let t = &c[0];
            high_entropy(t).then(|| s.replace(Kind::OtherToken, t))
        })
    }

    /// Element text that is base64 of text (EWS `MimeContent`, an attachment, a token
    /// response): decoded, scanned, and re-encoded (same line breaks) when something was
    /// replaced. Two layers deep at most.
    fn base64_elements(&mut self, text: &str) -> Option<String> {
        if self.depth >= 2 {
            return None;
        }
        self.each(&patterns().base64_element, text, |s, c, _| {
            let new = s.base64_text(&c[2])?;
            Some(format!("{}{new}{}", &c[1], &c[3]))
        })
    }

    /// A query or form value that is base64 of text, raw or percent-encoded (`%2B`, `%2F`,
    /// `%3D`): decoded, scanned, re-encoded the same way when something was replaced.
    fn base64_params(&mut self, text: &str) -> Option<String> {
        if self.depth >= 2 {
            return None;
        }
        self.each(&patterns().base64_param, text, |s, c, _| {
            let raw = &c[2];
            let encoded = raw.contains('%');
            let plain = if encoded {
                raw.replace("%2B", "+")
                    .replace("%2b", "+")
                    .replace("%2F", "/")
                    .replace("%2f", "/")
                    .replace("%3D", "=")
                    .replace("%3d", "=")
            } else {
                raw.to_string()
            };
            let new = s.base64_text(&plain)?;
            let new = if encoded {
                new.replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D")
            } else {
                new
            };
            Some(format!("{}{new}", &c[1]))
        })
    }

    /// `encoded` (base64, maybe wrapped) with the secrets of its decoded text replaced;
    /// `None` when it is not base64 of text or holds no secret.
    fn base64_text(&mut self, encoded: &str) -> Option<String> {
        let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
        let url_safe = compact.contains(['-', '_']);
        let bytes = base64_lenient(&compact, url_safe)?;
        let decoded = std::str::from_utf8(&bytes).ok()?;
        let texty = decoded
            .chars()
            .filter(|c| !c.is_control() || c.is_whitespace())
            .count();
        if texty * 10 < decoded.chars().count() * 9 {
            return None;
        }
        let mut inner = Scrubber {
            style: self.style,
            counts: self.counts,
            depth: self.depth + 1,
        };
        let Cow::Owned(new) = inner.text(decoded) else {
            return None;
        };
        let reencoded = if url_safe {
            URL_SAFE_NO_PAD.encode(new.as_bytes())
        } else {
            STANDARD_NO_PAD.encode(new.as_bytes())
        };
        let reencoded = if compact.ends_with('=') {
            let pad = (4 - reencoded.len() % 4) % 4;
            format!("{reencoded}{}", "=".repeat(pad))
        } else {
            reencoded
        };
        Some(rewrap(encoded, &reencoded))
    }
}

/// base64 with or without padding; `None` when it is not.
fn base64_lenient(s: &str, url_safe: bool) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    if url_safe {
        URL_SAFE_NO_PAD.decode(s).ok()
    } else {
        STANDARD_NO_PAD.decode(s).ok()
    }
}

/// `new` (base64 without white space) laid out like `old`: the same leading and trailing
/// white space, the same line length and line break.
fn rewrap(old: &str, new: &str) -> String {
    let lead = &old[..old.len() - old.trim_start().len()];
    let trimmed = old.trim();
    let tail = &old[lead.len() + trimmed.len()..];
    let Some(first) = trimmed.find(['\r', '\n']) else {
        return format!("{lead}{new}{tail}");
    };
    let brk = if trimmed[first..].starts_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut out =
        String::with_capacity(new.len() + new.len() / first.max(1) * 2 + old.len() - trimmed.len());
    out.push_str(lead);
    let chunks: Vec<&[u8]> = new.as_bytes().chunks(first.max(1)).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 {
            out.push_str(brk);
        }
        out.push_str(&String::from_utf8_lossy(chunk));
    }
    out.push_str(tail);
    out
}

/// A JWT part with its JSON `\u` escapes (`\u002d`, `\u005f`) undone.
fn unescape_jwt(part: &str) -> Cow<'_, str> {
    if !part.contains('\\') {
        return Cow::Borrowed(part);
    }
    Cow::Owned(
        part.replace("\\u002d", "-")
            .replace("\\u002D", "-")
            .replace("\\u005f", "_")
            .replace("\\u005F", "_"),
    )
}

/// A header (or session flag) whose name says its value is a credential: a word of its
/// normalised name is `key`, `token`, `secret`, `session` (`X-OWA-SessionKey`), `ticket`,
/// `signature`, `password` or `credential`, and the last word does not say it is only an id,
/// a type or a count of one (`X-Session-Id`, `X-Token-Type`). Such a value is replaced
/// whatever its length (8 characters and more, no white space): the random-token test wants
/// 32 characters, and session keys are often shorter.
fn credential_header(name: &str) -> bool {
    let key = normalise_key(name);
    let words: Vec<&str> = key.split('_').filter(|w| !w.is_empty()).collect();
    let Some(last) = words.last() else {
        return false;
    };
    if matches!(
        *last,
        "id" | "ids"
            | "type"
            | "count"
            | "version"
            | "length"
            | "name"
            | "time"
            | "expiry"
            | "expires"
            | "lifetime"
            | "status"
            | "state"
            | "scheme"
    ) {
        return false;
    }
    words.iter().any(|w| {
        matches!(
            *w,
            "key"
                | "token"
                | "secret"
                | "session"
                | "ticket"
                | "signature"
                | "password"
                | "credential"
                | "credentials"
        )
    })
}

/// A token of 32 or more base64/base64url characters that is random rather than a word or
/// an id: upper case, lower case and digits mixed, characters changing class often (a
/// CamelCase name does not), Shannon entropy of at least 4.2 bits a character. GUIDs,
/// hex ids and trace ids (one case only), paths and words are not.
pub(crate) fn high_entropy(token: &str) -> bool {
    let t = token.trim_end_matches('=');
    if t.len() < 32
        || is_replaced(t)
        || t.contains("//")
        || t.matches('/').count() > t.len() / 16 + 1
    {
        return false;
    }
    let b = t.as_bytes();
    let (upper, lower, digit) = (
        b.iter().any(u8::is_ascii_uppercase),
        b.iter().any(u8::is_ascii_lowercase),
        b.iter().any(u8::is_ascii_digit),
    );
    if !(upper && lower && digit) {
        return false;
    }
    let class = |c: u8| match c {
        b'A'..=b'Z' => 0,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    let changes = b.windows(2).filter(|w| class(w[0]) != class(w[1])).count();
    if changes * 10 < b.len() * 4 {
        return false;
    }
    let mut freq = [0u32; 256];
    for &c in b {
        freq[usize::from(c)] += 1;
    }
    let n = b.len() as f64;
    let entropy: f64 = freq
        .iter()
        .filter(|&&f| f > 0)
        .map(|&f| {
            let p = f64::from(f) / n;
            -p * p.log2()
        })
        .sum();
    entropy >= 4.2
}

/// A token68 that is a credential rather than a word.
fn looks_like_credential(token: &str) -> bool {
    token.bytes().enumerate().any(|(i, b)| {
        b.is_ascii_digit() || b"+/=._~-".contains(&b) || (i > 0 && b.is_ascii_uppercase())
    })
}

/// A Basic credential this module wrote: `user:XXXX`.
fn is_basic_placeholder(value: &str) -> bool {
    STANDARD.decode(value).ok().is_some_and(|b| {
        b.iter()
            .position(|&c| c == b':')
            .is_some_and(|i| i + 1 < b.len() && b[i + 1..].iter().all(|&c| c == b'X'))
    })
}

/// `Basic base64(user:password)` with the password replaced and the user kept, same length;
/// `None` when it does not decode to `user:password`.
fn basic_placeholder(value: &str) -> Option<String> {
    let bytes = STANDARD.decode(value).ok()?;
    let colon = bytes.iter().position(|&b| b == b':')?;
    let mut new = bytes[..=colon].to_vec();
    new.extend(std::iter::repeat_n(b'X', bytes.len() - colon - 1));
    let encoded = STANDARD.encode(&new);
    (encoded.len() == value.len()).then_some(encoded)
}

#[cfg(test)]
mod tests {
    //! One test per finder of issue 17 (item 2 and its list of secrets not recognised):
    //! input -> exact output in both styles, and a second run that changes nothing.
    use super::super::{scrub, scrub_bytes, scrub_header, Counts, Kind, Style};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    /// [`Pattern::searcher`]: the first thread to search with a finder uses its own regex,
    /// another thread a copy it compiles once, and both find the same.
    #[test]
    fn the_first_thread_to_search_owns_a_finder_and_the_others_copy_it() {
        use super::{Pattern, Searcher};
        let p = Pattern::new(r"(?i)(bearer)\s+(\S+)");
        let text = "Authorization: Bearer abc.def";
        let group = |re: &regex::Regex| re.captures(text).map(|c| c[2].to_string());
        // Compiling it (what `warm` does on its own thread) owns nothing.
        let _compiled: &regex::Regex = &p;
        std::thread::scope(|scope| {
            let first = scope.spawn(|| {
                let s = p.searcher();
                assert!(matches!(s, Searcher::Shared(_)));
                assert!(std::ptr::eq(&*s, &*p));
                group(&s)
            });
            assert_eq!(first.join().unwrap().as_deref(), Some("abc.def"));
        });
        let here = p.searcher();
        let Searcher::Copy(copy) = &here else {
            panic!("a second thread searches with a copy");
        };
        assert!(!std::ptr::eq(&**copy, &*p));
        assert_eq!(group(&here).as_deref(), Some("abc.def"));
        // One copy a thread, made once.
        let Searcher::Copy(again) = p.searcher() else {
            panic!("still a copy");
        };
        assert!(std::rc::Rc::ptr_eq(copy, &again));
    }

    /// Finders compile when first used, so a typo in one would surface only on the text
    /// that reaches it: compile every one here.
    #[test]
    fn every_finder_compiles() {
        for pattern in super::patterns().all() {
            let re: &regex::Regex = pattern;
            assert!(!re.as_str().is_empty());
        }
        super::warm();
        assert!(super::secret_key_regex().is_match("refresh_token"));
        assert!(super::secret_word_regex().is_match("client_secret"));
    }

    fn run(style: Style, s: &str) -> (String, Counts) {
        let mut c = Counts::default();
        let out = scrub(s, style, &mut c).into_owned();
        (out, c)
    }

    /// `input` gives `mark` in Mark style and `placeholder` in Placeholder style (same
    /// length), and both outputs are left alone by a second run.
    fn check(input: &str, mark: &str, placeholder: &str) {
        let (m, _) = run(Style::Mark, input);
        assert_eq!(m, mark, "Mark style of {input:?}");
        let (m2, c) = run(Style::Mark, &m);
        assert_eq!(m2, m, "second Mark run of {input:?}");
        assert_eq!(c.total(), 0);
        let (p, _) = run(Style::Placeholder, input);
        assert_eq!(p, placeholder, "Placeholder style of {input:?}");
        assert_eq!(p.len(), input.len(), "placeholder length of {input:?}");
        let (p2, c) = run(Style::Placeholder, &p);
        assert_eq!(p2, p, "second Placeholder run of {input:?}");
        assert_eq!(c.total(), 0, "second Placeholder run of {input:?} counted");
    }

    /// Left alone in both styles.
    fn keep(input: &str) {
        assert_eq!(run(Style::Mark, input).0, input);
        assert_eq!(run(Style::Placeholder, input).0, input);
    }

    /// A scheme with nothing after it is not a credential: the copy keeps it (a WOPI
    /// request in a public capture sends `Authorization: Bearer` alone). A lone word that is
    /// not a scheme name is still replaced.
    #[test]
    fn a_bare_scheme_is_kept_a_bare_credential_is_not() {
        keep("Authorization: Bearer\r\nHost: x\r\n");
        keep(r#"{"name":"Authorization","value":"Bearer"}"#);
        keep(r#"{"headers":{"Authorization":"Negotiate","x":1}}"#);
        check(
            "Authorization: abcdef123456\r\n",
            "Authorization: <redacted>\r\n",
            "Authorization: REDACTEDREDA\r\n",
        );
    }

    #[test]
    fn key_names_in_any_case_and_style() {
        check(
            r#"{"accessToken":"at-SECRET-1","refreshToken":"rt-SECRET-2","clientSecret":"cs-SECRET-3","AccessToken":"x1-SECRET"}"#,
            r#"{"accessToken":"<redacted>","refreshToken":"<redacted>","clientSecret":"<redacted>","AccessToken":"<redacted>"}"#,
            r#"{"accessToken":"REDACTEDRED","refreshToken":"REDACTEDRED","clientSecret":"REDACTEDRED","AccessToken":"REDACTEDR"}"#,
        );
        check(
            "access-token=abc123&Client_Secret=s3cr3t&RefreshToken=rt1",
            "access-token=<redacted>&Client_Secret=<redacted>&RefreshToken=<redacted>",
            "access-token=REDACT&Client_Secret=REDACT&RefreshToken=RED",
        );
        let (_, c) = run(Style::Mark, r#"{"refreshToken":"x","clientSecret":"y"}"#);
        assert_eq!(c.get(Kind::RefreshToken), 1);
        assert_eq!(c.get(Kind::ClientSecret), 1);
    }

    #[test]
    fn escaped_and_encoded_key_names_and_separators() {
        check(
            r#"{"\u0072efresh_token":"rt-SECRET"}"#,
            r#"{"\u0072efresh_token":"<redacted>"}"#,
            r#"{"\u0072efresh_token":"REDACTEDR"}"#,
        );
        check(
            "grant_type=refresh_token&refresh%5Ftoken=rt-SECRET&x=1",
            "grant_type=refresh_token&refresh%5Ftoken=<redacted>&x=1",
            "grant_type=refresh_token&refresh%5Ftoken=REDACTEDR&x=1",
        );
        check(
            "a=1&amp;code=0.AXsecret&amp;state=x",
            "a=1&amp;code=<redacted>&amp;state=x",
            "a=1&amp;code=REDACTEDRE&amp;state=x",
        );
        check(
            "code&#61;0.AXsecret&amp;state=1 password&#x3D;hunter2",
            "code&#61;<redacted>&amp;state=1 password&#x3D;<redacted>",
            "code&#61;REDACTEDRE&amp;state=1 password&#x3D;REDACTE",
        );
        // System.Text.Json's default escaping, and ESTS's $Config blob.
        check(
            r#""urlPost":"https://login.microsoftonline.com/common/reprocess?code\u003dAbC12\u0026state\u003dxyz""#,
            r#""urlPost":"https://login.microsoftonline.com/common/reprocess?code\u003d<redacted>\u0026state\u003dxyz""#,
            r#""urlPost":"https://login.microsoftonline.com/common/reprocess?code\u003dREDAC\u0026state\u003dxyz""#,
        );
        check(
            r#"{"u":"https://app/cb?a=1\u0026code=0.AXsecret\u0026state=x"}"#,
            r#"{"u":"https://app/cb?a=1\u0026code=<redacted>\u0026state=x"}"#,
            r#"{"u":"https://app/cb?a=1\u0026code=REDACTEDRE\u0026state=x"}"#,
        );
    }

    #[test]
    fn look_alike_keys_stay() {
        for s in [
            r#"{"flowToken":"AQABAAEAAAD--DLA3VO7QrddgJg7WevrPqSl","tokenType":"Bearer"}"#,
            r#"{"urlResetPassword":"https://passwordreset.microsoftonline.com/","errorCode":"AADSTS50058"}"#,
            "barcode=12345&unicode=yes&encode=1",
            r#"{"codeChallengeMethod":"S256","responseType":"code"}"#,
        ] {
            keep(s);
        }
    }

    #[test]
    fn jwts_with_json_escapes_and_jwes() {
        check(
            r#"{"t":"eyJhbGciOiJSUzI1NiJ9\u002eeyJhdWQiOiJ4In0\u002ec2lnbmF0dXJlLXNpZw"}"#,
            r#"{"t":"eyJhbGciOiJSUzI1NiJ9\u002eeyJhdWQiOiJ4In0\u002e<redacted>"}"#,
            r#"{"t":"eyJhbGciOiJSUzI1NiJ9\u002eeyJhdWQiOiJ4In0\u002eREDACTEDREDACTEDRE"}"#,
        );
        // A JWE: header kept; encrypted key, IV, ciphertext and tag replaced.
        check(
            "x eyJhbGciOiJSU0EtT0FFUCJ9.ZW5jcnlwdGVkLWtleQ.aXYtaXYtaXYtaXY.Y2lwaGVydGV4dC1jaXBoZXI.dGFnLXRhZy10YWc y",
            "x eyJhbGciOiJSU0EtT0FFUCJ9.<redacted> y",
            "x eyJhbGciOiJSU0EtT0FFUCJ9.REDACTEDREDACTEDRE.REDACTEDREDACTE.REDACTEDREDACTEDREDACTE.REDACTEDREDACTE y",
        );
        // `dir`: no encrypted key.
        check(
            "eyJhbGciOiJkaXIifQ..aXYtaXYtaXYtaXY.Y2lwaGVydGV4dC1jaXBoZXI.dGFnLXRhZy10YWc",
            "eyJhbGciOiJkaXIifQ.<redacted>",
            "eyJhbGciOiJkaXIifQ..REDACTEDREDACTE.REDACTEDREDACTEDREDACTE.REDACTEDREDACTE",
        );
        let (_, c) = run(
            Style::Placeholder,
            "eyJhbGciOiJkaXIifQ..aXYtaXYtaXYtaXY.Y2lwaGVydGV4dC1jaXBoZXI.dGFnLXRhZy10YWc",
        );
        assert_eq!(c.get(Kind::Jwe), 1);
        assert_eq!(c.total(), 1);
    }

    #[test]
    fn multipart_form_fields() {
        let body = "--b1\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice@contoso.com\r\n--b1\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nP@ss w0rd!\r\n--b1\r\nContent-Disposition: form-data; name=\"client_secret\"\r\nContent-Type: text/plain\r\n\r\ncs~SECRET.1\r\n--b1--\r\n";
        check(
            body,
            &body
                .replace("P@ss w0rd!", "<redacted>")
                .replace("cs~SECRET.1", "<redacted>"),
            &body
                .replace("P@ss w0rd!", "REDACTEDRE")
                .replace("cs~SECRET.1", "REDACTEDRED"),
        );
    }

    #[test]
    fn url_userinfo() {
        check(
            "proxy https://alice:P%40ss-w0rd@proxy.contoso.com:8080/x and ftp://bob:pw1@files",
            "proxy https://alice:<redacted>@proxy.contoso.com:8080/x and ftp://bob:<redacted>@files",
            "proxy https://alice:REDACTEDRED@proxy.contoso.com:8080/x and ftp://bob:RED@files",
        );
        check(
            "url=https%3A%2F%2Falice%3As3cret%40host%2Fp&y=1",
            "url=https%3A%2F%2Falice%3A<redacted>%40host%2Fp&y=1",
            "url=https%3A%2F%2Falice%3AREDACT%40host%2Fp&y=1",
        );
        for s in [
            "https://login.microsoftonline.com:443/common/oauth2/token",
            "mailto:alice@contoso.com https://alice@contoso.com/x",
            "url=https%3A%2F%2Fhost%3A443%2Fpath%40x",
        ] {
            keep(s);
        }
    }

    #[test]
    fn short_oauth_codes_in_an_oauth_context() {
        check(
            "https://app.contoso.com/cb?code=abc123&state=xyz",
            "https://app.contoso.com/cb?code=<redacted>&state=xyz",
            "https://app.contoso.com/cb?code=REDACT&state=xyz",
        );
        check(
            "GET https://login.microsoftonline.com/common/oauth2/nativeclient?code=Q1w2E3 HTTP/1.1",
            "GET https://login.microsoftonline.com/common/oauth2/nativeclient?code=<redacted> HTTP/1.1",
            "GET https://login.microsoftonline.com/common/oauth2/nativeclient?code=REDACT HTTP/1.1",
        );
        check(
            "Location: https://app/cb#code=abcd&session_state=1",
            "Location: https://app/cb#code=<redacted>&session_state=1",
            "Location: https://app/cb#code=REDA&session_state=1",
        );
        check(
            r#"<input type="hidden" name="code" value="abc"/>"#,
            r#"<input type="hidden" name="code" value="<redacted>"/>"#,
            r#"<input type="hidden" name="code" value="RED"/>"#,
        );
        for s in [
            "https://login.microsoftonline.com/error?code=500011",
            "https://login.microsoftonline.com/common/oauth2/authorize?code=500011&state=x",
            "error_code=invalid_resource&state=x&response_type=code",
            r#"{"error":{"code":"InvalidAuthenticationToken","message":"x"}}"#,
        ] {
            keep(s);
        }
    }

    /// JSON quoted inside a JSON string by System.Text.Json (`\u0022`), and JSON shown in an
    /// HTML page (`&quot;`, `&#34;`, `&#x22;`): secret values replaced, the rest kept.
    #[test]
    fn json_quoted_with_u0022_or_html_references() {
        check(
            r#"{"body":"{\u0022client_id\u0022:\u0022d359\u0022,\u0022refresh_token\u0022:\u00220.AX\u002Bb\u0022}"}"#,
            r#"{"body":"{\u0022client_id\u0022:\u0022d359\u0022,\u0022refresh_token\u0022:\u0022<redacted>\u0022}"}"#,
            r#"{"body":"{\u0022client_id\u0022:\u0022d359\u0022,\u0022refresh_token\u0022:\u0022REDACTEDRED\u0022}"}"#,
        );
        check(
            "<pre>{&quot;code&quot;:&quot;1.AXoA-b_c.d&amp;e&quot;,&quot;state&quot;:&quot;x&quot;}</pre>",
            "<pre>{&quot;code&quot;:&quot;<redacted>&quot;,&quot;state&quot;:&quot;x&quot;}</pre>",
            "<pre>{&quot;code&quot;:&quot;REDACTEDREDACTEDRE&quot;,&quot;state&quot;:&quot;x&quot;}</pre>",
        );
        check(
            "<pre>{&#34;Authorization&#34;:&#34;Bearer abc123XYZ&#34;}</pre>",
            "<pre>{&#34;Authorization&#34;:&#34;Bearer <redacted>&#34;}</pre>",
            "<pre>{&#34;Authorization&#34;:&#34;Bearer REDACTEDR&#34;}</pre>",
        );
        check(
            r#"{"b":"{\u0022wresult\u0022:\u0022\u003Ct:R a=\\\u0022x\\\u0022\u003Esig\u0022}"}"#,
            r#"{"b":"{\u0022wresult\u0022:\u0022<redacted>\u0022}"}"#,
            r#"{"b":"{\u0022wresult\u0022:\u0022REDACTEDREDACTEDREDACTEDREDACTEDREDACT\u0022}"}"#,
        );
        for s in [
            r#"{"body":"{\u0022error\u0022:\u0022invalid_grant\u0022,\u0022error_codes\u0022:[70008]}"}"#,
            "<pre>{&quot;code&quot;:&quot;InvalidAuthenticationToken&quot;,&quot;tid&quot;:&quot;x&quot;}</pre>",
        ] {
            keep(s);
        }
    }

    /// Header lines URL-encoded into a parameter, JSON `"Cookie"` values, and a JWT right
    /// after a `\u0022` or `%20` (no word boundary there).
    #[test]
    fn encoded_header_lines_json_cookies_and_glued_jwts() {
        let basic = STANDARD.encode("user@contoso.com:Pa ss!w0rd/x");
        let enc = basic
            .replace('=', "%3D")
            .replace('+', "%2B")
            .replace('/', "%2F");
        let (m, _) = run(
            Style::Mark,
            &format!("/t?trace=Authorization%3A%20Basic%20{enc}&x=1"),
        );
        assert_eq!(m, "/t?trace=Authorization%3A%20Basic%20<redacted>&x=1");
        let (p, _) = run(Style::Placeholder, &format!("/t?h=Basic%2520{enc}"));
        assert!(!p.contains(&enc[..12]) && p.len() == 15 + enc.len(), "{p}");
        check(
            "/t?trace=Cookie%3A%20a%3D1%3B%20ESTSAUTH%3D1.AXoA-b_c%3B%20buid%3D0.x&y=2",
            "/t?trace=Cookie%3A%20a%3D<redacted>%3B%20ESTSAUTH%3D<redacted>%3B%20buid%3D<redacted>&y=2",
            "/t?trace=Cookie%3A%20a%3DR%3B%20ESTSAUTH%3DREDACTEDRE%3B%20buid%3DRED&y=2",
        );
        check(
            "/t?h=Set-Cookie%253A%2520ESTSAUTH%253Dabc123%253B%2520path%253D%252F",
            "/t?h=Set-Cookie%253A%2520ESTSAUTH%253D<redacted>%253B%2520path%253D%252F",
            "/t?h=Set-Cookie%253A%2520ESTSAUTH%253DREDACT%253B%2520path%253D%252F",
        );
        check(
            r#"{"headers":{"Cookie":"a=1; ESTSAUTH=xyz","Set-Cookie":"fpc=AkG; path=/"}}"#,
            r#"{"headers":{"Cookie":"a=<redacted>; ESTSAUTH=<redacted>","Set-Cookie":"fpc=<redacted>; path=/"}}"#,
            r#"{"headers":{"Cookie":"a=R; ESTSAUTH=RED","Set-Cookie":"fpc=RED; path=/"}}"#,
        );
        check(
            r#"{"log":"{\"Cookie\":\"ESTSAUTH=xyz\"}"}"#,
            r#"{"log":"{\"Cookie\":\"ESTSAUTH=<redacted>\"}"}"#,
            r#"{"log":"{\"Cookie\":\"ESTSAUTH=RED\"}"}"#,
        );
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJlLXNlY3JldA";
        for (pre, post) in [
            ("\\u0022", "\\u0022"),
            ("Bearer%20", "&x=1"),
            ("%3D", "%3B"),
        ] {
            let (m, _) = run(Style::Mark, &format!("x={pre}{jwt}{post}"));
            assert!(!m.contains("c2lnbmF0dXJlLXNlY3JldA"), "{m}");
        }
        // Prose and challenges stay.
        for s in [
            "/help?q=Basic%20authentication&x=1",
            "401 · Bearer+authorization_uri · diag 2000001",
            "/t?x=Negotiate%20client_request_id",
            "/t?q=cookie%3A%20policy",
            "/t?q=Cookie%3Apolicy",
        ] {
            keep(s);
        }
    }

    /// A form_post page quoted inside JSON (a HAR body, an API answer embedding HTML) or
    /// HTML-escaped (a page showing another page's source): the hidden inputs are found with
    /// their quotes in any escape, in any attribute order.
    #[test]
    fn hidden_inputs_inside_json_or_escaped_html() {
        let cases = [
            (
                r#"{"html":"<input type=\"hidden\" name=\"code\" value=\"0.AXoAq1w\/2e3\" \/>"}"#,
                r#"{"html":"<input type=\"hidden\" name=\"code\" value=\"<redacted>\" \/>"}"#,
                r#"{"html":"<input type=\"hidden\" name=\"code\" value=\"REDACTEDREDACT\" \/>"}"#,
            ),
            (
                r#"{"h":"\u003cinput type=\u0022hidden\u0022 name=\u0022id_token\u0022 value=\u0022abc.def\u0022 /\u003e"}"#,
                r#"{"h":"\u003cinput type=\u0022hidden\u0022 name=\u0022id_token\u0022 value=\u0022<redacted>\u0022 /\u003e"}"#,
                r#"{"h":"\u003cinput type=\u0022hidden\u0022 name=\u0022id_token\u0022 value=\u0022REDACTE\u0022 /\u003e"}"#,
            ),
            (
                r#"<pre>&lt;input type=&quot;hidden&quot; name=&quot;SAMLResponse&quot; value=&quot;PHNhbWw+&quot;/&gt;</pre>"#,
                r#"<pre>&lt;input type=&quot;hidden&quot; name=&quot;SAMLResponse&quot; value=&quot;<redacted>&quot;/&gt;</pre>"#,
                r#"<pre>&lt;input type=&quot;hidden&quot; name=&quot;SAMLResponse&quot; value=&quot;REDACTED&quot;/&gt;</pre>"#,
            ),
            (
                r#"&lt;input value=&#34;t0k3n&#34; name=&#34;access_token&#34;&gt;"#,
                r#"&lt;input value=&#34;<redacted>&#34; name=&#34;access_token&#34;&gt;"#,
                r#"&lt;input value=&#34;REDAC&#34; name=&#34;access_token&#34;&gt;"#,
            ),
            (
                r#"{"h":"\u003CINPUT TYPE=\u0027hidden\u0027 NAME=\u0027wresult\u0027 VALUE=\u0027x1y2\u0027\u003E"}"#,
                r#"{"h":"\u003CINPUT TYPE=\u0027hidden\u0027 NAME=\u0027wresult\u0027 VALUE=\u0027<redacted>\u0027\u003E"}"#,
                r#"{"h":"\u003CINPUT TYPE=\u0027hidden\u0027 NAME=\u0027wresult\u0027 VALUE=\u0027REDA\u0027\u003E"}"#,
            ),
        ];
        for (input, mark, placeholder) in cases {
            check(input, mark, placeholder);
        }
        // Not secrets: `state`, `client_info` (ids), an error code, and a quote of another
        // kind inside a value does not end it.
        for s in [
            r#"{"h":"<input type=\"hidden\" name=\"state\" value=\"OpenIdConnect.AuthenticationProperties=abc\">"}"#,
            r#"&lt;input type=&quot;hidden&quot; name=&quot;client_info&quot; value=&quot;eyJ1aWQiOiIx&quot;&gt;"#,
            r#"<input type="hidden" name="code" value="500011">"#,
            r#"<input type="text" name="login" value="it's \"me\"">"#,
        ] {
            keep(s);
        }
    }

    #[test]
    fn credentials_followed_by_a_quote() {
        check(
            r#"{"headers":{"Authorization":"Bearer abc","x":1}}"#,
            r#"{"headers":{"Authorization":"Bearer <redacted>","x":1}}"#,
            r#"{"headers":{"Authorization":"Bearer RED","x":1}}"#,
        );
        let user = STANDARD.encode("user:password");
        let kept = STANDARD.encode("user:XXXXXXXX");
        check(
            &format!(r#""authorization": "Basic {user}""#),
            r#""authorization": "Basic <redacted>""#,
            &format!(r#""authorization": "Basic {kept}""#),
        );
        check(
            "h = 'Bearer abc'; g = \"Negotiate YIIGhgYGKwYB\"",
            "h = 'Bearer <redacted>'; g = \"Negotiate <redacted>\"",
            "h = 'Bearer RED'; g = \"Negotiate REDACTEDREDA\"",
        );
        for s in [
            r#"WWW-Authenticate: Bearer realm="", error="invalid_token""#,
            r#"www-authenticate: Basic realm="Contoso""#,
        ] {
            keep(s);
        }
    }

    #[test]
    fn nameless_and_joined_cookies() {
        check(
            "Cookie: abc123\r\nCookie: a=1; =value2\r\nCookie2: sid=x1\r\nSet-Cookie2: sid=x2; Version=1\r\n",
            "Cookie: <redacted>\r\nCookie: a=<redacted>; =<redacted>\r\nCookie2: sid=<redacted>\r\nSet-Cookie2: sid=<redacted>; Version=1\r\n",
            "Cookie: REDACT\r\nCookie: a=R; =REDACT\r\nCookie2: sid=RE\r\nSet-Cookie2: sid=RE; Version=1\r\n",
        );
        // DevTools' HAR form: several cookies in one value, joined by `\n` (escaped in JSON).
        check(
            r#"{"name":"set-cookie","value":"ESTSAUTH=a1; path=/\nESTSAUTHPERSISTENT=b2; path=/"}"#,
            r#"{"name":"set-cookie","value":"ESTSAUTH=<redacted>; path=/\nESTSAUTHPERSISTENT=<redacted>; path=/"}"#,
            r#"{"name":"set-cookie","value":"ESTSAUTH=RE; path=/\nESTSAUTHPERSISTENT=RE; path=/"}"#,
        );
        check(
            r#"[{"name":"Authorization","value":"Bearer abc"},{"name":"refreshToken","value":"rt1"},{"name":"x","value":"y"}]"#,
            r#"[{"name":"Authorization","value":"Bearer <redacted>"},{"name":"refreshToken","value":"<redacted>"},{"name":"x","value":"y"}]"#,
            r#"[{"name":"Authorization","value":"Bearer RED"},{"name":"refreshToken","value":"RED"},{"name":"x","value":"y"}]"#,
        );
        let mut c = Counts::default();
        assert_eq!(
            scrub_header(
                "Set-Cookie",
                "ESTSAUTH=a1; path=/\nESTSAUTHPERSISTENT=b2; path=/",
                &mut c
            )
            .as_deref(),
            Some("ESTSAUTH=RE; path=/\nESTSAUTHPERSISTENT=RE; path=/")
        );
        assert_eq!(c.get(Kind::Cookie), 2);
    }

    #[test]
    fn folded_headers() {
        check(
            "Authorization: Negotiate\r\n YIIGhgYGKwYBBQUCoIIGejCC\r\n\tBgkqhkiC9xIBAgIG\r\nHost: x\r\n",
            "Authorization: Negotiate\r\n <redacted>\r\nHost: x\r\n",
            "Authorization: Negotiate\r\n REDACTEDREDACTEDREDACTEDREDACTEDREDACTEDRED\r\nHost: x\r\n",
        );
        check(
            "Cookie: a=1;\r\n b=secret2\r\nHost: x\r\n",
            "Cookie: a=<redacted>;\r\n b=<redacted>\r\nHost: x\r\n",
            "Cookie: a=R;\r\n b=REDACTE\r\nHost: x\r\n",
        );
        // A report's indented line after a complete header is not a continuation.
        check(
            "Authorization: Bearer abc123def456\n  next item",
            "Authorization: Bearer <redacted>\n  next item",
            "Authorization: Bearer REDACTEDREDA\n  next item",
        );
    }

    /// The cheap look before three passes matches its literal as case-blind as the pass's
    /// regex does: a spelling no tool writes must not carry a secret past the pass.
    #[test]
    fn pass_markers_are_as_case_blind_as_their_passes() {
        check(
            r#"{"NaMe":"set-cookie","value":"ESTSAUTH=a1; path=/\nESTSAUTHPERSISTENT=b2; path=/"}"#,
            r#"{"NaMe":"set-cookie","value":"ESTSAUTH=<redacted>; path=/\nESTSAUTHPERSISTENT=<redacted>; path=/"}"#,
            r#"{"NaMe":"set-cookie","value":"ESTSAUTH=RE; path=/\nESTSAUTHPERSISTENT=RE; path=/"}"#,
        );
        let body = "--b1\r\nContent-Disposition: FoRm-DaTa; name=\"password\"\r\n\r\nP@ss w0rd!\r\n--b1--\r\n";
        check(
            body,
            &body.replace("P@ss w0rd!", "<redacted>"),
            &body.replace("P@ss w0rd!", "REDACTEDRE"),
        );
        check(
            r#"<sessionFLAG N="x-AutoAuth" V="CONTOSO\alice:P@ssw0rd!" />"#,
            r#"<sessionFLAG N="x-AutoAuth" V="CONTOSO\alice:<redacted>" />"#,
            r#"<sessionFLAG N="x-AutoAuth" V="CONTOSO\alice:REDACTEDR" />"#,
        );
    }

    #[test]
    fn a_form_encoded_credential_needs_no_percent_sign() {
        check(
            "authorization=Bearer+s3cr3tT0ken99&x=1",
            "authorization=Bearer+<redacted>&x=1",
            "authorization=Bearer+REDACTEDREDAC&x=1",
        );
    }

    #[test]
    fn session_flags_and_unknown_headers() {
        check(
            r#"<SessionFlag N="x-AutoAuth" V="CONTOSO\alice:P@ssw0rd!" />"#,
            r#"<SessionFlag N="x-AutoAuth" V="CONTOSO\alice:<redacted>" />"#,
            r#"<SessionFlag N="x-AutoAuth" V="CONTOSO\alice:REDACTEDR" />"#,
        );
        check(
            "X-Api-Key: k-1234567890\r\nX-Custom: v1 aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF\r\n",
            "X-Api-Key: <redacted>\r\nX-Custom: v1 <redacted>\r\n",
            "X-Api-Key: REDACTEDREDA\r\nX-Custom: v1 REDACTEDREDACTEDREDACTEDREDACTED\r\n",
        );
        check(
            r#"<SessionFlag N="x-custom" V="aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF" />"#,
            r#"<SessionFlag N="x-custom" V="<redacted>" />"#,
            r#"<SessionFlag N="x-custom" V="REDACTEDREDACTEDREDACTEDREDACTED" />"#,
        );
    }

    #[test]
    fn ids_and_evidence_in_headers_stay() {
        for s in [
            "client-request-id: 4b8e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
            "X-MS-Diagnostics: 2000001;reason=\"The token is expired\";error_category=\"invalid_token\"",
            "Date: Thu, 03 Dec 2026 21:17:19 GMT",
            "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
            "x-ms-ests-server: 2.1.14571.6 - EUS ProdSlices",
            "X-Unknown-Id: 7f9c2ba4e88f827d616045507605853e",
            "X-Upper-Id: 7F9C2BA4E88F827D616045507605853E7F9C2BA4",
            "X-Trace: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "X-Guid: {6F9619FF-8B86-D011-B42D-00CF4FC964FF}",
            "X-Host: outlook.office365.com",
            "X-Url: https://outlook.office365.com/EWS/Exchange.asmx/AutodiscoverServiceVersion2019",
            "X-Name: MicrosoftExchangeServerVersion2019Preview",
            "X-Path: /owa/service.svc/GetFileAttachment/AttachmentId2019/Microsoft",
            "WWW-Authenticate: Negotiate, NTLM, Bearer authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\"",
            r#"<SessionFlag N="x-clientip" V="127.0.0.1" />"#,
            r#"<SessionFlag N="x-ProcessInfo" V="outlook:1234" />"#,
            r#"<SessionFlag N="x-AutoAuth" V="(default)" />"#,
            "Verdict: the server refused the token",
            "X-Session-Id: 0a1b2c3d4e5f",
            "X-Token-Type: Bearer",
            "X-Key-Count: 12345678",
            r#"<SessionFlag N="https-client-sessionid" V="3F0C1A2B3C4D5E6F" />"#,
        ] {
            keep(s);
        }
    }

    /// A header named for a credential loses its value whatever its length; one named for
    /// an id of one keeps it (above).
    #[test]
    fn headers_named_for_a_credential() {
        check(
            "X-OWA-SessionKey: ADV014xkq3Jz9\r\nX-Api-Token: abcdefgh12\r\n",
            "X-OWA-SessionKey: <redacted>\r\nX-Api-Token: <redacted>\r\n",
            "X-OWA-SessionKey: REDACTEDREDAC\r\nX-Api-Token: REDACTEDRE\r\n",
        );
    }

    #[test]
    fn xml_tokens_and_activation_codes() {
        check(
            r#"<wsse:BinarySecurityToken ValueType="http://docs.oasis-open.org/wss/oasis-wss-kerberos-token-profile-1.1#GSS_Kerberosv5_AP_REQ" EncodingType="x#Base64Binary">YIIGhgYGKwYBBQUCoIIGejCCBnag</wsse:BinarySecurityToken>"#,
            r#"<wsse:BinarySecurityToken ValueType="http://docs.oasis-open.org/wss/oasis-wss-kerberos-token-profile-1.1#GSS_Kerberosv5_AP_REQ" EncodingType="x#Base64Binary"><redacted></wsse:BinarySecurityToken>"#,
            r#"<wsse:BinarySecurityToken ValueType="http://docs.oasis-open.org/wss/oasis-wss-kerberos-token-profile-1.1#GSS_Kerberosv5_AP_REQ" EncodingType="x#Base64Binary">REDACTEDREDACTEDREDACTEDREDA</wsse:BinarySecurityToken>"#,
        );
        check(
            r#"<ActivationCode>123456789012</ActivationCode> <Token activationCode="223456789012"/> {"activationCode":"323456789012"} ?activationCode=423456789012&x=1"#,
            r#"<ActivationCode><redacted></ActivationCode> <Token activationCode="<redacted>"/> {"activationCode":"<redacted>"} ?activationCode=<redacted>&x=1"#,
            r#"<ActivationCode>REDACTEDREDA</ActivationCode> <Token activationCode="REDACTEDREDA"/> {"activationCode":"REDACTEDREDA"} ?activationCode=REDACTEDREDA&x=1"#,
        );
    }

    /// `text` base64-encoded in lines of 76 characters, CRLF between them.
    fn wrapped(text: &str) -> String {
        let enc = STANDARD.encode(text);
        enc.as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    #[test]
    fn base64_element_text_is_decoded_and_scanned() {
        let mime = "Subject: your token\r\nContent-Type: text/html\r\n\r\n<a href=\"com.rsa.securid://ctf?ctfData=AAAA1111BBBB2222CCCC\">import</a>\r\n";
        let el = |s: &str| {
            format!(
                "<t:MimeContent CharacterSet=\"UTF-8\">{}</t:MimeContent>",
                wrapped(s)
            )
        };
        check(
            &el(mime),
            &el(&mime.replace("AAAA1111BBBB2222CCCC", "<redacted>")),
            &el(&mime.replace("AAAA1111BBBB2222CCCC", "REDACTEDREDACTEDREDA")),
        );
        // A token response, base64 in some element.
        let json = r#"{"token_type":"Bearer","access_token":"at-SECRET-123","expires_in":3599}"#;
        let el = |s: &str| format!("<Data>{}</Data>", STANDARD.encode(s));
        check(
            &el(json),
            &el(&json.replace("at-SECRET-123", "<redacted>")),
            &el(&json.replace("at-SECRET-123", "REDACTEDREDAC")),
        );
        // In a JSON string, and as a parameter (percent-encoded or not).
        let b = |s: &str| STANDARD.encode(s);
        let pct = |s: &str| {
            b(s).replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        };
        let json2 = r#"{"refresh_token":"rt-SECRET-456?","x":"??>"}"#;
        let marked = json2.replace("rt-SECRET-456?", "<redacted>");
        let placed = json2.replace("rt-SECRET-456?", "REDACTEDREDACT");
        check(
            &format!(r#"{{"blob":"{}"}} state={}&x=1"#, b(json2), pct(json2)),
            &format!(r#"{{"blob":"{}"}} state={}&x=1"#, b(&marked), pct(&marked)),
            &format!(r#"{{"blob":"{}"}} state={}&x=1"#, b(&placed), pct(&placed)),
        );
        // Base64 of binary, or of text without secrets, stays as it is.
        keep(&format!(
            "<Data>{}</Data>",
            STANDARD.encode([0u8, 159, 146, 150, 1, 2, 3, 250].repeat(8))
        ));
        keep(&format!(
            "<Data>{}</Data>",
            STANDARD.encode("just some text that is long enough to be looked at")
        ));
    }

    fn utf16(s: &str, le: bool) -> Vec<u8> {
        s.encode_utf16()
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    }

    #[test]
    fn utf16_and_non_utf8_bytes() {
        let mut c = Counts::default();
        let before = "\u{feff}grant_type=refresh_token&refresh_token=rt-SECRET-1&x=1";
        let after = "\u{feff}grant_type=refresh_token&refresh_token=REDACTEDRED&x=1";
        assert_eq!(
            scrub_bytes(&utf16(before, true), &mut c),
            Some(utf16(after, true))
        );
        // Big-endian without a BOM: found by its NULs.
        let (before, after) = (&before[3..], &after[3..]);
        assert_eq!(
            scrub_bytes(&utf16(before, false), &mut c),
            Some(utf16(after, false))
        );
        assert_eq!(c.get(Kind::RefreshToken), 2);
        assert_eq!(scrub_bytes(&utf16("nothing=here&x=1", true), &mut c), None);
        // An invalid byte inside a value does not leave its tail.
        assert_eq!(
            scrub_bytes(b"refresh_token=abc\xffdef&x=\xfe1", &mut c).as_deref(),
            Some(&b"refresh_token=REDACTE&x=\xfe1"[..])
        );
        assert_eq!(scrub_bytes(b"refresh_token=REDACTE&x=\xfe1", &mut c), None);
    }

    /// Cut and odd inputs: no panic, and a second run changes nothing.
    #[test]
    fn cut_inputs_are_safe() {
        for s in [
            "\\u00",
            "%",
            "%é%aé\\u12é",
            "Authorization:",
            "Authorization: Bearer\r\n",
            "Cookie:\r\n \r\n",
            "Cookie: ;;=;",
            r#"<SessionFlag N="x-AutoAuth" V=":" />"#,
            "eyJhbGciOiJkaXIifQ.....",
            "Content-Disposition: form-data; name=\"password\"\r\n\r\nP@ss",
            "https://:@host https://a:@host %3A%2F%2F%3A%40",
            "refresh\\u005ftoken=x",
            "<Data>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA====</Data>",
            "state=QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB%3",
            "X-Foo: é\u{1F600}aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF",
        ] {
            for style in [Style::Mark, Style::Placeholder] {
                let (once, _) = run(style, s);
                assert_eq!(run(style, &once).0, once, "{s:?}");
            }
            let mut c = Counts::default();
            let _ = scrub_bytes(s.as_bytes(), &mut c);
        }
        let mut c = Counts::default();
        for bytes in [
            &b"\xff\xfe"[..],
            b"\xfe\xff\x00",
            b"\x00a\x00b\x00c\x00d\x00",
            b"\xff\xfe\xff",
            b"a\x00b\x00c\x00d\x00\xff",
        ] {
            let _ = scrub_bytes(bytes, &mut c);
        }
    }
}
