//! The fix script: Microsoft Graph PowerShell that adds the missing SPNs to the Office 365
//! Exchange Online service principal, idempotently, one block per tenant.
//!
//! Every value that came from a capture is validated as a plain host-based SPN before it gets
//! here (`Resource::spn`) and is still written as a single-quoted PowerShell literal with
//! quotes doubled, so a crafted host name cannot become code.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::SpnDetail;
use crate::rules::spn_missing::EXCHANGE_ONLINE_APP_ID;

/// What one tenant needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantFix {
    /// GUID or domain for `Connect-MgGraph -TenantId`, when the capture tells it.
    pub tenant: Option<String>,
    /// Display name, for the comment only.
    pub tenant_name: Option<String>,
    /// `https://host/`, sorted, unique.
    pub spns: Vec<String>,
}

/// The whole fix: one block per tenant, and the captures it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixPlan {
    pub tenants: Vec<TenantFix>,
    pub sources: Vec<String>,
}

impl FixPlan {
    pub fn is_empty(&self) -> bool {
        self.tenants.iter().all(|t| t.spns.is_empty())
    }
}

/// Group SPNs by tenant (SPNs without a known tenant share one block), each SPN once.
pub fn plan_from_details(details: &[SpnDetail], sources: &[String]) -> FixPlan {
    let mut by_tenant: BTreeMap<Option<String>, (Option<String>, Vec<String>)> = BTreeMap::new();
    for d in details {
        let key = d.tenant.as_ref().map(|t| t.to_ascii_lowercase());
        let entry = by_tenant.entry(key).or_default();
        if entry.0.is_none() {
            entry.0 = d.tenant_name.clone();
        }
        if !entry.1.contains(&d.spn) {
            entry.1.push(d.spn.clone());
        }
    }
    let mut tenants: Vec<TenantFix> = by_tenant
        .into_iter()
        .map(|(tenant, (tenant_name, mut spns))| {
            spns.sort();
            TenantFix {
                tenant,
                tenant_name,
                spns,
            }
        })
        .collect();
    // A block for a known tenant first; the unknown one last.
    tenants.sort_by_key(|t| t.tenant.is_none());
    let mut sources = sources.to_vec();
    sources.sort();
    sources.dedup();
    FixPlan { tenants, sources }
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
    let _ = writeln!(
        s,
        "# traceadal fix: add the missing service principal names to Office 365 Exchange Online"
    );
    let _ = writeln!(s, "# (AppId {EXCHANGE_ONLINE_APP_ID}).");
    for src in &plan.sources {
        let _ = writeln!(s, "# Capture: {}", comment_safe(src));
    }
    s.push_str(
        "# Needs the Microsoft Graph PowerShell SDK (Install-Module Microsoft.Graph.Applications)\n\
         # and an account allowed to consent to Application.ReadWrite.All.\n\
         # Safe to run twice: an SPN already present is left alone.\n\
         #Requires -Modules Microsoft.Graph.Authentication, Microsoft.Graph.Applications\n\
         $ErrorActionPreference = 'Stop'\n",
    );
    for t in plan.tenants.iter().filter(|t| !t.spns.is_empty()) {
        s.push('\n');
        tenant_block(&mut s, t);
    }
    legacy_block(&mut s, plan);
    s
}

fn tenant_block(s: &mut String, t: &TenantFix) {
    let label = match (&t.tenant, &t.tenant_name) {
        (Some(id), Some(name)) => format!("{} ({})", comment_safe(name), comment_safe(id)),
        (Some(id), None) => comment_safe(id),
        (None, Some(name)) => format!("{} (tenant id not in the capture)", comment_safe(name)),
        (None, None) => "tenant not named in the capture: sign in to the right one".to_string(),
    };
    let _ = writeln!(s, "# Tenant: {label}");
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
         # Verify: every SPN above must be listed.\n\
         (Get-MgServicePrincipal -ServicePrincipalId $sp.Id).ServicePrincipalNames |\n\
         \x20   Where-Object { $missing.TrimEnd('/') -icontains $_.TrimEnd('/') }\n",
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

    fn detail(spn: &str, tenant: Option<&str>) -> SpnDetail {
        SpnDetail {
            spn: spn.into(),
            resources: vec![spn.into()],
            tenant: tenant.map(str::to_string),
            tenant_name: Some("Contoso Ltd".into()),
            aadsts: vec![500011],
            sessions: vec![1],
        }
    }

    #[test]
    fn one_block_per_tenant_each_spn_once_sorted() {
        let plan = plan_from_details(
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
                tenant: Some("x'; Remove-Item *".into()),
                tenant_name: Some("Evil\nRemove-Item *".into()),
                spns: vec!["https://a.contoso.com/".into()],
            }],
            sources: vec!["evil\n.saz".into()],
        };
        let s = script(&plan);
        assert!(!s.contains("-TenantId 'x"));
        assert!(s.lines().all(|l| !l.starts_with("Remove-Item")));
    }
}
