//! Terminal output (issue 20), through the real binary: tables and wrapped text fitted to
//! `COLUMNS` without cutting an identifier, on every sample; `--color` and `NO_COLOR`; shell
//! completions and the man page.

use std::collections::BTreeMap;

use regex::Regex;

use crate::common::root;

/// Every SAZ sample, by path relative to the repository root (as the reports name them).
fn saz_samples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("samples"))
        .expect("samples/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".saz"))
        .map(|n| format!("samples/{n}"))
        .collect();
    names.sort();
    assert!(names.len() > 40, "the samples are there");
    names
}

/// `traceadal ARGS` in the repository root with `env`: its stdout.
fn stdout_of(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_traceadal"));
    cmd.current_dir(root())
        .args(args)
        .stdin(std::process::Stdio::null())
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the traceadal binary runs");
    assert!(
        out.status.code().is_some_and(|c| c <= 3),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `analyze` of every SAZ sample, one table report after the other.
fn analyze_all(columns: &str) -> String {
    let samples = saz_samples();
    let mut args = vec!["analyze"];
    args.extend(samples.iter().map(String::as_str));
    stdout_of(&args, &[("COLUMNS", columns)])
}

fn batch_all(columns: &str) -> String {
    stdout_of(&["batch", "samples", "-j", "2"], &[("COLUMNS", columns)])
}

/// The finding ids the samples raise, from their JSON reports.
fn finding_ids() -> Vec<String> {
    let samples = saz_samples();
    let mut args = vec!["analyze", "--format", "json"];
    args.extend(samples.iter().map(String::as_str));
    let mut ids: Vec<String> = stdout_of(&args, &[])
        .lines()
        .flat_map(|line| {
            let report: serde_json::Value = serde_json::from_str(line).expect("a JSON report");
            report["findings"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f["id"].as_str().map(str::to_string))
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert!(ids.len() > 20, "the samples raise findings: {ids:?}");
    ids
}

/// The identifier-like tokens of `text` an analyst pastes whole, with how often each occurs:
/// GUIDs, AADSTS codes and bare codes, URLs, cmdlets (Verb-Noun), ISO dates (with the time
/// when joined by `T` or a space), and the finding ids given.
fn identifiers(text: &str, ids: &[String]) -> BTreeMap<String, usize> {
    let patterns = [
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        r"AADSTS\d+",
        r"\b\d{5,}\b",
        r#"https?://[^\s│┆"'<>()\[\]]+"#,
        r"\b[A-Z][a-z]+-[A-Z][A-Za-z]+\b",
        r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?Z?)?",
    ];
    let mut found = BTreeMap::new();
    for p in patterns {
        for m in Regex::new(p).expect("a pattern").find_iter(text) {
            found.insert(m.as_str().to_string(), 0);
        }
    }
    for id in ids {
        if text.contains(id.as_str()) {
            found.insert(id.clone(), 0);
        }
    }
    for (token, n) in found.iter_mut() {
        *n = text.matches(token.as_str()).count();
    }
    found
}

/// Every identifier of `wide` occurs in `narrow` as often, each time on one line; table
/// lines fit `columns`.
fn assert_nothing_cut(what: &str, wide: &str, narrow: &str, columns: usize, ids: &[String]) {
    let mut cut = Vec::new();
    for (token, n) in identifiers(wide, ids) {
        let now = narrow.matches(token.as_str()).count();
        if now < n {
            cut.push(format!(
                "{token} ({n} whole at 1000 columns, {now} at {columns})"
            ));
        }
    }
    assert!(
        cut.is_empty(),
        "{what} at {columns} columns cuts identifiers:\n{}",
        cut.join("\n")
    );
    for line in narrow.lines() {
        let table = line.starts_with(['┌', '│', '╞', '├', '└']);
        assert!(
            !table || line.chars().count() <= columns,
            "{what}: a table line wider than {columns} columns:\n{line}"
        );
    }
}

/// Issue 20: correlation ids, the AppId, cmdlets, finding ids, codes and dates were split
/// over two lines by the tables; `COLUMNS` was ignored in a pipe.
#[test]
fn no_sample_has_an_identifier_cut_at_any_width() {
    let ids = finding_ids();
    let wide = analyze_all("1000");
    let mut seen = Vec::new();
    for columns in [60, 80, 120, 200] {
        let narrow = analyze_all(&columns.to_string());
        assert_nothing_cut("analyze", &wide, &narrow, columns, &ids);
        seen.push(narrow);
    }
    // COLUMNS is honoured in a pipe: the widths give different layouts.
    assert_ne!(seen[0], seen[3]);
    // Without COLUMNS a pipe gets the fixed width, 120.
    assert_eq!(analyze_all(""), seen[2]);

    let wide = batch_all("1000");
    for columns in [60, 80, 120, 200] {
        let narrow = batch_all(&columns.to_string());
        assert_nothing_cut("batch", &wide, &narrow, columns, &ids);
        if columns >= 120 {
            assert_batch_is_a_table(&narrow, columns);
        }
    }
    // A pipe without COLUMNS gets 120: still a table.
    assert_batch_is_a_table(&batch_all(""), 120);
}

/// Issue 20: at 120 columns the batch table of samples/ was printed as a list (its widest
/// words added up to ~160 columns).
fn assert_batch_is_a_table(out: &str, columns: usize) {
    let table: Vec<&str> = out
        .lines()
        .take_while(|l| l.starts_with(['┌', '│', '╞', '├', '└']))
        .collect();
    assert!(
        table.len() > 160,
        "batch at {columns} columns is not a table:\n{out}"
    );
    assert!(table[1].starts_with("│ Capture, verdict "), "{}", table[1]);
    assert!(
        !out.contains("\nCapture "),
        "list form at {columns}:\n{out}"
    );
}

/// Issue 20: `sessions` kept its own width (none in a pipe, the terminal's otherwise,
/// `COLUMNS` ignored) and shortened URLs in the middle. Now: `COLUMNS`, else 120 in a pipe;
/// no host, URL or other identifier cut; every line within the width but a URL on its own
/// line that is longer than the width.
#[test]
fn sessions_fit_the_width_and_cut_nothing() {
    for sample in saz_samples() {
        let wide = stdout_of(&["sessions", &sample], &[("COLUMNS", "1000")]);
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&stdout_of(&["sessions", &sample, "--format", "json"], &[]))
                .expect("JSON rows");
        let mut at = Vec::new();
        for columns in [60, 80, 120, 200] {
            let narrow = stdout_of(&["sessions", &sample], &[("COLUMNS", &columns.to_string())]);
            // Every URL whole, as `--format json` gives it; every host too while the Host
            // column is shown (at 60 it goes: the URL under the row names it).
            for row in &rows {
                let url = row["url"].as_str().expect("url");
                assert!(
                    narrow.contains(url),
                    "{sample} at {columns}: {url} cut:\n{narrow}"
                );
                if narrow.lines().next().is_some_and(|h| h.contains(" Host")) {
                    let host = row["host"].as_str().unwrap_or("-");
                    assert!(
                        narrow.contains(host),
                        "{sample} at {columns}: {host}:\n{narrow}"
                    );
                }
            }
            assert!(!narrow.contains('…'), "{sample} at {columns}:\n{narrow}");
            for line in narrow.lines() {
                let lone_word = line.starts_with("    ") && !line.trim().contains(' ');
                assert!(
                    lone_word || line.chars().count() <= columns,
                    "{sample} at {columns}: a line wider than the width:\n{line}"
                );
            }
            // Every session is listed, once, with its number first.
            assert_eq!(
                narrow
                    .lines()
                    .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
                    .count(),
                wide.lines().count() - 1,
                "{sample} at {columns}:\n{narrow}"
            );
            at.push(narrow);
        }
        // A pipe without COLUMNS gets 120.
        assert_eq!(stdout_of(&["sessions", &sample], &[]), at[2], "{sample}");
    }
}

/// What a flow table looks like in 80 columns: a list, not a table with `Attemp/ts`.
#[test]
fn a_table_too_wide_for_the_terminal_becomes_a_list() {
    let out = stdout_of(
        &["analyze", "samples/adal-500011-json.saz"],
        &[("COLUMNS", "80")],
    );
    assert!(
        out.contains(
            "Token flows (challenge -> Entra ID -> outcome)\n\
             Resource  https://autodiscover.contoso.com/\n\
             Client    outlook:4242\n\
             \x20         Microsoft Office\n\
             Attempts  6\n\
             Outcome   aad_error\n\
             \x20         looping\n\
             \x20         spn-missing\n\
             AADSTS    500011\n"
        ),
        "{out}"
    );
    // The verdict on its own short lines.
    assert!(
        out.starts_with(
            "samples/adal-500011-json.saz (SAZ, 35 sessions)\n\
             Verdict: ERROR\n\
             \x20 Outlook modern-auth failure: Entra ID does not know\n"
        ),
        "{out}"
    );
    for line in out.lines().take_while(|l| !l.starts_with("Fix (")) {
        let overflow = line.split_whitespace().any(|w| w.chars().count() > 40);
        assert!(
            overflow || line.chars().count() <= 80,
            "wider than 80 columns: {line}"
        );
    }
}

/// `stdout_of` for one sample, with the exit code left unchecked.
fn analyze_one(extra: &[&str], env: &[(&str, &str)]) -> String {
    let mut args = vec!["analyze", "samples/adal-500011-json.saz"];
    args.extend_from_slice(extra);
    stdout_of(&args, env)
}

/// Issue 20: no colour anywhere. `--color always` colours the verdict and each finding's
/// severity on stdout, even in a pipe: ERROR bold red, WARNING yellow, INFO cyan.
#[test]
fn color_always_paints_the_verdict_and_the_severities() {
    let out = analyze_one(&["--color", "always"], &[]);
    assert!(
        out.contains("\nVerdict: \x1b[1;31mERROR\x1b[0m\n"),
        "{out:?}"
    );
    assert!(
        out.contains("\n  \x1b[1;31mERROR\x1b[0m   spn-missing\n"),
        "{out:?}"
    );
    // Nothing else is coloured: the same text without the escapes.
    let plain = analyze_one(&[], &[]);
    assert_eq!(out.replace("\x1b[1;31m", "").replace("\x1b[0m", ""), plain);
    // The flag is global: before the command too.
    let before = stdout_of(
        &[
            "--color",
            "always",
            "analyze",
            "samples/adal-500011-json.saz",
        ],
        &[],
    );
    assert_eq!(before, out);
    // WARNING yellow, INFO cyan, the verdict in its status's colour.
    let out = stdout_of(
        &[
            "analyze",
            "samples/mfa-step-up.saz",
            "samples/healthy-workday.saz",
            "samples/answers-healthy.saz",
            "samples/blind-tunnels.saz",
            "--color",
            "always",
        ],
        &[("NO_COLOR", "1")],
    );
    for painted in [
        "Verdict: \x1b[33mWARNING\x1b[0m\n",
        "\n  \x1b[33mWARNING\x1b[0m ",
        "\n  \x1b[36mINFO\x1b[0m    ",
        "Verdict: \x1b[36mINFO\x1b[0m\n",
        "Verdict: \x1b[1;32mOK\x1b[0m\n",
        "Verdict: \x1b[1;33mINCONCLUSIVE\x1b[0m\n",
    ] {
        assert!(out.contains(painted), "{painted:?} missing:\n{out:?}");
    }
}

/// `NO_COLOR` (any non-empty value) and `--color never` turn colour off; `auto` colours only
/// a terminal, so never a pipe; JSON, markdown and files are never coloured, even with
/// `--color always`.
#[test]
fn no_color_and_pipes_and_machine_formats_get_no_escape() {
    let plain = analyze_one(&[], &[]);
    assert!(!plain.contains('\x1b'));
    for (extra, env) in [
        (vec!["--color", "auto"], vec![("NO_COLOR", "1")]),
        (vec!["--color", "never"], vec![]),
        (vec!["--color", "auto"], vec![]),
        (vec!["--color", "always", "--format", "json"], vec![]),
        (vec!["--color", "always", "--format", "markdown"], vec![]),
        (vec!["--color", "always", "--format", "powershell"], vec![]),
        (vec!["--color", "always", "--format", "html"], vec![]),
    ] {
        let out = analyze_one(&extra, &env);
        assert!(!out.contains('\x1b'), "{extra:?} {env:?} coloured:\n{out}");
    }
    assert_eq!(
        analyze_one(&["--color", "auto"], &[("NO_COLOR", "1")]),
        plain
    );
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("report.txt");
    let _ = analyze_one(&["--color", "always", "-o", &file.to_string_lossy()], &[]);
    let written = std::fs::read_to_string(&file).expect("the report was written");
    assert!(written.contains("Verdict: ERROR\n"), "{written}");
    assert!(!written.contains('\x1b'));
    let out = stdout_of(
        &[
            "batch", "samples", "-j", "2", "--color", "always", "--format", "csv",
        ],
        &[],
    );
    assert!(!out.contains('\x1b'));
}

/// The names of traceadal's commands, from its own definition.
fn command_names() -> Vec<String> {
    use clap::CommandFactory;
    let names: Vec<String> = traceadal::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for expected in [
        "analyze",
        "batch",
        "explain",
        "sessions",
        "redact",
        "completions",
        "man",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    names
}

/// Issue 20: no shell completions. Each shell's script names every command (and the
/// options of one, to show it is made from the definitions).
#[test]
fn completions_name_every_command_in_every_shell() {
    let names = command_names();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell], &[]);
        for name in &names {
            assert!(
                script.contains(name.as_str()),
                "{shell}: {name} not completed"
            );
        }
        // Fish names long options without their dashes (`-l format`).
        for option in ["format", "color", "password-env"] {
            assert!(script.contains(option), "{shell}: {option} not completed");
        }
    }
    let bash = stdout_of(&["completions", "bash"], &[]);
    assert!(bash.contains("complete -F _traceadal"), "{bash}");
    let ps = stdout_of(&["completions", "powershell"], &[]);
    assert!(ps.contains("Register-ArgumentCompleter -Native -CommandName 'traceadal'"));
    // An unknown shell is a usage error.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .args(["completions", "cmd"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

/// Issue 20: no man page. `traceadal man` is roff naming every command; `--dir` writes
/// traceadal.1 and a page per command.
#[test]
fn the_man_page_is_roff_and_names_every_command() {
    let page = stdout_of(&["man"], &[]);
    assert!(page.contains("\n.TH traceadal 1 "), "{page}");
    assert!(page.contains("\n.SH SUBCOMMANDS\n"), "{page}");
    for name in command_names().iter().filter(|n| *n != "help") {
        assert!(
            page.contains(&format!("traceadal\\-{name}(1)")),
            "{name} not in the page"
        );
    }
    // Every line is a request, a comment or text: no stray escape left by a help text.
    assert!(!page.contains('\x1b'));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = stdout_of(&["man", "--dir", &dir.path().to_string_lossy()], &[]);
    assert!(out.is_empty());
    let mut written: Vec<String> = std::fs::read_dir(dir.path())
        .expect("the folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut expected: Vec<String> = command_names()
        .iter()
        .filter(|n| *n != "help")
        .map(|n| format!("traceadal-{n}.1"))
        .chain(["traceadal.1".to_string()])
        .collect();
    expected.sort();
    assert_eq!(written, expected);
    let analyze = std::fs::read_to_string(dir.path().join("traceadal-analyze.1")).expect("a page");
    assert!(
        analyze.contains(".TH traceadal-analyze 1  \"traceadal "),
        "{analyze}"
    );
    assert!(analyze.contains("\\-\\-format"), "{analyze}");
}

/// The man page as `man` shows it: groff formats it without a warning, and the text names
/// every command.
#[test]
#[ignore = "needs groff (Debian: groff-base); .ci/run installs it"]
fn the_man_page_renders_with_groff() {
    let page = stdout_of(&["man"], &[]);
    let mut groff = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("groff is installed (Debian: groff-base)");
    use std::io::Write;
    groff
        .stdin
        .take()
        .expect("stdin")
        .write_all(page.as_bytes())
        .expect("groff reads the page");
    let out = groff.wait_with_output().expect("groff runs");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warnings");
    let text = std::process::Command::new("sh")
        .args(["-c", "groff -man -Tascii -P-c -P-b -P-u"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().expect("stdin").write_all(page.as_bytes())?;
            c.wait_with_output()
        })
        .expect("groff runs");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("SUBCOMMANDS"), "{text}");
    for name in command_names().iter().filter(|n| *n != "help") {
        assert!(
            text.contains(&format!("traceadal-{name}(1)")),
            "{name}:\n{text}"
        );
    }
}

/// The pairs `tests/diff.rs` compares, BEFORE and AFTER.
const DIFF_PAIRS: [(&str, &str); 5] = [
    (
        "samples/adal-500011-json.saz",
        "samples/healthy-token-issued.saz",
    ),
    (
        "samples/adal-500011-json.saz",
        "samples/adal-500011-redirect.saz",
    ),
    (
        "samples/adal-500011-json.saz",
        "samples/autodiscover-500-not-found.saz",
    ),
    ("samples/adal-500011-json.saz", "samples/blind-tunnels.saz"),
    ("samples/two-hosts.saz", "samples/adal-500011-json.saz"),
];

/// `diff` kept its own width (the terminal's, `COLUMNS` ignored) and let comfy-table cut
/// words (`https://autodiscove` / `r.contoso.com/`). Now it follows the width every table
/// follows (`COLUMNS`, the terminal, else 120) and the no-cut layout: hosts, URLs, finding
/// ids and AADSTS codes stay whole at every width, and every line fits but a word longer
/// than the width.
#[test]
fn diff_fits_the_width_and_cuts_nothing() {
    let ids = finding_ids();
    let host = Regex::new(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org)\b").expect("a pattern");
    for (before, after) in DIFF_PAIRS {
        let what = format!("diff {before} {after}");
        let run = |columns: &str| stdout_of(&["diff", before, after], &[("COLUMNS", columns)]);
        let wide = run("1000");
        assert!(wide.contains("AADSTS500011"), "{what}:\n{wide}");
        let hosts: BTreeMap<&str, usize> = host
            .find_iter(&wide)
            .map(|m| (m.as_str(), wide.matches(m.as_str()).count()))
            .collect();
        assert!(
            hosts.contains_key("autodiscover.contoso.com"),
            "{what}:\n{wide}"
        );
        let mut at = Vec::new();
        for columns in [60, 80, 120, 200] {
            let narrow = run(&columns.to_string());
            assert_nothing_cut(&what, &wide, &narrow, columns, &ids);
            for (h, n) in &hosts {
                assert_eq!(
                    narrow.matches(h).count(),
                    *n,
                    "{what} at {columns}: {h} cut:\n{narrow}"
                );
            }
            for line in narrow.lines() {
                let overflow = line.split_whitespace().any(|w| w.chars().count() > 40);
                assert!(
                    overflow || line.chars().count() <= columns,
                    "{what} at {columns}: a line wider than the width:\n{line}"
                );
            }
            at.push(narrow);
        }
        // COLUMNS is honoured in a pipe; without it a pipe gets 120 columns.
        assert_ne!(at[0], at[3], "{what}");
        assert_eq!(run(""), at[2], "{what}");
    }
}
