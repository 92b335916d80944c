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
