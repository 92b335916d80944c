//! `mapi-error`: Outlook's MAPI over HTTP connection fails inside its answers.
//!
//! MAPI over HTTP answers 200 and says in `X-ResponseCode` whether the transport accepted
//! the request ([MS-OXCMAPIHTTP] 2.2.3.3.3), and a `Connect`/`Bind` accepted by the transport
//! can still be refused by the server (`ecProtocolDisabled` when MAPI is disabled for the
//! mailbox). A Client Access Rule refuses with a 403.
//!
//! Looks at: `Event::Mapi`. A failure followed, later in the capture, by a successful
//! `Connect`/`Bind` to the same endpoint is what the protocol expects after a lost session
//! context (10 Context Not Found, 6, 13, 15 after a server restart or a recycled
//! application pool: the client connects again), so it is not reported. What is left is an
//! error per endpoint and kind.

use std::collections::BTreeMap;

use super::{sorted, Context, Finding, Severity};
use crate::auth::mapi::{connect_error_name, response_code_meaning};
use crate::auth::MapiAnswer;

/// The kind of a failure, for grouping and for its fix.
fn kind(a: &MapiAnswer) -> String {
    if a.protocol_disabled {
        match a.connect_error.filter(|&e| e != 0) {
            Some(e) => format!(
                "ProtocolDisabled ({} ErrorCode 0x{e:08X}, ecProtocolDisabled)",
                a.request_type.as_deref().unwrap_or("Connect")
            ),
            None => "ProtocolDisabled (named in the answer)".into(),
        }
    } else if a.client_access_rule {
        "Client Access Rule".into()
    } else if let Some(c) = a.response_code.filter(|&c| c != 0) {
        format!("X-ResponseCode {c} ({})", response_code_meaning(c))
    } else if let Some(e) = a.connect_error.filter(|&e| e != 0) {
        format!(
            "{} error 0x{e:08X}{}",
            a.request_type.as_deref().unwrap_or("Connect"),
            connect_error_name(e)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        )
    } else {
        "HTTP 403".into()
    }
}

fn fix(a: &MapiAnswer) -> String {
    if a.protocol_disabled {
        return "MAPI is disabled for this mailbox. Exchange Management Shell (on-premises; Exchange Online PowerShell for a cloud mailbox): Get-CASMailbox <user> | fl MAPIEnabled,MapiHttpEnabled,MAPIBlockOutlook*; Set-CASMailbox <user> -MAPIEnabled $true; when MapiHttpEnabled is $false on the mailbox: Set-CASMailbox <user> -MapiHttpEnabled $null (follow the organization: Get-OrganizationConfig | fl MapiHttpEnabled).".into();
    }
    if a.client_access_rule {
        return "A Client Access Rule blocks this connection. Exchange Management Shell (on-premises) or Exchange Online PowerShell: Get-ClientAccessRule | fl Name,Priority,Action,AnyOfProtocols,ExceptAnyOfClientIPAddressesOrRanges,UsernameMatchesAnyOfPatterns; Test-ClientAccessRule -User <user> -Protocol OutlookAnywhere -AuthenticationType OAuth -RemoteAddress <client IP> -RemotePort 443; then change the rule that matched (Set-ClientAccessRule).".into();
    }
    if let Some(e) = a.connect_error.filter(|&e| e != 0) {
        return match connect_error_name(e) {
            Some("ecUnknownUser") => "The mailbox was not found where Outlook connected: check the user's mailbox and its location (Get-Mailbox <user> | fl Database,ExchangeGuid; in hybrid, Get-RemoteMailbox for a moved mailbox) and the MAPI URL autodiscover gave.",
            Some("ecLoginPerm") => "The user has no right to open this mailbox: Get-MailboxPermission <mailbox> -User <user>; Add-MailboxPermission <mailbox> -User <user> -AccessRights FullAccess when it should.",
            Some("ecClientVerDisallowed") | Some("ecCachedModeRequired") => "The server blocks this Outlook version or mode: Get-CASMailbox <user> | fl MAPIBlockOutlook*; Get-RpcClientAccess | fl BlockedClientVersions (Exchange Management Shell, on-premises).",
            _ => "The server refused the Connect: see the error code; Exchange Management Shell (on-premises): Test-OutlookConnectivity -ProbeIdentity OutlookMapiHttpSelfTestProbe and the MAPI logs (%ExchangeInstallPath%Logging\\MAPI Client Access).",
        }
        .into();
    }
    let code = a.response_code.unwrap_or(0);
    match code {
        16 => "MAPI over HTTP is disabled on the server: Exchange Management Shell (on-premises): Get-OrganizationConfig | fl MapiHttpEnabled; Get-MapiVirtualDirectory | fl Server,InternalUrl,ExternalUrl,IISAuthenticationMethods; Set-OrganizationConfig -MapiHttpEnabled $true after the vdirs are configured.".into(),
        18 => "The server is shutting the MAPI endpoint down (restart, maintenance, application pool recycle) and no new Connect succeeded afterwards: check the server named in X-BEServer (Get-ServerComponentState <server>; Test-ServiceHealth) and the load balancer's health checks.".into(),
        8 => "The request reached the MAPI endpoint without credentials: a proxy or load balancer in front of /mapi strips Authorization, or the vdir has no authentication method the client uses: Get-MapiVirtualDirectory | fl IISAuthenticationMethods,InternalAuthenticationMethods,ExternalAuthenticationMethods (OAuth must be among them for modern auth).".into(),
        6 | 10 | 13 | 15 => "The session context was lost and the client never connected again successfully: repeated on one X-BEServer it points at that server; changing X-BEServer values point at a load balancer moving the session between servers. Check the server's health (Test-ServiceHealth, Get-ServerComponentState) and the load balancer in front of /mapi.".into(),
        2 | 3 | 4 | 5 | 7 | 9 | 12 | 17 => "The request the server received is not what Outlook sends: a proxy, TLS inspection or load balancer in front of /mapi rewrote its headers or body (or cut it). Bypass it for /mapi/emsmdb and /mapi/nspi and test again.".into(),
        _ => "The MAPI endpoint failed the request: read X-DiagInfo above; Exchange Management Shell (on-premises): Test-OutlookConnectivity -ProbeIdentity OutlookMapiHttpSelfTestProbe, and the MAPI logs of the server named in X-BEServer.".into(),
    }
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let answers: Vec<&MapiAnswer> = cx.mapi_answers().collect();
    let key = |a: &MapiAnswer| a.url.clone();
    let mut groups: BTreeMap<(String, String), Vec<&MapiAnswer>> = BTreeMap::new();
    for a in answers.iter().copied().filter(|a| a.failed()) {
        let recovered = answers
            .iter()
            .any(|b| b.session > a.session && b.connected() && key(b) == key(a));
        if recovered {
            continue;
        }
        groups.entry((key(a), kind(a))).or_default().push(a);
    }
    groups
        .into_iter()
        .map(|((endpoint, kind), failed)| {
            let sessions = sorted(failed.iter().map(|a| a.session).collect());
            let first = failed[0];
            let mut diag: Vec<String> = Vec::new();
            for a in &failed {
                let d = format!(
                    "{}{}",
                    a.diag_info
                        .as_deref()
                        .map(|d| format!("X-DiagInfo {d}"))
                        .unwrap_or_default(),
                    a.be_server
                        .as_deref()
                        .map(|b| format!(", X-BEServer {b}"))
                        .unwrap_or_default()
                );
                if !d.is_empty() && !diag.contains(&d) && diag.len() < 3 {
                    diag.push(d);
                }
            }
            let types: Vec<&str> = {
                let mut t: Vec<&str> = failed
                    .iter()
                    .filter_map(|a| a.request_type.as_deref())
                    .collect();
                t.sort_unstable();
                t.dedup();
                t
            };
            Finding {
                id: "mapi-error".into(),
                severity: Severity::Error,
                title: format!("Outlook's MAPI over HTTP connection to {endpoint} fails: {kind}"),
                evidence: format!(
                    "{} MAPI answer(s) (first session {}: {}, request type {}, HTTP {}, X-ResponseCode {}) failed with {kind}{}; no later Connect/Bind to this endpoint succeeded.",
                    sessions.len(),
                    first.session,
                    cx.describe(first.session),
                    if types.is_empty() { "unknown".to_string() } else { types.join(", ") },
                    first.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                    first.response_code.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                    if diag.is_empty() { String::new() } else { format!(" ({})", diag.join("; ")) },
                ),
                fix: fix(first),
                sessions,
                remedy: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;
    use crate::capture::Body;

    const URL: &str = "https://mail.contoso.com/mapi/emsmdb/?MailboxId=8c1f@contoso.com";

    fn connect_body(error: u32) -> Vec<u8> {
        let mut b = b"PROCESSING\r\nDONE\r\nX-ElapsedTime: 3\r\nX-StartTime: x\r\n\r\n".to_vec();
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&error.to_le_bytes());
        b.extend_from_slice(&[0; 12]);
        b
    }

    fn mapi(id: u64, rtype: &str, code: &str, body: &[u8]) -> S {
        let mut s = S::new(id, "POST", URL, 200)
            .req_header("X-RequestType", rtype)
            .resp_header("X-ResponseCode", code)
            .resp_header("X-DiagInfo", "EXCH01")
            .resp_header("X-BEServer", "EXCH01");
        if let Some(r) = s.0.response.as_mut() {
            r.body = Body {
                raw: body.to_vec(),
                wire: false,
                truncated: false,
            };
        }
        s
    }

    #[test]
    fn protocol_disabled_and_repeated_codes() {
        let f = run(
            check,
            vec![
                mapi(2, "Connect", "0", &connect_body(0x7D8)),
                mapi(3, "Connect", "0", &connect_body(0x7D8)),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].id.as_str(), f[0].severity),
            ("mapi-error", Severity::Error)
        );
        assert_eq!(f[0].sessions, vec![2, 3]);
        assert!(
            f[0].title
                .ends_with("ProtocolDisabled (Connect ErrorCode 0x000007D8, ecProtocolDisabled)"),
            "{}",
            f[0].title
        );
        assert!(f[0]
            .fix
            .contains("Set-CASMailbox <user> -MAPIEnabled $true"));
        let f = run(
            check,
            vec![
                mapi(2, "Execute", "16", b"Endpoint disabled"),
                mapi(3, "Execute", "16", b"Endpoint disabled"),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0]
            .evidence
            .contains("X-ResponseCode 16 (Endpoint Disabled)"));
        assert!(f[0].evidence.contains("X-DiagInfo EXCH01"));
        assert!(f[0].fix.contains("MapiHttpEnabled"));
    }

    /// Does not trigger: healthy Connects and Executes; a lost context (10) followed by a
    /// new Connect that succeeds; EWS or other paths.
    #[test]
    fn does_not_trigger() {
        let f = run(
            check,
            vec![
                mapi(2, "Connect", "0", &connect_body(0)),
                mapi(3, "Execute", "0", b"\x00\x01"),
                mapi(4, "Execute", "10", b"Context not found"),
                mapi(5, "Connect", "0", &connect_body(0)),
                mapi(6, "Execute", "0", b"\x00"),
                S::new(7, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200)
                    .resp_header("X-ResponseCode", "10"),
            ],
        );
        assert!(f.is_empty(), "{f:#?}");
    }
}
