//! The entry reader ([`super::fast`]) builds what serde_json builds: value for value on
//! generated entries of every shape (wrong kinds, repeated and unknown keys, every escape,
//! numbers serde_json reads as u64, i64 or f64, header items of every kind, long bodies the
//! guard notes, whitespace), with damage; whole captures read the same with it and without;
//! and it does read every entry of the shipped HAR samples (it is not a path never taken).

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::bodies_tests::{chars, contents, cut_entries, har, read_here};
use super::*;

/// `read_entry` against serde_json on one entry's text, as the guard cut it: when the
/// reader answers, it is serde_json's reading. Whether it answered.
fn same_as_serde(cut: &CutEntry) -> Result<bool, String> {
    let Some(fast) = read_entry(&cut.bytes, &cut.bodies) else {
        return Ok(false);
    };
    match parse_entry(&cut.bytes) {
        Ok(serde) if format!("{serde:?}") == format!("{fast:?}") => Ok(true),
        Ok(serde) => Err(format!(
            "read differently:\n fast:  {fast:?}\n serde: {serde:?}\n text: {}",
            String::from_utf8_lossy(&cut.bytes)
        )),
        Err(e) => Err(format!(
            "serde_json refused what the reader read ({e}): {}",
            String::from_utf8_lossy(&cut.bytes)
        )),
    }
}

/// Every session or error of the capture at `path`, read with the entry reader and by
/// serde_json alone.
fn both_readings(path: &Path) -> (String, String) {
    let read = || {
        lex_on_this_thread(|| {
            let file = std::fs::File::open(path).unwrap();
            format!("{:?}", map_reader(file, &HarLimits::default(), |r| r))
        })
    };
    (read(), entries_by_serde(read))
}

fn files(dir: &Path, keep: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path, keep));
        } else if path.file_name().and_then(|n| n.to_str()).is_some_and(keep) {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The shipped samples and recorded captures: every entry of every plain HAR is read by the
/// entry reader (none left to serde_json) as serde_json reads it, and every HAR, plain or
/// compressed, gives the same sessions and errors either way.
#[test]
fn shipped_hars_are_read_by_the_entry_reader_as_serde_json_reads_them() {
    let mut hars = files(&repo("samples"), &|n| n.contains(".har"));
    hars.extend(files(&repo("tests/recorded"), &|n| n.ends_with(".har")));
    assert!(hars.len() > 80, "{}", hars.len());
    let (mut entries, mut left) = (0, Vec::new());
    for path in &hars {
        let (fast, serde) = both_readings(path);
        assert_eq!(fast, serde, "{}", path.display());
        if path.extension().is_some_and(|e| e == "har") {
            let text = std::fs::read(path).unwrap();
            for cut in cut_entries(&text, &HarLimits::default()) {
                entries += 1;
                if !same_as_serde(&cut).unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
                    left.push(path.file_name().unwrap().to_string_lossy().into_owned());
                }
            }
        }
    }
    // Every entry of every plain HAR under samples/ and tests/recorded/.
    assert_eq!(entries, 1956);
    // Left to serde_json: only the variants made to be damaged.
    left.dedup();
    assert_eq!(left, EXPECTED_LEFT, "entries read by serde_json alone");
}

/// The shipped HARs with entries the entry reader leaves to serde_json, and why.
const EXPECTED_LEFT: &[&str] = &[];

/// The public corpus (HARs and mitmproxy's JSON, `.zhar`): the same sessions and errors
/// with the entry reader and without.
#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS, or beside the clone where CI puts it): run with --ignored (CI does)"]
fn corpus_hars_read_the_same_with_the_entry_reader() {
    let corpus = std::env::var_os("TRACEADAL_CORPUS")
        .map(PathBuf::from)
        .into_iter()
        .chain(repo("..").ancestors().map(|a| a.join("shared/captures")))
        .find(|c| c.join("SOURCES.txt").is_file())
        .expect("the public capture corpus: set TRACEADAL_CORPUS");
    let hars = files(&corpus.join("har"), &|_| true);
    assert!(hars.len() >= 20, "{}", hars.len());
    for path in &hars {
        let (fast, serde) = both_readings(path);
        assert_eq!(fast, serde, "{}", path.display());
    }
}

/// Between JSON tokens: mostly nothing, sometimes what pretty-printers write.
fn ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![8 => Just(""), 2 => Just(" "), 1 => Just("\n    "), 1 => Just("\t\r\n ")]
}

/// A JSON string: plain text mostly, escapes serde_json reads, sometimes anything
/// [`contents`] makes (surrogates, control characters, invalid UTF-8, quotes), sometimes
/// long (the guard notes long strings at a body's depth).
fn string() -> BoxedStrategy<String> {
    prop_oneof![
        24 => "[a-zA-Z0-9 :/.;=,-]{0,24}".prop_map(|s| format!("\"{s}\"")),
        1 => Just("\":authority\"".to_string()),
        3 => proptest::collection::vec(
            proptest::sample::select(vec!["a", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\u00e9", "\\u20AC", "é", "€", "<x y=\\\"1\\\">"]),
            0..12,
        )
        .prop_map(|p| format!("\"{}\"", chars(p.concat().as_bytes()))),
        1 => contents().prop_map(|c| format!("\"{}\"", chars(&c))),
        2 => (128usize..600, proptest::sample::select(vec!["a", "\\\"", "\\u00e9", "é", "\\n"]))
            .prop_map(|(n, s)| format!("\"{}\"", chars(s.repeat(n / s.len()).as_bytes()))),
    ]
    .boxed()
}

/// A JSON number as exporters write them, the edges of serde_json's readings, and now and
/// then one that is no JSON number.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => proptest::sample::select(vec![
            "0", "-0", "1", "-1", "200", "33.709", "-1.5", "1e3", "1E-2", "2.5e+2", "0.0", "-0.0",
            "0.912", "123456789.012345", "-12345678901234.5", "1234567890.1234567",
            "9999999999999999999", "18446744073709551615", "18446744073709551616",
            "-9223372036854775808", "-9223372036854775809", "123456789012345678901234567890",
        ]),
        1 => proptest::sample::select(vec!["1e400", "-1e400", "01", "1.", "-", ".5", "1e"]),
    ]
    .prop_map(str::to_string)
    .boxed()
    .prop_union(
        // Integers and decimal fractions around the reader's own limits (15 and 18 digits).
        "-?(0|[1-9][0-9]{0,19})(\\.[0-9]{1,12})?".boxed(),
    )
}

fn scalar() -> BoxedStrategy<String> {
    prop_oneof![
        4 => string(),
        3 => number(),
        1 => proptest::sample::select(vec!["true", "false", "null"]).prop_map(str::to_string),
        1 => proptest::sample::select(vec!["nul", "tru", "True"]).prop_map(str::to_string),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
fn any_value() -> BoxedStrategy<String> {
    scalar()
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                (proptest::collection::vec(inner.clone(), 0..4), ws()).prop_map(
                    |(items, ws)| format!("[{ws}{}{ws}]", items.join(&format!("{ws},{ws}")))
                ),
                (
                    proptest::collection::vec(("[a-z_]{1,8}", inner), 0..4),
                    ws()
                )
                    .prop_map(|(members, ws)| {
                        let members: Vec<String> = members
                            .into_iter()
                            .map(|(k, v)| format!("\"{k}\"{ws}:{ws}{v}"))
                            .collect();
                        format!("{{{ws}{}{ws}}}", members.join(","))
                    }),
            ]
        })
        .boxed()
}

/// A field's value: what HAR puts there mostly, anything sometimes.
fn field(right: BoxedStrategy<String>) -> BoxedStrategy<String> {
    prop_oneof![30 => right, 1 => any_value()].boxed()
}

/// An object with these members, each present or not, some twice, unknown ones among them,
/// in any order.
fn object(members: Vec<(&'static str, BoxedStrategy<String>)>) -> BoxedStrategy<String> {
    let members: Vec<BoxedStrategy<Vec<String>>> = members
        .into_iter()
        .map(|(key, value)| {
            (proptest::collection::vec(value, 0..3), 0usize..10, ws())
                .prop_map(move |(values, n, ws)| {
                    // Mostly once, sometimes missing, now and then twice.
                    let n = match n {
                        0 => 0,
                        9 => 2.min(values.len()),
                        _ => 1.min(values.len()),
                    };
                    values[..n]
                        .iter()
                        .map(|v| format!("\"{key}\"{ws}:{ws}{v}"))
                        .collect()
                })
                .boxed()
        })
        .collect();
    let key = prop_oneof![
        100 => "[a-z_]{1,10}|size|mimeType|cookies",
        // Spelled with an escape: a known key to serde_json, left to it by the reader.
        1 => Just("\"te\\u0078t\"".to_string()),
    ];
    let unknown = proptest::collection::vec((key, any_value()), 0..3);
    (members, unknown, ws())
        .prop_flat_map(|(members, unknown, ws)| {
            let mut all: Vec<String> = members.into_iter().flatten().collect();
            all.extend(unknown.into_iter().map(|(k, v)| {
                let k = if k.starts_with('"') {
                    k
                } else {
                    format!("\"{k}\"")
                };
                format!("{k}:{v}")
            }));
            Just(all)
                .prop_shuffle()
                .prop_map(move |all| format!("{{{ws}{}{ws}}}", all.join(&format!(",{ws}"))))
        })
        .boxed()
}

/// A header list: items as HAR has them, and every other kind of item.
fn headers() -> BoxedStrategy<String> {
    let item = prop_oneof![
        20 => object(vec![("name", field(string())), ("value", field(string()))]),
        1 => any_value(),
    ];
    (proptest::collection::vec(item, 0..8), ws())
        .prop_map(|(items, ws)| format!("[{ws}{}{ws}]", items.join(",")))
        .boxed()
}

fn time() -> BoxedStrategy<String> {
    prop_oneof![
        4 => Just("\"2024-03-01T10:00:00.123Z\"".to_string()),
        1 => Just("\"2024-03-01T10:00:00+02:00\"".to_string()),
        1 => Just("\"yesterday\"".to_string()),
    ]
    .boxed()
}

/// One entry of `log.entries`.
fn entry() -> BoxedStrategy<String> {
    let post = object(vec![
        ("text", field(string())),
        ("params", field(headers())),
        ("encoding", field(string())),
    ]);
    let request = object(vec![
        ("method", field(string())),
        ("url", field(string())),
        ("httpVersion", field(string())),
        ("headers", field(headers())),
        ("postData", field(post)),
    ]);
    let content = object(vec![
        ("text", field(string())),
        (
            "encoding",
            field(prop_oneof![Just("\"base64\"".to_string()), string()].boxed()),
        ),
    ]);
    let response = object(vec![
        ("status", field(number().boxed())),
        ("statusText", field(string())),
        ("httpVersion", field(string())),
        ("headers", field(headers())),
        ("content", field(content)),
        ("_error", field(string())),
    ]);
    let timings = object(
        ["blocked", "dns", "connect", "send", "wait", "receive"]
            .map(|k| (k, field(number().boxed())))
            .to_vec(),
    );
    object(vec![
        ("startedDateTime", field(time())),
        ("time", field(number().boxed())),
        ("request", field(request)),
        ("response", field(response)),
        ("serverIPAddress", field(string())),
        ("timings", field(timings)),
        ("_webSocketMessages", field(any_value())),
        ("_error", field(string())),
        ("_processInfo", field(string())),
        ("_process", field(string())),
    ])
}

/// The text of a generated entry as bytes ([`chars`] carried the bytes that are not UTF-8).
fn entry_bytes(e: &str) -> Vec<u8> {
    super::bodies_tests::bytes(e)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Entry by entry, as the guard cuts them: whenever the entry reader answers, it is
    /// serde_json's reading.
    #[test]
    fn an_entry_read_by_the_entry_reader_is_serde_jsons(
        entries in proptest::collection::vec(entry(), 1..4),
        damage in proptest::option::of((any::<prop::sample::Index>(), proptest::sample::select(b"\"{}[],:\\1x\x01 e-.".to_vec()))),
    ) {
        let entries: Vec<Vec<u8>> = entries.iter().map(|e| entry_bytes(e)).collect();
        let mut text = har(&entries);
        if let Some((at, byte)) = damage {
            let at = at.index(text.len());
            text[at] = byte;
        }
        for cut in cut_entries(&text, &HarLimits::default()) {
            if let Err(e) = same_as_serde(&cut) {
                prop_assert!(false, "{}", e);
            }
        }
    }

    /// Whole captures of generated entries (and of the out-of-band tests' entries), damaged,
    /// cut short, read in pieces, with strings cut at `max_string`: the same sessions and
    /// errors with the entry reader and without.
    #[test]
    fn captures_read_the_same_with_the_entry_reader(
        entries in proptest::collection::vec(entry(), 0..4),
        bodies in proptest::collection::vec(super::bodies_tests::entry(), 0..2),
        damage in proptest::option::of((any::<prop::sample::Index>(), proptest::sample::select(b"\"{}[],\\1x\x01".to_vec()))),
        cut in proptest::option::of(any::<prop::sample::Index>()),
        sizes in proptest::collection::vec(proptest::sample::select(vec![1usize, 63, 64, 4096, usize::MAX]), 1..3),
        max_string in proptest::sample::select(vec![100u64, 200, 1 << 20]),
    ) {
        let mut all: Vec<Vec<u8>> = entries.iter().map(|e| entry_bytes(e)).collect();
        all.extend(bodies);
        let mut text = har(&all);
        if let Some((at, byte)) = damage {
            let at = at.index(text.len());
            text[at] = byte;
        }
        if let Some(cut) = cut {
            text.truncate(cut.index(text.len() + 1));
        }
        let limits = HarLimits { max_string, batch_entries: 2, ..HarLimits::default() };
        let fast = read_here(&text, &sizes, &limits);
        let serde = entries_by_serde(|| read_here(&text, &sizes, &limits));
        prop_assert_eq!(fast, serde);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    /// A number in a field that reads numbers (`f64`) and in one that converts them to text
    /// (`String`): read exactly as serde_json reads it, by the reader's own arithmetic or by
    /// serde_json; refused exactly where serde_json refuses it.
    #[test]
    fn numbers_read_as_serde_json_reads_them(
        n in "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,17})?([eE][+-]?[0-9]{1,3})?|-?[0-9]{1,3}\\.?[eE]?",
    ) {
        let text = format!(r#"{{"time":{n},"response":{{"statusText":{n}}}}}"#);
        let fast = read_entry(text.as_bytes(), &[]).map(|f| format!("{f:?}"));
        let serde = parse_entry(text.as_bytes()).ok().map(|f| format!("{f:?}"));
        prop_assert_eq!(fast, serde, "{}", n);
    }
}

/// Exact readings of the cases the reader must get right or leave alone.
#[test]
fn edges_of_the_entry_reader() {
    let read = |e: &str| read_entry(e.as_bytes(), &[]).map(|f| format!("{f:?}"));
    let serde = |e: &str| format!("{:?}", parse_entry(e.as_bytes()).unwrap());
    // Read, as serde_json reads them.
    for e in [
        r#"{}"#,
        r#" { "time" : 12 } "#,
        r#"{"time":-0,"response":{"status":"404"}}"#,
        r#"{"time":1.5e2,"response":{"status":18446744073709551615}}"#,
        r#"{"request":{"url":"https:\/\/h.test\/a\u00e9\n","method":7,"headers":[null,1,{"name":":path","value":"/"},{"name":"","value":"x"},{"value":"y"},{"name":"A","name":"B","value":true}]}}"#,
        r#"{"request":{"url":"a","url":"b"},"request":{"method":"GET"}}"#,
        r#"{"_webSocketMessages":[{"a":[1,2,{"b":null}]}],"timings":{"wait":-1,"ssl":3}}"#,
        r#"{"response":{"content":{"text":"\"quoted\"","encoding":"base64"},"headers":{"a":1}}}"#,
        r#"{"request":{"postData":{"params":[{"name":"a","value":"b"},[],"x"]}}}"#,
        // Ignored numbers are checked by the grammar alone, by serde_json too.
        r#"{"size":1e400,"request":{"headers":[[-1e400]]}}"#,
    ] {
        assert_eq!(read(e), Some(serde(e)), "{e}");
    }
    // Left to serde_json: a key with an escape, a surrogate, a read number out of range, a
    // control character, nesting past MAX_DEPTH, text after the entry, damage.
    for e in [
        r#"{"ti\u006de":1}"#,
        r#"{"request":{"url":"\ud83d\ude00"}}"#,
        r#"{"time":1e400}"#,
        "{\"request\":{\"url\":\"a\u{1}\"}}",
        &format!(r#"{{"x":{}{}}}"#, "[".repeat(70), "]".repeat(70)),
        r#"{"time":1} {}"#,
        r#"{"time":01}"#,
        r#"{"time":1,}"#,
        r#"{"time" 1}"#,
    ] {
        assert_eq!(read(e), None, "{e}");
    }
}
