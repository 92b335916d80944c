//! ASCII case-insensitive comparisons without a lower-cased copy: the parsers ask every
//! session's URL path what it is (EWS? MAPI? autodiscover? ADFS?), and the secret finders ask
//! key names what they hold, many times a session.

/// ASCII case-insensitive `starts_with`.
pub fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// ASCII case-insensitive `ends_with`.
pub fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len()
        .checked_sub(suffix.len())
        .and_then(|start| s.as_bytes().get(start..))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix.as_bytes()))
}

/// ASCII case-insensitive `contains` (an empty `needle` is in every string).
pub fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    needle.is_empty()
        || hay
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_comparisons_agree_with_lower_casing_first() {
        let cases = [
            ("/EWS/Exchange.asmx", "/ews/exchange.asmx"),
            ("/ews/exchange.asmx/", "exchange.asmx/"),
            ("/MAPI/emsmdb/?MailboxId=x", "/mapi/emsmdb"),
            ("/adfs/ls", "/ADFS/LS/"),
            ("", "x"),
            ("x", ""),
            ("ab", "abc"),
            ("/Ä/ews", "/ä/ews"),
        ];
        for (hay, needle) in cases {
            let (h, n) = (hay.to_ascii_lowercase(), needle.to_ascii_lowercase());
            assert_eq!(
                starts_with_ignore_case(hay, needle),
                h.starts_with(&n),
                "{hay} {needle}"
            );
            assert_eq!(
                ends_with_ignore_case(hay, needle),
                h.ends_with(&n),
                "{hay} {needle}"
            );
            assert_eq!(
                contains_ignore_case(hay, needle),
                h.contains(&n),
                "{hay} {needle}"
            );
        }
    }
}
