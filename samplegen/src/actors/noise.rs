//! Background traffic a real Outlook/Teams machine produces: Office config and CDN, ECS,
//! telemetry, Teams presence, Fiddler's CONNECT answers. Nothing here is a finding.

use crate::actors::outlook::{self, OUTLOOK_UA};
use crate::actors::{hdrs, OUTLOOK, USER};
use crate::clock::{Instant, Rng};
use crate::json::J;
use crate::model::{Body, Coding, Framing, Request, Response, BODY_HEADERS};

/// A noise session before it is placed on the timeline.
pub struct Noise {
    /// Client process.
    pub process: Option<&'static str>,
    /// Request.
    pub request: Request,
    /// Response (`None` = aborted).
    pub response: Option<Response>,
    /// Server think time.
    pub wait_ms: u64,
}

/// Teams' process.
pub const TEAMS: &str = "ms-teams:9116";
/// Office click-to-run's process.
pub const C2R: &str = "officeclicktorun:3308";

/// A response from its parts.
pub fn resp(
    status: u16,
    reason: &str,
    headers: Vec<(String, String)>,
    body: Option<Body>,
) -> Response {
    Response {
        status,
        reason: reason.into(),
        version: "HTTP/1.1".into(),
        headers,
        body,
    }
}

/// Fiddler's answer to a CONNECT it decrypts.
pub fn tunnel_ok(host: &str, now: Instant) -> Response {
    let h = hdrs(&[
        ("FiddlerGateway", "Direct"),
        ("StartTime", &now.fiddler_clock()),
        ("Connection", "close"),
    ]);
    let body = format!("Encrypted HTTPS traffic flows through this CONNECT tunnel. HTTPS Decryption is enabled in Fiddler, so decrypted sessions running in this tunnel will be shown in the Web Sessions list.\r\n\r\nSecure Protocol: Tls12\r\nCipher: Aes256 256bits\r\nHash Algorithm: Sha384 384bits\r\nKey Exchange: ECDHE_RSA (0xae06) 255bits\r\n\r\n== Server Certificate ==========\r\n[Subject]\r\n  CN={host}\r\n\r\n[Issuer]\r\n  CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US\r\n\r\n[Serial Number]\r\n  0A1B2C3D4E5F60718293A4B5C6D7E8F9\r\n\r\n[Not Before]\r\n  3/4/2026 1:00:00 AM\r\n\r\n[Not After]\r\n  3/4/2027 12:59:59 AM\r\n\r\n[Thumbprint]\r\n  5E2B8F1A9C3D7E6F0A4B2C8D1E9F3A7B6C5D4E2F\r\n");
    resp(
        200,
        "Connection Established",
        h,
        Some(Body {
            data: body.into_bytes(),
            coding: Coding::Identity,
            framing: Framing::Raw,
        }),
    )
}

/// Fiddler's answer to a CONNECT it does not decrypt (HTTPS decryption off, or the host
/// excluded): a blind tunnel open from `begin` to `end`, with the bytes it carried.
pub fn tunnel_blind(begin: Instant, end: Instant, c2s: u64, s2c: u64) -> Response {
    let headers = hdrs(&[
        ("FiddlerGateway", "Direct"),
        ("StartTime", &begin.fiddler_clock()),
        ("Connection", "close"),
        ("EndTime", &end.fiddler_clock()),
        ("ClientToServerBytes", &c2s.to_string()),
        ("ServerToClientBytes", &s2c.to_string()),
    ]);
    resp(
        200,
        "Blind-Connection Established",
        headers,
        Some(Body {
            data: b"This is a CONNECT tunnel, through which encrypted HTTPS traffic flows.\r\nTo view the encrypted sessions inside this tunnel, enable the Tools > Options > HTTPS > Decrypt HTTPS traffic option.\r\n".to_vec(),
            coding: Coding::Identity,
            framing: Framing::Raw,
        }),
    )
}

fn ms_json_headers(ctype: &str, now: Instant, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut h = hdrs(&[("Content-Type", ctype)]);
    h.extend(hdrs(extra));
    h.push((BODY_HEADERS.into(), String::new()));
    h.push(("Date".into(), now.http_date()));
    h
}

/// One of several kinds of background session, chosen by `k`.
pub fn kind(k: usize, rng: &mut Rng, now: Instant) -> Noise {
    match k % 10 {
        0 => ecs(rng, now),
        1 => telemetry(rng, now),
        2 => nexus(rng, now),
        3 => office_config(rng, now),
        4 => teams_presence(rng, now),
        5 => cdn(rng, now, true),
        6 => telemetry(rng, now),
        7 => odc_getidp(now),
        8 => cdn(rng, now, false),
        _ => teams_presence(rng, now),
    }
}

/// ECS configuration (`config.edge.skype.com`), brotli-compressed.
pub fn ecs(rng: &mut Rng, now: Instant) -> Noise {
    let etag = rng.hex(16);
    let url =
        "https://config.edge.skype.com/config/v1/Office/16.0.17928.20114?UNA=outlook&Channel=CC";
    let body = J::o(vec![
        ("ECS", J::o(vec![("CacheExpiryInMin", J::n(480))])),
        (
            "Office",
            J::o(vec![(
                "Microsoft.Office.Identity.UseAdalAtopWam",
                J::Bool(true),
            )]),
        ),
    ])
    .compact();
    let req = outlook::get(
        url,
        hdrs(&[
            ("Accept-Encoding", "gzip, deflate, br"),
            ("User-Agent", OUTLOOK_UA),
            ("Host", "config.edge.skype.com"),
        ]),
    );
    let h = ms_json_headers("application/json", now, &[("ETag", &format!("\"{etag}\""))]);
    Noise {
        process: Some(OUTLOOK),
        request: req,
        response: Some(resp(
            200,
            "OK",
            h,
            Some(Body::coded(body, Coding::Br, Framing::Length)),
        )),
        wait_ms: 38,
    }
}

/// 1DS telemetry POST with a gzip request body.
pub fn telemetry(rng: &mut Rng, now: Instant) -> Noise {
    let mut lines = Vec::new();
    for i in 0..1 {
        lines.push(
            J::o(vec![
                ("name", J::s("Office.Outlook.Desktop.Identity.AuthRequest")),
                ("time", J::s(now.iso_utc_ms())),
                ("ver", J::s("4.0")),
                ("iKey", J::s("o:7e7f0000c0d04a3f9d1e0a1b2c3d4e5f")),
                (
                    "data",
                    J::o(vec![
                        ("Activity_Duration", J::n(1200 + i * 37)),
                        ("Activity_Success", J::Bool(true)),
                        ("Session_Id", J::s(rng.guid())),
                    ]),
                ),
            ])
            .compact(),
        );
    }
    let body = lines.join("\n");
    let upload = now.unix() * 1000 + 123;
    let req = outlook::post_gzip(
        "https://self.events.data.microsoft.com/OneCollector/1.0/",
        hdrs(&[
            ("APIKey", "7e7f0000c0d04a3f9d1e0a1b2c3d4e5f-7040"),
            ("Content-Type", "application/x-json-stream"),
            ("Upload-Time", &upload.to_string()),
            (BODY_HEADERS, ""),
            ("Host", "self.events.data.microsoft.com"),
        ]),
        body.as_bytes(),
    );
    let h = ms_json_headers("application/json", now, &[]);
    Noise {
        process: Some(OUTLOOK),
        request: req,
        response: Some(resp(200, "OK", h, Some(Body::plain("{\"acc\":3}")))),
        wait_ms: 61,
    }
}

/// Nexus rules (`nexus.officeapps.live.com`), deflate.
pub fn nexus(rng: &mut Rng, now: Instant) -> Noise {
    let url = format!("https://nexus.officeapps.live.com/nexus/rules?Application=outlook.exe&Version=16.0.17928.20114&ClientId=%7B{}%7D", rng.hex(8).to_ascii_uppercase());
    let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><RuleCollection><Rule Id=\"117\" Version=\"3\"/></RuleCollection>";
    let req = outlook::get(
        &url,
        hdrs(&[
            ("User-Agent", OUTLOOK_UA),
            ("Accept-Encoding", "gzip, deflate"),
            ("Host", "nexus.officeapps.live.com"),
        ]),
    );
    let h = ms_json_headers("text/xml", now, &[]);
    Noise {
        process: Some(OUTLOOK),
        request: req,
        response: Some(resp(
            200,
            "OK",
            h,
            Some(Body::coded(body, Coding::Deflate, Framing::Length)),
        )),
        wait_ms: 44,
    }
}

/// `officeclient.microsoft.com/config16`: gzip + chunked JSON.
pub fn office_config(rng: &mut Rng, now: Instant) -> Noise {
    let url = format!(
        "https://officeclient.microsoft.com/config16?UserType=AAD&MsoAppId=13&Sid=%7B{}%7D",
        rng.hex(8).to_ascii_uppercase()
    );
    let mut items = Vec::new();
    for (i, k) in ["OfficeAddinStore", "MruService", "RoamingSettings"]
        .iter()
        .enumerate()
    {
        items.push(J::o(vec![
            ("o:key", J::s(*k)),
            (
                "o:url",
                J::s(format!(
                    "https://substrate.office.com/{}/v{}/",
                    k.to_ascii_lowercase(),
                    i + 1
                )),
            ),
        ]));
    }
    let body = J::o(vec![(
        "o:OfficeConfig",
        J::o(vec![("o:services", J::Arr(items))]),
    )])
    .compact();
    let req = outlook::get(
        &url,
        hdrs(&[
            ("Accept-Encoding", "gzip, deflate"),
            ("User-Agent", OUTLOOK_UA),
            ("Host", "officeclient.microsoft.com"),
        ]),
    );
    let h = ms_json_headers("application/json; charset=utf-8", now, &[]);
    Noise {
        process: Some(OUTLOOK),
        request: req,
        response: Some(resp(
            200,
            "OK",
            h,
            Some(Body::coded(body, Coding::Gzip, Framing::Chunked(64))),
        )),
        wait_ms: 52,
    }
}

/// Teams presence (`presence.teams.microsoft.com`), JSON PUT.
pub fn teams_presence(rng: &mut Rng, now: Instant) -> Noise {
    let body = J::o(vec![
        ("id", J::s(rng.hex(8))),
        ("availability", J::s("Available")),
    ])
    .compact();
    let req = outlook::with_body(
        "PUT",
        "https://presence.teams.microsoft.com/v1/me/endpoints/",
        hdrs(&[
            ("Content-Type", "application/json"),
            ("x-ms-client-version", "1415/24102001318"),
            ("Host", "presence.teams.microsoft.com"),
            (BODY_HEADERS, ""),
        ]),
        body,
    );
    let h = ms_json_headers("application/json; charset=utf-8", now, &[]);
    Noise {
        process: Some(TEAMS),
        request: req,
        response: Some(resp(200, "OK", h, Some(Body::plain("{}")))),
        wait_ms: 87,
    }
}

/// Office CDN: a small cab (binary, 200) or a `304 Not Modified`.
pub fn cdn(rng: &mut Rng, now: Instant, not_modified: bool) -> Noise {
    let url = "https://officecdn.microsoft.com/pr/492350f6-3a01-4f97-b9c0-c7c6ddf67d60/Office/Data/v64_16.0.17928.20114.cab";
    let mut h = hdrs(&[
        (
            "User-Agent",
            "Microsoft Office/16.0 (Windows NT 10.0; C2R; 16.0.17928.20114)",
        ),
        ("Host", "officecdn.microsoft.com"),
    ]);
    if not_modified {
        h.insert(1, ("If-None-Match".into(), "\"0x8DD0A1B2C3D4E5F\"".into()));
    }
    let req = outlook::get(url, h);
    let resp = if not_modified {
        resp(
            304,
            "Not Modified",
            hdrs(&[
                ("ETag", "\"0x8DD0A1B2C3D4E5F\""),
                ("Date", &now.http_date()),
            ]),
            None,
        )
    } else {
        let mut cab = b"MSCF\0\0\0\0".to_vec();
        for _ in 0..8 {
            cab.extend_from_slice(&rng.next_u64().to_le_bytes());
        }
        resp(
            200,
            "OK",
            hdrs(&[
                ("Content-Type", "application/vnd.ms-cab-compressed"),
                (BODY_HEADERS, ""),
                ("ETag", "\"0x8DD0A1B2C3D4E5F\""),
                ("Date", &now.http_date()),
            ]),
            Some(Body::plain(cab)),
        )
    };
    Noise {
        process: Some(C2R),
        request: req,
        response: Some(resp),
        wait_ms: 12,
    }
}

/// Office's home-realm discovery for the user's address.
pub fn odc_getidp(now: Instant) -> Noise {
    let url = format!(
        "https://odc.officeapps.live.com/odc/emailhrd/getidp?hm=0&emailAddress={}",
        crate::wire::form_encode(USER)
    );
    let req = outlook::get(
        &url,
        hdrs(&[
            ("X-Office-Version", "16.0.17928.20114"),
            ("User-Agent", OUTLOOK_UA),
            ("Host", "odc.officeapps.live.com"),
        ]),
    );
    let h = ms_json_headers("text/plain; charset=utf-8", now, &[]);
    Noise {
        process: Some(OUTLOOK),
        request: req,
        response: Some(resp(200, "OK", h, Some(Body::plain("OrgId")))),
        wait_ms: 33,
    }
}
