//! `--format markdown`: the report as it pastes into a ticket or a chat.

use std::io::{self, Write};

use super::render::{Document, Render};
use super::table::list;
use super::Report;

/// `analyze --format markdown`.
pub struct Markdown;

impl Render for Markdown {
    fn render(&self, out: &mut dyn Write, docs: &[Document]) -> io::Result<()> {
        Document::reports(docs).enumerate().try_for_each(|(i, r)| {
            if i > 0 {
                writeln!(out, "\n---\n")?;
            }
            write(out, r)
        })
    }
}

pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let c = &report.capture;
    writeln!(out, "## traceadal: `{}`\n", cell(&c.path))?;
    writeln!(
        out,
        "**Verdict: {}** - {}\n",
        report.verdict.status.to_uppercase(),
        report.verdict.summary
    )?;
    if report.verdict.causes.len() > 1 {
        for (i, cause) in report.verdict.causes.iter().enumerate() {
            writeln!(out, "{}. {cause}", i + 1)?;
        }
        writeln!(out)?;
    }
    for caveat in &report.verdict.caveats {
        writeln!(out, "> Note: {caveat}\n")?;
    }
    if !report.capture_limits.is_empty() {
        writeln!(out, "### What this capture cannot show\n")?;
        for l in &report.capture_limits {
            writeln!(
                out,
                "- {} (`{}`)\n  - Blind: {}\n  - Next capture: {}",
                l.what, l.id, l.consequence, l.capture_again
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} capture, {} sessions.\n",
        c.format.to_uppercase(),
        c.sessions
    )?;

    if !report.loops.is_empty() {
        writeln!(out, "### Token flows\n")?;
        writeln!(
            out,
            "| Resource | Challenged by | Client | Attempts | Outcome | State | AADSTS | Sessions |"
        )?;
        writeln!(out, "|---|---|---|---:|---|---|---|---|")?;
        for l in &report.loops {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {}-{} |",
                cell(&l.resource.to_string()),
                cell(l.challenge_host.as_deref().unwrap_or("-")),
                cell(&match super::table::token_app(l) {
                    Some(app) => format!(
                        "{} (token: {app})",
                        l.client_process.as_deref().unwrap_or("-")
                    ),
                    None => l.client_process.as_deref().unwrap_or("-").to_string(),
                }),
                l.attempts.len(),
                l.outcome.as_str(),
                match &l.explained_by {
                    Some(id) if l.state != crate::flows::State::Ok => {
                        format!("{} (`{id}`)", l.state.as_str())
                    }
                    _ => l.state.as_str().to_string(),
                },
                l.aadsts
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                l.first_session,
                l.last_session
            )?;
        }
        writeln!(out)?;
    }

    if !report.aadsts.is_empty() {
        writeln!(out, "### AADSTS codes\n")?;
        writeln!(out, "| Code | Count | Resource | Meaning |")?;
        writeln!(out, "|---|---:|---|---|")?;
        for a in &report.aadsts {
            writeln!(
                out,
                "| AADSTS{} | {} | {} | {} |",
                a.code,
                a.count,
                cell(a.resource.as_deref().unwrap_or("-")),
                cell(&a.summary)
            )?;
        }
        writeln!(out)?;
    }

    if !report.missing_spns.is_empty() {
        writeln!(out, "### Missing SPNs on Office 365 Exchange Online\n")?;
        for spn in &report.missing_spns {
            writeln!(out, "- `{spn}`")?;
        }
        writeln!(out)?;
    }

    if !report.findings.is_empty() {
        writeln!(out, "### Findings\n")?;
        for f in &report.findings {
            writeln!(
                out,
                "- **{}** `{}`: {}  \n  Sessions: {}{}  \n  Evidence: {}  \n  Fix: {}",
                f.severity.as_str().to_uppercase(),
                f.id,
                f.title,
                list(&f.sessions),
                super::table::fiddler_list(report, &f.sessions)
                    .map(|ids| format!("  \n  Fiddler #: {ids}"))
                    .unwrap_or_default(),
                f.evidence,
                f.fix
            )?;
        }
        writeln!(out)?;
    }

    if !c.errors.is_empty() {
        writeln!(out, "### Capture problems\n")?;
        for e in c.errors.iter().take(20) {
            match e.session {
                Some(s) => writeln!(
                    out,
                    "- session {}: {}",
                    super::table::with_fiddler(report, s),
                    e.message
                )?,
                None => writeln!(out, "- {}", e.message)?,
            }
        }
        writeln!(out)?;
    }

    if !report.powershell.is_empty() {
        writeln!(
            out,
            "### Fix ({})\n",
            super::powershell::shell_of(&report.powershell)
        )?;
        writeln!(out, "```powershell\n{}```", report.powershell)?;
    }
    Ok(())
}

/// Text safe inside a markdown table cell.
pub(super) fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}
