//! Bulk captures for the benchmarks, the batch tests and `scripts/bench.sh` (through
//! `examples/gencaptures.rs`): thousands to hundreds of thousands of sessions, written as they
//! are made so memory stays flat, with the same actors and writers as the samples, so a bulk
//! capture looks like a sample on the wire (header order, chunked + gzip/deflate bodies,
//! `_m.xml` timers and flags, `_index.htm`, Chrome's HAR members).
//!
//! A capture is Outlook talking to a hybrid on-premises Exchange:
//!
//! - every [`AUTH_EVERY`] sessions the modern-auth round: autodiscover answered `401` with the
//!   Bearer challenge (`trusted_issuers`, `authorization_uri`), then a refresh-token grant to
//!   `login.microsoftonline.com/<tenant>/oauth2/token` answered `400` with AADSTS500011 (gzip,
//!   chunked). A clean capture gets a token once and then presents it to autodiscover.
//! - every 7th session background traffic ([`noise::kind`]: ECS, telemetry, Office config,
//!   Teams presence, CDN...);
//! - the rest EWS `FindItem` (SOAP answers of 0.5 to 5 KB with random ids, gzip, chunked);
//! - with [`Scenario::large_body`], one session in the middle carries a 1 MiB incompressible
//!   body (an OAB download): the *largest entry* peak memory is compared against.
//!
//! Deterministic: the same arguments write the same bytes. A bulk SAZ is byte for byte what
//! [`saz::saz_bytes`] writes for the same sessions, and a bulk HAR what [`har::har_bytes`]
//! writes compact (tested below); only the sessions are never all in memory at once.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use zip::ZipWriter;

use crate::actors::entra::{id_token, user_token, AadError, Entra};
use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::{hdrs, noise, outlook, OFFICE_CLIENT, OUTLOOK, TENANT_GUID};
use crate::clock::Rng;
use crate::har::{self, HarOptions};
use crate::model::{Body, Coding, Framing, Response, Role, Session, BODY_HEADERS};
use crate::saz::{self, SazOptions};
use crate::scenarios::builder::Sb;
use crate::secrets;
use crate::wire::{self, RequestForm};

/// Sessions between two modern-auth rounds.
pub const AUTH_EVERY: usize = 50;
/// The size of the one large body (an offline address book file).
pub const LARGE_BODY: usize = 1024 * 1024;

/// What a generated capture shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// The on-premises mail domain (`contoso.com`): autodiscover.DOMAIN, mail.DOMAIN.
    pub domain: String,
    /// The tenant in the token endpoint path (a domain or a GUID).
    pub tenant: String,
    /// `true`: AADSTS500011 for the autodiscover resource; `false`: a token is issued.
    pub spn_missing: bool,
    /// Add the one large body (for memory measurements).
    pub large_body: bool,
}

impl Scenario {
    /// The AADSTS500011 loop for `domain`, with the large body.
    pub fn broken(domain: &str) -> Scenario {
        Scenario {
            domain: domain.to_string(),
            tenant: domain.to_string(),
            spn_missing: true,
            large_body: true,
        }
    }

    /// A healthy capture for `domain`, with the large body.
    pub fn clean(domain: &str) -> Scenario {
        Scenario {
            spn_missing: false,
            ..Scenario::broken(domain)
        }
    }

    /// The tenant's GUID in the challenge's `trusted_issuers` (the samples' tenant for
    /// contoso.com, one derived from the domain otherwise).
    pub fn tenant_guid(&self) -> String {
        if self.domain == "contoso.com" {
            TENANT_GUID.to_string()
        } else {
            Rng::for_name(&self.domain).guid()
        }
    }

    /// The tenant's display name in AADSTS messages: `Fabrikam Ltd` for fabrikam.com.
    pub fn tenant_name(&self) -> String {
        let stem = self.domain.split('.').next().unwrap_or("");
        let mut c = stem.chars();
        match c.next() {
            Some(f) => format!("{}{} Ltd", f.to_ascii_uppercase(), c.as_str()),
            None => "Tenant".to_string(),
        }
    }

    fn seed(&self, n: usize) -> String {
        format!(
            "bulk/{}/{}/{n}/{}/{}",
            self.domain, self.tenant, self.spn_missing, self.large_body
        )
    }
}

/// The sessions of a capture of `n`, made one at a time.
pub struct Sessions {
    sb: Sb,
    scenario: Scenario,
    n: usize,
    i: usize,
    token: Option<String>,
}

/// The sessions of a capture of `n` sessions showing `scenario`.
pub fn sessions(n: usize, scenario: &Scenario) -> Sessions {
    Sessions {
        sb: Sb::new(&scenario.seed(n)),
        scenario: scenario.clone(),
        n,
        i: 0,
        token: None,
    }
}

impl Iterator for Sessions {
    type Item = Session;

    fn next(&mut self) -> Option<Session> {
        if self.i >= self.n {
            return None;
        }
        let i = self.i;
        self.i += 1;
        self.add(i);
        // The builder keeps every session; take each out as soon as it is placed on the
        // timeline (the connection table and the clock are all it needs to remember).
        self.sb.sessions.pop()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n - self.i, Some(self.n - self.i))
    }
}

impl Sessions {
    fn add(&mut self, i: usize) {
        let s = &self.scenario;
        let autodiscover_host = format!("autodiscover.{}", s.domain);
        let autodiscover_url = format!("https://{autodiscover_host}/autodiscover/autodiscover.xml");
        let resource = format!("https://{autodiscover_host}");
        let mail = format!("mail.{}", s.domain);
        let exch = Exchange::new();
        let entra = Entra::mso();
        let sb = &mut self.sb;
        let now = sb.now;
        if s.large_body && i == self.n / 2 && self.n > 2 {
            let req = outlook::get(
                &format!("https://{mail}/OAB/2f6bd9a4-1b1c-4d9e-9f0e-5a6b7c8d9e0f/oab.lzx"),
                hdrs(&[
                    ("User-Agent", outlook::OUTLOOK_UA),
                    ("Accept-Encoding", "gzip, deflate"),
                    ("Host", &mail),
                    ("Connection", "Keep-Alive"),
                ]),
            );
            let data: Vec<u8> = (0..LARGE_BODY / 8)
                .flat_map(|_| sb.rng.next_u64().to_le_bytes())
                .collect();
            let rid = sb.guid();
            let resp = Response {
                status: 200,
                reason: "OK".into(),
                version: "HTTP/1.1".into(),
                headers: hdrs(&[
                    ("Cache-Control", "private"),
                    ("Content-Type", "application/octet-stream"),
                    (BODY_HEADERS, ""),
                    ("Server", "Microsoft-IIS/10.0"),
                    ("request-id", &rid),
                    ("X-Powered-By", "ASP.NET"),
                    ("X-FEServer", exch.fe),
                    ("Date", &now.http_date()),
                ]),
                body: Some(Body::plain(data)),
            };
            sb.add(Some(OUTLOOK), req, Some(resp), 40, Role::Noise);
            return;
        }
        // A clean capture goes through the round once and then presents its token.
        let authorised = !s.spn_missing && i >= AUTH_EVERY;
        match (i % AUTH_EVERY, i % 7) {
            (0, _) if authorised => {
                let crid = sb.guid();
                let rid = sb.guid();
                let bearer = format!("Bearer {}", self.token.as_deref().unwrap_or(""));
                let req = outlook::autodiscover(&autodiscover_url, false, Some(&bearer), &crid);
                let resp = exch.ok_xml(
                    exchange::autodiscover_response_xml(&mail),
                    Coding::Gzip,
                    Framing::Chunked(512),
                    &rid,
                    now,
                    false,
                );
                sb.add(Some(OUTLOOK), req, Some(resp), 180, Role::Signal);
            }
            (0, _) => {
                let crid = sb.guid();
                let rid = sb.guid();
                let req = outlook::autodiscover(&autodiscover_url, false, None, &crid);
                let challenge = Challenge {
                    tenant: s.tenant_guid(),
                    ..Challenge::hma_and_legacy()
                };
                let resp = exch.challenge_401(&autodiscover_host, &challenge, &rid, now);
                sb.add(Some(OUTLOOK), req, Some(resp), 9, Role::Signal);
            }
            (1, _) if !authorised => {
                let crid = sb.guid();
                let req = outlook::adal_token_refresh(
                    entra.host,
                    &s.tenant,
                    &resource,
                    secrets::RT_OUTLOOK_MRRT,
                    &crid,
                );
                let resp = if s.spn_missing {
                    let e = AadError::e500011(&resource, &s.tenant_name());
                    let (coding, framing) = (Coding::Gzip, Framing::Chunked(4096));
                    entra.token_error(&e, &crid, &mut sb.rng, now, coding, framing)
                } else {
                    let at = user_token(&resource, OFFICE_CLIENT, now, secrets::SIG_OUTLOOK_AT);
                    let resp = entra.token_ok(
                        &resource,
                        &at,
                        secrets::RT_ISSUED,
                        &id_token(now),
                        &crid,
                        &mut sb.rng,
                        now,
                    );
                    self.token = Some(at);
                    resp
                };
                sb.add(Some(OUTLOOK), req, Some(resp), 95, Role::Signal);
            }
            (_, 3) => {
                let k = i / 7;
                let nz = noise::kind(k, &mut sb.rng, now);
                sb.add(nz.process, nz.request, nz.response, nz.wait_ms, Role::Noise);
            }
            _ => {
                let crid = sb.guid();
                let rid = sb.guid();
                let soap = exchange::soap_request(FIND_ITEM, "Exchange2013");
                let req = outlook::ews_op(
                    &format!("https://{mail}/EWS/Exchange.asmx"),
                    "FindItem",
                    &soap,
                    None,
                    &crid,
                );
                let body = exchange::soap_response(&find_item_response(&mut sb.rng));
                let resp = exch.ok_xml(body, Coding::Gzip, Framing::Chunked(4096), &rid, now, true);
                sb.add(Some(OUTLOOK), req, Some(resp), 25, Role::Noise);
            }
        }
    }
}

const FIND_ITEM: &str = "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned=\"50\" Offset=\"0\" BasePoint=\"Beginning\"/><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>";

/// A `FindItemResponse` of 1 to 12 messages with random ids (0.5 to 5 KB, so that it does not
/// compress unrealistically well).
fn find_item_response(rng: &mut Rng) -> String {
    let items = rng.range(1, 12);
    let mut s = format!("<m:FindItemResponse xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><m:ResponseMessages><m:FindItemResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode><m:RootFolder TotalItemsInView=\"{items}\" IncludesLastItemInRange=\"true\"><t:Items>");
    for _ in 0..items {
        s.push_str(&format!(
            "<t:Message><t:ItemId Id=\"AAMkAD{}AAA=\" ChangeKey=\"CQAAABYAAAD{}\"/><t:Subject>Ticket {} status update</t:Subject><t:DateTimeReceived>2026-11-{:02}T{:02}:{:02}:00Z</t:DateTimeReceived><t:Size>{}</t:Size><t:From><t:Mailbox><t:Name>User {}</t:Name><t:EmailAddress>user{}@contoso.com</t:EmailAddress></t:Mailbox></t:From></t:Message>",
            rng.hex(32),
            rng.hex(8),
            rng.range(0, 99_999),
            rng.range(1, 19),
            rng.range(0, 23),
            rng.range(0, 59),
            rng.range(1000, 90_999),
            rng.range(0, 499),
            rng.range(0, 499),
        ));
    }
    s.push_str("</t:Items></m:RootFolder></m:FindItemResponseMessage></m:ResponseMessages></m:FindItemResponse>");
    s
}

fn zip_error(e: zip::result::ZipError) -> io::Error {
    io::Error::other(e.to_string())
}

/// Writes a Fiddler SAZ of `n` sessions to `path`.
pub fn write_saz(path: &Path, n: usize, scenario: &Scenario) -> io::Result<()> {
    let mut zip = ZipWriter::new(BufWriter::new(File::create(path)?));
    let opts = saz::entry_options();
    let sopt = SazOptions::default();
    let pad = n.max(1).to_string().len();
    zip.start_file("[Content_Types].xml", opts)
        .map_err(zip_error)?;
    zip.write_all(saz::CONTENT_TYPES.as_bytes())?;
    let mut index = String::from(saz::INDEX_HEAD);
    for (i, s) in sessions(n, scenario).enumerate() {
        let id = i + 1;
        zip.start_file(format!("raw/{id:0pad$}_c.txt"), opts)
            .map_err(zip_error)?;
        zip.write_all(&wire::request_bytes(&s.request, RequestForm::Absolute))?;
        if let Some(resp) = &s.response {
            zip.start_file(format!("raw/{id:0pad$}_s.txt"), opts)
                .map_err(zip_error)?;
            zip.write_all(&wire::response_bytes(resp))?;
        }
        zip.start_file(format!("raw/{id:0pad$}_m.xml"), opts)
            .map_err(zip_error)?;
        zip.write_all(saz::meta_xml(id, &s, false).as_bytes())?;
        index.push_str(&saz::index_row(id, &s, pad, &sopt));
    }
    index.push_str(saz::INDEX_TAIL);
    zip.start_file("_index.htm", opts).map_err(zip_error)?;
    zip.write_all(index.as_bytes())?;
    zip.set_comment(saz::FIDDLER_COMMENT).map_err(zip_error)?;
    zip.finish().map_err(zip_error)?.flush()
}

/// Writes a HAR 1.2 of `n` entries to `path`, compact (bodies decoded, binary ones base64).
pub fn write_har(path: &Path, n: usize, scenario: &Scenario) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    let opt = HarOptions {
        compact: true,
        ..HarOptions::default()
    };
    out.write_all(HAR_HEAD.as_bytes())?;
    for (i, s) in sessions(n, scenario).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(har::entry(i + 1, &s, &opt).compact().as_bytes())?;
    }
    out.write_all(b"]}}\n")?;
    out.flush()
}

const HAR_HEAD: &str = "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"WebInspector\",\"version\":\"537.36\"},\"pages\":[],\"entries\":[";

/// The scenario of the `i`-th capture of a queue: three tenants, every fourth capture clean,
/// no large body.
pub fn queue_scenario(i: usize) -> Scenario {
    let domain = ["contoso.com", "fabrikam.com", "adatum.com"][i % 3];
    let mut s = if i % 4 == 3 {
        Scenario::clean(domain)
    } else {
        Scenario::broken(domain)
    };
    s.large_body = false;
    s
}

/// Writes a queue of `count` captures of `n` sessions under `dir`, two per ticket folder
/// (`ticket-NNN/outlook-III.saz`, `ticket-NNN/browser-III.har`), scenarios as
/// [`queue_scenario`]. Returns the paths written.
pub fn write_queue(dir: &Path, count: usize, n: usize) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let ticket = dir.join(format!("ticket-{:03}", i / 2));
        std::fs::create_dir_all(&ticket)?;
        let s = queue_scenario(i);
        let path = if i % 2 == 0 {
            let p = ticket.join(format!("outlook-{i:03}.saz"));
            write_saz(&p, n, &s)?;
            p
        } else {
            let p = ticket.join(format!("browser-{i:03}.har"));
            write_har(&p, n, &s)?;
            p
        };
        out.push(path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Capture;

    fn capture(n: usize, s: &Scenario) -> Capture {
        Capture {
            name: "bulk".into(),
            sessions: sessions(n, s).collect(),
        }
    }

    #[test]
    fn streamed_files_are_what_the_sample_writers_write() {
        let dir = std::env::temp_dir().join(format!("samplegen-bulk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for s in [
            Scenario::broken("fabrikam.com"),
            Scenario::clean("contoso.com"),
        ] {
            let cap = capture(120, &s);
            let saz_path = dir.join("x.saz");
            write_saz(&saz_path, 120, &s).unwrap();
            assert_eq!(
                std::fs::read(&saz_path).unwrap(),
                saz::saz_bytes(&cap, &SazOptions::default())
            );
            let har_path = dir.join("x.har");
            write_har(&har_path, 120, &s).unwrap();
            let opt = HarOptions {
                compact: true,
                ..HarOptions::default()
            };
            assert_eq!(
                std::fs::read(&har_path).unwrap(),
                har::har_bytes(&cap, &opt)
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_plan_of_a_capture() {
        let s = Scenario::broken("fabrikam.com");
        let cap = capture(120, &s);
        assert_eq!(cap.sessions.len(), 120);
        let large = &cap.sessions[60];
        let body = large.response.as_ref().unwrap().body.as_ref().unwrap();
        assert_eq!(body.data.len(), LARGE_BODY);
        assert_eq!(cap.sessions[0].response.as_ref().unwrap().status, 401);
        let token = &cap.sessions[51];
        assert!(token
            .request
            .url
            .ends_with("login.microsoftonline.com/fabrikam.com/oauth2/token"));
        assert_eq!(token.response.as_ref().unwrap().status, 400);
        let clean = capture(120, &Scenario::clean("contoso.com"));
        assert_eq!(clean.sessions[1].response.as_ref().unwrap().status, 200);
        assert_eq!(clean.sessions[50].response.as_ref().unwrap().status, 200);
        // Same arguments, same sessions.
        let again = capture(120, &s);
        assert_eq!(
            wire::response_bytes(again.sessions[7].response.as_ref().unwrap()),
            wire::response_bytes(cap.sessions[7].response.as_ref().unwrap())
        );
    }
}
