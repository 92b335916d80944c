//! The SAZ writer: a zip laid out as Fiddler Classic writes it.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::clock::{Instant, NEVER};
use crate::model::{Capture, Session};
use crate::wire::{self, RequestForm};

/// The archive comment Fiddler Classic writes.
pub const FIDDLER_COMMENT: &str =
    "Fiddler (v5.0.20204.45441) Session Archive. See http://fiddler2.com";

/// Format knobs, for the variant files.
#[derive(Clone, Debug)]
pub struct SazOptions {
    /// Digits of the session numbers in entry names; `None` = digits of the session count.
    pub pad: Option<usize>,
    /// Path separator inside the zip (`/`, or `\` as some old writers do).
    pub separator: char,
    /// Request line form.
    pub form: RequestForm,
    /// `BitFlags` in decimal instead of Fiddler's hex.
    pub decimal_bitflags: bool,
    /// Session ids whose `_s.txt` is omitted.
    pub omit_response: Vec<usize>,
    /// Session ids whose `_s.txt` is written empty.
    pub empty_response: Vec<usize>,
    /// Session ids whose `_m.xml` is omitted.
    pub omit_meta: Vec<usize>,
    /// Fiddler's id (`SID`) of the session with entry number `id`; `None`: the entry number,
    /// as for a whole capture saved at once. Otherwise an archive of some sessions of a
    /// longer capture (issue 20).
    pub sid_of: Option<fn(usize) -> usize>,
}

impl Default for SazOptions {
    fn default() -> Self {
        SazOptions {
            pad: None,
            separator: '/',
            form: RequestForm::Absolute,
            decimal_bitflags: false,
            omit_response: Vec::new(),
            empty_response: Vec::new(),
            omit_meta: Vec::new(),
            sid_of: None,
        }
    }
}

/// Password protection for [`saz_bytes_encrypted`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SazEncryption {
    /// WinZip AES-128 (Fiddler Classic's default when a password is set).
    Aes128,
    /// WinZip AES-256 (Fiddler Classic option; Fiddler Everywhere).
    Aes256,
    /// Traditional PKWARE ZipCrypto (Fiddler Classic with AES turned off).
    ZipCrypto,
}

/// One zip entry before writing.
pub struct Entry {
    /// Name inside the zip.
    pub name: String,
    /// Content.
    pub data: Vec<u8>,
}

/// The fixed modification time of every entry (when the capture was saved).
pub fn saved_at() -> DateTime {
    DateTime::from_date_and_time(2026, 11, 20, 8, 20, 14).expect("valid fixed date")
}

/// The entries of a SAZ in Fiddler's order: `[Content_Types].xml`, per session `_c`, `_s`,
/// `_m`, then `_index.htm`.
pub fn entries(cap: &Capture, opt: &SazOptions) -> Vec<Entry> {
    let n = cap.sessions.len();
    let pad = opt.pad.unwrap_or_else(|| n.max(1).to_string().len());
    let sep = opt.separator;
    let mut out = vec![Entry {
        name: "[Content_Types].xml".into(),
        data: CONTENT_TYPES.as_bytes().to_vec(),
    }];
    for (i, s) in cap.sessions.iter().enumerate() {
        let id = i + 1;
        let stem = format!("raw{sep}{id:0pad$}");
        out.push(Entry {
            name: format!("{stem}_c.txt"),
            data: wire::request_bytes(&s.request, opt.form),
        });
        if let Some(resp) = &s.response {
            if !opt.omit_response.contains(&id) {
                let data = if opt.empty_response.contains(&id) {
                    Vec::new()
                } else {
                    wire::response_bytes(resp)
                };
                out.push(Entry {
                    name: format!("{stem}_s.txt"),
                    data,
                });
            }
        }
        if !opt.omit_meta.contains(&id) {
            out.push(Entry {
                name: format!("{stem}_m.xml"),
                data: meta_xml(
                    opt.sid_of.map_or(id, |sid| sid(id)),
                    s,
                    opt.decimal_bitflags,
                )
                .into_bytes(),
            });
        }
    }
    out.push(Entry {
        name: "_index.htm".into(),
        data: index_htm(cap, pad, opt).into_bytes(),
    });
    out
}

/// `[Content_Types].xml`, the first entry of every SAZ.
pub const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\r\n<Default Extension=\"htm\" ContentType=\"text/html\" />\r\n<Default Extension=\"xml\" ContentType=\"application/xml\" />\r\n<Default Extension=\"txt\" ContentType=\"text/plain\" />\r\n</Types>";

/// Fiddler's `SessionFlags` bits for this session: IsHTTPS (0x1), ClientPipeReused (0x8),
/// ServerPipeReused (0x10), IsDecryptingTunnel (0x2000).
pub fn bit_flags(s: &Session) -> u32 {
    let mut f = 0u32;
    if s.request.url.starts_with("https://") {
        f |= 0x1;
    }
    if s.reused {
        f |= 0x8;
        if s.response.is_some() {
            f |= 0x10;
        }
    }
    if s.is_tunnel() {
        f |= 0x2000;
    }
    f
}

/// The session's timer values, in `_m.xml` attribute order.
pub fn timers(s: &Session) -> Vec<(&'static str, String)> {
    let b = s.begin;
    let connected = if s.reused {
        // The client connection was opened for an earlier session on the same host.
        Instant(b.0.saturating_sub(3 * crate::clock::TICKS_PER_SEC + 1_234_567))
    } else {
        b.plus_ticks(0)
    };
    let t = |off: u64| b.plus_ticks(off).fiddler();
    let got_headers = 1_261;
    let done_req = 2_017 + body_ticks(s);
    let fiddler_begin = done_req + 1_009;
    let server_got = fiddler_begin + 3_811;
    let mut v = vec![
        ("ClientConnected", connected.fiddler()),
        ("ClientBeginRequest", t(0)),
        ("GotRequestHeaders", t(got_headers)),
        ("ClientDoneRequest", t(done_req)),
        ("GatewayTime", "0".into()),
        ("DNSTime", "0".into()),
        (
            "TCPConnectTime",
            if s.reused { "0".into() } else { "11".into() },
        ),
        (
            "HTTPSHandshakeTime",
            if s.reused || !s.request.url.starts_with("https://") {
                "0".into()
            } else {
                "24".into()
            },
        ),
        (
            "ServerConnected",
            if s.reused {
                Instant(connected.0 + 2_500_000).fiddler()
            } else {
                t(fiddler_begin + 350_000)
            },
        ),
        ("FiddlerBeginRequest", t(fiddler_begin)),
        ("ServerGotRequest", t(server_got)),
    ];
    if s.response.is_some() {
        let begin_resp = server_got + s.wait_ms * crate::clock::TICKS_PER_MS;
        let got_resp_headers = begin_resp + 2_133;
        let done = got_resp_headers + s.receive_ms * crate::clock::TICKS_PER_MS + 1_777;
        v.extend([
            ("ServerBeginResponse", t(begin_resp)),
            ("GotResponseHeaders", t(got_resp_headers)),
            ("ServerDoneResponse", t(done)),
            ("ClientBeginResponse", t(done + 1_013)),
            ("ClientDoneResponse", t(done + 2_291)),
        ]);
    } else {
        for k in [
            "ServerBeginResponse",
            "GotResponseHeaders",
            "ServerDoneResponse",
            "ClientBeginResponse",
            "ClientDoneResponse",
        ] {
            v.push((k, NEVER.into()));
        }
    }
    v
}

fn body_ticks(s: &Session) -> u64 {
    s.request
        .body
        .as_ref()
        .map(|b| b.data.len() as u64 * 3)
        .unwrap_or(0)
}

fn xml_attr(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `_m.xml` as Fiddler writes it (indented, CRLF).
pub fn meta_xml(id: usize, s: &Session, decimal: bool) -> String {
    let flags = bit_flags(s);
    let bits = if decimal {
        flags.to_string()
    } else {
        format!("{flags:x}")
    };
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n");
    x.push_str(&format!("<Session SID=\"{id}\" BitFlags=\"{bits}\">\r\n"));
    x.push_str("  <SessionTimers");
    for (k, v) in timers(s) {
        x.push_str(&format!(" {k}=\"{v}\""));
    }
    x.push_str(" />\r\n");
    let reuse = if s.reused { "true" } else { "false" };
    x.push_str(&format!(
        "  <PipeInfo CltReuse=\"{reuse}\" Reused=\"{reuse}\" />\r\n"
    ));
    x.push_str("  <SessionFlags>\r\n");
    let mut flags: Vec<(&str, String)> = vec![
        ("x-clientip", "127.0.0.1".into()),
        ("x-clientport", s.client_port.to_string()),
    ];
    if let Some(p) = &s.process {
        flags.push(("x-processinfo", p.clone()));
    }
    if s.response.is_some() || s.is_tunnel() {
        flags.push(("x-egressport", s.egress_port.to_string()));
        flags.push(("x-hostip", s.host_ip.clone()));
    }
    if let Some(r) = &s.response {
        let len = r
            .body
            .as_ref()
            .map(|b| wire::wire_body(b).framed.len())
            .unwrap_or(0);
        flags.push(("x-responsebodytransferlength", len.to_string()));
    } else {
        flags.push(("x-failsession", "The client aborted the session.".into()));
    }
    for (n, v) in flags {
        x.push_str(&format!(
            "    <SessionFlag N=\"{n}\" V=\"{}\" />\r\n",
            xml_attr(&v)
        ));
    }
    x.push_str("  </SessionFlags>\r\n");
    x.push_str("</Session>");
    x
}

fn html(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `_index.htm`: Fiddler's human-readable session list.
pub fn index_htm(cap: &Capture, pad: usize, opt: &SazOptions) -> String {
    let mut h = String::from(INDEX_HEAD);
    for (i, s) in cap.sessions.iter().enumerate() {
        h.push_str(&index_row(i + 1, s, pad, opt));
    }
    h.push_str(INDEX_TAIL);
    h
}

/// What `_index.htm` holds before its rows.
pub const INDEX_HEAD: &str = "<html><head><style>body,thead,td,a,p{font-family:verdana,sans-serif;font-size: 10px;}</style></head><body><table cols=12><thead><tr><th>&nbsp;</th><th>#</th><th>Result</th><th>Protocol</th><th>Host</th><th>URL</th><th>Body</th><th>Caching</th><th>Content-Type</th><th>Process</th><th>Comments</th><th>Custom</th></tr></thead><tbody>";
/// What `_index.htm` holds after its rows.
pub const INDEX_TAIL: &str = "</tbody></table></body></html>";

/// The `_index.htm` row of session `id`.
pub fn index_row(id: usize, s: &Session, pad: usize, opt: &SazOptions) -> String {
    let f = format!("raw\\{id:0pad$}");
    let (status, body_len, ctype, cache) = match &s.response {
        Some(r) => (
            r.status.to_string(),
            r.body
                .as_ref()
                .map(|b| wire::wire_body(b).framed.len())
                .unwrap_or(0)
                .to_string(),
            header(&r.headers, "Content-Type").unwrap_or_default(),
            header(&r.headers, "Cache-Control").unwrap_or_default(),
        ),
        None => ("-".into(), "-1".into(), String::new(), String::new()),
    };
    let (proto, host, url) = if s.is_tunnel() {
        (
            "HTTP".to_string(),
            "Tunnel to".to_string(),
            s.request.url.clone(),
        )
    } else {
        let proto = if s.request.url.starts_with("https://") {
            "HTTPS"
        } else {
            "HTTP"
        };
        (
            proto.to_string(),
            s.host(),
            crate::model::path_of(&s.request.url),
        )
    };
    let s_link = if s.response.is_some() && !opt.omit_response.contains(&id) {
        format!("&nbsp;<a href='{f}_s.txt'>S</a>")
    } else {
        String::new()
    };
    format!(
            "<tr><TD><a href='{f}_c.txt'>C</a>{s_link}&nbsp;<a href='{f}_m.xml'>M</a></TD><td>{id}</td><td>{status}</td><td>{proto}</td><td>{}</td><td>{}</td><td>{body_len}</td><td>{}</td><td>{}</td><td>{}</td><td></td><td></td></tr>\r\n",
            html(&host),
            html(&url),
            html(&cache),
            html(&ctype),
            html(s.process.as_deref().unwrap_or("")),
        )
}

fn header(h: &[(String, String)], name: &str) -> Option<String> {
    h.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// The options every entry is written with (deflate, the fixed time, DOS attributes).
pub fn entry_options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(saved_at())
        .system(zip::System::Dos)
}

fn zip_entries(
    entries: &[Entry],
    enc: Option<(SazEncryption, &str)>,
) -> zip::result::ZipResult<Vec<u8>> {
    let mut zw = ZipWriter::new(Cursor::new(Vec::new()));
    let base = entry_options();
    for e in entries {
        let opts = match enc {
            None => base,
            Some((SazEncryption::Aes128, pw)) => base.with_aes_encryption(zip::AesMode::Aes128, pw),
            Some((SazEncryption::Aes256, pw)) => base.with_aes_encryption(zip::AesMode::Aes256, pw),
            Some((SazEncryption::ZipCrypto, pw)) => {
                use zip::unstable::write::FileOptionsExt;
                base.with_deprecated_encryption(pw.as_bytes())?
            }
        };
        zw.start_file(e.name.as_str(), opts)?;
        zw.write_all(&e.data)?;
    }
    zw.set_comment(FIDDLER_COMMENT)?;
    Ok(zw.finish()?.into_inner())
}

/// The SAZ bytes of a capture (deterministic).
pub fn saz_bytes(cap: &Capture, opt: &SazOptions) -> Vec<u8> {
    zip_entries(&entries(cap, opt), None).expect("in-memory zip")
}

/// A password-protected SAZ. AES salts and ZipCrypto headers are random, so the bytes differ
/// on each call; the entries (names and content) do not.
pub fn saz_bytes_encrypted(
    cap: &Capture,
    opt: &SazOptions,
    enc: SazEncryption,
    password: &str,
) -> zip::result::ZipResult<Vec<u8>> {
    zip_entries(&entries(cap, opt), Some((enc, password)))
}
