//! `--format html`: one self-contained page an analyst opens from a mail attachment.
//!
//! The verdict first, the fix script with a copy button, the findings with their evidence,
//! then one sequence diagram per flow (SVG drawn here, see [`sequence`]), a timeline of every
//! session (see [`timeline`]) and a detail block per cited session. Inline CSS and script
//! only, no fetch of any kind: a Content-Security-Policy with the hashes of our own style and
//! script forbids everything else, so even markup that slipped past the escaper could not run.
//!
//! Everything that came from the capture is redacted with the page's [`Redactor`] and then
//! escaped ([`escape`]) before it is written; the whole page passes the redaction layer once
//! more in `cli::output::emit`, so the static CSS and script are written to pass it unchanged
//! (a test checks).

pub mod escape;
mod sequence;
mod timeline;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use base64::Engine as _;
use sha2::{Digest, Sha256};

pub use crate::capture::detail::{BodyExcerpt, ResponseDetail, SessionDetail, BODY_EXCERPT};
use escape::{attr, text};

use super::render::{Content, Document, Render};
use super::Report;
use crate::analysis::Analysis;
use crate::capture::SessionSummary;
use crate::redact::Redactor;

pub const STYLE: &str = include_str!("style.css");
pub const SCRIPT: &str = include_str!("script.js");

/// Beyond this many sessions the sessions table lists only the ones with a detail block.
const TABLE_MAX: usize = 2000;
/// Detail blocks per capture at most: a loop of 60 000 sessions must not make a page of
/// hundreds of MB (issue #23).
pub const DETAIL_MAX: usize = 2000;
/// Sessions of one finding or AADSTS row given a detail block: the ones its links show.
const CITED_SHOWN: usize = 24;

/// The sessions that get a detail block: per flow, every session of its first and last
/// attempts (the rest of a loop repeats them and is counted on the page); for each finding
/// and AADSTS code, its first sessions; at most [`DETAIL_MAX`] in all, flows first. The
/// orchestrator gathers the details of exactly these (`Render::detail_sessions`).
pub fn detail_sessions(analysis: &Analysis) -> BTreeSet<u64> {
    let mut chosen = BTreeSet::new();
    let mut add = |ids: &mut dyn Iterator<Item = u64>| {
        for id in ids {
            if chosen.len() >= DETAIL_MAX {
                return;
            }
            chosen.insert(id);
        }
    };
    for f in &analysis.flows {
        let ends = [f.attempts.first(), f.attempts.last()];
        let in_ends = |id: &u64| {
            ends.iter().flatten().any(|a| {
                a.challenges.contains(id) || a.logins.contains(id) || a.result == Some(*id)
            })
        };
        // Sessions of the flow outside any attempt (a first request before the 401...) are
        // kept when the flow is short.
        if f.attempts.len() <= 2 {
            add(&mut f.sessions.iter().copied());
        } else {
            add(&mut f.sessions.iter().copied().filter(in_ends));
        }
    }
    for f in &analysis.findings {
        add(&mut f.sessions.iter().copied().take(CITED_SHOWN));
    }
    for a in &analysis.aadsts {
        add(&mut a.sessions.iter().copied().take(CITED_SHOWN));
    }
    chosen
}

/// `59990` as `59,990`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What one capture's part of the page is made of.
pub struct HtmlInput<'a> {
    pub report: &'a Report,
    pub analysis: &'a Analysis,
    /// Headers and body excerpts of the sessions worth a detail block
    /// ([`Analysis::cited_sessions`], gathered by the orchestrator from the capture:
    /// `capture::detail::gather`). Sessions without one get a summary block.
    pub details: &'a [SessionDetail],
}

/// One capture's part of the page, with everything the writers look up.
pub(crate) struct Page<'a> {
    input: &'a HtmlInput<'a>,
    analysis: &'a Analysis,
    redactor: Redactor,
    /// `""` for a single capture, `r2-` ... when the page holds several.
    prefix: String,
    /// Session -> index of the flow it belongs to.
    flow_of: HashMap<u64, usize>,
    details: HashMap<u64, &'a SessionDetail>,
    /// Sessions with a detail block.
    blocks: BTreeSet<u64>,
    /// Sessions with a row in the sessions table.
    rows: HashSet<u64>,
}

impl<'a> Page<'a> {
    fn new(input: &'a HtmlInput<'a>, index: usize, several: bool, redactor: Redactor) -> Self {
        let analysis = input.analysis;
        let mut flow_of = HashMap::new();
        for (i, f) in analysis.flows.iter().enumerate() {
            for s in &f.sessions {
                flow_of.entry(*s).or_insert(i);
            }
        }
        let details: HashMap<u64, &SessionDetail> =
            input.details.iter().map(|d| (d.id, d)).collect();
        let mut blocks = detail_sessions(analysis);
        // Details handed in beyond those (a caller's choice) get blocks too, within the cap.
        let mut extra: Vec<u64> = details
            .keys()
            .copied()
            .filter(|id| !blocks.contains(id))
            .collect();
        extra.sort_unstable();
        let room = DETAIL_MAX.saturating_sub(blocks.len());
        blocks.extend(extra.into_iter().take(room));
        blocks.retain(|id| {
            details.contains_key(id) || analysis.sessions.binary_search_by_key(id, |s| s.id).is_ok()
        });
        let rows: HashSet<u64> = if analysis.sessions.len() <= TABLE_MAX {
            analysis.sessions.iter().map(|s| s.id).collect()
        } else {
            blocks.iter().copied().collect()
        };
        Page {
            input,
            analysis,
            redactor,
            prefix: if several {
                format!("r{}-", index + 1)
            } else {
                String::new()
            },
            flow_of,
            details,
            blocks,
            rows,
        }
    }

    fn session(&self, id: u64) -> Option<&'a SessionSummary> {
        let sessions = &self.analysis.sessions;
        sessions
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .and_then(|i| sessions.get(i))
    }

    /// The element id a session's link points to.
    fn anchor(&self, id: u64) -> String {
        format!("{}s-{id}", self.prefix)
    }

    /// Whether [`Page::anchor`] exists on the page.
    fn anchored(&self, id: u64) -> bool {
        self.blocks.contains(&id) || self.rows.contains(&id)
    }

    /// Capture text, redacted, then escaped for element content.
    fn t(&self, s: &str) -> String {
        escape::stable(text(&self.redactor.text(s)))
    }

    /// Capture text redacted, then shortened to `max` characters keeping its end (where
    /// autodiscover, EWS and token paths differ), then escaped: redacted before the cut, so
    /// the cut cannot leave half a secret or a user term unrecognisable.
    fn t_tail(&self, s: &str, max: usize) -> String {
        let shown = crate::redact::cut::tail(&self.redactor.text(s), max);
        escape::stable(text(&shown))
    }

    /// A header line, redacted as a whole (cookie rules key on the name), then escaped, in
    /// its own element after a line break. The element keeps the page stable under the
    /// final redaction pass: a value ending in a scheme name (`NTLM`) followed by a line
    /// break and the next header's name would otherwise read as a credential.
    fn header(&self, name: &str, value: &str) -> String {
        format!(
            "\n<span class=\"hl\">{}</span>",
            escape::stable(text(&self.redactor.text(&format!("{name}: {value}"))))
        )
    }

    fn link(&self, id: u64) -> String {
        if self.anchored(id) {
            format!(
                r##"<a class="sid" href="#{}">#{id}</a>"##,
                attr(&self.anchor(id))
            )
        } else {
            format!("#{id}")
        }
    }

    fn links(&self, ids: &[u64]) -> String {
        const MAX: usize = 24;
        let mut s: Vec<String> = ids.iter().take(MAX).map(|i| self.link(*i)).collect();
        if ids.len() > MAX {
            s.push(format!("… ({} in all)", ids.len()));
        }
        s.join(" ")
    }
}

/// The hash of an inline element's content, for the Content-Security-Policy.
fn csp_hash(content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `--format html`: one page for every analysed document, with the details of the sessions
/// the reports cite. `redactor` is the one `output::emit` applies to the whole page.
pub struct Html {
    pub redactor: Redactor,
}

impl Render for Html {
    fn needs_details(&self) -> bool {
        true
    }

    fn detail_sessions(&self, analysis: &Analysis) -> BTreeSet<u64> {
        detail_sessions(analysis)
    }

    fn render(&self, out: &mut dyn Write, docs: &[Document]) -> io::Result<()> {
        let inputs: Vec<HtmlInput> = docs
            .iter()
            .filter_map(|d| match d.content {
                Content::Analysed {
                    report,
                    analysis: Some(analysis),
                    details,
                } => Some(HtmlInput {
                    report,
                    analysis,
                    details,
                }),
                _ => None,
            })
            .collect();
        write(out, &inputs, self.redactor.clone())
    }
}

/// Write the page for one or more captures. `redactor` is the one `output::emit` applies
/// to the whole page afterwards.
pub fn write(out: &mut dyn Write, inputs: &[HtmlInput], redactor: Redactor) -> io::Result<()> {
    let mut html = String::with_capacity(64 * 1024);
    let title = match inputs {
        [one] => format!("traceadal: {}", one.report.capture.path),
        _ => format!("traceadal: {} captures", inputs.len()),
    };
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {}; script-src {}; img-src data:; base-uri 'none'; form-action 'none'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"traceadal {}\">\
         <title>{}</title><style>{STYLE}</style></head>\n<body>\n",
        csp_hash(STYLE),
        csp_hash(SCRIPT),
        env!("CARGO_PKG_VERSION"),
        text(&redactor.text(&title)),
    );
    let several = inputs.len() > 1;
    for (i, input) in inputs.iter().enumerate() {
        let page = Page::new(input, i, several, redactor.clone());
        write_capture(&mut html, &page);
    }
    let _ = write!(
        html,
        "<footer>Written by traceadal {}. Secrets (tokens, codes, cookies, passwords) are \
         replaced by &lt;redacted&gt; unless --show-secrets was given.</footer>\n\
         <script>{SCRIPT}</script>\n</body></html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out.write_all(html.as_bytes())
}

fn write_capture(out: &mut String, page: &Page) {
    let r = page.input.report;
    let c = &r.capture;
    let _ = write!(
        out,
        r#"<main class="capture" id="{}capture"><header><h1>{}</h1><p class="meta">{} capture · {} sessions · {} flow(s) · traceadal {}</p></header>"#,
        page.prefix,
        page.t(&c.path),
        text(&c.format.to_uppercase()),
        c.sessions,
        r.loops.len(),
        text(r.tool.version),
    );

    // The verdict.
    let _ = write!(
        out,
        r#"<section class="verdict {}" id="{}verdict"><h2>Verdict: {}</h2><p>{}</p>"#,
        attr(r.verdict.status),
        page.prefix,
        text(&r.verdict.status.to_uppercase()),
        page.t(&r.verdict.summary)
    );
    if r.verdict.causes.len() > 1 {
        out.push_str("<ol class=\"causes\">");
        for cause in &r.verdict.causes {
            let _ = write!(out, "<li>{}</li>", page.t(cause));
        }
        out.push_str("</ol>");
    }
    for caveat in &r.verdict.caveats {
        let _ = write!(out, "<p class=\"caveat\">Note: {}</p>", page.t(caveat));
    }
    if !r.capture_limits.is_empty() {
        let _ = write!(
            out,
            r#"<div class="limits" id="{}capture-limits"><h3>What this capture cannot show</h3><ul>"#,
            page.prefix
        );
        for l in &r.capture_limits {
            let _ = write!(
                out,
                "<li data-limit=\"{}\">{}<br>Blind: {}<br>Next capture: {}</li>",
                attr(l.id),
                page.t(&l.what),
                page.t(&l.consequence),
                page.t(&l.capture_again)
            );
        }
        out.push_str("</ul></div>");
    }
    if !r.missing_spns.is_empty() {
        out.push_str("<p>Missing on Office 365 Exchange Online:</p><ul class=\"spns\">");
        for spn in &r.missing_spns {
            let _ = write!(out, "<li><code>{}</code></li>", page.t(spn));
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");

    // The fix script.
    if !r.powershell.is_empty() {
        let id = format!("{}fix-script", page.prefix);
        let _ = write!(
            out,
            r#"<section class="fix"><h2>Fix ({})</h2><p><button type="button" class="copy" data-copy="{id}">Copy script</button> <span class="copy-status" role="status"></span></p><pre class="script" id="{id}">{}</pre></section>"#,
            super::powershell::shell_of(&r.powershell),
            page.t(&r.powershell)
        );
    }

    // Findings.
    if !r.findings.is_empty() {
        let _ = write!(out, r#"<section class="findings"><h2>Findings</h2>"#);
        for f in &r.findings {
            let _ = write!(
                out,
                r#"<article class="finding {}"><h3><span class="sev">{}</span> {} <code class="fid">{}</code></h3><p class="evidence"><b>Evidence:</b> {}</p><p class="fixtext"><b>Fix:</b> {}</p><p class="sessions"><b>Sessions:</b> {}</p></article>"#,
                attr(f.severity.as_str()),
                text(&f.severity.as_str().to_uppercase()),
                page.t(&f.title),
                page.t(&f.id),
                page.t(&f.evidence),
                page.t(&f.fix),
                page.links(&f.sessions)
            );
        }
        out.push_str("</section>");
    }

    // AADSTS codes.
    if !r.aadsts.is_empty() {
        out.push_str("<section class=\"codes\"><h2>AADSTS codes</h2><table><thead><tr><th>Code</th><th>Count</th><th>Resource</th><th>Meaning</th><th>Sessions</th></tr></thead><tbody>");
        for a in &r.aadsts {
            let _ = write!(
                out,
                "<tr><td>AADSTS{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                a.code,
                a.count,
                page.t(a.resource.as_deref().unwrap_or("-")),
                page.t(&a.summary),
                page.links(&a.sessions)
            );
        }
        out.push_str("</tbody></table></section>");
    }

    // Flows.
    if !r.loops.is_empty() {
        out.push_str("<section class=\"flows\"><h2>Token flows</h2><p class=\"hint\"><button type=\"button\" class=\"expand\">Expand all attempts</button> <button type=\"button\" class=\"collapse\">Fold repeated attempts</button></p>");
        for (i, l) in r.loops.iter().enumerate() {
            let duration = l
                .duration_label()
                .map(|d| format!(" · {d}"))
                .unwrap_or_default();
            let state = match &l.explained_by {
                Some(id) => format!(" · {} ({})", l.state.as_str(), id),
                None => format!(" · {}", l.state.as_str()),
            };
            let codes: Vec<String> = l.aadsts.iter().map(|c| format!("AADSTS{c}")).collect();
            let _ = write!(
                out,
                r#"<article class="flow f{}" id="{}flow-{}"><h3><span class="swatch"></span>Flow {}: {}</h3><p class="meta">{} attempt(s) · outcome <b>{}</b>{}{} · sessions {}–{}{}</p>"#,
                i % 6,
                page.prefix,
                i + 1,
                i + 1,
                page.t(&l.resource.to_string()),
                l.attempts.len(),
                text(&format!("{}{state}", l.outcome.as_str())),
                if codes.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", text(&codes.join(", ")))
                },
                duration,
                page.link(l.first_session),
                page.link(l.last_session),
                l.tenant
                    .as_deref()
                    .map(|t| format!(" · tenant {}", page.t(t)))
                    .unwrap_or_default(),
            );
            let folded = l
                .sessions
                .iter()
                .filter(|s| !page.blocks.contains(s))
                .count();
            if folded > 0 {
                let _ = write!(
                    out,
                    r#"<p class="hint folded">… {} more session{} of this flow, not shown in detail: see <code>traceadal sessions</code></p>"#,
                    thousands(folded),
                    if folded == 1 { "" } else { "s" }
                );
            }
            sequence::write_flow(out, page, i, l);
            out.push_str("</article>");
        }
        out.push_str("</section>");
    }

    // Timeline.
    let _ = write!(
        out,
        r#"<section class="timeline-s"><h2>Timeline</h2><p class="hint">Every session of the capture, one lane per host; the flows' sessions in colour. Click one for its detail.</p><div class="scroll">"#
    );
    timeline::write(out, page);
    out.push_str("</div></section>");

    // Capture problems.
    if !c.errors.is_empty() {
        let _ = write!(
            out,
            "<section class=\"problems\"><h2>Capture problems ({})</h2><ul>",
            c.errors.len()
        );
        for e in c.errors.iter().take(50) {
            match e.session {
                Some(s) => {
                    let _ = write!(
                        out,
                        "<li>session {}: {}</li>",
                        page.link(s),
                        page.t(&e.message)
                    );
                }
                None => {
                    let _ = write!(out, "<li>{}</li>", page.t(&e.message));
                }
            }
        }
        out.push_str("</ul></section>");
    }

    // Sessions table.
    write_table(out, page);

    // Detail blocks.
    if !page.blocks.is_empty() {
        out.push_str("<section class=\"details\"><h2>Session details</h2>");
        let cited = page.analysis.cited_sessions().len();
        if cited > page.blocks.len() {
            let _ = write!(
                out,
                "<p class=\"hint\">{} of the {} sessions the flows and findings cite are shown in detail (the first and last attempts of each flow; at most {} per capture): see <code>traceadal sessions</code> for the rest.</p>",
                thousands(page.blocks.len()),
                thousands(cited),
                thousands(DETAIL_MAX)
            );
        }
        for id in &page.blocks {
            write_block(out, page, *id);
        }
        out.push_str("</section>");
    }
    out.push_str("</main>");
}

fn write_table(out: &mut String, page: &Page) {
    let sessions = &page.analysis.sessions;
    let _ = write!(
        out,
        "<section class=\"sessions\"><h2>Sessions</h2>{}<div class=\"scroll\"><table class=\"list\"><thead><tr><th>#</th><th>Method</th><th>URL</th><th>Status</th><th>Process</th><th>Flow</th></tr></thead><tbody>",
        if sessions.len() > TABLE_MAX {
            format!(
                "<p class=\"hint\">{} sessions: only the {} shown in detail are listed.</p>",
                thousands(sessions.len()),
                page.rows.len()
            )
        } else {
            String::new()
        }
    );
    for s in sessions.iter().filter(|s| page.rows.contains(&s.id)) {
        let flow = page.flow_of.get(&s.id);
        // A row is the link target only when the session has no detail block.
        let id_attr = if page.blocks.contains(&s.id) {
            String::new()
        } else {
            format!(r#" id="{}""#, attr(&page.anchor(s.id)))
        };
        let _ = write!(
            out,
            r#"<tr{id_attr}{}><td>{}</td><td>{}</td><td class="url">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            flow.map_or(String::new(), |f| format!(r#" class="flow f{}""#, f % 6)),
            if page.blocks.contains(&s.id) {
                page.link(s.id)
            } else {
                s.id.to_string()
            } + &fiddler_id(s),
            page.t(&s.method),
            page.t(crate::capture::url_parts::strip_query(&s.url)),
            s.status.map_or("-".to_string(), |c| c.to_string()),
            page.t(s.process.as_deref().unwrap_or("")),
            flow.map_or(String::new(), |f| (f + 1).to_string()),
        );
    }
    out.push_str("</tbody></table></div></section>");
}

/// Fiddler's id beside the session's number when the two differ (a SAZ of selected
/// sessions): ` (Fiddler #110)`, so the row can be found in Fiddler's list.
fn fiddler_id(s: &crate::capture::SessionSummary) -> String {
    s.other_fiddler_id()
        .map(|f| format!(" <span class=\"fiddler\">(Fiddler #{f})</span>"))
        .unwrap_or_default()
}

fn write_block(out: &mut String, page: &Page, id: u64) {
    let summary = page.session(id);
    let flow = page
        .flow_of
        .get(&id)
        .map(|f| {
            format!(
                r##" · <a href="#{}flow-{}">flow {}</a>"##,
                page.prefix,
                f + 1,
                f + 1
            )
        })
        .unwrap_or_default();
    let _ = write!(
        out,
        r#"<article class="session" id="{}">"#,
        attr(&page.anchor(id))
    );
    match page.details.get(&id) {
        Some(d) => {
            let status = d
                .response
                .as_ref()
                .map_or("no response".to_string(), |r| r.status.to_string());
            let _ = write!(
                out,
                "<h3>#{id}{} {} {} → {}</h3><p class=\"meta\">{}{}{}</p>",
                summary.map(fiddler_id).unwrap_or_default(),
                page.t(&d.method),
                page.t(crate::capture::url_parts::strip_query(&d.url)),
                text(&status),
                summary
                    .and_then(|s| s.process.as_deref())
                    .map(|p| format!("process {}", page.t(p)))
                    .unwrap_or_else(|| "process unknown".to_string()),
                summary
                    .and_then(|s| s.start)
                    .map(|t| format!(" · {}", text(&t.to_rfc3339())))
                    .unwrap_or_default(),
                flow
            );
            let mut head = format!(
                "{} {} {}",
                page.t(&d.method),
                page.t(&d.url),
                page.t(&d.request_version)
            );
            for (n, v) in &d.request_headers {
                head.push_str(&page.header(n, v));
            }
            let _ = write!(out, "<h4>Request</h4><pre class=\"http\">{head}</pre>");
            write_body(out, page, &d.request_body);
            match &d.response {
                Some(r) => {
                    let mut head =
                        format!("{} {} {}", page.t(&r.version), r.status, page.t(&r.reason));
                    for (n, v) in &r.headers {
                        head.push_str(&page.header(n, v));
                    }
                    let _ = write!(out, "<h4>Response</h4><pre class=\"http\">{head}</pre>");
                    write_body(out, page, &r.body);
                }
                None => out.push_str("<h4>Response</h4><p>No response was recorded.</p>"),
            }
        }
        None => {
            let _ = write!(out, "<h3>#{id}");
            if let Some(s) = summary {
                let _ = write!(
                    out,
                    " {} {} → {}",
                    page.t(&s.method),
                    page.t(crate::capture::url_parts::strip_query(&s.url)),
                    s.status
                        .map_or("no response".to_string(), |c| c.to_string())
                );
            }
            let _ = write!(
                out,
                "</h3><p class=\"meta\">Headers and body not gathered for this session.{flow}</p>"
            );
        }
    }
    out.push_str("</article>");
}

fn write_body(out: &mut String, page: &Page, b: &BodyExcerpt) {
    if let Some(note) = &b.note {
        let _ = write!(out, "<p class=\"note\">{}</p>", page.t(note));
    }
    if !b.text.is_empty() {
        let _ = write!(out, "<pre class=\"body\">{}</pre>", page.t(&b.text));
    }
}

#[cfg(test)]
mod tests;
