//! Tenant restrictions v2: Windows (the tenant restrictions device policy) adds
//! `sec-Restrict-Tenant-Access-Policy: <tenant id>:<policy id>` to every request to Entra ID,
//! and Entra ID refuses sign-ins with an external tenant's account with AADSTS5000211.

use crate::actors::entra::{AadError, Entra};
use crate::actors::exchange::{self, Exchange};
use crate::actors::{outlook, OUTLOOK, TENANT_GUID};
use crate::model::{Coding, Framing};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{
    noise, noise_run, outlook_loop, tag_entra_requests, tunnel, Adal, ErrorPlace,
};
use crate::scenarios::{adal, hybrid};

const EWS_URL: &str = "https://outlook.office365.com/EWS/Exchange.asmx";
const RESOURCE: &str = "https://outlook.office365.com";
/// The object id of Contoso's tenant restrictions policy (not a secret).
const POLICY_ID: &str = "5b7f2c3e-8a41-4d9b-a6e0-3c1d9f2b7e54";
/// The external tenant as Entra ID names it in the message.
const DENIED: &str = "Fabrikam Inc";

/// AADSTS5000211 as Entra ID words it.
fn e5000211(tenant: &str) -> AadError {
    AadError {
        code: 5000211,
        error: "invalid_request",
        message: format!(
            "A tenant restrictions policy added to this request by a device or network administrator does not allow access to '{tenant}'."
        ),
        legacy: false,
        extra: Vec::new(),
    }
}

/// Adds the v2 header (as the Windows client stack does) to the requests to Entra ID added
/// since session index `first`.
fn tag(sb: &mut Sb, first: usize) {
    let value = format!("{TENANT_GUID}:{POLICY_ID}");
    tag_entra_requests(sb, first, &[("sec-Restrict-Tenant-Access-Policy", &value)]);
}

/// Exchange Online's front and back end for the mailbox.
const EXO: Exchange = Exchange {
    fe: "AM6PR04CA0012",
    be: "AM7PR02MB5686",
};

/// The refusals: `rounds` EWS 401 -> token request -> 400 AADSTS5000211, the first through
/// authorize, the others silent refreshes; the JSON gzip-coded and chunked as Entra ID sends
/// it. Returns the loop.
fn refused(sb: &mut Sb, rounds: usize) -> usize {
    sb.tenant_name = Some(DENIED.into());
    let l = outlook_loop(
        sb,
        RESOURCE,
        "outlook.office365.com",
        "login.microsoftonline.com",
        "common",
    );
    let adal = Adal {
        entra: Entra::mso(),
        tenant: "common",
        resource: RESOURCE,
        error: e5000211(DENIED),
    };
    const PLACES: [ErrorPlace; 3] = [
        ErrorPlace::Json(Coding::Gzip, Framing::Chunked(96)),
        ErrorPlace::Json(Coding::Gzip, Framing::Length),
        ErrorPlace::Json(Coding::Identity, Framing::Chunked(200)),
    ];
    for a in 0..rounds {
        let id = hybrid::exo_ews_401(sb, &EXO, EWS_URL);
        sb.challenge(l, id);
        if a == 0 {
            tunnel(sb, "login.microsoftonline.com", OUTLOOK);
        }
        let first = sb.sessions.len();
        adal.attempt(sb, l, a == 0, PLACES[a % 3], a);
        tag(sb, first);
        noise_run(sb, a * 2, 2);
        sb.wait(12_000);
    }
    l
}

/// `tenant-restriction-v2`: Outlook opens a mailbox with an account of a partner tenant
/// (Fabrikam); Contoso's devices carry its tenant restrictions v2 policy, which does not
/// allow Fabrikam: three token requests refused with AADSTS5000211.
pub fn tenant_restriction_v2(sb: &mut Sb) {
    tunnel(sb, "outlook.office365.com", OUTLOOK);
    noise(sb, 5);
    refused(sb, 3);
}

/// `tenant-restriction-v2-switched`: the same refusal twice, then the user signs in with
/// the Contoso account the policy allows: the token comes and EWS answers 200.
pub fn tenant_restriction_v2_switched(sb: &mut Sb) {
    tunnel(sb, "outlook.office365.com", OUTLOOK);
    noise(sb, 5);
    let l = refused(sb, 2);
    let first = sb.sessions.len();
    let at = adal::code_sign_in(sb, l, RESOURCE, 3);
    tag(sb, first);
    let req = outlook::ews(
        EWS_URL,
        &exchange::oof_request(),
        Some(&format!("Bearer {at}")),
        &sb.guid(),
    );
    hybrid::ews_ok(
        sb,
        Some(OUTLOOK),
        req,
        hybrid::OOF_RESPONSE,
        Coding::Gzip,
        Framing::Chunked(512),
    );
    noise_run(sb, 6, 2);
}
