//! The card's notion of time: injected by the driver, never read from the system inside the card.

use serde::{Deserialize, Serialize};

/// A point in time, in whole seconds since the Unix epoch (UTC).
///
/// The card has no clock of its own: every input that can start or end a timer (`process_apdu_at`,
/// `handle_timeout`, `connectivity_lost`, ...) carries the current time, so tests drive it freely.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct CardTime(pub u64);

impl CardTime {
    /// The time `seconds` later (saturating).
    pub fn plus_secs(self, seconds: u64) -> CardTime {
        CardTime(self.0.saturating_add(seconds))
    }

    /// The given system time (times before the epoch become 0).
    pub fn from_system(t: std::time::SystemTime) -> CardTime {
        CardTime(
            t.duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        )
    }

    /// The system clock, for drivers (the card itself never calls this).
    pub fn now() -> CardTime {
        Self::from_system(std::time::SystemTime::now())
    }
}

impl std::fmt::Display for CardTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t={}s", self.0)
    }
}
