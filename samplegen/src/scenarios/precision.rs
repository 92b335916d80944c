//! "A healthy day is silent, a broken one names its one cause": the normal token cycle over a
//! workday, MFA step-up, Outlook on the web, captures that cannot show the failure (blind
//! tunnels), and the client that ignores or declines Exchange's Bearer offer.

use crate::actors::clients::{self, OWA_REDIRECT};
use crate::actors::entra::{hourly_token, id_token, AadError, Entra};
use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::{
    hdrs, noise as nz, outlook, EDGE, OFFICE_CLIENT, OUTLOOK, OWA_CLIENT, TEAMS_CLIENT,
};
use crate::clock::{Instant, START};
use crate::model::{host_of, Body, Coding, Framing, Request, Response, Role, BODY_HEADERS};
use crate::scenarios::adal::{AUTODISCOVER_RESOURCE, AUTODISCOVER_URL};
use crate::scenarios::builder::{ip_for, Sb};
use crate::scenarios::common::{noise, noise_run, tunnel};
use crate::secrets;

const LOGIN: &str = "login.microsoftonline.com";
const MAIL_RESOURCE: &str = "https://mail.contoso.com";
const EWS_URL: &str = "https://mail.contoso.com/EWS/Exchange.asmx";
const MAPI_URL: &str = "https://mail.contoso.com/mapi/emsmdb/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com";
const EXCHANGE_SCOPE: &str = "EWS.AccessAsUser.All Mail.ReadWrite";
const PRESENCE_SCOPE: &str = "https://presence.teams.microsoft.com/.default";
const SPACES_SCOPE: &str = "https://api.spaces.skype.com/.default";

fn ex() -> Exchange {
    Exchange::new()
}

fn entra() -> Entra {
    Entra::mso()
}

/// Cookies ADAL's embedded browser sends to Entra without a session (no ESTSAUTH).
fn cookies_no_session() -> String {
    format!(
        "buid={}; fpc={}; x-ms-gateway-slice=estsfd; stsservicecookie=estsfd",
        secrets::COOKIE_BUID,
        secrets::COOKIE_FPC
    )
}

/// Cookies with the persistent session (single sign-on).
fn cookies_sso() -> String {
    format!(
        "buid={}; fpc={}; ESTSAUTHPERSISTENT={}; x-ms-gateway-slice=estsfd; stsservicecookie=estsfd",
        secrets::COOKIE_BUID,
        secrets::COOKIE_FPC,
        secrets::COOKIE_ESTSAUTHPERSISTENT
    )
}

/// An Outlook token for `resource` issued `secs_before` seconds before the capture began
/// (expired by then when `secs_before` > 3600).
fn old_token(resource: &str, secs_before: i64) -> String {
    hourly_token(
        resource,
        OFFICE_CLIENT,
        EXCHANGE_SCOPE,
        START.unix() - secs_before,
        false,
        secrets::SIG_HOURLY_AT,
    )
}

/// Outlook's request to `resource`'s vdir (autodiscover POST or MAPI Connect) with `auth`.
fn exchange_req(resource: &str, auth: Option<&str>, crid: &str, seq: u32) -> Request {
    if resource == MAIL_RESOURCE {
        outlook::mapi_connect(MAPI_URL, auth, crid, seq)
    } else {
        outlook::autodiscover(AUTODISCOVER_URL, false, auth, crid)
    }
}

/// Outlook presents the expired `token`; the Bearer-only vdir answers 401 with 2000001
/// "The token has expired.".
fn expired_401(sb: &mut Sb, resource: &str, token: &str, seq: u32) -> usize {
    let crid = sb.guid();
    let rid = sb.guid();
    let req = exchange_req(resource, Some(&format!("Bearer {token}")), &crid, seq);
    let now = sb.now;
    let resp = ex().challenge_401(&host_of(resource), &Challenge::bearer_expired(), &rid, now);
    sb.add(Some(OUTLOOK), req, Some(resp), 9, Role::Signal)
}

/// The retry with the fresh token: 200.
fn exchange_ok(sb: &mut Sb, resource: &str, token: &str, seq: u32) -> usize {
    let crid = sb.guid();
    let rid = sb.guid();
    let req = exchange_req(resource, Some(&format!("Bearer {token}")), &crid, seq);
    let now = sb.now;
    let resp = if resource == MAIL_RESOURCE {
        ex().mapi_ok(&rid, now)
    } else {
        ex().ok_xml(
            exchange::autodiscover_response_xml("mail.contoso.com"),
            Coding::Gzip,
            Framing::Chunked(512),
            &rid,
            now,
            false,
        )
    };
    sb.add(Some(OUTLOOK), req, Some(resp), 140, Role::Signal)
}

/// ADAL's silent refresh for `resource` (`refresh_token` grant to `/common/oauth2/token`),
/// answered 200 with a one-hour token. Returns the session and the token.
fn adal_refresh_ok(
    sb: &mut Sb,
    process: &str,
    resource: &str,
    scope: &str,
    rt: &str,
    sig: &str,
) -> (usize, String) {
    let crid = sb.guid();
    let req = outlook::adal_token_refresh(LOGIN, "common", resource, rt, &crid);
    let now = sb.now;
    let at = hourly_token(resource, OFFICE_CLIENT, scope, now.unix(), false, sig);
    let resp = entra().token_ok_hourly(
        resource,
        scope,
        &at,
        secrets::RT_ISSUED,
        &crid,
        &mut sb.rng,
        now,
    );
    let id = sb.add(Some(process), req, Some(resp), 95, Role::Signal);
    (id, at)
}

/// ADAL's refresh answered 400 `interaction_required` AADSTS50076.
fn adal_refresh_mfa(sb: &mut Sb, resource: &str, rt: &str) -> usize {
    let crid = sb.guid();
    let req = outlook::adal_token_refresh(LOGIN, "common", resource, rt, &crid);
    let now = sb.now;
    let e = AadError::e50076();
    let resp = entra().token_error(
        &e,
        &crid,
        &mut sb.rng,
        now,
        Coding::Identity,
        Framing::Length,
    );
    let id = sb.add(Some(OUTLOOK), req, Some(resp), 90, Role::Signal);
    sb.aadsts(id, e.code);
    id
}

/// ADAL's silent authorize (`prompt=none`) answered 302 `login_required` AADSTS50058.
fn adal_silent_50058(sb: &mut Sb, resource: &str) -> usize {
    let crid = sb.guid();
    let req = clients::adal_authorize_silent(
        LOGIN,
        "common",
        resource,
        &crid,
        Some(&cookies_no_session()),
    );
    let now = sb.now;
    let e = AadError::e50058();
    let resp = entra().authorize_error_302(&e, &crid, &mut sb.rng, now);
    let id = sb.add(Some(OUTLOOK), req, Some(resp), 120, Role::Signal);
    sb.aadsts(id, e.code);
    id
}

/// The interactive sign-in that ends with a token: authorize (302 with the code when the
/// session cookie is there; otherwise the sign-in page and the password post, then the 302),
/// then the code redeemed (200). Returns the new token.
fn adal_interactive_ok(sb: &mut Sb, resource: &str, code_no: usize, with_password: bool) -> String {
    let code = secrets::AUTH_CODES[code_no % 4];
    let crid = sb.guid();
    let cookies = if with_password {
        cookies_no_session()
    } else {
        cookies_sso()
    };
    let req = outlook::adal_authorize(LOGIN, "common", resource, &crid, Some(&cookies));
    let now = sb.now;
    let resp = if with_password {
        entra().signin_page_ok(&crid, &mut sb.rng, now)
    } else {
        entra().authorize_code_302(code, &mut sb.rng, now)
    };
    sb.add(Some(OUTLOOK), req, Some(resp), 150, Role::Signal);
    if with_password {
        // The user reads the page and types the password.
        sb.wait(9_000);
        let req = clients::login_post(LOGIN, secrets::PASSWORD_FORM, &cookies);
        let now = sb.now;
        let resp = entra().login_post_code_302(code, &mut sb.rng, now);
        sb.add(Some(OUTLOOK), req, Some(resp), 310, Role::Signal);
    }
    sb.wait(30);
    let req = outlook::adal_token_code(LOGIN, "common", resource, code, &crid);
    let now = sb.now;
    let at = hourly_token(
        resource,
        OFFICE_CLIENT,
        EXCHANGE_SCOPE,
        now.unix(),
        false,
        secrets::SIG_HOURLY_AT,
    );
    let resp = entra().token_ok(
        resource,
        &at,
        secrets::RT_ISSUED,
        &id_token(now),
        &crid,
        &mut sb.rng,
        now,
    );
    sb.add(Some(OUTLOOK), req, Some(resp), 120, Role::Signal);
    at
}

/// Teams' MSAL refresh on the v2 endpoint for `scope`, 200.
pub(crate) fn teams_token(sb: &mut Sb, scope: &str) -> usize {
    let crid = sb.guid();
    let full = format!("{scope} openid profile offline_access");
    let req = clients::msal_v2_refresh(
        LOGIN,
        "organizations",
        TEAMS_CLIENT,
        &full,
        secrets::RT_TEAMS,
        &crid,
    );
    let now = sb.now;
    let aud = scope.trim_end_matches(".default");
    let at = hourly_token(
        aud,
        TEAMS_CLIENT,
        "user_impersonation",
        now.unix(),
        false,
        secrets::SIG_BACKGROUND_AT,
    );
    let resp = entra().token_ok_v2(
        &full,
        &at,
        secrets::RT_TEAMS,
        None,
        None,
        &crid,
        &mut sb.rng,
        now,
    );
    sb.add(Some(nz::TEAMS), req, Some(resp), 80, Role::Signal)
}

/// Office's background token for `officeapps.live.com` (no challenge before it), 200.
fn office_token(sb: &mut Sb) -> usize {
    adal_refresh_ok(
        sb,
        OUTLOOK,
        "https://officeapps.live.com",
        "user_impersonation",
        secrets::RT_ISSUED,
        secrets::SIG_BACKGROUND_AT,
    )
    .0
}

/// Outlook's background token for Microsoft Graph, 200.
fn graph_token(sb: &mut Sb) -> usize {
    adal_refresh_ok(
        sb,
        OUTLOOK,
        "https://graph.microsoft.com",
        "User.Read Files.ReadWrite.All",
        secrets::RT_ISSUED,
        secrets::SIG_BACKGROUND_AT,
    )
    .0
}

/// The background token requests the noise layer and the workday share: Office, Graph and
/// the two Teams scopes, chosen by `k`.
pub fn background_token(sb: &mut Sb, k: usize) -> usize {
    match k % 4 {
        0 => office_token(sb),
        1 => graph_token(sb),
        2 => teams_token(sb, PRESENCE_SCOPE),
        _ => teams_token(sb, SPACES_SCOPE),
    }
}

/// Seconds after the capture's start.
fn at(secs: u64) -> Instant {
    START.plus_ms(secs * 1000)
}

/// What happens when in `healthy-workday`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    /// Hour `h`'s expired-token cycle for autodiscover (0) or MAPI (1).
    Cycle(usize, usize),
    Office,
    Graph,
    Teams,
    Noise(usize),
}

/// `healthy-workday`: eight hours of Outlook + Teams, hybrid on-premises mailbox.
pub fn healthy_workday(sb: &mut Sb) {
    let mut evs: Vec<(u64, Ev)> = Vec::new();
    for h in 0..8u64 {
        // Each cycle starts once the token issued in the previous one has expired.
        evs.push((40 + h * 3_640, Ev::Cycle(h as usize, 0)));
        evs.push((58 + h * 3_640, Ev::Cycle(h as usize, 1)));
        evs.push((1_800 + h * 3_600, Ev::Graph));
        evs.push((2_700 + h * 3_600, Ev::Teams));
    }
    for k in 0..28u64 {
        evs.push((300 + k * 1_020, Ev::Office));
    }
    for k in 0..48u64 {
        evs.push((200 + k * 600, Ev::Noise(k as usize)));
    }
    evs.sort();
    for (h, p) in [
        ("autodiscover.contoso.com", OUTLOOK),
        ("login.microsoftonline.com", OUTLOOK),
        ("mail.contoso.com", OUTLOOK),
        ("login.microsoftonline.com", nz::TEAMS),
    ] {
        tunnel(sb, h, p);
    }
    let mut tokens = [
        old_token(AUTODISCOVER_RESOURCE, 3_700),
        old_token(MAIL_RESOURCE, 3_680),
    ];
    let resources = [AUTODISCOVER_RESOURCE, MAIL_RESOURCE];
    let mut rt = secrets::RT_OUTLOOK_MRRT;
    let mut seq = 1u32;
    for (secs, ev) in evs {
        sb.until(at(secs));
        match ev {
            Ev::Cycle(h, which) => {
                let resource = resources[which];
                expired_401(sb, resource, &tokens[which], seq);
                sb.wait(15);
                let fresh = if h == 3 && which == 1 {
                    // The refresh meets MFA: the user completes it interactively.
                    adal_refresh_mfa(sb, resource, rt);
                    // Outlook shows the sign-in window; the user approves the MFA prompt.
                    sb.wait(24_000);
                    adal_interactive_ok(sb, resource, 1, false)
                } else if h == 5 && which == 0 {
                    // Silent sign-in finds no session: the user signs in.
                    adal_silent_50058(sb, resource);
                    sb.wait(300);
                    adal_interactive_ok(sb, resource, 2, true)
                } else {
                    adal_refresh_ok(
                        sb,
                        OUTLOOK,
                        resource,
                        EXCHANGE_SCOPE,
                        rt,
                        secrets::SIG_HOURLY_AT,
                    )
                    .1
                };
                rt = secrets::RT_ISSUED;
                sb.wait(20);
                exchange_ok(sb, resource, &fresh, seq + 1);
                seq += 2;
                tokens[which] = fresh;
            }
            Ev::Office => {
                office_token(sb);
            }
            Ev::Graph => {
                graph_token(sb);
            }
            Ev::Teams => {
                teams_token(sb, PRESENCE_SCOPE);
                sb.wait(200);
                teams_token(sb, SPACES_SCOPE);
            }
            Ev::Noise(k) => noise_run(sb, k * 4, 4),
        }
    }
}

/// `mfa-step-up`: the step-up is the only auth event.
pub fn mfa_step_up(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    noise(sb, 7);
    let old = old_token(AUTODISCOVER_RESOURCE, 3_700);
    expired_401(sb, AUTODISCOVER_RESOURCE, &old, 1);
    tunnel(sb, "login.microsoftonline.com", OUTLOOK);
    adal_refresh_mfa(sb, AUTODISCOVER_RESOURCE, secrets::RT_OUTLOOK_MRRT);
    sb.wait(200);
    adal_silent_50058(sb, AUTODISCOVER_RESOURCE);
    sb.wait(500);
    noise_run(sb, 0, 2);
    let fresh = adal_interactive_ok(sb, AUTODISCOVER_RESOURCE, 3, false);
    sb.wait(30);
    exchange_ok(sb, AUTODISCOVER_RESOURCE, &fresh, 2);
    noise_run(sb, 2, 3);
}

/// 32 random bytes as base64url (PKCE verifiers, challenges, nonces).
fn b64url(sb: &mut Sb) -> String {
    use base64::Engine;
    let mut b = Vec::with_capacity(32);
    for _ in 0..4 {
        b.extend_from_slice(&sb.rng.next_u64().to_le_bytes());
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

const OWA_SCOPE: &str = "https://outlook.office.com/.default openid profile offline_access";
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default openid profile offline_access";
const SUBSTRATE_SCOPE: &str = "https://substrate.office.com/.default openid profile offline_access";

fn owa_json_response(body: String, rid: &str, now: Instant) -> Response {
    let h = hdrs(&[
        ("Cache-Control", "no-cache, no-store"),
        ("Pragma", "no-cache"),
        ("Content-Type", "application/json; charset=utf-8"),
        (BODY_HEADERS, ""),
        ("Vary", "Accept-Encoding"),
        ("Server", "Microsoft-IIS/10.0"),
        ("request-id", rid),
        (
            "X-CalculatedBETarget",
            "AM7PR02MB5686.eurprd02.prod.outlook.com",
        ),
        ("X-BackEndHttpStatus", "200"),
        ("X-OWA-Version", "15.20.8158.20"),
        ("X-OWA-DiagnosticsInfo", "1;0;0"),
        ("X-BEServer", "AM7PR02MB5686"),
        ("X-DiagInfo", "AM7PR02MB5686"),
        ("X-FEServer", "AM6PR04CA0012"),
        ("Date", &now.http_date()),
    ]);
    Response {
        status: 200,
        reason: "OK".into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::coded(body, Coding::Gzip, Framing::Chunked(1024))),
    }
}

/// The SPA's code flow for `scope`: authorize (302 with the code in the fragment; `silent`:
/// the hidden iframe with `prompt=none`), then the code redeemed from the page. Returns the
/// access token.
fn spa_code_flow(sb: &mut Sb, scope: &str, silent: bool, code_no: usize) -> String {
    let crid = sb.guid();
    let verifier = b64url(sb);
    let challenge = b64url(sb);
    let state = b64url(sb);
    let nonce = sb.guid();
    let code = secrets::AUTH_CODES[code_no % 4];
    let req = clients::spa_authorize(
        scope,
        &crid,
        &challenge,
        &state,
        &nonce,
        silent,
        Some(&cookies_sso()),
    );
    let now = sb.now;
    let resp = entra().authorize_code_fragment_302(OWA_REDIRECT, code, &state, &mut sb.rng, now);
    sb.add(Some(EDGE), req, Some(resp), 160, Role::Signal);
    sb.wait(60);
    spa_token_ok(sb, scope, Some((code, &verifier)), !silent)
}

/// The SPA's token POST (code or refresh), 200 with CORS headers.
fn spa_token_ok(sb: &mut Sb, scope: &str, code: Option<(&str, &str)>, id: bool) -> String {
    let crid = sb.guid();
    let req = clients::spa_token(scope, code, secrets::RT_SPA, &crid);
    let now = sb.now;
    let aud = scope
        .split(' ')
        .next()
        .unwrap_or("")
        .trim_end_matches("/.default");
    let at = hourly_token(
        aud,
        OWA_CLIENT,
        "Mail.ReadWrite Mail.Send Calendars.ReadWrite",
        now.unix(),
        false,
        secrets::SIG_OWA_AT,
    );
    let idt = id.then(|| id_token(now));
    let resp = entra().token_ok_v2(
        scope,
        &at,
        secrets::RT_SPA,
        idt.as_deref(),
        Some("https://outlook.office.com"),
        &crid,
        &mut sb.rng,
        now,
    );
    sb.add(Some(EDGE), req, Some(resp), 110, Role::Signal);
    sb.wait(40);
    at
}

const OWA_ACTIONS: [(&str, &str); 4] = [
    ("FindConversation", "{\"__type\":\"FindConversationJsonRequest:#Exchange\",\"Header\":{\"__type\":\"JsonRequestHeaders:#Exchange\",\"RequestServerVersion\":\"V2018_01_08\"},\"Body\":{\"__type\":\"FindConversationRequest:#Exchange\",\"ParentFolderId\":{\"__type\":\"TargetFolderId:#Exchange\",\"BaseFolderId\":{\"__type\":\"DistinguishedFolderId:#Exchange\",\"Id\":\"inbox\"}},\"Paging\":{\"__type\":\"IndexedPageView:#Exchange\",\"BasePoint\":\"Beginning\",\"Offset\":0,\"MaxEntriesReturned\":25}}}"),
    ("GetConversationItems", "{\"__type\":\"GetConversationItemsJsonRequest:#Exchange\",\"Header\":{\"__type\":\"JsonRequestHeaders:#Exchange\",\"RequestServerVersion\":\"V2018_01_08\"},\"Body\":{\"__type\":\"GetConversationItemsRequest:#Exchange\",\"Conversations\":[{\"__type\":\"ConversationRequestType:#Exchange\",\"ConversationId\":{\"__type\":\"ItemId:#Exchange\",\"Id\":\"AAQkAGI2TG93AAA=\"}}]}}"),
    ("GetCalendarEvent", "{\"__type\":\"GetCalendarEventJsonRequest:#Exchange\",\"Header\":{\"__type\":\"JsonRequestHeaders:#Exchange\",\"RequestServerVersion\":\"V2018_01_08\"},\"Body\":{\"__type\":\"GetCalendarEventRequest:#Exchange\",\"EventIds\":[{\"__type\":\"ItemId:#Exchange\",\"Id\":\"AAMkAGI2TG93CAL=\"}]}}"),
    ("GetFolder", "{\"__type\":\"GetFolderJsonRequest:#Exchange\",\"Header\":{\"__type\":\"JsonRequestHeaders:#Exchange\",\"RequestServerVersion\":\"V2018_01_08\"},\"Body\":{\"__type\":\"GetFolderRequest:#Exchange\",\"FolderIds\":[{\"__type\":\"DistinguishedFolderId:#Exchange\",\"Id\":\"msgfolderroot\"}]}}"),
];

fn owa_call(sb: &mut Sb, k: usize, token: &str) -> usize {
    let (action, body) = OWA_ACTIONS[k % OWA_ACTIONS.len()];
    let corr = sb.guid();
    let req = clients::owa_service(action, token, body, &corr);
    let rid = sb.guid();
    let now = sb.now;
    let answer = format!("{{\"Header\":{{\"ServerVersionInfo\":{{\"MajorVersion\":15,\"MinorVersion\":20,\"MajorBuildNumber\":8158,\"MinorBuildNumber\":20,\"Version\":\"V2018_01_08\"}}}},\"Body\":{{\"ResponseClass\":\"Success\",\"ResponseCode\":\"NoError\",\"__type\":\"{action}Response:#Exchange\"}}}}");
    let resp = owa_json_response(answer, &rid, now);
    sb.add(Some(EDGE), req, Some(resp), 70, Role::Signal)
}

/// `owa-web-healthy`: Outlook on the web in Edge, MSAL.js v2, about three hours.
pub fn owa_web_healthy(sb: &mut Sb) {
    // The page loads, MSAL.js redirects the top window to sign in (SSO by cookie).
    let rid = sb.guid();
    let now = sb.now;
    let mut page = Request {
        method: "GET".into(),
        url: "https://outlook.office.com/mail/".into(),
        version: "HTTP/1.1".into(),
        headers: Vec::new(),
        body: None,
    };
    let mut h = hdrs(&[("Host", "outlook.office.com"), ("Connection", "keep-alive")]);
    h.extend(hdrs(&[
        ("Upgrade-Insecure-Requests", "1"),
        ("User-Agent", crate::actors::EDGE_UA),
        (
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
        ("Sec-Fetch-Site", "none"),
        ("Sec-Fetch-Mode", "navigate"),
        ("Sec-Fetch-Dest", "document"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ]));
    page.headers = h;
    let html = "<!DOCTYPE html><html><head><title>Outlook</title><script src=\"https://res.cdn.office.net/owamail/20241115003.12/scripts/owa.boot.js\"></script></head><body><div id=\"app\"></div></body></html>".to_string();
    let mut resp = ex().ok_html(html.clone(), &rid, now);
    resp.headers.retain(|(n, _)| n != "X-CalculatedBETarget");
    sb.add(Some(EDGE), page.clone(), Some(resp), 90, Role::Signal);
    sb.wait(400);
    let mut token = spa_code_flow(sb, OWA_SCOPE, false, 0);
    let rid = sb.guid();
    let now = sb.now;
    let resp = ex().ok_html(html, &rid, now);
    sb.add(Some(EDGE), page, Some(resp), 80, Role::Signal);
    spa_code_flow(sb, GRAPH_SCOPE, true, 1);
    spa_token_ok(sb, SUBSTRATE_SCOPE, None, false);
    let mut k = 0;
    for hour in 0..4u64 {
        // A working hour: service calls every few minutes (the last hour is cut short).
        for _ in 0..if hour < 3 { 9 } else { 3 } {
            owa_call(sb, k, &token);
            k += 1;
            let pause = 3 * 60_000 + sb.rng.range(0, 180_000);
            sb.wait(pause);
        }
        if hour < 3 {
            // The hourly renewals: the refresh token for Outlook, the hidden iframe for Graph.
            sb.until(at(3_300 * (hour + 1)));
            token = spa_token_ok(sb, OWA_SCOPE, None, false);
            spa_code_flow(sb, GRAPH_SCOPE, true, 2 + hour as usize);
            spa_token_ok(sb, SUBSTRATE_SCOPE, None, false);
        }
    }
}

/// A blind CONNECT from `process` to `host`, open `secs` seconds; the clock moves on only
/// a little (tunnels overlap what follows).
fn blind_tunnel(sb: &mut Sb, host: &str, process: &str, secs: u64, bytes: (u64, u64)) -> usize {
    let begin = sb.now;
    let req = outlook::connect(
        host,
        Some(outlook::OUTLOOK_UA).filter(|_| process == OUTLOOK),
    );
    let resp = nz::tunnel_blind(begin, begin.plus_ms(secs * 1000), bytes.0, bytes.1);
    let id = sb.add(Some(process), req, Some(resp), secs * 1000, Role::Tunnel);
    sb.now = begin.plus_ms(350);
    sb.wait(40);
    id
}

/// Plain-http Windows background: NCSI, OCSP, certificate trust lists (`k` chooses).
fn plain_http(sb: &mut Sb, k: usize) -> usize {
    let now = sb.now;
    let (process, req, ctype, body, status): (&str, Request, &str, Vec<u8>, u16) = match k % 3 {
        0 => (
            "svchost:1388",
            clients::plain_get("http://www.msftconnecttest.com/connecttest.txt", "Microsoft NCSI"),
            "text/plain",
            b"Microsoft Connect Test".to_vec(),
            200,
        ),
        1 => {
            let mut der = vec![0x30, 0x82, 0x01, 0xd3, 0x0a, 0x01, 0x00, 0xa0, 0x82, 0x01, 0xcc];
            for _ in 0..6 {
                der.extend_from_slice(&sb.rng.next_u64().to_be_bytes());
            }
            (
                "outlook:4242",
                clients::plain_get("http://ocsp.digicert.com/MFEwTzBNMEswSTAJBgUrDgMCGgUABBTrjrydRyt%2BApF3GSPypfHBxR5XtQQUs9tIpPmhxdiuNkHMEWNpYim8S8YCEAI5PUjXAkJafLQcAAsO18o%3D", "Microsoft-CryptoAPI/10.0"),
                "application/ocsp-response",
                der,
                200,
            )
        }
        _ => (
            "svchost:2044",
            clients::plain_get("http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab?0b1a2c3d4e5f6071", "Microsoft-CryptoAPI/10.0"),
            "application/vnd.ms-cab-compressed",
            Vec::new(),
            304,
        ),
    };
    let mut h = hdrs(&[("Cache-Control", "max-age=900"), ("Content-Type", ctype)]);
    if status == 200 {
        h.push((BODY_HEADERS.into(), String::new()));
    }
    h.extend(hdrs(&[("Date", &now.http_date()), ("Connection", "close")]));
    let resp = Response {
        status,
        reason: if status == 200 { "OK" } else { "Not Modified" }.into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: (status == 200).then(|| Body::plain(body)),
    };
    sb.add(Some(process), req, Some(resp), 30, Role::Noise)
}

/// `blind-tunnels`: HTTPS decryption off: only CONNECT tunnels to the hosts that matter.
pub fn blind_tunnels(sb: &mut Sb) {
    plain_http(sb, 0);
    let plan: [(&str, u64, (u64, u64)); 12] = [
        ("autodiscover.contoso.com", 12, (2_310, 6_844)),
        ("login.microsoftonline.com", 8, (4_512, 11_873)),
        ("mail.contoso.com", 95, (18_220, 142_906)),
        ("outlook.office365.com", 20, (3_104, 7_390)),
        ("autodiscover.contoso.com", 10, (2_298, 6_850)),
        ("login.microsoftonline.com", 7, (4_460, 11_902)),
        ("mail.contoso.com", 120, (21_877, 98_310)),
        ("login.microsoftonline.com", 9, (4_530, 11_855)),
        ("outlook.office365.com", 18, (3_090, 7_402)),
        ("autodiscover.contoso.com", 11, (2_305, 6_838)),
        ("mail.contoso.com", 60, (9_412, 40_118)),
        ("login.microsoftonline.com", 8, (4_498, 11_861)),
    ];
    for (i, (host, secs, bytes)) in plan.into_iter().enumerate() {
        blind_tunnel(sb, host, OUTLOOK, secs, bytes);
        if i % 4 == 3 {
            plain_http(sb, i / 4 + 1);
        }
        sb.wait(4_000 + 1_500 * (i as u64 % 3));
    }
}

/// `half-blind`: Exchange decrypted, the tunnels to Entra ID left blind.
pub fn half_blind(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    for a in 0..3 {
        autodiscover_probe(sb);
        blind_tunnel(
            sb,
            "login.microsoftonline.com",
            OUTLOOK,
            3,
            (4_480 + a * 37, 11_870 - a * 12),
        );
        noise_run(sb, a as usize * 2, 2);
        sb.wait(18_000);
    }
}

/// Outlook's anonymous autodiscover POST answered 401 with the Bearer offer and
/// Negotiate/NTLM/Basic; the client-request-id it used.
fn autodiscover_probe(sb: &mut Sb) -> String {
    let crid = sb.guid();
    autodiscover_401(sb, None, &crid);
    crid
}

/// Outlook's autodiscover POST with `auth` (none, or a credential), answered 401 with the
/// Bearer offer and Negotiate/NTLM/Basic.
fn autodiscover_401(sb: &mut Sb, auth: Option<&str>, crid: &str) {
    let rid = sb.guid();
    let req = outlook::autodiscover(AUTODISCOVER_URL, false, auth, crid);
    let now = sb.now;
    let resp = ex().challenge_401(
        "autodiscover.contoso.com",
        &Challenge::hma_and_legacy(),
        &rid,
        now,
    );
    sb.add(Some(OUTLOOK), req, Some(resp), 9, Role::Signal);
}

/// Outlook's anonymous probes: autodiscover and EWS, each answered 401 with the Bearer offer
/// (authorization_uri) and Negotiate/NTLM/Basic.
fn anonymous_probes(sb: &mut Sb) {
    let crid = autodiscover_probe(sb);
    sb.wait(60);
    let rid = sb.guid();
    let req = outlook::ews(EWS_URL, &exchange::oof_request(), None, &crid);
    let now = sb.now;
    let resp = ex().challenge_401("mail.contoso.com", &Challenge::hma_and_legacy(), &rid, now);
    sb.add(Some(OUTLOOK), req, Some(resp), 8, Role::Signal);
}

/// `hma-ignored`: Exchange offers Bearer; Outlook never goes to Entra ID.
pub fn hma_ignored(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    for a in 0..4 {
        anonymous_probes(sb);
        noise_run(sb, a * 2, 2);
        sb.wait(25_000);
    }
}

/// A corporate proxy's (Squid) 403 to a CONNECT it blocks.
fn squid_403(host: &str, now: Instant) -> Response {
    let page = format!("<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<meta type=\"copyright\" content=\"Copyright (C) 1996-2022 The Squid Software Foundation and contributors\">\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n<title>ERROR: The requested URL could not be retrieved</title>\n<style type=\"text/css\"><!--\nhtml body {{ background: #fff; font-family: verdana, sans-serif; font-size: 12px; }}\nh1 {{ font-size: 1.8em; }}\n#error p, h3, b {{ font-weight: bold; }}\n--></style>\n</head><body id=ERR_ACCESS_DENIED>\n<div id=\"titles\">\n<h1>ERROR</h1>\n<h2>The requested URL could not be retrieved</h2>\n</div>\n<hr>\n\n<div id=\"content\">\n<p>The following error was encountered while trying to retrieve the URL: <a href=\"{host}:443\">{host}:443</a></p>\n\n<blockquote id=\"error\">\n<p><b>Access Denied.</b></p>\n</blockquote>\n\n<p>Access control configuration prevents your request from being allowed at this time. Please contact your service provider if you feel this is incorrect.</p>\n\n<p>Your cache administrator is <a href=\"mailto:helpdesk@contoso.com?subject=CacheErrorInfo%20-%20ERR_ACCESS_DENIED\">helpdesk@contoso.com</a>.</p>\n<br>\n</div>\n\n<hr>\n<div id=\"footer\">\n<p>Generated {} by proxy.contoso.local (squid/5.7)</p>\n<!-- ERR_ACCESS_DENIED -->\n</div>\n</body></html>\n", now.http_date());
    let h = hdrs(&[
        ("Server", "squid/5.7"),
        ("Mime-Version", "1.0"),
        ("Date", &now.http_date()),
        ("Content-Type", "text/html;charset=utf-8"),
        (BODY_HEADERS, ""),
        ("X-Squid-Error", "ERR_ACCESS_DENIED 0"),
        ("Vary", "Accept-Language"),
        ("Content-Language", "en"),
        ("X-Cache", "MISS from proxy.contoso.local"),
        ("X-Cache-Lookup", "NONE from proxy.contoso.local:3128"),
        ("Via", "1.1 proxy.contoso.local (squid/5.7)"),
        ("Connection", "keep-alive"),
    ]);
    Response {
        status: 403,
        reason: "Forbidden".into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::plain(page)),
    }
}

/// `entra-blocked`: Outlook tries to reach Entra ID; the corporate proxy refuses the tunnel.
pub fn entra_blocked(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    for a in 0..3 {
        anonymous_probes(sb);
        let now = sb.now;
        let req = outlook::connect(LOGIN, Some(outlook::OUTLOOK_UA));
        let id = sb.add(
            Some(OUTLOOK),
            req,
            Some(squid_403(LOGIN, now)),
            4,
            Role::Tunnel,
        );
        sb.sessions[id - 1].host_ip = ip_for("proxy.contoso.local").into();
        noise_run(sb, a * 2, 2);
        sb.wait(25_000);
    }
}

const NTLM_NEGOTIATE: &str = "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==";
const NTLM_CHALLENGE: &str = "TlRMTVNTUAACAAAADgAOADgAAAAFgomiESIzRFVmd4gAAAAAAAAAAJQAlABGAAAACgBhSgAAAA9DAE8ATgBUAE8AUwBPAAIADgBDAE8ATgBUAE8AUwBPAAEADABFAFgAQwBIADAAMQAEABYAYwBvAG4AdABvAHMAbwAuAGwAbwBjAGEAbAADACQAZQB4AGMAaAAwADEALgBjAG8AbgB0AG8AcwBvAC4AbABvAGMAYQBsAAcACADYQmNvAVrdAQAAAAA=";

/// `hma-declined`: Bearer offered, Outlook answers Basic (autodiscover, never gets in) and
/// NTLM (EWS, gets a 200).
pub fn hma_declined(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    let basic = format!("Basic {}", secrets::BASIC_CREDENTIAL);
    let crid = sb.guid();
    for auth in [
        None,
        Some(basic.as_str()),
        Some(basic.as_str()),
        Some(basic.as_str()),
    ] {
        autodiscover_401(sb, auth, &crid);
        // The "Need Password" prompt: the user types the password again.
        sb.wait(if auth.is_some() { 11_000 } else { 2_500 });
    }
    noise_run(sb, 0, 2);
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    let crid = sb.guid();
    let rid = sb.guid();
    let req = outlook::ews(EWS_URL, &exchange::oof_request(), None, &crid);
    let now = sb.now;
    let resp = ex().challenge_401("mail.contoso.com", &Challenge::hma_and_legacy(), &rid, now);
    sb.add(Some(OUTLOOK), req, Some(resp), 8, Role::Signal);
    let req = outlook::ews(
        EWS_URL,
        &exchange::oof_request(),
        Some(&format!("NTLM {NTLM_NEGOTIATE}")),
        &crid,
    );
    let rid = sb.guid();
    let now = sb.now;
    let mut ch = ex().challenge_401(
        "mail.contoso.com",
        &Challenge {
            diagnostics: None,
            ..Challenge::legacy_only()
        },
        &rid,
        now,
    );
    ch.headers.retain(|(n, _)| n != "WWW-Authenticate");
    let at_pos = ch
        .headers
        .iter()
        .position(|(n, _)| n == "X-Powered-By")
        .unwrap_or(0);
    ch.headers.insert(
        at_pos,
        ("WWW-Authenticate".into(), format!("NTLM {NTLM_CHALLENGE}")),
    );
    sb.add(Some(OUTLOOK), req, Some(ch), 5, Role::Signal);
    let req = outlook::ews(
        EWS_URL,
        &exchange::oof_request(),
        Some(&format!("NTLM {}", secrets::NTLM_AUTHENTICATE)),
        &crid,
    );
    let rid = sb.guid();
    let now = sb.now;
    let ok = ex().ok_xml(
        exchange::soap_response(OOF_OK),
        Coding::Identity,
        Framing::Length,
        &rid,
        now,
        true,
    );
    sb.add(Some(OUTLOOK), req, Some(ok), 40, Role::Signal);
    noise_run(sb, 2, 3);
}

pub(crate) const OOF_OK: &str = r#"<GetUserOofSettingsResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><OofSettings xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><OofState>Disabled</OofState><ExternalAudience>All</ExternalAudience><InternalReply><Message /></InternalReply><ExternalReply><Message /></ExternalReply></OofSettings><AllowExternalOof>All</AllowExternalOof></GetUserOofSettingsResponse>"#;
