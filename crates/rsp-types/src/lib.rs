//! Shared vocabulary of rsp, the GSMA eSIM Remote SIM Provisioning platform (SGP.02 M2M and
//! SGP.22 consumer).
//!
//! This crate depends on nothing else in the workspace. It holds:
//! - identifiers, each a validated newtype with `FromStr`, `Display` and serde as text:
//!   [`Eid`] (32 digits, ISO/IEC 7064 MOD 97-10 check digits, C-01), [`Iccid`] (19-20 digits, Luhn,
//!   card form nibble-swapped), [`Aid`] (5-16 bytes, hex), [`Oid`] (dotted, DER content codec),
//!   [`Svn`] (`major.minor.revision`, `X-Admin-Protocol`), [`ProfileType`],
//!   [`FunctionCallIdentifier`], [`ValidityPeriod`];
//! - parties: [`Role`], [`EntityId`], [`Identity`];
//! - function outcome: [`ExecutionStatus`], [`SubjectCode`], [`ReasonCode`], [`StatusCode`],
//!   [`StatusCodeData`], [`FunctionExecutionStatus`], and the code tables in [`codes`];
//! - [`tlv`]: the BER-TLV codec (and GlobalPlatform DGI framing in [`tlv::dgi`]) shared by the
//!   certificate, card command and card simulator code.
//!
//! Parsers never panic: bad input gives a typed error naming what is wrong. Following the project
//! rule "lenient on input, strict on output", parsers accept the variants seen in the wild (an `F`
//! pad after an ICCID, `gsma/rsp/v` before a version, upper-case status values) and `Display`
//! writes exactly one canonical form.

#![forbid(unsafe_code)]

pub mod aid;
pub mod codes;
pub mod eid;
mod hex;
pub mod iccid;
pub mod ids;
pub mod oid;
pub mod role;
mod serde_str;
pub mod status;
pub mod svn;
pub mod tlv;
pub mod validity;

pub use aid::{Aid, AidError};
pub use eid::{Eid, EidError};
pub use iccid::{Iccid, IccidError};
pub use ids::{FunctionCallIdentifier, ProfileType, TextIdError};
pub use oid::{Oid, OidError};
pub use role::{EntityId, Identity, Role, RoleError};
pub use status::{
    DottedCodeError, ExecutionStatus, ExecutionStatusError, FunctionExecutionStatus, ReasonCode,
    StatusCode, StatusCodeData, SubjectCode,
};
pub use svn::{Svn, SvnError};
pub use tlv::{Tag, Tlv, TlvError};
pub use validity::{ValidityPeriod, ValidityPeriodError};
