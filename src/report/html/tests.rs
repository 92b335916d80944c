use super::*;

#[test]
fn static_style_and_script_pass_the_redaction_layer_unchanged() {
    let r = Redactor::default();
    assert_eq!(r.text(STYLE), STYLE);
    assert_eq!(r.text(SCRIPT), SCRIPT);
    // And nothing in them could fetch.
    for s in [STYLE, SCRIPT] {
        for fetch in [
            "url(",
            "@import",
            "fetch(",
            "XMLHttpRequest",
            "http://",
            "https://",
        ] {
            assert!(!s.contains(fetch), "{fetch}");
        }
    }
    // The script is closed by our own `</script>` only.
    assert!(!SCRIPT.contains("</"));
    assert!(!STYLE.contains("</"));
}

#[test]
fn csp_hash_is_the_base64_sha256_of_the_content() {
    // echo -n 'abc' | openssl dgst -sha256 -binary | base64
    assert_eq!(
        csp_hash("abc"),
        "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='"
    );
}

#[test]
fn facts_note_names_the_challenge_and_the_outcome() {
    let f = SessionFacts {
        bearer: Some(true),
        diagnostic: Some("2000003".into()),
        ..SessionFacts::default()
    };
    assert_eq!(
        f.note().as_deref(),
        Some("Bearer+authorization_uri · diag 2000003")
    );
    assert_eq!(SessionFacts::default().note(), None);
    // A note must not read as a credential to the redaction layer.
    let n = f.note().unwrap_or_default();
    assert_eq!(Redactor::default().text(&n), n);
}
