//! The noise layer: a scenario with the token traffic of a normal day laid around it.
//!
//! Background token requests that no challenge asked for (Office `officeapps.live.com`,
//! Microsoft Graph, Teams presence and spaces, all 200) and one expired-token cycle on a host
//! the scenarios do not involve (`outlook.office365.com`: the expired Bearer answered 401 with
//! `x-ms-diagnostics: 2000001` "The token has expired.", the refresh 200, the retry 200), placed
//! before, between and after the scenario's own sessions by time. The scenario's sessions keep
//! their times and order; the [`Expected`] session numbers are remapped to where they end up.
//!
//! Not written to `samples/`: tests build these in memory ([`crate::noisy_saz`],
//! [`crate::noisy_har`]). Scenarios whose verdict is inconclusive have no noisy form: decrypted
//! Entra ID traffic would contradict a capture whose point is that it has none.

use crate::actors::entra::hourly_token;
use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::noise::TEAMS;
use crate::actors::{outlook, OFFICE_CLIENT, OUTLOOK};
use crate::clock::{Instant, TICKS_PER_MS};
use crate::expected::Expected;
use crate::model::{Capture, Coding, Framing, Role};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::tunnel;
use crate::scenarios::{self, precision};
use crate::secrets;

const EXO_EWS: &str = "https://outlook.office365.com/EWS/Exchange.asmx";
const EXO_RESOURCE: &str = "https://outlook.office365.com";
/// Background token requests in the layer (Office, Graph, Teams presence, Teams spaces in turn).
const BACKGROUND: usize = 12;
/// Sessions the layer adds: the background requests, the 3 of the expired-token cycle, and
/// 3 decrypted tunnels (login.microsoftonline.com for Outlook and Teams, outlook.office365.com).
pub const LAYER_SESSIONS: usize = BACKGROUND + 3 + 3;

fn exo() -> Exchange {
    Exchange {
        fe: "AM6PR04CA0012",
        be: "AM7PR02MB5686",
    }
}

/// The expired-token cycle on Exchange Online: 401 (2000001 expired), refresh 200, retry 200.
fn exo_expired_cycle(sb: &mut Sb) {
    let old = hourly_token(
        EXO_RESOURCE,
        OFFICE_CLIENT,
        "EWS.AccessAsUser.All",
        sb.now.unix() - 3_650,
        false,
        secrets::SIG_HOURLY_AT,
    );
    let crid = sb.guid();
    let rid = sb.guid();
    let req = outlook::ews(
        EXO_EWS,
        &exchange::oof_request(),
        Some(&format!("Bearer {old}")),
        &crid,
    );
    let now = sb.now;
    let resp = exo().challenge_401(
        "outlook.office365.com",
        &Challenge::bearer_expired(),
        &rid,
        now,
    );
    sb.add(Some(OUTLOOK), req, Some(resp), 14, Role::Noise);
    sb.wait(15);
    let crid = sb.guid();
    let req = outlook::adal_token_refresh(
        "login.microsoftonline.com",
        "common",
        EXO_RESOURCE,
        secrets::RT_ISSUED,
        &crid,
    );
    let now = sb.now;
    let fresh = hourly_token(
        EXO_RESOURCE,
        OFFICE_CLIENT,
        "EWS.AccessAsUser.All",
        now.unix(),
        false,
        secrets::SIG_HOURLY_AT,
    );
    let resp = crate::actors::entra::Entra::mso().token_ok_hourly(
        EXO_RESOURCE,
        "EWS.AccessAsUser.All",
        &fresh,
        secrets::RT_ISSUED,
        &crid,
        &mut sb.rng,
        now,
    );
    sb.add(Some(OUTLOOK), req, Some(resp), 90, Role::Noise);
    sb.wait(20);
    let req = outlook::ews(
        EXO_EWS,
        &exchange::oof_request(),
        Some(&format!("Bearer {fresh}")),
        &crid,
    );
    let rid = sb.guid();
    let now = sb.now;
    let body = exchange::soap_response(
        r#"<GetUserOofSettingsResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><OofSettings xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><OofState>Disabled</OofState><ExternalAudience>All</ExternalAudience></OofSettings><AllowExternalOof>All</AllowExternalOof></GetUserOofSettingsResponse>"#,
    );
    let resp = exo().ok_xml(body, Coding::Gzip, Framing::Chunked(512), &rid, now, true);
    sb.add(Some(OUTLOOK), req, Some(resp), 60, Role::Noise);
}

/// The noise sessions for a scenario whose own sessions begin at `first` and at `last`.
fn layer(name: &str, first: Instant, last: Instant) -> Capture {
    let mut sb = Sb::new(&format!("noisy:{name}"));
    sb.set_port_base(60_100);
    let lead = 75_000 * TICKS_PER_MS;
    let from = Instant(first.0.saturating_sub(lead));
    let to = last.plus_ms(75_000);
    sb.now = from;
    // Fiddler decrypts: the layer's clients open their tunnels first.
    tunnel(&mut sb, "login.microsoftonline.com", OUTLOOK);
    tunnel(&mut sb, "login.microsoftonline.com", TEAMS);
    let events = BACKGROUND + 1;
    for i in 0..events {
        let t = Instant(from.0 + (to.0 - from.0) * i as u64 / (events as u64 - 1));
        sb.until(t);
        if i == events / 2 {
            tunnel(&mut sb, "outlook.office365.com", OUTLOOK);
            exo_expired_cycle(&mut sb);
        } else {
            let k = if i > events / 2 { i - 1 } else { i };
            precision::background_token(&mut sb, k);
        }
    }
    let (mut cap, _, _) = sb.finish(name);
    for s in cap.sessions.iter_mut().filter(|s| !s.is_tunnel()) {
        s.role = Role::Noise;
    }
    cap
}

/// Where each base session (index from 0) lands in the merged capture (ids from 1), and the
/// merged capture.
fn merge(base: Capture, noise: Capture) -> (Capture, Vec<usize>, Vec<usize>) {
    let nb = base.sessions.len();
    let mut all: Vec<(Instant, usize, usize)> = base
        .sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (s.begin, 0, i))
        .chain(
            noise
                .sessions
                .iter()
                .enumerate()
                .map(|(i, s)| (s.begin, 1, i)),
        )
        .collect();
    // Stable: base sessions keep their order; a noise session at the same instant follows.
    all.sort_by_key(|&(t, which, i)| (t, which, i));
    let mut base_slots: Vec<Option<crate::model::Session>> =
        base.sessions.into_iter().map(Some).collect();
    let mut noise_slots: Vec<Option<crate::model::Session>> =
        noise.sessions.into_iter().map(Some).collect();
    let mut map = vec![0; nb];
    let mut noise_ids = Vec::new();
    let mut sessions = Vec::with_capacity(all.len());
    for (_, which, i) in all {
        let s = if which == 0 {
            map[i] = sessions.len() + 1;
            base_slots[i].take()
        } else {
            noise_ids.push(sessions.len() + 1);
            noise_slots[i].take()
        };
        sessions.push(s.expect("each session once"));
    }
    (
        Capture {
            name: base.name,
            sessions,
        },
        map,
        noise_ids,
    )
}

fn remap(v: &[usize], map: &[usize]) -> Vec<usize> {
    v.iter().map(|&id| map[id - 1]).collect()
}

/// Scenario `name` with the noise layer; `None` for an unknown or inconclusive scenario.
pub fn noisy(name: &str) -> Option<(Capture, Expected)> {
    let (base, exp) = scenarios::build(name)?;
    if exp.inconclusive {
        return None;
    }
    let first = base.sessions.first()?.begin;
    let last = base.sessions.last()?.begin;
    let noise = layer(name, first, last);
    let (cap, map, noise_ids) = merge(base, noise);
    let mut e = exp;
    e.sessions = cap.sessions.len();
    for l in &mut e.loops {
        l.challenge_sessions = remap(&l.challenge_sessions, &map);
        l.entra_sessions = remap(&l.entra_sessions, &map);
        l.error_sessions = remap(&l.error_sessions, &map);
        l.sessions = remap(&l.sessions, &map);
        if l.first_session > 0 {
            l.first_session = map[l.first_session - 1];
            l.last_session = map[l.last_session - 1];
        }
    }
    e.aborted_sessions = remap(&e.aborted_sessions, &map);
    e.tunnel_sessions = remap(&e.tunnel_sessions, &map);
    e.tunnel_sessions.extend(
        noise_ids
            .iter()
            .filter(|&&id| cap.sessions[id - 1].is_tunnel()),
    );
    e.tunnel_sessions.sort_unstable();
    for d in &mut e.delegates {
        d.session = map[d.session - 1];
    }
    for d in &mut e.delegate_errors {
        d.0 = map[d.0 - 1];
    }
    for a in &mut e.aadsts_sessions {
        a.0 = map[a.0 - 1];
    }
    for d in &mut e.exchange_diagnostics {
        d.0 = map[d.0 - 1];
    }
    // The layer's own 401 carries x-ms-diagnostics 2000001.
    for &id in &noise_ids {
        let s = &cap.sessions[id - 1];
        if let Some(r) = &s.response {
            for (n, v) in &r.headers {
                if n.eq_ignore_ascii_case("x-ms-diagnostics") {
                    let code = v
                        .split(';')
                        .next()
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(0);
                    e.exchange_diagnostics.push((id, code));
                }
            }
        }
    }
    e.exchange_diagnostics.sort_unstable();
    Some((cap, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(cap: &Capture, id: usize) -> (String, String) {
        let r = &cap.sessions[id - 1].request;
        (r.method.clone(), r.url.clone())
    }

    /// Every session number a noisy Expected names holds the request the base Expected's
    /// number held in the base capture.
    #[test]
    fn noisy_expected_names_the_same_requests() {
        for name in crate::scenario_names() {
            let (base, be) = scenarios::build(name).expect("scenario");
            let Some((cap, ne)) = noisy(name) else {
                assert!(
                    be.inconclusive,
                    "{name}: only inconclusive scenarios lack a noisy form"
                );
                continue;
            };
            assert_eq!(ne.sessions, cap.sessions.len(), "{name}");
            let map: Vec<usize> = (1..=base.sessions.len())
                .map(|b| {
                    (1..=cap.sessions.len())
                        .find(|&n| {
                            cap.sessions[n - 1].begin == base.sessions[b - 1].begin
                                && key(&cap, n) == key(&base, b)
                        })
                        .expect("base session present")
                })
                .collect();
            assert_eq!(
                cap.sessions.len(),
                base.sessions.len() + LAYER_SESSIONS,
                "{name}: the layer adds its sessions"
            );
            let same = |b: usize, n: usize, what: &str| {
                assert_eq!(key(&base, b), key(&cap, n), "{name}: {what} {b} -> {n}");
            };
            let pairs = |bs: &[usize], ns: &[usize], what: &str| {
                assert_eq!(bs.len(), ns.len(), "{name}: {what}");
                for (b, n) in bs.iter().zip(ns) {
                    same(*b, *n, what);
                }
            };
            assert_eq!(be.loops.len(), ne.loops.len());
            for (bl, nl) in be.loops.iter().zip(&ne.loops) {
                pairs(&bl.challenge_sessions, &nl.challenge_sessions, "challenge");
                pairs(&bl.entra_sessions, &nl.entra_sessions, "entra");
                pairs(&bl.error_sessions, &nl.error_sessions, "error");
                pairs(&bl.sessions, &nl.sessions, "loop session");
                same(bl.first_session, nl.first_session, "first");
                same(bl.last_session, nl.last_session, "last");
                assert_eq!(bl.duration_ms, nl.duration_ms, "{name}: duration");
            }
            pairs(&be.aborted_sessions, &ne.aborted_sessions, "aborted");
            let layer_tunnels: Vec<usize> = ne
                .tunnel_sessions
                .iter()
                .copied()
                .filter(|n| !map.contains(n))
                .collect();
            assert_eq!(layer_tunnels.len(), 3, "{name}: the layer's tunnels");
            assert!(layer_tunnels
                .iter()
                .all(|&n| cap.sessions[n - 1].is_tunnel()));
            let base_tunnels: Vec<usize> = ne
                .tunnel_sessions
                .iter()
                .copied()
                .filter(|n| !layer_tunnels.contains(n))
                .collect();
            pairs(&be.tunnel_sessions, &base_tunnels, "tunnel");
            for (b, n) in be.delegates.iter().zip(&ne.delegates) {
                same(b.session, n.session, "delegate");
            }
            for (b, n) in be.delegate_errors.iter().zip(&ne.delegate_errors) {
                same(b.0, n.0, "delegate error");
            }
            let ba: Vec<usize> = be.aadsts_sessions.iter().map(|a| a.0).collect();
            let na: Vec<usize> = ne.aadsts_sessions.iter().map(|a| a.0).collect();
            pairs(&ba, &na, "aadsts");
            // Diagnostics: the base's, remapped, plus the layer's one 2000001 on Exchange Online.
            let mut extra = 0;
            let mut it = be.exchange_diagnostics.iter();
            for &(n, code) in &ne.exchange_diagnostics {
                if cap.sessions[n - 1].host() == "outlook.office365.com"
                    && cap.sessions[n - 1].role == Role::Noise
                {
                    assert_eq!(code, 2000001, "{name}");
                    extra += 1;
                    continue;
                }
                let &(b, bcode) = it.next().expect("a base diagnostic");
                same(b, n, "diagnostic");
                assert_eq!(bcode, code, "{name}");
            }
            assert_eq!(extra, 1, "{name}: the layer's expired-token 401");
            assert!(it.next().is_none(), "{name}: every base diagnostic kept");
            // Base sessions keep their order and the layer lands before, between and after.
            assert!(map.windows(2).all(|w| w[0] < w[1]), "{name}: order kept");
            assert!(map[0] > 1, "{name}: noise before");
            assert!(
                *map.last().unwrap() < cap.sessions.len(),
                "{name}: noise after"
            );
            for (i, &n) in map.iter().enumerate() {
                assert_eq!(
                    cap.sessions[n - 1].role,
                    base.sessions[i].role,
                    "{name}: base session {} kept its role",
                    i + 1
                );
            }
        }
    }
}
