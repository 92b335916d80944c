//! A tiny ordered JSON value: keys stay in the order written (as Chrome, Entra and Exchange
//! write them), with no dependence on any map's iteration order.

/// A JSON value with ordered object keys.
#[derive(Clone, Debug)]
pub enum J {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, already formatted (`12`, `0.187`, `-1`).
    Num(String),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<J>),
    /// An object, keys in order.
    Obj(Vec<(String, J)>),
}

impl J {
    /// A string value.
    pub fn s(v: impl Into<String>) -> J {
        J::Str(v.into())
    }
    /// An integer value.
    pub fn n(v: i64) -> J {
        J::Num(v.to_string())
    }
    /// A float with up to three decimals, trailing zeros removed (`12.5`, `0.187`, `3`).
    pub fn f(v: f64) -> J {
        let mut s = format!("{v:.3}");
        while s.contains('.') && (s.ends_with('0') || s.ends_with('.')) {
            s.pop();
        }
        J::Num(s)
    }
    /// An object from pairs.
    pub fn o<K: Into<String>>(pairs: Vec<(K, J)>) -> J {
        J::Obj(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Compact text, as servers send it.
    pub fn compact(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None, 0);
        out
    }

    /// Indented text (two spaces, `": "`), as `JSON.stringify(x, null, 2)` writes it.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, Some(2), 0);
        out
    }

    fn write(&self, out: &mut String, indent: Option<usize>, depth: usize) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(n) => out.push_str(n),
            J::Str(s) => out.push_str(&quote(s)),
            J::Arr(items) => {
                if items.is_empty() {
                    out.push_str("[]");
                    return;
                }
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, depth + 1);
                    v.write(out, indent, depth + 1);
                }
                newline(out, indent, depth);
                out.push(']');
            }
            J::Obj(pairs) => {
                if pairs.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, depth + 1);
                    out.push_str(&quote(k));
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    v.write(out, indent, depth + 1);
                }
                newline(out, indent, depth);
                out.push('}');
            }
        }
    }
}

fn newline(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(n) = indent {
        out.push('\n');
        for _ in 0..n * depth {
            out.push(' ');
        }
    }
}

/// A JSON string literal (serde_json's escaping: quotes, backslash, control characters).
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_parses() {
        let v = J::o(vec![
            ("z", J::n(1)),
            ("a", J::Arr(vec![J::s("x\r\n"), J::f(0.5)])),
        ]);
        assert_eq!(v.compact(), r#"{"z":1,"a":["x\r\n",0.5]}"#);
        let p: serde_json::Value = serde_json::from_str(&v.pretty()).unwrap();
        assert_eq!(p["a"][0], "x\r\n");
    }
}
