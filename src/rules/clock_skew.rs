//! `clock-skew`: the client's clock and the server's disagree by more than five minutes.
//!
//! Measured on the sessions that presented a token: the request's start by the capture's
//! clock (SAZ `ClientBeginRequest`, HAR `startedDateTime`, both with their UTC offset, so a
//! time zone is never a skew) against the answer's `Date` header (the server's clock, in
//! GMT). Every such session must agree (all beyond five minutes, the same way): one slow
//! answer is not a skew.
//!
//! A client behind the server keeps tokens the server already considers expired; a client
//! ahead of it sees fresh tokens as not yet valid and may refresh in a loop. The capture's
//! clock is the client's only when the capture was taken on the client (Fiddler on the
//! user's machine, a browser's HAR), which is how these captures are taken.

use super::context::CLOCK_SKEW_TOLERANCE;
use super::tokens::span;
use super::{Context, Finding, Severity};

pub fn check(cx: &Context) -> Vec<Finding> {
    let Some((delta, sessions)) = cx.clock_skew() else {
        return Vec::new();
    };
    let way = if delta > 0 { "ahead of" } else { "behind" };
    let first = sessions[0];
    vec![Finding {
        id: "clock-skew".into(),
        severity: Severity::Warning,
        title: format!("The client's clock is {} {way} the server's", span(delta)),
        evidence: format!(
            "On {} session(s) that presented a token, the request's start by the capture's \
             clock and the answer's Date header differ by more than {} min, always the same \
             way (median {} {way}); first session {}: {}. Tokens then look expired or not yet \
             valid to one side.",
            sessions.len(),
            CLOCK_SKEW_TOLERANCE / 60,
            span(delta),
            first,
            cx.describe(first),
        ),
        fix: "Set the client's clock right: on Windows `w32tm /resync` (or check the time \
              source with `w32tm /query /status`; a domain member follows its domain \
              controller), on a phone the automatic date and time setting. If the capture was \
              not taken on the client (a proxy, a server), compare that machine's clock \
              instead."
            .into(),
        sessions,
        remedy: None,
    }]
}
