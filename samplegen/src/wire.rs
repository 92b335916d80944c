//! HTTP/1.1 on the wire: content coding, chunked framing, and raw request/response bytes
//! as Fiddler stores them in `_c.txt` / `_s.txt`.

use std::io::Write;

use crate::model::{path_of, Body, Coding, Framing, Request, Response, BODY_HEADERS};

/// Compresses `data` with `coding` (deterministic: gzip header without mtime or name).
pub fn encode(data: &[u8], coding: Coding) -> Vec<u8> {
    match coding {
        Coding::Identity => data.to_vec(),
        Coding::Gzip => {
            let mut e = flate2::GzBuilder::new()
                .operating_system(0) // FAT/Windows, as .NET's GZipStream writes
                .write(Vec::new(), flate2::Compression::default());
            e.write_all(data).expect("in-memory write");
            e.finish().expect("in-memory write")
        }
        Coding::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).expect("in-memory write");
            e.finish().expect("in-memory write")
        }
        Coding::Br => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                w.write_all(data).expect("in-memory write");
            }
            out
        }
    }
}

/// Wraps `data` in chunked framing: chunks of `size` bytes (the last shorter), lower-case
/// hex sizes, then `0\r\n\r\n`.
pub fn chunk(data: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    for piece in data.chunks(size.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A body as it travels: the encoded bytes (before framing) and the framed bytes.
pub struct WireBody {
    /// After content coding, before chunking (HAR `bodySize`).
    pub encoded: Vec<u8>,
    /// What follows the blank line in `_s.txt` / `_c.txt`.
    pub framed: Vec<u8>,
}

/// Encodes and frames a body.
pub fn wire_body(body: &Body) -> WireBody {
    let encoded = encode(&body.data, body.coding);
    let framed = match body.framing {
        Framing::Chunked(n) => chunk(&encoded, n),
        Framing::Length | Framing::Raw => encoded.clone(),
    };
    WireBody { encoded, framed }
}

/// The header list with the [`BODY_HEADERS`] marker replaced by the real framing headers.
pub fn expand_headers(headers: &[(String, String)], body: Option<&Body>) -> Vec<(String, String)> {
    let mut framing: Vec<(String, String)> = Vec::new();
    if let Some(b) = body {
        if let Some(tok) = b.coding.token() {
            framing.push(("Content-Encoding".into(), tok.into()));
        }
        match b.framing {
            Framing::Length => framing.push((
                "Content-Length".into(),
                encode(&b.data, b.coding).len().to_string(),
            )),
            Framing::Chunked(_) => {
                framing.push(("Transfer-Encoding".into(), "chunked".into()));
            }
            Framing::Raw => {}
        }
    }
    let mut out = Vec::with_capacity(headers.len() + framing.len());
    let mut placed = false;
    for (n, v) in headers {
        if n == BODY_HEADERS {
            out.append(&mut framing);
            placed = true;
        } else {
            out.push((n.clone(), v.clone()));
        }
    }
    if !placed {
        out.append(&mut framing);
    }
    out
}

/// How the request line names its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestForm {
    /// `GET https://host/path HTTP/1.1` (what Fiddler stores for proxied traffic).
    Absolute,
    /// `GET /path HTTP/1.1` plus `Host` (some exporters, reverse-proxy captures).
    Origin,
}

fn head_bytes(first: &str, headers: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(first.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (n, v) in headers {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The request line.
pub fn request_line(req: &Request, form: RequestForm) -> String {
    let target = if req.method == "CONNECT" {
        req.url.clone()
    } else {
        match form {
            RequestForm::Absolute => req.url.clone(),
            RequestForm::Origin => path_of(&req.url),
        }
    };
    format!("{} {} {}", req.method, target, req.version)
}

/// Request head bytes (request line, headers, blank line).
pub fn request_head(req: &Request, form: RequestForm) -> Vec<u8> {
    head_bytes(
        &request_line(req, form),
        &expand_headers(&req.headers, req.body.as_ref()),
    )
}

/// `_c.txt`: head then framed body.
pub fn request_bytes(req: &Request, form: RequestForm) -> Vec<u8> {
    let mut out = request_head(req, form);
    if let Some(b) = &req.body {
        out.extend_from_slice(&wire_body(b).framed);
    }
    out
}

/// Response head bytes (status line, headers, blank line).
pub fn response_head(resp: &Response) -> Vec<u8> {
    head_bytes(
        &format!("{} {} {}", resp.version, resp.status, resp.reason),
        &expand_headers(&resp.headers, resp.body.as_ref()),
    )
}

/// `_s.txt`: head then framed body.
pub fn response_bytes(resp: &Response) -> Vec<u8> {
    let mut out = response_head(resp);
    if let Some(b) = &resp.body {
        out.extend_from_slice(&wire_body(b).framed);
    }
    out
}

/// `application/x-www-form-urlencoded` encoding of one value (as .NET's `UrlEncode`, upper-case
/// hex, space as `+`).
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Like [`form_encode`] with lower-case hex, as .NET's `HttpUtility.UrlEncode` writes it
/// (Entra's redirect URLs: `AADSTS500011%3a+The+...`).
pub fn form_encode_lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'*'
            | b'!'
            | b'('
            | b')' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

/// A form body from name/value pairs (values encoded, names as given).
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={}", form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunking() {
        assert_eq!(
            chunk(b"hello world", 4),
            b"4\r\nhell\r\n4\r\no wo\r\n3\r\nrld\r\n0\r\n\r\n"
        );
    }

    #[test]
    fn gzip_is_deterministic_and_decodes() {
        let a = encode(b"abcabcabc", Coding::Gzip);
        assert_eq!(a, encode(b"abcabcabc", Coding::Gzip));
        let mut d = flate2::read::GzDecoder::new(&a[..]);
        let mut s = String::new();
        std::io::Read::read_to_string(&mut d, &mut s).unwrap();
        assert_eq!(s, "abcabcabc");
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form(&[("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"), ("x", "a b")]),
            "redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&x=a+b"
        );
    }
}
