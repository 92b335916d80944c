//! Does a file's head look like a HAR? Two tests: the loose one `Capture::open` uses (a
//! user who names one file means it), and the stricter one a folder walk adds, where a
//! stray `.json` (package.json, a settings export) must not pass as a capture.

/// The loose test: gzip or zlib (a HAR compressed whole: `.har.gz`, mitmproxy's `.zhar`),
/// or JSON text (an object or array after an optional BOM and white space).
pub fn sniff(head: &[u8]) -> bool {
    if is_gzip_header(head) || is_zlib_header(head) {
        return true;
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    matches!(
        text.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{') | Some(b'[')
    ) && !super::super::netlog::sniff(head)
}

/// The stricter test, for a head [`sniff`] took: plain JSON must be an object naming the
/// `"log"` key in its first bytes (a compressed head cannot be checked without inflating).
pub fn sniff_strict(head: &[u8]) -> Result<(), &'static str> {
    if is_gzip_header(head) || is_zlib_header(head) || looks_like_har_json(head) {
        Ok(())
    } else {
        Err("JSON without a HAR \"log\" object")
    }
}

/// A JSON object whose first bytes name the `"log"` key.
pub fn looks_like_har_json(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    matches!(start.map(|i| text[i]), Some(b'{')) && text.windows(5).any(|w| w == b"\"log\"")
}

/// A gzip member header.
pub fn is_gzip_header(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// A zlib stream header: CMF 0x78 (deflate, 32K window) and a valid FCHECK.
pub fn is_zlib_header(head: &[u8]) -> bool {
    head.len() >= 2 && head[0] == 0x78 && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_heads() {
        for head in [
            &b"{\"log\":{}}"[..],
            b"\xef\xbb\xbf\n  {\n  \"log\": {",
            b"  [",
            &[0x1f, 0x8b, 8, 0],
            &[0x78, 0xda, 1],
            &[0x78, 0x9c],
        ] {
            assert!(sniff(head), "{head:?}");
        }
        assert_eq!(sniff_strict(b"\xef\xbb\xbf {\"log\": {"), Ok(()));
        assert_eq!(sniff_strict(&[0x1f, 0x8b, 8, 0]), Ok(()));
        assert_eq!(sniff_strict(&[0x78, 0xda]), Ok(()));
    }

    #[test]
    fn bad_heads() {
        for head in [
            &b""[..],
            b"   \n",
            b"PK\x03\x04",
            b"This is not a HAR",
            b"\"log\"",
            &[0x78, 0x00],
            &[0x1f],
        ] {
            assert!(!sniff(head), "{head:?}");
        }
        // JSON, but not a HAR: the loose test takes it, the strict one does not.
        for head in [&b"[{\"log\": 1}]"[..], b"{\"headers\": []}"] {
            assert!(sniff(head));
            assert!(sniff_strict(head).is_err(), "{head:?}");
        }
    }
}
