//! Hand-built Autodiscover sessions for the Autodiscover rules' unit tests.

pub use super::testkit::S;

pub const AD: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
pub const EXO_AD: &str = "https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml";

/// A POX request for `address` to `url`, answered `status` with `body` (XML).
pub fn ad(id: u64, url: &str, address: &str, status: u16, body: &str) -> S {
    let req = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>{address}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>");
    let s = S::new(id, "POST", url, status)
        .req_header("Content-Type", "text/xml")
        .req_body(&req)
        .at(id as i64 * 2);
    if body.is_empty() {
        s
    } else {
        s.resp_header("Content-Type", "text/xml; charset=utf-8")
            .resp_body(body)
    }
}

fn account(inner: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\"><Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\"><Account><AccountType>email</AccountType>{inner}</Account></Response></Autodiscover>")
}

pub fn settings_xml(host: &str, online: bool) -> String {
    let online = if online { "True" } else { "False" };
    account(&format!("<Action>settings</Action><MicrosoftOnline>{online}</MicrosoftOnline><Protocol Type=\"mapiHttp\" Version=\"1\"><MailStore><ExternalUrl>https://{host}/mapi/emsmdb/?MailboxId=x@contoso.com</ExternalUrl></MailStore></Protocol><Protocol><Type>EXHTTP</Type><Server>{host}</Server><EwsUrl>https://{host}/EWS/Exchange.asmx</EwsUrl><OABUrl>https://{host}/OAB/x/</OABUrl></Protocol>"))
}

pub fn redirect_addr_xml(address: &str) -> String {
    account(&format!(
        "<Action>redirectAddr</Action><RedirectAddr>{address}</RedirectAddr>"
    ))
}

pub fn redirect_url_xml(url: &str) -> String {
    account(&format!(
        "<Action>redirectUrl</Action><RedirectUrl>{url}</RedirectUrl>"
    ))
}

pub fn error_xml(code: &str, message: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\"><Response><Error Time=\"08:15:03.1\" Id=\"2954\"><ErrorCode>{code}</ErrorCode><Message>{message}</Message><DebugData /></Error></Response></Autodiscover>")
}

/// A POX request for `from` answered 200 `redirectAddr` to `to`.
pub fn redirect(id: u64, url: &str, from: &str, to: &str) -> S {
    ad(id, url, from, 200, &redirect_addr_xml(to))
}

/// On-premises settings for user@contoso.com publishing mail.contoso.com.
pub fn onprem_settings(id: u64) -> S {
    ad(
        id,
        AD,
        "user@contoso.com",
        200,
        &settings_xml("mail.contoso.com", false),
    )
}

/// Exchange Online's settings for the routing address.
pub fn exo_settings(id: u64) -> S {
    ad(
        id,
        EXO_AD,
        "user@contoso.mail.onmicrosoft.com",
        200,
        &settings_xml("outlook.office365.com", true),
    )
}

/// On-premises RedirectAddr for user@contoso.com to the tenant's routing address.
pub fn routed(id: u64) -> S {
    redirect(
        id,
        AD,
        "user@contoso.com",
        "user@contoso.mail.onmicrosoft.com",
    )
}
