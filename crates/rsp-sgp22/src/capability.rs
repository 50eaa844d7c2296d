//! The SGP.22 capability carriers (`EuiccRspCapability`, `LpaRspCapability`,
//! `ServerRspCapability`, all BIT STRINGs with named bits) and [`negotiate`], which turns what each
//! side declared into the [`Profile`] the encoder writes for.
//!
//! Decoding is lenient: bits without a name here are kept, so a newer peer's bits survive a
//! decode/encode round trip. Encoding is DER for a named bit list (X.690 §11.2.2): trailing zero
//! bits are removed and the unused padding bits are zero.

use rsp_types::Svn;

use crate::der::{DecodeError, DerValue, EncodeError};
use crate::version::{Feature, FeatureSet, Profile, V2_MAX, V3_0_0};

/// A BIT STRING value held canonically: bit 0 is the top bit of the first byte, trailing zero
/// bits are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BitString {
    bytes: Vec<u8>,
}

impl BitString {
    /// Whether bit `n` is set.
    pub fn get(&self, n: usize) -> bool {
        self.bytes
            .get(n / 8)
            .is_some_and(|b| b & (0x80 >> (n % 8)) != 0)
    }

    /// Sets or clears bit `n`.
    pub fn set(&mut self, n: usize, value: bool) {
        let i = n / 8;
        if value {
            if self.bytes.len() <= i {
                self.bytes.resize(i + 1, 0);
            }
            if let Some(b) = self.bytes.get_mut(i) {
                *b |= 0x80 >> (n % 8);
            }
        } else if let Some(b) = self.bytes.get_mut(i) {
            *b &= !(0x80 >> (n % 8));
            self.trim();
        }
    }

    /// Positions of all set bits, ascending.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.bytes.len() * 8).filter(|n| self.get(*n))
    }

    /// Whether no bit is set.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn trim(&mut self) {
        while self.bytes.last() == Some(&0) {
            self.bytes.pop();
        }
    }

    /// Decodes BIT STRING content (unused-bits byte, then the bits). Lenient: non-zero padding
    /// bits are ignored, trailing zero bytes accepted.
    pub fn from_content(content: &[u8], in_type: &'static str) -> Result<BitString, DecodeError> {
        let bad = |reason| DecodeError::BadValue { in_type, reason };
        let (unused, bits) = content
            .split_first()
            .ok_or(bad("BIT STRING content is empty"))?;
        if *unused > 7 {
            return Err(bad("BIT STRING unused-bits count above 7"));
        }
        if bits.is_empty() && *unused != 0 {
            return Err(bad("empty BIT STRING with unused bits"));
        }
        let mut bytes = bits.to_vec();
        if let Some(last) = bytes.last_mut() {
            *last &= 0xFFu8 << *unused;
        }
        let mut s = BitString { bytes };
        s.trim();
        Ok(s)
    }

    /// Appends minimal DER BIT STRING content (named bit list: no trailing zero bits).
    pub fn write_content(&self, out: &mut Vec<u8>) {
        let unused = self.bytes.last().map_or(0, |b| b.trailing_zeros() as u8);
        out.push(unused);
        out.extend_from_slice(&self.bytes);
    }
}

macro_rules! named_bits {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident = $asn:literal {
            $( $(#[doc = $bdoc:literal])* $konst:ident = $bit:literal, )*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub BitString);

        impl $name {
            $(
                $(#[doc = $bdoc])*
                pub const $konst: usize = $bit;
            )*

            /// Named bits: (ASN.1 name, position).
            pub const NAMED_BITS: &'static [(&'static str, usize)] = &[$((stringify!($konst), $bit)),*];

            /// The value with `bits` set.
            pub fn with_bits(bits: &[usize]) -> Self {
                let mut s = BitString::default();
                for b in bits {
                    s.set(*b, true);
                }
                $name(s)
            }

            /// Whether bit `n` is set.
            pub fn has(&self, n: usize) -> bool {
                self.0.get(n)
            }
        }

        impl DerValue for $name {
            const TYPE_NAME: &'static str = $asn;
            const CONSTRUCTED: bool = false;
            fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
                BitString::from_content(content, $asn).map($name)
            }
            fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
                self.0.write_content(out);
                Ok(())
            }
        }
    };
}

pub(crate) use named_bits;

/// BIT STRING without named bits (e.g. `UICCCapability`, `treProperties`).
impl DerValue for BitString {
    const TYPE_NAME: &'static str = "BIT STRING";
    const CONSTRUCTED: bool = false;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        BitString::from_content(content, "BIT STRING")
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.write_content(out);
        Ok(())
    }
}

named_bits! {
    /// `EuiccRspCapability` (v3.1; EUICCInfo2 `[8]`, optionally EUICCInfo1 `[8]`). The v2.x
    /// `RspCapability` shares the slot and bit space (bits 26-28 are v2.7 names). Constant
    /// names are the ASN.1 names (C-29).
    pub struct EuiccRspCapability = "EuiccRspCapability" {
        /// additionalProfile
        ADDITIONAL_PROFILE = 0,
        /// loadCrlSupport (v2 `crlSupport`)
        LOAD_CRL_SUPPORT = 1,
        /// rpmSupport
        RPM_SUPPORT = 2,
        /// testProfileSupport
        TEST_PROFILE_SUPPORT = 3,
        /// deviceInfoExtensibilitySupport
        DEVICE_INFO_EXTENSIBILITY_SUPPORT = 4,
        /// serviceSpecificDataSupport
        SERVICE_SPECIFIC_DATA_SUPPORT = 5,
        /// hriServerAddressSupport
        HRI_SERVER_ADDRESS_SUPPORT = 6,
        /// serviceProviderMessageSupport
        SERVICE_PROVIDER_MESSAGE_SUPPORT = 7,
        /// lpaProxySupport
        LPA_PROXY_SUPPORT = 8,
        /// enterpriseProfilesSupport
        ENTERPRISE_PROFILES_SUPPORT = 9,
        /// serviceDescriptionSupport
        SERVICE_DESCRIPTION_SUPPORT = 10,
        /// deviceChangeSupport
        DEVICE_CHANGE_SUPPORT = 11,
        /// encryptedDeviceChangeDataSupport
        ENCRYPTED_DEVICE_CHANGE_DATA_SUPPORT = 12,
        /// estimatedProfileSizeIndicationSupport
        ESTIMATED_PROFILE_SIZE_INDICATION_SUPPORT = 13,
        /// profileSizeInProfilesInfoSupport
        PROFILE_SIZE_IN_PROFILES_INFO_SUPPORT = 14,
        /// crlStaplingV3Support
        CRL_STAPLING_V3_SUPPORT = 15,
        /// certChainV3VerificationSupport
        CERT_CHAIN_V3_VERIFICATION_SUPPORT = 16,
        /// signedSmdsResponseV3Support
        SIGNED_SMDS_RESPONSE_V3_SUPPORT = 17,
        /// euiccRspCapInInfo1
        EUICC_RSP_CAP_IN_INFO1 = 18,
        /// osUpdateSupport
        OS_UPDATE_SUPPORT = 19,
        /// cancelForEmptySpnPnSupport
        CANCEL_FOR_EMPTY_SPN_PN_SUPPORT = 20,
        /// updateNotifConfigInfoSupport
        UPDATE_NOTIF_CONFIG_INFO_SUPPORT = 21,
        /// updateMetadataV3Support
        UPDATE_METADATA_V3_SUPPORT = 22,
        /// v3ObjectsInCtxParamsCASupport
        V3_OBJECTS_IN_CTX_PARAMS_CA_SUPPORT = 23,
        /// pushServiceRegistrationSupport
        PUSH_SERVICE_REGISTRATION_SUPPORT = 24,
        /// iotSpecificMetadataSupport (v2.7 `RspCapability`)
        IOT_SPECIFIC_METADATA_SUPPORT = 26,
        /// mslCheckSupport (v2.7 `RspCapability`)
        MSL_CHECK_SUPPORT = 27,
        /// rspServerTestProfileAllowlistCheckSupport (v2.7 `RspCapability`)
        RSP_SERVER_TEST_PROFILE_ALLOWLIST_CHECK_SUPPORT = 28,
    }
}

named_bits! {
    /// `LpaRspCapability` (LPAd; `InitiateAuthenticationRequest [5]`, `DeviceInfo` tag `85`).
    pub struct LpaRspCapability = "LpaRspCapability" {
        /// crlStaplingV3Support
        CRL_STAPLING_V3_SUPPORT = 0,
        /// certChainV3Support
        CERT_CHAIN_V3_SUPPORT = 1,
        /// apduApiSupport
        APDU_API_SUPPORT = 2,
        /// enterpriseCapableDevice
        ENTERPRISE_CAPABLE_DEVICE = 3,
        /// lpaProxySupport
        LPA_PROXY_SUPPORT = 4,
        /// signedSmdsResponseV3Support
        SIGNED_SMDS_RESPONSE_V3_SUPPORT = 5,
        /// euiccCiUpdateSupport
        EUICC_CI_UPDATE_SUPPORT = 6,
        /// eventCheckingSupport
        EVENT_CHECKING_SUPPORT = 7,
        /// pushServiceSupport
        PUSH_SERVICE_SUPPORT = 8,
        /// pendingOperationAlertingSupport
        PENDING_OPERATION_ALERTING_SUPPORT = 9,
    }
}

named_bits! {
    /// `ServerRspCapability` (`ServerSigned1.serverRspCapability [6]`, C-30).
    pub struct ServerRspCapability = "ServerRspCapability" {
        /// crlStaplingV3Support
        CRL_STAPLING_V3_SUPPORT = 0,
        /// eventListSigningV3Support
        EVENT_LIST_SIGNING_V3_SUPPORT = 1,
        /// pushServiceV3Support
        PUSH_SERVICE_V3_SUPPORT = 2,
        /// cancelForEmptySpnPnSupport
        CANCEL_FOR_EMPTY_SPN_PN_SUPPORT = 3,
        /// cancelForSessionAbortedSupport
        CANCEL_FOR_SESSION_ABORTED_SUPPORT = 4,
    }
}

/// What one side declared in Common Mutual Authentication.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// The eUICC's `EuiccRspCapability`, if received.
    pub euicc: Option<EuiccRspCapability>,
    /// The LPA's `lpaRspCapability`, if received.
    pub lpa: Option<LpaRspCapability>,
    /// The server's `serverRspCapability`, if received.
    pub server: Option<ServerRspCapability>,
    /// Features declared outside these bit strings: what a server implements (RPM, Device
    /// Change, Enterprise, ...), or MEP from a device's `deviceCapabilities`.
    pub other: FeatureSet,
}

/// Which bit of which carrier declares a feature.
enum Carrier {
    Euicc(usize),
    Lpa(usize),
    Server(usize),
}

const FEATURE_BITS: &[(Feature, &[Carrier])] = &[
    (
        Feature::Rpm,
        &[Carrier::Euicc(EuiccRspCapability::RPM_SUPPORT)],
    ),
    (
        Feature::Enterprise,
        &[
            Carrier::Euicc(EuiccRspCapability::ENTERPRISE_PROFILES_SUPPORT),
            Carrier::Lpa(LpaRspCapability::ENTERPRISE_CAPABLE_DEVICE),
        ],
    ),
    (
        Feature::LpaProxy,
        &[
            Carrier::Euicc(EuiccRspCapability::LPA_PROXY_SUPPORT),
            Carrier::Lpa(LpaRspCapability::LPA_PROXY_SUPPORT),
        ],
    ),
    (
        Feature::DeviceChange,
        &[Carrier::Euicc(EuiccRspCapability::DEVICE_CHANGE_SUPPORT)],
    ),
    (
        Feature::EventChecking,
        &[Carrier::Lpa(LpaRspCapability::EVENT_CHECKING_SUPPORT)],
    ),
    (
        Feature::PushService,
        &[
            Carrier::Euicc(EuiccRspCapability::PUSH_SERVICE_REGISTRATION_SUPPORT),
            Carrier::Lpa(LpaRspCapability::PUSH_SERVICE_SUPPORT),
            Carrier::Server(ServerRspCapability::PUSH_SERVICE_V3_SUPPORT),
        ],
    ),
];

impl Capabilities {
    /// Whether any v3 capability carrier is present (`lpaRspCapability` for a device,
    /// `serverRspCapability` for a server). `EuiccRspCapability` alone does not count: v2.x
    /// eUICCs send `RspCapability` in the same slot.
    pub fn has_v3_carrier(&self) -> bool {
        self.lpa.is_some() || self.server.is_some()
    }

    /// The features this side declared: [`Capabilities::other`], plus each feature for which
    /// at least one received carrier has a bit and every received carrier with a bit for it
    /// has that bit set.
    pub fn declared_features(&self) -> FeatureSet {
        let mut set = self.other;
        for (feature, carriers) in FEATURE_BITS {
            let mut seen = false;
            let mut all = true;
            for c in *carriers {
                let bit = match c {
                    Carrier::Euicc(n) => self.euicc.as_ref().map(|v| v.has(*n)),
                    Carrier::Lpa(n) => self.lpa.as_ref().map(|v| v.has(*n)),
                    Carrier::Server(n) => self.server.as_ref().map(|v| v.has(*n)),
                };
                if let Some(b) = bit {
                    seen = true;
                    all &= b;
                }
            }
            if seen && all {
                set.insert(*feature);
            }
        }
        set
    }
}

/// The [`Profile`] to encode for, from both sides' declarations.
///
/// - The version is the lower of `server_svn` and `device_svn`.
/// - A side without a v3 carrier (no `device` at all, no `lpaRspCapability`, or no
///   `serverRspCapability`) is treated as v2: the version is capped below 3.0.0 and no optional
///   feature is used (sgp22.md §3.3, §6).
/// - Otherwise the features are those both sides declared.
pub fn negotiate(
    server: &Capabilities,
    device: Option<&Capabilities>,
    server_svn: Svn,
    device_svn: Svn,
) -> Profile {
    let svn = server_svn.min(device_svn);
    let device = match device {
        Some(d) if d.has_v3_carrier() && server.has_v3_carrier() && svn >= V3_0_0 => d,
        _ => return Profile::new(svn.min(V2_MAX)),
    };
    Profile::new(svn).with_features(
        server
            .declared_features()
            .intersection(device.declared_features()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content<T: DerValue>(v: &T) -> Vec<u8> {
        let mut out = Vec::new();
        let r = v.encode_value(&Profile::new(V3_0_0), &mut out);
        assert!(r.is_ok());
        out
    }

    #[test]
    fn bit_positions_and_minimal_der() {
        // Bits 0 and 2 -> 1010_0000, 5 unused bits.
        let c = ServerRspCapability::with_bits(&[0, 2]);
        assert_eq!(content(&c), [0x05, 0xA0]);
        // Bit 24 (pushServiceRegistrationSupport) -> 4 bytes, 7 unused bits.
        let e =
            EuiccRspCapability::with_bits(&[EuiccRspCapability::PUSH_SERVICE_REGISTRATION_SUPPORT]);
        assert_eq!(content(&e), [0x07, 0x00, 0x00, 0x00, 0x80]);
        // Bit 9 (pendingOperationAlertingSupport) -> second byte 0x40, 6 unused bits.
        let l =
            LpaRspCapability::with_bits(&[LpaRspCapability::PENDING_OPERATION_ALERTING_SUPPORT]);
        assert_eq!(content(&l), [0x06, 0x00, 0x40]);
        // No bit set -> the empty BIT STRING `03 01 00`.
        assert_eq!(content(&LpaRspCapability::default()), [0x00]);
    }

    #[test]
    fn lenient_decode_keeps_unknown_bits() -> Result<(), DecodeError> {
        // Bit 30 is unnamed; the last byte holds only a set padding bit.
        let e = EuiccRspCapability::decode_value(&[0x01, 0x20, 0x00, 0x00, 0x02, 0x01])?;
        assert!(e.has(2) && e.has(30) && !e.has(31));
        assert_eq!(e.0.ones().collect::<Vec<_>>(), [2, 30]);
        assert_eq!(content(&e), [0x01, 0x20, 0x00, 0x00, 0x02]);
        assert!(EuiccRspCapability::decode_value(&[]).is_err());
        assert!(EuiccRspCapability::decode_value(&[0x08, 0xFF]).is_err());
        assert!(EuiccRspCapability::decode_value(&[0x01]).is_err());
        Ok(())
    }

    #[test]
    fn set_and_clear() {
        let mut b = BitString::default();
        b.set(12, true);
        b.set(3, true);
        b.set(12, false);
        assert_eq!(b.ones().collect::<Vec<_>>(), [3]);
        b.set(3, false);
        assert!(b.is_empty());
    }

    fn v3_server() -> Capabilities {
        Capabilities {
            server: Some(ServerRspCapability::with_bits(&[
                ServerRspCapability::CRL_STAPLING_V3_SUPPORT,
            ])),
            other: FeatureSet::of(&[Feature::Rpm, Feature::DeviceChange]),
            ..Capabilities::default()
        }
    }

    #[test]
    fn device_without_lpa_capability_is_v2() {
        let device = Capabilities {
            euicc: Some(EuiccRspCapability::with_bits(&[2, 11])),
            ..Capabilities::default()
        };
        let p = negotiate(
            &v3_server(),
            Some(&device),
            Svn::new(3, 1, 0),
            Svn::new(3, 1, 0),
        );
        assert!(!p.is_v3());
        assert!(p.features.is_empty());
        let p = negotiate(&v3_server(), None, Svn::new(3, 1, 0), Svn::new(2, 2, 2));
        assert_eq!(p, Profile::new(Svn::new(2, 2, 2)));
    }

    #[test]
    fn features_are_those_both_declared() {
        let device = Capabilities {
            euicc: Some(EuiccRspCapability::with_bits(&[
                EuiccRspCapability::RPM_SUPPORT,
                EuiccRspCapability::ENTERPRISE_PROFILES_SUPPORT,
                EuiccRspCapability::PUSH_SERVICE_REGISTRATION_SUPPORT,
            ])),
            lpa: Some(LpaRspCapability::with_bits(&[
                LpaRspCapability::EVENT_CHECKING_SUPPORT,
                LpaRspCapability::PUSH_SERVICE_SUPPORT,
            ])),
            ..Capabilities::default()
        };
        // Enterprise needs the LPA bit too; push needs the server bit; DC needs the eUICC bit.
        assert_eq!(
            device.declared_features(),
            FeatureSet::of(&[Feature::Rpm, Feature::EventChecking, Feature::PushService])
        );
        let p = negotiate(
            &v3_server(),
            Some(&device),
            Svn::new(3, 1, 0),
            Svn::new(3, 0, 0),
        );
        assert_eq!(p.svn, Svn::new(3, 0, 0));
        assert_eq!(p.features, FeatureSet::of(&[Feature::Rpm]));
    }

    #[test]
    fn v2_server_gives_v2_profile() {
        let device = Capabilities {
            lpa: Some(LpaRspCapability::with_bits(&[7])),
            ..Capabilities::default()
        };
        let server = Capabilities::default();
        let p = negotiate(&server, Some(&device), Svn::new(2, 5, 0), Svn::new(3, 1, 0));
        assert_eq!(p, Profile::new(Svn::new(2, 5, 0)));
    }
}
