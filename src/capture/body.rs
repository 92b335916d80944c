//! Lazy body decoding: undo `Transfer-Encoding: chunked`, then `Content-Encoding`
//! (gzip, deflate as zlib or raw, br), never producing more than `DecodeLimits::max_decoded`.
//!
//! Decoding is done only when something asks for a body's text, because most rules never
//! look at most bodies. Content decoders are chained as streaming readers and the last one
//! is read through `Read::take(max + 1)`, so a bomb stops at the cap without any stage
//! allocating past it. That alone bounds memory, not work: under `Content-Encoding: br, br`
//! the inner decoder can swallow gigabytes that the outer one makes from a few bytes while
//! it produces nothing (brotli metadata blocks, empty gzip members). So every stream that
//! feeds another decoder has a budget too ([`inner_budget`]), and at most [`MAX_CODINGS`]
//! codings are undone. De-chunking cannot grow data (its output is never longer than its
//! input), so it is done in one pass over the stored bytes.
//!
//! Two entry points: [`decode`] is strict (any damage is an error) and [`decode_partial`]
//! returns what decoded before the damage, with the damage, for callers that would rather
//! see the first 10 KB of a cut-off error page than nothing.

// Capture data is hostile: no unwrap/expect outside tests (issue 8).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use super::detect::is_zlib_header;
use super::headers::Headers;
use super::session::Body;

/// Default cap on a decoded body: enough for any autodiscover, token or EWS answer.
pub const DEFAULT_MAX_DECODED: u64 = 64 * 1024 * 1024;

/// Most codings undone on one body. Servers apply one (`gzip`), rarely two; each layer may
/// cost up to its budget in work, so a header listing hundreds must not mean hundreds.
pub const MAX_CODINGS: usize = 4;

/// What a stream feeding another decoder may carry: the cap and some slack, since
/// compressing incompressible data makes it slightly larger.
pub fn inner_budget(max_decoded: u64) -> u64 {
    max_decoded
        .saturating_add(max_decoded / 8)
        .saturating_add(64 * 1024)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest decoded body.
    pub max_decoded: u64,
    /// Most bytes a compressed capture (`.har.gz`, zlib HAR) may inflate to. Past it, or past
    /// [`MAX_INFLATE_RATIO`] once [`INFLATE_RATIO_FLOOR`] is inflated, the file is refused as a
    /// compression bomb: a 4 MB file inflating to 4 GiB of whitespace would otherwise take
    /// half a minute to read and leave nothing to diagnose.
    pub max_inflated: u64,
}

/// Default of [`DecodeLimits::max_inflated`]: 4 GiB.
pub const DEFAULT_MAX_INFLATED: u64 = 4 << 30;
/// Output bytes per compressed input byte a capture may reach once past the floor. HAR text
/// compresses about 5 to 20 times; runs of whitespace or repeated bodies reach 50.
pub const MAX_INFLATE_RATIO: u64 = 100;
/// Inflated bytes below which the ratio is not judged (a small file of repeated text).
pub const INFLATE_RATIO_FLOOR: u64 = 64 << 20;

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_decoded: DEFAULT_MAX_DECODED,
            max_inflated: DEFAULT_MAX_INFLATED,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("decoded body exceeds the {0}-byte cap")]
    TooLarge(u64),
    #[error("bad chunked framing: {0}")]
    Chunked(String),
    #[error("{coding} body does not decode: {reason}")]
    Coding { coding: String, reason: String },
}

/// A best-effort decode: the bytes that decoded, and what stopped it, if anything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    /// At most `max_decoded` bytes.
    pub bytes: Vec<u8>,
    /// `None` when the whole body decoded.
    pub problem: Option<BodyError>,
}

impl Decoded {
    /// The bytes when the whole body decoded (what [`decode`] reads), else `None`.
    pub fn whole(&self) -> Option<&[u8]> {
        self.problem.is_none().then_some(self.bytes.as_slice())
    }
}

/// The body with framing and codings undone. Any damage (cap reached, framing cut short,
/// a coding that does not decode or is unknown) is an error.
pub fn decode(body: &Body, headers: &Headers, limits: &DecodeLimits) -> Result<Vec<u8>, BodyError> {
    let d = decode_partial(body, headers, limits);
    match d.problem {
        None => Ok(d.bytes),
        Some(e) => Err(e),
    }
}

/// The body with framing and codings undone as far as they go.
pub fn decode_partial(body: &Body, headers: &Headers, limits: &DecodeLimits) -> Decoded {
    if !body.wire {
        return capped_copy(&body.raw, limits.max_decoded);
    }
    decode_wire_partial(&body.raw, headers, limits)
}

/// [`decode_partial`] of a body as on the wire, borrowed (a rewrite decodes a body it holds
/// inside the entry, without a copy of it).
pub fn decode_wire_partial(raw: &[u8], headers: &Headers, limits: &DecodeLimits) -> Decoded {
    let max = limits.max_decoded;
    let mut transfer = codings(headers, "transfer-encoding");
    let mut problem = None;
    // Chunked framing applies only when it is the last transfer coding (RFC 9112 6.1).
    let dechunked;
    let framed: &[u8] = if transfer.last().map(String::as_str) == Some("chunked") {
        transfer.pop();
        let (bytes, p) = dechunk(raw);
        problem = p;
        dechunked = bytes;
        &dechunked
    } else {
        raw
    };
    // Remaining transfer codings (`gzip, chunked`) are undone after the framing and before
    // the content codings, each in reverse order of application.
    let mut stack: Vec<String> = transfer;
    stack.extend(codings(headers, "content-encoding"));
    stack.retain(|c| c != "identity" && c != "chunked");
    if stack.is_empty() {
        let mut d = capped_copy(framed, max);
        if d.problem.is_none() {
            d.problem = problem;
        }
        return d;
    }
    if stack.len() > MAX_CODINGS {
        return Decoded {
            bytes: Vec::new(),
            problem: Some(BodyError::Coding {
                coding: format!("{} codings", stack.len()),
                reason: format!("more than {MAX_CODINGS} codings are not undone"),
            }),
        };
    }
    let spent = Rc::new(Cell::new(false));
    let mut reader: Box<dyn Read + '_> = Box::new(framed);
    for (layer, coding) in stack.iter().rev().enumerate() {
        if layer > 0 {
            reader = Box::new(Budget {
                inner: reader,
                left: inner_budget(max),
                spent: Rc::clone(&spent),
            });
        }
        reader = match coding.as_str() {
            "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(reader)),
            "deflate" => deflate_reader(reader),
            "br" => Box::new(brotli_decompressor::Decompressor::new(reader, 4096)),
            other => {
                return Decoded {
                    bytes: Vec::new(),
                    problem: Some(BodyError::Coding {
                        coding: safe_name(other),
                        reason: "unsupported content coding".into(),
                    }),
                };
            }
        };
    }
    let mut bytes = Vec::new();
    let read = reader.take(max.saturating_add(1)).read_to_end(&mut bytes);
    let coding_problem = match read {
        _ if spent.get() => Some(BodyError::TooLarge(max)),
        _ if bytes.len() as u64 > max => {
            bytes.truncate(usize::try_from(max).unwrap_or(usize::MAX));
            Some(BodyError::TooLarge(max))
        }
        Ok(_) => None,
        Err(e) => Some(BodyError::Coding {
            coding: stack
                .iter()
                .map(|c| safe_name(c))
                .collect::<Vec<_>>()
                .join(", "),
            reason: describe_io(&e),
        }),
    };
    // A framing problem came first and likely caused a decoding one: report the framing.
    Decoded {
        bytes,
        problem: match (problem, coding_problem) {
            (_, Some(BodyError::TooLarge(m))) => Some(BodyError::TooLarge(m)),
            (Some(p), _) => Some(p),
            (None, p) => p,
        },
    }
}

/// A stream between two decoders that fails once it has passed `left` bytes, and says so in
/// `spent` (a decoder may wrap or replace the error it is given).
struct Budget<R> {
    inner: R,
    left: u64,
    spent: Rc<Cell<bool>>,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // At the budget: only the end of the stream is still welcome.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.spent.set(true);
            return Err(io::Error::other(
                "the data inside an outer coding passes the cap",
            ));
        }
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let got = self.inner.read(&mut buf[..n])?;
        self.left -= got as u64;
        Ok(got)
    }
}

fn capped_copy(raw: &[u8], max: u64) -> Decoded {
    if raw.len() as u64 > max {
        let n = usize::try_from(max).unwrap_or(usize::MAX);
        Decoded {
            bytes: raw[..n].to_vec(),
            problem: Some(BodyError::TooLarge(max)),
        }
    } else {
        Decoded {
            bytes: raw.to_vec(),
            problem: None,
        }
    }
}

/// `deflate` is zlib-wrapped by the RFC but raw deflate from many servers (IIS among them):
/// a valid zlib header says which.
fn deflate_reader<'a>(inner: Box<dyn Read + 'a>) -> Box<dyn Read + 'a> {
    let mut buffered = BufReader::new(inner);
    let zlib = match buffered.fill_buf() {
        Ok(head) => is_zlib_header(head),
        Err(_) => false,
    };
    if zlib {
        Box::new(flate2::read::ZlibDecoder::new(buffered))
    } else {
        Box::new(flate2::read::DeflateDecoder::new(buffered))
    }
}

/// Every coding named in every `name` header, lower-cased, in order of application.
fn codings(headers: &Headers, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .flat_map(|v| v.split(','))
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect()
}

/// A coding name fit for an error message: header text is capture content, so anything
/// that is not a short token is not repeated.
fn safe_name(coding: &str) -> String {
    if coding.len() <= 24
        && coding
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b))
    {
        coding.to_string()
    } else {
        "(unrecognised)".to_string()
    }
}

fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "data ends early".into(),
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
            "corrupt compressed data".into()
        }
        _ => "corrupt compressed data".into(),
    }
}

/// Undo chunked framing. Returns the data and, when the framing is damaged or cut short,
/// the problem; the data is everything before the damage. Output is never longer than input.
pub fn dechunk(raw: &[u8]) -> (Vec<u8>, Option<BodyError>) {
    let mut out = Vec::with_capacity(raw.len());
    let mut pos = 0usize;
    loop {
        let Some(line_end) = find_lf(raw, pos) else {
            let p = if pos >= raw.len() {
                "missing final chunk"
            } else {
                "chunk size line cut short"
            };
            return (out, Some(BodyError::Chunked(p.into())));
        };
        let line = &raw[pos..line_end];
        pos = line_end + 1;
        let size_text = line
            .split(|&b| b == b';')
            .next()
            .unwrap_or(&[])
            .trim_ascii();
        if size_text.is_empty() {
            // Tolerate a stray blank line between chunks.
            continue;
        }
        let mut size: u64 = 0;
        for &b in size_text {
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return (out, Some(BodyError::Chunked("invalid chunk size".into()))),
            };
            size = match size
                .checked_mul(16)
                .and_then(|s| s.checked_add(u64::from(digit)))
            {
                Some(s) => s,
                None => return (out, Some(BodyError::Chunked("chunk size overflows".into()))),
            };
        }
        if size == 0 {
            // Trailers follow until a blank line; they are not body.
            return (out, None);
        }
        let available = raw.len() - pos;
        let take = usize::try_from(size).unwrap_or(usize::MAX).min(available);
        out.extend_from_slice(&raw[pos..pos + take]);
        pos += take;
        if (take as u64) < size {
            return (out, Some(BodyError::Chunked("chunk cut short".into())));
        }
        // The CRLF after the chunk data.
        if raw.get(pos) == Some(&b'\r') {
            pos += 1;
        }
        if raw.get(pos) == Some(&b'\n') {
            pos += 1;
        }
    }
}

fn find_lf(raw: &[u8], from: usize) -> Option<usize> {
    raw.get(from..)?
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use proptest::prelude::*;
    use std::io::Write;

    fn wire(raw: Vec<u8>) -> Body {
        Body {
            raw,
            wire: true,
            truncated: false,
        }
    }

    fn hdrs(pairs: &[(&str, &str)]) -> Headers {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// A brotli stream of `data` as one uncompressed meta-block (RFC 7932 9.2), built by
    /// hand because only the decompressor is a dependency.
    fn brotli_uncompressed(data: &[u8]) -> Vec<u8> {
        assert!(!data.is_empty() && data.len() <= 65536);
        // WBITS=16 (1 bit 0); ISLAST=0; MNIBBLES=4 (2 bits 00); MLEN-1 in 16 bits;
        // ISUNCOMPRESSED=1; pad to byte; data; then ISLAST=1, ISLASTEMPTY=1.
        let mut bits: Vec<u8> = vec![0, 0, 0, 0];
        let m = (data.len() - 1) as u32;
        for i in 0..16 {
            bits.push(((m >> i) & 1) as u8);
        }
        bits.push(1);
        while bits.len() % 8 != 0 {
            bits.push(0);
        }
        let mut out: Vec<u8> = bits
            .chunks(8)
            .map(|c| c.iter().enumerate().fold(0u8, |a, (i, b)| a | (b << i)))
            .collect();
        out.extend_from_slice(data);
        out.push(0b11);
        out
    }

    fn chunk(data: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = data;
        for &s in sizes {
            let s = s.min(rest.len());
            out.extend_from_slice(format!("{s:x};ext=1\r\n").as_bytes());
            out.extend_from_slice(&rest[..s]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[s..];
        }
        if !rest.is_empty() {
            out.extend_from_slice(format!("{:X}\r\n", rest.len()).as_bytes());
            out.extend_from_slice(rest);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\nX-Trailer: t\r\n\r\n");
        out
    }

    const TEXT: &[u8] = b"AADSTS500011: The resource principal named https://autodiscover.contoso.com was not found in the tenant.";

    #[test]
    fn chunked_gzip_like_iis_sends_it() {
        let body = wire(chunk(&gzip(TEXT), &[5, 7]));
        let h = hdrs(&[
            ("Transfer-Encoding", "chunked"),
            ("Content-Encoding", "gzip"),
        ]);
        assert_eq!(decode(&body, &h, &DecodeLimits::default()).unwrap(), TEXT);
    }

    #[test]
    fn multi_member_gzip() {
        let mut data = gzip(b"first ");
        data.extend(gzip(b"second"));
        let h = hdrs(&[("Content-Encoding", "GZIP")]);
        let out = decode(&wire(data), &h, &DecodeLimits::default()).unwrap();
        assert_eq!(out, b"first second");
    }

    #[test]
    fn deflate_zlib_and_raw() {
        let h = hdrs(&[("Content-Encoding", "deflate")]);
        let l = DecodeLimits::default();
        assert_eq!(decode(&wire(zlib(TEXT)), &h, &l).unwrap(), TEXT);
        assert_eq!(decode(&wire(raw_deflate(TEXT)), &h, &l).unwrap(), TEXT);
    }

    #[test]
    fn brotli_and_stacked_codings() {
        let l = DecodeLimits::default();
        let h = hdrs(&[("Content-Encoding", "br")]);
        assert_eq!(
            decode(&wire(brotli_uncompressed(TEXT)), &h, &l).unwrap(),
            TEXT
        );
        // Applied gzip first, then br: undone br first, then gzip.
        let h = hdrs(&[("Content-Encoding", "gzip"), ("content-encoding", "br")]);
        let data = brotli_uncompressed(&gzip(TEXT));
        assert_eq!(decode(&wire(data), &h, &l).unwrap(), TEXT);
        let h = hdrs(&[("Content-Encoding", "br")]);
        assert!(decode(&wire(b"\xff\xfe garbage".to_vec()), &h, &l).is_err());
    }

    #[test]
    fn identity_and_unknown_codings() {
        let l = DecodeLimits::default();
        let h = hdrs(&[("Content-Encoding", "identity")]);
        assert_eq!(decode(&wire(TEXT.to_vec()), &h, &l).unwrap(), TEXT);
        let h = hdrs(&[("Content-Encoding", "compress")]);
        let e = decode(&wire(TEXT.to_vec()), &h, &l).unwrap_err();
        assert!(matches!(e, BodyError::Coding { ref coding, .. } if coding == "compress"));
        let h = hdrs(&[("Content-Encoding", "Bearer eyJsecret.token.value")]);
        let e = decode(&wire(TEXT.to_vec()), &h, &l).unwrap_err();
        assert!(!e.to_string().contains("eyJ"));
    }

    #[test]
    fn gzip_that_ends_early_keeps_what_decoded() {
        let big: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let g = gzip(&big);
        let cut = g[..g.len() / 2].to_vec();
        let h = hdrs(&[("Content-Encoding", "gzip")]);
        let d = decode_partial(&wire(cut), &h, &DecodeLimits::default());
        assert!(matches!(d.problem, Some(BodyError::Coding { .. })));
        assert!(!d.bytes.is_empty());
        assert_eq!(&big[..d.bytes.len()], &d.bytes[..]);
    }

    #[test]
    fn a_bomb_stops_at_the_cap() {
        let zeros = vec![0u8; 50 * 1024 * 1024];
        let g = gzip(&zeros);
        drop(zeros);
        let h = hdrs(&[("Content-Encoding", "gzip")]);
        let l = DecodeLimits {
            max_decoded: 1024 * 1024,
            ..DecodeLimits::default()
        };
        let d = decode_partial(&wire(g), &h, &l);
        assert_eq!(d.problem, Some(BodyError::TooLarge(1024 * 1024)));
        assert_eq!(d.bytes.len(), 1024 * 1024);
    }

    #[test]
    fn a_stream_between_two_decoders_has_a_budget() {
        // 4 MiB of empty gzip members: the inner decoder eats them all and makes nothing,
        // so without a budget on its input the output cap would never be reached.
        let empty_member = gzip(b"");
        let members = empty_member.repeat(4 * 1024 * 1024 / empty_member.len());
        let bomb = gzip(&members);
        assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
        let h = hdrs(&[("Content-Encoding", "gzip, gzip")]);
        let l = DecodeLimits {
            max_decoded: 64 * 1024,
            ..DecodeLimits::default()
        };
        let d = decode_partial(&wire(bomb), &h, &l);
        assert_eq!(d.problem, Some(BodyError::TooLarge(64 * 1024)));
        assert!(d.bytes.is_empty());
        // Up to the budget the same layering decodes: incompressible data near the cap.
        let data: Vec<u8> = (0..60 * 1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let nested = gzip(&gzip(&data));
        assert_eq!(decode(&wire(nested), &h, &l).unwrap(), data);
        assert_eq!(inner_budget(64 * 1024), 64 * 1024 + 8 * 1024 + 64 * 1024);
    }

    #[test]
    fn more_than_four_codings_are_not_undone() {
        let data = b"hello".to_vec();
        let four = gzip(&gzip(&gzip(&gzip(&data))));
        let h = hdrs(&[("Content-Encoding", "gzip, gzip, gzip, gzip")]);
        assert_eq!(
            decode(&wire(four.clone()), &h, &DecodeLimits::default()).unwrap(),
            data
        );
        let h = hdrs(&[
            ("Content-Encoding", "gzip, gzip, gzip"),
            ("Content-Encoding", "gzip, br"),
        ]);
        let e = decode(&wire(four), &h, &DecodeLimits::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "5 codings body does not decode: more than 4 codings are not undone"
        );
    }

    #[test]
    fn raw_bodies_are_capped_too() {
        let body = Body {
            raw: vec![1; 100],
            wire: false,
            truncated: false,
        };
        let h = hdrs(&[("Content-Encoding", "gzip")]);
        let l = DecodeLimits {
            max_decoded: 10,
            ..DecodeLimits::default()
        };
        assert_eq!(decode(&body, &h, &l), Err(BodyError::TooLarge(10)));
        let l = DecodeLimits {
            max_decoded: 100,
            ..DecodeLimits::default()
        };
        assert_eq!(decode(&body, &h, &l).unwrap(), vec![1; 100]);
    }

    #[test]
    fn chunked_damage() {
        assert_eq!(
            dechunk(b"5\r\nhello\r\n"),
            (
                b"hello".to_vec(),
                Some(BodyError::Chunked("missing final chunk".into()))
            )
        );
        let (out, p) = dechunk(b"ffffffffffffffffffff\r\nx");
        assert!(out.is_empty());
        assert_eq!(p, Some(BodyError::Chunked("chunk size overflows".into())));
        let (out, p) = dechunk(b"10\r\nabc");
        assert_eq!(out, b"abc");
        assert_eq!(p, Some(BodyError::Chunked("chunk cut short".into())));
        let (out, p) = dechunk(b"zz\r\n");
        assert!(out.is_empty() && p.is_some());
        // Bare LF framing.
        assert_eq!(dechunk(b"3\nabc\n0\n\n"), (b"abc".to_vec(), None));
    }

    #[test]
    fn transfer_encoding_list() {
        let l = DecodeLimits::default();
        let h = hdrs(&[("Transfer-Encoding", "gzip, chunked")]);
        assert_eq!(
            decode(&wire(chunk(&gzip(TEXT), &[3])), &h, &l).unwrap(),
            TEXT
        );
        // chunked not last: the body is not framed.
        let h = hdrs(&[("Transfer-Encoding", "chunked, identity")]);
        assert_eq!(decode(&wire(TEXT.to_vec()), &h, &l).unwrap(), TEXT);
    }

    proptest! {
        #[test]
        fn dechunk_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let (out, _) = dechunk(&raw);
            prop_assert!(out.len() <= raw.len());
        }

        #[test]
        fn decoders_never_panic(
            raw in proptest::collection::vec(any::<u8>(), 0..4096),
            coding in prop_oneof![
                Just("gzip"), Just("deflate"), Just("br"), Just("identity"),
                Just("gzip, br"), Just("x-unknown")
            ],
            chunked in any::<bool>(),
        ) {
            let mut h = hdrs(&[("Content-Encoding", coding)]);
            if chunked {
                h.push("Transfer-Encoding", "chunked");
            }
            let l = DecodeLimits { max_decoded: 64 * 1024, ..DecodeLimits::default() };
            let d = decode_partial(&wire(raw), &h, &l);
            prop_assert!(d.bytes.len() as u64 <= l.max_decoded);
        }
    }
}
