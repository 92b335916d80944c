//! Fiddler's per-session `raw/NN_m.xml`: session id, `BitFlags`, timers and string flags.
//!
//! ```xml
//! <Session SID="2" BitFlags="40018">
//!   <SessionTimers ClientConnected="2018-11-26T17:07:03.0112147+09:00" ... />
//!   <SessionFlags><SessionFlag N="x-processinfo" V="outlook:4242" /></SessionFlags>
//! </Session>
//! ```
//!
//! The file is optional and sometimes damaged; a bad one costs the session its metadata,
//! never the session itself.
//!
//! ## `BitFlags`: hex or decimal
//! Fiddler writes `BitFlags` as hex digits without a prefix (`40018` is
//! `IsWebSocketTunnel | ServerPipeReused | ClientPipeReused` on a websocket session of the
//! public nekoxy2 capture; `259` is `LoadedFromSAZ | ResponseStreamed | ... | IsHTTPS` on an
//! HTTPS one), while some other exporters write decimal. The rule: a `0x` prefix or any
//! `a-f` digit means hex; digits only are hex when the archive was written by Fiddler (its
//! zip comment says `Fiddler`), decimal otherwise. The caller says which via
//! [`BitFlagsRadix`].

// Capture data is hostile: no unwrap/expect outside tests (issue 8).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::session::Timers;

/// Fiddler's `SessionFlags` bits that matter here (FiddlerCore `Fiddler.SessionFlags`).
pub mod bits {
    /// The request arrived with an `https:` URL (decrypted HTTPS).
    pub const IS_HTTPS: u64 = 0x1;
    /// A CONNECT tunnel Fiddler did not decrypt.
    pub const IS_BLIND_TUNNEL: u64 = 0x1000;
    /// A CONNECT tunnel Fiddler decrypted.
    pub const IS_DECRYPTING_TUNNEL: u64 = 0x2000;
    /// A WebSocket tunnel. The value is not on the FiddlerCore page we could read; it is
    /// inferred from the public nekoxy2 websocket capture (`BitFlags="40018"` on its `101`
    /// session), so flags are also derived from the HTTP (status 101, `_w.txt`).
    pub const IS_WEBSOCKET_TUNNEL: u64 = 0x40000;
}

/// Largest `_m.xml` read; real ones are 1-3 KB.
pub const MAX_META_BYTES: u64 = 1024 * 1024;

/// How digits-only `BitFlags` are read (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitFlagsRadix {
    /// Written by Fiddler: hex.
    Fiddler,
    /// Written by something else: decimal.
    Other,
}

/// What `_m.xml` says about one session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SazMeta {
    /// `SID`; `None` when absent or not a number.
    pub sid: Option<u64>,
    /// `BitFlags`; `None` when absent or unreadable.
    pub bit_flags: Option<u64>,
    pub client_connected: Option<DateTime<FixedOffset>>,
    pub timers: Timers,
    /// `SessionFlag` name (lower-cased: Fiddler's names are case-insensitive) -> value; a
    /// repeated name keeps its last value, as Fiddler's own loader does.
    pub flags: BTreeMap<String, String>,
}

impl SazMeta {
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn has_bit(&self, bit: u64) -> bool {
        self.bit_flags.is_some_and(|b| b & bit != 0)
    }

    /// `x-processinfo`, e.g. `outlook:4242`.
    pub fn process(&self) -> Option<&str> {
        self.flag("x-processinfo").filter(|s| !s.is_empty())
    }

    pub fn client_ip(&self) -> Option<&str> {
        self.flag("x-clientip").filter(|s| !s.is_empty())
    }

    pub fn host_ip(&self) -> Option<&str> {
        self.flag("x-hostip").filter(|s| !s.is_empty())
    }

    /// The session went through decrypted HTTPS: the `IsHTTPS` bit, or the `https-client-*`
    /// / `https-server-*` flags Fiddler records for the TLS handshakes it terminated.
    pub fn is_https(&self) -> bool {
        self.has_bit(bits::IS_HTTPS)
            || self
                .flags
                .keys()
                .any(|k| k.starts_with("https-client-") || k.starts_with("https-server-"))
    }
}

/// Why `_m.xml` could not be used. Never carries the file's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    #[error("metadata file is empty")]
    Empty,
    #[error("metadata is not well-formed XML (at byte {0})")]
    Xml(u64),
    #[error("metadata has no <Session> element")]
    NoSession,
}

/// Parse `_m.xml`. Timer attributes that do not parse are left `None`.
pub fn parse(raw: &[u8], radix: BitFlagsRadix) -> Result<SazMeta, MetaError> {
    let raw = raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw);
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(MetaError::Empty);
    }
    let text = super::http::lossy(raw);
    let mut reader = Reader::from_str(&text);
    let mut meta = SazMeta::default();
    let mut seen_session = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|_| MetaError::Xml(reader.error_position()))?;
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                b"Session" => {
                    seen_session = true;
                    for (k, v) in attributes(&e) {
                        match k {
                            b"SID" => meta.sid = value(&v).trim().parse().ok(),
                            b"BitFlags" => meta.bit_flags = parse_bit_flags(&value(&v), radix),
                            _ => {}
                        }
                    }
                }
                b"SessionTimers" => {
                    for (k, v) in attributes(&e) {
                        let slot = match k {
                            b"ClientConnected" => &mut meta.client_connected,
                            b"ClientBeginRequest" => &mut meta.timers.client_begin_request,
                            b"ServerGotRequest" => &mut meta.timers.server_got_request,
                            b"ServerBeginResponse" => &mut meta.timers.server_begin_response,
                            b"ServerDoneResponse" => &mut meta.timers.server_done_response,
                            b"ClientDoneResponse" => &mut meta.timers.client_done_response,
                            _ => continue,
                        };
                        *slot = parse_time(&value(&v));
                    }
                }
                b"SessionFlag" => {
                    let mut name = None;
                    let mut flag = String::new();
                    for (k, v) in attributes(&e) {
                        match k {
                            b"N" => name = Some(value(&v).to_ascii_lowercase()),
                            b"V" => flag = value(&v).into_owned(),
                            _ => {}
                        }
                    }
                    if let Some(n) = name {
                        meta.flags.insert(n, flag);
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_session {
        return Err(MetaError::NoSession);
    }
    Ok(meta)
}

/// Attribute names (raw bytes, compared with the names looked for) with their attributes;
/// malformed attributes are skipped. Values are unescaped only for the names used
/// ([`value`]): a `SessionTimers` element has a dozen attributes and five are read.
fn attributes<'a>(
    e: &'a BytesStart<'a>,
) -> impl Iterator<Item = (&'a [u8], quick_xml::events::attributes::Attribute<'a>)> + 'a {
    let mut attributes = e.attributes();
    attributes.with_checks(false);
    attributes
        .filter_map(Result::ok)
        .map(|a| (a.key.into_inner(), a))
}

/// An attribute's value unescaped; an unknown entity leaves the value as written.
fn value<'a>(a: &'a quick_xml::events::attributes::Attribute<'a>) -> Cow<'a, str> {
    match a.unescape_value() {
        Ok(v) => v,
        Err(_) => String::from_utf8_lossy(&a.value),
    }
}

/// See the module documentation for how hex and decimal are told apart.
pub fn parse_bit_flags(v: &str, radix: BitFlagsRadix) -> Option<u64> {
    let v = v.trim();
    if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok();
    }
    if v.bytes().any(|b| matches!(b, b'a'..=b'f' | b'A'..=b'F')) {
        return u64::from_str_radix(v, 16).ok();
    }
    match radix {
        BitFlagsRadix::Fiddler => u64::from_str_radix(v, 16).ok(),
        BitFlagsRadix::Other => v.parse().ok(),
    }
}

/// A .NET round-trip time (`2026-11-20T08:14:02.1234567+01:00`, any number of fraction
/// digits). `0001-01-01...` is Fiddler's "never". A time without an offset is taken as UTC.
pub fn parse_time(v: &str) -> Option<DateTime<FixedOffset>> {
    let v = v.trim();
    if v.is_empty() || v.starts_with("0001-01-01") {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t);
    }
    let naive = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some(naive.and_utc().fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>
<Session SID=\"17\" BitFlags=\"40018\">
  <SessionTimers ClientConnected=\"2026-11-20T08:14:02.1234567+01:00\" ClientBeginRequest=\"2026-11-20T08:14:02.2234567+01:00\" ServerGotRequest=\"0001-01-01T00:00:00\" ServerBeginResponse=\"2026-11-20T08:14:03.5+01:00\" ServerDoneResponse=\"2026-11-20T08:14:03.6000000+01:00\" ClientDoneResponse=\"2026-11-20T08:14:03.7000000+01:00\" />
  <SessionFlags>
    <SessionFlag N=\"x-processinfo\" V=\"outlook:1\" />
    <SessionFlag N=\"X-ProcessInfo\" V=\"outlook:4242\" />
    <SessionFlag N=\"x-clientip\" V=\"::ffff:127.0.0.1\" />
    <SessionFlag N=\"x-hostip\" V=\"10.0.0.5\" />
    <SessionFlag N=\"ui-comments\" V=\"a &amp; b &lt;c&gt;\" />
  </SessionFlags>
</Session>";

    #[test]
    fn reads_fiddler_metadata() {
        let m = parse(SAMPLE.as_bytes(), BitFlagsRadix::Fiddler).unwrap();
        assert_eq!(m.sid, Some(17));
        assert_eq!(m.bit_flags, Some(0x40018));
        assert!(m.has_bit(bits::IS_WEBSOCKET_TUNNEL));
        assert!(!m.is_https());
        assert_eq!(m.process(), Some("outlook:4242"));
        assert_eq!(m.client_ip(), Some("::ffff:127.0.0.1"));
        assert_eq!(m.host_ip(), Some("10.0.0.5"));
        assert_eq!(m.flag("ui-comments"), Some("a & b <c>"));
        let begin = m.timers.client_begin_request.unwrap();
        assert_eq!(begin.to_rfc3339(), "2026-11-20T08:14:02.223456700+01:00");
        assert_eq!(m.timers.server_got_request, None);
        assert!(m.client_connected.is_some());
        assert!(m.timers.server_begin_response.is_some());
    }

    #[test]
    fn bit_flags_radix() {
        assert_eq!(parse_bit_flags("0x4", BitFlagsRadix::Other), Some(4));
        assert_eq!(
            parse_bit_flags("40018", BitFlagsRadix::Fiddler),
            Some(0x40018)
        );
        assert_eq!(parse_bit_flags("40018", BitFlagsRadix::Other), Some(40018));
        assert_eq!(parse_bit_flags("1a", BitFlagsRadix::Other), Some(0x1a));
        assert_eq!(parse_bit_flags("zz", BitFlagsRadix::Fiddler), None);
    }

    #[test]
    fn times_without_offset_and_never() {
        assert_eq!(parse_time("0001-01-01T00:00:00"), None);
        assert_eq!(parse_time("0001-01-01T00:00:00.0000000+01:00"), None);
        let t = parse_time("2020-08-14T03:53:05.147276").unwrap();
        assert_eq!(t.offset().local_minus_utc(), 0);
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn damaged_metadata_is_an_error() {
        assert_eq!(parse(b"", BitFlagsRadix::Fiddler), Err(MetaError::Empty));
        assert_eq!(
            parse(b"<Foo/>", BitFlagsRadix::Fiddler),
            Err(MetaError::NoSession)
        );
        assert!(matches!(
            parse(
                b"<Session SID=\"1\"><SessionFlags></Session>",
                BitFlagsRadix::Fiddler
            ),
            Err(MetaError::Xml(_))
        ));
        let m = parse(
            b"<Session SID=\"x\" BitFlags=\"?\"/>",
            BitFlagsRadix::Fiddler,
        )
        .unwrap();
        assert_eq!((m.sid, m.bit_flags), (None, None));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse(&raw, BitFlagsRadix::Fiddler);
        }

        #[test]
        fn xml_like_input_never_panics(s in "(<Session( SID=\"[0-9a-z]{0,4}\")?( BitFlags=\"[0-9a-fx]{0,6}\")?>)?(<SessionTimers [A-Za-z]{1,20}=\"[-0-9T:.+]{0,40}\" ?/?>|<SessionFlag N=\"[ -~]{0,10}\" V=\"[ -~]{0,10}\"/>|&[a-z#0-9]{0,5};?|</[A-Za-z]{0,10}>){0,10}") {
            let _ = parse(s.as_bytes(), BitFlagsRadix::Other);
        }
    }
}
