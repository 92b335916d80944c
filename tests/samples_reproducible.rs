//! `samples/` is exactly what `samplegen` writes: every file byte-identical, none missing,
//! none extra. Regenerate with `cargo run -p samplegen -- samples`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn files_under(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.strip_prefix(root).expect("under root").to_path_buf());
            }
        }
    }
    out
}

#[test]
fn committed_samples_match_the_generator() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let tmp = tempfile::tempdir().expect("temp dir");
    let written = samplegen::write_all(tmp.path()).expect("generator writes");
    assert!(!written.is_empty());

    let generated = files_under(tmp.path());
    let on_disk = files_under(&committed);
    let readme = PathBuf::from("README.md");
    let missing: Vec<_> = generated
        .iter()
        .filter(|p| **p != readme && !on_disk.contains(*p))
        .collect();
    let extra: Vec<_> = on_disk
        .iter()
        .filter(|p| **p != readme && !generated.contains(*p))
        .collect();
    let regen = "regenerate with `cargo run -p samplegen -- samples`";
    assert!(missing.is_empty(), "not in samples/: {missing:?}; {regen}");
    assert!(
        extra.is_empty(),
        "in samples/ but not generated: {extra:?}; {regen}"
    );

    for rel in &generated {
        let want = std::fs::read(tmp.path().join(rel)).expect("generated file");
        let Ok(have) = std::fs::read(committed.join(rel)) else {
            continue; // README.md may be absent
        };
        assert!(
            want == have,
            "samples/{} differs from the generator's output; {regen}",
            rel.display()
        );
    }
}

#[test]
fn generator_is_deterministic_and_samples_are_small() {
    let a = samplegen::all_files();
    let b = samplegen::all_files();
    assert_eq!(a.len(), b.len());
    for ((na, da), (nb, db)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert!(da == db, "{na} differs between two runs");
        assert!(da.len() < 1_000_000, "{na} is {} bytes", da.len());
    }
}

#[test]
fn every_scenario_has_a_saz_a_har_and_expected_facts() {
    let files: BTreeSet<String> = samplegen::all_files().into_iter().map(|(n, _)| n).collect();
    for name in samplegen::scenario_names() {
        assert!(files.contains(&format!("{name}.saz")), "{name}.saz");
        assert!(files.contains(&format!("{name}.har")), "{name}.har");
        let e = samplegen::expected(name).expect("expected facts");
        assert_eq!(e.name, name);
        assert!(e.sessions > 0, "{name} has sessions");
    }
    for v in samplegen::variants() {
        assert!(files.contains(v.file), "{}", v.file);
    }
}

/// Every `SECRET-` marker in the decoded samples is listed in `PLANTED_SECRETS` (or is a JWT
/// claim listed in `JWT_CLAIM_SECRETS`), and every planted secret appears in some sample.
#[test]
fn planted_secrets_are_listed_and_present() {
    let mut text = String::new();
    for name in samplegen::scenario_names() {
        let cap = samplegen::capture(name).expect("scenario");
        for s in &cap.sessions {
            text.push_str(&s.request.url);
            text.push('\n');
            for (n, v) in &s.request.headers {
                text.push_str(&format!("{n}: {v}\n"));
            }
            if let Some(b) = &s.request.body {
                text.push_str(&String::from_utf8_lossy(&b.data));
            }
            if let Some(r) = &s.response {
                for (n, v) in &r.headers {
                    text.push_str(&format!("{n}: {v}\n"));
                }
                if let Some(b) = &r.body {
                    text.push_str(&String::from_utf8_lossy(&b.data));
                }
            }
            text.push('\n');
        }
    }
    for secret in samplegen::PLANTED_SECRETS {
        let url_form: String = secret
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        // The Basic password travels only inside the base64 credential.
        let inside_basic = {
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(samplegen::secrets::BASIC_CREDENTIAL)
                .expect("base64");
            String::from_utf8_lossy(&decoded).contains(secret)
        };
        assert!(
            text.contains(secret) || text.contains(&url_form) || inside_basic,
            "planted secret not found in any sample: {secret}"
        );
    }
    let mut rest = text.as_str();
    while let Some(i) = rest.find("SECRET-") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(tail.len());
        let found = &tail[..end];
        let listed = samplegen::PLANTED_SECRETS
            .iter()
            .chain(samplegen::JWT_CLAIM_SECRETS)
            .any(|s| found.starts_with(s) || s.starts_with(found) && found.len() >= 20);
        assert!(listed, "unlisted secret in the samples: {found}");
        rest = &tail[end.max(1)..];
    }
}

/// The encrypted SAZ writer makes archives that open with the password and show the same
/// entries as the plain SAZ.
#[test]
fn encrypted_saz_round_trips() {
    use std::io::Read;
    let tmp = tempfile::tempdir().expect("temp dir");
    let plain = samplegen::saz("adal-500011-redirect").expect("scenario");
    let mut plain = zip::ZipArchive::new(std::io::Cursor::new(plain)).expect("zip");
    for (i, enc) in [
        samplegen::SazEncryption::Aes128,
        samplegen::SazEncryption::Aes256,
        samplegen::SazEncryption::ZipCrypto,
    ]
    .into_iter()
    .enumerate()
    {
        let path = tmp.path().join(format!("enc{i}.saz"));
        samplegen::write_encrypted_saz("adal-500011-redirect", "fiddler", enc, &path)
            .expect("write encrypted");
        let file = std::fs::File::open(&path).expect("open");
        let mut z = zip::ZipArchive::new(file).expect("zip");
        assert_eq!(z.len(), plain.len());
        for j in 0..z.len() {
            let name = z
                .by_index_raw(j)
                .expect("entry")
                .name()
                .expect("entry name")
                .to_string();
            let mut want = Vec::new();
            plain
                .by_name(&name)
                .expect("same entry")
                .read_to_end(&mut want)
                .expect("read plain");
            let mut got = Vec::new();
            z.by_index_decrypt(j, b"fiddler")
                .expect("decrypt")
                .read_to_end(&mut got)
                .expect("read decrypted");
            assert_eq!(got, want, "{name} ({enc:?})");
        }
        assert!(
            z.by_index_decrypt(1, b"wrong").is_err() || {
                // ZipCrypto's one-byte check passes for ~1/256 wrong passwords; the read fails then.
                let mut v = Vec::new();
                z.by_index_decrypt(1, b"wrong")
                    .map(|mut f| f.read_to_end(&mut v).is_err())
                    .unwrap_or(true)
            }
        );
    }
}
