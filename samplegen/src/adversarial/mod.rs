//! The adversarial set (issue 17): captures that each plant ONE unique secret in one
//! placement and encoding, inside an otherwise realistic session sequence (a sample scenario,
//! then the planted exchange), as SAZ and as HAR where the placement exists in that format.
//!
//! Every secret is `ADV<nnn>x` followed by random-looking base62 characters drawn from a fixed
//! seed, so it is unique to its case, contains no other case's secret, and tells which case
//! leaked when found. The set is deterministic (fixed clock, seeded streams): the same bytes
//! on every run. Not written to `samples/`: `cargo run -p samplegen -- adversarial DIR` writes
//! it, and `tests/adversarial.rs` is the oracle that searches every output for each secret.

pub mod matrix;
pub mod pack;
pub mod plants;

use std::io;
use std::path::{Path, PathBuf};

use crate::clock::Rng;
pub use pack::{HarEnc, SazEnc, ZipMeta};
use plants::{Ctx, Formats, Side, CARRIER, NAMES};

/// Capture format of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Fiddler SAZ.
    Saz,
    /// HAR 1.2.
    Har,
}

impl Format {
    /// The file extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Saz => "saz",
            Format::Har => "har",
        }
    }
}

/// One adversarial capture.
#[derive(Clone, Debug)]
pub struct Case {
    /// `nnn-kind-place-encoding-format`: unique, a file stem.
    pub id: String,
    /// Format.
    pub format: Format,
    /// Secret kind (`refresh-token`, `password`, `estsauth`...).
    pub kind: &'static str,
    /// Placement.
    pub place: String,
    /// Encoding (SAZ transport encoding, HAR body form, or zip metadata).
    pub encoding: String,
    /// The one secret planted, as it is before any encoding.
    pub secret: String,
    /// What the case is, in words (no secret).
    pub description: String,
    /// Whether the fast slice (run by `cargo test`) holds it.
    pub fast: bool,
    /// The capture.
    pub bytes: Vec<u8>,
}

impl Case {
    /// `<id>.saz` or `<id>.har`.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.id, self.format.ext())
    }
}

/// The sample scenarios the planted sessions follow, in turn.
pub const BASES: &[&str] = &[
    "adal-500011-redirect",
    "healthy-token-issued",
    "hma-declined",
];

/// The SAZ transport encodings crossed with [`BODY_PLANTS`].
pub const BODY_ENCS: &[SazEnc] = &[
    SazEnc::Chunked,
    SazEnc::ChunkedGzip,
    SazEnc::Gzip,
    SazEnc::Deflate,
    SazEnc::DeflateRaw,
    SazEnc::Br,
    SazEnc::Zstd,
    SazEnc::DoubleGzip,
    SazEnc::GzipTwiceLabelledOnce,
    SazEnc::GzipLabelStoredPlain,
    SazEnc::GzipOverCap,
];

/// Plants whose secret-bearing body goes through every [`BODY_ENCS`].
pub const BODY_PLANTS: &[&str] = &[
    "refresh-token/json-snake",
    "password/form-body",
    "auth-code/json-u0026",
];

/// Encodings whose framing carries the secret.
pub const FRAMING_ENCS: &[SazEnc] = &[
    SazEnc::ChunkExtension,
    SazEnc::ChunkTrailer,
    SazEnc::AfterLastChunk,
    SazEnc::GzipTrailingBytes,
    SazEnc::GzipSecondMember,
];

/// Zip metadata placements.
pub const ZIP_METAS: &[ZipMeta] = &[
    ZipMeta::ArchiveComment,
    ZipMeta::EntryComment,
    ZipMeta::ExtraField,
    ZipMeta::EntryName,
    ZipMeta::DirectoryWithData,
    ZipMeta::DeflateTrailing,
    ZipMeta::AfterEnd,
];

/// HAR body forms crossed with [`HAR_BODY_PLANTS`].
pub const HAR_ENCS: &[HarEnc] = &[
    HarEnc::Base64,
    HarEnc::Base64Label,
    HarEnc::Base64Unpadded,
    HarEnc::Base64UrlSafe,
    HarEnc::Base64Wrapped,
];

/// Plants whose body goes through every [`HAR_ENCS`].
pub const HAR_BODY_PLANTS: &[&str] = &["refresh-token/json-snake", "password/form-body"];

#[derive(Clone, Copy)]
enum Spec {
    Plain(&'static str, Format),
    Saz(&'static str, SazEnc),
    Framing(SazEnc),
    Zip(ZipMeta),
    Har(&'static str, HarEnc),
}

fn specs() -> Vec<(Spec, bool)> {
    let mut v = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        let formats = probe_formats(name);
        for f in [Format::Saz, Format::Har] {
            let ok = match formats {
                Formats::Both => true,
                Formats::Saz => f == Format::Saz,
                Formats::Har => f == Format::Har,
            };
            if ok {
                // The fast slice: every other plant, alternating formats.
                let fast = i % 2 == 0
                    && (f == if i % 4 == 0 { Format::Saz } else { Format::Har }
                        || formats != Formats::Both);
                v.push((Spec::Plain(name, f), fast));
            }
        }
    }
    for name in BODY_PLANTS {
        for enc in BODY_ENCS {
            let fast = *name == "refresh-token/json-snake"
                && matches!(
                    enc,
                    SazEnc::Chunked | SazEnc::Gzip | SazEnc::Br | SazEnc::Zstd | SazEnc::DoubleGzip
                )
                // A sign-in body the analysis cannot decode: the copy must stay inconclusive.
                || (*name == "password/form-body"
                    && matches!(enc, SazEnc::Zstd | SazEnc::GzipLabelStoredPlain));
            v.push((Spec::Saz(name, *enc), fast));
        }
    }
    for enc in FRAMING_ENCS {
        let fast = matches!(enc, SazEnc::AfterLastChunk | SazEnc::GzipTrailingBytes);
        v.push((Spec::Framing(*enc), fast));
    }
    for z in ZIP_METAS {
        let fast = matches!(
            z,
            ZipMeta::ArchiveComment | ZipMeta::EntryComment | ZipMeta::DirectoryWithData
        );
        v.push((Spec::Zip(*z), fast));
    }
    for name in HAR_BODY_PLANTS {
        for enc in HAR_ENCS {
            let side_req = *name == "password/form-body";
            // A request body has one base64 form in HAR (postData `encoding`).
            if side_req && *enc != HarEnc::Base64 {
                continue;
            }
            let fast = matches!(enc, HarEnc::Base64Unpadded) || side_req;
            v.push((Spec::Har(name, *enc), fast));
        }
    }
    v
}

fn probe_formats(name: &str) -> Formats {
    let mut c = Ctx {
        now: crate::clock::START,
        rng: Rng::for_name("probe"),
    };
    plants::build(name, "x", &mut c)
        .map(|p| p.formats)
        .unwrap_or(Formats::Both)
}

/// `ADV<nnn>x` and 24 base62 characters; 12 for a short authorization code, 120 for the
/// other codes (real ones are hundreds of characters: a code under 32 is the short case).
fn secret(n: usize, rng: &mut Ctx, len: usize) -> String {
    let tail = rng.base62(len);
    format!("ADV{n:03}x{tail}")
}

/// Every case, in a fixed order (deterministic bytes).
pub fn cases() -> Vec<Case> {
    let bases: Vec<crate::model::Capture> =
        BASES.iter().filter_map(|b| crate::capture(b)).collect();
    let mut out = Vec::new();
    for (n, (spec, fast)) in specs().into_iter().enumerate() {
        let n = n + 1;
        let Some(base) = bases.get(n % bases.len().max(1)) else {
            continue;
        };
        let mut ctx = Ctx {
            now: pack::planted_begin(base),
            rng: Rng::for_name(&format!("adversarial-{n}")),
        };
        let (name, format) = match spec {
            Spec::Plain(name, f) => (name, f),
            Spec::Saz(name, _) => (name, Format::Saz),
            Spec::Framing(_) | Spec::Zip(_) => (CARRIER, Format::Saz),
            Spec::Har(name, _) => (name, Format::Har),
        };
        let len = match name {
            "auth-code/query-short" => 12,
            _ if name.starts_with("auth-code/") => 120,
            _ => 24,
        };
        let secret = secret(n, &mut ctx, len);
        let Some(plant) = plants::build(name, &secret, &mut ctx) else {
            continue;
        };
        let keys: Vec<[u8; 4]> = (0..plant.ws.len())
            .map(|_| (ctx.rng.next_u64() as u32 | 0x0101_0101).to_le_bytes())
            .collect();
        let (kind, carried) = match spec {
            Spec::Framing(SazEnc::ChunkTrailer) => (
                "estsauth",
                format!("Set-Cookie: ESTSAUTH={secret}; path=/; secure; HttpOnly"),
            ),
            Spec::Framing(_) => ("refresh-token", format!("refresh_token={secret}")),
            Spec::Zip(ZipMeta::EntryName) => ("refresh-token", format!("refresh_token={secret}")),
            Spec::Zip(_) => (
                "refresh-token",
                format!("{{\"refresh_token\":\"{secret}\"}}"),
            ),
            _ => (plant.kind, String::new()),
        };
        let (place, encoding, bytes) = match spec {
            Spec::Plain(_, Format::Har) | Spec::Har(..) => {
                let enc = match spec {
                    Spec::Har(_, e) => e,
                    _ => HarEnc::Text,
                };
                let place = plant.place.to_string();
                (place, enc.name().to_string(), pack::har(base, &plant, enc))
            }
            _ => {
                let (enc, zip) = match spec {
                    Spec::Saz(_, e) | Spec::Framing(e) => (e, ZipMeta::None),
                    Spec::Zip(z) => (SazEnc::Identity, z),
                    _ => (SazEnc::Identity, ZipMeta::None),
                };
                let place = match spec {
                    Spec::Framing(_) => "framing".to_string(),
                    Spec::Zip(z) => z.name().to_string(),
                    _ => plant.place.to_string(),
                };
                let encoding = match spec {
                    Spec::Zip(_) => "deflate".to_string(),
                    _ => enc.name().to_string(),
                };
                let plan = pack::SazPlan {
                    base,
                    plant: &plant,
                    enc,
                    zip,
                    carried: &carried,
                    keys: &keys,
                };
                (place, encoding, pack::saz(&plan))
            }
        };
        let body = match plant.side {
            Side::Request => "request body",
            Side::Response => "response body",
            Side::Head => "request head, URL, frames or flags",
        };
        let description = format!(
            "{} in {} ({}), {} encoding, after the sessions of {}",
            kind,
            place,
            if carried.is_empty() {
                body
            } else {
                "framing or zip metadata"
            },
            encoding,
            BASES[n % BASES.len()]
        );
        out.push(Case {
            id: format!("{n:03}-{kind}-{place}-{encoding}-{}", format.ext()),
            format,
            kind,
            place,
            encoding,
            secret,
            description,
            fast,
            bytes,
        });
    }
    out
}

/// Writes every case into `dir` (created) as `<id>.saz|.har`, plus `cases.tsv` (id, format,
/// kind, place, encoding, secret, description, `fast` for the fast slice). Returns the paths written.
pub fn write_all(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut tsv = String::from("id\tformat\tkind\tplace\tencoding\tsecret\tdescription\tfast\n");
    for c in cases() {
        let p = dir.join(c.file_name());
        std::fs::write(&p, &c.bytes)?;
        tsv.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            c.id,
            c.format.ext(),
            c.kind,
            c.place,
            c.encoding,
            c.secret,
            c.description,
            if c.fast { "fast" } else { "" }
        ));
        written.push(p);
    }
    let p = dir.join("cases.tsv");
    std::fs::write(&p, tsv)?;
    written.push(p);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_deterministic_unique_and_hold_their_secret_once_per_case() {
        let a = cases();
        let b = cases();
        assert_eq!(a.len(), b.len());
        assert!(a.len() > 120, "{}", a.len());
        let mut ids = std::collections::BTreeSet::new();
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.id, y.id);
            assert!(x.bytes == y.bytes, "{} differs between runs", x.id);
            assert!(ids.insert(x.id.clone()), "duplicate id {}", x.id);
            assert!(x.secret.starts_with("ADV"));
        }
        let fast = a.iter().filter(|c| c.fast).count();
        assert!((30..=50).contains(&fast), "fast slice: {fast}");
        for f in [Format::Saz, Format::Har] {
            assert!(a.iter().any(|c| c.format == f && c.fast));
        }
    }

    #[test]
    fn zstd_frame_is_well_formed() {
        let z = pack::zstd_raw(b"hello");
        assert_eq!(&z[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        assert_eq!(&z[5..9], &5u32.to_le_bytes());
        // Last raw block of 5 bytes.
        assert_eq!(&z[9..12], &[1 | (5 << 3), 0, 0]);
        assert_eq!(&z[12..], b"hello");
    }

    #[test]
    fn client_websocket_frames_are_masked() {
        let m = plants::WsMessage {
            from_client: true,
            text: true,
            data: b"abcd".to_vec(),
        };
        let f = pack::ws_frame(&m, [1, 2, 3, 4]);
        assert_eq!(
            f,
            vec![
                0x81,
                0x84,
                1,
                2,
                3,
                4,
                b'a' ^ 1,
                b'b' ^ 2,
                b'c' ^ 3,
                b'd' ^ 4
            ]
        );
    }
}
