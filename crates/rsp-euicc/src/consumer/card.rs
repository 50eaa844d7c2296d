//! The card object and its APDU layer: SELECT, MANAGE CHANNEL, the ES10 STORE DATA framing
//! ([`rsp_sgp22::es10::Es10Channel`], one per logical channel) and GET RESPONSE.

use std::collections::VecDeque;

use rsp_crypto::ecc::{Curve, PrivateKey, PublicKey};
use rsp_crypto::x509::Sgp22Role;
use rsp_gp::{ApduCard, CommandApdu};
use rsp_sgp22::es10::{self, ApduFields, ChannelEvent, Es10Channel};
use rsp_sgp22::{Capabilities, Octet16, Profile, StoreMetadataRequest, TransactionId};
use rsp_types::{Aid, Iccid, Oid};

use super::config::{CardIdentity, ConsumerConfig};
use super::error::ConsumerError;
use super::install::BppInstall;
use crate::m2m::CardTime;
use crate::m2m::rng::CardRng;

/// Logical channels the card offers besides the basic one (ISO/IEC 7816-4 MANAGE CHANNEL).
pub const MAX_LOGICAL_CHANNELS: u8 = 3;
/// The Answer To Reset of the simulated card (T=1, a plain ATR without historical bytes).
pub const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];
/// Largest ES10 command the card reassembles (a BPP segment is at most about 1 KiB).
pub const MAX_ES10_COMMAND: usize = 16 * 1024;

const INS_SELECT: u8 = 0xA4;
const INS_MANAGE_CHANNEL: u8 = 0x70;

/// An installed profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstalledProfile {
    /// ISD-P AID allocated at installation.
    pub isdp_aid: Aid,
    /// ICCID.
    pub iccid: Iccid,
    /// Whether the profile is enabled.
    pub enabled: bool,
    /// `profileNickname` (ES10c.SetNickname).
    pub nickname: Option<String>,
    /// The StoreMetadataRequest (`BF25`) as received in the BPP.
    pub metadata_der: Vec<u8>,
    /// The decoded metadata.
    pub metadata: StoreMetadataRequest,
    /// The unprotected profile package the SM-DP+ protected, byte for byte.
    pub upp: Vec<u8>,
    /// The SM-DP+ that installed it.
    pub smdp_address: String,
}

impl InstalledProfile {
    /// SHA-256 of the installed UPP.
    pub fn upp_digest(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(&self.upp).into()
    }

    /// `profileClass` (operational when absent).
    pub fn profile_class(&self) -> i64 {
        self.metadata
            .profile_class
            .unwrap_or(rsp_sgp22::profile_class::OPERATIONAL)
    }

    /// Whether PPR `bit` (1 = PPR1, 2 = PPR2) is set.
    pub fn has_ppr(&self, bit: usize) -> bool {
        self.metadata
            .profile_policy_rules
            .as_ref()
            .is_some_and(|p| p.has(bit))
    }
}

/// A stored notification: its metadata and the signed PendingNotification (`BF37` or `30`) the
/// LPA retrieves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredNotification {
    /// `seqNumber`.
    pub seq_number: i64,
    /// The NotificationEvent bit (0 install, 1 enable, 2 disable, 3 delete).
    pub event: usize,
    /// `notificationAddress`.
    pub address: String,
    /// `iccid`.
    pub iccid: Option<Iccid>,
    /// DER of the PendingNotification.
    pub pending: Vec<u8>,
}

/// The one-time key pair kept for a download retry (`bppEuiccOtpk`).
pub(crate) struct RetainedOtk {
    pub(crate) key: PrivateKey,
}

impl std::fmt::Debug for RetainedOtk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RetainedOtk({}, <secret>)", self.key.curve())
    }
}

/// The persistent state.
#[derive(Debug)]
pub(crate) struct Persistent {
    pub(crate) profiles: Vec<InstalledProfile>,
    pub(crate) notifications: VecDeque<StoredNotification>,
    /// The next notification sequence number (global, survives memory reset).
    pub(crate) next_seq: i64,
    pub(crate) default_dp_address: Option<String>,
    pub(crate) retained_otk: Option<RetainedOtk>,
    pub(crate) rng: CardRng,
    pub(crate) now: CardTime,
}

/// An RSP session after AuthenticateServer.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) transaction_id: TransactionId,
    pub(crate) server_address: String,
    /// The server's OID (the registeredID of its CERT.DPauth or CERT.DSauth).
    pub(crate) smdp_oid: Oid,
    /// Who authenticated: an SM-DP+ (CERT.DPauth) or an SM-DS (CERT.DSauth). Only an SM-DP+
    /// session may go on to PrepareDownload; only an SM-DS session to VerifySmdsResponse.
    pub(crate) server_role: Sgp22Role,
    /// The public key of the verified CERT.DPauth / CERT.DSauth (VerifySmdsResponse checks
    /// smdsSignature2 with it).
    pub(crate) server_key: PublicKey,
    /// Index of the credential that signed euiccSigned1.
    pub(crate) credential: usize,
    /// The curve of the session (CERT.DPauth's / CERT.DSauth's key).
    pub(crate) curve: Curve,
    /// The complete euiccSignature1 TLV (`5F37 40 …`).
    pub(crate) euicc_signature1_tlv: Vec<u8>,
    /// After PrepareDownload.
    pub(crate) prepared: Option<Prepared>,
}

/// What PrepareDownload leaves for LoadBoundProfilePackage.
pub(crate) struct Prepared {
    /// otSK.EUICC.ECKA.
    pub(crate) otsk: PrivateKey,
    /// CERT.DPpb.
    pub(crate) smdp_certificate: rsp_crypto::x509::Certificate,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prepared(otSK <secret>)")
    }
}

/// One logical channel.
#[derive(Debug, Default)]
pub(crate) struct Channel {
    pub(crate) isd_r_selected: bool,
    pub(crate) es10: Es10Channel,
}

/// The volatile state (lost on reset).
#[derive(Debug, Default)]
pub(crate) struct Volatile {
    /// Channels 0..=3; the basic channel is always open.
    pub(crate) channels: [Option<Channel>; 4],
    pub(crate) challenge: Option<Octet16>,
    pub(crate) session: Option<Session>,
    pub(crate) bpp: Option<BppInstall>,
}

impl Volatile {
    fn after_reset() -> Volatile {
        let mut v = Volatile::default();
        v.channels[0] = Some(Channel {
            isd_r_selected: false,
            es10: Es10Channel::new(MAX_ES10_COMMAND),
        });
        v
    }
}

/// The simulated SGP.22 consumer eUICC: a pure state machine behind [`ApduCard`].
pub struct ConsumerEuicc {
    pub(crate) config: ConsumerConfig,
    pub(crate) identity: CardIdentity,
    pub(crate) state: Persistent,
    pub(crate) volatile: Volatile,
}

impl std::fmt::Debug for ConsumerEuicc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerEuicc")
            .field("eid", &self.identity.eid)
            .field("svn", &self.config.highest_svn)
            .field("profiles", &self.state.profiles.len())
            .field("notifications", &self.state.notifications.len())
            .finish_non_exhaustive()
    }
}

impl ConsumerEuicc {
    /// A card from its configuration and identity.
    pub fn new(config: ConsumerConfig, identity: CardIdentity) -> Result<Self, ConsumerError> {
        if config.lowest_svn > config.highest_svn {
            return Err(ConsumerError::Config(
                "lowestSvn is above highestSvn".into(),
            ));
        }
        if identity.credentials.is_empty() {
            return Err(ConsumerError::Identity("no eUICC credential".into()));
        }
        let rng = CardRng::from_u64(config.rng_seed);
        Ok(ConsumerEuicc {
            state: Persistent {
                profiles: Vec::new(),
                notifications: VecDeque::new(),
                next_seq: 1,
                default_dp_address: config.default_smdp_address.clone(),
                retained_otk: None,
                rng,
                now: CardTime::default(),
            },
            config,
            identity,
            volatile: Volatile::after_reset(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ConsumerConfig {
        &self.config
    }

    /// The identity (EID, credentials, trusted CIs).
    pub fn identity(&self) -> &CardIdentity {
        &self.identity
    }

    /// The EID.
    pub fn eid(&self) -> &rsp_types::Eid {
        &self.identity.eid
    }

    /// The installed profiles.
    pub fn profiles(&self) -> &[InstalledProfile] {
        &self.state.profiles
    }

    /// The stored notifications, oldest first.
    pub fn notifications(&self) -> impl Iterator<Item = &StoredNotification> {
        self.state.notifications.iter()
    }

    /// The sequence number the next notification gets.
    pub fn next_sequence_number(&self) -> i64 {
        self.state.next_seq
    }

    /// The card's clock (certificate validity is checked against it when set).
    pub fn now(&self) -> CardTime {
        self.state.now
    }

    /// Moves the card's clock (never backwards).
    pub fn set_time(&mut self, now: CardTime) {
        self.state.now = self.state.now.max(now);
    }

    /// The Profile the card encodes for towards the server that signed `signed1`: a server
    /// without `sessionContext` is v2 (the version is capped below 3.0.0, no feature); a v3
    /// server gets the lower of both versions and the features both declared.
    pub fn profile_for_server(&self, signed1: &rsp_sgp22::ServerSigned1) -> Profile {
        let own = self.own_profile();
        match &signed1.session_context {
            Some(ctx) if own.is_v3() => {
                let server = Capabilities {
                    server: signed1.server_rsp_capability.clone(),
                    ..Capabilities::default()
                }
                .declared_features();
                Profile::new(own.svn.min(ctx.server_svn))
                    .with_features(own.features.intersection(server))
            }
            _ => Profile::new(own.svn.min(rsp_sgp22::version::V2_MAX)),
        }
    }

    /// The Profile this card encodes for: its own version and the features its capability bits
    /// declare.
    pub fn own_profile(&self) -> Profile {
        let features = Capabilities {
            euicc: Some(self.config.capability.clone()),
            ..Capabilities::default()
        }
        .declared_features();
        if self.config.is_v3() {
            Profile::new(self.config.highest_svn).with_features(features)
        } else {
            Profile::new(self.config.highest_svn)
        }
    }

    /// Processes one command APDU: response data ‖ SW1 SW2. Never panics.
    pub fn process_apdu(&mut self, apdu: &[u8]) -> Vec<u8> {
        let cmd = match CommandApdu::parse(apdu) {
            Ok(c) => c,
            Err(e) => return e.status_word().to_bytes().to_vec(),
        };
        let cla = cmd.cla;
        // ISO/IEC 7816-4 §5.4.1: 0x/4x-7x inter-industry, 8x/Cx proprietary (GlobalPlatform);
        // 2x-3x are reserved, Ax-Bx (GSM) and Ex-Fx are not served.
        if matches!(cla & 0xE0, 0x20 | 0xA0 | 0xE0) {
            return es10::sw::CLA_NOT_SUPPORTED.to_be_bytes().to_vec();
        }
        let channel = es10::channel_of_cla(cla);
        if channel > MAX_LOGICAL_CHANNELS {
            return es10::sw::LOGICAL_CHANNEL_NOT_SUPPORTED
                .to_be_bytes()
                .to_vec();
        }
        let idx = usize::from(channel);
        if self.volatile.channels.get(idx).is_none_or(Option::is_none) {
            return es10::sw::LOGICAL_CHANNEL_NOT_SUPPORTED
                .to_be_bytes()
                .to_vec();
        }
        if es10::cla_secure_messaging(cla) {
            return es10::sw::SECURE_MESSAGING_NOT_SUPPORTED
                .to_be_bytes()
                .to_vec();
        }
        match cmd.ins {
            INS_MANAGE_CHANNEL => return self.manage_channel(channel, &cmd),
            INS_SELECT => return self.select(idx, &cmd),
            _ => {}
        }
        let le = cmd.le.map(|l| l as usize);
        let fields = ApduFields {
            cla,
            ins: cmd.ins,
            p1: cmd.p1,
            p2: cmd.p2,
            data: &cmd.data,
            le,
        };
        let Some(Some(ch)) = self.volatile.channels.get_mut(idx) else {
            return es10::sw::LOGICAL_CHANNEL_NOT_SUPPORTED
                .to_be_bytes()
                .to_vec();
        };
        if cmd.ins == es10::INS_STORE_DATA && !ch.isd_r_selected {
            return es10::sw::CONDITIONS_NOT_SATISFIED.to_be_bytes().to_vec();
        }
        match ch.es10.on_apdu(&fields) {
            ChannelEvent::Respond(r) => r,
            ChannelEvent::Other => es10::sw::INS_NOT_SUPPORTED.to_be_bytes().to_vec(),
            ChannelEvent::Command { command, le } => {
                let result = self.es10_command(&command);
                let Some(Some(ch)) = self.volatile.channels.get_mut(idx) else {
                    return es10::sw::LOGICAL_CHANNEL_NOT_SUPPORTED
                        .to_be_bytes()
                        .to_vec();
                };
                match result {
                    Ok(data) => ch.es10.respond(data, le),
                    Err(refusal) => ch.es10.refuse(refusal.status_word()),
                }
            }
        }
    }

    /// [`Self::process_apdu`] at time `now` (the clock moves forward first).
    pub fn process_apdu_at(&mut self, now: CardTime, apdu: &[u8]) -> Vec<u8> {
        self.set_time(now);
        self.process_apdu(apdu)
    }

    /// MANAGE CHANNEL open (`P1 00`) / close (`P1 80`), channels 1..=3.
    fn manage_channel(&mut self, from: u8, cmd: &CommandApdu) -> Vec<u8> {
        if cmd.cla & 0x80 != 0 {
            return es10::sw::CLA_NOT_SUPPORTED.to_be_bytes().to_vec();
        }
        match cmd.p1 {
            0x00 => {
                let wanted = if cmd.p2 == 0 {
                    (1..=MAX_LOGICAL_CHANNELS).find(|c| {
                        self.volatile
                            .channels
                            .get(usize::from(*c))
                            .is_some_and(Option::is_none)
                    })
                } else if (1..=MAX_LOGICAL_CHANNELS).contains(&cmd.p2) {
                    Some(cmd.p2)
                } else {
                    return es10::sw::INCORRECT_P1_P2.to_be_bytes().to_vec();
                };
                let Some(n) = wanted else {
                    // No channel left.
                    return es10::sw::LOGICAL_CHANNEL_NOT_SUPPORTED
                        .to_be_bytes()
                        .to_vec();
                };
                let Some(slot) = self.volatile.channels.get_mut(usize::from(n)) else {
                    return es10::sw::INCORRECT_P1_P2.to_be_bytes().to_vec();
                };
                if slot.is_some() {
                    return es10::sw::CONDITIONS_NOT_SATISFIED.to_be_bytes().to_vec();
                }
                // ISO/IEC 7816-4: opened from a channel other than the basic one, the new channel
                // inherits its selection; from the basic channel, nothing is selected.
                let inherited = from != 0
                    && self
                        .volatile
                        .channels
                        .get(usize::from(from))
                        .and_then(Option::as_ref)
                        .is_some_and(|c| c.isd_r_selected);
                if let Some(slot) = self.volatile.channels.get_mut(usize::from(n)) {
                    *slot = Some(Channel {
                        isd_r_selected: inherited,
                        es10: Es10Channel::new(MAX_ES10_COMMAND),
                    });
                }
                if cmd.p2 == 0 {
                    vec![n, 0x90, 0x00]
                } else {
                    vec![0x90, 0x00]
                }
            }
            0x80 => {
                let n = if cmd.p2 == 0 { from } else { cmd.p2 };
                if n == 0 || n > MAX_LOGICAL_CHANNELS {
                    return es10::sw::INCORRECT_P1_P2.to_be_bytes().to_vec();
                }
                match self.volatile.channels.get_mut(usize::from(n)) {
                    Some(slot @ Some(_)) => {
                        *slot = None;
                        vec![0x90, 0x00]
                    }
                    _ => es10::sw::INCORRECT_P1_P2.to_be_bytes().to_vec(),
                }
            }
            _ => es10::sw::INCORRECT_P1_P2.to_be_bytes().to_vec(),
        }
    }

    /// SELECT by DF name (`00 A4 04 xx`): the ISD-R (full AID or a prefix of at least the RID).
    fn select(&mut self, idx: usize, cmd: &CommandApdu) -> Vec<u8> {
        if cmd.cla & 0x80 != 0 {
            return es10::sw::CLA_NOT_SUPPORTED.to_be_bytes().to_vec();
        }
        let Some(Some(ch)) = self.volatile.channels.get_mut(idx) else {
            return es10::sw::LOGICAL_CHANNEL_NOT_SUPPORTED
                .to_be_bytes()
                .to_vec();
        };
        ch.es10.clear();
        if cmd.p1 != 0x04 {
            ch.isd_r_selected = false;
            return 0x6A82u16.to_be_bytes().to_vec();
        }
        let aid = self.config.isd_r_aid.as_bytes();
        let matches = cmd.data.len() >= 5 && aid.starts_with(&cmd.data);
        if !matches {
            ch.isd_r_selected = false;
            return 0x6A82u16.to_be_bytes().to_vec();
        }
        ch.isd_r_selected = true;
        if cmd.p2 & 0x0C == 0x0C {
            // No response data requested.
            return vec![0x90, 0x00];
        }
        // FCI: 6F { 84 <DF name> }.
        let mut fci = vec![0x84, aid.len() as u8];
        fci.extend_from_slice(aid);
        let mut out = vec![0x6F, fci.len() as u8];
        out.extend_from_slice(&fci);
        out.extend_from_slice(&[0x90, 0x00]);
        out
    }

    /// A reset: logical channels, the session, a challenge and a BPP in progress are dropped.
    pub fn reset_card(&mut self) {
        self.volatile = Volatile::after_reset();
    }

    /// Whether an RSP session (after AuthenticateServer) is open.
    pub fn session_open(&self) -> bool {
        self.volatile.session.is_some()
    }
}

impl ApduCard for ConsumerEuicc {
    fn reset(&mut self) -> Vec<u8> {
        self.reset_card();
        ATR.to_vec()
    }

    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        self.process_apdu(command)
    }
}
