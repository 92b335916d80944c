//! Ordered, multi-valued HTTP headers as they stood on the wire.
//!
//! Captures keep duplicate headers (`WWW-Authenticate` repeats once per scheme, `Set-Cookie`
//! once per cookie), so a map would lose evidence. Names keep their original case for display;
//! look-ups ignore case.
//!
//! All names and values live in one text buffer, each header a [`Span`] of it: two
//! allocations per header list instead of two per header (reading a HAR allocated a `String`
//! for every header name and value, over half of its allocations; docs/performance.md).

use std::fmt;
use std::ops::Range;

use serde::ser::{Serialize, SerializeSeq, Serializer};

/// Headers in capture order, duplicates kept.
///
/// Equality, `Debug` and serialization see only the headers (as the `Vec<(String, String)>`
/// this was: `[["name", "value"], ...]`), never where they lie in the buffer.
#[derive(Default)]
pub struct Headers {
    /// Names and values. Bytes of a value replaced or a header removed stay until
    /// [`Headers::compact`] drops them.
    text: String,
    spans: Vec<Span>,
}

/// Where one header's name and value lie in [`Headers::text`] (byte offsets; `usize`, so no
/// length of hostile input can overflow them).
#[derive(Debug, Clone, Copy)]
struct Span {
    name: usize,
    name_end: usize,
    value: usize,
    value_end: usize,
}

impl Span {
    /// The value moved to `at` in the text.
    #[inline]
    fn set_value(&mut self, at: Range<usize>) {
        self.value = at.start;
        self.value_end = at.end;
    }

    /// Whether this header of `text` is called `name`, ignoring case: lengths compared first,
    /// bytes only then (look-ups run a few dozen times per session, over every header).
    #[inline]
    fn is_called(&self, text: &str, name: &str) -> bool {
        self.name_end - self.name == name.len()
            && text.as_bytes()[self.name..self.name_end].eq_ignore_ascii_case(name.as_bytes())
    }
}

impl Headers {
    pub fn new() -> Self {
        Headers::default()
    }

    /// Room for `headers` headers of `bytes` bytes of names and values in all.
    pub fn with_capacity(headers: usize, bytes: usize) -> Self {
        Headers {
            text: String::with_capacity(bytes),
            spans: Vec::with_capacity(headers),
        }
    }

    #[inline]
    fn name_of(&self, s: &Span) -> &str {
        &self.text[s.name..s.name_end]
    }

    #[inline]
    fn value_of(&self, s: &Span) -> &str {
        &self.text[s.value..s.value_end]
    }

    pub fn push(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) {
        let name = self.append_text(name.as_ref());
        let value = self.append_text(value.as_ref());
        self.push_spans(name, value);
    }

    /// Append `more` to the last header's value, after `sep` unless the value is empty (an
    /// obs-folded continuation line). Nothing when there is no header.
    pub(crate) fn extend_last_value(&mut self, sep: &str, more: &str) {
        let Some(&last) = self.spans.last() else {
            return;
        };
        let mut value = last.value..last.value_end;
        if value.end != self.text.len() {
            // Not at the end of the text (replaced by `set`): moved there first.
            let copy = self.text[value.clone()].to_string();
            value = self.append_text(&copy);
        }
        if !value.is_empty() {
            self.text.push_str(sep);
        }
        self.text.push_str(more);
        if let Some(last) = self.spans.last_mut() {
            last.set_value(value.start..self.text.len());
        }
        self.compact_if_wasteful();
    }

    /// Append `s` to the text without making it a header (yet): for a reader that learns
    /// only later whether a string is a header's name or value ([`Headers::push_spans`]).
    #[inline]
    pub(crate) fn append_text(&mut self, s: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(s);
        start..self.text.len()
    }

    /// What [`Headers::append_text`] appended at `at`.
    #[inline]
    pub(crate) fn text_at(&self, at: Range<usize>) -> &str {
        &self.text[at]
    }

    /// Push a header whose name and value [`Headers::append_text`] appended (ranges from
    /// anywhere else may panic on use).
    #[inline]
    pub(crate) fn push_spans(&mut self, name: Range<usize>, value: Range<usize>) {
        self.spans.push(Span {
            name: name.start,
            name_end: name.end,
            value: value.start,
            value_end: value.end,
        });
    }

    /// Every value of `name`, in order, case-insensitively.
    #[inline]
    pub fn get_all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.spans
            .iter()
            .filter(move |s| s.is_called(&self.text, name))
            .map(|s| self.value_of(s))
    }

    /// The first value of `name`, case-insensitively.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        let s = self.spans.iter().find(|s| s.is_called(&self.text, name))?;
        Some(self.value_of(s))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans
            .iter()
            .map(|s| (self.name_of(s), self.value_of(s)))
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Replace the value of every header for which `f` returns `Some`.
    pub fn map_values(&mut self, mut f: impl FnMut(&str, &str) -> Option<String>) {
        for i in 0..self.spans.len() {
            let s = self.spans[i];
            if let Some(new) = f(self.name_of(&s), self.value_of(&s)) {
                let value = self.append_text(&new);
                self.spans[i].set_value(value);
            }
        }
        self.compact_if_wasteful();
    }

    /// Remove every header called `name`.
    pub fn remove(&mut self, name: &str) {
        let text = &self.text;
        self.spans.retain(|s| !s.is_called(text, name));
        self.compact_if_wasteful();
    }

    /// Set `name` to `value`: replaces the first occurrence, removes the others, or appends.
    pub fn set(&mut self, name: &str, value: impl AsRef<str>) {
        let value = value.as_ref();
        let Some(first) = self
            .spans
            .iter()
            .position(|s| s.is_called(&self.text, name))
        else {
            self.push(name, value);
            return;
        };
        let at = self.append_text(value);
        self.spans[first].set_value(at);
        let mut i = 0;
        let text = &self.text;
        self.spans.retain(|s| {
            let keep = i <= first || !s.is_called(text, name);
            i += 1;
            keep
        });
        self.compact_if_wasteful();
    }

    /// Bytes of the text that no header uses any more.
    fn waste(&self) -> usize {
        let used: usize = self
            .spans
            .iter()
            .map(|s| (s.name_end - s.name) + (s.value_end - s.value))
            .sum();
        self.text.len() - used
    }

    /// Drop the unused bytes once they are more than half of the text (a header list
    /// rewritten again and again stays at most twice its size).
    fn compact_if_wasteful(&mut self) {
        if self.waste() * 2 > self.text.len() {
            *self = self.compact();
        }
    }

    /// The same headers in a text holding only them.
    fn compact(&self) -> Headers {
        let bytes = self.text.len() - self.waste();
        let mut out = Headers::with_capacity(self.spans.len(), bytes);
        for (name, value) in self.iter() {
            out.push(name, value);
        }
        out
    }
}

impl Clone for Headers {
    fn clone(&self) -> Self {
        self.compact()
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

impl fmt::Debug for Headers {
    /// As the derived `Debug` of the `Vec<(String, String)>` this was: `Headers([("a", "b")])`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct List<'a>(&'a Headers);
        impl fmt::Debug for List<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.iter()).finish()
            }
        }
        f.debug_tuple("Headers").field(&List(self)).finish()
    }
}

impl Serialize for Headers {
    /// As the derived form of the newtype of `Vec<(String, String)>` it was (in JSON
    /// `[["name", "value"], ...]`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Pairs<'a>(&'a Headers);
        impl Serialize for Pairs<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
                for pair in self.0.iter() {
                    seq.serialize_element(&pair)?;
                }
                seq.end()
            }
        }
        serializer.serialize_newtype_struct("Headers", &Pairs(self))
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Headers {
    fn from_iter<T: IntoIterator<Item = (N, V)>>(iter: T) -> Self {
        let mut h = Headers::new();
        for (name, value) in iter {
            h.push(name, value);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Headers {
        let mut h = Headers::new();
        h.push("WWW-Authenticate", "Bearer client_id=\"x\"");
        h.push("Server", "Microsoft-IIS/10.0");
        h.push("www-authenticate", "NTLM");
        h
    }

    #[test]
    fn lookup_ignores_case_and_keeps_every_value_in_order() {
        let h = sample();
        let all: Vec<_> = h.get_all("WWW-AUTHENTICATE").collect();
        assert_eq!(all, vec!["Bearer client_id=\"x\"", "NTLM"]);
        assert_eq!(h.get("server"), Some("Microsoft-IIS/10.0"));
        assert_eq!(h.get("x-missing"), None);
    }

    #[test]
    fn set_replaces_first_and_drops_the_rest() {
        let mut h = sample();
        h.set("www-authenticate", "Negotiate");
        assert_eq!(
            h.get_all("WWW-Authenticate").collect::<Vec<_>>(),
            vec!["Negotiate"]
        );
        assert_eq!(h.len(), 2);
        h.set("Content-Length", "5");
        assert_eq!(h.get("content-length"), Some("5"));
    }

    /// The model this type replaced, with its methods as they were.
    #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
    struct Model(Vec<(String, String)>);

    impl Model {
        fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
            self.0
                .iter()
                .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
        fn map_values(&mut self, mut f: impl FnMut(&str, &str) -> Option<String>) {
            for (n, v) in self.0.iter_mut() {
                if let Some(new) = f(n, v) {
                    *v = new;
                }
            }
        }
        fn remove(&mut self, name: &str) {
            self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
        fn set(&mut self, name: &str, value: String) {
            let mut done = false;
            self.0.retain_mut(|(n, v)| {
                if !n.eq_ignore_ascii_case(name) {
                    return true;
                }
                if done {
                    return false;
                }
                *v = value.clone();
                done = true;
                true
            });
            if !done {
                self.0.push((name.to_string(), value));
            }
        }
        fn extend_last_value(&mut self, sep: &str, more: &str) {
            if let Some((_, v)) = self.0.last_mut() {
                if !v.is_empty() {
                    v.push_str(sep);
                }
                v.push_str(more);
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(String, String),
        Set(String, String),
        Remove(String),
        /// Replace the values of the headers called this with their value plus a suffix.
        MapValues(String, String),
        Fold(String),
        Clone,
    }

    fn name() -> impl Strategy<Value = String> {
        // Few names, in varying case, so that look-ups, `set` and `remove` meet duplicates.
        prop::sample::select(vec![
            "Host",
            "host",
            "HOST",
            "Set-Cookie",
            "set-cookie",
            "X-é",
            "",
        ])
        .prop_map(String::from)
    }

    fn value() -> impl Strategy<Value = String> {
        "[a-zé=; ]{0,6}"
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (name(), value()).prop_map(|(n, v)| Op::Push(n, v)),
            2 => (name(), value()).prop_map(|(n, v)| Op::Set(n, v)),
            1 => name().prop_map(Op::Remove),
            2 => (name(), value()).prop_map(|(n, v)| Op::MapValues(n, v)),
            1 => value().prop_map(Op::Fold),
            1 => Just(Op::Clone),
        ]
    }

    fn same(h: &Headers, m: &Model) {
        let pairs: Vec<(String, String)> = h
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs, m.0);
        assert_eq!(h.len(), m.0.len());
        assert_eq!(h.is_empty(), m.0.is_empty());
        assert_eq!(
            serde_json::to_string(h).unwrap(),
            serde_json::to_string(m).unwrap()
        );
        assert_eq!(
            format!("{h:?}"),
            format!("{m:?}").replacen("Model", "Headers", 1)
        );
        for n in ["host", "SET-COOKIE", "x-é", "", "missing"] {
            assert_eq!(
                h.get_all(n).collect::<Vec<_>>(),
                m.get_all(n).collect::<Vec<_>>()
            );
            assert_eq!(h.get(n), m.get_all(n).next());
            assert_eq!(h.contains(n), m.get_all(n).next().is_some());
        }
        assert_eq!(h, &m.0.iter().cloned().collect::<Headers>());
    }

    proptest! {
        #[test]
        fn behaves_like_a_list_of_string_pairs(ops in prop::collection::vec(op(), 0..40)) {
            let mut h = Headers::new();
            let mut m = Model::default();
            for op in ops {
                match op {
                    Op::Push(n, v) => {
                        h.push(&n, &v);
                        m.0.push((n, v));
                    }
                    Op::Set(n, v) => {
                        h.set(&n, &v);
                        m.set(&n, v);
                    }
                    Op::Remove(n) => {
                        h.remove(&n);
                        m.remove(&n);
                    }
                    Op::MapValues(n, suffix) => {
                        let f = |name: &str, v: &str| {
                            name.eq_ignore_ascii_case(&n).then(|| format!("{v}{suffix}"))
                        };
                        h.map_values(f);
                        m.map_values(f);
                    }
                    Op::Fold(more) => {
                        h.extend_last_value(" ", &more);
                        m.extend_last_value(" ", &more);
                    }
                    Op::Clone => {
                        let c = h.clone();
                        prop_assert_eq!(&c, &h);
                        prop_assert!(c.waste() == 0);
                        h = c;
                    }
                }
                same(&h, &m);
                prop_assert!(h.waste() * 2 <= h.text.len() || h.text.is_empty());
            }
        }

        #[test]
        fn equality_ignores_where_the_bytes_lie(pairs in prop::collection::vec((name(), value()), 0..8)) {
            let plain: Headers = pairs.iter().cloned().collect();
            // The same headers after values were rewritten and set back.
            let mut moved = plain.clone();
            moved.map_values(|_, v| Some(format!("{v}!")));
            moved.map_values(|_, v| Some(v.trim_end_matches('!').to_string()));
            prop_assert_eq!(&plain, &moved);
            prop_assert_eq!(format!("{plain:?}"), format!("{moved:?}"));
            if let Some((n, v)) = pairs.first() {
                let mut other = plain.clone();
                other.set(n, format!("{v}x"));
                prop_assert_ne!(&plain, &other);
            }
        }
    }
}
