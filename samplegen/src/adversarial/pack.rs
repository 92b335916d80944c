//! Writing a planted exchange into a capture: the SAZ transport encodings (each a way a body
//! travels, or a place in the framing that holds bytes), a zip writer that can put bytes in
//! the archive's metadata, websocket frames as Fiddler stores them, and the HAR body forms.

use std::io::Write;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
use base64::Engine;

use super::plants::{HarTweak, Plant, Side, WsMessage};
use crate::clock::Instant;
use crate::json::J;
use crate::model::{Body, Capture, Coding, Request, Response, Role, Session, BODY_HEADERS};
use crate::wire;

/// How the secret-bearing body of a SAZ session travels, or where in the framing the
/// carried text sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SazEnc {
    /// `Content-Length`, as is.
    Identity,
    /// `Transfer-Encoding: chunked` (512-byte chunks).
    Chunked,
    /// gzip, then chunked.
    ChunkedGzip,
    /// `Content-Encoding: gzip`.
    Gzip,
    /// `Content-Encoding: deflate` (zlib).
    Deflate,
    /// `Content-Encoding: deflate`, a raw deflate stream (no zlib wrapper).
    DeflateRaw,
    /// `Content-Encoding: br`.
    Br,
    /// `Content-Encoding: zstd` (raw blocks; traceadal does not decode zstd).
    Zstd,
    /// `Content-Encoding: gzip, gzip`.
    DoubleGzip,
    /// Labelled `gzip` once, gzipped twice (a proxy compressing again).
    GzipTwiceLabelledOnce,
    /// Labelled `gzip` but stored decoded (Fiddler's "decode" without the header change).
    GzipLabelStoredPlain,
    /// gzip of 64 MiB + 1 KiB of blanks then the body: past the default decode cap.
    GzipOverCap,
    /// Chunked; the carried text is a chunk extension.
    ChunkExtension,
    /// Chunked; the carried text is a trailer field.
    ChunkTrailer,
    /// Chunked; the carried text follows the last chunk.
    AfterLastChunk,
    /// gzip; the carried text follows the gzip member.
    GzipTrailingBytes,
    /// gzip; the carried text is a second gzip member.
    GzipSecondMember,
    /// Chunked in 7-byte chunks: every secret of 8 bytes or more is split by the framing.
    ChunkedSplit,
}

impl SazEnc {
    /// Its name in case ids.
    pub fn name(self) -> &'static str {
        match self {
            SazEnc::Identity => "identity",
            SazEnc::Chunked => "chunked",
            SazEnc::ChunkedGzip => "chunked-gzip",
            SazEnc::Gzip => "gzip",
            SazEnc::Deflate => "deflate",
            SazEnc::DeflateRaw => "deflate-raw",
            SazEnc::Br => "br",
            SazEnc::Zstd => "zstd",
            SazEnc::DoubleGzip => "double-gzip",
            SazEnc::GzipTwiceLabelledOnce => "gzip-twice-labelled-once",
            SazEnc::GzipLabelStoredPlain => "gzip-label-stored-plain",
            SazEnc::GzipOverCap => "gzip-over-cap",
            SazEnc::ChunkExtension => "chunk-extension",
            SazEnc::ChunkTrailer => "chunk-trailer",
            SazEnc::AfterLastChunk => "after-last-chunk",
            SazEnc::GzipTrailingBytes => "gzip-trailing-bytes",
            SazEnc::GzipSecondMember => "gzip-second-member",
            SazEnc::ChunkedSplit => "chunked-split",
        }
    }
}

/// Where in the zip (not in a session) the carried text sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZipMeta {
    /// Nowhere.
    None,
    /// The archive comment.
    ArchiveComment,
    /// The central-directory comment of the planted session's `_c.txt`.
    EntryComment,
    /// An extra field of the planted session's `_c.txt` (local and central).
    ExtraField,
    /// The name of an extra entry.
    EntryName,
    /// A directory entry (`raw/`) with data.
    DirectoryWithData,
    /// Bytes after the deflate stream inside the planted session's `_s.txt` entry.
    DeflateTrailing,
    /// Bytes after the end-of-central-directory record.
    AfterEnd,
}

impl ZipMeta {
    /// Its name in case ids.
    pub fn name(self) -> &'static str {
        match self {
            ZipMeta::None => "none",
            ZipMeta::ArchiveComment => "zip-archive-comment",
            ZipMeta::EntryComment => "zip-entry-comment",
            ZipMeta::ExtraField => "zip-extra-field",
            ZipMeta::EntryName => "zip-entry-name",
            ZipMeta::DirectoryWithData => "zip-directory-with-data",
            ZipMeta::DeflateTrailing => "zip-deflate-trailing",
            ZipMeta::AfterEnd => "zip-after-end",
        }
    }
}

/// How the secret-bearing body sits in a HAR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HarEnc {
    /// As DevTools writes it (text, or base64 when binary).
    Text,
    /// `encoding: "base64"`.
    Base64,
    /// `encoding: "Base64"`.
    Base64Label,
    /// base64 without padding.
    Base64Unpadded,
    /// URL-safe base64.
    Base64UrlSafe,
    /// base64 wrapped at 76 columns with CRLF.
    Base64Wrapped,
}

impl HarEnc {
    /// Its name in case ids.
    pub fn name(self) -> &'static str {
        match self {
            HarEnc::Text => "text",
            HarEnc::Base64 => "base64",
            HarEnc::Base64Label => "base64-label-Base64",
            HarEnc::Base64Unpadded => "base64-unpadded",
            HarEnc::Base64UrlSafe => "base64-urlsafe",
            HarEnc::Base64Wrapped => "base64-wrapped",
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    wire::encode(data, Coding::Gzip)
}

fn deflate_raw(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// A zstd frame of raw (stored) blocks: valid zstd, the bytes readable as they are.
pub fn zstd_raw(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd];
    // Frame header descriptor: single segment, 4-byte content size.
    out.push(0b1010_0000);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(100_000).collect()
    };
    for (i, b) in blocks.iter().enumerate() {
        let last = u32::from(i + 1 == blocks.len());
        let hdr = last | ((b.len() as u32) << 3); // type 0 = raw
        out.extend_from_slice(&hdr.to_le_bytes()[..3]);
        out.extend_from_slice(b);
    }
    out
}

fn chunked_with(data: &[u8], size: usize, ext: &str, trailer: &str, after: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in data.chunks(size.max(1)) {
        out.extend_from_slice(format!("{:x}{ext}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    out.extend_from_slice(trailer.as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(after);
    out
}

/// The framing headers and the bytes after the blank line for `body` sent as `enc`;
/// `carried` is the text the framing-only encodings put in the framing.
pub fn frame(body: &[u8], enc: SazEnc, carried: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let hv = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let cl = |ce: Option<&str>, bytes: Vec<u8>| {
        let mut hdr = Vec::new();
        if let Some(ce) = ce {
            hdr.push(("Content-Encoding".to_string(), ce.to_string()));
        }
        hdr.push(("Content-Length".to_string(), bytes.len().to_string()));
        (hdr, bytes)
    };
    let te = hv(&[("Transfer-Encoding", "chunked")]);
    match enc {
        SazEnc::Identity => cl(None, body.to_vec()),
        SazEnc::Chunked => (te, wire::chunk(body, 512)),
        SazEnc::ChunkedSplit => (te, wire::chunk(body, 7)),
        SazEnc::ChunkedGzip => (
            hv(&[
                ("Content-Encoding", "gzip"),
                ("Transfer-Encoding", "chunked"),
            ]),
            wire::chunk(&gzip(body), 512),
        ),
        SazEnc::Gzip => cl(Some("gzip"), gzip(body)),
        SazEnc::Deflate => cl(Some("deflate"), wire::encode(body, Coding::Deflate)),
        SazEnc::DeflateRaw => cl(Some("deflate"), deflate_raw(body)),
        SazEnc::Br => cl(Some("br"), wire::encode(body, Coding::Br)),
        SazEnc::Zstd => cl(Some("zstd"), zstd_raw(body)),
        SazEnc::DoubleGzip => cl(Some("gzip, gzip"), gzip(&gzip(body))),
        SazEnc::GzipTwiceLabelledOnce => cl(Some("gzip"), gzip(&gzip(body))),
        SazEnc::GzipLabelStoredPlain => cl(Some("gzip"), body.to_vec()),
        SazEnc::GzipOverCap => {
            let mut big = vec![b' '; (64 << 20) + 1024];
            big.extend_from_slice(body);
            cl(Some("gzip"), gzip(&big))
        }
        SazEnc::ChunkExtension => (te, chunked_with(body, 512, &format!(";{carried}"), "", b"")),
        SazEnc::ChunkTrailer => (
            hv(&[("Transfer-Encoding", "chunked"), ("Trailer", "Set-Cookie")]),
            chunked_with(body, 512, "", &format!("{carried}\r\n"), b""),
        ),
        SazEnc::AfterLastChunk => (te, chunked_with(body, 512, "", "", carried.as_bytes())),
        SazEnc::GzipTrailingBytes => {
            let mut b = gzip(body);
            b.extend_from_slice(carried.as_bytes());
            cl(Some("gzip"), b)
        }
        SazEnc::GzipSecondMember => {
            let mut b = gzip(body);
            b.extend(gzip(carried.as_bytes()));
            cl(Some("gzip"), b)
        }
    }
}

/// Head and framed body of one HTTP message, the framing headers where [`BODY_HEADERS`] is.
fn message(
    first: &str,
    headers: &[(String, String)],
    body: &[u8],
    enc: SazEnc,
    carried: &str,
) -> Vec<u8> {
    let (mut framing, framed) = if body.is_empty() && enc == SazEnc::Identity {
        (Vec::new(), Vec::new())
    } else {
        frame(body, enc, carried)
    };
    let mut out = format!("{first}\r\n").into_bytes();
    let mut placed = false;
    let push = |out: &mut Vec<u8>, n: &str, v: &str| {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    for (n, v) in headers {
        if n == BODY_HEADERS {
            for (fname, fv) in framing.drain(..) {
                push(&mut out, &fname, &fv);
            }
            placed = true;
        } else {
            push(&mut out, n, v);
        }
    }
    if !placed {
        for (fname, fv) in framing.drain(..) {
            push(&mut out, &fname, &fv);
        }
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&framed);
    out
}

/// One websocket frame: FIN, opcode, masked with `key` when the client sent it.
pub fn ws_frame(m: &WsMessage, key: [u8; 4]) -> Vec<u8> {
    let mut out = vec![0x80 | if m.text { 1 } else { 2 }];
    let mask_bit = if m.from_client { 0x80 } else { 0 };
    let n = m.data.len();
    if n < 126 {
        out.push(mask_bit | n as u8);
    } else {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    }
    if m.from_client {
        out.extend_from_slice(&key);
        out.extend(m.data.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(&m.data);
    }
    out
}

/// `_w.txt` as Fiddler writes it: per message a small header block (`Request-Length` for
/// client frames, `Response-Length` for server frames, id, flags, timers), a blank line, the
/// frame as it was on the wire, CRLF.
pub fn ws_txt(msgs: &[WsMessage], begin: Instant, keys: &[[u8; 4]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let frame = ws_frame(m, keys.get(i).copied().unwrap_or([0x5a, 0x13, 0xc4, 0x7e]));
        let dir = if m.from_client { "Request" } else { "Response" };
        let t = begin.plus_ms(400 + 25 * i as u64).fiddler();
        out.extend_from_slice(
            format!(
                "{dir}-Length: {}\r\nID: {}\r\nBitFlags: 0\r\nDoneRead: {t}\r\nBeginSend: {t}\r\nDoneSend: {t}\r\n\r\n",
                frame.len(),
                i + 1
            )
            .as_bytes(),
        );
        out.extend_from_slice(&frame);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The model session of a plant (bodies plain), for `_m.xml`, `_index.htm` and the HAR.
pub fn model_session(p: &Plant, begin: Instant) -> Session {
    let body = |b: &[u8]| (!b.is_empty()).then(|| Body::plain(b.to_vec()));
    Session {
        request: Request {
            method: p.method.clone(),
            url: p.url.clone(),
            version: "HTTP/1.1".into(),
            headers: p.req_headers.clone(),
            body: body(&p.req_body),
        },
        response: Some(Response {
            status: p.status,
            reason: p.reason.clone(),
            version: "HTTP/1.1".into(),
            headers: p.resp_headers.clone(),
            body: body(&p.resp_body),
        }),
        process: Some(p.process.to_string()),
        client_port: 52_117,
        egress_port: 52_118,
        host_ip: "40.126.32.134".into(),
        begin,
        wait_ms: 87,
        receive_ms: 3,
        reused: false,
        role: Role::Signal,
    }
}

/// One zip entry for [`zip_bytes`].
struct ZEntry {
    name: Vec<u8>,
    data: Vec<u8>,
    extra: Vec<u8>,
    comment: Vec<u8>,
    trailing: Vec<u8>,
    dir: bool,
}

fn zentry(name: &str, data: Vec<u8>) -> ZEntry {
    ZEntry {
        name: name.as_bytes().to_vec(),
        data,
        extra: Vec::new(),
        comment: Vec::new(),
        trailing: Vec::new(),
        dir: false,
    }
}

/// A zip as Fiddler's writer lays it out (deflate, fixed DOS time, no data descriptors),
/// with room for bytes in every metadata field.
fn zip_bytes(entries: &[ZEntry], comment: &[u8], after: &[u8]) -> Vec<u8> {
    let (time, date): (u16, u16) = (
        (8 << 11) | (20 << 5) | 7,
        ((2026 - 1980) << 9) | (11 << 5) | 20,
    );
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let mut crc = flate2::Crc::new();
        crc.update(&e.data);
        let (method, mut packed): (u16, Vec<u8>) = if e.dir && e.data.is_empty() {
            (0, Vec::new())
        } else {
            (8, deflate_raw(&e.data))
        };
        packed.extend_from_slice(&e.trailing);
        let offset = out.len() as u32;
        let fixed = |sig: u32, out: &mut Vec<u8>| {
            out.extend_from_slice(&sig.to_le_bytes());
        };
        fixed(0x0403_4b50, &mut out);
        for v in [20u16, 0, method, time, date] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc.sum(), packed.len() as u32, e.data.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        out.extend_from_slice(&(e.extra.len() as u16).to_le_bytes());
        out.extend_from_slice(&e.name);
        out.extend_from_slice(&e.extra);
        out.extend_from_slice(&packed);
        fixed(0x0201_4b50, &mut central);
        for v in [20u16, 20, 0, method, time, date] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc.sum(), packed.len() as u32, e.data.len() as u32] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [
            e.name.len() as u16,
            e.extra.len() as u16,
            e.comment.len() as u16,
            0,
            0,
        ] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        central.extend_from_slice(&(if e.dir { 0x10u32 } else { 0x20 }).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(&e.name);
        central.extend_from_slice(&e.extra);
        central.extend_from_slice(&e.comment);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, entries.len() as u16, entries.len() as u16] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&(comment.len() as u16).to_le_bytes());
    out.extend_from_slice(comment);
    out.extend_from_slice(after);
    out
}

/// Everything a SAZ case needs.
pub struct SazPlan<'a> {
    /// The base scenario's capture.
    pub base: &'a Capture,
    /// The planted exchange.
    pub plant: &'a Plant,
    /// How its secret-bearing body travels.
    pub enc: SazEnc,
    /// Zip metadata placement.
    pub zip: ZipMeta,
    /// The text the framing or zip metadata carries (empty when the body carries the secret).
    pub carried: &'a str,
    /// Masking keys of the client's websocket frames.
    pub keys: &'a [[u8; 4]],
}

fn xml_attr(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// When the planted session begins: two seconds after the base's last.
pub fn planted_begin(base: &Capture) -> Instant {
    base.sessions
        .last()
        .map(|s| s.begin.plus_ms(2_000))
        .unwrap_or(crate::clock::START)
}

/// The SAZ bytes of a case: the base sessions, then the planted one.
pub fn saz(plan: &SazPlan) -> Vec<u8> {
    saz_with(plan.base, Around::of(plan), &[(plan.plant, plan.enc)])
}

/// The base sessions, then every plant (each with how its secret-bearing body travels), one
/// session each, two seconds apart: the redaction matrix's captures.
pub fn saz_many(base: &Capture, plants: &[(&Plant, SazEnc)]) -> Vec<u8> {
    let around = Around {
        zip: ZipMeta::None,
        carried: "",
        keys: &[],
    };
    saz_with(base, around, plants)
}

/// What a plan puts around its planted sessions: zip metadata, the carried text, websocket
/// masking keys.
#[derive(Clone, Copy)]
struct Around<'a> {
    zip: ZipMeta,
    carried: &'a str,
    keys: &'a [[u8; 4]],
}

impl<'a> Around<'a> {
    fn of(plan: &SazPlan<'a>) -> Around<'a> {
        Around {
            zip: plan.zip,
            carried: plan.carried,
            keys: plan.keys,
        }
    }
}

/// The base sessions, then `plants` (zip metadata, carried text and websocket keys go with
/// the first).
fn saz_with(base: &Capture, around: Around, plants: &[(&Plant, SazEnc)]) -> Vec<u8> {
    let first_begin = planted_begin(base);
    let mut cap = base.clone();
    let mut planted = Vec::new();
    for (i, &(p, enc)) in plants.iter().enumerate() {
        let begin = first_begin.plus_ms(2_000 * i as u64);
        cap.sessions.push(model_session(p, begin));
        planted.push((cap.sessions.len(), p, enc, begin));
    }
    let pad = cap.sessions.len().to_string().len();
    let mut out: Vec<ZEntry> = Vec::new();
    for e in crate::saz::entries(&cap, &crate::saz::SazOptions::default()) {
        let mut z = zentry(&e.name, e.data);
        let mut ws = None;
        for (n, &(id, p, enc, begin)) in planted.iter().enumerate() {
            let stem = format!("raw/{id:0pad$}");
            let first = n == 0;
            let around = if first {
                around
            } else {
                Around {
                    zip: ZipMeta::None,
                    carried: "",
                    keys: &[],
                }
            };
            plant_entry(around, &mut z, &e.name, &stem, p, enc);
            if e.name == format!("{stem}_m.xml") && !p.ws.is_empty() {
                ws = Some(zentry(
                    &format!("{stem}_w.txt"),
                    ws_txt(&p.ws, begin, around.keys),
                ));
            }
        }
        out.push(z);
        out.extend(ws);
    }
    finish_saz(around, out)
}

/// Entry `name` of the planted session `stem`: its request, response and flags.
fn plant_entry(around: Around, z: &mut ZEntry, name: &str, stem: &str, p: &Plant, enc: SazEnc) {
    let (req_enc, resp_enc) = match p.side {
        Side::Request => (enc, SazEnc::Identity),
        Side::Response => (SazEnc::Identity, enc),
        Side::Head => (SazEnc::Identity, SazEnc::Identity),
    };
    let (carried, zip) = (around.carried, around.zip);
    if name == format!("{stem}_c.txt") {
        z.data = message(
            &format!("{} {} HTTP/1.1", p.method, p.url),
            &p.req_headers,
            &p.req_body,
            req_enc,
            carried,
        );
        match zip {
            ZipMeta::EntryComment => z.comment = carried.as_bytes().to_vec(),
            ZipMeta::ExtraField => {
                let mut x = 0xcafeu16.to_le_bytes().to_vec();
                x.extend_from_slice(&(carried.len() as u16).to_le_bytes());
                x.extend_from_slice(carried.as_bytes());
                z.extra = x;
            }
            _ => {}
        }
    } else if name == format!("{stem}_s.txt") {
        z.data = message(
            &format!("HTTP/1.1 {} {}", p.status, p.reason),
            &p.resp_headers,
            &p.resp_body,
            resp_enc,
            carried,
        );
        if zip == ZipMeta::DeflateTrailing {
            z.trailing = carried.as_bytes().to_vec();
        }
    } else if name == format!("{stem}_m.xml") {
        let mut x = String::from_utf8_lossy(&z.data).into_owned();
        let flags: String = p
            .flags
            .iter()
            .map(|(n, v)| {
                format!(
                    "    <SessionFlag N=\"{}\" V=\"{}\" />\r\n",
                    n.to_ascii_lowercase(),
                    xml_attr(v)
                )
            })
            .collect();
        if let Some(at) = x.find("  </SessionFlags>") {
            x.insert_str(at, &flags);
        }
        z.data = x.into_bytes();
    }
}

/// The archive around the entries: zip metadata placements, Fiddler's comment.
fn finish_saz(plan: Around, mut out: Vec<ZEntry>) -> Vec<u8> {
    match plan.zip {
        ZipMeta::EntryName => out.push(zentry(
            &format!("notes/{}.txt", plan.carried),
            b"see ticket".to_vec(),
        )),
        ZipMeta::DirectoryWithData => {
            let mut d = zentry("raw/", plan.carried.as_bytes().to_vec());
            d.dir = true;
            out.insert(1, d);
        }
        _ => {}
    }
    let mut comment = crate::saz::FIDDLER_COMMENT.as_bytes().to_vec();
    if plan.zip == ZipMeta::ArchiveComment {
        comment.extend_from_slice(b"\r\n");
        comment.extend_from_slice(plan.carried.as_bytes());
    }
    let after = if plan.zip == ZipMeta::AfterEnd {
        plan.carried.as_bytes().to_vec()
    } else {
        Vec::new()
    };
    zip_bytes(&out, &comment, &after)
}

fn get_mut<'a>(j: &'a mut J, key: &str) -> Option<&'a mut J> {
    match j {
        J::Obj(pairs) => pairs.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

fn set(j: &mut J, key: &str, v: J) {
    if let J::Obj(pairs) = j {
        match pairs.iter_mut().find(|(k, _)| k == key) {
            Some((_, old)) => *old = v,
            None => pairs.push((key.to_string(), v)),
        }
    }
}

fn b64_variant(data: &[u8], enc: HarEnc) -> String {
    match enc {
        HarEnc::Base64Unpadded => STANDARD_NO_PAD.encode(data),
        HarEnc::Base64UrlSafe => URL_SAFE.encode(data),
        HarEnc::Base64Wrapped => {
            let s = STANDARD.encode(data);
            s.as_bytes()
                .chunks(76)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("\r\n")
        }
        _ => STANDARD.encode(data),
    }
}

/// The HAR bytes of a case: the base sessions, then the planted one.
pub fn har(base: &Capture, p: &Plant, enc: HarEnc) -> Vec<u8> {
    har_many(base, &[(p, enc)])
}

/// The base sessions, then every plant (each with its body form), two seconds apart.
pub fn har_many(base: &Capture, plants: &[(&Plant, HarEnc)]) -> Vec<u8> {
    let opt = crate::har::HarOptions::default();
    let mut entries: Vec<J> = base
        .sessions
        .iter()
        .enumerate()
        .map(|(i, s)| crate::har::entry(i + 1, s, &opt))
        .collect();
    for (i, &(p, enc)) in plants.iter().enumerate() {
        let begin = planted_begin(base).plus_ms(2_000 * i as u64);
        let e = har_entry(entries.len() + 1, p, enc, begin, &opt);
        entries.push(e);
    }
    let mut out = crate::har::log(entries).pretty().into_bytes();
    out.push(b'\n');
    out
}

/// The HAR entry of one plant.
fn har_entry(n: usize, p: &Plant, enc: HarEnc, begin: Instant, opt: &crate::har::HarOptions) -> J {
    let s = model_session(p, begin);
    let mut e = crate::har::entry(n, &s, opt);
    let label = if enc == HarEnc::Base64Label {
        "Base64"
    } else {
        "base64"
    };
    if enc != HarEnc::Text {
        match p.side {
            Side::Request => {
                if let Some(pd) = get_mut(&mut e, "request").and_then(|r| get_mut(r, "postData")) {
                    set(pd, "text", J::s(b64_variant(&p.req_body, enc)));
                    set(pd, "encoding", J::s(label));
                }
            }
            Side::Response | Side::Head => {
                if let Some(c) = get_mut(&mut e, "response").and_then(|r| get_mut(r, "content")) {
                    set(c, "text", J::s(b64_variant(&p.resp_body, enc)));
                    set(c, "encoding", J::s(label));
                }
            }
        }
    }
    if p.har_tweak == HarTweak::JoinSetCookie {
        if let Some(J::Arr(hs)) = get_mut(&mut e, "response").and_then(|r| get_mut(r, "headers")) {
            let is_sc = |j: &J| matches!(j, J::Obj(p) if p.iter().any(|(k, v)| k == "name" && matches!(v, J::Str(n) if n.eq_ignore_ascii_case("set-cookie"))));
            let value = |j: &J| match j {
                J::Obj(p) => p
                    .iter()
                    .find(|(k, _)| k == "value")
                    .and_then(|(_, v)| match v {
                        J::Str(s) => Some(s.clone()),
                        _ => None,
                    }),
                _ => None,
            };
            let first = hs.iter().position(is_sc);
            let joined: Vec<String> = hs.iter().filter(|j| is_sc(j)).filter_map(value).collect();
            if let Some(at) = first {
                hs.retain(|j| !is_sc(j));
                hs.insert(
                    at.min(hs.len()),
                    J::o(vec![
                        ("name", J::s("set-cookie")),
                        ("value", J::s(joined.join("\n"))),
                    ]),
                );
            }
        }
    }
    if !p.ws.is_empty() {
        let t0 = begin.unix() as f64 + 0.4;
        let msgs =
            p.ws.iter()
                .enumerate()
                .map(|(i, m)| {
                    let data = if m.text {
                        J::s(String::from_utf8_lossy(&m.data))
                    } else {
                        J::s(STANDARD.encode(&m.data))
                    };
                    J::o(vec![
                        ("type", J::s(if m.from_client { "send" } else { "receive" })),
                        ("time", J::f(t0 + 0.025 * i as f64)),
                        ("opcode", J::n(if m.text { 1 } else { 2 })),
                        ("data", data),
                    ])
                })
                .collect();
        set(&mut e, "_webSocketMessages", J::Arr(msgs));
    }
    e
}
