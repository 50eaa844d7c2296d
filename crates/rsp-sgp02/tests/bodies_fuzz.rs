#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Property tests: arbitrary or corrupted input never panics the parser or any body decoder.

use proptest::prelude::*;
use rsp_sgp02::bodies::normalise_element_names;
use rsp_sgp02::sample::{sample_request, sample_response};
use rsp_sgp02::xml::Element;
use rsp_sgp02::{CATALOGUE, RequestBody, ResponseBody};

/// Decodes `el` as the request and the response of every function (results ignored: only panics matter).
fn decode_everything(el: &Element) -> usize {
    let mut ok = 0;
    for f in CATALOGUE {
        ok += usize::from(RequestBody::decode(f.id, el).is_ok());
        ok += usize::from(ResponseBody::decode(f.id, el).is_ok());
    }
    let mut normalised = el.clone();
    normalise_element_names(&mut normalised);
    for f in CATALOGUE {
        ok += usize::from(RequestBody::decode(f.id, &normalised).is_ok());
    }
    ok
}

fn sample_xml(index: usize, full: bool, response: bool) -> String {
    let f = &CATALOGUE[index % CATALOGUE.len()];
    let el = if response {
        sample_response(f.id, full)
    } else {
        None
    }
    .unwrap_or_else(|| sample_request(f.id, full));
    el.to_xml()
}

#[test]
fn the_harness_reaches_the_decoders() {
    // An intact sample decodes as its own function (and maybe as others sharing the body type).
    for f in CATALOGUE {
        assert!(
            decode_everything(&sample_request(f.id, true)) >= 2,
            "{}",
            f.qualified_name()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Ok(el) = Element::parse(&text) {
            decode_everything(&el);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(el) = Element::parse(&text) {
            decode_everything(&el);
        }
    }

    #[test]
    fn xml_like_text_never_panics(text in "<[a-zA-Z:-]{1,12}( [a-z]{1,4}=\"[^\"<&]{0,8}\")?>([A-Za-z0-9 .:-]{0,16}|<[A-Z][a-z]{0,6}>[0-9A-F]{0,40}</[A-Z][a-z]{0,6}>){0,6}</[a-zA-Z:-]{1,12}>") {
        if let Ok(el) = Element::parse(&text) {
            decode_everything(&el);
        }
    }

    #[test]
    fn corrupted_samples_never_panic(
        index in 0usize..1000,
        full in any::<bool>(),
        response in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let xml = sample_xml(index, full, response);
        let mut chars: Vec<char> = xml.chars().collect();
        for (at, ch) in &edits {
            let i = at.index(chars.len());
            chars[i] = *ch;
        }
        let corrupted: String = chars.iter().collect();
        if let Ok(el) = Element::parse(&corrupted) {
            decode_everything(&el);
        }
        let truncated: String = xml.chars().take(cut.index(xml.len())).collect();
        prop_assert!(Element::parse(&truncated).is_err() || truncated.len() == xml.len());
    }

    #[test]
    fn structurally_damaged_samples_never_panic(
        index in 0usize..1000,
        full in any::<bool>(),
        drops in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        text in "[ -~]{0,40}",
    ) {
        let f = &CATALOGUE[index % CATALOGUE.len()];
        let mut el = sample_request(f.id, full);
        for d in &drops {
            if !el.children.is_empty() {
                let i = d.index(el.children.len());
                // Drop a child, or blank its content, or replace its text.
                match i % 3 {
                    0 => { el.children.remove(i); }
                    1 => { el.children[i].children.clear(); }
                    _ => { el.children[i].text = text.clone(); }
                }
            }
        }
        decode_everything(&el);
    }
}
