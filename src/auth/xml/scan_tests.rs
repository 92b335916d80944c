//! [`soap_operation_scan`] held to [`soap_operation_pull`], the pull parser it stands in
//! for: when the scan answers, it gives exactly what the parser gives; when it is not sure,
//! [`soap_operation`] asks the parser.

use super::{body_text, soap_operation, soap_operation_pull, soap_operation_scan};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

/// A document, what the scan says of it (`None`: left to the parser) and what
/// `soap_operation` says.
type Case<D> = (D, Option<Option<String>>, Option<String>);

/// `(document, what the scan says, what soap_operation says)`, for the shapes the scan must
/// read itself and for each odd one it must leave to the parser.
#[test]
fn tricky_cases() {
    let op = |s: &str| Some(s.to_string());
    let cases: &[Case<&str>] = &[
        // Plain envelopes: the scan answers.
        (
            r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="t" xmlns:m="m"><soap:Header><t:RequestServerVersion Version="Exchange2013" /></soap:Header><soap:Body><m:FindItem Traversal="Shallow"><m:ItemShape/></m:FindItem></soap:Body></soap:Envelope>"#,
            Some(op("FindItem")),
            op("FindItem"),
        ),
        (
            "\u{feff}<?xml version='1.0'?>\r\n<s:Envelope\n\txmlns:s='u'>\n <s:Body xmlns:s=\"u\" a='it\"s'>\n  <GetFolder/>",
            Some(op("GetFolder")),
            op("GetFolder"),
        ),
        ("<Envelope><Body><Op></Op></Body></Envelope>", Some(op("Op")), op("Op")),
        ("<e><Header><x/><y>t</y></Header><Body\n><a:b:Op x=\"y\"/>", Some(op("b:Op")), op("b:Op")),
        // Cut right after the operation's tag: still the operation.
        ("<e><Body><m:FindItem>", Some(op("FindItem")), op("FindItem")),
        // A quoted `/`.
        ("<e><Body><Op a=\"x/\"/>", Some(op("Op")), op("Op")),
        // Names: empty local name, `:Body`, 100 characters at most.
        ("<e><Body><m:/></Body></e>", Some(None), None),
        ("<e><:Body><Op/>", Some(op("Op")), op("Op")),
        (
            &format!("<e><Body><{}/>", "L".repeat(150)),
            Some(op(&"L".repeat(100))),
            op(&"L".repeat(100)),
        ),
        // Left to the parser.
        ("<e><!-- <Body> --><Body><Op/></Body></e>", None, op("Op")),
        ("<e><Body><![CDATA[<X>]]><Op/></Body></e>", None, op("Op")),
        ("<!DOCTYPE e><e><Body><Op/></Body></e>", None, op("Op")),
        ("<?pi x?><e><Body><Op/></Body></e>", None, op("Op")),
        ("<e><?xml version=\"1.0\"?><Body><Op/></Body></e>", None, op("Op")),
        ("<e a=\"<Body>\"><Body><Op/></Body></e>", None, op("Op")),
        ("<e a=\"<Body\"><Body><Op/></Body></e>", None, op("Op")),
        ("<e a='>'><Body><Op/></Body></e>", None, op("Op")),
        // A tag that would end early, were quotes not followed: its attribute holds the
        // only `Body`.
        ("<e><x a='/><Body><Op/>'/>", None, op("e")),
        ("<e a=\"x><Body><Op/></Body></e>", None, None),
        ("<e>&amp;<Body><Op/></Body></e>", None, op("Op")),
        // A dangling `&` is an error to quick-xml: the parser stops at it.
        ("<e>a & b<Body><Op/></Body></e>", None, op("e")),
        // A `Body` that is not the envelope's child comes first in document order.
        ("<e><h><Body><X/></Body></h><Body><Op/></Body></e>", None, op("X")),
        ("<Body><Op/></Body>", None, op("Op")),
        ("<e><Body/><Body><Op/></Body></e>", None, None),
        ("<e><Body /><Op/></e>", None, None),
        ("<e><Body></Body><Op/></e>", None, None),
        ("<e><Body> text </Body></e>", None, None),
        // No `Body`: the document element.
        ("<e><Op/></e>", None, op("e")),
        ("", None, None),
        ("just text", None, None),
        // Cut inside a tag, a `<` at the end.
        ("<e><Body><m:FindI", None, None),
        ("<e><Body><", None, None),
        ("<e><Bod", None, op("e")),
        // Names the scan does not read.
        ("<e><Body><m:Élément/>", None, op("Élément")),
        ("<e><Body>< Op/>", None, None),
        ("<e><Body><a/b>", None, op("a/b")),
        ("<e><Body><a/ x>", None, op("a/")),
        ("<e><Body><a\u{c}b>", None, op("a\u{c}b")),
        // Two document elements; an end tag with nothing open.
        ("<a/><e><Body><Op/></Body></e>", None, op("Op")),
        ("</x><e><Body><Op/></Body></e>", None, None),
        ("<e></e><f><Body><Op/>", None, op("Op")),
        // A `<` inside a tag.
        ("<e <Body><Op/></Body></e>", None, op("e")),
    ];
    for (doc, scan, answer) in cases {
        assert_eq!(
            &soap_operation_scan(doc.as_bytes()),
            scan,
            "scan of {doc:?}"
        );
        assert_eq!(&soap_operation_pull(doc), answer, "parser on {doc:?}");
        assert_eq!(
            &soap_operation(doc.as_bytes()),
            answer,
            "soap_operation of {doc:?}"
        );
    }
}

/// Bodies that are not UTF-8 (or start with BOMs): the scan reads the bytes, the parser
/// the text with replacement characters.
#[test]
fn bodies_that_are_not_utf8() {
    let op = |s: &str| Some(s.to_string());
    let cases: &[Case<&[u8]>] = &[
        (
            b"\xef\xbb\xbf\xef\xbb\xbf<e><Body><Op/>",
            Some(op("Op")),
            op("Op"),
        ),
        (
            b"\xff<e a='\xc3'>\xe2\x82<Body>\x80<m:Op/>",
            Some(op("Op")),
            op("Op"),
        ),
        (b"<e><Body><Op\xff/>", None, op("Op\u{fffd}")),
        (b"<e><Body><\xc3\xa9/>", None, op("\u{e9}")),
    ];
    for (body, scan, answer) in cases {
        let shown = String::from_utf8_lossy(body);
        assert_eq!(&soap_operation_scan(body), scan, "scan of {shown:?}");
        assert_eq!(&soap_operation(body), answer, "soap_operation of {shown:?}");
        assert_eq!(
            &soap_operation_pull(&body_text(body)),
            answer,
            "parser on {shown:?}"
        );
    }
}

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(options).prop_map(str::to_string)
}

/// Whitespace, or nothing.
fn ws() -> impl Strategy<Value = String> {
    pick(&["", "", "", " ", "\n  ", "\r\n\t", "\u{c}"])
}

/// A part that can stand anywhere: whatever the scan must leave to the parser, and
/// whatever it must step over.
fn odd() -> impl Strategy<Value = String> {
    prop_oneof![
        pick(&[
            "<!-- c -->",
            "<!-- <Body> -->",
            "<![CDATA[<Body><X>]]>",
            "<!DOCTYPE e>",
            "<!>",
            "<?pi x?>",
            "<?xml version=\"1.0\"?>",
            "<?xml>?>",
            "<??>",
            "<?>",
            "\u{feff}",
            "text & more",
            "&amp;",
            "&#x41;",
            "a & b",
            "Body",
            ">",
            "<Body>",
            "<Body/>",
            "<Body />",
            "<s:Body>",
            "</s:Body>",
            "</Body >",
            "<x:Body\t>",
            "<a:b:Body>",
            "<:Body>",
            "<Bodyx>",
            "<body>",
            "<t:X a=\"<Body>\">",
            "<t:X a='>'>",
            "<t:X a='/><Body><Op/>'/>",
            "<t:X a=\"/>\">",
            "<t:X a=\"it's\">",
            "<t:X a='say \"hi\"'/>",
            "<t:X a=\"<\">",
            "<t:X a=\"x/\"/>",
            "<t:X/ >",
            "</t:X>",
            "</>",
            "</a x=\">\">",
            "<",
            "</",
            "< a>",
            "<>",
            "<m:>",
            "<é>",
            "<a/b>",
            "<a\u{c}>",
        ]),
        "[a-zA-Z<>/:?!&;'\" =\\-\\[\\]\n]{0,8}",
    ]
}

fn declaration() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => pick(&[
        "",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
        "<?xml version='1.0'?>\r\n",
        "\u{feff}<?xml version=\"1.0\"?>",
        "\u{feff}",
        "<?xml?>",
        ]),
        1 => pick(&["<?xml-stylesheet href=\"a\"?>"]),
    ]
}

fn envelope() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => pick(&[
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\">",
        "<s:Envelope xmlns:s='u'>",
        "<Envelope>",
        "<SOAP-ENV:Envelope\n  xmlns:SOAP-ENV=\"u\"\n>",
        ]),
        1 => pick(&["<s:Envelope xmlns:s=\"u\"/>"]),
    ]
}

fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => pick(&[
        "",
        "<soap:Header><t:RequestServerVersion Version=\"Exchange2013\" /></soap:Header>",
        "<s:Header>\n <t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>a@b.c</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>\n</s:Header>",
        "<Header/>",
        "<s:Header><t:TimeZoneContext><t:TimeZoneDefinition Id=\"W. Europe\"/></t:TimeZoneContext></s:Header>",
        ]),
        1 => pick(&["<h><Body><X/></Body></h>"]),
    ]
}

fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => pick(&["<soap:Body>", "<s:Body xmlns:s=\"u\">", "<Body>", "<Body\n>"]),
        1 => pick(&["<Body/>", "<s:Body />", "<x:Body a='>'>", "<body>"]),
    ]
}

fn operation() -> impl Strategy<Value = String> {
    prop_oneof![
        pick(&[
            "<m:FindItem Traversal=\"Shallow\">",
            "<m:GetUserAvailabilityRequest xmlns:m=\"u\">",
            "<GetFolder/>",
            "<m:GetItem\r\n>",
            "<m:SyncFolderItems/>",
            "</s:Body>",
            "<m:>",
            "<m: >",
            "<é>",
        ]),
        "<[a-zA-Z:_.-]{0,12}( [a-z]+=\"[^\"<]{0,6}\")?/?>",
    ]
}

fn rest() -> impl Strategy<Value = String> {
    pick(&[
        "",
        "<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape></m:FindItem></soap:Body></soap:Envelope>",
        "</s:Body></s:Envelope>",
        "<Op/>",
    ])
}

/// A SOAP-like document: declaration, envelope, header, body, operation, the rest, with an
/// odd part put in at some places and the whole cut at some point.
fn document() -> impl Strategy<Value = String> {
    let parts = (
        declaration(),
        ws(),
        envelope(),
        ws(),
        header(),
        ws(),
        body(),
        ws(),
        operation(),
        rest(),
    );
    let odds = prop_oneof![
        2 => Just(Vec::new()),
        1 => proptest::collection::vec((0usize..10, odd()), 1..3),
    ];
    let cut = proptest::bool::weighted(0.3);
    (parts, odds, cut, any::<prop::sample::Index>()).prop_map(
        |((d, w1, e, w2, h, w3, b, w4, o, r), odds, cut, at)| {
            let mut parts = vec![d, w1, e, w2, h, w3, b, w4, o, r];
            for (i, p) in odds {
                parts[i].insert_str(0, &p);
            }
            let mut doc = parts.concat();
            if cut && !doc.is_empty() {
                let mut end = at.index(doc.len());
                while !doc.is_char_boundary(end) {
                    end -= 1;
                }
                doc.truncate(end);
            }
            doc
        },
    )
}

/// Any text: parts of documents in any order, random characters.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(
            prop_oneof![odd(), envelope(), header(), body(), operation(), rest()],
            0..10
        )
        .prop_map(|p| p.concat()),
        any::<String>(),
        "[<>/a-zA-Z:=\"' &;!?\\[\\]-]{0,40}",
    ]
}

/// The scan, when it answers, and `soap_operation` give what the pull parser gives on the
/// body's text.
fn agrees(body: &[u8]) -> Result<(), TestCaseError> {
    let text = body_text(body);
    let want = soap_operation_pull(&text);
    if let Some(scan) = soap_operation_scan(body) {
        prop_assert_eq!(scan, want.clone(), "scan of {:?}", text);
    }
    prop_assert_eq!(soap_operation(body), want, "{:?}", text);
    Ok(())
}

/// Bytes that are not UTF-8 (a lone continuation byte, a cut sequence, an overlong form, a
/// surrogate, past U+10FFFF), BOMs, and valid non-ASCII text.
fn not_utf8() -> impl Strategy<Value = Vec<u8>> {
    const BYTES: &[&[u8]] = &[
        b"\x80",
        b"\xc3",
        b"\xe2\x82",
        b"\xc0\xbc",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"\xff",
        b"\xef\xbb\xbf",
        b"\xef\xbb\xbf\xef\xbb\xbf",
        "é€😀".as_bytes(),
    ];
    proptest::sample::select(BYTES).prop_map(<[u8]>::to_vec)
}

/// A SOAP-like document with bytes that are not UTF-8 put in at some places (before it, in
/// text, in names, in attribute values).
fn document_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        document(),
        proptest::collection::vec((any::<prop::sample::Index>(), not_utf8()), 0..4),
    )
        .prop_map(|(doc, bad)| {
            let mut bytes = doc.into_bytes();
            for (at, b) in bad {
                let at = at.index(bytes.len() + 1);
                bytes.splice(at..at, b);
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn the_scan_agrees_with_the_parser_on_soap_like_documents(doc in document()) {
        agrees(doc.as_bytes())?;
    }

    #[test]
    fn the_scan_agrees_with_the_parser_on_bytes_that_are_not_utf8(body in document_bytes()) {
        agrees(&body)?;
    }

    #[test]
    fn the_scan_agrees_with_the_parser_on_any_text(doc in any_text()) {
        agrees(doc.as_bytes())?;
    }

    #[test]
    fn the_scan_agrees_with_the_parser_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        agrees(&bytes)?;
    }
}

/// The generated documents are not all left to the parser: the property test above would
/// hold for a scan that never answers. A fixed seed, so the count does not move (227 and
/// 183 of 1000 when written: most generated documents hold something odd).
#[test]
fn the_scan_answers_for_many_generated_documents() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let strategy = document();
    let (mut answered, mut some) = (0, 0);
    for _ in 0..1000 {
        let doc = strategy.new_tree(&mut runner).unwrap().current();
        match soap_operation_scan(doc.as_bytes()) {
            Some(Some(_)) => {
                answered += 1;
                some += 1;
            }
            Some(None) => answered += 1,
            None => {}
        }
    }
    assert!(
        answered >= 180 && some >= 140,
        "{answered} answered, {some} named an operation"
    );
}
