//! Key derivation functions.
//!
//! - [`x963_kdf_sha256`]: ANSI X9.63 KDF with SHA-256 (BSI TR-03111 §4.3.3; NIST SP 800-135 §4.1):
//!   `K = H(Z ‖ 00000001 ‖ SharedInfo) ‖ H(Z ‖ 00000002 ‖ SharedInfo) ‖ …`, truncated. Used by SGP.02
//!   Scenario#3 (GP Amendment E) and by SGP.22 BSP.
//! - [`scp03_kdf`]: the GlobalPlatform SCP03 data derivation (Amendment D §4.1.5): NIST SP 800-108 KDF
//!   in counter mode with AES-CMAC as PRF and the fixed input
//!   `label (11 × 00 ‖ derivation constant) ‖ 00 ‖ L (2 bytes, bits) ‖ i (1 byte) ‖ context`.
//! - Scenario#3 (GP Amendment E, SGP.02 §3.1.2): the SharedInfo layout, the split of the derived key
//!   data into receipt key, Key-ENC, Key-MAC and Key-DEK, and the receipt.

use sha2::{Digest, Sha256};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::aes::{AesError, AesKey, BLOCK_LEN, Block};

/// SHA-256 output length, the X9.63 block size.
pub const SHA256_LEN: usize = 32;

/// Errors from key derivation.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum KdfError {
    /// The shared secret Z is empty.
    #[error("the shared secret is empty")]
    EmptySharedSecret,
    /// The requested output length is zero or beyond what the KDF's counter can produce.
    #[error("requested key data length {0} is not supported by this KDF")]
    InvalidOutputLength(usize),
    /// A length-prefixed SharedInfo field does not fit its one-byte length.
    #[error("SharedInfo field `{field}` is {len} bytes; at most 255 fit a one-byte length")]
    FieldTooLong {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A key given to the KDF is not a valid AES key.
    #[error("invalid AES key: {0}")]
    Aes(#[from] AesError),
}

/// ANSI X9.63 KDF with SHA-256: fills `out` from shared secret `z` and `shared_info`.
///
/// The 32-bit big-endian counter starts at `00000001`.
pub fn x963_kdf_sha256(z: &[u8], shared_info: &[u8], out: &mut [u8]) -> Result<(), KdfError> {
    if z.is_empty() {
        return Err(KdfError::EmptySharedSecret);
    }
    let blocks = out.len().div_ceil(SHA256_LEN);
    if out.is_empty() || u32::try_from(blocks).is_err() {
        return Err(KdfError::InvalidOutputLength(out.len()));
    }
    let mut prefix = Sha256::new();
    prefix.update(z);
    for (index, chunk) in out.chunks_mut(SHA256_LEN).enumerate() {
        let counter = u32::try_from(index + 1).map_err(|_| KdfError::InvalidOutputLength(0))?;
        let mut h = prefix.clone();
        h.update(counter.to_be_bytes());
        h.update(shared_info);
        let digest = Zeroizing::new(<[u8; SHA256_LEN]>::from(h.finalize()));
        chunk.copy_from_slice(digest.get(..chunk.len()).unwrap_or_default());
    }
    Ok(())
}

/// ANSI X9.63 KDF with SHA-256, returning `len` bytes of key data.
pub fn x963_kdf_sha256_vec(
    z: &[u8],
    shared_info: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, KdfError> {
    let mut out = Zeroizing::new(vec![0u8; len]);
    x963_kdf_sha256(z, shared_info, &mut out)?;
    Ok(out)
}

/// GlobalPlatform SCP03 data derivation constants (Amendment D Table 4-1).
pub mod ddc {
    /// Card cryptogram.
    pub const CARD_CRYPTOGRAM: u8 = 0x00;
    /// Host cryptogram.
    pub const HOST_CRYPTOGRAM: u8 = 0x01;
    /// Pseudo-random card challenge.
    pub const CARD_CHALLENGE: u8 = 0x02;
    /// S-ENC session key.
    pub const S_ENC: u8 = 0x04;
    /// S-MAC session key.
    pub const S_MAC: u8 = 0x06;
    /// S-RMAC session key.
    pub const S_RMAC: u8 = 0x07;
}

/// GlobalPlatform SCP03 KDF: fills `out` (L = `out.len() * 8` bits) from `key`, the derivation
/// constant and the context.
///
/// The fixed input per PRF call is `00 × 11 ‖ constant ‖ 00 ‖ L (16 bits) ‖ i ‖ context`, `i` counting
/// from 1; output blocks are AES-CMAC results concatenated and truncated. No heap allocation.
pub fn scp03_kdf(
    key: &AesKey,
    derivation_constant: u8,
    context: &[u8],
    out: &mut [u8],
) -> Result<(), KdfError> {
    let bits = out.len().checked_mul(8);
    let l = match bits.and_then(|b| u16::try_from(b).ok()) {
        Some(l) if l > 0 && out.len().div_ceil(BLOCK_LEN) <= 255 => l,
        _ => return Err(KdfError::InvalidOutputLength(out.len())),
    };
    let mut fixed: Block = [0u8; BLOCK_LEN];
    fixed[11] = derivation_constant;
    // fixed[12] = 00 separation indicator
    fixed[13..15].copy_from_slice(&l.to_be_bytes());
    for (index, chunk) in out.chunks_mut(BLOCK_LEN).enumerate() {
        fixed[15] = u8::try_from(index + 1).map_err(|_| KdfError::InvalidOutputLength(0))?;
        let block = Zeroizing::new(key.cmac_parts(&[&fixed, context]));
        chunk.copy_from_slice(block.get(..chunk.len()).unwrap_or_default());
    }
    Ok(())
}

/// GlobalPlatform SCP03 KDF with a raw key, returning `len` bytes.
pub fn scp03_kdf_vec(
    key: &[u8],
    derivation_constant: u8,
    context: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, KdfError> {
    let key = AesKey::new(key)?;
    let mut out = Zeroizing::new(vec![0u8; len]);
    scp03_kdf(&key, derivation_constant, context, &mut out)?;
    Ok(out)
}

/// Key usage qualifier `10` of the Scenario#3 CRT (`95`): a 3-key SCP03 key set (SGP.02 §14.2).
pub const KEY_USAGE_SCP03_KEY_SET: u8 = 0x10;
/// Key usage qualifier `5C`: a single key (SGP.02 §14.2).
pub const KEY_USAGE_SINGLE_KEY: u8 = 0x5C;
/// GlobalPlatform key type AES (`80 01 88` in the CRT).
pub const KEY_TYPE_AES: u8 = 0x88;

/// Inputs of the Scenario#3 SharedInfo (GP Amendment A Table 3-28, GP Amendment E; SGP.02 §14.3).
///
/// Encoded as `key usage ‖ key type ‖ key length ‖ [DR] ‖ [L ‖ HostID] ‖ [L ‖ SIN ‖ L ‖ SDIN]`,
/// all lengths one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario3SharedInfo<'a> {
    /// Key usage qualifier (CRT tag `95`), e.g. [`KEY_USAGE_SCP03_KEY_SET`].
    pub key_usage: u8,
    /// Key type (CRT tag `80`), e.g. [`KEY_TYPE_AES`].
    pub key_type: u8,
    /// Key length in bytes (CRT tag `81`), e.g. 16.
    pub key_length: u8,
    /// Derivation Random from the card, when the scenario parameter requests it.
    pub derivation_random: Option<&'a [u8]>,
    /// HostID (CRT tag `84`), when the scenario parameter includes it.
    pub host_id: Option<&'a [u8]>,
    /// SIN and SDIN (CRT tag `45`), when the scenario parameter includes them.
    pub sin_sdin: Option<(&'a [u8], &'a [u8])>,
}

impl Scenario3SharedInfo<'_> {
    /// The SharedInfo byte string.
    pub fn encode(&self) -> Result<Vec<u8>, KdfError> {
        let mut out = vec![self.key_usage, self.key_type, self.key_length];
        if let Some(dr) = self.derivation_random {
            out.extend_from_slice(dr);
        }
        if let Some(host_id) = self.host_id {
            push_lv(&mut out, "HostID", host_id)?;
        }
        if let Some((sin, sdin)) = self.sin_sdin {
            push_lv(&mut out, "SIN", sin)?;
            push_lv(&mut out, "SDIN", sdin)?;
        }
        Ok(out)
    }
}

fn push_lv(out: &mut Vec<u8>, field: &'static str, value: &[u8]) -> Result<(), KdfError> {
    let len = u8::try_from(value.len()).map_err(|_| KdfError::FieldTooLong {
        field,
        len: value.len(),
    })?;
    out.push(len);
    out.extend_from_slice(value);
    Ok(())
}

/// Keys derived by Scenario#3 for an SCP03 key set.
///
/// Order in the X9.63 output (U-17, project decision): receipt key, Key-ENC, Key-MAC, Key-DEK, each
/// `key_length` bytes.
pub struct Scenario3Keys {
    /// Key used once to compute the receipt.
    pub receipt_key: Zeroizing<Vec<u8>>,
    /// Static SCP03 Key-ENC.
    pub enc: Zeroizing<Vec<u8>>,
    /// Static SCP03 Key-MAC.
    pub mac: Zeroizing<Vec<u8>>,
    /// Static SCP03 Key-DEK.
    pub dek: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Scenario3Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scenario3Keys({} bytes each, ..)", self.enc.len())
    }
}

/// Derives the Scenario#3 SCP03 key set from the shared secret ShS.
///
/// `info.key_length` must be 16, 24 or 32.
pub fn derive_scenario3_keys(
    shared_secret: &[u8],
    info: &Scenario3SharedInfo<'_>,
) -> Result<Scenario3Keys, KdfError> {
    let n = usize::from(info.key_length);
    if !matches!(n, 16 | 24 | 32) {
        return Err(KdfError::Aes(AesError::InvalidKeyLength(n)));
    }
    let shared_info = info.encode()?;
    let data = x963_kdf_sha256_vec(shared_secret, &shared_info, 4 * n)?;
    let part = |i: usize| Zeroizing::new(data.get(i * n..(i + 1) * n).unwrap_or_default().to_vec());
    Ok(Scenario3Keys {
        receipt_key: part(0),
        enc: part(1),
        mac: part(2),
        dek: part(3),
    })
}

/// The Scenario#3 receipt: AES-CMAC (16 bytes) with the receipt key over the `A6` CRT TLV, followed
/// by `85 L DR` when a Derivation Random was produced (GP Amendment E Table 4-22; SGP.02 §14.3).
pub fn scenario3_receipt(
    receipt_key: &[u8],
    crt_a6_tlv: &[u8],
    derivation_random: Option<&[u8]>,
) -> Result<Block, KdfError> {
    let key = AesKey::new(receipt_key)?;
    Ok(match derivation_random {
        Some(dr) => {
            let len = u8::try_from(dr.len()).map_err(|_| KdfError::FieldTooLong {
                field: "DR",
                len: dr.len(),
            })?;
            key.cmac_parts(&[crt_a6_tlv, &[0x85, len], dr])
        }
        None => key.cmac(crt_a6_tlv),
    })
}

/// Verifies a Scenario#3 receipt in constant time.
pub fn verify_scenario3_receipt(
    receipt_key: &[u8],
    crt_a6_tlv: &[u8],
    derivation_random: Option<&[u8]>,
    receipt: &[u8],
) -> Result<bool, KdfError> {
    let expected = scenario3_receipt(receipt_key, crt_a6_tlv, derivation_random)?;
    Ok(crate::aes::ct_eq(&expected, receipt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x963_counter_layout() {
        // The first block is SHA-256(Z ‖ 00000001 ‖ SharedInfo), by definition.
        let out = x963_kdf_sha256_vec(b"zz", b"info", 40).unwrap();
        let first: [u8; 32] = Sha256::digest(b"zz\x00\x00\x00\x01info").into();
        let second: [u8; 32] = Sha256::digest(b"zz\x00\x00\x00\x02info").into();
        assert_eq!(&out[..32], &first);
        assert_eq!(&out[32..], &second[..8]);
        assert_eq!(
            x963_kdf_sha256_vec(b"", b"", 16).unwrap_err(),
            KdfError::EmptySharedSecret
        );
        assert_eq!(
            x963_kdf_sha256_vec(b"z", b"", 0).unwrap_err(),
            KdfError::InvalidOutputLength(0)
        );
    }

    #[test]
    fn scp03_kdf_fixed_input_layout() {
        // One block: CMAC(key, 00*11 ‖ c ‖ 00 ‖ L ‖ 01 ‖ ctx), by definition.
        let key = AesKey::new(&[7u8; 16]).unwrap();
        let mut out = [0u8; 8];
        scp03_kdf(&key, 0x02, b"ctx", &mut out).unwrap();
        let mut fixed = vec![0u8; 11];
        fixed.extend_from_slice(&[0x02, 0x00, 0x00, 0x40, 0x01]);
        fixed.extend_from_slice(b"ctx");
        assert_eq!(out, key.cmac(&fixed)[..8]);
        let mut none = [0u8; 0];
        assert!(scp03_kdf(&key, 0, b"", &mut none).is_err());
    }

    #[test]
    fn scenario3_shared_info_layout() {
        let info = Scenario3SharedInfo {
            key_usage: KEY_USAGE_SCP03_KEY_SET,
            key_type: KEY_TYPE_AES,
            key_length: 16,
            derivation_random: Some(&[0xD1, 0xD2]),
            host_id: Some(b"HID"),
            sin_sdin: Some((&[0x51], &[0x5D, 0x5E])),
        };
        assert_eq!(
            info.encode().unwrap(),
            [
                0x10, 0x88, 0x10, 0xD1, 0xD2, 3, b'H', b'I', b'D', 1, 0x51, 2, 0x5D, 0x5E
            ]
        );
        let keys = derive_scenario3_keys(&[1u8; 32], &info).unwrap();
        let raw = x963_kdf_sha256_vec(&[1u8; 32], &info.encode().unwrap(), 64).unwrap();
        assert_eq!(&keys.receipt_key[..], &raw[..16]);
        assert_eq!(&keys.enc[..], &raw[16..32]);
        assert_eq!(&keys.mac[..], &raw[32..48]);
        assert_eq!(&keys.dek[..], &raw[48..]);
        let crt = [0xA6, 0x03, 0x90, 0x01, 0x03];
        let r = scenario3_receipt(&keys.receipt_key, &crt, Some(&[9; 16])).unwrap();
        assert!(verify_scenario3_receipt(&keys.receipt_key, &crt, Some(&[9; 16]), &r).unwrap());
        assert!(!verify_scenario3_receipt(&keys.receipt_key, &crt, None, &r).unwrap());
    }
}
