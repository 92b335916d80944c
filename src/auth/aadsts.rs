//! The catalog of AADSTS codes an Exchange/identity engineer meets.
//!
//! Summaries and advice are written for the analyst reading an Outlook/Exchange hybrid trace.
//! Microsoft's list (<https://login.microsoftonline.com/error?code=NNN>) stays the reference:
//! codes and wording change over time.

use serde::Serialize;

/// How a code should be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// A failure that needs a fix.
    Error,
    /// Part of a normal flow (interaction required on a silent call, MFA step-up).
    Normal,
    /// Depends on context.
    Warning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CodeInfo {
    pub code: u32,
    /// The error's short name (`InvalidResourceServicePrincipalNotFound`).
    pub name: &'static str,
    /// One line: what it means.
    pub summary: &'static str,
    pub nature: Nature,
    /// What to do.
    pub advice: &'static str,
}

/// Codes that mean "resource principal not found": Entra ID has no service principal whose
/// names match the resource asked for (AADSTS500011; legacy ADAL endpoints answer 50001).
pub const NOT_FOUND_CODES: &[u32] = &[500011, 50001];

/// The catalog in code order, as `explain all` lists it.
pub fn sorted() -> Vec<&'static CodeInfo> {
    let mut all: Vec<&CodeInfo> = CATALOG.iter().collect();
    all.sort_by_key(|c| c.code);
    all
}

pub fn lookup(code: u32) -> Option<&'static CodeInfo> {
    CATALOG.iter().find(|c| c.code == code)
}

/// A code as people write it: `AADSTS500011`, `aadsts500011`, `500011` (surrounding spaces
/// and a trailing `:` are tolerated). `None` for anything else, including `0`.
pub fn parse_code(s: &str) -> Option<u32> {
    let s = s.trim();
    let s = s.strip_suffix(':').unwrap_or(s).trim_end();
    let digits = match s.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("AADSTS") => &s[6..],
        _ => s,
    };
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&c| c != 0)
}

/// Wording shared by the codes whose fix is the Exchange Online SPN.
const SPN_FIX: &str =
    "If the resource is an on-premises Exchange URL (autodiscover, EWS, MAPI, OAB, \
ActiveSync), add it as https://<host>/ to the ServicePrincipalNames of Office 365 Exchange Online \
(AppId 00000002-0000-0ff1-ce00-000000000000): Get-MgServicePrincipal -Filter \"AppId eq \
'00000002-0000-0ff1-ce00-000000000000'\", append the name, Update-MgServicePrincipal. Otherwise \
check the resource the client asked for and that the request went to the right tenant.";

const fn e(
    code: u32,
    name: &'static str,
    nature: Nature,
    summary: &'static str,
    advice: &'static str,
) -> CodeInfo {
    CodeInfo {
        code,
        name,
        summary,
        nature,
        advice,
    }
}

use Nature::{Error, Normal, Warning};

/// By code, then the codes added later at the end (see [`sorted`]).
pub static CATALOG: &[CodeInfo] = &[
    e(16000, "InteractionRequired", Warning,
      "The account picked is not a member or guest of the tenant the app signs in to.",
      "Sign in with an account of that tenant, or invite the user as a guest; check the tenant in the authority URL."),
    e(50000, "TokenIssuanceError", Error,
      "Entra had an internal problem issuing the token.",
      "Retry; if it persists, open a Microsoft support case with the trace id, correlation id and timestamp."),
    e(50001, "InvalidResource", Error,
      "The resource asked for is disabled or not found in the tenant (older wording of 500011: \"The application named X was not found in the tenant named Y\").",
      SPN_FIX),
    e(50005, "DevicePolicyError", Error,
      "The device platform is not supported by the Conditional Access policy that applies.",
      "Check the platform conditions of the Conditional Access policies in the sign-in log; use a supported platform."),
    e(50011, "InvalidReplyTo", Error,
      "The redirect URI sent does not match any reply address registered for the application.",
      "Register the exact redirect_uri the client sends on the app registration (Authentication blade)."),
    e(50012, "AuthenticationFailed", Error,
      "Authentication failed: certificate, client assertion or trust policy did not validate.",
      "Check the client's signing certificate, its chain and the assertion's signature; see the description for the exact reason."),
    e(50013, "InvalidAssertion", Error,
      "An assertion (jwt-bearer / on-behalf-of token) is invalid: wrong issuer, expired or malformed.",
      "Get a fresh token for the assertion; check that its issuer and audience match what the flow expects."),
    e(50020, "UserUnauthorized", Error,
      "The account comes from an identity provider or tenant that has no access to this tenant.",
      "Sign in with an account of the resource tenant or invite the user as a B2B guest; check the tenant in the authority URL."),
    e(50034, "UserAccountNotFound", Error,
      "The account does not exist in the tenant the request went to.",
      "Check the user name typed (login_hint); for hybrid users check that the on-premises account is synchronised and its UPN matches."),
    e(50053, "IdsLocked", Error,
      "The account is locked by smart lockout after bad passwords, or sign-in came from an IP with malicious activity.",
      "Read the failure reason in the Entra sign-in log; find devices or apps still retrying an old password; unblock after the lockout period."),
    e(50055, "InvalidPasswordExpiredPassword", Error,
      "The user's password has expired.",
      "Have the user change the password (or an admin reset it); with password hash sync, check the on-premises expiry."),
    e(50056, "InvalidOrNullPassword (name not published)", Warning,
      "No password is known for this user in Entra, or an empty password was sent.",
      "The user should enter the password again; for synchronised users check that password hash sync or pass-through auth covers them."),
    e(50057, "UserDisabled", Error,
      "The user account is disabled.",
      "Enable the account in Active Directory (then let it synchronise) or in Entra ID for cloud accounts."),
    e(50058, "UserInformationNotProvided", Normal,
      "A silent request (prompt=none) found no usable sign-in session; the client must ask the user.",
      "Normal on a silent call: the client should follow with an interactive prompt. A problem only if no prompt follows and the same request repeats."),
    e(50059, "MissingTenantRealmAndNoUserInformationProvided", Warning,
      "Entra could not tell which tenant the request is for (no tenant in the path, no hint, no credential).",
      "Usually followed by an interactive sign-in; if it repeats, send login_hint or use a tenant-specific authority."),
    e(50064, "CredentialAuthenticationError", Error,
      "Validation of the user name or password failed.",
      "Check the credentials and, for federated or pass-through users, the on-premises side of the validation."),
    e(50072, "UserStrongAuthEnrollmentRequiredInterrupt", Normal,
      "The user must register for multi-factor authentication before continuing (interactive interrupt).",
      "Expected for users not yet registered: let them complete the registration; not an Exchange problem."),
    e(50074, "UserStrongAuthClientAuthNRequiredInterrupt", Normal,
      "Strong authentication is required and was not completed in this step.",
      "Part of the MFA flow: the user completes the second factor interactively. A problem only if it never succeeds."),
    e(50076, "UserStrongAuthClientAuthNRequired", Normal,
      "MFA is required (Conditional Access, per-user MFA, new location); a silent or refresh request must become interactive.",
      "Expected step-up: the client must prompt. If Outlook never prompts, check that modern auth/WAM is enabled on the client; do not apply the SPN fix for this code."),
    e(50078, "UserStrongAuthExpired", Warning,
      "The MFA the user presented earlier has expired under the tenant's policy.",
      "The user repeats MFA; review sign-in frequency settings if this happens too often."),
    e(50079, "UserStrongAuthEnrollmentRequired", Warning,
      "Policy requires MFA: the user must register security info, or a federated IdP must supply the MFA claim.",
      "Have the user register at https://aka.ms/mysecurityinfo; for federated domains check that the IdP sends the MFA claim (federatedIdpMfaBehavior)."),
    e(50089, "FlowTokenExpired (name not published)", Warning,
      "The sign-in page waited too long; its flow token expired.",
      "The user starts the sign-in again; expected when a sign-in window is left open."),
    e(50097, "DeviceAuthenticationRequired", Normal,
      "Device authentication is required (device-based Conditional Access); the client must prove the device (PKeyAuth).",
      "Expected once per flow. If it repeats, check the device registration (dsregcmd /status) and that the client sends x-ms-PKeyAuth."),
    e(50105, "EntitlementGrantsNotFound", Error,
      "The user is not assigned to the application, and the application requires assignment.",
      "Assign the user or a group to the enterprise application, or turn off 'Assignment required'."),
    e(50107, "InvalidRealmUri", Error,
      "The requested federation realm object does not exist.",
      "Check the domain federation settings (issuer URI) on the tenant and on the federation server."),
    e(50125, "PasswordResetRegistrationRequiredInterrupt", Normal,
      "Sign-in was interrupted for a password reset or security info registration.",
      "Let the user complete the registration or reset; expected for new users."),
    e(50126, "InvalidUserNameOrPassword", Error,
      "The user name or password is wrong.",
      "The user re-enters the credentials; many in a row from one client usually mean a stored old password."),
    e(50128, "InvalidDomainName", Error,
      "No tenant was found for the domain in the request or the user name.",
      "Check the UPN suffix is a verified domain of the tenant and that the user typed the right address."),
    e(50129, "DeviceIsNotWorkplaceJoined", Error,
      "The device must be workplace-joined (registered) to continue.",
      "Register the device with Entra ID (Work or school account / hybrid join)."),
    e(50131, "ConditionalAccessFailed", Error,
      "A Conditional Access check failed (device state, suspicious activity, access or security policy).",
      "Open the sign-in log entry with the correlation id and read which policy failed and why."),
    e(50132, "SsoArtifactInvalidOrExpired", Warning,
      "The SSO session is no longer valid (password expired or recently changed).",
      "The user signs in again; expected after a password change."),
    e(50133, "SsoArtifactRevoked", Warning,
      "The SSO session was revoked (password expired or recently changed).",
      "The user signs in again; expected after a password change or a session revocation."),
    e(50140, "KmsiInterrupt", Normal,
      "The 'Stay signed in?' prompt interrupted the sign-in.",
      "Normal part of the browser sign-in; nothing to fix."),
    e(50143, "SessionMismatch", Warning,
      "The session's user tenant does not match the domain hint for another resource.",
      "Sign out and in with the intended account; if it persists, open a support case with the correlation id."),
    e(50144, "InvalidPasswordExpiredOnPremPassword", Error,
      "The user's Active Directory password has expired.",
      "Have the user change the password on-premises (or reset it); self-service reset with writeback if enabled."),
    e(50155, "DeviceAuthenticationFailed", Error,
      "Device authentication failed for this user.",
      "Check the device object in Entra ID (enabled, registered, not stale) and re-register the device if needed."),
    e(50158, "ExternalSecurityChallenge", Warning,
      "An external security challenge (custom control, third-party MFA, federated IdP) was not satisfied.",
      "Have the user complete the external challenge; check the custom control or IdP if it never succeeds."),
    e(50173, "FreshTokenNeeded", Warning,
      "The grant was revoked (password change or reset, admin or user revocation): refresh tokens no longer work.",
      "The user signs in again interactively; expected after a password change."),
    e(50187, "DeviceInformationNotProvided", Warning,
      "The service could not perform device authentication: the client sent no device information.",
      "Check that the client supports device authentication (WAM/PKeyAuth) and that the device is registered."),
    e(50194, "MultitenantNotAllowedOnCommon (name not published)", Error,
      "A single-tenant application used the /common endpoint.",
      "Use a tenant-specific authority, or make the application multi-tenant."),
    e(50196, "LoopDetected", Error,
      "Entra saw the client request the same token over and over in a short time and stopped it.",
      "Find the error that drives the loop (in an Outlook/Exchange trace usually 500011 or 50001 just before) and fix that; then restart the client."),
    e(50199, "CmsiInterrupt", Normal,
      "For security, the user is asked to confirm the app they are signing in to (custom-scheme redirect from a webview).",
      "Expected; the user confirms. Nothing to fix on Exchange."),
    e(51004, "UserAccountNotInDirectory", Error,
      "The account does not exist in the directory the request went to.",
      "Check the tenant in the authority URL and the user name; add the user as a guest if they should have access."),
    e(52004, "DelegationDoesNotExistForLinkedIn", Warning,
      "The user has not consented to LinkedIn access.",
      "Only matters for LinkedIn integration; the user consents or the feature is disabled. Unrelated to Exchange."),
    e(53000, "DeviceNotCompliant", Error,
      "Conditional Access requires a compliant device and this one is not.",
      "Enrol the device in Intune (or the approved MDM) and make it compliant; check the device in the sign-in log."),
    e(53001, "DeviceNotDomainJoined", Error,
      "Conditional Access requires a (hybrid) domain-joined device and this one is not.",
      "Use a hybrid-joined device; check dsregcmd /status (AzureAdJoined/DomainJoined) on the client."),
    e(53002, "ApplicationUsedIsNotAnApprovedApp", Error,
      "Conditional Access requires an approved client app and this app is not one.",
      "Use an approved app (for mobile mail: Outlook Mobile) or adjust the policy."),
    e(53003, "BlockedByConditionalAccess", Error,
      "A Conditional Access policy blocked the token.",
      "Open the sign-in log entry with the correlation id to see which policy blocked it; do not apply the SPN fix for this code."),
    e(53004, "ProofUpBlockedDueToRisk", Error,
      "The user must complete multifactor authentication registration before accessing this content (the name says registration is blocked because of risk).",
      "An admin reviews the user's risk (Identity Protection), remediates it, then the user registers."),
    e(53011, "UserBlockedDueToRiskOnHomeTenant (name not published)", Error,
      "The user is blocked because of risk detected in their home tenant.",
      "The home tenant's admin remediates the user risk."),
    e(54005, "AuthorizationCodeAlreadyRedeemed (name not published)", Warning,
      "The authorization code was already redeemed.",
      "The client retried a code; it must use a new code or its refresh token. Repeats point at a client bug."),
    e(65001, "DelegationDoesNotExist", Warning,
      "The user or an admin has not consented to the application for this resource.",
      "On a silent call the client should ask interactively; otherwise grant consent (admin consent for the tenant)."),
    e(65002, "ConsentRequiredForFirstPartyApp (name not published)", Error,
      "Consent between a Microsoft first-party app and resource must be preauthorised by Microsoft.",
      "Someone is reusing a Microsoft app id to call another API; register an own application instead."),
    e(65004, "UserDeclinedConsent", Warning,
      "The user declined to consent to the application.",
      "The user retries and consents, or an admin grants consent for the tenant."),
    e(70000, "InvalidGrant", Warning,
      "The grant (refresh token, code) is not valid: expired, revoked or for another scope.",
      "The client must sign in again; repeats right after a fresh sign-in point at token binding or clock problems."),
    e(70001, "UnauthorizedClient", Error,
      "The application is disabled or not available in the tenant.",
      "Check the enterprise application (enabled for sign-in) and the client id used."),
    e(70002, "InvalidClient", Error,
      "Client credentials did not validate (wrong secret, or credentials sent by a public client).",
      "Fix the client's secret or certificate; a public client must not send one."),
    e(70008, "ExpiredOrRevokedGrant", Warning,
      "The refresh token or code expired (inactivity) or was revoked.",
      "The user signs in again; expected after long inactivity."),
    e(70011, "InvalidScope", Error,
      "The scope requested is not valid.",
      "Check the scope/resource the client sends (v2: https://host/.default); for custom apps fix the requested permissions."),
    e(70016, "AuthorizationPending", Normal,
      "Device code flow: the user has not finished signing in yet; the client keeps polling.",
      "Normal while the user completes the device code sign-in."),
    e(70043, "BadTokenDueToSignInFrequency", Warning,
      "The refresh token is no longer valid because of a Conditional Access sign-in frequency check.",
      "The user signs in again; review the sign-in frequency session control if prompts are too frequent."),
    e(70046, "ReauthenticationRequired (name not published)", Warning,
      "Not in Microsoft's public list; seen when a Conditional Access re-authentication check invalidates the session or refresh token.",
      "The user signs in again interactively; check sign-in frequency / 'every time' session controls in the sign-in log."),
    e(75011, "NoMatchedAuthnContextInOutputClaims", Error,
      "The way the user authenticated does not match the authentication method the (SAML) application asked for.",
      "Remove or widen RequestedAuthnContext in the application's request, or sign in with the method it requires."),
    e(75016, "Saml2AuthenticationRequestInvalidNameIDPolicy", Error,
      "The SAML authentication request carries a NameIDPolicy Entra cannot satisfy.",
      "Change the application's NameIDPolicy format (or unspecified) or configure the matching NameID claim."),
    e(80001, "OnPremiseStoreIsNotAvailable", Error,
      "Pass-through authentication: the agent cannot reach Active Directory.",
      "Check the authentication agents' connectivity to domain controllers of the users' forest."),
    e(80002, "OnPremisePasswordValidatorRequestTimedout", Error,
      "Pass-through authentication: password validation timed out.",
      "Check that Active Directory answers the agents quickly; check agent health in the Entra admin center."),
    e(80005, "OnPremisePasswordValidatorUnpredictableWebException", Error,
      "Pass-through authentication: unknown error handling the agent's answer.",
      "Retry; if it persists, check the agent logs and open a support case."),
    e(80007, "OnPremisePasswordValidatorErrorOccurredOnPrem", Error,
      "Pass-through authentication: the agent could not validate the password.",
      "Read the authentication agent's logs and check Active Directory health."),
    e(80012, "OnPremisePasswordValidationAccountLogonInvalidHours", Error,
      "The user signed in outside the logon hours set in Active Directory.",
      "Adjust the user's logon hours in AD or sign in within them."),
    e(81001, "DesktopSso (Kerberos ticket too large)", Warning,
      "Seamless SSO failed: the user's Kerberos ticket is too large (too many group memberships); the user is prompted instead.",
      "Reduce the user's group memberships; Entra ID accepts request headers up to about 50 KB including cookies."),
    e(81004, "DesktopSsoIdentityInTicketIsNotAuthenticated", Warning,
      "Seamless SSO: the Kerberos authentication attempt failed; the user is prompted instead.",
      "Check the AZUREADSSOACC computer account exists in the user's forest and roll its Kerberos decryption key over (Update-AzureADSSOForest)."),
    e(81009, "DesktopSsoAuthorizationHeaderValueWithBadFormat", Warning,
      "Seamless SSO: the user's Kerberos ticket could not be validated.",
      "Check the client sent Kerberos (not NTLM) for autologon.microsoftazuread-sso.com, and roll the AZUREADSSOACC key over if many users fail."),
    e(81010, "DesktopSsoAuthTokenInvalid", Warning,
      "Seamless SSO failed: the user's Kerberos ticket expired or is invalid; the user is prompted instead.",
      "Usually harmless (falls back to a prompt); if frequent, check the AZUREADSSOACC computer account key rollover and Kerberos."),
    e(81011, "DesktopSsoLookupUserBySidFailed", Error,
      "Seamless SSO: no user object matches the information in the user's Kerberos ticket.",
      "Synchronise the user with Microsoft Entra Connect (check the user is in scope and not in error)."),
    e(81012, "DesktopSsoMismatchBetweenTokenUpnAndChosenUpn", Warning,
      "Seamless SSO: the user signing in is not the user logged on to the device.",
      "Expected when another account is used; otherwise check the UPN of the Windows logon against the Entra UPN."),
    e(90002, "InvalidTenantName", Error,
      "The tenant in the request was not found.",
      "Check the tenant segment of the authority (domain or GUID); a wrong cloud (public vs. sovereign) also causes it."),
    e(90014, "MissingRequiredField", Error,
      "A field the request or credential must carry is missing.",
      "See which field the description names; fix the client or the federation server sending the request."),
    e(90019, "MissingTenantRealm", Error,
      "Entra could not determine the tenant from the request.",
      "Use a tenant-specific authority or send a user name with a verified domain."),
    e(90033, "MsodsServiceUnavailable", Warning,
      "The directory service was temporarily unavailable.",
      "Transient: retry later; check the Microsoft 365 service health if it persists."),
    e(90038, "NationalCloudTenantRedirection", Error,
      "The tenant belongs to another (national) cloud than the authority used.",
      "Use that cloud's authority host (login.microsoftonline.us, login.partner.microsoftonline.cn, ...)."),
    e(90072, "PassThroughUserMfaError", Error,
      "The account signing in does not exist in the tenant signed into, so it cannot satisfy that tenant's MFA (or the synced user's ImmutableId does not match).",
      "Add the account as a guest, sign in with a home account, or fix the sourceAnchor/ImmutableId mismatch."),
    e(90094, "AdminConsentRequired", Error,
      "Administrator consent is required for the permissions requested.",
      "An admin grants tenant-wide consent to the application."),
    e(90095, "AdminConsentRequiredRequestAccess", Warning,
      "Admin consent workflow: the user is told to ask an administrator for consent.",
      "The user submits the request; an admin approves it in the admin consent requests."),
    e(135011, "DeviceDisabled (name not published)", Error,
      "The device used for the sign-in is disabled in Entra ID.",
      "Enable the device object in Entra ID, or re-register the device."),
    e(500011, "InvalidResourceServicePrincipalNotFound", Error,
      "No service principal in the tenant carries the name of the resource the client asked for.",
      SPN_FIX),
    e(500014, "InvalidResourceServicePrincipalDisabled (not in the published list)", Error,
      "The resource's service principal exists but is disabled (often a lapsed subscription or an admin disabling it).",
      "Check the tenant's subscriptions; re-enable the service principal (Update-MgServicePrincipal -AccountEnabled:$true) if it was disabled by hand."),
    e(500021, "TenantRestrictionsAccessDenied (name not published)", Error,
      "Tenant restrictions (a proxy adding Restrict-Access-To-Tenant) do not allow this tenant.",
      "Add the tenant to the proxy's allowed tenants, or sign in to an allowed tenant."),
    e(500113, "NoReplyAddressRegistered (not in the published list)", Error,
      "No reply address is registered for the application.",
      "Add the redirect URI to the app registration."),
    e(500121, "StrongAuthenticationFailed (not in the published list)", Warning,
      "Authentication failed during the strong authentication (MFA) request: not completed, denied or timed out.",
      "The user retries MFA; many in a row without the user's action can mean MFA fatigue attempts."),
    e(500133, "AssertionNotInValidTimeRange (name not published)", Error,
      "The assertion (on-behalf-of / jwt-bearer token) is outside its validity: expired, or the clock is skewed.",
      "Refresh the token used as assertion before it expires; check the client's clock."),
    e(530003, "DeviceManagementRequired (name not published)", Error,
      "Conditional Access requires a managed device to access this resource.",
      "Enrol or register the device (Intune, Company Portal / Authenticator as broker) and retry."),
    e(530032, "BlockedByConditionalAccessOnSecurityPolicy", Error,
      "A tenant-level security policy blocked the request.",
      "Review the tenant's security policies in the sign-in log entry for the correlation id."),
    e(530035, "BlockedBySecurityDefaults", Error,
      "Security defaults blocked the request (legacy authentication or a request deemed unsafe).",
      "Use modern authentication; security defaults block legacy protocols by design."),
    e(650056, "MisconfiguredApplication", Error,
      "The client app does not list permissions for the resource, or consent is missing.",
      "Add the resource's permissions to the client's app registration and grant consent."),
    e(650057, "InvalidResourceNotInRequiredPermissions (name not published)", Error,
      "The client asked for a resource that is not in its registered permissions.",
      "Add the resource to the client's API permissions and consent; check the resource value sent."),
    e(700016, "UnauthorizedClient_DoesNotMatchRequest", Error,
      "The client application id was not found in the tenant.",
      "Check the client_id and the tenant in the authority; a third-party app needs to be consented to in this tenant first."),
    e(700054, "IdTokenResponseTypeNotEnabled (name not published)", Error,
      "The app asked for an id_token from the authorize endpoint but implicit ID tokens are not enabled.",
      "Enable ID tokens under Implicit grant in the app registration, or use the authorization code flow."),
    e(700082, "ExpiredOrRevokedGrantInactiveToken", Warning,
      "The refresh token expired after a long inactivity.",
      "The user signs in again; expected for a client unused for a long time."),
    e(900144, "MissingRequiredParameter (name not published)", Error,
      "The request body lacks a required parameter.",
      "The description names the parameter; fix the client request."),
    e(1000031, "ApplicationCannotBeAccessed (name not published)", Error,
      "The application cannot be accessed at this time.",
      "Contact the tenant admin: the application is blocked or unavailable for this user or tenant."),
    e(7000112, "UnauthorizedClientApplicationDisabled", Error,
      "The client application is disabled.",
      "Enable the application (enterprise application 'Enabled for users to sign in') or use another client."),
    e(7000215, "InvalidClientSecretProvided (name not published)", Error,
      "The client secret sent is invalid (often the secret's id sent instead of its value).",
      "Send the secret's value, not its id; create a new secret if the value is lost."),
    e(7000218, "ClientAssertionOrSecretRequired (name not published)", Error,
      "The request needs client_assertion or client_secret: the app is confidential or public client flows are off.",
      "For a public client (device code, ROPC), enable 'Allow public client flows' on the app registration; otherwise send the credential."),
    e(7000222, "InvalidClientSecretExpiredKeysProvided", Error,
      "The client secret has expired.",
      "Create a new secret (or better, a certificate credential) and update the client."),
    e(9002313, "InvalidRequest", Error,
      "The request is malformed or invalid.",
      "Compare the request in the trace with the protocol (parameters, encoding, endpoint); the description may say which part."),
    // Added for issue 24 (not in code order: entries are appended so that parallel
    // additions merge; `lookup` and `explain all` do not depend on the order).
    e(50008, "InvalidSamlToken", Error,
      "The SAML assertion from the federation server is missing or misconfigured in the token.",
      "Check the federation server's answer in the trace (the SAML response posted to login.microsoftonline.com): issuer, NameID/ImmutableID claims, signing certificate; on AD FS check the Microsoft Office 365 Identity Platform relying party trust and its claim rules, or contact the federation provider."),
    e(65005, "MisconfiguredApplication", Error,
      "The app's required resource access list has no app the resource can discover, or the client asked for a resource not in that list (for a SAML app: a wrong Identifier/Entity ID).",
      "Add the resource to the client's API permissions (or fix the resource value it sends) and grant consent; for a SAML app compare the Identifier (Entity ID) configured with what the app sends."),
    e(50135, "PasswordChangeCompromisedPassword", Warning,
      "A password change is required because of account risk.",
      "The user changes the password (self-service reset); an admin reviews the user's risk in Identity Protection. Not an Exchange problem."),
    e(50142, "PasswordChangeRequiredConditionalAccess (not in the current published list)", Warning,
      "A password change is required by a Conditional Access policy (risk-based password change).",
      "The user changes the password interactively (self-service reset with writeback for synchronised users); see the policy in the sign-in log entry."),
    e(50180, "WindowsIntegratedAuthMissing", Error,
      "Integrated Windows authentication is needed: the tenant is not enabled for Seamless SSO.",
      "Enable Seamless SSO in Microsoft Entra Connect (or use a flow that does not need Windows integrated authentication); check that autologon.microsoftazuread-sso.com is in the client's Local intranet zone."),
    e(16001, "UserAccountSelectionInvalid", Warning,
      "The user picked an account tile the session selection logic rejected; the user can pick from an updated list or another account.",
      "The user picks the account again or signs in with another one; if it repeats, clear the browser's or broker's cached accounts (a code defect or race condition per Microsoft)."),
    e(16002, "AppSessionSelectionInvalid", Warning,
      "The session (SID) the application asked for was not met.",
      "The app asked for a sign-in session that is not there (sid / login_hint of another account): sign in again; if it repeats, the client keeps a stale session hint."),
    // Tenant restrictions v2 (the `tenant-restriction` rule reports it).
    e(5000211, "NotAllowedTenantRestrictionsV2Tenant", Error,
      "A tenant restrictions v2 policy added to the request by a device or network administrator (sec-Restrict-Tenant-Access-Policy) does not allow access to this tenant.",
      "An admin of the tenant that owns the policy (the tenant id in the header) allows the external tenant in its cross-tenant access settings (Organizational settings > the tenant > Tenant restrictions), or the user signs in with an account of an allowed tenant."),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code the issues require.
    const REQUIRED: &[u32] = &[
        50001, 500011, 500014, 50020, 50034, 50053, 50055, 50056, 50057, 50058, 50059, 50064,
        50072, 50074, 50076, 50079, 50097, 50105, 50126, 50128, 50131, 50132, 50133, 50140, 50143,
        50144, 50158, 50173, 50196, 50199, 51004, 52004, 53000, 53001, 53002, 53003, 53004, 53011,
        54005, 65001, 65004, 70000, 70001, 70002, 70008, 70011, 70016, 70043, 700016, 700082,
        7000112, 7000215, 7000218, 7000222, 75011, 75016, 80001, 80002, 80005, 80007, 80012, 81010,
        81012, 90002, 90014, 90033, 90072, 90094, 90095, 135011, 1000031, 500021, 500113, 500133,
        530003, 530032, 700054, 70046, 50008, 65005, 50135, 50142, 50180, 16001, 16002,
    ];

    #[test]
    fn every_required_code_is_present() {
        let missing: Vec<u32> = REQUIRED
            .iter()
            .copied()
            .filter(|c| lookup(*c).is_none())
            .collect();
        assert_eq!(missing, Vec::<u32>::new());
        assert!(CATALOG.len() >= 75, "catalog has {}", CATALOG.len());
    }

    /// Codes are unique (entries are appended, not kept in order: see the catalog).
    #[test]
    fn catalog_is_unique_and_complete() {
        let mut codes: Vec<u32> = CATALOG.iter().map(|c| c.code).collect();
        codes.sort_unstable();
        for pair in codes.windows(2) {
            assert!(pair[0] < pair[1], "{} listed twice", pair[0]);
        }
        for c in CATALOG {
            assert!(!c.name.is_empty(), "{} has no name", c.code);
            assert!(!c.summary.is_empty(), "{} has no summary", c.code);
            assert!(!c.advice.is_empty(), "{} has no advice", c.code);
            assert!(
                !c.summary.contains('\n'),
                "{} summary is not one line",
                c.code
            );
        }
    }

    #[test]
    fn natures_follow_the_flow() {
        assert_eq!(lookup(500011).map(|c| c.nature), Some(Nature::Error));
        assert_eq!(lookup(50001).map(|c| c.nature), Some(Nature::Error));
        assert_eq!(lookup(50058).map(|c| c.nature), Some(Nature::Normal));
        assert_eq!(lookup(50076).map(|c| c.nature), Some(Nature::Normal));
        assert_eq!(lookup(50079).map(|c| c.nature), Some(Nature::Warning));
        assert_eq!(lookup(65001).map(|c| c.nature), Some(Nature::Warning));
        assert_eq!(lookup(53003).map(|c| c.nature), Some(Nature::Error));
        let spn = lookup(500011).map(|c| c.advice).unwrap_or("");
        assert!(spn.contains("00000002-0000-0ff1-ce00-000000000000"));
        assert!(spn.contains("Update-MgServicePrincipal"));
        assert_eq!(
            lookup(500011).map(|c| c.name),
            Some("InvalidResourceServicePrincipalNotFound")
        );
        assert!(lookup(12345).is_none());
    }

    #[test]
    fn parse_code_accepts_the_usual_spellings() {
        assert_eq!(parse_code("AADSTS500011"), Some(500011));
        assert_eq!(parse_code("aadsts500011"), Some(500011));
        assert_eq!(parse_code("500011"), Some(500011));
        assert_eq!(parse_code("  AADSTS50058: "), Some(50058));
        assert_eq!(parse_code("AADSTS"), None);
        assert_eq!(parse_code("AADSTS-1"), None);
        assert_eq!(parse_code("50 058"), None);
        assert_eq!(parse_code("0"), None);
        assert_eq!(parse_code("1234567890"), None);
        assert_eq!(parse_code(""), None);
        assert_eq!(parse_code("é"), None);
    }
}
