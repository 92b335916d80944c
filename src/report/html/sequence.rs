//! A flow as a sequence diagram, drawn in SVG: lifelines for the client process, the
//! on-premises Exchange host and the Entra ID authority; one request arrow per session and
//! one response arrow per answered session, labelled with method, path, status and AADSTS
//! codes. Consecutive attempts that took the same steps are folded into a `<details>`.

use std::fmt::Write;

use super::escape::{attr, text};
use super::Page;
use crate::analysis::SessionFacts;
use crate::capture::url_parts::UrlParts;
use crate::flows::{Attempt, Flow};

const WIDTH: u32 = 780;
const LANES: [u32; 3] = [130, 390, 650];
const ROW: u32 = 30;
const TOP: u32 = 14;
const LABEL_MAX: usize = 38;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Lane {
    Client = 0,
    Exchange = 1,
    Entra = 2,
}

/// Repeated attempts drawn inside one fold; the rest are counted.
const FOLD_DRAWN: usize = 50;

/// One session of an attempt as the diagram draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    session: u64,
    lane: Lane,
    method: String,
    host: String,
    /// The URL without its query string, for the tooltip.
    url: String,
    /// Path without the query string (queries carry codes and hints).
    path: String,
    status: Option<u16>,
    aadsts: Vec<u32>,
    /// `Bearer`, `x-ms-diagnostics` code: what the response says beyond its status.
    note: Option<String>,
}

impl Step {
    /// What makes two attempts "the same" for folding.
    fn signature(&self) -> (Lane, &str, &str, &str, Option<u16>, &[u32]) {
        (
            self.lane,
            &self.method,
            &self.host,
            &self.path,
            self.status,
            &self.aadsts,
        )
    }
}

fn steps(page: &Page, flow: &Flow, attempt: &Attempt) -> Vec<Step> {
    let mut ids: Vec<u64> = attempt
        .challenges
        .iter()
        .chain(&attempt.logins)
        .chain(&attempt.result)
        .copied()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let s = page.session(id);
            let facts = page.analysis.facts(id);
            let host = s.and_then(|s| s.host.as_deref()).unwrap_or("").to_string();
            let url = s.map(|s| s.url.as_str()).unwrap_or("");
            let entra = facts.as_ref().is_some_and(|f| f.entra)
                || flow
                    .authority
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&host));
            Step {
                session: id,
                lane: if entra { Lane::Entra } else { Lane::Exchange },
                method: s.map(|s| s.method.to_string()).unwrap_or_default(),
                path: path_of(url).to_string(),
                url: crate::capture::url_parts::strip_query(url).to_string(),
                host,
                status: s.and_then(|s| s.status),
                aadsts: facts.as_ref().map(|f| f.aadsts.clone()).unwrap_or_default(),
                note: facts.as_ref().and_then(SessionFacts::note),
            }
        })
        .collect()
}

/// `/path` of an absolute URL, without query or fragment.
fn path_of(url: &str) -> &str {
    UrlParts::split(url).path_or_root()
}

/// The flow's diagram: lifeline heads, then its attempts, identical runs folded.
pub(super) fn write_flow(out: &mut String, page: &Page, index: usize, flow: &Flow) {
    let l = flow;
    let client = l.client_process.as_deref().unwrap_or("client process");
    let client_sub = match (l.client_name, l.wam) {
        (Some(n), true) => format!("{n}, via WAM"),
        (Some(n), false) => n.to_string(),
        (None, true) => "via WAM".to_string(),
        (None, false) => String::new(),
    };
    let exchange = l.challenge_host.as_deref().unwrap_or("on-premises server");
    let entra = l.authority.as_deref().unwrap_or("Entra ID");
    let _ = write!(
        out,
        r#"<div class="seq" data-flow="{index}"><svg class="heads" viewBox="0 0 {WIDTH} 52" width="{WIDTH}" height="52" role="img" aria-label="lifelines">"#
    );
    for (lane, (title, sub)) in [
        (client, client_sub.as_str()),
        (exchange, "on-premises Exchange"),
        (entra, "Entra ID authority"),
    ]
    .iter()
    .enumerate()
    {
        let x = LANES[lane];
        let _ = write!(
            out,
            r#"<g class="head lane{lane}"><rect x="{}" y="4" width="240" height="42" rx="6"/><text x="{x}" y="22" text-anchor="middle" class="h1">{}</text><text x="{x}" y="38" text-anchor="middle" class="h2">{}</text></g>"#,
            x - 120,
            page.t_tail(title, 34),
            page.t_tail(sub, 40),
        );
    }
    out.push_str("</svg>");

    let all: Vec<Vec<Step>> = flow.attempts.iter().map(|a| steps(page, flow, a)).collect();
    let mut i = 0;
    while i < all.len() {
        let sig: Vec<_> = all[i].iter().map(Step::signature).collect();
        let mut j = i + 1;
        while j < all.len() && all[j].iter().map(Step::signature).collect::<Vec<_>>() == sig {
            j += 1;
        }
        write_attempt(out, page, i, &all[i], flow.attempts.len());
        if j - i > 1 {
            let first = all[i + 1].first().map_or(0, |s| s.session);
            let last = all[j - 1].last().map_or(0, |s| s.session);
            let _ = write!(
                out,
                r#"<details class="fold" data-count="{}"><summary>{} more attempt{} with the same steps (attempts {}–{}, sessions {first}–{last})</summary>"#,
                j - i - 1,
                j - i - 1,
                if j - i - 1 == 1 { "" } else { "s" },
                i + 2,
                j,
            );
            // A loop of thousands of identical attempts draws the first few of them only.
            let drawn = (j - i - 1).min(FOLD_DRAWN);
            for (k, steps) in all.iter().enumerate().take(i + 1 + drawn).skip(i + 1) {
                write_attempt(out, page, k, steps, flow.attempts.len());
            }
            if j - i - 1 > drawn {
                let _ = write!(
                    out,
                    r#"<p class="hint more">… {} more attempts with the same steps, not drawn: see <code>traceadal sessions</code></p>"#,
                    super::thousands(j - i - 1 - drawn)
                );
            }
            out.push_str("</details>");
        }
        i = j;
    }
    out.push_str("</div>");
}

fn write_attempt(out: &mut String, page: &Page, k: usize, steps: &[Step], total: usize) {
    let codes: Vec<u32> = steps
        .iter()
        .flat_map(|s| s.aadsts.iter().copied())
        .collect();
    let outcome = if codes.is_empty() {
        String::new()
    } else {
        let c: Vec<String> = codes.iter().map(|c| format!("AADSTS{c}")).collect();
        format!(" · {}", c.join(", "))
    };
    let _ = write!(
        out,
        r#"<div class="attempt"><div class="attempt-h">Attempt {} of {total}{}</div>"#,
        k + 1,
        text(&outcome)
    );
    let height = TOP + ROW * 2 * steps.len() as u32 + 6;
    let _ = write!(
        out,
        r#"<svg class="steps" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="attempt {}">"#,
        k + 1
    );
    for x in LANES {
        let _ = write!(
            out,
            r#"<line class="life" x1="{x}" y1="0" x2="{x}" y2="{height}"/>"#
        );
    }
    for (n, s) in steps.iter().enumerate() {
        let y = TOP + ROW * 2 * n as u32 + ROW / 2 + 4;
        let to = LANES[s.lane as usize];
        let from = LANES[Lane::Client as usize];
        if page.anchored(s.session) {
            let _ = write!(
                out,
                r##"<a href="#{}" class="sid"><text x="6" y="{}">#{}</text></a>"##,
                attr(&page.anchor(s.session)),
                y + ROW / 2,
                s.session
            );
        } else {
            let _ = write!(
                out,
                r##"<text x="6" y="{}" class="sid">#{}</text>"##,
                y + ROW / 2,
                s.session
            );
        }
        let title = format!("session {}: {} {}", s.session, s.method, s.url);
        // Redacted before the path is shortened, then escaped.
        let label = format!("{} {}", page.t(&s.method), page.t_tail(&s.path, LABEL_MAX));
        let title = page.t(&title);
        arrow(out, s.session, "req", from, to, y, &title, &label, "");
        let y = y + ROW;
        match s.status {
            Some(status) => {
                let mut label = text(&status.to_string());
                if let Some(note) = &s.note {
                    let _ = write!(label, " · {}", page.t(note));
                }
                for c in &s.aadsts {
                    let _ = write!(label, r#" <tspan class="aadsts">AADSTS{c}</tspan>"#);
                }
                let class = match status {
                    200..=299 => "ok",
                    300..=399 => "redirect",
                    _ => "err",
                };
                arrow(out, s.session, "resp", to, from, y, &title, &label, class);
            }
            None => {
                let _ = write!(
                    out,
                    r#"<g class="noresp" data-session="{}"><text x="{}" y="{}" text-anchor="middle">× no response recorded</text></g>"#,
                    s.session,
                    (to + from) / 2,
                    y - 6
                );
            }
        }
    }
    out.push_str("</svg></div>");
}

/// One arrow. `title` and `label` are already escaped markup.
#[allow(clippy::too_many_arguments)]
fn arrow(
    out: &mut String,
    session: u64,
    dir: &str,
    x1: u32,
    x2: u32,
    y: u32,
    title: &str,
    label: &str,
    class: &str,
) {
    let (head, back) = if x2 > x1 {
        (x2 - 1, -9i64)
    } else {
        (x2 + 1, 9i64)
    };
    let _ = write!(
        out,
        r#"<g class="arrow {dir} {class}" data-session="{session}" data-dir="{dir}"><title>{title}</title><line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}"/><path d="M{head} {y} l{back} -5 v10 z"/><text x="{}" y="{}" text-anchor="middle">{label}</text></g>"#,
        (x1 + x2) / 2,
        y - 6
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_their_query() {
        assert_eq!(
            path_of("https://login.microsoftonline.com/common/oauth2/authorize?code=x"),
            "/common/oauth2/authorize"
        );
        assert_eq!(path_of("https://host"), "/");
    }
}
