//! The fix scripts parse as PowerShell: checked with a real PowerShell grammar
//! (tree-sitter-powershell), so a quoting mistake cannot ship a script that does not run.

use crate::common;

use traceadal::report::powershell::{script, FixPlan, ShellFix, TenantFix};

/// Parse `code` and return the text of every ERROR or MISSING node.
fn syntax_errors(code: &str) -> Vec<String> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    let tree = parser.parse(code, None).expect("the parser returns a tree");
    let mut errors = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let text = node.utf8_text(code.as_bytes()).unwrap_or("");
            errors.push(format!(
                "{} at {}: {:?}",
                node.kind(),
                node.start_position(),
                text.chars().take(80).collect::<String>()
            ));
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    errors
}

pub fn assert_valid_powershell(code: &str) {
    let errors = syntax_errors(code);
    assert!(
        errors.is_empty(),
        "PowerShell syntax errors: {errors:#?}\n---\n{code}"
    );
}

#[test]
fn the_grammar_catches_broken_scripts() {
    // The check itself must be able to fail.
    assert!(!syntax_errors("$x = @(\n 'a'\nif ($x -eq { \n").is_empty());
    assert!(!syntax_errors("Write-Host 'unterminated\n").is_empty());
}

#[test]
fn generated_scripts_parse() {
    let plans = [
        FixPlan {
            tenants: vec![TenantFix {
                first: Vec::new(),
                domain: None,
                tenant: Some("72f988bf-0000-4000-8000-0123456789ab".into()),
                tenant_name: Some("Contoso Ltd".into()),
                spns: vec![
                    "https://autodiscover.contoso.com/".into(),
                    "https://mail.contoso.com/".into(),
                ],
            }],
            exchange_shell: vec![],
            sources: vec!["samples/adal-500011-json.saz".into()],
            predicted: vec![],
        },
        FixPlan {
            tenants: vec![
                TenantFix {
                    first: Vec::new(),
                    domain: None,
                    tenant: Some("contoso.onmicrosoft.com".into()),
                    tenant_name: None,
                    spns: vec!["https://autodiscover.contoso.com:8443/".into()],
                },
                TenantFix {
                    first: Vec::new(),
                    domain: None,
                    tenant: None,
                    tenant_name: Some("Fabrikam's \"odd\" name\n; Remove-Item *".into()),
                    spns: vec!["https://autodiscover.fabrikam.com/".into()],
                },
            ],
            exchange_shell: vec![ShellFix {
                finding: "hma-not-advertised".into(),
                check: vec!["Get-OrganizationConfig | Format-List OAuth2ClientProfileEnabled"],
                change: vec!["Set-OrganizationConfig -OAuth2ClientProfileEnabled $true"],
            }],
            sources: vec!["C:\\tickets\\it's here.saz".into()],
            predicted: vec![traceadal::report::powershell::PredictedSpn {
                spn: "https://mail.contoso.com/".into(),
                reason: "published by autodiscover, not yet asked for in this capture".into(),
                tenant: Some("72f988bf-0000-4000-8000-0123456789ab".into()),
            }],
        },
    ];
    for plan in &plans {
        let code = script(plan);
        assert!(code.contains("Update-MgServicePrincipal"));
        assert_valid_powershell(&code);
    }
}

#[test]
fn every_samples_fix_script_parses() {
    let mut checked = 0;
    let mut files: Vec<_> = std::fs::read_dir(common::root().join("samples"))
        .expect("samples/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "saz" || e == "har"))
        .collect();
    files.sort();
    for path in &files {
        let (_, report) = common::analyze_json(path);
        let script = report["powershell"].as_str().unwrap_or("");
        let spns = report["missing_spns"].as_array().map_or(0, Vec::len);
        let remedies = report["findings"].as_array().map_or(0, |f| {
            f.iter()
                .filter(|f| {
                    f.get("remedy").is_some()
                        && (f["severity"] == "error"
                            || (f["severity"] == "warning"
                                && f["remedy"]["kind"] == "exchange_shell")
                            || f["remedy"]["kind"] == "predicted_spns")
                })
                .count()
        });
        assert_eq!(!script.is_empty(), remedies > 0, "{}", path.display());
        assert_eq!(
            script.contains("\nConnect-MgGraph"),
            spns > 0,
            "{}",
            path.display()
        );
        if script.is_empty() {
            continue;
        }
        assert_valid_powershell(script);
        // `--format powershell` prints the same script.
        let out = common::run(&[
            "analyze",
            path.to_str().expect("utf-8"),
            "--format",
            "powershell",
        ]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            script,
            "{}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} samples had a fix script");
}
