//! Stage 5: the report. [`Report`] is the `traceadal.report/1` document (see
//! `docs/report-schema.md`); the renderers turn it into a table, markdown, JSON or the fix
//! script. No analysis happens here: every fact comes from the earlier stages.

pub mod html;
pub mod json;
pub mod markdown;
pub mod powershell;
pub mod table;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::Analysis;
use crate::auth::{aadsts, login, Event};
use crate::flows::Resource;
use crate::rules::{spn_missing, Finding, Severity};

/// The schema identifier. Fields may be added under it; none may change meaning.
pub const SCHEMA: &str = "traceadal.report/1";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub capture: CaptureInfo,
    pub verdict: Verdict,
    pub loops: Vec<Loop>,
    pub aadsts: Vec<AadstsSeen>,
    /// `https://host/`, lower-case, sorted, unique.
    pub missing_spns: Vec<String>,
    /// The same SPNs with the tenant and sessions that prove them (for fix scripts).
    pub spn_details: Vec<SpnDetail>,
    pub findings: Vec<Finding>,
    /// PowerShell that fixes the error findings it can fix, or empty.
    pub powershell: String,
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

/// The one-line answer an analyst reads first.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The worst finding's severity, or `ok`.
    pub status: &'static str,
    /// The process exit code this report maps to (0 or 1).
    pub exit_code: i32,
    pub summary: String,
}

/// One flow (DESIGN calls them loops: a loop is a flow with `attempts` > 1).
#[derive(Debug, Clone, Serialize)]
pub struct Loop {
    pub resource: String,
    pub challenge_host: Option<String>,
    pub authority: Option<String>,
    pub tenant: Option<String>,
    pub tenant_name: Option<String>,
    pub client_id: Option<String>,
    pub client_name: Option<&'static str>,
    pub client_process: Option<String>,
    pub hma_offered: bool,
    pub wam: bool,
    pub attempts: usize,
    pub outcome: &'static str,
    pub aadsts: Vec<u32>,
    pub first_session: u64,
    pub last_session: u64,
    pub duration_ms: Option<i64>,
    pub sessions: Vec<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AadstsSeen {
    pub code: u32,
    pub count: usize,
    pub summary: String,
    pub resource: Option<String>,
    pub sessions: Vec<u64>,
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
        let cx = analysis.context();
        let missing = spn_missing::missing_spns(&cx);
        let spn_details: Vec<SpnDetail> = missing
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
        let powershell = powershell::script(&powershell::plan_from_details(
            &spn_details,
            std::slice::from_ref(&source),
        ));
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
            verdict: verdict(analysis, &missing),
            loops: analysis.flows.iter().map(loop_entry).collect(),
            aadsts: aadsts_seen(analysis),
            missing_spns: missing.iter().map(|m| m.spn.clone()).collect(),
            spn_details,
            findings: analysis.findings.clone(),
            powershell,
        }
    }

    /// The worst severity among the findings.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// The host of a normalised resource (`https://host[:port]/`).
pub(crate) fn host_of_resource(resource: &str) -> Option<&str> {
    let rest = resource.split_once("://")?.1;
    rest.split(['/', ':']).next()
}

fn loop_entry(f: &crate::flows::Flow) -> Loop {
    Loop {
        resource: f.resource.to_string(),
        challenge_host: f.challenge_host.clone(),
        authority: f.authority.clone(),
        tenant: f.tenant.clone(),
        tenant_name: f.tenant_name.clone(),
        client_id: f.client_id.clone(),
        client_name: f.client_id.as_deref().and_then(login::client_name),
        client_process: f.client_process.clone(),
        hma_offered: f.hma_offered,
        wam: f.wam,
        attempts: f.attempts.len(),
        outcome: f.outcome.as_str(),
        aadsts: f.aadsts.clone(),
        first_session: f.first_session,
        last_session: f.last_session,
        duration_ms: f.duration_ms,
        sessions: f.sessions.clone(),
    }
}

/// Every AADSTS code seen, per resource: the resource from the login in the same session,
/// else the one the error message names.
fn aadsts_seen(analysis: &Analysis) -> Vec<AadstsSeen> {
    let mut login_resource: BTreeMap<u64, String> = BTreeMap::new();
    for e in &analysis.events {
        if let Event::Login(l) = e {
            if let Some(r) = l.resource.as_deref().and_then(Resource::parse) {
                login_resource.insert(l.session, r.to_string());
            }
        }
    }
    // Results whose own session named no resource take the flow's.
    for f in &analysis.flows {
        for a in &f.attempts {
            if let Some(s) = a.result {
                login_resource
                    .entry(s)
                    .or_insert_with(|| f.resource.to_string());
            }
        }
    }
    let mut seen: BTreeMap<(u32, Option<String>), Vec<u64>> = BTreeMap::new();
    for e in &analysis.events {
        let Event::TokenResult(r) = e else { continue };
        let crate::auth::TokenOutcome::AadError(err) = &r.outcome else {
            continue;
        };
        let resource = login_resource.get(&r.session).cloned().or_else(|| {
            err.resource_named
                .as_deref()
                .and_then(Resource::parse)
                .map(|r| r.to_string())
        });
        for code in &err.codes {
            seen.entry((*code, resource.clone()))
                .or_default()
                .push(r.session);
        }
    }
    seen.into_iter()
        .map(|((code, resource), mut sessions)| {
            sessions.sort_unstable();
            sessions.dedup();
            AadstsSeen {
                code,
                count: sessions.len(),
                summary: aadsts::lookup(code)
                    .map(|i| i.summary.to_string())
                    .unwrap_or_else(|| "not in traceadal's catalog".to_string()),
                resource,
                sessions,
            }
        })
        .collect()
}

fn verdict(analysis: &Analysis, missing: &[spn_missing::MissingSpn]) -> Verdict {
    let worst = analysis.findings.iter().map(|f| f.severity).max();
    let exit_code = i32::from(worst == Some(Severity::Error));
    let summary = if !missing.is_empty() {
        let spns: Vec<&str> = missing.iter().map(|m| m.spn.as_str()).collect();
        let loops = analysis.flows.iter().filter(|f| f.is_loop()).count();
        format!(
            "Outlook modern-auth failure: Entra ID does not know {} as a resource of Exchange Online{}. Add the SPN(s) with the script below.",
            spns.join(", "),
            if loops > 0 {
                format!(" ({loops} looping flow(s))")
            } else {
                String::new()
            }
        )
    } else if let Some(f) = analysis
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error)
    {
        format!("Problem found: {}", f.title)
    } else if let Some(f) = analysis.findings.first() {
        format!("No blocking error; worth a look: {}", f.title)
    } else if analysis.flows.is_empty() {
        "No modern-auth flow and no known failure in this capture.".to_string()
    } else {
        let ok = analysis
            .flows
            .iter()
            .filter(|f| f.outcome == crate::flows::Outcome::Token)
            .count();
        format!(
            "No failure found: {ok} of {} token flow(s) ended with a token.",
            analysis.flows.len()
        )
    };
    Verdict {
        status: worst.map_or("ok", Severity::as_str),
        exit_code,
        summary,
    }
}
