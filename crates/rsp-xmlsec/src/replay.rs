//! The replay cache: a signed MessageID is accepted once within its freshness window.
//!
//! In memory and per process. Several nodes behind one address each keep their own cache; a message replayed to
//! another node within the window is still caught by the store-backed idempotency on (caller,
//! FunctionCallIdentifier), which answers the stored response instead of executing twice.

use std::collections::HashMap;
use std::sync::Mutex;

use time::OffsetDateTime;

/// Default number of remembered messages.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Why a message was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// Seen before within the window.
    #[error("message {0} already seen")]
    Replayed(String),
    /// The cache is full of unexpired entries (fails closed).
    #[error("replay cache full")]
    Full,
}

/// MessageIDs seen, each until its window ends.
#[derive(Debug)]
pub struct ReplayCache {
    seen: Mutex<HashMap<String, OffsetDateTime>>,
    capacity: usize,
}

impl Default for ReplayCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl ReplayCache {
    /// A cache remembering at most `capacity` messages.
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Records `key` (signer and MessageID) until `until`; refuses a key already recorded and not yet expired.
    pub fn check_and_record(
        &self,
        key: &str,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), ReplayError> {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(t) = seen.get(key)
            && *t >= now
        {
            return Err(ReplayError::Replayed(key.to_string()));
        }
        if seen.len() >= self.capacity {
            seen.retain(|_, t| *t >= now);
            if seen.len() >= self.capacity {
                return Err(ReplayError::Full);
            }
        }
        seen.insert(key.to_string(), until);
        Ok(())
    }

    /// How many entries are held (expired ones included until the next purge).
    pub fn len(&self) -> usize {
        self.seen.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::Duration;

    #[test]
    fn refuses_within_the_window_and_forgets_after() {
        let cache = ReplayCache::new(2);
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let until = t0 + Duration::minutes(5);
        cache.check_and_record("a", until, t0).unwrap();
        assert_eq!(
            cache.check_and_record("a", until, t0 + Duration::minutes(4)),
            Err(ReplayError::Replayed("a".into()))
        );
        // After the window the same key is fresh again (its Timestamp would be refused anyway).
        cache
            .check_and_record(
                "a",
                until + Duration::minutes(10),
                t0 + Duration::minutes(6),
            )
            .unwrap();
        cache.check_and_record("b", until, t0).unwrap();
        // Full of live entries: fails closed.
        assert_eq!(
            cache.check_and_record("c", until, t0),
            Err(ReplayError::Full)
        );
        // Expired entries are purged to make room.
        cache
            .check_and_record("c", until + Duration::hours(1), t0 + Duration::minutes(30))
            .unwrap();
    }
}
