//! The one-line answer an analyst reads first, and the exit code it maps to.

use serde::Serialize;

use crate::flows::{Flow, Outcome};
use crate::rules::{Finding, MissingSpn, Severity};

/// What a capture, a command or a whole batch amounts to, ordered so that the worst is the
/// largest; its discriminant is the process exit code, a contract batch scripts branch on
/// (README.md, `docs/report-schema.md`). The one status type: the verdict, `batch` and
/// every command return it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Analysed; nothing of severity `error`.
    Clean = 0,
    /// Analysed; at least one `error` finding.
    Findings = 1,
    /// A usage error, or a capture that could not be read at all (or whose analysis
    /// panicked).
    Unreadable = 2,
}

impl Status {
    /// The process exit code: 0, 1 or 2.
    pub fn code(self) -> i32 {
        self as i32
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
    /// The worst finding's severity, or `ok`.
    pub status: &'static str,
    /// What the capture amounts to; serialised as the exit code (0 or 1).
    pub exit_code: Status,
    pub summary: String,
}

/// Judge the capture from its findings and flows.
pub(super) fn judge(findings: &[Finding], flows: &[Flow], missing: &[MissingSpn]) -> Verdict {
    let worst = findings.iter().map(|f| f.severity).max();
    let exit_code = if worst == Some(Severity::Error) {
        Status::Findings
    } else {
        Status::Clean
    };
    let summary = if !missing.is_empty() {
        let spns: Vec<&str> = missing.iter().map(|m| m.spn.as_str()).collect();
        let loops = flows.iter().filter(|f| f.is_loop()).count();
        format!(
            "Outlook modern-auth failure: Entra ID does not know {} as a resource of Exchange Online{}. Add the SPN(s) with the script below.",
            spns.join(", "),
            if loops > 0 {
                format!(" ({loops} looping flow(s))")
            } else {
                String::new()
            }
        )
    } else if let Some(f) = findings.iter().find(|f| f.severity == Severity::Error) {
        format!("Problem found: {}", f.title)
    } else if let Some(f) = findings.first() {
        format!("No blocking error; worth a look: {}", f.title)
    } else if flows.is_empty() {
        "No modern-auth flow and no known failure in this capture.".to_string()
    } else {
        let ok = flows.iter().filter(|f| f.outcome == Outcome::Token).count();
        format!(
            "No failure found: {ok} of {} token flow(s) ended with a token.",
            flows.len()
        )
    };
    Verdict {
        status: worst.map_or("ok", Severity::as_str),
        exit_code,
        summary,
    }
}
