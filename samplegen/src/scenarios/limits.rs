//! Issue 24 item 5: captures whose way of being taken hides part of the failure
//! (`capture_limits` in the report), beside the scenarios that already show one
//! (`blind-tunnels`, `half-blind`: HTTPS decryption off).

use crate::actors::entra::{AadError, Entra};
use crate::actors::TENANT_NAME;
use crate::model::{Coding, Framing};
use crate::scenarios::adal::{AUTODISCOVER_RESOURCE, AUTODISCOVER_URL};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{noise, noise_run, tunnel, AdalLoop, ErrorPlace};
use crate::scenarios::precision::owa_web_healthy;

/// `capture-started-late`: Fiddler was started after Outlook was challenged. The capture
/// holds Outlook's token requests refused with AADSTS500011 (a refresh-token grant each
/// round, ~9 s apart), and not one 401 from Exchange: the loop is there, its beginning is
/// not.
pub fn capture_started_late(sb: &mut Sb) {
    let lp = AdalLoop::open(
        sb,
        AUTODISCOVER_URL,
        AUTODISCOVER_RESOURCE,
        (Entra::mso(), "common", TENANT_NAME),
        AadError::e500011(AUTODISCOVER_RESOURCE, TENANT_NAME),
    );
    // No challenge in the capture: the flow has no challenging host.
    sb.loops[lp.l].challenge_host = String::new();
    noise(sb, 3);
    tunnel(sb, "login.microsoftonline.com", crate::actors::OUTLOOK);
    let places = [
        ErrorPlace::Json(Coding::Identity, Framing::Length),
        ErrorPlace::Json(Coding::Gzip, Framing::Chunked(96)),
        ErrorPlace::Json(Coding::Identity, Framing::Chunked(200)),
        ErrorPlace::Json(Coding::Gzip, Framing::Length),
    ];
    for (a, place) in places.into_iter().enumerate() {
        lp.attempt(sb, false, place, a);
        noise_run(sb, 2 + a * 2, 2);
        sb.wait(9_100);
    }
}

/// `har-sanitized`: the healthy Outlook on the web day of `owa-web-healthy`, exported the
/// way Edge and Chrome export a HAR by default since 2024: no `Authorization`, `Cookie` or
/// `Set-Cookie` header anywhere. The SAZ of the same sessions is the "does not trigger"
/// case: Fiddler saves what it saw, a SAZ is never sanitized on export.
pub fn har_sanitized(sb: &mut Sb) {
    owa_web_healthy(sb);
    let stripped = |h: &mut Vec<(String, String)>| {
        h.retain(|(n, _)| {
            !["authorization", "cookie", "set-cookie"]
                .iter()
                .any(|x| n.eq_ignore_ascii_case(x))
        });
    };
    for s in &mut sb.sessions {
        stripped(&mut s.request.headers);
        if let Some(r) = s.response.as_mut() {
            stripped(&mut r.headers);
        }
    }
}
