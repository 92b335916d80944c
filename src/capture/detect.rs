//! Recognise a capture's format by its first bytes, never by its name: tickets arrive with
//! `.saz` renamed to `.zip`, `.har` saved as `.txt`, and HARs gzipped by mail gateways.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::{CaptureErrorKind, Format};

/// What the first bytes of a file say it is.
pub fn detect_bytes(head: &[u8]) -> Result<Format, CaptureErrorKind> {
    if head.is_empty() {
        return Err(CaptureErrorKind::Empty);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Ok(Format::Saz);
    }
    // gzip, or zlib (mitmproxy's .zhar): a HAR compressed whole.
    if head.starts_with(&[0x1f, 0x8b]) || is_zlib_header(head) {
        return Ok(Format::Har);
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | Some(b'[') => Ok(Format::Har),
        Some(_) => Err(CaptureErrorKind::UnknownFormat(describe(head))),
        None => Err(CaptureErrorKind::Empty),
    }
}

/// A zlib stream header: CMF 0x78 (deflate, 32K window) and a valid FCHECK.
pub fn is_zlib_header(head: &[u8]) -> bool {
    head.len() >= 2 && head[0] == 0x78 && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0
}

fn describe(head: &[u8]) -> String {
    let n = head.len().min(8);
    let hex: Vec<String> = head[..n].iter().map(|b| format!("{b:02x}")).collect();
    format!("starts with bytes {}", hex.join(" "))
}

/// Detect the format of the file at `path`.
pub fn detect_file(path: &Path) -> Result<Format, CaptureErrorKind> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(CaptureErrorKind::Directory);
    }
    let mut head = Vec::with_capacity(512);
    File::open(path)?.take(512).read_to_end(&mut head)?;
    detect_bytes(&head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_format_by_content() {
        assert_eq!(detect_bytes(b"PK\x03\x04rest").unwrap(), Format::Saz);
        assert_eq!(
            detect_bytes(b"\xef\xbb\xbf  {\"log\":{}}").unwrap(),
            Format::Har
        );
        assert_eq!(detect_bytes(&[0x1f, 0x8b, 8, 0]).unwrap(), Format::Har);
        assert_eq!(detect_bytes(&[0x78, 0xda, 1]).unwrap(), Format::Har);
        assert!(matches!(detect_bytes(b""), Err(CaptureErrorKind::Empty)));
        assert!(matches!(
            detect_bytes(b"   \n"),
            Err(CaptureErrorKind::Empty)
        ));
        assert!(matches!(
            detect_bytes(b"This is not a SAZ"),
            Err(CaptureErrorKind::UnknownFormat(_))
        ));
    }
}
