# traceadal fix: add the missing service principal names to Office 365 Exchange Online
# (AppId 00000002-0000-0ff1-ce00-000000000000).
# Capture: adal-50001-legacy.har
# Capture: adal-50001-legacy.saz
# Capture: adal-500011-json.har
# Capture: adal-500011-json.saz
# Capture: adal-500011-redirect.har
# Capture: adal-500011-redirect.saz
# Capture: adal-500011-signin-page.har
# Capture: adal-500011-signin-page.saz
# Capture: adal-windows-net-tenant-guid.har
# Capture: adal-windows-net-tenant-guid.saz
# Capture: autodiscover-spn-predicted.har
# Capture: autodiscover-spn-predicted.saz
# Capture: autodiscover-wrong-side.har
# Capture: autodiscover-wrong-side.saz
# Capture: buried-in-noise.har
# Capture: buried-in-noise.saz
# Capture: http-resource.har
# Capture: http-resource.saz
# Capture: legacy-split-namespace.har
# Capture: legacy-split-namespace.saz
# Capture: mfa-step-up.har
# Capture: mfa-step-up.saz
# Capture: proxy-healthy.har
# Capture: proxy-healthy.saz
# Capture: secrets-everywhere.har
# Capture: secrets-everywhere.saz
# Capture: ticket-attachments.zip!/case-20261120-0042/outlook-prompt.saz
# Capture: two-hosts.har
# Capture: two-hosts.saz
# Capture: variants/aborted-and-missing.saz
# Capture: variants/backslash-paths.saz
# Capture: variants/decimal-bitflags.saz
# Capture: variants/fiddler-ids.saz
# Capture: variants/har-base64-postdata.har
# Capture: variants/har-bom.har
# Capture: variants/har-gz.har.gz
# Capture: variants/har-h2-pseudo.har
# Capture: variants/har-zlib.zhar
# Capture: variants/no-response.har
# Capture: variants/numbering-4digit.saz
# Capture: variants/origin-form.saz
# Capture: variants/zipped-saz.saz!/adal-500011-json.saz
# Capture: wam-jwt-bearer.har
# Capture: wam-jwt-bearer.saz
# Needs the Microsoft Graph PowerShell SDK (Install-Module Microsoft.Graph.Applications)
# and an account allowed to consent to Application.ReadWrite.All.
# Safe to run twice: an SPN already present is left alone.
#Requires -Modules Microsoft.Graph.Authentication, Microsoft.Graph.Applications
$ErrorActionPreference = 'Stop'
$stillMissing = 0

# Tenant: Contoso Ltd, contoso.onmicrosoft.com (72f988bf-0000-4000-8000-0123456789ab)
# SECOND STEP. First, by hand: the client asks for http://autodiscover.contoso.com/: serve it over https so that it asks for https://autodiscover.contoso.com/ (http-resource). Until then no SPN stops that loop.
Connect-MgGraph -TenantId '72f988bf-0000-4000-8000-0123456789ab' -Scopes 'Application.ReadWrite.All' -NoWelcome
$missing = @(
    'https://autodiscover.contoso.com/'
    'https://mail.contoso.com/'
)
$sp = Get-MgServicePrincipal -Filter "AppId eq '00000002-0000-0ff1-ce00-000000000000'"
$names = [System.Collections.Generic.List[string]]::new([string[]]$sp.ServicePrincipalNames)
$added = 0
foreach ($spn in $missing) {
    # Entra ID matches an SPN case-insensitively and with or without the trailing slash.
    $bare = $spn.TrimEnd('/')
    if ($names | Where-Object { $_.TrimEnd('/') -ieq $bare }) {
        Write-Host "Already present: $spn"
    } else {
        $names.Add($spn)
        $added++
        Write-Host "Adding: $spn"
    }
}
if ($added -gt 0) {
    Update-MgServicePrincipal -ServicePrincipalId $sp.Id -ServicePrincipalNames $names.ToArray()
}
# Verify: OK or MISSING per SPN; the script ends with exit code 1 if one is missing.
$now = @((Get-MgServicePrincipal -ServicePrincipalId $sp.Id).ServicePrincipalNames |
    ForEach-Object { $_.TrimEnd('/') })
foreach ($spn in $missing) {
    if ($now -icontains $spn.TrimEnd('/')) {
        Write-Host "OK       $spn"
    } else {
        Write-Host "MISSING  $spn"
        $stillMissing++
    }
}

# --- LEGACY, do not use unless Microsoft Graph PowerShell is unavailable ---------
# The MSOnline module is retired; these lines are the old equivalent, for reference.
# Connect-MsolService
# $x = Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000 -TenantId '72f988bf-0000-4000-8000-0123456789ab'
# $x.ServicePrincipalNames.Add('https://autodiscover.contoso.com/')
# $x.ServicePrincipalNames.Add('https://mail.contoso.com/')
# Set-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000 -ServicePrincipalNames $x.ServicePrincipalNames -TenantId '72f988bf-0000-4000-8000-0123456789ab'

# --- Exchange Management Shell (on-premises) ---------------------------------------
# Run on an Exchange server in the Exchange Management Shell, not in Microsoft Graph
# PowerShell. The changes are commented: they change the whole organisation. Read the
# finding's fix first, then run them without the leading '# '.
# From finding legacy-split-namespace:
# Get-ActiveSyncVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthEnabled,WindowsAuthEnabled
# Get-WebServicesVirtualDirectory | Format-List Server,InternalUrl,ExternalUrl,BasicAuthentication,WindowsAuthentication,OAuthAuthentication
# Get-OabVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthentication,WindowsAuthentication,OAuthAuthentication
# Get-MapiVirtualDirectory | Format-List Server,ExternalUrl,IISAuthenticationMethods
# Get-ActiveSyncVirtualDirectory -Server <server publishing the clients' namespace> | Set-ActiveSyncVirtualDirectory -BasicAuthEnabled $false
# Get-WebServicesVirtualDirectory -Server <server> | Set-WebServicesVirtualDirectory -BasicAuthentication $false -WindowsAuthentication $false -OAuthAuthentication $true
# Get-OabVirtualDirectory -Server <server> | Set-OabVirtualDirectory -BasicAuthentication $false -WindowsAuthentication $false -OAuthAuthentication $true
# Get-MapiVirtualDirectory -Server <server> | Set-MapiVirtualDirectory -IISAuthenticationMethods OAuth
# iisreset /noforce
# The connector, in Exchange Online PowerShell (Connect-ExchangeOnline), not on-premises:
# Get-IntraOrganizationConnector | Format-List Name,Enabled,TargetAddressDomains,TargetSharingEpr,DiscoveryEndpoint
# Get-IntraOrganizationConnector | Set-IntraOrganizationConnector -TargetSharingEpr https://<IntraOrganizationConnector namespace>/EWS/Exchange.asmx
# From finding legacy-auth-exposed:
# Get-ActiveSyncVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthEnabled,WindowsAuthEnabled
# Get-WebServicesVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthentication,WindowsAuthentication,OAuthAuthentication
# Get-MapiVirtualDirectory | Format-List Server,ExternalUrl,IISAuthenticationMethods
# Get-OabVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthentication,WindowsAuthentication,OAuthAuthentication
# Get-OrganizationConfig | Format-List DefaultAuthenticationPolicy
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

if ($stillMissing -gt 0) {
    Write-Warning "$stillMissing SPN(s) still missing: check the account's rights (Application.ReadWrite.All) and run again."
    exit 1
}
