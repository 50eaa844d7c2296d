//! Property tests: every parser returns `Ok` or a typed error on arbitrary input (never panics), and
//! valid values survive encode-then-parse round trips.

use proptest::collection::vec;
use proptest::prelude::*;

use rsp_types::codes::{self, Spec};
use rsp_types::tlv::{self, Tag, dgi};
use rsp_types::{
    Aid, Eid, EidError, EntityId, ExecutionStatus, FunctionCallIdentifier, Iccid, IccidError, Oid,
    ProfileType, ReasonCode, Role, SubjectCode, Svn, ValidityPeriod,
};

fn digits(n: usize) -> impl Strategy<Value = String> {
    vec(0u8..10, n).prop_map(|d| d.into_iter().map(|x| char::from(b'0' + x)).collect())
}

/// Any well-formed BER tag of 1 to 3 bytes.
fn any_tag() -> impl Strategy<Value = Tag> {
    prop_oneof![
        any::<u8>()
            .prop_filter("not a multi-byte marker", |b| b & 0x1F != 0x1F)
            .prop_map(u32::from),
        (any::<u8>(), any::<u8>())
            .prop_map(|(a, b)| (u32::from((a & 0xE0) | 0x1F) << 8) | u32::from(b & 0x7F)),
        (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c)| {
            (u32::from((a & 0xE0) | 0x1F) << 16) | (u32::from(b | 0x80) << 8) | u32::from(c & 0x7F)
        }),
    ]
    .prop_filter_map("well-formed tag", |v| Tag::from_u32(v).ok())
}

/// A primitive tag (constructed bit clear).
fn primitive_tag() -> impl Strategy<Value = Tag> {
    any_tag().prop_filter("primitive", |t| !t.is_constructed())
}

/// A constructed tag.
fn constructed_tag() -> impl Strategy<Value = Tag> {
    any_tag().prop_filter("constructed", |t| t.is_constructed())
}

#[derive(Debug, Clone)]
enum Tree {
    Leaf(Tag, Vec<u8>),
    Node(Tag, Vec<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = (primitive_tag(), vec(any::<u8>(), 0..300)).prop_map(|(t, v)| Tree::Leaf(t, v));
    leaf.prop_recursive(4, 32, 4, |inner| {
        (constructed_tag(), vec(inner, 0..4)).prop_map(|(t, c)| Tree::Node(t, c))
    })
}

fn encode_tree(t: &Tree, out: &mut Vec<u8>) -> Result<(), tlv::TlvError> {
    match t {
        Tree::Leaf(tag, v) => tlv::encode_tlv(*tag, v, out),
        Tree::Node(tag, children) => tlv::encode_constructed(*tag, out, |inner| {
            children.iter().try_for_each(|c| encode_tree(c, inner))
        }),
    }
}

fn same_tree(t: &Tree, n: &tlv::Node<'_>) -> bool {
    match t {
        Tree::Leaf(tag, v) => n.tlv.tag == *tag && n.tlv.value == &v[..] && n.children.is_empty(),
        Tree::Node(tag, children) => {
            n.tlv.tag == *tag
                && n.children.len() == children.len()
                && children
                    .iter()
                    .zip(&n.children)
                    .all(|(c, m)| same_tree(c, m))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // ---- never panic on arbitrary text ----

    #[test]
    fn text_parsers_never_panic(s in any::<String>()) {
        let _ = s.parse::<Eid>();
        let _ = Eid::parse_relaxed(&s);
        let _ = Eid::with_check_digits(&s);
        let _ = s.parse::<Iccid>();
        let _ = Iccid::with_luhn(&s);
        let _ = s.parse::<Aid>();
        let _ = s.parse::<Oid>();
        let _ = s.parse::<EntityId>();
        let _ = s.parse::<Svn>();
        let _ = Svn::parse_admin_protocol(&s);
        let _ = s.parse::<SubjectCode>();
        let _ = s.parse::<ReasonCode>();
        let _ = s.parse::<ExecutionStatus>();
        let _ = s.parse::<Role>();
        let _ = s.parse::<ProfileType>();
        let _ = s.parse::<FunctionCallIdentifier>();
        let _ = s.parse::<ValidityPeriod>();
        let _ = codes::subject_name(Spec::Sgp02, &s);
        let _ = codes::reason_name(Spec::Sgp22, &s);
    }

    #[test]
    fn text_parsers_never_panic_on_likely_text(s in "[0-9a-fA-FvV./+\\- gsmar]{0,40}") {
        let _ = s.parse::<Eid>();
        let _ = s.parse::<Iccid>();
        let _ = s.parse::<Aid>();
        let _ = s.parse::<Oid>();
        let _ = s.parse::<Svn>();
        let _ = s.parse::<SubjectCode>();
        let _ = s.parse::<ValidityPeriod>();
    }

    #[test]
    fn serde_never_panics(s in any::<String>()) {
        let json = serde_json::to_string(&s).unwrap();
        let _ = serde_json::from_str::<Eid>(&json);
        let _ = serde_json::from_str::<Iccid>(&json);
        let _ = serde_json::from_str::<Svn>(&json);
        let _ = serde_json::from_str::<ValidityPeriod>(&json);
        let _ = serde_json::from_str::<rsp_types::FunctionExecutionStatus>(&json);
    }

    // ---- never panic on arbitrary bytes ----

    #[test]
    fn byte_parsers_never_panic(b in vec(any::<u8>(), 0..64)) {
        let _ = Eid::from_bytes(&b);
        let _ = Iccid::from_bcd_swapped(&b);
        let _ = Aid::from_bytes(&b);
        let _ = Oid::from_der_content(&b);
        let _ = Oid::from_der(&b);
        let _ = Svn::from_bytes(&b);
        let _ = Tag::from_bytes(&b);
        let _ = tlv::read_tag(&b);
        let _ = tlv::decode_length(&b);
        let _ = tlv::decode_der_length(&b);
    }

    #[test]
    fn tlv_parsers_never_panic(b in vec(any::<u8>(), 0..512), depth in 0usize..80, t in any_tag()) {
        let _ = tlv::parse_one(&b);
        let _ = tlv::parse_single(&b);
        let all = tlv::parse_all(&b);
        let _ = tlv::parse_tree(&b, depth);
        let _ = tlv::validate(&b, depth);
        let _ = tlv::find(&b, t);
        let _ = tlv::find_path(&b, &[t, t]);
        for x in tlv::iter(&b).take(1000).flatten() {
            let _ = x.children().count();
            let _ = x.find(t);
        }
        let _ = dgi::parse_all(&b);
        let _ = dgi::parse_single(&b);
        let _ = dgi::decode_length(&b);
        // When a buffer parses, its objects tile it exactly.
        if let Ok(objs) = all {
            let joined: Vec<u8> = objs.iter().flat_map(|o| o.raw().iter().copied()).collect();
            prop_assert_eq!(joined, b);
        }
    }

    #[test]
    fn any_u32_tag_value_is_checked(v in any::<u32>()) {
        if let Ok(t) = Tag::from_u32(v) {
            prop_assert_eq!(Tag::from_bytes(&t.to_vec()), Ok(t));
            prop_assert_eq!(t.value(), v);
        }
    }

    // ---- round trips ----

    #[test]
    fn eid_round_trip(prefix in digits(30)) {
        let eid = Eid::with_check_digits(&prefix).unwrap();
        prop_assert!(eid.has_valid_check_digits());
        prop_assert_eq!(eid.to_string().parse::<Eid>(), Ok(eid));
        prop_assert_eq!(Eid::from_bytes(&eid.to_bytes()), Ok(eid));
        let json = serde_json::to_string(&eid).unwrap();
        prop_assert_eq!(serde_json::from_str::<Eid>(&json).unwrap(), eid);
    }

    #[test]
    fn eid_single_digit_errors_are_detected(prefix in digits(30), pos in 0usize..32, delta in 1u8..10) {
        // ISO/IEC 7064 MOD 97-10 detects every single-digit substitution.
        let eid = Eid::with_check_digits(&prefix).unwrap();
        let mut bytes = eid.as_str().as_bytes().to_vec();
        bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(
            matches!(changed.parse::<Eid>(), Err(EidError::BadCheckDigits { .. })),
            "MOD 97-10 check did not catch a change at position {}", pos
        );
    }

    #[test]
    fn iccid_round_trip(payload in prop_oneof![digits(18), digits(19)], pad in any::<bool>()) {
        let iccid = Iccid::with_luhn(&payload).unwrap();
        let text = iccid.to_string();
        prop_assert_eq!(text.len(), payload.len() + 1);
        prop_assert_eq!(text.parse::<Iccid>(), Ok(iccid));
        if pad && text.len() == 19 {
            prop_assert_eq!(format!("{text}F").parse::<Iccid>(), Ok(iccid));
        }
        prop_assert_eq!(Iccid::from_bcd_swapped(&iccid.to_bcd_swapped()), Ok(iccid));
    }

    #[test]
    fn iccid_single_digit_errors_are_detected(payload in digits(19), pos in 0usize..20, delta in 1u8..10) {
        // Luhn detects every single-digit substitution.
        let iccid = Iccid::with_luhn(&payload).unwrap();
        let mut bytes = iccid.as_str().as_bytes().to_vec();
        bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
        let changed = String::from_utf8(bytes).unwrap();
        let is_bad_check = matches!(changed.parse::<Iccid>(), Err(IccidError::BadCheckDigit { .. }));
        prop_assert!(is_bad_check);
    }

    #[test]
    fn aid_round_trip(b in vec(any::<u8>(), 5..=16)) {
        let aid = Aid::from_bytes(&b).unwrap();
        prop_assert_eq!(aid.as_bytes(), &b[..]);
        prop_assert_eq!(aid.to_string().parse::<Aid>(), Ok(aid));
        prop_assert_eq!(aid.to_string().to_lowercase().parse::<Aid>(), Ok(aid));
    }

    #[test]
    fn oid_round_trip(first in 0u64..3, second in any::<u64>(), rest in vec(any::<u64>(), 0..8)) {
        let second = if first < 2 { second % 40 } else { second % (u64::MAX - 80) };
        let mut arcs = vec![first, second];
        arcs.extend(rest);
        let oid = Oid::new(&arcs).unwrap();
        prop_assert_eq!(oid.to_string().parse::<Oid>(), Ok(oid.clone()));
        prop_assert_eq!(Oid::from_der_content(&oid.to_der_content()), Ok(oid.clone()));
        prop_assert_eq!(Oid::from_der(&oid.to_der().unwrap()), Ok(oid.clone()));
        prop_assert_eq!(oid.arcs(), &arcs[..]);
    }

    #[test]
    fn svn_round_trip(major in any::<u8>(), minor in any::<u8>(), patch in any::<u8>()) {
        let v = Svn::new(major, minor, patch);
        prop_assert_eq!(v.to_string().parse::<Svn>(), Ok(v));
        prop_assert_eq!(format!("v{v}").parse::<Svn>(), Ok(v));
        prop_assert_eq!(v.admin_protocol().parse::<Svn>(), Ok(v));
        prop_assert_eq!(Svn::parse_admin_protocol(&v.admin_protocol().to_uppercase()), Ok(v));
        prop_assert_eq!(Svn::from_bytes(&v.to_bytes()), Ok(v));
    }

    #[test]
    fn svn_order_is_numeric(a in any::<[u8; 3]>(), b in any::<[u8; 3]>()) {
        prop_assert_eq!(Svn::from(a).cmp(&Svn::from(b)), a.cmp(&b));
    }

    #[test]
    fn dotted_code_round_trip(parts in vec(0u16..200, 1..6)) {
        let text = parts.iter().map(u16::to_string).collect::<Vec<_>>().join(".");
        let s = text.parse::<SubjectCode>().unwrap();
        prop_assert_eq!(s.as_str(), text.as_str());
        prop_assert_eq!(s.components(), parts.iter().map(|p| u32::from(*p)).collect::<Vec<_>>());
        let r = text.parse::<ReasonCode>().unwrap();
        prop_assert_eq!(r.to_string(), text);
    }

    #[test]
    fn validity_round_trip(secs in 1u32..) {
        let v = ValidityPeriod::from_secs(secs).unwrap();
        prop_assert_eq!(v.to_string().parse::<ValidityPeriod>(), Ok(v));
        prop_assert_eq!(serde_json::from_str::<ValidityPeriod>(&serde_json::to_string(&v).unwrap()).unwrap(), v);
    }

    #[test]
    fn length_round_trip(len in any::<u32>()) {
        let len = len as usize;
        let mut out = Vec::new();
        tlv::encode_length(len, &mut out).unwrap();
        prop_assert_eq!(out.len(), tlv::length_len(len));
        prop_assert_eq!(tlv::decode_der_length(&out), Ok((len, out.len())));
        prop_assert_eq!(tlv::decode_length(&out), Ok((len, out.len())));
    }

    #[test]
    fn tlv_tree_round_trip(trees in vec(tree(), 0..4)) {
        let mut buf = Vec::new();
        for t in &trees {
            encode_tree(t, &mut buf).unwrap();
        }
        let parsed = tlv::parse_tree(&buf, tlv::DEFAULT_MAX_DEPTH).unwrap();
        prop_assert_eq!(parsed.len(), trees.len());
        for (t, n) in trees.iter().zip(&parsed) {
            prop_assert!(same_tree(t, n));
        }
        prop_assert_eq!(tlv::validate(&buf, tlv::DEFAULT_MAX_DEPTH), Ok(()));
        // Re-encoding each top-level object reproduces the input (encoders write minimal lengths).
        let mut re = Vec::new();
        for obj in tlv::parse_all(&buf).unwrap() {
            obj.encode(&mut re).unwrap();
        }
        prop_assert_eq!(re, buf);
    }

    #[test]
    fn tlv_every_truncation_fails(tag in any_tag(), value in vec(any::<u8>(), 0..400)) {
        let enc = tlv::encode_tlv_to_vec(tag, &value).unwrap();
        prop_assert_eq!(enc.len(), tlv::encoded_len(tag, value.len()));
        let one = tlv::parse_single(&enc).unwrap();
        prop_assert_eq!(one.tag, tag);
        prop_assert_eq!(one.value, &value[..]);
        for cut in 0..enc.len() {
            prop_assert!(tlv::parse_single(&enc[..cut]).is_err());
        }
        let mut longer = enc.clone();
        longer.push(0);
        let is_trailing = matches!(tlv::parse_single(&longer), Err(tlv::TlvError::TrailingData { .. }));
        prop_assert!(is_trailing);
    }

    #[test]
    fn dgi_round_trip(id in any::<u16>(), value in vec(any::<u8>(), 0..600)) {
        let enc = dgi::encode_to_vec(id, &value).unwrap();
        let d = dgi::parse_single(&enc).unwrap();
        prop_assert_eq!(d.id, id);
        prop_assert_eq!(d.value, &value[..]);
        prop_assert_eq!(d.raw(), &enc[..]);
        for cut in 0..enc.len() {
            prop_assert!(dgi::parse_single(&enc[..cut]).is_err());
        }
    }
}
