//! Ordered, multi-valued HTTP headers as they stood on the wire.
//!
//! Captures keep duplicate headers (`WWW-Authenticate` repeats once per scheme, `Set-Cookie`
//! once per cookie), so a map would lose evidence. Names keep their original case for display;
//! look-ups ignore case.

use serde::Serialize;

/// Headers in capture order, duplicates kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Self {
        Headers(Vec::new())
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// Every value of `name`, in order, case-insensitively.
    pub fn get_all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Replace the value of every header for which `f` returns `Some`.
    pub fn map_values(&mut self, mut f: impl FnMut(&str, &str) -> Option<String>) {
        for (n, v) in self.0.iter_mut() {
            if let Some(new) = f(n, v) {
                *v = new;
            }
        }
    }

    /// Remove every header called `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Set `name` to `value`: replaces the first occurrence, removes the others, or appends.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
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
}

impl FromIterator<(String, String)> for Headers {
    fn from_iter<T: IntoIterator<Item = (String, String)>>(iter: T) -> Self {
        Headers(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
