//! One NetLog event's top level, read without building its `params` until the builder
//! wants them.
//!
//! Three events in four are of a type the builder never reads (host resolution, proxy
//! resolution, stream jobs, certificate checks ...), yet parsing each whole into a
//! `serde_json::Value` was most of the cost of reading a NetLog. The small members (`type`,
//! `source`, `phase`, `time`) are still read as `Value`s, so every test the builder makes of
//! them is unchanged; `params` is kept as its JSON text (validated) and parsed by
//! [`Envelope::params`] only for an event the builder handles.
//!
//! A member named twice keeps its last value, as a `Value` object does. What changes: an
//! event whose text is JSON but holds a number out of `f64`'s range in a member no one reads
//! (`params` of an event the builder skips, or a member besides the five) is no longer
//! counted as unreadable.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// An event's members as the builder reads them.
#[derive(Debug, Default)]
pub(super) struct Envelope<'a> {
    pub ty: Option<Value>,
    pub source: Option<Value>,
    pub phase: Option<Value>,
    pub time: Option<Value>,
    params: Option<&'a RawValue>,
}

impl<'a> Envelope<'a> {
    /// An event's JSON text read; `None` when it is not UTF-8 or not a JSON object (what
    /// made the whole event unreadable before).
    pub fn read(text: &'a [u8]) -> Option<Envelope<'a>> {
        let text = std::str::from_utf8(text).ok()?;
        serde_json::from_str(text).ok()
    }

    /// `params` parsed: `Null` when the event has none, `None` when they cannot be read
    /// into a `Value` (a number out of range).
    pub fn params(&self) -> Option<Value> {
        match self.params {
            Some(raw) => serde_json::from_str(raw.get()).ok(),
            None => Some(Value::Null),
        }
    }
}

/// A member's name, read whether or not it holds escapes.
enum Member {
    Type,
    Source,
    Phase,
    Time,
    Params,
    Other,
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Member;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
                Ok(match name {
                    "type" => Member::Type,
                    "source" => Member::Source,
                    "phase" => Member::Phase,
                    "time" => Member::Time,
                    "params" => Member::Params,
                    _ => Member::Other,
                })
            }
        }
        d.deserialize_str(Name)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Envelope<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Members<'a> {
            type Value = Envelope<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a NetLog event object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'a>, A::Error> {
                let mut e = Envelope::default();
                while let Some(member) = map.next_key::<Member>()? {
                    match member {
                        Member::Type => e.ty = Some(map.next_value()?),
                        Member::Source => e.source = Some(map.next_value()?),
                        Member::Phase => e.phase = Some(map.next_value()?),
                        Member::Time => e.time = Some(map.next_value()?),
                        Member::Params => e.params = Some(map.next_value()?),
                        Member::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(e)
            }
        }
        d.deserialize_map(Members(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Member names (one with an escape spelling `type`), repeated at random.
    fn name() -> impl Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            "type",
            "source",
            "phase",
            "time",
            "params",
            "other",
            "t\\u0079pe",
            "p",
        ])
    }

    /// JSON values, small numbers only (no `f64` overflow: the documented difference).
    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            (-5i64..70_000).prop_map(|n| n.to_string()),
            Just("1.5e3".to_string()),
            "[a-z\\\\\"é]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::vec((name(), inner), 0..4).prop_map(|kv| {
                    let m: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", m.join(","))
                }),
            ]
        })
    }

    proptest! {
        /// The envelope gives what the event read whole as a `Value` gives: whether it reads
        /// at all, each of the five members (the last of a repeated one), and the params.
        #[test]
        fn reads_what_a_value_of_the_whole_event_reads(
            members in proptest::collection::vec((name(), value()), 0..7),
            cut in proptest::option::of(any::<proptest::sample::Index>()),
        ) {
            let body: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let mut text = format!("{{{}}}", body.join(",")).into_bytes();
            if let Some(cut) = cut {
                text.truncate(cut.index(text.len()));
            }
            let whole: Option<Value> = serde_json::from_slice(&text).ok();
            let envelope = Envelope::read(&text);
            prop_assert_eq!(whole.is_some(), envelope.is_some());
            if let (Some(v), Some(e)) = (whole, envelope) {
                prop_assert_eq!(v.get("type"), e.ty.as_ref());
                prop_assert_eq!(v.get("source"), e.source.as_ref());
                prop_assert_eq!(v.get("phase"), e.phase.as_ref());
                prop_assert_eq!(v.get("time"), e.time.as_ref());
                prop_assert_eq!(Some(v.get("params").cloned().unwrap_or(Value::Null)), e.params());
            }
        }
    }

    #[test]
    fn what_is_not_an_object_or_not_utf8_is_unreadable() {
        for bad in [
            &b"[1]"[..],
            b"{\"type\":1",
            b"{\"type\":\"\xff\"}",
            b"",
            b"{} x",
        ] {
            assert!(
                Envelope::read(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let e = Envelope::read(br#"{"params":{"a":[1]},"zz":{"q":[]},"type":7}"#).unwrap();
        assert_eq!(e.ty, Some(Value::from(7)));
        assert_eq!(e.params(), Some(serde_json::json!({"a": [1]})));
        assert_eq!(Envelope::read(b"{}").unwrap().params(), Some(Value::Null));
        // The documented difference: out of range in an unread member reads; asked for,
        // such params are unreadable.
        let e = Envelope::read(br#"{"type":1,"params":{"n":1e999}}"#).unwrap();
        assert_eq!(e.params(), None);
    }
}
