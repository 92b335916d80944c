//! Issue-4 scenarios: the Outlook ADAL/HMA loop in its variants, and the healthy case.

use crate::actors::entra::{id_token, user_token, AadError, Entra};
use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::{
    noise as nz, outlook, BROKER, OFFICE_CLIENT, OUTLOOK, TENANT_DOMAIN, TENANT_GUID, TENANT_NAME,
    USER,
};
use crate::json::J;
use crate::model::{Coding, Framing, Role};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{
    autodiscover_challenge, noise, noise_run, outlook_loop, tunnel, Adal, AdalLoop, ErrorPlace,
};
use crate::secrets;

/// Outlook's autodiscover URL on the on-premises namespace.
pub const AUTODISCOVER_URL: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
/// The resource Outlook asks for.
pub const AUTODISCOVER_RESOURCE: &str = "https://autodiscover.contoso.com";

/// How the token errors of successive attempts travel (varied on purpose).
const JSON_PLACES: [ErrorPlace; 6] = [
    ErrorPlace::Json(Coding::Identity, Framing::Length),
    ErrorPlace::Json(Coding::Gzip, Framing::Chunked(96)),
    ErrorPlace::Json(Coding::Identity, Framing::Chunked(200)),
    ErrorPlace::Json(Coding::Deflate, Framing::Length),
    ErrorPlace::Json(Coding::Gzip, Framing::Length),
    ErrorPlace::Json(Coding::Br, Framing::Chunked(128)),
];

/// The loop most scenarios stage: autodiscover.contoso.com asks
/// `login.microsoftonline.com/common` and is refused with AADSTS500011.
fn contoso_500011(sb: &mut Sb) -> AdalLoop<'static> {
    AdalLoop::open(
        sb,
        AUTODISCOVER_URL,
        AUTODISCOVER_RESOURCE,
        (Entra::mso(), "common", TENANT_NAME),
        AadError::e500011(AUTODISCOVER_RESOURCE, TENANT_NAME),
    )
}

/// The classic loop: `attempts` rounds of autodiscover 401 -> (authorize ->) token -> 400
/// AADSTS500011, `noise_per` background sessions after each, ~10 s apart.
pub fn json_loop(sb: &mut Sb, attempts: usize, noise_per: usize, noise_kind: usize) {
    let lp = contoso_500011(sb);
    for a in 0..attempts {
        lp.challenge(sb, a % 3 == 2);
        if a == 0 {
            tunnel(sb, "login.microsoftonline.com", OUTLOOK);
        }
        lp.attempt(sb, a % 3 == 0, JSON_PLACES[a % 6], a);
        noise_run(sb, noise_kind + a * noise_per, noise_per);
        sb.wait(8_700);
    }
}

/// 1. `adal-500011-json`.
pub fn adal_500011_json(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    noise(sb, 7);
    json_loop(sb, 6, 3, 0);
}

/// 2. `adal-500011-redirect`.
pub fn adal_500011_redirect(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    let lp = contoso_500011(sb);
    for a in 0..3 {
        lp.challenge(sb, false);
        lp.attempt(sb, true, ErrorPlace::Redirect, a);
        noise_run(sb, a * 2, 2);
        sb.wait(12_000);
    }
}

/// 3. `adal-500011-signin-page`.
pub fn adal_500011_signin_page(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    let lp = contoso_500011(sb);
    for a in 0..2 {
        lp.challenge(sb, false);
        lp.attempt(sb, true, ErrorPlace::SigninPage, a);
        noise_run(sb, 3 + a * 2, 2);
        sb.wait(20_000);
    }
}

/// 4. `adal-50001-legacy`: the old service wording, tenant domain in the path.
pub fn adal_50001_legacy(sb: &mut Sb) {
    let resource = "https://autodiscover.contoso.com/";
    let lp = AdalLoop::open(
        sb,
        AUTODISCOVER_URL,
        resource,
        (Entra::mso(), TENANT_DOMAIN, TENANT_DOMAIN),
        AadError::e50001(resource, TENANT_DOMAIN),
    );
    for a in 0..3 {
        lp.challenge(sb, false);
        lp.attempt(
            sb,
            a == 0,
            ErrorPlace::Json(Coding::Identity, Framing::Length),
            a,
        );
        noise_run(sb, a, 2);
        sb.wait(15_000);
    }
}

/// 5. `adal-windows-net-tenant-guid`.
pub fn adal_windows_net_tenant_guid(sb: &mut Sb) {
    let url = "https://AutoDiscover.Contoso.com/autodiscover/autodiscover.xml";
    let resource = "https://AutoDiscover.Contoso.com/";
    tunnel(sb, "AutoDiscover.Contoso.com", OUTLOOK);
    let lp = AdalLoop::open(
        sb,
        url,
        resource,
        (Entra::windows_net(), TENANT_GUID, TENANT_GUID),
        AadError::e500011(resource, TENANT_GUID),
    );
    for a in 0..3 {
        lp.challenge(sb, false);
        if a == 0 {
            tunnel(sb, "login.windows.net", OUTLOOK);
        }
        let place = if a == 1 {
            ErrorPlace::Json(Coding::Gzip, Framing::Chunked(64))
        } else {
            ErrorPlace::Json(Coding::Identity, Framing::Length)
        };
        lp.attempt(sb, a == 0, place, a);
        noise_run(sb, 2 + a, 2);
        sb.wait(11_000);
    }
}

/// The WAM `request=` JWT for `resource`.
pub fn wam_request_jwt(resource: &str, sb: &Sb) -> String {
    let now = sb.now.unix();
    let claims = J::o(vec![
        (
            "aud",
            J::s("https://login.microsoftonline.com/common/oauth2/token"),
        ),
        ("iss", J::s(OFFICE_CLIENT)),
        ("iat", J::n(now)),
        ("nbf", J::n(now)),
        ("exp", J::n(now + 600)),
        ("grant_type", J::s("refresh_token")),
        ("refresh_token", J::s(secrets::RT_WAM_CLAIM)),
        ("client_id", J::s(OFFICE_CLIENT)),
        ("resource", J::s(resource)),
        (
            "redirect_uri",
            J::s(format!(
                "ms-appx-web://Microsoft.AAD.BrokerPlugin/{OFFICE_CLIENT}"
            )),
        ),
        ("windows_api_version", J::s("2.0")),
        ("client_info", J::s("1")),
        ("login_hint", J::s(USER)),
    ]);
    secrets::jwt(&claims, secrets::SIG_WAM_REQUEST)
}

/// 6. `wam-jwt-bearer`: Outlook is challenged, the broker asks Entra.
pub fn wam_jwt_bearer(sb: &mut Sb) {
    let entra = Entra::mso();
    let err = AadError::e500011(AUTODISCOVER_RESOURCE, TENANT_NAME);
    sb.tenant_name = Some(TENANT_NAME.into());
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    let l = sb.begin_loop(
        AUTODISCOVER_RESOURCE,
        "autodiscover.contoso.com",
        "login.microsoftonline.com",
        "common",
        OFFICE_CLIENT,
        // The broker asks on Outlook's behalf: the flow belongs to the challenged process.
        OUTLOOK,
    );
    for a in 0..3 {
        let id = autodiscover_challenge(sb, AUTODISCOVER_URL, false, &Challenge::hma_and_legacy());
        sb.challenge(l, id);
        if a == 0 {
            tunnel(sb, "login.microsoftonline.com", BROKER);
        }
        let crid = sb.guid();
        let req = outlook::wam_token(
            "login.microsoftonline.com",
            "common",
            &wam_request_jwt(AUTODISCOVER_RESOURCE, sb),
            &crid,
        );
        let now = sb.now;
        let framing = if a == 1 {
            Framing::Chunked(150)
        } else {
            Framing::Length
        };
        let resp = entra.token_error(&err, &crid, &mut sb.rng, now, Coding::Identity, framing);
        let id = sb.add(Some(BROKER), req, Some(resp), 110, Role::Signal);
        sb.entra(l, id, true);
        sb.error(l, id, err.code);
        noise_run(sb, 4 + a, 2);
        sb.wait(14_000);
    }
}

/// 7. `two-hosts`: autodiscover and mail (EWS, MAPI) both draw 500011.
pub fn two_hosts(sb: &mut Sb) {
    let mail = "https://mail.contoso.com";
    let ews = "https://mail.contoso.com/EWS/Exchange.asmx";
    let mapi = "https://mail.contoso.com/mapi/emsmdb/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com";
    sb.tenant_name = Some(TENANT_NAME.into());
    let ml = Adal {
        entra: Entra::mso(),
        tenant: "common",
        resource: mail,
        error: AadError::e500011(mail, TENANT_NAME),
    };
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    let ad = contoso_500011(sb);
    let l2 = outlook_loop(
        sb,
        mail,
        "mail.contoso.com",
        "login.microsoftonline.com",
        "common",
    );
    for a in 0..3 {
        ad.challenge(sb, false);
        if a == 0 {
            tunnel(sb, "login.microsoftonline.com", OUTLOOK);
        }
        ad.attempt(sb, a == 0, JSON_PLACES[a], a);
        if a == 0 {
            tunnel(sb, "mail.contoso.com", OUTLOOK);
        }
        // EWS and MAPI are challenged; Outlook asks once for the mail resource.
        let crid = sb.guid();
        let rid = sb.guid();
        let now = sb.now;
        let req = outlook::ews(ews, &exchange::oof_request(), None, &crid);
        let resp = Exchange::new().challenge_401(
            "mail.contoso.com",
            &Challenge::hma_and_legacy(),
            &rid,
            now,
        );
        let id = sb.add(Some(OUTLOOK), req, Some(resp), 8, Role::Signal);
        sb.challenge(l2, id);
        let rid = sb.guid();
        let now = sb.now;
        let req = outlook::mapi_connect(mapi, None, &crid, a as u32 + 1);
        let resp = Exchange::new().challenge_401(
            "mail.contoso.com",
            &Challenge::hma_and_legacy(),
            &rid,
            now,
        );
        let id = sb.add(Some(OUTLOOK), req, Some(resp), 8, Role::Signal);
        sb.challenge(l2, id);
        ml.attempt(sb, l2, a == 0, JSON_PLACES[(a + 3) % 6], a + 1);
        noise_run(sb, a * 2, 2);
        sb.wait(13_000);
    }
}

/// Outlook is challenged by autodiscover.contoso.com (`challenge`), signs in (authorize, the
/// code redeemed, a token issued) and returns the `Authorization` value for its retries.
pub fn signed_in(sb: &mut Sb, challenge: &Challenge, code_no: usize) -> String {
    let l = outlook_loop(
        sb,
        AUTODISCOVER_RESOURCE,
        "autodiscover.contoso.com",
        "login.microsoftonline.com",
        "common",
    );
    let id = autodiscover_challenge(sb, AUTODISCOVER_URL, false, challenge);
    sb.challenge(l, id);
    tunnel(sb, "login.microsoftonline.com", OUTLOOK);
    let at = code_sign_in(sb, l, AUTODISCOVER_RESOURCE, code_no);
    format!("Bearer {at}")
}

/// Outlook's interactive sign-in in loop `l`: authorize (answered with code `code_no`), the
/// code redeemed, a token for `resource` issued. Returns the access token.
pub fn code_sign_in(sb: &mut Sb, l: usize, resource: &str, code_no: usize) -> String {
    let entra = Entra::mso();
    let crid = sb.guid();
    let cookies = format!(
        "buid={}; fpc={}; x-ms-gateway-slice=estsfd; stsservicecookie=estsfd",
        secrets::COOKIE_BUID,
        secrets::COOKIE_FPC
    );
    let req = outlook::adal_authorize(entra.host, "common", resource, &crid, Some(&cookies));
    let now = sb.now;
    let resp = entra.authorize_code_302(secrets::AUTH_CODES[code_no], &mut sb.rng, now);
    let id = sb.add(Some(OUTLOOK), req, Some(resp), 150, Role::Signal);
    sb.entra(l, id, true);
    sb.wait(30);
    let req = outlook::adal_token_code(
        entra.host,
        "common",
        resource,
        secrets::AUTH_CODES[code_no],
        &crid,
    );
    let now = sb.now;
    let at = user_token(resource, OFFICE_CLIENT, now, secrets::SIG_OUTLOOK_AT);
    let resp = entra.token_ok(
        resource,
        &at,
        secrets::RT_ISSUED,
        &id_token(now),
        &crid,
        &mut sb.rng,
        now,
    );
    let id = sb.add(Some(OUTLOOK), req, Some(resp), 120, Role::Signal);
    sb.entra(l, id, false);
    sb.token(l);
    sb.wait(40);
    at
}

/// 8. `healthy-token-issued`: the token comes, autodiscover and MAPI answer 200.
pub fn healthy_token_issued(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    noise(sb, 7);
    let bearer = signed_in(sb, &Challenge::hma_and_legacy(), 0);
    let crid = sb.guid();
    let rid = sb.guid();
    let now = sb.now;
    let req = outlook::autodiscover(AUTODISCOVER_URL, false, Some(&bearer), &crid);
    let resp = Exchange::new().ok_xml(
        exchange::autodiscover_response_xml("mail.contoso.com"),
        Coding::Gzip,
        Framing::Chunked(512),
        &rid,
        now,
        false,
    );
    sb.add(Some(OUTLOOK), req, Some(resp), 180, Role::Signal);
    noise_run(sb, 0, 3);
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    let mapi = "https://mail.contoso.com/mapi/emsmdb/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com";
    let rid = sb.guid();
    let now = sb.now;
    let req = outlook::mapi_connect(mapi, Some(&bearer), &crid, 1);
    let resp = Exchange::new().mapi_ok(&rid, now);
    sb.add(Some(OUTLOOK), req, Some(resp), 210, Role::Signal);
    noise_run(sb, 3, 4);
}

/// 9. `http-resource`: the challenge comes over plain http.
pub fn http_resource(sb: &mut Sb) {
    let url = "http://autodiscover.contoso.com/autodiscover/autodiscover.xml";
    let resource = "http://autodiscover.contoso.com";
    let lp = AdalLoop::open(
        sb,
        url,
        resource,
        (Entra::mso(), "common", TENANT_NAME),
        AadError::e500011(resource, TENANT_NAME),
    );
    for a in 0..3 {
        lp.challenge(sb, false);
        if a == 0 {
            tunnel(sb, "login.microsoftonline.com", OUTLOOK);
        }
        lp.attempt(sb, a == 0, JSON_PLACES[a + 1], a);
        noise_run(sb, a + 5, 2);
        sb.wait(10_000);
    }
}

/// 10. `buried-in-noise`: three attempts of the loop among ~600 background sessions.
pub fn buried_in_noise(sb: &mut Sb) {
    let hosts = [
        ("config.edge.skype.com", OUTLOOK),
        ("self.events.data.microsoft.com", OUTLOOK),
        ("nexus.officeapps.live.com", OUTLOOK),
        ("officeclient.microsoft.com", OUTLOOK),
        ("presence.teams.microsoft.com", nz::TEAMS),
        ("officecdn.microsoft.com", nz::C2R),
        ("odc.officeapps.live.com", OUTLOOK),
    ];
    for (h, p) in hosts {
        tunnel(sb, h, p);
    }
    let mut k = 0;
    let mut block = |sb: &mut Sb, n: usize| {
        for _ in 0..n {
            if k == 222 {
                // One aborted session: the client reset the telemetry upload.
                let now = sb.now;
                let n = nz::telemetry(&mut sb.rng, now);
                sb.add(n.process, n.request, None, 0, Role::Noise);
            } else {
                noise(sb, k);
            }
            k += 1;
            sb.wait(if k % 40 == 0 { 2_500 } else { 60 });
        }
    };
    block(sb, 120);
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    let lp = contoso_500011(sb);
    for a in 0..3 {
        lp.challenge(sb, false);
        if a == 0 {
            tunnel(sb, "login.microsoftonline.com", OUTLOOK);
        }
        block(sb, 3);
        lp.attempt(sb, a == 0, JSON_PLACES[(a * 2) % 6], a);
        block(sb, 85);
    }
    block(sb, 15);
}
