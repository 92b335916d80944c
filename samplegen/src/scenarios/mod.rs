//! The scenarios: one function each, built from the actors' small builders, plus the facts
//! each should yield.

pub mod adal;
pub mod builder;
pub mod common;
pub mod hybrid;
pub mod precision;
pub mod proxy;

use crate::expected::{normalize_resource, Expected};
use crate::model::Capture;
use builder::Sb;

/// A scenario's definition: name, builder and what it is for.
pub struct Def {
    /// File stem.
    pub name: &'static str,
    /// One line: what the capture shows.
    pub summary: &'static str,
    /// What traceadal should report.
    pub should_find: &'static str,
    /// Finding ids it should raise.
    /// Every finding id traceadal raises on it, exactly.
    pub findings: &'static [&'static str],
    /// Finding ids it must not raise.
    pub absent: &'static [&'static str],
    /// Whether an `error` finding is expected.
    pub has_error: bool,
    /// Whether the capture cannot show the failure (verdict "inconclusive", exit code 3).
    pub inconclusive: bool,
    /// Builds the sessions.
    pub build: fn(&mut Sb),
}

/// Every scenario, in the order of the README table.
pub const DEFS: &[Def] = &[
    Def {
        name: "adal-500011-json",
        summary: "Outlook autodiscover 401 (Bearer + Negotiate/NTLM/Basic) -> authorize/token -> 400 JSON AADSTS500011, 6 attempts over ~48 s, ~20 noise sessions",
        should_find: "loop for https://autodiscover.contoso.com (6 attempts, aad_error), AADSTS500011, missing SPN https://autodiscover.contoso.com/",
        findings: &["spn-missing"],
        absent: &["http-resource", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: adal::adal_500011_json,
    },
    Def {
        name: "adal-500011-redirect",
        summary: "authorize answered 302 to urn:ietf:wg:oauth:2.0:oob?error=invalid_resource&error_description=AADSTS500011..., no token POST, 3 attempts",
        should_find: "AADSTS500011 from the redirect URI, missing SPN https://autodiscover.contoso.com/",
        findings: &["spn-missing"],
        absent: &["http-resource", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: adal::adal_500011_redirect,
    },
    Def {
        name: "adal-500011-signin-page",
        summary: "authorize answered 200 HTML sign-in error page whose $Config holds iErrorCode 500011 (gzip + chunked), 2 attempts",
        should_find: "AADSTS500011 from the $Config page, missing SPN https://autodiscover.contoso.com/",
        findings: &["spn-missing"],
        absent: &["http-resource", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: adal::adal_500011_signin_page,
    },
    Def {
        name: "adal-50001-legacy",
        summary: "legacy AADSTS50001 'The application named https://autodiscover.contoso.com/ was not found in the tenant named contoso.onmicrosoft.com', tenant domain in the authority path",
        should_find: "AADSTS50001 treated as 500011, missing SPN https://autodiscover.contoso.com/",
        findings: &["spn-missing"],
        absent: &["http-resource", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: adal::adal_50001_legacy,
    },
    Def {
        name: "adal-windows-net-tenant-guid",
        summary: "authority login.windows.net, tenant GUID in the path, resource https://AutoDiscover.Contoso.com/ (mixed case, trailing slash) -> 500011",
        should_find: "AADSTS500011, missing SPN normalised to https://autodiscover.contoso.com/",
        findings: &["spn-missing"],
        absent: &["http-resource", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: adal::adal_windows_net_tenant_guid,
    },
    Def {
        name: "wam-jwt-bearer",
        summary: "Outlook (outlook:4242) challenged; WAM (microsoft.aad.brokerplugin:7788) posts grant_type jwt-bearer with request=<JWT> whose claims carry the resource -> 400 500011",
        should_find: "resource read from the request JWT claims, AADSTS500011, missing SPN https://autodiscover.contoso.com/",
        findings: &["spn-missing"],
        absent: &["http-resource", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: adal::wam_jwt_bearer,
    },
    Def {
        name: "two-hosts",
        summary: "autodiscover.contoso.com and mail.contoso.com (EWS and MAPI) both challenged, both draw 500011",
        should_find: "two loops, missing SPNs https://autodiscover.contoso.com/ and https://mail.contoso.com/",
        findings: &["spn-missing", "legacy-auth-exposed"],
        absent: &["http-resource", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: adal::two_hosts,
    },
    Def {
        name: "healthy-token-issued",
        summary: "challenge, token issued (200 JSON), autodiscover retried with Bearer -> 200 XML, MAPI -> 200",
        should_find: "one flow with outcome token; no error finding",
        findings: &[],
        absent: &["spn-missing", "auth-loop", "http-resource"],
        has_error: false,
        inconclusive: false,
        build: adal::healthy_token_issued,
    },
    Def {
        name: "http-resource",
        summary: "Outlook talks to http://autodiscover.contoso.com (SSL offload / wrong ExternalUrl); resource http://autodiscover.contoso.com -> 500011",
        should_find: "AADSTS500011 for http://autodiscover.contoso.com, the http-resource finding and the missing SPN",
        findings: &["http-resource", "spn-missing"],
        absent: &["auth-loop"],
        has_error: true,
        inconclusive: false,
        build: adal::http_resource,
    },
    Def {
        name: "buried-in-noise",
        summary: "3 attempts of the 500011 loop among ~400 noise sessions (ECS br, telemetry gzip POSTs, Nexus deflate, config gzip+chunked, Teams presence, CDN 200/304, CONNECTs, one aborted session)",
        should_find: "the same loop as adal-500011-json with 3 attempts; missing SPN https://autodiscover.contoso.com/",
        findings: &["spn-missing"],
        absent: &["http-resource", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: adal::buried_in_noise,
    },
    Def {
        name: "hma-not-advertised",
        summary: "autodiscover and EWS 401 with only Negotiate/NTLM/Basic and x-ms-diagnostics 4000000 oauth_not_available; Outlook falls back to Basic -> 200",
        should_find: "hma-not-advertised on autodiscover and EWS (4000000); no AADSTS",
        findings: &["hma-not-advertised", "legacy-auth-exposed"],
        absent: &["spn-missing"],
        has_error: true,
        inconclusive: false,
        build: hybrid::hma_not_advertised,
    },
    Def {
        name: "exchange-oauth-2000003",
        summary: "Outlook presents a Bearer token with aud https://autodiscover.contoso.com/ to https://mail.contoso.com/mapi/ and gets 401 x-ms-diagnostics 2000003 invalid_resource, 3 times",
        should_find: "exchange-oauth-error 2000003 with the token's aud (https://autodiscover.contoso.com/) against the URL served (https://mail.contoso.com)",
        findings: &["exchange-oauth-error", "legacy-auth-exposed"],
        absent: &["spn-missing"],
        has_error: true,
        inconclusive: false,
        build: hybrid::exchange_oauth_2000003,
    },
    Def {
        name: "delegate-reviewer",
        summary: "Teams back end's EWS GetDelegate (IncludePermissions) for owner@contoso.com lists assistant@contoso.com with CalendarFolderPermissionLevel Reviewer",
        should_find: "delegate-permission: assistant@contoso.com has Reviewer (Author or Editor needed)",
        findings: &["delegate-permission"],
        absent: &["delegate-empty", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: hybrid::delegate_reviewer,
    },
    Def {
        name: "delegate-editor",
        summary: "the same GetDelegate, delegate has Editor (negative case)",
        should_find: "nothing wrong with the delegate",
        findings: &[],
        absent: &["delegate-permission", "delegate-empty"],
        has_error: false,
        inconclusive: false,
        build: hybrid::delegate_editor,
    },
    Def {
        name: "delegate-missing-config",
        summary: "GetDelegate answered ResponseClass=\"Error\" ErrorDelegateMissingConfiguration (corrupt LocalFreebusy item)",
        should_find: "delegate-empty with the MFCMapi LocalFreebusy fix",
        findings: &["delegate-empty"],
        absent: &["delegate-permission"],
        has_error: true,
        inconclusive: false,
        build: hybrid::delegate_missing_config,
    },
    Def {
        name: "legacy-auth-exposed",
        summary: "mail.contoso.com EWS, MAPI, OAB, ActiveSync and OWA answer 401 offering Bearer AND Negotiate/NTLM/Basic",
        should_find: "legacy-auth-exposed (warning) per vdir with the schemes offered",
        findings: &["legacy-auth-exposed"],
        absent: &["spn-missing", "hma-not-advertised"],
        has_error: false,
        inconclusive: false,
        build: hybrid::legacy_auth_exposed,
    },
    Def {
        name: "bearer-only-healthy",
        summary: "the same vdirs answer 401 with only a Bearer challenge, then 200 with a Bearer token (negative case)",
        should_find: "nothing: no exposure, no error",
        findings: &[],
        absent: &["legacy-auth-exposed", "hma-not-advertised", "spn-missing"],
        has_error: false,
        inconclusive: false,
        build: hybrid::bearer_only_healthy,
    },
    Def {
        name: "ioc-oauth-failure",
        summary: "Exchange Online's free/busy (GetUserAvailability, Bearer from app 00000002-...) to on-premises EWS answered 401 x-ms-diagnostics 2000001 invalid_token",
        should_find: "ioc-oauth-failure with the token's aud/appid and the 2000001 diagnostic",
        findings: &["ioc-oauth-failure", "legacy-auth-exposed"],
        absent: &["spn-missing"],
        has_error: true,
        inconclusive: false,
        build: hybrid::ioc_oauth_failure,
    },
    Def {
        name: "aadsts-50076-mfa",
        summary: "token endpoint answers 400 interaction_required AADSTS50076 for https://outlook.office365.com",
        should_find: "aadsts-mfa; no SPN issue",
        findings: &["aadsts-mfa"],
        absent: &["spn-missing", "auth-loop"],
        has_error: false,
        inconclusive: false,
        build: hybrid::aadsts_50076_mfa,
    },
    Def {
        name: "aadsts-53003-ca",
        summary: "token endpoint answers 400 invalid_grant AADSTS53003 (blocked by conditional access) for https://outlook.office365.com",
        should_find: "aadsts-conditional-access; no SPN issue",
        findings: &["aadsts-conditional-access"],
        absent: &["spn-missing", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: hybrid::aadsts_53003_ca,
    },
    Def {
        name: "secrets-everywhere",
        summary: "every kind of secret (Bearer JWTs, refresh tokens, codes, id_token, cookies, passwd form, Basic, NTLM, SAMLResponse, wresult, client_secret, client_assertion, JSON password, RSA ctfData) plus the 500011 loop",
        should_find: "the 500011 loop (3 attempts), missing SPN https://autodiscover.contoso.com/; no PLANTED_SECRETS value in any output",
        findings: &["spn-missing"],
        absent: &["http-resource", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: hybrid::secrets_everywhere,
    },
    Def {
        name: "healthy-workday",
        summary: "eight hours of Outlook + Teams, hybrid on-premises mailbox: every hour autodiscover and MAPI present the expired Bearer, 401 x-ms-diagnostics 2000001 'The token has expired.', refresh 200 (expires_in 3599), retry 200; background Office/Graph/Teams token requests with no challenge; one refresh meets AADSTS50076 and one prompt=none authorize AADSTS50058, each followed by an interactive sign-in that ends with a token; noise throughout",
        should_find: "a healthy day: the hourly refresh is the normal cycle, no loop; the MFA step-up and login_required as info only",
        findings: &["aadsts-mfa", "aadsts-50058"],
        absent: &["auth-loop", "spn-missing", "exchange-oauth-error", "legacy-auth-exposed"],
        has_error: false,
        inconclusive: false,
        build: precision::healthy_workday,
    },
    Def {
        name: "mfa-step-up",
        summary: "the only auth event is a step-up: autodiscover 401 (token expired), refresh for https://autodiscover.contoso.com -> 400 AADSTS50076, prompt=none authorize -> 302 AADSTS50058, interactive authorize -> code -> token 200, autodiscover retry 200",
        should_find: "the step-up ended with a token: info only",
        findings: &["aadsts-mfa", "aadsts-50058"],
        absent: &["auth-loop", "spn-missing"],
        has_error: false,
        inconclusive: false,
        build: precision::mfa_step_up,
    },
    Def {
        name: "owa-web-healthy",
        summary: "Outlook on the web in Edge over ~3 hours: MSAL.js v2 code flow with PKCE (response_mode=fragment) on /organizations/oauth2/v2.0, token POSTs with Origin https://outlook.office.com and CORS, Outlook/Graph/substrate scopes, hidden-iframe prompt=none renewals and hourly refresh_token renewals, all 200; OWA service.svc calls 200",
        should_find: "nothing: a healthy browser session",
        findings: &[],
        absent: &["auth-loop", "spn-missing", "hma-ignored", "hma-declined"],
        has_error: false,
        inconclusive: false,
        build: precision::owa_web_healthy,
    },
    Def {
        name: "blind-tunnels",
        summary: "HTTPS decryption off: only CONNECT tunnels (200 Blind-Connection Established) to autodiscover.contoso.com, login.microsoftonline.com, mail.contoso.com and outlook.office365.com, plus plain-http NCSI/OCSP/CTL sessions",
        should_find: "inconclusive (exit 3): nothing decrypted where the diagnosis needs it",
        findings: &[],
        absent: &["auth-loop", "spn-missing", "hma-ignored"],
        has_error: false,
        inconclusive: true,
        build: precision::blind_tunnels,
    },
    Def {
        name: "half-blind",
        summary: "autodiscover decrypted: 401 Bearer challenge (authorization_uri) + Negotiate/NTLM/Basic, 3 times over a minute; the tunnels to login.microsoftonline.com not decrypted (CONNECT only)",
        should_find: "inconclusive about the Entra ID side: the client may well have asked for a token inside the blind tunnels",
        findings: &[],
        absent: &["hma-ignored", "spn-missing"],
        has_error: false,
        inconclusive: true,
        build: precision::half_blind,
    },
    Def {
        name: "hma-ignored",
        summary: "autodiscover and EWS answer 401 with a Bearer challenge (authorization_uri) plus Negotiate/NTLM/Basic; Outlook probes again anonymously 4 times and never goes to any login host nor presents a Bearer",
        should_find: "hma-ignored: Exchange offered modern auth, the client never asked Entra ID",
        findings: &["hma-ignored", "legacy-auth-exposed"],
        absent: &["spn-missing", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: precision::hma_ignored,
    },
    Def {
        name: "entra-blocked",
        summary: "like hma-ignored, but Outlook tries to reach Entra ID: CONNECT login.microsoftonline.com:443 answered 403 Forbidden by the corporate proxy (Squid ERR_ACCESS_DENIED) each time, 3 rounds",
        should_find: "hma-ignored, with the blocked tunnel to login.microsoftonline.com as the cause",
        findings: &["hma-ignored", "legacy-auth-exposed"],
        absent: &["spn-missing", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: precision::entra_blocked,
    },
    Def {
        name: "hma-declined",
        summary: "Exchange offers Bearer (authorization_uri) + Negotiate/NTLM/Basic; Outlook answers autodiscover with Basic three times (401 each, the 'Need Password' prompt) and EWS with the NTLM handshake (type 1, 401 type 2, type 3, 200)",
        should_find: "hma-declined: error for autodiscover (never got in), warning for mail.contoso.com (200 over NTLM); legacy-auth-exposed",
        findings: &["hma-declined", "legacy-auth-exposed"],
        absent: &["spn-missing", "hma-ignored"],
        has_error: true,
        inconclusive: false,
        build: precision::hma_declined,
    },
    // Issue 19, items 4 and 5: proxies in front of Exchange and on the client's side.
    Def {
        name: "preauth-f5-apm",
        summary: "F5 BIG-IP APM pre-authenticates Exchange: Autodiscover (anonymous) and EWS (with a Bearer token) answered 302 to /my.policy with MRHSession / LastMRH_Session / F5_ST cookies, the APM logon page (HTML password form) behind it, 3 rounds",
        should_find: "preauth-proxy (error) for autodiscover.contoso.com and mail.contoso.com, naming F5 BIG-IP APM by its cookie names and the paths to pass through",
        findings: &["preauth-proxy"],
        absent: &["hma-ignored", "spn-missing", "auth-loop", "proxy-auth-required"],
        has_error: true,
        inconclusive: false,
        build: proxy::preauth_f5_apm,
    },
    Def {
        name: "preauth-wap-adfs",
        summary: "Web Application Proxy publishes Exchange with AD FS pre-authentication: Autodiscover and EWS answered 307 (Server Microsoft-HTTPAPI/2.0) to https://sts.contoso.com/adfs/ls/?...; the AD FS forms sign-in page behind it, 3 rounds",
        should_find: "preauth-proxy (error) for autodiscover.contoso.com and mail.contoso.com, naming Web Application Proxy / AD FS and its pass-through cmdlet",
        findings: &["preauth-proxy"],
        absent: &["hma-ignored", "spn-missing", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: proxy::preauth_wap_adfs,
    },
    Def {
        name: "proxy-407-loop",
        summary: "Squid exempts Entra ID but demands proxy authentication for Exchange Online: CONNECTs to outlook.office.com and autodiscover-s.outlook.com answered 407 (Negotiate, NTLM, Basic), Outlook's NTLM handshake (type 1, 407 type 2, type 3) refused each time, 3 rounds; ecs.office.com's handshake succeeds (200)",
        should_find: "proxy-auth-required (error) for outlook.office.com and autodiscover-s.outlook.com; nothing for ecs.office.com",
        findings: &["proxy-auth-required"],
        absent: &["proxy-blocked", "gateway-timeout", "hma-ignored"],
        has_error: true,
        inconclusive: false,
        build: proxy::proxy_407_loop,
    },
    Def {
        name: "proxy-tenant-restriction",
        summary: "Outlook signs in to a partner tenant's Exchange Online mailbox (authority /fabrikam.com); its token requests carry Restrict-Access-To-Tenants: contoso.com,contoso.onmicrosoft.com and Restrict-Access-Context; Entra ID answers AADSTS500021 Access to 'fabrikam.com' tenant is denied, 3 attempts",
        should_find: "tenant-restriction (error) naming fabrikam.com and the allowed list; the AADSTS500021 is its evidence, not a second finding",
        findings: &["tenant-restriction"],
        absent: &["aadsts-federation-or-sync", "auth-loop", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: proxy::proxy_tenant_restriction,
    },
    Def {
        name: "proxy-healthy",
        summary: "the healthy hybrid sign-in behind an authenticating Squid: each CONNECT does the proxy's NTLM handshake (407, 407, 200), Via on every answer, Exchange's own 401 (Microsoft-IIS), one 504 from the proxy for Teams presence then 200, a CDN's own 403 (AmazonS3)",
        should_find: "nothing: the proxy handshake, a single 504 followed by success and a CDN's 403 are not findings",
        findings: &[],
        absent: &["preauth-proxy", "proxy-auth-required", "proxy-blocked", "gateway-timeout", "tenant-restriction"],
        has_error: false,
        inconclusive: false,
        build: proxy::proxy_healthy,
    },
    Def {
        name: "proxy-blocked-zscaler",
        summary: "Zscaler, inspecting TLS, answers Outlook's MAPI Connect to outlook.office.com with its 403 'Website blocked' page (category Web Mail), 3 rounds; it also blocks an ad host",
        should_find: "proxy-blocked (error) for outlook.office.com naming Zscaler; nothing for the ad host",
        findings: &["proxy-blocked"],
        absent: &["proxy-auth-required", "gateway-timeout", "preauth-proxy"],
        has_error: true,
        inconclusive: false,
        build: proxy::proxy_blocked_zscaler,
    },
    Def {
        name: "fiddler-connection-failed",
        summary: "the root domain's Autodiscover gets Fiddler's 502 'DNS Lookup Failed', autodiscover.contoso.com answers 200; every EWS call to mail.contoso.com gets Fiddler's own 502 'Fiddler - Connection Failed' (TimedOut) after 21 s, 3 rounds",
        should_find: "gateway-timeout (error) for mail.contoso.com with Fiddler's reason phrase and the capture-side checks; nothing for the root domain's failed lookup",
        findings: &["gateway-timeout"],
        absent: &["proxy-blocked", "preauth-proxy"],
        has_error: true,
        inconclusive: false,
        build: proxy::fiddler_connection_failed,
    },
];

/// Builds a scenario: its capture and its expected facts.
pub fn build(name: &str) -> Option<(Capture, Expected)> {
    let def = DEFS.iter().find(|d| d.name == name)?;
    let mut sb = Sb::new(def.name);
    (def.build)(&mut sb);
    let (capture, loops, rest) = sb.finish(def.name);
    let mut aadsts: Vec<u32> = loops
        .iter()
        .flat_map(|l| l.aadsts.clone())
        .chain(rest.aadsts_sessions.iter().map(|(_, c)| *c))
        .collect();
    aadsts.sort_unstable();
    aadsts.dedup();
    let mut missing_spns: Vec<String> = loops
        .iter()
        .filter(|l| l.aadsts.iter().any(|c| *c == 500011 || *c == 50001))
        // An SPN is always https, even for a resource asked for over http.
        .map(|l| normalize_resource(&l.resource).replacen("http://", "https://", 1))
        .collect();
    missing_spns.sort();
    missing_spns.dedup();
    let http_resources = loops
        .iter()
        .filter(|l| l.resource.to_ascii_lowercase().starts_with("http://"))
        .map(|l| l.resource.clone())
        .collect();
    let mut exchange_diagnostics = Vec::new();
    let mut aborted = Vec::new();
    let mut tunnels = Vec::new();
    let mut vdirs: Vec<(String, Vec<String>)> = Vec::new();
    for (i, s) in capture.sessions.iter().enumerate() {
        let id = i + 1;
        if s.is_tunnel() {
            tunnels.push(id);
        }
        let Some(r) = &s.response else {
            aborted.push(id);
            continue;
        };
        for (n, v) in &r.headers {
            if n.eq_ignore_ascii_case("x-ms-diagnostics") {
                let code = v
                    .split(';')
                    .next()
                    .and_then(|c| c.trim().parse().ok())
                    .unwrap_or(0);
                exchange_diagnostics.push((id, code));
            }
        }
        if r.status == 401 && s.host().to_ascii_lowercase().ends_with(".contoso.com") {
            let path = crate::model::path_of(&s.request.url);
            let vdir = format!(
                "/{}",
                path.trim_start_matches('/')
                    .split(['/', '?'])
                    .next()
                    .unwrap_or("")
            );
            let mut schemes: Vec<String> = Vec::new();
            for (n, v) in &r.headers {
                if n.eq_ignore_ascii_case("WWW-Authenticate") {
                    for tok in ["Bearer", "Negotiate", "NTLM", "Basic"] {
                        let offered = v.starts_with(tok) || v.contains(&format!(", {tok}"));
                        if offered && !schemes.iter().any(|s| s == tok) {
                            schemes.push(tok.to_string());
                        }
                    }
                }
            }
            match vdirs
                .iter_mut()
                .find(|(p, _)| p.eq_ignore_ascii_case(&vdir))
            {
                Some((_, s)) => {
                    for x in schemes {
                        if !s.contains(&x) {
                            s.push(x);
                        }
                    }
                }
                None => vdirs.push((vdir, schemes)),
            }
        }
    }
    let expected = Expected {
        name: def.name,
        summary: def.summary,
        should_find: def.should_find,
        sessions: capture.sessions.len(),
        loops,
        aadsts,
        missing_spns,
        http_resources,
        tenant_name: rest.tenant_name,
        exchange_diagnostics,
        findings: def.findings.to_vec(),
        absent_findings: def.absent.to_vec(),
        has_error: def.has_error,
        aborted_sessions: aborted,
        tunnel_sessions: tunnels,
        delegates: rest.delegates,
        delegate_errors: rest.delegate_errors,
        vdir_schemes: vdirs,
        aadsts_sessions: {
            let mut v = rest.aadsts_sessions;
            v.sort_unstable();
            v
        },
        inconclusive: def.inconclusive,
    };
    Some((capture, expected))
}
