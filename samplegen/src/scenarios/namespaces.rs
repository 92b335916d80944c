//! Issue 19 item 7: legacy exposure where clients and Exchange Online use separate
//! namespaces (the IntraOrganizationConnector's `TargetSharingEpr` on its own host).

use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::{hdrs, outlook, EXO_APP, OUTLOOK, TENANT_GUID};
use crate::json::J;
use crate::model::{Body, Coding, Framing, Request, Role, BODY_HEADERS};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{noise_run, tunnel};
use crate::secrets;

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
    let token = exo_token(sb);
    for (i, target) in ["room101@contoso.com", "user@contoso.com"]
        .iter()
        .enumerate()
    {
        let req = availability(target, &token, &sb.guid());
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

/// Exchange Online's own token for the IOC namespace.
fn exo_token(sb: &Sb) -> String {
    let iat = sb.now.unix() - 30;
    let claims = J::o(vec![
        (
            "aud",
            J::s(format!("{EXO_APP}/hybrid.contoso.com@{TENANT_GUID}")),
        ),
        (
            "iss",
            J::s(format!(
                "00000001-0000-0000-c000-000000000000@{TENANT_GUID}"
            )),
        ),
        ("nbf", J::n(iat)),
        ("exp", J::n(iat + 3600)),
        ("appid", J::s(EXO_APP)),
        ("appidacr", J::s("2")),
        ("nameid", J::s(format!("{EXO_APP}@{TENANT_GUID}"))),
        ("trustedfordelegation", J::s("false")),
        ("tid", J::s(TENANT_GUID)),
        ("ver", J::s("Exchange")),
        ("scp", J::s("Exchange.FreeBusy")),
    ]);
    secrets::jwt(&claims, secrets::SIG_IOC)
}

/// Exchange Online's GetUserAvailability request for `target`, as its connector sends it.
fn availability(target: &str, token: &str, crid: &str) -> Request {
    let soap = exchange::soap_request(
        &format!(
            r#"<m:GetUserAvailabilityRequest><t:TimeZone><t:Bias>-60</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>03:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime><t:DaylightTime><t:Bias>-60</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:DaylightTime></t:TimeZone><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>{target}</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType><t:ExcludeConflicts>false</t:ExcludeConflicts></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-11-20T00:00:00</t:StartTime><t:EndTime>2026-11-22T00:00:00</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>30</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>DetailedMerged</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>"#
        ),
        "Exchange2013",
    );
    let h = hdrs(&[
        ("Content-Type", "text/xml; charset=utf-8"),
        (
            "User-Agent",
            "Exchange/15.20.8158.20 (ExchangeServicesClient/15.20.8158.20)",
        ),
        ("Authorization", &format!("Bearer {token}")),
        ("X-AnchorMailbox", target),
        (
            "SOAPAction",
            "\"http://schemas.microsoft.com/exchange/services/2006/messages/GetUserAvailability\"",
        ),
        ("client-request-id", crid),
        ("return-client-request-id", "true"),
        ("X-MS-Exchange-Organization-FromEntityHeader", "Hosted"),
        ("Host", "hybrid.contoso.com"),
        (BODY_HEADERS, ""),
        ("Expect", "100-continue"),
    ]);
    Request {
        method: "POST".into(),
        url: IOC_EWS.into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::plain(soap)),
    }
}

const AVAILABILITY_OK: &str = r#"<GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><FreeBusyResponseArray><FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><FreeBusyView><FreeBusyViewType xmlns="http://schemas.microsoft.com/exchange/services/2006/types">DetailedMerged</FreeBusyViewType><MergedFreeBusy xmlns="http://schemas.microsoft.com/exchange/services/2006/types">000000000000000000222200000000000000000000000000000000000000000000000000000000000000000000000000</MergedFreeBusy></FreeBusyView></FreeBusyResponse></FreeBusyResponseArray></GetUserAvailabilityResponse>"#;
