//! `tenant-restriction`: tenant restrictions (headers a proxy or the device adds to
//! requests to Entra ID) refused the sign-in: AADSTS500021.
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

use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::Sign;

/// The tenant-restriction refusal.
const CODES: &[u32] = &[500021];

pub fn check(cx: &Context) -> Vec<Finding> {
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
            let line = format!("{name}: {value}");
            if !headers.contains(&line) {
                headers.push(line);
            }
        }
        if let Some(t) = error.description.as_deref().and_then(denied_tenant) {
            if !denied.contains(&t) {
                denied.push(t);
            }
        }
    }
    if sessions.is_empty() {
        return Vec::new();
    }
    let sessions = sorted(sessions);
    let tenant = if denied.is_empty() {
        "the tenant signed in to".to_string()
    } else {
        denied.join(", ")
    };
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

/// The tenant in "Access to 'contoso.com' tenant is denied".
fn denied_tenant(description: &str) -> Option<String> {
    let rest = description.split_once("Access to '")?.1;
    let (tenant, _) = rest.split_once('\'')?;
    (!tenant.is_empty() && tenant.len() <= 256).then(|| tenant.to_string())
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
}
