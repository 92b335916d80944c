//! Windows authentication on the wire (issue 24): Kerberos falling back to NTLM inside
//! Negotiate, an NTLM password prompt loop, and a healthy capture where Kerberos (AD FS
//! Windows integrated sign-in) and the three NTLM legs (Outlook on the web on the intranet)
//! both work.
//!
//! The blobs are built the way Windows builds them (SPNEGO DER, NTLMSSP messages with their
//! field tables and target info), with fixed, meaningless key material: nothing here is a
//! real credential.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::{hdrs, outlook, EDGE, EDGE_UA, OUTLOOK};
use crate::model::{Body, Coding, Framing, Request, Response, Role, BODY_HEADERS};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{noise_run, tunnel};
use crate::scenarios::precision::OOF_OK;

const MAIL: &str = "mail.contoso.local";
const MAPI_URL: &str = "https://mail.contoso.local/mapi/emsmdb/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com";
const EWS_URL: &str = "https://mail.contoso.local/EWS/Exchange.asmx";
const OWA_URL: &str = "https://mail.contoso.local/owa/";
const ADFS: &str = "sts.contoso.com";
const WIA_URL: &str = "https://sts.contoso.com/adfs/ls/wia?client-request-id=5d2b0000-0000-4000-8000-00000000a0fe&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx=LoginOptions%3D3";

/// DER OIDs: SPNEGO, Kerberos 5, Microsoft's Kerberos 5, NEGOEX, NTLMSSP.
const OID_SPNEGO: &[u8] = &[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
const OID_KRB5: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
];
const OID_MS_KRB5: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
];
const OID_NEGOEX: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e,
];
const OID_NTLM: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
];

fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..=0x7f => vec![n as u8],
        0x80..=0xff => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(der_len(content.len()));
    v.extend_from_slice(content);
    v
}

/// Deterministic filler for key material and encrypted parts.
fn filler(seed: u8, n: usize) -> Vec<u8> {
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// An NTLMSSP field table entry: length, max length, offset.
fn field(len: usize, offset: usize) -> Vec<u8> {
    let mut v = (len as u16).to_le_bytes().to_vec();
    v.extend_from_slice(&(len as u16).to_le_bytes());
    v.extend_from_slice(&(offset as u32).to_le_bytes());
    v
}

/// NTLM NEGOTIATE (type 1), as Windows 10/11 sends it (version 10.0.19041, no names).
fn ntlm_negotiate() -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&0xe208_82b7u32.to_le_bytes());
    m.extend(field(0, 0));
    m.extend(field(0, 0));
    m.extend_from_slice(&[0x0a, 0x00, 0x61, 0x4a, 0x00, 0x00, 0x00, 0x0f]);
    m
}

/// NTLM CHALLENGE (type 2) from EXCH01 in CONTOSO (contoso.local).
fn ntlm_challenge(seed: u8) -> Vec<u8> {
    let target = utf16("CONTOSO");
    let mut info = Vec::new();
    for (id, v) in [
        (2u16, "CONTOSO"),
        (1, "EXCH01"),
        (4, "contoso.local"),
        (3, "exch01.contoso.local"),
        (5, "contoso.local"),
    ] {
        let v = utf16(v);
        info.extend_from_slice(&id.to_le_bytes());
        info.extend_from_slice(&(v.len() as u16).to_le_bytes());
        info.extend(v);
    }
    info.extend_from_slice(&7u16.to_le_bytes());
    info.extend_from_slice(&8u16.to_le_bytes());
    info.extend_from_slice(&[0x00, 0x6c, 0x3a, 0x1d, 0x5b, 0x5a, 0xdd, 0x01]);
    info.extend_from_slice(&[0, 0, 0, 0]);
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&2u32.to_le_bytes());
    m.extend(field(target.len(), 56));
    m.extend_from_slice(&0xe28a_8215u32.to_le_bytes());
    m.extend(filler(seed, 8));
    m.extend_from_slice(&[0; 8]);
    m.extend(field(info.len(), 56 + target.len()));
    m.extend_from_slice(&[0x0a, 0x00, 0x7c, 0x4f, 0x00, 0x00, 0x00, 0x0f]);
    m.extend(target);
    m.extend(info);
    m
}

/// NTLM AUTHENTICATE (type 3) from `domain`\`user` on WKS-0042, with an NTLMv2 response.
fn ntlm_authenticate(domain: &str, user: &str, seed: u8) -> Vec<u8> {
    let lm = vec![0u8; 24];
    let nt = filler(seed, 302);
    let d = utf16(domain);
    let u = utf16(user);
    let w = utf16("WKS-0042");
    let key = filler(seed.wrapping_add(1), 16);
    let mut at = 88;
    let mut table = Vec::new();
    let mut payload = Vec::new();
    for part in [&lm, &nt, &d, &u, &w, &key] {
        table.push(field(part.len(), at));
        payload.extend_from_slice(part);
        at += part.len();
    }
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&3u32.to_le_bytes());
    for f in &table {
        m.extend_from_slice(f);
    }
    m.extend_from_slice(&0xe288_8215u32.to_le_bytes());
    m.extend_from_slice(&[0x0a, 0x00, 0x61, 0x4a, 0x00, 0x00, 0x00, 0x0f]);
    m.extend(filler(seed.wrapping_add(2), 16)); // MIC
    m.extend(payload);
    m
}

/// SPNEGO negTokenInit (`YII...`/`YH...`) listing `mechs`, carrying `token`.
fn neg_token_init(mechs: &[&[u8]], token: &[u8]) -> Vec<u8> {
    let mut init = tlv(0xa0, &tlv(0x30, &mechs.concat()));
    init.extend(tlv(0xa2, &tlv(0x04, token)));
    let mut inner = OID_SPNEGO.to_vec();
    inner.extend(tlv(0xa0, &tlv(0x30, &init)));
    tlv(0x60, &inner)
}

/// SPNEGO negTokenResp (`oY...`): state, the mechanism chosen (server's first answer) and a
/// token.
fn neg_token_resp(state: Option<u8>, mech: Option<&[u8]>, token: &[u8]) -> Vec<u8> {
    let mut resp = Vec::new();
    if let Some(s) = state {
        resp.extend(tlv(0xa0, &tlv(0x0a, &[s])));
    }
    if let Some(m) = mech {
        resp.extend(tlv(0xa1, m));
    }
    resp.extend(tlv(0xa2, &tlv(0x04, token)));
    tlv(0xa1, &tlv(0x30, &resp))
}

/// A Kerberos AP-REQ for HTTP/`host` (GSS header, ticket and authenticator as opaque,
/// fixed bytes), wrapped in SPNEGO as Windows sends it.
fn kerberos_negotiate(host: &str) -> String {
    let realm = tlv(0x1b, b"CONTOSO.LOCAL");
    let sname = tlv(
        0x30,
        &[
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(
                0xa1,
                &tlv(
                    0x30,
                    &[tlv(0x1b, b"HTTP"), tlv(0x1b, host.as_bytes())].concat(),
                ),
            ),
        ]
        .concat(),
    );
    let enc = |seed: u8, n: usize| {
        tlv(
            0x30,
            &[
                tlv(0xa0, &tlv(0x02, &[0x12])),
                tlv(0xa2, &tlv(0x04, &filler(seed, n))),
            ]
            .concat(),
        )
    };
    let ticket = tlv(
        0x61,
        &tlv(
            0x30,
            &[
                tlv(0xa0, &tlv(0x02, &[5])),
                tlv(0xa1, &realm),
                tlv(0xa2, &sname),
                tlv(0xa3, &enc(7, 1180)),
            ]
            .concat(),
        ),
    );
    let ap_req = tlv(
        0x6e,
        &tlv(
            0x30,
            &[
                tlv(0xa0, &tlv(0x02, &[5])),
                tlv(0xa1, &tlv(0x02, &[14])),
                tlv(0xa2, &tlv(0x03, &[0x00, 0x20, 0x00, 0x00, 0x00])),
                tlv(0xa3, &ticket),
                tlv(0xa4, &enc(9, 160)),
            ]
            .concat(),
        ),
    );
    let mut gss = OID_KRB5.to_vec();
    gss.extend_from_slice(&[0x01, 0x00]);
    gss.extend(ap_req);
    let token = tlv(0x60, &gss);
    STANDARD.encode(neg_token_init(
        &[OID_MS_KRB5, OID_KRB5, OID_NEGOEX, OID_NTLM],
        &token,
    ))
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Exchange's 401 offering Negotiate and NTLM only (hybrid modern auth not configured, no
/// Basic on the internal vdirs, no x-ms-diagnostics).
fn windows_only() -> Challenge {
    Challenge {
        basic: false,
        diagnostics: None,
        ..Challenge::legacy_only()
    }
}

/// Exchange's 401 continuing a handshake: `WWW-Authenticate: <scheme> <blob>` in place of
/// the offers.
fn continuation(host: &str, header: String, sb: &mut Sb) -> Response {
    let rid = sb.guid();
    let mut r = Exchange::new().challenge_401(host, &windows_only(), &rid, sb.now);
    let at = r
        .headers
        .iter()
        .position(|(n, _)| n == "WWW-Authenticate")
        .unwrap_or(0);
    r.headers.retain(|(n, _)| n != "WWW-Authenticate");
    r.headers.insert(at, ("WWW-Authenticate".into(), header));
    r
}

/// One MAPI Connect from Outlook with `auth`.
fn mapi(auth: Option<&str>, crid: &str, seq: u32) -> Request {
    outlook::mapi_connect(MAPI_URL, auth, crid, seq)
}

/// `kerberos-fallback-ntlm`: mail.contoso.local offers Negotiate; Outlook on a domain-joined
/// machine answers with NTLM inside Negotiate (no ticket for HTTP/mail.contoso.local: the
/// load-balanced name's SPN is on no account), and gets in, for MAPI and EWS.
pub fn kerberos_fallback_ntlm(sb: &mut Sb) {
    tunnel(sb, MAIL, OUTLOOK);
    let crid = sb.guid();
    for (i, seed) in [(0u32, 11u8), (1, 23)] {
        let is_mapi = i == 0;
        let request = |auth: Option<&str>| {
            if is_mapi {
                mapi(auth, &crid, i + 1)
            } else {
                outlook::ews(EWS_URL, &exchange::oof_request(), auth, &crid)
            }
        };
        let rid = sb.guid();
        let now = sb.now;
        let offer = Exchange::new().challenge_401(MAIL, &windows_only(), &rid, now);
        sb.add(Some(OUTLOOK), request(None), Some(offer), 7, Role::Signal);
        let first = format!(
            "Negotiate {}",
            b64(&neg_token_init(&[OID_NTLM], &ntlm_negotiate()))
        );
        let answer = format!(
            "Negotiate {}",
            b64(&neg_token_resp(
                Some(1),
                Some(OID_NTLM),
                &ntlm_challenge(seed)
            ))
        );
        let resp = continuation(MAIL, answer, sb);
        sb.add(
            Some(OUTLOOK),
            request(Some(&first)),
            Some(resp),
            4,
            Role::Signal,
        );
        let third = format!(
            "Negotiate {}",
            b64(&neg_token_resp(
                None,
                None,
                &ntlm_authenticate("CONTOSO", "user", seed)
            ))
        );
        let rid = sb.guid();
        let now = sb.now;
        let ok = if is_mapi {
            Exchange::new().mapi_ok(&rid, now)
        } else {
            Exchange::new().ok_xml(
                exchange::soap_response(OOF_OK),
                Coding::Identity,
                Framing::Length,
                &rid,
                now,
                true,
            )
        };
        sb.add(
            Some(OUTLOOK),
            request(Some(&third)),
            Some(ok),
            35,
            Role::Signal,
        );
        noise_run(sb, i as usize * 2, 2);
        sb.wait(4_000);
    }
}

/// `ntlm-prompt-loop`: EWS on mail.contoso.local offers NTLM; Outlook runs the three legs
/// four times, each authenticate message refused (a stale saved password), the user typing
/// it again in between.
pub fn ntlm_prompt_loop(sb: &mut Sb) {
    tunnel(sb, MAIL, OUTLOOK);
    let crid = sb.guid();
    let ews = |auth: Option<&str>| outlook::ews(EWS_URL, &exchange::oof_request(), auth, &crid);
    let rid = sb.guid();
    let now = sb.now;
    let offer = Exchange::new().challenge_401(MAIL, &windows_only(), &rid, now);
    sb.add(Some(OUTLOOK), ews(None), Some(offer), 6, Role::Signal);
    for round in 0..4u8 {
        let first = format!("NTLM {}", b64(&ntlm_negotiate()));
        let answer = format!("NTLM {}", b64(&ntlm_challenge(40 + round)));
        let resp = continuation(MAIL, answer, sb);
        sb.add(
            Some(OUTLOOK),
            ews(Some(&first)),
            Some(resp),
            4,
            Role::Signal,
        );
        let third = format!(
            "NTLM {}",
            b64(&ntlm_authenticate("CONTOSO", "user", 60 + round))
        );
        let rid = sb.guid();
        let now = sb.now;
        let refused = Exchange::new().challenge_401(MAIL, &windows_only(), &rid, now);
        sb.add(
            Some(OUTLOOK),
            ews(Some(&third)),
            Some(refused),
            30,
            Role::Signal,
        );
        noise_run(sb, usize::from(round), 2);
        // The credential prompt: the user types the password again.
        sb.wait(9_000);
    }
}

/// AD FS's answer to the Windows integrated sign-in: 401 offering Negotiate and NTLM.
fn adfs_401(sb: &mut Sb) -> Response {
    let now = sb.now;
    let h = hdrs(&[
        ("Content-Length", "0"),
        ("Server", "Microsoft-HTTPAPI/2.0"),
        ("WWW-Authenticate", "Negotiate"),
        ("WWW-Authenticate", "NTLM"),
        ("Date", &now.http_date()),
    ]);
    Response {
        status: 401,
        reason: "Unauthorized".into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: None,
    }
}

/// AD FS's 200: the form that posts the sign-in result on (the token itself left out: a
/// stand-in that holds none).
fn adfs_form(sb: &mut Sb) -> Response {
    let now = sb.now;
    let html = "<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" action=\"https://login.microsoftonline.com:443/login.srf\"><input type=\"hidden\" name=\"wa\" value=\"wsignin1.0\" /><noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\" /></noscript></form><script language=\"javascript\">window.setTimeout('document.forms[0].submit()', 0);</script></body></html>";
    let h = hdrs(&[
        ("Cache-Control", "no-cache"),
        ("Pragma", "no-cache"),
        ("Content-Type", "text/html; charset=utf-8"),
        (BODY_HEADERS, ""),
        ("Expires", "-1"),
        ("Server", "Microsoft-HTTPAPI/2.0"),
        ("Date", &now.http_date()),
    ]);
    Response {
        status: 200,
        reason: "OK".into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::plain(html)),
    }
}

fn edge_get(url: &str, auth: Option<&str>) -> Request {
    let host = crate::model::host_of(url);
    let mut h = hdrs(&[
        ("Host", &host),
        ("Connection", "keep-alive"),
        ("User-Agent", EDGE_UA),
        (
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
        ),
    ]);
    if let Some(a) = auth {
        h.push(("Authorization".into(), a.into()));
    }
    h.extend(hdrs(&[
        ("Accept-Encoding", "gzip, deflate, br"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ]));
    outlook::get(url, h)
}

/// `windows-auth-healthy`: the browser's AD FS Windows integrated sign-in answered with a
/// Kerberos ticket (401 Negotiate, ticket, 200), and Outlook on the web on the intranet
/// signed in with the three NTLM legs (401 NTLM, type 1, 401 type 2, type 3, 200).
pub fn windows_auth_healthy(sb: &mut Sb) {
    tunnel(sb, ADFS, EDGE);
    let resp = adfs_401(sb);
    sb.add(
        Some(EDGE),
        edge_get(WIA_URL, None),
        Some(resp),
        5,
        Role::Signal,
    );
    let krb = format!("Negotiate {}", kerberos_negotiate(ADFS));
    let resp = adfs_form(sb);
    sb.add(
        Some(EDGE),
        edge_get(WIA_URL, Some(&krb)),
        Some(resp),
        60,
        Role::Signal,
    );
    noise_run(sb, 0, 2);
    tunnel(sb, MAIL, EDGE);
    let rid = sb.guid();
    let now = sb.now;
    let offer = Exchange::new().challenge_401(
        MAIL,
        &Challenge {
            negotiate: false,
            ..windows_only()
        },
        &rid,
        now,
    );
    sb.add(
        Some(EDGE),
        edge_get(OWA_URL, None),
        Some(offer),
        6,
        Role::Signal,
    );
    let first = format!("NTLM {}", b64(&ntlm_negotiate()));
    let answer = format!("NTLM {}", b64(&ntlm_challenge(77)));
    let resp = continuation(MAIL, answer, sb);
    sb.add(
        Some(EDGE),
        edge_get(OWA_URL, Some(&first)),
        Some(resp),
        4,
        Role::Signal,
    );
    let third = format!("NTLM {}", b64(&ntlm_authenticate("CONTOSO", "user", 78)));
    let rid = sb.guid();
    let now = sb.now;
    let page = Exchange::new().ok_html(
        "<!DOCTYPE html><html><head><title>Outlook</title></head><body><div id=\"app\"></div></body></html>".into(),
        &rid,
        now,
    );
    sb.add(
        Some(EDGE),
        edge_get(OWA_URL, Some(&third)),
        Some(page),
        80,
        Role::Signal,
    );
    noise_run(sb, 2, 3);
}
