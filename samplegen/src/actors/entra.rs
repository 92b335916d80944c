//! Microsoft Entra ID (login.microsoftonline.com / login.windows.net): authorize and token
//! endpoints, their errors in all three places Entra puts them, and successful issuance.

use crate::actors::{hdrs, OFFICE_CLIENT, TENANT_GUID, USER, USER_OID};
use crate::clock::{Instant, Rng};
use crate::json::J;
use crate::model::{Body, Coding, Framing, Response, BODY_HEADERS};
use crate::secrets::{self, jwt};
use crate::wire::form_encode_lower;

/// An AADSTS error as Entra words it.
#[derive(Clone, Debug)]
pub struct AadError {
    /// The AADSTS number.
    pub code: u32,
    /// OAuth `error` (`invalid_resource`, `interaction_required`, `invalid_grant`).
    pub error: &'static str,
    /// The message after `AADSTSnnn: `.
    pub message: String,
    /// Older service format: no `error_uri`, two spaces between sentences.
    pub legacy: bool,
    /// Extra members after `correlation_id` (`suberror`, `claims`).
    pub extra: Vec<(&'static str, String)>,
}

impl AadError {
    /// AADSTS500011 for `resource` in tenant `tenant_name`.
    pub fn e500011(resource: &str, tenant_name: &str) -> AadError {
        AadError {
            code: 500011,
            error: "invalid_resource",
            message: format!("The resource principal named {resource} was not found in the tenant named {tenant_name}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."),
            legacy: false,
            extra: Vec::new(),
        }
    }
    /// Legacy AADSTS50001 wording.
    pub fn e50001(resource: &str, tenant_name: &str) -> AadError {
        AadError {
            code: 50001,
            error: "invalid_resource",
            message: format!("The application named {resource} was not found in the tenant named {tenant_name}.  This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.  You might have sent your authentication request to the wrong tenant."),
            legacy: true,
            extra: Vec::new(),
        }
    }
    /// AADSTS50076: MFA required.
    pub fn e50076() -> AadError {
        AadError {
            code: 50076,
            error: "interaction_required",
            message: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000002-0000-0ff1-ce00-000000000000'.".into(),
            legacy: false,
            extra: vec![("suberror", "basic_action".into())],
        }
    }
    /// AADSTS50058: a silent (`prompt=none`) sign-in found no signed-in user.
    pub fn e50058() -> AadError {
        AadError {
            code: 50058,
            error: "login_required",
            message: "A silent sign-in request was sent but no user is signed in. The cookies used to represent the user's session were not sent in the request to Azure AD. This can happen if the user is using Internet Explorer or Edge, and the web app sending the silent sign-in request is in different IE security zone than the Azure AD endpoint (login.microsoftonline.com).".into(),
            legacy: false,
            extra: Vec::new(),
        }
    }
    /// AADSTS53003: blocked by conditional access.
    pub fn e53003() -> AadError {
        AadError {
            code: 53003,
            error: "invalid_grant",
            message: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.".into(),
            legacy: false,
            extra: vec![
                ("suberror", "message_only".into()),
                ("claims", "{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"0b7c0000-0000-4000-8000-00000000ca01\"]}}}".into()),
            ],
        }
    }

    /// `AADSTSnnn: message\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ...`
    pub fn description(&self, trace: &str, corr: &str, ts: &str) -> String {
        format!(
            "AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}",
            self.code, self.message
        )
    }
}

/// One Entra endpoint host.
#[derive(Clone, Debug)]
pub struct Entra {
    /// `login.microsoftonline.com` or `login.windows.net`.
    pub host: &'static str,
}

fn resp(status: u16, reason: &str, headers: Vec<(String, String)>, body: Option<Body>) -> Response {
    Response {
        status,
        reason: reason.into(),
        version: "HTTP/1.1".into(),
        headers,
        body,
    }
}

fn cookie_expiry(now: Instant) -> String {
    // fpc lives 30 days: same weekday arithmetic via http_date of +30 days.
    let later = now.plus_ms(30 * 86_400_000);
    let d = later.http_date(); // "Sun, 20 Dec 2026 07:15:03 GMT"
    let (wd, rest) = d.split_once(", ").unwrap_or(("", &d));
    let p: Vec<&str> = rest.split(' ').collect();
    format!("{wd}, {}-{}-{} {} GMT", p[0], p[1], p[2], p[3])
}

impl Entra {
    /// `login.microsoftonline.com`.
    pub fn mso() -> Entra {
        Entra {
            host: "login.microsoftonline.com",
        }
    }
    /// `login.windows.net`.
    pub fn windows_net() -> Entra {
        Entra {
            host: "login.windows.net",
        }
    }

    fn head(
        &self,
        ctype: &str,
        crid: Option<&str>,
        trace: &str,
        telem: Option<u32>,
        now: Instant,
    ) -> Vec<(String, String)> {
        let mut h = hdrs(&[
            ("Cache-Control", "no-store, no-cache"),
            ("Pragma", "no-cache"),
            ("Content-Type", ctype),
            ("Expires", "-1"),
            (
                "Strict-Transport-Security",
                "max-age=31536000; includeSubDomains",
            ),
            ("X-Content-Type-Options", "nosniff"),
            ("P3P", "CP=\"DSP CUR OTPi IND OTRi ONL FIN\""),
        ]);
        if let Some(c) = crid {
            h.push(("client-request-id".into(), c.into()));
        }
        h.push(("x-ms-request-id".into(), trace.into()));
        h.push((
            "x-ms-ests-server".into(),
            "2.1.19355.6 - NEULR1 ProdSlices".into(),
        ));
        if let Some(code) = telem {
            h.push(("x-ms-clitelem".into(), format!("1,{code},0,,")));
        }
        h.push(("X-XSS-Protection".into(), "0".into()));
        h.push((
            "Set-Cookie".into(),
            format!(
                "fpc={}; expires={}; path=/; secure; HttpOnly; SameSite=None",
                secrets::COOKIE_FPC,
                cookie_expiry(now)
            ),
        ));
        h.push((
            "Set-Cookie".into(),
            "x-ms-gateway-slice=estsfd; path=/; secure; samesite=none; httponly".into(),
        ));
        h.push((
            "Set-Cookie".into(),
            "stsservicecookie=estsfd; path=/; secure; samesite=none; httponly".into(),
        ));
        h.push(("Date".into(), now.http_date()));
        h.push((BODY_HEADERS.into(), String::new()));
        h
    }

    /// Token endpoint 400 with the JSON error.
    pub fn token_error(
        &self,
        e: &AadError,
        crid: &str,
        rng: &mut Rng,
        now: Instant,
        coding: Coding,
        framing: Framing,
    ) -> Response {
        let trace = rng.guid();
        let corr = crid.to_string();
        let ts = now.entra();
        let mut o = vec![
            ("error", J::s(e.error)),
            ("error_description", J::s(e.description(&trace, &corr, &ts))),
            ("error_codes", J::Arr(vec![J::n(e.code as i64)])),
            ("timestamp", J::s(ts.clone())),
            ("trace_id", J::s(trace.clone())),
            ("correlation_id", J::s(corr)),
        ];
        if !e.legacy {
            o.push((
                "error_uri",
                J::s(format!("https://{}/error?code={}", self.host, e.code)),
            ));
        }
        for (k, v) in &e.extra {
            o.push((k, J::s(v.clone())));
        }
        let body = J::o(o).compact();
        let h = self.head(
            "application/json; charset=utf-8",
            Some(crid),
            &trace,
            Some(e.code),
            now,
        );
        resp(
            400,
            "Bad Request",
            h,
            Some(Body::coded(body, coding, framing)),
        )
    }

    /// Token endpoint 200 with a v1 token response.
    #[allow(clippy::too_many_arguments)]
    pub fn token_ok(
        &self,
        resource: &str,
        access_token: &str,
        refresh_token: &str,
        id_token: &str,
        crid: &str,
        rng: &mut Rng,
        now: Instant,
    ) -> Response {
        let trace = rng.guid();
        let exp = now.unix() + 4199;
        let body = J::o(vec![
            ("token_type", J::s("Bearer")),
            ("scope", J::s("EWS.AccessAsUser.All Mail.ReadWrite")),
            ("expires_in", J::s("4199")),
            ("ext_expires_in", J::s("4199")),
            ("expires_on", J::s(exp.to_string())),
            ("not_before", J::s((now.unix() - 300).to_string())),
            ("resource", J::s(resource)),
            ("access_token", J::s(access_token)),
            ("refresh_token", J::s(refresh_token)),
            ("foci", J::s("1")),
            ("id_token", J::s(id_token)),
        ])
        .compact();
        let h = self.head(
            "application/json; charset=utf-8",
            Some(crid),
            &trace,
            None,
            now,
        );
        resp(
            200,
            "OK",
            h,
            Some(Body::coded(body, Coding::Identity, Framing::Length)),
        )
    }

    /// Token endpoint 200 as an hourly refresh answers it: v1 shape, `expires_in` 3599, an
    /// access token valid for one hour from `now`, a new refresh token, no id_token.
    #[allow(clippy::too_many_arguments)]
    pub fn token_ok_hourly(
        &self,
        resource: &str,
        scope: &str,
        access_token: &str,
        refresh_token: &str,
        crid: &str,
        rng: &mut Rng,
        now: Instant,
    ) -> Response {
        let trace = rng.guid();
        let body = J::o(vec![
            ("token_type", J::s("Bearer")),
            ("scope", J::s(scope)),
            ("expires_in", J::s("3599")),
            ("ext_expires_in", J::s("3599")),
            ("expires_on", J::s((now.unix() + 3599).to_string())),
            ("not_before", J::s(now.unix().to_string())),
            ("resource", J::s(resource)),
            ("access_token", J::s(access_token)),
            ("refresh_token", J::s(refresh_token)),
            ("foci", J::s("1")),
        ])
        .compact();
        let h = self.head(
            "application/json; charset=utf-8",
            Some(crid),
            &trace,
            None,
            now,
        );
        resp(200, "OK", h, Some(Body::plain(body)))
    }

    /// Token endpoint 200 in the v2 shape (MSAL): `scope`, numeric `expires_in` 3599,
    /// `refresh_token`, `client_info`; with `cors_origin`, the CORS headers a SPA gets.
    #[allow(clippy::too_many_arguments)]
    pub fn token_ok_v2(
        &self,
        scope: &str,
        access_token: &str,
        refresh_token: &str,
        id_token: Option<&str>,
        cors_origin: Option<&str>,
        crid: &str,
        rng: &mut Rng,
        now: Instant,
    ) -> Response {
        let trace = rng.guid();
        let mut o = vec![
            ("token_type", J::s("Bearer")),
            ("scope", J::s(scope)),
            ("expires_in", J::n(3599)),
            ("ext_expires_in", J::n(3599)),
            ("access_token", J::s(access_token)),
            ("refresh_token", J::s(refresh_token)),
        ];
        if cors_origin.is_some() {
            o.push(("refresh_token_expires_in", J::n(86399)));
        }
        if let Some(t) = id_token {
            o.push(("id_token", J::s(t)));
        }
        o.push(("client_info", J::s(client_info())));
        let body = J::o(o).compact();
        let mut h = self.head(
            "application/json; charset=utf-8",
            Some(crid),
            &trace,
            None,
            now,
        );
        if let Some(origin) = cors_origin {
            let at = h.iter().position(|(n, _)| n == "P3P").unwrap_or(0) + 1;
            h.insert(at, ("Access-Control-Allow-Origin".into(), origin.into()));
            h.insert(
                at + 1,
                (
                    "Access-Control-Expose-Headers".into(),
                    "x-ms-request-id,x-ms-ests-server,x-ms-clitelem,x-ms-srs,client-request-id"
                        .into(),
                ),
            );
            h.insert(at + 2, ("Vary".into(), "Origin".into()));
        }
        resp(200, "OK", h, Some(Body::plain(body)))
    }

    /// Authorize 302 back to a SPA's redirect URI with the code in the fragment (MSAL.js,
    /// `response_mode=fragment`).
    pub fn authorize_code_fragment_302(
        &self,
        redirect_uri: &str,
        code: &str,
        state: &str,
        rng: &mut Rng,
        now: Instant,
    ) -> Response {
        let trace = rng.guid();
        let session = rng.guid();
        self.redirect(
            format!(
                "{redirect_uri}#code={code}&client_info={}&state={state}&session_state={session}",
                client_info()
            ),
            &trace,
            now,
            true,
        )
    }

    /// Authorize 200: the sign-in page (no error; the user types the password next).
    pub fn signin_page_ok(&self, crid: &str, rng: &mut Rng, now: Instant) -> Response {
        let trace = rng.guid();
        let config = J::o(vec![
            ("sPOST_Username", J::s(USER)),
            ("sFTName", J::s("flowToken")),
            ("urlPost", J::s("/common/login")),
            ("pgid", J::s("ConvergedSignIn")),
            ("correlationId", J::s(crid)),
            ("sRequestId", J::s(trace.clone())),
            ("iMaxPollErrors", J::n(5)),
        ])
        .compact();
        let page = format!("<!-- Copyright (C) Microsoft Corporation. All rights reserved. -->\r\n<!DOCTYPE html>\r\n<html dir=\"ltr\" class=\"\" lang=\"en\">\r\n<head>\r\n<title>Sign in to your account</title>\r\n<meta name=\"PageID\" content=\"ConvergedSignIn\" />\r\n<script type=\"text/javascript\">//<![CDATA[\r\n$Config={config};\r\n//]]></script>\r\n</head>\r\n<body data-bind=\"defineGlobals: ServerData, bodyCssClass\" class=\"cb\"></body>\r\n</html>");
        let h = self.head("text/html; charset=utf-8", None, &trace, None, now);
        resp(
            200,
            "OK",
            h,
            Some(Body::coded(page, Coding::Gzip, Framing::Chunked(1024))),
        )
    }

    /// The sign-in form post answered with a 302 carrying the code to the native redirect URI.
    pub fn login_post_code_302(&self, code: &str, rng: &mut Rng, now: Instant) -> Response {
        self.authorize_code_302(code, rng, now)
    }

    fn redirect(&self, location: String, trace: &str, now: Instant, sso_cookies: bool) -> Response {
        let mut h = self.head("text/html; charset=utf-8", None, trace, None, now);
        // Location sits after Expires in Entra's answers.
        h.insert(4, ("Location".into(), location.clone()));
        if sso_cookies {
            let at = h.iter().position(|(n, _)| n == "Date").unwrap_or(h.len());
            h.insert(at, ("Set-Cookie".into(), format!("ESTSAUTHPERSISTENT={}; expires={}; path=/; secure; HttpOnly; SameSite=None", secrets::COOKIE_ESTSAUTHPERSISTENT, cookie_expiry(now))));
            h.insert(
                at + 1,
                (
                    "Set-Cookie".into(),
                    format!(
                        "ESTSAUTH={}; path=/; secure; HttpOnly; SameSite=None",
                        secrets::COOKIE_ESTSAUTH
                    ),
                ),
            );
        }
        let body = format!("<html><head><title>Object moved</title></head><body>\r\n<h2>Object moved to <a href=\"{}\">here</a>.</h2>\r\n</body></html>\r\n", location.replace('&', "&amp;"));
        resp(302, "Found", h, Some(Body::plain(body)))
    }

    /// Authorize 302 back to the native redirect URI with a code (SSO by cookie).
    pub fn authorize_code_302(&self, code: &str, rng: &mut Rng, now: Instant) -> Response {
        let trace = rng.guid();
        let state = rng.guid();
        self.redirect(
            format!("urn:ietf:wg:oauth:2.0:oob?code={code}&session_state={state}"),
            &trace,
            now,
            true,
        )
    }

    /// Authorize 302 carrying the error in the redirect URI's query.
    pub fn authorize_error_302(
        &self,
        e: &AadError,
        crid: &str,
        rng: &mut Rng,
        now: Instant,
    ) -> Response {
        let trace = rng.guid();
        let desc = e.description(&trace, crid, &now.entra());
        let loc = format!(
            "urn:ietf:wg:oauth:2.0:oob?error={}&error_description={}&error_uri={}",
            e.error,
            form_encode_lower(&desc),
            form_encode_lower(&format!("https://{}/error?code={}", self.host, e.code))
        );
        self.redirect(loc, &trace, now, false)
    }

    /// Authorize 200: the HTML sign-in error page with `$Config={...}` (gzip + chunked).
    pub fn signin_error_page(
        &self,
        e: &AadError,
        crid: &str,
        rng: &mut Rng,
        now: Instant,
    ) -> Response {
        let trace = rng.guid();
        let session = rng.guid();
        let page = signin_page(self.host, e, &trace, crid, &session, now);
        let h = self.head("text/html; charset=utf-8", None, &trace, Some(e.code), now);
        resp(
            200,
            "OK",
            h,
            Some(Body::coded(page, Coding::Gzip, Framing::Chunked(2048))),
        )
    }

    /// `GET /common/UserRealm/<user>?api-version=1.0` answer (managed domain).
    pub fn user_realm(&self, rng: &mut Rng, now: Instant) -> Response {
        let trace = rng.guid();
        let body = J::o(vec![
            ("ver", J::s("1.0")),
            ("account_type", J::s("Managed")),
            ("domain_name", J::s("contoso.com")),
            ("cloud_instance_name", J::s("microsoftonline.com")),
            ("cloud_audience_urn", J::s("urn:federation:MicrosoftOnline")),
        ])
        .compact();
        let h = self.head("application/json; charset=utf-8", None, &trace, None, now);
        resp(200, "OK", h, Some(Body::plain(body)))
    }

    /// ADAL's instance discovery answer.
    pub fn instance_discovery(&self, rng: &mut Rng, now: Instant) -> Response {
        let trace = rng.guid();
        let body = J::o(vec![
            (
                "tenant_discovery_endpoint",
                J::s("https://login.microsoftonline.com/common/.well-known/openid-configuration"),
            ),
            ("api-version", J::s("1.1")),
            (
                "metadata",
                J::Arr(vec![J::o(vec![
                    ("preferred_network", J::s("login.microsoftonline.com")),
                    ("preferred_cache", J::s("login.windows.net")),
                    (
                        "aliases",
                        J::Arr(vec![
                            J::s("login.microsoftonline.com"),
                            J::s("login.windows.net"),
                            J::s("login.microsoft.com"),
                            J::s("sts.windows.net"),
                        ]),
                    ),
                ])]),
            ),
        ])
        .compact();
        let h = self.head("application/json; charset=utf-8", None, &trace, None, now);
        resp(
            200,
            "OK",
            h,
            Some(Body::coded(body, Coding::Gzip, Framing::Chunked(256))),
        )
    }
}

/// Claims of a user access token for `aud` issued to `appid`.
pub fn user_token_claims(aud: &str, appid: &str, now: Instant) -> J {
    let iat = now.unix() - 120;
    J::o(vec![
        ("aud", J::s(aud)),
        (
            "iss",
            J::s(format!("https://sts.windows.net/{TENANT_GUID}/")),
        ),
        ("iat", J::n(iat)),
        ("nbf", J::n(iat)),
        ("exp", J::n(iat + 4499)),
        ("acr", J::s("1")),
        ("amr", J::Arr(vec![J::s("pwd"), J::s("rsa")])),
        ("appid", J::s(appid)),
        ("appidacr", J::s("0")),
        ("family_name", J::s("User")),
        ("given_name", J::s("Contoso")),
        ("ipaddr", J::s("198.51.100.23")),
        ("name", J::s("Contoso User")),
        ("oid", J::s(USER_OID)),
        ("puid", J::s("10030000A1B2C3D4")),
        ("scp", J::s("EWS.AccessAsUser.All Mail.ReadWrite")),
        ("sub", J::s("x4n7oV1nD3Lq0Yb8m2Pz9cT5wRkA6sJhFgEuIdCyBvX")),
        ("tid", J::s(TENANT_GUID)),
        ("unique_name", J::s(USER)),
        ("upn", J::s(USER)),
        ("ver", J::s("1.0")),
    ])
}

/// `client_info` as Entra returns it: base64url of `{"uid":...,"utid":...}`.
pub fn client_info() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{{\"uid\":\"{USER_OID}\",\"utid\":\"{TENANT_GUID}\"}}"
    ))
}

/// A compact user access token for `aud` issued to `appid` at `iat` (`nbf` = `iat`, `exp` =
/// `iat` + 3600: one hour apart), with `scp`.
pub fn hourly_token(aud: &str, appid: &str, scp: &str, iat: i64, ver2: bool, sig: &str) -> String {
    let iss = if ver2 {
        format!("https://login.microsoftonline.com/{TENANT_GUID}/v2.0")
    } else {
        format!("https://sts.windows.net/{TENANT_GUID}/")
    };
    let claims = J::o(vec![
        ("aud", J::s(aud)),
        ("iss", J::s(iss)),
        ("iat", J::n(iat)),
        ("nbf", J::n(iat)),
        ("exp", J::n(iat + 3600)),
        ("acr", J::s("1")),
        ("amr", J::Arr(vec![J::s("pwd"), J::s("rsa")])),
        ("appid", J::s(appid)),
        ("oid", J::s(USER_OID)),
        ("scp", J::s(scp)),
        ("tid", J::s(TENANT_GUID)),
        ("upn", J::s(USER)),
        ("ver", J::s("1.0")),
    ]);
    jwt(&claims, sig)
}

/// A user access token (JWT) with a planted signature.
pub fn user_token(aud: &str, appid: &str, now: Instant, sig: &str) -> String {
    jwt(&user_token_claims(aud, appid, now), sig)
}

/// An id_token for `USER` issued to Office.
pub fn id_token(now: Instant) -> String {
    let iat = now.unix() - 120;
    let claims = J::o(vec![
        ("aud", J::s(OFFICE_CLIENT)),
        (
            "iss",
            J::s(format!("https://sts.windows.net/{TENANT_GUID}/")),
        ),
        ("iat", J::n(iat)),
        ("nbf", J::n(iat)),
        ("exp", J::n(iat + 3600)),
        ("amr", J::Arr(vec![J::s("pwd")])),
        ("family_name", J::s("User")),
        ("given_name", J::s("Contoso")),
        ("name", J::s("Contoso User")),
        ("oid", J::s(USER_OID)),
        ("sub", J::s("Zq3L0dV9kX2mB7nC4pR8sT1uW6yA5eF0gH3jK9oQ2iU")),
        ("tid", J::s(TENANT_GUID)),
        ("unique_name", J::s(USER)),
        ("upn", J::s(USER)),
        ("ver", J::s("1.0")),
    ]);
    jwt(&claims, secrets::SIG_ID_TOKEN)
}

fn signin_page(
    host: &str,
    e: &AadError,
    trace: &str,
    crid: &str,
    session: &str,
    now: Instant,
) -> String {
    let msg = format!("AADSTS{}: {}", e.code, e.message);
    let config = J::o(vec![
        ("iMaxStackForKnockoutAsyncComponents", J::n(10000)),
        ("fShowButtons", J::Bool(true)),
        ("urlCdn", J::s("https://aadcdn.msauth.net/shared/1.0/")),
        ("urlDefaultFavicon", J::s("https://aadcdn.msauth.net/shared/1.0/content/images/favicon_a_eupayfgghqiai7k9sol6lg2.ico")),
        ("urlFooterTOU", J::s("https://www.microsoft.com/en-US/servicesagreement/")),
        ("urlFooterPrivacy", J::s("https://privacy.microsoft.com/en-US/privacystatement")),
        ("iPawnIcon", J::n(0)),
        ("sPOST_Username", J::s(USER)),
        ("sFTName", J::s("flowToken")),
        ("dynamicTenantBranding", J::Null),
        ("staticTenantBranding", J::Null),
        ("oAppCobranding", J::o(Vec::<(&str, J)>::new())),
        ("iBackgroundImage", J::n(2)),
        ("fApplicationInsightsEnabled", J::Bool(false)),
        ("iApplicationInsightsEnabledPercentage", J::n(0)),
        ("urlSetDebugMode", J::s(format!("https://{host}/common/debugmode"))),
        ("fEnableCssAnimation", J::Bool(true)),
        ("fAllowGrayOutLightBox", J::Bool(true)),
        ("fIsRemoteNGCSupported", J::Bool(true)),
        ("fUseSameSite", J::Bool(true)),
        ("uiflavor", J::n(1001)),
        ("fOfflineAccountVisible", J::Bool(false)),
        ("fEnableUserStateFix", J::Bool(true)),
        ("fShowAccessPassPeek", J::Bool(true)),
        ("fUpdateSessionPollingLogic", J::Bool(true)),
        ("scid", J::n(1013)),
        ("hpgact", J::n(1800)),
        ("hpgid", J::n(1117)),
        ("pgid", J::s("ConvergedError")),
        ("apiCanary", J::s("PAQABAAEAAAD--DLA3VO7QrddgJg7WevrcanaryStandIn0000000000000000000000000000000000000000000000000000000000000000000000000000")),
        ("canary", J::s("Cz2kTz9ofSZk1Hq3QyhhHb3r0f0bXr6QqG4u3mDkUjI=:1")),
        ("correlationId", J::s(crid)),
        ("sessionId", J::s(session)),
        ("locale", J::o(vec![("mkt", J::s("en-US")), ("lcid", J::n(1033))])),
        ("slMaxRetry", J::n(2)),
        ("slReportFailure", J::Bool(true)),
        ("strings", J::o(vec![("desktopsso", J::o(vec![("authenticatingmessage", J::s("Trying to sign you in"))]))])),
        ("enums", J::o(vec![("ClientMetricsModes", J::o(vec![("None", J::n(0)), ("SubmitOnPost", J::n(1)), ("SubmitOnRedirect", J::n(2)), ("InstrumentPlt", J::n(4))]))])),
        ("urlReportPageLoad", J::s(format!("https://{host}/common/instrumentation/reportpageload?mkt=en-US"))),
        ("clientMetricsMode", J::n(1)),
        ("iErrorDesc", J::n(0)),
        ("iErrorTitle", J::n(0)),
        ("strMainMessage", J::s("We received a bad request.")),
        ("strAdditionalMessage", J::s("")),
        ("strServiceExceptionMessage", J::s(msg)),
        ("strTraceId", J::s(trace)),
        ("iErrorCode", J::n(e.code as i64)),
        ("iHttpErrorCode", J::n(400)),
        ("iViewId", J::n(1)),
        ("urlCancel", J::s("urn:ietf:wg:oauth:2.0:oob?error=access_denied&error_subcode=cancel")),
        ("strTimestamp", J::s(now.iso_utc_ms())),
        ("oPostParams", J::o(Vec::<(&str, J)>::new())),
        ("iMaxPollErrors", J::n(5)),
        ("iPollingTimeout", J::n(300)),
        ("srsSuccess", J::Bool(true)),
        ("fShowUserAlreadyExistErrorHandling", J::Bool(true)),
        ("sErrorCode", J::s(e.code.to_string())),
        ("correlationIdMsg", J::s(crid)),
        ("sRequestId", J::s(trace)),
        ("sPageId", J::s("i5030")),
        ("urlHelpLink", J::s(format!("https://{host}/error?code={}", e.code))),
    ])
    .compact();
    let mut css = String::new();
    for (i, sel) in [
        "body",
        ".inner",
        ".outer",
        ".table",
        ".table-row",
        ".table-cell",
        ".error-page-content",
        ".debug-details-banner",
        ".row",
        ".text-title",
        ".text-subtitle",
        ".text-body",
        ".button-container",
        ".footer",
        ".footerNode",
    ]
    .iter()
    .enumerate()
    {
        css.push_str(&format!("{sel}{{margin:{i}px 0;padding:{}px;font-family:\"Segoe UI\",\"Helvetica Neue\",\"Lucida Grande\",\"Roboto\",\"Ebrima\",\"Nirmala UI\",\"Gadugi\",\"Segoe Xbox Symbol\",\"Segoe UI Symbol\",\"Meiryo UI\",\"Khmer UI\",\"Tunga\",\"Lao UI\",\"Raavi\",\"Iskoola Pota\",\"Latha\",\"Leelawadee\",\"Microsoft YaHei UI\",\"Microsoft JhengHei UI\",\"Malgun Gothic\",\"Estrangelo Edessa\",\"Microsoft Himalaya\",\"Microsoft New Tai Lue\",\"Microsoft PhagsPa\",\"Microsoft Tai Le\",\"Microsoft Yi Baiti\",\"Mongolian Baiti\",\"MV Boli\",\"Myanmar Text\",\"Cambria Math\";}}\n", i * 2));
    }
    format!(
        r#"

<!-- Copyright (C) Microsoft Corporation. All rights reserved. -->
<!DOCTYPE html>
<html dir="ltr" class="" lang="en">
<head>
    <title>Sign in to your account</title>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
    <meta http-equiv="X-UA-Compatible" content="IE=edge">
    <meta name="viewport" content="width=device-width, initial-scale=1.0, maximum-scale=2.0, user-scalable=yes">
    <meta http-equiv="Pragma" content="no-cache">
    <meta http-equiv="Expires" content="-1">
    <link rel="preconnect" href="https://aadcdn.msauth.net" crossorigin>
    <meta http-equiv="x-dns-prefetch-control" content="on">
    <link rel="dns-prefetch" href="//aadcdn.msauth.net">
    <link rel="dns-prefetch" href="//aadcdn.msftauth.net">
    <meta name="PageID" content="ConvergedError" />
    <meta name="SiteID" content="" />
    <meta name="ReqLC" content="1033" />
    <meta name="LocLC" content="en-US" />
    <meta name="referrer" content="origin" />
    <meta name="format-detection" content="telephone=no" />
    <noscript>
        <meta http-equiv="Refresh" content="0; URL=https://{host}/jsdisabled" />
    </noscript>
    <meta name="robots" content="none" />
<style>
{css}</style>
<script type="text/javascript">//<![CDATA[
$Config={config};
//]]></script>
<script type="text/javascript">//<![CDATA[
!function(){{var e=window,r=e.$Debug=e.$Debug||{{}},t=e.$Config||{{}};if(!r.appendLog){{var n=[],o=0;r.appendLog=function(e){{var r=t.maxDebugLog||25,i=(new Date).toUTCString()+":"+e;n.push(o+":"+i),n.length>r&&n.shift(),o++}},r.getLogs=function(){{return n}}}}}}(),function(){{function e(e,r){{function t(i){{var a=e[i];if(i<n-1){{return void(o.r[a]?t(i+1):o.when(a,function(){{t(i+1)}}))}}r(a)}}var n=e.length;t(0)}}var o=window.$Loader=window.$Loader||{{}};o.r=o.r||{{}}}}();
//]]></script>
<script type="text/javascript">//<![CDATA[
ServerData = $Config;
//]]></script>
<script type="text/javascript" nonce='5B8yG6YlqAYkLJeKuj0Cdw'>//<![CDATA[
!function(t,e){{for(var r in e)t[r]=e[r]}}(this,function(t){{function e(n){{if(r[n])return r[n].exports;var i=r[n]={{exports:{{}},id:n,loaded:!1}};return t[n].call(i.exports,i,i.exports,e),i.loaded=!0,i.exports}}var r={{}};return e.m=t,e.c=r,e.p="",e(0)}}([function(t,e){{"use strict";var r=window,n=r.$Config||{{}};n.iErrorCode&&r.$Debug&&r.$Debug.appendLog("error "+n.sErrorCode)}}]));
//]]></script>
</head>
<body data-bind="defineGlobals: ServerData, bodyCssClass" class="cb" style="display: none">
    <div data-bind="component: {{ name: 'error-page' }}"></div>
    <noscript>Javascript is required. Javascript is disabled on your browser. Please enable Javascript and refresh this page.</noscript>
    <div id="error-details" style="display:none">
        <div>Request Id: {trace}</div>
        <div>Correlation Id: {crid}</div>
        <div>Timestamp: {ts}</div>
        <div>Message: AADSTS{code}: ...</div>
    </div>
</body>
</html>"#,
        ts = now.iso_utc_ms(),
        code = e.code
    )
}
