//! `traceadal analyze` on every generated sample, SAZ and HAR, against the facts the generator
//! planted (`samplegen::expected`): loops, attempts, sessions, AADSTS codes, missing SPNs,
//! finding ids, exit codes; every report validated against `docs/report-schema.json`.

use crate::common;

use std::collections::BTreeSet;

use serde_json::Value;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn numbers(v: &Value) -> Vec<u64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn check(file: &str, exp: &samplegen::Expected, validator: &jsonschema::Validator) {
    let path = common::sample(file);
    let (code, r) = common::analyze_json(&path);
    common::assert_schema_valid(validator, &r, file);

    assert_eq!(r["schema"], "traceadal.report/1", "{file}");
    assert_eq!(
        r["capture"]["sessions"], exp.sessions as u64,
        "{file}: session count"
    );
    // 1: an error finding; 3: the capture cannot show the failure; 0: neither.
    let want_code = if exp.has_error {
        1
    } else if exp.inconclusive {
        3
    } else {
        0
    };
    assert_eq!(code, want_code, "{file}: exit code");
    assert_eq!(r["verdict"]["exit_code"], want_code, "{file}: verdict");
    assert_eq!(
        r["verdict"]["status"] == "inconclusive",
        exp.inconclusive && !exp.has_error,
        "{file}: verdict status {}",
        r["verdict"]["status"]
    );
    // A healthy capture is silent: no error and no warning.
    if !exp.has_error && !exp.inconclusive && exp.findings.is_empty() {
        assert!(
            r["findings"].as_array().is_some_and(|f| f.is_empty()),
            "{file}: a healthy capture must be silent: {}",
            r["findings"]
        );
    }

    assert_eq!(
        strings(&r["missing_spns"]),
        exp.missing_spns,
        "{file}: missing_spns"
    );
    let codes: BTreeSet<u64> = r["aadsts"]
        .as_array()
        .expect("aadsts array")
        .iter()
        .filter_map(|a| a["code"].as_u64())
        .collect();
    let want: BTreeSet<u64> = exp.aadsts.iter().map(|c| u64::from(*c)).collect();
    assert_eq!(codes, want, "{file}: AADSTS codes");

    let loops = r["loops"].as_array().expect("loops array");
    for l in &exp.loops {
        let got = loops
            .iter()
            .find(|x| x["resource"] == l.resource_normalized.as_str())
            .unwrap_or_else(|| panic!("{file}: no loop for {}: {loops:#?}", l.resource_normalized));
        assert_eq!(got["attempts"], l.attempts as u64, "{file}: attempts");
        assert_eq!(got["outcome"], l.outcome, "{file}: outcome");
        // Several failing rounds in a row are a loop, and a loop is always some finding's
        // evidence.
        if l.outcome == "aad_error" && l.attempts > 1 {
            assert_eq!(got["state"], "looping", "{file}: state");
            assert!(got["explained_by"].is_string(), "{file}: explained_by");
        }
        let mut aadsts = numbers(&got["aadsts"]);
        aadsts.sort_unstable();
        let want: Vec<u64> = l.aadsts.iter().map(|c| u64::from(*c)).collect();
        assert_eq!(aadsts, want, "{file}: loop AADSTS");
        // Hosts are reported lower-cased, whatever case the client used; a flow whose
        // challenge is not in the capture (capture-started-late) has none.
        if l.challenge_host.is_empty() {
            assert_eq!(got["challenge_host"], Value::Null, "{file}: challenge host");
        } else {
            assert_eq!(
                got["challenge_host"],
                l.challenge_host.to_ascii_lowercase().as_str(),
                "{file}: challenge host"
            );
        }
        assert_eq!(got["authority"], l.authority.as_str(), "{file}: authority");
        assert_eq!(got["client_id"], l.client_id.as_str(), "{file}: client id");
        // A HAR has no client process (browsers do not record one); a SAZ does.
        if file.ends_with(".saz") {
            assert_eq!(
                got["client_process"],
                l.client_process.as_str(),
                "{file}: process"
            );
        } else {
            assert_eq!(got["client_process"], Value::Null, "{file}: process");
        }
        let sessions: Vec<u64> = l.sessions.iter().map(|s| *s as u64).collect();
        assert_eq!(numbers(&got["sessions"]), sessions, "{file}: loop sessions");
        assert_eq!(
            got["first_session"], l.first_session as u64,
            "{file}: first"
        );
        assert_eq!(got["last_session"], l.last_session as u64, "{file}: last");
        // traceadal measures to the end of the last session; the generator to its start.
        let d = got["duration_ms"].as_u64().expect("duration");
        assert!(
            d >= l.duration_ms && d < l.duration_ms + 5_000,
            "{file}: duration {d} vs {}",
            l.duration_ms
        );
    }
    let flows_with_error = loops.iter().filter(|x| x["outcome"] == "aad_error").count();
    let expected_with_error = exp
        .loops
        .iter()
        .filter(|l| l.outcome == "aad_error")
        .count();
    assert_eq!(
        flows_with_error, expected_with_error,
        "{file}: failing flows"
    );

    let ids: BTreeSet<String> = r["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter_map(|f| f["id"].as_str().map(str::to_string))
        .collect();
    for id in &exp.findings {
        assert!(
            ids.contains(*id),
            "{file}: finding {id} missing; got {ids:?}"
        );
    }
    // Exactly these: a finding the scenario does not plant is a false alarm.
    let want: BTreeSet<String> = exp.findings.iter().map(|s| s.to_string()).collect();
    assert_eq!(ids, want, "{file}: findings");
    for id in &exp.absent_findings {
        assert!(
            !ids.contains(*id),
            "{file}: finding {id} must not be raised; got {ids:?}"
        );
    }
    // The fix script folds the error findings' remedies: Graph blocks for missing SPNs, an
    // Exchange Management Shell section for an error finding with shell commands (HMA turned
    // off when Exchange said so, an NTLM prompt loop).
    let script = r["powershell"].as_str().unwrap_or("");
    assert_eq!(
        script.contains("\nConnect-MgGraph"),
        !exp.missing_spns.is_empty(),
        "{file}: Graph fix presence"
    );
    let hma_error = r["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .any(|f| f["severity"] == "error" && f["remedy"]["kind"] == "exchange_shell");
    // Warnings' Exchange Management Shell remedies (the legacy-auth lock-down) are in the
    // script too, once, at the end of the report.
    let shell_warning = r["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .any(|f| f["severity"] == "warning" && f["remedy"]["kind"] == "exchange_shell");
    assert_eq!(
        script.contains("--- Exchange Management Shell (on-premises)"),
        hma_error || shell_warning,
        "{file}: Exchange Management Shell section presence"
    );
    // Issue 19: SPNs predicted by spn-predicted make a commented block of their own.
    let predicted = r["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .any(|f| f["remedy"]["kind"] == "predicted_spns");
    assert_eq!(
        script.is_empty(),
        exp.missing_spns.is_empty() && !hma_error && !shell_warning && !predicted,
        "{file}: fix script presence"
    );
    // An http resource is fixed first by hand: the SPNs are marked as the second step.
    assert_eq!(
        script.contains("# SECOND STEP. First, by hand: the client asks for http://"),
        !exp.http_resources.is_empty(),
        "{file}: second-step marker"
    );
}

/// `TRACEADAL_ONLY=saz` narrows a local run to one format while debugging.
fn formats() -> Vec<&'static str> {
    match std::env::var("TRACEADAL_ONLY").as_deref() {
        Ok("saz") => vec!["saz"],
        Ok("har") => vec!["har"],
        _ => vec!["saz", "har"],
    }
}

#[test]
fn every_sample_saz_and_har_gives_the_planted_diagnosis() {
    let validator = common::report_schema();
    for name in samplegen::scenario_names() {
        let exp = samplegen::expected(name).expect("every scenario has expectations");
        for ext in formats() {
            check(&format!("{name}.{ext}"), &exp, &validator);
        }
    }
}

#[test]
fn format_variants_diagnose_like_their_base() {
    let validator = common::report_schema();
    for v in samplegen::variants() {
        if v.inconclusive {
            // A file that holds no capture (a SAZ zipped again, a HAR without entries):
            // never "OK", and it says why.
            let (code, r) = common::analyze_json(&common::sample(v.file));
            assert_eq!(code, 3, "{}: exit code", v.file);
            assert_eq!(r["verdict"]["status"], "inconclusive", "{}", v.file);
            assert_eq!(r["capture"]["sessions"], 0, "{}", v.file);
            continue;
        }
        let mut exp = samplegen::expected(v.base).expect("base scenario");
        exp.sessions = v.sessions;
        if !formats().iter().any(|f| v.file.contains(&format!(".{f}"))) {
            continue;
        }
        let file = if v.file.starts_with("variants/") {
            v.file.to_string()
        } else {
            format!("variants/{}", v.file)
        };
        check(&file, &exp, &validator);
    }
}

#[test]
fn the_readme_command_finds_the_loop_and_prints_the_fix() {
    let out = common::run(&["analyze", "samples/adal-500011-json.saz"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Verdict: ERROR"), "{text}");
    assert!(text.contains("https://autodiscover.contoso.com/"), "{text}");
    assert!(text.contains("AADSTS500011"), "{text}");
    assert!(text.contains("Update-MgServicePrincipal"), "{text}");
    assert!(text.contains("spn-missing"), "{text}");
}
