//! The HTML page rendered from a hand-built analysis (no capture reader needed): escaping,
//! redaction, one arrow per step, folding, links, the Content-Security-Policy.

use std::collections::BTreeSet;

use crate::common::fixture::{self, Fixture, BEARER_SECRET, COOKIE_SECRET, REFRESH_SECRET};
use traceadal::redact::Redactor;
use traceadal::report::html::{self, HtmlInput};

fn render(f: &Fixture, redactor: Redactor) -> String {
    let mut out = Vec::new();
    let input = HtmlInput {
        report: &f.report,
        analysis: &f.analysis,
        details: &f.details,
    };
    html::write(&mut out, &[input], redactor).unwrap_or_else(|e| panic!("render: {e}"));
    String::from_utf8(out).unwrap_or_else(|e| panic!("utf-8: {e}"))
}

/// The part of the page holding flow `i`'s diagram.
fn diagram(page: &str, i: usize) -> &str {
    let start = page
        .find(&format!(r#"<div class="seq" data-flow="{i}">"#))
        .unwrap_or_else(|| panic!("no diagram {i}"));
    let rest = &page[start..];
    let end = rest.find("</article>").unwrap_or(rest.len());
    &rest[..end]
}

/// `data-session` of every arrow going `dir` in `part`.
fn arrows(part: &str, dir: &str) -> Vec<u64> {
    let re = regex::Regex::new(&format!(
        r#"<g class="arrow {dir}[^"]*" data-session="(\d+)" data-dir="{dir}">"#
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    re.captures_iter(part)
        .filter_map(|c| c[1].parse().ok())
        .collect()
}

#[test]
fn one_request_and_one_response_arrow_per_session_of_each_flow() {
    let f = fixture::build();
    // The pipeline made of the fixture's sessions the loop and the healthy EWS flow.
    assert_eq!(f.analysis.flows.len(), 2);
    assert_eq!(f.analysis.flows[0].attempts.len(), 5);
    assert_eq!(f.analysis.flows[1].attempts.len(), 1);
    let page = render(&f, Redactor::default());
    for i in 0..f.analysis.flows.len() {
        let part = diagram(&page, i);
        let expected = f.flow_sessions(i);
        let mut req = arrows(part, "req");
        let mut resp = arrows(part, "resp");
        req.sort_unstable();
        resp.sort_unstable();
        assert_eq!(req, expected, "flow {i}: request arrows");
        assert_eq!(
            resp, expected,
            "flow {i}: response arrows (every session answered)"
        );
    }
    // The loop: attempt 1 shown, attempts 2-4 (same steps) folded, attempt 5 (with an
    // authorize step) shown.
    let loop_part = diagram(&page, 0);
    assert_eq!(loop_part.matches(r#"<details class="fold""#).count(), 1);
    assert!(loop_part.contains(r#"<details class="fold" data-count="3">"#));
    assert!(loop_part.contains("AADSTS500011"));
    assert!(loop_part.contains("POST /common/oauth2/token"));
    assert!(
        loop_part.contains("GET …/autodiscover/autodiscover.xml")
            || loop_part.contains("GET /autodiscover/autodiscover.xml")
    );
    assert!(!diagram(&page, 1).contains("<details"));
}

#[test]
fn capture_markup_is_text_and_only_our_script_is_on_the_page() {
    let f = fixture::build();
    let page = render(&f, Redactor::default());
    assert_eq!(
        page.matches("<script").count(),
        1,
        "one script element: ours"
    );
    assert!(!page.contains("<img"));
    assert!(!page.contains("<b>evil"));
    assert!(!page.contains("</title><script"));
    assert!(page.contains("X-Planted: &lt;script&gt;window.__pwned = 1&lt;/script&gt;&lt;img src=x onerror=\"window.__pwned = 2\"&gt;"));
    assert!(page.contains("&lt;/pre&gt;&lt;script&gt;window.__pwned = 4&lt;/script&gt;"));
    assert!(page.contains("&lt;b&gt;evil.exe&lt;/b&gt;"));
}

#[test]
fn secrets_are_redacted_before_escaping_and_the_page_is_stable_under_redaction() {
    let f = fixture::build();
    let page = render(&f, Redactor::default());
    let signature = BEARER_SECRET.rsplit('.').next().unwrap_or("");
    for secret in [REFRESH_SECRET, COOKIE_SECRET, signature] {
        assert!(!page.contains(secret), "{secret} leaked");
    }
    assert!(
        page.contains("refresh_token=&lt;redacted&gt;")
            || page.contains("refresh_token=<redacted>")
    );
    assert!(page.contains("\"access_token\": &quot;&lt;redacted&gt;&quot;"));
    assert!(page.contains("ookie: ESTSAUTH=&lt;redacted&gt;; x-ms-gateway-slice=&lt;redacted&gt;"));
    // The redaction layer output::emit applies must not change the page: our CSS, script
    // and labels pass it, and capture text was already redacted.
    let again = Redactor::default().text(&page);
    if again != page {
        let at = page
            .bytes()
            .zip(again.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "redaction changed the page near: {}",
            &page[at.saturating_sub(120)..(at + 80).min(page.len())]
        );
    }
    // --show-secrets shows them.
    let shown = render(&f, Redactor::new(true));
    assert!(shown.contains(REFRESH_SECRET));
}

#[test]
fn every_link_has_its_target_and_ids_are_unique() {
    let f = fixture::build();
    let page = render(&f, Redactor::default());
    let ids: Vec<&str> = regex::Regex::new(r#" id="([^"]+)""#)
        .unwrap_or_else(|e| panic!("{e}"))
        .captures_iter(&page)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate ids");
    let hrefs: BTreeSet<String> = regex::Regex::new(r##"href="#([^"]+)""##)
        .unwrap_or_else(|e| panic!("{e}"))
        .captures_iter(&page)
        .map(|c| c[1].to_string())
        .collect();
    assert!(!hrefs.is_empty());
    for h in &hrefs {
        assert!(unique.contains(h.as_str()), "link to missing #{h}");
    }
    // Every session of the capture can be reached.
    for s in &f.analysis.sessions {
        assert!(
            unique.contains(format!("s-{}", s.id).as_str()),
            "no #s-{}",
            s.id
        );
    }
}

#[test]
fn self_contained_with_a_policy_that_forbids_everything_else() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let f = fixture::build();
    let page = render(&f, Redactor::default());
    let hash = |s: &str| {
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s.as_bytes()))
    };
    assert!(page.contains(&format!("script-src 'sha256-{}'", hash(html::SCRIPT))));
    assert!(page.contains(&format!("style-src 'sha256-{}'", hash(html::STYLE))));
    assert!(page.contains("default-src 'none'"));
    for fetch in [
        "src=\"http",
        "href=\"http",
        "url(",
        "@import",
        "<link",
        "<iframe",
    ] {
        assert!(!page.contains(fetch), "{fetch}");
    }
    // The fix script is on the page, with its copy button.
    assert!(!f.report.powershell.is_empty());
    assert!(page.contains(r#"data-copy="fix-script""#));
    assert!(page.contains("Update-MgServicePrincipal"));
}
