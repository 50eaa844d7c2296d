//! Default Notifications (SGP.02 §3.15, `sgp02.md` §8.14) the card queues for its driver, and the
//! confirmation bookkeeping (U-10).
//!
//! Each notification gets the next 2-byte sequence number (wrapping, starting at 1). Its first
//! confirmation window opens when it is queued; when the window closes without an
//! `ES5.NotificationConfirmation` the notification is offered again (a new attempt), up to
//! `CardConfig::notification_attempts`; after the last window the card rolls back (see
//! [`Rollback`]).

use rsp_types::{Aid, Iccid};
use serde::{Deserialize, Serialize};

use super::time::CardTime;

/// Notification type (`4D`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationType {
    /// `01`: eUICC declaration (first network attachment).
    EuiccDeclaration,
    /// `02`: profile change succeeded.
    ProfileChangeSucceeded,
    /// `03`: profile change failed and rolled back.
    ProfileChangeRolledBack,
    /// `05`: profile change after fall-back.
    FallBack,
}

impl NotificationType {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            Self::EuiccDeclaration => 0x01,
            Self::ProfileChangeSucceeded => 0x02,
            Self::ProfileChangeRolledBack => 0x03,
            Self::FallBack => 0x05,
        }
    }
}

/// A Default Notification handed to the driver to send (MO-SMS or HTTPS POST).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundNotification {
    /// Sequence number (`4E`).
    pub seq: u16,
    /// Type (`4D`).
    pub kind: NotificationType,
    /// AID of the ISD-P of the enabled profile.
    pub isd_p_aid: Option<Aid>,
    /// ICCID of the enabled profile.
    pub iccid: Option<Iccid>,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// The encoded notification (`E1 { 4C, 4D, 4E, 4F }`).
    pub payload: Vec<u8>,
}

/// What the card undoes when a notification is never confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Rollback {
    /// Nothing (declaration, fall-back).
    None,
    /// Re-enable `previous` (or nothing) instead of `current` (profile change by enable/disable).
    ToPrevious {
        /// The profile enabled by the change.
        current: Aid,
        /// The profile enabled before it.
        previous: Option<Aid>,
    },
    /// Run the fall-back mechanism (the roll-back itself was not confirmed).
    FallBack,
}

/// A notification waiting for its confirmation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingNotification {
    /// Sequence number.
    pub seq: u16,
    /// Type.
    pub kind: NotificationType,
    /// ISD-P of the enabled profile.
    pub isd_p_aid: Option<Aid>,
    /// Its ICCID.
    pub iccid: Option<Iccid>,
    /// The encoded notification.
    pub payload: Vec<u8>,
    /// Attempts made (windows opened).
    pub attempts: u32,
    /// End of the current confirmation window.
    pub deadline: CardTime,
    /// Whether the driver still has to take the current attempt.
    pub awaiting_send: bool,
    /// What to undo when no confirmation comes.
    pub rollback: Rollback,
    /// ISD-Ps to delete once confirmed (POL1 "delete when disabled", C-26).
    pub delete_on_confirm: Vec<Aid>,
}

impl PendingNotification {
    /// Whether this notification reports a profile change that can still be rolled back.
    pub fn is_change(&self) -> bool {
        !matches!(self.rollback, Rollback::None)
    }
}
