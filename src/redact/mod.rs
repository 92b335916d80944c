//! The one redaction layer. Everything traceadal prints — every report format, every log line,
//! every error message — passes through [`Redactor::text`] on its way out (see
//! `cli::output`), so a renderer cannot forget it. `--show-secrets` is the only way around it.
//!
//! Redaction keeps the evidence an analyst needs (the scheme of an `Authorization` header, the
//! names of cookies, the claims of a JWT) and removes what would let a reader act as the user
//! (the token's signature, the code, the password).

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::{Captures, Regex};

/// What replaces a secret.
pub const MARK: &str = "<redacted>";

/// Parameter names whose values are credentials, in query strings, form bodies and JSON.
pub const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "client_secret",
    "client_assertion",
    "assertion",
    "password",
    "passwd",
    "pwd",
    "samlresponse",
    "wresult",
    "ctfdata",
    "request",
];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redactor {
    /// `--show-secrets`: pass everything through.
    pub show_secrets: bool,
}

struct Patterns {
    jwt: Regex,
    auth: Regex,
    kv: Regex,
    json: Regex,
    cookie: Regex,
}

// The patterns are literals (plus `SECRET_KEYS`, fixed words): they compile or every test
// fails, so these `expect`s cannot fire on capture data.
#[allow(clippy::expect_used)]
fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let keys = SECRET_KEYS.join("|");
        Patterns {
            // header.payload.signature; the signature is what makes it a credential.
            jwt: Regex::new(r"(eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,})\.([A-Za-z0-9_-]{8,})")
                .expect("static regex"),
            auth: Regex::new(
                r"(?i)\b(Bearer|Basic|NTLM|Negotiate)([ \t]+)([A-Za-z0-9+/=._~-]{8,})",
            )
            .expect("static regex"),
            kv: Regex::new(&format!(r"(?i)\b({keys})(=)([^&\s'<>]+)")).expect("static regex"),
            json: Regex::new(&format!(r#"(?i)"({keys})"(\s*:\s*)"((?:[^"\\]|\\.)*)""#))
                .expect("static regex"),
            cookie: Regex::new(r"(?im)^((?:set-)?cookie)(:[ \t]*)([^\r\n]*)")
                .expect("static regex"),
        }
    })
}

impl Redactor {
    pub fn new(show_secrets: bool) -> Self {
        Redactor { show_secrets }
    }

    /// `text` with every secret replaced by [`MARK`].
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.show_secrets {
            return Cow::Borrowed(text);
        }
        let p = patterns();
        let mut out: Cow<str> = Cow::Borrowed(text);
        let cookie = p.cookie.replace_all(&out, |c: &Captures| {
            format!("{}{}{}", &c[1], &c[2], cookie_names(&c[1], &c[3]))
        });
        if let Cow::Owned(s) = cookie {
            out = Cow::Owned(s);
        }
        let haystack = out.clone();
        let auth = p.auth.replace_all(&haystack, |c: &Captures| {
            // `Bearer client_id="..."` is a challenge's parameter, not a credential.
            let end = c.get(0).map_or(0, |m| m.end());
            if haystack[end..].starts_with('"') {
                c[0].to_string()
            } else {
                format!("{}{}{MARK}", &c[1], &c[2])
            }
        });
        if let Cow::Owned(s) = auth {
            out = Cow::Owned(s);
        }
        let jwt = p
            .jwt
            .replace_all(&out, |c: &Captures| format!("{}.{MARK}", &c[1]));
        if let Cow::Owned(s) = jwt {
            out = Cow::Owned(s);
        }
        let kv = p.kv.replace_all(&out, |c: &Captures| {
            if keep_value(&c[1], &c[3]) {
                c[0].to_string()
            } else {
                format!("{}{}{MARK}", &c[1], &c[2])
            }
        });
        if let Cow::Owned(s) = kv {
            out = Cow::Owned(s);
        }
        let json = p.json.replace_all(&out, |c: &Captures| {
            if keep_value(&c[1], &c[3]) {
                c[0].to_string()
            } else {
                format!("\"{}\"{}\"{MARK}\"", &c[1], &c[2])
            }
        });
        if let Cow::Owned(s) = json {
            out = Cow::Owned(s);
        }
        out
    }
}

/// Values that are not secrets although their key usually is: an AADSTS number in
/// `error?code=500011`, an already-redacted value.
fn keep_value(key: &str, value: &str) -> bool {
    value == MARK
        || value.is_empty()
        || (key.eq_ignore_ascii_case("code")
            && value.len() < 12
            && value.bytes().all(|b| b.is_ascii_digit()))
}

/// `a=1; b=2` -> `a=<redacted>; b=<redacted>`; for `Set-Cookie`, only the first pair is the
/// cookie, the rest are attributes (`path`, `domain`) and stay.
fn cookie_names(header: &str, value: &str) -> String {
    let set_cookie = header.len() > "cookie".len();
    value
        .split(';')
        .enumerate()
        .map(|(i, part)| match part.split_once('=') {
            Some((name, _)) if !set_cookie || i == 0 => format!("{name}={MARK}"),
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
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
}
