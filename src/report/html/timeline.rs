//! Every session of the capture on one SVG timeline, one lane per host, the flows'
//! sessions coloured by flow and linked to their detail.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use super::escape::{attr, text};
use super::Page;
use crate::capture::SessionSummary;

const LABEL_W: f64 = 210.0;
const PLOT_W: f64 = 760.0;
const LANE_H: f64 = 18.0;
/// Hosts beyond this many share one "other hosts" lane.
const MAX_LANES: usize = 14;

/// Where the sessions sit on the x axis: by time when every session has a start, else by
/// their order in the capture.
enum Axis {
    Time { t0: i64, span: i64 },
    Order { n: usize },
}

pub(super) fn write(out: &mut String, page: &Page) {
    let sessions = &page.analysis.sessions;
    if sessions.is_empty() {
        out.push_str("<p>The capture holds no readable session.</p>");
        return;
    }
    let axis = axis(sessions);

    // Lanes: hosts of flow sessions first, then by number of sessions.
    let mut count: HashMap<&str, usize> = HashMap::new();
    for s in sessions {
        *count
            .entry(s.host.as_deref().unwrap_or("(no host)"))
            .or_default() += 1;
    }
    let mut hosts: Vec<&str> = count.keys().copied().collect();
    hosts.sort_by_key(|h| {
        let flow_host = sessions
            .iter()
            .any(|s| s.host.as_deref() == Some(*h) && page.flow_of.contains_key(&s.id));
        (!flow_host, std::cmp::Reverse(count[h]), *h)
    });
    let overflow = hosts.len() > MAX_LANES;
    let shown = if overflow { MAX_LANES - 1 } else { hosts.len() };
    let lane_of: HashMap<&str, usize> = hosts
        .iter()
        .take(shown)
        .enumerate()
        .map(|(i, h)| (*h, i))
        .collect();
    let lanes = shown + usize::from(overflow);
    let height = lanes as f64 * LANE_H + 34.0;
    let width = LABEL_W + PLOT_W + 10.0;

    let _ = write!(
        out,
        r#"<svg class="timeline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="timeline of all sessions">"#
    );
    for i in 0..lanes {
        let y = i as f64 * LANE_H;
        let name = if i < shown {
            hosts[i].to_string()
        } else {
            format!("{} other hosts", hosts.len() - shown)
        };
        let _ = write!(
            out,
            r#"<rect class="lane{}" x="0" y="{y}" width="{width}" height="{LANE_H}"/><text class="host" x="4" y="{}">{}</text>"#,
            i % 2,
            y + 13.0,
            page.t_tail(&name, 30)
        );
    }
    // Axis.
    let base = lanes as f64 * LANE_H;
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LABEL_W}" y1="{base}" x2="{}" y2="{base}"/>"#,
        LABEL_W + PLOT_W
    );
    for k in 0..=4 {
        let x = LABEL_W + PLOT_W * k as f64 / 4.0;
        let label = match axis {
            Axis::Time { span, .. } => format!("+{:.1} s", span as f64 * k as f64 / 4000.0),
            Axis::Order { n } => format!("#{}", (n.saturating_sub(1)) * k / 4 + 1),
        };
        let anchor = match k {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            out,
            r#"<line class="tick" x1="{x}" y1="{base}" x2="{x}" y2="{}"/><text class="tick" x="{x}" y="{}" text-anchor="{anchor}">{}</text>"#,
            base + 4.0,
            base + 16.0,
            text(&label)
        );
    }
    // Non-flow sessions first so the flow ones are drawn on top.
    let mut ordered: Vec<(usize, &SessionSummary)> = sessions.iter().enumerate().collect();
    ordered.sort_by_key(|(_, s)| page.flow_of.contains_key(&s.id));
    // A bar no link leads to, drawn over an identical one (same lane, pixel, width and
    // colour), adds nothing to the picture: tens of thousands of sessions of a loop would
    // otherwise weigh megabytes. Sessions with a detail block or a row are always drawn.
    let mut drawn: HashSet<(usize, i32, i32, Option<usize>)> = HashSet::new();
    let mut hidden = 0usize;
    for (i, s) in ordered {
        let host = s.host.as_deref().unwrap_or("(no host)");
        let lane = lane_of.get(host).copied().unwrap_or(lanes - 1);
        let (x, w) = place(&axis, i, s);
        let y = lane as f64 * LANE_H + 3.0;
        let flow = page.flow_of.get(&s.id);
        let key = (
            lane,
            x.round() as i32,
            w.round() as i32,
            flow.map(|f| f % 6),
        );
        if !drawn.insert(key) && !page.anchored(s.id) {
            hidden += 1;
            continue;
        }
        let class = match flow {
            Some(f) => format!("s flow f{}", f % 6),
            None => "s".to_string(),
        };
        let status = s.status.map_or("-".to_string(), |c| c.to_string());
        let title = format!(
            "#{} {} {} → {}{}",
            s.id,
            s.method,
            crate::capture::url_parts::strip_query(&s.url),
            status,
            flow.map_or(String::new(), |f| format!(" (flow {})", f + 1))
        );
        let open = if page.anchored(s.id) {
            format!(r##"<a href="#{}">"##, attr(&page.anchor(s.id)))
        } else {
            String::new()
        };
        let _ = write!(
            out,
            r#"{open}<rect class="{class}" data-session="{}" x="{x:.1}" y="{y}" width="{w:.1}" height="{}"><title>{}</title></rect>{}"#,
            s.id,
            LANE_H - 6.0,
            page.t(&title),
            if open.is_empty() { "" } else { "</a>" }
        );
    }
    out.push_str("</svg>");
    if hidden > 0 {
        let _ = write!(
            out,
            r#"<p class="hint">{} sessions drawn over identical bars are not drawn again.</p>"#,
            super::thousands(hidden)
        );
    }
}

fn axis(sessions: &[SessionSummary]) -> Axis {
    let starts: Vec<i64> = sessions
        .iter()
        .filter_map(|s| s.start.map(|t| t.timestamp_millis()))
        .collect();
    if starts.len() == sessions.len() {
        let t0 = starts.iter().copied().min().unwrap_or(0);
        let t1 = sessions
            .iter()
            .filter_map(|s| s.end.or(s.start).map(|t| t.timestamp_millis()))
            .max()
            .unwrap_or(t0);
        Axis::Time {
            t0,
            span: (t1 - t0).max(1),
        }
    } else {
        Axis::Order { n: sessions.len() }
    }
}

/// x and width of a session's bar.
fn place(axis: &Axis, index: usize, s: &SessionSummary) -> (f64, f64) {
    match *axis {
        Axis::Time { t0, span } => {
            let start = s.start.map_or(t0, |t| t.timestamp_millis());
            let end = s.end.map_or(start, |t| t.timestamp_millis()).max(start);
            let x = (start - t0) as f64 / span as f64 * PLOT_W;
            let w = ((end - start) as f64 / span as f64 * PLOT_W).max(3.0);
            (LABEL_W + x.min(PLOT_W - 3.0), w.min(PLOT_W - x).max(3.0))
        }
        Axis::Order { n } => {
            let step = PLOT_W / n.max(1) as f64;
            (LABEL_W + index as f64 * step, step.clamp(3.0, 40.0))
        }
    }
}
