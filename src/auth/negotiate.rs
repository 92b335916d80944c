//! Windows authentication on the wire: the `Negotiate` and `NTLM` blobs of `Authorization`
//! and `WWW-Authenticate`, decoded just far enough to say what they are.
//!
//! A blob is either NTLM (`TlRMTVNT...`, the base64 of `NTLMSSP\0`, sent raw or inside
//! SPNEGO) or Kerberos (SPNEGO/GSS `YII...` carrying an AP-REQ under the Kerberos OID
//! 1.2.840.113554.1.2.2 or Microsoft's 1.2.840.48018.1.2.2). For NTLM the message type is
//! read (1 negotiate, 2 challenge, 3 authenticate) and, from a challenge, the server's
//! target name and the NetBIOS / DNS domain and DNS computer name of its target info (AV
//! pairs); from an authenticate message, the domain the client named, the length of the
//! user name and the length of the NT response (24 bytes is NTLMv1).
//!
//! What is never kept: the blob itself, the server challenge, the LM/NT responses, the
//! session key, the workstation name and the user name (personal data: only its length
//! is kept, enough to tell an anonymous or empty logon from a named one). The domain is
//! the organisation's, not a person's, and it is what an analyst compares with the
//! server's. Everything is capped: the blob (64 KiB of base64), every string (256
//! characters, control characters dropped), every offset checked against the buffer.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde::Serialize;

use super::target::Target;
use crate::capture::Session;

/// Longest blob decoded, in base64 characters. A Kerberos ticket with a large PAC is a few
/// KiB; anything longer is not a blob an analyst needs read.
const MAX_BLOB: usize = 64 * 1024;
/// Longest string kept from a blob, in characters.
const MAX_TEXT: usize = 256;

const NTLMSSP: &[u8] = b"NTLMSSP\0";
/// DER of OID 1.2.840.113554.1.2.2 (Kerberos 5).
const OID_KRB5: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
];
/// DER of OID 1.2.840.48018.1.2.2 (Microsoft's Kerberos 5).
const OID_MS_KRB5: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
];
/// DER of OID 1.3.6.1.4.1.311.2.2.10 (NTLMSSP).
const OID_NTLM: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
];

/// What a blob carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    Kerberos,
    Ntlm,
    /// SPNEGO without a token that names its mechanism (a bare `negState`), or bytes that
    /// are neither.
    Unknown,
}

/// An NTLM message, by type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NtlmMessage {
    /// Type 1: the client opens the handshake.
    Negotiate,
    /// Type 2: the server's challenge, with the names it gives of itself.
    Challenge {
        target_name: Option<String>,
        netbios_domain: Option<String>,
        dns_domain: Option<String>,
        dns_computer: Option<String>,
    },
    /// Type 3: the client's answer. The user name's length only; never the responses.
    Authenticate {
        domain: Option<String>,
        /// Characters of the user name (0: anonymous).
        user_name_len: usize,
        /// Bytes of the NT response: 24 is NTLMv1, 0 anonymous, more NTLMv2.
        nt_response_len: usize,
    },
    /// A type this reader does not know, or a message cut short.
    Other { message_type: u32 },
}

/// One decoded blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blob {
    pub mechanism: Mechanism,
    /// Wrapped in SPNEGO / GSS-API (`Negotiate`), not raw NTLM.
    pub spnego: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ntlm: Option<NtlmMessage>,
}

impl Blob {
    /// NTLM message type 1, 2 or 3, when the blob is NTLM.
    pub fn ntlm_type(&self) -> Option<u32> {
        Some(match self.ntlm.as_ref()? {
            NtlmMessage::Negotiate => 1,
            NtlmMessage::Challenge { .. } => 2,
            NtlmMessage::Authenticate { .. } => 3,
            NtlmMessage::Other { message_type } => *message_type,
        })
    }

    /// A few words for evidence: `Kerberos (SPNEGO)`, `NTLM type 3 inside Negotiate`.
    pub fn describe(&self) -> String {
        match (self.mechanism, self.ntlm_type()) {
            (Mechanism::Ntlm, Some(t)) if self.spnego => format!("NTLM type {t} inside Negotiate"),
            (Mechanism::Ntlm, Some(t)) => format!("NTLM type {t}"),
            (Mechanism::Ntlm, None) => "NTLM (SPNEGO)".into(),
            (Mechanism::Kerberos, _) => "Kerberos (SPNEGO)".into(),
            (Mechanism::Unknown, _) => "an unreadable token".into(),
        }
    }
}

/// Which header scheme carried a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    Negotiate,
    Ntlm,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Negotiate => "Negotiate",
            Scheme::Ntlm => "NTLM",
        }
    }
}

/// A blob with the scheme it was sent under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    pub scheme: Scheme,
    pub blob: Blob,
}

/// The Windows authentication of one session: what the client sent, what the server
/// answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowsAuth {
    pub session: u64,
    pub url: String,
    /// Lower-cased host of `url`.
    pub host: String,
    pub status: Option<u16>,
    pub process: Option<String>,
    /// `Authorization: Negotiate|NTLM <blob>`, decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<Token>,
    /// `WWW-Authenticate: Negotiate|NTLM <blob>` (a continuation), decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered: Option<Token>,
}

/// The Windows authentication in `session`, when its request or response carries a
/// Negotiate or NTLM blob. A bare `WWW-Authenticate: NTLM` offer is no blob: that is the
/// challenge's.
pub fn windows_auth(session: &Session) -> Option<WindowsAuth> {
    windows_auth_at(&Target::of(session))
}

/// [`windows_auth`] of a session whose URL and host are read.
pub fn windows_auth_at(target: &Target) -> Option<WindowsAuth> {
    let session = target.session;
    let sent = session
        .request
        .headers
        .get_all("authorization")
        .find_map(token_of);
    let answered = session
        .response
        .as_ref()
        .and_then(|r| r.headers.get_all("www-authenticate").find_map(token_of));
    if sent.is_none() && answered.is_none() {
        return None;
    }
    Some(WindowsAuth {
        session: session.id,
        url: session.request.url.clone(),
        host: target.host_or_empty().to_string(),
        status: session.response.as_ref().map(|r| r.status),
        process: session.process.clone(),
        sent,
        answered,
    })
}

/// `Negotiate <blob>` or `NTLM <blob>` (one header value), decoded.
pub fn token_of(value: &str) -> Option<Token> {
    let value = value.trim();
    let (name, rest) = value.split_once([' ', '\t'])?;
    let scheme = if name.eq_ignore_ascii_case("Negotiate") {
        Scheme::Negotiate
    } else if name.eq_ignore_ascii_case("NTLM") {
        Scheme::Ntlm
    } else {
        return None;
    };
    let blob = rest.trim();
    // A comma ends a token68: what follows is another scheme of a folded header.
    let blob = blob.split(',').next().unwrap_or("").trim();
    if blob.is_empty() {
        return None;
    }
    Some(Token {
        scheme,
        blob: decode(blob)?,
    })
}

const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A base64 blob, decoded and read. `None` when it is not base64 or too long.
pub fn decode(blob: &str) -> Option<Blob> {
    if blob.len() > MAX_BLOB {
        return None;
    }
    let bytes = B64.decode(blob.as_bytes()).ok()?;
    Some(read(&bytes))
}

/// Read the bytes of a blob (already base64-decoded).
pub fn read(bytes: &[u8]) -> Blob {
    if bytes.starts_with(NTLMSSP) {
        return Blob {
            mechanism: Mechanism::Ntlm,
            spnego: false,
            ntlm: Some(ntlm(bytes)),
        };
    }
    // GSS-API InitialContextToken ([APPLICATION 0], 0x60), SPNEGO negTokenInit ([0], 0xa0)
    // or negTokenResp ([1], 0xa1).
    let gss = matches!(bytes.first(), Some(0x60 | 0xa0 | 0xa1));
    if !gss {
        return Blob {
            mechanism: Mechanism::Unknown,
            spnego: false,
            ntlm: None,
        };
    }
    // The mechanism token decides: an NTLM message inside, else a Kerberos OID (a
    // Kerberos negTokenInit lists NTLM's OID among its mechTypes too), else NTLM's OID
    // alone (a negTokenResp naming NTLM as supportedMech).
    if let Some(at) = find(bytes, NTLMSSP) {
        return Blob {
            mechanism: Mechanism::Ntlm,
            spnego: true,
            ntlm: Some(ntlm(&bytes[at..])),
        };
    }
    let mechanism = if find(bytes, OID_KRB5).is_some() || find(bytes, OID_MS_KRB5).is_some() {
        Mechanism::Kerberos
    } else if find(bytes, OID_NTLM).is_some() {
        Mechanism::Ntlm
    } else {
        Mechanism::Unknown
    };
    Blob {
        mechanism,
        spnego: true,
        ntlm: None,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The bytes a `(len u16, maxlen u16, offset u32)` field names, when inside `b`.
fn field(b: &[u8], at: usize) -> Option<&[u8]> {
    let len = usize::from(u16_at(b, at)?);
    let offset = usize::try_from(u32_at(b, at + 4)?).ok()?;
    b.get(offset..offset.checked_add(len)?)
}

/// NTLMSSP_NEGOTIATE_UNICODE.
const UNICODE: u32 = 0x0000_0001;

fn ntlm(b: &[u8]) -> NtlmMessage {
    let Some(message_type) = u32_at(b, 8) else {
        return NtlmMessage::Other { message_type: 0 };
    };
    match message_type {
        1 => NtlmMessage::Negotiate,
        2 => {
            let flags = u32_at(b, 20).unwrap_or(UNICODE);
            let target_name = field(b, 12).and_then(|t| text(t, flags & UNICODE != 0));
            let mut out = (None, None, None);
            if let Some(info) = field(b, 40) {
                av_pairs(info, &mut out);
            }
            NtlmMessage::Challenge {
                target_name,
                netbios_domain: out.0,
                dns_domain: out.1,
                dns_computer: out.2,
            }
        }
        3 => {
            let flags = u32_at(b, 60).unwrap_or(UNICODE);
            let unicode = flags & UNICODE != 0;
            let user = field(b, 36).map_or(0, <[u8]>::len);
            NtlmMessage::Authenticate {
                domain: field(b, 28).and_then(|d| text(d, unicode)),
                user_name_len: if unicode { user / 2 } else { user },
                nt_response_len: field(b, 20).map_or(0, <[u8]>::len),
            }
        }
        t => NtlmMessage::Other { message_type: t },
    }
}

/// NetBIOS domain (AvId 2), DNS domain (4) and DNS computer name (3) of a target info
/// list; stops at `MsvAvEOL` or at a pair that runs past the end.
fn av_pairs(mut b: &[u8], out: &mut (Option<String>, Option<String>, Option<String>)) {
    // A list holds a dozen pairs; a hostile one is stopped by the buffer's end anyway.
    for _ in 0..64 {
        let (Some(id), Some(len)) = (u16_at(b, 0), u16_at(b, 2)) else {
            return;
        };
        if id == 0 {
            return;
        }
        let Some(value) = b.get(4..4 + usize::from(len)) else {
            return;
        };
        let slot = match id {
            2 => &mut out.0,
            4 => &mut out.1,
            3 => &mut out.2,
            _ => {
                b = &b[4 + usize::from(len)..];
                continue;
            }
        };
        if slot.is_none() {
            *slot = text(value, true);
        }
        b = &b[4 + usize::from(len)..];
    }
}

/// UTF-16LE or OEM (taken as Latin-1) text, control characters dropped, capped; `None`
/// when empty.
fn text(b: &[u8], unicode: bool) -> Option<String> {
    let chars: Box<dyn Iterator<Item = char>> = if unicode {
        Box::new(
            char::decode_utf16(b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])))
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)),
        )
    } else {
        Box::new(b.iter().map(|&c| char::from(c)))
    };
    let s: String = chars.filter(|c| !c.is_control()).take(MAX_TEXT).collect();
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
pub(crate) mod testkit {
    //! Blobs built the way Windows builds them, for the tests of this module and of the
    //! rules: base64 text, never a real credential.

    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn put_field(out: &mut [u8], at: usize, len: usize, offset: usize) {
        out[at..at + 2].copy_from_slice(&(len as u16).to_le_bytes());
        out[at + 2..at + 4].copy_from_slice(&(len as u16).to_le_bytes());
        out[at + 4..at + 8].copy_from_slice(&(offset as u32).to_le_bytes());
    }

    /// NTLM type 1 (raw bytes).
    pub fn ntlm1() -> Vec<u8> {
        let mut b = b"NTLMSSP\0".to_vec();
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&0xe208_8297u32.to_le_bytes());
        b.extend_from_slice(&[0; 16]);
        b
    }

    /// NTLM type 2 with a target name and target info naming `netbios` / `dns`.
    pub fn ntlm2(netbios: &str, dns: &str, computer: &str) -> Vec<u8> {
        let mut head = vec![0u8; 56];
        head[..8].copy_from_slice(b"NTLMSSP\0");
        head[8..12].copy_from_slice(&2u32.to_le_bytes());
        head[20..24].copy_from_slice(&0xe28a_8215u32.to_le_bytes());
        head[24..32].copy_from_slice(b"CHALLNGE");
        let target = utf16(netbios);
        let mut info = Vec::new();
        for (id, v) in [(2u16, netbios), (1, "EXCH01"), (4, dns), (3, computer)] {
            let v = utf16(v);
            info.extend_from_slice(&id.to_le_bytes());
            info.extend_from_slice(&(v.len() as u16).to_le_bytes());
            info.extend_from_slice(&v);
        }
        info.extend_from_slice(&7u16.to_le_bytes());
        info.extend_from_slice(&8u16.to_le_bytes());
        info.extend_from_slice(&[0x11; 8]);
        info.extend_from_slice(&[0, 0, 0, 0]);
        put_field(&mut head, 12, target.len(), 56);
        put_field(&mut head, 40, info.len(), 56 + target.len());
        head.extend_from_slice(&target);
        head.extend_from_slice(&info);
        head
    }

    /// NTLM type 3 from `domain\user` with an NTLMv2 response of `nt_len` bytes.
    pub fn ntlm3(domain: &str, user: &str, nt_len: usize) -> Vec<u8> {
        let mut head = vec![0u8; 72];
        head[..8].copy_from_slice(b"NTLMSSP\0");
        head[8..12].copy_from_slice(&3u32.to_le_bytes());
        head[60..64].copy_from_slice(&0xe288_8215u32.to_le_bytes());
        let lm = vec![0x4c; 24];
        let nt = vec![0x4e; nt_len];
        let d = utf16(domain);
        let u = utf16(user);
        let w = utf16("WKS-0042");
        let mut at = 72;
        let mut body = Vec::new();
        for (field, bytes) in [(12, &lm), (20, &nt), (28, &d), (36, &u), (44, &w)] {
            put_field(&mut head, field, bytes.len(), at);
            body.extend_from_slice(bytes);
            at += bytes.len();
        }
        head.extend_from_slice(&body);
        head
    }

    /// DER length octets.
    fn len(n: usize) -> Vec<u8> {
        if n < 0x80 {
            vec![n as u8]
        } else if n < 0x100 {
            vec![0x81, n as u8]
        } else {
            vec![0x82, (n >> 8) as u8, n as u8]
        }
    }

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend(len(content.len()));
        v.extend_from_slice(content);
        v
    }

    const SPNEGO: &[u8] = &[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];

    /// A SPNEGO negTokenInit (`YII...`/`YH...`) listing `mechs` and carrying `token`.
    pub fn spnego_init(mechs: &[&[u8]], token: &[u8]) -> Vec<u8> {
        let types: Vec<u8> = mechs.concat();
        let mut init = tlv(0xa0, &tlv(0x30, &types));
        init.extend(tlv(0xa2, &tlv(0x04, token)));
        let mut inner = SPNEGO.to_vec();
        inner.extend(tlv(0xa0, &tlv(0x30, &init)));
        tlv(0x60, &inner)
    }

    /// A SPNEGO negTokenResp (`oY...`) naming `mech` and carrying `token`.
    pub fn spnego_resp(mech: &[u8], token: &[u8]) -> Vec<u8> {
        let mut resp = tlv(0xa0, &tlv(0x0a, &[1]));
        resp.extend(tlv(0xa1, mech));
        if !token.is_empty() {
            resp.extend(tlv(0xa2, &tlv(0x04, token)));
        }
        tlv(0xa1, &tlv(0x30, &resp))
    }

    /// A Kerberos AP-REQ shaped token (GSS header with the KRB5 OID, then opaque bytes).
    pub fn krb5_ap_req() -> Vec<u8> {
        let mut inner = super::OID_KRB5.to_vec();
        inner.extend_from_slice(&[0x01, 0x00]);
        inner.extend(tlv(0x6e, &[0x30, 0x82, 0x01, 0x00].repeat(400)));
        tlv(0x60, &inner)
    }

    /// A Kerberos Negotiate blob as Windows sends it: SPNEGO listing MS KRB5, KRB5,
    /// NEGOEX and NTLM, carrying an AP-REQ.
    pub fn kerberos() -> String {
        STANDARD.encode(spnego_init(
            &[super::OID_MS_KRB5, super::OID_KRB5, super::OID_NTLM],
            &krb5_ap_req(),
        ))
    }

    /// NTLM inside SPNEGO, as Windows sends it when Kerberos is not possible.
    pub fn spnego_ntlm(ntlm: &[u8]) -> String {
        STANDARD.encode(spnego_init(&[super::OID_NTLM], ntlm))
    }

    pub fn b64(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use crate::capture::testkit::S;

    #[test]
    fn raw_ntlm_messages_by_type() {
        let one = decode(&b64(&ntlm1())).expect("a blob");
        assert!(b64(&ntlm1()).starts_with("TlRMTVNTUAAB"));
        assert_eq!(
            (one.mechanism, one.spnego, one.ntlm_type()),
            (Mechanism::Ntlm, false, Some(1))
        );
        let two =
            decode(&b64(&ntlm2("CONTOSO", "contoso.com", "exch01.contoso.com"))).expect("a blob");
        assert_eq!(
            two.ntlm,
            Some(NtlmMessage::Challenge {
                target_name: Some("CONTOSO".into()),
                netbios_domain: Some("CONTOSO".into()),
                dns_domain: Some("contoso.com".into()),
                dns_computer: Some("exch01.contoso.com".into()),
            })
        );
        let three = decode(&b64(&ntlm3("CONTOSO", "jdoe", 320))).expect("a blob");
        assert_eq!(
            three.ntlm,
            Some(NtlmMessage::Authenticate {
                domain: Some("CONTOSO".into()),
                user_name_len: 4,
                nt_response_len: 320,
            })
        );
        // Neither the user name, the workstation nor the responses survive.
        let dump = format!(
            "{three:?}{}",
            serde_json::to_string(&three).unwrap_or_default()
        );
        for secret in ["jdoe", "WKS-0042", "NNNN", "LLLL"] {
            assert!(!dump.contains(secret), "{dump}");
        }
        let dump = format!("{two:?}");
        assert!(!dump.contains("CHALLNGE"), "{dump}");
    }

    #[test]
    fn spnego_tells_kerberos_from_ntlm() {
        let krb = kerberos();
        assert!(krb.starts_with("YII"), "{krb}");
        let k = decode(&krb).expect("a blob");
        assert_eq!(
            (k.mechanism, k.spnego, k.ntlm_type()),
            (Mechanism::Kerberos, true, None)
        );
        assert_eq!(k.describe(), "Kerberos (SPNEGO)");
        let n = decode(&spnego_ntlm(&ntlm1())).expect("a blob");
        assert_eq!(
            (n.mechanism, n.spnego, n.ntlm_type()),
            (Mechanism::Ntlm, true, Some(1))
        );
        assert_eq!(n.describe(), "NTLM type 1 inside Negotiate");
        // A server's negTokenResp carrying the NTLM challenge, and one naming Kerberos.
        let resp = b64(&spnego_resp(
            OID_NTLM,
            &ntlm2("CONTOSO", "contoso.com", "x"),
        ));
        assert!(resp.starts_with("oY"), "{resp}");
        let r = decode(&resp).expect("a blob");
        assert_eq!(r.ntlm_type(), Some(2));
        let r = decode(&b64(&spnego_resp(OID_MS_KRB5, &[0x6f, 0x02, 0, 0]))).expect("a blob");
        assert_eq!(r.mechanism, Mechanism::Kerberos);
        let r = decode(&b64(&spnego_resp(&[], &[]))).expect("a blob");
        assert_eq!(r.mechanism, Mechanism::Unknown);
    }

    #[test]
    fn headers_and_sessions() {
        assert_eq!(token_of("NTLM"), None);
        assert_eq!(token_of("Negotiate"), None);
        assert_eq!(token_of("Bearer eyJ0eXAi"), None);
        assert_eq!(token_of("NTLM !!!"), None);
        let t = token_of(&format!("negotiate {}", b64(&ntlm1()))).expect("a token");
        assert_eq!((t.scheme, t.blob.ntlm_type()), (Scheme::Negotiate, Some(1)));
        let s = S::new(3, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401)
            .req_header("Authorization", &format!("NTLM {}", b64(&ntlm1())))
            .resp_header(
                "WWW-Authenticate",
                &format!("NTLM {}", b64(&ntlm2("CONTOSO", "contoso.com", "x"))),
            )
            .0;
        let w = windows_auth(&s).expect("windows auth");
        assert_eq!(w.host, "mail.contoso.com");
        assert_eq!(w.sent.map(|t| t.blob.ntlm_type()), Some(Some(1)));
        assert_eq!(w.answered.map(|t| t.blob.ntlm_type()), Some(Some(2)));
        let offer = S::new(4, "GET", "https://mail.contoso.com/owa/", 401)
            .offers(&["Negotiate", "NTLM"])
            .0;
        assert_eq!(windows_auth(&offer), None);
    }

    #[test]
    fn cut_and_lying_messages_do_not_panic() {
        let mut two = ntlm2("CONTOSO", "contoso.com", "x");
        // Offsets past the end, lengths past the end, a cut AV list.
        for cut in [9, 12, 20, 44, 56, 60, two.len() - 3] {
            let _ = read(&two[..cut]);
        }
        two[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            read(&two).ntlm,
            Some(NtlmMessage::Challenge {
                netbios_domain: None,
                ..
            })
        ));
        let mut three = ntlm3("CONTOSO", "jdoe", 24);
        three[32..36].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        assert!(matches!(
            read(&three).ntlm,
            Some(NtlmMessage::Authenticate {
                domain: None,
                nt_response_len: 24,
                ..
            })
        ));
        assert_eq!(decode(&"A".repeat(MAX_BLOB + 4)), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..600)) {
            let _ = read(&bytes);
            let mut ntlm = b"NTLMSSP\0".to_vec();
            ntlm.extend_from_slice(&bytes);
            let blob = read(&ntlm);
            proptest::prop_assert_eq!(blob.mechanism, Mechanism::Ntlm);
            let mut gss = vec![0x60];
            gss.extend_from_slice(&bytes);
            let _ = read(&gss);
        }

        #[test]
        fn arbitrary_header_values_never_panic(v in ".{0,300}") {
            let _ = token_of(&v);
            let _ = token_of(&format!("NTLM {v}"));
            let _ = token_of(&format!("Negotiate {v}"));
        }
    }
}
