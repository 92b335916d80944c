//! Lenient fields: how a HAR object is read when exporters put numbers where strings belong,
//! drop optional fields or repeat keys.
//!
//! Every field is a [`Field`], which accepts any JSON value, converts what it sensibly can and
//! remembers the kind it found, so a wrong type costs a problem on the session, never the
//! capture. Objects are declared with `har_object!` (map visitors that ignore unknown keys and
//! let the last of a repeated key win; derive would reject duplicates).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

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
    fn found(kind: Kind, value: Option<T>) -> Self {
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
            let path = path();
            problems.push(match self.value {
                Some(_) => format!("{path}: expected {}, found {kind} (converted)", T::KIND),
                None => format!("{path}: expected {}, found {kind} (ignored)", T::KIND),
            });
        }
        self.value
    }
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
/// keys and lets a repeated key's last value win.
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
    };
}

har_object! {
    /// One `log.entries[]` item, as much of it as traceadal uses.
    RawEntry {
        "startedDateTime" => started: String,
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
        "headers" => headers: List<RawHeader>,
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
        "headers" => headers: List<RawHeader>,
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
