//! JWT claim decoding. Returns the claims only: never the signature, never the raw token.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde::Serialize;
use serde_json::Value;

use super::target::Target;
use super::Event;
use crate::capture::Session;

/// The claims of a JWT, as the analyst needs them. The full claim set is in `all`.
///
/// An empty `all` means the token's claims could not be read (an encrypted JWE, an opaque
/// MSA token): the token was seen, its content was not.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Claims {
    pub aud: Option<String>,
    pub iss: Option<String>,
    pub tid: Option<String>,
    /// `appid` (v1 tokens), else `azp` (v2).
    pub appid: Option<String>,
    /// `upn`, else `unique_name`, else `preferred_username`.
    pub upn: Option<String>,
    pub exp: Option<i64>,
    /// `nbf`: not valid before (Unix seconds).
    pub nbf: Option<i64>,
    pub scp: Option<String>,
    /// Every claim of the payload (never the signature). Claims that are themselves secrets
    /// (`refresh_token`, `password`, `code`, ... as a WAM `request=` JWT carries them) are
    /// replaced by `"<redacted>"`.
    pub all: serde_json::Map<String, serde_json::Value>,
}

/// Claim names whose values are credentials. Their values never leave `decode_claims`.
const SECRET_CLAIMS: &[&str] = &[
    "refresh_token",
    "access_token",
    "id_token",
    "code",
    "password",
    "client_secret",
    "assertion",
    "client_assertion",
    "session_key",
    "session_key_jwe",
    "prt",
];

pub(crate) const REDACTED: &str = "<redacted>";

/// base64url, padding optional, trailing bits tolerated. Standard base64 is mapped onto it.
const LENIENT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

fn decode_b64(segment: &str) -> Option<Vec<u8>> {
    let normalised: String = segment
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    LENIENT_URL_SAFE.decode(normalised).ok()
}

/// Decode the payload of a compact JWT (`header.payload.signature`).
///
/// Only the payload is decoded; the signature is never looked at. Errors say what is wrong
/// in fixed words and never quote the token.
pub fn decode_claims(token: &str) -> Result<Claims, String> {
    let token = token.trim();
    let parts = token.split('.').count();
    match parts {
        3 => {}
        5 => return Err("encrypted token (JWE, 5 parts): its claims cannot be read".into()),
        n => return Err(format!("not a compact JWT ({n} part(s), 3 expected)")),
    }
    let payload = token.split('.').nth(1).unwrap_or("");
    if payload.is_empty() {
        return Err("JWT payload is empty".into());
    }
    let bytes = decode_b64(payload).ok_or_else(|| "JWT payload is not base64url".to_string())?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|_| "JWT payload is not JSON".to_string())?;
    match value {
        Value::Object(map) => Ok(claims_of(map)),
        _ => Err("JWT payload is not a JSON object".into()),
    }
}

fn claims_of(mut all: serde_json::Map<String, Value>) -> Claims {
    for (key, value) in all.iter_mut() {
        if SECRET_CLAIMS.iter().any(|s| key.eq_ignore_ascii_case(s)) {
            *value = Value::String(REDACTED.into());
        }
    }
    let string = |k: &str| match all.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let aud = match all.get("aud") {
        Some(Value::Array(items)) => {
            let list: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            (!list.is_empty()).then(|| list.join(" "))
        }
        _ => string("aud"),
    };
    let seconds = |k: &str| match all.get(k) {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let exp = seconds("exp");
    let nbf = seconds("nbf");
    Claims {
        aud,
        iss: string("iss"),
        tid: string("tid"),
        appid: string("appid").or_else(|| string("azp")),
        upn: string("upn")
            .or_else(|| string("unique_name"))
            .or_else(|| string("preferred_username")),
        exp,
        nbf,
        scp: string("scp"),
        all,
    }
}

/// The token of an `Authorization: Bearer <token>` value.
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let value = value.trim();
    let (scheme, rest) = value.split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim();
    (!token.is_empty()).then_some(token)
}

/// The Bearer token a request presented to a non-login host, by its claims.
///
/// A token whose claims cannot be read (encrypted, opaque) still yields the event, with empty
/// claims: that a Bearer was presented is evidence.
pub fn presented_bearer(session: &Session) -> Option<Event> {
    presented_bearer_at(&Target::of(session))
}

/// [`presented_bearer`] of a session whose URL and host are read.
pub fn presented_bearer_at(target: &Target) -> Option<Event> {
    if target.host().is_none() || target.is_authority() {
        return None;
    }
    let session = target.session;
    let token = session
        .request
        .headers
        .get_all("authorization")
        .find_map(bearer_token)?;
    let claims = decode_claims(token).unwrap_or_default();
    Some(Event::BearerPresented {
        session: session.id,
        url: session.request.url.clone(),
        claims: Box::new(claims),
        server_date: session
            .response
            .as_ref()
            .and_then(|r| r.headers.get("date"))
            .and_then(http_date),
    })
}

/// An HTTP `Date` value (`Fri, 04 Dec 2026 01:25:39 GMT`, RFC 7231's IMF-fixdate, which
/// RFC 2822 parsing accepts) in Unix seconds.
pub fn http_date(value: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|d| d.timestamp())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::capture::{Headers, Request};
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};

    /// A compact JWT with `payload` as its claims and a fake signature.
    pub(crate) fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJlLXNlY3JldA",
            URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    const OUTLOOK_AT: &str = r#"{"aud":"https://autodiscover.contoso.com","iss":"https://sts.windows.net/8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f/","tid":"8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f","appid":"d3590ed6-52b3-4102-aeff-aad2292ab01c","upn":"user@contoso.com","unique_name":"other@contoso.com","exp":1795000000,"scp":"EWS.AccessAsUser.All","ver":"1.0"}"#;

    #[test]
    fn decodes_the_claims_an_analyst_needs() {
        let c = decode_claims(&jwt(OUTLOOK_AT)).expect("valid");
        assert_eq!(c.aud.as_deref(), Some("https://autodiscover.contoso.com"));
        assert_eq!(
            c.iss.as_deref(),
            Some("https://sts.windows.net/8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f/")
        );
        assert_eq!(
            c.tid.as_deref(),
            Some("8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f")
        );
        assert_eq!(
            c.appid.as_deref(),
            Some("d3590ed6-52b3-4102-aeff-aad2292ab01c")
        );
        assert_eq!(c.upn.as_deref(), Some("user@contoso.com"));
        assert_eq!(c.exp, Some(1_795_000_000));
        assert_eq!(c.scp.as_deref(), Some("EWS.AccessAsUser.All"));
        assert_eq!(c.all.len(), 9);
        assert!(!format!("{c:?}").contains("c2lnbmF0dXJl"));
    }

    #[test]
    fn fallbacks_v2_claims_and_arrays() {
        let c = decode_claims(&jwt(
            r#"{"aud":["a","b"],"azp":"27922004-5251-4030-b22d-91ecd9a37ea4","preferred_username":"u@contoso.com","exp":"1700000000"}"#,
        ))
        .expect("valid");
        assert_eq!(c.aud.as_deref(), Some("a b"));
        assert_eq!(
            c.appid.as_deref(),
            Some("27922004-5251-4030-b22d-91ecd9a37ea4")
        );
        assert_eq!(c.upn.as_deref(), Some("u@contoso.com"));
        assert_eq!(c.exp, Some(1_700_000_000));
        let c = decode_claims(&jwt(r#"{"unique_name":"legacy@contoso.com","exp":17.9}"#))
            .expect("valid");
        assert_eq!(c.upn.as_deref(), Some("legacy@contoso.com"));
        assert_eq!(c.exp, Some(17));
    }

    #[test]
    fn padding_and_standard_base64_are_tolerated() {
        // A payload whose encoding needs padding and holds `+`/`/` in standard base64.
        let payload = r#"{"aud":"https://x/?>>>","n":"~~~"}"#;
        let header = URL_SAFE_NO_PAD.encode("{}");
        for encoded in [
            URL_SAFE.encode(payload),
            URL_SAFE_NO_PAD.encode(payload),
            STANDARD.encode(payload),
        ] {
            let token = format!("{header}.{encoded}.sig");
            let c = decode_claims(&token).expect("decodes");
            assert_eq!(c.aud.as_deref(), Some("https://x/?>>>"), "{encoded}");
        }
        // An unsecured JWT (empty signature) still has readable claims.
        let unsecured = format!("{header}.{}.", URL_SAFE_NO_PAD.encode(r#"{"tid":"t"}"#));
        assert_eq!(
            decode_claims(&unsecured).map(|c| c.tid),
            Ok(Some("t".into()))
        );
    }

    #[test]
    fn errors_never_quote_the_token() {
        let secret = "SECRETSECRET";
        let cases = [
            format!("eyJ0eXAiOiJKV1QifQ.{secret}!!.sig"),
            format!(
                "eyJ0eXAiOiJKV1QifQ.{}.sig",
                URL_SAFE_NO_PAD.encode(format!("\"{secret}\""))
            ),
            format!(
                "eyJ0eXAiOiJKV1QifQ.{}.sig",
                URL_SAFE_NO_PAD.encode(format!("{{{secret}"))
            ),
            format!("a.b.c.d.{secret}"),
            format!("EwAoA8l6BAAU{secret}"),
            format!("a..{secret}"),
        ];
        for token in &cases {
            let err = decode_claims(token).expect_err("must fail");
            assert!(!err.contains(secret), "{err}");
            assert!(!err.contains("eyJ0"), "{err}");
        }
        assert!(decode_claims(&cases[3]).is_err_and(|e| e.contains("JWE")));
        assert_eq!(
            decode_claims(&cases[1]),
            Err("JWT payload is not a JSON object".into())
        );
        assert_eq!(
            decode_claims(&cases[0]),
            Err("JWT payload is not base64url".into())
        );
    }

    #[test]
    fn secret_claims_are_redacted() {
        let c = decode_claims(&jwt(
            r#"{"resource":"https://autodiscover.contoso.com","refresh_token":"0.ARoA-very-secret","grant_type":"refresh_token","Password":"p"}"#,
        ))
        .expect("valid");
        assert_eq!(
            c.all.get("refresh_token"),
            Some(&Value::String(REDACTED.into()))
        );
        assert_eq!(c.all.get("Password"), Some(&Value::String(REDACTED.into())));
        assert_eq!(
            c.all.get("grant_type"),
            Some(&Value::String("refresh_token".into()))
        );
        assert!(!format!("{c:?}").contains("very-secret"));
    }

    fn request_to(url: &str, authorization: Option<&str>) -> Session {
        let mut headers = Headers::new();
        if let Some(a) = authorization {
            headers.push("Authorization", a);
        }
        Session {
            id: 30,
            request: Request {
                method: "POST".into(),
                url: url.into(),
                headers,
                ..Request::default()
            },
            ..Session::default()
        }
    }

    #[test]
    fn presented_bearer_keeps_claims_only() {
        let token = jwt(OUTLOOK_AT);
        let s = request_to(
            "https://autodiscover.contoso.com/autodiscover/autodiscover.svc",
            Some(&format!("Bearer {token}")),
        );
        match presented_bearer(&s) {
            Some(Event::BearerPresented {
                session,
                url,
                claims,
                ..
            }) => {
                assert_eq!(session, 30);
                assert_eq!(
                    url,
                    "https://autodiscover.contoso.com/autodiscover/autodiscover.svc"
                );
                assert_eq!(
                    claims.aud.as_deref(),
                    Some("https://autodiscover.contoso.com")
                );
                let json = serde_json::to_string(&claims).unwrap_or_default();
                assert!(!json.contains(&token));
                assert!(!json.contains("c2lnbmF0dXJl"));
            }
            other => panic!("expected BearerPresented, got {other:?}"),
        }
    }

    #[test]
    fn presented_bearer_edge_cases() {
        // Opaque MSA token and a 5-part JWE: the event, with empty claims.
        for opaque in ["EwAoA8l6BAAUbDba3x2OMJElkF7gJ4z/VbCPEz0AAQ==", "a.b.c.d.e"] {
            let s = request_to(
                "https://outlook.office365.com/ews",
                Some(&format!("Bearer {opaque}")),
            );
            match presented_bearer(&s) {
                Some(Event::BearerPresented { claims, .. }) => {
                    assert_eq!(*claims, Claims::default())
                }
                other => panic!("expected empty claims, got {other:?}"),
            }
        }
        assert!(presented_bearer(&request_to("https://mail.contoso.com/ews", None)).is_none());
        assert!(presented_bearer(&request_to(
            "https://mail.contoso.com/ews",
            Some("Basic dTpw")
        ))
        .is_none());
        assert!(presented_bearer(&request_to(
            "https://mail.contoso.com/ews",
            Some("Bearer   ")
        ))
        .is_none());
        let login = request_to(
            "https://login.microsoftonline.com/common/oauth2/token",
            Some(&format!("Bearer {}", jwt(OUTLOOK_AT))),
        );
        assert!(presented_bearer(&login).is_none());
        assert_eq!(bearer_token("bearer\tabc "), Some("abc"));
    }

    #[test]
    fn server_dates_are_read_in_gmt() {
        assert_eq!(
            http_date("Fri, 20 Nov 2026 07:00:00 GMT"),
            Some(1_795_158_000)
        );
        assert_eq!(
            http_date(" Fri, 20 Nov 2026 08:00:00 +0100 "),
            Some(1_795_158_000)
        );
        assert_eq!(http_date("yesterday"), None);
        assert_eq!(http_date(""), None);
        let mut s = request_to(
            "https://mail.contoso.com/ews",
            Some(&format!("Bearer {}", jwt(OUTLOOK_AT))),
        );
        s.response = Some(crate::capture::Response::default());
        if let Some(r) = s.response.as_mut() {
            r.headers.push("Date", "Fri, 20 Nov 2026 07:00:00 GMT");
        }
        match presented_bearer(&s) {
            Some(Event::BearerPresented {
                server_date,
                claims,
                ..
            }) => {
                assert_eq!(server_date, Some(1_795_158_000));
                assert_eq!(claims.nbf, None);
            }
            other => panic!("{other:?}"),
        }
    }

    proptest::proptest! {
        #[test]
        fn http_date_never_panics(t in ".{0,80}") {
            let _ = http_date(&t);
        }

        #[test]
        fn decode_never_panics(t in ".{0,300}") {
            let _ = decode_claims(&t);
        }

        #[test]
        fn decode_never_panics_on_jwt_shapes(
            h in "[A-Za-z0-9_=+/-]{0,40}",
            p in "[A-Za-z0-9_=+/-]{0,80}",
            s in "[A-Za-z0-9_=+/-]{0,40}",
        ) {
            let token = format!("{h}.{p}.{s}");
            if let Err(e) = decode_claims(&token) {
                if p.len() >= 6 {
                    proptest::prop_assert!(!e.contains(&p));
                }
            }
        }

        #[test]
        fn decode_never_panics_on_any_payload_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let token = format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(&bytes));
            let _ = decode_claims(&token);
        }
    }
}
