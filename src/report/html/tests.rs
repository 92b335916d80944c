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
