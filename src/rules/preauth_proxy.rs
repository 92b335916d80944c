//! `preauth-proxy`: a pre-authenticating reverse proxy in front of Exchange answers the
//! client instead of Exchange, so the Bearer token never reaches Exchange.
//!
//! Outlook, Teams (through Exchange Online) and mobile clients authenticate to Autodiscover,
//! EWS, MAPI, OAB and ActiveSync with a Bearer token (or NTLM/Basic) in the request itself;
//! they cannot fill in a login page. A device that pre-authenticates these paths (F5 BIG-IP
//! APM, Citrix NetScaler / ADC Gateway, Web Application Proxy with AD FS pre-authentication,
//! Entra application proxy with Entra ID pre-authentication) answers with a redirect to its
//! login page, the login page itself, or a 401 of its own.
//!
//! Looks at: `Event::Gateway` signs on the customer's hosts (not Microsoft's cloud): a
//! redirect of an Exchange virtual directory to a login URL (`/adfs/ls/`, `/my.policy`,
//! `/vdesk/`, `/vpn/index.html`, `/cgi/login`, `/logon/LogonPoint`, Entra ID's `/oauth2/`) or
//! carrying a device's cookie; an HTML password form where Autodiscover or EWS should answer;
//! a 401 on such a path that neither IIS nor Exchange produced (no `Server: Microsoft-IIS`,
//! none of Exchange's headers), when a device is named or the same virtual directory shows
//! Exchange's own 401 elsewhere in the capture.
//!
//! Error when no Bearer request to that host ever got a 2xx; a warning when Bearer got
//! through to it on other paths (some paths are still pre-authenticated).

use std::collections::BTreeMap;

use super::evidence::and_list;
use super::exchange::{is_microsoft_cloud, vdir_of_path, Vdir};
use super::proxy;
use super::{session_list, Context, Finding, Severity};
use crate::auth::{Device, GatewaySign, Sign};
use crate::capture::Credential;

pub fn check(cx: &Context) -> Vec<Finding> {
    let signs: Vec<&GatewaySign> = cx.gateway_signs().collect();
    let foreign = |session: u64| {
        signs
            .iter()
            .any(|g| g.session == session && g.sign == Sign::ForeignUnauthorized)
    };
    // Virtual directories where IIS / Exchange itself answered a 401 somewhere: the
    // challenges that are not a foreign 401.
    let exchange_vdirs: Vec<_> = cx
        .challenges()
        .filter(|c| c.status == 401 && !foreign(c.session))
        .filter_map(|c| vdir_of_path(&c.url))
        .collect();
    let mut by_host: BTreeMap<&str, Vec<&GatewaySign>> = BTreeMap::new();
    for g in &signs {
        if is_microsoft_cloud(&g.host) {
            continue;
        }
        let hit = match &g.sign {
            Sign::LoginRedirect { .. } | Sign::LoginForm => true,
            Sign::ForeignUnauthorized => {
                g.device.is_some()
                    || vdir_of_path(&g.url).is_some_and(|v| exchange_vdirs.contains(&v))
            }
            _ => false,
        };
        if hit {
            by_host.entry(g.host.as_str()).or_default().push(g);
        }
    }
    // Outlook tries several Autodiscover URLs (the root domain first) and uses the one that
    // answers: a web site's login page on the root domain is no pre-authentication when
    // another host answered Autodiscover.
    let form = |session: u64| {
        signs
            .iter()
            .any(|g| g.session == session && g.sign == Sign::LoginForm)
    };
    let answered_elsewhere = |host: &str| {
        cx.sessions.iter().any(|s| {
            s.host.as_deref() != Some(host)
                && s.status == Some(200)
                && vdir_of_path(&s.url) == Some(Vdir::Autodiscover)
                && !form(s.id)
        })
    };
    by_host
        .into_iter()
        .filter(|(host, hits)| {
            !(hits
                .iter()
                .all(|g| vdir_of_path(&g.url) == Some(Vdir::Autodiscover))
                && answered_elsewhere(host))
        })
        .map(|(host, hits)| finding(cx, host, &hits))
        .collect()
}

fn finding(cx: &Context, host: &str, hits: &[&GatewaySign]) -> Finding {
    let bearer_ok = cx.sessions.iter().any(|s| {
        s.host.as_deref() == Some(host)
            && s.credential == Some(Credential::Bearer)
            && s.status.is_some_and(|st| (200..300).contains(&st))
    });
    let mut seen: Vec<String> = Vec::new();
    let mut vdirs: Vec<&'static str> = Vec::new();
    for g in hits {
        if let Some(v) = vdir_of_path(&g.url) {
            if !vdirs.contains(&v.name()) {
                vdirs.push(v.name());
            }
        }
        let what = match &g.sign {
            Sign::LoginRedirect { location } => format!("{} to {location}", g.status),
            Sign::LoginForm => "an HTML login form (password input)".to_string(),
            _ => "a 401 from neither IIS nor Exchange".to_string(),
        };
        let line = format!("{} answered {what}", g.url);
        if !seen.contains(&line) && seen.len() < 6 {
            seen.push(line);
        }
    }
    let device = proxy::devices(hits, "an unnamed reverse proxy");
    let named: Vec<Device> = hits.iter().filter_map(|g| g.device).collect();
    let sessions = proxy::ids(hits);
    Finding {
        id: "preauth-proxy".into(),
        severity: if bearer_ok {
            Severity::Warning
        } else {
            Severity::Error
        },
        title: title(host, short(&named), &vdirs.join(", ")),
        evidence: format!(
            "{} (session(s) {}). Named by: {device}. {}",
            seen.join("; "),
            session_list(&sessions),
            if bearer_ok {
                "Bearer requests to this host got through on other paths: only these paths are \
                 pre-authenticated."
            } else {
                "No request with a Bearer token to this host ever got a 2xx answer."
            }
        ),
        fix: fix(&named, host),
        sessions,
        remedy: None,
    }
}

/// The first device named, for the title.
fn short(named: &[Device]) -> &'static str {
    named.first().map_or("unnamed", |d| d.name())
}

/// A finding's title; [`title_parts`] reads it back.
fn title(host: &str, device: &str, vdirs: &str) -> String {
    format!(
        "{host}: a pre-authenticating reverse proxy ({device}) answers {vdirs} instead of \
         Exchange; the Bearer token never reaches Exchange"
    )
}

/// The host, device and virtual directories of a [`title`].
fn title_parts(title: &str) -> Option<(&str, &str, &str)> {
    let (host, rest) = title.split_once(": a pre-authenticating reverse proxy (")?;
    let (device, rest) = rest.split_once(") answers ")?;
    let (vdirs, _) = rest.split_once(" instead of Exchange;")?;
    Some((host, device, vdirs))
}

/// The verdict's one line for this rule's errors on several hosts when one device answers
/// on all of them: one device to reconfigure is one cause, not one per host (as all
/// missing SPNs are one line). `None` when the findings name different devices, or when a
/// title is not this rule's.
pub fn one_cause(findings: &[&Finding]) -> Option<String> {
    let parts: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| title_parts(&f.title))
        .collect::<Option<_>>()?;
    let device = parts.first()?.1;
    if parts.len() < 2 || parts.iter().any(|p| p.1 != device) {
        return None;
    }
    let at: Vec<String> = parts.iter().map(|(h, _, v)| format!("{h} ({v})")).collect();
    let hosts: Vec<&str> = parts.iter().map(|p| p.0).collect();
    Some(format!(
        "{}: a pre-authenticating reverse proxy ({device}) answers instead of Exchange; the \
         Bearer token never reaches Exchange. {}",
        and_list(&at),
        paths(&and_list(&hosts))
    ))
}

/// The first sentence of the fix: what to publish without pre-authentication on `hosts`.
fn paths(hosts: &str) -> String {
    format!(
        "Publish these paths on {hosts} without pre-authentication (pass-through), so that \
         the client's Authorization header (Bearer, or NTLM/Negotiate) reaches Exchange \
         unchanged: /autodiscover/ (including /autodiscover/autodiscover.json, which Teams and \
         Exchange Online call anonymously), /EWS/, /mapi/, /OAB/ and \
         /Microsoft-Server-ActiveSync."
    )
}

fn fix(named: &[Device], host: &str) -> String {
    let publish = format!(
        "{} Keep pre-authentication for /owa/ and /ecp/ only if browsers are the only clients \
         there.",
        paths(host)
    );
    let mut device_steps: Vec<&str> = Vec::new();
    for d in named {
        let step = match d {
            Device::F5Apm => {
                "F5 BIG-IP APM: exclude these URIs from the access policy (an iRule or the \
                 Exchange iApp's option that disables ACCESS for the Outlook/ActiveSync/EWS \
                 paths) or use an APM policy that accepts OAuth Bearer; no /my.policy redirect \
                 on them."
            }
            Device::NetScaler => {
                "Citrix NetScaler / ADC: bind an authentication policy (or nFactor rule) that \
                 skips authentication for these paths on the Exchange virtual server (no \
                 redirect to /vpn/index.html or /logon/LogonPoint)."
            }
            Device::WapAdfs => {
                "Web Application Proxy: publish the Exchange paths with pass-through \
                 pre-authentication (on the WAP server: Add-WebApplicationProxyApplication \
                 -ExternalPreauthentication PassThrough -ExternalUrl https://HOST/ \
                 -BackendServerUrl https://HOST/ -Name 'Exchange pass-through'); keep AD FS \
                 pre-authentication for OWA/ECP only."
            }
            Device::EntraAppProxy => {
                "Entra application proxy: set the application's Pre Authentication to \
                 Passthrough (Entra admin center > Enterprise applications > the app > \
                 Application proxy), or publish the Exchange paths as a separate \
                 pass-through application."
            }
            _ => continue,
        };
        if !device_steps.contains(&step) {
            device_steps.push(step);
        }
    }
    let device_steps = device_steps.join(" ").replace("HOST", host);
    format!(
        "{publish} {device_steps} Then check with the Microsoft Remote Connectivity Analyzer \
         (Outlook Connectivity with modern auth) from outside."
    )
    .replace("  ", " ")
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, HMA, S};
    use super::*;

    const EWS: &str = "https://mail.contoso.com/EWS/Exchange.asmx";
    const AD: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";

    fn f5(id: u64, url: &str) -> S {
        S::new(id, "POST", url, 302)
            .resp_header("Location", "https://mail.contoso.com/my.policy")
            .resp_header("Set-Cookie", "LastMRH_Session=0a1b2c3d;path=/;secure")
            .resp_header("Set-Cookie", "MRHSession=SECRETSESSIONVALUE;path=/;secure")
    }

    #[test]
    fn f5_redirects_are_one_error_per_host_with_cookie_names_only() {
        let f = run(check, vec![f5(1, AD), f5(2, EWS), f5(3, EWS)]);
        assert_eq!(f.len(), 2, "{f:#?}");
        let mail = f
            .iter()
            .find(|f| f.title.starts_with("mail."))
            .expect("mail");
        assert_eq!(mail.severity, Severity::Error);
        assert_eq!(mail.sessions, vec![2, 3]);
        assert!(mail.title.contains("F5 BIG-IP APM"), "{}", mail.title);
        assert!(
            mail.evidence.contains("cookie MRHSession"),
            "{}",
            mail.evidence
        );
        assert!(mail
            .evidence
            .contains("302 to https://mail.contoso.com/my.policy"));
        assert!(mail.fix.contains("/EWS/") && mail.fix.contains("autodiscover.json"));
        let json = serde_json::to_string(&f).unwrap_or_default();
        assert!(!json.contains("SECRETSESSIONVALUE"), "{json}");
    }

    /// The verdict's line for one device on two hosts names both, with what each answers,
    /// and the fix's first sentence for both; two devices stay two causes.
    #[test]
    fn one_device_on_two_hosts_is_one_cause() {
        let f = run(check, vec![f5(1, AD), f5(2, EWS), f5(3, EWS)]);
        let both: Vec<&Finding> = f.iter().collect();
        assert_eq!(
            one_cause(&both).as_deref(),
            Some(
                "autodiscover.contoso.com (Autodiscover) and mail.contoso.com (EWS): a \
                 pre-authenticating reverse proxy (F5 BIG-IP APM) answers instead of Exchange; \
                 the Bearer token never reaches Exchange. Publish these paths on \
                 autodiscover.contoso.com and mail.contoso.com without pre-authentication \
                 (pass-through), so that the client's Authorization header (Bearer, or \
                 NTLM/Negotiate) reaches Exchange unchanged: /autodiscover/ (including \
                 /autodiscover/autodiscover.json, which Teams and Exchange Online call \
                 anonymously), /EWS/, /mapi/, /OAB/ and /Microsoft-Server-ActiveSync."
            )
        );
        // Each title reads back as it was written.
        for g in &f {
            let (host, device, vdirs) = title_parts(&g.title).expect("this rule's title");
            assert_eq!(title(host, device, vdirs), g.title);
        }
        assert_eq!(one_cause(&both[..1]), None, "one host is its own line");
        let mut other = f[1].clone();
        other.title = other
            .title
            .replace("F5 BIG-IP APM", "Citrix NetScaler / ADC");
        assert_eq!(one_cause(&[&f[0], &other]), None, "two devices");
        other.title = "something else".into();
        assert_eq!(one_cause(&[&f[0], &other]), None, "not this rule's title");
    }

    #[test]
    fn wap_redirect_to_adfs_names_wap_and_its_cmdlet() {
        let s = S::new(4, "GET", AD, 307)
            .resp_header("Server", "Microsoft-HTTPAPI/2.0")
            .resp_header(
                "Location",
                "https://sts.contoso.com/adfs/ls/?version=1.0&action=signin",
            );
        let f = run(check, vec![s]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].title.contains("Web Application Proxy"),
            "{}",
            f[0].title
        );
        assert!(f[0].fix.contains("-ExternalPreauthentication PassThrough"));
        assert!(
            f[0].evidence.contains("(login path /adfs/ls/)"),
            "{}",
            f[0].evidence
        );
        assert!(!f[0].evidence.contains("action=signin"));
    }

    #[test]
    fn bearer_through_on_other_paths_is_a_warning() {
        let ok = S::new(5, "POST", "https://mail.contoso.com/mapi/emsmdb/", 200)
            .bearer(r#"{"aud":"https://mail.contoso.com/"}"#);
        let f = run(check, vec![f5(2, EWS), ok]);
        assert_eq!(f[0].severity, Severity::Warning, "{f:#?}");
    }

    #[test]
    fn foreign_401_needs_a_device_or_exchange_on_the_same_vdir() {
        let foreign = |id| {
            S::new(id, "POST", "https://mail.contoso.com/mapi/emsmdb/", 401)
                .resp_header("Server", "nginx")
                .resp_header("WWW-Authenticate", "Basic realm=\"corp\"")
        };
        assert!(run(check, vec![foreign(1)]).is_empty());
        let exchange = S::new(2, "POST", "https://mail2.contoso.com/mapi/emsmdb/", 401)
            .resp_header("Server", "Microsoft-IIS/10.0")
            .resp_header("X-FEServer", "EX01")
            .offers(&[HMA]);
        let f = run(check, vec![foreign(1), exchange]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].sessions, vec![1]);
        assert!(f[0].title.contains("unnamed"));
    }

    /// Does not trigger: a device's page on the root domain's Autodiscover URL when
    /// autodiscover.<domain> answered (Outlook uses the one that answers).
    #[test]
    fn a_web_site_on_the_root_domain_is_not_a_proxy_when_autodiscover_answered() {
        let root = |id| {
            S::new(
                id,
                "POST",
                "https://contoso.com/autodiscover/autodiscover.xml",
                200,
            )
            .resp_header("Content-Type", "text/html; charset=UTF-8")
            .resp_header("Set-Cookie", "NSC_ESNS=0a1b; path=/")
        };
        assert_eq!(run(check, vec![root(1)]).len(), 1);
        let ad = S::new(2, "POST", AD, 200).resp_header("Content-Type", "text/xml");
        assert!(run(check, vec![root(1), ad]).is_empty());
    }

    /// Does not trigger: Exchange's own 401, Exchange Online's redirects, OWA's redirect to
    /// Entra ID (hybrid modern auth for OWA), a plain 302 between Exchange paths.
    #[test]
    fn exchange_itself_raises_nothing() {
        let iis = S::new(1, "POST", EWS, 401)
            .resp_header("Server", "Microsoft-IIS/10.0")
            .resp_header("request-id", "abc")
            .offers(&[HMA]);
        let exo = S::new(
            2,
            "GET",
            "https://outlook.office365.com/autodiscover/autodiscover.json",
            302,
        )
        .resp_header(
            "Location",
            "https://login.microsoftonline.com/common/oauth2/authorize",
        );
        let owa = S::new(3, "GET", "https://mail.contoso.com/owa/", 302).resp_header(
            "Location",
            "https://login.microsoftonline.com/common/oauth2/authorize",
        );
        let moved = S::new(
            4,
            "GET",
            "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
            302,
        )
        .resp_header(
            "Location",
            "https://mail.contoso.com/autodiscover/autodiscover.xml",
        );
        assert!(run(check, vec![iis, exo, owa, moved]).is_empty());
    }
}
