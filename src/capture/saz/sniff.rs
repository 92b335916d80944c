//! Does a file's head look like a SAZ? A SAZ is a zip archive; a zip's first bytes are a
//! local file header, or the end record of an empty archive. Whether it holds Fiddler's
//! `raw/` entries is only known from the central directory, at the end of the file.

/// A zip archive's first bytes.
pub fn sniff(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Nothing stricter can be said from the head of a zip.
pub fn sniff_strict(_head: &[u8]) -> Result<(), &'static str> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_heads() {
        assert!(sniff(b"PK\x03\x04rest"));
        assert!(sniff(b"PK\x05\x06\0\0"));
        assert_eq!(sniff_strict(b"PK\x03\x04"), Ok(()));
        for head in [
            &b""[..],
            b"PK",
            b"PK\x01\x02",
            b"{\"log\":{}}",
            &[0x1f, 0x8b],
        ] {
            assert!(!sniff(head), "{head:?}");
        }
    }
}
