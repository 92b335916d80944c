//! What the token rules (`token-expired`, `clock-skew`, `token-audience-mismatch`,
//! `token-wrong-tenant`) share: which requests they judge, whether a request was refused,
//! and how a time is quoted.

use super::exchange::vdir_of;
use super::Context;
use crate::capture::host_of;

/// Exchange Online's hosts: a token for Exchange Online (`aud` its AppId, or one of these
/// URLs) is meant for any of them.
pub const EXCHANGE_ONLINE_HOSTS: &[&str] = &[
    "outlook.office365.com",
    "outlook.office.com",
    "substrate.office.com",
    "outlook.office365.us",
    "partner.outlook.cn",
];

/// Whether `host` is Exchange Online (one of [`EXCHANGE_ONLINE_HOSTS`]).
pub fn is_exchange_online(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    EXCHANGE_ONLINE_HOSTS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(host))
}

/// The lower-cased host of `url`, when the request went to Exchange: an Exchange virtual
/// directory on-premises (`/EWS`, `/mapi`, `/autodiscover`, `/OAB`, ... or an
/// `autodiscover.` host) or Exchange Online. Tokens to other services (Teams, Graph,
/// SharePoint) have audiences of their own that these rules do not judge.
pub fn exchange_host(url: &str) -> Option<String> {
    let host = host_of(url)?.to_ascii_lowercase();
    (is_exchange_online(&host) || vdir_of(url, &host).is_some()).then_some(host)
}

/// The request was refused or never answered (status 400 and above, or none): a token the
/// server accepted is never a finding, whatever its claims say.
pub fn refused(cx: &Context, session: u64) -> bool {
    cx.session(session)
        .is_none_or(|s| s.status.is_none_or(|code| code >= 400))
}

/// The request was answered below 400.
pub fn accepted(cx: &Context, session: u64) -> bool {
    !refused(cx, session)
}

/// `2026-11-20 09:12:03Z` for Unix seconds.
pub fn utc(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).map_or_else(
        || ts.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
    )
}

/// A duration in seconds for a person: `7 min 12 s`, `2 h 05 min`.
pub fn span(secs: i64) -> String {
    let secs = secs.abs();
    if secs < 120 {
        format!("{secs} s")
    } else if secs < 3600 {
        format!("{} min {:02} s", secs / 60, secs % 60)
    } else {
        format!("{} h {:02} min", secs / 3600, (secs % 3600) / 60)
    }
}
