# traceadal fix: add the missing service principal names to Office 365 Exchange Online
# (AppId 00000002-0000-0ff1-ce00-000000000000).
# Capture: capture-started-late.har
# Capture: capture-started-late.saz
# Needs the Microsoft Graph PowerShell SDK (Install-Module Microsoft.Graph.Applications)
# and an account allowed to consent to Application.ReadWrite.All.
# Safe to run twice: an SPN already present is left alone.
#Requires -Modules Microsoft.Graph.Authentication, Microsoft.Graph.Applications
$ErrorActionPreference = 'Stop'
$stillMissing = 0

# Tenant: Contoso Ltd (tenant id not in the capture)
Connect-MgGraph -Scopes 'Application.ReadWrite.All' -NoWelcome
$missing = @(
    'https://autodiscover.contoso.com/'
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
# $x = Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000
# $x.ServicePrincipalNames.Add('https://autodiscover.contoso.com/')
# Set-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000 -ServicePrincipalNames $x.ServicePrincipalNames

if ($stillMissing -gt 0) {
    Write-Warning "$stillMissing SPN(s) still missing: check the account's rights (Application.ReadWrite.All) and run again."
    exit 1
}
