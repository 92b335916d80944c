//! Issue-5 scenarios (the neighbouring hybrid failures) and the secrets capture.

use crate::actors::entra::{id_token, user_token, AadError, Entra};
use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::{hdrs, outlook, EXO_APP, OFFICE_CLIENT, OUTLOOK, TENANT_GUID, USER};
use crate::clock::Instant;
use crate::expected::ExpectedDelegate;
use crate::json::J;
use crate::model::{host_of, Body, Coding, Framing, Request, Response, Role, BODY_HEADERS};
use crate::scenarios::adal::{json_loop, AUTODISCOVER_URL};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{autodiscover_challenge, noise_run, tunnel, Adal, ErrorPlace};
use crate::secrets;
use crate::wire::form;

const EWS_URL: &str = "https://mail.contoso.com/EWS/Exchange.asmx";
const MAPI_URL: &str = "https://mail.contoso.com/mapi/emsmdb/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com";
const OAB_URL: &str = "https://mail.contoso.com/OAB/0f5a0000-0000-4000-8000-00000000ab01/oab.xml";
const EAS_URL: &str = "https://mail.contoso.com/Microsoft-Server-ActiveSync?Cmd=Sync&User=user%40contoso.com&DeviceId=ApplF2LXK9ZQ0D&DeviceType=iPhone";
const OWA_URL: &str = "https://mail.contoso.com/owa/";
/// Teams scheduling back end's User-Agent.
const TEAMS_NINJA_UA: &str =
    "MicrosoftNinja/1.0 Teams/1.0 (ExchangeServicesClient/0.0.0.0) SkypeSpaces/1.0a$*+";
/// Microsoft Teams Services app id (the back end that calls EWS).
const TEAMS_SERVICES_APP: &str = "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe";
const IPHONE_UA: &str = "Apple-iPhone15C2/2201.58";

fn rid(sb: &mut Sb) -> String {
    sb.guid()
}

pub(crate) fn ews_ok(
    sb: &mut Sb,
    process: Option<&str>,
    req: Request,
    soap_body: &str,
    coding: Coding,
    framing: Framing,
) -> usize {
    let r = rid(sb);
    let now = sb.now;
    let resp = Exchange::new().ok_xml(
        exchange::soap_response(soap_body),
        coding,
        framing,
        &r,
        now,
        true,
    );
    sb.add(process, req, Some(resp), 45, Role::Signal)
}

pub(crate) const OOF_RESPONSE: &str = r#"<GetUserOofSettingsResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><OofSettings xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><OofState>Disabled</OofState><ExternalAudience>All</ExternalAudience><Duration><StartTime>2026-11-20T07:00:00</StartTime><EndTime>2026-11-21T07:00:00</EndTime></Duration><InternalReply><Message /></InternalReply><ExternalReply><Message /></ExternalReply></OofSettings><AllowExternalOof>All</AllowExternalOof></GetUserOofSettingsResponse>"#;

/// 11. `hma-not-advertised`.
pub fn hma_not_advertised(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    autodiscover_challenge(sb, AUTODISCOVER_URL, false, &Challenge::legacy_only());
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    let crid = sb.guid();
    let r = rid(sb);
    let now = sb.now;
    let req = outlook::ews(EWS_URL, &exchange::oof_request(), None, &crid);
    let resp =
        Exchange::new().challenge_401("mail.contoso.com", &Challenge::legacy_only(), &r, now);
    sb.add(Some(OUTLOOK), req, Some(resp), 8, Role::Signal);
    noise_run(sb, 0, 2);
    // Outlook falls back to Basic.
    let basic = format!("Basic {}", secrets::BASIC_CREDENTIAL);
    let crid = sb.guid();
    let r = rid(sb);
    let now = sb.now;
    let req = outlook::autodiscover(AUTODISCOVER_URL, false, Some(&basic), &crid);
    let resp = Exchange::new().ok_xml(
        exchange::autodiscover_response_xml("mail.contoso.com"),
        Coding::Identity,
        Framing::Chunked(700),
        &r,
        now,
        false,
    );
    sb.add(Some(OUTLOOK), req, Some(resp), 160, Role::Signal);
    let req = outlook::ews(EWS_URL, &exchange::oof_request(), Some(&basic), &crid);
    ews_ok(
        sb,
        Some(OUTLOOK),
        req,
        OOF_RESPONSE,
        Coding::Identity,
        Framing::Length,
    );
    noise_run(sb, 2, 3);
}

/// 12. `exchange-oauth-2000003`: a token for autodiscover presented to MAPI on mail.
pub fn exchange_oauth_2000003(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    let token = user_token(
        "https://autodiscover.contoso.com/",
        OFFICE_CLIENT,
        sb.now,
        secrets::SIG_WRONG_AUDIENCE,
    );
    let bearer = format!("Bearer {token}");
    let crid = sb.guid();
    let r = rid(sb);
    let now = sb.now;
    let req = outlook::autodiscover(AUTODISCOVER_URL, false, Some(&bearer), &crid);
    let resp = Exchange::new().ok_xml(
        exchange::autodiscover_response_xml("mail.contoso.com"),
        Coding::Gzip,
        Framing::Chunked(512),
        &r,
        now,
        false,
    );
    sb.add(Some(OUTLOOK), req, Some(resp), 150, Role::Signal);
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    let diag = "2000003;reason=\"The hostname component of the audience claim value is invalid. Expected 'https://mail.contoso.com'. Actual 'https://autodiscover.contoso.com'.\";error_category=\"invalid_resource\"";
    for a in 0..3 {
        let r = rid(sb);
        let now = sb.now;
        let req = outlook::mapi_connect(MAPI_URL, Some(&bearer), &crid, a + 1);
        let resp = Exchange::new().token_rejected_401("mail.contoso.com", diag, &r, now);
        sb.add(Some(OUTLOOK), req, Some(resp), 12, Role::Signal);
        noise_run(sb, a as usize * 2, 2);
        sb.wait(15_000);
    }
}

fn get_delegate_request(owner: &str) -> String {
    exchange::soap_request(
        &format!(
            r#"<m:GetDelegate IncludePermissions="true"><m:Mailbox><t:EmailAddress>{owner}</t:EmailAddress></m:Mailbox></m:GetDelegate>"#
        ),
        "Exchange2013_SP1",
    )
}

fn teams_ews_request(soap: String, anchor: &str, action: &str, now: Instant) -> Request {
    let token = user_token(
        "https://mail.contoso.com",
        TEAMS_SERVICES_APP,
        now,
        secrets::SIG_TEAMS_EWS,
    );
    let h = hdrs(&[
        ("Content-Type", "text/xml; charset=utf-8"),
        ("Accept", "text/xml"),
        ("User-Agent", TEAMS_NINJA_UA),
        ("Authorization", &format!("Bearer {token}")),
        ("X-AnchorMailbox", anchor),
        (
            "SOAPAction",
            &format!("\"http://schemas.microsoft.com/exchange/services/2006/messages/{action}\""),
        ),
        ("client-request-id", "5d8e0000-0000-4000-8000-00000000feed"),
        ("return-client-request-id", "true"),
        ("Host", "mail.contoso.com"),
        (BODY_HEADERS, ""),
        ("Expect", "100-continue"),
    ]);
    Request {
        method: "POST".into(),
        url: EWS_URL.into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::plain(soap)),
    }
}

fn delegate_response(level: &str) -> String {
    format!(
        r#"<m:GetDelegateResponse ResponseClass="Success" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseCode>NoError</m:ResponseCode><m:ResponseMessages><m:DelegateUserResponseMessageType ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:DelegateUser><t:UserId><t:SID>S-1-5-21-1004336348-1177238915-682003330-41107</t:SID><t:PrimarySmtpAddress>assistant@contoso.com</t:PrimarySmtpAddress><t:DisplayName>Alex Assistant</t:DisplayName></t:UserId><t:DelegatePermissions><t:CalendarFolderPermissionLevel>{level}</t:CalendarFolderPermissionLevel><t:TasksFolderPermissionLevel>None</t:TasksFolderPermissionLevel><t:InboxFolderPermissionLevel>None</t:InboxFolderPermissionLevel><t:ContactsFolderPermissionLevel>None</t:ContactsFolderPermissionLevel><t:NotesFolderPermissionLevel>None</t:NotesFolderPermissionLevel><t:JournalFolderPermissionLevel>None</t:JournalFolderPermissionLevel></t:DelegatePermissions><t:ReceiveCopiesOfMeetingMessages>true</t:ReceiveCopiesOfMeetingMessages><t:ViewPrivateItems>false</t:ViewPrivateItems></m:DelegateUser></m:DelegateUserResponseMessageType></m:ResponseMessages><m:DeliverMeetingRequests>DelegatesAndMe</m:DeliverMeetingRequests></m:GetDelegateResponse>"#
    )
}

fn delegate_scenario(
    sb: &mut Sb,
    response: &str,
    level: Option<&str>,
    coding: Coding,
    framing: Framing,
) {
    let owner = "owner@contoso.com";
    // The Teams back end first resolves the mailbox with SOAP autodiscover.
    let now = sb.now;
    let soap_ad = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action><wsa:To>https://mail.contoso.com/autodiscover/autodiscover.svc</wsa:To></soap:Header><soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>owner@contoso.com</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>ExternalEwsUrl</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>"#;
    let mut req = teams_ews_request(soap_ad.to_string(), owner, "GetUserSettings", now);
    req.url = "https://mail.contoso.com/autodiscover/autodiscover.svc".into();
    if let Some(h) = req.headers.iter_mut().find(|(n, _)| n == "SOAPAction") {
        h.1 = "\"http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings\"".into();
    }
    let ad_resp = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse</a:Action></s:Header><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoError</ErrorCode><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting i:type="StringSetting" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Name>ExternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>"#;
    let r = rid(sb);
    let resp = Exchange::new().ok_xml(
        ad_resp.to_string(),
        Coding::Identity,
        Framing::Length,
        &r,
        now,
        false,
    );
    sb.add(None, req, Some(resp), 60, Role::Signal);
    let now = sb.now;
    let req = teams_ews_request(get_delegate_request(owner), owner, "GetDelegate", now);
    let id = ews_ok(sb, None, req, response, coding, framing);
    match level {
        Some(l) => sb.delegates.push(ExpectedDelegate {
            owner: owner.into(),
            delegate: "assistant@contoso.com".into(),
            calendar: l.into(),
            session: id,
        }),
        None => sb
            .delegate_errors
            .push((id, "ErrorDelegateMissingConfiguration".into())),
    }
}

/// 13. `delegate-reviewer`.
pub fn delegate_reviewer(sb: &mut Sb) {
    delegate_scenario(
        sb,
        &delegate_response("Reviewer"),
        Some("Reviewer"),
        Coding::Gzip,
        Framing::Chunked(400),
    );
}

/// 14. `delegate-editor`.
pub fn delegate_editor(sb: &mut Sb) {
    delegate_scenario(
        sb,
        &delegate_response("Editor"),
        Some("Editor"),
        Coding::Identity,
        Framing::Chunked(500),
    );
}

/// 15. `delegate-missing-config`.
pub fn delegate_missing_config(sb: &mut Sb) {
    let body = r#"<m:GetDelegateResponse ResponseClass="Error" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:MessageText>Delegate is missing configuration.</m:MessageText><m:ResponseCode>ErrorDelegateMissingConfiguration</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:GetDelegateResponse>"#;
    delegate_scenario(sb, body, None, Coding::Identity, Framing::Length);
}

fn eas_options(auth: Option<&str>) -> Request {
    let mut h = hdrs(&[
        ("Host", "mail.contoso.com"),
        ("Accept", "*/*"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ]);
    if let Some(a) = auth {
        h.push(("Authorization".into(), a.into()));
    }
    h.extend(hdrs(&[
        ("User-Agent", IPHONE_UA),
        ("Connection", "keep-alive"),
        ("Content-Length", "0"),
    ]));
    Request {
        method: "OPTIONS".into(),
        url: EAS_URL.into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: None,
    }
}

fn simple_get(url: &str, ua: &str, auth: Option<&str>) -> Request {
    let mut h = hdrs(&[("Accept", "*/*"), ("User-Agent", ua)]);
    if let Some(a) = auth {
        h.push(("Authorization".into(), a.into()));
    }
    h.extend(hdrs(&[
        ("Host", &host_of(url)),
        ("Connection", "Keep-Alive"),
    ]));
    Request {
        method: "GET".into(),
        url: url.into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: None,
    }
}

/// The five externally reached vdirs, each challenged as `c` (OWA's schemes folded into one header).
fn vdir_challenges(sb: &mut Sb, c: &Challenge) {
    let crid = sb.guid();
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    let reqs: Vec<(Option<&str>, Request)> = vec![
        (Some(OUTLOOK), outlook::ews(EWS_URL, &exchange::oof_request(), None, &crid)),
        (Some(OUTLOOK), outlook::mapi_connect(MAPI_URL, None, &crid, 1)),
        (Some(OUTLOOK), simple_get(OAB_URL, outlook::OUTLOOK_UA, None)),
        (None, eas_options(None)),
        (Some("msedge:6120"), simple_get(OWA_URL, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0", None)),
    ];
    for (i, (p, req)) in reqs.into_iter().enumerate() {
        let r = rid(sb);
        let now = sb.now;
        let mut ch = c.clone();
        ch.folded = i == 4;
        let resp = Exchange::new().challenge_401("mail.contoso.com", &ch, &r, now);
        sb.add(p, req, Some(resp), 7, Role::Signal);
        sb.wait(40);
    }
}

/// 16. `legacy-auth-exposed`.
pub fn legacy_auth_exposed(sb: &mut Sb) {
    vdir_challenges(sb, &Challenge::hma_and_legacy());
    noise_run(sb, 0, 3);
}

fn ok_simple(
    status: u16,
    ctype: &str,
    body: &str,
    extra: &[(&str, &str)],
    now: Instant,
) -> Response {
    let mut h = hdrs(&[
        ("Cache-Control", "private"),
        ("Content-Type", ctype),
        (BODY_HEADERS, ""),
        ("Server", "Microsoft-IIS/10.0"),
    ]);
    h.extend(hdrs(extra));
    h.extend(hdrs(&[
        ("X-Powered-By", "ASP.NET"),
        ("X-FEServer", "EXCH01"),
        ("Date", &now.http_date()),
    ]));
    Response {
        status,
        reason: "OK".into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::plain(body.to_string())),
    }
}

/// 17. `bearer-only-healthy`.
pub fn bearer_only_healthy(sb: &mut Sb) {
    vdir_challenges(sb, &Challenge::bearer_only());
    let token = user_token(
        "https://mail.contoso.com",
        OFFICE_CLIENT,
        sb.now,
        secrets::SIG_BEARER_ONLY,
    );
    let bearer = format!("Bearer {token}");
    let crid = sb.guid();
    let req = outlook::ews(EWS_URL, &exchange::oof_request(), Some(&bearer), &crid);
    ews_ok(
        sb,
        Some(OUTLOOK),
        req,
        OOF_RESPONSE,
        Coding::Identity,
        Framing::Length,
    );
    let r = rid(sb);
    let now = sb.now;
    let req = outlook::mapi_connect(MAPI_URL, Some(&bearer), &crid, 2);
    let resp = Exchange::new().mapi_ok(&r, now);
    sb.add(Some(OUTLOOK), req, Some(resp), 120, Role::Signal);
    let now = sb.now;
    let oab = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<OAB><OAL id=\"a1b2c3d4-0000-4000-8000-00000000ab01\" dn=\"\\Global Address List\" name=\"\\Global Address List\"><Full seq=\"412\" ver=\"32\" size=\"48213\" uncompressedsize=\"190032\" SHA=\"2a9b0c4d1e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b\">a1b2c3d4-0000-4000-8000-00000000ab01-data-412.lzx</Full></OAL></OAB>\r\n";
    sb.add(
        Some(OUTLOOK),
        simple_get(OAB_URL, outlook::OUTLOOK_UA, Some(&bearer)),
        Some(ok_simple(200, "text/xml", oab, &[], now)),
        20,
        Role::Signal,
    );
    let now = sb.now;
    let mut eas = ok_simple(200, "application/vnd.ms-sync.wbxml", "", &[("MS-Server-ActiveSync", "15.20"), ("MS-ASProtocolVersions", "2.0,2.1,2.5,12.0,12.1,14.0,14.1,16.0,16.1"), ("MS-ASProtocolCommands", "Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy,CreateCollection,DeleteCollection,MoveCollection,FolderSync,FolderCreate,FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert,Find")], now);
    eas.body = None;
    eas.headers.retain(|(n, _)| n != BODY_HEADERS);
    eas.headers.push(("Content-Length".into(), "0".into()));
    sb.add(
        None,
        eas_options(Some(&bearer)),
        Some(eas),
        15,
        Role::Signal,
    );
    let now = sb.now;
    let r = rid(sb);
    let html = "<!DOCTYPE html><html><head><title>Outlook</title></head><body><div id=\"app\"></div><script src=\"/owa/prem/15.2.1544.4/scripts/boot.worker.js\"></script></body></html>";
    sb.add(Some("msedge:6120"), simple_get(OWA_URL, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0", Some(&bearer)), Some(Exchange::new().ok_html(html.into(), &r, now)), 90, Role::Signal);
    noise_run(sb, 3, 2);
}

/// 18. `ioc-oauth-failure`: Exchange Online's free/busy to on-premises EWS rejected.
pub fn ioc_oauth_failure(sb: &mut Sb) {
    let token = ioc_token(sb.now, "mail.contoso.com");
    let diag =
        "2000001;reason=\"The token has an invalid signature.\";error_category=\"invalid_token\"";
    for (i, target) in ["room101@contoso.com", "owner@contoso.com"]
        .iter()
        .enumerate()
    {
        let crid = sb.guid();
        let req = ioc_availability(EWS_URL, target, &token, &crid);
        let r = rid(sb);
        let now = sb.now;
        let resp = Exchange::new().token_rejected_401("mail.contoso.com", diag, &r, now);
        sb.add(None, req, Some(resp), 9, Role::Signal);
        sb.wait(2_000 + i as u64 * 500);
    }
}

/// Exchange Online's own token (app 00000002-0000-0ff1-ce00-000000000000) for the
/// IntraOrganizationConnector's calls to `host`, issued 30 s before `now`.
pub fn ioc_token(now: Instant, host: &str) -> String {
    let iat = now.unix() - 30;
    let claims = J::o(vec![
        ("aud", J::s(format!("{EXO_APP}/{host}@{TENANT_GUID}"))),
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

/// Exchange Online's GetUserAvailability request for `target` to the EWS `url`, as its
/// IntraOrganizationConnector sends it.
pub fn ioc_availability(url: &str, target: &str, token: &str, crid: &str) -> Request {
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
        ("Host", &host_of(url)),
        (BODY_HEADERS, ""),
        ("Expect", "100-continue"),
    ]);
    Request {
        method: "POST".into(),
        url: url.into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::plain(soap)),
    }
}

/// Outlook's EWS call (`GetUserOofSettings`) to `url` on Exchange Online `exo` without a
/// token, answered 401 Bearer; returns its session id.
pub(crate) fn exo_ews_401(sb: &mut Sb, exo: &Exchange, url: &str) -> usize {
    let crid = sb.guid();
    let r = rid(sb);
    let now = sb.now;
    let req = outlook::ews(url, &exchange::oof_request(), None, &crid);
    let resp = exo.challenge_401("outlook.office365.com", &Challenge::bearer_only(), &r, now);
    sb.add(Some(OUTLOOK), req, Some(resp), 25, Role::Signal)
}

pub(crate) fn exo_challenge_then_token(sb: &mut Sb, err: AadError) {
    let exo = Exchange {
        fe: "AM6PR04CA0012",
        be: "AM7PR02MB5686",
    };
    let url = "https://outlook.office365.com/EWS/Exchange.asmx";
    let resource = "https://outlook.office365.com";
    tunnel(sb, "outlook.office365.com", OUTLOOK);
    let l = crate::scenarios::common::outlook_loop(
        sb,
        resource,
        "outlook.office365.com",
        "login.microsoftonline.com",
        "common",
    );
    let adal = Adal {
        entra: Entra::mso(),
        tenant: "common",
        resource,
        error: err,
    };
    for a in 0..2 {
        let id = exo_ews_401(sb, &exo, url);
        sb.challenge(l, id);
        if a == 0 {
            tunnel(sb, "login.microsoftonline.com", OUTLOOK);
        }
        adal.attempt(
            sb,
            l,
            a == 1,
            ErrorPlace::Json(Coding::Identity, Framing::Length),
            a,
        );
        noise_run(sb, a * 2, 2);
        sb.wait(20_000);
    }
}

/// 19. `aadsts-50076-mfa`.
pub fn aadsts_50076_mfa(sb: &mut Sb) {
    exo_challenge_then_token(sb, AadError::e50076());
}

/// 20. `aadsts-53003-ca`.
pub fn aadsts_53003_ca(sb: &mut Sb) {
    exo_challenge_then_token(sb, AadError::e53003());
}

fn post(url: &str, ctype: &str, extra: &[(&str, &str)], body: String) -> Request {
    let mut h = hdrs(&[("Accept", "*/*"), ("Content-Type", ctype)]);
    h.extend(hdrs(extra));
    h.extend(hdrs(&[
        ("Host", &host_of(url)),
        (BODY_HEADERS, ""),
        ("Connection", "Keep-Alive"),
    ]));
    Request {
        method: "POST".into(),
        url: url.into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::plain(body)),
    }
}

#[allow(clippy::too_many_arguments)]
fn plain_resp(
    status: u16,
    reason: &str,
    ctype: &str,
    extra: &[(&str, &str)],
    body: String,
    coding: Coding,
    framing: Framing,
    now: Instant,
) -> Response {
    let mut h = hdrs(&[
        ("Cache-Control", "no-store, no-cache"),
        ("Content-Type", ctype),
    ]);
    h.extend(hdrs(extra));
    h.extend(hdrs(&[(BODY_HEADERS, ""), ("Date", &now.http_date())]));
    Response {
        status,
        reason: reason.into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::coded(body, coding, framing)),
    }
}

/// 21. `secrets-everywhere`.
pub fn secrets_everywhere(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    json_loop(sb, 3, 1, 0);
    let edge = "msedge:6120";
    let browser_ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0";
    // Browser sign-in: login/passwd form post with ESTS cookies.
    let body = form(&[
        ("i13", "0"),
        ("login", USER),
        ("loginfmt", USER),
        ("type", "11"),
        ("LoginOptions", "3"),
        ("passwd", secrets::PASSWORD_FORM),
        ("ps", "2"),
        ("canary", "Cz2kTz9ofSZk1Hq3QyhhHb3r0f0bXr6QqG4u3mDkUjI=:1"),
        ("flowToken", "AQABAAEAAAD--DLA3VO7QrddgJg7WevrFlowStandIn"),
    ]);
    let cookie = format!(
        "buid={}; fpc={}; esctx=AQABStandIn; x-ms-gateway-slice=estsfd; stsservicecookie=estsfd",
        secrets::COOKIE_BUID,
        secrets::COOKIE_FPC
    );
    let req = post(
        "https://login.microsoftonline.com/common/login",
        "application/x-www-form-urlencoded",
        &[("User-Agent", browser_ua), ("Cookie", &cookie)],
        body,
    );
    let now = sb.now;
    let estsauth = format!(
        "ESTSAUTH={}; path=/; secure; HttpOnly; SameSite=None",
        secrets::COOKIE_ESTSAUTH
    );
    let estspers = format!("ESTSAUTHPERSISTENT={}; expires=Sun, 20-Dec-2026 07:16:00 GMT; path=/; secure; HttpOnly; SameSite=None", secrets::COOKIE_ESTSAUTHPERSISTENT);
    let resp = plain_resp(
        200,
        "OK",
        "text/html; charset=utf-8",
        &[
            ("Set-Cookie", &estsauth),
            ("Set-Cookie", &estspers),
            (
                "Set-Cookie",
                "x-ms-gateway-slice=estsfd; path=/; secure; samesite=none; httponly",
            ),
        ],
        "<html><body>Signed in.</body></html>".into(),
        Coding::Gzip,
        Framing::Chunked(32),
        now,
    );
    sb.add(Some(edge), req, Some(resp), 180, Role::Signal);
    // A JSON response issuing tokens, then the bearer used against EWS.
    let crid = sb.guid();
    let now = sb.now;
    let req = outlook::adal_token_code(
        "login.microsoftonline.com",
        "common",
        "https://outlook.office365.com",
        secrets::AUTH_CODES[2],
        &crid,
    );
    let at = user_token(
        "https://outlook.office365.com",
        OFFICE_CLIENT,
        now,
        secrets::SIG_SECRETS_ISSUED_AT,
    );
    let resp = Entra::mso().token_ok(
        "https://outlook.office365.com",
        &at,
        secrets::RT_SECRETS,
        &id_token(now),
        &crid,
        &mut sb.rng,
        now,
    );
    sb.add(Some(OUTLOOK), req, Some(resp), 100, Role::Signal);
    let bearer = format!(
        "Bearer {}",
        user_token(
            "https://mail.contoso.com",
            OFFICE_CLIENT,
            sb.now,
            secrets::SIG_SECRETS_AT
        )
    );
    let req = outlook::ews(EWS_URL, &exchange::oof_request(), Some(&bearer), &crid);
    ews_ok(
        sb,
        Some(OUTLOOK),
        req,
        OOF_RESPONSE,
        Coding::Identity,
        Framing::Length,
    );
    // Basic, then NTLM (negotiate / challenge / authenticate).
    let basic = format!("Basic {}", secrets::BASIC_CREDENTIAL);
    let req = outlook::ews(EWS_URL, &exchange::oof_request(), Some(&basic), &crid);
    ews_ok(
        sb,
        Some(OUTLOOK),
        req,
        OOF_RESPONSE,
        Coding::Identity,
        Framing::Length,
    );
    let req = outlook::ews(
        EWS_URL,
        &exchange::oof_request(),
        Some("NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="),
        &crid,
    );
    let now = sb.now;
    let mut ch = Exchange::new().challenge_401(
        "mail.contoso.com",
        &Challenge {
            diagnostics: None,
            ..Challenge::legacy_only()
        },
        &rid(sb),
        now,
    );
    ch.headers.retain(|(n, _)| n != "WWW-Authenticate");
    let at = ch
        .headers
        .iter()
        .position(|(n, _)| n == "X-Powered-By")
        .unwrap_or(0);
    ch.headers.insert(at, ("WWW-Authenticate".into(), "NTLM TlRMTVNTUAACAAAADgAOADgAAAAFgomiESIzRFVmd4gAAAAAAAAAAJQAlABGAAAACgBhSgAAAA9DAE8ATgBUAE8AUwBPAAIADgBDAE8ATgBUAE8AUwBPAAEADABFAFgAQwBIADAAMQAEABYAYwBvAG4AdABvAHMAbwAuAGwAbwBjAGEAbAADACQAZQB4AGMAaAAwADEALgBjAG8AbgB0AG8AcwBvAC4AbABvAGMAYQBsAAcACADYQmNvAVrdAQAAAAA=".into()));
    sb.add(Some(OUTLOOK), req, Some(ch), 5, Role::Signal);
    let req = outlook::ews(
        EWS_URL,
        &exchange::oof_request(),
        Some(&format!("NTLM {}", secrets::NTLM_AUTHENTICATE)),
        &crid,
    );
    let now = sb.now;
    let r = rid(sb);
    let mut ok = Exchange::new().ok_xml(
        exchange::soap_response(OOF_RESPONSE),
        Coding::Identity,
        Framing::Length,
        &r,
        now,
        true,
    );
    let at = ok
        .headers
        .iter()
        .position(|(n, _)| n == "X-Powered-By")
        .unwrap_or(0);
    ok.headers.insert(at, ("Set-Cookie".into(), format!("X-BackEndCookie={}; expires=Sun, 20-Dec-2026 07:16:00 GMT; path=/EWS; secure; HttpOnly", secrets::COOKIE_X_BACKEND)));
    sb.add(Some(OUTLOOK), req, Some(ok), 40, Role::Signal);
    // ADFS: the sign-in page posts back a WS-Fed wresult, and a SAML response.
    tunnel(sb, "sts.contoso.com", edge);
    let rstr = format!("<t:RequestSecurityTokenResponse xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\"><t:Lifetime><wsu:Created xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">2026-11-20T07:16:10.120Z</wsu:Created></t:Lifetime><wsp:AppliesTo xmlns:wsp=\"http://schemas.xmlsoap.org/ws/2004/09/policy\"><wsa:EndpointReference xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><wsa:Address>urn:federation:MicrosoftOnline</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><t:RequestedSecurityToken><saml:Assertion MajorVersion=\"1\" MinorVersion=\"1\" AssertionID=\"_5e0c0000-0000-4000-8000-00000000a55e\" Issuer=\"http://sts.contoso.com/adfs/services/trust\" xmlns:saml=\"urn:oasis:names:tc:SAML:1.0:assertion\"><saml:AttributeStatement><saml:Subject><saml:NameIdentifier>user@contoso.com</saml:NameIdentifier></saml:Subject></saml:AttributeStatement><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignatureValue>{}</ds:SignatureValue></ds:Signature></saml:Assertion></t:RequestedSecurityToken></t:RequestSecurityTokenResponse>", secrets::WRESULT_ASSERTION);
    let now = sb.now;
    let req = simple_get("https://sts.contoso.com/adfs/ls/?client-request-id=5d8e0000-0000-4000-8000-00000000beef&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx=LoginOptions%3D3", browser_ua, None);
    let mut req = req;
    req.headers.insert(
        2,
        (
            "Cookie".into(),
            format!(
                "MSISAuth={}; MSISAuthenticated=MTEvMjAvMjAyNiA3OjE2OjA5IEFN",
                secrets::COOKIE_MSISAUTH
            ),
        ),
    );
    let page = format!("<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" action=\"https://login.microsoftonline.com:443/login.srf\"><input type=\"hidden\" name=\"wa\" value=\"wsignin1.0\" /><input type=\"hidden\" name=\"wresult\" value=\"{}\" /><input type=\"hidden\" name=\"wctx\" value=\"LoginOptions=3\" /><noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\" /></noscript></form><script language=\"javascript\">window.setTimeout('document.forms[0].submit()', 0);</script></body></html>", rstr.replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;"));
    let resp = plain_resp(
        200,
        "OK",
        "text/html; charset=utf-8",
        &[("Server", "Microsoft-HTTPAPI/2.0")],
        page,
        Coding::Identity,
        Framing::Chunked(1024),
        now,
    );
    sb.add(Some(edge), req, Some(resp), 220, Role::Signal);
    let body = form(&[
        ("wa", "wsignin1.0"),
        ("wresult", &rstr),
        ("wctx", "LoginOptions=3"),
    ]);
    let now = sb.now;
    let req = post(
        "https://login.microsoftonline.com/login.srf",
        "application/x-www-form-urlencoded",
        &[
            ("Origin", "https://sts.contoso.com"),
            ("User-Agent", browser_ua),
        ],
        body,
    );
    let resp = plain_resp(
        200,
        "OK",
        "text/html; charset=utf-8",
        &[("Set-Cookie", &estsauth)],
        "<html><body>OK</body></html>".into(),
        Coding::Identity,
        Framing::Length,
        now,
    );
    sb.add(Some(edge), req, Some(resp), 130, Role::Signal);
    let body = format!(
        "SAMLResponse={}&RelayState=estsredirect%3D2",
        crate::wire::form_encode(secrets::SAML_RESPONSE_B64)
    );
    let now = sb.now;
    let req = post(
        "https://login.microsoftonline.com/login.srf",
        "application/x-www-form-urlencoded",
        &[
            ("Origin", "https://sts.contoso.com"),
            ("User-Agent", browser_ua),
        ],
        body,
    );
    let resp = plain_resp(
        200,
        "OK",
        "text/html; charset=utf-8",
        &[],
        "<html><body>OK</body></html>".into(),
        Coding::Identity,
        Framing::Length,
        now,
    );
    sb.add(Some(edge), req, Some(resp), 120, Role::Signal);
    // A daemon with client_secret, another with client_assertion.
    let ps = "powershell:5120";
    for with_secret in [true, false] {
        let body = if with_secret {
            form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "7a1e0000-0000-4000-8000-00000000d43e"),
                ("client_secret", secrets::CLIENT_SECRET),
                ("resource", "https://graph.microsoft.com"),
            ])
        } else {
            let iat = sb.now.unix();
            let claims = J::o(vec![
                (
                    "aud",
                    J::s(format!(
                        "https://login.microsoftonline.com/{TENANT_GUID}/oauth2/token"
                    )),
                ),
                ("iss", J::s("7a1e0000-0000-4000-8000-00000000d43e")),
                ("sub", J::s("7a1e0000-0000-4000-8000-00000000d43e")),
                ("jti", J::s("0c1d0000-0000-4000-8000-00000000a77e")),
                ("nbf", J::n(iat)),
                ("exp", J::n(iat + 600)),
            ]);
            form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "7a1e0000-0000-4000-8000-00000000d43e"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                (
                    "client_assertion",
                    &secrets::jwt(&claims, secrets::SIG_CLIENT_ASSERTION),
                ),
                ("resource", "https://graph.microsoft.com"),
            ])
        };
        let now = sb.now;
        let req = post(
            &format!("https://login.microsoftonline.com/{TENANT_GUID}/oauth2/token"),
            "application/x-www-form-urlencoded",
            &[(
                "User-Agent",
                "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.5007",
            )],
            body,
        );
        let resp = plain_resp(200, "OK", "application/json; charset=utf-8", &[], "{\"token_type\":\"Bearer\",\"expires_in\":\"3599\",\"ext_expires_in\":\"3599\",\"resource\":\"https://graph.microsoft.com\"}".into(), Coding::Identity, Framing::Length, now);
        sb.add(Some(ps), req, Some(resp), 90, Role::Signal);
    }
    // A JSON body with a password, and an RSA SecurID link inside a mail item.
    let now = sb.now;
    let req = post(
        "https://sts.contoso.com/api/v1/authenticate",
        "application/json",
        &[("User-Agent", browser_ua)],
        format!(
            "{{\"username\":\"{USER}\",\"password\":\"{}\",\"remember\":false}}",
            secrets::PASSWORD_JSON
        ),
    );
    let resp = plain_resp(
        401,
        "Unauthorized",
        "application/json",
        &[],
        "{\"error\":\"invalid_credentials\"}".into(),
        Coding::Identity,
        Framing::Length,
        now,
    );
    sb.add(Some(edge), req, Some(resp), 60, Role::Signal);
    let item = format!("<m:GetItemResponse xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><m:ResponseMessages><m:GetItemResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:Message><t:Subject>Your new RSA SecurID token</t:Subject><t:Body BodyType=\"HTML\">&lt;p&gt;Tap to import: &lt;a href=\"com.rsa.securid://ctf?ctfData={}\"&gt;import token&lt;/a&gt;&lt;/p&gt;</t:Body></t:Message></m:Items></m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse>", secrets::RSA_CTFDATA);
    let getitem = exchange::soap_request("<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape><t:IncludeMimeContent>false</t:IncludeMimeContent></m:ItemShape><m:ItemIds><t:ItemId Id=\"AAMkAGI2TG93AAA=\" /></m:ItemIds></m:GetItem>", "Exchange2013");
    let req = outlook::ews(EWS_URL, &getitem, Some(&bearer), &crid);
    ews_ok(
        sb,
        Some(OUTLOOK),
        req,
        &item,
        Coding::Gzip,
        Framing::Chunked(300),
    );
    // OWA canary cookie on a browser request.
    let now = sb.now;
    let mut req = simple_get(OWA_URL, browser_ua, None);
    req.headers.insert(
        2,
        (
            "Cookie".into(),
            format!(
                "X-OWA-CANARY={}; ClientId=8A1B0000C0DE4000; X-BackEndCookie={}",
                secrets::COOKIE_OWA_CANARY,
                secrets::COOKIE_X_BACKEND
            ),
        ),
    );
    let r = rid(sb);
    let resp = Exchange::new().ok_html(
        "<!DOCTYPE html><html><head><title>Outlook</title></head><body></body></html>".into(),
        &r,
        now,
    );
    sb.add(Some(edge), req, Some(resp), 80, Role::Signal);
}
