//! Issue 19 items 3 and 6: failures inside Exchange's answers (free/busy errors, MAPI over
//! HTTP refusals, EWS response codes), and a healthy set of the same calls.

use crate::actors::entra::user_token;
use crate::actors::exchange::{self, Exchange};
use crate::actors::{hdrs, outlook, OFFICE_CLIENT, OUTLOOK};
use crate::model::{Body, Coding, Framing, Request, Response, Role, BODY_HEADERS};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{noise_run, tunnel};
use crate::scenarios::hybrid::{ews_ok, ioc_availability, ioc_token};
use crate::secrets;

const EWS_URL: &str = "https://mail.contoso.com/EWS/Exchange.asmx";
const MAPI_URL: &str = "https://mail.contoso.com/mapi/emsmdb/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com";
const SERVICE_UA: &str = "ExchangeServicesClient/15.00.0913.015";

fn bearer(sb: &Sb) -> String {
    let token = user_token(
        "https://mail.contoso.com",
        OFFICE_CLIENT,
        sb.now,
        secrets::SIG_BEARER_ONLY,
    );
    format!("Bearer {token}")
}

fn availability_request(targets: &[&str]) -> String {
    let data: String = targets
        .iter()
        .map(|t| format!("<t:MailboxData><t:Email><t:Address>{t}</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType><t:ExcludeConflicts>false</t:ExcludeConflicts></t:MailboxData>"))
        .collect();
    exchange::soap_request(
        &format!(
            r#"<m:GetUserAvailabilityRequest><t:TimeZone><t:Bias>-60</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>03:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime><t:DaylightTime><t:Bias>-60</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>5</t:DayOrder><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:DaylightTime></t:TimeZone><m:MailboxDataArray>{data}</m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-11-20T00:00:00</t:StartTime><t:EndTime>2026-11-22T00:00:00</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>30</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>DetailedMerged</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest>"#
        ),
        "Exchange2013",
    )
}

/// Outlook's `GetUserAvailability` for `targets`.
fn outlook_availability(auth: &str, crid: &str, targets: &[&str]) -> Request {
    outlook::ews_op(
        EWS_URL,
        "GetUserAvailability",
        &availability_request(targets),
        Some(auth),
        crid,
    )
}

/// One `FreeBusyResponse`: success with a merged view, or an error.
fn fb_response(error: Option<(&str, &str, &str)>) -> String {
    match error {
        None => r#"<FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><FreeBusyView><FreeBusyViewType xmlns="http://schemas.microsoft.com/exchange/services/2006/types">FreeBusyMerged</FreeBusyViewType><MergedFreeBusy xmlns="http://schemas.microsoft.com/exchange/services/2006/types">000000000000000022220000000000000000000000000000000000000000000000000000000000000000000000000000</MergedFreeBusy></FreeBusyView></FreeBusyResponse>"#.to_string(),
        Some((class, code, text)) => format!(
            r#"<FreeBusyResponse><ResponseMessage ResponseClass="{class}"><MessageText>{text}</MessageText><ResponseCode>{code}</ResponseCode><DescriptiveLinkKey>0</DescriptiveLinkKey><MessageXml><ExceptionType xmlns="http://schemas.microsoft.com/exchange/services/2006/errors">Microsoft.Exchange.InfoWorker.Common.Availability.ProxyWebRequestProcessingException</ExceptionType></MessageXml></ResponseMessage><FreeBusyView><FreeBusyViewType xmlns="http://schemas.microsoft.com/exchange/services/2006/types">None</FreeBusyViewType></FreeBusyView></FreeBusyResponse>"#
        ),
    }
}

fn availability_answer(items: &[String]) -> String {
    format!(
        r#"<GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><FreeBusyResponseArray>{}</FreeBusyResponseArray></GetUserAvailabilityResponse>"#,
        items.concat()
    )
}

fn ews_call(sb: &mut Sb, req: Request, answer: &str, coding: Coding, framing: Framing) -> usize {
    ews_ok(sb, Some(OUTLOOK), req, answer, coding, framing)
}

const PROXY_401: &str = "Proxy web request failed., inner exception: The remote server returned an error: (401) Unauthorized., Could not find an OAuth token for the target, LID: 43532";

/// `freebusy-proxy-failed`: Outlook (on-premises mailbox) asks on-premises EWS for the
/// free/busy of a cloud mailbox and of a local room; the room answers, the cloud mailbox's
/// lookup fails inside the 200: "Proxy web request failed ... (401)" (the on-premises side's
/// OAuth call to Exchange Online was refused). Twice, a minute apart.
pub fn freebusy_proxy_failed(sb: &mut Sb) {
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    noise_run(sb, 0, 3);
    for _ in 0..2 {
        let auth = bearer(sb);
        let crid = sb.guid();
        let req = outlook_availability(
            &auth,
            &crid,
            &["room101@contoso.com", "cloudowner@contoso.com"],
        );
        let answer = availability_answer(&[
            fb_response(None),
            fb_response(Some((
                "Error",
                "ErrorProxyRequestProcessingFailed",
                PROXY_401,
            ))),
        ]);
        ews_call(sb, req, &answer, Coding::Gzip, Framing::Chunked(512));
        noise_run(sb, 1, 2);
        sb.wait(60_000);
    }
}

fn mapi_connect_answer(sb: &mut Sb, error: u32) -> Response {
    let r = sb.guid();
    let mut resp = Exchange::new().mapi_ok(&r, sb.now);
    let mut body = b"PROCESSING\r\nDONE\r\nX-ElapsedTime: 9\r\nX-StartTime: ".to_vec();
    body.extend_from_slice(sb.now.http_date().as_bytes());
    body.extend_from_slice(b"\r\n\r\n");
    body.extend_from_slice(&0u32.to_le_bytes());
    body.extend_from_slice(&error.to_le_bytes());
    body.extend_from_slice(b"\xe8\x03\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00");
    resp.body = Some(Body::chunked(body, 64));
    resp
}

/// A failed MAPI answer: `X-ResponseCode` not 0 and the diagnostic text as the body.
fn mapi_failure(sb: &mut Sb, request_type: &str, code: &str, text: &str) -> Response {
    let r = sb.guid();
    let mut resp = Exchange::new().mapi_ok(&r, sb.now);
    for (n, v) in resp.headers.iter_mut() {
        if n == "X-ResponseCode" {
            *v = code.into();
        } else if n == "X-RequestType" {
            *v = request_type.into();
        }
    }
    resp.headers.retain(|(n, _)| n != "Set-Cookie");
    resp.headers.push(("X-DiagInfo".into(), "EXCH01".into()));
    resp.body = Some(Body::chunked(text.as_bytes().to_vec(), 64));
    resp
}

/// `mapi-protocol-disabled`: Outlook's MAPI over HTTP Connect fails (`X-ResponseCode: 1`)
/// with a diagnostic body naming `ProtocolDisabled` (ec 2008): MAPI is disabled for the
/// mailbox. Outlook tries three times; EWS works. (The binary form, a Connect accepted by
/// the transport whose `ErrorCode` is 0x7D8, is read too, but `traceadal redact` cannot keep
/// a binary body: the sample uses the text form that survives redaction.)
pub fn mapi_protocol_disabled(sb: &mut Sb) {
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    let auth = bearer(sb);
    let crid = sb.guid();
    let req = outlook::ews(EWS_URL, &exchange::oof_request(), Some(&auth), &crid);
    ews_call(sb, req, OOF_OK, Coding::Identity, Framing::Length);
    for seq in 1..=3 {
        let req = outlook::mapi_connect(MAPI_URL, Some(&auth), &crid, seq);
        let resp = mapi_failure(
            sb,
            "Connect",
            "1",
            "MapiExceptionProtocolDisabled: Unable to make connection to the server. (hr=0x80004005, ec=2008)\r\nDiagnostic context: ProtocolDisabled",
        );
        sb.add(Some(OUTLOOK), req, Some(resp), 40, Role::Signal);
        noise_run(sb, 2, 1);
        sb.wait(15_000);
    }
}

const OOF_OK: &str = r#"<GetUserOofSettingsResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage><OofSettings xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><OofState>Disabled</OofState><ExternalAudience>All</ExternalAudience><Duration><StartTime>2026-11-20T07:00:00</StartTime><EndTime>2026-11-21T07:00:00</EndTime></Duration><InternalReply><Message /></InternalReply><ExternalReply><Message /></ExternalReply></OofSettings><AllowExternalOof>All</AllowExternalOof></GetUserOofSettingsResponse>"#;

const IMPERSONATION_DENIED: &str = r#"<m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages><m:GetFolderResponseMessage ResponseClass="Error"><m:MessageText>The account does not have permission to impersonate the requested user.</m:MessageText><m:ResponseCode>ErrorImpersonateUserDenied</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Folders /></m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse>"#;

fn impersonated_get_folder(as_user: &str) -> String {
    exchange::soap_request(
        &format!(r#"<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{as_user}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:FolderIds></m:GetFolder>"#),
        "Exchange2013_SP1",
    )
    .replace(
        "<soap:Header>",
        &format!("<soap:Header><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{as_user}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>"),
    )
}

/// `ews-impersonation-denied`: a room-booking service account calls EWS `GetFolder` with
/// `ExchangeImpersonation` for two mailboxes; both answers are 200 with
/// `ErrorImpersonateUserDenied` (the account lacks ApplicationImpersonation).
pub fn ews_impersonation_denied(sb: &mut Sb) {
    noise_run(sb, 0, 2);
    for user in ["owner@contoso.com", "room101@contoso.com"] {
        let auth = bearer(sb);
        let mut h = hdrs(&[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("Accept", "text/xml"),
            ("User-Agent", SERVICE_UA),
            ("Authorization", &auth),
            ("X-AnchorMailbox", user),
            (
                "SOAPAction",
                "\"http://schemas.microsoft.com/exchange/services/2006/messages/GetFolder\"",
            ),
            ("Host", "mail.contoso.com"),
        ]);
        h.push((BODY_HEADERS.into(), String::new()));
        h.push(("Expect".into(), "100-continue".into()));
        let req = Request {
            method: "POST".into(),
            url: EWS_URL.into(),
            version: "HTTP/1.1".into(),
            headers: h,
            body: Some(Body::plain(impersonated_get_folder(user))),
        };
        let answer = IMPERSONATION_DENIED;
        let r = sb.guid();
        let now = sb.now;
        let resp = Exchange::new().ok_xml(
            exchange::soap_response(answer),
            Coding::Identity,
            Framing::Length,
            &r,
            now,
            true,
        );
        sb.add(Some("roombooking:5120"), req, Some(resp), 35, Role::Signal);
        sb.wait(1_500);
    }
    noise_run(sb, 1, 2);
}

/// `answers-healthy`: the same calls, all working, with the answers that are normal:
/// free/busy with a `Warning` for a distribution list too large to expand, `ResolveNames`
/// with no result, MAPI Connect and Execute, a lost session context (10) after which
/// Outlook connects again successfully.
pub fn answers_healthy(sb: &mut Sb) {
    tunnel(sb, "mail.contoso.com", OUTLOOK);
    let auth = bearer(sb);
    let crid = sb.guid();
    let req = outlook::mapi_connect(MAPI_URL, Some(&auth), &crid, 1);
    let resp = mapi_connect_answer(sb, 0);
    sb.add(Some(OUTLOOK), req, Some(resp), 40, Role::Signal);
    let req = outlook_availability(
        &auth,
        &crid,
        &["room101@contoso.com", "alldepartment@contoso.com"],
    );
    let answer = availability_answer(&[
        fb_response(None),
        fb_response(Some((
            "Warning",
            "ErrorFreeBusyDLLimitReached",
            "The number of members in the distribution list exceeds the allowed limit.",
        ))),
    ]);
    ews_call(sb, req, &answer, Coding::Gzip, Framing::Chunked(512));
    noise_run(sb, 0, 2);
    let req = outlook::ews_op(
        EWS_URL,
        "ResolveNames",
        &exchange::soap_request(
            r#"<m:ResolveNames ReturnFullContactData="true"><m:UnresolvedEntry>zz-nobody</m:UnresolvedEntry></m:ResolveNames>"#,
            "Exchange2013",
        ),
        Some(&auth),
        &crid,
    );
    let answer = r#"<m:ResolveNamesResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages><m:ResolveNamesResponseMessage ResponseClass="Error"><m:MessageText>No results were found.</m:MessageText><m:ResponseCode>ErrorNameResolutionNoResults</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:ResolveNamesResponseMessage></m:ResponseMessages></m:ResolveNamesResponse>"#;
    ews_call(sb, req, answer, Coding::Identity, Framing::Length);
    // The server restarted: the next Execute finds no context, Outlook connects again.
    sb.wait(30_000);
    let mut req = outlook::mapi_connect(MAPI_URL, Some(&auth), &crid, 2);
    if let Some(h) = req.headers.iter_mut().find(|(n, _)| n == "X-RequestType") {
        h.1 = "Execute".into();
    }
    let resp = mapi_failure(sb, "Execute", "10", "Context not found.");
    sb.add(Some(OUTLOOK), req, Some(resp), 30, Role::Signal);
    let req = outlook::mapi_connect(MAPI_URL, Some(&auth), &crid, 3);
    let resp = mapi_connect_answer(sb, 0);
    sb.add(Some(OUTLOOK), req, Some(resp), 40, Role::Signal);
    noise_run(sb, 2, 2);
}

/// `freebusy-ioc-recipient-not-found`: Exchange Online's IntraOrganizationConnector asks
/// on-premises EWS (OAuth, `Exchange/15.20` user agent) for the free/busy of a mailbox that
/// on-premises does not know: 200 with ResponseClass Error `ErrorMailRecipientNotFound`
/// "Unable to resolve e-mail address ... to an Active Directory object.", twice.
pub fn freebusy_ioc_recipient_not_found(sb: &mut Sb) {
    let token = ioc_token(sb.now, "mail.contoso.com");
    for target in ["newroom@contoso.com", "newroom@contoso.com"] {
        let crid = sb.guid();
        let mut req = ioc_availability(EWS_URL, target, &token, &crid);
        req.body = Some(Body::plain(availability_request(&[target])));
        let answer = availability_answer(&[fb_response(Some((
            "Error",
            "ErrorMailRecipientNotFound",
            &format!(
                "Unable to resolve e-mail address &lt;{target}&gt; to an Active Directory object."
            ),
        )))]);
        ews_ok(
            sb,
            None,
            req,
            &answer,
            Coding::Identity,
            Framing::Chunked(400),
        );
        sb.wait(45_000);
    }
}
