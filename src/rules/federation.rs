//! What the federation rules share: the realm answers' domains and IdP hosts, and the fix
//! wording for a domain's federation settings (Microsoft Graph PowerShell, with ADFS's side).

use super::Context;
use crate::auth::federation::{FederationEvent, Namespace, RealmAnswer};

/// Every realm discovery answer of the capture.
pub fn realms<'a>(cx: &Context<'a>) -> Vec<&'a RealmAnswer> {
    cx.federation()
        .filter_map(|f| match f {
            FederationEvent::Realm(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The federated domains realm discovery named (the answer's domain, else the login's).
pub fn federated_domains(cx: &Context) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in realms(cx) {
        if r.namespace != Namespace::Federated {
            continue;
        }
        if let Some(d) = r.domain.clone().or_else(|| r.login_domain.clone()) {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

/// The IdP hosts realm discovery pointed at (`AuthURL`, the WS-Trust URL).
pub fn idp_hosts(cx: &Context) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in realms(cx) {
        for h in [&r.auth_host, &r.active_auth_host].into_iter().flatten() {
            if !out.contains(h) {
                out.push(h.clone());
            }
        }
    }
    out
}

/// `contoso.com` or `<domain>`: the domain a fix names.
pub fn domain_or_placeholder(domains: &[String]) -> String {
    match domains {
        [one] => one.clone(),
        _ => "<domain>".to_string(),
    }
}

/// How to compare a federated domain's settings in Entra ID with the IdP's, and correct them.
pub fn domain_fix(domain: &str) -> String {
    format!(
        "Compare the two sides of the trust. Microsoft Graph PowerShell (Connect-MgGraph -Scopes \
Domain.Read.All): Get-MgDomainFederationConfiguration -DomainId {domain} | Format-List \
IssuerUri, PassiveSignInUri, ActiveSignInUri, SigningCertificate, NextSigningCertificate, \
FederatedIdpMfaBehavior. AD FS (PowerShell on the primary AD FS server): (Get-AdfsProperties).Identifier \
is the issuer it sends (with several top-level domains federated with -SupportMultipleDomain, the \
issuer is http://<user's domain>/adfs/services/trust/ from the Office 365 relying party's issuer \
claim rule); Get-AdfsCertificate -CertificateType Token-Signing lists the signing certificates \
with their Thumbprint, NotAfter and IsPrimary. The thumbprint of the SAML response's certificate must \
be the primary token-signing certificate's, and Entra's SigningCertificate (base64) must be that \
certificate. To correct Entra's side (Connect-MgGraph -Scopes Domain.ReadWrite.All): \
$fed = Get-MgDomainFederationConfiguration -DomainId {domain}; \
Update-MgDomainFederationConfiguration -DomainId {domain} -InternalDomainFederationId $fed.Id \
-IssuerUri '<issuer the IdP sends>' -SigningCertificate '<base64 of the token-signing \
certificate>'. With Microsoft Entra Connect managing the AD FS farm, use its task \"Manage \
federation\" > \"Reset Microsoft Entra ID trust\" instead. Legacy alternative (MSOnline module, \
deprecated and retired; only where it still runs): Update-MsolFederatedDomain -DomainName {domain} \
[-SupportMultipleDomain]."
    )
}
