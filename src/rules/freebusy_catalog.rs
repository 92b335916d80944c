//! The free/busy (availability) errors Microsoft documents, as data: what a `ResponseCode` or
//! a `MessageText` pattern means and how it is fixed. `freebusy-error` quotes them.
//!
//! Text patterns are tried first (the inner exception of a proxy failure says more than its
//! code: "Proxy web request failed ... (401) Unauthorized"), then codes.

/// One kind of free/busy failure.
pub struct Kind {
    /// Short stable name, quoted in titles (`oauth-401`, `ErrorNoFreeBusyAccess`, ...).
    pub name: &'static str,
    /// Case-insensitive substrings of the `MessageText`.
    pub texts: &'static [&'static str],
    /// `ResponseCode`s.
    pub codes: &'static [&'static str],
    pub meaning: &'static str,
    pub fix: &'static str,
}

pub const KINDS: &[Kind] = &[
    Kind {
        name: "wssecurity",
        texts: &["error occurred when verifying security for the message"],
        codes: &[],
        meaning: "the federation (DAuth) token of the request was not accepted: WSSecurity authentication is off on the Autodiscover or EWS virtual directory, or the federation trust's certificate changed",
        fix: "Exchange Management Shell (on-premises): Get-FederationTrust | Set-FederationTrust -RefreshMetadata (twice); Get-WebServicesVirtualDirectory | fl WSSecurityAuthentication and Get-AutodiscoverVirtualDirectory | fl WSSecurityAuthentication must be True (set them with -WSSecurityAuthentication $true, then iisreset); Test-FederationTrust.",
    },
    Kind {
        name: "oauth-401",
        texts: &["(401)", "401 unauthorized", "lid: 43532"],
        codes: &[],
        meaning: "the availability service's call to the other side was refused with 401: the OAuth trust (IntraOrganizationConnector, auth server, partner application) or the federation trust does not authenticate it",
        fix: "Exchange Online PowerShell: Get-IntraOrganizationConnector | fl Name,Enabled,TargetAddressDomains,DiscoveryEndpoint,TargetSharingEpr; Test-OAuthConnectivity -Service EWS -TargetUri <on-premises EWS URL> -Mailbox <cloud mailbox> -Verbose. Exchange Management Shell (on-premises): Get-IntraOrganizationConnector | fl; Get-AuthServer | fl Name,Enabled,IsDefaultAuthorizationEndpoint; Get-PartnerApplication | fl Name,Enabled,ApplicationIdentifier; Test-OAuthConnectivity -Service EWS -TargetUri https://outlook.office365.com/ews/exchange.asmx -Mailbox <on-premises mailbox> -Verbose. Re-run the Hybrid Configuration Wizard when the OAuth objects are missing.",
    },
    Kind {
        name: "remote-403",
        texts: &["(403)", "403 forbidden"],
        codes: &[],
        meaning: "the other side's EWS answered 403: a reverse proxy, WAF or pre-authentication in front of EWS/Autodiscover, or an IP restriction, refused Exchange's call",
        fix: "Publish /EWS/Exchange.asmx and /autodiscover/autodiscover.svc to Microsoft 365's addresses without pre-authentication (pass-through); check the TargetSharingEpr / TargetAutodiscoverEpr host resolves to that publication: Exchange Online PowerShell: Get-IntraOrganizationConnector | fl TargetSharingEpr,DiscoveryEndpoint; Get-OrganizationRelationship | fl TargetSharingEpr,TargetAutodiscoverEpr.",
    },
    Kind {
        name: "autodiscover-failed",
        texts: &["autodiscover failed", "autodiscoverfailed", "unable to find target url", "target url"],
        codes: &["ErrorAutoDiscoverFailed"],
        meaning: "the availability service could not find the other side's EWS: autodiscover (DiscoveryEndpoint / TargetAutodiscoverEpr) failed and no TargetSharingEpr is set",
        fix: "Set the EWS URL explicitly so that no autodiscover is needed: Exchange Online PowerShell: Get-IntraOrganizationConnector | Set-IntraOrganizationConnector -TargetSharingEpr https://<on-premises EWS host>/ews/exchange.asmx (or Get-OrganizationRelationship | Set-OrganizationRelationship -TargetSharingEpr ...); otherwise make the DiscoveryEndpoint / TargetAutodiscoverEpr (https://<host>/autodiscover/autodiscover.svc) reachable from the internet.",
    },
    Kind {
        name: "ErrorProxyRequestNotAllowed",
        texts: &[],
        codes: &["ErrorProxyRequestNotAllowed"],
        meaning: "the availability service would not forward the request: no organization relationship or availability address space allows free/busy for the requester's domain",
        fix: "On the side that answered: Get-OrganizationRelationship | fl Name,DomainNames,FreeBusyAccessEnabled,FreeBusyAccessLevel; Set-OrganizationRelationship <name> -FreeBusyAccessEnabled $true -FreeBusyAccessLevel LimitedDetails, with the requester's domains in DomainNames (Exchange Management Shell on-premises, Exchange Online PowerShell in the cloud).",
    },
    Kind {
        name: "ErrorNoFreeBusyAccess",
        texts: &[],
        codes: &["ErrorNoFreeBusyAccess"],
        meaning: "the requester may not see this calendar's free/busy: the calendar's Default (or Anonymous) permission is None, or the organization relationship's FreeBusyAccessLevel is None",
        fix: "Get-MailboxFolderPermission <target>:\\Calendar (Default must be at least AvailabilityOnly: Set-MailboxFolderPermission <target>:\\Calendar -User Default -AccessRights AvailabilityOnly); Get-OrganizationRelationship | fl FreeBusyAccessEnabled,FreeBusyAccessLevel (AvailabilityOnly or LimitedDetails), on the side that holds the target mailbox.",
    },
    Kind {
        name: "ErrorMailRecipientNotFound",
        // Graph getSchedule's text for an address its directory does not hold.
        texts: &["to an active directory object"],
        codes: &["ErrorMailRecipientNotFound"],
        meaning: "the answering side's directory has no recipient for this address: the mail user / remote mailbox object is missing or its address is not synchronised (AAD Connect), or the address is not one of the organization's domains",
        fix: "On the side that answered: Get-Recipient <address> (Exchange Online PowerShell: a MailUser with ExternalEmailAddress to the on-premises domain for an on-premises mailbox; Exchange Management Shell on-premises: a RemoteMailbox with RemoteRoutingAddress @<tenant>.mail.onmicrosoft.com for a cloud mailbox); check directory synchronisation of the object.",
    },
    Kind {
        name: "ErrorProxyRequestProcessingFailed",
        texts: &["proxy web request failed"],
        codes: &["ErrorProxyRequestProcessingFailed"],
        meaning: "the cross-premises request to the other side's availability service failed; the inner exception in the message says why",
        fix: "Read the inner exception quoted above. Exchange Online PowerShell: Get-IntraOrganizationConnector | fl; Get-OrganizationRelationship | fl TargetSharingEpr,TargetAutodiscoverEpr,FreeBusyAccessEnabled; Test-OAuthConnectivity -Service EWS -TargetUri <on-premises EWS URL> -Mailbox <cloud mailbox> -Verbose. Exchange Management Shell (on-premises): Test-FederationTrust; Get-IntraOrganizationConnector | fl.",
    },
    Kind {
        name: "ErrorAvailabilityConfigNotFound",
        texts: &[],
        codes: &["ErrorAvailabilityConfigNotFound"],
        meaning: "no availability configuration covers the target's domain: no organization relationship, IntraOrganizationConnector or availability address space for it",
        fix: "On the requester's side: Get-OrganizationRelationship | fl DomainNames; Get-IntraOrganizationConnector | fl TargetAddressDomains; Get-AvailabilityAddressSpace; add the domain (Set-OrganizationRelationship -DomainNames @{Add=\"<domain>\"}) or an address space (Add-AvailabilityAddressSpace -ForestName <domain> -AccessMethod OrgWideFB -UseServiceAccount $true), or re-run the Hybrid Configuration Wizard.",
    },
    Kind {
        name: "ErrorServerBusy",
        texts: &[],
        codes: &["ErrorServerBusy"],
        meaning: "the answering server throttled the request (EWS throttling budget)",
        fix: "Transient: retry later. When it persists, check the caller's budget: Exchange Management Shell (on-premises): Get-ThrottlingPolicyAssociation <account>; Get-ThrottlingPolicy | fl EWS*.",
    },
    Kind {
        name: "ErrorTimeoutExpired",
        texts: &["timed out", "timeout"],
        codes: &["ErrorTimeoutExpired"],
        meaning: "the other side did not answer in time",
        fix: "Check the path to the other side's EWS (firewall, proxy, DNS of TargetSharingEpr) and the load of its servers.",
    },
    Kind {
        name: "ErrorFreeBusyGenerationFailed",
        texts: &[],
        codes: &["ErrorFreeBusyGenerationFailed", "ErrorMailboxStoreUnavailable", "ErrorMailboxMoveInProgress"],
        meaning: "the target's calendar could not be read on its server (mailbox store unavailable, mailbox being moved)",
        fix: "Exchange Management Shell (on-premises): Get-MailboxDatabaseCopyStatus for the target's database; Get-MoveRequest <target> | Get-MoveRequestStatistics when a move is in progress.",
    },
    Kind {
        name: "ErrorAccessDenied",
        texts: &[],
        codes: &["ErrorAccessDenied"],
        meaning: "the caller may not read calendars through this API: the token lacks a calendar permission (Calendars.ReadBasic / Calendars.Read), or an application access policy or RBAC for Applications scope in Exchange Online leaves the mailbox out",
        fix: CALENDAR_PERMISSION_FIX,
    },
];

/// Where a caller's calendar permission is checked: the token's app in Entra ID, then
/// Exchange Online's application access policies and RBAC for Applications. The fix of
/// `ErrorAccessDenied` and of a bare 403 from Graph's `getSchedule`.
const CALENDAR_PERMISSION_FIX: &str = "Microsoft Graph PowerShell: Get-MgServicePrincipal -Filter \"appId eq '<appid of the token>'\" and Get-MgOauth2PermissionGrant / Get-MgServicePrincipalAppRoleAssignment for the calendar permission. Exchange Online PowerShell: Get-ApplicationAccessPolicy; Test-ApplicationAccessPolicy -Identity <mailbox> -AppId <appid>; Get-ManagementRoleAssignment -RoleAssigneeType ServicePrincipal.";

/// A 403 from the availability service, with no error inside.
pub const HTTP_403: Kind = Kind {
    name: "http-403",
    texts: &[],
    codes: &[],
    meaning: "the availability request was refused with 403 before EWS answered it: a reverse proxy or WAF, a Client Access Rule, or EWS access blocked for the caller (EwsEnabled, EwsApplicationAccessPolicy)",
    fix: "Check what answered (the Server and X-FEServer headers): publish /EWS/Exchange.asmx without pre-authentication; Exchange Management Shell (on-premises) / Exchange Online PowerShell: Get-CASMailbox <mailbox> | fl EwsEnabled,EwsApplicationAccessPolicy,EwsAllowList,EwsBlockList; Get-OrganizationConfig | fl EwsEnabled,EwsApplicationAccessPolicy.",
};

/// A 5xx from the availability service, with no error inside.
pub const HTTP_5XX: Kind = Kind {
    name: "http-5xx",
    texts: &[],
    codes: &[],
    meaning: "the availability service failed (500/502/503/504): the EWS application pool, a backend server, or a proxy in front of it",
    fix: "Check the EWS application pool and the backend named by X-BEServer / X-CalculatedBETarget (Exchange Management Shell (on-premises): Test-ServiceHealth; Get-ServerComponentState <server>); for 502/504 the proxy or load balancer in front of EWS.",
};

/// A 403 from OWA's `service.svc` availability action, with no error inside.
pub const OWA_HTTP_403: Kind = Kind {
    name: "http-403",
    texts: &[],
    codes: &[],
    meaning: "OWA's availability request (service.svc) was refused with 403 before OWA answered it: Outlook on the web disabled for the user, a reverse proxy or WAF (pre-authentication) in front of /owa, a Client Access Rule, or the OWA canary (session) no longer valid",
    fix: "Check what answered (the Server and X-FEServer headers). Exchange Management Shell (on-premises) / Exchange Online PowerShell: Get-CASMailbox <mailbox> | fl OWAEnabled,OwaMailboxPolicy; Get-OwaMailboxPolicy | fl Name,CalendarEnabled. On-premises: publish /owa without a second pre-authentication that strips OWA's cookies; a new sign-in to OWA renews the canary.",
};

/// A 5xx from OWA's `service.svc` availability action, with no error inside.
pub const OWA_HTTP_5XX: Kind = Kind {
    name: "http-5xx",
    texts: &[],
    codes: &[],
    meaning: "OWA's availability request (service.svc) failed (500/502/503/504): the OWA application pool, the mailbox's backend server, or a proxy in front of OWA",
    fix: "Check the backend named by X-BEServer / X-CalculatedBETarget and the MSExchangeOWAAppPool on it (Exchange Management Shell (on-premises): Test-ServiceHealth; Get-ServerComponentState <server>); for 502/504 the proxy or load balancer in front of /owa. On outlook.office.com it is Exchange Online's side: check the Microsoft 365 service health and retry.",
};

/// A 403 from Microsoft Graph's `getSchedule`, with no error inside.
pub const GRAPH_HTTP_403: Kind = Kind {
    name: "http-403",
    texts: &[],
    codes: &[],
    meaning: "Microsoft Graph refused getSchedule with 403: the token lacks a calendar permission (Calendars.ReadBasic / Calendars.Read), or an application access policy or RBAC for Applications scope leaves the mailbox out, or a Conditional Access or tenant restriction blocked the call (the Entra sign-in logs for the caller show such a block)",
    fix: CALENDAR_PERMISSION_FIX,
};

/// A 5xx from Microsoft Graph's `getSchedule`, with no error inside.
pub const GRAPH_HTTP_5XX: Kind = Kind {
    name: "http-5xx",
    texts: &[],
    codes: &[],
    meaning: "Microsoft Graph's getSchedule failed (500/502/503/504): Exchange Online could not answer, or, for an on-premises mailbox, the hybrid call from Exchange Online to on-premises EWS failed behind it",
    fix: "Transient on Microsoft's side: retry, and check the Microsoft 365 service health. When the mailboxes asked about are on-premises, test the hybrid path Exchange Online uses: Exchange Online PowerShell: Get-IntraOrganizationConnector | fl TargetSharingEpr,DiscoveryEndpoint; Test-OAuthConnectivity -Service EWS -TargetUri <on-premises EWS URL> -Mailbox <cloud mailbox> -Verbose.",
};

/// Any other error.
pub const OTHER: Kind = Kind {
    name: "other",
    texts: &[],
    codes: &[],
    meaning: "the availability service returned an error not in traceadal's table",
    fix: "Look the ResponseCode and message up in Microsoft's \"Resolve free/busy errors\"; run Test-OAuthConnectivity / Test-FederationTrust on the side that answered.",
};

/// The kind of one error.
pub fn classify(code: Option<&str>, message: Option<&str>) -> &'static Kind {
    if let Some(m) = message.map(str::to_ascii_lowercase) {
        if let Some(k) = KINDS.iter().find(|k| k.texts.iter().any(|t| m.contains(t))) {
            return k;
        }
    }
    code.and_then(|c| {
        KINDS
            .iter()
            .find(|k| k.codes.iter().any(|x| x.eq_ignore_ascii_case(c)))
    })
    .unwrap_or(&OTHER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inner_exception_wins_over_the_code() {
        let k = classify(
            Some("ErrorProxyRequestProcessingFailed"),
            Some("Proxy web request failed., inner exception: The remote server returned an error: (401) Unauthorized. LID: 43532"),
        );
        assert_eq!(k.name, "oauth-401");
        assert_eq!(
            classify(
                Some("ErrorProxyRequestProcessingFailed"),
                Some("Proxy web request failed.")
            )
            .name,
            "ErrorProxyRequestProcessingFailed"
        );
        assert_eq!(
            classify(Some("errornofreebusyaccess"), None).name,
            "ErrorNoFreeBusyAccess"
        );
        assert_eq!(classify(Some("ErrorSomethingNew"), None).name, "other");
        // Graph getSchedule's directory miss is the recipient-not-found kind, whatever its
        // (numeric) code.
        assert_eq!(
            classify(
                Some("5009"),
                Some("Unable to resolve e-mail address x@fabrikam.com to an Active Directory object.")
            )
            .name,
            "ErrorMailRecipientNotFound"
        );
        assert_eq!(
            classify(
                Some("ErrorAccessDenied"),
                Some("Access is denied. Check credentials and try again.")
            )
            .name,
            "ErrorAccessDenied"
        );
        for k in KINDS {
            assert!(!k.fix.is_empty() && !k.meaning.is_empty(), "{}", k.name);
            assert!(
                k.texts.iter().all(|t| *t == t.to_ascii_lowercase()),
                "{}",
                k.name
            );
        }
    }
}
