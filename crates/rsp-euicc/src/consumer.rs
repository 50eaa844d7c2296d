//! The simulated SGP.22 consumer eUICC (`sgp22.md` §3–§5, §11–§13, §15, §16.5).
//!
//! A pure state machine behind [`rsp_gp::ApduCard`]: APDUs in, response APDUs out
//! ([`ConsumerEuicc::process_apdu`]); time ([`crate::m2m::CardTime`]) and randomness (the seeded
//! [`crate::m2m::rng::CardRng`]) are injected. The ES10x framing (STORE DATA blocks, `61xx` +
//! GET RESPONSE) is [`rsp_sgp22::es10`]; every message is an [`rsp_sgp22`] type encoded for the
//! card's own [`rsp_sgp22::Profile`] (its highestSvn and the features its capability bits
//! declare), so a v2 card never writes a v3 field.
//!
//! APDUs: SELECT by DF name (the ISD-R, default `A0000005591010FFFFFFFF8900000100`,
//! configurable), MANAGE CHANNEL (logical channels 1–3), STORE DATA (ES10, CLA `80`–`83`),
//! GET RESPONSE; anything else gets a status word.
//!
//! ES10b: GetEUICCChallenge, GetEUICCInfo1/2, AuthenticateServer, PrepareDownload,
//! LoadBoundProfilePackage (through [`rsp_sgp22::bpp::BppLoader`]), CancelSession,
//! ListNotification, RetrieveNotificationsList, RemoveNotificationFromList, GetRAT, LoadCRL
//! (answered "undefinedError": no CRL support), and on v3 cards VerifySmdsResponse (`BF45`).
//! AuthenticateServer accepts an SM-DP+ (CERT.DPauth) or an SM-DS (CERT.DSauth); an SM-DS
//! session never reaches PrepareDownload. ES10c: GetProfilesInfo, Enable / Disable /
//! DeleteProfile, GetEID, SetNickname, eUICCMemoryReset. ES10a: GetEuiccConfiguredAddresses,
//! SetDefaultDpAddress.
//!
//! Making one: [`ConsumerEuicc::sgp26`] (the SGP.26 test eUICC from its files) or
//! [`ConsumerEuicc::issue`] (a fresh EID and key, the certificate signed by an EUM,
//! [`EumIssuer`]). Persistence: [`ConsumerEuicc::snapshot`] / [`ConsumerEuicc::restore`].

mod card;
mod config;
mod download;
mod error;
mod functions;
mod install;
mod issue;
mod notify;
mod persist;

pub use card::{ATR, ConsumerEuicc, InstalledProfile, MAX_LOGICAL_CHANNELS, StoredNotification};
pub use config::{
    CardIdentity, ConsumerConfig, Credential, DEFAULT_ISD_R_AID, default_isd_r_aid,
    load_sgp26_identity,
};
pub use error::ConsumerError;
pub use install::pprs_allowed;
pub use issue::{EumIssuer, fresh_eid, issue_identity, mint_euicc_certificate};
pub use persist::CONSUMER_SNAPSHOT_FORMAT;

impl ConsumerEuicc {
    /// The SGP.26 test eUICC from a directory laid out as the SGP.26 package (see
    /// [`load_sgp26_identity`]).
    pub fn sgp26(dir: &std::path::Path, config: ConsumerConfig) -> Result<Self, ConsumerError> {
        ConsumerEuicc::new(config, load_sgp26_identity(dir)?)
    }

    /// A freshly issued card: new EID within the EUM's EIN, new key, certificate signed by the
    /// EUM and valid from `not_before`; the EID, key and serial come from the card's seeded
    /// generator (`config.rng_seed`).
    pub fn issue(
        issuer: &EumIssuer,
        config: ConsumerConfig,
        not_before: time::OffsetDateTime,
    ) -> Result<Self, ConsumerError> {
        let mut rng = crate::m2m::rng::CardRng::from_u64(config.rng_seed ^ 0x1550_E000);
        let identity = issue_identity(issuer, &mut rng, not_before)?;
        ConsumerEuicc::new(config, identity)
    }
}
