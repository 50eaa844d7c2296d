//! SGP.22 (consumer Remote SIM Provisioning) data model.
//!
//! - [`version`]: the feature-support tags as data ([`Gate`], [`Feature`]) and the [`Profile`]
//!   of a peer (its SVN and the features in use).
//! - [`capability`]: the capability carriers `EuiccRspCapability`, `LpaRspCapability`,
//!   `ServerRspCapability` and [`negotiate`].
//! - [`der`]: DER value codecs on top of [`rsp_types::tlv`], typed errors.
//! - [`gated`]: [`der_sequence!`], one declaration per SEQUENCE giving a tolerant decoder and
//!   one encoder that takes the peer's [`Profile`].
//! - [`types`]: `TransactionId`, `Octet16`, and [`Signed`] (a signed block with its received bytes).
//! - [`messages`]: the RSPDefinitions messages of ES9+, ES10a/b/c and ES8+ declared with
//!   [`der_sequence!`] and [`der_choice!`], re-exported here.

#![forbid(unsafe_code)]

pub mod activation;
pub mod bpp;
pub mod capability;
pub mod cma;
pub mod der;
pub mod es10;
pub mod gated;
pub mod json;
pub mod json_smds;
pub mod messages;
pub mod types;
pub mod version;

#[doc(hidden)]
pub use rsp_types::tlv as __tlv;

pub use capability::{
    BitString, Capabilities, EuiccRspCapability, LpaRspCapability, ServerRspCapability, negotiate,
};
pub use der::{
    Certificate, DecodeError, DerTlv, DerValue, EncodeError, GateViolation, Null, RawContent,
    RawTlv, SeqOf,
};
pub use messages::*;
pub use types::{Octet16, Signed, TransactionId, TransactionIdLengthError};
pub use version::{Feature, FeatureSet, Gate, Profile};
