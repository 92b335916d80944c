//! Format variants for the readers (`samples/variants/`) and the generated README.

use std::io::Write;

use crate::expected::Expected;
use crate::har::{har_bytes, HarOptions};
use crate::model::{Capture, Coding, Role};
use crate::saz::{saz_bytes, SazOptions};
use crate::wire::RequestForm;

/// One variant file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    /// Path under `samples/`.
    pub file: &'static str,
    /// The scenario whose sessions it carries (and whose [`Expected`] applies, except for
    /// the fields below).
    pub base: &'static str,
    /// What is special about it.
    pub what: &'static str,
    /// Sessions (SAZ) or entries (HAR) in the file.
    pub sessions: usize,
    /// SAZ sessions stored with only `_c.txt` (no `_s.txt`, no `_m.xml`).
    pub only_request: Vec<usize>,
    /// SAZ sessions whose `_s.txt` is empty.
    pub empty_response: Vec<usize>,
    /// SAZ sessions without `_m.xml` (but with `_c.txt` and `_s.txt`).
    pub missing_meta: Vec<usize>,
    /// HAR entries with `status: 0` or no `response` member.
    pub no_response: Vec<usize>,
    /// CONNECT sessions.
    pub tunnel_sessions: Vec<usize>,
    /// The file cannot be diagnosed like its base (empty, or not what its name says):
    /// traceadal's verdict is "inconclusive" (exit code 3). `base` then names what the file
    /// holds, if anything, and `sessions` is 0.
    pub inconclusive: bool,
}

const BASE: &str = "adal-500011-json";

fn noise_ids(cap: &Capture) -> Vec<usize> {
    cap.sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| s.role == Role::Noise)
        .map(|(i, _)| i + 1)
        .collect()
}

fn tunnels(cap: &Capture) -> Vec<usize> {
    cap.sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_tunnel())
        .map(|(i, _)| i + 1)
        .collect()
}

/// The healthy capture plus two blind (not decrypted) tunnels at the end.
fn with_blind_tunnels(mut cap: Capture) -> Capture {
    for host in ["teams.microsoft.com", "substrate.office.com"] {
        let last = cap.sessions.last().expect("non-empty").clone();
        let begin = last.begin.plus_ms(1_500);
        let mut s = last;
        s.request = crate::actors::outlook::connect(host, None);
        s.process = Some(crate::actors::noise::TEAMS.into());
        s.begin = begin;
        s.reused = false;
        s.client_port += 7;
        s.egress_port += 7;
        s.host_ip = crate::scenarios::builder::ip_for(host).into();
        s.role = Role::Tunnel;
        s.wait_ms = 0;
        let end = begin.plus_ms(31_250);
        s.response = Some(crate::actors::noise::tunnel_blind(begin, end, 2712, 9034));
        cap.sessions.push(s);
    }
    cap
}

/// Every variant with its facts.
pub fn variants() -> Vec<Variant> {
    variant_files().into_iter().map(|(v, _)| v).collect()
}

/// The variant files' paths and bytes (relative to `samples/`).
pub fn files() -> Vec<(String, Vec<u8>)> {
    variant_files()
        .into_iter()
        .map(|(v, b)| (v.file.to_string(), b))
        .collect()
}

fn variant_files() -> Vec<(Variant, Vec<u8>)> {
    let cap = crate::capture(BASE).expect("base scenario");
    let n = cap.sessions.len();
    let noise = noise_ids(&cap);
    let tun = tunnels(&cap);
    let v = |file, what, sessions| Variant {
        file,
        base: BASE,
        what,
        sessions,
        only_request: vec![],
        empty_response: vec![],
        missing_meta: vec![],
        no_response: vec![],
        tunnel_sessions: tun.clone(),
        inconclusive: false,
    };
    let mut out = Vec::new();
    let saz = |o: SazOptions| saz_bytes(&cap, &o);
    out.push((
        v("variants/numbering-4digit.saz", "entry names padded to 4 digits (raw/0001_c.txt) although the session count has 2, as some exporters write them", n),
        saz(SazOptions { pad: Some(4), ..SazOptions::default() }),
    ));
    out.push((
        v(
            "variants/backslash-paths.saz",
            "entry names with a backslash separator (raw\\01_c.txt)",
            n,
        ),
        saz(SazOptions {
            separator: '\\',
            ..SazOptions::default()
        }),
    ));
    out.push((
        v(
            "variants/origin-form.saz",
            "request lines in origin form (GET /path HTTP/1.1) with the Host header",
            n,
        ),
        saz(SazOptions {
            form: RequestForm::Origin,
            ..SazOptions::default()
        }),
    ));
    {
        let only = vec![noise[0]];
        let empty = vec![noise[1]];
        let nometa = vec![noise[2]];
        let mut var = v("variants/aborted-and-missing.saz", "one noise session with only _c.txt, one with an empty _s.txt, one without _m.xml; the signal sessions are intact", n);
        var.only_request = only.clone();
        var.empty_response = empty.clone();
        var.missing_meta = nometa.clone();
        let bytes = saz(SazOptions {
            omit_response: only.clone(),
            omit_meta: [only, nometa].concat(),
            empty_response: empty,
            ..SazOptions::default()
        });
        out.push((var, bytes));
    }
    out.push((
        v(
            "variants/decimal-bitflags.saz",
            "_m.xml BitFlags in decimal instead of hex",
            n,
        ),
        saz(SazOptions {
            decimal_bitflags: true,
            ..SazOptions::default()
        }),
    ));
    out.push((
        v(
            "variants/fiddler-ids.saz",
            "the sessions of a longer capture saved alone: entry numbers 1, 2, 3... with Fiddler's ids (_m.xml SID) 3 apart from 104, as Fiddler writes an archive of selected sessions; diagnosed like its base, and the report shows both numbers",
            n,
        ),
        saz(SazOptions {
            sid_of: Some(fiddler_id),
            ..SazOptions::default()
        }),
    ));
    {
        let healthy = with_blind_tunnels(crate::capture("healthy-token-issued").expect("healthy"));
        let mut var = v("variants/connect-tunnels.saz", "healthy-token-issued (decrypted CONNECT tunnels before autodiscover, login and mail) plus two blind tunnels (200 Blind-Connection Established) at the end", healthy.sessions.len());
        var.base = "healthy-token-issued";
        var.tunnel_sessions = tunnels(&healthy);
        out.push((var, saz_bytes(&healthy, &SazOptions::default())));
    }
    let har = |o: HarOptions| har_bytes(&cap, &o);
    out.push((
        v(
            "variants/har-bom.har",
            "UTF-8 byte order mark before the JSON",
            n,
        ),
        har(HarOptions {
            bom: true,
            ..HarOptions::default()
        }),
    ));
    out.push((
        v(
            "variants/har-h2-pseudo.har",
            "HTTP/2: :method, :authority, :scheme, :path pseudo-headers, lower-case names, no Host",
            n,
        ),
        har(HarOptions {
            h2: true,
            ..HarOptions::default()
        }),
    ));
    out.push((
        v("variants/har-base64-postdata.har", "form posts as postData.params (decoded values, no text); every response content base64 with encoding \"base64\"", n),
        har(HarOptions { params_and_base64: true, ..HarOptions::default() }),
    ));
    let plain = har(HarOptions::default());
    out.push((
        v(
            "variants/har-gz.har.gz",
            "adal-500011-json.har compressed with gzip (detect by magic bytes)",
            n,
        ),
        crate::wire::encode(&plain, Coding::Gzip),
    ));
    {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&plain).expect("in-memory");
        out.push((
            v(
                "variants/har-zlib.zhar",
                "adal-500011-json.har compressed with zlib (detect by magic bytes, not the name)",
                n,
            ),
            z.finish().expect("in-memory"),
        ));
    }
    {
        let zero = vec![noise[0]];
        let none = vec![noise[1]];
        let mut var = v("variants/no-response.har", "one noise entry with status 0 and no optional fields, one without a response member at all", n);
        var.no_response = [zero.clone(), none.clone()].concat();
        let bytes = har(HarOptions {
            status_zero: zero,
            no_response_member: none,
            ..HarOptions::default()
        });
        out.push((var, bytes));
    }
    {
        // The user zipped the SAZ (Send to > Compressed folder) and renamed the zip to .saz.
        // Since issue 21 a zip of captures is opened: diagnosed like its base, named
        // `zipped-saz.saz!/adal-500011-json.saz`.
        let var = v("variants/zipped-saz.saz", "a zip whose one entry is adal-500011-json.saz (the SAZ zipped again and renamed .saz): not a SAZ but a zip of captures, whose capture inside is analysed", n);
        let inner = saz_bytes(&cap, &SazOptions::default());
        let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zw.start_file("adal-500011-json.saz", crate::saz::entry_options())
            .expect("in-memory zip");
        zw.write_all(&inner).expect("in-memory zip");
        out.push((var, zw.finish().expect("in-memory zip").into_inner()));
    }
    {
        let mut var = v(
            "variants/empty.har",
            "a valid HAR 1.2 log (creator, browser, one page) with \"entries\": []",
            0,
        );
        var.base = "";
        var.inconclusive = true;
        var.tunnel_sessions = vec![];
        out.push((var, empty_har()));
    }
    out
}

/// A HAR 1.2 export of a page whose network log was cleared: no entries.
fn empty_har() -> Vec<u8> {
    use crate::json::J;
    let started = crate::clock::START.iso_utc_ms();
    let log = J::o(vec![(
        "log",
        J::o(vec![
            ("version", J::s("1.2")),
            (
                "creator",
                J::o(vec![
                    ("name", J::s("WebInspector")),
                    ("version", J::s("537.36")),
                ]),
            ),
            (
                "browser",
                J::o(vec![
                    ("name", J::s("Microsoft Edge")),
                    ("version", J::s("130.0.2849.68")),
                ]),
            ),
            (
                "pages",
                J::Arr(vec![J::o(vec![
                    ("startedDateTime", J::s(started)),
                    ("id", J::s("page_1")),
                    ("title", J::s("https://outlook.office.com/mail/")),
                    (
                        "pageTimings",
                        J::o(vec![("onContentLoad", J::n(-1)), ("onLoad", J::n(-1))]),
                    ),
                ])]),
            ),
            ("entries", J::Arr(vec![])),
        ]),
    )]);
    let mut out = log.pretty().into_bytes();
    out.push(b'\n');
    out
}

fn list(v: &[usize]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `samples/README.md`, generated from the scenarios' expected facts.
pub fn readme(all: &[Expected]) -> String {
    let mut r = String::from("# Sample captures\n\nGenerated by the `samplegen` crate; never edit by hand. Regenerate with:\n\n    cargo run -p samplegen -- samples\n\n`tests/samples_reproducible.rs` fails when these files differ from what the generator writes.\nEvery scenario is a SAZ (as Fiddler Classic writes it: chunked and gzip/deflate/br bodies left\nas on the wire) and a HAR 1.2 (Chrome/Edge export shape, bodies decoded) with the same sessions in\nthe same order: HAR entry N (from 1) is SAZ session N. Facts below come from\n`samplegen::expected(name)`; tests should use that rather than these numbers.\n\nTenant \"Contoso Ltd\" (`72f988bf-0000-4000-8000-0123456789ab`, contoso.onmicrosoft.com), user\nuser@contoso.com, Outlook process `outlook:4242`, capture clock 2026-11-20 08:14:02 +01:00.\n\n## Scenarios\n\n| file | scenario | what traceadal should find | loop sessions (challenge / Entra / error) |\n|---|---|---|---|\n");
    for e in all {
        let loops = if e.loops.is_empty() {
            "-".to_string()
        } else {
            e.loops
                .iter()
                .map(|l| {
                    format!(
                        "{} x{} {}: {} / {} / {}",
                        l.resource,
                        l.attempts,
                        l.outcome,
                        list(&l.challenge_sessions),
                        list(&l.entra_sessions),
                        list(&l.error_sessions)
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>")
        };
        r.push_str(&format!(
            "| `{0}.saz`, `{0}.har` | {1} ({2} sessions) | {3} | {4} |\n",
            e.name,
            e.summary.replace('|', "\\|"),
            e.sessions,
            e.should_find.replace('|', "\\|"),
            loops
        ));
    }
    r.push_str("\n## Format variants (`variants/`)\n\nEach carries the sessions of its base scenario and should diagnose like it, except the\ninconclusive ones (`Variant::inconclusive`): traceadal cannot diagnose them (verdict inconclusive,\nexit code 3).\n\n| file | base | what is special |\n|---|---|---|\n");
    for v in variants() {
        let base = if v.base.is_empty() {
            "-".to_string()
        } else {
            format!("`{}`", v.base)
        };
        let what = if v.inconclusive {
            format!("{} (inconclusive)", v.what)
        } else {
            v.what.to_string()
        };
        r.push_str(&format!(
            "| `{}` | {} | {} |\n",
            v.file,
            base,
            what.replace('|', "\\|")
        ));
    }
    r.push_str(&format!(
        "\n## What tickets attach\n\n`{}` is a plain zip, as ticket systems and mail gateways wrap attachments: it holds\n{} and a user's note (`{}`), and no `raw/` entry. `traceadal analyze` prints one report\nper capture inside, named `{}!/<entry>`; `batch` lists them the same way.\n",
        crate::attachments::FILE,
        crate::attachments::INNER
            .iter()
            .map(|(entry, sample)| format!("`{entry}` (a copy of `{sample}`)"))
            .collect::<Vec<_>>()
            .join(" and "),
        crate::attachments::NOTE,
        crate::attachments::FILE
    ));
    r.push_str("\n## Not stored here\n\nPassword-protected SAZ files are not reproducible (AES salts are random), so tests make them at\nrun time: `samplegen::write_encrypted_saz(name, password, SazEncryption::Aes256 | Aes128 | ZipCrypto, path)`.\n\nThe adversarial set (issue 17) is not stored either: `cargo run -p samplegen -- adversarial DIR`\nwrites its captures (each a sample scenario followed by one exchange that plants one unique\nsecret, `ADV<nnn>x...`, in one placement and encoding, as SAZ and as HAR) and `cases.tsv`;\n`samplegen::adversarial::cases()` gives them in memory. `tests/adversarial.rs` searches every output\nfor them; `scripts/adversarial.sh` runs the whole set on the release build.\n\n## Secrets\n\nEvery secret planted in these files is listed in `samplegen::PLANTED_SECRETS` (raw values as on\nthe wire, JWT signatures included; JWT claims are not secrets). WAM's `request=` JWT carries a\nrefresh token as a claim: it is in `samplegen::JWT_CLAIM_SECRETS`. `secrets-everywhere` holds one\nof every kind.\n\n## Conventions worth knowing\n\n- `samplegen::Expected` gives a loop's `duration_ms` as the `ClientBeginRequest` of its last\n  session minus that of its first; traceadal's report measures to the end of the last session,\n  so its figure is up to a few seconds longer.\n- `missing_spns` lower-case the host and add the trailing slash, always as `https://`\n  (`http-resource` yields `https://autodiscover.contoso.com/` and its own http-resource finding).\n- In `wam-jwt-bearer` the challenge goes to `outlook:4242` and the token request comes from\n  `microsoft.aad.brokerplugin:7788`; the loop's `client_process` is Outlook, on whose behalf the\n  broker asked.\n- HAR CONNECT entries use the URL `http://host:443`, as Fiddler's HAR export names tunnels.\n");
    r.push_str(&precision_notes(all));
    r
}

/// README notes on the healthy-day, inconclusive and HMA-offer scenarios, from their facts.
fn precision_notes(all: &[Expected]) -> String {
    let mut r = String::new();
    let at = |name: &str, code: u32| -> String {
        all.iter()
            .find(|e| e.name == name)
            .map(|e| {
                list(
                    &e.aadsts_sessions
                        .iter()
                        .filter(|(_, c)| *c == code)
                        .map(|(s, _)| *s)
                        .collect::<Vec<_>>(),
                )
            })
            .unwrap_or_default()
    };
    r.push_str("- The expired token: Outlook presents its cached Bearer (a JWT whose `exp` is past; `iat`,\n  `nbf` and `exp` one hour apart) to a Bearer-only vdir, which answers `401` with the Bearer\n  challenge (`authorization_uri`, `error=\"invalid_token\"`) and `X-MS-Diagnostics: 2000001;reason=\"The\n  token has expired.\";error_category=\"invalid_token\"`; Outlook refreshes (`grant_type=refresh_token`,\n  200, `expires_in` 3599) and retries with the new token (200).\n");
    r.push_str(&format!(
        "- `healthy-workday`: AADSTS50076 (refresh for https://mail.contoso.com) in session {}, AADSTS50058\n  (`prompt=none` authorize for https://autodiscover.contoso.com) in session {}; each is followed by an\n  interactive sign-in that ends with a token and the 200 retry. `Expected::aadsts_sessions` has them.\n",
        at("healthy-workday", 50076),
        at("healthy-workday", 50058)
    ));
    r.push_str(&format!(
        "- `mfa-step-up`: AADSTS50076 in session {}, AADSTS50058 in session {}.\n",
        at("mfa-step-up", 50076),
        at("mfa-step-up", 50058)
    ));
    r.push_str("- Background token requests (Office `https://officeapps.live.com`, Microsoft Graph, Teams'\n  `/organizations/oauth2/v2.0/token` for presence and spaces from `ms-teams:9116`) follow no challenge.\n");
    r.push_str("- Inconclusive scenarios (`Expected::inconclusive`: `blind-tunnels`, `half-blind`) have blind tunnels as\n  FiddlerCore records them: `200 Blind-Connection Established`, `FiddlerGateway: Direct`, `StartTime`,\n  `EndTime`, byte counts, and the \"This is a CONNECT tunnel...\" text.\n");
    r.push_str("- `entra-blocked`: the corporate proxy (Squid, `x-hostip` 10.20.0.8) answers `CONNECT\n  login.microsoftonline.com:443` with `403 Forbidden` and its ERR_ACCESS_DENIED page.\n");
    r.push_str("\n## Noise layer (not stored)\n\n`samplegen::noisy(name)` (and `noisy_saz`, `noisy_har`; `cargo run -p samplegen -- noisy <name> <dir>`)\nlays background token requests (Office, Graph, Teams; no challenge; all 200), one expired-token cycle on\noutlook.office365.com and three decrypted tunnels around a scenario's sessions, by time; its `Expected`\nnames the same requests under their new session numbers. Inconclusive scenarios have no noisy form.\n");
    r
}

/// Fiddler's id of entry `id` in `variants/fiddler-ids.saz`: 104, 107, 110...
pub fn fiddler_id(id: usize) -> usize {
    101 + 3 * id
}
