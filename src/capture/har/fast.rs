//! The entry reader: an entry's JSON text read straight into [`RawEntry`], without serde.
//!
//! serde_json made the lenient structs of an entry at ~27 instructions a byte of the text
//! left once the long bodies are out of band (a header item, `{"name":..,"value":..}`, cost
//! ~1,350), more than the rest of reading a HAR together (docs/performance.md). This reader
//! walks the text once with a cursor, knows the HAR objects' keys (declared once, by
//! `har_object!`), finds each string's end 16 bytes at a time, borrows what has no escape
//! and checks UTF-8 only where a byte of 0x80 or above was seen: JSON outside strings is
//! ASCII.
//!
//! It answers only where it is sure to build what serde_json builds, value for value; for
//! anything else it gives up (`None`) and the entry is read by serde_json as before
//! ([`super::parse::Item::into_result`]), which gives the same session or the exact error.
//! It gives up on: any syntax error, a key with an escape, a `\u` escape of a surrogate, a
//! control character or invalid UTF-8 in a string, a number serde_json refuses to read
//! (a number that is read and is neither an integer of up to 19 digits, 18 if negative,
//! nor a decimal fraction of up to 15 is handed to serde_json itself, for its exact
//! reading), nesting deeper than [`MAX_DEPTH`], a header list over [`MAX_LIST`] items, and
//! text after the entry. Those are the entries with damage or an exporter's oddity; every
//! entry of the captures seen so far is read here (`fast_tests.rs` holds it to serde_json's
//! reading on samples and generated damage).
//!
//! The conversions of a field of the wrong kind are [`Lenient`]'s, the same functions the
//! serde visitors call; a header item is finished by the same [`header_item`].

use std::borrow::Cow;
use std::ops::Range;

use crate::capture::headers::Headers;

#[allow(unused_imports)]
use super::*;

/// Deeper than this the reader gives up: serde_json's own limit is 128, and an entry is 6
/// deep where a HAR puts anything traceadal reads.
const MAX_DEPTH: u32 = 64;

/// An entry's text read into what serde_json would read it into, or `None` (see the
/// module's text). `bodies` are the guard's [`CutEntry::bodies`]: a body's text found at
/// one of them is unescaped in one pass, its end already known.
pub(super) fn read_entry(bytes: &[u8], bodies: &[Range<usize>]) -> Option<Field<RawEntry>> {
    // The text around the bodies is checked for UTF-8 once, in pieces (a body is checked
    // where it is unescaped, and only when it holds a byte of 0x80 or above): a string is
    // then a slice of its piece, where checking each string on its own cost more than twice
    // as much.
    let mut pieces = Vec::with_capacity(bodies.len() + 1);
    let mut from = 0;
    for r in bodies.iter().chain([&(bytes.len()..bytes.len())]) {
        let piece = bytes.get(from..r.start)?;
        pieces.push((from, std::str::from_utf8(piece).ok()?));
        from = r.end;
    }
    let mut c = Cursor {
        b: bytes,
        i: 0,
        depth: 0,
        bodies,
        next_body: 0,
        pieces,
        piece: 0,
    };
    let entry = RawEntry::fast(&mut c)?;
    c.ws();
    (c.i == bytes.len()).then_some(entry)
}

/// A type the entry reader reads: its [`Lenient`] reading, without serde.
pub(super) trait Fast: Lenient {
    /// Read the value at the cursor into a field of this type, as `Field<Self>`'s
    /// `Deserialize` does. The default is a scalar type's: a string, number, boolean or
    /// null converted by [`Lenient`], an array or object skipped and noted as the wrong kind
    /// (what the default `of_seq` and `of_map` do).
    fn fast(c: &mut Cursor<'_>) -> Option<Field<Self>> {
        c.plain()
    }
}

impl Fast for String {}
impl Fast for f64 {}
impl Fast for Started {}

impl Fast for Present {
    fn fast(c: &mut Cursor<'_>) -> Option<Field<Self>> {
        if c.peek()? != b'[' {
            return c.plain();
        }
        c.skip()?;
        Some(Field::found(Kind::Array, Some(Present)))
    }
}

impl Fast for BodyString {
    /// A body's text: unescaped straight into its bytes, its end taken from the guard
    /// when the guard noted it.
    fn fast(c: &mut Cursor<'_>) -> Option<Field<Self>> {
        if c.peek()? != b'"' {
            return c.plain();
        }
        let start = c.i + 1;
        let body = match c.noted_body(start) {
            Some(end) => {
                let body = super::bodies::unescape(c.b.get(start..end)?)?;
                c.i = end + 1;
                body
            }
            // A short body, read as any string.
            None => c.string()?.into_owned().into_bytes(),
        };
        Some(Field::found(Kind::String, Some(BodyString(body))))
    }
}

impl<T: Fast> Fast for List<T> {
    fn fast(c: &mut Cursor<'_>) -> Option<Field<Self>> {
        if c.peek()? != b'[' {
            return c.plain();
        }
        let mut list = List {
            items: Vec::with_capacity(16),
            dropped: 0,
        };
        c.array(|c| {
            let item = T::fast(c)?;
            if list.items.len() < MAX_LIST {
                list.items.push(item);
            } else {
                list.dropped += 1;
            }
            Some(())
        })?;
        Some(Field::found(Kind::Array, Some(list)))
    }
}

impl Fast for RawHeaders {
    /// A header list, each name and value appended to the list's text as
    /// [`RawHeaders`]'s seeds append them.
    fn fast(c: &mut Cursor<'_>) -> Option<Field<Self>> {
        if c.peek()? != b'[' {
            return c.plain();
        }
        let mut list = RawHeaders {
            headers: Headers::with_capacity(16, 1024),
            notes: Vec::new(),
            dropped: 0,
        };
        let mut i = 0;
        c.array(|c| {
            if i >= MAX_LIST {
                return None;
            }
            match c.peek()? {
                b'{' => {
                    let headers = &mut list.headers;
                    if let Some((name, value)) = c.plain_header() {
                        let name = string_text(headers, &name);
                        let value = string_text(headers, &value);
                        header_item(headers, &mut list.notes, i, name, value);
                        i += 1;
                        return Some(());
                    }
                    let mut name = Field::default();
                    let mut value = Field::default();
                    c.object(|c, key| {
                        match key {
                            b"name" => name = c.header_text(headers)?,
                            b"value" => value = c.header_text(headers)?,
                            _ => c.skip()?,
                        }
                        Some(())
                    })?;
                    header_item(headers, &mut list.notes, i, name, value);
                }
                // A null item is skipped silently, as a null field.
                b'n' => c.literal(b"null")?,
                _ => {
                    if let Some(kind) = c.plain::<RawHeader>()?.wrong {
                        list.notes.push((i, Note::NotObject(kind)));
                    }
                }
            }
            i += 1;
            Some(())
        })?;
        Some(Field::found(Kind::Array, Some(list)))
    }
}

/// Where the reader is in an entry's text.
pub(super) struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    depth: u32,
    bodies: &'a [Range<usize>],
    /// The first of `bodies` not yet passed: the text is read forwards.
    next_body: usize,
    /// The text between the bodies, checked: where each piece begins, and the piece.
    pieces: Vec<(usize, &'a str)>,
    /// The first of `pieces` not yet passed.
    piece: usize,
}

impl<'a> Cursor<'a> {
    /// Past JSON whitespace.
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// The next byte that is not whitespace, not taken.
    #[inline]
    pub(super) fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// An object at the cursor (its `{` next), `member` called with each key, the cursor on
    /// the key's value; `member` must read or skip the value.
    #[inline]
    pub(super) fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, &[u8]) -> Option<()>,
    ) -> Option<()> {
        self.enter()?;
        if self.peek()? == b'}' {
            self.leave();
            return Some(());
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.key()?;
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            member(self, key)?;
            if !self.after_item(b'}')? {
                return Some(());
            }
        }
    }

    /// An object's key at the cursor (its `"` next), as bytes: every key the reader knows
    /// is ASCII, short and unescaped, so such a key is found a byte at a time (quicker than
    /// a string's scan for a few bytes) and compared as it is; any other key is scanned
    /// and checked as a string, and one with an escape ends the reading (serde_json would
    /// compare it unescaped).
    #[inline]
    fn key(&mut self) -> Option<&'a [u8]> {
        let b = self.b;
        let start = self.i + 1;
        let mut end = start;
        while let Some(&c) = b.get(end) {
            if c == b'"' {
                self.i = end + 1;
                return Some(&b[start..end]);
            }
            if c == b'\\' || !(0x20..0x80).contains(&c) {
                break;
            }
            end += 1;
        }
        let (end, escaped) = scan_string(b, start)?;
        if escaped {
            return None;
        }
        self.i = end + 1;
        Some(self.str_at(start..end)?.as_bytes())
    }

    /// An array at the cursor (its `[` next), `item` called with the cursor on each item.
    #[inline]
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.enter()?;
        if self.peek()? == b']' {
            self.leave();
            return Some(());
        }
        loop {
            item(self)?;
            if !self.after_item(b']')? {
                return Some(());
            }
        }
    }

    /// Past the `{` or `[` at the cursor, one level deeper.
    #[inline]
    fn enter(&mut self) -> Option<()> {
        self.i += 1;
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Past the `}` or `]` at the cursor, one level up.
    #[inline]
    fn leave(&mut self) {
        self.i += 1;
        self.depth -= 1;
    }

    /// After a member or an item: `Some(true)` past a `,` (another follows), `Some(false)`
    /// past `close` (the object or array is over), `None` for anything else.
    #[inline]
    fn after_item(&mut self, close: u8) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            c if c == close => {
                self.leave();
                Some(false)
            }
            _ => None,
        }
    }

    /// Past the value at the cursor, checked as serde_json checks a value it ignores.
    pub(super) fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                let (end, _) = scan_string(self.b, self.i + 1)?;
                self.i = end + 1;
            }
            b'{' => self.object(|c, _| c.skip())?,
            b'[' => self.array(Cursor::skip)?,
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            // By the grammar alone, as serde_json ignores a number (an ignored `1e400` is
            // no error; a read one is, and is read by serde_json: see `plain`).
            b'-' | b'0'..=b'9' => {
                self.number()?;
            }
            _ => return None,
        }
        Some(())
    }

    /// A string at the cursor (its `"` next), unescaped.
    #[inline]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.i + 1;
        let (end, escaped) = scan_string(self.b, start)?;
        self.i = end + 1;
        if escaped {
            String::from_utf8(super::bodies::unescape(&self.b[start..end])?)
                .ok()
                .map(Cow::Owned)
        } else {
            self.str_at(start..end).map(Cow::Borrowed)
        }
    }

    /// The text at `at` (a string's contents, after the last one asked for), as a slice of
    /// its checked piece; checked on its own when it lies in a body.
    #[inline]
    fn str_at(&mut self, at: Range<usize>) -> Option<&'a str> {
        while let Some(&(start, piece)) = self.pieces.get(self.piece) {
            if at.start < start + piece.len() {
                if at.start >= start {
                    if let Some(s) = piece.get(at.start - start..at.end - start) {
                        return Some(s);
                    }
                }
                break;
            }
            self.piece += 1;
        }
        std::str::from_utf8(&self.b[at]).ok()
    }

    /// A field of a scalar type (see [`Fast::fast`]).
    pub(super) fn plain<T: Lenient>(&mut self) -> Option<Field<T>> {
        Some(match self.peek()? {
            b'"' => Field::found(Kind::String, T::of_str(&self.string()?)),
            b'n' => {
                self.literal(b"null")?;
                Field::default()
            }
            b't' => {
                self.literal(b"true")?;
                Field::found(Kind::Bool, T::of_bool(true))
            }
            b'f' => {
                self.literal(b"false")?;
                Field::found(Kind::Bool, T::of_bool(false))
            }
            b'-' | b'0'..=b'9' => {
                let number = self.number()?;
                match number.value {
                    Some(Plain::U64(n)) => Field::found(Kind::Number, T::of_u64(n)),
                    Some(Plain::I64(n)) => Field::found(Kind::Number, T::of_i64(n)),
                    Some(Plain::F64(f)) => Field::found(Kind::Number, T::of_f64(f)),
                    // serde_json's own reading of the number, and its errors.
                    None => {
                        let text = std::str::from_utf8(&self.b[number.at]).ok()?;
                        serde_json::from_str::<Field<T>>(text).ok()?
                    }
                }
            }
            b'[' => {
                self.skip()?;
                Field::found(Kind::Array, None)
            }
            b'{' => {
                self.skip()?;
                Field::found(Kind::Object, None)
            }
            _ => return None,
        })
    }

    /// A header item as every exporter writes it, `{"name": "…", "value": "…"}` (any
    /// whitespace), its name and value; `None`, the cursor back at the item, for any other
    /// item, which [`Cursor::object`] then reads. Nothing is appended to the list's text
    /// here, so that the text is the same either way.
    #[inline]
    fn plain_header(&mut self) -> Option<(Cow<'a, str>, Cow<'a, str>)> {
        let at = self.i;
        let item = self.plain_header_at();
        if item.is_none() {
            self.i = at;
        }
        item
    }

    fn plain_header_at(&mut self) -> Option<(Cow<'a, str>, Cow<'a, str>)> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.i += 1;
        let name = self.plain_member(b"\"name\"")?;
        if self.peek()? != b',' {
            return None;
        }
        self.i += 1;
        let value = self.plain_member(b"\"value\"")?;
        if self.peek()? != b'}' {
            return None;
        }
        self.i += 1;
        Some((name, value))
    }

    /// The member `key: "…"` at the cursor (`key` with its quotes), its string.
    #[inline]
    fn plain_member(&mut self, key: &[u8]) -> Option<Cow<'a, str>> {
        self.ws();
        let end = self.i + key.len();
        if self.b.get(self.i..end)? != key {
            return None;
        }
        self.i = end;
        if self.peek()? != b':' {
            return None;
        }
        self.i += 1;
        if self.peek()? != b'"' {
            return None;
        }
        self.string()
    }

    /// A header's name or value, appended to `headers`' text (as [`RawHeaders`]' seeds do).
    #[inline]
    fn header_text(&mut self, headers: &mut Headers) -> Option<Field<Range<usize>>> {
        if self.peek()? == b'"' {
            return Some(string_text(headers, &self.string()?));
        }
        Some(keep_text(headers, self.plain::<String>()?))
    }

    /// A number at the cursor, by JSON's grammar.
    fn number(&mut self) -> Option<Number> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let negative = b.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        let digits = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        match b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => i = digits(i),
            _ => return None,
        }
        let integer = i;
        let mut fraction = false;
        if b.get(i) == Some(&b'.') {
            fraction = true;
            let first = i + 1;
            i = digits(first);
            if i == first {
                return None;
            }
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = b.get(i) {
            exponent = true;
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let first = i;
            i = digits(first);
            if i == first {
                return None;
            }
        }
        self.i = i;
        let digits_of =
            |r: Range<usize>| b[r].iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        let first = start + usize::from(negative);
        let whole = integer - first;
        let value = match (negative, fraction, exponent) {
            // At most 19 digits always fit a u64: serde_json reads such a number as a u64.
            (false, false, false) if whole <= 19 => Some(Plain::U64(digits_of(first..integer))),
            // As serde_json reads a negative integer: an i64, but `-0` is -0.0.
            (true, false, false) if whole <= 18 => Some(match digits_of(first..integer) {
                0 => Plain::F64(-0.0),
                n => Plain::I64(-(n as i64)),
            }),
            // A decimal fraction of at most 15 digits in all: its digits (below 2^53, so
            // exact in an f64) divided by the power of ten of its fraction digits (exact
            // too): one correctly rounded division, which is what serde_json computes, with
            // or without its `float_roundtrip` feature.
            (_, true, false) if i - first <= 16 => {
                let digits = digits_of(first..integer) * 10u64.pow((i - integer - 1) as u32)
                    + digits_of(integer + 1..i);
                let f = digits as f64 / POW10[i - integer - 1];
                Some(Plain::F64(if negative { -f } else { f }))
            }
            _ => None,
        };
        Some(Number {
            at: start..i,
            value,
        })
    }

    /// The end of the string whose contents begin at `start`, when the guard noted it.
    #[inline]
    fn noted_body(&mut self, start: usize) -> Option<usize> {
        while self
            .bodies
            .get(self.next_body)
            .is_some_and(|r| r.start < start)
        {
            self.next_body += 1;
        }
        let r = self.bodies.get(self.next_body)?;
        (r.start == start && self.b.get(r.end) == Some(&b'"')).then_some(r.end)
    }
}

/// A number read by [`Cursor::number`].
struct Number {
    at: Range<usize>,
    /// Its value as serde_json reads it, for the numbers exporters write (plain integers,
    /// decimal fractions of a few digits); `None` for the others, which serde_json reads.
    value: Option<Plain>,
}

/// A number's value, as serde_json hands it to a visitor.
enum Plain {
    U64(u64),
    I64(i64),
    F64(f64),
}

/// The powers of ten a fraction of at most 15 digits divides by, each exact in an f64.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Where the string whose contents begin at `start` ends (the index of its closing quote),
/// and whether it holds an escape; `None` where serde_json would refuse it or read it other
/// than plainly: a control character, an escape it does not know, a `\u` escape of a
/// surrogate, invalid UTF-8, no end.
#[inline]
fn scan_string(b: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut i = start;
    let mut escaped = false;
    let mut high = false;
    loop {
        i += super::bodies::plain_run(b.get(i..)?, &mut high);
        match *b.get(i)? {
            b'"' => break,
            b'\\' => {
                escaped = true;
                match *b.get(i + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                    b'u' => {
                        let unit = super::bodies::hex4(b.get(i + 2..i + 6)?)?;
                        if (0xd800..0xe000).contains(&unit) {
                            return None;
                        }
                        i += 6;
                    }
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    if high && std::str::from_utf8(&b[start..i]).is_err() {
        return None;
    }
    Some((i, escaped))
}
