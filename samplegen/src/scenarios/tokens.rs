//! Issue 24, item 1: tokens checked against the request that carries them. A sign-in sent
//! to another tenant than the challenge names, a token presented to a host it was not
//! issued for, an expired token presented again and again, a client clock off the server's,
//! and a Conditional Access device answer to a client that showed no device.

use crate::actors::entra::{hourly_token, user_token, AadError, Entra};
use crate::actors::exchange::{Challenge, Exchange};
use crate::actors::{outlook, OFFICE_CLIENT, OUTLOOK};
use crate::clock::Instant;
use crate::model::{Coding, Framing, Response, Role};
use crate::scenarios::adal::{AUTODISCOVER_RESOURCE, AUTODISCOVER_URL};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{noise_run, tunnel, AdalLoop, ErrorPlace};
use crate::scenarios::hybrid::exo_challenge_then_token;
use crate::secrets;

/// Fabrikam's tenant: where a second work account signed in to Office lives.
pub const FABRIKAM_GUID: &str = "4c1f2b3a-5d6e-4f70-8a9b-0c1d2e3f4a5b";
const EWS_URL: &str = "https://mail.contoso.com/EWS/Exchange.asmx";
const MAPI_URL: &str = "https://mail.contoso.com/mapi/emsmdb/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com";
const SCOPE: &str = "EWS.AccessAsUser.All Mail.ReadWrite";
const FIND_ITEM: &str = r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>"#;
const FIND_ITEM_RESPONSE: &str = r#"<m:FindItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages><m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:RootFolder TotalItemsInView="0" IncludesLastItemInRange="true"><t:Items/></m:RootFolder></m:FindItemResponseMessage></m:ResponseMessages></m:FindItemResponse>"#;

fn find_item() -> String {
    crate::actors::exchange::soap_request(FIND_ITEM, "Exchange2013_SP1")
}

/// A Bearer-only 401 whose `x-ms-diagnostics` a reverse proxy in front of Exchange stripped.
fn bearer_401_no_diag(sb: &mut Sb, host: &str, now: Instant) -> Response {
    let rid = sb.guid();
    let c = Challenge {
        bearer_error: true,
        diagnostics: None,
        ..Challenge::bearer_only()
    };
    Exchange::new().challenge_401(host, &c, &rid, now)
}

/// `token-wrong-tenant-500011`: autodiscover's challenge names Contoso's tenant; Outlook,
/// signed in with a second account of Fabrikam, sends its token requests to Fabrikam's
/// tenant and is answered AADSTS500011 "not found in the tenant named Fabrikam".
pub fn token_wrong_tenant_500011(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    noise_run(sb, 3, 2);
    let lp = AdalLoop::open(
        sb,
        AUTODISCOVER_URL,
        AUTODISCOVER_RESOURCE,
        (Entra::mso(), FABRIKAM_GUID, "Fabrikam"),
        AadError::e500011(AUTODISCOVER_RESOURCE, "Fabrikam"),
    );
    for a in 0..3 {
        lp.challenge(sb, false);
        if a == 0 {
            tunnel(sb, "login.microsoftonline.com", OUTLOOK);
        }
        let place = if a == 1 {
            ErrorPlace::Json(Coding::Gzip, Framing::Chunked(128))
        } else {
            ErrorPlace::Json(Coding::Identity, Framing::Length)
        };
        lp.attempt(sb, a == 0, place, a);
        noise_run(sb, a * 2, 2);
        sb.wait(9_500);
    }
}

/// `token-audience-mismatch`: Outlook presents its autodiscover token to EWS on
/// mail.contoso.com three times; the reverse proxy in front of Exchange strips
/// `x-ms-diagnostics`, so only the token says why it is refused.
pub fn token_audience_mismatch(sb: &mut Sb) {
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    let token = user_token(
        "https://autodiscover.contoso.com",
        OFFICE_CLIENT,
        sb.now,
        secrets::SIG_WRONG_AUDIENCE,
    );
    let bearer = format!("Bearer {token}");
    for a in 0..3 {
        let crid = sb.guid();
        let req = outlook::ews_op(EWS_URL, "FindItem", &find_item(), Some(&bearer), &crid);
        let now = sb.now;
        let resp = bearer_401_no_diag(sb, "mail.contoso.com", now);
        sb.add(Some(OUTLOOK), req, Some(resp), 14, Role::Signal);
        noise_run(sb, a * 2, 2);
        sb.wait(11_000);
    }
}

/// `token-expired-presented`: Outlook keeps presenting a MAPI token that expired two hours
/// ago (its token cache is stuck and it never goes to Entra ID); Exchange answers 401
/// 2000001 "The token has expired." four times.
pub fn token_expired_presented(sb: &mut Sb) {
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    let iat = sb.now.unix() - 3 * 3600;
    let token = hourly_token(
        "https://mail.contoso.com",
        OFFICE_CLIENT,
        SCOPE,
        iat,
        false,
        secrets::SIG_HOURLY_AT,
    );
    let bearer = format!("Bearer {token}");
    let crid = sb.guid();
    for a in 0..4u32 {
        let rid = sb.guid();
        let req = outlook::mapi_connect(MAPI_URL, Some(&bearer), &crid, a + 1);
        let now = sb.now;
        let resp = Exchange::new().challenge_401(
            "mail.contoso.com",
            &Challenge::bearer_expired(),
            &rid,
            now,
        );
        sb.add(Some(OUTLOOK), req, Some(resp), 11, Role::Signal);
        noise_run(sb, a as usize * 2, 2);
        sb.wait(30_000);
    }
}

/// `clock-skew`: the client's clock is 17 minutes behind; every EWS answer's `Date` says so.
/// The tokens are valid and every call gets in: a warning, no error.
pub fn clock_skew(sb: &mut Sb) {
    const SKEW_MS: u64 = 17 * 60 * 1000;
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    // Entra ID issued the token by the real (server) time.
    let token = user_token(
        "https://mail.contoso.com",
        OFFICE_CLIENT,
        sb.now.plus_ms(SKEW_MS),
        secrets::SIG_OUTLOOK_AT,
    );
    let bearer = format!("Bearer {token}");
    for a in 0..4 {
        let crid = sb.guid();
        let req = outlook::ews_op(EWS_URL, "FindItem", &find_item(), Some(&bearer), &crid);
        let rid = sb.guid();
        let server_now = sb.now.plus_ms(SKEW_MS);
        let resp = Exchange::new().ok_xml(
            crate::actors::exchange::soap_response(FIND_ITEM_RESPONSE),
            Coding::Gzip,
            Framing::Chunked(300),
            &rid,
            server_now,
            true,
        );
        sb.add(Some(OUTLOOK), req, Some(resp), 60, Role::Signal);
        noise_run(sb, a * 2, 2);
        sb.wait(40_000);
    }
}

/// `ca-53000-no-device`: Exchange Online's token is refused with AADSTS53000 (device not
/// compliant) and the sign-in requests carried no device credential (no PRT cookie, no
/// PKeyAuth answer).
pub fn ca_53000_no_device(sb: &mut Sb) {
    exo_challenge_then_token(
        sb,
        AadError {
            code: 53000,
            error: "invalid_grant",
            message: "Device is not in required device state: compliant. Conditional Access policy requires a compliant device, and the device is not compliant. The user must enroll their device with an approved MDM provider like Intune.".into(),
            legacy: false,
            extra: vec![("suberror", "message_only".into())],
        },
    );
}
