//! The secret finders: one regex per shape a secret takes in text, each compiled once
//! (`OnceLock`), each run as one linear `replace_all` pass. The passes run in a fixed order
//! (header lines first, then the shapes that can occur anywhere) and every pass leaves what an
//! earlier one replaced alone, so nothing is counted twice.
//!
//! Every pattern is linear: the `regex` crate has no backtracking, and no pattern needs a
//! look-around; the few context checks (is this scheme followed by a challenge parameter? is
//! this value an AADSTS number?) are done in the replacement closures.

use std::borrow::Cow;
use std::sync::OnceLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use regex::{Captures, Regex};

use super::{Counts, Kind, Style, MARK};

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

/// XML elements whose text is a credential: an XML signature (SAML assertions, WS-Trust
/// tokens), a WS-Security password, a symmetric key.
const XML_SECRET_ELEMENTS: &str = "SignatureValue|Password|BinarySecret";

struct Patterns {
    header_auth: Regex,
    cookie: Regex,
    scheme: Regex,
    jwt: Regex,
    kv: Regex,
    kv_encoded: Regex,
    json: Regex,
    json_escaped: Regex,
    input: Regex,
    attr: Regex,
    xml: Regex,
    xml_escaped: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let keys = format!(
            r"(?:[A-Za-z0-9]+[_-])*(?:{})",
            SECRET_KEYS.join("|")
        );
        let compile = |re: &str| Regex::new(re).unwrap_or_else(|e| panic!("static regex: {e}"));
        Patterns {
            header_auth: compile(r"(?im)^((?:proxy-)?authorization)([ \t]*:[ \t]*)([^\r\n]*)"),
            cookie: compile(r"(?im)^((?:set-)?cookie2?)([ \t]*:[ \t]*)([^\r\n]*)"),
            // token68 (RFC 9110 11.2) after a scheme name.
            scheme: compile(
                r"(?i)(?-u:\b)(Bearer|Basic|NTLM|Negotiate|Kerberos|Digest)([ \t]+)([A-Za-z0-9._~+/-]+=*)",
            ),
            // header.payload.signature; the signature is what makes it a credential.
            jwt: compile(r"(?-u:\b)(eyJ[A-Za-z0-9_-]{4,})\.([A-Za-z0-9_-]{4,})\.([A-Za-z0-9_-]{8,})"),
            // `key=value` in a query string or form body; the value ends at `&`, white
            // space, a quote, markup, an escape or a fragment.
            kv: compile(&format!(r#"(?i)(?-u:\b)({keys})(=)([^&\s'"<>\\#]+)"#)),
            // The same inside a URL-encoded value (`redirect_uri=...%3Fcode%3D...%26...`):
            // the value ends at an encoded `&`.
            kv_encoded: compile(&format!(
                r#"(?i)(?:(?-u:\b)|%3F|%26|%253F|%2526)({keys})(%3D|%253D)((?:[^&%\s'"<>\\#]|%(?:[013-9A-Fa-f][0-9A-Fa-f]|2[0-57-9A-Fa-f]|25(?:[013-9A-Fa-f][0-9A-Fa-f]|2[0-57-9A-Fa-f])))+)"#
            )),
            json: compile(&format!(r#"(?i)"({keys})"(\s*:\s*)"((?:[^"\\]|\\.)*)""#)),
            // JSON inside a JSON string (a report's evidence quoting a body).
            json_escaped: compile(&format!(
                r#"(?i)\\"({keys})\\"(\s*:\s*)\\"((?:[^"\\]|\\[^"])*)\\""#
            )),
            // A whole `<input ...>` tag; quoted attribute values may hold `>`.
            input: compile(r#"(?i)<input(?-u:\b)(?:[^>"']|"[^"]*"|'[^']*')*>"#),
            attr: compile(r#"(?i)(?-u:\b)(name|value)(\s*=\s*)("[^"]*"|'[^']*')"#),
            xml: compile(&format!(
                r#"(?i)(<(?:[A-Za-z0-9_.-]+:)?(?:{XML_SECRET_ELEMENTS})(?:\s[^<>]*)?>)([^<]+)(<)"#
            )),
            xml_escaped: compile(&format!(
                r#"(?i)(&lt;(?:[A-Za-z0-9_.-]+:)?(?:{XML_SECRET_ELEMENTS})(?:\s[^<>&]*(?:&(?:quot|amp|apos|\#[0-9]+);[^<>&]*)*)?&gt;)([^<>&]+)(&lt;)"#
            )),
        }
    })
}

/// What a parameter name says the secret is.
pub fn kind_of_key(key: &str) -> Kind {
    let k = key.to_ascii_lowercase();
    let ends = |s: &str| k == s || k.ends_with(&format!("_{s}")) || k.ends_with(&format!("-{s}"));
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
    } else if k == "samlresponse" || k.ends_with("_samlresponse") {
        Kind::SamlResponse
    } else if ends("wresult") {
        Kind::Wresult
    } else if ends("ctfdata") {
        Kind::RsaCtfData
    } else {
        Kind::OtherToken
    }
}

/// Is `name` (a query, form or JSON key) one whose value is a credential?
pub fn is_secret_key(name: &str) -> bool {
    static KEY: OnceLock<Regex> = OnceLock::new();
    let re = KEY.get_or_init(|| {
        let keys = format!(r"(?i)^(?:[A-Za-z0-9]+[_-])*(?:{})$", SECRET_KEYS.join("|"));
        Regex::new(&keys).unwrap_or_else(|e| panic!("static regex: {e}"))
    });
    re.is_match(name)
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
    if value.is_empty() || is_replaced(value) {
        return true;
    }
    let k = key.to_ascii_lowercase();
    (k == "code" || k.ends_with("_code") || k.ends_with("-code"))
        && value.len() < 32
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// One redaction run over a text, with its style and tally.
pub struct Scrubber<'c> {
    pub style: Style,
    pub counts: &'c mut Counts,
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
        out = self.pass(out, Self::scheme);
        out = self.pass(out, Self::jwts);
        out = self.pass(out, Self::inputs);
        out = self.pass(out, Self::kv);
        out = self.pass(out, Self::kv_encoded);
        out = self.pass(out, Self::json);
        out = self.pass(out, Self::json_escaped);
        out = self.pass(out, Self::xml);
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
        re: &Regex,
        text: &str,
        mut f: impl FnMut(&mut Self, &Captures, &str) -> Option<String>,
    ) -> Option<String> {
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

    /// `Authorization: <scheme> <credentials>`: everything after the scheme.
    fn header_auth(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().header_auth, text, |s, c, _| {
            let value = &c[3];
            let (scheme, rest) = match value.split_once([' ', '\t']) {
                Some((a, b)) => (a, b),
                None => ("", value),
            };
            let gap = &value[scheme.len()..value.len() - rest.len()];
            let rest_trim = rest.trim_end();
            if rest_trim.is_empty() || is_replaced(rest_trim) {
                return None;
            }
            let new = s.credential(scheme, rest_trim)?;
            Some(format!(
                "{}{}{scheme}{gap}{new}{}",
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
                if let Some(j) = patterns().jwt.captures(value) {
                    if j.get(0).is_some_and(|m| m.len() == value.len()) && is_replaced(&j[3]) {
                        return None;
                    }
                }
                if let Some(jwt) = self.jwt_placeholder(value) {
                    self.counts.add(Kind::BearerToken);
                    return Some(jwt);
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
        let caps = patterns().jwt.captures(value)?;
        let m = caps.get(0)?;
        if m.start() != 0 || m.end() != value.len() {
            return None;
        }
        let payload = self.claims(&caps[2]);
        Some(format!(
            "{}.{}.{}",
            &caps[1],
            payload,
            placeholder(&caps[3])
        ))
    }

    /// A JWT payload with its secret claims (WAM's `request=` JWT carries a refresh token)
    /// replaced; as it was when it holds none or is not JSON.
    fn claims(&mut self, payload: &str) -> String {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')) else {
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
    /// the cookie and the rest are attributes (`path`, `domain`), which stay.
    fn cookies(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().cookie, text, |s, c, _| {
            let set_cookie = c[1].to_ascii_lowercase().starts_with("set-");
            let mut changed = false;
            let parts: Vec<String> = c[3]
                .split(';')
                .enumerate()
                .map(|(i, part)| match part.split_once('=') {
                    Some((name, value)) if !set_cookie || i == 0 => {
                        let v = value.trim();
                        if v.is_empty() || is_replaced(v) || v == "\"\"" {
                            return part.to_string();
                        }
                        changed = true;
                        let lead = &value[..value.len() - value.trim_start().len()];
                        let tail = &value[lead.len() + v.len()..];
                        format!("{name}={lead}{}{tail}", s.replace(Kind::Cookie, v))
                    }
                    _ => part.to_string(),
                })
                .collect();
            changed.then(|| format!("{}{}{}", &c[1], &c[2], parts.join(";")))
        })
    }

    /// `Bearer <token68>` anywhere (a quoted header, a log line). A scheme followed by an
    /// auth parameter (`Bearer client_id="..."`, `Bearer authorization_uri=https://...`) is
    /// a challenge and stays; so does prose (`Basic authentication`): a credential has a
    /// digit, an upper-case letter after the first or a base64 sign.
    fn scheme(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().scheme, text, |s, c, hay| {
            let end = c.get(0).map_or(0, |m| m.end());
            let next = hay[end..].chars().next();
            let token = &c[3];
            if next.is_some_and(|n| n.is_alphanumeric() || n == '"' || n == '=')
                || token.len() < 8
                || is_replaced(token)
                || !looks_like_credential(token)
            {
                return None;
            }
            let new = s.credential(&c[1], token)?;
            Some(format!("{}{}{new}", &c[1], &c[2]))
        })
    }

    /// Every JWT: the signature replaced, secret claims replaced, other claims kept.
    fn jwts(&mut self, text: &str) -> Option<String> {
        self.each(&patterns().jwt, text, |s, c, _| {
            let sig = &c[3];
            let payload = s.claims(&c[2]);
            if is_replaced(sig) && payload == c[2] {
                return None;
            }
            let sig = if is_replaced(sig) {
                sig.to_string()
            } else {
                s.replace(Kind::JwtSignature, sig)
            };
            Some(format!("{}.{payload}.{sig}", &c[1]))
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

    /// A match whose group 1 is the key and group 3 the value: the match with the value
    /// replaced. A JWT value keeps its claims in the placeholder style; a JWT whose
    /// signature the JWT pass already replaced is left alone.
    fn pair(&mut self, c: &Captures, hay: &str) -> Option<String> {
        let (whole, key, value) = (c.get(0)?, &c[1], c.get(3)?);
        if keep_value(key, value.as_str()) || hay[whole.end()..].starts_with(MARK) {
            return None;
        }
        if let Some(j) = patterns().jwt.captures(value.as_str()) {
            if j.get(0).is_some_and(|m| m.len() == value.len()) && is_replaced(&j[3]) {
                return None;
            }
        }
        let new = self.value(key, value.as_str());
        let text = whole.as_str();
        let (start, end) = (value.start() - whole.start(), value.end() - whole.start());
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
    /// that posts `wresult`).
    fn inputs(&mut self, text: &str) -> Option<String> {
        let p = patterns();
        self.each(&p.input, text, |s, c, _| {
            let tag = &c[0];
            let mut name = None;
            let mut value = None;
            for a in p.attr.captures_iter(tag) {
                let Some(m) = a.get(3) else { continue };
                let inner = (m.start() + 1, m.end() - 1);
                if a[1].eq_ignore_ascii_case("name") {
                    name = Some(tag[inner.0..inner.1].to_string());
                } else {
                    value = Some(inner);
                }
            }
            let (name, (start, end)) = (name?, value?);
            let v = &tag[start..end];
            if !is_secret_key(&name) || keep_value(&name, v) {
                return None;
            }
            let new = s.value(&name, v);
            Some(format!("{}{new}{}", &tag[..start], &tag[end..]))
        })
    }

    /// The text of `<ds:SignatureValue>`, `<o:Password>`, `<t:BinarySecret>`, raw or
    /// HTML-escaped.
    fn xml(&mut self, text: &str) -> Option<String> {
        let p = patterns();
        let mut out: Option<String> = None;
        for re in [&p.xml, &p.xml_escaped] {
            let cur = out.as_deref().unwrap_or(text);
            if let Some(new) = self.each(re, cur, |s, c, _| {
                let v = &c[2];
                if v.trim().is_empty() || is_replaced(v) {
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
