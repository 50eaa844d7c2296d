//! Snapshots of a consumer eUICC: versioned JSON, secrets sealed (the M2M card's scheme).
//!
//! Sealed under [`rsp_crypto::seal::Sealer`] with associated data
//! `rsp-euicc/consumer/1/<EID>/<item>`: the eUICC private keys, the retained one-time key, the
//! DRBG seed and every installed UPP. Certificates, metadata and notifications are in clear
//! (upper-case hex). The volatile state (channels, challenge, session, a BPP in progress) is not
//! saved: a restored card starts as after a reset.

use std::collections::VecDeque;

use rsp_crypto::ecc::PrivateKey;
use rsp_crypto::seal::Sealer;
use rsp_crypto::x509::Certificate;
use rsp_sgp22::{EuiccRspCapability, GetRatResponse, SeqOf, StoreMetadataRequest};
use rsp_types::{Aid, Eid, Iccid, Svn};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::card::{
    ConsumerEuicc, InstalledProfile, Persistent, RetainedOtk, StoredNotification, Volatile,
};
use super::config::{CardIdentity, ConsumerConfig, Credential};
use super::error::ConsumerError;
use crate::m2m::CardTime;
use crate::m2m::rng::{CardRng, SEED_LEN};

/// Snapshot format version written by this code.
pub const CONSUMER_SNAPSHOT_FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct ConfigSnapshot {
    lowest_svn: String,
    highest_svn: String,
    capability: Vec<usize>,
    base_profile_package_version: String,
    additional_profile_package_versions: Vec<String>,
    firmware_version: String,
    global_platform_version: Option<String>,
    ts102241_version: Option<String>,
    pp_version: String,
    sas_accreditation_number: String,
    euicc_category: Option<i64>,
    isd_r_aid: String,
    default_smdp_address: Option<String>,
    root_smds_address: String,
    free_memory: u64,
    /// `GetRatResponse` DER.
    rat: String,
    max_notifications: usize,
    rng_seed: u64,
}

#[derive(Serialize, Deserialize)]
struct CredentialSnapshot {
    key: String,
    euicc_certificate: String,
    eum_certificate: String,
    other_certificates: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct ProfileSnapshot {
    isdp_aid: String,
    iccid: String,
    enabled: bool,
    nickname: Option<String>,
    metadata: String,
    upp: String,
    smdp_address: String,
}

#[derive(Serialize, Deserialize)]
struct NotificationSnapshot {
    seq_number: i64,
    event: usize,
    address: String,
    iccid: Option<String>,
    pending: String,
}

#[derive(Serialize, Deserialize)]
struct SnapshotV1 {
    format: u32,
    eid: String,
    config: ConfigSnapshot,
    credentials: Vec<CredentialSnapshot>,
    ci_certificates: Vec<String>,
    profiles: Vec<ProfileSnapshot>,
    notifications: Vec<NotificationSnapshot>,
    next_seq: i64,
    default_dp_address: Option<String>,
    retained_otk: Option<String>,
    rng_seed: String,
    rng_counter: u64,
    now: u64,
}

struct Seal<'a> {
    sealer: &'a Sealer,
    eid: String,
}

impl Seal<'_> {
    fn aad(&self, item: &str) -> Vec<u8> {
        format!("rsp-euicc/consumer/1/{}/{item}", self.eid).into_bytes()
    }
    fn seal(&self, item: &str, plain: &[u8]) -> Result<String, ConsumerError> {
        self.sealer
            .seal(&self.aad(item), plain)
            .map(hex::encode_upper)
            .map_err(|source| ConsumerError::Seal {
                what: item.into(),
                source,
            })
    }
    fn open(&self, item: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, ConsumerError> {
        let bytes = unhex(item, sealed)?;
        self.sealer
            .open(&self.aad(item), &bytes)
            .map_err(|source| ConsumerError::Seal {
                what: item.into(),
                source,
            })
    }
}

fn unhex(what: &str, s: &str) -> Result<Vec<u8>, ConsumerError> {
    hex::decode(s).map_err(|_| ConsumerError::Snapshot(format!("{what} is not hex")))
}

fn svn(what: &str, s: &str) -> Result<Svn, ConsumerError> {
    s.parse()
        .map_err(|_| ConsumerError::Snapshot(format!("{what}: bad version {s}")))
}

fn cert(what: &str, s: &str) -> Result<Certificate, ConsumerError> {
    Certificate::from_der(&unhex(what, s)?)
        .map_err(|e| ConsumerError::Snapshot(format!("{what}: {e}")))
}

fn key_from(bytes: &[u8], what: &str) -> Result<PrivateKey, ConsumerError> {
    PrivateKey::from_der(bytes, None).map_err(|e| ConsumerError::Snapshot(format!("{what}: {e}")))
}

impl ConsumerEuicc {
    /// The card's persistent state as a snapshot (JSON, secrets sealed with `sealer`).
    pub fn snapshot(&self, sealer: &Sealer) -> Result<Vec<u8>, ConsumerError> {
        let s = Seal {
            sealer,
            eid: self.identity.eid.to_string(),
        };
        let c = &self.config;
        let v3 = rsp_sgp22::Profile::new(rsp_sgp22::version::V3_0_0);
        let rat = GetRatResponse {
            rat: SeqOf(c.rat.clone()),
            unknown_tags: vec![],
        }
        .encode(&v3)
        .map_err(|e| ConsumerError::Internal(e.to_string()))?;
        let mut credentials = Vec::new();
        for (i, cr) in self.identity.credentials.iter().enumerate() {
            credentials.push(CredentialSnapshot {
                key: s.seal(&format!("key-{i}"), &cr.key.to_pkcs8_der())?,
                euicc_certificate: hex::encode_upper(cr.euicc_certificate.der()),
                eum_certificate: hex::encode_upper(cr.eum_certificate.der()),
                other_certificates: cr
                    .other_certificates
                    .iter()
                    .map(|o| hex::encode_upper(o.der()))
                    .collect(),
            });
        }
        let mut profiles = Vec::new();
        for p in &self.state.profiles {
            profiles.push(ProfileSnapshot {
                isdp_aid: p.isdp_aid.to_hex(),
                iccid: p.iccid.to_string(),
                enabled: p.enabled,
                nickname: p.nickname.clone(),
                metadata: hex::encode_upper(&p.metadata_der),
                upp: s.seal(&format!("upp-{}", p.iccid), &p.upp)?,
                smdp_address: p.smdp_address.clone(),
            });
        }
        let snap = SnapshotV1 {
            format: CONSUMER_SNAPSHOT_FORMAT,
            eid: self.identity.eid.to_string(),
            config: ConfigSnapshot {
                lowest_svn: c.lowest_svn.to_string(),
                highest_svn: c.highest_svn.to_string(),
                capability: c.capability.0.ones().collect(),
                base_profile_package_version: c.base_profile_package_version.to_string(),
                additional_profile_package_versions: c
                    .additional_profile_package_versions
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                firmware_version: c.firmware_version.to_string(),
                global_platform_version: c.global_platform_version.map(|v| v.to_string()),
                ts102241_version: c.ts102241_version.map(|v| v.to_string()),
                pp_version: c.pp_version.to_string(),
                sas_accreditation_number: c.sas_accreditation_number.clone(),
                euicc_category: c.euicc_category,
                isd_r_aid: c.isd_r_aid.to_hex(),
                default_smdp_address: c.default_smdp_address.clone(),
                root_smds_address: c.root_smds_address.clone(),
                free_memory: c.free_memory,
                rat: hex::encode_upper(rat),
                max_notifications: c.max_notifications,
                rng_seed: c.rng_seed,
            },
            credentials,
            ci_certificates: self
                .identity
                .ci_certificates
                .iter()
                .map(|c| hex::encode_upper(c.der()))
                .collect(),
            profiles,
            notifications: self
                .state
                .notifications
                .iter()
                .map(|n| NotificationSnapshot {
                    seq_number: n.seq_number,
                    event: n.event,
                    address: n.address.clone(),
                    iccid: n.iccid.as_ref().map(ToString::to_string),
                    pending: hex::encode_upper(&n.pending),
                })
                .collect(),
            next_seq: self.state.next_seq,
            default_dp_address: self.state.default_dp_address.clone(),
            retained_otk: match &self.state.retained_otk {
                Some(k) => Some(s.seal("otk", &k.key.to_pkcs8_der())?),
                None => None,
            },
            rng_seed: s.seal("rng", self.state.rng.seed())?,
            rng_counter: self.state.rng.counter(),
            now: self.state.now.0,
        };
        serde_json::to_vec_pretty(&snap).map_err(|e| ConsumerError::Snapshot(e.to_string()))
    }

    /// A card from a snapshot (untrusted input: every value is decoded with its validating
    /// parser; the identity is checked).
    pub fn restore(bytes: &[u8], sealer: &Sealer) -> Result<ConsumerEuicc, ConsumerError> {
        let snap: SnapshotV1 =
            serde_json::from_slice(bytes).map_err(|e| ConsumerError::Snapshot(e.to_string()))?;
        if snap.format != CONSUMER_SNAPSHOT_FORMAT {
            return Err(ConsumerError::Snapshot(format!(
                "unsupported format {}",
                snap.format
            )));
        }
        let eid: Eid = snap
            .eid
            .parse()
            .map_err(|e| ConsumerError::Snapshot(format!("EID: {e}")))?;
        let s = Seal {
            sealer,
            eid: eid.to_string(),
        };
        let c = &snap.config;
        let rat = GetRatResponse::decode(&unhex("rat", &c.rat)?)
            .map_err(|e| ConsumerError::Snapshot(format!("RAT: {e}")))?
            .rat
            .0;
        let config = ConsumerConfig {
            lowest_svn: svn("lowest_svn", &c.lowest_svn)?,
            highest_svn: svn("highest_svn", &c.highest_svn)?,
            capability: EuiccRspCapability::with_bits(&c.capability),
            base_profile_package_version: svn("base version", &c.base_profile_package_version)?,
            additional_profile_package_versions: c
                .additional_profile_package_versions
                .iter()
                .map(|v| svn("additional version", v))
                .collect::<Result<_, _>>()?,
            firmware_version: svn("firmware_version", &c.firmware_version)?,
            global_platform_version: c
                .global_platform_version
                .as_deref()
                .map(|v| svn("gp version", v))
                .transpose()?,
            ts102241_version: c
                .ts102241_version
                .as_deref()
                .map(|v| svn("ts102241 version", v))
                .transpose()?,
            pp_version: svn("pp_version", &c.pp_version)?,
            sas_accreditation_number: c.sas_accreditation_number.clone(),
            euicc_category: c.euicc_category,
            isd_r_aid: c
                .isd_r_aid
                .parse::<Aid>()
                .map_err(|e| ConsumerError::Snapshot(format!("ISD-R AID: {e}")))?,
            default_smdp_address: c.default_smdp_address.clone(),
            root_smds_address: c.root_smds_address.clone(),
            free_memory: c.free_memory,
            rat,
            max_notifications: c.max_notifications,
            rng_seed: c.rng_seed,
        };
        let mut credentials = Vec::new();
        for (i, cr) in snap.credentials.iter().enumerate() {
            let key = key_from(&s.open(&format!("key-{i}"), &cr.key)?, "eUICC key")?;
            let mut credential = Credential::new(
                key,
                cert("eUICC certificate", &cr.euicc_certificate)?,
                cert("EUM certificate", &cr.eum_certificate)?,
            )?;
            credential.other_certificates = cr
                .other_certificates
                .iter()
                .map(|o| cert("chain certificate", o))
                .collect::<Result<_, _>>()?;
            credentials.push(credential);
        }
        let identity = CardIdentity {
            eid,
            credentials,
            ci_certificates: snap
                .ci_certificates
                .iter()
                .map(|c| cert("CI certificate", c))
                .collect::<Result<_, _>>()?,
        };
        let mut profiles = Vec::new();
        for p in &snap.profiles {
            let iccid: Iccid = p
                .iccid
                .parse()
                .map_err(|e| ConsumerError::Snapshot(format!("ICCID: {e}")))?;
            let metadata_der = unhex("metadata", &p.metadata)?;
            let metadata = StoreMetadataRequest::decode(&metadata_der)
                .map_err(|e| ConsumerError::Snapshot(format!("metadata: {e}")))?;
            if metadata.iccid != iccid {
                return Err(ConsumerError::Snapshot(
                    "metadata names another ICCID".into(),
                ));
            }
            profiles.push(InstalledProfile {
                isdp_aid: p
                    .isdp_aid
                    .parse()
                    .map_err(|e| ConsumerError::Snapshot(format!("ISD-P AID: {e}")))?,
                upp: s.open(&format!("upp-{iccid}"), &p.upp)?.to_vec(),
                iccid,
                enabled: p.enabled,
                nickname: p.nickname.clone(),
                metadata_der,
                metadata,
                smdp_address: p.smdp_address.clone(),
            });
        }
        if profiles.iter().filter(|p| p.enabled).count() > 1 {
            return Err(ConsumerError::Snapshot(
                "more than one enabled profile".into(),
            ));
        }
        let mut notifications = VecDeque::new();
        for n in &snap.notifications {
            notifications.push_back(StoredNotification {
                seq_number: n.seq_number,
                event: n.event,
                address: n.address.clone(),
                iccid: n
                    .iccid
                    .as_deref()
                    .map(|i| {
                        i.parse::<Iccid>()
                            .map_err(|e| ConsumerError::Snapshot(format!("ICCID: {e}")))
                    })
                    .transpose()?,
                pending: unhex("notification", &n.pending)?,
            });
        }
        let seed_bytes = s.open("rng", &snap.rng_seed)?;
        let seed: [u8; SEED_LEN] = seed_bytes
            .as_slice()
            .try_into()
            .map_err(|_| ConsumerError::Snapshot("DRBG seed length".into()))?;
        let retained_otk = match &snap.retained_otk {
            Some(sealed) => Some(RetainedOtk {
                key: key_from(&s.open("otk", sealed)?, "one-time key")?,
            }),
            None => None,
        };
        let mut card = ConsumerEuicc::new(config, identity)?;
        card.state = Persistent {
            profiles,
            notifications,
            next_seq: snap.next_seq,
            default_dp_address: snap.default_dp_address,
            retained_otk,
            rng: CardRng::from_state(seed, snap.rng_counter),
            now: CardTime(snap.now),
        };
        card.volatile = Volatile::default();
        card.reset_card();
        Ok(card)
    }
}
