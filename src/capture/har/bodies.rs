//! Bodies read out of band: an entry parsed by serde_json without its long body strings.
//!
//! serde_json scans every byte of a string for its end and its escapes; on a HAR of SOAP
//! bodies full of `\"`, that scan was a sixth of reading (docs/performance.md). The guard
//! already finds where every string ends, so it notes the long strings at a body's depth
//! ([`CutEntry::bodies`]). Here, on the mapper's thread, each one that follows a `"text":`
//! key is unescaped by [`unescape`] (which takes only what serde_json reads into the same
//! `String`: no control character, no escape it would refuse, no surrogate, UTF-8), and the
//! entry is parsed with those strings left empty. A body's text field ([`BodyString`]) that
//! meets one of those empty strings, told by its place in the text, takes the body instead.
//!
//! The result is the in-band one or none: the entry is parsed in band ([`parse_entry`]) as
//! before, for its exact session or error, when the text without the bodies is not UTF-8,
//! when parsing it fails, or when any body was not taken by a body's text field (a `text` key
//! elsewhere: then an empty string stood where the body was). Replacing a string's contents
//! by nothing changes no structure, and a body taken is the `String` serde_json would have
//! read at the same field, so what the visitors build is the same.

use std::cell::RefCell;
use std::ops::Range;

#[allow(unused_imports)]
use super::*;

/// A body's text (`request.postData.text`, `response.content.text`): a string read as any
/// other, or the body taken out of band at this place. Always UTF-8 (a `String`'s bytes,
/// or checked by [`unescape`]), kept as bytes since a body is bytes and the check of a body
/// that is ASCII is free while unescaping it.
#[derive(Debug)]
pub(crate) struct BodyString(pub(super) Vec<u8>);

impl Lenient for BodyString {
    const KIND: Kind = Kind::String;

    fn of_str(v: &str) -> Option<Self> {
        if v.is_empty() {
            if let Some(body) = OUT_OF_BAND.with_borrow_mut(|o| o.as_mut()?.take(v)) {
                return Some(BodyString(body));
            }
        }
        Some(BodyString(v.as_bytes().to_vec()))
    }
    fn of_f64(v: f64) -> Option<Self> {
        String::of_f64(v).map(|s| BodyString(s.into_bytes()))
    }
    fn of_i64(v: i64) -> Option<Self> {
        String::of_i64(v).map(|s| BodyString(s.into_bytes()))
    }
    fn of_u64(v: u64) -> Option<Self> {
        String::of_u64(v).map(|s| BodyString(s.into_bytes()))
    }
    fn of_bool(v: bool) -> Option<Self> {
        String::of_bool(v).map(|s| BodyString(s.into_bytes()))
    }
}

/// The bodies of the entry being parsed on this thread.
struct OutOfBand {
    /// The address of the text parsed.
    base: usize,
    /// Where each body's empty string begins in it (after its opening quote), ascending.
    at: Vec<usize>,
    /// The bodies, each taken once.
    bodies: Vec<Option<Vec<u8>>>,
    /// An empty string at a body's place was met twice (never, since places are distinct:
    /// but then the result is not trusted).
    twice: bool,
}

impl OutOfBand {
    /// The body whose place `v` (an empty string serde_json borrowed from the text) is.
    fn take(&mut self, v: &str) -> Option<Vec<u8>> {
        let offset = (v.as_ptr() as usize).checked_sub(self.base)?;
        let k = self.at.binary_search(&offset).ok()?;
        let body = self.bodies[k].take();
        self.twice |= body.is_none();
        body
    }
}

thread_local! {
    static OUT_OF_BAND: RefCell<Option<OutOfBand>> = const { RefCell::new(None) };
}

/// An entry's JSON text parsed with the strings at `bodies` (as the guard noted them) out of
/// band; `None` when that cannot be done with the in-band result (see the module's text), or
/// when no body is out of band: the caller then parses it in band.
pub(super) fn parse_entry_out_of_band(
    bytes: &[u8],
    bodies: &[Range<usize>],
) -> Option<Field<RawEntry>> {
    let mut taken = Vec::new();
    let mut strings = Vec::new();
    for r in bodies {
        let (Some(before), Some(b'"')) = (bytes.get(..r.start), bytes.get(r.end)) else {
            continue;
        };
        if !after_text_key(before) {
            continue;
        }
        if let Some(body) = unescape(&bytes[r.clone()]) {
            taken.push(r.clone());
            strings.push(Some(body));
        }
    }
    if taken.is_empty() {
        return None;
    }
    let mut text = Vec::with_capacity(bytes.len() - taken.iter().map(|r| r.len()).sum::<usize>());
    let mut at = Vec::with_capacity(taken.len());
    let mut from = 0;
    for r in &taken {
        text.extend_from_slice(&bytes[from..r.start]);
        at.push(text.len());
        from = r.end;
    }
    text.extend_from_slice(&bytes[from..]);
    let text = String::from_utf8(text).ok()?;
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            OUT_OF_BAND.set(None);
        }
    }
    let _clear = Clear;
    OUT_OF_BAND.set(Some(OutOfBand {
        base: text.as_ptr() as usize,
        at,
        bodies: strings,
        twice: false,
    }));
    let entry = serde_json::from_str(&text).ok()?;
    let done = OUT_OF_BAND.with_borrow(|o| {
        o.as_ref()
            .is_some_and(|o| !o.twice && o.bodies.iter().all(Option::is_none))
    });
    done.then_some(entry)
}

/// `before` (the text up to a string's contents) ends in `"text"` `:` `"`, JSON whitespace
/// allowed around the colon: the string is the value of a `text` key.
fn after_text_key(before: &[u8]) -> bool {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let Some(before) = before.strip_suffix(b"\"") else {
        return false;
    };
    let trim = |s: &[u8]| -> usize { s.len() - s.iter().rev().take_while(|b| is_space(b)).count() };
    let before = &before[..trim(before)];
    let Some(before) = before.strip_suffix(b":") else {
        return false;
    };
    before[..trim(before)].ends_with(b"\"text\"")
}

/// The contents of a JSON string (between its quotes) with the escapes undone, when
/// serde_json reads them into a `String` and this is surely that `String`'s bytes: `None`
/// for a control character, a quote, an escape serde_json refuses, a `\u` escape of a
/// surrogate (paired or not: left to serde_json) and text that is not UTF-8.
pub(super) fn unescape(contents: &[u8]) -> Option<Vec<u8>> {
    // The text only shrinks; not zeroed: every byte is written once, by a copy of a plain
    // run or an escape's character.
    let mut out = Vec::with_capacity(contents.len());
    let mut read = 0;
    // Bytes of 0x80 and above seen: only then is the result checked for UTF-8 (escapes
    // write only whole characters).
    let mut high = false;
    loop {
        let run = plain_run(&contents[read..], &mut high);
        out.extend_from_slice(&contents[read..read + run]);
        read += run;
        let Some(&b) = contents.get(read) else {
            break;
        };
        if b != b'\\' {
            return None;
        }
        let c = match *contents.get(read + 1)? {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let unit = hex4(contents.get(read + 2..read + 6)?)?;
                // `None` for a surrogate.
                let c = char::from_u32(u32::from(unit))?;
                // At most three bytes for the six read.
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                read += 6;
                continue;
            }
            _ => return None,
        };
        out.push(c);
        read += 2;
    }
    if high && std::str::from_utf8(&out).is_err() {
        return None;
    }
    Some(out)
}

/// Four hexadecimal digits (either case), as serde_json reads them.
pub(super) fn hex4(digits: &[u8]) -> Option<u16> {
    digits.iter().try_fold(0u16, |n, &d| {
        let d = char::from(d).to_digit(16)?;
        Some((n << 4) | d as u16)
    })
}

/// How many bytes of `src` come before its first backslash, quote or control character
/// (below 0x20): a run [`unescape`] copies as it is and the entry reader's strings
/// ([`super::fast`]) borrow. `high` set when a byte of 0x80 or above was seen on the way (or
/// in the 16 bytes where it stopped, 16 being looked at a time).
#[inline]
pub(super) fn plain_run(src: &[u8], high: &mut bool) -> usize {
    let mut at = 0;
    #[cfg(target_arch = "x86_64")]
    {
        let mut seen = simd::Seen::default();
        for from in src.chunks_exact(16) {
            let Ok(from) = <&[u8; 16]>::try_from(from) else {
                break;
            };
            let mask = seen.special(from);
            if mask != 0 {
                *high |= seen.high();
                return at + mask.trailing_zeros() as usize;
            }
            at += 16;
        }
        *high |= seen.high();
    }
    let rest = &src[at..];
    let run = first_special(rest);
    *high |= rest[..run].iter().any(|&b| b >= 0x80);
    at + run
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, m128i, min_u8_m128i,
        move_mask_i8_m128i, set_splat_i8_m128i,
    };

    /// Every byte looked at, OR-ed: its high bit says whether one was 0x80 or above.
    pub(super) struct Seen(m128i);

    impl Default for Seen {
        fn default() -> Self {
            Seen(set_splat_i8_m128i(0))
        }
    }

    impl Seen {
        /// Bit `k` set when byte `k` of `block` is a backslash, a quote or a control
        /// character (at most 0x1f); the block is remembered as seen.
        #[inline(always)]
        pub(super) fn special(&mut self, block: &[u8; 16]) -> i32 {
            let v = load_unaligned_m128i(block);
            self.0 = bitor_m128i(self.0, v);
            // A byte at most 0x1f is its minimum with 0x1f.
            let control = cmp_eq_mask_i8_m128i(min_u8_m128i(v, set_splat_i8_m128i(0x1f)), v);
            let special = bitor_m128i(
                control,
                bitor_m128i(
                    cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'\\' as i8)),
                    cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'"' as i8)),
                ),
            );
            move_mask_i8_m128i(special)
        }

        /// A byte of 0x80 or above was seen.
        #[inline(always)]
        pub(super) fn high(&self) -> bool {
            move_mask_i8_m128i(self.0) != 0
        }
    }
}

/// The first backslash, quote or control character in `bytes`, or its length: what
/// [`plain_run`] stops at, a byte at a time.
fn first_special(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| b == b'\\' || b == b'"' || b < 0x20)
        .unwrap_or(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What serde_json reads the contents into, as a `String`.
    fn serde(contents: &[u8]) -> Option<String> {
        let mut literal = vec![b'"'];
        literal.extend_from_slice(contents);
        literal.push(b'"');
        serde_json::from_slice(&literal).ok()
    }

    fn contents() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            6 => "[a-zA-Z0-9 <>=/:.-]{1,40}".prop_map(String::into_bytes),
            3 => proptest::sample::select(vec![
                &br#"\""#[..], br"\\", br"\/", br"\b", br"\f", br"\n", br"\r", br"\t",
                br"\u0041", br"\u00e9", br"\u00E9", br"\u20ac", br"\uffff", br"\u0000",
                br"\uD83D\uDE00", br"\ud83d\ude00", br"\uD83D", br"\uDE00", br"\uD83Dx",
                br"\u12", br"\u12G4", br"\x", br"\", br#"""#, b"\n", b"\x00", b"\x1f", b"\x7f",
                "é€😀".as_bytes(), b"\xff", b"\xc3", b"\xed\xa0\x80",
            ])
            .prop_map(<[u8]>::to_vec),
            1 => proptest::collection::vec(any::<u8>(), 1..20),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        /// What `unescape` reads is what serde_json reads; it refuses only what serde_json
        /// refuses, or a surrogate escape.
        #[test]
        fn unescape_reads_what_serde_json_reads(contents in contents()) {
            let ours = unescape(&contents);
            let theirs = serde(&contents);
            if let Some(ours) = &ours {
                prop_assert_eq!(Some(ours.as_slice()), theirs.as_ref().map(|s| s.as_bytes()));
            } else if theirs.is_some() {
                let lower = String::from_utf8_lossy(&contents).to_ascii_lowercase();
                prop_assert!(lower.contains("\\ud8") || lower.contains("\\ud9")
                    || lower.contains("\\uda") || lower.contains("\\udb")
                    || lower.contains("\\udc") || lower.contains("\\udd")
                    || lower.contains("\\ude") || lower.contains("\\udf"),
                    "refused what serde_json reads: {:?}", contents);
            }
        }

        #[test]
        fn a_plain_run_ends_at_the_first_special_byte(bytes in proptest::collection::vec(
            prop_oneof![4 => 0x20u8..0x7f, 1 => any::<u8>()], 0..100)) {
            let mut high = false;
            let at = plain_run(&bytes, &mut high);
            prop_assert_eq!(at, first_special(&bytes));
            prop_assert!(high || bytes[..at].iter().all(|&b| b < 0x80));
        }
    }

    #[test]
    fn a_text_key_before_the_string() {
        for yes in [&b"{\"text\":\""[..], b"\"text\" :\n \"", b",\"text\"\t:\""] {
            assert!(after_text_key(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"\"text\""[..],
            b"\"Text\":\"",
            b"\"te\\u0078t\":\"",
            b"\"text\":1\"",
            b":\"",
        ] {
            assert!(!after_text_key(no), "{}", String::from_utf8_lossy(no));
        }
    }
}
