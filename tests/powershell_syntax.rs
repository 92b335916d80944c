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

/// The cmdlets a fix script may call, by module, and the parameters it may pass them.
/// PowerShell itself cannot be installed here cheaply (it is no Debian package), so beside the
/// grammar this checks by structure: every `Verb-Noun` command, commented or not, is one
/// of these (the Graph ones as Microsoft.Graph.Authentication and Microsoft.Graph.Applications
/// name them, the MSOnline ones as that module did), strings close on their line and
/// braces, brackets and parentheses balance over the lines that run.
const CMDLETS: &[(&str, &[&str])] = &[
    // Microsoft.Graph.Authentication
    ("Connect-MgGraph", &["-TenantId", "-Scopes", "-NoWelcome"]),
    ("Disconnect-MgGraph", &[]),
    // Microsoft.Graph.Applications
    (
        "Get-MgServicePrincipal",
        &["-Filter", "-ServicePrincipalId"],
    ),
    (
        "Update-MgServicePrincipal",
        &["-ServicePrincipalId", "-ServicePrincipalNames"],
    ),
    // MSOnline (retired; commented lines only)
    ("Connect-MsolService", &[]),
    (
        "Get-MsolServicePrincipal",
        &["-AppPrincipalId", "-TenantId"],
    ),
    (
        "Set-MsolServicePrincipal",
        &["-AppPrincipalId", "-ServicePrincipalNames", "-TenantId"],
    ),
    // PowerShell itself
    ("Write-Host", &[]),
    ("Write-Warning", &[]),
    ("ForEach-Object", &[]),
    ("Where-Object", &[]),
    ("Out-Null", &[]),
    ("Get-Command", &["-ErrorAction"]),
];

/// Check `code` by structure (see [`CMDLETS`]): only known Graph and MSOnline cmdlets with
/// known parameters; balanced delimiters outside strings on lines that run. Exchange
/// Management Shell lines are not checked here (they come from the rules' remedies).
pub fn assert_known_cmdlets(code: &str) {
    for line in code.lines() {
        let text = line.trim_start().trim_start_matches('#').trim_start();
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || "(){};|".contains(c))
            .filter(|w| !w.is_empty())
            .collect();
        for (i, word) in words.iter().enumerate() {
            let graph = word.contains("-Mg") || word.contains("-Msol");
            let core = CMDLETS.iter().any(|(c, _)| c == word);
            if !graph && !core {
                continue;
            }
            let Some((_, params)) = CMDLETS.iter().find(|(c, _)| c == word) else {
                panic!("unknown cmdlet {word} in: {line}\n---\n{code}");
            };
            if word.contains("-Mg") || word.contains("-Msol") {
                for param in words[i + 1..]
                    .iter()
                    .take_while(|w| !w.contains("-Mg") && !w.contains("-Msol"))
                    .filter(|w| w.starts_with('-') && w[1..].starts_with(char::is_alphabetic))
                {
                    assert!(
                        params.contains(param),
                        "{word} has no parameter {param}: {line}\n---\n{code}"
                    );
                }
            }
        }
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') => break,
                _ => {}
            }
        }
        assert!(quote.is_none(), "unterminated string: {line}");
    }
    // Across the lines that run, every block closes.
    let running: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    for (open, close) in [('{', '}'), ('(', ')'), ('[', ']')] {
        assert_eq!(
            running.matches(open).count(),
            running.matches(close).count(),
            "unbalanced {open}{close}\n---\n{code}"
        );
    }
}

#[test]
fn the_structure_check_catches_unknown_cmdlets_and_parameters() {
    let ok = "Connect-MgGraph -TenantId 'x' -Scopes 'Application.ReadWrite.All' -NoWelcome\n";
    assert_known_cmdlets(ok);
    for bad in [
        "Set-MgServicePrincipal -ServicePrincipalId $x\n",
        "Update-MgServicePrincipal -Id $x\n",
        "# Get-MsolServicePrincipal -Tenant 'x'\n",
        "if ($x) {\n",
    ] {
        let caught = std::panic::catch_unwind(|| assert_known_cmdlets(bad)).is_err();
        assert!(caught, "not caught: {bad}");
    }
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
        assert_known_cmdlets(&code);
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
        assert_known_cmdlets(script);
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
