//! Persistence of a card: a versioned snapshot and a directory store.
//!
//! # Snapshot format (version [`SNAPSHOT_FORMAT`])
//! A UTF-8 JSON object (serde, field names as in [`SnapshotV1`]): `format`, `eid`, `config`, the
//! ECASD (certificate and PK.CI in clear, SK.ECASD sealed), the ISD-R (AID, TAR, connectivity
//! parameters; every key set's keys sealed), the ISD-Ps (state, quota, owner, metadata; SCP03 keys
//! and the profile package sealed), the attributes, the local override, pending and recently
//! confirmed notifications, the notification counter, the DRBG (seed sealed, counter) and the
//! card's time. Binary values are upper-case hex.
//!
//! Secrets are sealed with [`rsp_crypto::seal::Sealer`] (AES-256-GCM) under a master key that
//! lives beside the card files ([`CardStore`]: `card-store.key`, mode 0600); each blob's associated
//! data is `rsp-euicc/1/<EID>/<item>`, so a blob moved to another card or field does not open. No
//! private key, symmetric key, DRBG seed or profile package appears in clear.
//!
//! A snapshot is untrusted input: [`M2mCard::restore`] checks the format version, decodes every
//! identifier with its validating parser and checks the card invariants before returning. The
//! volatile state (selected application, SCP03 session, a key establishment in progress) is not
//! saved: a restored card starts as after a reset.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use rsp_crypto::ecc::{PrivateKey, PublicKey};
use rsp_crypto::gpcert::GpCertificate;
use rsp_crypto::seal::{SealError, Sealer};
use rsp_types::{Aid, Eid, Iccid};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::card::{CardConfig, M2mCard, Volatile};
use super::notification::PendingNotification;
use super::policy::ProfileMetadata;
use super::rng::{CardRng, SEED_LEN};
use super::state::{
    Ecasd, InstalledProfile, IsdP, IsdPState, IsdR, KeySet, KeySetKind, KeyValue, LocalOverride,
    Scp03KeySet,
};
use super::time::CardTime;

/// Snapshot format version written by this code.
pub const SNAPSHOT_FORMAT: u32 = 1;
/// File name of the master key in a [`CardStore`] directory.
pub const MASTER_KEY_FILE: &str = "card-store.key";
/// Suffix of card files in a [`CardStore`] directory.
pub const CARD_FILE_SUFFIX: &str = ".card.json";

/// Errors of snapshots and the card store.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// JSON encoding or decoding failed.
    #[error("snapshot JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The snapshot has another format version.
    #[error("unsupported snapshot format {0}")]
    Format(u32),
    /// A sealed value does not open (other master key, tampered, moved).
    #[error("sealed {what}: {source}")]
    Seal {
        /// Which value.
        what: String,
        /// The error.
        source: SealError,
    },
    /// A value of the snapshot is invalid.
    #[error("snapshot: invalid {0}")]
    Invalid(String),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// No card with this EID in the store.
    #[error("no card {0} in the store")]
    NotFound(Eid),
}

fn invalid(what: impl std::fmt::Display) -> PersistError {
    PersistError::Invalid(what.to_string())
}

/// A sealed secret, hex.
type Sealed = String;

/// ECASD part of the snapshot.
#[derive(Serialize, Deserialize)]
pub struct EcasdSnapshot {
    /// SK.ECASD.ECKA, PKCS#8 DER, sealed.
    pub sealed_key: Sealed,
    /// CERT.ECASD.ECKA, hex.
    pub certificate: String,
    /// PK.CI, SubjectPublicKeyInfo DER hex.
    pub ci_public_key: String,
    /// CI key identifier, hex.
    pub ci_key_id: String,
}

/// A key set: kind, version, keys sealed as `id ‖ len ‖ value` records.
#[derive(Serialize, Deserialize)]
pub struct KeySetSnapshot {
    /// Kind.
    pub kind: KeySetKind,
    /// Version.
    pub version: u8,
    /// Keys, sealed.
    pub sealed_keys: Sealed,
}

/// ISD-R part of the snapshot.
#[derive(Serialize, Deserialize)]
pub struct IsdRSnapshot {
    /// AID.
    pub aid: Aid,
    /// TAR, hex.
    pub tar: String,
    /// Key sets.
    pub key_sets: Vec<KeySetSnapshot>,
    /// Connectivity parameters, hex.
    pub connectivity_parameters: String,
}

/// SCP03 keys of an ISD-P: `enc ‖ mac ‖ dek` sealed.
#[derive(Serialize, Deserialize)]
pub struct Scp03Snapshot {
    /// KVN.
    pub kvn: u8,
    /// Last sequence counter.
    pub sequence_counter: u32,
    /// Keys, sealed.
    pub sealed_keys: Sealed,
}

/// An installed profile.
#[derive(Serialize, Deserialize)]
pub struct ProfileSnapshot {
    /// ICCID.
    pub iccid: Iccid,
    /// ProfileHeader profileType.
    pub profile_type: Option<String>,
    /// The package, sealed.
    pub sealed_package: Sealed,
}

/// One ISD-P.
#[derive(Serialize, Deserialize)]
pub struct IsdPSnapshot {
    /// AID.
    pub aid: Aid,
    /// State.
    pub state: IsdPState,
    /// Quota.
    pub memory_quota: u64,
    /// Owning SM-DP, hex.
    pub smdp_id: Option<String>,
    /// SCP03 keys.
    pub keys: Option<Scp03Snapshot>,
    /// Metadata.
    pub metadata: ProfileMetadata,
    /// Profile.
    pub profile: Option<ProfileSnapshot>,
}

/// The DRBG.
#[derive(Serialize, Deserialize)]
pub struct RngSnapshot {
    /// Seed, sealed.
    pub sealed_seed: Sealed,
    /// Block counter.
    pub counter: u64,
}

/// Snapshot, format 1.
#[derive(Serialize, Deserialize)]
pub struct SnapshotV1 {
    /// [`SNAPSHOT_FORMAT`].
    pub format: u32,
    /// EID.
    pub eid: Eid,
    /// Settings.
    pub config: CardConfig,
    /// ECASD.
    pub ecasd: EcasdSnapshot,
    /// ISD-R.
    pub isd_r: IsdRSnapshot,
    /// ISD-Ps.
    pub isd_ps: Vec<IsdPSnapshot>,
    /// Fall-Back attribute holder.
    pub fall_back: Option<Aid>,
    /// Emergency attribute holder.
    pub emergency: Option<Aid>,
    /// Fall-back POL1 pin.
    pub fall_back_pin: Option<Aid>,
    /// Local override.
    pub local: Option<LocalOverride>,
    /// Pending notifications.
    pub pending: Vec<PendingNotification>,
    /// Recently confirmed notifications.
    pub confirmed: Vec<(u16, Vec<Aid>)>,
    /// Next sequence number.
    pub next_seq: u16,
    /// eUICC declaration confirmed.
    pub declared: bool,
    /// DRBG.
    pub rng: RngSnapshot,
    /// Card time.
    pub now: CardTime,
}

struct Sealing<'a> {
    sealer: &'a Sealer,
    eid: Eid,
}

impl Sealing<'_> {
    fn aad(&self, item: &str) -> Vec<u8> {
        format!("rsp-euicc/{SNAPSHOT_FORMAT}/{}/{item}", self.eid).into_bytes()
    }

    fn seal(&self, item: &str, plain: &[u8]) -> Result<Sealed, PersistError> {
        self.sealer
            .seal(&self.aad(item), plain)
            .map(hex::encode_upper)
            .map_err(|source| PersistError::Seal {
                what: item.into(),
                source,
            })
    }

    fn open(&self, item: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, PersistError> {
        let blob = hex::decode(sealed).map_err(|_| invalid(format!("hex of {item}")))?;
        self.sealer
            .open(&self.aad(item), &blob)
            .map_err(|source| PersistError::Seal {
                what: item.into(),
                source,
            })
    }
}

fn unhex(what: &str, s: &str) -> Result<Vec<u8>, PersistError> {
    hex::decode(s).map_err(|_| invalid(format!("hex of {what}")))
}

fn encode_keys(keys: &[KeyValue]) -> Result<Zeroizing<Vec<u8>>, PersistError> {
    let mut out = Zeroizing::new(Vec::new());
    for k in keys {
        let len = u8::try_from(k.value.len()).map_err(|_| invalid("key length"))?;
        out.push(k.id);
        out.push(len);
        out.extend_from_slice(&k.value);
    }
    Ok(out)
}

fn decode_keys(mut bytes: &[u8]) -> Result<Vec<KeyValue>, PersistError> {
    let mut keys = Vec::new();
    while let [id, len, rest @ ..] = bytes {
        let (value, tail) = rest
            .split_at_checked(usize::from(*len))
            .ok_or_else(|| invalid("key record"))?;
        keys.push(KeyValue {
            id: *id,
            value: Zeroizing::new(value.to_vec()),
        });
        bytes = tail;
    }
    if !bytes.is_empty() {
        return Err(invalid("key record"));
    }
    Ok(keys)
}

impl M2mCard {
    /// The card's persistent state as a versioned JSON snapshot with its secrets sealed.
    pub fn snapshot(&self, sealer: &Sealer) -> Result<Vec<u8>, PersistError> {
        let s = Sealing {
            sealer,
            eid: self.ecasd.eid,
        };
        let ecasd = EcasdSnapshot {
            sealed_key: s.seal("ecasd-key", &self.ecasd.key.to_pkcs8_der())?,
            certificate: hex::encode_upper(self.ecasd.certificate.to_bytes()),
            ci_public_key: hex::encode_upper(self.ecasd.ci_public_key.to_spki_der()),
            ci_key_id: hex::encode_upper(&self.ecasd.ci_key_id),
        };
        let key_sets = self
            .isd_r
            .key_sets
            .iter()
            .map(|k| {
                Ok(KeySetSnapshot {
                    kind: k.kind,
                    version: k.version,
                    sealed_keys: s.seal(
                        &format!("isd-r-key-set-{:02X}", k.version),
                        &encode_keys(&k.keys)?,
                    )?,
                })
            })
            .collect::<Result<Vec<_>, PersistError>>()?;
        let isd_r = IsdRSnapshot {
            aid: self.isd_r.aid,
            tar: hex::encode_upper(self.isd_r.tar),
            key_sets,
            connectivity_parameters: hex::encode_upper(&self.isd_r.connectivity_parameters),
        };
        let mut isd_ps = Vec::new();
        for p in self.isd_ps.values() {
            let keys = match &p.keys {
                Some(k) => {
                    let mut plain = Zeroizing::new(Vec::new());
                    for part in [&k.enc, &k.mac, &k.dek] {
                        plain.extend_from_slice(part);
                    }
                    Some(Scp03Snapshot {
                        kvn: k.kvn,
                        sequence_counter: k.sequence_counter,
                        sealed_keys: s.seal(&format!("isd-p-keys-{}", p.aid), &plain)?,
                    })
                }
                None => None,
            };
            let profile = match &p.profile {
                Some(i) => Some(ProfileSnapshot {
                    iccid: i.iccid,
                    profile_type: i.profile_type.clone(),
                    sealed_package: s.seal(&format!("isd-p-package-{}", p.aid), &i.package)?,
                }),
                None => None,
            };
            isd_ps.push(IsdPSnapshot {
                aid: p.aid,
                state: p.state,
                memory_quota: p.memory_quota,
                smdp_id: p.smdp_id.as_ref().map(hex::encode_upper),
                keys,
                metadata: p.metadata.clone(),
                profile,
            });
        }
        let snapshot = SnapshotV1 {
            format: SNAPSHOT_FORMAT,
            eid: self.ecasd.eid,
            config: self.config.clone(),
            ecasd,
            isd_r,
            isd_ps,
            fall_back: self.fall_back,
            emergency: self.emergency,
            fall_back_pin: self.fall_back_pin,
            local: self.local,
            pending: self.pending.clone(),
            confirmed: self.confirmed.iter().cloned().collect(),
            next_seq: self.next_seq,
            declared: self.declared,
            rng: RngSnapshot {
                sealed_seed: s.seal("rng-seed", self.rng.seed())?,
                counter: self.rng.counter(),
            },
            now: self.now,
        };
        let mut out = serde_json::to_vec_pretty(&snapshot)?;
        out.push(b'\n');
        Ok(out)
    }

    /// Rebuilds a card from [`Self::snapshot`] output (untrusted input: every field is checked,
    /// then the card invariants).
    pub fn restore(bytes: &[u8], sealer: &Sealer) -> Result<M2mCard, PersistError> {
        #[derive(Deserialize)]
        struct Probe {
            format: u32,
        }
        let probe: Probe = serde_json::from_slice(bytes)?;
        if probe.format != SNAPSHOT_FORMAT {
            return Err(PersistError::Format(probe.format));
        }
        let snap: SnapshotV1 = serde_json::from_slice(bytes)?;
        snap.config
            .check()
            .map_err(|e| invalid(format!("config: {e}")))?;
        let s = Sealing {
            sealer,
            eid: snap.eid,
        };
        let key_der = s.open("ecasd-key", &snap.ecasd.sealed_key)?;
        let key =
            PrivateKey::from_der(&key_der, None).map_err(|e| invalid(format!("ECASD key: {e}")))?;
        let certificate =
            GpCertificate::from_bytes(&unhex("ECASD certificate", &snap.ecasd.certificate)?)
                .map_err(|e| invalid(format!("ECASD certificate: {e}")))?;
        if certificate.public_key().to_sec1_uncompressed()
            != key.public_key().to_sec1_uncompressed()
            || certificate.eid().ok() != Some(snap.eid)
        {
            return Err(invalid("ECASD certificate does not match the key and EID"));
        }
        let ci_public_key = PublicKey::from_spki_der(&unhex("PK.CI", &snap.ecasd.ci_public_key)?)
            .map_err(|e| invalid(format!("PK.CI: {e}")))?;
        let ecasd = Ecasd {
            eid: snap.eid,
            key,
            certificate,
            ci_public_key,
            ci_key_id: unhex("CI key id", &snap.ecasd.ci_key_id)?,
        };
        let tar: [u8; 3] = unhex("TAR", &snap.isd_r.tar)?
            .try_into()
            .map_err(|_| invalid("TAR length"))?;
        let mut key_sets = Vec::new();
        for k in &snap.isd_r.key_sets {
            let plain = s.open(&format!("isd-r-key-set-{:02X}", k.version), &k.sealed_keys)?;
            key_sets.push(KeySet {
                kind: k.kind,
                version: k.version,
                keys: decode_keys(&plain)?,
            });
        }
        let isd_r = IsdR {
            aid: snap.isd_r.aid,
            tar,
            key_sets,
            connectivity_parameters: unhex(
                "connectivity parameters",
                &snap.isd_r.connectivity_parameters,
            )?,
        };
        let mut isd_ps = BTreeMap::new();
        for p in snap.isd_ps {
            let keys = match p.keys {
                Some(k) => {
                    let plain = s.open(&format!("isd-p-keys-{}", p.aid), &k.sealed_keys)?;
                    let n = plain.len() / 3;
                    if n == 0 || plain.len() % 3 != 0 {
                        return Err(invalid("ISD-P key set length"));
                    }
                    let part = |i: usize| {
                        Zeroizing::new(plain.get(i * n..(i + 1) * n).unwrap_or_default().to_vec())
                    };
                    let set = Scp03KeySet {
                        kvn: k.kvn,
                        enc: part(0),
                        mac: part(1),
                        dek: part(2),
                        sequence_counter: k.sequence_counter,
                    };
                    set.static_keys()
                        .map_err(|e| invalid(format!("ISD-P keys: {e}")))?;
                    Some(set)
                }
                None => None,
            };
            let profile = match p.profile {
                Some(i) => Some(InstalledProfile {
                    iccid: i.iccid,
                    profile_type: i.profile_type,
                    package: s
                        .open(&format!("isd-p-package-{}", p.aid), &i.sealed_package)?
                        .to_vec(),
                }),
                None => None,
            };
            let smdp_id = match p.smdp_id {
                Some(h) => Some(unhex("SM-DP id", &h)?),
                None => None,
            };
            let previous = isd_ps.insert(
                p.aid,
                IsdP {
                    aid: p.aid,
                    state: p.state,
                    memory_quota: p.memory_quota,
                    smdp_id,
                    keys,
                    metadata: p.metadata,
                    profile,
                },
            );
            if previous.is_some() {
                return Err(invalid(format!("duplicate ISD-P {}", p.aid)));
            }
        }
        let seed: [u8; SEED_LEN] = s
            .open("rng-seed", &snap.rng.sealed_seed)?
            .as_slice()
            .try_into()
            .map_err(|_| invalid("DRBG seed length"))?;
        if snap.next_seq == 0 {
            return Err(invalid("notification sequence number 0"));
        }
        let card = M2mCard {
            config: snap.config,
            ecasd,
            isd_r,
            isd_ps,
            fall_back: snap.fall_back,
            emergency: snap.emergency,
            fall_back_pin: snap.fall_back_pin,
            local: snap.local,
            pending: snap.pending,
            confirmed: VecDeque::from(snap.confirmed),
            next_seq: snap.next_seq,
            declared: snap.declared,
            rng: CardRng::from_state(seed, snap.rng.counter),
            now: snap.now,
            volatile: Volatile::default(),
        };
        card.check_invariants().map_err(invalid)?;
        Ok(card)
    }
}

/// A directory of cards: `<EID>.card.json` per card and the sealing master key
/// [`MASTER_KEY_FILE`] beside them. Every save is atomic (temporary file, fsync, rename).
#[derive(Debug)]
pub struct CardStore {
    dir: PathBuf,
    sealer: Sealer,
}

impl CardStore {
    /// Opens (creating when needed) the store in `dir`, with its master key.
    pub fn open(dir: &Path) -> Result<Self, PersistError> {
        std::fs::create_dir_all(dir).map_err(|source| PersistError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let sealer = Sealer::load_or_create(&dir.join(MASTER_KEY_FILE)).map_err(|source| {
            PersistError::Seal {
                what: "master key".into(),
                source,
            }
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            sealer,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The sealer (for snapshots outside the store).
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The file of the card with this EID.
    pub fn path_of(&self, eid: &Eid) -> PathBuf {
        self.dir.join(format!("{eid}{CARD_FILE_SUFFIX}"))
    }

    /// Writes the card's snapshot atomically.
    pub fn save(&self, card: &M2mCard) -> Result<(), PersistError> {
        let bytes = card.snapshot(&self.sealer)?;
        let path = self.path_of(card.eid());
        let tmp = path.with_extension("json.tmp");
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| PersistError::Io { path: p, source }
        };
        rsp_crypto::seal::write_private_file(&tmp, &bytes).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        if let Ok(d) = std::fs::File::open(&self.dir) {
            // Make the rename durable where the platform allows syncing a directory.
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Loads the card with this EID.
    pub fn load(&self, eid: &Eid) -> Result<M2mCard, PersistError> {
        let path = self.path_of(eid);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PersistError::NotFound(*eid));
            }
            Err(source) => return Err(PersistError::Io { path, source }),
        };
        let card = M2mCard::restore(&bytes, &self.sealer)?;
        if card.eid() != eid {
            return Err(invalid(format!("{} holds another card", path.display())));
        }
        Ok(card)
    }

    /// The EIDs of the stored cards, sorted.
    pub fn list(&self) -> Result<Vec<Eid>, PersistError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|source| PersistError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let mut eids = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            if let Some(eid) = name
                .to_str()
                .and_then(|n| n.strip_suffix(CARD_FILE_SUFFIX))
                .and_then(|n| n.parse::<Eid>().ok())
            {
                eids.push(eid);
            }
        }
        eids.sort();
        Ok(eids)
    }
}

/// A card bound to its store: every call through [`Self::with`] (and the helpers) saves the card
/// afterwards, so the file always holds the state after the last input.
#[derive(Debug)]
pub struct StoredCard {
    store: CardStore,
    card: M2mCard,
}

impl StoredCard {
    /// Adds a new card to the store (saving it) and binds it.
    pub fn create(store: CardStore, card: M2mCard) -> Result<Self, PersistError> {
        store.save(&card)?;
        Ok(Self { store, card })
    }

    /// Loads a card from the store.
    pub fn open(store: CardStore, eid: &Eid) -> Result<Self, PersistError> {
        let card = store.load(eid)?;
        Ok(Self { store, card })
    }

    /// The card (read only).
    pub fn card(&self) -> &M2mCard {
        &self.card
    }

    /// The store.
    pub fn store(&self) -> &CardStore {
        &self.store
    }

    /// Runs `f` on the card, then saves it.
    pub fn with<R>(&mut self, f: impl FnOnce(&mut M2mCard) -> R) -> Result<R, PersistError> {
        let r = f(&mut self.card);
        self.store.save(&self.card)?;
        Ok(r)
    }

    /// [`M2mCard::process_apdu`], then save.
    pub fn process_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, PersistError> {
        self.with(|c| c.process_apdu(apdu))
    }

    /// Gives the card back.
    pub fn into_card(self) -> M2mCard {
        self.card
    }
}
