//! Issue 5's rules on the generated samples, through the real binary.
//!
//! For each sample (`samples/<name>.saz` and `.har`, written by `samplegen`):
//! - `traceadal analyze --format json`: the exact set of finding ids with their severities
//!   and sessions (sessions are derived from what the capture holds, not magic numbers), the
//!   ids that must not appear, and the exit code; the HAR must give the same findings as the SAZ;
//! - `--format table` and `--format markdown` of the SAZ against `tests/expected/<name>.table.txt`
//!   and `.md`, read once by a person. `TRACEADAL_BLESS=1 cargo test --test rules_samples`
//!   (re)writes them.
//!
//! These tests need the samples: they fail until the samplegen branch is merged.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use traceadal::analysis::{analyze_path, Analysis};
use traceadal::auth::Event;
use traceadal::capture::ReadOptions;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sample(name: &str, ext: &str) -> PathBuf {
    let rel = PathBuf::from(format!("samples/{name}.{ext}"));
    assert!(
        root().join(&rel).is_file(),
        "sample missing: {} (written by samplegen: merge the samplegen branch, then \
         `cargo run -p samplegen -- samples`)",
        rel.display()
    );
    rel
}

/// Run the binary in the crate root; stdout and the exit code.
fn traceadal(args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the traceadal binary runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn analysis(rel: &Path) -> Analysis {
    analyze_path(&root().join(rel), &ReadOptions::default()).expect("the sample reads")
}

/// What a sample must raise.
struct Want {
    id: &'static str,
    /// Allowed severities (one, except where the rule's severity depends on the capture).
    severities: &'static [&'static str],
    /// The sessions, from the analysed capture.
    sessions: fn(&Analysis) -> Vec<u64>,
    /// Text the evidence must contain.
    evidence: &'static [&'static str],
}

struct Spec {
    name: &'static str,
    want: Vec<Want>,
    /// Ids that may appear besides `want` (neighbours the scenario cannot avoid).
    may: &'static [&'static str],
    /// Ids that must not appear (checked even when listed nowhere else).
    not: &'static [&'static str],
    exit: i32,
    /// `missing_spns` and `powershell` must be empty.
    no_spn_fix: bool,
}

fn ids(findings: &[Value]) -> BTreeSet<String> {
    findings
        .iter()
        .filter_map(|f| f["id"].as_str().map(str::to_string))
        .collect()
}

fn sessions_of(f: &Value) -> Vec<u64> {
    f["sessions"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// `(id, severity, sessions)` of every finding, for comparing SAZ and HAR.
fn digest(findings: &[Value]) -> Vec<(String, String, Vec<u64>)> {
    findings
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap_or("").to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
                sessions_of(f),
            )
        })
        .collect()
}

fn check(spec: Spec) {
    let saz = sample(spec.name, "saz");
    let har = sample(spec.name, "har");
    let (json, code) = traceadal(&["analyze", &saz.to_string_lossy(), "--format", "json"]);
    let report: Value = serde_json::from_str(&json).expect("the report is JSON");
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let got = ids(&findings);
    let a = analysis(&saz);

    for w in &spec.want {
        let f = findings
            .iter()
            .find(|f| f["id"] == w.id)
            .unwrap_or_else(|| panic!("{}: no {} finding in {got:?}", spec.name, w.id));
        let sev = f["severity"].as_str().unwrap_or("");
        assert!(
            w.severities.contains(&sev),
            "{}: {} has severity {sev}, expected one of {:?}",
            spec.name,
            w.id,
            w.severities
        );
        let expected = (w.sessions)(&a);
        assert!(
            !expected.is_empty(),
            "{}: the sample holds no session for {}",
            spec.name,
            w.id
        );
        assert_eq!(
            sessions_of(f),
            expected,
            "{}: sessions of {}",
            spec.name,
            w.id
        );
        let evidence = f["evidence"].as_str().unwrap_or("");
        for needle in w.evidence {
            assert!(
                evidence.contains(needle),
                "{}: {} evidence lacks {needle:?}: {evidence}",
                spec.name,
                w.id
            );
        }
        assert!(
            !evidence.contains("eyJ"),
            "{}: a token in the evidence",
            spec.name
        );
    }
    let allowed: BTreeSet<&str> = spec
        .want
        .iter()
        .map(|w| w.id)
        .chain(spec.may.iter().copied())
        .collect();
    for id in &got {
        assert!(
            allowed.contains(id.as_str()),
            "{}: unexpected finding {id} (got {got:?})",
            spec.name
        );
    }
    for id in spec.not {
        assert!(!got.contains(*id), "{}: {id} must not be raised", spec.name);
    }
    assert_eq!(code, spec.exit, "{}: exit code", spec.name);
    if spec.no_spn_fix {
        assert_eq!(
            report["missing_spns"],
            serde_json::json!([]),
            "{}",
            spec.name
        );
        let script = report["powershell"].as_str().unwrap_or_default();
        assert!(
            !script.contains("Connect-MgGraph") && !script.contains("Update-MgServicePrincipal"),
            "{}: no SPN script",
            spec.name
        );
    }

    // The HAR of the same scenario gives the same findings.
    let (har_json, har_code) = traceadal(&["analyze", &har.to_string_lossy(), "--format", "json"]);
    let har_report: Value = serde_json::from_str(&har_json).expect("the report is JSON");
    let har_findings = har_report["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        digest(&har_findings),
        digest(&findings),
        "{}: HAR vs SAZ",
        spec.name
    );
    assert_eq!(har_code, code);

    for (format, ext) in [("table", "table.txt"), ("markdown", "md")] {
        let (text, _) = traceadal(&["analyze", &saz.to_string_lossy(), "--format", format]);
        golden(&format!("{}.{ext}", spec.name), &text);
    }
}

/// Compare with `tests/expected/<file>`, or write it when `TRACEADAL_BLESS=1`.
fn golden(file: &str, actual: &str) {
    let path = root().join("tests/expected").join(file);
    if std::env::var("TRACEADAL_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write the expected output");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run TRACEADAL_BLESS=1 cargo test --test rules_samples, read it, commit it",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "{file} differs from tests/expected (TRACEADAL_BLESS=1 to accept after reading the diff)"
    );
}

// ---- what the samples hold, as the parsers see it --------------------------------------

fn is_login(url: &str) -> bool {
    traceadal::capture::host_of(url).is_some_and(|h| traceadal::auth::login::is_authority_host(&h))
}

/// Every 401 from a non-Entra host.
fn exchange_401s(a: &Analysis) -> Vec<u64> {
    a.sessions
        .iter()
        .filter(|s| s.status == Some(401) && !is_login(&s.url))
        .map(|s| s.id)
        .collect()
}

/// 401s to the vdirs legacy-auth-exposed looks at (not autodiscover).
fn vdir_401s(a: &Analysis) -> Vec<u64> {
    const VDIRS: &[&str] = &[
        "/ews/",
        "/mapi/",
        "/oab/",
        "/microsoft-server-activesync",
        "/rpc/",
        "/owa/",
        "/ecp/",
        "/powershell",
    ];
    a.sessions
        .iter()
        .filter(|s| s.status == Some(401))
        .filter(|s| {
            let u = s.url.to_ascii_lowercase();
            VDIRS.iter().any(|v| u.contains(v))
        })
        .map(|s| s.id)
        .collect()
}

/// 401s answered to a request that presented a Bearer token.
fn rejected_tokens(a: &Analysis) -> Vec<u64> {
    let presented: BTreeSet<u64> = a
        .events
        .iter()
        .filter_map(|e| match e {
            Event::BearerPresented { session, .. } => Some(*session),
            _ => None,
        })
        .collect();
    exchange_401s(a)
        .into_iter()
        .filter(|s| presented.contains(s))
        .collect()
}

fn delegate_sessions(a: &Analysis, pick: fn(&traceadal::auth::DelegateCheck) -> bool) -> Vec<u64> {
    let mut v: Vec<u64> = a
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Delegate(d) if pick(d) => Some(d.session),
            _ => None,
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn ews_401s(a: &Analysis) -> Vec<u64> {
    a.events
        .iter()
        .filter_map(|e| match e {
            Event::EwsCall(c) if c.status == Some(401) => Some(c.session),
            _ => None,
        })
        .collect()
}

/// Sessions whose Entra answer carried `code`.
fn aadsts(a: &Analysis, code: u32) -> Vec<u64> {
    a.events
        .iter()
        .filter_map(|e| match e {
            Event::TokenResult(r) => match &r.outcome {
                traceadal::auth::TokenOutcome::AadError(err) if err.codes.contains(&code) => {
                    Some(r.session)
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// 401s that offered hybrid modern auth (a Bearer challenge with `authorization_uri`).
fn hma_offers(a: &Analysis) -> Vec<u64> {
    a.events
        .iter()
        .filter_map(|e| match e {
            Event::Challenge(c) if c.bearer().is_some_and(|b| b.authorization_uri.is_some()) => {
                Some(c.session)
            }
            _ => None,
        })
        .collect()
}

/// The sessions to `host` that carried `credential`, and the first offer from that host.
fn declined(a: &Analysis, host: &str, credential: traceadal::capture::Credential) -> Vec<u64> {
    let first_offer = hma_offers(a).into_iter().find(|s| {
        a.sessions
            .iter()
            .any(|x| x.id == *s && x.host.as_deref() == Some(host))
    });
    let mut v: Vec<u64> = a
        .sessions
        .iter()
        .filter(|s| s.host.as_deref() == Some(host) && s.credential == Some(credential))
        .map(|s| s.id)
        .chain(first_offer)
        .collect();
    v.sort_unstable();
    v
}

/// Refused CONNECTs to Entra ID.
fn refused_connects(a: &Analysis) -> Vec<u64> {
    a.sessions
        .iter()
        .filter(|s| s.flags.tunnel && is_login(&s.url) && s.status.is_some_and(|c| c >= 400))
        .map(|s| s.id)
        .collect()
}

// ---- the samples -----------------------------------------------------------------------

#[test]
fn mfa_step_up() {
    check(Spec {
        name: "mfa-step-up",
        want: vec![
            Want {
                id: "aadsts-mfa",
                severities: &["info"],
                sessions: |a| aadsts(a, 50076),
                evidence: &["AADSTS50076"],
            },
            Want {
                id: "aadsts-50058",
                severities: &["info"],
                sessions: |a| aadsts(a, 50058),
                evidence: &["AADSTS50058"],
            },
        ],
        may: &[],
        not: &["auth-loop", "spn-missing"],
        exit: 0,
        no_spn_fix: true,
    });
}

#[test]
fn hma_declined() {
    use traceadal::capture::Credential;
    check(Spec {
        name: "hma-declined",
        want: vec![Want {
            id: "hma-declined",
            severities: &["error"],
            sessions: |a| declined(a, "autodiscover.contoso.com", Credential::Basic),
            evidence: &["sent Basic in 3 request(s)", "refused every time"],
        }],
        may: &["legacy-auth-exposed"],
        not: &["hma-ignored", "auth-loop", "spn-missing"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn hma_ignored() {
    check(Spec {
        name: "hma-ignored",
        want: vec![Want {
            id: "hma-ignored",
            severities: &["error"],
            sessions: hma_offers,
            evidence: &["No request to Entra ID at all", "cannot tell which"],
        }],
        may: &["legacy-auth-exposed"],
        not: &["hma-declined", "auth-loop", "spn-missing"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn entra_blocked() {
    check(Spec {
        name: "entra-blocked",
        want: vec![Want {
            id: "hma-ignored",
            severities: &["error"],
            sessions: |a| {
                let mut v = hma_offers(a);
                v.extend(refused_connects(a));
                v.sort_unstable();
                v
            },
            evidence: &["A proxy or firewall blocks Entra ID"],
        }],
        may: &["legacy-auth-exposed"],
        not: &["hma-declined", "auth-loop", "spn-missing"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn hma_not_advertised() {
    check(Spec {
        name: "hma-not-advertised",
        want: vec![Want {
            id: "hma-not-advertised",
            severities: &["error"],
            sessions: exchange_401s,
            evidence: &["4000000", "no Bearer"],
        }],
        may: &["legacy-auth-exposed"],
        not: &["spn-missing", "exchange-oauth-error"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn exchange_oauth_2000003() {
    check(Spec {
        name: "exchange-oauth-2000003",
        want: vec![Want {
            id: "exchange-oauth-error",
            severities: &["error"],
            sessions: rejected_tokens,
            evidence: &["2000003", "aud=", "against the URL served"],
        }],
        may: &["auth-loop", "legacy-auth-exposed"],
        not: &["spn-missing", "hma-not-advertised"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn delegate_reviewer() {
    check(Spec {
        name: "delegate-reviewer",
        want: vec![Want {
            id: "delegate-permission",
            severities: &["error"],
            sessions: |a| {
                delegate_sessions(a, |d| {
                    d.delegates.iter().any(|u| {
                        u.calendar_permission
                            .as_deref()
                            .is_some_and(|l| matches!(l, "Reviewer" | "None" | "Custom"))
                    })
                })
            },
            evidence: &["Reviewer"],
        }],
        may: &["legacy-auth-exposed"],
        not: &["delegate-empty", "delegate-ews-auth", "spn-missing"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn delegate_editor() {
    check(Spec {
        name: "delegate-editor",
        want: vec![],
        may: &["legacy-auth-exposed"],
        not: &[
            "delegate-permission",
            "delegate-empty",
            "delegate-ews-auth",
            "spn-missing",
        ],
        exit: 0,
        no_spn_fix: true,
    });
}

#[test]
fn delegate_missing_config() {
    check(Spec {
        name: "delegate-missing-config",
        want: vec![Want {
            id: "delegate-empty",
            severities: &["error"],
            sessions: |a| delegate_sessions(a, |d| !d.response_codes.is_empty()),
            evidence: &["ErrorDelegateMissingConfiguration"],
        }],
        may: &["legacy-auth-exposed"],
        not: &["delegate-permission", "delegate-ews-auth", "spn-missing"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn legacy_auth_exposed() {
    check(Spec {
        name: "legacy-auth-exposed",
        want: vec![Want {
            id: "legacy-auth-exposed",
            severities: &["warning"],
            sessions: vdir_401s,
            evidence: &["NTLM", "Basic"],
        }],
        may: &[],
        not: &["spn-missing", "exchange-oauth-error"],
        exit: 0,
        no_spn_fix: true,
    });
}

#[test]
fn bearer_only_healthy() {
    check(Spec {
        name: "bearer-only-healthy",
        want: vec![],
        may: &[],
        not: &[
            "legacy-auth-exposed",
            "hma-not-advertised",
            "exchange-oauth-error",
            "spn-missing",
        ],
        exit: 0,
        no_spn_fix: true,
    });
}

#[test]
fn ioc_oauth_failure() {
    check(Spec {
        name: "ioc-oauth-failure",
        want: vec![Want {
            id: "ioc-oauth-failure",
            severities: &["error"],
            sessions: ews_401s,
            evidence: &["x-ms-diagnostics"],
        }],
        may: &["exchange-oauth-error", "legacy-auth-exposed"],
        not: &["spn-missing", "delegate-ews-auth"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn aadsts_50076_mfa() {
    check(Spec {
        name: "aadsts-50076-mfa",
        want: vec![Want {
            id: "aadsts-mfa",
            severities: &["info", "warning"],
            sessions: |a| aadsts(a, 50076),
            evidence: &["AADSTS50076"],
        }],
        may: &["legacy-auth-exposed"],
        not: &["spn-missing", "http-resource", "auth-loop"],
        exit: 0,
        no_spn_fix: true,
    });
}

#[test]
fn aadsts_53003_ca() {
    check(Spec {
        name: "aadsts-53003-ca",
        want: vec![Want {
            id: "aadsts-conditional-access",
            severities: &["error"],
            sessions: |a| aadsts(a, 53003),
            evidence: &["AADSTS53003"],
        }],
        may: &["legacy-auth-exposed"],
        not: &["spn-missing", "http-resource", "auth-loop"],
        exit: 1,
        no_spn_fix: true,
    });
}

// ---- issue 19: proxies in front of Exchange and on the client's side --------------------

/// The sessions to `host` answered with one of `statuses`, not tunnels.
fn answered(a: &Analysis, host: &str, statuses: &[u16]) -> Vec<u64> {
    a.sessions
        .iter()
        .filter(|s| s.host.as_deref() == Some(host))
        .filter(|s| s.status.is_some_and(|c| statuses.contains(&c)))
        .map(|s| s.id)
        .collect()
}

#[test]
fn preauth_f5_apm() {
    check(Spec {
        name: "preauth-f5-apm",
        want: vec![Want {
            id: "preauth-proxy",
            severities: &["error"],
            sessions: |a| answered(a, "autodiscover.contoso.com", &[302]),
            evidence: &[
                "302 to /my.policy",
                "F5 BIG-IP APM (cookie LastMRH_Session, cookie MRHSession, cookie F5_ST)",
                "No request with a Bearer token",
            ],
        }],
        may: &[],
        not: &[
            "hma-ignored",
            "spn-missing",
            "auth-loop",
            "proxy-auth-required",
        ],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn preauth_wap_adfs() {
    check(Spec {
        name: "preauth-wap-adfs",
        want: vec![Want {
            id: "preauth-proxy",
            severities: &["error"],
            sessions: |a| answered(a, "autodiscover.contoso.com", &[307]),
            evidence: &[
                "307 to https://sts.contoso.com/adfs/ls/",
                "Web Application Proxy / AD FS",
            ],
        }],
        may: &[],
        not: &["hma-ignored", "spn-missing", "auth-loop"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn proxy_407_loop() {
    check(Spec {
        name: "proxy-407-loop",
        want: vec![Want {
            id: "proxy-auth-required",
            severities: &["error"],
            sessions: |a| answered(a, "autodiscover-s.outlook.com", &[407]),
            evidence: &[
                "Proxy-Authenticate offered Negotiate, NTLM, Basic",
                "answered 6 time(s) with Proxy-Authorization (NTLM)",
                "Squid",
            ],
        }],
        may: &[],
        not: &["proxy-blocked", "gateway-timeout", "hma-ignored"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn proxy_tenant_restriction() {
    check(Spec {
        name: "proxy-tenant-restriction",
        want: vec![Want {
            id: "tenant-restriction",
            severities: &["error"],
            sessions: |a| aadsts(a, 500021),
            evidence: &[
                "Restrict-Access-To-Tenants: contoso.com,contoso.onmicrosoft.com",
                "The allowed list does not include fabrikam.com",
            ],
        }],
        may: &[],
        not: &["aadsts-federation-or-sync", "auth-loop", "spn-missing"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn proxy_healthy() {
    check(Spec {
        name: "proxy-healthy",
        want: vec![],
        may: &[],
        not: &[
            "preauth-proxy",
            "proxy-auth-required",
            "proxy-blocked",
            "gateway-timeout",
            "tenant-restriction",
        ],
        exit: 0,
        no_spn_fix: true,
    });
}

#[test]
fn proxy_blocked_zscaler() {
    check(Spec {
        name: "proxy-blocked-zscaler",
        want: vec![Want {
            id: "proxy-blocked",
            severities: &["error"],
            sessions: |a| answered(a, "outlook.office.com", &[403]),
            evidence: &["403 from the proxy", "Zscaler (Server: Zscaler/6.2)"],
        }],
        may: &[],
        not: &["proxy-auth-required", "gateway-timeout", "preauth-proxy"],
        exit: 1,
        no_spn_fix: true,
    });
}

#[test]
fn fiddler_connection_failed() {
    check(Spec {
        name: "fiddler-connection-failed",
        want: vec![Want {
            id: "gateway-timeout",
            severities: &["error"],
            sessions: |a| answered(a, "mail.contoso.com", &[502]),
            evidence: &[
                "502 \"Fiddler - Connection Failed\"",
                "From: Fiddler itself",
            ],
        }],
        may: &[],
        not: &["proxy-blocked", "preauth-proxy"],
        exit: 1,
        no_spn_fix: true,
    });
}
