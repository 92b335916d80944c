//! `aadsts-*`: every AADSTS code other than the SPN ones, explained from the catalog, so a
//! ticket with AADSTS50076 (MFA) or 53003 (conditional access) is not sent to the SPN fix.

use std::collections::BTreeMap;

use super::spn_missing::{aad_errors, NOT_FOUND_CODES};
use super::{sorted, Context, Finding, Severity};
use crate::auth::aadsts::{self, Nature};

/// The finding id for a code: a named family where an engineer thinks of one, else the number.
pub fn finding_id(code: u32) -> String {
    let family = match code {
        50074 | 50076 | 50079 | 50072 | 50158 => "aadsts-mfa",
        53000 | 53001 | 53002 | 53003 | 53004 | 53011 | 530003 | 530032 => {
            "aadsts-conditional-access"
        }
        50057 => "aadsts-account-disabled",
        50053 => "aadsts-account-locked",
        50126 => "aadsts-invalid-credentials",
        50055 | 50056 | 50133 | 50173 => "aadsts-password",
        50008 | 50107 | 50128 | 500021 | 80001 | 80002 | 80005 | 80007 | 80012 | 81010 | 81012 => {
            "aadsts-federation-or-sync"
        }
        65001 | 65004 | 90094 | 90095 => "aadsts-consent",
        _ => "",
    };
    if family.is_empty() {
        format!("aadsts-{code}")
    } else {
        family.to_string()
    }
}

pub fn check(cx: &Context) -> Vec<Finding> {
    // code -> sessions
    let mut seen: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for (session, error) in aad_errors(cx) {
        for code in &error.codes {
            if !NOT_FOUND_CODES.contains(code) {
                seen.entry(*code).or_default().push(session);
            }
        }
    }
    seen.into_iter()
        .map(|(code, sessions)| {
            let sessions = sorted(sessions);
            let first = sessions.first().copied();
            let said = first
                .and_then(|s| super::spn_missing::aad_error_at(cx, s))
                .and_then(|e| e.description.clone())
                .map(|d| format!(" Entra ID said: \"{d}\""))
                .unwrap_or_default();
            let where_ = first
                .map(|s| format!(" (first in session {s}: {})", cx.describe(s)))
                .unwrap_or_default();
            match aadsts::lookup(code) {
                Some(info) => Finding {
                    id: finding_id(code),
                    severity: match info.nature {
                        Nature::Error => Severity::Error,
                        Nature::Warning => Severity::Warning,
                        Nature::Normal => Severity::Info,
                    },
                    title: format!("AADSTS{code} {}: {}", info.name, info.summary),
                    evidence: format!(
                        "AADSTS{code} answered {} time(s){where_}.{said}",
                        sessions.len()
                    ),
                    fix: info.advice.to_string(),
                    sessions,
                },
                None => Finding {
                    id: finding_id(code),
                    severity: Severity::Warning,
                    title: format!("AADSTS{code}: a code traceadal does not know"),
                    evidence: format!(
                        "AADSTS{code} answered {} time(s){where_}.{said}",
                        sessions.len()
                    ),
                    fix: format!(
                        "Look the code up at https://login.microsoftonline.com/error?code={code} \
                         and in the Entra ID sign-in logs (filter by the correlation id)."
                    ),
                    sessions,
                },
            }
        })
        .collect()
}
