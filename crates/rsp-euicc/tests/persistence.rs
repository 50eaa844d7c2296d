//! Snapshot / restore and the CardStore: a restarted card keeps its state, secrets never appear in
//! clear, and damaged or foreign snapshots are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rsp_crypto::seal::Sealer;
use rsp_euicc::m2m::persist::StoredCard;
use rsp_euicc::m2m::{CardStore, M2mCard, PersistError, Pol1};

fn hex(b: &[u8]) -> (String, String) {
    let lower: String = b.iter().map(|x| format!("{x:02x}")).collect();
    (lower.to_uppercase(), lower)
}

fn assert_absent(snapshot: &[u8], secret: &[u8], what: &str) {
    let text = String::from_utf8_lossy(snapshot);
    let (upper, lower) = hex(secret);
    assert!(
        !text.contains(&upper) && !text.contains(&lower),
        "{what} in clear"
    );
    assert!(
        !snapshot.windows(secret.len()).any(|w| w == secret),
        "{what} as raw bytes"
    );
}

#[test]
fn restart_through_the_store_keeps_the_state() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let mut stored =
        StoredCard::create(CardStore::open(dir.path()).unwrap(), issue(&pki, 50, true)).unwrap();
    let eid = *stored.card().eid();
    stored
        .with(|card| {
            download_n(card, &pki, 1, meta(Pol1::NONE));
            download_n(card, &pki, 2, meta(Pol1::NONE));
            card.advance_time(t(500));
            assert_eq!(enable(card, aid(1)), 0x9000);
        })
        .unwrap();
    // One attempt handed out before the "power cut".
    let sent = stored.with(|c| c.poll_notification()).unwrap().unwrap();
    let before = stored.card().profiles();
    let pending = stored.card().pending_notifications().to_vec();
    let free = stored.card().free_memory();
    drop(stored);

    let store = CardStore::open(dir.path()).unwrap();
    assert_eq!(store.list().unwrap(), vec![eid]);
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")),
        "no temporary file left"
    );
    let mut stored = StoredCard::open(store, &eid).unwrap();
    assert_eq!(stored.card().profiles(), before);
    assert_eq!(stored.card().pending_notifications(), pending.as_slice());
    assert_eq!(stored.card().free_memory(), free);
    assert_eq!(stored.card().now(), t(500));
    // The restarted card still accepts the confirmation, and keeps working over APDUs.
    let (deleted, sw) = stored.with(|c| confirm(c, sent.seq)).unwrap();
    assert_eq!((deleted.len(), sw), (0, 0x9000));
    assert_eq!(stored.with(|c| enable(c, aid(2))).unwrap(), 0x9000);
    // A download interrupted by the restart: the SCP03 session is volatile and gone.
    let package = with_iccid(TS48_NO_BERTLV, &iccid(3));
    let session = stored
        .with(|c| {
            assert_eq!(create_isdp(c, aid(3), None), 0x9000);
            let keys = establish(c, &pki, aid(3));
            open_scp03(c, aid(3), keys)
        })
        .unwrap();
    let card = stored.into_card();
    let store = CardStore::open(dir.path()).unwrap();
    let mut restarted = store.load(&eid).unwrap();
    assert_eq!(
        restarted.isd_p(&aid(3)).unwrap().state,
        rsp_euicc::m2m::IsdPState::Personalized
    );
    select(&mut restarted, &aid(3));
    let t = send_package(&mut restarted, session, &package, |_, _| {});
    assert_eq!(t.sw, 0x6982);
    assert_eq!(delete(&mut restarted, aid(3)), 0x9000);
    drop(card);
    restarted.check_invariants().unwrap();
}

#[test]
fn snapshot_never_holds_secrets_in_clear() {
    let pki = TestPki::new();
    let material = pki.material(&EID.parse().unwrap());
    let scalar = material.ecasd_key.scalar().to_vec();
    let options = rsp_euicc::m2m::issue::IssueOptions {
        rng_seed: Some(51),
        ..Default::default()
    };
    let (mut card, _) = M2mCard::issue(material, options).unwrap();
    download_n(&mut card, &pki, 1, meta(Pol1::NONE));
    let dir = tempfile::tempdir().unwrap();
    let sealer = Sealer::load_or_create(&dir.path().join("master.key")).unwrap();
    let snapshot = card.snapshot(&sealer).unwrap();
    let text = String::from_utf8(snapshot.clone()).unwrap();
    assert!(text.contains("\"format\": 1"));
    assert!(text.contains(EID));

    assert_absent(&snapshot, &scalar, "ECASD private key");
    let keys = card.isd_p(&aid(1)).unwrap().keys.clone().unwrap();
    let static_keys = keys.static_keys().unwrap();
    let mut probe = [0u8; 16];
    static_keys.enc().encrypt_block(&mut probe);
    assert!(
        !text.contains(&hex(&probe).0),
        "sanity: a derived value is not in the file either"
    );
    for set in &card.isd_r().key_sets {
        for k in &set.keys {
            assert_absent(&snapshot, &k.value, "ISD-R key");
        }
    }
    let package = card
        .isd_p(&aid(1))
        .unwrap()
        .profile
        .as_ref()
        .unwrap()
        .package()
        .to_vec();
    assert_absent(&snapshot, &package[200..232], "profile package");
    let restored = M2mCard::restore(&snapshot, &sealer).unwrap();
    assert_eq!(restored.profiles(), card.profiles());
    assert_eq!(
        restored
            .isd_p(&aid(1))
            .unwrap()
            .profile
            .as_ref()
            .unwrap()
            .package(),
        package.as_slice()
    );
}

#[test]
fn restored_card_continues_its_random_stream() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 52, true);
    let dir = tempfile::tempdir().unwrap();
    let sealer = Sealer::load_or_create(&dir.path().join("k")).unwrap();
    let mut twin = M2mCard::restore(&card.snapshot(&sealer).unwrap(), &sealer).unwrap();
    for c in [&mut card, &mut twin] {
        assert_eq!(create_isdp(c, aid(1), None), 0x9000);
    }
    let rc1 = send_certificate(&mut card, Some(aid(1)), &pki.sm_dp.cert).unwrap();
    let rc2 = send_certificate(&mut twin, Some(aid(1)), &pki.sm_dp.cert).unwrap();
    assert_eq!(rc1, rc2, "same seed and counter, same challenge");
    let rc3 = send_certificate(&mut card, Some(aid(1)), &pki.sm_dp.cert).unwrap();
    assert_ne!(rc1, rc3);
}

#[test]
fn damaged_or_foreign_snapshots_are_refused() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 53, true);
    download_n(&mut card, &pki, 1, meta(Pol1::NONE));
    let dir = tempfile::tempdir().unwrap();
    let sealer = Sealer::load_or_create(&dir.path().join("a")).unwrap();
    let other = Sealer::load_or_create(&dir.path().join("b")).unwrap();
    let snapshot = card.snapshot(&sealer).unwrap();
    let text = String::from_utf8(snapshot.clone()).unwrap();

    assert!(matches!(
        M2mCard::restore(&snapshot, &other),
        Err(PersistError::Seal { .. })
    ));
    assert!(matches!(
        M2mCard::restore(&snapshot[..snapshot.len() / 2], &sealer),
        Err(PersistError::Json(_))
    ));
    let v2 = text.replacen("\"format\": 1", "\"format\": 2", 1);
    assert!(matches!(
        M2mCard::restore(v2.as_bytes(), &sealer),
        Err(PersistError::Format(2))
    ));
    // A sealed blob moved to another field does not open.
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let seed = json["rng"]["sealed_seed"].clone();
    json["ecasd"]["sealed_key"] = seed;
    assert!(matches!(
        M2mCard::restore(json.to_string().as_bytes(), &sealer),
        Err(PersistError::Seal { .. })
    ));
    // A state that breaks an invariant: two enabled profiles.
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    for p in json["isd_ps"].as_array_mut().unwrap() {
        p["state"] = serde_json::Value::String("enabled".into());
    }
    assert!(matches!(
        M2mCard::restore(json.to_string().as_bytes(), &sealer),
        Err(PersistError::Invalid(_))
    ));
    // An EID that is not the certificate's.
    let other_eid = rsp_types::Eid::with_check_digits("890490321234512345123456789010").unwrap();
    let bad = text.replace(EID, other_eid.as_str());
    assert!(M2mCard::restore(bad.as_bytes(), &sealer).is_err());
    // The store reports a missing card.
    let store = CardStore::open(dir.path()).unwrap();
    assert!(matches!(
        store.load(&"89049032123451234512345678901235".parse().unwrap()),
        Err(PersistError::NotFound(_))
    ));
}
