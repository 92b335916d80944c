//! The answer an analyst reads first, and the exit code it maps to.
//!
//! A failure names its root cause and fix on the first line; several independent problems
//! get a line each, most severe first. A capture that cannot show the failure (nothing
//! decrypted to Exchange or Entra ID, no sessions, not what its name says) is
//! "inconclusive", never "OK".

use std::cmp::Ordering;

use serde::Serialize;

use super::coverage::{Coverage, Role};
use crate::flows::Flow;
use crate::rules::{first_sentence, session_list, Finding, MissingSpn, Severity};

/// What a capture, a command or a whole batch amounts to; its value is the process exit
/// code, a contract batch scripts branch on (README.md, `docs/report-schema.md`). The one
/// status type: the verdict, `batch` and every command return it. Ordered by how much it
/// needs a person (`max` over a batch is its status): clean < inconclusive < findings <
/// unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Analysed; nothing of severity `error`, and the capture could show a failure.
    Clean = 0,
    /// Analysed; at least one `error` finding.
    Findings = 1,
    /// A usage error, or a capture that could not be read at all (or whose analysis
    /// panicked).
    Unreadable = 2,
    /// Analysed, no `error` finding, but the capture cannot show the failure: no sessions,
    /// nothing decrypted to the hosts the diagnosis needs. Capture again.
    Inconclusive = 3,
}

impl Status {
    /// The process exit code: 0, 1, 2 or 3.
    pub fn code(self) -> i32 {
        self as i32
    }

    fn rank(self) -> u8 {
        match self {
            Status::Clean => 0,
            Status::Inconclusive => 1,
            Status::Findings => 2,
            Status::Unreadable => 3,
        }
    }
}

impl Ord for Status {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for Status {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(self.code())
    }
}

/// The verdict on one capture.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The worst finding's severity, `inconclusive`, or `ok`.
    pub status: &'static str,
    /// What the capture amounts to; serialised as the exit code (0, 1 or 3).
    pub exit_code: Status,
    /// The first line: the root cause and its fix, or why nothing can be concluded.
    pub summary: String,
    /// One line per independent problem (`error` findings), most severe first; the first is
    /// `summary`. Empty when there is no error.
    pub causes: Vec<String>,
    /// What the conclusions do not rest on: hosts seen only as undecrypted tunnels.
    pub caveats: Vec<String>,
}

/// What the verdict is judged from.
pub(super) struct Evidence<'a> {
    pub findings: &'a [Finding],
    pub flows: &'a [Flow],
    pub missing: &'a [MissingSpn],
    pub coverage: &'a Coverage,
    /// Problems of the capture as a whole (no session number): why it may hold nothing.
    pub capture_notes: Vec<&'a str>,
    /// What the file is ("SAZ", "HAR").
    pub format: &'a str,
}

/// Judge the capture.
pub(super) fn judge(e: &Evidence) -> Verdict {
    let worst = e.findings.iter().map(|f| f.severity).max();
    let causes = causes(e);
    let caveats = caveats(e.coverage);
    if worst == Some(Severity::Error) {
        return Verdict {
            status: "error",
            exit_code: Status::Findings,
            summary: causes.first().cloned().unwrap_or_default(),
            causes,
            caveats,
        };
    }
    if let Some(why) = inconclusive(e) {
        // The summary already says what the damage is: the caveats keep the rest.
        let damage = !e.coverage.lost.is_empty() || !e.coverage.incomplete.is_empty();
        return Verdict {
            status: "inconclusive",
            exit_code: Status::Inconclusive,
            summary: why,
            causes,
            caveats: if damage {
                blind_caveats(e.coverage)
            } else {
                caveats
            },
        };
    }
    let noted: Vec<&str> = e
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Info)
        .map(|f| f.id.as_str())
        .collect();
    let noted = if noted.is_empty() {
        String::new()
    } else {
        format!(" Normal steps noted: {}.", noted.join(", "))
    };
    let summary = if let Some(f) = e.findings.iter().find(|f| f.severity == Severity::Warning) {
        format!("No blocking error; worth a look: {}", f.title)
    } else if e.flows.is_empty() {
        format!("No modern-auth flow and no known failure in this capture.{noted}")
    } else {
        let ok = e.flows.iter().filter(|f| !f.state.is_loop()).count();
        format!(
            "No failure found: {ok} of {} token flow(s) ended with a token the client kept \
             using.{noted}",
            e.flows.len()
        )
    };
    Verdict {
        status: worst.map_or("ok", Severity::as_str),
        exit_code: Status::Clean,
        summary,
        causes,
        caveats,
    }
}

/// One line per independent problem, in the findings' order (most severe first, causes
/// before symptoms): the missing SPNs share one line (one script fixes them), an http
/// resource leads with its URL and names the SPN as the second step.
fn causes(e: &Evidence) -> Vec<String> {
    let errors: Vec<&Finding> = e
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let http_hosts: Vec<String> = e
        .flows
        .iter()
        .filter(|f| f.resource.is_plain_http())
        .filter_map(|f| f.resource.spn())
        .collect();
    let mut lines = Vec::new();
    let mut spns_said = false;
    let mut said: Vec<&Finding> = Vec::new();
    // Rules whose findings on several hosts were said as one line.
    let mut merged: Vec<&str> = Vec::new();
    // The same sessions explained again (the x-ms-diagnostics code of a refusal a more
    // specific finding names): one problem, one line.
    let covered = |f: &Finding, said: &[&Finding]| {
        !f.sessions.is_empty()
            && said.iter().any(|g| {
                f.sessions
                    .iter()
                    .all(|s| g.sessions.binary_search(s).is_ok())
            })
    };
    for (i, f) in errors.iter().copied().enumerate() {
        let seen = covered(f, &said) || merged.contains(&f.id.as_str());
        said.push(f);
        if seen {
            continue;
        }
        // One cause on several hosts (one device, one proxy): one line, as all missing SPNs
        // are one line.
        let same: Vec<&Finding> = std::iter::once(f)
            .chain(
                errors[i + 1..]
                    .iter()
                    .copied()
                    .filter(|g| g.id == f.id && !covered(g, &said)),
            )
            .collect();
        if same.len() > 1 {
            if let Some(line) = crate::rules::one_cause(&f.id, &same) {
                merged.push(f.id.as_str());
                lines.push(line);
                continue;
            }
        }
        match f.id.as_str() {
            "http-resource" => {
                let spn = e
                    .missing
                    .iter()
                    .find(|m| f.sessions.iter().any(|s| m.sessions.contains(s)))
                    .map(|m| m.spn.as_str());
                lines.push(format!(
                    "{}: serve it over https (virtual directory URLs, autodiscover answer, TLS \
                     offload at the load balancer) so the client asks for https{}.",
                    f.title,
                    match spn {
                        Some(spn) => format!(
                            "; second step: add {spn} to Exchange Online's SPNs with the \
                             script below"
                        ),
                        None => String::new(),
                    }
                ));
            }
            "spn-missing" if !spns_said => {
                spns_said = true;
                let spns: Vec<&str> = e
                    .missing
                    .iter()
                    .map(|m| m.spn.as_str())
                    .filter(|s| !http_hosts.iter().any(|h| h == s))
                    .collect();
                if spns.is_empty() {
                    continue;
                }
                let loops: Vec<&Flow> = e
                    .flows
                    .iter()
                    .filter(|f| f.is_loop())
                    .filter(|f| f.resource.spn().is_some_and(|s| spns.contains(&s.as_str())))
                    .collect();
                let retried = match loops.iter().map(|f| f.attempts.len()).max() {
                    Some(n) => format!(" (the client retried {n} times)"),
                    None => String::new(),
                };
                lines.push(format!(
                    "Outlook modern-auth failure: Entra ID does not know {} as a resource of \
                     Exchange Online{retried}. Add the SPN(s) with the script below.",
                    spns.join(", ")
                ));
            }
            "spn-missing" => {}
            _ => lines.push(format!("{}. {}", f.title, first_sentence(&f.fix))),
        }
    }
    lines
}

/// Why the capture cannot show a failure, when it cannot.
fn inconclusive(e: &Evidence) -> Option<String> {
    let c = e.coverage;
    if c.sessions == 0 {
        let why = if e.capture_notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", e.capture_notes.join("; "))
        };
        return Some(format!(
            "Inconclusive: the {} holds no sessions{why}. Capture again while the problem \
             happens, and check that this is the file the user saved.",
            e.format
        ));
    }
    let blind = Coverage::describe_blind(c.blind.iter());
    if c.relevant_sessions == 0 {
        return Some(if c.blind.is_empty() {
            format!(
                "Inconclusive: none of the {} session(s) went to Exchange, Exchange Online or \
                 Entra ID. Capture again on the user's machine while Outlook or Teams shows \
                 the problem.",
                c.sessions
            )
        } else {
            format!(
                "Inconclusive: HTTPS decryption was off: {blind} were never decrypted. \
                 Capture again with HTTPS decryption on (Fiddler: Tools > Options > HTTPS > \
                 Decrypt HTTPS traffic)."
            )
        });
    }
    let entra_blind: Vec<_> = c.blind_of(Role::EntraId).collect();
    if !c.lost.is_empty() {
        return Some(format!(
            "Inconclusive: the capture is damaged ({}{}); the {} session(s) read show no \
             failure, but what was lost may hold it. Ask for the capture again (zip it whole; \
             an upload cut short is the usual cause).",
            c.lost[0],
            match c.lost.len() {
                1 => String::new(),
                n => format!(", and {} more problem(s)", n - 1),
            },
            c.sessions
        ));
    }
    if !c.incomplete.is_empty() && c.unrecorded == c.incomplete {
        return Some(format!(
            "Inconclusive: the NetLog was captured without \"Include raw bytes\", and {} \
             session(s) the diagnosis needs had a body it does not hold (sessions {}): what \
             Entra ID and Exchange answered in them is not in this log. Log again with \
             edge://net-export set to \"Include raw bytes\".",
            c.incomplete.len(),
            session_list(&c.incomplete)
        ));
    }
    if !c.incomplete.is_empty() {
        return Some(format!(
            "Inconclusive: {} session(s) the diagnosis needs were not fully read (sessions {}; \
             see the capture problems): their bodies may hold the failure. Analyse again with \
             a larger --max-body-mib, or ask for the capture again.",
            c.incomplete.len(),
            session_list(&c.incomplete)
        ));
    }
    if e.flows.is_empty() && !entra_blind.is_empty() && c.entra_sessions == 0 {
        return Some(format!(
            "Inconclusive: the Exchange traffic is decrypted but Entra ID's is not: {} were \
             never decrypted, so what Entra ID answered is not in this capture. Capture \
             again with HTTPS decryption on for Entra ID's hosts too.",
            Coverage::describe_blind(entra_blind.into_iter())
        ));
    }
    None
}

/// What the conclusions do not rest on.
fn caveats(c: &Coverage) -> Vec<String> {
    let mut out = Vec::new();
    if !c.lost.is_empty() {
        out.push(format!(
            "Damaged: {} problem(s) cost sessions or the end of the file ({}); the \
             conclusions rest on the sessions read.",
            c.lost.len(),
            c.lost[0]
        ));
    }
    if !c.incomplete.is_empty() {
        out.push(format!(
            "Not fully read: sessions {} (needed by the diagnosis); see the capture problems.",
            session_list(&c.incomplete)
        ));
    }
    out.extend(blind_caveats(c));
    out
}

/// Hosts seen only as tunnels, per role.
fn blind_caveats(c: &Coverage) -> Vec<String> {
    [Role::EntraId, Role::ExchangeOnline, Role::Exchange]
        .into_iter()
        .filter_map(|role| {
            let blind: Vec<_> = c.blind_of(role).collect();
            (!blind.is_empty()).then(|| {
                format!(
                    "Not decrypted: {}; what {} answered there is not in this capture.",
                    Coverage::describe_blind(blind.into_iter()),
                    role.as_str()
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch's status is the max of its captures': an inconclusive capture outranks a
    /// clean one and is outranked by an error, while its exit code is 3.
    #[test]
    fn status_order_is_by_need_not_by_exit_code() {
        use Status::*;
        let mut all = vec![Unreadable, Findings, Inconclusive, Clean];
        all.sort();
        assert_eq!(all, vec![Clean, Inconclusive, Findings, Unreadable]);
        assert_eq!(
            [Clean, Findings, Unreadable, Inconclusive].map(Status::code),
            [0, 1, 2, 3]
        );
        assert_eq!([Clean, Inconclusive].into_iter().max(), Some(Inconclusive));
    }

    /// The verdict on a SAZ with no finding and no flow, given what it could show.
    fn nothing_found(c: &Coverage, notes: Vec<&str>) -> Verdict {
        judge(&Evidence {
            findings: &[],
            flows: &[],
            missing: &[],
            coverage: c,
            capture_notes: notes,
            format: "SAZ",
        })
    }

    fn coverage(sessions: usize, relevant: usize) -> Coverage {
        Coverage {
            sessions,
            relevant_sessions: relevant,
            ..Coverage::default()
        }
    }

    #[test]
    fn a_damaged_capture_is_never_ok() {
        let mut c = coverage(40, 12);
        c.lost = vec!["session 41: capture ends early: the JSON stops at byte offset 9000".into()];
        let v = nothing_found(&c, vec![]);
        assert_eq!(
            (v.status, v.exit_code),
            ("inconclusive", Status::Inconclusive)
        );
        assert!(
            v.summary.contains("the capture is damaged (session 41"),
            "{}",
            v.summary
        );
        assert!(
            v.caveats.is_empty(),
            "said once, in the summary: {:?}",
            v.caveats
        );
        assert_eq!(caveats(&c)[0], "Damaged: 1 problem(s) cost sessions or the end of the file (session 41: capture ends early: the JSON stops at byte offset 9000); the conclusions rest on the sessions read.");
        let mut c = coverage(40, 12);
        c.incomplete = vec![7, 9];
        let v = nothing_found(&c, vec![]);
        assert_eq!(v.exit_code, Status::Inconclusive);
        assert!(v.summary.contains("(sessions 7, 9;"), "{}", v.summary);
    }

    #[test]
    fn nothing_to_see_is_inconclusive_never_ok() {
        let v = nothing_found(
            &coverage(0, 0),
            vec!["the archive holds no Fiddler session"],
        );
        assert_eq!(
            (v.status, v.exit_code),
            ("inconclusive", Status::Inconclusive)
        );
        assert!(
            v.summary.contains("holds no sessions (the archive holds"),
            "{}",
            v.summary
        );
        let v = nothing_found(&coverage(40, 0), vec![]);
        assert!(
            v.summary.contains("none of the 40 session(s)"),
            "{}",
            v.summary
        );
        let v = nothing_found(&coverage(40, 3), vec![]);
        assert_eq!((v.status, v.exit_code), ("ok", Status::Clean));
    }
}
