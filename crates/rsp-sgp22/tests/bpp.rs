//! Bound Profile Package: build (SM-DP+) → segment (LPA) → load (eUICC) with the four TS.48 v7
//! profiles on P-256 and brainpoolP256r1 (SGP.26 CERT.DPpb keys), re-binding of a prepared
//! profile, and the Profile Installation Result codes of every failure kind.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rsp_crypto::ecc::{Curve, PrivateKey, PublicKey};
use rsp_crypto::x509::Certificate;
use rsp_sgp22::TransactionId;
use rsp_sgp22::bpp::{
    BppCommandId, BppEvent, BppFailure, BppLoader, BppParts, ErrorReason, InitialiseSecureChannel,
    LoaderConfig, PreparedProfile, ProfileSource, SessionBinding, build_bound_profile_package,
    configure_isdp_request, parse_configure_isdp_request, segment_bound_profile_package,
};
use rsp_types::Oid;
use zeroize::Zeroizing;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const PROFILES: [&str; 4] = [
    "SAIP2.3_BERTLV_SUCI.der",
    "SAIP2.3_BERTLV_SUCI_NoRAMRFM.der",
    "SAIP2.3_NoBERTLV.der",
    "SAIP2.3_NoBERTLV_NoRAMRFM.der",
];
const EID: [u8; 16] = [
    0x89, 0x04, 0x90, 0x32, 0x12, 0x34, 0x51, 0x23, 0x45, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x35,
];

fn profile(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/profiles/{name}")).unwrap()
}

fn dp_pb(curve: Curve) -> (PrivateKey, PublicKey) {
    let suffix = match curve {
        Curve::NistP256 => "NIST",
        Curve::BrainpoolP256r1 => "BRP",
    };
    let pem = std::fs::read_to_string(format!(
        "{FIXTURES}/sgp26/DPpb/SK_S_SM_DPpb_ECDSA_{suffix}.pem"
    ))
    .unwrap();
    let sk = PrivateKey::from_pem(&pem).unwrap();
    let der = std::fs::read(format!(
        "{FIXTURES}/sgp26/DPpb/CERT_S_SM_DPpb_ECDSA_{suffix}.der"
    ))
    .unwrap();
    let pk = Certificate::from_der(&der)
        .unwrap()
        .public_key()
        .unwrap()
        .clone();
    assert_eq!(
        sk.public_key(),
        &pk,
        "SGP.26 key and certificate belong together"
    );
    (sk, pk)
}

/// `BF25 { 5A iccid, 91 spn, 92 name [, 94 icon] }`.
fn metadata(icon_len: usize) -> Vec<u8> {
    let mut body = vec![
        0x5A, 0x0A, 0x98, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x54, 0xF6,
    ];
    body.extend_from_slice(&[0x91, 0x03, b'G', b'S', b'M']);
    body.extend_from_slice(&[0x92, 0x05, b'T', b'S', b'4', b'8', b'7']);
    if icon_len > 0 {
        body.extend_from_slice(&[0x94, 0x82, (icon_len >> 8) as u8, icon_len as u8]);
        body.extend((0..icon_len).map(|i| i as u8));
    }
    let mut out = vec![0xBF, 0x25];
    if body.len() < 0x80 {
        out.push(body.len() as u8);
    } else {
        out.extend_from_slice(&[0x82, (body.len() >> 8) as u8, body.len() as u8]);
    }
    out.extend_from_slice(&body);
    out
}

/// One RSP session: the card's one-time key, the SM-DP+'s one-time key, the transaction.
struct Session {
    tid: TransactionId,
    euicc_otsk: PrivateKey,
    smdp_otsk: PrivateKey,
    dp_sk: PrivateKey,
    dp_pk: PublicKey,
    configure_isdp: Vec<u8>,
    metadata: Vec<u8>,
}

impl Session {
    fn new(curve: Curve, tid: u8) -> Self {
        let (dp_sk, dp_pk) = dp_pb(curve);
        Session {
            tid: TransactionId::new(&[tid; 16]).unwrap(),
            euicc_otsk: PrivateKey::generate(curve).unwrap(),
            smdp_otsk: PrivateKey::generate(curve).unwrap(),
            dp_sk,
            dp_pk,
            configure_isdp: configure_isdp_request(None).unwrap(),
            metadata: metadata(0),
        }
    }

    fn euicc_otpk(&self) -> [u8; 65] {
        self.euicc_otsk.public_key().to_sec1_uncompressed()
    }

    fn build(&self, source: ProfileSource<'_>) -> Vec<u8> {
        let otpk = self.euicc_otpk();
        build_bound_profile_package(
            &SessionBinding {
                transaction_id: &self.tid,
                host_id: b"rsp-smdpp",
                eid: &EID,
                smdp_otsk: &self.smdp_otsk,
                euicc_otpk: &otpk,
                dp_pb: &self.dp_sk,
                configure_isdp: &self.configure_isdp,
                store_metadata: &self.metadata,
            },
            source,
        )
        .unwrap()
    }

    fn loader(&self) -> BppLoader {
        BppLoader::new(LoaderConfig::new(
            self.tid.clone(),
            EID,
            self.euicc_otsk.try_clone().unwrap(),
            self.dp_pk.clone(),
        ))
    }
}

/// Feeds all segments; the events in order, or the failure.
fn load(loader: &mut BppLoader, segments: &[Vec<u8>]) -> Result<Vec<BppEvent>, BppFailure> {
    let mut events = Vec::new();
    for s in segments {
        events.extend(loader.load_segment(s)?);
    }
    Ok(events)
}

fn completed_upp(events: &[BppEvent]) -> Zeroizing<Vec<u8>> {
    match events.last() {
        Some(BppEvent::Complete(upp)) => upp.clone(),
        other => panic!("last event is not Complete: {other:?}"),
    }
}

fn fails_with(
    session: &Session,
    segments: &[Vec<u8>],
    command: BppCommandId,
    reason: ErrorReason,
) -> BppFailure {
    let mut loader = session.loader();
    let failure = load(&mut loader, segments).expect_err("loading must fail");
    assert_eq!(
        (failure.command, failure.reason),
        (command, reason),
        "{failure}"
    );
    assert_eq!(loader.failure(), Some(&failure));
    // BSP abort: nothing more is accepted, whatever it is.
    assert_eq!(
        loader.load_segment(&segments[0]).unwrap_err(),
        failure,
        "a failed loader refuses further segments"
    );
    failure
}

fn flip(segments: &[Vec<u8>], index: usize, byte: usize) -> Vec<Vec<u8>> {
    let mut out = segments.to_vec();
    out[index][byte] ^= 0x01;
    out
}

#[test]
fn round_trip_every_ts48_profile_both_curves_with_and_without_replace_session_keys() {
    for curve in [Curve::NistP256, Curve::BrainpoolP256r1] {
        for name in PROFILES {
            let upp = profile(name);
            let prepared = PreparedProfile::protect(&upp).unwrap();
            for source in [ProfileSource::Upp(&upp), ProfileSource::Prepared(&prepared)] {
                let session = Session::new(curve, 0x42);
                let bpp = session.build(source);
                let segments = segment_bound_profile_package(&bpp).unwrap();
                assert_eq!(segments.concat(), bpp, "segments are the BPP cut up");
                let mut loader = session.loader();
                let events = load(&mut loader, &segments).unwrap();
                assert!(loader.is_complete());
                assert_eq!(*completed_upp(&events), upp, "{name} {curve}");
                let pieces: Vec<u8> = events
                    .iter()
                    .filter_map(|e| match e {
                        BppEvent::ProfileElements(p) => Some(p.to_vec()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .concat();
                assert_eq!(pieces, upp);
                assert!(
                    matches!(events[0], BppEvent::SecureChannelOpened { ref host_id } if host_id == b"rsp-smdpp")
                );
                assert!(
                    matches!(&events[1], BppEvent::ConfigureIsdp(b) if *b == session.configure_isdp)
                );
                assert!(matches!(&events[2], BppEvent::StoreMetadata(b) if *b == session.metadata));
                let replaced = matches!(events[3], BppEvent::SessionKeysReplaced);
                assert_eq!(replaced, matches!(source, ProfileSource::Prepared(_)));
                let parts = BppParts::parse(&bpp).unwrap();
                assert_eq!(parts.second_sequence_of_87.is_some(), replaced);
            }
        }
    }
}

#[test]
fn segmentation_follows_sgp22_2_5_5() {
    let session = Session::new(Curve::NistP256, 1);
    let upp = profile(PROFILES[0]);
    let prepared = PreparedProfile::protect(&upp).unwrap();
    let bpp = session.build(ProfileSource::Prepared(&prepared));
    let parts = BppParts::parse(&bpp).unwrap();
    let segments = segment_bound_profile_package(&bpp).unwrap();
    // 1: BF36 tag+length and the whole BF23.
    assert_eq!(&segments[0][..2], &[0xBF, 0x36]);
    assert_eq!(
        &segments[0][parts.header.len()..],
        parts.initialise_secure_channel
    );
    // 2: A0 tag+length and its 87.
    assert_eq!(segments[1], parts.first_sequence_of_87.raw());
    assert_eq!(segments[1][0], 0xA0);
    assert_eq!(segments[1][2], 0x87);
    // 3: A1 tag+length only; 4: the 88.
    assert_eq!(segments[2][0], 0xA1);
    assert_eq!(segments[2].len(), 2);
    assert_eq!(segments[3][0], 0x88);
    // 5: A2 tag+length and its 87 (ReplaceSessionKeys).
    assert_eq!(segments[4], parts.second_sequence_of_87.unwrap().raw());
    // 6: A3 tag+length only; then every 86, each at most 1020 bytes.
    assert_eq!(segments[5][0], 0xA3);
    assert!(segments[5].len() <= 5);
    assert_eq!(segments.len(), 6 + prepared.segment_count());
    for s in &segments[6..] {
        assert_eq!(s[0], 0x86);
        assert!(s.len() <= 1020);
    }
    // The UPP is 12 KB: more than ten 1007-byte pieces.
    assert!(prepared.segment_count() >= upp.len() / 1007);
}

#[test]
fn one_segment_holding_the_whole_bpp_also_loads() {
    let session = Session::new(Curve::NistP256, 2);
    let upp = profile(PROFILES[2]);
    let bpp = session.build(ProfileSource::Upp(&upp));
    let events = load(&mut session.loader(), &[bpp]).unwrap();
    assert_eq!(*completed_upp(&events), upp);
}

#[test]
fn smdp_sign_covers_the_request_objects_and_the_euicc_otpk() {
    let session = Session::new(Curve::NistP256, 3);
    let upp = profile(PROFILES[3]);
    let bpp = session.build(ProfileSource::Upp(&upp));
    let parts = BppParts::parse(&bpp).unwrap();
    let isc = InitialiseSecureChannel::decode(parts.initialise_secure_channel).unwrap();
    assert_eq!(isc.encode().unwrap(), parts.initialise_secure_channel);
    // Rebuild the signed data by hand from the field values.
    let mut expected = vec![0x82, 0x01, 0x01, 0x80, 0x10];
    expected.extend_from_slice(&[3; 16]);
    expected.extend_from_slice(&[0xA6, 0x11, 0x80, 0x01, 0x88, 0x81, 0x01, 0x10, 0x84, 0x09]);
    expected.extend_from_slice(b"rsp-smdpp");
    expected.extend_from_slice(&[0x5F, 0x49, 0x41]);
    expected.extend_from_slice(&session.smdp_otsk.public_key().to_sec1_uncompressed());
    assert_eq!(isc.signed_part(), expected);
    assert_eq!(
        &parts.initialise_secure_channel[4..4 + expected.len()],
        &expected[..],
        "remoteOpId first, smdpSign last"
    );
    expected.extend_from_slice(&[0x5F, 0x49, 0x41]);
    expected.extend_from_slice(&session.euicc_otpk());
    session.dp_pk.verify_raw(&expected, &isc.smdp_sign).unwrap();
    assert_eq!(isc.smdp_sign.len(), 64);
    // Without the eUICC's key the signature does not verify.
    assert!(
        session
            .dp_pk
            .verify_raw(isc.signed_part(), &isc.smdp_sign)
            .is_err()
    );
}

#[test]
fn rebinding_a_prepared_profile_changes_only_the_session_part() {
    let upp = profile(PROFILES[1]);
    let prepared = PreparedProfile::protect(&upp).unwrap();
    // What the SM-DP+ stores and reloads for the retry.
    let stored = prepared.to_bytes().unwrap();
    let restored = PreparedProfile::from_bytes(&stored).unwrap();
    assert_eq!(restored.sequence_of_86(), prepared.sequence_of_86());
    let debug = format!("{prepared:?}").to_lowercase();
    for key in [&*prepared.ppk().s_enc, &*prepared.ppk().s_mac] {
        assert!(!debug.contains(&hex::encode_upper(key).to_lowercase()));
    }

    let first = Session::new(Curve::BrainpoolP256r1, 0x10);
    let second = Session::new(Curve::BrainpoolP256r1, 0x11);
    let bpp1 = first.build(ProfileSource::Prepared(&prepared));
    let bpp2 = second.build(ProfileSource::Prepared(&restored));
    let p1 = BppParts::parse(&bpp1).unwrap();
    let p2 = BppParts::parse(&bpp2).unwrap();
    assert_ne!(p1.initialise_secure_channel, p2.initialise_secure_channel);
    assert_ne!(p1.first_sequence_of_87.raw(), p2.first_sequence_of_87.raw());
    assert_ne!(p1.sequence_of_88.raw(), p2.sequence_of_88.raw());
    assert_ne!(
        p1.second_sequence_of_87.unwrap().raw(),
        p2.second_sequence_of_87.unwrap().raw()
    );
    assert_eq!(p1.sequence_of_86.raw(), p2.sequence_of_86.raw());
    assert_eq!(p1.sequence_of_86.raw(), prepared.sequence_of_86());
    for (session, bpp) in [(&first, &bpp1), (&second, &bpp2)] {
        let segments = segment_bound_profile_package(bpp).unwrap();
        let events = load(&mut session.loader(), &segments).unwrap();
        assert_eq!(*completed_upp(&events), upp);
    }
    // The first session's card cannot load the second session's BPP.
    let segments = segment_bound_profile_package(&bpp2).unwrap();
    fails_with(
        &first,
        &segments,
        BppCommandId::InitialiseSecureChannel,
        ErrorReason::InvalidTransactionId,
    );
    // A stored blob that was tampered with is refused or fails to load.
    let mut bad = stored.to_vec();
    bad[3] ^= 0xFF;
    assert!(PreparedProfile::from_bytes(&bad).is_err());
    assert!(PreparedProfile::from_bytes(&stored[..stored.len() - 1]).is_err());
}

/// Prepared profile with metadata large enough for two `88` segments.
fn negative_fixture() -> (Session, Vec<Vec<u8>>) {
    let mut session = Session::new(Curve::NistP256, 0x77);
    session.metadata = metadata(1500);
    let prepared = PreparedProfile::protect(&profile(PROFILES[0])).unwrap();
    let bpp = session.build(ProfileSource::Prepared(&prepared));
    let segments = segment_bound_profile_package(&bpp).unwrap();
    // BF36+BF23, A0+87, A1, 88, 88, A2+87, A3, 86...
    assert_eq!(segments[2][0], 0xA1);
    assert_eq!(segments[3][0], 0x88);
    assert_eq!(segments[4][0], 0x88);
    assert_eq!(segments[5][0], 0xA2);
    assert_eq!(segments[6][0], 0xA3);
    (session, segments)
}

#[test]
fn a_flipped_byte_in_each_segment_kind_gives_its_command_and_reason() {
    use BppCommandId as C;
    use ErrorReason as R;
    let (s, seg) = negative_fixture();
    let first_len = seg[0].len();
    // BF36 header: BF 36 82 xx xx (5 bytes); BF23 header: BF 23 81 xx (4 bytes).
    let isc_start = if seg[0][2] == 0x82 { 5 } else { 4 };
    let isc_body = isc_start + 4; // BF 23 81 L
    // remoteOpId value.
    fails_with(
        &s,
        &flip(&seg, 0, isc_body + 2),
        C::InitialiseSecureChannel,
        R::UnsupportedRemoteOperationType,
    );
    // A transactionId byte.
    fails_with(
        &s,
        &flip(&seg, 0, isc_body + 5),
        C::InitialiseSecureChannel,
        R::InvalidTransactionId,
    );
    // keyType (A6 11 80 01 88).
    let crt = isc_body + 3 + 18;
    assert_eq!(seg[0][crt], 0xA6);
    fails_with(
        &s,
        &flip(&seg, 0, crt + 4),
        C::InitialiseSecureChannel,
        R::UnsupportedCrtValues,
    );
    // A hostId byte (covered by the signature only).
    fails_with(
        &s,
        &flip(&seg, 0, crt + 12),
        C::InitialiseSecureChannel,
        R::InvalidSignature,
    );
    // Last byte of smdpSign.
    fails_with(
        &s,
        &flip(&seg, 0, first_len - 1),
        C::InitialiseSecureChannel,
        R::InvalidSignature,
    );
    // A byte of the ConfigureISDP ciphertext / MAC.
    fails_with(&s, &flip(&seg, 1, 6), C::ConfigureIsdp, R::BspSecurityError);
    let l = seg[1].len();
    fails_with(
        &s,
        &flip(&seg, 1, l - 1),
        C::ConfigureIsdp,
        R::BspSecurityError,
    );
    // The first and the second StoreMetadata segment.
    fails_with(
        &s,
        &flip(&seg, 3, 10),
        C::StoreMetadata,
        R::BspSecurityError,
    );
    fails_with(
        &s,
        &flip(&seg, 4, 10),
        C::StoreMetadata2,
        R::BspSecurityError,
    );
    // ReplaceSessionKeys.
    let l = seg[5].len();
    fails_with(
        &s,
        &flip(&seg, 5, l - 3),
        C::ReplaceSessionKeys,
        R::BspSecurityError,
    );
    // The first, a middle and the last profile element segment.
    for i in [7, seg.len() / 2 + 3, seg.len() - 1] {
        fails_with(
            &s,
            &flip(&seg, i, 20),
            C::LoadProfileElements,
            R::BspSecurityError,
        );
    }
    // A flipped length byte in a sequence header.
    fails_with(
        &s,
        &flip(&seg, 2, 1),
        C::StoreMetadata,
        R::BspStructureError,
    );
    // A flipped tag: 87 turned into 86.
    fails_with(
        &s,
        &flip(&seg, 1, 2),
        C::ConfigureIsdp,
        R::BspStructureError,
    );
}

#[test]
fn wrong_transaction_id_signer_and_curve() {
    use BppCommandId as C;
    use ErrorReason as R;
    let s = Session::new(Curve::NistP256, 5);
    let upp = profile(PROFILES[2]);
    let segments = segment_bound_profile_package(&s.build(ProfileSource::Upp(&upp))).unwrap();

    // The card expects another transactionId.
    let mut loader = BppLoader::new(LoaderConfig::new(
        TransactionId::new(&[6; 16]).unwrap(),
        EID,
        s.euicc_otsk.try_clone().unwrap(),
        s.dp_pk.clone(),
    ));
    let f = load(&mut loader, &segments).unwrap_err();
    assert_eq!(
        (f.command, f.reason),
        (C::InitialiseSecureChannel, R::InvalidTransactionId)
    );

    // The card trusts another DPpb key (the brainpool one, and a random P-256 one).
    for other in [
        dp_pb(Curve::BrainpoolP256r1).1,
        PrivateKey::generate(Curve::NistP256)
            .unwrap()
            .public_key()
            .clone(),
    ] {
        let mut loader = BppLoader::new(LoaderConfig::new(
            s.tid.clone(),
            EID,
            s.euicc_otsk.try_clone().unwrap(),
            other,
        ));
        let f = load(&mut loader, &segments).unwrap_err();
        assert_eq!(
            (f.command, f.reason),
            (C::InitialiseSecureChannel, R::InvalidSignature)
        );
    }

    // Another EID: the signature is fine but the session keys differ.
    let mut loader = BppLoader::new(LoaderConfig::new(
        s.tid.clone(),
        [0x89; 16],
        s.euicc_otsk.try_clone().unwrap(),
        s.dp_pk.clone(),
    ));
    let f = load(&mut loader, &segments).unwrap_err();
    assert_eq!(
        (f.command, f.reason),
        (C::ConfigureIsdp, R::BspSecurityError)
    );

    // The card's one-time key is brainpool, the BPP was bound to a P-256 key.
    let mut loader = BppLoader::new(LoaderConfig::new(
        s.tid.clone(),
        EID,
        PrivateKey::generate(Curve::BrainpoolP256r1).unwrap(),
        s.dp_pk.clone(),
    ));
    let f = load(&mut loader, &segments).unwrap_err();
    assert_eq!(
        (f.command, f.reason),
        (C::InitialiseSecureChannel, R::IncorrectInputValues)
    );

    // The SM-DP+ refuses to bind a P-256 one-time key to a brainpool eUICC key.
    let brp = PrivateKey::generate(Curve::BrainpoolP256r1).unwrap();
    let otpk = brp.public_key().to_sec1_uncompressed();
    let binding = SessionBinding {
        transaction_id: &s.tid,
        host_id: b"h",
        eid: &EID,
        smdp_otsk: &s.smdp_otsk,
        euicc_otpk: &otpk,
        dp_pb: &s.dp_sk,
        configure_isdp: &s.configure_isdp,
        store_metadata: &s.metadata,
    };
    assert!(build_bound_profile_package(&binding, ProfileSource::Upp(&upp)).is_err());
    // Nor does it accept a StoreMetadata that is not BF25 or an empty UPP.
    let right_otpk = s.euicc_otpk();
    let binding = SessionBinding {
        euicc_otpk: &right_otpk,
        store_metadata: &s.configure_isdp,
        ..binding
    };
    assert!(build_bound_profile_package(&binding, ProfileSource::Upp(&upp)).is_err());
    let binding = SessionBinding {
        store_metadata: &s.metadata,
        ..binding
    };
    assert!(build_bound_profile_package(&binding, ProfileSource::Upp(&[])).is_err());
    assert!(build_bound_profile_package(&binding, ProfileSource::Upp(&upp)).is_ok());
}

#[test]
fn truncated_and_out_of_order_segments() {
    use BppCommandId as C;
    use ErrorReason as R;
    let (s, seg) = negative_fixture();
    let cut = |i: usize, n: usize| {
        let mut out = seg.clone();
        let l = out[i].len();
        out[i].truncate(l - n);
        out
    };
    fails_with(
        &s,
        &cut(0, 1),
        C::InitialiseSecureChannel,
        R::BspStructureError,
    );
    fails_with(&s, &cut(1, 1), C::ConfigureIsdp, R::BspStructureError);
    let last = seg.len() - 1;
    fails_with(
        &s,
        &cut(last, 1),
        C::LoadProfileElements,
        R::BspStructureError,
    );
    // The whole BPP truncated, as one segment.
    let whole = seg.concat();
    fails_with(
        &s,
        &[whole[..whole.len() - 10].to_vec()],
        C::LoadProfileElements,
        R::BspStructureError,
    );
    // A shorter BPP length: the profile elements overrun it.
    let mut short = seg.clone();
    short[0][4] = short[0][4].wrapping_sub(1);
    assert_eq!(short[0][2], 0x82);
    fails_with(&s, &short, C::LoadProfileElements, R::BspStructureError);

    let reorder = |order: &[usize]| order.iter().map(|i| seg[*i].clone()).collect::<Vec<_>>();
    // A1 before A0.
    fails_with(
        &s,
        &reorder(&[0, 2, 1]),
        C::ConfigureIsdp,
        R::BspStructureError,
    );
    // BF23 missing.
    fails_with(
        &s,
        &reorder(&[1, 0]),
        C::InitialiseSecureChannel,
        R::BspStructureError,
    );
    // The second 88 before the first: the MAC chain breaks.
    fails_with(
        &s,
        &reorder(&[0, 1, 2, 4, 3]),
        C::StoreMetadata,
        R::BspSecurityError,
    );
    // ReplaceSessionKeys before the metadata is complete.
    fails_with(
        &s,
        &reorder(&[0, 1, 2, 3, 5]),
        C::StoreMetadata2,
        R::BspStructureError,
    );
    // Profile elements without the A3 header.
    fails_with(
        &s,
        &reorder(&[0, 1, 2, 3, 4, 5, 7]),
        C::LoadProfileElements,
        R::BspStructureError,
    );
    // A profile element segment replayed.
    fails_with(
        &s,
        &reorder(&[0, 1, 2, 3, 4, 5, 6, 7, 7]),
        C::LoadProfileElements,
        R::BspSecurityError,
    );
    // An empty segment.
    fails_with(
        &s,
        &[seg[0].clone(), vec![]],
        C::ConfigureIsdp,
        R::BspStructureError,
    );

    // A segment after the end is refused without undoing the result.
    let mut loader = s.loader();
    load(&mut loader, &seg).unwrap();
    let f = loader.load_segment(&seg[7]).unwrap_err();
    assert_eq!(f.reason, R::BspStructureError);
    assert!(loader.is_complete());
}

#[test]
fn memory_limit_and_euicc_refusal_after_store_metadata() {
    let (s, seg) = negative_fixture();
    let mut loader = BppLoader::new(LoaderConfig {
        max_upp_len: 4000,
        ..LoaderConfig::new(
            s.tid.clone(),
            EID,
            s.euicc_otsk.try_clone().unwrap(),
            s.dp_pk.clone(),
        )
    });
    let f = load(&mut loader, &seg).unwrap_err();
    assert_eq!(
        (f.command, f.reason),
        (
            BppCommandId::LoadProfileElements,
            ErrorReason::InstallFailedDueToInsufficientMemoryForProfile
        )
    );
    assert_eq!(f.reason.code(), 10);

    // The card checks the PPRs against its RAT and refuses.
    let mut loader = s.loader();
    let mut saw_metadata = false;
    for segment in &seg[..5] {
        for e in loader.load_segment(segment).unwrap() {
            if let BppEvent::StoreMetadata(m) = e {
                assert_eq!(m, s.metadata);
                saw_metadata = true;
            }
        }
    }
    assert!(saw_metadata);
    let f = loader.abort(ErrorReason::PprNotAllowed);
    assert_eq!(f.reason.code(), 15);
    assert_eq!(loader.load_segment(&seg[5]).unwrap_err(), f);
}

#[test]
fn codes_and_configure_isdp() {
    for code in 0..=5 {
        assert_eq!(BppCommandId::from_code(code).unwrap().code(), code);
    }
    assert_eq!(BppCommandId::from_code(6), None);
    for (reason, code) in [
        (ErrorReason::IncorrectInputValues, 1),
        (ErrorReason::InvalidSignature, 2),
        (ErrorReason::InvalidTransactionId, 3),
        (ErrorReason::UnsupportedCrtValues, 4),
        (ErrorReason::UnsupportedRemoteOperationType, 5),
        (ErrorReason::BspStructureError, 7),
        (ErrorReason::BspSecurityError, 8),
        (
            ErrorReason::InstallFailedDueToInsufficientMemoryForProfile,
            10,
        ),
        (ErrorReason::InstallFailedDueToUnknownError, 127),
    ] {
        assert_eq!(reason.code(), code);
        assert_eq!(ErrorReason::from_code(code), Some(reason));
    }
    assert_eq!(ErrorReason::from_code(16), None);

    assert_eq!(configure_isdp_request(None).unwrap(), [0xBF, 0x24, 0x00]);
    let oid = Oid::new(&[2, 999, 10]).unwrap();
    let enc = configure_isdp_request(Some(&oid)).unwrap();
    assert_eq!(&enc[..6], &[0xBF, 0x24, 0x07, 0xB8, 0x05, 0x06]);
    assert_eq!(parse_configure_isdp_request(&enc).unwrap(), Some(oid));
    assert_eq!(
        parse_configure_isdp_request(&[0xBF, 0x24, 0x00]).unwrap(),
        None
    );
    assert!(parse_configure_isdp_request(&[0xBF, 0x25, 0x00]).is_err());
}
