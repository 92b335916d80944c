//! The Windows broker (WAM, the AAD broker plug-in) error codes analysts quote from Outlook's
//! and Teams' sign-in dialogs and logs (`0xCAA70004`), behind `traceadal explain`.
//!
//! Names and meanings are the Message IDs and descriptions Microsoft publishes for
//! `WebProviderError.ErrorCode` (Windows.Security.Authentication.Web.Core); the facility
//! tells the family: `CAA2` the authorization server's OAuth error, `CAA3` an HTTP status,
//! `CAA7` and `CAA8` the network (Microsoft's MSAL team: facilities AA3, AA7 and AA8 are
//! network environment problems), `CAA5` the broker itself, `CAA9` the protocol. What each
//! says a capture should show is ours: the code is the client's summary, the capture is the
//! evidence.

use serde::Serialize;

use super::aadsts::Nature;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WamCode {
    pub code: u32,
    /// Microsoft's Message ID (`ERROR_INET_RESOURCE_NOT_FOUND`).
    pub name: &'static str,
    /// One line: what it means.
    pub summary: &'static str,
    pub nature: Nature,
    /// What to look for in a capture of the failure.
    pub capture: &'static str,
    /// What to do.
    pub advice: &'static str,
}

const fn w(
    code: u32,
    name: &'static str,
    nature: Nature,
    summary: &'static str,
    capture: &'static str,
    advice: &'static str,
) -> WamCode {
    WamCode {
        code,
        name,
        summary,
        nature,
        capture,
        advice,
    }
}

use Nature::{Error, Normal, Warning};

/// Wording shared by the network codes.
const NETWORK_ADVICE: &str = "Let the broker reach login.microsoftonline.com, login.windows.net, \
login.microsoft.com and aadcdn.msftauth.net directly or through a proxy that does not inspect or \
authenticate them (Microsoft 365 URLs and IP ranges, Optimize/Allow); check the WinHTTP proxy \
(netsh winhttp show proxy) and the PAC file the broker uses; the AppContainer of \
Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy must not be blocked by a firewall or security agent.";

/// In code order.
pub static CATALOG: &[WamCode] = &[
    w(0xCAA20003, "ERROR_ADAL_SERVER_ERROR_INVALID_GRANT", Warning,
      "Authorization grant failed for this assertion (Entra ID answered invalid_grant).",
      "A token request to login.microsoftonline.com answered 400 invalid_grant: read its AADSTS code (50173, 70008, 700082, 50132: the refresh token was revoked or expired; 50126 through federation).",
      "Follow the AADSTS code in the answer (traceadal explain AADSTS<code>); usually the user signs in again interactively."),
    w(0xCAA20004, "ERROR_ADAL_SERVER_ERROR_ACCESS_DENIED", Error,
      "The resource owner or authorization server denied the request (often a Conditional Access block).",
      "A sign-in or token request answered access_denied or interaction_required with AADSTS53000-53003, 530003 or 50097: the Conditional Access answer; without it in the capture, the broker's traffic was not captured.",
      "Read the AADSTS code in the answer and the sign-in log entry with its correlation id: which Conditional Access policy applied, and what it requires (compliant or hybrid-joined device, approved app)."),
    w(0xCAA2000B, "ERROR_ADAL_SERVER_ERROR_INVALID_RESOURCE", Error,
      "The resource is invalid due to configuration state or not existing.",
      "A token request for the on-premises Exchange URL (resource=https://mail.contoso.com) answered AADSTS500011 or 50001 \"resource principal not found\": the URL is not a service principal name of Office 365 Exchange Online.",
      "Add the URL as https://<host>/ to the ServicePrincipalNames of Office 365 Exchange Online (traceadal explain AADSTS500011; traceadal analyze writes the script); check the client asked the right tenant."),
    w(0xCAA2000C, "ERROR_ADAL_SERVER_ERROR_INTERACTION_REQUIRED", Normal,
      "The request requires user interaction.",
      "A silent token request answered interaction_required (AADSTS50058, 50076, 65001): expected once, followed by an interactive sign-in; a problem only when no prompt follows.",
      "Let the user sign in interactively; if the prompt never appears, check that Outlook uses the broker (no DisableAADWAM / EnableADAL=0 policy) and the AADSTS code answered."),
    w(0xCAA50021, "WAM broker failure (Message ID not published)", Error,
      "The broker (AAD BrokerPlugin) could not complete the request: Microsoft's activation article lists a blocked BrokerPlugin process, stale broker accounts, licences and device registration.",
      "Often no request to login.microsoftonline.com from the broker at all, or its CONNECTs refused: the broker is blocked or broken before the network; a capture with no broker traffic cannot tell which.",
      "Check that antivirus, proxy or firewall do not block Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy; clear the broker's accounts (%LOCALAPPDATA%\\Packages\\Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy\\AC\\TokenBroker\\Accounts) and restart; check the licence and dsregcmd /status (Microsoft 365 Apps activation error 0xCAA50021)."),
    w(0xCAA70004, "ERROR_INET_RESOURCE_NOT_FOUND", Error,
      "The server or proxy was not found: the broker could not reach Entra ID.",
      "Look for CONNECTs to login.microsoftonline.com (or login.windows.net) that fail: no answer, 502/503/407 from the proxy, a TLS failure; or no session to those hosts at all while Exchange's 401s offered Bearer (traceadal reports hma-ignored with the refused CONNECTs).",
      NETWORK_ADVICE),
    w(0xCAA70007, "ERROR_INET_DOWNLOAD_FAILURE", Error,
      "The download has failed (the connection was interrupted).",
      "Look for sessions to login.microsoftonline.com aborted without a response or cut mid-body, often by a TLS-inspecting proxy or a VPN dropping the connection.",
      NETWORK_ADVICE),
    w(0xCAA7000A, "ERROR_INET_CONNECTION_TIMEOUT", Error,
      "The Internet connection has timed out.",
      "Look for CONNECTs to Entra ID's hosts that take tens of seconds and end without an answer.",
      NETWORK_ADVICE),
    w(0xCAA82EE2, "ERROR_ADAL_INTERNET_TIMEOUT", Error,
      "The request has timed out (WinHTTP 12002).",
      "Look for requests to login.microsoftonline.com with no response after the client gave up, or a proxy that holds the CONNECT open.",
      NETWORK_ADVICE),
    w(0xCAA82EE7, "ERROR_ADAL_INTERNET_NAME_NOT_RESOLVED", Error,
      "The server name could not be resolved (WinHTTP 12007).",
      "Usually nothing to Entra ID's hosts at all: the broker failed at DNS before any request (Fiddler shows at most a failed CONNECT with a DNS error). Check the client's DNS and proxy settings.",
      NETWORK_ADVICE),
    w(0xCAA82EFD, "ERROR_ADAL_INTERNET_CANNOT_CONNECT", Error,
      "The attempt to connect to the server failed (WinHTTP 12029).",
      "Look for CONNECTs to Entra ID's hosts refused or unanswered (a firewall, a proxy that requires authentication the broker cannot give).",
      NETWORK_ADVICE),
    w(0xCAA82F8F, "ERROR_ADAL_INTERNET_SECURE_FAILURE", Error,
      "One or more errors were found in the TLS certificate sent by the server (WinHTTP 12175).",
      "Look at the certificate the client got for login.microsoftonline.com: a TLS-inspecting proxy's certificate the broker does not trust, or a revocation check that cannot reach the CRL.",
      "Exclude Entra ID's hosts from TLS inspection, or deploy the proxy's root certificate to the machine store; let the client reach the CRL/OCSP endpoints."),
    w(0xCAA90014, "ERROR_ADAL_WSTRUST_REQUEST_SECURITYTOKEN_FAILED", Error,
      "The federation server's WS-Trust answer was a fault: no assertion for the user.",
      "A POST to the federation server's WS-Trust endpoint (AD FS /adfs/services/trust/13/windowstransport or usernamemixed) answered with a SOAP fault or a 401/500; the realm discovery (userrealm) before it names the federation server.",
      "Read the fault in the AD FS answer and the AD FS Admin event log; check that the WS-Trust 1.3 endpoints are enabled and published through the Web Application Proxy, and that Windows integrated authentication (Kerberos) works to AD FS from the client."),
];

/// A WAM code as people write it: `0xCAA70004`, `CAA70004`, `caa70004`, or the decimal
/// Windows sometimes prints (`3399942148`, `-895025148`). `None` for anything else, and
/// for values outside the broker's facilities (`0x?AA?????`).
pub fn parse_code(s: &str) -> Option<u32> {
    let s = s.trim();
    let hex = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let value = if hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        u32::from_str_radix(hex, 16).ok()?
    } else if let Some(neg) = s.strip_prefix('-') {
        if neg.is_empty() || neg.len() > 10 || !neg.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // A signed 32-bit HRESULT.
        i32::try_from(-neg.parse::<i64>().ok()?).ok()? as u32
    } else if s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<u32>().ok()?
    } else {
        return None;
    };
    // WAM's codes: facility 0xAAn, severity in the top bits (0xC error, 0x8 warning, 0x4 info).
    ((value >> 20) & 0xff == 0xaa).then_some(value)
}

pub fn lookup(code: u32) -> Option<&'static WamCode> {
    CATALOG.iter().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_and_lookup() {
        assert_eq!(parse_code("0xCAA70004"), Some(0xCAA70004));
        assert_eq!(parse_code("caa70004"), Some(0xCAA70004));
        assert_eq!(parse_code(" 0Xcaa2000b "), Some(0xCAA2000B));
        assert_eq!(parse_code("3399942148"), Some(0xCAA70004));
        assert_eq!(parse_code("-895025148"), Some(0xCAA70004));
        assert_eq!(parse_code("0x80070005"), None);
        assert_eq!(parse_code("500011"), None);
        assert_eq!(parse_code("AADSTS500011"), None);
        assert_eq!(parse_code("-"), None);
        assert_eq!(parse_code("-99999999999"), None);
        assert_eq!(parse_code("é"), None);
        assert_eq!(
            lookup(0xCAA70004).map(|c| c.name),
            Some("ERROR_INET_RESOURCE_NOT_FOUND")
        );
        assert!(lookup(0xCAA70004).is_some_and(|c| c.capture.contains("login.microsoftonline.com")));
        assert!(lookup(0xCAA10001).is_none());
    }

    #[test]
    fn catalog_is_sorted_unique_and_complete() {
        for pair in CATALOG.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{:#X} before {:#X}",
                pair[0].code,
                pair[1].code
            );
        }
        for required in [
            0xCAA2000B, 0xCAA70004, 0xCAA70007, 0xCAA20004, 0xCAA82EE2, 0xCAA82EE7, 0xCAA50021,
            0xCAA20003, 0xCAA90014,
        ] {
            assert!(lookup(required).is_some(), "{required:#X} missing");
        }
        for c in CATALOG {
            assert!(
                parse_code(&format!("{:#X}", c.code)).is_some(),
                "{:#X}",
                c.code
            );
            for text in [c.summary, c.capture, c.advice] {
                assert!(!text.is_empty() && !text.contains('\n'), "{:#X}", c.code);
            }
        }
    }
}
