//! The scenarios: one function each, built from the actors' small builders, plus the facts
//! each should yield.

pub mod adal;
pub mod answers;
pub mod autodiscover;
pub mod autodiscover_gaps;
pub mod autodiscover_v2;
pub mod builder;
pub mod common;
pub mod federation;
pub mod freebusy_json;
pub mod hybrid;
pub mod limits;
pub mod namespaces;
pub mod precision;
pub mod proxy;
pub mod tenant_restriction_v2;
pub mod tokens;
pub mod windows_auth;

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
        findings: &["aadsts-mfa", "aadsts-50058", "spn-predicted"],
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
    // Issue 19: Autodiscover answers and predicted SPNs.
    Def {
        name: "autodiscover-500-not-found",
        summary: "Outlook signs in for https://autodiscover.contoso.com (token issued), then Autodiscover answers 200 POX <Error> ErrorCode 500 \"The email address can't be found.\" twice",
        should_find: "autodiscover-error (error: no settings for user@contoso.com in the capture) with the Get-Recipient / Get-RemoteMailbox fix",
        findings: &["autodiscover-error"],
        absent: &["spn-missing", "spn-predicted", "autodiscover-redirect"],
        has_error: true,
        inconclusive: false,
        build: autodiscover::autodiscover_500_not_found,
    },
    Def {
        name: "autodiscover-redirect-loop",
        summary: "on-premises Autodiscover answers RedirectAddr user@contoso.mail.onmicrosoft.com, Exchange Online (autodiscover-s.outlook.com) answers RedirectAddr user@contoso.com, three rounds",
        should_find: "autodiscover-redirect (error): Exchange Online and on-premises send the client to each other; the remote mailbox / mail user fix",
        findings: &["autodiscover-redirect"],
        absent: &["autodiscover-error", "spn-predicted", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: autodiscover::autodiscover_redirect_loop,
    },
    Def {
        name: "autodiscover-root-web-host",
        summary: "https://contoso.com/autodiscover/autodiscover.xml (root domain) answered 404 text/html by Apache/2.4.58 to POST and GET, twice; no Autodiscover settings in the capture",
        should_find: "autodiscover-web-host (error: Autodiscover never gave settings) naming Apache and the ExcludeHttpsRootDomain / DNS fix",
        findings: &["autodiscover-web-host"],
        absent: &["autodiscover-error", "autodiscover-redirect", "spn-predicted"],
        has_error: true,
        inconclusive: false,
        build: autodiscover::autodiscover_root_web_host,
    },
    Def {
        name: "autodiscover-spn-predicted",
        summary: "Bearer-only autodiscover.contoso.com: token issued, Autodiscover settings publish mail.contoso.com (MAPI, EWS, OAB), which the capture never asks a token for",
        should_find: "spn-predicted (warning) for https://mail.contoso.com/, and its commented block in the fix script",
        findings: &["spn-predicted"],
        absent: &["spn-missing", "autodiscover-error", "autodiscover-redirect"],
        has_error: false,
        inconclusive: false,
        build: autodiscover::autodiscover_spn_predicted,
    },
    Def {
        name: "autodiscover-pox-healthy",
        summary: "Bearer-only autodiscover.contoso.com: token issued, RedirectAddr once to user@contoso.mail.onmicrosoft.com, Exchange Online answers settings (outlook.office365.com); the same lookup an hour later",
        should_find: "nothing: one redirect to the tenant's routing domain is the normal path for a cloud mailbox",
        findings: &[],
        absent: &["autodiscover-redirect", "autodiscover-error", "autodiscover-web-host", "autodiscover-header-error", "spn-predicted"],
        has_error: false,
        inconclusive: false,
        build: autodiscover::autodiscover_pox_healthy,
    },
    Def {
        name: "autodiscover-exo-sts-unreachable",
        summary: "Outlook sends Basic to https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml three times; Exchange Online answers 401 with X-AutoDiscovery-Error: LiveIdBasicAuth:FederatedStsUnreachable; no settings",
        should_find: "autodiscover-header-error (error: Autodiscover never gave settings) with the modern-auth / AD FS fix; the client address after '<' not quoted",
        findings: &["autodiscover-header-error"],
        absent: &["autodiscover-error", "hma-declined", "legacy-auth-exposed", "spn-predicted"],
        has_error: true,
        inconclusive: false,
        build: autodiscover::autodiscover_exo_sts_unreachable,
    },
    Def {
        name: "autodiscover-v2-401",
        summary: "Microsoft's Teams test (Invoke-RestMethod autodiscover.json?Email=...&Protocol=EWS -UserAgent Teams) run twice: Exchange Online 302 -> autodiscover.contoso.com/autodiscover/autodiscover.json answered 401 Negotiate/NTLM (IIS error page) each time",
        should_find: "autodiscover-v2 (error): the on-premises autodiscover.json demands authentication; no hma-not-advertised for it",
        findings: &["autodiscover-v2"],
        absent: &["hma-not-advertised", "legacy-auth-exposed", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: autodiscover_v2::autodiscover_v2_401,
    },
    Def {
        name: "autodiscover-v2-internal-url",
        summary: "Exchange Online 302 -> on-premises autodiscover.json answers 200 {\"Protocol\":\"EWS\",\"Url\":\"https://exch01.contoso.local/EWS/Exchange.asmx\"} (the EWS vdir's internal name)",
        should_find: "autodiscover-v2 (error): an internal EWS URL published to Teams, with the Set-WebServicesVirtualDirectory -ExternalUrl fix",
        findings: &["autodiscover-v2"],
        absent: &["hma-not-advertised", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: autodiscover_v2::autodiscover_v2_internal_url,
    },
    Def {
        name: "autodiscover-v2-healthy",
        summary: "Exchange Online 302 -> on-premises autodiscover.json 200 {Protocol EWS, Url https://mail.contoso.com/EWS/Exchange.asmx}; an Exchange Online mailbox of the same domain answered 200 by Exchange Online itself (negative case)",
        should_find: "nothing: the v2 chain ends in an anonymous 200 with a public https Url",
        findings: &[],
        absent: &["autodiscover-v2"],
        has_error: false,
        inconclusive: false,
        build: autodiscover_v2::autodiscover_v2_healthy,
    },
    Def {
        name: "autodiscover-v2-loop",
        summary: "Exchange Online 302 -> autodiscover.contoso.com 302 -> autodiscover-s.outlook.com 302 -> autodiscover.contoso.com 302 ... (RedirectCount 1-4): Exchange Online and on-premises each send the mailbox to the other",
        should_find: "autodiscover-v2 (error): a redirect loop for contoso.com (EWS), with the Get-Recipient / Get-OrganizationRelationship checks",
        findings: &["autodiscover-v2"],
        absent: &["hma-not-advertised", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: autodiscover_v2::autodiscover_v2_loop,
    },
    // Federation (issue 24, item 2).
    Def {
        name: "federation-adfs-503",
        summary: "Outlook challenged; realm discovery says Federated (AuthURL sts.contoso.com); the Web Application Proxy answers /adfs/ls/ 503 twice (no AD FS behind it)",
        should_find: "federation-sts-unreachable naming sts.contoso.com and both 503s",
        findings: &["federation-sts-unreachable"],
        absent: &["federation-idp-error", "auth-loop", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: federation::federation_adfs_503,
    },
    Def {
        name: "federation-adfs-error",
        summary: "realm discovery says Federated; AD FS's Windows integrated handshake (401 Negotiate/NTLM, then a Kerberos ticket) ends on its error page: MSIS7012 with an Activity ID",
        should_find: "federation-idp-error with MSIS7012 and the Activity ID; the 401 is not an error",
        findings: &["federation-idp-error"],
        absent: &["federation-sts-unreachable", "auth-loop", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: federation::federation_adfs_error,
    },
    Def {
        name: "federation-issuer-mismatch-50107",
        summary: "Outlook challenged; ADAL's embedded browser: realm Federated, AD FS Kerberos, the WS-Fed wresult (issuer http://sts.contoso.com/adfs/services/trust/, signing certificate) posted to login.srf, answered AADSTS50107",
        should_find: "federation-saml-issuer-mismatch quoting the issuer and the certificate thumbprint, with the Graph domain federation commands; no separate aadsts finding",
        findings: &["federation-saml-issuer-mismatch"],
        absent: &["aadsts-federation-or-sync", "federation-saml-rejected", "federation-saml-time"],
        has_error: true,
        inconclusive: false,
        build: federation::federation_issuer_mismatch_50107,
    },
    Def {
        name: "federation-healthy",
        summary: "Edge signs in to Outlook on the web through AD FS and is accepted (login.srf posts the code to OWA), Seamless SSO's 401 then Kerberos 200, Outlook's WS-Trust windowstransport 401 then 200",
        should_find: "nothing: a federated sign-in that works, Windows integrated handshakes and windowstransport raise no finding",
        findings: &[],
        absent: &["federation-sts-unreachable", "federation-idp-error", "federation-saml-issuer-mismatch", "federation-saml-rejected", "federation-saml-time", "federation-seamless-sso", "federation-wstrust-password", "federation-realm-unknown"],
        has_error: false,
        inconclusive: false,
        build: federation::federation_healthy,
    },
    Def {
        name: "federation-wstrust-legacy",
        summary: "a PowerShell module posts the user's name and password to AD FS's WS-Trust 2005 usernamemixed endpoint and gets a SAML token",
        should_find: "federation-wstrust-password (warning) naming the domain, never the user or the password",
        findings: &["federation-wstrust-password"],
        absent: &["federation-idp-error", "federation-sts-unreachable"],
        has_error: false,
        inconclusive: false,
        build: federation::federation_wstrust_legacy,
    },
    Def {
        name: "seamless-sso-81010",
        summary: "Outlook challenged; ADAL's embedded browser does Seamless SSO's Kerberos handshake at autologon.microsoftazuread-sso.com, then the sign-in page answers AADSTS81010 (ticket expired or invalid) and prompts",
        should_find: "federation-seamless-sso (warning) with AADSTS81010 and the AZUREADSSOACC key rollover",
        findings: &["federation-seamless-sso"],
        absent: &["aadsts-federation-or-sync"],
        has_error: false,
        inconclusive: false,
        build: federation::seamless_sso_81010,
    },
    // Issue 24, item 1: tokens checked against the request that carries them.
    Def {
        name: "token-wrong-tenant-500011",
        summary: "autodiscover's Bearer challenge names Contoso's tenant (trusted_issuers); Outlook, signed in with a second account, sends its token requests to Fabrikam's tenant GUID and is answered AADSTS500011 'not found in the tenant named Fabrikam', 3 rounds",
        should_find: "token-wrong-tenant (sign-in sent to another tenant than the challenge names); no missing SPN, no fix script for Fabrikam",
        findings: &["token-wrong-tenant"],
        absent: &["spn-missing", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: tokens::token_wrong_tenant_500011,
    },
    Def {
        name: "token-audience-mismatch",
        summary: "Outlook presents its token for https://autodiscover.contoso.com to EWS on mail.contoso.com 3 times; 401 Bearer challenges whose x-ms-diagnostics a reverse proxy stripped",
        should_find: "token-audience-mismatch: aud autodiscover.contoso.com presented to mail.contoso.com, found from the token alone",
        findings: &["token-audience-mismatch"],
        absent: &["exchange-oauth-error", "hma-ignored", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: tokens::token_audience_mismatch,
    },
    Def {
        name: "token-expired-presented",
        summary: "Outlook presents a MAPI token that expired two hours earlier 4 times over 2 minutes and never asks Entra ID for a new one; Exchange answers 401 2000001 'The token has expired.' each time",
        should_find: "token-expired (error: the client kept presenting it), not the exchange-oauth-error of the same sessions",
        findings: &["token-expired"],
        absent: &["exchange-oauth-error", "hma-ignored", "clock-skew"],
        has_error: true,
        inconclusive: false,
        build: tokens::token_expired_presented,
    },
    Def {
        name: "clock-skew",
        summary: "4 EWS calls with a valid token, all answered 200; every answer's Date is 17 minutes after the capture's clock (the client's clock is behind)",
        should_find: "clock-skew (warning), nothing else",
        findings: &["clock-skew"],
        absent: &["token-expired"],
        has_error: false,
        inconclusive: false,
        build: tokens::clock_skew,
    },
    Def {
        name: "ca-53000-no-device",
        summary: "Exchange Online challenge, token requests answered 400 invalid_grant AADSTS53000 (device not compliant); the sign-in requests carry no x-ms-RefreshTokenCredential cookie and no PKeyAuth answer",
        should_find: "aadsts-conditional-access whose evidence says no device credential was presented",
        findings: &["aadsts-conditional-access"],
        absent: &["spn-missing", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: tokens::ca_53000_no_device,
    },
    Def {
        name: "capture-started-late",
        summary: "Outlook's refresh-token grants refused with AADSTS500011, 4 rounds ~9 s apart, and no 401 from Exchange anywhere: Fiddler started after the challenge",
        should_find: "the 500011 loop (background: no challenge) and its missing SPN; capture limit capture-started-late",
        findings: &["spn-missing"],
        absent: &["hma-not-advertised", "hma-ignored", "http-resource", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: limits::capture_started_late,
    },
    Def {
        name: "har-sanitized",
        summary: "the owa-web-healthy day without any Authorization, Cookie or Set-Cookie header (a browser's default HAR export)",
        should_find: "nothing (exit 0); the HAR's capture limit credentials-stripped, none on the SAZ",
        findings: &[],
        absent: &["auth-loop", "aadsts-codes", "exchange-oauth-error"],
        has_error: false,
        inconclusive: false,
        build: limits::har_sanitized,
    },
    Def {
        name: "legacy-split-namespace",
        summary: "an edge capture: Outlook's EWS on mail.contoso.com answers 401 offering Bearer, NTLM and Basic (MAPI: Bearer only); Exchange Online's IntraOrganizationConnector calls GetUserAvailability on hybrid.contoso.com with its own token, answered 200",
        should_find: "legacy-split-namespace (warning): the clients' EWS offers NTLM, Basic; the IOC namespace takes Bearer only; the lock-down per vdir and Set-IntraOrganizationConnector in the Exchange Management Shell block",
        findings: &["legacy-split-namespace", "spn-predicted"],
        absent: &["legacy-auth-exposed", "ioc-oauth-failure", "hma-ignored", "exchange-oauth-error"],
        has_error: false,
        inconclusive: false,
        build: namespaces::legacy_split_namespace,
    },
    // Windows authentication (issue 24).
    Def {
        name: "kerberos-fallback-ntlm",
        summary: "mail.contoso.local MAPI and EWS offer Negotiate/NTLM (no HMA); Outlook answers Negotiate with NTLM inside SPNEGO (type 1, 401 negTokenResp type 2, type 3) and gets in: no Kerberos ticket for HTTP/mail.contoso.local",
        should_find: "kerberos-fallback-ntlm (warning, the setspn / ASA fix), hma-not-advertised (warning: no Bearer offered)",
        findings: &["hma-not-advertised", "kerberos-fallback-ntlm"],
        absent: &["ntlm-loop", "hma-declined", "legacy-auth-exposed"],
        has_error: false,
        inconclusive: false,
        build: windows_auth::kerberos_fallback_ntlm,
    },
    Def {
        name: "ntlm-prompt-loop",
        summary: "mail.contoso.local EWS offers Negotiate/NTLM; Outlook runs the three NTLM legs four times over ~40 s, every authenticate message answered 401 (the password prompt loop)",
        should_find: "ntlm-loop (error: 4 refused type 3 messages, domain CONTOSO), hma-not-advertised (warning)",
        findings: &["ntlm-loop", "hma-not-advertised"],
        absent: &["kerberos-fallback-ntlm", "hma-declined", "auth-loop"],
        has_error: true,
        inconclusive: false,
        build: windows_auth::ntlm_prompt_loop,
    },
    Def {
        name: "windows-auth-healthy",
        summary: "AD FS Windows integrated sign-in answered with a Kerberos ticket (401 Negotiate, SPNEGO AP-REQ, 200) and Outlook on the web on the intranet signed in over NTLM (401, type 1, 401 type 2, type 3, 200)",
        should_find: "nothing: Kerberos that works and the normal three NTLM legs raise no finding",
        findings: &[],
        absent: &["kerberos-fallback-ntlm", "ntlm-loop", "hma-not-advertised", "legacy-auth-exposed"],
        has_error: false,
        inconclusive: false,
        build: windows_auth::windows_auth_healthy,
    },
    // Issue 19 items 3 and 6: failures inside Exchange's answers.
    Def {
        name: "freebusy-proxy-failed",
        summary: "Outlook asks on-premises EWS GetUserAvailability for a room and a cloud mailbox, twice: 200 (gzip, chunked) whose second FreeBusyResponse is ResponseClass Error ErrorProxyRequestProcessingFailed \"Proxy web request failed ... (401) Unauthorized ... LID: 43532\"",
        should_find: "freebusy-error (oauth-401) for mail.contoso.com quoting the ResponseCode, message and mailbox, with the IntraOrganizationConnector / Test-OAuthConnectivity fix",
        findings: &["freebusy-error"],
        absent: &["ioc-oauth-failure", "ews-error", "mapi-error"],
        has_error: true,
        inconclusive: false,
        build: answers::freebusy_proxy_failed,
    },
    Def {
        name: "mapi-protocol-disabled",
        summary: "Outlook's MAPI over HTTP Connect answered 200 X-ResponseCode 1 with the diagnostic text MapiExceptionProtocolDisabled (ec=2008), 3 tries; EWS GetUserOofSettings works",
        should_find: "mapi-error (ProtocolDisabled) for https://mail.contoso.com/mapi/emsmdb/ with the Set-CASMailbox -MAPIEnabled fix",
        findings: &["mapi-error"],
        absent: &["ews-error", "freebusy-error"],
        has_error: true,
        inconclusive: false,
        build: answers::mapi_protocol_disabled,
    },
    Def {
        name: "ews-impersonation-denied",
        summary: "a service account calls EWS GetFolder with ExchangeImpersonation for two mailboxes: 200 with ResponseClass Error ErrorImpersonateUserDenied",
        should_find: "ews-error (ErrorImpersonateUserDenied) for mail.contoso.com with the ApplicationImpersonation fix",
        findings: &["ews-error"],
        absent: &["freebusy-error", "mapi-error"],
        has_error: true,
        inconclusive: false,
        build: answers::ews_impersonation_denied,
    },
    Def {
        name: "answers-healthy",
        summary: "MAPI Connect, free/busy with a Warning (distribution list too large), ResolveNames with no result, a MAPI Execute answered X-ResponseCode 10 (context lost) followed by a successful Connect",
        should_find: "nothing: none of these is a failure",
        findings: &[],
        absent: &["freebusy-error", "mapi-error", "ews-error"],
        has_error: false,
        inconclusive: false,
        build: answers::answers_healthy,
    },
    Def {
        name: "freebusy-ioc-recipient-not-found",
        summary: "Exchange Online's IntraOrganizationConnector (OAuth, Exchange/15.20) asks on-premises EWS GetUserAvailability for newroom@contoso.com, twice: 200 (chunked) with ResponseClass Error ErrorMailRecipientNotFound \"Unable to resolve e-mail address <newroom@contoso.com> to an Active Directory object.\"",
        should_find: "freebusy-error (ErrorMailRecipientNotFound) for mail.contoso.com with the recipient-object fix; no ioc-oauth-failure (nothing was refused)",
        findings: &["freebusy-error"],
        absent: &["ioc-oauth-failure", "exchange-oauth-error", "ews-error"],
        has_error: true,
        inconclusive: false,
        build: answers::freebusy_ioc_recipient_not_found,
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
        should_find: "no proxy finding: the proxy handshake, a single 504 followed by success and a CDN's 403 are not findings; spn-predicted (warning) for the host Autodiscover publishes, which the capture ends before Outlook asks a token for",
        findings: &["spn-predicted"],
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
    // Issue 19: the Autodiscover classes the first samples left out.
    Def {
        name: "autodiscover-wrong-side",
        summary: "Bearer-only autodiscover.contoso.com: token issued, on-premises Autodiscover answers settings for user@contoso.com (mail.contoso.com); Exchange Online (autodiscover-s.outlook.com), asked directly, answers settings for the same address (outlook.office365.com, MicrosoftOnline True)",
        should_find: "autodiscover-wrong-side (error): a mailbox on each side, with the Get-Recipient / Set-User -PermanentlyClearPreviousMailboxInfo / Enable-RemoteMailbox fix; spn-predicted (warning) for mail.contoso.com, which the capture never asks a token for; no autodiscover-redirect",
        findings: &["autodiscover-wrong-side", "spn-predicted"],
        absent: &["autodiscover-redirect", "autodiscover-error", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: autodiscover_gaps::autodiscover_wrong_side,
    },
    Def {
        name: "autodiscover-redirect-foreign-domain",
        summary: "GET http://autodiscover.contoso.com/autodiscover/autodiscover.xml answered 302 by nginx to https://autodiscover.hostingprovider-example.net/..., which answers POX settings with its own IMAP/SMTP servers; twice",
        should_find: "autodiscover-redirect (warning): redirected to an unexpected domain, with the remove-the-web-host's-redirect fix; no autodiscover-web-host, no autodiscover-wrong-side",
        findings: &["autodiscover-redirect"],
        absent: &["autodiscover-web-host", "autodiscover-wrong-side", "autodiscover-error", "spn-predicted"],
        has_error: false,
        inconclusive: false,
        build: autodiscover_gaps::autodiscover_redirect_foreign_domain,
    },
    Def {
        name: "autodiscover-backend-500",
        summary: "Outlook signs in for https://autodiscover.contoso.com (token issued), then the POX POST with the Bearer is answered 500 (empty) with X-BackEndHttpStatus: 500 by the front end EXCH01 for back end EXCH02, three times; no settings",
        should_find: "autodiscover-header-error (error: Autodiscover never gave settings) for X-BackEndHttpStatus: 500 with the back end's checks",
        findings: &["autodiscover-header-error"],
        absent: &["autodiscover-error", "autodiscover-web-host", "gateway-timeout", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: autodiscover_gaps::autodiscover_backend_500,
    },
    // Issue 19 item 3, the JSON half: OWA and Teams (Graph getSchedule) free/busy answers.
    Def {
        name: "freebusy-owa-proxy-failed",
        summary: "on-premises Outlook on the web (forms sign-in) asks service.svc GetUserAvailabilityInternal for a room and a cloud mailbox, twice: 200 JSON (gzip, chunked) whose second Responses entry is ResponseClass Error ErrorProxyRequestNotAllowed",
        should_find: "freebusy-error (ErrorProxyRequestNotAllowed) for mail.contoso.com quoting the OWA path, the code, message and cloudowner@contoso.com, with the organization relationship fix",
        findings: &["freebusy-error"],
        absent: &["ews-error", "ioc-oauth-failure"],
        has_error: true,
        inconclusive: false,
        build: freebusy_json::freebusy_owa_proxy_failed,
    },
    Def {
        name: "freebusy-teams-getschedule",
        summary: "Teams refreshes its Graph token, then POSTs graph.microsoft.com/v1.0/me/calendar/getSchedule for a cloud and an on-premises mailbox, twice: 200 (gzip, chunked) whose on-premises scheduleInformation holds error {responseCode ErrorAutoDiscoverFailed, \"Autodiscover failed ... could not be resolved\"}",
        should_find: "freebusy-error (autodiscover-failed) for graph.microsoft.com quoting Graph getSchedule, the code, message and onprem@contoso.com, with the TargetSharingEpr / DiscoveryEndpoint fix",
        findings: &["freebusy-error"],
        absent: &["ews-error", "ioc-oauth-failure", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: freebusy_json::freebusy_teams_getschedule,
    },
    Def {
        name: "freebusy-json-healthy",
        summary: "on-premises OWA GetUserAvailabilityInternal for a room, a cloud mailbox and a distribution list (ResponseClass Warning ErrorFreeBusyDLLimitReached), and Teams' Graph getSchedule for a cloud and an on-premises mailbox, all answered",
        should_find: "nothing: every lookup answered; a Warning is not an error",
        findings: &[],
        absent: &["freebusy-error", "ews-error"],
        has_error: false,
        inconclusive: false,
        build: freebusy_json::freebusy_json_healthy,
    },
    // Tenant restrictions v2 (AADSTS5000211): the refusal, and the user who went on with an
    // allowed account.
    Def {
        name: "tenant-restriction-v2",
        summary: "Outlook opens an Exchange Online mailbox with an account of a partner tenant (Fabrikam Inc); Windows adds Contoso's tenant restrictions v2 header sec-Restrict-Tenant-Access-Policy: <tenant id>:<policy id> to every request to login.microsoftonline.com; Entra ID answers 400 AADSTS5000211 (gzip JSON, chunked and not), 3 attempts",
        should_find: "tenant-restriction (error) naming v2, Fabrikam Inc, Contoso's tenant id and policy id; the AADSTS5000211 is its evidence, not an aadsts- finding or an auth-loop",
        findings: &["tenant-restriction"],
        absent: &["aadsts-5000211", "auth-loop", "spn-missing"],
        has_error: true,
        inconclusive: false,
        build: tenant_restriction_v2::tenant_restriction_v2,
    },
    Def {
        name: "tenant-restriction-v2-switched",
        summary: "the same tenant restrictions v2 refusal (AADSTS5000211) twice, then the user signs in with the Contoso account the policy allows: the token comes (the v2 header still on the request) and EWS answers 200",
        should_find: "tenant-restriction as a warning (a later sign-in for the same resource got a token); no error",
        findings: &["tenant-restriction"],
        absent: &["aadsts-5000211", "auth-loop", "spn-missing"],
        has_error: false,
        inconclusive: false,
        build: tenant_restriction_v2::tenant_restriction_v2_switched,
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
        // Asked in another tenant than the challenge's (issue 24): no SPN is missing.
        .filter(|l| !l.tenant.eq_ignore_ascii_case(tokens::FABRIKAM_GUID))
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
