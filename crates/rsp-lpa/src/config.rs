//! What an LPA is: its SGP.22 version, its `LpaRspCapability` bits, the device it runs on
//! (DeviceInfo), the ISD-R AID it selects, and its user-facing policies (consent, confirmation
//! code).

use std::fmt;
use std::sync::Arc;

use rsp_sgp22::{
    DeviceCapabilities, DeviceInfo, LpaRspCapability, SeqOf, StoreMetadataRequest, version::V3_0_0,
};
use rsp_types::{Aid, Svn};

/// The device the LPA runs on, as DeviceInfo tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceConfig {
    /// Type Allocation Code (4 bytes: the 8 TAC digits as BCD).
    pub tac: [u8; 4],
    /// IMEI (8 bytes, BCD as in DeviceInfo), if told.
    pub imei: Option<[u8; 8]>,
    /// The device's radio / feature releases. `lpa_svn` is filled from the LPA's version.
    pub capabilities: DeviceCapabilities,
    /// Preferred languages (v3 DeviceInfo), e.g. `["en"]`.
    pub preferred_languages: Vec<String>,
    /// Whether the eUICC supports Multiple Enabled Profiles (relaxes the PPR1 check, §5.2).
    pub mep: bool,
}

impl Default for DeviceConfig {
    /// A generic LTE/NR handset: TAC 35290611, EUTRAN release 15, NR release 15.
    fn default() -> Self {
        DeviceConfig {
            tac: [0x35, 0x29, 0x06, 0x11],
            imei: None,
            capabilities: DeviceCapabilities {
                gsm_supported_release: None,
                utran_supported_release: None,
                cdma2000onex_supported_release: None,
                cdma2000hrpd_supported_release: None,
                cdma2000ehrpd_supported_release: None,
                eutran_epc_supported_release: Some(Svn::new(15, 0, 0)),
                contactless_supported_release: None,
                rsp_crl_supported_version: None,
                nr_epc_supported_release: Some(Svn::new(15, 0, 0)),
                nr5gc_supported_release: Some(Svn::new(15, 0, 0)),
                eutran5gc_supported_release: Some(Svn::new(15, 0, 0)),
                lpa_svn: None,
                cat_supported_classes: None,
                euicc_form_factor_type: None,
                device_additional_feature_support: None,
                unknown_tags: vec![],
            },
            preferred_languages: vec!["en".into()],
            mep: false,
        }
    }
}

/// A consent question: the metadata and whether a RAT rule requires consent; `true` accepts.
pub type ConsentFn = Arc<dyn Fn(&StoreMetadataRequest, bool) -> bool + Send + Sync>;

/// Whether the user accepts a profile (shown the metadata from AuthenticateClient).
#[derive(Clone, Default)]
pub enum Consent {
    /// Accept every profile (tests, scripted use).
    #[default]
    AutoAccept,
    /// Refuse every profile: CancelSession `endUserRejection`.
    Reject,
    /// Postpone every profile: CancelSession `postponed`.
    Postpone,
    /// Ask a function: `true` accepts; `false` rejects (`endUserRejection`).
    Ask(ConsentFn),
}

impl fmt::Debug for Consent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Consent::AutoAccept => f.write_str("AutoAccept"),
            Consent::Reject => f.write_str("Reject"),
            Consent::Postpone => f.write_str("Postpone"),
            Consent::Ask(_) => f.write_str("Ask(..)"),
        }
    }
}

/// The LPA's configuration.
#[derive(Debug, Clone)]
pub struct LpaConfig {
    /// The SGP.22 version this LPA implements (`2.2.2`, `3.1.0`, ...). Below 3.0.0 the LPA sends
    /// no `lpaRspCapability` anywhere and no v3 element.
    pub svn: Svn,
    /// The `LpaRspCapability` bits this LPA declares when it runs as v3 (limited to what the
    /// eUICC supports, see [`crate::negotiation`]).
    pub lpa_rsp_capability: LpaRspCapability,
    /// The device.
    pub device: DeviceConfig,
    /// ISD-R AID to SELECT (some cards use a custom one, sgp22.md §13).
    pub isd_r_aid: Aid,
    /// The Confirmation Code to give when the SM-DP+ asks for one.
    pub confirmation_code: Option<String>,
    /// The consent policy.
    pub consent: Consent,
    /// Whether to deliver the Profile Installation Result and remove it from the card's list
    /// (default true; tests of pending notifications may turn it off).
    pub deliver_installation_result: bool,
}

impl LpaConfig {
    /// An LPA at `svn` with no capability bit, the default device, the standard ISD-R AID,
    /// automatic consent.
    pub fn new(svn: Svn) -> LpaConfig {
        LpaConfig {
            svn,
            lpa_rsp_capability: LpaRspCapability::default(),
            device: DeviceConfig::default(),
            isd_r_aid: default_isd_r(),
            confirmation_code: None,
            consent: Consent::AutoAccept,
            deliver_installation_result: true,
        }
    }

    /// This configuration with `bits` of `LpaRspCapability` set.
    pub fn with_capability(mut self, bits: &[usize]) -> LpaConfig {
        self.lpa_rsp_capability = LpaRspCapability::with_bits(bits);
        self
    }

    /// This configuration with a Confirmation Code.
    pub fn with_confirmation_code(mut self, cc: impl Into<String>) -> LpaConfig {
        self.confirmation_code = Some(cc.into());
        self
    }

    /// Whether this LPA is v3 (declares `lpaRspCapability`).
    pub fn is_v3(&self) -> bool {
        self.svn >= V3_0_0
    }

    /// DeviceInfo as this LPA sends it: `lpa_rsp_capability` is the signed copy of what goes
    /// into InitiateAuthentication (None for a v2 exchange); `lpaSvn` is set for a v3 LPA. The
    /// v3-only fields are dropped by the encoder for a v2 receiver.
    pub fn device_info(&self, lpa_rsp_capability: Option<LpaRspCapability>) -> DeviceInfo {
        let mut caps = self.device.capabilities.clone();
        caps.lpa_svn = self.is_v3().then_some(self.svn);
        DeviceInfo {
            tac: self.device.tac.to_vec(),
            device_capabilities: caps,
            imei: self.device.imei.map(|i| i.to_vec()),
            preferred_languages: (self.is_v3() && !self.device.preferred_languages.is_empty())
                .then(|| SeqOf(self.device.preferred_languages.clone())),
            device_test_mode: None,
            lpa_rsp_capability,
            unknown_tags: vec![],
        }
    }
}

/// The standard ISD-R AID of SGP.22 (`A0000005591010FFFFFFFF8900000100`).
pub const ISD_R_AID: Aid = match Aid::from_bytes(&[
    0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00,
]) {
    Ok(a) => a,
    Err(_) => panic!("ISD-R AID literal"),
};

/// The standard ISD-R AID.
pub fn default_isd_r() -> Aid {
    ISD_R_AID
}
