//! Reading on the calling thread ([`super::lex_on_this_thread`]) gives what reading with a
//! `har-parse` thread gives: the same sessions, errors and rewritten bytes.

use std::io::Read;

use proptest::prelude::*;

use super::*;
use crate::capture::rewrite::Identity;

const ENTRY: &str = r#"{"startedDateTime":"2024-03-01T10:00:00.000+01:00","time":250,
    "request":{"method":"POST","url":"https://autodiscover.contoso.com/autodiscover/autodiscover.svc","httpVersion":"HTTP/1.1",
      "headers":[{"name":"Host","value":"autodiscover.contoso.com"},{"name":"Authorization","value":"Bearer eyJ0eXAi.eyJhdWQi.c2ln"}],
      "postData":{"mimeType":"text/xml","text":"<a b=\"c\">\u00e9</a>"}},
    "response":{"status":401,"statusText":"Unauthorized","httpVersion":"HTTP/1.1",
      "headers":[{"name":"WWW-Authenticate","value":"Bearer client_id=\"x\""}],
      "content":{"size":5,"mimeType":"text/plain","text":"aGVsbG8=","encoding":"base64"}},
    "timings":{"send":1,"wait":100,"receive":4}}"#;

/// Every session or error, and every rewritten byte, of `text` read both ways.
fn read_both(text: &[u8], limits: &HarLimits) -> [(String, String); 2] {
    let once = || {
        let read = map_reader(text, limits, |r| r);
        let mut out = Vec::new();
        let rewritten = rewrite_reader(text, limits, &mut out, &mut Identity);
        (
            format!("{read:?}"),
            format!("{rewritten:?} {}", String::from_utf8_lossy(&out)),
        )
    };
    [once(), lex_on_this_thread(once)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Entries whole, damaged at any byte or cut anywhere, in batches of any size.
    #[test]
    fn reading_on_this_thread_reads_the_same(
        entries in 0usize..12,
        damage in proptest::option::of((0usize..100_000, proptest::sample::select(b"\"{}[],\\1x".to_vec()))),
        cut in proptest::option::of(0usize..100_000),
        batch_entries in 1usize..5,
        max_string in proptest::sample::select(vec![16u64, 100, 1 << 20]),
    ) {
        let list = vec![ENTRY; entries].join(",");
        let mut text = format!(r#"{{"log":{{"version":"1.2","entries":[{list}]}}}}"#).into_bytes();
        if let Some((at, byte)) = damage {
            let at = at % text.len();
            text[at] = byte;
        }
        if let Some(cut) = cut {
            text.truncate(cut % (text.len() + 1));
        }
        let limits = HarLimits { batch_entries, max_string, ..HarLimits::default() };
        let [threaded, here] = read_both(&text, &limits);
        prop_assert_eq!(threaded, here);
    }
}

/// Lexing on a rayon worker (whose stack is the default 2 MiB, not the 16 MiB of the
/// `har-parse` thread), nesting stops at the limit as cleanly.
#[test]
fn deep_nesting_on_this_thread_is_the_same_clean_error() {
    let deep = "[".repeat(100_000);
    let text = format!(r#"{{"log":{{"entries":[{ENTRY},{{"request":{{"x":{deep}"#);
    let limits = HarLimits::default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .stack_size(2 << 20)
        .build()
        .unwrap();
    let [threaded, here] = pool.install(|| read_both(text.as_bytes(), &limits));
    assert!(here.0.contains("nested deeper"), "{}", here.0);
    assert_eq!(threaded, here);
    // Also a value the skeleton's parser skips, outside the entries.
    let text = format!(r#"{{"pages":{deep}"#);
    let [threaded, here] = pool.install(|| read_both(text.as_bytes(), &limits));
    assert!(here.0.contains("nested deeper"), "{}", here.0);
    assert_eq!(threaded, here);
}

/// The setting is this thread's and ends with the work, even if the work panics.
#[test]
fn the_setting_ends_with_the_work() {
    assert!(!LEX_HERE.get());
    lex_on_this_thread(|| {
        assert!(LEX_HERE.get());
        lex_on_this_thread(|| assert!(LEX_HERE.get()));
        assert!(LEX_HERE.get());
        std::thread::spawn(|| assert!(!LEX_HERE.get()))
            .join()
            .unwrap();
    });
    assert!(!LEX_HERE.get());
    let panicked = std::panic::catch_unwind(|| lex_on_this_thread(|| panic!("in the work")));
    assert!(panicked.is_err());
    assert!(!LEX_HERE.get());
    // Reading a gzip file the same way: the reader is any `Read`.
    let plain = format!(r#"{{"log":{{"entries":[{ENTRY}]}}}}"#);
    let mut gz = flate2::read::GzEncoder::new(plain.as_bytes(), flate2::Compression::fast());
    let mut bytes = Vec::new();
    gz.read_to_end(&mut bytes).unwrap();
    let [threaded, here] = read_both(&bytes, &HarLimits::default());
    assert_eq!(threaded, here);
}
