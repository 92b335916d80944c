//! Requests to Entra ID authorities: authorize, token, and the sign-in pages between.

use serde::Serialize;
use url::form_urlencoded;

use super::jwt::decode_claims;
use super::target::Target;
use super::text::{bare_host, starts_with_ignore_case};
use crate::capture::{DecodeLimits, Session};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginKind {
    /// `/oauth2/authorize` or `/oauth2/v2.0/authorize`.
    Authorize,
    /// `/oauth2/token` or `/oauth2/v2.0/token`.
    Token,
    /// Any other page of the authority (sign-in form posts, `/common/login`, ...).
    Other,
}

impl LoginKind {
    /// As serialized: `authorize`, `token`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginKind::Authorize => "authorize",
            LoginKind::Token => "token",
            LoginKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginRequest {
    pub session: u64,
    pub kind: LoginKind,
    /// The authority host, lower-cased (`login.microsoftonline.com`).
    pub authority: String,
    /// The tenant path segment: `common`, `organizations`, a GUID or a domain.
    pub tenant: Option<String>,
    /// v2.0 endpoint (`scope` instead of `resource`).
    pub v2: bool,
    /// `resource`, or the resource part of a v2 `scope` (`https://host/.default` -> `https://host`).
    pub resource: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub grant_type: Option<String>,
    pub redirect_uri: Option<String>,
    pub login_hint: Option<String>,
    pub client_request_id: Option<String>,
    pub prompt: Option<String>,
    /// Sent by the Windows broker (WAM): the parameters came from the `request=` JWT.
    pub wam: bool,
    pub process: Option<String>,
    /// The device credentials the request carried, by name only (never their values).
    #[serde(skip_serializing_if = "DeviceCredential::is_none")]
    pub device: DeviceCredential,
}

/// Which device credentials a sign-in request carried, by name only: Conditional Access
/// answers (53000, 53001, 530003, 50097) mean the most when it is known whether the client
/// showed Entra ID a device at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeviceCredential {
    /// The Primary Refresh Token cookie `x-ms-RefreshTokenCredential` (a cookie or a header
    /// of that name): the device's PRT, from WAM or the browser extension.
    pub prt: bool,
    /// An `Authorization: PKeyAuth ...` answer to Entra's device challenge (a signed
    /// response with the device certificate).
    pub pkeyauth_answer: bool,
    /// The `x-ms-PKeyAuth` header: the client says it can answer a device challenge.
    pub pkeyauth_supported: bool,
}

impl DeviceCredential {
    pub fn is_none(&self) -> bool {
        *self == DeviceCredential::default()
    }

    /// Whether the request showed Entra ID a device credential (a PRT or a PKeyAuth answer).
    pub fn presented(&self) -> bool {
        self.prt || self.pkeyauth_answer
    }

    /// What a request's headers say, by header and cookie names only.
    pub fn of(headers: &crate::capture::Headers) -> DeviceCredential {
        const PRT: &str = "x-ms-refreshtokencredential";
        let prt_cookie = headers.get_all("cookie").any(|c| {
            c.split(';').any(|pair| {
                pair.split_once('=')
                    .map_or(pair, |(name, _)| name)
                    .trim()
                    .eq_ignore_ascii_case(PRT)
            })
        });
        DeviceCredential {
            prt: prt_cookie || headers.get(PRT).is_some(),
            pkeyauth_answer: headers.get_all("authorization").any(|a| {
                a.trim_start()
                    .get(..8)
                    .is_some_and(|s| s.eq_ignore_ascii_case("pkeyauth"))
            }),
            pkeyauth_supported: headers.get("x-ms-pkeyauth").is_some(),
        }
    }
}

/// The Entra ID authority hosts: public cloud, US Government, China (21Vianet), Germany.
const AUTHORITY_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.windows.net",
    "login.microsoft.com",
    "sts.windows.net",
    "login.microsoftonline.us",
    "login-us.microsoftonline.com",
    "login.partner.microsoftonline.cn",
    "login.chinacloudapi.cn",
    "login.microsoftonline.de",
];

/// Whether `host` is an Entra ID authority (public and sovereign clouds). Case-insensitive;
/// a trailing dot and a `:port` are ignored.
pub fn is_authority_host(host: &str) -> bool {
    let host = bare_host(host);
    AUTHORITY_HOSTS.iter().any(|a| a.eq_ignore_ascii_case(host))
}

/// Well-known Microsoft application ids, by name.
const CLIENT_NAMES: &[(&str, &str)] = &[
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"),
    ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile"),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
    (
        "5e3ce6c0-2b1f-4285-8d4b-75ee78787346",
        "Microsoft Teams web client",
    ),
    (
        "00000002-0000-0ff1-ce00-000000000000",
        "Office 365 Exchange Online",
    ),
    (
        "00000003-0000-0ff1-ce00-000000000000",
        "Office 365 SharePoint Online",
    ),
    (
        "00000004-0000-0ff1-ce00-000000000000",
        "Skype for Business Online",
    ),
    ("00000003-0000-0000-c000-000000000000", "Microsoft Graph"),
    (
        "00000002-0000-0000-c000-000000000000",
        "Azure AD Graph (Windows Azure Active Directory)",
    ),
    (
        "00000001-0000-0000-c000-000000000000",
        "Azure ACS (token issuer in trusted_issuers)",
    ),
    (
        "1950a258-227b-4e31-a9cf-717495945fc2",
        "Microsoft Azure PowerShell",
    ),
    (
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "Microsoft Azure CLI",
    ),
    (
        "1b730954-1685-4b74-9bfd-dac224a7b894",
        "Azure Active Directory PowerShell",
    ),
    (
        "fb78d390-0c51-40cd-8e17-fdbfab77341b",
        "Microsoft Exchange REST API Based PowerShell",
    ),
    (
        "a0c73c16-a7e3-4564-9a95-2bdf47383716",
        "Microsoft Exchange Online Remote PowerShell",
    ),
    (
        "29d9ed98-a469-4536-ade2-f981bc1d605e",
        "Microsoft Authentication Broker",
    ),
    // Issue 24: the clients that present tokens to Exchange. The new Outlook for Windows
    // ("Monitor adoption of new Outlook for Windows in your organization"); Outlook on the
    // web's own app id since 2024 (message center MC711020; before it OWA signed in as
    // Exchange Online's 00000002-0000-0ff1-ce00-000000000000).
    (
        "5d661950-3475-41cd-a2c3-d671a3162bc1",
        "Microsoft Outlook (new Outlook)",
    ),
    ("9199bf20-a13f-4107-85dc-02114787ef48", "Outlook on the web"),
];

/// The name of a well-known Microsoft application id (case-insensitive), if it is one.
pub fn client_name(id: &str) -> Option<&'static str> {
    let id = id.trim();
    CLIENT_NAMES
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(id))
        .map(|(_, name)| *name)
}

/// OAuth parameters never kept, not even in memory past parsing: they are credentials.
const SECRET_PARAMS: &[&str] = &[
    "code",
    "refresh_token",
    "password",
    "client_secret",
    "assertion",
    "client_assertion",
    "access_token",
    "id_token",
    "code_verifier",
    "passwd",
    "flowtoken",
    "canary",
];

/// OIDC scopes that name no resource.
const OIDC_SCOPES: &[&str] = &["openid", "profile", "offline_access", "email"];

/// The resource part of a v2 `scope` list: the first scope that is not an OIDC one, minus its
/// last path segment (`https://autodiscover.contoso.com/.default` ->
/// `https://autodiscover.contoso.com`, `https://host//.default` -> `https://host/`). A bare scope (`User.Read`, implicitly Graph)
/// names no resource: `None`.
pub fn resource_from_scope(scope: &str) -> Option<String> {
    let first = scope
        .split([' ', '+', '\t', '\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .find(|s| !OIDC_SCOPES.iter().any(|o| o.eq_ignore_ascii_case(s)))?;
    let authority_start = first.find("://").map(|i| i + 3).unwrap_or(0);
    let last_slash = first.rfind('/')?;
    if last_slash < authority_start {
        // `https://host` with no permission part: the scope is the resource.
        return Some(first.to_string());
    }
    let resource = &first[..last_slash];
    (!resource.is_empty()).then(|| resource.to_string())
}

/// A GUID in its 8-4-4-4-12 text form.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The tenant in an authority path's first segment: `common`, `organizations`, `consumers`,
/// a GUID, or a domain followed by more path.
fn tenant_of(segments: &[&str]) -> Option<String> {
    let first = *segments.first()?;
    let known = ["common", "organizations", "consumers"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(first));
    let domain = first.contains('.') && !first.starts_with('.') && segments.len() > 1;
    (known || is_guid(first) || domain).then(|| first.to_string())
}

fn kind_of(segments: &[&str]) -> LoginKind {
    let Some(pos) = segments
        .iter()
        .position(|s| s.eq_ignore_ascii_case("oauth2"))
    else {
        return LoginKind::Other;
    };
    let mut rest = &segments[pos + 1..];
    if rest.first().is_some_and(|s| s.eq_ignore_ascii_case("v2.0")) {
        rest = &rest[1..];
    }
    match rest {
        [k] if k.eq_ignore_ascii_case("authorize") => LoginKind::Authorize,
        [k] if k.eq_ignore_ascii_case("token") => LoginKind::Token,
        _ => LoginKind::Other,
    }
}

/// Non-secret parameters, query first then body.
struct Params {
    query: Vec<(String, String)>,
    body: Vec<(String, String)>,
}

impl Params {
    fn collect(input: &[u8]) -> Vec<(String, String)> {
        form_urlencoded::parse(input)
            .filter(|(k, _)| !SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s)))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The body's value, else the query's; empty values count as absent.
    fn get(&self, key: &str) -> Option<String> {
        let find = |list: &[(String, String)]| {
            list.iter()
                .find(|(k, v)| k.eq_ignore_ascii_case(key) && !v.trim().is_empty())
                .map(|(_, v)| v.trim().to_string())
        };
        find(&self.body).or_else(|| find(&self.query))
    }
}

/// The login request in `session`, if it went to an authority. Every request to an authority
/// host is one (`kind` says which); `CONNECT` tunnels are not.
pub fn login_request(session: &Session, limits: &DecodeLimits) -> Option<LoginRequest> {
    login_request_at(&Target::of(session), limits)
}

/// [`login_request`] of a session whose URL and host are read.
pub fn login_request_at(target: &Target, limits: &DecodeLimits) -> Option<LoginRequest> {
    let session = target.session;
    if session.flags.tunnel || session.request.method.eq_ignore_ascii_case("CONNECT") {
        return None;
    }
    if !target.is_authority() {
        return None;
    }
    let authority = target.host()?.to_string();
    let parts = &target.parts;
    let (path, query) = (parts.path, parts.query());
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let kind = kind_of(&segments);
    let v2 = segments.iter().any(|s| s.eq_ignore_ascii_case("v2.0"));
    let tenant = tenant_of(&segments);

    let content_type = session
        .request
        .headers
        .get("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let form_body = content_type.contains("application/x-www-form-urlencoded")
        || (content_type.is_empty()
            && kind == LoginKind::Token
            && session.request.method.eq_ignore_ascii_case("POST"));
    let body = if form_body && !session.request.body.is_empty() {
        let decoded = target.request_body(limits);
        decoded.whole().map(Params::collect).unwrap_or_default()
    } else {
        Vec::new()
    };
    let params = Params {
        query: query
            .map(|q| Params::collect(q.as_bytes()))
            .unwrap_or_default(),
        body,
    };

    let mut resource = params.get("resource");
    let mut scope = params.get("scope");
    let mut client_id = params.get("client_id");
    let mut grant_type = params.get("grant_type");
    let mut redirect_uri = params.get("redirect_uri");
    let mut login_hint = params.get("login_hint");
    let process = session.process.clone();
    let mut wam = process
        .as_deref()
        .is_some_and(|p| starts_with_ignore_case(p.trim(), "microsoft.aad.brokerplugin"));

    // WAM: the real parameters are claims of the `request=` JWT.
    let jwt_bearer = grant_type
        .as_deref()
        .is_some_and(|g| g.eq_ignore_ascii_case("urn:ietf:params:oauth:grant-type:jwt-bearer"));
    if jwt_bearer {
        if let Some(request) = params.get("request") {
            wam = true;
            if let Ok(claims) = decode_claims(&request) {
                let claim = |k: &str| {
                    claims
                        .all
                        .get(k)
                        .and_then(|v| v.as_str())
                        .map(str::trim)
                        .filter(|v| !v.is_empty() && *v != super::jwt::REDACTED)
                        .map(str::to_string)
                };
                resource = claim("resource").or(resource);
                scope = claim("scope").or(scope);
                client_id = claim("client_id").or(client_id);
                redirect_uri = claim("redirect_uri").or(redirect_uri);
                grant_type = claim("grant_type").or(grant_type);
                login_hint = claim("login_hint").or(login_hint);
            }
        }
    }
    if redirect_uri
        .as_deref()
        .is_some_and(|r| starts_with_ignore_case(r, "ms-appx-web://microsoft.aad.brokerplugin"))
    {
        wam = true;
    }
    let resource = resource.or_else(|| scope.as_deref().and_then(resource_from_scope));
    let client_request_id = params.get("client-request-id").or_else(|| {
        session
            .request
            .headers
            .get("client-request-id")
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    });

    Some(LoginRequest {
        session: session.id,
        kind,
        authority,
        tenant,
        v2,
        resource,
        scope,
        client_id,
        grant_type,
        redirect_uri,
        login_hint,
        client_request_id,
        prompt: params.get("prompt"),
        wam,
        process,
        device: DeviceCredential::of(&session.request.headers),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::jwt::tests::jwt;
    use crate::capture::testkit::S;

    /// A login request without an answer.
    fn session(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Session {
        S::new(15, method, url, 0)
            .req_headers(headers)
            .req_body(body)
            .no_response()
            .0
    }

    const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

    fn parse(s: &Session) -> LoginRequest {
        login_request(s, &DecodeLimits::default()).expect("a login request")
    }

    #[test]
    fn authority_hosts() {
        for h in [
            "login.microsoftonline.com",
            "LOGIN.WINDOWS.NET",
            "login.microsoft.com",
            "sts.windows.net",
            "login.microsoftonline.us",
            "login.partner.microsoftonline.cn",
            "login.chinacloudapi.cn",
            "login.microsoftonline.de",
            "login.microsoftonline.com.",
            "login.microsoftonline.com:443",
        ] {
            assert!(is_authority_host(h), "{h}");
        }
        for h in [
            "autodiscover.contoso.com",
            "login.live.com",
            "evil-login.microsoftonline.com.example",
            "microsoftonline.com",
            "",
        ] {
            assert!(!is_authority_host(h), "{h}");
        }
    }

    #[test]
    fn adal_interactive_authorize() {
        let s = session(
            "GET",
            "https://login.microsoftonline.com/common/oauth2/authorize?resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&response_type=code&haschrome=1&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&login_hint=user%40contoso.com&client-request-id=6f0a7f3e-1111-2222-3333-444455556666&x-client-SKU=PCL.Desktop&x-client-Ver=3.19.8.16603&prompt=none",
            &[],
            "",
        );
        assert_eq!(
            parse(&s),
            LoginRequest {
                session: 15,
                kind: LoginKind::Authorize,
                authority: "login.microsoftonline.com".into(),
                tenant: Some("common".into()),
                v2: false,
                resource: Some("https://autodiscover.contoso.com".into()),
                scope: None,
                client_id: Some("d3590ed6-52b3-4102-aeff-aad2292ab01c".into()),
                grant_type: None,
                redirect_uri: Some("urn:ietf:wg:oauth:2.0:oob".into()),
                login_hint: Some("user@contoso.com".into()),
                client_request_id: Some("6f0a7f3e-1111-2222-3333-444455556666".into()),
                prompt: Some("none".into()),
                wam: false,
                process: Some("outlook:4242".into()),
                device: DeviceCredential::default(),
            }
        );
    }

    #[test]
    fn token_post_with_form_body_and_no_secrets_kept() {
        let s = session(
            "POST",
            "https://login.windows.net/8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f/oauth2/token",
            &[FORM, ("client-request-id", "aaaa0000-bb11-2222-33cc-444444dddddd")],
            "resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&grant_type=refresh_token&refresh_token=0.ARoAsecretsecret&code=SECRETCODE&password=hunter2&client_secret=SECRETCS",
        );
        let r = parse(&s);
        assert_eq!(r.kind, LoginKind::Token);
        assert_eq!(r.authority, "login.windows.net");
        assert_eq!(
            r.tenant.as_deref(),
            Some("8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f")
        );
        assert_eq!(
            r.resource.as_deref(),
            Some("https://autodiscover.contoso.com")
        );
        assert_eq!(r.grant_type.as_deref(), Some("refresh_token"));
        assert_eq!(
            r.client_request_id.as_deref(),
            Some("aaaa0000-bb11-2222-33cc-444444dddddd")
        );
        let dump = format!("{r:?}");
        for secret in ["secretsecret", "SECRETCODE", "hunter2", "SECRETCS"] {
            assert!(!dump.contains(secret), "{secret} leaked: {dump}");
        }
    }

    #[test]
    fn v2_scope_gives_resource() {
        let s = session(
            "POST",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            &[("content-type", "application/x-www-form-urlencoded; charset=utf-8")],
            "client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&scope=openid+profile+offline_access+https%3A%2F%2Fautodiscover.contoso.com%2F.default&grant_type=authorization_code",
        );
        let r = parse(&s);
        assert_eq!(r.kind, LoginKind::Token);
        assert!(r.v2);
        assert_eq!(r.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(
            r.resource.as_deref(),
            Some("https://autodiscover.contoso.com")
        );
        assert_eq!(
            r.scope.as_deref(),
            Some("openid profile offline_access https://autodiscover.contoso.com/.default")
        );
    }

    #[test]
    fn resource_from_scope_cases() {
        assert_eq!(
            resource_from_scope("https://autodiscover.contoso.com/.default").as_deref(),
            Some("https://autodiscover.contoso.com")
        );
        assert_eq!(
            resource_from_scope(
                "openid email https://outlook.office.com/EWS.AccessAsUser.All offline_access"
            )
            .as_deref(),
            Some("https://outlook.office.com")
        );
        assert_eq!(
            resource_from_scope("https://mail.contoso.com//.default").as_deref(),
            Some("https://mail.contoso.com/")
        );
        assert_eq!(
            resource_from_scope("00000002-0000-0ff1-ce00-000000000000/.default").as_deref(),
            Some("00000002-0000-0ff1-ce00-000000000000")
        );
        assert_eq!(
            resource_from_scope("https://mail.contoso.com").as_deref(),
            Some("https://mail.contoso.com")
        );
        assert_eq!(resource_from_scope("User.Read"), None);
        assert_eq!(resource_from_scope("openid profile offline_access"), None);
        assert_eq!(resource_from_scope(""), None);
    }

    #[test]
    fn wam_jwt_bearer_takes_parameters_from_the_request_jwt() {
        let inner = jwt(
            r#"{"resource":"https://autodiscover.contoso.com","client_id":"d3590ed6-52b3-4102-aeff-aad2292ab01c","redirect_uri":"ms-appx-web://Microsoft.AAD.BrokerPlugin/d3590ed6-52b3-4102-aeff-aad2292ab01c","grant_type":"refresh_token","refresh_token":"0.AAAA-secret-prt-rt","iat":1700000000}"#,
        );
        let body = format!(
            "client_id=29d9ed98-a469-4536-ade2-f981bc1d605e&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&request={inner}&windows_api_version=2.0"
        );
        let mut s = session(
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            &[FORM],
            &body,
        );
        s.process = Some("microsoft.aad.brokerplugin:9876".into());
        let r = parse(&s);
        assert!(r.wam);
        assert_eq!(
            r.resource.as_deref(),
            Some("https://autodiscover.contoso.com")
        );
        assert_eq!(
            r.client_id.as_deref(),
            Some("d3590ed6-52b3-4102-aeff-aad2292ab01c")
        );
        assert_eq!(r.grant_type.as_deref(), Some("refresh_token"));
        assert_eq!(
            r.redirect_uri.as_deref(),
            Some("ms-appx-web://Microsoft.AAD.BrokerPlugin/d3590ed6-52b3-4102-aeff-aad2292ab01c")
        );
        let dump = format!("{r:?}");
        assert!(!dump.contains("secret-prt-rt"), "{dump}");
        assert!(!dump.contains(&inner), "{dump}");
    }

    #[test]
    fn wam_flags_without_a_readable_jwt() {
        // An undecodable request= still marks WAM; outer parameters stay.
        let s = session(
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            &[FORM],
            "client_id=abc&grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&request=not.a.jwt!",
        );
        let r = parse(&s);
        assert!(r.wam);
        assert_eq!(r.client_id.as_deref(), Some("abc"));
        // The broker process alone marks WAM.
        let mut s = session(
            "GET",
            "https://login.microsoftonline.com/common/oauth2/authorize?client_id=x",
            &[],
            "",
        );
        s.process = Some("Microsoft.AAD.BrokerPlugin:1".into());
        assert!(parse(&s).wam);
        let s = session(
            "GET",
            "https://login.microsoftonline.com/common/oauth2/authorize?client_id=x",
            &[],
            "",
        );
        assert!(!parse(&s).wam);
    }

    #[test]
    fn other_pages_tenants_and_non_authorities() {
        let s = session(
            "POST",
            "https://login.microsoftonline.com/common/login",
            &[FORM],
            "login=user%40contoso.com&passwd=hunter2",
        );
        let r = parse(&s);
        assert_eq!(r.kind, LoginKind::Other);
        assert_eq!(r.tenant.as_deref(), Some("common"));
        assert!(!format!("{r:?}").contains("hunter2"));
        let r = parse(&session(
            "GET",
            "https://login.microsoftonline.com/kmsi",
            &[],
            "",
        ));
        assert_eq!((r.kind, r.tenant), (LoginKind::Other, None));
        let r = parse(&session(
            "GET",
            "https://login.microsoftonline.com/favicon.ico",
            &[],
            "",
        ));
        assert_eq!(r.tenant, None);
        let r = parse(&session(
            "GET",
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?scope=User.Read",
            &[],
            "",
        ));
        assert_eq!(
            (r.kind, r.v2, r.tenant.as_deref()),
            (LoginKind::Authorize, true, Some("organizations"))
        );
        assert_eq!(r.resource, None);
        let r = parse(&session(
            "GET",
            "https://sts.windows.net/oauth2/token/",
            &[],
            "",
        ));
        assert_eq!((r.kind, r.tenant), (LoginKind::Token, None));
        // Query string parameters on a non-authority host are not a login.
        assert!(login_request(
            &session(
                "GET",
                "https://autodiscover.contoso.com/?resource=x&client_id=y",
                &[],
                ""
            ),
            &DecodeLimits::default()
        )
        .is_none());
        let mut tunnel = session("CONNECT", "login.microsoftonline.com:443", &[], "");
        tunnel.flags.tunnel = true;
        assert!(login_request(&tunnel, &DecodeLimits::default()).is_none());
    }

    #[test]
    fn body_is_read_only_when_form_encoded() {
        // A JSON body is not parsed as a form.
        let s = session(
            "POST",
            "https://login.microsoftonline.com/common/GetCredentialType",
            &[("Content-Type", "application/json")],
            "resource=https://nope",
        );
        assert_eq!(parse(&s).resource, None);
        // Query and body: the body wins, the query fills in.
        let s = session(
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token?client_id=from-query&resource=q",
            &[FORM],
            "resource=https%3A%2F%2Fmail.contoso.com&grant_type=authorization_code",
        );
        let r = parse(&s);
        assert_eq!(r.resource.as_deref(), Some("https://mail.contoso.com"));
        assert_eq!(r.client_id.as_deref(), Some("from-query"));
    }

    #[test]
    fn client_names() {
        assert_eq!(
            client_name("d3590ed6-52b3-4102-aeff-aad2292ab01c"),
            Some("Microsoft Office")
        );
        assert_eq!(
            client_name("D3590ED6-52B3-4102-AEFF-AAD2292AB01C"),
            Some("Microsoft Office")
        );
        assert_eq!(
            client_name("27922004-5251-4030-b22d-91ecd9a37ea4"),
            Some("Outlook Mobile")
        );
        assert_eq!(
            client_name("00000002-0000-0ff1-ce00-000000000000"),
            Some("Office 365 Exchange Online")
        );
        assert_eq!(
            client_name("00000003-0000-0000-c000-000000000000"),
            Some("Microsoft Graph")
        );
        assert_eq!(
            client_name("1950a258-227b-4e31-a9cf-717495945fc2"),
            Some("Microsoft Azure PowerShell")
        );
        assert_eq!(client_name("00000000-0000-0000-0000-000000000000"), None);
        assert!(is_guid("8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f"));
        assert!(!is_guid("8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5"));
    }
}
