//! Shared strings for what every session repeats.
//!
//! A capture of 100 000 sessions holds the same few hosts, methods, processes, content types,
//! user agents and EWS URLs over and over. Kept as a `String` each, they were most of what
//! stays in memory per session until the report is written (docs/performance.md). An
//! [`Atom`] is a reference-counted `str`; an [`Interner`] makes equal atoms share one
//! allocation. Sessions are mapped in parallel, each atom allocated on its own; the one
//! thread that collects the results interns them, so the per-session copies live only as
//! long as one batch and no lock is taken.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// An immutable, cheaply cloned string. Reads like a `&str`; compares by content.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom(Arc<str>);

impl Atom {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether two atoms share one allocation (for tests of interning).
    pub fn ptr_eq(a: &Atom, b: &Atom) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl Deref for Atom {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Atom {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Atom {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Atom {
    fn from(s: &str) -> Self {
        Atom(Arc::from(s))
    }
}

impl From<String> for Atom {
    fn from(s: String) -> Self {
        Atom(Arc::from(s))
    }
}

impl From<&String> for Atom {
    fn from(s: &String) -> Self {
        Atom(Arc::from(s.as_str()))
    }
}

impl PartialEq<str> for Atom {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Atom {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Atom {
    fn eq(&self, other: &String) -> bool {
        &*self.0 == other.as_str()
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Atom {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Makes equal atoms share one allocation. One per analysis; not shared between threads.
///
/// Hashed with foldhash rather than std's SipHash: the collecting thread interns five
/// strings of every session (URLs of 100 bytes and more), and SipHash was half of that
/// cost. The hasher is seeded at random per set (`quality::RandomState`), so a capture
/// cannot be built to collide, and the set is capped ([`MAX_DISTINCT`]) besides.
#[derive(Debug, Default)]
pub struct Interner {
    set: HashSet<Atom, foldhash::quality::RandomState>,
}

/// Distinct values kept at most: a capture whose URLs are all different (each with its own
/// query string) would otherwise grow the set by one entry per session for no sharing.
const MAX_DISTINCT: usize = 1 << 16;

impl Interner {
    pub fn new() -> Self {
        Interner::default()
    }

    /// Replace `atom` by the interned atom of the same content, interning it if new.
    pub fn intern(&mut self, atom: &mut Atom) {
        if let Some(kept) = self.set.get(atom.as_str()) {
            if !Atom::ptr_eq(kept, atom) {
                *atom = kept.clone();
            }
        } else if self.set.len() < MAX_DISTINCT {
            self.set.insert(atom.clone());
        }
    }

    pub fn intern_opt(&mut self, atom: &mut Option<Atom>) {
        if let Some(a) = atom {
            self.intern(a);
        }
    }

    /// Distinct values interned so far.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_atoms_share_one_allocation_after_interning() {
        let mut i = Interner::new();
        let mut a = Atom::from("https://mail.contoso.com/EWS/Exchange.asmx");
        let mut b = Atom::from(String::from("https://mail.contoso.com/EWS/Exchange.asmx"));
        let mut c = Atom::from("https://mail.contoso.com/owa/");
        assert!(!Atom::ptr_eq(&a, &b));
        i.intern(&mut a);
        i.intern(&mut b);
        i.intern(&mut c);
        assert!(Atom::ptr_eq(&a, &b));
        assert!(!Atom::ptr_eq(&a, &c));
        assert_eq!(i.len(), 2);
        let mut none: Option<Atom> = None;
        i.intern_opt(&mut none);
        assert_eq!(none, None);
    }

    #[test]
    fn reads_compares_and_serializes_as_its_text() {
        let a = Atom::from("POST");
        assert_eq!(a, "POST");
        assert_eq!(a, *"POST");
        assert_eq!(a, String::from("POST"));
        assert_eq!(a.len(), 4);
        assert_eq!(format!("{a} {a:?}"), "POST \"POST\"");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"POST\"");
        assert!(a.eq_ignore_ascii_case("post"));
    }

    #[test]
    fn stops_growing_at_the_cap_and_still_returns_each_value() {
        let mut i = Interner::new();
        for n in 0..MAX_DISTINCT + 10 {
            let mut a = Atom::from(format!("https://h/{n}"));
            i.intern(&mut a);
            assert_eq!(a, format!("https://h/{n}"));
        }
        assert_eq!(i.len(), MAX_DISTINCT);
    }
}
