//! `WWW-Authenticate` challenges on 401 responses (and 403s that carry one).

use serde::Serialize;

use super::diagnostics::ExchangeDiagnostic;
use super::target::Target;
use crate::capture::url_parts::UrlParts;
use crate::capture::Session;

/// One scheme of a `WWW-Authenticate` header, with its parameters as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthScheme {
    /// The scheme name as sent (`Bearer`, `NTLM`, `Negotiate`, `Basic`).
    pub name: String,
    /// `key=value` parameters, keys lower-cased, values unquoted and unescaped.
    pub params: Vec<(String, String)>,
    /// A token68 blob (NTLM/Negotiate continuation). Kept only as its length: it is a secret.
    pub token68_len: Option<usize>,
}

impl AuthScheme {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// The parameters of Exchange's hybrid Bearer challenge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BearerChallenge {
    pub client_id: Option<String>,
    /// `<issuer-guid>@<tenant-guid>` pairs.
    pub trusted_issuers: Vec<String>,
    /// The tenant GUIDs after `@` in `trusted_issuers`, without duplicates (a `*` is not one).
    pub tenant_ids: Vec<String>,
    pub token_types: Option<String>,
    /// Present when hybrid modern auth is on: where the client must get its token.
    pub authorization_uri: Option<String>,
    pub error: Option<String>,
}

/// A 401 (or 403 with `WWW-Authenticate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Challenge {
    pub session: u64,
    pub url: String,
    /// Lower-cased host of `url`.
    pub host: String,
    pub status: u16,
    pub process: Option<String>,
    pub schemes: Vec<AuthScheme>,
    pub diagnostics: Option<ExchangeDiagnostic>,
}

impl Challenge {
    /// The Bearer scheme's parameters, when one was offered. With several Bearer schemes, the
    /// first one carrying `authorization_uri` wins, else the first one.
    pub fn bearer(&self) -> Option<BearerChallenge> {
        let bearer = self
            .schemes
            .iter()
            .filter(|s| s.is("Bearer"))
            .find(|s| s.param("authorization_uri").is_some())
            .or_else(|| self.schemes.iter().find(|s| s.is("Bearer")))?;
        Some(BearerChallenge::from_scheme(bearer))
    }

    /// The resource a client asks Entra for: scheme://host of the challenged URL, host
    /// lower-cased, no path, no default port (a non-default port is kept).
    pub fn resource(&self) -> String {
        resource_of(&self.url)
    }

    /// Whether a scheme called `name` was offered.
    pub fn offers(&self, name: &str) -> bool {
        self.schemes.iter().any(|s| s.is(name))
    }
}

impl BearerChallenge {
    /// The Bearer parameters of one parsed scheme.
    pub fn from_scheme(scheme: &AuthScheme) -> BearerChallenge {
        let trusted_issuers: Vec<String> = scheme
            .param("trusted_issuers")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let mut tenant_ids: Vec<String> = Vec::new();
        for issuer in &trusted_issuers {
            if let Some((_, tenant)) = issuer.rsplit_once('@') {
                let tenant = tenant.trim();
                // Exchange Online sends `...@*` (any tenant): no tenant id in that.
                if !tenant.is_empty() && tenant != "*" && !tenant_ids.iter().any(|t| t == tenant) {
                    tenant_ids.push(tenant.to_string());
                }
            }
        }
        let get = |k: &str| {
            scheme
                .param(k)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        BearerChallenge {
            client_id: get("client_id"),
            trusted_issuers,
            tenant_ids,
            token_types: get("token_types"),
            authorization_uri: get("authorization_uri"),
            error: get("error"),
        }
    }
}

/// Longest host[:port] handed to the `url` crate. No DNS name is longer than 253 bytes, and
/// the crate's IDNA step (UTS 46 mapping, punycode decoding of `xn--` labels, which inserts
/// every decoded character into the label) is the costliest part of a parse: a fuzzed
/// 1.6 KB `xn--` host spent 78% of its instructions there. Longer hosts are not names.
const MAX_URL_AUTHORITY: usize = 320;

/// scheme://host[:port] of `url`: host lower-cased, default port dropped, no path. A URL
/// without a scheme (`host:port`) is taken as `https`. A host longer than any DNS name is
/// only lower-cased.
pub fn resource_of(url: &str) -> String {
    let parts = UrlParts::split(url);
    let scheme = parts.scheme.unwrap_or("https");
    let authority = parts.host_port();
    if authority.len() <= MAX_URL_AUTHORITY {
        if let Ok(parsed) = url::Url::parse(url) {
            if parsed.host_str().is_some() {
                return parsed.origin().ascii_serialization();
            }
        }
    }
    format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    )
}

/// Parse every scheme of every `WWW-Authenticate` value (repeated or comma-folded).
///
/// The grammar is RFC 7235's `#challenge`, read leniently in one linear pass: junk is skipped
/// up to the next comma outside quotes, an unbalanced quote runs to the end of the value, and
/// token68 blobs (NTLM/Negotiate) are kept only as their length.
pub fn parse_www_authenticate<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<AuthScheme> {
    let mut out = Vec::new();
    for value in values {
        parse_value(value, &mut out);
    }
    out
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\r' || b == b'\n'
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ws(b[i]) {
        i += 1;
    }
    i
}

/// Index of the next `,` at or after `i` that is not inside a quoted string, or `b.len()`.
fn next_comma(b: &[u8], i: usize) -> usize {
    super::text::find_outside_quotes(b, i, b',')
}

/// A parameter value at `i` (after `=`): a quoted-string, or everything up to a comma or
/// whitespace. Returns the value and the index after it.
fn read_param_value(s: &str, i: usize) -> (String, usize) {
    let b = s.as_bytes();
    let i = skip_ws(b, i);
    if i < b.len() && b[i] == b'"' {
        return super::text::read_quoted(s, i);
    }
    let mut j = i;
    while j < b.len() && b[j] != b',' && !is_ws(b[j]) {
        j += 1;
    }
    (s[i..j].to_string(), j)
}

fn parse_value(s: &str, out: &mut Vec<AuthScheme>) {
    let b = s.as_bytes();
    // Index in `out` of the scheme that parameters of this value attach to.
    let mut current: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (is_ws(b[i]) || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut tok_end = i;
        while tok_end < b.len() && is_tchar(b[tok_end]) {
            tok_end += 1;
        }
        if tok_end == i {
            // Not a token: skip this list item (`b[i]` is not a comma, so this advances).
            i = next_comma(b, i);
            continue;
        }
        let after = skip_ws(b, tok_end);
        if after < b.len() && b[after] == b'=' {
            // `key=value`: a parameter of the current scheme (dropped when there is none).
            let (value, next) = read_param_value(s, after + 1);
            if let Some(scheme) = current.and_then(|c| out.get_mut(c)) {
                scheme
                    .params
                    .push((s[i..tok_end].to_ascii_lowercase(), value));
            }
            i = next_comma(b, next);
            continue;
        }
        // A new scheme.
        out.push(AuthScheme {
            name: s[i..tok_end].to_string(),
            params: Vec::new(),
            token68_len: None,
        });
        current = Some(out.len() - 1);
        if after == tok_end || after >= b.len() || b[after] == b',' {
            // No space after the name: nothing of this scheme follows but a comma.
            i = if after >= b.len() || b[after] == b',' {
                after
            } else {
                next_comma(b, tok_end)
            };
            continue;
        }
        // After `scheme SP`: a token68, or the first parameter (read by the loop).
        let mut t_end = after;
        while t_end < b.len() && is_token68_char(b[t_end]) {
            t_end += 1;
        }
        let blob_end = t_end;
        while t_end < b.len() && b[t_end] == b'=' {
            t_end += 1;
        }
        let follow = skip_ws(b, t_end);
        if blob_end > after && (follow >= b.len() || b[follow] == b',') {
            if let Some(scheme) = out.last_mut() {
                scheme.token68_len = Some(t_end - after);
            }
            i = follow;
            continue;
        }
        i = after;
    }
}

/// Whether `session`'s response is a challenge: a 401, or a 403 carrying `WWW-Authenticate`.
pub fn is_challenge_response(session: &Session) -> bool {
    match &session.response {
        Some(r) if r.status == 401 => true,
        Some(r) if r.status == 403 => r.headers.contains("www-authenticate"),
        _ => false,
    }
}

/// The challenge in `session`, if its response is one (a 401, or a 403 with
/// `WWW-Authenticate`). A 401 without any `WWW-Authenticate` is still a challenge, with no
/// schemes: that absence is evidence too.
pub fn challenge(session: &Session) -> Option<Challenge> {
    challenge_at(&Target::of(session))
}

/// [`challenge`] of a session whose URL and host are read.
pub fn challenge_at(target: &Target) -> Option<Challenge> {
    let session = target.session;
    if !is_challenge_response(session) {
        return None;
    }
    let response = session.response.as_ref()?;
    let schemes = parse_www_authenticate(response.headers.get_all("www-authenticate"));
    let diagnostics = response
        .headers
        .get_all("x-ms-diagnostics")
        .find_map(ExchangeDiagnostic::parse);
    Some(Challenge {
        session: session.id,
        url: session.request.url.clone(),
        host: target.host_or_empty().to_string(),
        status: response.status,
        process: session.process.clone(),
        schemes,
        diagnostics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Body, Headers, Request, Response};

    const BEARER: &str = r#"Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.windows.net/common/oauth2/authorize", error="invalid_token""#;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    fn session_401(url: &str, headers: &[(&str, &str)], status: u16) -> Session {
        let mut h = Headers::new();
        for (k, v) in headers {
            h.push(*k, *v);
        }
        Session {
            id: 12,
            process: Some("outlook:4242".into()),
            request: Request {
                method: "POST".into(),
                url: url.into(),
                version: "HTTP/1.1".into(),
                headers: Headers::new(),
                body: Body::default(),
            },
            response: Some(Response {
                version: "HTTP/1.1".into(),
                status,
                reason: "Unauthorized".into(),
                headers: h,
                body: Body {
                    raw: Vec::new(),
                    wire: false,
                    truncated: false,
                },
            }),
            ..Session::default()
        }
    }

    #[test]
    fn repeated_headers_as_exchange_sends_them() {
        let schemes = parse_www_authenticate([
            BEARER,
            "Negotiate",
            "NTLM",
            r#"Basic realm="autodiscover.contoso.com""#,
        ]);
        let names: Vec<&str> = schemes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["Bearer", "Negotiate", "NTLM", "Basic"]);
        assert_eq!(
            schemes[0].params,
            vec![
                p("client_id", "00000002-0000-0ff1-ce00-000000000000"),
                p(
                    "trusted_issuers",
                    "00000001-0000-0000-c000-000000000000@8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f"
                ),
                p(
                    "token_types",
                    "app_asserted_user_v1 service_asserted_app_v1"
                ),
                p(
                    "authorization_uri",
                    "https://login.windows.net/common/oauth2/authorize"
                ),
                p("error", "invalid_token"),
            ]
        );
        assert!(schemes[1].params.is_empty() && schemes[1].token68_len.is_none());
        assert_eq!(schemes[3].param("REALM"), Some("autodiscover.contoso.com"));
    }

    #[test]
    fn comma_folded_schemes_with_commas_inside_quotes() {
        let v = r#"Bearer client_id="x", trusted_issuers="a@t1,b@t2", authorization_uri="https://login.windows.net/common/oauth2/authorize", error="invalid_token", Negotiate, NTLM, Basic realm="x""#;
        let schemes = parse_www_authenticate([v]);
        let names: Vec<&str> = schemes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["Bearer", "Negotiate", "NTLM", "Basic"]);
        assert_eq!(schemes[0].param("trusted_issuers"), Some("a@t1,b@t2"));
        assert_eq!(schemes[0].params.len(), 4);
        assert_eq!(schemes[3].params, vec![p("realm", "x")]);
        let bearer = BearerChallenge::from_scheme(&schemes[0]);
        assert_eq!(bearer.trusted_issuers, vec!["a@t1", "b@t2"]);
        assert_eq!(bearer.tenant_ids, vec!["t1", "t2"]);
        let exo = parse_www_authenticate([
            r#"Bearer trusted_issuers="00000001-0000-0000-c000-000000000000@*,x@t1,y@t1""#,
        ]);
        assert_eq!(BearerChallenge::from_scheme(&exo[0]).tenant_ids, vec!["t1"]);
        assert_eq!(bearer.client_id.as_deref(), Some("x"));
        assert_eq!(bearer.error.as_deref(), Some("invalid_token"));
    }

    #[test]
    fn escapes_unquoted_values_and_case() {
        let schemes =
            parse_www_authenticate([r#"bearer Realm="a \"quoted\" \\ one", error=invalid_token"#]);
        assert_eq!(schemes.len(), 1);
        assert!(schemes[0].is("Bearer"));
        assert_eq!(
            schemes[0].params,
            vec![
                p("realm", r#"a "quoted" \ one"#),
                p("error", "invalid_token")
            ]
        );
        let unquoted = parse_www_authenticate([
            "Bearer authorization_uri=https://login.windows.net/common/oauth2/authorize",
        ]);
        assert_eq!(
            unquoted[0].param("authorization_uri"),
            Some("https://login.windows.net/common/oauth2/authorize")
        );
    }

    #[test]
    fn token68_is_kept_as_length_only() {
        let blob = "TlRMTVNTUAACAAAADAAMADgAAAAFgomi+/abc==";
        let value = format!("NTLM {blob}");
        let schemes = parse_www_authenticate([
            value.as_str(),
            "Negotiate oYIBBzCCAQOgAwoBAaEL, Basic realm=\"r\"",
        ]);
        assert_eq!(schemes.len(), 3);
        assert_eq!(schemes[0].token68_len, Some(blob.len()));
        assert!(schemes[0].params.is_empty());
        assert_eq!(schemes[1].token68_len, Some("oYIBBzCCAQOgAwoBAaEL".len()));
        assert_eq!(schemes[2].params, vec![p("realm", "r")]);
        // Nothing of the blob survives anywhere in the parsed form.
        let dump = format!("{schemes:?}");
        assert!(!dump.contains("TlRMTVNT"), "{dump}");
        assert!(!dump.contains("oYIBBz"), "{dump}");
    }

    #[test]
    fn unbalanced_quotes_and_junk_do_not_lose_what_came_before() {
        let schemes = parse_www_authenticate([r#"Bearer error="invalid_token, realm="x"#]);
        assert_eq!(schemes.len(), 1);
        assert_eq!(schemes[0].params, vec![p("error", "invalid_token, realm=")]);
        let junk = parse_www_authenticate([r#"=== , "x" , NTLM, =y, Basic"#]);
        let names: Vec<&str> = junk.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["NTLM", "Basic"]);
        assert!(parse_www_authenticate(["", " , ,", "\""]).is_empty());
    }

    #[test]
    fn ten_thousand_schemes_parse_in_linear_time() {
        let value = vec!["Basic realm=\"r\""; 10_000].join(", ");
        let start = std::time::Instant::now();
        let schemes = parse_www_authenticate([value.as_str()]);
        assert_eq!(schemes.len(), 10_000);
        assert!(schemes.iter().all(|s| s.param("realm") == Some("r")));
        let params = vec!["a=\"1\""; 10_000].join(", ");
        let one = parse_www_authenticate([format!("Bearer {params}").as_str()]);
        assert_eq!(one[0].params.len(), 10_000);
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn challenge_from_a_401_with_diagnostics() {
        let s = session_401(
            "https://AutoDiscover.Contoso.com:443/autodiscover/autodiscover.svc",
            &[
                ("WWW-Authenticate", BEARER),
                ("WWW-Authenticate", "Negotiate"),
                ("WWW-Authenticate", "NTLM"),
                (
                    "X-MS-Diagnostics",
                    r#"2000001;reason="The token has an invalid signature.";error_category="invalid_token""#,
                ),
            ],
            401,
        );
        let c = challenge(&s).expect("a 401 is a challenge");
        assert_eq!(c.session, 12);
        assert_eq!(c.status, 401);
        assert_eq!(c.host, "autodiscover.contoso.com");
        assert_eq!(c.process.as_deref(), Some("outlook:4242"));
        assert_eq!(c.schemes.len(), 3);
        assert!(c.offers("ntlm"));
        assert!(!c.offers("Basic"));
        assert_eq!(c.resource(), "https://autodiscover.contoso.com");
        let b = c.bearer().expect("bearer offered");
        assert_eq!(
            b,
            BearerChallenge {
                client_id: Some("00000002-0000-0ff1-ce00-000000000000".into()),
                trusted_issuers: vec![
                    "00000001-0000-0000-c000-000000000000@8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f"
                        .into()
                ],
                tenant_ids: vec!["8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f".into()],
                token_types: Some("app_asserted_user_v1 service_asserted_app_v1".into()),
                authorization_uri: Some("https://login.windows.net/common/oauth2/authorize".into()),
                error: Some("invalid_token".into()),
            }
        );
        let d = c.diagnostics.expect("diagnostics parsed");
        assert_eq!(d.code, "2000001");
        assert_eq!(
            d.reason.as_deref(),
            Some("The token has an invalid signature.")
        );
    }

    #[test]
    fn which_responses_are_challenges() {
        let bare_401 = session_401("https://mail.contoso.com/EWS/Exchange.asmx", &[], 401);
        let c = challenge(&bare_401).expect("a 401 without schemes is still a challenge");
        assert!(c.schemes.is_empty());
        assert!(c.bearer().is_none());
        let plain_403 = session_401("https://mail.contoso.com/ews", &[], 403);
        assert!(challenge(&plain_403).is_none());
        let auth_403 = session_401(
            "https://mail.contoso.com/ews",
            &[("WWW-Authenticate", "Bearer error=\"insufficient_scope\"")],
            403,
        );
        assert_eq!(challenge(&auth_403).map(|c| c.status), Some(403));
        let ok = session_401("https://mail.contoso.com/ews", &[], 200);
        assert!(challenge(&ok).is_none());
        let mut aborted = ok.clone();
        aborted.response = None;
        assert!(challenge(&aborted).is_none());
    }

    #[test]
    fn bearer_prefers_the_scheme_with_authorization_uri() {
        let s = session_401(
            "https://mail.contoso.com/mapi/emsmdb",
            &[("WWW-Authenticate", "Bearer"), ("WWW-Authenticate", BEARER)],
            401,
        );
        let b = challenge(&s).and_then(|c| c.bearer()).expect("bearer");
        assert!(b.authorization_uri.is_some());
        let bare = session_401(
            "https://mail.contoso.com/",
            &[("WWW-Authenticate", "Bearer, NTLM")],
            401,
        );
        let b = challenge(&bare)
            .and_then(|c| c.bearer())
            .expect("bare bearer");
        assert_eq!(b, BearerChallenge::default());
    }

    #[test]
    fn resource_is_scheme_and_host_only() {
        assert_eq!(
            resource_of("https://AutoDiscover.Contoso.COM/autodiscover/autodiscover.xml?x=1"),
            "https://autodiscover.contoso.com"
        );
        assert_eq!(
            resource_of("https://mail.contoso.com:443/EWS/Exchange.asmx"),
            "https://mail.contoso.com"
        );
        assert_eq!(
            resource_of("https://mail.contoso.com:8443/EWS/Exchange.asmx"),
            "https://mail.contoso.com:8443"
        );
        assert_eq!(
            resource_of("HTTP://mail.contoso.com:80/owa"),
            "http://mail.contoso.com"
        );
        assert_eq!(
            resource_of("http://mail.contoso.com:81/owa"),
            "http://mail.contoso.com:81"
        );
        assert_eq!(
            resource_of("Mail.Contoso.com:443"),
            "https://mail.contoso.com:443"
        );
        // International names still go through IDNA.
        assert_eq!(
            resource_of("https://Autodiscover.Bücher.example/x"),
            "https://autodiscover.xn--bcher-kva.example"
        );
    }

    #[test]
    fn a_host_longer_than_any_dns_name_is_only_lower_cased() {
        // The url crate would drop the default port; the host never reaches it.
        let long = format!("HTTPS://{}.Example:443/autodiscover", "A".repeat(400));
        assert_eq!(
            resource_of(&long),
            format!("https://{}.example:443", "a".repeat(400))
        );
        let dns_sized = format!("https://{}.example:443/", "a".repeat(240));
        assert_eq!(
            resource_of(&dns_sized),
            format!("https://{}.example", "a".repeat(240))
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_string(values in proptest::collection::vec(".{0,300}", 0..4)) {
            let _ = parse_www_authenticate(values.iter().map(String::as_str));
        }

        #[test]
        fn never_panics_on_header_like_strings(v in r#"[ ,=";\\a-zA-Z0-9/+_.\-@]{0,400}"#) {
            let schemes = parse_www_authenticate([v.as_str()]);
            // Every scheme name is a non-empty token taken from the input.
            for s in &schemes {
                proptest::prop_assert!(!s.name.is_empty());
                proptest::prop_assert!(v.contains(s.name.as_str()));
            }
        }

        #[test]
        fn token68_blobs_never_survive(blob in "[A-Za-z0-9+/]{16,64}={0,2}") {
            let v = format!("NTLM {blob}, Negotiate {blob}");
            let schemes = parse_www_authenticate([v.as_str()]);
            proptest::prop_assert_eq!(schemes.len(), 2);
            proptest::prop_assert_eq!(schemes[0].token68_len, Some(blob.len()));
            let dump = format!("{schemes:?}");
            proptest::prop_assert!(!dump.contains(&blob));
        }
    }
}
