# traceadal fix: commands for the on-premises Exchange Management Shell.
# Capture: entra-blocked.har
# Capture: entra-blocked.saz
# Capture: exchange-oauth-2000003.har
# Capture: exchange-oauth-2000003.saz
# Capture: hma-declined.har
# Capture: hma-declined.saz
# Capture: hma-ignored.har
# Capture: hma-ignored.saz
# Capture: hma-not-advertised.har
# Capture: hma-not-advertised.saz
# Capture: ioc-oauth-failure.har
# Capture: ioc-oauth-failure.saz
# Capture: kerberos-fallback-ntlm.har
# Capture: kerberos-fallback-ntlm.saz
# Capture: legacy-auth-exposed.har
# Capture: legacy-auth-exposed.saz
# Capture: ntlm-prompt-loop.har
# Capture: ntlm-prompt-loop.saz

# --- Exchange Management Shell (on-premises) ---------------------------------------
# Run on an Exchange server in the Exchange Management Shell, not in Microsoft Graph
# PowerShell. The changes are commented: they change the whole organisation. Read the
# finding's fix first, then run them without the leading '# '.
$ErrorActionPreference = 'Stop'
if (-not (Get-Command Get-OrganizationConfig -ErrorAction SilentlyContinue)) {
    throw 'Run this in the Exchange Management Shell on an Exchange server.'
}
# From finding legacy-auth-exposed:
Get-ActiveSyncVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthEnabled,WindowsAuthEnabled
Get-WebServicesVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthentication,WindowsAuthentication,OAuthAuthentication
Get-MapiVirtualDirectory | Format-List Server,ExternalUrl,IISAuthenticationMethods
Get-OabVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthentication,WindowsAuthentication,OAuthAuthentication
Get-OrganizationConfig | Format-List DefaultAuthenticationPolicy
# Exchange 2016, on the servers the Internet reaches:
# Get-ActiveSyncVirtualDirectory -Server <server> | Set-ActiveSyncVirtualDirectory -BasicAuthEnabled $false
# Get-WebServicesVirtualDirectory -Server <server> | Set-WebServicesVirtualDirectory -WindowsAuthentication $false -BasicAuthentication $false -OAuthAuthentication $true
# Get-MapiVirtualDirectory -Server <server> | Set-MapiVirtualDirectory -IISAuthenticationMethods OAuth
# Get-OabVirtualDirectory -Server <server> | Set-OabVirtualDirectory -WindowsAuthentication $false -BasicAuthentication $false -OAuthAuthentication $true
# iisreset /noforce
# Exchange 2019 CU2 or later, instead:
# New-AuthenticationPolicy -Name 'Block Legacy Auth' -BlockLegacyAuthActiveSync -BlockLegacyAuthAutodiscover -BlockLegacyAuthImap -BlockLegacyAuthMapi -BlockLegacyAuthOfflineAddressBook -BlockLegacyAuthPop -BlockLegacyAuthRpc -BlockLegacyAuthWebServices
# Set-OrganizationConfig -DefaultAuthenticationPolicy 'Block Legacy Auth'
# Exceptions per user: Set-User <user> -AuthenticationPolicy <policy>; allow 30 minutes or restart MSExchangeServiceHost.
# From finding hma-not-advertised:
Get-AuthServer | Format-List Name,Enabled,IsDefaultAuthorizationEndpoint,AuthMetadataUrl
Get-OrganizationConfig | Format-List OAuth2ClientProfileEnabled
# Set-AuthServer -Identity EvoSTS -IsDefaultAuthorizationEndpoint $true
# Set-OrganizationConfig -OAuth2ClientProfileEnabled $true
# From finding ntlm-loop:
Get-WebServicesVirtualDirectory | Format-List Server,InternalUrl,ExternalUrl,ExtendedProtectionTokenChecking,ExtendedProtectionFlags,ExtendedProtectionSPNList
Get-MapiVirtualDirectory | Format-List Server,IISAuthenticationMethods
