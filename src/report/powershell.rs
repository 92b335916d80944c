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
use crate::flows::is_guid;
use crate::rules::{Finding, Remedy, Severity};

/// What one tenant needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantFix {
    /// GUID (when a capture shows it) or else domain for `Connect-MgGraph -TenantId`.
    pub tenant: Option<String>,
    /// A domain of the tenant (the one sign-ins asked, or Entra named), a label only when
    /// `tenant` is the GUID (added after issue 20).
    pub domain: Option<String>,
    /// Display name, a label only.
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

/// What one tenant needs (see [`plans`]: one plan per tenant): its SPN block, the Exchange
/// Management Shell commands of its captures, the predicted SPNs (commented out), and the
/// captures it came from. A plan built by hand may hold several tenants: each still gets a
/// block, and a legacy block, of its own.
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

    /// The plan's tenant (the first, for a plan built by hand with several).
    pub fn tenant(&self) -> Option<&TenantFix> {
        self.tenants.first()
    }

    /// Whether the plan has a Microsoft Graph block (SPNs to add).
    fn graph(&self) -> bool {
        self.tenants.iter().any(|t| !t.spns.is_empty())
    }
}

/// How tenants are told apart: by GUID, else by domain (a domain a capture showed to be a
/// GUID's is that GUID), else by the display name Entra gave, else not at all. Lower case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Id(String),
    Named(String),
    Unknown,
}

impl Key {
    /// A plan for this tenant with nothing in it yet: the id is the one to connect to.
    fn empty_plan(&self) -> FixPlan {
        FixPlan {
            tenants: vec![TenantFix {
                tenant: match self {
                    Key::Id(id) => Some(id.clone()),
                    _ => None,
                },
                domain: None,
                tenant_name: None,
                spns: Vec::new(),
                first: Vec::new(),
            }],
            ..FixPlan::default()
        }
    }
}

/// A tenant as one remedy names it.
struct Named<'a> {
    tenant: Option<&'a str>,
    tenant_id: Option<&'a str>,
    name: Option<&'a str>,
}

impl<'a> Named<'a> {
    fn of(remedy: &'a Remedy) -> Option<Named<'a>> {
        match remedy {
            Remedy::AddSpns {
                tenant,
                tenant_id,
                tenant_name,
                ..
            } => Some(Named {
                tenant: tenant.as_deref(),
                tenant_id: tenant_id.as_deref(),
                name: tenant_name.as_deref(),
            }),
            Remedy::PredictedSpns {
                tenant,
                tenant_name,
                ..
            } => Some(Named {
                tenant: tenant.as_deref(),
                tenant_id: None,
                name: tenant_name.as_deref(),
            }),
            Remedy::ExchangeShell { .. } => None,
        }
    }

    fn guid(&self) -> Option<String> {
        self.tenant_id
            .into_iter()
            .chain(self.tenant)
            .find(|t| is_guid(t))
            .map(str::to_ascii_lowercase)
    }

    /// A domain it names: the tenant when not a GUID, else a name shaped like a domain.
    fn domain(&self) -> Option<String> {
        self.tenant
            .filter(|t| !is_guid(t))
            .or(self.name.filter(|n| is_domain(n)))
            .map(str::to_ascii_lowercase)
    }

    /// The display name, when it is neither the GUID nor a domain.
    fn display_name(&self) -> Option<&'a str> {
        self.name.filter(|n| !is_guid(n) && !is_domain(n))
    }

    fn key(&self, aliases: &BTreeMap<String, String>) -> Key {
        if let Some(g) = self.guid() {
            return Key::Id(g);
        }
        if let Some(d) = self.domain() {
            return Key::Id(aliases.get(&d).cloned().unwrap_or(d));
        }
        match self.name {
            Some(n) => Key::Named(n.to_lowercase()),
            None => Key::Unknown,
        }
    }
}

/// A name shaped like a domain (`contoso.onmicrosoft.com`), not a display name.
fn is_domain(name: &str) -> bool {
    name.contains('.') && !name.contains(' ') && safe_tenant(name) && !is_guid(name)
}

/// One fix plan per tenant over several captures (`(source, findings)` each): the remedies
/// of the findings the script holds ([`scripted`]), SPNs grouped by tenant, each SPN once;
/// a domain merged into the GUID a capture showed it belongs to (a verified domain is one
/// tenant's, so what one capture shows holds for the queue); a capture's Exchange
/// Management Shell commands with the tenant its SPNs name (the tenant not named when they
/// name none). Plans for a known tenant first (by id), then by display name, the unknown
/// one last; empty plans are left out.
pub fn plans<'a>(captures: impl IntoIterator<Item = (&'a str, &'a [Finding])>) -> Vec<FixPlan> {
    let captures: Vec<(&str, Vec<(&Finding, &Remedy)>)> = captures
        .into_iter()
        .map(|(source, findings)| {
            let remedies = findings
                .iter()
                .filter_map(|f| scripted(f).map(|r| (f, r)))
                .collect();
            (source, remedies)
        })
        .collect();
    // Domains the captures show to be a GUID's.
    let mut aliases: BTreeMap<String, String> = BTreeMap::new();
    for named in captures
        .iter()
        .flat_map(|(_, rs)| rs.iter().filter_map(|(_, r)| Named::of(r)))
    {
        if let (Some(g), Some(d)) = (named.guid(), named.domain()) {
            aliases.entry(d).or_insert(g);
        }
    }
    let mut by_key: BTreeMap<Key, FixPlan> = BTreeMap::new();
    for (source, remedies) in &captures {
        let mut keys: Vec<Key> = Vec::new();
        for (_, remedy) in remedies {
            let Some(named) = Named::of(remedy) else {
                continue;
            };
            let key = named.key(&aliases);
            let plan = by_key
                .entry(key.clone())
                .or_insert_with(|| key.empty_plan());
            if !keys.contains(&key) {
                keys.push(key);
            }
            let fix = &mut plan.tenants[0];
            if fix.domain.is_none() {
                fix.domain = named.domain();
            }
            if fix.tenant_name.is_none() {
                fix.tenant_name = named.display_name().map(str::to_string);
            }
            match remedy {
                Remedy::AddSpns { spns, first, .. } => {
                    push_unique(&mut fix.first, first.iter().cloned());
                    push_unique(&mut fix.spns, spns.iter().cloned());
                }
                Remedy::PredictedSpns {
                    tenant,
                    spns,
                    reason,
                    ..
                } => {
                    for spn in spns {
                        if !plan.predicted.iter().any(|p| p.spn == *spn) {
                            plan.predicted.push(PredictedSpn {
                                spn: spn.clone(),
                                reason: reason.clone(),
                                tenant: tenant.clone(),
                            });
                        }
                    }
                }
                Remedy::ExchangeShell { .. } => {}
            }
        }
        let shell: Vec<ShellFix> = remedies
            .iter()
            .filter_map(|(finding, remedy)| match remedy {
                Remedy::ExchangeShell { check, change } => Some(ShellFix {
                    finding: finding.id.clone(),
                    check: check.clone(),
                    change: change.clone(),
                }),
                _ => None,
            })
            .collect();
        if !shell.is_empty() {
            let key = keys.iter().min().cloned().unwrap_or(Key::Unknown);
            let plan = by_key
                .entry(key.clone())
                .or_insert_with(|| key.empty_plan());
            for fix in shell {
                if !plan
                    .exchange_shell
                    .iter()
                    .any(|s| s.check == fix.check && s.change == fix.change)
                {
                    plan.exchange_shell.push(fix);
                }
            }
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        for key in keys {
            if let Some(plan) = by_key.get_mut(&key) {
                plan.sources.push(source.to_string());
            }
        }
    }
    by_key
        .into_values()
        .map(|mut plan| {
            for t in &mut plan.tenants {
                t.spns.sort();
            }
            // A predicted SPN that an error finding proves missing is in the tenant block.
            let proven: Vec<String> = plan.tenants.iter().flat_map(|t| t.spns.clone()).collect();
            plan.predicted.retain(|p| !proven.contains(&p.spn));
            plan.predicted.sort_by(|a, b| a.spn.cmp(&b.spn));
            plan.sources.sort();
            plan.sources.dedup();
            plan
        })
        .filter(|plan| !plan.is_empty())
        .collect()
}

fn push_unique(list: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for item in items {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

/// How a tenant is named in a script and a table: `Contoso Ltd, contoso.onmicrosoft.com
/// (GUID)`; only what is known, nothing twice.
pub fn tenant_label(t: &TenantFix) -> String {
    let mut names: Vec<&str> = Vec::new();
    for n in [t.tenant_name.as_deref(), t.domain.as_deref()]
        .into_iter()
        .flatten()
    {
        if !names.iter().any(|m| m.eq_ignore_ascii_case(n)) {
            names.push(n);
        }
    }
    let joined = comment_safe(&names.join(", "));
    match &t.tenant {
        Some(id) if names.is_empty() => comment_safe(id),
        Some(id) if names.iter().any(|n| n.eq_ignore_ascii_case(id)) => joined,
        Some(id) => format!("{joined} ({})", comment_safe(id)),
        None if names.is_empty() => {
            "tenant not named in the capture: sign in to the right one".to_string()
        }
        None => format!("{joined} (tenant id not in the capture)"),
    }
}

/// The file a plan's script is written to by `batch --fix-script DIR/`: the tenant's domain
/// (else its display name) and the first 8 characters of its GUID, `contoso.com-72f988bf.ps1`;
/// `tenant-not-named.ps1` when the captures name none. Only `[a-z0-9.-]`.
pub fn file_name(plan: &FixPlan) -> String {
    let Some(t) = plan.tenant() else {
        return "tenant-not-named.ps1".to_string();
    };
    let guid = t.tenant.as_deref().filter(|id| is_guid(id));
    let label = t
        .domain
        .as_deref()
        .or(t.tenant.as_deref().filter(|id| !is_guid(id)))
        .or(t.tenant_name.as_deref());
    let mut parts: Vec<String> = Vec::new();
    if let Some(l) = label.map(slug).filter(|l| !l.is_empty()) {
        parts.push(l);
    }
    match guid {
        Some(g) => parts.push(g.chars().take(8).collect()),
        None if t.tenant.is_none() && !parts.is_empty() => parts.push("tenant-id-unknown".into()),
        None => {}
    }
    if parts.is_empty() {
        parts.push("tenant-not-named".into());
    }
    format!("{}.ps1", parts.join("-"))
}

/// Lower case, `[a-z0-9.-]` only, runs of anything else one `-`, at most 60 characters.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out
        .trim_matches(|c| c == '-' || c == '.')
        .chars()
        .take(60)
        .collect();
    out.trim_end_matches(['-', '.']).to_string()
}

/// `--format powershell` (and `batch --fix-script FILE`): one script for every document,
/// one section per tenant.
pub struct Powershell;

impl Render for Powershell {
    fn render(&self, out: &mut dyn io::Write, docs: &[Document]) -> io::Result<()> {
        let script = script_of_plans(&plan_of_reports(Document::reports(docs)));
        if script.is_empty() {
            writeln!(out, "{NOTHING_TO_FIX}")
        } else {
            write!(out, "{script}")
        }
    }
}

/// What a fix script says when there is nothing to fix.
pub const NOTHING_TO_FIX: &str = "# traceadal: nothing to fix with PowerShell in these captures.";

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

/// One plan per tenant for several reports (`analyze` of several captures, `batch`), the
/// captures named by their report's `capture.path`.
pub fn plan_of_reports<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Vec<FixPlan> {
    plans(
        reports
            .into_iter()
            .map(|r| (r.capture.path.as_str(), r.findings.as_slice())),
    )
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

/// The script of one plan, or an empty string when there is nothing to fix.
pub fn script(plan: &FixPlan) -> String {
    script_of_plans(std::slice::from_ref(plan))
}

/// One script for several plans (one per tenant): a plan alone is written as it always was;
/// several are sections of one file, each signing in to its own tenant, with its own SPN
/// block, legacy block, shell commands and predicted SPNs, and signing out at its end: no
/// tenant's SPN is ever added in another's. Empty when there is nothing to fix.
pub fn script_of_plans(plans: &[FixPlan]) -> String {
    let plans: Vec<&FixPlan> = plans.iter().filter(|p| !p.is_empty()).collect();
    let mut s = String::new();
    match plans.as_slice() {
        [] => {}
        [plan] => {
            header(&mut s, plan.graph(), !plan.exchange_shell.is_empty());
            captures(&mut s, plan);
            let graph = plan.graph();
            if graph {
                preamble(&mut s);
            }
            section(&mut s, plan, graph, false);
            if graph {
                final_check(&mut s);
            }
        }
        many => {
            let graph = many.iter().any(|p| p.graph());
            let _ = writeln!(
                s,
                "# traceadal fix: {} tenants, each in a section of its own that signs in to that\n\
                 # tenant only: no SPN of one tenant is added in another. `traceadal batch DIR\n\
                 # --fix-script OUT/` writes one script per tenant, to hand each its own.",
                many.len()
            );
            if graph {
                let _ = writeln!(
                    s,
                    "# The SPNs go to Office 365 Exchange Online (AppId {EXCHANGE_ONLINE_APP_ID})."
                );
                preamble(&mut s);
            }
            for (i, plan) in many.iter().enumerate() {
                let label = plan.tenant().map_or_else(
                    || "tenant not named in the capture".to_string(),
                    tenant_label,
                );
                let _ = writeln!(
                    s,
                    "\n# ==== Tenant {} of {}: {label} ====",
                    i + 1,
                    many.len()
                );
                captures(&mut s, plan);
                section(&mut s, plan, graph, true);
            }
            if graph {
                final_check(&mut s);
            }
        }
    }
    s
}

/// The first lines: what the script is for.
fn header(s: &mut String, graph: bool, shell: bool) {
    if !graph && !shell {
        s.push_str(
            "# traceadal: likely missing service principal names, for Microsoft Graph PowerShell.\n",
        );
    } else if graph {
        let _ = writeln!(
            s,
            "# traceadal fix: add the missing service principal names to Office 365 Exchange Online"
        );
        let _ = writeln!(s, "# (AppId {EXCHANGE_ONLINE_APP_ID}).");
    } else {
        s.push_str("# traceadal fix: commands for the on-premises Exchange Management Shell.\n");
    }
}

/// The captures a plan comes from.
fn captures(s: &mut String, plan: &FixPlan) {
    for src in &plan.sources {
        let _ = writeln!(s, "# Capture: {}", comment_safe(src));
    }
}

/// One tenant's part: its SPN blocks (each with its legacy block), the shell commands
/// (commented when the file has Graph blocks), the predicted SPNs. `shared`: one of several
/// sections in a file, which signs out at its end.
fn section(s: &mut String, plan: &FixPlan, graph_file: bool, shared: bool) {
    for t in plan.tenants.iter().filter(|t| !t.spns.is_empty()) {
        s.push('\n');
        tenant_block(s, t);
        if shared {
            s.push_str("Disconnect-MgGraph | Out-Null\n");
        }
        legacy_block(s, t);
    }
    shell_block(s, plan, graph_file);
    predicted_block(s, plan, shared);
}

/// The first line of the predicted SPNs' block.
const PREDICTED_HEADING: &str = "# --- Likely missing SPNs (predicted, not proven)";

/// The SPNs `spn-predicted` names: every line commented out, with the reason. The capture
/// does not show them failing; a person checks the principal and runs the lines.
fn predicted_block(s: &mut String, plan: &FixPlan, shared: bool) {
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
    let _ = writeln!(
        s,
        "# {}",
        connect(
            plan.predicted
                .iter()
                .find_map(|p| p.tenant.as_deref().filter(|t| safe_tenant(t)))
        )
    );
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
    if !shared && !plan.graph() && plan.exchange_shell.is_empty() {
        s.push_str(
            "Write-Host 'traceadal: nothing was changed. The likely missing SPNs above are commented out: check them first.'\n",
        );
    }
}

/// `Connect-MgGraph` to `tenant` when it is a plain GUID or domain, else to the account's own.
fn connect(tenant: Option<&str>) -> String {
    match tenant.filter(|t| safe_tenant(t)) {
        Some(id) => format!(
            "Connect-MgGraph -TenantId {} -Scopes 'Application.ReadWrite.All' -NoWelcome",
            quote(id)
        ),
        None => "Connect-MgGraph -Scopes 'Application.ReadWrite.All' -NoWelcome".to_string(),
    }
}

/// What a Graph script needs before its tenant blocks.
fn preamble(s: &mut String) {
    s.push_str(
        "# Needs the Microsoft Graph PowerShell SDK (Install-Module Microsoft.Graph.Applications)\n\
         # and an account allowed to consent to Application.ReadWrite.All.\n\
         # Safe to run twice: an SPN already present is left alone.\n\
         #Requires -Modules Microsoft.Graph.Authentication, Microsoft.Graph.Applications\n\
         $ErrorActionPreference = 'Stop'\n\
         $stillMissing = 0\n",
    );
}

/// The end of a Graph script: exit 1 when the verify step found an SPN still missing.
fn final_check(s: &mut String) {
    s.push_str(
        "\nif ($stillMissing -gt 0) {\n\
         \x20   Write-Warning \"$stillMissing SPN(s) still missing: check the account's rights (Application.ReadWrite.All) and run again.\"\n\
         \x20   exit 1\n\
         }\n",
    );
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
    let _ = writeln!(s, "# Tenant: {}", tenant_label(t));
    for f in &t.first {
        let _ = writeln!(
            s,
            "# SECOND STEP. First, by hand: {}. Until then no SPN stops that loop.",
            comment_safe(f)
        );
    }
    let _ = writeln!(s, "{}", connect(t.tenant.as_deref()));
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
         # Verify: OK or MISSING per SPN; the script ends with exit code 1 if one is missing.\n\
         $now = @((Get-MgServicePrincipal -ServicePrincipalId $sp.Id).ServicePrincipalNames |\n\
         \x20   ForEach-Object { $_.TrimEnd('/') })\n\
         foreach ($spn in $missing) {\n\
         \x20   if ($now -icontains $spn.TrimEnd('/')) {\n\
         \x20       Write-Host \"OK       $spn\"\n\
         \x20   } else {\n\
         \x20       Write-Host \"MISSING  $spn\"\n\
         \x20       $stillMissing++\n\
         \x20   }\n\
         }\n",
    );
}

/// MSOnline was retired in 2025; kept commented, for tenants that still script with it. One
/// per tenant: its cmdlets take the tenant's GUID (`-TenantId` takes no domain).
fn legacy_block(s: &mut String, t: &TenantFix) {
    s.push_str(
        "\n# --- LEGACY, do not use unless Microsoft Graph PowerShell is unavailable ---------\n\
         # The MSOnline module is retired; these lines are the old equivalent, for reference.\n\
         # Connect-MsolService\n",
    );
    let tenant = match t.tenant.as_deref() {
        Some(id) if is_guid(id) => format!(" -TenantId {}", quote(id)),
        Some(domain) => {
            let _ = writeln!(
                s,
                "# (sign in as an administrator of {}: MSOnline's -TenantId takes a GUID only)",
                comment_safe(domain)
            );
            String::new()
        }
        None => String::new(),
    };
    let _ = writeln!(
        s,
        "# $x = Get-MsolServicePrincipal -AppPrincipalId {EXCHANGE_ONLINE_APP_ID}{tenant}"
    );
    for spn in &t.spns {
        let _ = writeln!(s, "# $x.ServicePrincipalNames.Add({})", quote(spn));
    }
    let _ = writeln!(
        s,
        "# Set-MsolServicePrincipal -AppPrincipalId {EXCHANGE_ONLINE_APP_ID} -ServicePrincipalNames $x.ServicePrincipalNames{tenant}"
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

    /// The plans of findings that all come from one capture.
    fn plans_of(findings: &[Finding], source: &str) -> Vec<FixPlan> {
        plans([(source, findings)])
    }

    fn detail(spn: &str, tenant: Option<&str>) -> Finding {
        finding(
            Severity::Error,
            Remedy::AddSpns {
                first: None,
                tenant_id: None,
                tenant: tenant.map(str::to_string),
                tenant_name: Some("Contoso Ltd".into()),
                spns: vec![spn.into()],
            },
        )
    }

    #[test]
    fn one_plan_per_tenant_each_spn_once_sorted() {
        let plans = plans([
            (
                "b.saz",
                &[
                    detail("https://mail.contoso.com/", Some("contoso.com")),
                    detail("https://autodiscover.contoso.com/", Some("CONTOSO.COM")),
                ][..],
            ),
            (
                "a.saz",
                &[
                    detail("https://mail.contoso.com/", Some("contoso.com")),
                    detail("https://autodiscover.fabrikam.com/", None),
                ][..],
            ),
        ]);
        assert_eq!(plans.len(), 2);
        let contoso = &plans[0].tenants[0];
        assert_eq!(contoso.tenant.as_deref(), Some("contoso.com"));
        assert_eq!(
            contoso.spns,
            vec![
                "https://autodiscover.contoso.com/",
                "https://mail.contoso.com/"
            ]
        );
        assert_eq!(plans[0].sources, vec!["a.saz", "b.saz"]);
        // Named "Contoso Ltd" but no id: a tenant of its own, not merged by name.
        assert_eq!(plans[1].tenants[0].tenant, None);
        assert_eq!(plans[1].sources, vec!["a.saz"]);
        assert_eq!(file_name(&plans[0]), "contoso.com.ps1");
        assert_eq!(file_name(&plans[1]), "contoso-ltd-tenant-id-unknown.ps1");

        let s = script(&plans[0]);
        assert_eq!(s.matches("Connect-MgGraph").count(), 1);
        assert!(s.contains("Connect-MgGraph -TenantId 'contoso.com' -Scopes 'Application.ReadWrite.All' -NoWelcome"));
        assert!(s.contains("    'https://autodiscover.contoso.com/'\n"));
        assert!(s.contains("Update-MgServicePrincipal -ServicePrincipalId $sp.Id"));
        // The verify step says OK or MISSING per SPN; the script exits 1 when one is missing.
        assert_eq!(s.matches("Write-Host \"MISSING  $spn\"").count(), 1);
        assert_eq!(s.matches("Write-Host \"OK       $spn\"").count(), 1);
        assert!(s.ends_with(
            "if ($stillMissing -gt 0) {\n    Write-Warning \"$stillMissing SPN(s) still missing: check the account's rights (Application.ReadWrite.All) and run again.\"\n    exit 1\n}\n"
        ));
        assert!(!s.contains("Disconnect-MgGraph"));
        // Legacy lines are all comments; a domain cannot be MSOnline's -TenantId.
        let legacy = s.split("--- LEGACY").nth(1).unwrap();
        let legacy = legacy.split("\nif ($stillMissing").next().unwrap();
        assert!(legacy
            .lines()
            .skip(1)
            .all(|l| l.is_empty() || l.starts_with('#')));
        assert!(legacy.contains("Set-MsolServicePrincipal"));
        assert!(!legacy.contains("-TenantId '"));

        // In one file: a section per tenant, each with its own connect, legacy block and
        // sign-out; one final check.
        let both = script_of_plans(&plans);
        assert!(both.starts_with("# traceadal fix: 2 tenants, each in a section of its own"));
        assert_eq!(both.matches("\nConnect-MgGraph").count(), 2);
        assert_eq!(both.matches("\nDisconnect-MgGraph | Out-Null\n").count(), 2);
        assert_eq!(both.matches("# Connect-MsolService").count(), 2);
        assert_eq!(both.matches("$stillMissing = 0").count(), 1);
        assert_eq!(both.matches("exit 1").count(), 1);
        assert!(both.contains("\n# ==== Tenant 1 of 2: Contoso Ltd, contoso.com ====\n# Capture: a.saz\n# Capture: b.saz\n"));
        assert!(both
            .contains("\n# ==== Tenant 2 of 2: Contoso Ltd (tenant id not in the capture) ====\n"));
        let second = both.split("# ==== Tenant 2 of 2").nth(1).unwrap();
        assert!(!second.contains("mail.contoso.com"), "{second}");
    }

    fn with_id(spn: &str, tenant: &str, tenant_id: Option<&str>, name: Option<&str>) -> Finding {
        finding(
            Severity::Error,
            Remedy::AddSpns {
                first: None,
                tenant: Some(tenant.into()),
                tenant_id: tenant_id.map(str::to_string),
                tenant_name: name.map(str::to_string),
                spns: vec![spn.into()],
            },
        )
    }

    const GUID: &str = "72f988bf-0000-4000-8000-0123456789ab";

    #[test]
    fn a_domain_a_capture_shows_to_be_a_guids_is_that_tenant() {
        let plans = plans([
            (
                "by-guid.saz",
                &[with_id(
                    "https://autodiscover.contoso.com/",
                    GUID,
                    Some(GUID),
                    Some("Contoso Ltd"),
                )][..],
            ),
            // Asked by domain; the challenge named the GUID.
            (
                "both.saz",
                &[with_id(
                    "https://autodiscover.contoso.com/",
                    "contoso.onmicrosoft.com",
                    Some(GUID),
                    Some("contoso.onmicrosoft.com"),
                )][..],
            ),
            // By domain alone: merged through what both.saz showed.
            (
                "domain-only.saz",
                &[with_id(
                    "https://mail.contoso.com/",
                    "CONTOSO.onmicrosoft.com",
                    None,
                    None,
                )][..],
            ),
            // Another domain, never shown with a GUID: a tenant of its own.
            (
                "fabrikam.saz",
                &[with_id(
                    "https://autodiscover.fabrikam.com/",
                    "fabrikam.com",
                    None,
                    None,
                )][..],
            ),
        ]);
        assert_eq!(plans.len(), 2, "{plans:#?}");
        let t = &plans[0].tenants[0];
        assert_eq!(t.tenant.as_deref(), Some(GUID));
        assert_eq!(t.domain.as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(t.tenant_name.as_deref(), Some("Contoso Ltd"));
        assert_eq!(
            t.spns,
            vec![
                "https://autodiscover.contoso.com/",
                "https://mail.contoso.com/"
            ]
        );
        assert_eq!(
            plans[0].sources,
            vec!["both.saz", "by-guid.saz", "domain-only.saz"]
        );
        assert_eq!(
            tenant_label(t),
            format!("Contoso Ltd, contoso.onmicrosoft.com ({GUID})")
        );
        assert_eq!(file_name(&plans[0]), "contoso.onmicrosoft.com-72f988bf.ps1");
        assert_eq!(file_name(&plans[1]), "fabrikam.com.ps1");
        let s = script(&plans[0]);
        assert_eq!(s.matches("\nConnect-MgGraph -TenantId").count(), 1);
        assert!(s.contains(&format!(
            "-AppPrincipalId {EXCHANGE_ONLINE_APP_ID} -TenantId '{GUID}'"
        )));
    }

    #[test]
    fn a_captures_shell_commands_go_with_its_tenant() {
        let shell = finding(
            Severity::Error,
            Remedy::ExchangeShell {
                check: vec!["Get-OrganizationConfig | Format-List OAuth2ClientProfileEnabled"],
                change: vec![],
            },
        );
        let plans = plans([
            (
                "a.saz",
                &[
                    shell.clone(),
                    with_id("https://mail.contoso.com/", GUID, Some(GUID), None),
                ][..],
            ),
            ("b.saz", &[shell][..]),
        ]);
        assert_eq!(plans.len(), 2);
        assert_eq!(plans[0].exchange_shell.len(), 1);
        assert_eq!(plans[0].sources, vec!["a.saz"]);
        assert_eq!(plans[1].tenants[0].tenant, None);
        assert_eq!(plans[1].sources, vec!["b.saz"]);
        assert_eq!(file_name(&plans[1]), "tenant-not-named.ps1");
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
                domain: None,
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
        let plan = &plans_of(
            &[
                hma.clone(),
                hma,
                detail("https://mail.contoso.com/", None),
                finding(
                    Severity::Warning,
                    Remedy::AddSpns {
                        first: None,
                        tenant_id: None,
                        tenant: None,
                        tenant_name: None,
                        spns: vec!["https://warning-only.contoso.com/".into()],
                    },
                ),
            ],
            "a.saz",
        )[0];
        assert_eq!(plan.exchange_shell.len(), 1);
        assert_eq!(plan.tenants.len(), 1);
        assert_eq!(plan.tenants[0].spns, vec!["https://mail.contoso.com/"]);
        let s = script(plan);
        let section = s.split("--- Exchange Management Shell").nth(1).unwrap();
        let section = section.split("\nif ($stillMissing").next().unwrap();
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
