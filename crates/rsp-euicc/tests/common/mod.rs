//! Test harness: a small SGP.02 PKI minted in memory, an issued card, and an off-card SM-DP / SM-SR
//! that speaks to the card only with APDU bytes built by `rsp-gp`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rsp_crypto::ecc::{Curve, PrivateKey, PublicKey};
use rsp_crypto::gpcert::{GpCertRole, GpCertificateParams};
use rsp_crypto::kdf::{self, Scenario3SharedInfo};
use rsp_crypto::scp03::{HostHandshake, Scp03Session, SecurityLevel, StaticKeys};
use rsp_crypto::scp03t::Scp03tSender;
use rsp_crypto::x509;
use rsp_euicc::m2m::issue::{BootstrapProfile, IssueOptions};
use rsp_euicc::m2m::scenario3;
use rsp_euicc::m2m::{CardConfig, CardTime, IssuerMaterial, M2mCard, Pol1, ProfileMetadata};
use rsp_gp::command::{KeyAgreement, KeyAgreementCrt};
use rsp_gp::response::{KeyAgreementResponse, parse_random_challenge};
use rsp_gp::{CardCommand, CommandApdu};
use rsp_types::{Aid, Eid, Iccid};
use time::macros::date;

/// TS.48 v7 generic test profile (GSMA TS.48, Apache-2.0), SAIP 2.3 DER.
pub const TS48_NO_BERTLV: &[u8] = include_bytes!("../fixtures/profiles/SAIP2.3_NoBERTLV.der");
/// TS.48 v7 with BER-TLV files and SUCI.
pub const TS48_BERTLV_SUCI: &[u8] = include_bytes!("../fixtures/profiles/SAIP2.3_BERTLV_SUCI.der");

pub const EID: &str = "89049032123451234512345678901235";

pub struct Entity {
    pub key: PrivateKey,
    pub cert: Vec<u8>,
}

pub struct TestPki {
    pub ci_key: PrivateKey,
    pub ci_id: Vec<u8>,
    pub eum_key: PrivateKey,
    pub eum_id: Vec<u8>,
    pub sm_dp: Entity,
    pub sm_sr: Entity,
    /// An SM-DP certificate issued by another CI.
    pub rogue_dp: Entity,
}

fn key() -> PrivateKey {
    PrivateKey::generate(Curve::NistP256).unwrap()
}

fn key_id(k: &PublicKey) -> Vec<u8> {
    x509::key_identifier(k).to_vec()
}

fn server(role: GpCertRole, issuer: &PrivateKey, issuer_id: &[u8]) -> Entity {
    let key = key();
    let cert = GpCertificateParams::for_server(
        role,
        key.public_key().clone(),
        issuer_id,
        vec![1, 2, 3],
        date!(2024 - 01 - 01),
        date!(2099 - 12 - 31),
    )
    .sign(issuer)
    .unwrap();
    Entity {
        key,
        cert: cert.to_bytes().to_vec(),
    }
}

impl TestPki {
    pub fn new() -> Self {
        let ci_key = key();
        let ci_id = key_id(ci_key.public_key());
        let eum_key = key();
        let eum_id = key_id(eum_key.public_key());
        let rogue = key();
        let rogue_id = key_id(rogue.public_key());
        Self {
            sm_dp: server(GpCertRole::SmDp, &ci_key, &ci_id),
            sm_sr: server(GpCertRole::SmSr, &ci_key, &ci_id),
            rogue_dp: server(GpCertRole::SmDp, &rogue, &rogue_id),
            ci_key,
            ci_id,
            eum_key,
            eum_id,
        }
    }

    pub fn material(&self, eid: &Eid) -> IssuerMaterial {
        let ecasd_key = key();
        let cert = GpCertificateParams::for_ecasd(
            eid,
            ecasd_key.public_key().clone(),
            &self.eum_id,
            vec![9],
            date!(2024 - 01 - 01),
            date!(9999 - 12 - 31),
        )
        .sign(&self.eum_key)
        .unwrap();
        IssuerMaterial {
            eid: *eid,
            ecasd_key,
            ecasd_certificate: cert.to_bytes().to_vec(),
            ci_public_key: self.ci_key.public_key().clone(),
            ci_key_id: self.ci_id.clone(),
            eum_certificate: None,
            eum_id: "2.999.5".into(),
        }
    }
}

pub fn aid(n: u8) -> Aid {
    Aid::from_bytes(&[
        0xA0,
        0x00,
        0x00,
        0x05,
        0x59,
        0x10,
        0x10,
        0xFF,
        0xFF,
        0xFF,
        0xFF,
        0x89,
        0x00,
        0x00,
        0x10 + n,
        0x00,
    ])
    .unwrap()
}

/// The bootstrap ISD-P.
pub fn bootstrap_aid() -> Aid {
    aid(0)
}

pub fn iccid(n: u8) -> Iccid {
    Iccid::with_luhn(&format!("8901000000000000{n:02}0")).unwrap()
}

/// A copy of `package` whose ProfileHeader carries `iccid`.
pub fn with_iccid(package: &[u8], iccid: &Iccid) -> Vec<u8> {
    let mut p = package.to_vec();
    let pos = p
        .windows(2)
        .position(|w| w == [0x83, 0x0A])
        .expect("header iccid");
    let digits = format!("{:F<20}", iccid.as_str());
    let bytes = hex_decode(&digits);
    p[pos + 2..pos + 12].copy_from_slice(&bytes);
    p
}

pub fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub fn t(secs: u64) -> CardTime {
    CardTime(1_700_000_000 + secs)
}

/// A card with the bootstrap profile (enabled, Fall-Back) unless `bootstrap` is false.
pub fn issue(pki: &TestPki, seed: u64, bootstrap: bool) -> M2mCard {
    let eid: Eid = EID.parse().unwrap();
    let options = IssueOptions {
        config: CardConfig::default(),
        rng_seed: Some(seed),
        production_time: t(0),
        bootstrap: bootstrap.then(|| BootstrapProfile {
            aid: bootstrap_aid(),
            package: with_iccid(TS48_NO_BERTLV, &iccid(0)),
            pol1: Pol1::NONE,
        }),
    };
    M2mCard::issue(pki.material(&eid), options).unwrap().0
}

/// Sends bytes, returns (data, SW).
pub fn send(card: &mut M2mCard, apdu: &[u8]) -> (Vec<u8>, u16) {
    let r = card.process_apdu(apdu);
    assert!(r.len() >= 2, "response without SW");
    let (data, sw) = r.split_at(r.len() - 2);
    (data.to_vec(), u16::from_be_bytes([sw[0], sw[1]]))
}

/// Sends an `rsp-gp` command.
pub fn cmd(card: &mut M2mCard, c: CardCommand) -> (Vec<u8>, u16) {
    send(card, &c.to_bytes().unwrap())
}

pub fn select(card: &mut M2mCard, aid: &Aid) -> u16 {
    cmd(card, CardCommand::select(*aid)).1
}

pub fn isd_r() -> Aid {
    rsp_euicc::m2m::state::ISD_R_AID
}

/// ES5.CreateISDP.
pub fn create_isdp(card: &mut M2mCard, aid: Aid, quota: Option<u32>) -> u16 {
    select(card, &isd_r());
    cmd(
        card,
        CardCommand::create_isd_p(
            rsp_euicc::m2m::state::ISD_P_LOAD_FILE_AID,
            rsp_euicc::m2m::state::ISD_P_MODULE_AID,
            aid,
            quota,
        ),
    )
    .1
}

/// Scenario#3 step 1 through the ISD-R (INSTALL [for personalization] + 3A01). Returns RC or SW.
pub fn send_certificate(
    card: &mut M2mCard,
    target: Option<Aid>,
    cert: &[u8],
) -> Result<Vec<u8>, u16> {
    select(card, &isd_r());
    if let Some(a) = target {
        let (_, sw) = cmd(card, CardCommand::install_for_personalization(a));
        if sw != 0x9000 {
            return Err(sw);
        }
    }
    let (data, sw) = cmd(card, CardCommand::store_certificate(cert.to_vec()));
    if sw != 0x9000 {
        return Err(sw);
    }
    Ok(parse_random_challenge(&data).unwrap())
}

/// What the off-card side derived.
pub struct Established {
    pub keys: StaticKeys,
    pub response: KeyAgreementResponse,
}

/// Scenario#3 step 2, signed with `signer`; checks the receipt against the ECASD key. `tamper`
/// edits the signed command before sending.
pub fn send_key_agreement(
    card: &mut M2mCard,
    signer: &PrivateKey,
    rc: &[u8],
    crt: KeyAgreementCrt,
    tamper: impl FnOnce(&mut Vec<u8>),
) -> Result<Established, u16> {
    let ecasd_pk = card.ecasd().certificate.public_key().clone();
    let eph = key();
    let mut ka = KeyAgreement {
        crt: crt.clone(),
        ephemeral_public_key: scenario3::public_key_do(eph.public_key()),
        signature: None,
    };
    let signed = ka.signed_data(rc).unwrap();
    ka.signature = Some(signer.sign_raw(&signed).unwrap().to_vec());
    let mut bytes = CardCommand::store_key_agreement(ka).to_bytes().unwrap();
    tamper(&mut bytes);
    let (data, sw) = send(card, &bytes);
    if sw != 0x9000 {
        return Err(sw);
    }
    let response = KeyAgreementResponse::parse(&data).unwrap();
    let shs = eph.agree(&ecasd_pk).unwrap();
    let info = Scenario3SharedInfo {
        key_usage: crt.key_usage,
        key_type: crt.key_type,
        key_length: crt.key_length,
        derivation_random: response.derivation_random.as_deref(),
        host_id: None,
        sin_sdin: None,
    };
    let keys = kdf::derive_scenario3_keys(shs.as_bytes(), &info).unwrap();
    let crt_tlv = crt.encode().unwrap();
    assert!(
        kdf::verify_scenario3_receipt(
            &keys.receipt_key,
            &crt_tlv,
            response.derivation_random.as_deref(),
            &response.receipt
        )
        .unwrap(),
        "receipt does not verify"
    );
    Ok(Established {
        keys: StaticKeys::from_scenario3(crt.key_version, &keys).unwrap(),
        response,
    })
}

pub fn scp03_crt() -> KeyAgreementCrt {
    KeyAgreementCrt::scp03(
        0x01,
        0x30,
        KeyAgreementCrt::SCENARIO_INCLUDE_DR | KeyAgreementCrt::SCENARIO_CERTIFICATE_PRECEDES,
    )
}

/// Full ES8.EstablishISDPKeySet for `aid`; returns the SCP03 keys.
pub fn establish(card: &mut M2mCard, pki: &TestPki, aid: Aid) -> StaticKeys {
    let rc = send_certificate(card, Some(aid), &pki.sm_dp.cert).expect("certificate accepted");
    send_key_agreement(card, &pki.sm_dp.key, &rc, scp03_crt(), |_| {})
        .expect("key agreement accepted")
        .keys
}

/// Opens SCP03 (level 33) on the ISD-P.
pub fn open_scp03(card: &mut M2mCard, aid: Aid, keys: StaticKeys) -> Scp03Session {
    assert_eq!(select(card, &aid), 0x9000);
    let host = HostHandshake::new(keys, [0x11; 8]);
    let (data, sw) = send(card, &host.initialize_update_apdu());
    assert_eq!(sw, 0x9000, "INITIALIZE UPDATE");
    let auth = host.on_initialize_update_response(&data).unwrap();
    let (session, apdu) = auth
        .external_authenticate(SecurityLevel::C_DEC_C_MAC_R_ENC_R_MAC)
        .unwrap();
    assert_eq!(send(card, &apdu).1, 0x9000, "EXTERNAL AUTHENTICATE");
    session
}

/// ES8.StoreMetadata under SCP03.
pub fn store_metadata(
    card: &mut M2mCard,
    session: &mut Scp03Session,
    meta: &ProfileMetadata,
) -> u16 {
    let plain = CommandApdu::new(0x80, 0xE2, 0x90, 0x00)
        .with_data(meta.encode().unwrap())
        .encode()
        .unwrap();
    let wrapped = session.wrap_command(&plain).unwrap();
    let r = card.process_apdu(&wrapped);
    session.unwrap_response(&r).unwrap().sw
}

/// What a package transfer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// SW of the last response (the first error SW, if any).
    pub sw: u16,
    /// APDUs sent.
    pub apdus: usize,
    /// Longest APDU sent.
    pub longest: usize,
}

/// Sends `package` as SCP03t segments (one STORE DATA per `86` segment, extended length when
/// needed), each protected just before sending so the R-MAC of its answer verifies. `tamper` may
/// edit APDU `i` before it is sent. Stops at the first error status.
pub fn send_package(
    card: &mut M2mCard,
    session: Scp03Session,
    package: &[u8],
    mut tamper: impl FnMut(usize, &mut Vec<u8>),
) -> Transfer {
    let mut sender = Scp03tSender::new(session).unwrap();
    let chunks: Vec<&[u8]> = package
        .chunks(rsp_crypto::scp03t::MAX_SEGMENT_PAYLOAD)
        .collect();
    let n = chunks.len() + 1;
    let mut transfer = Transfer {
        sw: 0x9000,
        apdus: 0,
        longest: 0,
    };
    for i in 0..n {
        let segment = match chunks.get(i) {
            Some(c) => sender.protect_segment(c).unwrap(),
            None => sender.finish().unwrap(),
        };
        let p1 = if i + 1 == n { 0x90 } else { 0x10 };
        let mut apdu = CommandApdu::new(0x80, 0xE2, p1, (i % 256) as u8)
            .with_data(segment)
            .encode()
            .unwrap();
        tamper(i, &mut apdu);
        transfer.apdus += 1;
        transfer.longest = transfer.longest.max(apdu.len());
        let r = card.process_apdu(&apdu);
        let resp = sender.unwrap_response(&r).unwrap();
        if resp.sw != 0x9000 {
            transfer.sw = resp.sw;
            return transfer;
        }
    }
    transfer
}

/// Complete download of `package` into a new ISD-P `aid` (CreateISDP, Scenario#3, SCP03,
/// StoreMetadata, SCP03t). Returns the final SW.
pub fn download(
    card: &mut M2mCard,
    pki: &TestPki,
    aid: Aid,
    package: &[u8],
    meta: &ProfileMetadata,
) -> u16 {
    assert_eq!(create_isdp(card, aid, None), 0x9000, "CreateISDP");
    let keys = establish(card, pki, aid);
    let mut session = open_scp03(card, aid, keys);
    assert_eq!(
        store_metadata(card, &mut session, meta),
        0x9000,
        "StoreMetadata"
    );
    let sw = send_package(card, session, package, |_, _| {}).sw;
    select(card, &isd_r());
    sw
}

/// Downloads TS.48 with ICCID `iccid(n)` into `aid(n)`.
pub fn download_n(card: &mut M2mCard, pki: &TestPki, n: u8, meta: ProfileMetadata) {
    let sw = download(
        card,
        pki,
        aid(n),
        &with_iccid(TS48_NO_BERTLV, &iccid(n)),
        &meta,
    );
    assert_eq!(sw, 0x9000, "download {n}");
}

pub fn meta(pol1: Pol1) -> ProfileMetadata {
    ProfileMetadata {
        pol1,
        ..ProfileMetadata::default()
    }
}

/// The state of an ISD-P as GET STATUS reports it (life-cycle byte, properties byte).
pub fn status(card: &mut M2mCard, a: Aid) -> Option<(u8, u8)> {
    select(card, &isd_r());
    let (data, sw) = cmd(card, CardCommand::get_isd_p_status(Some(a)));
    if sw != 0x9000 {
        return None;
    }
    let list = rsp_gp::response::IsdPStatus::parse_list(&data).unwrap();
    list.first()
        .map(|s| (s.life_cycle.0, s.properties.map(|p| p.0).unwrap_or(0)))
}

/// Enables over APDU; returns SW.
pub fn enable(card: &mut M2mCard, a: Aid) -> u16 {
    select(card, &isd_r());
    cmd(card, CardCommand::enable_profile(a)).1
}

pub fn disable(card: &mut M2mCard, a: Aid) -> u16 {
    select(card, &isd_r());
    cmd(card, CardCommand::disable_profile(a)).1
}

pub fn delete(card: &mut M2mCard, a: Aid) -> u16 {
    select(card, &isd_r());
    cmd(card, CardCommand::delete_isd_p(a)).1
}

/// Confirms a notification; returns (deleted AIDs, SW).
pub fn confirm(card: &mut M2mCard, seq: u16) -> (Vec<Aid>, u16) {
    select(card, &isd_r());
    let (data, sw) = cmd(card, CardCommand::notification_confirmation(seq));
    if sw != 0x9000 {
        return (Vec::new(), sw);
    }
    let r = rsp_gp::response::NotificationConfirmationResponse::parse(&data).unwrap();
    (r.deleted_isd_p_aids, sw)
}

/// Polls every notification and confirms it.
pub fn confirm_all(card: &mut M2mCard) -> Vec<rsp_gp::DefaultNotification> {
    let mut seen = Vec::new();
    while let Some(n) = card.poll_notification() {
        let parsed = rsp_gp::DefaultNotification::parse(&n.payload).unwrap();
        assert_eq!(confirm(card, parsed.sequence_number).1, 0x9000);
        seen.push(parsed);
    }
    seen
}
