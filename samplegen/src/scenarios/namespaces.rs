//! Issue 19 item 7: legacy exposure where clients and Exchange Online use separate
//! namespaces (the IntraOrganizationConnector's `TargetSharingEpr` on its own host).

use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::{outlook, OUTLOOK};
use crate::model::{Coding, Framing, Role};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{noise_run, tunnel};
use crate::scenarios::hybrid::{ioc_availability, ioc_token};

const USER_EWS: &str = "https://mail.contoso.com/EWS/Exchange.asmx";
const USER_MAPI: &str =
    "https://mail.contoso.com/mapi/emsmdb/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com";
const IOC_EWS: &str = "https://hybrid.contoso.com/EWS/Exchange.asmx";

/// `legacy-split-namespace`: a capture at the on-premises edge. Outlook reaches the clients'
/// namespace mail.contoso.com: EWS answers 401 offering Bearer, NTLM and Basic, MAPI offers
/// Bearer only. Exchange Online's IntraOrganizationConnector calls the separate namespace
/// hybrid.contoso.com (its TargetSharingEpr) with GetUserAvailability and a token of app
/// 00000002-0000-0ff1-ce00-000000000000, answered 200: that namespace takes Bearer only.
pub fn legacy_split_namespace(sb: &mut Sb) {
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    let legacy = Challenge {
        bearer_error: false,
        negotiate: false,
        diagnostics: None,
        ..Challenge::hma_and_legacy()
    };
    let crid = sb.guid();
    let ews = outlook::ews(USER_EWS, &exchange::oof_request(), None, &crid);
    let rid = sb.guid();
    let now = sb.now;
    let resp = Exchange::new().challenge_401("mail.contoso.com", &legacy, &rid, now);
    sb.add(Some(OUTLOOK), ews, Some(resp), 8, Role::Signal);
    sb.wait(60);
    let mapi = outlook::mapi_connect(USER_MAPI, None, &crid, 1);
    let rid = sb.guid();
    let now = sb.now;
    let bearer_only = Challenge {
        bearer_error: false,
        diagnostics: None,
        ..Challenge::bearer_only()
    };
    let resp = Exchange::new().challenge_401("mail.contoso.com", &bearer_only, &rid, now);
    sb.add(Some(OUTLOOK), mapi, Some(resp), 7, Role::Signal);
    noise_run(sb, 0, 3);
    sb.wait(4_000);
    let token = ioc_token(sb.now, "hybrid.contoso.com");
    for (i, target) in ["room101@contoso.com", "user@contoso.com"]
        .iter()
        .enumerate()
    {
        let crid = sb.guid();
        let req = ioc_availability(IOC_EWS, target, &token, &crid);
        let rid = sb.guid();
        let now = sb.now;
        let resp = Exchange::new().ok_xml(
            exchange::soap_response(AVAILABILITY_OK),
            Coding::Gzip,
            Framing::Chunked(180),
            &rid,
            now,
            true,
        );
        sb.add(None, req, Some(resp), 35, Role::Signal);
        sb.wait(1_500 + i as u64 * 700);
    }
    noise_run(sb, 3, 2);
}

const AVAILABILITY_OK: &str = r#"<GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><FreeBusyResponseArray><FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><FreeBusyView><FreeBusyViewType xmlns="http://schemas.microsoft.com/exchange/services/2006/types">DetailedMerged</FreeBusyViewType><MergedFreeBusy xmlns="http://schemas.microsoft.com/exchange/services/2006/types">000000000000000000222200000000000000000000000000000000000000000000000000000000000000000000000000</MergedFreeBusy></FreeBusyView></FreeBusyResponse></FreeBusyResponseArray></GetUserAvailabilityResponse>"#;
