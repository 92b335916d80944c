//! The guard's block lexer: 64 bytes at a time, as bitmasks (simdjson's first stage).
//!
//! Compares give, for a block of 64 bytes, a bit per byte for quotes and backslashes, and
//! for opening and closing brackets ([`masks`]: SSE2 on x86_64, where it is part of the
//! baseline, through `safe_arch` since the crate forbids `unsafe`; eight bytes at a time in
//! a `u64` elsewhere). From those masks, without a branch per byte, [`lex`] finds the
//! escaped bytes (after an odd run of backslashes, carried across blocks), the quotes that
//! open or close a string, the bytes inside strings (a prefix XOR of those quotes, carried)
//! and the brackets outside strings (not even looked for in a block wholly inside one
//! string); the guard then only looks at those brackets and the last quotes of a block.
//!
//! It follows [`super::Guard::step`] exactly, which is not JSON's grammar: outside a string
//! a backslash is an ordinary byte, and the four bytes after `\u` are taken whatever they
//! are, a quote or a backslash included. Masks cannot follow either cheaply, so a block
//! holding a backslash outside a string, or a quote or backslash among the four bytes after
//! `\u`, is refused ([`lex`] returns `None`) and the guard lexes it byte by byte. Valid JSON
//! has neither.

/// The bytes of one block that matter to the lexer: bit `i` stands for byte `i`.
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Masks {
    pub(super) quote: u64,
    pub(super) backslash: u64,
    /// `[` or `{`.
    pub(super) open: u64,
    /// `]` or `}`.
    pub(super) close: u64,
}

/// `[` and `{` (0x5b, 0x7b) differ only in bit 5, as do `]` and `}`: with it set, one
/// compare finds both.
const BIT5: u8 = 0x20;

/// Quotes and backslashes (`pair` false), or opening and closing brackets (`pair` true),
/// of `block`, sixteen bytes a compare.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks(block: &[u8; 64], brackets: bool) -> (u64, u64) {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let (a, b, fold) = if brackets {
        (b'{', b'}', BIT5)
    } else {
        (b'"', b'\\', 0)
    };
    let (a, b, fold) = (
        set_splat_i8_m128i(a as i8),
        set_splat_i8_m128i(b as i8),
        set_splat_i8_m128i(fold as i8),
    );
    let (mut ma, mut mb) = (0, 0);
    for (k, sixteen) in block.chunks_exact(16).enumerate() {
        let Ok(sixteen) = <&[u8; 16]>::try_from(sixteen) else {
            continue;
        };
        let v = bitor_m128i(load_unaligned_m128i(sixteen), fold);
        let bits = |x| u64::from(move_mask_i8_m128i(x) as u16) << (16 * k);
        ma |= bits(cmp_eq_mask_i8_m128i(v, a));
        mb |= bits(cmp_eq_mask_i8_m128i(v, b));
    }
    (ma, mb)
}

/// [`masks`] without SIMD instructions: eight bytes at a time in a `u64`.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline(always)]
fn masks_swar(block: &[u8; 64], brackets: bool) -> (u64, u64) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // Bit `8i + 7` set where byte `i` of `x` equals `c`: exact, no borrow between bytes.
    fn equal(x: u64, c: u8) -> u64 {
        let t = x ^ (ONES * u64::from(c));
        !(((t & LOW7).wrapping_add(LOW7)) | t | LOW7)
    }
    // Those high bits gathered into the low eight bits.
    fn gather(high: u64) -> u64 {
        ((high >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
    }
    let (a, b, fold) = if brackets {
        (b'{', b'}', BIT5)
    } else {
        (b'"', b'\\', 0)
    };
    let (mut ma, mut mb) = (0, 0);
    for (k, eight) in block.chunks_exact(8).enumerate() {
        let Ok(eight) = <[u8; 8]>::try_from(eight) else {
            continue;
        };
        let x = u64::from_le_bytes(eight) | (ONES * u64::from(fold));
        ma |= gather(equal(x, a)) << (8 * k);
        mb |= gather(equal(x, b)) << (8 * k);
    }
    (ma, mb)
}

#[cfg(not(target_arch = "x86_64"))]
use masks_swar as masks;

/// All four masks of `block` (the lexer asks for brackets only where it needs them).
#[cfg(test)]
fn classify(block: &[u8; 64], masks: fn(&[u8; 64], bool) -> (u64, u64)) -> Masks {
    let (quote, backslash) = masks(block, false);
    let (open, close) = masks(block, true);
    Masks {
        quote,
        backslash,
        open,
        close,
    }
}

/// What one block leaves to the next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Carry {
    /// The next block starts inside a string.
    pub(super) in_string: bool,
    /// Its first byte is escaped (this block ended in an odd run of backslashes).
    pub(super) escaped: bool,
    /// Its first bytes (the low bits set) are hex digits of a `\u` begun in this block.
    pub(super) hex: u64,
}

/// One block, lexed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Lexed {
    /// Quotes that open or close a string.
    pub(super) quotes: u64,
    /// Bytes inside a string: from its opening quote to the byte before its closing one.
    pub(super) in_string: u64,
    /// Brackets outside strings.
    pub(super) open: u64,
    pub(super) close: u64,
}

/// Lex `block`, which follows `carry`, and update `carry` for the next one. `None` (and
/// `carry` unchanged) for a block the masks cannot follow as the byte lexer does: a
/// backslash outside a string, or a quote or backslash among the four bytes after `\u`.
#[inline(always)]
pub(super) fn lex(block: &[u8; 64], carry: &mut Carry) -> Option<Lexed> {
    let (quote, backslash) = masks(block, false);
    let (escaped, next_escaped) = if backslash == 0 && !carry.escaped {
        (0, false)
    } else {
        escaped_bytes(backslash, carry.escaped)
    };
    // The four bytes after each escaped `u`, some of them perhaps in the next block.
    let (mut hex, mut next_hex) = (carry.hex, 0);
    let mut e = escaped;
    while e != 0 {
        let at = e.trailing_zeros();
        e &= e - 1;
        if block[at as usize] == b'u' {
            let digits = 0b1_1110u128 << at;
            hex |= digits as u64;
            next_hex |= (digits >> 64) as u64;
        }
    }
    if hex & (quote | backslash) != 0 {
        return None;
    }
    let quotes = quote & !escaped;
    let in_string = prefix_xor(quotes) ^ if carry.in_string { !0 } else { 0 };
    // Any backslash outside: the masks before it are right, so the first one is seen.
    if backslash & !in_string != 0 {
        return None;
    }
    // A block inside one string (a body, mostly) has no brackets to look at.
    let (open, close) = if in_string == !0 {
        (0, 0)
    } else {
        masks(block, true)
    };
    *carry = Carry {
        in_string: in_string >> 63 == 1,
        escaped: next_escaped,
        hex: next_hex,
    };
    Some(Lexed {
        quotes,
        in_string,
        open: open & !in_string,
        close: close & !in_string,
    })
}

/// The bytes escaped by a backslash (each byte after an odd run of backslashes, escaped
/// backslashes included), given whether the first byte is escaped by the block before;
/// and whether the next block's first byte is. simdjson's `find_escaped`: a run's parity
/// is told from whether it starts on an even or odd bit, by an addition whose carries run
/// through the run.
#[inline(always)]
pub(super) fn escaped_bytes(backslash: u64, first_escaped: bool) -> (u64, bool) {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let prev = u64::from(first_escaped);
    // An escaped first byte starts no escape, even if it is a backslash.
    let backslash = backslash & !prev;
    let follows = (backslash << 1) | prev;
    let odd_starts = backslash & !EVEN & !follows;
    let (even_runs, overflow) = odd_starts.overflowing_add(backslash);
    ((EVEN ^ (even_runs << 1)) & follows, overflow)
}

/// Bit `i` is the XOR of bits `0..=i` of `x`.
#[inline(always)]
pub(super) fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bits(block: &[u8; 64], f: impl Fn(u8) -> bool) -> u64 {
        (0..64).filter(|&i| f(block[i])).fold(0, |m, i| m | 1 << i)
    }

    /// The masks and escapes byte by byte, as `Guard::step` sees a string.
    fn plain_escapes(backslash: u64, first_escaped: bool) -> (u64, bool) {
        let (mut escaped, mut next) = (0, first_escaped);
        for i in 0..64 {
            if next {
                escaped |= 1 << i;
                next = false;
            } else if backslash >> i & 1 == 1 {
                next = true;
            }
        }
        (escaped, next)
    }

    fn block_of(bytes: &[u8]) -> [u8; 64] {
        let mut block = [b' '; 64];
        block[..bytes.len().min(64)].copy_from_slice(&bytes[..bytes.len().min(64)]);
        block
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        /// Both classifiers agree with a byte-by-byte look, on any bytes.
        #[test]
        fn classify_finds_exactly_the_four_kinds(
            bytes in proptest::collection::vec(
                prop_oneof![4 => any::<u8>(), 1 => proptest::sample::select(b"\"\\[]{}u".to_vec())],
                64,
            ),
        ) {
            let block = block_of(&bytes);
            let want = Masks {
                quote: bits(&block, |b| b == b'"'),
                backslash: bits(&block, |b| b == b'\\'),
                open: bits(&block, |b| b == b'[' || b == b'{'),
                close: bits(&block, |b| b == b']' || b == b'}'),
            };
            prop_assert_eq!(classify(&block, masks_swar), want);
            prop_assert_eq!(classify(&block, masks), want);
        }

        /// Escapes found by the addition are those found byte by byte, runs of any length
        /// across the block's edge included.
        #[test]
        fn escaped_bytes_is_a_byte_by_byte_walk(
            backslash in prop_oneof![any::<u64>(), any::<u64>().prop_map(|x| x | x << 1 | x << 2)],
            first_escaped in any::<bool>(),
        ) {
            prop_assert_eq!(escaped_bytes(backslash, first_escaped), plain_escapes(backslash, first_escaped));
        }

        #[test]
        fn prefix_xor_is_a_running_parity(x in any::<u64>()) {
            let mut want = 0;
            let mut parity = 0;
            for i in 0..64 {
                parity ^= x >> i & 1;
                want |= parity << i;
            }
            prop_assert_eq!(prefix_xor(x), want);
        }
    }
}
