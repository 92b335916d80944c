//! Steps shared by the scenarios: noise, tunnels, Outlook's autodiscover challenge, and one
//! ADAL attempt against Entra.

use crate::actors::entra::{AadError, Entra};
use crate::actors::exchange::{Challenge, Exchange};
use crate::actors::{noise, outlook, OFFICE_CLIENT, OUTLOOK};
use crate::model::{host_of, Coding, Framing, Role, BODY_HEADERS};
use crate::scenarios::builder::Sb;
use crate::secrets;

/// Adds background session number `k` (kind rotates).
pub fn noise(sb: &mut Sb, k: usize) -> usize {
    let now = sb.now;
    let n = noise::kind(k, &mut sb.rng, now);
    sb.add(n.process, n.request, n.response, n.wait_ms, Role::Noise)
}

/// Adds `count` background sessions starting at kind `k`, a little time between them.
pub fn noise_run(sb: &mut Sb, k: usize, count: usize) {
    for i in 0..count {
        noise(sb, k + i);
        sb.wait(150);
    }
}

/// Adds `headers`, in this order and before the framing headers, to every request to Entra
/// ID made since session index `first`: what a proxy (tenant restrictions v1) or the
/// client's own stack (v2) puts on each sign-in.
pub fn tag_entra_requests(sb: &mut Sb, first: usize, headers: &[(&str, &str)]) {
    for s in sb.sessions[first..].iter_mut() {
        if !s
            .request
            .url
            .starts_with("https://login.microsoftonline.com/")
        {
            continue;
        }
        let at = s
            .request
            .headers
            .iter()
            .position(|(n, _)| n == BODY_HEADERS)
            .unwrap_or(s.request.headers.len());
        for (i, (name, value)) in headers.iter().enumerate() {
            s.request
                .headers
                .insert(at + i, (name.to_string(), value.to_string()));
        }
    }
}

/// Adds a decrypted CONNECT tunnel to `host` from `process`.
pub fn tunnel(sb: &mut Sb, host: &str, process: &str) -> usize {
    let now = sb.now;
    let req = outlook::connect(
        host,
        Some(outlook::OUTLOOK_UA).filter(|_| process == OUTLOOK),
    );
    let resp = noise::tunnel_ok(host, now);
    sb.add(Some(process), req, Some(resp), 0, Role::Tunnel)
}

/// Outlook asks `url` (autodiscover) without a token and is challenged as `c`.
pub fn autodiscover_challenge(sb: &mut Sb, url: &str, get: bool, c: &Challenge) -> usize {
    let crid = sb.guid();
    let rid = sb.guid();
    let req = outlook::autodiscover(url, get, None, &crid);
    let resp = Exchange::new().challenge_401(&host_of(url), c, &rid, sb.now);
    sb.add(Some(OUTLOOK), req, Some(resp), 9, Role::Signal)
}

/// Where Entra reports the error in an attempt.
#[derive(Clone, Copy, Debug)]
pub enum ErrorPlace {
    /// Token endpoint JSON 400, body coded and framed as given.
    Json(Coding, Framing),
    /// Authorize 302 to the redirect URI with `?error=`.
    Redirect,
    /// Authorize 200 HTML sign-in page with `$Config`.
    SigninPage,
}

/// An ADAL client (Outlook) asking one authority for one resource.
pub struct Adal<'a> {
    /// Authority.
    pub entra: Entra,
    /// Tenant path segment.
    pub tenant: &'a str,
    /// Resource as asked (`https://autodiscover.contoso.com`).
    pub resource: &'a str,
    /// The error Entra answers.
    pub error: AadError,
}

impl Adal<'_> {
    /// One attempt of loop `l`. `interactive` goes through authorize (code grant); otherwise
    /// a silent refresh-token grant. Returns the session ids it added.
    pub fn attempt(
        &self,
        sb: &mut Sb,
        l: usize,
        interactive: bool,
        place: ErrorPlace,
        code_no: usize,
    ) -> Vec<usize> {
        let host = self.entra.host;
        let crid = sb.guid();
        let mut ids = Vec::new();
        let via_authorize = interactive || !matches!(place, ErrorPlace::Json(..));
        if via_authorize {
            let cookies = format!(
                "buid={}; fpc={}; esctx=AQABAAAAAAD--DLA3VO7QrddgJg7WevrStandIn; x-ms-gateway-slice=estsfd; stsservicecookie=estsfd",
                secrets::COOKIE_BUID,
                secrets::COOKIE_FPC
            );
            let req =
                outlook::adal_authorize(host, self.tenant, self.resource, &crid, Some(&cookies));
            let now = sb.now;
            let resp = match place {
                ErrorPlace::Json(..) => self.entra.authorize_code_302(
                    secrets::AUTH_CODES[code_no % 4],
                    &mut sb.rng,
                    now,
                ),
                ErrorPlace::Redirect => {
                    self.entra
                        .authorize_error_302(&self.error, &crid, &mut sb.rng, now)
                }
                ErrorPlace::SigninPage => {
                    self.entra
                        .signin_error_page(&self.error, &crid, &mut sb.rng, now)
                }
            };
            let id = sb.add(Some(OUTLOOK), req, Some(resp), 140, Role::Signal);
            sb.entra(l, id, true);
            ids.push(id);
            if !matches!(place, ErrorPlace::Json(..)) {
                sb.error(l, id, self.error.code);
                return ids;
            }
            sb.wait(20);
        }
        let ErrorPlace::Json(coding, framing) = place else {
            return ids;
        };
        let req = if interactive {
            outlook::adal_token_code(
                host,
                self.tenant,
                self.resource,
                secrets::AUTH_CODES[code_no % 4],
                &crid,
            )
        } else {
            outlook::adal_token_refresh(
                host,
                self.tenant,
                self.resource,
                secrets::RT_OUTLOOK_MRRT,
                &crid,
            )
        };
        let now = sb.now;
        let resp = self
            .entra
            .token_error(&self.error, &crid, &mut sb.rng, now, coding, framing);
        let id = sb.add(Some(OUTLOOK), req, Some(resp), 95, Role::Signal);
        sb.entra(l, id, !via_authorize);
        sb.error(l, id, self.error.code);
        ids.push(id);
        ids
    }
}

/// An Outlook ADAL loop as most scenarios stage it: autodiscover at `url` answers 401 with
/// the Bearer and legacy schemes, Outlook asks `adal.entra` for a token and is refused.
pub struct AdalLoop<'a> {
    pub adal: Adal<'a>,
    /// The loop record (`Sb::begin_loop`).
    pub l: usize,
    url: &'a str,
}

impl<'a> AdalLoop<'a> {
    /// Records the loop for `resource` asked of `entra`'s `tenant` path segment, refused with
    /// `error`; `tenant_name` is the tenant the report must name.
    pub fn open(
        sb: &mut Sb,
        url: &'a str,
        resource: &'a str,
        (entra, tenant, tenant_name): (Entra, &'a str, &str),
        error: AadError,
    ) -> Self {
        sb.tenant_name = Some(tenant_name.into());
        let l = outlook_loop(sb, resource, &host_of(url), entra.host, tenant);
        AdalLoop {
            adal: Adal {
                entra,
                tenant,
                resource,
                error,
            },
            l,
            url,
        }
    }

    /// The round's autodiscover 401; `get`: Outlook asked with GET instead of POST.
    pub fn challenge(&self, sb: &mut Sb, get: bool) {
        let id = autodiscover_challenge(sb, self.url, get, &Challenge::hma_and_legacy());
        sb.challenge(self.l, id);
    }

    /// The round's token attempt ([`Adal::attempt`]).
    pub fn attempt(&self, sb: &mut Sb, interactive: bool, place: ErrorPlace, code_no: usize) {
        self.adal.attempt(sb, self.l, interactive, place, code_no);
    }
}

/// Starts an Outlook ADAL loop record for `resource` challenged by `challenge_host`.
pub fn outlook_loop(
    sb: &mut Sb,
    resource: &str,
    challenge_host: &str,
    authority: &str,
    tenant: &str,
) -> usize {
    sb.begin_loop(
        resource,
        challenge_host,
        authority,
        tenant,
        OFFICE_CLIENT,
        OUTLOOK,
    )
}
