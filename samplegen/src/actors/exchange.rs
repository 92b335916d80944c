//! On-premises Exchange (2016/2019) behind IIS: challenges, autodiscover, EWS, MAPI.

use crate::actors::{hdrs, ACS_ISSUER, EXO_APP, TENANT_GUID, USER};
use crate::clock::Instant;
use crate::model::{Body, Coding, Framing, Response, BODY_HEADERS};

/// An Exchange front end answering for one host name.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// Front-end server name (`X-FEServer`).
    pub fe: &'static str,
    /// Back-end server name.
    pub be: &'static str,
}

/// Which schemes a 401 offers.
#[derive(Clone, Debug)]
pub struct Challenge {
    /// Bearer with `authorization_uri` (hybrid modern auth on).
    pub bearer_hma: bool,
    /// A bare `Bearer` (no parameters).
    pub bearer_bare: bool,
    /// `error="invalid_token"` on the Bearer challenge.
    pub bearer_error: bool,
    /// Negotiate.
    pub negotiate: bool,
    /// NTLM.
    pub ntlm: bool,
    /// Basic realm (the host).
    pub basic: bool,
    /// `X-MS-Diagnostics` value.
    pub diagnostics: Option<String>,
    /// Fold every scheme into one `WWW-Authenticate` header.
    pub folded: bool,
    /// The tenant after `@` in `trusted_issuers` ([`TENANT_GUID`] unless told).
    pub tenant: String,
}

impl Challenge {
    /// Hybrid modern auth on, legacy schemes still offered (the usual on-premises default).
    pub fn hma_and_legacy() -> Challenge {
        Challenge {
            bearer_hma: true,
            bearer_bare: false,
            bearer_error: true,
            negotiate: true,
            ntlm: true,
            basic: true,
            diagnostics: Some(diag_invalid_token()),
            folded: false,
            tenant: TENANT_GUID.into(),
        }
    }
    /// Only legacy schemes: HMA not configured.
    pub fn legacy_only() -> Challenge {
        Challenge {
            bearer_hma: false,
            bearer_error: false,
            diagnostics: Some("4000000;reason=\"Flighting is not enabled for domain 'contoso.com'.\";error_category=\"oauth_not_available\"".into()),
            ..Challenge::hma_and_legacy()
        }
    }
    /// Only the Bearer challenge (legacy auth turned off on the vdir).
    pub fn bearer_only() -> Challenge {
        Challenge {
            bearer_hma: true,
            bearer_error: false,
            negotiate: false,
            ntlm: false,
            basic: false,
            diagnostics: None,
            ..Challenge::hma_and_legacy()
        }
    }
}

impl Challenge {
    /// Bearer-only vdir rejecting an expired token: `error="invalid_token"` and
    /// `x-ms-diagnostics: 2000001` "The token has expired.".
    pub fn bearer_expired() -> Challenge {
        Challenge {
            bearer_error: true,
            diagnostics: Some(diag_expired()),
            ..Challenge::bearer_only()
        }
    }
}

/// `2000001;reason="The token has expired.";error_category="invalid_token"`.
pub fn diag_expired() -> String {
    "2000001;reason=\"The token has expired.\";error_category=\"invalid_token\"".into()
}

/// `2000001;reason="...";error_category="invalid_token"` (no token presented).
pub fn diag_invalid_token() -> String {
    "2000001;reason=\"The token has an invalid signature.\";error_category=\"invalid_token\"".into()
}

/// The Bearer challenge parameters Exchange sends.
pub fn bearer_challenge(authorization_uri: &str, error: bool) -> String {
    bearer_challenge_for(TENANT_GUID, authorization_uri, error)
}

/// [`bearer_challenge`] of an Exchange organisation in tenant `tenant`.
pub fn bearer_challenge_for(tenant: &str, authorization_uri: &str, error: bool) -> String {
    let mut s = format!(
        "Bearer client_id=\"{EXO_APP}\", trusted_issuers=\"{ACS_ISSUER}@{tenant}\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"{authorization_uri}\""
    );
    if error {
        s.push_str(", error=\"invalid_token\"");
    }
    s
}

fn resp(status: u16, reason: &str, headers: Vec<(String, String)>, body: Option<Body>) -> Response {
    Response {
        status,
        reason: reason.into(),
        version: "HTTP/1.1".into(),
        headers,
        body,
    }
}

impl Exchange {
    /// The usual front end.
    pub fn new() -> Exchange {
        Exchange {
            fe: "EXCH01",
            be: "EXCH02",
        }
    }

    fn common(&self, request_id: &str) -> Vec<(String, String)> {
        hdrs(&[
            ("Server", "Microsoft-IIS/10.0"),
            ("request-id", request_id),
            (
                "X-CalculatedBETarget",
                &format!("{}.contoso.local", self.be.to_ascii_lowercase()),
            ),
        ])
    }

    /// A 401 challenge. `host` is the realm for Basic.
    pub fn challenge_401(
        &self,
        host: &str,
        c: &Challenge,
        request_id: &str,
        now: Instant,
    ) -> Response {
        let mut h = hdrs(&[("Cache-Control", "private")]);
        h.extend(self.common(request_id));
        h.extend(hdrs(&[
            ("X-BackEndHttpStatus", "401"),
            ("X-DiagInfo", self.be),
            ("X-BEServer", self.be),
        ]));
        let mut schemes: Vec<String> = Vec::new();
        if c.bearer_hma {
            schemes.push(bearer_challenge_for(
                &c.tenant,
                "https://login.windows.net/common/oauth2/authorize",
                c.bearer_error,
            ));
        } else if c.bearer_bare {
            schemes.push("Bearer".into());
        }
        if c.negotiate {
            schemes.push("Negotiate".into());
        }
        if c.ntlm {
            schemes.push("NTLM".into());
        }
        if c.basic {
            schemes.push(format!("Basic realm=\"{host}\""));
        }
        if c.folded {
            h.push(("WWW-Authenticate".into(), schemes.join(", ")));
        } else {
            for s in schemes {
                h.push(("WWW-Authenticate".into(), s));
            }
        }
        if let Some(d) = &c.diagnostics {
            h.push(("X-MS-Diagnostics".into(), d.clone()));
        }
        h.extend(hdrs(&[
            ("X-Powered-By", "ASP.NET"),
            ("X-FEServer", self.fe),
            ("Date", &now.http_date()),
            ("Content-Length", "0"),
        ]));
        resp(401, "Unauthorized", h, None)
    }

    /// A 401 rejecting a presented token (`x-ms-diagnostics` only, lower-case as EWS/MAPI send it).
    pub fn token_rejected_401(
        &self,
        host: &str,
        diagnostics: &str,
        request_id: &str,
        now: Instant,
    ) -> Response {
        let mut h = hdrs(&[("Cache-Control", "private")]);
        h.extend(self.common(request_id));
        h.extend(hdrs(&[
            ("X-BackEndHttpStatus", "401"),
            ("x-ms-diagnostics", diagnostics),
            ("X-DiagInfo", self.be),
            ("X-BEServer", self.be),
        ]));
        h.push((
            "WWW-Authenticate".into(),
            bearer_challenge("https://login.windows.net/common/oauth2/authorize", true),
        ));
        h.push(("WWW-Authenticate".into(), "Negotiate".into()));
        h.push(("WWW-Authenticate".into(), "NTLM".into()));
        h.push(("WWW-Authenticate".into(), format!("Basic realm=\"{host}\"")));
        h.extend(hdrs(&[
            ("X-Powered-By", "ASP.NET"),
            ("X-FEServer", self.fe),
            ("Date", &now.http_date()),
            ("Content-Length", "0"),
        ]));
        resp(401, "Unauthorized", h, None)
    }

    /// A 200 with an XML/SOAP body, framed as given.
    pub fn ok_xml(
        &self,
        body: String,
        coding: Coding,
        framing: Framing,
        request_id: &str,
        now: Instant,
        soap: bool,
    ) -> Response {
        let mut h = hdrs(&[
            ("Cache-Control", "private"),
            ("Content-Type", "text/xml; charset=utf-8"),
            (BODY_HEADERS, ""),
            ("Vary", "Accept-Encoding"),
        ]);
        h.extend(self.common(request_id));
        h.extend(hdrs(&[("X-BackEndHttpStatus", "200")]));
        if soap {
            h.extend(hdrs(&[
                ("X-EwsPerformanceData", "RpcC=2;RpcL=0;LdapC=1;LdapL=0;"),
                ("X-AspNet-Version", "4.0.30319"),
            ]));
        }
        h.extend(hdrs(&[
            ("X-DiagInfo", self.be),
            ("X-BEServer", self.be),
            ("X-Powered-By", "ASP.NET"),
            ("X-FEServer", self.fe),
            ("Date", &now.http_date()),
        ]));
        resp(200, "OK", h, Some(Body::coded(body, coding, framing)))
    }

    /// The MAPI/HTTP Connect success (binary body, chunked).
    pub fn mapi_ok(&self, request_id: &str, now: Instant) -> Response {
        let mut h = hdrs(&[
            ("Cache-Control", "private"),
            ("Content-Type", "application/mapi-http"),
            (BODY_HEADERS, ""),
        ]);
        h.extend(self.common(request_id));
        h.extend(hdrs(&[
            ("X-RequestType", "Connect"),
            ("X-ResponseCode", "0"),
            ("X-PendingPeriod", "15000"),
            ("X-ExpirationInfo", "900000"),
            ("X-ServerApplication", "Exchange/15.02.1544.004"),
            (
                "Set-Cookie",
                "MapiContext=MapiContext=1; path=/mapi/emsmdb/; secure; HttpOnly",
            ),
            (
                "Set-Cookie",
                "MapiSequence=0-/pL0kQ==; path=/mapi/emsmdb/; secure; HttpOnly",
            ),
            ("X-Powered-By", "ASP.NET"),
            ("X-FEServer", self.fe),
            ("Date", &now.http_date()),
        ]));
        let mut body = b"PROCESSING\r\nDONE\r\nX-ElapsedTime: 12\r\nX-StartTime: ".to_vec();
        body.extend_from_slice(now.http_date().as_bytes());
        body.extend_from_slice(b"\r\n\r\n\x00\x00\x00\x00\x00\x00\x00\x00\xe8\x03\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00");
        resp(200, "OK", h, Some(Body::chunked(body, 64)))
    }

    /// A bare 200 with an HTML body (OWA sign-in page stand-in).
    pub fn ok_html(&self, html: String, request_id: &str, now: Instant) -> Response {
        let mut h = hdrs(&[
            ("Cache-Control", "no-cache, no-store"),
            ("Pragma", "no-cache"),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Expires", "-1"),
            (BODY_HEADERS, ""),
            ("Vary", "Accept-Encoding"),
        ]);
        h.extend(self.common(request_id));
        h.extend(hdrs(&[
            ("X-Powered-By", "ASP.NET"),
            ("X-FEServer", self.fe),
            ("Date", &now.http_date()),
        ]));
        resp(
            200,
            "OK",
            h,
            Some(Body::coded(html, Coding::Gzip, Framing::Chunked(1024))),
        )
    }
}

impl Default for Exchange {
    fn default() -> Self {
        Exchange::new()
    }
}

/// The Outlook autodiscover (POX) response for `USER`.
pub fn autodiscover_response_xml(mail_host: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>Contoso User</DisplayName>
      <LegacyDN>/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=user</LegacyDN>
      <AutoDiscoverSMTPAddress>{USER}</AutoDiscoverSMTPAddress>
      <DeploymentId>5b0d41c0-0000-4000-8000-00000000d00d</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <MicrosoftOnline>False</MicrosoftOnline>
      <ConsumerMailbox>False</ConsumerMailbox>
      <Protocol Type="mapiHttp" Version="1">
        <MailStore>
          <InternalUrl>https://{mail_host}/mapi/emsmdb/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com</InternalUrl>
          <ExternalUrl>https://{mail_host}/mapi/emsmdb/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com</ExternalUrl>
        </MailStore>
        <AddressBook>
          <InternalUrl>https://{mail_host}/mapi/nspi/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com</InternalUrl>
          <ExternalUrl>https://{mail_host}/mapi/nspi/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com</ExternalUrl>
        </AddressBook>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <Internal>
          <OWAUrl AuthenticationMethod="Basic, Fba">https://{mail_host}/owa/</OWAUrl>
        </Internal>
        <External>
          <OWAUrl AuthenticationMethod="Fba">https://{mail_host}/owa/</OWAUrl>
        </External>
      </Protocol>
      <Protocol>
        <Type>EXHTTP</Type>
        <Server>{mail_host}</Server>
        <SSL>On</SSL>
        <AuthPackage>Negotiate</AuthPackage>
        <ASUrl>https://{mail_host}/EWS/Exchange.asmx</ASUrl>
        <EwsUrl>https://{mail_host}/EWS/Exchange.asmx</EwsUrl>
        <OOFUrl>https://{mail_host}/EWS/Exchange.asmx</OOFUrl>
        <OABUrl>https://{mail_host}/OAB/0f5a0000-0000-4000-8000-00000000oab1/</OABUrl>
        <ServerExclusiveConnect>On</ServerExclusiveConnect>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>"#
    )
}

/// An EWS SOAP envelope around `body` (request side).
pub fn soap_request(body: &str, version: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><soap:Header><t:RequestServerVersion Version="{version}" /></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

/// An EWS SOAP response envelope around `body`, with `ServerVersionInfo`.
pub fn soap_response(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="2" MajorBuildNumber="1544" MinorBuildNumber="4" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" xmlns="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" /></s:Header><s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">{body}</s:Body></s:Envelope>"#
    )
}

/// `GetUserOofSettings` request for `USER` (Outlook's usual first EWS call).
pub fn oof_request() -> String {
    soap_request(
        &format!("<m:GetUserOofSettingsRequest><t:Mailbox><t:Address>{USER}</t:Address></t:Mailbox></m:GetUserOofSettingsRequest>"),
        "Exchange2013",
    )
}
