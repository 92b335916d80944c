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
/// when joined by `T`), and the finding ids given.
fn identifiers(text: &str, ids: &[String]) -> BTreeMap<String, usize> {
    let patterns = [
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        r"AADSTS\d+",
        r"\b\d{5,}\b",
        r#"https?://[^\s│┆"'<>()\[\]]+"#,
        r"\b[A-Z][a-z]+-[A-Z][A-Za-z]+\b",
        r"\b\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?Z?)?",
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
