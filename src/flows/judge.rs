//! How a flow went, judged by the outcome of its rounds and by their timing.
//!
//! Counting rounds is not enough: a healthy day of Outlook has a round per resource every
//! hour (the cached token expires, Exchange answers 401, a refresh gets a new one), and
//! Office asks for background tokens dozens of times without any challenge. What makes a
//! loop is failure repeating: rounds that end without a token one after another, or a token
//! that was just issued refused by the next challenge, well inside its lifetime.

use serde::Serialize;

use super::{Attempt, Outcome};
use crate::capture::{Credential, SessionSummary};

/// A token lifetime to assume when Entra's answer gave none (`expires_in`): access tokens
/// for Exchange live 60 to 90 minutes.
const DEFAULT_LIFETIME_S: u64 = 3600;

/// The judged state of a flow (report `loops[].state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Every round ended with a token, each used until it expired: the normal cycle,
    /// background token requests included.
    Ok,
    /// Some rounds failed (an MFA step-up, a `prompt=none` that needed a sign-in, one token
    /// refused), and the flow went on to a token that was not refused: healthy in the end.
    Recovered,
    /// The last round ended without a token, and the one before it (if any) did not fail.
    Failed,
    /// The last rounds ended without a token, one after another: the white box.
    Looping,
    /// Tokens were issued and the challenged host refused them at once, again and again.
    Refused,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Recovered => "recovered",
            State::Failed => "failed",
            State::Looping => "looping",
            State::Refused => "refused",
        }
    }

    /// A loop: failure repeating, the state `auth-loop` and the verdict are about.
    pub fn is_loop(self) -> bool {
        matches!(self, State::Looping | State::Refused)
    }
}

/// The verdict on one flow's rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judgement {
    pub state: State,
    /// Rounds at the end that failed one after another.
    pub failing_run: usize,
    /// Rounds started by a challenge to a request that presented a token issued less than
    /// half its lifetime before.
    pub refused: usize,
}

/// Judge `attempts` (in order); `sessions` sorted by id give times and credentials.
pub fn judge(attempts: &[Attempt], sessions: &[SessionSummary]) -> Judgement {
    let failing_run = attempts
        .iter()
        .rev()
        .take_while(|a| a.outcome != Outcome::Token)
        .count();
    let refused = attempts
        .windows(2)
        .filter(|w| refused_at_once(&w[0], &w[1], sessions))
        .count();
    let ended_with_token = attempts.last().is_some_and(|a| a.outcome == Outcome::Token);
    let any_failed = attempts.iter().any(|a| a.outcome != Outcome::Token);
    let state = if refused >= 2 {
        State::Refused
    } else if ended_with_token {
        if any_failed || refused > 0 {
            State::Recovered
        } else {
            State::Ok
        }
    } else if failing_run >= 2 {
        State::Looping
    } else {
        State::Failed
    };
    Judgement {
        state,
        failing_run,
        refused,
    }
}

/// `next` began with a 401 to a request presenting a token, sooner after `prev`'s token was
/// issued than half that token's lifetime: the host refused a token it should accept.
/// Unknown times judge nothing refused: precision first, a capture without timers cannot
/// tell an hourly refresh from a refusal.
fn refused_at_once(prev: &Attempt, next: &Attempt, sessions: &[SessionSummary]) -> bool {
    if prev.outcome != Outcome::Token {
        return false;
    }
    let (Some(issued), Some(&challenge)) = (prev.result, next.challenges.first()) else {
        return false;
    };
    let (Some(issued), Some(challenge)) = (find(sessions, issued), find(sessions, challenge))
    else {
        return false;
    };
    if challenge.credential != Some(Credential::Bearer) {
        return false;
    }
    let (Some(at), Some(then)) = (issued.end.or(issued.start), challenge.start) else {
        return false;
    };
    let lifetime = prev.expires_in.unwrap_or(DEFAULT_LIFETIME_S).max(60);
    let gap = (then - at).num_seconds();
    gap >= 0 && (gap as u64) < lifetime / 2
}

pub(super) fn find(sessions: &[SessionSummary], id: u64) -> Option<&SessionSummary> {
    sessions
        .binary_search_by_key(&id, |s| s.id)
        .ok()
        .and_then(|i| sessions.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::S;

    const AD: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
    const TOKEN: &str = "https://login.microsoftonline.com/common/oauth2/token";

    /// A round: a challenge at `t` (to a request presenting a Bearer when `presented`), and
    /// a token request at `t + 1` answered with `outcome`. Sessions are numbered from `id`.
    fn round(
        id: u64,
        t: i64,
        presented: bool,
        outcome: Outcome,
        sessions: &mut Vec<SessionSummary>,
    ) -> Attempt {
        let mut challenge = S::new(id, "POST", AD, 401).at(t);
        if presented {
            challenge = challenge.req_header("Authorization", "Bearer eyJ0eXAiOiJKV1Qi");
        }
        sessions.push(SessionSummary::of(&challenge.0));
        sessions.push(SessionSummary::of(
            &S::new(id + 1, "POST", TOKEN, 200).at(t + 1).0,
        ));
        Attempt {
            challenges: vec![id],
            logins: vec![id + 1],
            result: Some(id + 1),
            outcome,
            aadsts: Vec::new(),
            expires_in: (outcome == Outcome::Token).then_some(3599),
        }
    }

    fn judged(rounds: &[(i64, bool, Outcome)]) -> Judgement {
        let mut sessions = Vec::new();
        let attempts: Vec<Attempt> = rounds
            .iter()
            .enumerate()
            .map(|(i, &(t, p, o))| round(i as u64 * 2 + 1, t, p, o, &mut sessions))
            .collect();
        judge(&attempts, &sessions)
    }

    #[test]
    fn an_hourly_refresh_cycle_is_ok_however_many_rounds() {
        let rounds: Vec<(i64, bool, Outcome)> = (0..8)
            .map(|h| (h * 3600 + 7, h > 0, Outcome::Token))
            .collect();
        let j = judged(&rounds);
        assert_eq!((j.state, j.refused, j.failing_run), (State::Ok, 0, 0));
    }

    #[test]
    fn a_fresh_token_refused_again_and_again_is_refused() {
        let j = judged(&[
            (0, false, Outcome::Token),
            (5, true, Outcome::Token),
            (11, true, Outcome::Token),
        ]);
        assert_eq!((j.state, j.refused), (State::Refused, 2));
        // Once, then a token that held: a hiccup the client got over.
        let j = judged(&[(0, false, Outcome::Token), (5, true, Outcome::Token)]);
        assert_eq!((j.state, j.refused), (State::Recovered, 1));
    }

    #[test]
    fn an_anonymous_probe_after_a_token_is_no_refusal() {
        let j = judged(&[
            (0, false, Outcome::Token),
            (5, false, Outcome::Token),
            (11, false, Outcome::Token),
        ]);
        assert_eq!((j.state, j.refused), (State::Ok, 0));
    }

    #[test]
    fn failures_then_a_token_recover_and_repeated_failures_at_the_end_loop() {
        let step_up = judged(&[
            (0, true, Outcome::AadError),
            (3, false, Outcome::AadError),
            (9, false, Outcome::Token),
        ]);
        assert_eq!(step_up.state, State::Recovered);
        let white_box = judged(&[
            (0, false, Outcome::AadError),
            (10, false, Outcome::AadError),
            (20, false, Outcome::AadError),
        ]);
        assert_eq!(
            (white_box.state, white_box.failing_run),
            (State::Looping, 3)
        );
        let once = judged(&[(0, false, Outcome::Token), (4000, true, Outcome::AadError)]);
        assert_eq!((once.state, once.failing_run), (State::Failed, 1));
        assert!(!State::Failed.is_loop() && State::Looping.is_loop());
    }

    #[test]
    fn without_times_nothing_is_judged_refused() {
        let mut sessions = Vec::new();
        let mut attempts = vec![
            round(1, 0, false, Outcome::Token, &mut sessions),
            round(3, 5, true, Outcome::Token, &mut sessions),
            round(5, 9, true, Outcome::Token, &mut sessions),
        ];
        for s in &mut sessions {
            s.start = None;
            s.end = None;
        }
        attempts[0].expires_in = None;
        assert_eq!(judge(&attempts, &sessions).state, State::Ok);
    }
}
