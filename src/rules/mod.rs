//! Stage 4: flows and events -> findings.
//!
//! One file per rule, each a `check(&Context) -> Vec<Finding>` that knows nothing of how the
//! findings will be shown. A finding's `id` is stable: scripts and dashboards key on it.

mod aadsts_codes;
mod auth_loop;
mod autodiscover_v2;
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
mod kerberos_fallback_ntlm;
mod legacy_auth_exposed;
mod legacy_split_namespace;
mod ntlm_loop;
mod spn_missing;
// Federation (issue 24 item 2).
mod federation;
mod federation_idp;
mod federation_realm;
mod federation_saml;
mod federation_seamless_sso;
mod federation_wstrust;
#[cfg(test)]
mod testkit;
// Tokens checked against the request that carries them (issue 24).
mod clock_skew;
mod token_audience;
mod token_expired;
mod token_wrong_tenant;
mod tokens;
// Issue 19 items 3 and 6: errors inside Exchange's answers.
mod ews_error;
mod freebusy_catalog;
mod freebusy_error;
mod mapi_error;
// Issue 19: Autodiscover answers and predicted SPNs.
mod autodiscover;
mod autodiscover_error;
mod autodiscover_header_error;
mod autodiscover_redirect;
#[cfg(test)]
mod autodiscover_testkit;
mod autodiscover_web_host;
mod autodiscover_wrong_side;
mod spn_predicted;
// Issue 19, items 4 and 5: proxies in front of Exchange and on the client's side.
mod gateway_timeout;
mod preauth_proxy;
mod proxy;
mod proxy_auth;
mod proxy_blocked;
mod tenant_restriction;

use std::collections::BTreeSet;

use rayon::prelude::*;
use serde::Serialize;

pub use context::{Context, MissingSpn, Presented, PublishedEndpoint};
pub use evidence::first_sentence;
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
        /// The tenant's GUID when the capture shows it, also when `tenant` is a domain
        /// (added after issue 20): fix scripts are keyed by it, one per tenant.
        #[serde(skip_serializing_if = "Option::is_none")]
        tenant_id: Option<String>,
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
    /// SPNs the capture predicts are missing but does not prove (`spn-predicted`, a
    /// warning): the script lists them in a block of their own, commented out, with the
    /// reason.
    PredictedSpns {
        tenant: Option<String>,
        tenant_name: Option<String>,
        spns: Vec<String>,
        /// Why they are predicted (`published by autodiscover, not yet asked for in this
        /// capture`).
        reason: String,
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
    // Federation: the IdP's side of a sign-in. They come before the AADSTS codes they explain
    // (50107, 50008, 81010, FederatedStsUnreachable ...), which yield to them.
    RuleSpec {
        id: "federation-sts-unreachable",
        check: federation_idp::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "federation-saml-",
        check: federation_saml::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "federation-seamless-sso",
        check: federation_seamless_sso::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "federation-realm-unknown",
        check: federation_realm::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "federation-wstrust-password",
        check: federation_wstrust::check,
        yields_to: &[],
    },
    // AADSTS500021 after tenant-restriction headers is that finding's evidence, named with
    // the allowed list (issue 19); so is AADSTS5000211 (tenant restrictions v2).
    RuleSpec {
        id: "tenant-restriction",
        check: tenant_restriction::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "aadsts-",
        check: aadsts_codes::check,
        yields_to: &[
            "federation-sts-unreachable",
            "federation-saml-",
            "federation-seamless-sso",
            "tenant-restriction",
        ],
    },
    // Autodiscover v2 must answer anonymously: its 401 is that failure, not a missing HMA
    // offer (hma-not-advertised yields those sessions).
    RuleSpec {
        id: "autodiscover-v2",
        check: autodiscover_v2::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "hma-not-advertised",
        check: hma_not_advertised::check,
        yields_to: &["autodiscover-v2"],
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
    // Tokens checked against the request that carries them (issue 24). They come before
    // exchange-oauth-error, which yields to them: an expired token the client kept
    // presenting, or a token of another tenant, is the cause its 2000001 / 2000004 refusals
    // are evidence of. The clock comes first: it explains expired tokens.
    RuleSpec {
        id: "clock-skew",
        check: clock_skew::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "token-expired",
        check: token_expired::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "token-wrong-tenant",
        check: token_wrong_tenant::check,
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
            "token-expired",
            "token-wrong-tenant",
        ],
    },
    // Exchange's own 2000003 (its reason quotes the audience expected and the one sent) holds
    // the sessions it answered; this finds the mismatches Exchange did not explain.
    RuleSpec {
        id: "token-audience-mismatch",
        check: token_audience::check,
        yields_to: &["exchange-oauth-error"],
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
            "federation-sts-unreachable",
            "federation-saml-",
            "federation-seamless-sso",
            "token-wrong-tenant",
            "tenant-restriction",
        ],
    },
    RuleSpec {
        id: "legacy-split-namespace",
        check: legacy_split_namespace::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "legacy-auth-exposed",
        check: legacy_auth_exposed::check,
        // A split namespace's finding names the clients' vdirs that offer legacy auth with
        // the lock-down for both namespaces: said once, there.
        yields_to: &["legacy-split-namespace"],
    },
    // Windows authentication (Negotiate and NTLM blobs). A loop of NTLM answers to a
    // modern-auth offer is hma-declined's evidence: modern auth off is the cause.
    RuleSpec {
        id: "kerberos-fallback-ntlm",
        check: kerberos_fallback_ntlm::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "ntlm-loop",
        check: ntlm_loop::check,
        yields_to: &["hma-declined"],
    },
    // Errors inside Exchange's answers (issue 19): a refusal a challenge rule explains is
    // that finding's evidence.
    RuleSpec {
        id: "freebusy-error",
        check: freebusy_error::check,
        yields_to: &["ioc-oauth-failure", "exchange-oauth-error"],
    },
    RuleSpec {
        id: "mapi-error",
        check: mapi_error::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "ews-error",
        check: ews_error::check,
        yields_to: &["delegate-ews-auth", "exchange-oauth-error"],
    },
    // Issue 19: what Autodiscover answered, and the SPNs its answers predict.
    RuleSpec {
        id: "autodiscover-error",
        check: autodiscover_error::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "autodiscover-redirect",
        check: autodiscover_redirect::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "autodiscover-web-host",
        check: autodiscover_web_host::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "autodiscover-header-error",
        check: autodiscover_header_error::check,
        yields_to: &[],
    },
    RuleSpec {
        id: "autodiscover-wrong-side",
        check: autodiscover_wrong_side::check,
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
    // A host another finding already explains (a proven missing SPN, a refused token, a
    // wrong tenant, HMA off or ignored, a pre-authenticating proxy) is that finding's, not a
    // prediction: last, so that it can yield to any of them.
    RuleSpec {
        id: "spn-predicted",
        check: spn_predicted::check,
        yields_to: &[
            "http-resource",
            "spn-missing",
            "aadsts-",
            "hma-not-advertised",
            "ioc-oauth-failure",
            "delegate-ews-auth",
            "exchange-oauth-error",
            "hma-declined",
            "hma-ignored",
            "auth-loop",
            "federation-sts-unreachable",
            "federation-saml-",
            "federation-seamless-sso",
            "tenant-restriction",
            "autodiscover-v2",
            "token-expired",
            "token-wrong-tenant",
            "token-audience-mismatch",
            "ntlm-loop",
            "preauth-proxy",
            "proxy-auth-required",
            "proxy-blocked",
            "gateway-timeout",
        ],
    },
];

/// Run every rule in table order, each over the context its precedence leaves it; findings
/// come most severe first, then in rule order.
///
/// The rules that yield to none (most of them) see the whole context and nothing of each
/// other, so they run side by side on the pool; the yielding ones then run in table order,
/// each over the findings of every rule before it, as if all had run one after another.
pub fn run_all(cx: &Context) -> Vec<Finding> {
    let mut by_rule: Vec<Option<Vec<Finding>>> = RULES
        .par_iter()
        .map(|rule| rule.yields_to.is_empty().then(|| (rule.check)(cx)))
        .collect();
    for i in 0..RULES.len() {
        let rule = &RULES[i];
        if rule.yields_to.is_empty() {
            continue;
        }
        let yielded = yielded_to(rule, by_rule[..i].iter().flatten().flatten());
        by_rule[i] = Some((rule.check)(&cx.yielding(&yielded)));
    }
    let mut findings: Vec<Finding> = by_rule.into_iter().flatten().flatten().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

/// One line for the verdict for several `error` findings of rule `id` that are one cause
/// seen on several hosts (one pre-authenticating device, one proxy demanding
/// authentication or blocking them), when the rule says they are; `None` to give each its own line.
pub fn one_cause(id: &str, findings: &[&Finding]) -> Option<String> {
    match id {
        "preauth-proxy" => preauth_proxy::one_cause(findings),
        "proxy-auth-required" => proxy_auth::one_cause(findings),
        "proxy-blocked" => proxy_blocked::one_cause(findings),
        _ => None,
    }
}

/// The sessions cited by those of `earlier` that `rule` yields to: invisible to it.
fn yielded_to<'a>(rule: &RuleSpec, earlier: impl Iterator<Item = &'a Finding>) -> BTreeSet<u64> {
    earlier
        .filter(|f| rule.yields_to.iter().any(|w| names(w, &f.id)))
        .flat_map(|f| f.sessions.iter().copied())
        .collect()
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

    const RULES_DOC: &str = include_str!("../../docs/rules.md");

    /// Every rule in table order, one after another, each over the findings of all before
    /// it: what [`run_all`] must give although it runs most rules side by side.
    fn one_after_another(cx: &Context) -> Vec<Finding> {
        let mut findings: Vec<Finding> = Vec::new();
        for rule in RULES {
            let yielded = yielded_to(rule, findings.iter());
            findings.extend((rule.check)(&cx.yielding(&yielded)));
        }
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        findings
    }

    /// Running the rules side by side changes no finding, no order and no precedence: on
    /// every sample (they hold every rule's finding and every `yields_to` case the rules
    /// doc lists), and on a pool of one thread and of four.
    #[test]
    fn rules_side_by_side_find_what_they_find_one_after_another() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let mut samples: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "saz"))
            .collect();
        samples.sort();
        assert!(samples.len() >= 60, "{} samples", samples.len());
        let json = |f: &[Finding]| serde_json::to_string_pretty(f).unwrap();
        let mut yielding_seen = 0;
        for threads in [1, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for path in &samples {
                let a = crate::analysis::analyze_path(path, &Default::default()).unwrap();
                let cx = a.context();
                let expected = one_after_another(&cx);
                let got = pool.install(|| run_all(&cx));
                assert_eq!(json(&got), json(&expected), "{}", path.display());
                // The samples do exercise precedence: some finding of a yielding rule is
                // missing from what the rule alone would say.
                for rule in RULES.iter().filter(|r| !r.yields_to.is_empty()) {
                    if (rule.check)(&cx).len()
                        != expected.iter().filter(|f| names(rule.id, &f.id)).count()
                    {
                        yielding_seen += 1;
                    }
                }
            }
        }
        assert!(yielding_seen > 0, "no sample shows a rule yielding");
    }

    /// docs/rules.md lists every rule in its summary table and has a section for it, and
    /// its precedence table is `RULES`' `yields_to`, row for row: the doc cannot drift.
    #[test]
    fn the_rules_doc_lists_every_rule_and_its_precedence() {
        for rule in RULES {
            let row = format!("| `{}", rule.id);
            assert!(
                RULES_DOC.contains(&row),
                "{} has no row in docs/rules.md",
                rule.id
            );
            let heading = format!("## `{}", rule.id);
            assert!(
                RULES_DOC.contains(&heading),
                "{} has no section in docs/rules.md",
                rule.id
            );
        }
        let start = RULES_DOC
            .find("| rule | yields to |")
            .expect("the precedence table");
        let documented: Vec<(String, Vec<String>)> = RULES_DOC[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let names = |c: &str| -> Vec<String> {
                    c.split(',')
                        .map(|n| n.trim().trim_matches('`').to_string())
                        .collect()
                };
                (cells[1].trim_matches('`').to_string(), names(cells[2]))
            })
            .collect();
        let actual: Vec<(String, Vec<String>)> = RULES
            .iter()
            .filter(|r| !r.yields_to.is_empty())
            .map(|r| {
                (
                    r.id.to_string(),
                    r.yields_to.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect();
        assert_eq!(documented, actual);
    }

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
