//! `explain` on the codes of issue 24: the AADSTS codes added to the catalog and the Windows
//! broker (WAM) codes analysts quote from Outlook's dialogs, on the real binary.

use crate::common::run;

fn explain(code: &str) -> (Option<i32>, String, String) {
    let out = run(&["explain", code]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_added_aadsts_codes_are_explained() {
    for (code, name) in [
        ("AADSTS50008", "InvalidSamlToken"),
        ("65005", "MisconfiguredApplication"),
        ("AADSTS50135", "PasswordChangeCompromisedPassword"),
        ("50142", "PasswordChangeRequiredConditionalAccess"),
        ("AADSTS50180", "WindowsIntegratedAuthMissing"),
        ("16001", "UserAccountSelectionInvalid"),
        ("16002", "AppSessionSelectionInvalid"),
    ] {
        let (status, out, err) = explain(code);
        assert_eq!(status, Some(0), "{code}: {err}");
        let digits = code.trim_start_matches("AADSTS");
        assert!(out.starts_with(&format!("AADSTS{digits} {name}")), "{out}");
        assert!(out.contains("Meaning:") && out.contains("Advice:"), "{out}");
    }
}

#[test]
fn wam_codes_say_what_the_capture_shows() {
    for (code, name, capture) in [
        (
            "0xCAA70004",
            "ERROR_INET_RESOURCE_NOT_FOUND",
            "login.microsoftonline.com",
        ),
        ("CAA70007", "ERROR_INET_DOWNLOAD_FAILURE", "aborted"),
        (
            "0xcaa2000b",
            "ERROR_ADAL_SERVER_ERROR_INVALID_RESOURCE",
            "AADSTS500011",
        ),
        (
            "0xCAA20004",
            "ERROR_ADAL_SERVER_ERROR_ACCESS_DENIED",
            "Conditional Access",
        ),
        (
            "0xCAA20003",
            "ERROR_ADAL_SERVER_ERROR_INVALID_GRANT",
            "invalid_grant",
        ),
        ("0xCAA82EE2", "ERROR_ADAL_INTERNET_TIMEOUT", "no response"),
        ("0xCAA82EE7", "ERROR_ADAL_INTERNET_NAME_NOT_RESOLVED", "DNS"),
        ("0xCAA50021", "Message ID not published", "broker"),
        (
            "0xCAA90014",
            "ERROR_ADAL_WSTRUST_REQUEST_SECURITYTOKEN_FAILED",
            "WS-Trust",
        ),
        // The decimal and signed forms Windows logs print.
        ("3399942148", "ERROR_INET_RESOURCE_NOT_FOUND", "CONNECT"),
        ("-895025148", "ERROR_INET_RESOURCE_NOT_FOUND", "CONNECT"),
    ] {
        let (status, out, err) = explain(code);
        assert_eq!(status, Some(0), "{code}: {err}");
        let first = out.lines().next().unwrap_or_default();
        assert!(
            first.contains(name) && first.contains("(Windows broker, WAM)"),
            "{out}"
        );
        let capture_line = out
            .lines()
            .find(|l| l.starts_with("  Capture: "))
            .unwrap_or_default();
        assert!(capture_line.contains(capture), "{code}: {out}");
    }
    // A broker code not in the catalog is named as one; other hex is not a code at all.
    let (status, _, err) = explain("0xCAA10001");
    assert_eq!(status, Some(1));
    assert!(err.contains("Windows broker (WAM)"), "{err}");
    let (status, _, _) = explain("0x80070005");
    assert_eq!(status, Some(2));
}

#[test]
fn explain_all_lists_both_catalogs_in_order() {
    let (status, out, _) = explain("all");
    assert_eq!(status, Some(0));
    let aadsts: Vec<u64> = out
        .lines()
        .filter_map(|l| l.strip_prefix("AADSTS"))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect();
    let mut sorted = aadsts.clone();
    sorted.sort_unstable();
    assert_eq!(aadsts, sorted, "AADSTS codes in code order");
    for code in [50008, 65005, 50135, 50142, 50180, 16001, 16002] {
        assert!(aadsts.contains(&code), "{code}");
    }
    let wam: Vec<&str> = out.lines().filter(|l| l.starts_with("0xCAA")).collect();
    assert!(wam.len() >= 9, "{wam:?}");
    assert!(wam.iter().any(|l| l.starts_with("0xCAA70004 ")), "{wam:?}");
}
