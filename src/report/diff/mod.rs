//! `traceadal diff BEFORE AFTER`: two analysed captures of the same user, before and after a
//! change, projected onto what changed (the `traceadal.diff/1` document, `docs/diff.md`).
//!
//! Nothing is judged again here: flows, findings, AADSTS codes, missing SPNs, coverage and
//! verdicts are the two analyses' own. Session numbers differ between captures, so flows are
//! matched by their resource and client (process name without its id, `client_id`), and
//! findings by their id and subject (the hosts of the SPNs a remedy names, else the hosts of
//! the sessions the finding cites, Entra ID's left out). A finding of BEFORE that AFTER does
//! not hold is "resolved" only when AFTER could have shown it: decrypted traffic to its
//! host, to Entra ID when it rests on Entra's answers, the token request of the flow it
//! explained, and an AFTER verdict that is not inconclusive. Otherwise it is "not shown",
//! and the diff never says "fixed".

pub mod render;

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Report, Tool};
use crate::analysis::limits::process_name;
use crate::analysis::{Analysis, Status};
use crate::auth::login::is_authority_host;
use crate::flows::{Flow, Outcome, State};
use crate::rules::{Finding, Remedy, Severity};

/// The schema identifier. Fields may be added under it; none may change meaning.
pub const SCHEMA: &str = "traceadal.diff/1";

/// One analysed capture, as the diff reads it.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    pub analysis: &'a Analysis,
    pub report: &'a Report,
}

/// The `traceadal.diff/1` document.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub schema: &'static str,
    pub tool: Tool,
    pub before: CaptureSide,
    pub after: CaptureSide,
    pub verdict: DiffVerdict,
    /// Resources that failed with AADSTS500011 (or 50001) in BEFORE and got a token in AFTER.
    pub spns_accepted: Vec<AcceptedSpn>,
    pub flows: Vec<FlowChange>,
    pub findings: Vec<FindingChange>,
}

/// One of the two captures and its own verdict.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureSide {
    pub path: String,
    pub format: &'static str,
    pub sessions: usize,
    /// The capture's verdict status (`error`, `warning`, `info`, `ok`, `inconclusive`).
    pub status: &'static str,
    pub exit_code: Status,
    pub summary: String,
}

/// What changed between BEFORE and AFTER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Failing (a flow) or present (a finding) in BEFORE; working or absent in an AFTER that
    /// could show it.
    Resolved,
    /// Failing or present in both.
    Still,
    /// Failing or present in AFTER only.
    New,
    /// In BEFORE, and AFTER cannot tell (it does not reach the host, Entra ID is not
    /// decrypted, the client asked no token, AFTER is inconclusive).
    NotShown,
    /// A flow that works in both, or only in AFTER and works.
    Ok,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Resolved => "resolved",
            Change::Still => "still",
            Change::New => "new",
            Change::NotShown => "not_shown",
            Change::Ok => "ok",
        }
    }
}

/// The one-line answer and the exit code a script branches on.
#[derive(Debug, Clone, Serialize)]
pub struct DiffVerdict {
    /// `fixed`, `still_failing`, `new_errors`, `not_shown` or `nothing_new`.
    pub status: &'static str,
    /// 0 fixed or nothing new, 1 still failing or new errors, 3 not shown.
    pub exit_code: Status,
    /// The first line: `fixed: no AADSTS500011 for autodiscover.contoso.com in AFTER; ...`.
    pub summary: String,
    /// One line per kind of change (still failing, new, not shown, fixed), the summary first.
    pub lines: Vec<String>,
}

/// A resource Entra ID did not know in BEFORE and issued a token for in AFTER.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptedSpn {
    pub spn: String,
    pub tenant: Option<String>,
    /// The AADSTS codes BEFORE got for it.
    pub before_aadsts: Vec<u32>,
    /// Who got the token in AFTER (`Outlook`).
    pub client: String,
    /// The rounds AFTER's flow took.
    pub rounds: usize,
    /// AFTER's sessions of that flow.
    pub after_sessions: Vec<u64>,
}

/// The flows of one resource and client in one capture.
#[derive(Debug, Clone, Serialize)]
pub struct FlowSide {
    /// How many flows (usually 1).
    pub flows: usize,
    /// Rounds of all of them.
    pub attempts: usize,
    /// The last flow's state and outcome.
    pub state: State,
    pub outcome: Outcome,
    pub aadsts: Vec<u32>,
    pub sessions: Vec<u64>,
}

/// A flow matched across the two captures.
#[derive(Debug, Clone, Serialize)]
pub struct FlowChange {
    pub change: Change,
    pub resource: String,
    /// For a person: `Outlook`, `Teams`, else the application or process name.
    pub client: String,
    /// The process name without its id (`outlook`), when the capture tells it.
    pub client_process: Option<String>,
    pub client_id: Option<String>,
    pub before: Option<FlowSide>,
    pub after: Option<FlowSide>,
    /// Why AFTER cannot tell, for `not_shown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not_shown: Option<String>,
}

/// A finding in one capture.
#[derive(Debug, Clone, Serialize)]
pub struct FindingSide {
    pub severity: Severity,
    pub title: String,
    /// The AADSTS codes answered in the sessions it cites.
    pub aadsts: Vec<u32>,
    pub sessions: Vec<u64>,
}

/// A finding matched across the two captures.
#[derive(Debug, Clone, Serialize)]
pub struct FindingChange {
    pub change: Change,
    pub id: String,
    /// What it is about: host names, lower-case, sorted.
    pub subject: Vec<String>,
    pub before: Option<FindingSide>,
    pub after: Option<FindingSide>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not_shown: Option<String>,
}

impl FindingChange {
    /// The severity that counts: AFTER's when it holds the finding.
    pub fn severity(&self) -> Severity {
        self.after
            .as_ref()
            .or(self.before.as_ref())
            .map_or(Severity::Info, |s| s.severity)
    }
}

impl Diff {
    pub fn new(before: Side, after: Side) -> Diff {
        let flows = match_flows(before, after);
        let findings = match_findings(before, after, &flows);
        let spns_accepted = accepted_spns(before, &flows);
        let verdict = verdict(before, after, &flows, &findings);
        Diff {
            schema: SCHEMA,
            tool: before.report.tool.clone(),
            before: capture_side(before.report),
            after: capture_side(after.report),
            verdict,
            spns_accepted,
            flows: flows.into_iter().map(|m| m.change).collect(),
            findings,
        }
    }
}

fn capture_side(r: &Report) -> CaptureSide {
    CaptureSide {
        path: r.capture.path.clone(),
        format: r.capture.format,
        sessions: r.capture.sessions,
        status: r.verdict.status,
        exit_code: r.verdict.exit_code,
        summary: r.verdict.summary.clone(),
    }
}

fn failing(state: State) -> bool {
    matches!(state, State::Failed | State::Looping | State::Refused)
}

/// The client for a person.
fn client_label(f: &Flow) -> String {
    let known = |p: &str| match p {
        "outlook" => Some("Outlook"),
        "ms-teams" | "teams" => Some("Teams"),
        "msedge" | "msedgewebview2" => Some("Edge"),
        "chrome" => Some("Chrome"),
        _ => None,
    };
    let process = f.client_process.as_deref().map(process_name);
    if let Some(k) = process.as_deref().and_then(known) {
        return k.to_string();
    }
    if let Some(name) = f.client_name {
        return name.to_string();
    }
    process
        .or_else(|| f.client_id.clone())
        .unwrap_or_else(|| "the client".to_string())
}

/// The flows of one resource and client in one capture, in order of first appearance.
struct Group<'a> {
    resource: String,
    process: Option<String>,
    client_id: Option<String>,
    flows: Vec<&'a Flow>,
}

impl Group<'_> {
    fn compatible(&self, o: &Group) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        self.resource == o.resource
            && same(&self.process, &o.process)
            && same(&self.client_id, &o.client_id)
    }

    fn exact(&self, o: &Group) -> bool {
        self.resource == o.resource && self.process == o.process && self.client_id == o.client_id
    }

    fn last(&self) -> &Flow {
        // A group is made with one flow and only grows.
        self.flows.iter().copied().fold(self.flows[0], |last, f| {
            if f.last_session >= last.last_session {
                f
            } else {
                last
            }
        })
    }

    fn side(&self) -> FlowSide {
        let last = self.last();
        let mut aadsts: Vec<u32> = Vec::new();
        let mut sessions: BTreeSet<u64> = BTreeSet::new();
        for f in &self.flows {
            for c in &f.aadsts {
                if !aadsts.contains(c) {
                    aadsts.push(*c);
                }
            }
            sessions.extend(f.sessions.iter().copied());
        }
        FlowSide {
            flows: self.flows.len(),
            attempts: self.flows.iter().map(|f| f.attempts.len()).sum(),
            state: last.state,
            outcome: last.outcome,
            aadsts,
            sessions: sessions.into_iter().collect(),
        }
    }

    /// The rounds the first flow that ended well took to its first token (not the hourly
    /// refreshes after it), and its sessions.
    fn token_rounds(&self) -> Option<(usize, Vec<u64>)> {
        let f = self
            .flows
            .iter()
            .find(|f| !failing(f.state) && f.outcome == Outcome::Token)?;
        let first = f
            .attempts
            .iter()
            .position(|a| a.outcome == Outcome::Token)?;
        Some((first + 1, f.sessions.clone()))
    }
}

fn groups(report: &Report) -> Vec<Group<'_>> {
    let mut out: Vec<Group> = Vec::new();
    for l in &report.loops {
        let f: &Flow = l;
        let g = Group {
            resource: f.resource.to_string(),
            process: f.client_process.as_deref().map(process_name),
            client_id: f.client_id.as_ref().map(|c| c.to_ascii_lowercase()),
            flows: vec![f],
        };
        match out.iter_mut().find(|o| o.exact(&g)) {
            Some(o) => o.flows.push(f),
            None => out.push(g),
        }
    }
    out
}

/// A flow change with the groups behind it, for the findings and the verdict.
struct Matched<'a> {
    change: FlowChange,
    before: Option<Group<'a>>,
    after: Option<Group<'a>>,
}

fn match_flows<'a>(before: Side<'a>, after: Side<'a>) -> Vec<Matched<'a>> {
    let mut afters: Vec<Option<Group>> = groups(after.report).into_iter().map(Some).collect();
    let mut out = Vec::new();
    for b in groups(before.report) {
        let exact = afters
            .iter()
            .position(|a| a.as_ref().is_some_and(|a| a.exact(&b)));
        let found = exact.or_else(|| {
            afters
                .iter()
                .position(|a| a.as_ref().is_some_and(|a| a.compatible(&b)))
        });
        let a = found.and_then(|i| afters[i].take());
        if let Some(change) = flow_change(after, Some(&b), a.as_ref()) {
            out.push(Matched {
                change,
                before: Some(b),
                after: a,
            });
        }
    }
    for a in afters.into_iter().flatten() {
        if let Some(change) = flow_change(after, None, Some(&a)) {
            out.push(Matched {
                change,
                before: None,
                after: Some(a),
            });
        }
    }
    out
}

/// BEFORE's group `b` against AFTER's `a` (at least one of them).
fn flow_change(after: Side, b: Option<&Group>, a: Option<&Group>) -> Option<FlowChange> {
    let shown = a.or(b)?;
    let (bs, as_) = (b.map(Group::side), a.map(Group::side));
    let mut why = None;
    let change = match (&bs, &as_) {
        (Some(bs), Some(as_)) => match (failing(bs.state), failing(as_.state)) {
            (true, false) => Change::Resolved,
            (true, true) => Change::Still,
            (false, true) => Change::New,
            (false, false) => Change::Ok,
        },
        (None, Some(as_)) if failing(as_.state) => Change::New,
        (None, Some(_)) => Change::Ok,
        (_, None) => {
            let f = shown.last();
            let host = f
                .challenge_host
                .clone()
                .unwrap_or_else(|| f.resource.host().to_string());
            why = Some(
                unreached(after, &[host.to_ascii_lowercase()], true).unwrap_or_else(|| {
                    format!(
                        "AFTER reaches {host} but holds no token request for {}",
                        f.resource
                    )
                }),
            );
            Change::NotShown
        }
    };
    // Named from the side whose capture tells the process (a HAR often does not).
    let named = [b, a]
        .into_iter()
        .flatten()
        .map(|g| g.flows[0])
        .find(|f| f.client_process.is_some())
        .unwrap_or(shown.flows[0]);
    Some(FlowChange {
        change,
        resource: shown.resource.clone(),
        client: client_label(named),
        client_process: named.client_process.as_deref().map(process_name),
        client_id: shown.client_id.clone(),
        before: bs,
        after: as_,
        why_not_shown: why,
    })
}

/// A finding gone while a flow it explained still fails (another error, a sign-in not
/// finished) is not fixed: the client still gets no token. The finding's BEFORE side, the
/// flow, and the flow's AFTER side.
fn still_flow<'m>(
    flows: &'m [Matched],
    f: &'m FindingChange,
) -> Option<(&'m FindingSide, &'m FlowChange, &'m FlowSide)> {
    let b = f.before.as_ref()?;
    explained(flows, &b.sessions)
        .filter(|m| m.change.change == Change::Still)
        .find_map(|m| Some((b, &m.change, m.change.after.as_ref()?)))
}

/// The flows BEFORE's finding citing `sessions` was about: those sharing a session with it.
fn explained<'m, 'a>(
    flows: &'m [Matched<'a>],
    sessions: &'m [u64],
) -> impl Iterator<Item = &'m Matched<'a>> + 'm {
    flows.iter().filter(move |m| {
        m.before.as_ref().is_some_and(|g| {
            g.flows
                .iter()
                .any(|f| f.sessions.iter().any(|s| sessions.binary_search(s).is_ok()))
        })
    })
}

/// Why AFTER cannot show what happens at `hosts` (`None`: it can). `entra`: the evidence is
/// Entra ID's answer, so AFTER must hold decrypted Entra ID traffic too.
fn unreached(after: Side, hosts: &[String], entra: bool) -> Option<String> {
    let sessions = &after.analysis.sessions;
    let at = |h: &str| -> Vec<bool> {
        sessions
            .iter()
            .filter(|s| s.host.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(h)))
            .map(|s| s.flags.tunnel)
            .collect()
    };
    if !hosts.is_empty() && !hosts.iter().any(|h| at(h).iter().any(|tunnel| !tunnel)) {
        let h = &hosts[0];
        return Some(if !at(h).is_empty() {
            format!("AFTER sees {h} only as undecrypted tunnel(s)")
        } else {
            format!("AFTER does not reach {h} at all")
        });
    }
    if entra && after.report.coverage.entra_sessions == 0 {
        return Some("AFTER holds no decrypted session to Entra ID".to_string());
    }
    if after.report.verdict.exit_code == Status::Inconclusive {
        return Some(format!(
            "AFTER is inconclusive ({})",
            after.report.verdict.summary
        ));
    }
    None
}

/// The host of `https://host/` or `https://host:port/`, lower-case.
fn spn_host(spn: &str) -> String {
    crate::capture::host_of(spn).unwrap_or_else(|| spn.to_ascii_lowercase())
}

fn host_of(a: &Analysis, id: u64) -> Option<&str> {
    a.sessions
        .binary_search_by_key(&id, |s| s.id)
        .ok()
        .and_then(|i| a.sessions[i].host.as_deref())
}

/// What a finding is about (host names) and whether it cites Entra ID's answers.
fn subject(a: &Analysis, f: &Finding) -> (Vec<String>, bool) {
    let cited: BTreeSet<String> = f
        .sessions
        .iter()
        .filter_map(|s| host_of(a, *s))
        .map(str::to_ascii_lowercase)
        .collect();
    let entra = cited.iter().any(|h| is_authority_host(h));
    let spns = match &f.remedy {
        Some(Remedy::AddSpns { spns, .. } | Remedy::PredictedSpns { spns, .. }) => spns.as_slice(),
        _ => &[],
    };
    let mut hosts: BTreeSet<String> = spns.iter().map(|s| spn_host(s)).collect();
    if hosts.is_empty() {
        hosts = cited
            .iter()
            .filter(|h| !is_authority_host(h))
            .cloned()
            .collect();
    }
    if hosts.is_empty() {
        hosts = cited;
    }
    (hosts.into_iter().collect(), entra)
}

/// The AADSTS codes answered in `f`'s sessions.
fn codes_of(r: &Report, f: &Finding) -> Vec<u32> {
    let mut out: Vec<u32> = r
        .aadsts
        .iter()
        .filter(|a| {
            a.sessions
                .iter()
                .any(|s| f.sessions.binary_search(s).is_ok())
        })
        .map(|a| a.code)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn finding_side(r: &Report, f: &Finding) -> FindingSide {
    FindingSide {
        severity: f.severity,
        title: f.title.clone(),
        aadsts: codes_of(r, f),
        sessions: f.sessions.clone(),
    }
}

fn match_findings(before: Side, after: Side, flows: &[Matched]) -> Vec<FindingChange> {
    let mut afters: Vec<Option<(&Finding, Vec<String>)>> = after
        .report
        .findings
        .iter()
        .map(|f| Some((f, subject(after.analysis, f).0)))
        .collect();
    let mut out = Vec::new();
    for b in &before.report.findings {
        let (subj, entra) = subject(before.analysis, b);
        let hit = afters.iter().position(|a| {
            a.as_ref().is_some_and(|(f, s)| {
                f.id == b.id
                    && (s.iter().any(|h| subj.contains(h)) || (s.is_empty() && subj.is_empty()))
            })
        });
        if let Some((a, _)) = hit.and_then(|i| afters[i].take()) {
            out.push(FindingChange {
                change: Change::Still,
                id: b.id.clone(),
                subject: subj,
                before: Some(finding_side(before.report, b)),
                after: Some(finding_side(after.report, a)),
                why_not_shown: None,
            });
            continue;
        }
        // Gone from AFTER: resolved only if AFTER could have shown it, and if the flows it
        // explained were seen again.
        let why = unreached(after, &subj, entra).or_else(|| {
            explained(flows, &b.sessions)
                .filter(|m| m.change.change == Change::NotShown)
                .find_map(|m| m.change.why_not_shown.clone())
        });
        out.push(FindingChange {
            change: if why.is_some() {
                Change::NotShown
            } else {
                Change::Resolved
            },
            id: b.id.clone(),
            subject: subj,
            before: Some(finding_side(before.report, b)),
            after: None,
            why_not_shown: why,
        });
    }
    for (a, subj) in afters.into_iter().flatten() {
        out.push(FindingChange {
            change: Change::New,
            id: a.id.clone(),
            subject: subj,
            before: None,
            after: Some(finding_side(after.report, a)),
            why_not_shown: None,
        });
    }
    out
}

fn accepted_spns(before: Side, flows: &[Matched]) -> Vec<AcceptedSpn> {
    before
        .report
        .spn_details
        .iter()
        .filter_map(|d| {
            let (m, (rounds, sessions)) = flows.iter().find_map(|m| {
                let g = m.after.as_ref()?;
                let spn = g.flows[0].resource.spn()?;
                if !spn.eq_ignore_ascii_case(&d.spn) {
                    return None;
                }
                g.token_rounds().map(|t| (m, t))
            })?;
            Some(AcceptedSpn {
                spn: d.spn.clone(),
                tenant: d.tenant.clone(),
                before_aadsts: d.aadsts.clone(),
                client: m.change.client.clone(),
                rounds,
                after_sessions: sessions,
            })
        })
        .collect()
}

fn rounds(n: usize) -> String {
    if n == 1 {
        "1 round".to_string()
    } else {
        format!("{n} rounds")
    }
}

fn codes_text(codes: &[u32]) -> String {
    codes
        .iter()
        .map(|c| format!("AADSTS{c}"))
        .collect::<Vec<_>>()
        .join("/")
}

/// `spn-missing for autodiscover.contoso.com`, or `AADSTS500011 for ...` when codes say it.
fn what(id: &str, codes: &[u32], subject: &[String]) -> String {
    let head = if codes.is_empty() {
        id.to_string()
    } else {
        codes_text(codes)
    };
    if subject.is_empty() {
        head
    } else {
        format!("{head} for {}", subject.join(", "))
    }
}

fn verdict(
    before: Side,
    after: Side,
    flows: &[Matched],
    findings: &[FindingChange],
) -> DiffVerdict {
    let errors = |c: Change| -> Vec<&FindingChange> {
        findings
            .iter()
            .filter(|f| f.change == c && f.severity() == Severity::Error)
            .collect()
    };
    let (still, new, not_shown, resolved) = (
        errors(Change::Still),
        errors(Change::New),
        errors(Change::NotShown),
        errors(Change::Resolved),
    );
    let still_flow = |f| still_flow(flows, f);
    let (gone_but_failing, resolved): (Vec<&FindingChange>, Vec<&FindingChange>) =
        resolved.into_iter().partition(|f| still_flow(f).is_some());
    let mut lines: Vec<(&'static str, String)> = Vec::new();
    if !still.is_empty() || !gone_but_failing.is_empty() {
        let mut parts: Vec<String> = still
            .iter()
            .filter_map(|f| {
                let a = f.after.as_ref()?;
                Some(format!(
                    "{} in AFTER too ({})",
                    what(&f.id, &a.aadsts, &f.subject),
                    f.id
                ))
            })
            .collect();
        for f in &gone_but_failing {
            let Some((b, m, a)) = still_flow(f) else {
                continue;
            };
            let codes = if a.aadsts.is_empty() {
                String::new()
            } else {
                format!(", {}", codes_text(&a.aadsts))
            };
            parts.push(format!(
                "{} still gets no token for {} in AFTER ({}{codes}), though {} is gone",
                m.client,
                m.resource,
                a.state.as_str(),
                what(&f.id, &b.aadsts, &f.subject)
            ));
        }
        lines.push((
            "still_failing",
            format!("still failing: {}", parts.join("; ")),
        ));
    }
    if !new.is_empty() {
        let parts: Vec<String> = new
            .iter()
            .filter_map(|f| {
                let a = f.after.as_ref()?;
                Some(format!(
                    "{} ({})",
                    what(&f.id, &a.aadsts, &f.subject),
                    a.title
                ))
            })
            .collect();
        lines.push((
            "new_errors",
            format!("new error(s) in AFTER: {}", parts.join("; ")),
        ));
    }
    if !not_shown.is_empty() {
        let parts: Vec<String> = not_shown
            .iter()
            .map(|f| {
                format!(
                    "{}, cannot tell ({})",
                    f.why_not_shown.as_deref().unwrap_or("AFTER cannot show it"),
                    what(&f.id, &[], &f.subject)
                )
            })
            .collect();
        lines.push(("not_shown", format!("not shown: {}", parts.join("; "))));
    }
    if !resolved.is_empty() {
        let parts: Vec<String> = resolved
            .iter()
            .filter_map(|f| {
                let b = f.before.as_ref()?;
                let mut s = format!("no {} in AFTER", what(&f.id, &b.aadsts, &f.subject));
                let tokens: Vec<String> = explained(flows, &b.sessions)
                    .filter(|m| matches!(m.change.change, Change::Resolved | Change::Ok))
                    .filter_map(|m| {
                        let (n, _) = m.after.as_ref()?.token_rounds()?;
                        Some(format!("{} got a token in {}", m.change.client, rounds(n)))
                    })
                    .collect();
                for t in tokens {
                    s.push_str("; ");
                    s.push_str(&t);
                }
                Some(s)
            })
            .collect();
        lines.push(("fixed", format!("fixed: {}", parts.join("; "))));
    }
    let before_errors = before
        .report
        .findings
        .iter()
        .any(|f| f.severity == Severity::Error);
    if lines.is_empty() {
        if after.report.verdict.exit_code == Status::Inconclusive {
            lines.push((
                "not_shown",
                format!(
                    "not shown: AFTER is inconclusive ({}), cannot tell",
                    after.report.verdict.summary
                ),
            ));
        } else if before_errors {
            // Only errors whose finding became a warning: not fixed, not failing.
            lines.push((
                "nothing_new",
                "nothing new: no error finding in AFTER".to_string(),
            ));
        } else if before.report.verdict.exit_code == Status::Inconclusive {
            lines.push((
                "nothing_new",
                "nothing new: no error finding in AFTER (BEFORE was inconclusive: it could not \
                 show one)"
                    .to_string(),
            ));
        } else {
            lines.push((
                "nothing_new",
                "nothing new: no error finding in BEFORE or AFTER".to_string(),
            ));
        }
    }
    let new_warnings: Vec<String> = findings
        .iter()
        .filter(|f| f.change == Change::New && f.severity() == Severity::Warning)
        .map(|f| what(&f.id, &[], &f.subject))
        .collect();
    if !new_warnings.is_empty() {
        lines.push((
            "",
            format!("also new in AFTER (warning): {}", new_warnings.join("; ")),
        ));
    }
    let status = lines[0].0;
    let exit_code = match status {
        "still_failing" | "new_errors" => Status::Findings,
        "not_shown" => Status::Inconclusive,
        _ => Status::Clean,
    };
    let lines: Vec<String> = lines.into_iter().map(|(_, l)| l).collect();
    DiffVerdict {
        status,
        exit_code,
        summary: lines[0].clone(),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze_path, Collector};
    use crate::capture::testkit::S;
    use crate::capture::{DecodeLimits, Format, ReadOptions};

    fn sample(name: &str) -> Analysis {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(name);
        analyze_path(&path, &ReadOptions::default()).expect("the sample reads")
    }

    fn built(sessions: Vec<S>) -> Analysis {
        let mut c = Collector::new(DecodeLimits::default(), sessions.len());
        for S(s) in sessions {
            c.push_session(s);
        }
        c.finish(std::path::Path::new("after.saz"), Format::Saz)
    }

    fn diff(before: &Analysis, after: &Analysis) -> Diff {
        let (rb, ra) = (Report::new(before), Report::new(after));
        Diff::new(
            Side {
                analysis: before,
                report: &rb,
            },
            Side {
                analysis: after,
                report: &ra,
            },
        )
    }

    /// AFTER reaches the autodiscover host and Entra ID, decrypted, with a clean verdict,
    /// but the client asks no token for the resource that failed (a token from before the
    /// capture, or the request not reproduced): not "fixed".
    #[test]
    fn no_token_request_in_after_is_not_shown() {
        let before = sample("adal-500011-json.saz");
        let after = built(vec![
            S::new(
                1,
                "POST",
                "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                200,
            )
            .process("outlook:77"),
            S::new(
                2,
                "GET",
                "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1",
                200,
            )
            .process("outlook:77"),
        ]);
        assert_eq!(
            after.verdict.exit_code,
            Status::Clean,
            "{:?}",
            after.verdict
        );
        let d = diff(&before, &after);
        assert_eq!(d.verdict.status, "not_shown", "{:?}", d.verdict);
        assert_eq!(d.verdict.exit_code, Status::Inconclusive);
        assert_eq!(
            d.verdict.summary,
            "not shown: AFTER reaches autodiscover.contoso.com but holds no token request for \
             https://autodiscover.contoso.com/, cannot tell (spn-missing for \
             autodiscover.contoso.com)"
        );
        assert!(d.spns_accepted.is_empty());
    }

    /// A finding with the same id about another host is not "still there": the two-host
    /// capture's mail.contoso.com SPN is not matched to autodiscover's.
    #[test]
    fn same_id_other_subject_is_not_still() {
        let before = sample("two-hosts.saz");
        let after = sample("adal-500011-json.saz");
        let d = diff(&before, &after);
        let still: Vec<&[String]> = d
            .findings
            .iter()
            .filter(|f| f.change == Change::Still)
            .map(|f| f.subject.as_slice())
            .collect();
        assert_eq!(
            still,
            vec![["autodiscover.contoso.com".to_string()].as_slice()]
        );
        // And the other way round: the mail.contoso.com SPN is new, not "still".
        let d = diff(&after, &before);
        let new: Vec<(&str, &[String])> = d
            .findings
            .iter()
            .filter(|f| f.change == Change::New)
            .map(|f| (f.id.as_str(), f.subject.as_slice()))
            .collect();
        assert!(
            new.contains(&("spn-missing", ["mail.contoso.com".to_string()].as_slice())),
            "{new:?}"
        );
        assert_eq!(d.verdict.status, "still_failing");
    }

    /// The hourly refreshes of a working day are not the rounds it took to get a token.
    #[test]
    fn rounds_count_to_the_first_token() {
        let d = diff(
            &sample("adal-500011-json.saz"),
            &sample("healthy-workday.saz"),
        );
        assert_eq!(d.verdict.status, "fixed");
        let f = d
            .flows
            .iter()
            .find(|f| f.resource == "https://autodiscover.contoso.com/")
            .expect("the flow");
        assert_eq!(f.change, Change::Resolved);
        assert!(f.after.as_ref().is_some_and(|a| a.attempts > 2), "{f:?}");
        assert_eq!(d.spns_accepted[0].rounds, 1, "{:?}", d.spns_accepted);
    }

    #[test]
    fn process_names_lose_their_id_and_extension() {
        assert_eq!(process_name("outlook:4242"), "outlook");
        assert_eq!(process_name("OUTLOOK.EXE:17"), "outlook");
        assert_eq!(process_name("ms-teams"), "ms-teams");
    }

    #[test]
    fn spn_hosts() {
        assert_eq!(
            spn_host("https://AutoDiscover.contoso.com/"),
            "autodiscover.contoso.com"
        );
        assert_eq!(
            spn_host("https://mail.contoso.com:8443/"),
            "mail.contoso.com"
        );
        assert_eq!(spn_host("mail.contoso.com"), "mail.contoso.com");
    }

    #[test]
    fn what_names_codes_before_ids() {
        let s = vec!["autodiscover.contoso.com".to_string()];
        assert_eq!(
            what("spn-missing", &[500011], &s),
            "AADSTS500011 for autodiscover.contoso.com"
        );
        assert_eq!(what("mapi-error", &[], &[]), "mapi-error");
        assert_eq!(rounds(1), "1 round");
        assert_eq!(rounds(6), "6 rounds");
    }
}
