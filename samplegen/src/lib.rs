//! traceadal's sample capture generator.
//!
//! Writes realistic Fiddler SAZ and HAR captures of the Outlook ADAL / hybrid modern auth
//! failures (and their neighbours) into `samples/`, byte-for-byte reproducibly: fixed clock,
//! fixed zip timestamps, a seeded PRNG per scenario, no map iteration order anywhere.
//! Regenerate with `cargo run -p samplegen -- samples`.
//!
//! The crate writes bytes; it does not depend on traceadal.

pub mod actors;
pub mod adversarial;
pub mod attachments;
pub mod bulk;
pub mod clock;
pub mod expected;
pub mod har;
pub mod json;
pub mod model;
pub mod netlog_copies;
pub mod noisy;
pub mod saz;
pub mod scenarios;
pub mod secrets;
pub mod variants;
pub mod wire;

use std::io;
use std::path::{Path, PathBuf};

pub use expected::{Expected, ExpectedDelegate, ExpectedLoop};
pub use har::HarOptions;
pub use model::Capture;
pub use saz::{SazEncryption, SazOptions};
pub use secrets::{JWT_CLAIM_SECRETS, PLANTED_SECRETS};
pub use variants::{variants, Variant};

/// Names of every scenario (each is `samples/<name>.saz` and `samples/<name>.har`).
pub fn scenario_names() -> Vec<&'static str> {
    scenarios::DEFS.iter().map(|d| d.name).collect()
}

/// What traceadal should find in scenario `name`; `None` for an unknown name.
/// Format variants (`variants/...`) name their base scenario in [`variants()`].
pub fn expected(name: &str) -> Option<Expected> {
    scenarios::build(name).map(|(_, e)| e)
}

/// The capture model of scenario `name`.
pub fn capture(name: &str) -> Option<Capture> {
    scenarios::build(name).map(|(c, _)| c)
}

/// SAZ bytes of scenario `name` with Fiddler's defaults.
pub fn saz(name: &str) -> Option<Vec<u8>> {
    capture(name).map(|c| saz::saz_bytes(&c, &SazOptions::default()))
}

/// HAR bytes of scenario `name`.
pub fn har(name: &str) -> Option<Vec<u8>> {
    capture(name).map(|c| har::har_bytes(&c, &har_options(name)))
}

/// Scenarios whose HAR is written without indentation.
const COMPACT_HAR: &[&str] = &["buried-in-noise", "healthy-workday", "owa-web-healthy"];

/// Scenario `name` with the noise layer laid around it (background Office/Graph/Teams token
/// requests and one expired-token cycle on outlook.office365.com, before, between and after
/// its sessions), with the expected facts' session numbers remapped. `None` for an unknown
/// name or an inconclusive scenario. Not written to `samples/`.
pub fn noisy(name: &str) -> Option<(Capture, Expected)> {
    noisy::noisy(name)
}

/// SAZ bytes of [`noisy`]`(name)`.
pub fn noisy_saz(name: &str) -> Option<Vec<u8>> {
    noisy(name).map(|(c, _)| saz::saz_bytes(&c, &SazOptions::default()))
}

/// HAR bytes of [`noisy`]`(name)` (compact).
pub fn noisy_har(name: &str) -> Option<Vec<u8>> {
    noisy(name).map(|(c, _)| {
        har::har_bytes(
            &c,
            &HarOptions {
                compact: true,
                ..HarOptions::default()
            },
        )
    })
}

/// The HAR options a scenario's file is written with: indented as Chrome writes it, except
/// the long captures (`buried-in-noise`, `healthy-workday`, `owa-web-healthy`), written
/// without indentation to stay small.
pub fn har_options(name: &str) -> HarOptions {
    HarOptions {
        compact: COMPACT_HAR.contains(&name),
        ..HarOptions::default()
    }
}

/// Every file [`write_all`] writes, as paths relative to the output folder, with contents.
pub fn all_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut built = Vec::new();
    for d in scenarios::DEFS {
        let (cap, exp) = scenarios::build(d.name).expect("every def builds");
        out.push((
            format!("{}.saz", d.name),
            saz::saz_bytes(&cap, &SazOptions::default()),
        ));
        out.push((
            format!("{}.har", d.name),
            har::har_bytes(&cap, &har_options(d.name)),
        ));
        built.push(exp);
    }
    out.extend(variants::files());
    let zipped = attachments::files(&out);
    out.extend(zipped);
    out.push(("README.md".into(), variants::readme(&built).into_bytes()));
    out
}

/// Writes every sample under `dir` (creating `dir` and `dir/variants`). Returns the paths
/// written, relative to `dir`, in a fixed order.
pub fn write_all(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (rel, data) in all_files() {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, data)?;
        written.push(PathBuf::from(rel));
    }
    Ok(written)
}

/// Writes scenario `name` as a password-protected SAZ at `out` (AES-128, AES-256 or
/// ZipCrypto). Not reproducible byte for byte (salts are random), so never stored in
/// `samples/`: tests make these in a temporary folder.
pub fn write_encrypted_saz(
    name: &str,
    password: &str,
    encryption: SazEncryption,
    out: &Path,
) -> io::Result<()> {
    let cap = capture(name)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no scenario {name}")))?;
    let bytes = saz::saz_bytes_encrypted(&cap, &SazOptions::default(), encryption, password)
        .map_err(io::Error::other)?;
    std::fs::write(out, bytes)
}
