//! The fix script: a fold over the findings' [`Remedy`]s. Microsoft Graph PowerShell that
//! adds the missing SPNs to the Office 365 Exchange Online service principal, idempotently,
//! one block per tenant; and the Exchange Management Shell commands other findings propose,
//! as a commented section to run on-premises.
//!
//! Every value that came from a capture is validated as a plain host-based SPN before it gets
//! here (`Resource::spn`) and is still written as a single-quoted PowerShell literal with
//! quotes doubled, so a crafted host name cannot become code.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use std::io;

use super::render::{Document, Render};
use super::Report;
use crate::auth::EXCHANGE_ONLINE_APP_ID;
use crate::rules::{Finding, Remedy, Severity};

/// What one tenant needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantFix {
    /// GUID or domain for `Connect-MgGraph -TenantId`, when the capture tells it.
    pub tenant: Option<String>,
    /// Display name, for the comment only.
    pub tenant_name: Option<String>,
    /// `https://host/`, sorted, unique.
    pub spns: Vec<String>,
    /// What must be fixed by hand first, for some of these SPNs (an http resource).
    pub first: Vec<String>,
}

/// Commands for the on-premises Exchange Management Shell, and the finding that asks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellFix {
    pub finding: String,
    /// Read-only: what the state is now.
    pub check: Vec<&'static str>,
    /// What changes it (always written commented).
    pub change: Vec<&'static str>,
}

/// An SPN the capture predicts is missing without proving it (`spn-predicted`): written
/// commented out, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictedSpn {
    pub spn: String,
    pub reason: String,
    pub tenant: Option<String>,
}

/// The whole fix: one block per tenant, the Exchange Management Shell commands, the
/// predicted SPNs (commented out), and the captures it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixPlan {
    pub tenants: Vec<TenantFix>,
    pub exchange_shell: Vec<ShellFix>,
    pub sources: Vec<String>,
    pub predicted: Vec<PredictedSpn>,
}

impl FixPlan {
    pub fn is_empty(&self) -> bool {
        self.tenants.iter().all(|t| t.spns.is_empty())
            && self.exchange_shell.is_empty()
            && self.predicted.is_empty()
    }

    /// Fold the remedies of the error findings: SPNs grouped by tenant (SPNs without a known
    /// tenant share one block), each SPN once; each distinct set of shell commands once.
    /// `sources` are the captures the findings come from.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>, sources: &[String]) -> FixPlan {
        let mut by_tenant: BTreeMap<Option<String>, TenantFix> = BTreeMap::new();
        let mut exchange_shell: Vec<ShellFix> = Vec::new();
        let mut predicted: Vec<PredictedSpn> = Vec::new();
        let remedies = findings
            .into_iter()
            .filter_map(|f| scripted(f).map(|r| (f, r)));
        for (finding, remedy) in remedies {
            match remedy {
                Remedy::AddSpns {
                    tenant,
                    tenant_name,
                    spns,
                    first,
                } => {
                    let key = tenant.as_ref().map(|t| t.to_ascii_lowercase());
                    let entry = by_tenant.entry(key.clone()).or_insert_with(|| TenantFix {
                        tenant: key,
                        tenant_name: None,
                        spns: Vec::new(),
                        first: Vec::new(),
                    });
                    if entry.tenant_name.is_none() {
                        entry.tenant_name = tenant_name.clone();
                    }
                    if let Some(f) = first {
                        if !entry.first.contains(f) {
                            entry.first.push(f.clone());
                        }
                    }
                    for spn in spns {
                        if !entry.spns.contains(spn) {
                            entry.spns.push(spn.clone());
                        }
                    }
                }
                Remedy::ExchangeShell { check, change } => {
                    if !exchange_shell
                        .iter()
                        .any(|s| s.check == *check && s.change == *change)
                    {
                        exchange_shell.push(ShellFix {
                            finding: finding.id.clone(),
                            check: check.clone(),
                            change: change.clone(),
                        });
                    }
                }
                Remedy::PredictedSpns {
                    tenant,
                    spns,
                    reason,
                    ..
                } => {
                    for spn in spns {
                        if !predicted.iter().any(|p| p.spn == *spn) {
                            predicted.push(PredictedSpn {
                                spn: spn.clone(),
                                reason: reason.clone(),
                                tenant: tenant.clone(),
                            });
                        }
                    }
                }
            }
        }
        // A predicted SPN that an error finding proves missing is in the tenant block.
        predicted.retain(|p| !by_tenant.values().any(|t| t.spns.contains(&p.spn)));
        predicted.sort_by(|a, b| a.spn.cmp(&b.spn));
        let mut tenants: Vec<TenantFix> = by_tenant
            .into_values()
            .map(|mut t| {
                t.spns.sort();
                t
            })
            .collect();
        // A block for a known tenant first; the unknown one last.
        tenants.sort_by_key(|t| t.tenant.is_none());
        let mut sources = sources.to_vec();
        sources.sort();
        sources.dedup();
        FixPlan {
            tenants,
            exchange_shell,
            sources,
            predicted,
        }
    }
}

/// `--format powershell` (and `batch --fix-script`): one script for every document.
pub struct Powershell;

impl Render for Powershell {
    fn render(&self, out: &mut dyn io::Write, docs: &[Document]) -> io::Result<()> {
        let script = script(&plan_of_reports(Document::reports(docs)));
        if script.is_empty() {
            writeln!(
                out,
                "# traceadal: nothing to fix with PowerShell in these captures."
            )
        } else {
            write!(out, "{script}")
        }
    }
}

/// The remedy the script holds for `f`: that of an `error` finding, and the Exchange
/// Management Shell commands of a `warning` (hardening such as the legacy-auth lock-down:
/// written once at the end of the report, checks read-only and changes commented, instead of
/// in the finding's fix where it buried the real one, issue 20); and the predicted SPNs of
/// any finding (`spn-predicted`, written commented out).
fn scripted(f: &Finding) -> Option<&Remedy> {
    f.remedy.as_ref().filter(|r| match f.severity {
        _ if matches!(r, Remedy::PredictedSpns { .. }) => true,
        Severity::Error => true,
        Severity::Warning => matches!(r, Remedy::ExchangeShell { .. }),
        Severity::Info => false,
    })
}

/// One plan for several reports (`analyze` of several captures, `batch`): every report's
/// findings, and as sources the captures that contributed a remedy.
pub fn plan_of_reports<'a>(reports: impl IntoIterator<Item = &'a Report>) -> FixPlan {
    let reports: Vec<&Report> = reports.into_iter().collect();
    let sources: Vec<String> = reports
        .iter()
        .filter(|r| r.findings.iter().any(|f| scripted(f).is_some()))
        .map(|r| r.capture.path.clone())
        .collect();
    FixPlan::of(reports.iter().flat_map(|r| &r.findings), &sources)
}

/// Where a script runs, for the heading above it: Graph PowerShell when it has a tenant
/// block, else the Exchange Management Shell.
pub fn shell_of(script: &str) -> &'static str {
    if script.contains("\nConnect-MgGraph") || script.contains(PREDICTED_HEADING) {
        "Microsoft Graph PowerShell"
    } else {
        "Exchange Management Shell"
    }
}

/// A PowerShell single-quoted literal.
pub fn quote(value: &str) -> String {
    format!(
        "'{}'",
        value
            .replace('\'', "''")
            .replace(['\u{2018}', '\u{2019}'], "''")
    )
}

/// Only tenant ids that are a GUID or a domain name reach `-TenantId`.
fn safe_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 253
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The script, or an empty string when there is nothing to fix.
pub fn script(plan: &FixPlan) -> String {
    if plan.is_empty() {
        return String::new();
    }
    let mut s = String::new();
    let graph = plan.tenants.iter().any(|t| !t.spns.is_empty());
    let shell = !plan.exchange_shell.is_empty();
    if !graph && !shell {
        let _ = writeln!(
            s,
            "# traceadal: likely missing service principal names, for Microsoft Graph PowerShell."
        );
    } else if graph {
        let _ = writeln!(
            s,
            "# traceadal fix: add the missing service principal names to Office 365 Exchange Online"
        );
        let _ = writeln!(s, "# (AppId {EXCHANGE_ONLINE_APP_ID}).");
    } else {
        let _ = writeln!(
            s,
            "# traceadal fix: commands for the on-premises Exchange Management Shell."
        );
    }
    for src in &plan.sources {
        let _ = writeln!(s, "# Capture: {}", comment_safe(src));
    }
    if graph {
        graph_blocks(&mut s, plan);
    }
    shell_block(&mut s, plan, graph);
    predicted_block(&mut s, plan);
    s
}

/// The first line of the predicted SPNs' block.
const PREDICTED_HEADING: &str = "# --- Likely missing SPNs (predicted, not proven)";

/// The SPNs `spn-predicted` names: every line commented out, with the reason. The capture
/// does not show them failing; a person checks the principal and runs the lines.
fn predicted_block(s: &mut String, plan: &FixPlan) {
    if plan.predicted.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n{PREDICTED_HEADING} --------------------------------\n\
         # Microsoft Graph PowerShell. Not run: the capture does not show these failing. Each\n\
         # is a host clients will ask tokens for; check the list, then run the lines without '# '."
    );
    for p in &plan.predicted {
        let _ = writeln!(s, "# {}: {}", comment_safe(&p.spn), comment_safe(&p.reason));
    }
    match plan
        .predicted
        .iter()
        .find_map(|p| p.tenant.as_deref().filter(|t| safe_tenant(t)))
    {
        Some(id) => {
            let _ = writeln!(
                s,
                "# Connect-MgGraph -TenantId {} -Scopes 'Application.ReadWrite.All' -NoWelcome",
                quote(id)
            );
        }
        None => s.push_str("# Connect-MgGraph -Scopes 'Application.ReadWrite.All' -NoWelcome\n"),
    }
    let list: Vec<String> = plan.predicted.iter().map(|p| quote(&p.spn)).collect();
    let _ = writeln!(s, "# $predicted = @({})", list.join(", "));
    let _ = writeln!(
        s,
        "# $sp = Get-MgServicePrincipal -Filter \"AppId eq '{EXCHANGE_ONLINE_APP_ID}'\""
    );
    s.push_str(
        "# $names = [System.Collections.Generic.List[string]]::new([string[]]$sp.ServicePrincipalNames)\n\
         # foreach ($spn in $predicted) { if (-not ($names | Where-Object { $_.TrimEnd('/') -ieq $spn.TrimEnd('/') })) { $names.Add($spn); Write-Host \"Adding: $spn\" } }\n\
         # Update-MgServicePrincipal -ServicePrincipalId $sp.Id -ServicePrincipalNames $names.ToArray()\n",
    );
    if plan.tenants.iter().all(|t| t.spns.is_empty()) && plan.exchange_shell.is_empty() {
        s.push_str(
            "Write-Host 'traceadal: nothing was changed. The likely missing SPNs above are commented out: check them first.'\n",
        );
    }
}

/// The Graph PowerShell part: preamble, one block per tenant, the legacy MSOnline lines.
fn graph_blocks(s: &mut String, plan: &FixPlan) {
    s.push_str(
        "# Needs the Microsoft Graph PowerShell SDK (Install-Module Microsoft.Graph.Applications)\n\
         # and an account allowed to consent to Application.ReadWrite.All.\n\
         # Safe to run twice: an SPN already present is left alone.\n\
         #Requires -Modules Microsoft.Graph.Authentication, Microsoft.Graph.Applications\n\
         $ErrorActionPreference = 'Stop'\n",
    );
    for t in plan.tenants.iter().filter(|t| !t.spns.is_empty()) {
        s.push('\n');
        tenant_block(s, t);
    }
    legacy_block(s, plan);
}

/// The Exchange Management Shell part. It runs on an Exchange server, not in Graph
/// PowerShell: beside the Graph blocks every line is a comment; as a script of its own it
/// checks that it runs in the Exchange Management Shell and shows the current state (the
/// read-only commands). The changes are always comments: they change the whole organisation,
/// and a person runs them after reading the finding.
fn shell_block(s: &mut String, plan: &FixPlan, graph: bool) {
    if plan.exchange_shell.is_empty() {
        return;
    }
    s.push_str(
        "\n# --- Exchange Management Shell (on-premises) ---------------------------------------\n\
         # Run on an Exchange server in the Exchange Management Shell, not in Microsoft Graph\n\
         # PowerShell. The changes are commented: they change the whole organisation. Read the\n\
         # finding's fix first, then run them without the leading '# '.\n",
    );
    if !graph {
        s.push_str(
            "$ErrorActionPreference = 'Stop'\n\
             if (-not (Get-Command Get-OrganizationConfig -ErrorAction SilentlyContinue)) {\n\
             \x20   throw 'Run this in the Exchange Management Shell on an Exchange server.'\n\
             }\n",
        );
    }
    let prefix = if graph { "# " } else { "" };
    for fix in &plan.exchange_shell {
        let _ = writeln!(s, "# From finding {}:", comment_safe(&fix.finding));
        for c in &fix.check {
            let _ = writeln!(s, "{prefix}{}", comment_safe(c));
        }
        for c in &fix.change {
            let _ = writeln!(s, "# {}", comment_safe(c));
        }
    }
}

fn tenant_block(s: &mut String, t: &TenantFix) {
    let label = match (&t.tenant, &t.tenant_name) {
        (Some(id), Some(name)) => format!("{} ({})", comment_safe(name), comment_safe(id)),
        (Some(id), None) => comment_safe(id),
        (None, Some(name)) => format!("{} (tenant id not in the capture)", comment_safe(name)),
        (None, None) => "tenant not named in the capture: sign in to the right one".to_string(),
    };
    let _ = writeln!(s, "# Tenant: {label}");
    for f in &t.first {
        let _ = writeln!(
            s,
            "# SECOND STEP. First, by hand: {}. Until then no SPN stops that loop.",
            comment_safe(f)
        );
    }
    match t.tenant.as_deref().filter(|t| safe_tenant(t)) {
        Some(id) => {
            let _ = writeln!(
                s,
                "Connect-MgGraph -TenantId {} -Scopes 'Application.ReadWrite.All' -NoWelcome",
                quote(id)
            );
        }
        None => s.push_str("Connect-MgGraph -Scopes 'Application.ReadWrite.All' -NoWelcome\n"),
    }
    s.push_str("$missing = @(\n");
    for spn in &t.spns {
        let _ = writeln!(s, "    {}", quote(spn));
    }
    s.push_str(")\n");
    let _ = writeln!(
        s,
        "$sp = Get-MgServicePrincipal -Filter \"AppId eq '{EXCHANGE_ONLINE_APP_ID}'\""
    );
    s.push_str(
        "$names = [System.Collections.Generic.List[string]]::new([string[]]$sp.ServicePrincipalNames)\n\
         $added = 0\n\
         foreach ($spn in $missing) {\n\
         \x20   # Entra ID matches an SPN case-insensitively and with or without the trailing slash.\n\
         \x20   $bare = $spn.TrimEnd('/')\n\
         \x20   if ($names | Where-Object { $_.TrimEnd('/') -ieq $bare }) {\n\
         \x20       Write-Host \"Already present: $spn\"\n\
         \x20   } else {\n\
         \x20       $names.Add($spn)\n\
         \x20       $added++\n\
         \x20       Write-Host \"Adding: $spn\"\n\
         \x20   }\n\
         }\n\
         if ($added -gt 0) {\n\
         \x20   Update-MgServicePrincipal -ServicePrincipalId $sp.Id -ServicePrincipalNames $names.ToArray()\n\
         }\n\
         # Verify: every SPN above must now be listed; stop with an error if one is not.\n\
         $now = @((Get-MgServicePrincipal -ServicePrincipalId $sp.Id).ServicePrincipalNames |\n\
         \x20   ForEach-Object { $_.TrimEnd('/') })\n\
         $absent = 0\n\
         foreach ($spn in $missing) {\n\
         \x20   if ($now -icontains $spn.TrimEnd('/')) {\n\
         \x20       Write-Host \"OK       $spn\"\n\
         \x20   } else {\n\
         \x20       Write-Host \"MISSING  $spn\"\n\
         \x20       $absent++\n\
         \x20   }\n\
         }\n\
         if ($absent -gt 0) {\n\
         \x20   throw \"$absent SPN(s) still missing: check the account's rights (Application.ReadWrite.All) and run again.\"\n\
         }\n",
    );
}

/// MSOnline was retired in 2025; kept commented, for tenants that still script with it.
fn legacy_block(s: &mut String, plan: &FixPlan) {
    s.push_str(
        "\n# --- LEGACY, do not use unless Microsoft Graph PowerShell is unavailable ---------\n\
         # The MSOnline module is retired; these lines are the old equivalent, for reference.\n\
         # Connect-MsolService\n",
    );
    let _ = writeln!(
        s,
        "# $x = Get-MsolServicePrincipal -AppPrincipalId {EXCHANGE_ONLINE_APP_ID}"
    );
    for t in &plan.tenants {
        for spn in &t.spns {
            let _ = writeln!(s, "# $x.ServicePrincipalNames.Add({})", quote(spn));
        }
    }
    let _ = writeln!(
        s,
        "# Set-MsolServicePrincipal -AppPrincipalId {EXCHANGE_ONLINE_APP_ID} -ServicePrincipalNames $x.ServicePrincipalNames"
    );
}

/// Text that may go after `#` without ending the comment: no line breaks.
fn comment_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity, remedy: Remedy) -> Finding {
        Finding {
            id: "spn-missing".into(),
            severity,
            title: String::new(),
            sessions: vec![1],
            evidence: String::new(),
            fix: String::new(),
            remedy: Some(remedy),
        }
    }

    fn detail(spn: &str, tenant: Option<&str>) -> Finding {
        finding(
            Severity::Error,
            Remedy::AddSpns {
                first: None,
                tenant: tenant.map(str::to_string),
                tenant_name: Some("Contoso Ltd".into()),
                spns: vec![spn.into()],
            },
        )
    }

    #[test]
    fn one_block_per_tenant_each_spn_once_sorted() {
        let plan = FixPlan::of(
            &[
                detail("https://mail.contoso.com/", Some("contoso.com")),
                detail("https://autodiscover.contoso.com/", Some("CONTOSO.COM")),
                detail("https://mail.contoso.com/", Some("contoso.com")),
                detail("https://autodiscover.fabrikam.com/", None),
            ],
            &["b.saz".into(), "a.saz".into()],
        );
        assert_eq!(plan.tenants.len(), 2);
        assert_eq!(plan.tenants[0].tenant.as_deref(), Some("contoso.com"));
        assert_eq!(
            plan.tenants[0].spns,
            vec![
                "https://autodiscover.contoso.com/",
                "https://mail.contoso.com/"
            ]
        );
        assert_eq!(plan.tenants[1].tenant, None);
        assert_eq!(plan.sources, vec!["a.saz", "b.saz"]);
        let s = script(&plan);
        assert_eq!(s.matches("Connect-MgGraph").count(), 2);
        assert!(s.contains("Connect-MgGraph -TenantId 'contoso.com' -Scopes 'Application.ReadWrite.All' -NoWelcome"));
        assert!(s.contains("    'https://autodiscover.contoso.com/'\n"));
        assert!(s.contains("Update-MgServicePrincipal -ServicePrincipalId $sp.Id"));
        // The verify step says OK or MISSING per SPN and fails the script when one is missing,
        // once per tenant block.
        assert_eq!(s.matches("Write-Host \"MISSING  $spn\"").count(), 2);
        assert_eq!(s.matches("Write-Host \"OK       $spn\"").count(), 2);
        assert_eq!(s.matches("if ($absent -gt 0) {\n    throw ").count(), 2);
        // Legacy lines are all comments.
        let legacy = s.split("--- LEGACY").nth(1).unwrap();
        assert!(legacy
            .lines()
            .skip(1)
            .all(|l| l.is_empty() || l.starts_with('#')));
        assert!(legacy.contains("Set-MsolServicePrincipal"));
    }

    #[test]
    fn nothing_to_fix_is_an_empty_script() {
        assert_eq!(script(&FixPlan::default()), "");
    }

    #[test]
    fn quotes_are_doubled_and_bad_tenants_never_reach_the_command() {
        assert_eq!(quote("it's"), "'it''s'");
        let plan = FixPlan {
            tenants: vec![TenantFix {
                first: Vec::new(),
                tenant: Some("x'; Remove-Item *".into()),
                tenant_name: Some("Evil\nRemove-Item *".into()),
                spns: vec!["https://a.contoso.com/".into()],
            }],
            exchange_shell: Vec::new(),
            sources: vec!["evil\n.saz".into()],
            predicted: Vec::new(),
        };
        let s = script(&plan);
        assert!(!s.contains("-TenantId 'x"));
        assert!(s.lines().all(|l| !l.starts_with("Remove-Item")));
    }

    #[test]
    fn shell_commands_are_a_commented_section_once_and_warnings_propose_nothing() {
        let shell = || Remedy::ExchangeShell {
            check: vec!["Get-OrganizationConfig | Format-List OAuth2ClientProfileEnabled"],
            change: vec!["Set-OrganizationConfig -OAuth2ClientProfileEnabled $true"],
        };
        let mut hma = finding(Severity::Error, shell());
        hma.id = "hma-not-advertised".into();
        let plan = FixPlan::of(
            &[
                hma.clone(),
                hma,
                detail("https://mail.contoso.com/", None),
                finding(
                    Severity::Warning,
                    Remedy::AddSpns {
                        first: None,
                        tenant: None,
                        tenant_name: None,
                        spns: vec!["https://warning-only.contoso.com/".into()],
                    },
                ),
            ],
            &["a.saz".into()],
        );
        assert_eq!(plan.exchange_shell.len(), 1);
        assert_eq!(plan.tenants.len(), 1);
        assert_eq!(plan.tenants[0].spns, vec!["https://mail.contoso.com/"]);
        let s = script(&plan);
        let section = s.split("--- Exchange Management Shell").nth(1).unwrap();
        assert!(section.contains("# From finding hma-not-advertised:\n"));
        assert!(section.contains("\n# Set-OrganizationConfig -OAuth2ClientProfileEnabled $true\n"));
        // Beside the Graph blocks, every line of it is a comment.
        assert!(section.lines().skip(1).all(|l| l.starts_with('#')));
        assert!(section
            .contains("\n# Get-OrganizationConfig | Format-List OAuth2ClientProfileEnabled\n"));
        assert!(!s.contains("warning-only"));

        // Shell commands alone: no Graph preamble, no #Requires.
        let only = FixPlan {
            tenants: Vec::new(),
            exchange_shell: plan.exchange_shell.clone(),
            sources: vec![],
            predicted: Vec::new(),
        };
        let s = script(&only);
        assert!(s.starts_with(
            "# traceadal fix: commands for the on-premises Exchange Management Shell."
        ));
        assert!(!s.contains("#Requires"));
        assert!(!s.contains("Connect-MgGraph"));
        // On its own: the shell check and the read-only command run, the change does not.
        assert!(s.contains("\nif (-not (Get-Command Get-OrganizationConfig"));
        assert!(s.contains("\nGet-OrganizationConfig | Format-List OAuth2ClientProfileEnabled\n"));
        assert!(s.contains("\n# Set-OrganizationConfig -OAuth2ClientProfileEnabled $true\n"));
        assert!(!s.contains("\nSet-OrganizationConfig"));
    }
}
