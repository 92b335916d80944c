//! The direction of the pipeline, kept by a test: data flows capture -> auth -> flows ->
//! rules -> analysis -> report -> batch -> cli, and no stage may name a later one (`crate::...`
//! in its non-test code). `redact` (the output layer) sits right after `capture`: it reads
//! bodies and rewrites captures, and every later stage may use it. No rule may name another
//! rule: what rules share is a query of `rules::Context` or a helper module that is not a rule.

use std::path::{Path, PathBuf};

/// The stages in pipeline order.
const STAGES: &[&str] = &[
    "capture", "redact", "auth", "flows", "rules", "analysis", "report", "batch", "cli",
];

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's code without its test parts: the `#[cfg(test)] mod x { ... }` blocks (which
/// sit at the end of a file) and comment lines.
fn non_test_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            match lines.peek().map(|l| l.trim_start()) {
                // A test module declared here lives in its own file (skipped by name).
                Some(next) if next.ends_with(';') => {
                    lines.next();
                    continue;
                }
                // An inline test module: the rest of the file.
                _ => break,
            }
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Files that are test modules themselves (`#[cfg(test)] mod testkit;`), by file stem and
/// the directory they belong to.
fn test_module_files(files: &[(PathBuf, String)]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (path, text) in files {
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                if let Some(next) = lines.next() {
                    let next = next.trim();
                    let name = next
                        .trim_end_matches(';')
                        .rsplit(' ')
                        .next()
                        .unwrap_or_default();
                    if next.ends_with(';') && next.contains("mod ") {
                        let dir = if path.file_name().is_some_and(|f| f == "mod.rs") {
                            path.parent().map(Path::to_path_buf)
                        } else {
                            Some(path.with_extension(""))
                        };
                        if let Some(dir) = dir {
                            out.push(dir.join(format!("{name}.rs")));
                            out.push(dir.join(name).join("mod.rs"));
                        }
                    }
                }
            }
        }
    }
    out
}

/// The stage a file belongs to: the first component below `src/`.
fn stage_of(src: &Path, path: &Path) -> Option<&'static str> {
    let rel = path.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let first = first.strip_suffix(".rs").unwrap_or(first);
    STAGES.iter().copied().find(|s| *s == first)
}

/// The modules a piece of code names as `crate::x`.
fn crate_refs(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// Every breach of the direction among `files` (paths below `src`).
fn violations(src: &Path, files: &[(PathBuf, String)]) -> Vec<String> {
    let skip = test_module_files(files);
    let rules_dir = src.join("rules");
    let rule_names: Vec<String> = files
        .iter()
        .filter(|(p, text)| p.parent() == Some(&rules_dir) && text.contains("pub fn check("))
        .filter_map(|(p, _)| p.file_stem()?.to_str().map(str::to_string))
        .collect();
    let mut out = Vec::new();
    for (path, text) in files {
        if skip.contains(path) {
            continue;
        }
        let Some(stage) = stage_of(src, path) else {
            continue;
        };
        let rank = STAGES.iter().position(|s| *s == stage).unwrap_or(0);
        let code = non_test_code(text);
        for name in crate_refs(&code) {
            if let Some(r) = STAGES.iter().position(|s| *s == name) {
                if r > rank {
                    out.push(format!(
                        "{}: stage {stage} names a later stage, crate::{name}",
                        path.display()
                    ));
                }
            }
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if path.parent() == Some(&rules_dir) && rule_names.iter().any(|r| r == stem) {
            for other in rule_names.iter().filter(|r| *r != stem) {
                let named = [format!("super::{other}"), format!("crate::rules::{other}")];
                if named.iter().any(|n| code.contains(n.as_str())) {
                    out.push(format!(
                        "{}: rule {stem} names rule {other}",
                        path.display()
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn no_stage_names_a_later_one_and_no_rule_names_another() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let files: Vec<(PathBuf, String)> = paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    // The walk found the stages (a moved src/ must not make this pass vacuously).
    for stage in STAGES {
        assert!(
            files.iter().any(|(p, _)| stage_of(&src, p) == Some(stage)),
            "no file of stage {stage}"
        );
    }
    assert!(files.len() > 50, "{} files", files.len());
    let found = violations(&src, &files);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_checker_sees_a_backward_import_and_a_rule_naming_a_rule() {
    let src = PathBuf::from("/x/src");
    let files = vec![
        (
            src.join("capture/session.rs"),
            "use crate::report::Report;\n// crate::cli in a comment is fine\n".to_string(),
        ),
        (
            src.join("rules/a_rule.rs"),
            "use super::b_rule::helper;\npub fn check(cx: &Context) {}\n".to_string(),
        ),
        (
            src.join("rules/b_rule.rs"),
            "use crate::auth::Event;\npub fn check(cx: &Context) {}\n".to_string(),
        ),
        (
            src.join("flows/mod.rs"),
            "use crate::auth::Event;\n#[cfg(test)]\nmod tests {\n use crate::report::X;\n}\n"
                .to_string(),
        ),
        (
            src.join("rules/mod.rs"),
            "#[cfg(test)]\nmod testkit;\npub use context::Context;\n".to_string(),
        ),
        (
            src.join("rules/testkit.rs"),
            "use crate::report::Report;\n".to_string(),
        ),
    ];
    let found = violations(&src, &files);
    assert_eq!(
        found,
        vec![
            "/x/src/capture/session.rs: stage capture names a later stage, crate::report",
            "/x/src/rules/a_rule.rs: rule a_rule names rule b_rule",
        ]
    );
}
