//! The serde visitors of the HAR skeleton: the top level, `log` and `log.entries`.
//!
//! They are hand-written (not derived) so that a file that is JSON but not a HAR says what
//! it is instead (`log` is an array, no `entries`), and so that the entries visitor can pick
//! up each entry the lexer took out of the stream ([`super::lexer::Guard`]) and queue it for
//! the mapper threads ([`super::parse::ParseState::emit`]).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

#[allow(unused_imports)]
use super::*;

/// Generates the scalar `visit_*` methods of a structural visitor (top level, `log`,
/// `entries`): each evaluates `$body` with `kind` bound to what was found instead.
macro_rules! scalar_kinds {
    (|$me:ident, $kind:ident| $body:expr) => {
        fn visit_bool<E: serde::de::Error>($me, _: bool) -> Result<Self::Value, E> {
            let $kind = Kind::Bool;
            $body
        }
        fn visit_i64<E: serde::de::Error>($me, _: i64) -> Result<Self::Value, E> {
            let $kind = Kind::Number;
            $body
        }
        fn visit_u64<E: serde::de::Error>($me, _: u64) -> Result<Self::Value, E> {
            let $kind = Kind::Number;
            $body
        }
        fn visit_f64<E: serde::de::Error>($me, _: f64) -> Result<Self::Value, E> {
            let $kind = Kind::Number;
            $body
        }
        fn visit_str<E: serde::de::Error>($me, _: &str) -> Result<Self::Value, E> {
            let $kind = Kind::String;
            $body
        }
        fn visit_unit<E: serde::de::Error>($me) -> Result<Self::Value, E> {
            let $kind = Kind::Null;
            $body
        }
    };
}

/// The top level: `None` for an object (its `log` handled on the way), else what it was.
pub(super) struct TopVisitor<'a, 's> {
    pub(super) st: &'a mut ParseState<'s>,
}

impl<'de> Visitor<'de> for TopVisitor<'_, '_> {
    type Value = Option<Kind>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a HAR object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            if key.as_str() == "log" {
                map.next_value_seed(LogSeed { st: &mut *self.st })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Some(Kind::Array))
    }

    scalar_kinds!(|self, kind| Ok(Some(kind)));
}

pub(super) struct LogSeed<'a, 's> {
    pub(super) st: &'a mut ParseState<'s>,
}

impl<'de> DeserializeSeed<'de> for LogSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR log object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.st.log_objects += 1;
        while let Some(key) = map.next_key::<Key>()? {
            if key.as_str() == "entries" {
                map.next_value_seed(EntriesSeed { st: &mut *self.st })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        drain_seq(seq)?;
        self.st.log_wrong = Some(Kind::Array);
        Ok(())
    }

    scalar_kinds!(|self, kind| {
        self.st.log_wrong = Some(kind);
        Ok(())
    });
}

pub(super) struct EntriesSeed<'a, 's> {
    pub(super) st: &'a mut ParseState<'s>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR entries array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        self.st.entries_arrays += 1;
        self.st.in_entries = true;
        self.st.cuts_mark = self.st.stats.cuts.get();
        while let Some(element) = seq.next_element::<Field<RawEntry>>()? {
            // An object the guard took out of the stream arrives as a `0`, its text beside.
            let taken = self.st.stats.entry.borrow_mut().take();
            if self.st.emit(element, taken).is_err() {
                return Err(A::Error::custom(STOPPED));
            }
        }
        self.st.in_entries = false;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        drain_map(map)?;
        self.st.entries_wrong = Some(Kind::Object);
        Ok(())
    }

    scalar_kinds!(|self, kind| {
        self.st.entries_wrong = Some(kind);
        Ok(())
    });
}
