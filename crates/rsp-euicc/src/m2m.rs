//! The simulated SGP.02 M2M eUICC (`sgp02.md` §7, §8, §13–§15).
//!
//! A pure state machine: APDU bytes in, response bytes out ([`M2mCard::process_apdu`]), plus the
//! Default Notifications it wants to send, polled by the driver ([`M2mCard::poll_notification`]),
//! and a few device inputs (network attach, loss of connectivity, the local ESx functions). Time
//! ([`CardTime`]) and randomness (a seeded DRBG, [`rng::CardRng`]) are injected, so runs are
//! reproducible. The card knows no transport: the ES5 transports (`rsp-es5`) unwrap SMS/SCP80 or
//! PSK-TLS with the ISD-R keys ([`M2mCard::isd_r`]) and hand the plain APDUs over.
//!
//! Security domains:
//! - **ECASD**: EID, SK/PK.ECASD.ECKA, CERT.ECASD.ECKA (GP Amendment E, signed by the EUM), PK.CI.
//! - **ISD-R** (`A0000005591010FFFFFFFF8900000100`): creates ISD-Ps, enables/disables/deletes,
//!   moves the Fall-Back and Emergency attributes, enforces POL1, sends Default Notifications and
//!   rolls back when they stay unconfirmed; SCP80/SCP81 key sets for ES5.
//! - **ISD-Ps**: SELECTABLE → (Scenario#3) PERSONALIZED → (SCP03t profile package) DISABLED ↔
//!   ENABLED → deleted; memory quota, owning SM-DP, POL1, test flag.
//!
//! Persistence: [`M2mCard::snapshot`] / [`M2mCard::restore`] (versioned JSON, secrets sealed) and
//! [`CardStore`] (one file per card, atomic writes); [`StoredCard`] saves after every input.
//!
//! # Decisions where the sources are silent (ids from `open-questions.md`)
//! - C-18 / U-17: Scenario#3 signed data `3A02 ‖ 7F49 ‖ 85 L RC` (`rsp_gp::command::signed_data`);
//!   keys = X9.63 split receipt key, ENC, MAC, DEK; DR 16 bytes; SDIN/HostID unsupported; the
//!   `5F37`-less SCP81 variant refused. ISD-R key sets from Scenario#3: key type `88` → SCP80 set
//!   (ENC/MAC/DEK as key ids `k`, `k+1`, `k+2`), `85` → SCP81 (usage `5C` keeps ENC only).
//! - Certificates: role first (`6A80`), then issuer = the CI's key id (`6A88`), then PK.CI signature
//!   (`6982`); validity dates are not checked (the card has no trusted clock).
//! - U-13: POL1 {disable not allowed, delete not allowed, delete when disabled} and the test flag
//!   arrive in `BF25` metadata over SCP03 before the package ([`policy`]); `update_pol1` stands in
//!   for ES6. POL1 refusals answer `69E1` ([`SW_POL1_PREVENTS`]).
//! - U-18: one SCP03t segment per STORE DATA (CLA `80`, extended length as needed); the R-APDU of
//!   each segment is its SCP03 response. Installed memory = package length, within the ISD-P quota.
//! - U-10: sequence numbers from 1, wrapping past 0; 3 attempts of 60 s; a repeated confirmation of a
//!   recent sequence number gets the same answer; C-26: POL1 deletion runs on confirmation.
//! - U-12: `3A05`/`3A06` move the Fall-Back / Emergency attribute (`rsp-gp` table).
//! - U-23: loss of connectivity is an explicit input ([`M2mCard::connectivity_lost`]).
//! - Only one profile change may await confirmation; ES5 enable/disable are refused (`6985`) until
//!   it is confirmed or rolled back. Deletion queues no notification (§8.12 \[INF\]).

mod apdu;
mod card;
pub mod eis;
mod error;
pub mod issue;
mod notification;
mod notify_codec;
pub mod persist;
pub mod policy;
pub mod rng;
pub mod saip;
pub mod scenario3;
pub mod state;
mod time;

pub use card::{
    CardConfig, CardSummary, ConnectivityOutcome, InvariantViolation, IsdPView, KeTarget, M2mCard,
    Selected,
};
pub use error::{CardError, CertRefusal, Pol1Rule, SW_POL1_PREVENTS};
pub use issue::{
    BootstrapProfile, EisKey, EisKeySet, EisSeed, IssueError, IssueOptions, IssuerMaterial,
};
pub use notification::{NotificationType, OutboundNotification, PendingNotification, Rollback};
pub use persist::{CardStore, PersistError, SNAPSHOT_FORMAT, StoredCard};
pub use policy::{Pol1, ProfileClass, ProfileMetadata};
pub use state::{IsdPState, KeySetKind, LocalKind, LocalOverride};
pub use time::CardTime;
