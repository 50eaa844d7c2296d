//! Timestamp representation: signed 64-bit microseconds since the Unix epoch (UTC) in both
//! backends (`INTEGER` in SQLite, `BIGINT` in PostgreSQL). It sorts correctly, compares in
//! SQL without conversions, and round-trips exactly at microsecond precision (finer parts of
//! an `OffsetDateTime` are truncated towards the past).

use time::{Duration, OffsetDateTime};

use crate::StoreError;

/// Converts a time to stored microseconds.
pub fn to_micros(t: OffsetDateTime) -> Result<i64, StoreError> {
    let us = t.unix_timestamp_nanos().div_euclid(1000);
    i64::try_from(us).map_err(|_| StoreError::InvalidInput(format!("time {t} out of range")))
}

/// Converts stored microseconds back to a UTC time.
pub fn from_micros(us: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|_| StoreError::Corrupt(format!("timestamp {us} out of range")))
}

/// Lease expiry `now + lease_for` in stored microseconds; the lease must be positive.
pub fn lease_until(now: OffsetDateTime, lease_for: Duration) -> Result<i64, StoreError> {
    if !lease_for.is_positive() {
        return Err(StoreError::InvalidInput(format!(
            "lease duration {lease_for} must be positive"
        )));
    }
    let until = now
        .checked_add(lease_for)
        .ok_or_else(|| StoreError::InvalidInput("lease expiry out of range".into()))?;
    to_micros(until)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_trip_and_truncate() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let us = to_micros(t).unwrap();
        assert_eq!(us, 1_700_000_000_123_456);
        assert_eq!(
            from_micros(us).unwrap(),
            OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap()
        );
        // Before the epoch, truncation goes towards the past so order is kept.
        let before = OffsetDateTime::from_unix_timestamp_nanos(-1).unwrap();
        assert_eq!(to_micros(before).unwrap(), -1);
    }

    #[test]
    fn lease_must_be_positive() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert!(matches!(
            lease_until(now, Duration::ZERO),
            Err(StoreError::InvalidInput(_))
        ));
        assert_eq!(lease_until(now, Duration::seconds(2)).unwrap(), 2_000_000);
    }

    #[test]
    fn stored_value_out_of_range_is_corrupt() {
        assert!(matches!(from_micros(i64::MAX), Err(StoreError::Corrupt(_))));
    }
}
