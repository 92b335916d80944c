//! A small, capped, namespace-aware XML tree for the SOAP bodies the auth parsers read.
//!
//! Built with quick-xml's `NsReader`: no DTD processing and no entity expansion beyond the
//! five predefined entities and character references (a `<!DOCTYPE>` with entity
//! definitions is ignored, so "billion laughs" cannot happen). Everything is capped (nodes,
//! depth, attributes, text per node), and a malformed document yields the tree read so far:
//! hostile input makes the tree smaller, never a panic.

use std::borrow::Cow;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Most elements kept; a GetDelegate answer with hundreds of delegates is far below it.
const MAX_NODES: usize = 50_000;
/// Deepest nesting followed; SOAP answers nest about ten deep.
const MAX_DEPTH: usize = 64;
/// Most text kept per element.
const MAX_TEXT: usize = 16 * 1024;
/// Read past [`MAX_TEXT`], so that the cut to it knows what follows (a secret it would
/// split is seen whole, up to this much past the cut).
const TEXT_SLACK: usize = 4 * 1024;
/// Most attributes kept per element.
const MAX_ATTRS: usize = 32;

#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    /// The namespace URI, when the name resolved to one.
    pub ns: Option<String>,
    /// The local name (no prefix).
    pub name: String,
    /// Attributes by local name, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Read up to [`MAX_TEXT`] plus [`TEXT_SLACK`] bytes; use [`Tree::text_at`], which cuts
    /// a longer one where it leaves no secret half shown.
    pub text: String,
    /// The text went on past what was kept.
    pub cut: bool,
    pub children: Vec<usize>,
}

/// An arena of nodes; index 0 is a synthetic document root.
#[derive(Debug, Clone)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// Parse `xml` as far as it is readable.
    pub fn parse(xml: &str) -> Tree {
        let mut nodes = vec![Node::default()];
        let mut stack: Vec<usize> = vec![0];
        // Elements below MAX_DEPTH or past MAX_NODES are skipped; count their nesting so
        // their end tags do not pop kept elements.
        let mut skipped_depth: usize = 0;
        let mut reader = NsReader::from_str(xml);
        reader.config_mut().check_end_names = false;
        while let Ok((resolved, event)) = reader.read_resolved_event() {
            let ns = match resolved {
                ResolveResult::Bound(ns) => Some(utf8_lossy(ns.as_ref())),
                _ => None,
            };
            let full = skipped_depth > 0 || stack.len() > MAX_DEPTH || nodes.len() >= MAX_NODES;
            let text: Option<String> = match event {
                Event::Start(_) if full => {
                    skipped_depth += 1;
                    None
                }
                Event::Empty(_) if full => None,
                Event::Start(e) => {
                    let idx = push_node(&mut nodes, &stack, ns, &e);
                    stack.push(idx);
                    None
                }
                Event::Empty(e) => {
                    push_node(&mut nodes, &stack, ns, &e);
                    None
                }
                Event::End(_) => {
                    if skipped_depth > 0 {
                        skipped_depth -= 1;
                    } else if stack.len() > 1 {
                        stack.pop();
                    }
                    None
                }
                Event::Text(t) => t.decode().ok().map(|s| s.into_owned()),
                Event::CData(t) => Some(utf8_lossy(&t)),
                Event::GeneralRef(r) => r.decode().ok().and_then(|n| resolve_reference(&n)),
                Event::Eof => break,
                _ => None,
            };
            if let Some(text) = text.filter(|_| skipped_depth == 0) {
                append(&mut nodes, &stack, &text);
            }
        }
        Tree { nodes }
    }

    pub fn root(&self) -> usize {
        0
    }

    pub fn node(&self, idx: usize) -> Option<&Node> {
        self.nodes.get(idx)
    }

    /// Direct children of `idx` called `local` (any namespace).
    pub fn children<'a>(&'a self, idx: usize, local: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.node(idx)
            .map(|n| n.children.as_slice())
            .unwrap_or(&[])
            .iter()
            .copied()
            .filter(move |&c| self.node(c).is_some_and(|n| n.name == local))
    }

    /// The first direct child of `idx` called `local`.
    pub fn child(&self, idx: usize, local: &str) -> Option<usize> {
        self.children(idx, local).next()
    }

    /// Every element below `idx` called `local`, in document order.
    pub fn descendants(&self, idx: usize, local: &str) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![idx];
        while let Some(i) = stack.pop() {
            let Some(n) = self.node(i) else { continue };
            if i != idx && n.name == local {
                out.push(i);
            }
            stack.extend(n.children.iter().rev().copied());
        }
        out
    }

    /// The first element below `idx` called `local`.
    pub fn descendant(&self, idx: usize, local: &str) -> Option<usize> {
        self.descendants(idx, local).into_iter().next()
    }

    /// The trimmed text of the element at the end of `path` (direct children), if not empty.
    pub fn text_at(&self, idx: usize, path: &[&str]) -> Option<String> {
        let mut at = idx;
        for step in path {
            at = self.child(at, step)?;
        }
        let node = self.node(at)?;
        let t = node.text.trim();
        // Cut blindly while reading: without the last token (it may be the first part of
        // a secret).
        let t = if node.cut {
            crate::redact::cut::after_cut(t)
        } else {
            t
        };
        // Then at most MAX_TEXT, cut where no secret is left half shown.
        let t = crate::redact::cut::prefix(t, MAX_TEXT).0.trim_end();
        (!t.is_empty()).then(|| t.to_string())
    }

    /// An attribute of `idx` by local name (case-insensitive).
    pub fn attr(&self, idx: usize, local: &str) -> Option<&str> {
        self.node(idx)?
            .attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(local))
            .map(|(_, v)| v.as_str())
    }
}

/// The local name of the first element inside the first `Body` element (pre-order, any
/// namespace), else of the document element: what [`Tree`] gives for a SOAP request's
/// operation, read without building one and stopping at the answer. An Outlook capture is
/// mostly EWS requests whose operation is all that is needed; building their trees was a
/// sixth of the instructions of an analysis. `None` when `Body` holds no element.
///
/// `body` is read as its text: UTF-8 with anything else replaced, leading BOMs left out
/// ([`body_text`]). A plain envelope is read from the bytes by [`soap_operation_scan`],
/// without that text; anything the scan is not sure of goes to the pull parser,
/// [`soap_operation_pull`], which defines the answer.
pub(crate) fn soap_operation(body: &[u8]) -> Option<String> {
    match soap_operation_scan(body) {
        Some(operation) => {
            // Fuzzing (`fuzz/`, built with debug assertions) and every debug test hold
            // the scan to the parser on whatever reaches here.
            debug_assert_eq!(
                operation,
                soap_operation_pull(&body_text(body)),
                "{:?}",
                String::from_utf8_lossy(body)
            );
            operation
        }
        None => soap_operation_pull(&body_text(body)),
    }
}

/// A request body as the XML readers take it: UTF-8 with anything else replaced (no copy
/// when it is UTF-8), leading BOMs left out.
pub(crate) fn body_text(body: &[u8]) -> Cow<'_, str> {
    match crate::capture::http::lossy(body) {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim_start_matches('\u{feff}')),
        Cow::Owned(s) => Cow::Owned(s.trim_start_matches('\u{feff}').to_string()),
    }
}

/// [`soap_operation`] by quick-xml's pull parser: the reference [`soap_operation_scan`] is
/// held to, and the answer wherever the scan is not sure.
pub(crate) fn soap_operation_pull(xml: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    let mut depth = 0usize;
    let mut body_depth: Option<usize> = None;
    let mut document: Option<String> = None;
    loop {
        let (e, opens) = match reader.read_event() {
            Ok(Event::Start(e)) => (e, true),
            Ok(Event::Empty(e)) => (e, false),
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                if body_depth == Some(depth) {
                    return None;
                }
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        let name = e.local_name();
        match body_depth {
            Some(b) if depth == b + 1 => return named(name.as_ref()),
            None if name.as_ref() == b"Body" => {
                if !opens {
                    return None;
                }
                body_depth = Some(depth);
            }
            _ => {}
        }
        if depth == 0 && document.is_none() {
            document = Some(utf8_lossy(name.as_ref()));
        }
        if opens {
            depth += 1;
        }
    }
    if body_depth.is_some() {
        return None;
    }
    document.and_then(|d| named(d.as_bytes()))
}

/// [`soap_operation`] of a plain SOAP envelope by a byte search, the pull parser's events
/// and its 6 000 instructions a request (a third of reading an EWS session) left out, and
/// the UTF-8 check of the body:
/// `Some(answer)` when the bytes are plainly an envelope whose child `Body` (any prefix)
/// opens before any other `Body` element, the answer then being the local name of the
/// first element start tag after it. `None` ("not sure": ask [`soap_operation_pull`]) for
/// anything else, so it never has to be right about odd XML: markup other than tags and a
/// leading `<?xml ...?>` declaration (comments, CDATA, DOCTYPE, other processing
/// instructions), a `&` in text, a `<` or an unbalanced quote inside a tag, a quoted `>`,
/// a name of other bytes than ASCII letters, digits, `_-.:`, a `Body` that is the
/// document element, nested deeper, self-closing or closed before an element, a second
/// document element, an end tag with nothing open, a cut tag, no `Body`.
///
/// It reads the bytes as they are: the text the parser reads differs from them only in
/// bytes of 0x80 and above (a byte that is not UTF-8 replaced by others of them, leading
/// BOMs left out), which the scan takes as text or attribute value or, in a name, leaves
/// to the parser; so its answer is the text's.
///
/// What it relies on of quick-xml 0.38 (the crate `Tree` and the pull parser use): text runs
/// to the next `<` and only a `&` in it can be an error; a tag ends at the first `>` outside
/// quotes; an element's name is its tag's bytes up to the first XML whitespace, and it is
/// self-closing when the tag's bytes end in `/`; its local name follows the first `:`; an
/// end tag closes whatever is open, its name unchecked; a `<?` runs to the first `?>`.
/// `soap_operation` asserts the two agree in debug builds, and a property test does on
/// generated documents.
fn soap_operation_scan(xml: &[u8]) -> Option<Option<String>> {
    let mut at = 0usize;
    // Open elements, as quick-xml counts them.
    let mut depth = 0usize;
    let mut seen_document = false;
    let mut in_body = false;
    loop {
        // Text up to the next markup (mostly none); a `&` could be an unclosed reference,
        // an error.
        let lt = match xml.get(at) {
            Some(b'<') => at,
            _ => at + memchr::memchr2(b'<', b'&', xml.get(at..)?)?,
        };
        if xml[lt] != b'<' {
            return None;
        }
        let tag = lt + 1;
        match *xml.get(tag)? {
            // The XML declaration, before anything else: quick-xml's `PiParser` ends it at
            // the first `>` after a `?` other than the one that opens it.
            b'?' if !seen_document && xml[tag..].starts_with(b"?xml") => {
                at = declaration_end(xml, tag + 4)? + 1;
            }
            b'?' | b'!' => return None,
            b'/' => {
                let (_, close, _) = plain_tag(xml, tag + 1)?;
                // Closing the `Body` before an element in it: an answer, but an odd one.
                if depth == 0 || in_body {
                    return None;
                }
                depth -= 1;
                at = close + 1;
            }
            _ => {
                let (name, close, opens) = plain_tag(xml, tag)?;
                if name.is_empty() {
                    return None;
                }
                // quick-xml's local name follows the first `:`.
                if in_body {
                    let local = match memchr::memchr(b':', name) {
                        Some(colon) => &name[colon + 1..],
                        None => name,
                    };
                    return Some(named(local));
                }
                let is_body = match name.strip_suffix(b"Body") {
                    Some([]) => true,
                    Some([prefix @ .., b':']) => !prefix.contains(&b':'),
                    _ => false,
                };
                match depth {
                    0 if seen_document || is_body || !opens => return None,
                    0 => seen_document = true,
                    1 if is_body => {
                        if !opens {
                            return None;
                        }
                        in_body = true;
                    }
                    _ if is_body => return None,
                    _ => {}
                }
                if opens {
                    depth += 1;
                }
                at = close + 1;
            }
        }
    }
}

/// The bytes [`soap_operation_scan`] takes as part of an element name: ASCII letters,
/// digits, `_-.:`.
const NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':');
        b += 1;
    }
    table
};

/// A plain tag whose name starts at `from` (after its `<` or `</`): its name, the index of
/// the `>` that ends it, and whether it opens an element (is not self-closing). `None`
/// unless the name is of [`NAME_BYTES`] and ends at the `>`, at a `/>` or at XML
/// whitespace, and the rest of the tag is plain ([`attributes_end`]): quick-xml then reads
/// the same name (bytes up to the first whitespace, the closing `/` left out) and ends the
/// tag at the same `>`.
fn plain_tag(xml: &[u8], from: usize) -> Option<(&[u8], usize, bool)> {
    let rest = xml.get(from..)?;
    let len = rest
        .iter()
        .position(|&b| !NAME_BYTES[usize::from(b)])
        .unwrap_or(rest.len());
    let name = &rest[..len];
    match &rest[len..] {
        [b'>', ..] => Some((name, from + len, true)),
        [b'/', b'>', ..] => Some((name, from + len + 1, false)),
        [b' ' | b'\t' | b'\r' | b'\n', ..] => {
            let close = attributes_end(xml, from + len)?;
            Some((name, close, xml[close - 1] != b'/'))
        }
        _ => None,
    }
}

/// The index of the `>` that ends the tag whose attributes start at `from`, when they are
/// plain: no `<` in them (not even quoted), quotes balanced, so the first `>` is the one
/// quick-xml ends the tag at (it skips a quoted `>`; a tag holding one is left to it).
fn attributes_end(xml: &[u8], from: usize) -> Option<usize> {
    let close = from + memchr::memchr(b'>', xml.get(from..)?)?;
    let attributes = &xml[from..close];
    // Counted in `u8`s, 255 bytes at a time, which the compiler vectorises (counted in
    // `usize`s it took ten instructions a byte, the SOAP envelope's tag ~2 000).
    let (mut double, mut single, mut lt) = (0usize, 0usize, false);
    for chunk in attributes.chunks(255) {
        let (mut d, mut s, mut l) = (0u8, 0u8, 0u8);
        for &b in chunk {
            d += u8::from(b == b'"');
            s += u8::from(b == b'\'');
            l |= u8::from(b == b'<');
        }
        double += usize::from(d);
        single += usize::from(s);
        lt |= l != 0;
    }
    // A tag mostly quotes with one kind of quote: then balanced is an even count.
    let balanced = match (double, single) {
        _ if lt => false,
        (d, 0) => d % 2 == 0,
        (0, s) => s % 2 == 0,
        _ => {
            let mut quote = None;
            for &b in attributes {
                quote = match (quote, b) {
                    (None, b'"' | b'\'') => Some(b),
                    (Some(q), c) if q == c => None,
                    (q, _) => q,
                };
            }
            quote.is_none()
        }
    };
    balanced.then_some(close)
}

/// The index of the `>` that ends an XML declaration whose bytes after `<?xml` start at
/// `from`: the first `>` after a `?`, as quick-xml's `PiParser` finds it.
fn declaration_end(xml: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let gt = from + memchr::memchr(b'>', xml.get(from..)?)?;
        if xml[gt - 1] == b'?' {
            return Some(gt);
        }
        from = gt + 1;
    }
}

/// A name as an operation: not empty, at most 100 characters (one copy, made at the end).
fn named(name: &[u8]) -> Option<String> {
    let name = crate::capture::http::lossy(name);
    let end = name.char_indices().nth(100).map_or(name.len(), |(i, _)| i);
    (!name.is_empty()).then(|| name[..end].to_string())
}

/// `String::from_utf8_lossy(b).into_owned()`, with the fast validation of `str::from_utf8`
/// for the usual valid text (the lossy path was a tenth of the instructions of an analysis).
pub(crate) fn utf8_lossy(b: &[u8]) -> String {
    crate::capture::http::lossy(b).into_owned()
}

fn push_node(nodes: &mut Vec<Node>, stack: &[usize], ns: Option<String>, e: &BytesStart) -> usize {
    let name = utf8_lossy(e.local_name().as_ref());
    let mut attrs = Vec::new();
    for attr in e.attributes().with_checks(false).flatten().take(MAX_ATTRS) {
        let key = utf8_lossy(attr.key.local_name().as_ref());
        let value = match attr.unescape_value() {
            Ok(v) => v.into_owned(),
            Err(_) => utf8_lossy(&attr.value),
        };
        attrs.push((key, value));
    }
    nodes.push(Node {
        ns,
        name,
        attrs,
        text: String::new(),
        cut: false,
        children: Vec::new(),
    });
    let idx = nodes.len() - 1;
    if let Some(parent) = stack.last().and_then(|&p| nodes.get_mut(p)) {
        parent.children.push(idx);
    }
    idx
}

fn append(nodes: &mut [Node], stack: &[usize], s: &str) {
    let Some(node) = stack.last().and_then(|&i| nodes.get_mut(i)) else {
        return;
    };
    for c in s.chars() {
        if node.text.len() + c.len_utf8() > MAX_TEXT + TEXT_SLACK {
            node.cut = true;
            break;
        }
        node.text.push(c);
    }
}

/// `amp` -> `&`, `#65` / `#x41` -> `A`; anything else (a DTD-defined entity) -> nothing.
fn resolve_reference(name: &str) -> Option<String> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).map(String::from);
    }
    resolve_predefined_entity(name).map(str::to_string)
}

#[cfg(test)]
mod cut_tests {
    use super::*;

    /// A text node longer than MAX_TEXT is cut where no secret is left half shown: here a
    /// credential that, cut blindly, would read as prose (`Bearer qwertyuiop`).
    #[test]
    fn a_long_text_is_cut_before_a_credential_it_would_split() {
        let token = "qwertyuiopasdfghjklzxcvbnmQwErTyZ9";
        let lead = "sent Bearer ";
        let pad = "y".repeat(MAX_TEXT - 10 - lead.len());
        let doc = format!("<a><m>{pad} {lead}{token} more</m></a>");
        let tree = Tree::parse(&doc);
        let root = tree.root();
        let text = tree.text_at(root, &["a", "m"]).unwrap_or_default();
        assert_eq!(text, format!("{pad} sent Bearer"));
        // Past MAX_TEXT + TEXT_SLACK the text was cut while reading: the last token goes.
        let pad = "z ".repeat(MAX_TEXT);
        let doc = format!("<a><m>{pad}</m></a>");
        let tree = Tree::parse(&doc);
        let text = tree.text_at(tree.root(), &["a", "m"]).unwrap_or_default();
        assert!(
            text.len() <= MAX_TEXT && text.ends_with('z'),
            "{}",
            text.len()
        );
    }
}

#[cfg(test)]
mod scan_tests;
