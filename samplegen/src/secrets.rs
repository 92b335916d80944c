//! Every secret the samples carry: recognisable, unique, fixed strings, and JWTs built from
//! readable claims with a planted signature.
//!
//! Secret values use only `[A-Za-z0-9_.-]` where the format allows, so they appear literally in
//! URL-encoded form bodies and query strings too. Values that cannot (Basic credentials, NTLM
//! blobs, the SAML response) are listed as they appear on the wire.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use crate::json::J;

// --- JWT signatures (the only part of a JWT that is secret; the claims may be shown) ---

/// Signature of the access token Entra issues in `healthy-token-issued`.
pub const SIG_OUTLOOK_AT: &str =
    "SECRET-SIG-outlook-at-VfpaS55ypjWRdDiobbTy8yr51aLPTsCzjWoKp0BC8gbNPgRL8naBt1fuLqzOarZH";
/// Signature of the id_token Entra issues.
pub const SIG_ID_TOKEN: &str =
    "SECRET-SIG-id-token-FjwUpv4fHSrmGqLBLR82TofIaOlkUppYq1RihnoJgJ9LE0J9Nxz1kHfFeDrKpkdVbc";
/// Signature of WAM's `request=` JWT.
pub const SIG_WAM_REQUEST: &str =
    "SECRET-SIG-wam-request-8tFemVET6CgMDZjnnsmfUnj4oUrBac6cQNJGXOju0BvGv9ocVhfY5BCyTmyKzkR";
/// Signature of the wrong-audience token in `exchange-oauth-2000003`.
pub const SIG_WRONG_AUDIENCE: &str =
    "SECRET-SIG-wrong-audience-MsI7SqIl78KCg1lZefLtipfFssRsCQG92d2afDVqRpedtXVvkCtRXgs98cxl";
/// Signature of the Teams back end's EWS token (delegate scenarios).
pub const SIG_TEAMS_EWS: &str =
    "SECRET-SIG-teams-ews-WRaVVyYNxzUEPRAKna2UaUstQo61sbZGw0UbvP9lx5xTZR4qxV03rIzU8wPsh0Z9o";
/// Signature of the token in `bearer-only-healthy`.
pub const SIG_BEARER_ONLY: &str =
    "SECRET-SIG-bearer-only-SQ7qPCOoPJFkFcucTRIUbYUZaKCtzlPaLwLyiPksYGBkGOSN3XV1ABtAJqnzGvR";
/// Signature of Exchange Online's IntraOrganizationConnector token.
pub const SIG_IOC: &str =
    "SECRET-SIG-ioc-oH6kdL1dyMsKmqYOCpMBOhPK6gos0K6UaDlpwKNqqFB1hgG3H3e88hI6EfQ89DLzpqhNzOX";
/// Signature of the bearer token presented in `secrets-everywhere`.
pub const SIG_SECRETS_AT: &str =
    "SECRET-SIG-secrets-at-jYdPBKSjmen2OVD0rnLVcJSbK4mN8MQbDsoLqNXIVx30soXyqUnK2wb3qRxkwwAP";
/// Signature of the `client_assertion` JWT in `secrets-everywhere`.
pub const SIG_CLIENT_ASSERTION: &str =
    "SECRET-SIG-client-assertion-0G3QtLazKk2v33v2OKGHzRPAGtl8gcizTsIX4uzbB8A2VeS81y3ODYG9Y2";
/// Signature of the access token issued in a JSON response in `secrets-everywhere`.
pub const SIG_SECRETS_ISSUED_AT: &str =
    "SECRET-SIG-secrets-issued-at-8vml6NwVcVPQ2lsrbcTDeQDS7XUIaIvfpE4KHWOs4VYqQIpKG1QlWaUOE";

/// Signature of the hourly access tokens Outlook is issued (and later presents, expired) in
/// `healthy-workday`, `mfa-step-up` and the noise layer.
pub const SIG_HOURLY_AT: &str =
    "SECRET-SIG-hourly-at-Qm3vT8xKp2LdW9sYc4NfRb7HjZ1uAe6GiO0kXyEwPt5VnM8rDq2SlBh4JcUo7F";
/// Signature of background tokens (Office, Graph, Teams) issued without a challenge.
pub const SIG_BACKGROUND_AT: &str =
    "SECRET-SIG-background-at-Ld8Wq2ZrY6tKc1PxV9mHs4Bn7JgE3uRf0TaOiN5yXkCw2QeSpDl8MvGh6";
/// Signature of the tokens Outlook on the web (MSAL.js) is issued in `owa-web-healthy`.
pub const SIG_OWA_AT: &str =
    "SECRET-SIG-owa-at-Vr5Nc8Jx2KtP7wQm4ZbL1sHd9FgY6eUa3RiO0TkXyCv8BnMq2WpSj5Ez7Gl4Dh";

// --- refresh tokens, codes, cookies, passwords ---

/// Outlook's multi-resource refresh token, sent on silent retries.
pub const RT_OUTLOOK_MRRT: &str = "SECRET-RT-outlook-mrrt-Dz9quS2wBOSGfagtjltQd2Ky";
/// Refresh token Entra issues in `healthy-token-issued`.
pub const RT_ISSUED: &str = "SECRET-RT-issued-lMQwpBIU4pGnJXPwydctQHS9";
/// Teams' refresh token (MSAL, v2 endpoint) in `healthy-workday`.
pub const RT_TEAMS: &str = "SECRET-RT-teams-Hq7Xw2LmZ9cVb4NsK8tYp3Rd";
/// Outlook on the web's SPA refresh token (MSAL.js) in `owa-web-healthy`.
pub const RT_SPA: &str = "SECRET-RT-spa-Gz5Kc9WvQ2mLx7BtN4rHy8Ps";
/// Refresh token inside WAM's `request=` JWT claims. A claim, so NOT in [`PLANTED_SECRETS`]
/// (claims may be shown); listed in [`JWT_CLAIM_SECRETS`].
pub const RT_WAM_CLAIM: &str = "SECRET-RT-wam-9aT8MZTCR5nqCX53Zcsi4ChK";
/// Refresh token in form posts and JSON in `secrets-everywhere`.
pub const RT_SECRETS: &str = "SECRET-RT-secrets-dEJXvFMUrEp66MOXEtm4eBX2";
/// Authorization codes, one per interactive attempt (reused round-robin).
pub const AUTH_CODES: [&str; 4] = [
    "SECRET-AUTHCODE-1-DGwg4phcBMVstz4hbXKGzrdt",
    "SECRET-AUTHCODE-2-C8Ui3cQIIkuWsa6hkWumZTul",
    "SECRET-AUTHCODE-3-3HIuykv4hKwYCyU9bvSgXjfR",
    "SECRET-AUTHCODE-4-ugRtFvmi5rWx2sNUlscjSBj7",
];
/// `ESTSAUTH` session cookie.
pub const COOKIE_ESTSAUTH: &str = "SECRET-ESTSAUTH-bbeZGdgddDbNUg9gJR8SnWNO";
/// `ESTSAUTHPERSISTENT` cookie.
pub const COOKIE_ESTSAUTHPERSISTENT: &str = "SECRET-ESTSAUTHPERSISTENT-JhOJxNcloAmjafUlrp5fDAhA";
/// `buid` cookie.
pub const COOKIE_BUID: &str = "SECRET-buid-FmhlVdFtIGWT7SYluUZqkHPK";
/// `fpc` cookie (set on every Entra answer).
pub const COOKIE_FPC: &str = "SECRET-fpc-dt8IyJTy9CgvocxfsbixOIl7";
/// Exchange's `X-BackEndCookie`.
pub const COOKIE_X_BACKEND: &str = "SECRET-X-BackEndCookie-rDXiUDXRnTlfvo2q0jPHvotD";
/// ADFS `MSISAuth` cookie.
pub const COOKIE_MSISAUTH: &str = "SECRET-MSISAuth-bxb1OHSW2A2CqMhXfVql09Ye";
/// OWA `X-OWA-CANARY` cookie.
pub const COOKIE_OWA_CANARY: &str = "SECRET-OWA-canary-fTK7mSJBESfLG9zfkjkBqQTI";
/// The password inside [`BASIC_CREDENTIAL`].
pub const PASSWORD_BASIC: &str = "SECRET-Passw0rd-basic";
/// `base64("user@contoso.com:SECRET-Passw0rd-basic")`, the value after `Basic `.
pub const BASIC_CREDENTIAL: &str = "dXNlckBjb250b3NvLmNvbTpTRUNSRVQtUGFzc3cwcmQtYmFzaWM=";
/// `passwd=` in the sign-in form post.
pub const PASSWORD_FORM: &str = "SECRET-Passw0rd-form-Gh1zHOHDstXHYycy0cYD0kwM";
/// `"password":` in a JSON body.
pub const PASSWORD_JSON: &str = "SECRET-Passw0rd-json-uigdP1Yt8aIBQ88Im1UUFxCT";
/// `client_secret=` in a client-credentials post.
pub const CLIENT_SECRET: &str = "SECRET-CLIENT-SECRET-imdBZnB6ozz6e3FBfGFXLyqk";
/// The assertion marker inside an ADFS `wresult=` post.
pub const WRESULT_ASSERTION: &str = "SECRET-WRESULT-ASSERTION-Dlm6uPSSF7Vr2R5EBYA1LvA2";
/// RSA SecurID `ctfData=` value.
pub const RSA_CTFDATA: &str = "SECRET-CTFDATA-3Lif6Ur2jaZBGcxx4UKT5Tkt";
/// NTLM type-3 (authenticate) message, base64, with a planted NTLMv2 response.
pub const NTLM_AUTHENTICATE: &str = "TlRMTVNTUAADAAAAGAAYAEgAAABAAEAAYAAAAA4ADgCgAAAACAAIAK4AAAAOAA4AtgAAAAAAAADEAAAABYKIogoAYUoAAAAPAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAU0VDUkVULU5UTE12Mi1SRVNQT05TRS0B6xOdNmhXIE+okKzbQgwX/4QJjSVZBigejMB7nxu2GkU9ELoEb1UG9UMATwBOAFQATwBTAE8AdQBzAGUAcgBXAFMALQAwADAANAAyAA==";
/// The SAML response XML (its `SignatureValue` is the planted part); sent base64-encoded.
pub const SAML_RESPONSE_XML: &str = r#"<samlp:Response ID="_7c1e8f0e-0000-4000-8000-5a3d0b1c2e4f" Version="2.0" IssueInstant="2026-11-20T07:14:40.120Z" Destination="https://login.microsoftonline.com/login.srf" Consent="urn:oasis:names:tc:SAML:2.0:consent:unspecified" xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">http://sts.contoso.com/adfs/services/trust</Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success" /></samlp:Status><Assertion ID="_a1b2c3d4-0000-4000-8000-0123456789ab" IssueInstant="2026-11-20T07:14:40.120Z" Version="2.0" xmlns="urn:oasis:names:tc:SAML:2.0:assertion"><Issuer>http://sts.contoso.com/adfs/services/trust</Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>SECRET-SAML-SIGNATURE-iw3YqT7i72gaj9uUUldCG3iGEXZc5PqVKxD1n4xv</ds:SignatureValue></ds:Signature><Subject><NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">user@contoso.com</NameID></Subject></Assertion></samlp:Response>"#;
/// `SAMLResponse=` value as base64 (before URL encoding).
pub const SAML_RESPONSE_B64: &str = "PHNhbWxwOlJlc3BvbnNlIElEPSJfN2MxZThmMGUtMDAwMC00MDAwLTgwMDAtNWEzZDBiMWMyZTRmIiBWZXJzaW9uPSIyLjAiIElzc3VlSW5zdGFudD0iMjAyNi0xMS0yMFQwNzoxNDo0MC4xMjBaIiBEZXN0aW5hdGlvbj0iaHR0cHM6Ly9sb2dpbi5taWNyb3NvZnRvbmxpbmUuY29tL2xvZ2luLnNyZiIgQ29uc2VudD0idXJuOm9hc2lzOm5hbWVzOnRjOlNBTUw6Mi4wOmNvbnNlbnQ6dW5zcGVjaWZpZWQiIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoyLjA6cHJvdG9jb2wiPjxJc3N1ZXIgeG1sbnM9InVybjpvYXNpczpuYW1lczp0YzpTQU1MOjIuMDphc3NlcnRpb24iPmh0dHA6Ly9zdHMuY29udG9zby5jb20vYWRmcy9zZXJ2aWNlcy90cnVzdDwvSXNzdWVyPjxzYW1scDpTdGF0dXM+PHNhbWxwOlN0YXR1c0NvZGUgVmFsdWU9InVybjpvYXNpczpuYW1lczp0YzpTQU1MOjIuMDpzdGF0dXM6U3VjY2VzcyIgLz48L3NhbWxwOlN0YXR1cz48QXNzZXJ0aW9uIElEPSJfYTFiMmMzZDQtMDAwMC00MDAwLTgwMDAtMDEyMzQ1Njc4OWFiIiBJc3N1ZUluc3RhbnQ9IjIwMjYtMTEtMjBUMDc6MTQ6NDAuMTIwWiIgVmVyc2lvbj0iMi4wIiB4bWxucz0idXJuOm9hc2lzOm5hbWVzOnRjOlNBTUw6Mi4wOmFzc2VydGlvbiI+PElzc3Vlcj5odHRwOi8vc3RzLmNvbnRvc28uY29tL2FkZnMvc2VydmljZXMvdHJ1c3Q8L0lzc3Vlcj48ZHM6U2lnbmF0dXJlIHhtbG5zOmRzPSJodHRwOi8vd3d3LnczLm9yZy8yMDAwLzA5L3htbGRzaWcjIj48ZHM6U2lnbmF0dXJlVmFsdWU+U0VDUkVULVNBTUwtU0lHTkFUVVJFLWl3M1lxVDdpNzJnYWo5dVVVbGRDRzNpR0VYWmM1UHFWS3hEMW40eHY8L2RzOlNpZ25hdHVyZVZhbHVlPjwvZHM6U2lnbmF0dXJlPjxTdWJqZWN0PjxOYW1lSUQgRm9ybWF0PSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoxLjE6bmFtZWlkLWZvcm1hdDp1bnNwZWNpZmllZCI+dXNlckBjb250b3NvLmNvbTwvTmFtZUlEPjwvU3ViamVjdD48L0Fzc2VydGlvbj48L3NhbWxwOlJlc3BvbnNlPg==";

/// The password a legacy client sends to AD FS's WS-Trust `usernamemixed` endpoint.
pub const PASSWORD_WSTRUST: &str = "SECRET-Passw0rd-wstrust-Qm4sZp8Lr2VxT6nK";
/// The desktop SSO token Seamless SSO's autologon endpoint hands the browser.
pub const DSSO_TOKEN: &str = "SECRET-DSSO-TOKEN-h7Rk2Wq9Lb4Nz6Xc1Vt8Ys3M";
/// The ImmutableID (sourceAnchor) a federated assertion carries: an identifier, not a secret.
pub const IMMUTABLE_ID: &str = "Fz1s8KdN4kWb3M2uQ0yXzw==";

/// Every raw secret value planted anywhere in `samples/` (as it appears on the wire or in a
/// decoded body), JWT signatures included. JWT header and payload segments are not here:
/// claims may be shown. A test checks that every `SECRET-` marker in the decoded samples is
/// listed here or in [`JWT_CLAIM_SECRETS`].
pub const PLANTED_SECRETS: &[&str] = &[
    SIG_OUTLOOK_AT,
    SIG_ID_TOKEN,
    SIG_WAM_REQUEST,
    SIG_WRONG_AUDIENCE,
    SIG_TEAMS_EWS,
    SIG_BEARER_ONLY,
    SIG_IOC,
    SIG_SECRETS_AT,
    SIG_CLIENT_ASSERTION,
    SIG_SECRETS_ISSUED_AT,
    SIG_HOURLY_AT,
    SIG_BACKGROUND_AT,
    SIG_OWA_AT,
    RT_OUTLOOK_MRRT,
    RT_ISSUED,
    RT_SECRETS,
    RT_TEAMS,
    RT_SPA,
    AUTH_CODES[0],
    AUTH_CODES[1],
    AUTH_CODES[2],
    AUTH_CODES[3],
    COOKIE_ESTSAUTH,
    COOKIE_ESTSAUTHPERSISTENT,
    COOKIE_BUID,
    COOKIE_FPC,
    COOKIE_X_BACKEND,
    COOKIE_MSISAUTH,
    COOKIE_OWA_CANARY,
    PASSWORD_BASIC,
    BASIC_CREDENTIAL,
    PASSWORD_FORM,
    PASSWORD_JSON,
    CLIENT_SECRET,
    WRESULT_ASSERTION,
    RSA_CTFDATA,
    NTLM_AUTHENTICATE,
    SAML_RESPONSE_B64,
    PASSWORD_WSTRUST,
    DSSO_TOKEN,
];

/// Secret-looking values that sit inside JWT claims (WAM's `request=` JWT carries a refresh
/// token as a claim). Whether a redactor hides them is a policy choice; they are not in
/// [`PLANTED_SECRETS`].
pub const JWT_CLAIM_SECRETS: &[&str] = &[RT_WAM_CLAIM];

/// The header every planted JWT uses (RS256 with an x5t/kid like Entra's).
pub fn jwt_header() -> J {
    J::o(vec![
        ("typ", J::s("JWT")),
        ("alg", J::s("RS256")),
        ("x5t", J::s("nOo3ZDrODXEK1jKWhXslHR_KXEg")),
        ("kid", J::s("nOo3ZDrODXEK1jKWhXslHR_KXEg")),
    ])
}

/// `base64url(header).base64url(claims).signature`, signature taken as given.
pub fn jwt(claims: &J, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(jwt_header().compact()),
        URL_SAFE_NO_PAD.encode(claims.compact()),
        signature
    )
}

/// Standard base64 (for Basic credentials and binary bodies in HAR).
pub fn b64(data: &[u8]) -> String {
    STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_secrets_match_their_sources() {
        assert_eq!(
            b64(format!("user@contoso.com:{PASSWORD_BASIC}").as_bytes()),
            BASIC_CREDENTIAL
        );
        assert_eq!(b64(SAML_RESPONSE_XML.as_bytes()), SAML_RESPONSE_B64);
        let ntlm = STANDARD.decode(NTLM_AUTHENTICATE).unwrap();
        assert!(ntlm.starts_with(b"NTLMSSP\0\x03\0\0\0"));
    }

    #[test]
    fn secrets_are_unique() {
        for (i, a) in PLANTED_SECRETS.iter().enumerate() {
            for b in &PLANTED_SECRETS[i + 1..] {
                assert!(!a.contains(b) && !b.contains(a), "{a} / {b}");
            }
        }
    }

    #[test]
    fn jwt_has_three_base64url_parts() {
        let t = jwt(&J::o(vec![("aud", J::s("x"))]), SIG_OUTLOOK_AT);
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[1]).unwrap(), br#"{"aud":"x"}"#);
        assert!(parts[2]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(parts[2].len() % 4, 1);
    }
}
