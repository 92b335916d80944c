//! Tie challenges, login requests and token results into flows.
//!
//! Events are walked in session order. A Bearer challenge or a login request for a resource
//! joins the flow of that resource and client process; a token result joins the flow of the
//! login in its own session. The Windows broker (WAM) asks on behalf of Outlook from its own
//! process, so a broker request joins the most recent flow for the same resource whatever its
//! process.

use std::collections::HashMap;

use super::{Attempt, Flow, Outcome, Resource};
use crate::auth::{login, Event, LoginKind, LoginRequest, TokenOutcome, TokenResult};
use crate::capture::SessionSummary;

/// Tenant path segments that name no tenant.
const NO_TENANT: &[&str] = &["common", "organizations", "consumers", "oauth2"];

/// Build every flow from the events of one capture. `sessions` must be sorted by id.
pub fn build(events: &[Event], sessions: &[SessionSummary]) -> Vec<Flow> {
    let mut ordered: Vec<&Event> = events.iter().collect();
    // Within a session the request comes before its answer.
    ordered.sort_by_key(|e| (e.session(), matches!(e, Event::TokenResult(_))));

    let mut builder = Builder::default();
    for event in ordered {
        match event {
            Event::Challenge(c) => {
                let bearer = c.bearer();
                // A 401 from Entra itself (invalid_client) is an answer, not a challenge.
                if bearer.is_none() || crate::auth::login::is_authority_host(&c.host) {
                    continue;
                }
                let Some(resource) = Resource::parse(&c.resource()) else {
                    continue;
                };
                let idx = builder.group_for(&resource, c.process.as_deref(), false);
                let g = &mut builder.groups[idx];
                if g.challenge_host.is_none() {
                    g.challenge_host = Some(c.host.clone());
                }
                if let Some(b) = &bearer {
                    g.hma_offered |= b.authorization_uri.is_some();
                    for t in &b.tenant_ids {
                        push_unique(&mut g.tenant_ids, t.clone());
                    }
                    if let Some(t) = b.authorization_uri.as_deref().and_then(uri_tenant) {
                        push_unique(&mut g.challenge_tenants, t);
                    }
                }
                g.on_challenge(c.session);
            }
            Event::Login(login) => builder.on_login(login),
            Event::TokenResult(result) => builder.on_result(result),
            _ => {}
        }
    }
    let mut flows: Vec<Flow> = builder
        .groups
        .into_iter()
        .filter(|g| g.attempts.iter().any(|a| !a.logins.is_empty()))
        .map(|g| g.finish(sessions))
        .collect();
    for flow in &mut flows {
        flow.token_appid = token_appid(events, flow);
        flow.token_app_name = flow.token_appid.as_deref().and_then(login::client_name);
    }
    flows
}

/// The `appid` of the first readable token presented to the flow's host from its first
/// session on.
fn token_appid(events: &[Event], flow: &Flow) -> Option<String> {
    let host = flow
        .challenge_host
        .clone()
        .unwrap_or_else(|| flow.resource.host().to_string());
    events.iter().find_map(|e| match e {
        Event::BearerPresented {
            session,
            url,
            claims,
            ..
        } if *session >= flow.first_session
            && crate::capture::host_of(url).is_some_and(|h| h.eq_ignore_ascii_case(&host)) =>
        {
            claims.appid.clone()
        }
        _ => None,
    })
}

/// The tenant path segment of an `authorization_uri`, when it names one.
fn uri_tenant(uri: &str) -> Option<String> {
    let first = crate::capture::url_parts::UrlParts::split(uri).first_segment();
    (!first.is_empty() && !NO_TENANT.contains(&first.to_ascii_lowercase().as_str()))
        .then(|| first.to_string())
}

#[derive(Default)]
struct Builder {
    groups: Vec<Group>,
    /// (resource, process) -> group index.
    index: HashMap<(Resource, Option<String>), usize>,
    /// Login session -> group index, so a token result finds its flow.
    login_group: HashMap<u64, usize>,
    /// Group touched last, for results whose login named no resource.
    last_login_group: Option<usize>,
}

impl Builder {
    fn group_for(&mut self, resource: &Resource, process: Option<&str>, broker: bool) -> usize {
        if broker {
            // The broker acts for another process: join the newest flow for this resource.
            if let Some(idx) = self
                .groups
                .iter()
                .enumerate()
                .filter(|(_, g)| &g.resource == resource)
                .max_by_key(|(_, g)| g.touched)
                .map(|(i, _)| i)
            {
                return idx;
            }
        }
        let key = (resource.clone(), process.map(str::to_string));
        if let Some(&idx) = self.index.get(&key) {
            return idx;
        }
        self.groups.push(Group::new(resource.clone(), process));
        let idx = self.groups.len() - 1;
        self.index.insert(key, idx);
        idx
    }

    fn on_login(&mut self, login: &LoginRequest) {
        if login.kind == LoginKind::Other {
            return;
        }
        let Some(resource) = login.resource.as_deref().and_then(Resource::parse) else {
            return;
        };
        let broker = login.wam || is_broker(login.process.as_deref());
        let idx = self.group_for(&resource, login.process.as_deref(), broker);
        self.groups[idx].on_login(login);
        self.login_group.insert(login.session, idx);
        self.last_login_group = Some(idx);
    }

    fn on_result(&mut self, result: &TokenResult) {
        let idx = match self.login_group.get(&result.session) {
            Some(&idx) => idx,
            // A sign-in page answer (`/common/login`) names no resource: it belongs to the
            // flow whose authorize request is still waiting for an answer.
            None => match self.last_login_group {
                Some(idx) if self.groups[idx].waiting() => idx,
                _ => return,
            },
        };
        self.groups[idx].on_result(result);
    }
}

fn is_broker(process: Option<&str>) -> bool {
    process.is_some_and(|p| {
        p.to_ascii_lowercase()
            .starts_with("microsoft.aad.brokerplugin")
    })
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

struct Group {
    resource: Resource,
    process: Option<String>,
    challenge_host: Option<String>,
    hma_offered: bool,
    authority: Option<String>,
    path_tenant: Option<String>,
    tenant_ids: Vec<String>,
    challenge_tenants: Vec<String>,
    tenant_name: Option<String>,
    client_id: Option<String>,
    wam: bool,
    attempts: Vec<Attempt>,
    touched: u64,
}

impl Group {
    fn new(resource: Resource, process: Option<&str>) -> Self {
        Group {
            resource,
            process: process.filter(|p| !is_broker(Some(p))).map(str::to_string),
            challenge_host: None,
            hma_offered: false,
            authority: None,
            path_tenant: None,
            tenant_ids: Vec::new(),
            challenge_tenants: Vec::new(),
            tenant_name: None,
            client_id: None,
            wam: false,
            attempts: Vec::new(),
            touched: 0,
        }
    }

    fn current(&mut self) -> Option<&mut Attempt> {
        self.attempts.last_mut()
    }

    fn new_attempt(&mut self) -> &mut Attempt {
        self.attempts.push(Attempt {
            challenges: Vec::new(),
            logins: Vec::new(),
            result: None,
            outcome: Outcome::NoResponse,
            aadsts: Vec::new(),
            expires_in: None,
        });
        let last = self.attempts.len() - 1;
        &mut self.attempts[last]
    }

    fn waiting(&self) -> bool {
        self.attempts
            .last()
            .is_some_and(|a| !a.logins.is_empty() && a.result.is_none())
    }

    fn on_challenge(&mut self, session: u64) {
        self.touched = session;
        // A new challenge after the client already went to Entra starts the next round.
        let fresh = match self.current() {
            None => true,
            Some(a) => !a.logins.is_empty() || a.result.is_some(),
        };
        let attempt = if fresh {
            self.new_attempt()
        } else {
            match self.current() {
                Some(a) => a,
                None => return,
            }
        };
        attempt.challenges.push(session);
    }

    fn on_login(&mut self, login: &LoginRequest) {
        self.touched = login.session;
        if self.authority.is_none() {
            self.authority = Some(login.authority.clone());
        }
        if let Some(t) = &login.tenant {
            if self.path_tenant.is_none() && !NO_TENANT.contains(&t.to_ascii_lowercase().as_str()) {
                self.path_tenant = Some(t.clone());
            }
        }
        if self.client_id.is_none() {
            self.client_id = login.client_id.clone();
        }
        if self.process.is_none() && !is_broker(login.process.as_deref()) {
            self.process = login.process.clone();
        }
        self.wam |= login.wam || is_broker(login.process.as_deref());
        // A login after an answer, or a token request after a token request, is a new round.
        let fresh = match self.current() {
            None => true,
            Some(a) => a.result.is_some(),
        };
        let attempt = if fresh {
            self.new_attempt()
        } else {
            match self.current() {
                Some(a) => a,
                None => return,
            }
        };
        attempt.logins.push(login.session);
    }

    fn on_result(&mut self, result: &TokenResult) {
        self.touched = result.session;
        let Some(attempt) = self.current() else {
            return;
        };
        attempt.result = Some(result.session);
        match &result.outcome {
            TokenOutcome::Issued { expires_in, .. } => {
                attempt.outcome = Outcome::Token;
                attempt.expires_in = *expires_in;
            }
            TokenOutcome::AadError(e) => {
                attempt.outcome = Outcome::AadError;
                for c in &e.codes {
                    push_unique(&mut attempt.aadsts, *c);
                }
                if self.tenant_name.is_none() {
                    self.tenant_name = e.tenant_named.clone();
                }
            }
        }
    }

    fn finish(self, sessions: &[SessionSummary]) -> Flow {
        let mut all: Vec<u64> = Vec::new();
        let mut aadsts = Vec::new();
        for a in &self.attempts {
            all.extend(&a.challenges);
            all.extend(&a.logins);
            all.extend(a.result);
            for c in &a.aadsts {
                push_unique(&mut aadsts, *c);
            }
        }
        all.sort_unstable();
        all.dedup();
        let first = all.first().copied().unwrap_or(0);
        let last = all.last().copied().unwrap_or(0);
        let outcome = self
            .attempts
            .last()
            .map_or(Outcome::NoResponse, |a| a.outcome);
        let tenant = self
            .path_tenant
            .clone()
            .or_else(|| self.tenant_ids.first().cloned())
            .or_else(|| {
                self.tenant_name
                    .clone()
                    .filter(|n| n.contains('.') && !n.contains(' '))
            });
        let mut challenge_tenants = self.tenant_ids.clone();
        for t in self.challenge_tenants {
            push_unique(&mut challenge_tenants, t);
        }
        Flow {
            token_appid: None,
            token_app_name: None,
            challenge_tenants,
            asked_tenant: self.path_tenant.clone(),
            resource: self.resource,
            challenge_host: self.challenge_host,
            hma_offered: self.hma_offered,
            authority: self.authority,
            tenant,
            tenant_name: self.tenant_name,
            client_name: self.client_id.as_deref().and_then(login::client_name),
            client_id: self.client_id,
            client_process: self.process,
            wam: self.wam,
            state: super::judge::judge(&self.attempts, sessions).state,
            duration_ms: duration_ms(sessions, first, last),
            attempts: self.attempts,
            outcome,
            aadsts,
            sessions: all,
            first_session: first,
            last_session: last,
        }
    }
}

fn duration_ms(sessions: &[SessionSummary], first: u64, last: u64) -> Option<i64> {
    let start = super::judge::find(sessions, first)?.start?;
    let last = super::judge::find(sessions, last)?;
    let end = last.end.or(last.start)?;
    Some((end - start).num_milliseconds().max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AadError, AuthScheme, Challenge, ErrorSource};

    fn challenge(session: u64, url: &str, process: &str) -> Event {
        Event::Challenge(Box::new(Challenge {
            session,
            url: url.into(),
            host: crate::capture::host_of(url).unwrap_or_default(),
            status: 401,
            process: Some(process.into()),
            schemes: vec![
                AuthScheme {
                    name: "Bearer".into(),
                    params: vec![
                        ("client_id".into(), "00000002-0000-0ff1-ce00-000000000000".into()),
                        (
                            "trusted_issuers".into(),
                            "00000001-0000-0000-c000-000000000000@72f988bf-0000-4000-8000-0123456789ab"
                                .into(),
                        ),
                        (
                            "authorization_uri".into(),
                            "https://login.windows.net/common/oauth2/authorize".into(),
                        ),
                    ],
                    token68_len: None,
                },
                AuthScheme {
                    name: "NTLM".into(),
                    params: vec![],
                    token68_len: None,
                },
            ],
            diagnostics: None,
        }))
    }

    fn login(session: u64, kind: LoginKind, resource: &str, process: &str) -> Event {
        Event::Login(Box::new(LoginRequest {
            session,
            kind,
            authority: "login.microsoftonline.com".into(),
            tenant: Some("common".into()),
            v2: false,
            resource: Some(resource.into()),
            scope: None,
            client_id: Some("d3590ed6-52b3-4102-aeff-aad2292ab01c".into()),
            grant_type: None,
            redirect_uri: None,
            login_hint: None,
            client_request_id: None,
            prompt: None,
            wam: false,
            process: Some(process.into()),
            device: Default::default(),
        }))
    }

    fn error(session: u64, code: u32) -> Event {
        Event::TokenResult(Box::new(TokenResult {
            session,
            status: 400,
            outcome: TokenOutcome::AadError(AadError {
                source: ErrorSource::Json,
                error: Some("invalid_resource".into()),
                description: Some(format!("AADSTS{code}: The resource principal named https://autodiscover.contoso.com was not found in the tenant named Contoso Ltd.")),
                codes: vec![code],
                trace_id: None,
                correlation_id: None,
                timestamp: None,
                resource_named: Some("https://autodiscover.contoso.com".into()),
                tenant_named: Some("Contoso Ltd".into()),
            }),
        }))
    }

    fn issued(session: u64) -> Event {
        Event::TokenResult(Box::new(TokenResult {
            session,
            status: 200,
            outcome: TokenOutcome::Issued {
                token_type: Some("Bearer".into()),
                resource: None,
                scope: None,
                expires_in: Some(3599),
            },
        }))
    }

    const AD: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";

    /// One round: 401, authorize, token request answered with an error.
    fn round(first: u64, resource: &str) -> Vec<Event> {
        vec![
            challenge(first, AD, "outlook:4242"),
            login(first + 1, LoginKind::Authorize, resource, "outlook:4242"),
            login(first + 2, LoginKind::Token, resource, "outlook:4242"),
            error(first + 2, 500011),
        ]
    }

    #[test]
    fn repeated_rounds_make_one_looping_flow() {
        let mut events = Vec::new();
        for i in 0..6 {
            events.extend(round(10 + i * 10, "https://AutoDiscover.contoso.com"));
        }
        let flows = build(&events, &[]);
        assert_eq!(flows.len(), 1);
        let f = &flows[0];
        assert_eq!(f.resource.to_string(), "https://autodiscover.contoso.com/");
        assert_eq!(f.attempts.len(), 6);
        assert!(f.is_loop());
        assert_eq!(f.outcome, Outcome::AadError);
        assert_eq!(f.aadsts, vec![500011]);
        assert_eq!(
            f.challenge_host.as_deref(),
            Some("autodiscover.contoso.com")
        );
        assert!(f.hma_offered);
        assert_eq!(f.client_process.as_deref(), Some("outlook:4242"));
        assert_eq!(
            f.tenant.as_deref(),
            Some("72f988bf-0000-4000-8000-0123456789ab")
        );
        assert_eq!(f.tenant_name.as_deref(), Some("Contoso Ltd"));
        assert_eq!((f.first_session, f.last_session), (10, 62));
        assert_eq!(f.sessions.len(), 18);
        assert_eq!(f.error_sessions(), vec![12, 22, 32, 42, 52, 62]);
        assert_eq!(f.attempts[0].challenges, vec![10]);
        assert_eq!(f.attempts[0].logins, vec![11, 12]);
    }

    #[test]
    fn two_hosts_are_two_flows_and_order_of_events_does_not_matter() {
        let mut events = round(1, "https://autodiscover.contoso.com");
        events.push(challenge(
            5,
            "https://mail.contoso.com/EWS/Exchange.asmx",
            "outlook:4242",
        ));
        events.push(login(
            6,
            LoginKind::Token,
            "https://mail.contoso.com",
            "outlook:4242",
        ));
        events.push(error(6, 500011));
        events.reverse();
        let flows = build(&events, &[]);
        let resources: Vec<String> = flows.iter().map(|f| f.resource.to_string()).collect();
        assert_eq!(
            resources,
            vec![
                "https://autodiscover.contoso.com/",
                "https://mail.contoso.com/"
            ]
        );
        assert!(flows.iter().all(|f| f.attempts.len() == 1));
    }

    #[test]
    fn broker_requests_join_the_challenged_flow() {
        let mut events = vec![challenge(1, AD, "outlook:4242")];
        let Event::Login(mut l) = login(
            2,
            LoginKind::Token,
            "https://autodiscover.contoso.com",
            "microsoft.aad.brokerplugin:7788",
        ) else {
            unreachable!()
        };
        l.wam = true;
        events.push(Event::Login(l));
        events.push(error(2, 500011));
        let flows = build(&events, &[]);
        assert_eq!(flows.len(), 1);
        assert!(flows[0].wam);
        assert_eq!(flows[0].client_process.as_deref(), Some("outlook:4242"));
        assert_eq!(flows[0].sessions, vec![1, 2]);
    }

    #[test]
    fn a_healthy_flow_ends_with_a_token_and_an_unanswered_challenge_is_no_flow() {
        let events = vec![
            challenge(1, AD, "outlook:4242"),
            login(
                2,
                LoginKind::Token,
                "https://autodiscover.contoso.com",
                "outlook:4242",
            ),
            issued(2),
            challenge(3, "https://mail.contoso.com/mapi/emsmdb/", "outlook:4242"),
        ];
        let flows = build(&events, &[]);
        assert_eq!(flows.len(), 1);
        assert_eq!(flows[0].outcome, Outcome::Token);
        assert!(!flows[0].is_loop());
    }

    #[test]
    fn a_login_without_answer_is_no_response() {
        let events = vec![
            challenge(1, AD, "outlook:4242"),
            login(
                2,
                LoginKind::Authorize,
                "https://autodiscover.contoso.com",
                "outlook:4242",
            ),
        ];
        let flows = build(&events, &[]);
        assert_eq!(flows[0].outcome, Outcome::NoResponse);
    }

    #[test]
    fn the_app_of_the_token_presented_and_the_tenants_named() {
        let presented = |session, appid: &str| Event::BearerPresented {
            session,
            url: "https://autodiscover.contoso.com/autodiscover/autodiscover.svc".into(),
            claims: Box::new(crate::auth::Claims {
                appid: Some(appid.into()),
                ..Default::default()
            }),
            server_date: None,
        };
        let events = vec![
            // Before the flow: not its token.
            presented(0, "00000000-0000-0000-0000-000000000000"),
            challenge(1, AD, "outlook:4242"),
            login(
                2,
                LoginKind::Token,
                "https://autodiscover.contoso.com",
                "outlook:4242",
            ),
            presented(3, "1fec8e78-bce4-4aaf-ab1b-5451cc387264"),
        ];
        let flows = build(&events, &[]);
        assert_eq!(
            flows[0].token_appid.as_deref(),
            Some("1fec8e78-bce4-4aaf-ab1b-5451cc387264")
        );
        assert_eq!(flows[0].token_app_name, Some("Microsoft Teams"));
        assert_eq!(flows[0].asked_tenant, None, "common names no tenant");
        assert_eq!(
            uri_tenant("https://login.windows.net/common/oauth2/authorize"),
            None
        );
        assert_eq!(
            uri_tenant(
                "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/authorize"
            )
            .as_deref(),
            Some("contoso.onmicrosoft.com")
        );
        // Asked `common`: the GUID is the one the challenge named.
        assert_eq!(
            flows[0].tenant_guid(),
            Some("72f988bf-0000-4000-8000-0123456789ab")
        );
        let json = serde_json::to_value(&flows[0]).unwrap_or_default();
        assert!(json.get("challenge_tenants").is_none(), "internal: {json}");
        assert_eq!(json["token_app_name"], "Microsoft Teams");
    }

    #[test]
    fn the_tenant_guid_is_the_one_asked_or_the_one_the_challenge_named() {
        const G: &str = "72f988bf-0000-4000-8000-0123456789ab";
        let mut events = vec![
            challenge(1, AD, "outlook:4242"),
            login(
                2,
                LoginKind::Token,
                "https://autodiscover.contoso.com",
                "outlook:4242",
            ),
        ];
        let flow = |events: &[Event]| build(events, &[]).remove(0);
        // Asked by domain, one GUID named: that GUID, the domain kept as the tenant.
        if let Event::Login(l) = &mut events[1] {
            l.tenant = Some("contoso.onmicrosoft.com".into());
        }
        let f = flow(&events);
        assert_eq!(f.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(f.tenant_guid(), Some(G));
        // Asked by another GUID: the one asked (token-wrong-tenant judges the mismatch).
        let other = "11111111-2222-4333-8444-555555555555";
        if let Event::Login(l) = &mut events[1] {
            l.tenant = Some(other.into());
        }
        assert_eq!(flow(&events).tenant_guid(), Some(other));
        // Two different GUIDs named and a domain asked: none, it cannot be told.
        if let Event::Challenge(c) = &mut events[0] {
            c.schemes[0].params[1].1 = format!(
                "00000001-0000-0000-c000-000000000000@{G},00000001-0000-0000-c000-000000000000@{other}"
            );
        }
        if let Event::Login(l) = &mut events[1] {
            l.tenant = Some("contoso.onmicrosoft.com".into());
        }
        assert_eq!(flow(&events).tenant_guid(), None);
    }
}
