//! Assembles sessions on a timeline and records the facts a scenario should yield.

use std::collections::BTreeMap;

use crate::clock::{Instant, Rng, START};
use crate::expected::{normalize_resource, ExpectedDelegate, ExpectedLoop};
use crate::model::{Capture, Request, Response, Role, Session};

/// A loop being recorded.
#[derive(Clone, Debug, Default)]
pub struct LoopRec {
    pub resource: String,
    pub challenge_host: String,
    pub authority: String,
    pub tenant: String,
    pub client_id: String,
    pub client_process: String,
    pub attempts: usize,
    pub outcome: &'static str,
    pub aadsts: Vec<u32>,
    pub challenges: Vec<usize>,
    pub entra: Vec<usize>,
    pub errors: Vec<usize>,
}

/// Scenario builder: a clock, a PRNG, the sessions so far and the recorded facts.
pub struct Sb {
    pub rng: Rng,
    pub now: Instant,
    pub sessions: Vec<Session>,
    pub loops: Vec<LoopRec>,
    pub delegates: Vec<ExpectedDelegate>,
    pub delegate_errors: Vec<(usize, String)>,
    pub tenant_name: Option<String>,
    /// `(session, code)` of every response carrying an AADSTS error.
    pub aadsts_sessions: Vec<(usize, u32)>,
    conns: BTreeMap<(String, String), (u16, u16)>,
    next_port: u16,
}

impl Sb {
    /// A builder whose randomness is seeded by the scenario name.
    pub fn new(name: &str) -> Sb {
        let mut rng = Rng::for_name(name);
        let next_port = 51_200 + rng.range(0, 400) as u16;
        Sb {
            rng,
            now: START,
            sessions: Vec::new(),
            loops: Vec::new(),
            delegates: Vec::new(),
            delegate_errors: Vec::new(),
            tenant_name: None,
            aadsts_sessions: Vec::new(),
            conns: BTreeMap::new(),
            next_port,
        }
    }

    /// Lets `ms` milliseconds pass (plus a little jitter).
    pub fn wait(&mut self, ms: u64) {
        let jitter = self.rng.range(0, 97);
        self.now = self.now.plus_ms(ms).plus_ticks(jitter * 1_013);
    }

    /// A fresh GUID.
    pub fn guid(&mut self) -> String {
        self.rng.guid()
    }

    /// Appends a session and returns its id. `wait_ms` is the server's think time.
    pub fn add(
        &mut self,
        process: Option<&str>,
        request: Request,
        response: Option<Response>,
        wait_ms: u64,
        role: Role,
    ) -> usize {
        let host = crate::model::host_of(&request.url);
        let key = (process.unwrap_or("").to_string(), host.clone());
        let tunnel = request.method == "CONNECT";
        let (reused, client_port, egress_port) = match self.conns.get(&key) {
            Some(&(c, e)) if !tunnel => (true, c, e),
            _ => {
                let c = self.next_port;
                let e = self.next_port + 1 + self.rng.range(0, 3) as u16;
                self.next_port = e + 1;
                if !tunnel {
                    self.conns.insert(key, (c, e));
                }
                (false, c, e)
            }
        };
        let body_len = response
            .as_ref()
            .and_then(|r| r.body.as_ref())
            .map(|b| b.data.len() as u64)
            .unwrap_or(0);
        let receive_ms = if response.is_some() {
            body_len / 4096 + self.rng.range(0, 3)
        } else {
            0
        };
        let wait_ms = wait_ms + self.rng.range(0, wait_ms / 5 + 1);
        let s = Session {
            request,
            response,
            process: process.map(str::to_string),
            client_port,
            egress_port,
            host_ip: ip_for(&host).to_string(),
            begin: self.now,
            wait_ms,
            receive_ms,
            reused,
            role,
        };
        let done = self.now.plus_ms(wait_ms + receive_ms + 1);
        self.sessions.push(s);
        self.now = done;
        self.wait(3);
        self.sessions.len()
    }

    /// Starts recording a loop; returns its index.
    #[allow(clippy::too_many_arguments)]
    pub fn begin_loop(
        &mut self,
        resource: &str,
        challenge_host: &str,
        authority: &str,
        tenant: &str,
        client_id: &str,
        client_process: &str,
    ) -> usize {
        self.loops.push(LoopRec {
            resource: resource.into(),
            challenge_host: challenge_host.into(),
            authority: authority.into(),
            tenant: tenant.into(),
            client_id: client_id.into(),
            client_process: client_process.into(),
            outcome: "aad_error",
            ..LoopRec::default()
        });
        self.loops.len() - 1
    }

    /// Records a challenge session of loop `l`.
    pub fn challenge(&mut self, l: usize, id: usize) {
        self.loops[l].challenges.push(id);
    }
    /// Records an Entra request session of loop `l`; `attempt` starts a new attempt.
    pub fn entra(&mut self, l: usize, id: usize, attempt: bool) {
        self.loops[l].entra.push(id);
        if attempt {
            self.loops[l].attempts += 1;
        }
    }
    /// Records that session `id` carries AADSTS `code` for loop `l`.
    pub fn error(&mut self, l: usize, id: usize, code: u32) {
        self.loops[l].errors.push(id);
        self.aadsts(id, code);
        if !self.loops[l].aadsts.contains(&code) {
            self.loops[l].aadsts.push(code);
        }
    }
    /// Records that session `id`'s response carries AADSTS `code` (outside any loop too).
    pub fn aadsts(&mut self, id: usize, code: u32) {
        if !self.aadsts_sessions.contains(&(id, code)) {
            self.aadsts_sessions.push((id, code));
        }
    }

    /// Moves the client port counter (so that a second builder's connections, merged into
    /// the same capture, do not reuse the first one's ports).
    pub fn set_port_base(&mut self, port: u16) {
        self.next_port = port;
    }

    /// Lets time run on to `t` plus up to a second of jitter (nothing happens when `t` is
    /// already past).
    pub fn until(&mut self, t: Instant) {
        let t = t.plus_ticks(self.rng.range(0, 9_999_999));
        if t > self.now {
            self.now = t;
        }
    }

    /// Marks loop `l` as ending with a token.
    pub fn token(&mut self, l: usize) {
        self.loops[l].outcome = "token";
    }

    /// Finishes: the capture and the loops as expected facts.
    pub fn finish(self, name: &str) -> (Capture, Vec<ExpectedLoop>, Sb2) {
        let loops = self
            .loops
            .iter()
            .map(|l| {
                let mut sessions: Vec<usize> = l
                    .challenges
                    .iter()
                    .chain(&l.entra)
                    .chain(&l.errors)
                    .copied()
                    .collect();
                sessions.sort_unstable();
                sessions.dedup();
                let first = sessions.first().copied().unwrap_or(0);
                let last = sessions.last().copied().unwrap_or(0);
                let duration_ms = if first > 0 {
                    self.sessions[last - 1]
                        .begin
                        .ms_since(self.sessions[first - 1].begin)
                } else {
                    0
                };
                let mut aadsts = l.aadsts.clone();
                aadsts.sort_unstable();
                ExpectedLoop {
                    resource: l.resource.clone(),
                    resource_normalized: normalize_resource(&l.resource),
                    challenge_host: l.challenge_host.clone(),
                    authority: l.authority.clone(),
                    tenant: l.tenant.clone(),
                    client_id: l.client_id.clone(),
                    client_process: l.client_process.clone(),
                    attempts: l.attempts,
                    outcome: l.outcome,
                    aadsts,
                    challenge_sessions: l.challenges.clone(),
                    entra_sessions: l.entra.clone(),
                    error_sessions: l.errors.clone(),
                    sessions,
                    first_session: first,
                    last_session: last,
                    duration_ms,
                }
            })
            .collect();
        (
            Capture {
                name: name.into(),
                sessions: self.sessions,
            },
            loops,
            Sb2 {
                delegates: self.delegates,
                delegate_errors: self.delegate_errors,
                tenant_name: self.tenant_name,
                aadsts_sessions: self.aadsts_sessions,
            },
        )
    }
}

/// The rest of the recorded facts.
pub struct Sb2 {
    pub delegates: Vec<ExpectedDelegate>,
    pub delegate_errors: Vec<(usize, String)>,
    pub tenant_name: Option<String>,
    pub aadsts_sessions: Vec<(usize, u32)>,
}

/// Fixed addresses per host (documentation ranges for contoso, plausible ones for Microsoft).
pub fn ip_for(host: &str) -> &'static str {
    match host.to_ascii_lowercase().as_str() {
        "autodiscover.contoso.com" => "203.0.113.25",
        "mail.contoso.com" => "203.0.113.26",
        "sts.contoso.com" => "203.0.113.40",
        "login.microsoftonline.com" => "20.190.159.2",
        "login.windows.net" => "40.126.32.74",
        "login.live.com" => "20.190.159.68",
        "outlook.office365.com" => "52.97.201.162",
        "officecdn.microsoft.com" => "23.35.68.42",
        "config.edge.skype.com" => "13.107.42.16",
        "teams.microsoft.com" => "52.113.194.132",
        "presence.teams.microsoft.com" => "52.114.88.20",
        "self.events.data.microsoft.com" => "20.42.73.29",
        "nexus.officeapps.live.com" => "52.109.12.19",
        "odc.officeapps.live.com" => "52.109.8.23",
        "officeclient.microsoft.com" => "52.109.20.3",
        "ecs.office.com" => "52.113.194.133",
        "substrate.office.com" => "52.96.164.146",
        "outlook.office.com" => "52.98.207.194",
        "graph.microsoft.com" => "20.190.152.21",
        "www.msftconnecttest.com" => "23.215.0.138",
        "ocsp.digicert.com" => "192.229.211.108",
        "ctldl.windowsupdate.com" => "93.184.221.240",
        "proxy.contoso.local" => "10.20.0.8",
        "contoso.com" => "203.0.113.80",
        "autodiscover-s.outlook.com" => "52.98.88.40",
        _ => "198.51.100.7",
    }
}
