//! `traceadal redact` for a SAZ: a copy of the archive with every secret replaced by a
//! same-length placeholder.
//!
//! - Every entry is written in the input's order, under its own name (raw bytes), with its
//!   own timestamp; the archive comment (`Fiddler (v5...) Session Archive`) is kept. Entry
//!   names are only ever names inside the output archive, never filesystem paths.
//! - An entry with nothing to replace is copied as stored (a raw zip copy, compressed bytes
//!   and CRC untouched) unless it has to be re-encrypted.
//! - `raw/NN_c.txt` and `raw/NN_s.txt`: the head is scrubbed line by line; the body is
//!   scrubbed as stored when it has no transfer or content coding. A chunked or compressed
//!   body is decoded (see `capture::body`) and scrubbed; when something was replaced it is
//!   stored decoded: `Transfer-Encoding` and `Content-Encoding` are removed and
//!   `Content-Length` set (what Fiddler's own "Remove all encodings" does). A body with
//!   nothing to replace keeps its encoding, byte for byte.
//! - Every other entry (`_m.xml`, `_w.txt`, `_index.htm`, ...) is scrubbed as text (runs of
//!   valid UTF-8; binary bytes pass unchanged).
//! - With an output password every entry is written AES-256 encrypted.

use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::path::Path;

use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, ZipArchive, ZipReadOptions, ZipWriter};

use super::{scrub_bytes, Counts};
use crate::capture::body::{decode_partial, DecodeLimits};
use crate::capture::saz::{
    entry_error, io_entry_error, parse_entry_name, zip_open_error, Kind, HEAD_ALLOWANCE,
};
use crate::capture::{Body, CaptureErrorKind, Headers, Password};

/// How to rewrite.
#[derive(Debug, Clone, Default)]
pub struct SazRewrite {
    /// The input's password, when it is encrypted.
    pub input_password: Option<Password>,
    /// Encrypt the output (AES-256) with this password.
    pub output_password: Option<Password>,
    pub limits: DecodeLimits,
}

/// What a rewrite did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub counts: Counts,
    /// Things the user should know (a body that could not be decoded). Never content.
    pub notes: Vec<String>,
    pub entries: usize,
}

/// Rewrite the SAZ at `input` into `output` (a fresh file).
pub fn rewrite<W: Write + Seek>(
    input: &Path,
    output: W,
    opts: &SazRewrite,
) -> Result<Outcome, CaptureErrorKind> {
    let file = File::open(input)?;
    let mut zip = ZipArchive::new(BufReader::new(file)).map_err(zip_open_error)?;
    let encrypted = (0..zip.len()).any(|i| zip.by_index_data(i).is_ok_and(|e| e.encrypted()));
    if encrypted && opts.input_password.is_none() {
        return Err(CaptureErrorKind::PasswordRequired);
    }
    let mut w = ZipWriter::new(output);
    w.set_raw_comment(zip.comment().to_vec().into_boxed_slice())
        .map_err(|e| write_err(&e))?;
    let cap = opts.limits.max_decoded.saturating_add(HEAD_ALLOWANCE);
    let mut out = Outcome::default();
    let mut seen = std::collections::HashSet::new();
    for i in 0..zip.len() {
        let (name, entry_encrypted, method, modified, is_dir, size) = {
            let e = zip
                .by_index_data(i)
                .map_err(|e| CaptureErrorKind::Saz(entry_error(&e)))?;
            (
                e.name_raw().to_vec(),
                e.encrypted(),
                e.compression(),
                e.last_modified(),
                e.is_dir(),
                e.size(),
            )
        };
        let label = entry_label(&name, i);
        if !seen.insert(name.clone()) {
            out.notes.push(format!(
                "{label}: the same entry name again; the copy was left out"
            ));
            continue;
        }
        let raw_copy_ok = !entry_encrypted && opts.output_password.is_none();
        let mut options = SimpleFileOptions::default()
            .compression_method(match method {
                CompressionMethod::Stored => CompressionMethod::Stored,
                _ => CompressionMethod::Deflated,
            })
            .large_file(size > u64::from(u32::MAX) / 2);
        if let Some(t) = modified {
            options = options.last_modified_time(t);
        }
        if let Some(pw) = &opts.output_password {
            options = options.with_aes_encryption(AesMode::Aes256, pw.expose());
        }
        let options = options.name(&name);
        if is_dir {
            if raw_copy_ok {
                let e = zip.by_index_raw(i).map_err(|e| saz_err(&label, &e))?;
                w.raw_copy_file(e).map_err(|e| write_err(&e))?;
            } else {
                let dir = String::from_utf8_lossy(&name).into_owned();
                w.add_directory(dir, options).map_err(|e| write_err(&e))?;
            }
            continue;
        }
        let bytes = read_entry(&mut zip, i, opts.input_password.as_ref(), cap, &label)?;
        let new = match parse_entry_name(&name).map(|(_, k)| k) {
            Some(Kind::Request) | Some(Kind::Response) => {
                rewrite_message(&bytes, &opts.limits, &mut out, &label)
            }
            _ => scrub_bytes(&bytes, &mut out.counts),
        };
        out.entries += 1;
        match new {
            None if raw_copy_ok => {
                let e = zip.by_index_raw(i).map_err(|e| saz_err(&label, &e))?;
                w.raw_copy_file(e).map_err(|e| write_err(&e))?;
            }
            new => {
                let data = new.as_deref().unwrap_or(&bytes);
                w.start_file_with_options(options)
                    .map_err(|e| write_err(&e))?;
                w.write_all(data)?;
            }
        }
    }
    let mut inner = w.finish().map_err(|e| write_err(&e))?;
    inner.flush()?;
    Ok(out)
}

/// An entry named for a message: its session entry name when it has one, else its index
/// (entry names are capture content).
fn entry_label(name: &[u8], index: usize) -> String {
    match parse_entry_name(name) {
        Some((id, Kind::Request)) => format!("raw/{id}_c.txt"),
        Some((id, Kind::Response)) => format!("raw/{id}_s.txt"),
        Some((id, Kind::Meta)) => format!("raw/{id}_m.xml"),
        Some((id, Kind::WebSocket)) => format!("raw/{id}_w.txt"),
        None => format!("entry #{}", index + 1),
    }
}

fn saz_err(label: &str, e: &ZipError) -> CaptureErrorKind {
    match e {
        ZipError::InvalidPassword => CaptureErrorKind::WrongPassword,
        _ => CaptureErrorKind::Saz(format!("{label}: {}", entry_error(e))),
    }
}

fn write_err(e: &ZipError) -> CaptureErrorKind {
    match e {
        ZipError::Io(e) => CaptureErrorKind::Io(std::io::Error::new(e.kind(), e.to_string())),
        other => CaptureErrorKind::Saz(format!("cannot write the output archive: {other}")),
    }
}

fn read_entry<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    password: Option<&Password>,
    cap: u64,
    label: &str,
) -> Result<Vec<u8>, CaptureErrorKind> {
    let options = ZipReadOptions::new().password(password.map(|p| p.expose().as_bytes()));
    let entry = zip
        .by_index_with_options(index, options)
        .map_err(|e| saz_err(label, &e))?;
    let mut bytes = Vec::new();
    match entry.take(cap.saturating_add(1)).read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if password.is_some() && e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(CaptureErrorKind::WrongPassword)
        }
        Err(e) => {
            return Err(CaptureErrorKind::Saz(format!(
                "{label}: {}",
                io_entry_error(&e)
            )))
        }
    }
    if bytes.len() as u64 > cap {
        return Err(CaptureErrorKind::Saz(format!(
            "{label}: larger than the {cap}-byte cap; raise --max-body-mib to redact it"
        )));
    }
    Ok(bytes)
}

/// A request or response entry with its secrets replaced; `None` when it has none.
fn rewrite_message(
    bytes: &[u8],
    limits: &DecodeLimits,
    out: &mut Outcome,
    label: &str,
) -> Option<Vec<u8>> {
    let Some((head_end, body_start)) = head_split(bytes) else {
        return scrub_bytes(bytes, &mut out.counts);
    };
    let head = &bytes[..head_end];
    let sep = &bytes[head_end..body_start];
    let body = &bytes[body_start..];
    let new_head = scrub_bytes(head, &mut out.counts);
    let head_now = new_head.as_deref().unwrap_or(head);
    let headers = parse_headers(head_now);
    let coded = headers.contains("transfer-encoding") || headers.contains("content-encoding");

    let mut new_body: Option<Vec<u8>> = None;
    let mut decoded = false;
    if !body.is_empty() {
        if coded {
            let raw = Body {
                raw: body.to_vec(),
                wire: true,
                truncated: false,
            };
            let d = decode_partial(&raw, &headers, limits);
            if let Some(found) = scrub_bytes(&d.bytes, &mut out.counts) {
                new_body = Some(found);
                decoded = true;
                if d.problem.is_some() {
                    out.notes.push(format!(
                        "{label}: the body decodes only in part; stored decoded as far as it goes"
                    ));
                }
            } else if d.problem.is_some() {
                out.notes.push(format!(
                    "{label}: the body does not decode; nothing found in what does, kept as stored"
                ));
            }
        } else {
            new_body = scrub_bytes(body, &mut out.counts);
        }
    }
    if new_head.is_none() && new_body.is_none() {
        return None;
    }
    let body_now = new_body.as_deref().unwrap_or(body);
    let head_out = if decoded {
        set_length(head_now, body_now.len(), true)
    } else if new_body.is_some() && body_now.len() != body.len() {
        set_length(head_now, body_now.len(), false)
    } else {
        head_now.to_vec()
    };
    let mut msg = head_out;
    msg.extend_from_slice(sep);
    msg.extend_from_slice(body_now);
    Some(msg)
}

/// Where the head ends (before the blank line) and the body starts.
fn head_split(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(p) = bytes[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        let rest = &bytes[nl + 1..];
        if rest.starts_with(b"\r\n") {
            return Some((nl + 1, nl + 3));
        }
        if rest.starts_with(b"\n") {
            return Some((nl + 1, nl + 2));
        }
        i = nl + 1;
    }
    None
}

/// The header fields of a head (the start line skipped), tolerant of anything.
fn parse_headers(head: &[u8]) -> Headers {
    let mut h = Headers::new();
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = String::from_utf8_lossy(line);
        if let Some((n, v)) = line.split_once(':') {
            h.push(n.trim(), v.trim());
        }
    }
    h
}

/// `head` with `Content-Length: len`; with `decoded`, without `Transfer-Encoding` and
/// `Content-Encoding` (the body is now stored decoded). Line ends are kept as they were.
fn set_length(head: &[u8], len: usize, decoded: bool) -> Vec<u8> {
    let is = |line: &[u8], name: &[u8]| {
        line.len() > name.len()
            && line[..name.len()].eq_ignore_ascii_case(name)
            && line[name.len()..].trim_ascii_start().starts_with(b":")
    };
    let crlf = head.windows(2).any(|w| w == b"\r\n");
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut out = Vec::with_capacity(head.len() + 24);
    let mut set = false;
    for line in head.split_inclusive(|&b| b == b'\n') {
        if decoded && (is(line, b"transfer-encoding") || is(line, b"content-encoding")) {
            continue;
        }
        if is(line, b"content-length") {
            if !set {
                out.extend_from_slice(format!("Content-Length: {len}").as_bytes());
                out.extend_from_slice(eol);
                set = true;
            }
            continue;
        }
        out.extend_from_slice(line);
    }
    if !set {
        if !out.ends_with(b"\n") {
            out.extend_from_slice(eol);
        }
        out.extend_from_slice(format!("Content-Length: {len}").as_bytes());
        out.extend_from_slice(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_gzip_body_is_stored_decoded_with_its_length() {
        use std::io::Write as _;
        let body = br#"{"refresh_token":"SECRET-RT-abcdefgh","token_type":"Bearer"}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(body).unwrap();
        let gz = gz.finish().unwrap();
        let mut chunked = format!("{:x}\r\n", gz.len()).into_bytes();
        chunked.extend_from_slice(&gz);
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let mut msg = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
        msg.extend_from_slice(&chunked);
        let mut out = Outcome::default();
        let new = rewrite_message(&msg, &DecodeLimits::default(), &mut out, "raw/1_s.txt")
            .expect("a secret was replaced");
        let text = String::from_utf8(new).unwrap();
        assert!(!text.contains("SECRET-RT"), "{text}");
        assert!(!text.to_ascii_lowercase().contains("transfer-encoding"));
        assert!(!text.to_ascii_lowercase().contains("content-encoding"));
        assert!(text.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(text.ends_with(r#""token_type":"Bearer"}"#));
        assert_eq!(out.counts.get(super::super::Kind::RefreshToken), 1);
    }

    #[test]
    fn a_message_without_secrets_is_left_alone() {
        let msg = b"GET https://x.contoso.com/a?b=c HTTP/1.1\r\nHost: x.contoso.com\r\n\r\n";
        let mut out = Outcome::default();
        assert!(rewrite_message(msg, &DecodeLimits::default(), &mut out, "raw/1_c.txt").is_none());
    }

    #[test]
    fn content_length_follows_a_changed_body() {
        let head = b"POST / HTTP/1.1\nHost: x\nContent-Length: 99\n";
        let new = set_length(head, 5, false);
        assert_eq!(new, b"POST / HTTP/1.1\nHost: x\nContent-Length: 5\n");
    }
}
