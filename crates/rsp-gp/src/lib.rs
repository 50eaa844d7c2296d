//! GlobalPlatform card commands as SGP.02 uses them. Pure: bytes in, typed values out, and back.
//!
//! One encoder and one parser, shared by the servers (SM-SR, SM-DP) and the simulated M2M eUICC:
//! - [`apdu`]: [`CommandApdu`] (ISO/IEC 7816 cases 1-4, short and extended) and [`ResponseApdu`];
//! - [`sw`]: [`StatusWord`] with the values cards return;
//! - [`command`]: [`CardCommand`], every command SGP.02 sends to an M2M eUICC (INSTALL, STORE DATA
//!   `3A01`..`3A08`, DELETE, GET STATUS, GET DATA, SELECT), and the Scenario#3 signed-data and
//!   receipt-input layouts (C-18);
//! - [`response`]: typed card responses (GET STATUS `E3`, EID, ECASD certificate, card resources,
//!   Scenario#3 RC / DR / receipt, NotificationConfirmation `80 { 4F … }`);
//! - [`notification`]: the Default Notification `E1 { 4C, 4D, 4E, 4F, … }`;
//! - [`script`]: ETSI TS 102 226 remote command scripts, expanded (`AA`/`AB`, as GP RAM over HTTP
//!   carries them) and compact (SMS).
//!
//! BER-TLV and DGI framing come from [`rsp_types::tlv`]; this crate has no TLV parser of its own.
//!
//! ```
//! use rsp_gp::{CardCommand, Script, StatusWord, ResponseApdu};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let isd_p: rsp_types::Aid = "A0000005591010FFFFFFFF8900001100".parse()?;
//! // SM-SR side: ES5.EnableProfile in an expanded script.
//! let script = Script::from_commands(&[CardCommand::enable_profile(isd_p)])?;
//! let body = script.encode()?;
//! // Card side: parse the script, then each command with the same codec.
//! let received = Script::parse(&body)?;
//! let response = received.execute(|apdu| match CardCommand::parse(apdu) {
//!     Ok(CardCommand::StoreData(_)) => ResponseApdu::status(StatusWord::SUCCESS),
//!     Ok(_) => ResponseApdu::status(StatusWord::CONDITIONS_NOT_SATISFIED),
//!     Err(e) => ResponseApdu::status(e.status_word()),
//! });
//! assert!(response.completed(1));
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub mod apdu;
pub mod card;
pub mod command;
pub mod notification;
pub mod response;
pub mod script;
pub mod sw;

pub use apdu::{ApduCase, ApduError, Cla, CommandApdu, ResponseApdu};
pub use card::ApduCard;
pub use command::{
    CardCommand, CommandError, Delete, GetData, GetStatus, InstallForInstall,
    InstallForPersonalization, InstallParameters, KeyAgreement, KeyAgreementCrt, KeyAgreementRaw,
    Privileges, PublicKeyDo, ScpParameters, Select, StatusScope, StoreData, StoreDataContent,
};
pub use notification::{DefaultNotification, NotificationType};
pub use response::{
    CardResources, IsdPProperties, IsdPStatus, KeyAgreementResponse, LifeCycleState,
    NotificationConfirmationResponse, ResponseError,
};
pub use script::{CompactScript, CompactScriptResponse, Script, ScriptError, ScriptResponse};
pub use sw::StatusWord;
