//! Exchange's `x-ms-diagnostics` header: `2000001;reason="...";error_category="invalid_token"`.

use serde::Serialize;

use super::text::{split_outside_quotes, unquote};
use super::Event;
use crate::capture::Session;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeDiagnostic {
    /// The numeric code as sent (unknown codes are data, not errors). Empty when the value
    /// carried only parameters.
    pub code: String,
    pub reason: Option<String>,
    pub error_category: Option<String>,
}

impl ExchangeDiagnostic {
    /// Parse one header value. `;` inside quoted strings does not split; values may be quoted
    /// (with `\"` escapes) or bare; unknown parameters are ignored. `None` when the value holds
    /// neither a code nor a `reason`/`error_category`.
    pub fn parse(value: &str) -> Option<ExchangeDiagnostic> {
        let mut code: Option<String> = None;
        let mut reason = None;
        let mut error_category = None;
        for (i, segment) in split_outside_quotes(value, b';').into_iter().enumerate() {
            let segment = segment.trim();
            if segment.is_empty() {
                continue;
            }
            let param = segment.split_once('=').filter(|(k, _)| {
                let k = k.trim();
                !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
            match param {
                Some((key, val)) => {
                    let val = unquote(val);
                    match key.trim().to_ascii_lowercase().as_str() {
                        "reason" if reason.is_none() => reason = Some(val),
                        "error_category" if error_category.is_none() => error_category = Some(val),
                        _ => {}
                    }
                }
                None if i == 0 => code = Some(segment.to_string()),
                None => {}
            }
        }
        if code.is_none() && reason.is_none() && error_category.is_none() {
            return None;
        }
        Some(ExchangeDiagnostic {
            code: code.unwrap_or_default(),
            reason,
            error_category,
        })
    }

    /// The code as a number, when it is one.
    pub fn code_number(&self) -> Option<u32> {
        self.code.trim().parse().ok()
    }

    /// One line on what the code means, when it is known.
    pub fn meaning(&self) -> Option<&'static str> {
        Some(match self.code_number()? {
            2000000 => {
                "invalid signature: Exchange could not validate the token's signature; its copy of \
                 the Entra (EvoSTS) signing metadata or the Exchange auth certificate is stale or wrong"
            }
            2000001 => {
                "invalid token: Exchange rejected the presented token (signature, issuer, lifetime \
                 or format); the reason text says which check failed"
            }
            2000003 => {
                "invalid resource: the token's audience does not match the URL Exchange sees \
                 (SSL offload or a load balancer turning https into http, another host name, a wrong \
                 ExternalUrl/InternalUrl)"
            }
            2000004 => {
                "invalid tenant: the token was issued by a tenant Exchange does not trust (the \
                 tenant GUID is not the one in the EvoSTS auth server / IntraOrganizationConnector)"
            }
            2000005 => match self.invalid_user() {
                Some(InvalidUser::Ambiguous) => {
                    "invalid user, ambiguous: more than one on-premises object carries the UPN, \
                     SMTP or SIP address of the user in the token"
                }
                Some(InvalidUser::NotFound) => {
                    "invalid user, not found: no on-premises user matches the user in the token \
                     (not in on-premises Active Directory, or not synchronised with the same UPN \
                     and address)"
                }
                None => {
                    "invalid user: the user in the token could not be matched to an on-premises \
                     mailbox (UPN/SMTP mismatch, user not synchronised, mailbox moved or missing)"
                }
            },
            2000008 => {
                "seen in the field, not documented by Microsoft: the meaning is not known; read \
                 the reason text as sent"
            }
            4000000 => {
                "OAuth not available: this Exchange virtual directory does not accept OAuth \
                 (hybrid modern authentication not enabled, or OAuth removed from the vdir)"
            }
            _ => return None,
        })
    }
}

/// The two documented cases of 2000005 `invalid_user`, told apart by the reason Exchange
/// sends: "The user specified by the user-context in the token is ambiguous." and "... does
/// not exist."
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidUser {
    /// Another on-premises object has the same UPN, SMTP or SIP address.
    Ambiguous,
    /// No on-premises user matches.
    NotFound,
}

impl ExchangeDiagnostic {
    /// For 2000005, which documented case the reason names; `None` for another code or a
    /// reason that names neither.
    pub fn invalid_user(&self) -> Option<InvalidUser> {
        if self.code_number() != Some(2000005) {
            return None;
        }
        let reason = self.reason.as_deref()?.to_ascii_lowercase();
        if reason.contains("ambiguous") {
            Some(InvalidUser::Ambiguous)
        } else if reason.contains("does not exist") || reason.contains("not found") {
            Some(InvalidUser::NotFound)
        } else {
            None
        }
    }

    /// For 4000000, the domain of "Flighting is not enabled for domain 'contoso.com'.": the
    /// domain (or address) Exchange found no OAuth auth server for. At most 253 characters,
    /// and only characters a domain or an address holds.
    pub fn flighting_domain(&self) -> Option<&str> {
        if self.code_number() != Some(4000000) {
            return None;
        }
        let reason = self.reason.as_deref()?;
        const SAID: &str = "flighting is not enabled for domain";
        let at = reason.to_ascii_lowercase().find(SAID)? + SAID.len();
        let rest = reason.get(at..)?.trim_start();
        let rest = rest.strip_prefix(['\'', '"']).unwrap_or(rest);
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-.@_".contains(c)))
            .unwrap_or(rest.len());
        let domain = rest[..end].trim_end_matches('.');
        (!domain.is_empty() && domain.len() <= 253).then_some(domain)
    }
}

/// A diagnostic on a response that is not a challenge (a 401, or a 403 with
/// `WWW-Authenticate`: those carry it in their `Challenge`), as an event.
pub fn on_response(session: &Session) -> Option<Event> {
    if super::challenge::is_challenge_response(session) {
        return None;
    }
    let response = session.response.as_ref()?;
    let diagnostic = response
        .headers
        .get_all("x-ms-diagnostics")
        .find_map(ExchangeDiagnostic::parse)?;
    Some(Event::Diagnostic {
        session: session.id,
        url: session.request.url.clone(),
        diagnostic: Box::new(diagnostic),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_user_cases_and_flighting_domain() {
        let p = |v: &str| ExchangeDiagnostic::parse(v).expect("a diagnostic");
        let ambiguous = p(
            r#"2000005;reason="The user specified by the user-context in the token is ambiguous.";error_category="invalid_user""#,
        );
        assert_eq!(ambiguous.invalid_user(), Some(InvalidUser::Ambiguous));
        assert!(ambiguous.meaning().unwrap_or("").contains("ambiguous"));
        let missing = p(
            r#"2000005;reason="The user specified by the user-context in the token does not exist.";error_category="invalid_user""#,
        );
        assert_eq!(missing.invalid_user(), Some(InvalidUser::NotFound));
        assert!(missing.meaning().unwrap_or("").contains("not found"));
        assert_eq!(p(r#"2000005;reason="something else""#).invalid_user(), None);
        assert_eq!(p(r#"2000001;reason="ambiguous""#).invalid_user(), None);
        let flight = p(
            r#"4000000;reason="Flighting is not enabled for domain 'contoso.com'.";error_category="oauth_not_available""#,
        );
        assert_eq!(flight.flighting_domain(), Some("contoso.com"));
        let user = p(r#"4000000;reason="Flighting is not enabled for domain 'user@contoso.com'.""#);
        assert_eq!(user.flighting_domain(), Some("user@contoso.com"));
        assert_eq!(
            p(r#"4000000;reason="Flighting is not enabled for domain ''.""#).flighting_domain(),
            None
        );
        assert_eq!(
            p(r#"4000000;reason="Flighting is not enabled for domain"#).flighting_domain(),
            None
        );
        assert_eq!(p("4000000").flighting_domain(), None);
        assert_eq!(
            p(r#"4000000;reason="Flighting is not enabled for domain 'a;Set-X'""#)
                .flighting_domain(),
            Some("a")
        );
    }
    use crate::capture::{Headers, Request, Response};

    fn d(code: &str, reason: Option<&str>, cat: Option<&str>) -> ExchangeDiagnostic {
        ExchangeDiagnostic {
            code: code.into(),
            reason: reason.map(Into::into),
            error_category: cat.map(Into::into),
        }
    }

    #[test]
    fn parses_exchange_values() {
        assert_eq!(
            ExchangeDiagnostic::parse(
                r#"2000001;reason="The token has an invalid signature.";error_category="invalid_token""#
            ),
            Some(d(
                "2000001",
                Some("The token has an invalid signature."),
                Some("invalid_token")
            ))
        );
        assert_eq!(
            ExchangeDiagnostic::parse(
                r#"2000003;reason="The hostname component of the audience claim value is invalid. Expected 'https://mail.contoso.com'. Actual 'https://autodiscover.contoso.com'.";error_category="invalid_resource""#
            )
            .map(|x| (x.code, x.error_category)),
            Some(("2000003".into(), Some("invalid_resource".into())))
        );
        assert_eq!(
            ExchangeDiagnostic::parse(
                r#" 4000000 ; reason="Flighting is not enabled for domain 'contoso.com'." ; error_category = "oauth_not_available" "#
            ),
            Some(d(
                "4000000",
                Some("Flighting is not enabled for domain 'contoso.com'."),
                Some("oauth_not_available")
            ))
        );
    }

    #[test]
    fn tolerates_missing_parts_quotes_and_separators_inside_quotes() {
        assert_eq!(
            ExchangeDiagnostic::parse("2000008"),
            Some(d("2000008", None, None))
        );
        assert_eq!(
            ExchangeDiagnostic::parse(r#"2000005;reason="a;b \"c\"""#),
            Some(d("2000005", Some(r#"a;b "c""#), None))
        );
        assert_eq!(
            ExchangeDiagnostic::parse(r#"reason="no code";error_category=invalid_user"#),
            Some(d("", Some("no code"), Some("invalid_user")))
        );
        assert_eq!(
            ExchangeDiagnostic::parse(r#"2000001;reason="unterminated"#),
            Some(d("2000001", Some("unterminated"), None))
        );
        assert_eq!(ExchangeDiagnostic::parse(""), None);
        assert_eq!(ExchangeDiagnostic::parse(" ; ;"), None);
        assert_eq!(
            ExchangeDiagnostic::parse("9999999;foo=bar").map(|x| x.code),
            Some("9999999".into())
        );
    }

    #[test]
    fn meanings_of_known_and_unknown_codes() {
        for code in [
            "2000000", "2000001", "2000003", "2000004", "2000005", "2000008", "4000000",
        ] {
            assert!(d(code, None, None).meaning().is_some(), "{code}");
        }
        assert!(d("2000003", None, None)
            .meaning()
            .is_some_and(|m| m.contains("audience")));
        assert!(d("2000008", None, None)
            .meaning()
            .is_some_and(|m| m.contains("not documented")));
        assert!(d("4000000", None, None)
            .meaning()
            .is_some_and(|m| m.contains("OAuth not available")));
        assert_eq!(d("1234567", None, None).meaning(), None);
        assert_eq!(d("abc", None, None).meaning(), None);
        assert_eq!(d("2000001", None, None).code_number(), Some(2000001));
    }

    fn session(status: u16, diag: Option<&str>, www: bool) -> Session {
        let mut h = Headers::new();
        if let Some(v) = diag {
            h.push("x-ms-diagnostics", v);
        }
        if www {
            h.push("WWW-Authenticate", "Bearer");
        }
        Session {
            id: 7,
            request: Request {
                method: "GET".into(),
                url: "https://mail.contoso.com/EWS/Exchange.asmx".into(),
                ..Request::default()
            },
            response: Some(Response {
                status,
                headers: h,
                ..Response::default()
            }),
            ..Session::default()
        }
    }

    #[test]
    fn on_response_only_for_non_challenges() {
        let diag = r#"2000003;reason="x";error_category="invalid_resource""#;
        match on_response(&session(500, Some(diag), false)) {
            Some(Event::Diagnostic {
                session,
                url,
                diagnostic,
            }) => {
                assert_eq!(session, 7);
                assert_eq!(url, "https://mail.contoso.com/EWS/Exchange.asmx");
                assert_eq!(diagnostic.code, "2000003");
            }
            other => panic!("expected a diagnostic, got {other:?}"),
        }
        assert!(on_response(&session(401, Some(diag), false)).is_none());
        assert!(on_response(&session(403, Some(diag), true)).is_none());
        assert!(on_response(&session(403, Some(diag), false)).is_some());
        assert!(on_response(&session(200, None, false)).is_none());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(v in ".{0,300}") {
            let _ = ExchangeDiagnostic::parse(&v).map(|d| d.meaning());
        }

        #[test]
        fn parse_reads_what_was_written(code in "[0-9]{1,8}", reason in r#"[^"\\]{0,60}"#) {
            let v = format!("{code};reason=\"{reason}\";error_category=\"invalid_token\"");
            let d = ExchangeDiagnostic::parse(&v);
            proptest::prop_assert_eq!(
                d,
                Some(ExchangeDiagnostic {
                    code: code.clone(),
                    reason: Some(reason.clone()),
                    error_category: Some("invalid_token".into()),
                })
            );
        }
    }
}
