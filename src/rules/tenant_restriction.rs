//! `tenant-restriction`: tenant restrictions (headers a proxy or the device adds to
//! requests to Entra ID) refused the sign-in: AADSTS500021 (v1) or AADSTS5000211 (v2).
//!
//! Tenant restrictions v1 add `Restrict-Access-To-Tenants` (the allowed tenants, domains or
//! GUIDs) and `Restrict-Access-Context` (the tenant that set the policy); v2 adds
//! `sec-Restrict-Tenant-Access-Policy` (`<tenant id>:<policy id>`). A sign-in to a tenant
//! the list does not allow ends with AADSTS500021 ("Access to '<tenant>' tenant is denied").
//!
//! Looks at: `Event::Gateway` tenant-restriction signs (requests to an Entra ID authority
//! carrying those headers) whose answer is an AAD error with 500021. The headers alone raise
//! nothing (they are on every request in a restricted network); 500021 without them stays
//! with the `aadsts-` rule.
//!
//! Tenant restrictions v2 refuse with AADSTS5000211 ("A tenant restrictions policy added to
//! this request by a device or network administrator does not allow access to '<tenant>'").
//! That code names its cause by itself, so it is matched with or without the
//! `sec-Restrict-Tenant-Access-Policy` header in the capture (a proxy after the capture
//! point, or Windows itself, adds it); the header's tenant id and policy id are quoted when
//! it is there. A refusal the same flow got past later (a token for the same resource after
//! it: the user switched to an allowed account) is a warning, not an error.

use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::{AadError, Sign};
use crate::flows::{is_guid, Outcome};

/// The tenant-restriction (v1) refusal.
const CODES: &[u32] = &[500021];

/// The tenant restrictions v2 refusal (NotAllowedTenantRestrictionsV2Tenant).
const V2_CODE: u32 = 5000211;

/// The tenant restrictions v2 header.
const V2_HEADER: &str = "sec-Restrict-Tenant-Access-Policy";

pub fn check(cx: &Context) -> Vec<Finding> {
    let mut out = check_v1(cx);
    out.extend(check_v2(cx));
    out
}

fn check_v1(cx: &Context) -> Vec<Finding> {
    let mut sessions: Vec<u64> = Vec::new();
    let mut headers: Vec<String> = Vec::new();
    let mut denied: Vec<String> = Vec::new();
    for g in cx.gateway_signs() {
        let Sign::TenantRestriction { headers: sent } = &g.sign else {
            continue;
        };
        let Some(error) = cx.aad_error_at(g.session) else {
            continue;
        };
        if !error.codes.iter().any(|c| CODES.contains(c)) {
            continue;
        }
        sessions.push(g.session);
        for (name, value) in sent {
            push_new(&mut headers, format!("{name}: {value}"));
        }
        note_denied(&mut denied, error);
    }
    if sessions.is_empty() {
        return Vec::new();
    }
    let sessions = sorted(sessions);
    let tenant = tenants(&denied);
    vec![Finding {
        id: "tenant-restriction".into(),
        severity: Severity::Error,
        title: format!("Tenant restrictions deny sign-in to {tenant} (AADSTS500021)"),
        evidence: format!(
            "Entra ID answered AADSTS500021 to {} request(s) (session(s) {}) that carried \
             tenant-restriction headers: {}. The allowed list does not include {tenant}.",
            sessions.len(),
            session_list(&sessions),
            headers.join("; ")
        ),
        fix: format!(
            "If {tenant} is the organisation's own tenant (or one users must reach), add it to \
             the allowed list: tenant restrictions v1, on the proxy that inserts \
             Restrict-Access-To-Tenants (its domains or tenant ID, comma-separated, keeping \
             Restrict-Access-Context as the tenant that owns the policy); v2 \
             (sec-Restrict-Tenant-Access-Policy), in the Entra admin center of the tenant the \
             header names: External Identities > Cross-tenant access settings > the partner \
             organisation > Tenant restrictions. Otherwise the user signed in with the wrong \
             account: sign in with the work account of an allowed tenant."
        ),
        sessions,
        remedy: None,
    }]
}

/// Adds `x` to `v` unless it is there.
fn push_new<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// Notes the tenant `error`'s message denies, once.
fn note_denied(denied: &mut Vec<String>, error: &AadError) {
    if let Some(t) = error.description.as_deref().and_then(denied_tenant) {
        push_new(denied, t);
    }
}

/// The denied tenants in one phrase.
fn tenants(denied: &[String]) -> String {
    if denied.is_empty() {
        "the tenant signed in to".to_string()
    } else {
        denied.join(", ")
    }
}

/// The tenant in "Access to 'contoso.com' tenant is denied" (v1) or "... does not allow
/// access to 'fabrikam.com'." (v2): the first quoted name after "access to '", any case.
fn denied_tenant(description: &str) -> Option<String> {
    let at = description.to_ascii_lowercase().find("access to '")?;
    let rest = description.get(at + "access to '".len()..)?;
    let (tenant, _) = rest.split_once('\'')?;
    (!tenant.is_empty() && tenant.len() <= 256).then(|| tenant.to_string())
}

/// A v2 policy as the header names it: `<tenant id>:<policy id>` (two GUID-like parts).
/// Other values (`restrict-msa` on login.live.com) name no policy.
fn v2_policy(value: &str) -> Option<(String, String)> {
    let (tenant, policy) = value.trim().split_once(':')?;
    let (tenant, policy) = (tenant.trim(), policy.trim());
    (is_guid(tenant) && is_guid(policy)).then(|| (tenant.to_string(), policy.to_string()))
}

/// The v2 refusals: AADSTS5000211 on an Entra ID answer, with the v2 header's policy when
/// the capture shows it.
fn check_v2(cx: &Context) -> Vec<Finding> {
    let mut sessions: Vec<u64> = Vec::new();
    let mut denied: Vec<String> = Vec::new();
    for (session, error) in cx.aad_errors() {
        if !error.codes.contains(&V2_CODE) {
            continue;
        }
        sessions.push(session);
        note_denied(&mut denied, error);
    }
    if sessions.is_empty() {
        return Vec::new();
    }
    let sessions = sorted(sessions);
    // The policies the refused requests carried (`<tenant>:<policy>`), and any other
    // tenant-restriction header on them.
    let mut policies: Vec<(String, String)> = Vec::new();
    let mut headers: Vec<String> = Vec::new();
    let mut with_header: Vec<u64> = Vec::new();
    for g in cx.gateway_signs() {
        if sessions.binary_search(&g.session).is_err() {
            continue;
        }
        let Sign::TenantRestriction { headers: sent } = &g.sign else {
            continue;
        };
        for (name, value) in sent {
            if name.eq_ignore_ascii_case(V2_HEADER) {
                push_new(&mut with_header, g.session);
                if let Some(p) = v2_policy(value) {
                    push_new(&mut policies, p);
                    continue;
                }
            }
            push_new(&mut headers, format!("{name}: {value}"));
        }
    }
    let tenant = tenants(&denied);
    let first = sessions[0];
    let said = cx
        .aad_error_at(first)
        .and_then(|e| e.description.as_deref())
        .map(|d| format!(" Entra ID said (session {first}): \"{d}\""))
        .unwrap_or_default();
    let signal = if policies.is_empty() && with_header.is_empty() {
        format!(
            " No {V2_HEADER} header is in the capture: it was added after the capture point \
             (a proxy or firewall) or by Windows itself (the tenant restrictions device policy, \
             or the Global Secure Access client); the code alone names tenant restrictions v2."
        )
    } else if policies.is_empty() {
        format!(
            " The requests carried {V2_HEADER} (session(s) {}) without a \
             <tenant id>:<policy id> value.",
            session_list(&sorted(with_header.clone()))
        )
    } else {
        let named: Vec<String> = policies
            .iter()
            .map(|(t, p)| format!("tenant {t}, policy {p}"))
            .collect();
        format!(
            " The requests carried {V2_HEADER} (session(s) {}): the policy of {}.",
            session_list(&sorted(with_header.clone())),
            named.join("; ")
        )
    };
    let others = if headers.is_empty() {
        String::new()
    } else {
        format!(" Other tenant-restriction headers: {}.", headers.join("; "))
    };
    let recovered = recovered_at(cx, &sessions);
    let later = match recovered {
        Some(s) => format!(
            " A later sign-in for the same resource got a token (session {s}): the user went \
             on with another account, or the policy changed; the refusal stays in the capture."
        ),
        None => String::new(),
    };
    let owner = match policies.as_slice() {
        [] => "the tenant that owns the policy (its id is the first part of the \
               sec-Restrict-Tenant-Access-Policy value the device or proxy adds: the \
               organisation's own tenant)"
            .to_string(),
        [(t, p)] => format!("tenant {t} (policy {p})"),
        many => {
            let ts: Vec<&str> = many.iter().map(|(t, _)| t.as_str()).collect();
            format!("tenant(s) {}", ts.join(", "))
        }
    };
    let partner = match denied.first() {
        Some(t) if is_guid(t) => t.clone(),
        Some(t) => format!("<tenant id of {t}>"),
        None => "<external tenant id>".to_string(),
    };
    vec![Finding {
        id: "tenant-restriction".into(),
        severity: if recovered.is_some() {
            Severity::Warning
        } else {
            Severity::Error
        },
        title: format!(
            "Tenant restrictions v2 deny sign-in to {tenant} (AADSTS5000211){}",
            if recovered.is_some() {
                "; a later sign-in succeeded"
            } else {
                ""
            }
        ),
        evidence: format!(
            "Entra ID answered AADSTS5000211 (NotAllowedTenantRestrictionsV2Tenant) to {} \
             request(s) (session(s) {}).{said}{signal}{others}{later}",
            sessions.len(),
            session_list(&sessions),
        ),
        fix: format!(
            "The tenant restrictions v2 policy of {owner} does not allow {tenant}. If users \
             must reach it, an admin of the policy's tenant (not of {tenant}) allows it: Entra \
             admin center > External Identities > Cross-tenant access settings > \
             Organizational settings: add the external tenant ({tenant}), then its Tenant \
             restrictions tab: allow the users and groups and the applications needed (or \
             change the Default settings' Tenant restrictions). Check it in Microsoft Graph \
             PowerShell connected to the policy's tenant: \
             (Get-MgPolicyCrossTenantAccessPolicyPartner \
             -CrossTenantAccessPolicyConfigurationPartnerTenantId '{partner}').TenantRestrictions. \
             Otherwise the user signed in with an \
             account the policy blocks: sign in with an account of an allowed tenant."
        ),
        sessions,
        remedy: None,
    }]
}

/// The session of a token issued after every refused session, in a flow holding them (the
/// same resource): the refusal did not stop the user. `None` if any refused flow ended
/// without a token after its last refusal.
fn recovered_at(cx: &Context, sessions: &[u64]) -> Option<u64> {
    let flows: Vec<_> = cx.flows_with(sessions).collect();
    if flows.is_empty() {
        return None;
    }
    let mut last = 0;
    for f in flows {
        let refused = sessions
            .iter()
            .filter(|s| f.sessions.binary_search(s).is_ok())
            .max()
            .copied()?;
        if f.outcome != Outcome::Token || f.last_session <= refused {
            return None;
        }
        last = last.max(f.last_session);
    }
    Some(last)
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;

    const TOKEN: &str = "https://login.microsoftonline.com/common/oauth2/token";
    const ERROR: &str = r#"{"error":"invalid_request","error_description":"AADSTS500021: Access to 'fabrikam.com' tenant is denied.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[500021]}"#;

    fn token(id: u64, restricted: bool, status: u16, body: &str) -> S {
        let s = S::new(id, "POST", TOKEN, status)
            .req_header("Content-Type", "application/x-www-form-urlencoded")
            .req_body("grant_type=refresh_token&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&resource=https%3A%2F%2Foutlook.office365.com&refresh_token=SECRET")
            .resp_header("Content-Type", "application/json; charset=utf-8")
            .resp_body(body);
        if restricted {
            s.req_header(
                "Restrict-Access-To-Tenants",
                "contoso.com,contoso.onmicrosoft.com",
            )
            .req_header(
                "Restrict-Access-Context",
                "72f988bf-0000-4000-8000-0123456789ab",
            )
        } else {
            s
        }
    }

    #[test]
    fn aadsts500021_with_the_headers_names_the_tenant_and_the_list() {
        let f = run(check, vec![token(1, true, 400, ERROR)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].title.contains("fabrikam.com"), "{}", f[0].title);
        assert!(f[0]
            .evidence
            .contains("Restrict-Access-To-Tenants: contoso.com,contoso.onmicrosoft.com"));
        assert!(!f[0].evidence.contains("SECRET"));
    }

    /// Does not trigger: the headers on successful sign-ins; 500021 without the headers.
    #[test]
    fn headers_alone_or_code_alone_raise_nothing() {
        let ok = r#"{"token_type":"Bearer","expires_in":"3599","access_token":"x"}"#;
        assert!(run(check, vec![token(1, true, 200, ok)]).is_empty());
        assert!(run(check, vec![token(2, false, 400, ERROR)]).is_empty());
    }

    const V2_ERROR: &str = r#"{"error":"invalid_request","error_description":"AADSTS5000211: A tenant restrictions policy added to this request by a device or network administrator does not allow access to 'Fabrikam'.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[5000211]}"#;
    const POLICY: &str =
        "72f988bf-0000-4000-8000-0123456789ab:2f4a1b6c-9d3e-4c7a-8b5f-0e1d2c3b4a59";
    const OK: &str = r#"{"token_type":"Bearer","expires_in":"3599","access_token":"x"}"#;

    fn v2_token(id: u64, header: Option<&str>, status: u16, body: &str) -> S {
        let s = token(id, false, status, body);
        match header {
            Some(v) => s.req_header(V2_HEADER, v),
            None => s,
        }
    }

    #[test]
    fn aadsts5000211_with_the_v2_header_names_v2_the_tenant_and_the_policy() {
        let f = run(check, vec![v2_token(1, Some(POLICY), 400, V2_ERROR)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].id, "tenant-restriction");
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].title.contains("v2"), "{}", f[0].title);
        assert!(f[0].title.contains("Fabrikam"), "{}", f[0].title);
        assert!(f[0].title.contains("AADSTS5000211"), "{}", f[0].title);
        let e = &f[0].evidence;
        assert!(
            e.contains("tenant 72f988bf-0000-4000-8000-0123456789ab"),
            "{e}"
        );
        assert!(
            e.contains("policy 2f4a1b6c-9d3e-4c7a-8b5f-0e1d2c3b4a59"),
            "{e}"
        );
        assert!(!e.contains("SECRET"));
        assert!(f[0]
            .fix
            .contains("tenant 72f988bf-0000-4000-8000-0123456789ab (policy 2f4a1b6c"));
        assert!(f[0]
            .fix
            .contains("Get-MgPolicyCrossTenantAccessPolicyPartner"));
        assert!(f[0].fix.contains("<tenant id of Fabrikam>"));
        assert_eq!(f[0].sessions, vec![1]);
    }

    /// The code names tenant restrictions v2 by itself: the header is often added after
    /// the capture point (proxy) or by Windows, so its absence does not silence the rule.
    #[test]
    fn aadsts5000211_without_the_header_still_fires_and_says_where_the_header_went() {
        let f = run(
            check,
            vec![
                v2_token(1, None, 400, V2_ERROR),
                v2_token(2, None, 400, V2_ERROR),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].sessions, vec![1, 2]);
        assert!(f[0]
            .evidence
            .contains("No sec-Restrict-Tenant-Access-Policy header is in the capture"));
        assert!(f[0].fix.contains("the tenant that owns the policy"));
    }

    /// Does not trigger: the v2 header on sign-ins that succeed.
    #[test]
    fn the_v2_header_on_successful_sign_ins_raises_nothing() {
        let f = run(
            check,
            vec![
                v2_token(1, Some(POLICY), 200, OK),
                v2_token(2, Some(POLICY), 200, OK),
            ],
        );
        assert!(f.is_empty(), "{f:#?}");
    }

    /// Does not trigger: the codes inside a body that is not an Entra ID answer (an EWS
    /// error, a web page on another host), even with the header on the request.
    #[test]
    fn the_codes_outside_an_entra_id_answer_raise_nothing() {
        let ews = S::new(1, "POST", "https://outlook.office365.com/EWS/Exchange.asmx", 500)
            .req_header(V2_HEADER, POLICY)
            .resp_header("Content-Type", "text/xml; charset=utf-8")
            .resp_body("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultstring>AADSTS5000211: A tenant restrictions policy added to this request by a device or network administrator does not allow access to 'Fabrikam'. AADSTS500021: Access to 'fabrikam.com' tenant is denied.</faultstring></s:Fault></s:Body></s:Envelope>");
        let page = S::new(2, "GET", "https://intranet.contoso.com/kb/tenant-restrictions", 200)
            .resp_header("Content-Type", "text/html; charset=utf-8")
            .resp_body("<html><body><p>AADSTS5000211: A tenant restrictions policy added to this request by a device or network administrator does not allow access to 'Fabrikam'.</p></body></html>");
        let json = S::new(3, "POST", "https://api.contoso.com/token", 400)
            .resp_header("Content-Type", "application/json")
            .resp_body(V2_ERROR);
        assert!(run(check, vec![ews, page, json]).is_empty());
    }

    /// A refusal followed by a token for the same resource (the user switched to an allowed
    /// account) stays reported, as a warning: it did not stop the user.
    #[test]
    fn a_refusal_the_flow_got_past_is_a_warning() {
        let f = run(
            check,
            vec![
                v2_token(1, Some(POLICY), 400, V2_ERROR),
                v2_token(2, Some(POLICY), 200, OK),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].title.contains("a later sign-in succeeded"),
            "{}",
            f[0].title
        );
        assert!(f[0].evidence.contains("(session 2)"), "{}", f[0].evidence);
        assert_eq!(f[0].sessions, vec![1]);
    }

    /// v1 and v2 in one capture are two findings; 500021 keeps its v1 wording.
    #[test]
    fn v1_and_v2_are_reported_apart() {
        let f = run(
            check,
            vec![
                token(1, true, 400, ERROR),
                v2_token(2, Some(POLICY), 400, V2_ERROR),
            ],
        );
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f[0].title.ends_with("(AADSTS500021)"), "{}", f[0].title);
        assert_eq!(f[0].sessions, vec![1]);
        assert!(f[1].title.contains("v2"), "{}", f[1].title);
        assert_eq!(f[1].sessions, vec![2]);
    }

    #[test]
    fn v2_values_and_denied_tenants_parse_strictly() {
        assert_eq!(
            v2_policy(POLICY),
            Some((
                "72f988bf-0000-4000-8000-0123456789ab".into(),
                "2f4a1b6c-9d3e-4c7a-8b5f-0e1d2c3b4a59".into()
            ))
        );
        assert_eq!(v2_policy("restrict-msa"), None);
        assert_eq!(v2_policy("contoso.com:policy"), None);
        assert_eq!(v2_policy(":"), None);
        assert_eq!(
            denied_tenant("does not allow access to 'Fabrikam'."),
            Some("Fabrikam".into())
        );
        assert_eq!(
            denied_tenant("Access to 'fabrikam.com' tenant is denied."),
            Some("fabrikam.com".into())
        );
        assert_eq!(denied_tenant("access to '"), None);
        assert_eq!(denied_tenant("ACCESS TO 'é"), None);
    }
}
