//! Stage 4: flows and events -> findings.
//!
//! One file per rule, each a `check(&Context) -> Vec<Finding>` that knows nothing of how the
//! findings will be shown. A finding's `id` is stable: scripts and dashboards key on it.

mod aadsts_codes;
mod auth_loop;
mod context;
mod delegate_empty;
mod delegate_ews_auth;
mod delegate_permission;
mod evidence;
mod exchange;
mod exchange_oauth_error;
mod hma_declined;
mod hma_ignored;
mod hma_not_advertised;
mod http_resource;
mod ioc_oauth_failure;
mod legacy_auth_exposed;
mod spn_missing;
#[cfg(test)]
mod testkit;
// Issue 19, items 4 and 5: proxies in front of Exchange and on the client's side.
mod gateway_timeout;
mod preauth_proxy;
mod proxy;
mod proxy_auth;
mod proxy_blocked;
mod tenant_restriction;

use std::collections::BTreeSet;

use serde::Serialize;

pub use context::{Context, MissingSpn};
pub use exchange::exchange_hosts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier (`spn-missing`, `auth-loop`, ...).
    pub id: String,
    pub severity: Severity,
    pub title: String,
    /// The sessions that prove it, ascending.
    pub sessions: Vec<u64>,
    /// What was seen, quoting the capture. Never a credential.
    pub evidence: String,
    /// What to do about it.
    pub fix: String,
    /// The part of the fix a script can apply, when there is one: the fix script is a fold
    /// over the findings' remedies (`report::powershell`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<Remedy>,
}

/// A fix a script can apply, typed so that any rule can propose one and one renderer writes
/// them all. Every value is validated where it is rendered, never trusted as code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Remedy {
    /// Add service principal names (`https://host/`) to Office 365 Exchange Online in one
    /// tenant (Microsoft Graph PowerShell).
    AddSpns {
        /// GUID or domain for `Connect-MgGraph -TenantId`, when the capture tells it.
        tenant: Option<String>,
        /// Display name, for the script's comment only.
        tenant_name: Option<String>,
        spns: Vec<String>,
        /// What must be fixed by hand before these SPNs help (the client asked for the
        /// `http://` form): the script says the SPNs are the second step.
        #[serde(skip_serializing_if = "Option::is_none")]
        first: Option<String>,
    },
    /// The on-premises Exchange Management Shell: read-only commands that show the state the
    /// finding is about, and the commands that change it, in order (written commented: they
    /// change the whole organisation, and a person runs them after reading the finding).
    ExchangeShell {
        check: Vec<&'static str>,
        change: Vec<&'static str>,
    },
}

type Check = fn(&Context) -> Vec<Finding>;

/// A rule in the table: its finding id(s), its check, and whom it yields to.
pub struct RuleSpec {
    /// The finding id, or the id prefix for a family (`aadsts-`).
    pub id: &'static str,
    pub check: Check,
    /// Rules with precedence over this one: the sessions their findings cite are invisible
    /// to this rule (their events are left out of its [`Context`], and the flows holding them
    /// are explained). Each must come earlier in [`RULES`]; an id ending in `-` names a
    /// family (`aadsts-`).
    pub yields_to: &'static [&'static str],
}

/// Every rule, in the order their findings are reported.
/// Causes come before symptoms: at equal severity the verdict quotes the first finding, and
/// an analyst should read "AADSTS50076: MFA required" before "tried 6 times".
pub const RULES: &[RuleSpec] = &[
    // The http URL comes first: no SPN stops a loop for http://host until the client asks
    // for https (the SPN is the second step).
    RuleSpec {
        id: "http-resource",
        check: http_resource::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "spn-missing",
        check: spn_missing::check,
        yields_to: &[],
    },
    // AADSTS500021 after tenant-restriction headers is that finding's evidence, named with
    // the allowed list (issue 19).
    RuleSpec {
        id: "tenant-restriction",
        check: tenant_restriction::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "aadsts-",
        check: aadsts_codes::check,
        yields_to: &["tenant-restriction"],
    },
    RuleSpec {
        id: "hma-not-advertised",
        check: hma_not_advertised::check,
        yields_to: &[],
    },
    // Refusals in a known context (Exchange Online's free/busy, Teams' GetDelegate) name the
    // problem better than the bare x-ms-diagnostics code: they come first.
    RuleSpec {
        id: "ioc-oauth-failure",
        check: ioc_oauth_failure::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "delegate-ews-auth",
        check: delegate_ews_auth::check,
        yields_to: &[],
    },
    // A 4000000 "OAuth not available" on a vdir that offers no Bearer is the missing HMA
    // hma-not-advertised reports, not a second problem.
    // A refusal a more specific rule explains (free/busy, GetDelegate) is that finding's
    // evidence, its code and meaning quoted there.
    RuleSpec {
        id: "exchange-oauth-error",
        check: exchange_oauth_error::check,
        yields_to: &[
            "hma-not-advertised",
            "ioc-oauth-failure",
            "delegate-ews-auth",
        ],
    },
    RuleSpec {
        id: "hma-declined",
        check: hma_declined::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "hma-ignored",
        check: hma_ignored::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "delegate-permission",
        check: delegate_permission::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "delegate-empty",
        check: delegate_empty::check,
        yields_to: &[],
    },
    // A loop whose cause a rule names is that finding's evidence, not an error of its own.
    RuleSpec {
        id: "auth-loop",
        check: auth_loop::check,
        yields_to: &[
            "http-resource",
            "spn-missing",
            "aadsts-",
            "exchange-oauth-error",
            "ioc-oauth-failure",
            "tenant-restriction",
        ],
    },
    RuleSpec {
        id: "legacy-auth-exposed",
        check: legacy_auth_exposed::check,
        yields_to: &[],
    },
    // Issue 19: proxies. A refused tunnel to Entra ID that hma-ignored already names as the
    // cause of an ignored Bearer offer is that finding's evidence.
    RuleSpec {
        id: "preauth-proxy",
        check: preauth_proxy::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "proxy-auth-required",
        check: proxy_auth::check,
        yields_to: &["hma-ignored"],
    },
    RuleSpec {
        id: "proxy-blocked",
        check: proxy_blocked::check,
        yields_to: &["hma-ignored"],
    },
    RuleSpec {
        id: "gateway-timeout",
        check: gateway_timeout::check,
        yields_to: &["hma-ignored"],
    },
];

/// Run every rule in table order, each over the context its precedence leaves it; findings
/// come most severe first, then in rule order.
pub fn run_all(cx: &Context) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for rule in RULES {
        if rule.yields_to.is_empty() {
            findings.extend((rule.check)(cx));
            continue;
        }
        let yielded: BTreeSet<u64> = findings
            .iter()
            .filter(|f| rule.yields_to.iter().any(|w| names(w, &f.id)))
            .flat_map(|f| f.sessions.iter().copied())
            .collect();
        findings.extend((rule.check)(&cx.yielding(&yielded)));
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

/// Whether the rule id (or family prefix ending in `-`) `rule` names finding id `id`.
fn names(rule: &str, id: &str) -> bool {
    if rule.ends_with('-') {
        id.starts_with(rule)
    } else {
        id == rule
    }
}

/// At most ten session numbers, comma-separated, for evidence and verdicts.
pub fn session_list(ids: &[u64]) -> String {
    let shown: Vec<String> = ids.iter().take(10).map(u64::to_string).collect();
    if ids.len() > 10 {
        format!("{}, ...", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Sorted, deduplicated session list.
pub(crate) fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Precedence is data: it must name rules that exist and run first, or it would
    /// silently do nothing.
    #[test]
    fn every_rule_yields_only_to_rules_listed_before_it_and_ids_are_unique() {
        for (i, rule) in RULES.iter().enumerate() {
            for winner in rule.yields_to {
                assert!(
                    RULES[..i].iter().any(|r| r.id == *winner),
                    "{} yields to {winner}, which is not an earlier rule",
                    rule.id
                );
            }
            assert!(
                RULES[..i].iter().all(|r| r.id != rule.id),
                "{} listed twice",
                rule.id
            );
        }
    }
}
