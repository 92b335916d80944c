//! `autodiscover-web-host`: an Autodiscover URL (typically the root domain,
//! `https://contoso.com/autodiscover/autodiscover.xml`, which Outlook tries first) answered by
//! a web server's HTML page instead of Exchange.
//!
//! Error when the capture never shows Autodiscover giving settings; warning otherwise (the
//! client found Exchange elsewhere, after a delay and sometimes a certificate prompt).

use std::collections::BTreeMap;

use super::autodiscover::{any_settings, EMS};
use super::exchange::is_microsoft_cloud;
use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::AutodiscoverKind;

pub fn check(cx: &Context) -> Vec<Finding> {
    let mut by: BTreeMap<&str, Page> = BTreeMap::new();
    for a in cx.autodiscover_answers() {
        let AutodiscoverKind::WebPage { content_type } = &a.answer else {
            continue;
        };
        if is_microsoft_cloud(&a.host) {
            continue;
        }
        let e = by.entry(a.host.as_str()).or_insert_with(|| Page {
            sessions: Vec::new(),
            statuses: Vec::new(),
            server: a.server.as_deref(),
            content_type: content_type.as_deref(),
            url: a.url.as_str(),
        });
        e.sessions.push(a.session);
        if let Some(s) = a.status.filter(|s| !e.statuses.contains(s)) {
            e.statuses.push(s);
        }
    }
    if by.is_empty() {
        return Vec::new();
    }
    let got = any_settings(cx);
    by.into_iter()
        .map(|(host, page)| {
            let Page {
                sessions,
                statuses,
                server,
                content_type: ct,
                url,
            } = page;
            let root = !host.starts_with("autodiscover.");
            let statuses: Vec<String> = statuses.iter().map(u16::to_string).collect();
            let server = server
                .map(|s| format!(" by a web server (Server: {s})"))
                .unwrap_or_else(|| " by a web server".into());
            let outcome = if got {
                "Autodiscover gave settings elsewhere in this capture: the client lost time (and may have shown a certificate or password prompt) before it got there."
            } else {
                "No Autodiscover answer in this capture gave settings."
            };
            let what = if root { "the root domain" } else { "the autodiscover host name" };
            Finding {
                id: "autodiscover-web-host".into(),
                severity: if got { Severity::Warning } else { Severity::Error },
                title: format!("{url} ({what}) is answered by a web server, not Exchange"),
                sessions: sorted(sessions.clone()),
                evidence: format!(
                    "{url} answered {} with an HTML page ({}){server}, {} time(s) (sessions {}). {outcome}",
                    statuses.join("/"),
                    ct.unwrap_or("text/html"),
                    sessions.len(),
                    session_list(&sorted(sessions.clone())),
                ),
                fix: format!(
                    "Outlook tries https://<domain>/autodiscover/autodiscover.xml before \
                     https://autodiscover.<domain>/. Make the web server behind {host} stop \
                     answering /autodiscover/ (no HTTPS answer for that path, or a redirect to \
                     the Exchange Autodiscover URL), and publish autodiscover.<domain> in DNS to \
                     Exchange (on-premises) or autodiscover.outlook.com (mailboxes in Exchange \
                     Online). Where the web host cannot be changed, set ExcludeHttpsRootDomain=1 \
                     (DWORD) under HKCU\\Software\\Microsoft\\Office\\16.0\\Outlook\\AutoDiscover \
                     on the clients (Group Policy). Domain-joined clients inside the network use \
                     the SCP first: `Get-ClientAccessService | fl Name,AutoDiscoverServiceInternalUri` \
                     ({EMS})."
                ),
                remedy: None,
            }
        })
        .collect()
}

/// The HTML answers of one host.
struct Page<'a> {
    sessions: Vec<u64>,
    statuses: Vec<u16>,
    server: Option<&'a str>,
    content_type: Option<&'a str>,
    url: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::autodiscover_testkit::*;
    use crate::rules::testkit::run;

    fn apache(id: u64) -> S {
        S::new(id, "POST", "https://contoso.com/autodiscover/autodiscover.xml", 404).resp_headers(&[
            ("Server", "Apache/2.4.58 (Ubuntu)"),
            ("Content-Type", "text/html; charset=iso-8859-1"),
        ]).resp_body("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>")
    }

    #[test]
    fn web_host_error_then_warning() {
        let f = run(check, vec![apache(1), apache(2)]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].sessions, vec![1, 2]);
        assert!(f[0].evidence.contains("Apache/2.4.58"), "{}", f[0].evidence);
        let f = run(check, vec![apache(1), onprem_settings(2)]);
        assert_eq!(f[0].severity, Severity::Warning);
    }

    /// Does not trigger: XML answers, 401 challenges, an HTML page from Exchange Online, an
    /// HTML page on another path.
    #[test]
    fn does_not_trigger() {
        let f = run(
            check,
            vec![
                onprem_settings(1),
                ad(2, AD, "user@contoso.com", 401, ""),
                S::new(
                    3,
                    "GET",
                    "https://outlook.office365.com/autodiscover/autodiscover.xml",
                    200,
                )
                .resp_header("Content-Type", "text/html")
                .resp_body("<html></html>"),
                S::new(4, "GET", "https://contoso.com/index.html", 200)
                    .resp_header("Content-Type", "text/html")
                    .resp_body("<html></html>"),
            ],
        );
        assert!(f.is_empty(), "{f:?}");
    }
}
