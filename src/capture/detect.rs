//! Recognise a capture's format by its first bytes, never by its name: tickets arrive with
//! `.saz` renamed to `.zip`, `.har` saved as `.txt`, and HARs gzipped by mail gateways.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::{formats, CaptureErrorKind, Format};

/// What the first bytes of a file say it is (the first format of [`formats::ALL`] whose
/// sniff takes them).
pub fn detect_bytes(head: &[u8]) -> Result<Format, CaptureErrorKind> {
    formats::sniff(head).map(|s| s.format)
}

pub use super::har::sniff::is_zlib_header;

/// Detect the format of the file at `path`.
pub fn detect_file(path: &Path) -> Result<Format, CaptureErrorKind> {
    detect_bytes(&head_of(path, 512)?)
}

/// The first bytes of the file at `path`, at most `n` of them; a directory is an error.
pub fn head_of(path: &Path, n: u64) -> Result<Vec<u8>, CaptureErrorKind> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(CaptureErrorKind::Directory);
    }
    let mut head = Vec::with_capacity(n.min(64 * 1024) as usize);
    File::open(path)?.take(n).read_to_end(&mut head)?;
    Ok(head)
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
