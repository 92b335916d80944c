//! "A healthy day is silent, a broken one names its one cause": the normal token cycle over a
//! workday, MFA step-up, Outlook on the web, captures that cannot show the failure (blind
//! tunnels), and the client that ignores or declines Exchange's Bearer offer.

use crate::actors::clients::{self, OWA_REDIRECT};
use crate::actors::entra::{hourly_token, id_token, AadError, Entra};
use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::{
    hdrs, noise as nz, outlook, EDGE, OFFICE_CLIENT, OUTLOOK, OWA_CLIENT, TEAMS_CLIENT, USER,
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
fn teams_token(sb: &mut Sb, scope: &str) -> usize {
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
                    sb.wait(400);
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
