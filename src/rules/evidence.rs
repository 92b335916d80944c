//! How findings quote the capture: one wording for what Entra ID said, whose calendar a
//! delegate check was about, and which claims a token carried (never the token).

use crate::auth::{AadError, Claims, DelegateCheck};
use crate::flows::Flow;

/// A fix's first sentence: what to do, without the detail (the verdict's line for a finding,
/// a rule's one line for several).
pub fn first_sentence(fix: &str) -> &str {
    match fix.find(". ") {
        Some(i) => &fix[..=i],
        None => fix,
    }
}

/// `a`, `a and b`, `a, b and c`: hosts named in one sentence.
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", init.join(", "), last.as_ref())
        }
    }
}

/// What Entra said, with the ids its sign-in logs and Microsoft support look errors up by.
pub fn quote_error(e: &AadError) -> String {
    let mut s = match &e.description {
        Some(d) => format!(" Entra ID said: \"{d}\""),
        None => String::new(),
    };
    let ids: Vec<String> = [
        e.trace_id.as_deref().map(|t| format!("trace id {t}")),
        e.correlation_id
            .as_deref()
            .map(|c| format!("correlation id {c}")),
        e.timestamp.as_deref().map(|t| format!("at {t}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !ids.is_empty() {
        s.push_str(&format!(" ({})", ids.join(", ")));
    }
    s
}

/// The owner mailbox a `GetDelegate` asked about, as the finding names it.
pub fn owner_of(d: &DelegateCheck) -> String {
    d.owner
        .clone()
        .unwrap_or_else(|| "(owner not in the request)".into())
}

/// The claims an analyst needs, one line, never the token: `aud=..., tid=..., ...`.
pub fn claims_line(c: &Claims) -> String {
    let mut parts = Vec::new();
    let mut push = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    };
    push("aud", c.aud.clone());
    push("tid", c.tid.clone());
    push("appid", c.appid.clone());
    push("upn", c.upn.clone());
    push(
        "exp",
        c.exp.map(|e| {
            chrono::DateTime::from_timestamp(e, 0).map_or_else(
                || e.to_string(),
                |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
            )
        }),
    );
    if parts.is_empty() {
        "claims not readable (encrypted or opaque token)".to_string()
    } else {
        parts.join(", ")
    }
}

/// A loop as the evidence of the finding that explains it: who retried, how often, for how
/// long, and where to look ("outlook:4242 (Microsoft Office) tried 6 times over 60.2 s,
/// sessions 3-32").
pub fn loop_line(f: &Flow) -> String {
    let who = match (f.client_process.as_deref(), f.client_name) {
        (Some(p), Some(n)) => format!("{p} ({n})"),
        (Some(p), None) => p.to_string(),
        (None, Some(n)) => n.to_string(),
        (None, None) => "The client".to_string(),
    };
    let over = f
        .duration_label()
        .map(|d| format!(" over {d}"))
        .unwrap_or_default();
    format!(
        "{who} tried {} times for {}{over}, sessions {}-{}",
        f.attempts.len(),
        f.resource,
        f.first_session,
        f.last_session
    )
}

/// The loops among `flows`, as one sentence for a finding's evidence ("" when none loops).
pub fn loops_sentence<'a>(flows: impl Iterator<Item = &'a Flow>) -> String {
    let lines: Vec<String> = flows.filter(|f| f.is_loop()).map(loop_line).collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!(" The loop it causes: {}.", lines.join("; "))
    }
}
