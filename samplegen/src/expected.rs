//! What traceadal should find in each sample: facts computed while the scenario is built, so
//! tests can name them instead of repeating magic numbers.

/// One auth loop (the report's `loops`, docs/report-schema.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedLoop {
    /// The resource as the client asked for it (`https://autodiscover.contoso.com`).
    pub resource: String,
    /// The same, normalised as `missing_spns` are: lower-case `scheme://host/`.
    pub resource_normalized: String,
    /// The host whose Bearer challenge started the loop.
    pub challenge_host: String,
    /// Authority host (`login.microsoftonline.com`).
    pub authority: String,
    /// Tenant path segment (`common`, a GUID or a domain).
    pub tenant: String,
    /// OAuth client id.
    pub client_id: String,
    /// `x-processinfo` of the client that asked Entra (`outlook:4242`).
    pub client_process: String,
    /// Rounds of challenge -> Entra request -> answer.
    pub attempts: usize,
    /// `token`, `aad_error` or `no_response`.
    pub outcome: &'static str,
    /// AADSTS codes drawn, sorted, distinct.
    pub aadsts: Vec<u32>,
    /// Sessions carrying the Bearer challenge (401).
    pub challenge_sessions: Vec<usize>,
    /// Sessions that asked Entra (authorize and token requests).
    pub entra_sessions: Vec<usize>,
    /// Sessions whose response carries the AADSTS error (JSON, redirect or sign-in page).
    pub error_sessions: Vec<usize>,
    /// All of the above, sorted.
    pub sessions: Vec<usize>,
    /// First of `sessions`.
    pub first_session: usize,
    /// Last of `sessions`.
    pub last_session: usize,
    /// `ClientBeginRequest` of the last session minus that of the first, in milliseconds.
    pub duration_ms: u64,
}

/// A Teams delegate as EWS GetDelegate lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedDelegate {
    /// Mailbox owner.
    pub owner: String,
    /// Delegate's primary SMTP address.
    pub delegate: String,
    /// `CalendarFolderPermissionLevel`.
    pub calendar: String,
    /// Session of the GetDelegate response.
    pub session: usize,
}

/// What one sample holds and what traceadal should find in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Scenario name (file stem).
    pub name: &'static str,
    /// One-line description.
    pub summary: &'static str,
    /// What traceadal should report, in words (for samples/README.md).
    pub should_find: &'static str,
    /// Sessions in the SAZ = entries in the HAR.
    pub sessions: usize,
    /// Auth loops.
    pub loops: Vec<ExpectedLoop>,
    /// Every AADSTS code in the capture, sorted, distinct.
    pub aadsts: Vec<u32>,
    /// `missing_spns` as the report normalises them (`https://host/`), sorted.
    pub missing_spns: Vec<String>,
    /// Resources asked for over plain `http://`, as asked.
    pub http_resources: Vec<String>,
    /// Tenant name as the AADSTS message gives it, when there is one.
    pub tenant_name: Option<String>,
    /// `(session, code)` of every `x-ms-diagnostics` header on a response.
    pub exchange_diagnostics: Vec<(usize, u32)>,
    /// Every finding id traceadal raises on the sample, exactly (agreed with the rules'
    /// authors; `docs/rules.md`).
    pub findings: Vec<&'static str>,
    /// Finding ids the sample must NOT raise (negative cases).
    pub absent_findings: Vec<&'static str>,
    /// Whether any finding of severity `error` is expected (exit code 1 of `analyze`).
    pub has_error: bool,
    /// Sessions without a response (aborted).
    pub aborted_sessions: Vec<usize>,
    /// CONNECT tunnel sessions.
    pub tunnel_sessions: Vec<usize>,
    /// Delegates listed by GetDelegate responses.
    pub delegates: Vec<ExpectedDelegate>,
    /// GetDelegate error `ResponseCode`s, with their session.
    pub delegate_errors: Vec<(usize, String)>,
    /// `(url path prefix, schemes offered)` of every 401 from an Exchange vdir, per vdir.
    pub vdir_schemes: Vec<(String, Vec<String>)>,
    /// `(session, code)` of every response that carries an AADSTS error (JSON, redirect or
    /// sign-in page), in session order, whether or not a loop holds it.
    pub aadsts_sessions: Vec<(usize, u32)>,
    /// The capture cannot show the failure (no decrypted traffic to the hosts the diagnosis
    /// needs, nothing in it, or not a capture): traceadal's verdict is "inconclusive" (exit 3).
    pub inconclusive: bool,
}

/// Lower-case scheme and host, trailing slash: `HTTPS://Host.X` -> `https://host.x/`.
pub fn normalize_resource(r: &str) -> String {
    let lower = r.trim_end_matches('/').to_ascii_lowercase();
    format!("{lower}/")
}
