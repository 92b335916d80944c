//! Stage 5: the report. [`Report`] is the `traceadal.report/1` document (see
//! `docs/report-schema.md`), a projection of the [`Analysis`]: every fact, judgement and
//! remedy is computed before it gets here, and [`Report::new`] only maps them to the
//! contract's shape. The renderers turn it into a table, markdown, JSON, HTML or the fix
//! script.

pub mod html;
pub mod json;
pub mod layout;
pub mod markdown;
pub mod powershell;
pub mod render;
pub mod table;
// Issue 21 item 3: two captures before and after a change.
pub mod diff;
// `traceadal show`'s session view (issue 21).
pub mod show;

use serde::Serialize;

pub use crate::analysis::{AadstsSeen, Verdict};
use crate::analysis::{Analysis, Coverage, Limit};
use crate::flows::Flow;
use crate::rules::{Finding, Severity};

/// The schema identifier. Fields may be added under it; none may change meaning.
pub const SCHEMA: &str = "traceadal.report/1";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub capture: CaptureInfo,
    pub verdict: Verdict,
    /// Every flow (the contract calls them loops; a loop is a flow whose `state` is
    /// `looping` or `refused`).
    pub loops: Vec<Loop>,
    pub aadsts: Vec<AadstsSeen>,
    /// `https://host/`, lower-case, sorted, unique.
    pub missing_spns: Vec<String>,
    /// The same SPNs with the tenant and sessions that prove them (for fix scripts).
    pub spn_details: Vec<SpnDetail>,
    pub findings: Vec<Finding>,
    /// PowerShell that fixes the error findings it can fix, or empty.
    pub powershell: String,
    /// What the capture can show (decrypted traffic to the hosts the diagnosis needs).
    pub coverage: Coverage,
    /// What this capture cannot show, each with the one thing to do differently when
    /// capturing again; empty when nothing limits it.
    pub capture_limits: Vec<Limit>,
    /// Fiddler's id (`#`, the SAZ's `SID`) of every session the report cites, keyed by the
    /// session number the report uses (issue 20): they differ when sessions were removed
    /// before the archive was saved. Absent for HAR and NetLog captures.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub fiddler_ids: std::collections::BTreeMap<u64, u64>,
}

/// A `loops[]` entry: the flow, and the finding that explains it.
#[derive(Debug, Clone, Serialize)]
pub struct Loop {
    #[serde(flatten)]
    pub flow: Flow,
    /// The id of the finding this flow is evidence of (`spn-missing`, `aadsts-mfa`, ...),
    /// the most severe one citing its sessions; `null` for a flow no finding is about.
    pub explained_by: Option<String>,
}

impl std::ops::Deref for Loop {
    type Target = Flow;

    fn deref(&self) -> &Flow {
        &self.flow
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaptureInfo {
    pub path: String,
    pub format: &'static str,
    pub sessions: usize,
    pub errors: Vec<CaptureProblem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaptureProblem {
    pub session: Option<u64>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpnDetail {
    pub spn: String,
    pub resources: Vec<String>,
    pub tenant: Option<String>,
    pub tenant_name: Option<String>,
    pub aadsts: Vec<u32>,
    pub sessions: Vec<u64>,
}

impl Report {
    pub fn new(analysis: &Analysis) -> Report {
        let spn_details: Vec<SpnDetail> = analysis
            .missing_spns
            .iter()
            .map(|m| SpnDetail {
                spn: m.spn.clone(),
                resources: m.resources.iter().map(|r| r.to_string()).collect(),
                tenant: m.tenant.clone(),
                tenant_name: m.tenant_name.clone(),
                aadsts: m.codes.clone(),
                sessions: m.error_sessions.clone(),
            })
            .collect();
        let source = analysis.path.display().to_string();
        let powershell = powershell::script_of_plans(&powershell::plans([(
            source.as_str(),
            analysis.findings.as_slice(),
        )]));
        Report {
            schema: SCHEMA,
            tool: Tool {
                name: "traceadal",
                version: env!("CARGO_PKG_VERSION"),
            },
            capture: CaptureInfo {
                path: source,
                format: analysis.format.as_str(),
                sessions: analysis.sessions.len(),
                errors: analysis
                    .errors
                    .iter()
                    .map(|e| CaptureProblem {
                        session: e.session,
                        message: e.message.clone(),
                    })
                    .collect(),
            },
            verdict: analysis.verdict.clone(),
            loops: analysis
                .flows
                .iter()
                .zip(&analysis.explained_by)
                .map(|(flow, by)| Loop {
                    flow: flow.clone(),
                    explained_by: by.clone(),
                })
                .collect(),
            aadsts: analysis.aadsts.clone(),
            missing_spns: analysis
                .missing_spns
                .iter()
                .map(|m| m.spn.clone())
                .collect(),
            spn_details,
            findings: analysis.findings.clone(),
            powershell,
            coverage: analysis.coverage.clone(),
            capture_limits: analysis.limits.clone(),
            fiddler_ids: fiddler_ids(analysis),
        }
    }

    /// `session` with Fiddler's id beside it when the two differ (`6 (Fiddler #16)`).
    pub fn fiddler_id_of(&self, session: u64) -> Option<u64> {
        self.fiddler_ids
            .get(&session)
            .copied()
            .filter(|f| *f != session)
    }

    /// The worst severity among the findings.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Fiddler's ids of the sessions the report cites (findings, flows, AADSTS codes, SPNs,
/// capture problems).
fn fiddler_ids(analysis: &Analysis) -> std::collections::BTreeMap<u64, u64> {
    let cited: std::collections::BTreeSet<u64> = analysis
        .findings
        .iter()
        .flat_map(|f| f.sessions.iter())
        .chain(analysis.flows.iter().flat_map(|f| f.sessions.iter()))
        .chain(analysis.aadsts.iter().flat_map(|a| a.sessions.iter()))
        .chain(
            analysis
                .missing_spns
                .iter()
                .flat_map(|m| m.error_sessions.iter()),
        )
        .chain(analysis.errors.iter().filter_map(|e| e.session.as_ref()))
        .copied()
        .collect();
    analysis
        .sessions
        .iter()
        .filter(|s| cited.contains(&s.id))
        .filter_map(|s| Some((s.id, s.fiddler_id?)))
        .collect()
}
