//! The card's random source: a deterministic hash DRBG seeded at issue time.
//!
//! Output block `n` is `SHA-256("rsp-euicc-drbg" ‖ seed ‖ n)` (n as 8 bytes big-endian). With a fixed
//! seed the card's challenges, derivation randoms and generated keys are reproducible, which is what
//! the tests and `rsp card run --seed N` need; a card issued for real use gets a seed from the OS.
//! The seed and the block counter are part of the card state (sealed in snapshots).

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Seed length in bytes.
pub const SEED_LEN: usize = 32;

/// Deterministic random generator of one card.
#[derive(Clone)]
pub struct CardRng {
    seed: Zeroizing<[u8; SEED_LEN]>,
    counter: u64,
}

impl std::fmt::Debug for CardRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardRng(counter {}, ..)", self.counter)
    }
}

impl CardRng {
    /// A generator from a full seed and its block counter (as restored from a snapshot).
    pub fn from_state(seed: [u8; SEED_LEN], counter: u64) -> Self {
        Self {
            seed: Zeroizing::new(seed),
            counter,
        }
    }

    /// A generator from a short test seed (`CardConfig::rng_seed`): the full seed is
    /// `SHA-256("rsp-euicc-seed" ‖ seed)`.
    pub fn from_u64(seed: u64) -> Self {
        let mut h = Sha256::new();
        h.update(b"rsp-euicc-seed");
        h.update(seed.to_be_bytes());
        Self::from_state(h.finalize().into(), 0)
    }

    /// The seed (secret: sealed in snapshots).
    pub fn seed(&self) -> &[u8; SEED_LEN] {
        &self.seed
    }

    /// Number of blocks produced so far.
    pub fn counter(&self) -> u64 {
        self.counter
    }

    /// Fills `out` with the next bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(32) {
            let mut h = Sha256::new();
            h.update(b"rsp-euicc-drbg");
            h.update(self.seed.as_slice());
            h.update(self.counter.to_be_bytes());
            self.counter = self.counter.wrapping_add(1);
            let block = Zeroizing::new(<[u8; 32]>::from(h.finalize()));
            let n = chunk.len();
            chunk.copy_from_slice(block.get(..n).unwrap_or_default());
        }
    }

    /// `len` fresh bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        self.fill(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_distinct() {
        let mut a = CardRng::from_u64(7);
        let mut b = CardRng::from_u64(7);
        let x = a.bytes(40);
        assert_eq!(x, b.bytes(40));
        assert_ne!(x, a.bytes(40));
        assert_ne!(
            CardRng::from_u64(8).bytes(16),
            CardRng::from_u64(7).bytes(16)
        );
        // The state round-trips.
        let mut c = CardRng::from_state(*a.seed(), a.counter());
        assert_eq!(a.bytes(5), c.bytes(5));
    }
}
