//! The placeholder copy of a `Negotiate` / `NTLM` blob (`traceadal redact`): the structure
//! the diagnosis reads kept, every secret byte zeroed, the same length.
//!
//! Kept: an NTLM message's signature, type, field tables, flags and version; a challenge's
//! target name and target info (the server's NetBIOS/DNS names); an authenticate message's
//! domain. A SPNEGO/GSS wrapper keeps its DER bytes up to the NTLM message, and a Kerberos
//! token only its first byte and its mechanism OIDs. Zeroed: the server challenge, the LM
//! and NT responses, the user and workstation names, the session key, the MIC, the Kerberos
//! ticket and authenticator. What is not recognised as NTLM or Kerberos is not copied at
//! all: the caller replaces it whole. This is how `auth::negotiate` still tells Kerberos from
//! NTLM, the message type and the domains in a redacted copy, so the copy tells the same
//! story (`tests/redact*.rs`).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;

const NTLMSSP: &[u8] = b"NTLMSSP\0";
/// DER of the mechanism OIDs a SPNEGO token names: SPNEGO, Kerberos 5, Microsoft's
/// Kerberos 5, NEGOEX, NTLMSSP.
const OIDS: &[&[u8]] = &[
    &[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02],
    &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ],
    &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ],
    &[
        0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e,
    ],
    &[
        0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
    ],
];
/// Longest blob copied, in base64 characters; longer ones are replaced whole.
const MAX_BLOB: usize = 64 * 1024;

/// The placeholder copy of base64 `blob`, or `None` when it is not an NTLM message or a
/// SPNEGO/GSS token naming Kerberos or NTLM.
pub fn placeholder(blob: &str) -> Option<String> {
    if blob.len() > MAX_BLOB {
        return None;
    }
    let body = blob.trim_end_matches('=');
    let bytes = STANDARD_NO_PAD.decode(body).ok()?;
    let kept = keep(&bytes)?;
    let out = if blob.len() == body.len() {
        STANDARD_NO_PAD.encode(kept)
    } else {
        STANDARD.encode(kept)
    };
    // Same length, or the caller replaces the whole blob (a non-canonical input).
    (out.len() == blob.len()).then_some(out)
}

fn keep(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0u8; b.len()];
    let mut copy = |from: usize, to: usize| {
        let to = to.min(b.len());
        if from < to {
            out[from..to].copy_from_slice(&b[from..to]);
        }
    };
    if b.starts_with(NTLMSSP) {
        ntlm(b, 0, &mut copy);
    } else if matches!(b.first(), Some(0x60 | 0xa0 | 0xa1)) {
        let oids: Vec<(usize, usize)> = OIDS
            .iter()
            .flat_map(|oid| {
                b.windows(oid.len())
                    .enumerate()
                    .filter(move |(_, w)| w == oid)
                    .map(move |(i, _)| (i, i + oid.len()))
            })
            .collect();
        if let Some(at) = b.windows(NTLMSSP.len()).position(|w| w == NTLMSSP) {
            // The DER wrapper before the NTLM message: tags, lengths, OIDs.
            copy(0, at);
            ntlm(b, at, &mut copy);
        } else if oids.iter().any(|(i, j)| j - i == 11) {
            // Kerberos: the first byte and the mechanism OIDs only.
            copy(0, 1);
            for (i, j) in oids {
                copy(i, j);
            }
        } else {
            return None;
        }
    } else {
        return None;
    }
    Some(out)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The payload a `(len, maxlen, offset)` field at `at` names, relative to the message at
/// `base`, as absolute indexes.
fn field(b: &[u8], base: usize, at: usize) -> Option<(usize, usize)> {
    let len = usize::from(u16::from_le_bytes(
        b.get(base + at..base + at + 2)?.try_into().ok()?,
    ));
    let offset = usize::try_from(u32_at(b, base + at + 4)?).ok()?;
    let from = base.checked_add(offset)?;
    Some((from, from.checked_add(len)?))
}

/// Keep the non-secret parts of the NTLM message at `base`.
fn ntlm(b: &[u8], base: usize, copy: &mut impl FnMut(usize, usize)) {
    let kept: &[(usize, usize)] = match u32_at(b, base + 8) {
        Some(1) => &[(0, 40)],
        Some(2) => &[(0, 24), (32, 56)],
        Some(3) => &[(0, 72)],
        _ => &[(0, 12)],
    };
    for (from, to) in kept {
        copy(base + from, base + to);
    }
    let fields: &[usize] = match u32_at(b, base + 8) {
        Some(2) => &[12, 40],
        Some(3) => &[28],
        _ => &[],
    };
    for at in fields {
        if let Some((from, to)) = field(b, base, *at) {
            copy(from, to);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    /// An NTLM type 3: domain CONTOSO, user jdoe, an NT response of 'N's.
    fn type3() -> Vec<u8> {
        let mut head = vec![0u8; 72];
        head[..8].copy_from_slice(NTLMSSP);
        head[8..12].copy_from_slice(&3u32.to_le_bytes());
        let parts = [
            vec![b'L'; 24],
            vec![b'N'; 40],
            utf16("CONTOSO"),
            utf16("jdoe"),
            utf16("WKS"),
        ];
        let mut at = 72usize;
        for (i, p) in parts.iter().enumerate() {
            let f = 12 + i * 8;
            head[f..f + 2].copy_from_slice(&(p.len() as u16).to_le_bytes());
            head[f + 2..f + 4].copy_from_slice(&(p.len() as u16).to_le_bytes());
            head[f + 4..f + 8].copy_from_slice(&(at as u32).to_le_bytes());
            at += p.len();
        }
        for p in parts {
            head.extend(p);
        }
        head
    }

    #[test]
    fn ntlm_keeps_the_domain_and_zeroes_the_rest() {
        let blob = STANDARD.encode(type3());
        let out = placeholder(&blob).expect("a copy");
        assert_eq!(out.len(), blob.len());
        let bytes = STANDARD.decode(&out).expect("base64");
        let text = String::from_utf8_lossy(&bytes).replace('\0', "");
        assert!(text.contains("CONTOSO"), "{text}");
        for secret in ["jdoe", "WKS", "NNNN", "LLLL"] {
            assert!(!text.contains(secret), "{text}");
        }
        // Idempotent: the copy of a copy is itself.
        assert_eq!(placeholder(&out).as_deref(), Some(out.as_str()));
        // Unpadded input stays unpadded.
        let bare = blob.trim_end_matches('=');
        assert_eq!(placeholder(bare).map(|s| s.len()), Some(bare.len()));
    }

    #[test]
    fn unknown_blobs_are_not_copied() {
        assert_eq!(placeholder("YIIGhgYGKwYBBQUCoIIGejCC"), None);
        assert_eq!(placeholder("not base64!"), None);
        assert_eq!(placeholder(&STANDARD.encode(b"hello world, no blob")), None);
        assert_eq!(placeholder(&"A".repeat(MAX_BLOB + 4)), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_keep_their_length(
            bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..400),
            lead in 0usize..3,
        ) {
            let mut b = [NTLMSSP.to_vec(), vec![0x60], vec![0xa1]][lead].clone();
            b.extend_from_slice(&bytes);
            let blob = STANDARD.encode(&b);
            if let Some(out) = placeholder(&blob) {
                proptest::prop_assert_eq!(out.len(), blob.len());
            }
        }
    }
}
