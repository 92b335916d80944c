//! The parties on the wire, each a set of small builders that return requests or responses
//! shaped like the real thing.

pub mod clients;
pub mod entra;
pub mod exchange;
pub mod noise;
pub mod outlook;

/// The tenant's GUID.
pub const TENANT_GUID: &str = "72f988bf-0000-4000-8000-0123456789ab";
/// The tenant's display name, as AADSTS messages give it.
pub const TENANT_NAME: &str = "Contoso Ltd";
/// The tenant's initial domain.
pub const TENANT_DOMAIN: &str = "contoso.onmicrosoft.com";
/// Office 365 Exchange Online's AppId (Exchange's `client_id` in the Bearer challenge).
pub const EXO_APP: &str = "00000002-0000-0ff1-ce00-000000000000";
/// The ACS issuer id in `trusted_issuers`.
pub const ACS_ISSUER: &str = "00000001-0000-0000-c000-000000000000";
/// Microsoft Office (Outlook desktop) client id.
pub const OFFICE_CLIENT: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
/// Microsoft Teams client id.
pub const TEAMS_CLIENT: &str = "1fec8e78-bce4-4aaf-ab1b-5451cc387264";
/// Outlook's process as Fiddler names it.
pub const OUTLOOK: &str = "outlook:4242";
/// The Windows broker's process.
pub const BROKER: &str = "microsoft.aad.brokerplugin:7788";
/// The signed-in user.
pub const USER: &str = "user@contoso.com";
/// The user's object id.
pub const USER_OID: &str = "3f5c1a2b-0000-4000-8000-00000000beef";

/// A header list from pairs.
pub fn hdrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// One Outlook Web (Outlook on the web's MSAL.js client id).
pub const OWA_CLIENT: &str = "9199bf20-a13f-4107-85dc-02114787ef48";
/// Microsoft Edge's process as Fiddler names it.
pub const EDGE: &str = "msedge:6120";
/// Edge's User-Agent.
pub const EDGE_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0";
