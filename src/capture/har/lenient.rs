//! Lenient fields: how a HAR object is read when exporters put numbers where strings belong,
//! drop optional fields or repeat keys.
//!
//! Every field is a [`Field`], which accepts any JSON value, converts what it sensibly can and
//! remembers the kind it found, so a wrong type costs a problem on the session, never the
//! capture. Objects are declared with `har_object!` (map visitors that ignore unknown keys and
//! let the last of a repeated key win; derive would reject duplicates).

use std::fmt;
use std::marker::PhantomData;

use std::ops::Range;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::capture::headers::Headers;

#[allow(unused_imports)]
use super::*;

/// The kind of a JSON value, for problem messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Number,
    Bool,
    Array,
    Object,
    /// Only for the structural parts (`log`, `entries`); a null field is a missing one.
    Null,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Bool => "boolean",
            Kind::Array => "array",
            Kind::Object => "object",
            Kind::Null => "null",
        })
    }
}

pub(super) fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

pub(super) fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A value read from a HAR field that may have any JSON type.
///
/// `value` is what could be made of it; `wrong` the kind found when it was not the kind the
/// field wants (the value may still have been converted, e.g. a number where a string
/// belongs). `null` and a missing field both leave the default: nothing, nothing wrong.
#[derive(Debug)]
pub(crate) struct Field<T> {
    pub(super) value: Option<T>,
    pub(super) wrong: Option<Kind>,
}

impl<T> Default for Field<T> {
    fn default() -> Self {
        Field {
            value: None,
            wrong: None,
        }
    }
}

impl<T: Lenient> Field<T> {
    /// A value of `kind` read, made into `value` (if it could be).
    pub(super) fn found(kind: Kind, value: Option<T>) -> Self {
        Field {
            value,
            wrong: (kind != T::KIND).then_some(kind),
        }
    }

    /// The value, noting a problem at `path` when the JSON had another kind.
    pub(super) fn take(self, path: &str, problems: &mut Vec<String>) -> Option<T> {
        self.take_at(|| path.to_string(), problems)
    }

    /// [`Field::take`] with the path made only when there is a problem to name (the path of
    /// every header of every entry, formatted up front, was 8% of reading a HAR).
    #[inline]
    pub(super) fn take_at(
        self,
        path: impl FnOnce() -> String,
        problems: &mut Vec<String>,
    ) -> Option<T> {
        if let Some(kind) = self.wrong {
            problems.push(wrong_kind(&path(), T::KIND, kind, self.value.is_some()));
        }
        self.value
    }
}

/// The problem of a field at `path` that should be a `want` and was a `found`.
pub(super) fn wrong_kind(path: &str, want: Kind, found: Kind, converted: bool) -> String {
    let what = if converted { "converted" } else { "ignored" };
    format!("{path}: expected {want}, found {found} ({what})")
}

/// How a Rust type is made from whatever JSON value a tolerant field holds.
pub(crate) trait Lenient: Sized {
    /// The JSON kind the field should have.
    const KIND: Kind;

    fn of_str(_: &str) -> Option<Self> {
        None
    }
    fn of_f64(_: f64) -> Option<Self> {
        None
    }
    fn of_i64(v: i64) -> Option<Self> {
        Self::of_f64(v as f64)
    }
    fn of_u64(v: u64) -> Option<Self> {
        Self::of_f64(v as f64)
    }
    fn of_bool(_: bool) -> Option<Self> {
        None
    }
    fn of_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Option<Self>, A::Error> {
        drain_seq(seq)?;
        Ok(None)
    }
    fn of_map<'de, A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        drain_map(map)?;
        Ok(None)
    }
}

impl<'de, T: Lenient> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor(PhantomData))
    }
}

pub(super) struct FieldVisitor<T>(PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for FieldVisitor<T> {
    type Value = Field<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Field<T>, E> {
        Ok(Field::found(Kind::Bool, T::of_bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Field<T>, E> {
        Ok(Field::found(Kind::Number, T::of_i64(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Field<T>, E> {
        Ok(Field::found(Kind::Number, T::of_u64(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Field<T>, E> {
        Ok(Field::found(Kind::Number, T::of_f64(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Field<T>, E> {
        Ok(Field::found(Kind::String, T::of_str(v)))
    }
    fn visit_unit<E>(self) -> Result<Field<T>, E> {
        Ok(Field::default())
    }
    fn visit_none<E>(self) -> Result<Field<T>, E> {
        Ok(Field::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field<T>, A::Error> {
        Ok(Field::found(Kind::Array, T::of_seq(seq)?))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<T>, A::Error> {
        Ok(Field::found(Kind::Object, T::of_map(map)?))
    }
}

impl Lenient for String {
    const KIND: Kind = Kind::String;

    fn of_str(v: &str) -> Option<Self> {
        Some(v.to_owned())
    }
    fn of_f64(v: f64) -> Option<Self> {
        Some(v.to_string())
    }
    fn of_i64(v: i64) -> Option<Self> {
        Some(v.to_string())
    }
    fn of_u64(v: u64) -> Option<Self> {
        Some(v.to_string())
    }
    fn of_bool(v: bool) -> Option<Self> {
        Some(v.to_string())
    }
}

impl Lenient for f64 {
    const KIND: Kind = Kind::Number;

    fn of_str(v: &str) -> Option<Self> {
        v.trim().parse().ok().filter(|x: &f64| x.is_finite())
    }
    fn of_f64(v: f64) -> Option<Self> {
        Some(v)
    }
}

/// An array whose items traceadal does not need, only its presence (`_webSocketMessages`,
/// which can hold megabytes of frames).
#[derive(Debug, Default)]
pub(crate) struct Present;

impl Lenient for Present {
    const KIND: Kind = Kind::Array;

    fn of_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Option<Self>, A::Error> {
        drain_seq(seq)?;
        Ok(Some(Present))
    }
}

/// `startedDateTime`, parsed where it is read ([`parse_time`]; `None`: not a time): the
/// string itself is not kept (a `String` per entry, dropped once parsed). Other kinds are
/// converted to text first, as `String` converts them.
#[derive(Debug)]
pub(crate) struct Started(pub(super) Option<(chrono::DateTime<chrono::FixedOffset>, bool)>);

impl Started {
    fn of_text(text: Option<String>) -> Option<Self> {
        text.map(|t| Started(parse_time(&t)))
    }
}

impl Lenient for Started {
    const KIND: Kind = Kind::String;

    fn of_str(v: &str) -> Option<Self> {
        Some(Started(parse_time(v)))
    }
    fn of_f64(v: f64) -> Option<Self> {
        Started::of_text(String::of_f64(v))
    }
    fn of_i64(v: i64) -> Option<Self> {
        Started::of_text(String::of_i64(v))
    }
    fn of_u64(v: u64) -> Option<Self> {
        Started::of_text(String::of_u64(v))
    }
    fn of_bool(v: bool) -> Option<Self> {
        Started::of_text(String::of_bool(v))
    }
}

/// The list cap is not a const generic, so it lives here: big enough for any real header
/// list, small enough that 10 million tiny headers cost a problem, not gigabytes.
pub(super) const MAX_LIST: usize = 100_000;

/// An array of tolerant items, at most [`MAX_LIST`] kept.
#[derive(Debug)]
pub(crate) struct List<T> {
    pub(super) items: Vec<Field<T>>,
    pub(super) dropped: u64,
}

impl<T: Lenient> Lenient for List<T> {
    const KIND: Kind = Kind::Array;

    fn of_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        // Room for a typical header list at once (grown from empty, a list of 15 headers
        // was allocated three times).
        let mut list = List {
            items: Vec::with_capacity(16),
            dropped: 0,
        };
        while let Some(item) = seq.next_element::<Field<T>>()? {
            if list.items.len() < MAX_LIST {
                list.items.push(item);
            } else {
                list.dropped += 1;
            }
        }
        Ok(Some(list))
    }
}

/// A header list (`request.headers`, `response.headers`) read straight into [`Headers`].
///
/// Each name and value is appended to the list's text as serde_json hands it over (borrowed
/// from the entry's text, or from serde_json's scratch buffer when it had escapes), so a
/// header costs no allocation of its own: read as a `List<RawHeader>`, every name and value
/// was a `String`, over half the allocations of reading a HAR. The items read as what they
/// are (`Field<RawHeader>`, names and values `Field<String>`: same kinds, same conversions,
/// a repeated key's last value winning); what is not a plain header is noted in `notes`, in
/// order, for [`super::convert::headers_of`] to report or take as a pseudo-header.
#[derive(Debug, Default)]
pub(crate) struct RawHeaders {
    /// The items with a name that is not a pseudo-header's, in order.
    pub(super) headers: Headers,
    /// What the other items were (by index), and the problems of the items.
    pub(super) notes: Vec<(usize, Note)>,
    pub(super) dropped: u64,
}

/// One thing to say about an item of a [`RawHeaders`] list.
#[derive(Debug)]
pub(crate) enum Note {
    /// The item is no object (a null item is skipped silently, as a null field).
    NotObject(Kind),
    /// Its name or value had the wrong kind: the kind found, and whether it was converted.
    Name(Kind, bool),
    Value(Kind, bool),
    /// No name, or an empty one: the item is skipped.
    NoName,
    /// A name starting with `:` (an HTTP/2 pseudo-header), where in the text name and value
    /// are.
    Pseudo(Range<usize>, Range<usize>),
}

impl Lenient for RawHeaders {
    const KIND: Kind = Kind::Array;

    fn of_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        // Room for a typical header list at once.
        let mut list = RawHeaders {
            headers: Headers::with_capacity(16, 1024),
            notes: Vec::new(),
            dropped: 0,
        };
        let mut i = 0;
        loop {
            if i >= MAX_LIST {
                // Read as before, for the same errors, and dropped.
                while seq.next_element::<Field<RawHeader>>()?.is_some() {
                    list.dropped += 1;
                }
                break;
            }
            let seed = HeaderSeed {
                headers: &mut list.headers,
                notes: &mut list.notes,
                i,
            };
            if seq.next_element_seed(seed)?.is_none() {
                break;
            }
            i += 1;
        }
        Ok(Some(list))
    }
}

/// One item of a [`RawHeaders`] list, read as a `Field<RawHeader>` would be.
struct HeaderSeed<'a> {
    headers: &'a mut Headers,
    notes: &'a mut Vec<(usize, Note)>,
    i: usize,
}

impl<'de> DeserializeSeed<'de> for HeaderSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl HeaderSeed<'_> {
    /// An item that is no object: what `Field<RawHeader>` made of it, noted.
    fn not_object<E>(self, item: Result<Field<RawHeader>, E>) -> Result<(), E> {
        if let Some(kind) = item?.wrong {
            self.notes.push((self.i, Note::NotObject(kind)));
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for HeaderSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.not_object(FieldVisitor(PhantomData).visit_bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.not_object(FieldVisitor(PhantomData).visit_i64(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.not_object(FieldVisitor(PhantomData).visit_u64(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.not_object(FieldVisitor(PhantomData).visit_f64(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.not_object(FieldVisitor(PhantomData).visit_str(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.not_object(FieldVisitor(PhantomData).visit_seq(seq))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut name = Field::<Range<usize>>::default();
        let mut value = Field::<Range<usize>>::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key.as_str() {
                "name" => name = map.next_value_seed(TextSeed(&mut *self.headers))?,
                "value" => value = map.next_value_seed(TextSeed(&mut *self.headers))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        header_item(self.headers, self.notes, self.i, name, value);
        Ok(())
    }
}

/// The item `i` of a header list read as an object, its `name` and `value` appended to
/// `headers`' text: pushed as a header, or noted (a wrong kind, no name, a pseudo-header).
/// For [`HeaderSeed`] and the entry reader ([`super::fast`]) alike.
pub(super) fn header_item(
    headers: &mut Headers,
    notes: &mut Vec<(usize, Note)>,
    i: usize,
    name: Field<Range<usize>>,
    value: Field<Range<usize>>,
) {
    if let Some(kind) = name.wrong {
        notes.push((i, Note::Name(kind, name.value.is_some())));
    }
    if let Some(kind) = value.wrong {
        notes.push((i, Note::Value(kind, value.value.is_some())));
    }
    let end = headers.append_text("");
    let value = value.value.unwrap_or(end);
    match name.value {
        Some(name) if name.is_empty() => notes.push((i, Note::NoName)),
        None => notes.push((i, Note::NoName)),
        Some(name) if headers.text_at(name.clone()).starts_with(':') => {
            notes.push((i, Note::Pseudo(name, value)))
        }
        Some(name) => headers.push_spans(name, value),
    }
}

/// A header's name or value, appended to the list's text: what `Field<String>` reads, without
/// a `String` for a string.
struct TextSeed<'a>(&'a mut Headers);

impl TextSeed<'_> {
    fn keep(self, f: Field<String>) -> Field<Range<usize>> {
        keep_text(self.0, f)
    }
}

/// A header's name or value read as a string, appended to the list's text.
pub(super) fn string_text(headers: &mut Headers, s: &str) -> Field<Range<usize>> {
    Field {
        value: Some(headers.append_text(s)),
        wrong: None,
    }
}

/// A header's name or value read as another kind than a string: its conversion (if any)
/// appended to the list's text.
pub(super) fn keep_text(headers: &mut Headers, f: Field<String>) -> Field<Range<usize>> {
    Field {
        value: f.value.map(|s| headers.append_text(&s)),
        wrong: f.wrong,
    }
}

impl<'de> DeserializeSeed<'de> for TextSeed<'_> {
    type Value = Field<Range<usize>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TextSeed<'_> {
    type Value = Field<Range<usize>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.keep(FieldVisitor(PhantomData).visit_bool(v)?))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.keep(FieldVisitor(PhantomData).visit_i64(v)?))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.keep(FieldVisitor(PhantomData).visit_u64(v)?))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.keep(FieldVisitor(PhantomData).visit_f64(v)?))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        // The one kind read without a `String`.
        Ok(string_text(self.0, v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::default())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Ok(self.keep(FieldVisitor(PhantomData).visit_seq(seq)?))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(self.keep(FieldVisitor(PhantomData).visit_map(map)?))
    }
}

/// An object key, matched without allocating: every key the reader knows is short.
pub(super) struct Key {
    pub(super) buf: [u8; 32],
    pub(super) len: usize,
}

impl Key {
    pub(super) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                let mut key = Key {
                    buf: [0; 32],
                    len: 0,
                };
                // A longer key is no key the reader knows: leave it empty.
                if v.len() <= key.buf.len() {
                    key.buf[..v.len()].copy_from_slice(v.as_bytes());
                    key.len = v.len();
                }
                Ok(key)
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Declares a HAR object: a struct of [`Field`]s read by a map visitor that ignores unknown
/// keys and lets a repeated key's last value win, and by the entry reader ([`Fast`]) the
/// same way.
macro_rules! har_object {
    ($(#[$doc:meta])* $name:ident { $($key:literal => $field:ident : $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Default)]
        pub(crate) struct $name {
            $(pub(super) $field: Field<$ty>,)*
        }

        impl Lenient for $name {
            const KIND: Kind = Kind::Object;

            fn of_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
                let mut out = $name::default();
                while let Some(key) = map.next_key::<Key>()? {
                    match key.as_str() {
                        $($key => out.$field = map.next_value()?,)*
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Some(out))
            }
        }

        impl Fast for $name {
            fn fast(c: &mut Cursor<'_>) -> Option<Field<Self>> {
                if c.peek()? != b'{' {
                    return c.plain();
                }
                let mut out = $name::default();
                c.object(|c, key| {
                    $(if key == $key.as_bytes() {
                        out.$field = <$ty as Fast>::fast(c)?;
                    } else)* {
                        c.skip()?;
                    }
                    Some(())
                })?;
                Some(Field::found(Kind::Object, Some(out)))
            }
        }
    };
}

har_object! {
    /// One `log.entries[]` item, as much of it as traceadal uses.
    RawEntry {
        "startedDateTime" => started: Started,
        "time" => time: f64,
        "request" => request: RawRequest,
        "response" => response: RawResponse,
        "serverIPAddress" => server_ip: String,
        "timings" => timings: RawTimings,
        "_webSocketMessages" => ws_messages: Present,
        "_error" => error: String,
        // Not in any HAR seen so far; read in case an exporter (Fiddler's) names the process.
        "_processInfo" => process_info: String,
        "_process" => process: String,
    }
}

har_object! {
    RawRequest {
        "method" => method: String,
        "url" => url: String,
        "httpVersion" => version: String,
        "headers" => headers: RawHeaders,
        "postData" => post: RawPostData,
    }
}

har_object! {
    RawHeader {
        "name" => name: String,
        "value" => value: String,
    }
}

har_object! {
    RawPostData {
        "text" => text: BodyString,
        "params" => params: List<RawHeader>,
        // HAR 1.3 proposal; some exporters already write it.
        "encoding" => encoding: String,
    }
}

har_object! {
    RawResponse {
        "status" => status: f64,
        "statusText" => reason: String,
        "httpVersion" => version: String,
        "headers" => headers: RawHeaders,
        "content" => content: RawContent,
        "_error" => error: String,
    }
}

har_object! {
    RawContent {
        "text" => text: BodyString,
        "encoding" => encoding: String,
    }
}

har_object! {
    RawTimings {
        "blocked" => blocked: f64,
        "dns" => dns: f64,
        "connect" => connect: f64,
        "send" => send: f64,
        "wait" => wait: f64,
        "receive" => receive: f64,
    }
}
