//! The SAML response a federated sign-in posts back to Entra ID (`login.srf`): WS-Federation
//! (`wresult`, a `RequestSecurityTokenResponse` holding a SAML 1.1 assertion) or SAML-P
//! (`SAMLResponse`, base64 of a SAML 2.0 `Response`).
//!
//! The assertion is a credential: nothing of it is kept but the evidence a rule cites (the
//! issuer, the validity window, the claims' names, the UPN's domain, the signing
//! certificate's SHA-1 thumbprint and validity). Never a claim value but that domain, never
//! the assertion, never the signature.

use base64::Engine;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use sha1::{Digest, Sha1};

use super::xml::Tree;

/// Most bytes of a posted SAML response read (a real one is 5-15 KB).
const MAX_SAML: usize = 256 * 1024;
/// Most claim names kept.
const MAX_CLAIMS: usize = 32;
/// Most characters of an issuer or claim name kept.
const MAX_NAME: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SamlProtocol {
    /// WS-Federation: `wresult` with a SAML 1.1 assertion.
    WsFed,
    /// SAML-P: `SAMLResponse` with a SAML 2.0 assertion.
    SamlP,
}

/// The signing certificate of an assertion, by thumbprint and validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SigningCert {
    /// SHA-1 of the certificate's DER, upper-case hex (as `Get-AdfsCertificate` prints it).
    pub thumbprint: String,
    pub not_before: Option<DateTime<FixedOffset>>,
    pub not_after: Option<DateTime<FixedOffset>>,
}

/// What a posted SAML response shows, without any credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SamlEvidence {
    pub protocol: SamlProtocol,
    /// An assertion was found in the response. `false` when the value is not SAML (a
    /// redacted copy's placeholder, a cut body): every field below is then empty.
    pub readable: bool,
    /// The assertion's issuer (the IdP's issuer URI, `http://sts.contoso.com/adfs/services/trust/`).
    pub issuer: Option<String>,
    pub not_before: Option<DateTime<FixedOffset>>,
    pub not_on_or_after: Option<DateTime<FixedOffset>>,
    /// The audience the assertion is for (`urn:federation:MicrosoftOnline`).
    pub audience: Option<String>,
    /// The NameID's `Format` (SAML 2.0) or the NameIdentifier's (SAML 1.1).
    pub name_id_format: Option<String>,
    /// The NameID value has an `@` (a UPN or mail), rather than an ImmutableID.
    pub name_id_is_upn_like: bool,
    /// The claims' names (attribute names), at most [`MAX_CLAIMS`].
    pub claims: Vec<String>,
    /// The domain of the UPN claim (or of a UPN-like NameID), lower-cased.
    pub upn_domain: Option<String>,
    /// An ImmutableID claim (or a NameID that is not UPN-like) was present.
    pub has_immutable_id: bool,
    pub signing_cert: Option<SigningCert>,
}

/// The SAML response in a `login.srf` form post, if there is one: the `wresult` (WS-Fed) or
/// `SAMLResponse` (SAML-P) parameter of `form`.
pub fn from_form(form: &[u8]) -> Option<SamlEvidence> {
    for (k, v) in url::form_urlencoded::parse(form) {
        if k.eq_ignore_ascii_case("wresult") {
            return Some(read(&v, SamlProtocol::WsFed));
        }
        if k.eq_ignore_ascii_case("SAMLResponse") {
            let compact: String = v
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .take(MAX_SAML * 4 / 3 + 4)
                .collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .ok()?;
            let xml = String::from_utf8_lossy(&bytes);
            return Some(read(&xml, SamlProtocol::SamlP));
        }
    }
    None
}

fn cap(s: &str) -> String {
    s.trim().chars().take(MAX_NAME).collect()
}

fn time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s.trim()).ok()
}

/// Read the evidence from the XML of a `wresult` or a decoded `SAMLResponse`.
fn read(xml: &str, protocol: SamlProtocol) -> SamlEvidence {
    let xml = match xml.char_indices().nth(MAX_SAML) {
        Some((i, _)) => &xml[..i],
        None => xml,
    };
    let tree = Tree::parse(xml);
    let root = tree.root();
    let assertion = tree.descendant(root, "Assertion");
    let at = assertion.unwrap_or(root);
    let node_text = |i: usize| tree.node(i).map(|n| n.text.trim().to_string());
    // SAML 1.1 puts the issuer in an attribute, SAML 2.0 in an element.
    let issuer = tree
        .attr(at, "Issuer")
        .map(cap)
        .or_else(|| {
            tree.child(at, "Issuer")
                .and_then(node_text)
                .map(|s| cap(&s))
        })
        .or_else(|| {
            tree.descendant(root, "Issuer")
                .and_then(node_text)
                .map(|s| cap(&s))
        })
        .filter(|s| !s.is_empty());
    let conditions = tree.descendant(at, "Conditions");
    let when = |name: &str| conditions.and_then(|c| tree.attr(c, name)).and_then(time);
    let audience = tree
        .descendant(at, "Audience")
        .and_then(node_text)
        .map(|s| cap(&s))
        .filter(|s| !s.is_empty());
    let name_id = tree
        .descendant(at, "NameID")
        .or_else(|| tree.descendant(at, "NameIdentifier"));
    let name_id_format = name_id.and_then(|n| tree.attr(n, "Format")).map(cap);
    let name_id_value = name_id.and_then(node_text).unwrap_or_default();
    let name_id_is_upn_like = name_id_value.contains('@');

    let mut claims: Vec<String> = Vec::new();
    let mut upn_domain = None;
    let mut has_immutable_id = !name_id_value.is_empty() && !name_id_is_upn_like;
    for attr in tree.descendants(at, "Attribute") {
        // SAML 2.0: Name="http://schemas.xmlsoap.org/claims/UPN"; SAML 1.1:
        // AttributeName="UPN" AttributeNamespace="http://schemas.xmlsoap.org/claims".
        let name = match (
            tree.attr(attr, "Name"),
            tree.attr(attr, "AttributeName"),
            tree.attr(attr, "AttributeNamespace"),
        ) {
            (Some(n), _, _) => cap(n),
            (None, Some(n), Some(ns)) => cap(&format!("{}/{}", ns.trim_end_matches('/'), n)),
            (None, Some(n), None) => cap(n),
            _ => continue,
        };
        let short = name.rsplit(['/', ':']).next().unwrap_or("").to_string();
        let value = tree
            .descendant(attr, "AttributeValue")
            .and_then(node_text)
            .unwrap_or_default();
        if short.eq_ignore_ascii_case("upn") && upn_domain.is_none() {
            upn_domain = domain_of(&value);
        }
        if short.eq_ignore_ascii_case("ImmutableID") && !value.is_empty() {
            has_immutable_id = true;
        }
        if claims.len() < MAX_CLAIMS && !claims.contains(&name) {
            claims.push(name);
        }
    }
    if upn_domain.is_none() && name_id_is_upn_like {
        upn_domain = domain_of(&name_id_value);
    }
    let signing_cert = tree
        .descendant(at, "X509Certificate")
        .and_then(node_text)
        .and_then(|b64| signing_cert(&b64));
    SamlEvidence {
        protocol,
        readable: assertion.is_some(),
        issuer,
        not_before: when("NotBefore"),
        not_on_or_after: when("NotOnOrAfter"),
        audience,
        name_id_format,
        name_id_is_upn_like,
        claims,
        upn_domain,
        has_immutable_id,
        signing_cert,
    }
}

/// The domain of `user@domain`, lower-cased; `None` when it has no `@` or no domain.
pub fn domain_of(user: &str) -> Option<String> {
    let (_, d) = user.trim().rsplit_once('@')?;
    let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    ok.then_some(d)
}

/// The thumbprint and validity of a base64 DER certificate.
fn signing_cert(b64: &str) -> Option<SigningCert> {
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()?;
    if der.is_empty() {
        return None;
    }
    let digest = Sha1::digest(&der);
    let thumbprint: String = digest.iter().map(|b| format!("{b:02X}")).collect();
    let (not_before, not_after) = validity(&der).unwrap_or((None, None));
    Some(SigningCert {
        thumbprint,
        not_before,
        not_after,
    })
}

/// One DER element: (tag, content, rest). `None` on any malformed length.
fn der(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, mut b) = b.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &x in &b[..n] {
            len = (len << 8) | usize::from(x);
        }
        b = &b[n..];
        len
    };
    if b.len() < len {
        return None;
    }
    Some((tag, &b[..len], &b[len..]))
}

type Validity = (Option<DateTime<FixedOffset>>, Option<DateTime<FixedOffset>>);

/// `tbsCertificate.validity` of an X.509 certificate: a fixed walk of its first fields
/// (version, serial, signature algorithm, issuer, validity), no more.
fn validity(cert: &[u8]) -> Option<Validity> {
    let (0x30, cert, _) = der(cert)? else {
        return None;
    };
    let (0x30, tbs, _) = der(cert)? else {
        return None;
    };
    let mut rest = tbs;
    let (tag, _, r) = der(rest)?;
    if tag == 0xa0 {
        rest = r; // version
        rest = der(rest)?.2; // serial
    } else {
        rest = r; // that was the serial (v1 certificate)
    }
    rest = der(rest)?.2; // signature algorithm
    rest = der(rest)?.2; // issuer
    let (0x30, validity, _) = der(rest)? else {
        return None;
    };
    let (t1, v1, r) = der(validity)?;
    let (t2, v2, _) = der(r)?;
    Some((asn1_time(t1, v1), asn1_time(t2, v2)))
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn asn1_time(tag: u8, v: &[u8]) -> Option<DateTime<FixedOffset>> {
    let s = std::str::from_utf8(v).ok()?;
    let s = s.strip_suffix('Z')?;
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match (tag, s.len()) {
        (0x17, 12) => {
            let yy: i32 = s[..2].parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &s[2..])
        }
        (0x18, 14) => (s[..4].parse().ok()?, &s[4..]),
        _ => return None,
    };
    let n = |i: usize| rest[i..i + 2].parse::<u32>().ok();
    let date = NaiveDate::from_ymd_opt(year, n(0)?, n(2)?)?;
    let dt = date.and_hms_opt(n(4)?, n(6)?, n(8)?)?;
    Some(Utc.from_utc_datetime(&dt).fixed_offset())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A self-signed certificate's DER built by hand: only the fields [`validity`] walks are
    /// real; the rest are empty sequences.
    pub(crate) fn cert_der(not_before: &str, not_after: &str) -> Vec<u8> {
        fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
            let mut out = vec![tag];
            if content.len() < 0x80 {
                out.push(content.len() as u8);
            } else {
                out.push(0x82);
                out.push((content.len() >> 8) as u8);
                out.push(content.len() as u8);
            }
            out.extend_from_slice(content);
            out
        }
        let mut tbs = Vec::new();
        tbs.extend(tlv(0xa0, &tlv(0x02, &[2])));
        tbs.extend(tlv(0x02, &[0x1f, 0x2e]));
        tbs.extend(tlv(0x30, &[]));
        tbs.extend(tlv(0x30, &tlv(0x31, &[])));
        let mut val = tlv(0x17, not_before.as_bytes());
        val.extend(tlv(0x17, not_after.as_bytes()));
        tbs.extend(tlv(0x30, &val));
        tbs.extend(tlv(0x30, &tlv(0x31, &[])));
        let mut cert = tlv(0x30, &tbs);
        cert.extend(tlv(0x30, &[]));
        cert.extend(tlv(0x03, &[0]));
        tlv(0x30, &cert)
    }

    pub(crate) fn cert_b64(not_before: &str, not_after: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(cert_der(not_before, not_after))
    }

    /// A WS-Fed `wresult` as ADFS posts it (SAML 1.1), with `issuer`, its window and a cert.
    pub(crate) fn wresult(issuer: &str, not_before: &str, not_on_or_after: &str) -> String {
        format!(
            r#"<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust"><t:Lifetime><wsu:Created xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">{not_before}</wsu:Created></t:Lifetime><wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>urn:federation:MicrosoftOnline</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><t:RequestedSecurityToken><saml:Assertion MajorVersion="1" MinorVersion="1" AssertionID="_d1c2" Issuer="{issuer}" IssueInstant="{not_before}" xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion"><saml:Conditions NotBefore="{not_before}" NotOnOrAfter="{not_on_or_after}"><saml:AudienceRestrictionCondition><saml:Audience>urn:federation:MicrosoftOnline</saml:Audience></saml:AudienceRestrictionCondition></saml:Conditions><saml:AttributeStatement><saml:Subject><saml:NameIdentifier Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">q2Vsb0ltbXV0YWJsZUlEMTIz</saml:NameIdentifier></saml:Subject><saml:Attribute AttributeName="UPN" AttributeNamespace="http://schemas.xmlsoap.org/claims"><saml:AttributeValue>user@contoso.com</saml:AttributeValue></saml:Attribute><saml:Attribute AttributeName="ImmutableID" AttributeNamespace="http://schemas.microsoft.com/LiveID/Federation/2008/05"><saml:AttributeValue>q2Vsb0ltbXV0YWJsZUlEMTIz</saml:AttributeValue></saml:Attribute></saml:AttributeStatement><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>U0lHTkFUVVJF</ds:SignatureValue><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{}</X509Certificate></X509Data></KeyInfo></ds:Signature></saml:Assertion></t:RequestedSecurityToken></t:RequestSecurityTokenResponse>"#,
            cert_b64("250101000000Z", "271231000000Z")
        )
    }

    #[test]
    fn wsfed_wresult_yields_names_domain_window_and_thumbprint() {
        let xml = wresult(
            "http://sts.contoso.com/adfs/services/trust/",
            "2026-11-20T07:00:00.000Z",
            "2026-11-20T08:00:00.000Z",
        );
        let form = format!(
            "wa=wsignin1.0&wresult={}&wctx=LoginOptions%3D3",
            url::form_urlencoded::byte_serialize(xml.as_bytes()).collect::<String>()
        );
        let e = from_form(form.as_bytes()).expect("evidence");
        assert_eq!(e.protocol, SamlProtocol::WsFed);
        assert!(e.readable);
        assert_eq!(
            e.issuer.as_deref(),
            Some("http://sts.contoso.com/adfs/services/trust/")
        );
        assert_eq!(e.upn_domain.as_deref(), Some("contoso.com"));
        assert!(e.has_immutable_id && !e.name_id_is_upn_like);
        assert_eq!(
            e.claims,
            vec![
                "http://schemas.xmlsoap.org/claims/UPN",
                "http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID"
            ]
        );
        assert_eq!(
            e.audience.as_deref(),
            Some("urn:federation:MicrosoftOnline")
        );
        let c = e.signing_cert.clone().expect("a certificate");
        assert_eq!(c.thumbprint.len(), 40);
        assert_eq!(
            c.not_after.map(|t| t.to_rfc3339()).as_deref(),
            Some("2027-12-31T00:00:00+00:00")
        );
        assert!(e.not_on_or_after.is_some() && e.not_before.is_some());
        // Nothing of the assertion's values but the domain.
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert!(!json.contains("q2Vsb0lt"), "{json}");
        assert!(!json.contains("user@"), "{json}");
        assert!(!json.contains("U0lHTkFUVVJF"), "{json}");
    }

    #[test]
    fn samlp_response_is_base64() {
        let xml = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Issuer>http://www.okta.com/exk1</saml:Issuer><saml:Assertion><saml:Issuer>http://www.okta.com/exk1</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">Zm9v</saml:NameID></saml:Subject><saml:Conditions NotBefore="2026-11-20T07:00:00Z" NotOnOrAfter="2026-11-20T07:05:00Z"/><saml:AttributeStatement><saml:Attribute Name="IDPEmail"><saml:AttributeValue>u@fabrikam.com</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(xml);
        let form = format!(
            "SAMLResponse={}&RelayState=x",
            url::form_urlencoded::byte_serialize(b64.as_bytes()).collect::<String>()
        );
        let e = from_form(form.as_bytes()).expect("evidence");
        assert_eq!(e.protocol, SamlProtocol::SamlP);
        assert_eq!(e.issuer.as_deref(), Some("http://www.okta.com/exk1"));
        assert_eq!(e.claims, vec!["IDPEmail"]);
        assert_eq!(e.upn_domain, None);
        assert!(e.has_immutable_id);
        assert!(e.signing_cert.is_none());
        assert_eq!(
            e.not_on_or_after.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-20T07:05:00+00:00")
        );
    }

    #[test]
    fn hostile_input_never_panics() {
        assert!(from_form(b"a=b&c=d").is_none());
        // A redacted copy's placeholder: a response, not readable.
        let e = from_form(b"wresult=REDACTEDREDACTEDREDACTED").expect("a response");
        assert!(!e.readable && e.issuer.is_none());
        assert!(from_form(b"SAMLResponse=%%%not-base64").is_none());
        for f in [
            &b"wresult="[..],
            b"wresult=%3Cx",
            b"wresult=<a Issuer='\xff'>",
            b"SAMLResponse=PHg+",
        ] {
            let _ = from_form(f);
        }
        for b in [
            &[][..],
            &[0x30],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x02, 0x30, 0x00],
            &[0x30, 0x81],
        ] {
            assert!(validity(b).is_none(), "{b:?}");
        }
        assert!(asn1_time(0x17, b"99999999999Z").is_none());
        assert!(asn1_time(0x17, b"\xff").is_none());
        assert_eq!(domain_of("a@Contoso.COM").as_deref(), Some("contoso.com"));
        assert_eq!(domain_of("a@<x>"), None);
        assert_eq!(domain_of("nodomain"), None);
    }
}
