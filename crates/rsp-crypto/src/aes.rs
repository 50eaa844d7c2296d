//! AES block operations used by SCP03, SCP03t and SGP.22 BSP: single-block ECB, CBC with or without
//! ISO/IEC 9797-1 padding method 2 (`80 00 …`, GlobalPlatform's padding), and AES-CMAC
//! (NIST SP 800-38B / RFC 4493), full 16 bytes or truncated to the 8 leftmost bytes.
//!
//! [`AesKey`] holds the expanded key schedule once, so a CBC or CMAC call costs no key expansion and
//! no heap allocation; keys are wiped on drop (RustCrypto `zeroize` feature). AES-128, -192 and -256
//! are supported everywhere. The free functions take raw key bytes for one-off use.

use std::fmt;

use ::aes::cipher::block_padding::NoPadding;
use ::aes::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit,
    KeyInit,
};
use ::aes::{Aes128, Aes192, Aes256};
use cmac::{Cmac, Mac};
use thiserror::Error;

/// The AES block length in bytes.
pub const BLOCK_LEN: usize = 16;
/// Length of a CMAC truncated to its leftmost 8 bytes (SCP03 S8 mode, BSP C-MAC).
pub const CMAC8_LEN: usize = 8;

/// One AES block.
pub type Block = [u8; BLOCK_LEN];

/// Errors from AES operations.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum AesError {
    /// The key is not 16, 24 or 32 bytes long.
    #[error("AES key must be 16, 24 or 32 bytes long, got {0}")]
    InvalidKeyLength(usize),
    /// The IV is not 16 bytes long.
    #[error("AES-CBC IV must be 16 bytes long, got {0}")]
    InvalidIvLength(usize),
    /// Data for an unpadded operation is not a whole number of blocks.
    #[error("data length {0} is not a multiple of the 16-byte AES block")]
    NotBlockAligned(usize),
    /// Decrypted data does not end in a valid `80 00 … 00` padding.
    #[error("padding is not ISO/IEC 9797-1 method 2 (80 00 .. 00)")]
    BadPadding,
}

#[derive(Clone)]
enum Schedule {
    A128(Aes128, Cmac<Aes128>),
    A192(Aes192, Cmac<Aes192>),
    A256(Aes256, Cmac<Aes256>),
}

/// Runs `$body` with `$c` bound to the block cipher and `$m` to the CMAC prototype of the key.
macro_rules! with_schedule {
    ($key:expr, $c:ident, $m:ident => $body:expr) => {
        match &$key.schedule {
            Schedule::A128($c, $m) => $body,
            Schedule::A192($c, $m) => $body,
            Schedule::A256($c, $m) => $body,
        }
    };
}

/// An expanded AES key (128, 192 or 256 bits), ready for ECB, CBC and CMAC.
///
/// Cloning copies the key schedule; dropping wipes it. `Debug` never shows key material.
#[derive(Clone)]
pub struct AesKey {
    schedule: Schedule,
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AesKey(AES-{}, ..)", self.bits())
    }
}

impl AesKey {
    /// Expands a 16-, 24- or 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self, AesError> {
        let bad = || AesError::InvalidKeyLength(key.len());
        let schedule = match key.len() {
            16 => Schedule::A128(
                Aes128::new_from_slice(key).map_err(|_| bad())?,
                <Cmac<Aes128> as KeyInit>::new_from_slice(key).map_err(|_| bad())?,
            ),
            24 => Schedule::A192(
                Aes192::new_from_slice(key).map_err(|_| bad())?,
                <Cmac<Aes192> as KeyInit>::new_from_slice(key).map_err(|_| bad())?,
            ),
            32 => Schedule::A256(
                Aes256::new_from_slice(key).map_err(|_| bad())?,
                <Cmac<Aes256> as KeyInit>::new_from_slice(key).map_err(|_| bad())?,
            ),
            n => return Err(AesError::InvalidKeyLength(n)),
        };
        Ok(Self { schedule })
    }

    /// Key length in bytes (16, 24 or 32).
    pub fn len(&self) -> usize {
        self.bits() / 8
    }

    /// Always `false`: an AES key is never empty. Present for API symmetry with [`Self::len`].
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Key length in bits (128, 192 or 256).
    pub fn bits(&self) -> usize {
        match self.schedule {
            Schedule::A128(..) => 128,
            Schedule::A192(..) => 192,
            Schedule::A256(..) => 256,
        }
    }

    /// Encrypts one block in place (AES-ECB on a single block).
    pub fn encrypt_block(&self, block: &mut Block) {
        with_schedule!(self, c, _m => c.encrypt_block(block.into()))
    }

    /// Decrypts one block in place.
    pub fn decrypt_block(&self, block: &mut Block) {
        with_schedule!(self, c, _m => c.decrypt_block(block.into()))
    }

    /// AES-ECB encryption of whole blocks, in place.
    pub fn ecb_encrypt_in_place(&self, data: &mut [u8]) -> Result<(), AesError> {
        check_aligned(data.len())?;
        for chunk in data.chunks_exact_mut(BLOCK_LEN) {
            with_schedule!(self, c, _m => c.encrypt_block(chunk.try_into().map_err(|_| AesError::NotBlockAligned(BLOCK_LEN))?));
        }
        Ok(())
    }

    /// AES-ECB decryption of whole blocks, in place.
    pub fn ecb_decrypt_in_place(&self, data: &mut [u8]) -> Result<(), AesError> {
        check_aligned(data.len())?;
        for chunk in data.chunks_exact_mut(BLOCK_LEN) {
            with_schedule!(self, c, _m => c.decrypt_block(chunk.try_into().map_err(|_| AesError::NotBlockAligned(BLOCK_LEN))?));
        }
        Ok(())
    }

    /// AES-CBC encryption of whole blocks (no padding), in place.
    pub fn cbc_encrypt_in_place(&self, iv: &Block, data: &mut [u8]) -> Result<(), AesError> {
        check_aligned(data.len())?;
        let len = data.len();
        with_schedule!(self, c, _m => {
            cbc::Encryptor::inner_iv_init(c.clone(), iv.into())
                .encrypt_padded::<NoPadding>(data, len)
                .map(|_| ())
                .map_err(|_| AesError::NotBlockAligned(len))
        })
    }

    /// AES-CBC decryption of whole blocks (no padding), in place.
    pub fn cbc_decrypt_in_place(&self, iv: &Block, data: &mut [u8]) -> Result<(), AesError> {
        check_aligned(data.len())?;
        let len = data.len();
        with_schedule!(self, c, _m => {
            cbc::Decryptor::inner_iv_init(c.clone(), iv.into())
                .decrypt_padded::<NoPadding>(data)
                .map(|_| ())
                .map_err(|_| AesError::NotBlockAligned(len))
        })
    }

    /// AES-CBC encryption without padding; `iv` must be 16 bytes, `data` whole blocks.
    pub fn cbc_encrypt(&self, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, AesError> {
        let iv = to_iv(iv)?;
        let mut out = data.to_vec();
        self.cbc_encrypt_in_place(&iv, &mut out)?;
        Ok(out)
    }

    /// AES-CBC decryption without padding removal.
    pub fn cbc_decrypt(&self, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, AesError> {
        let iv = to_iv(iv)?;
        let mut out = data.to_vec();
        self.cbc_decrypt_in_place(&iv, &mut out)?;
        Ok(out)
    }

    /// Pads `data` with ISO/IEC 9797-1 method 2 (always at least one byte) and AES-CBC encrypts it.
    pub fn cbc_encrypt_padded(&self, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, AesError> {
        let iv = to_iv(iv)?;
        let mut out = Vec::with_capacity(padded_len(data.len()));
        out.extend_from_slice(data);
        pad_m2(&mut out);
        self.cbc_encrypt_in_place(&iv, &mut out)?;
        Ok(out)
    }

    /// AES-CBC decrypts and removes ISO/IEC 9797-1 method 2 padding.
    pub fn cbc_decrypt_padded(&self, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, AesError> {
        let mut out = self.cbc_decrypt(iv, data)?;
        let len = unpad_m2(&out)?.len();
        out.truncate(len);
        Ok(out)
    }

    /// AES-CMAC (full 16 bytes) over `data`.
    pub fn cmac(&self, data: &[u8]) -> Block {
        self.cmac_parts(&[data])
    }

    /// AES-CMAC over the concatenation of `parts`, without building the concatenation.
    pub fn cmac_parts(&self, parts: &[&[u8]]) -> Block {
        with_schedule!(self, _c, m => {
            let mut mac = m.clone();
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().into()
        })
    }

    /// AES-CMAC truncated to its leftmost 8 bytes.
    pub fn cmac8(&self, data: &[u8]) -> [u8; CMAC8_LEN] {
        truncate8(&self.cmac(data))
    }
}

/// The leftmost 8 bytes of a block (the S8 truncation of a CMAC).
pub fn truncate8(block: &Block) -> [u8; CMAC8_LEN] {
    let mut out = [0u8; CMAC8_LEN];
    out.copy_from_slice(&block[..CMAC8_LEN]);
    out
}

fn check_aligned(len: usize) -> Result<(), AesError> {
    if len.is_multiple_of(BLOCK_LEN) {
        Ok(())
    } else {
        Err(AesError::NotBlockAligned(len))
    }
}

fn to_iv(iv: &[u8]) -> Result<Block, AesError> {
    iv.try_into()
        .map_err(|_| AesError::InvalidIvLength(iv.len()))
}

/// Length of `len` bytes after ISO/IEC 9797-1 method 2 padding to the AES block (always grows).
pub fn padded_len(len: usize) -> usize {
    (len / BLOCK_LEN + 1) * BLOCK_LEN
}

/// Appends ISO/IEC 9797-1 method 2 padding: `80` then `00` up to the next 16-byte boundary.
pub fn pad_m2(data: &mut Vec<u8>) {
    let target = padded_len(data.len());
    data.push(0x80);
    data.resize(target, 0x00);
}

/// Strips ISO/IEC 9797-1 method 2 padding: trailing `00` bytes (at most 15) then one `80`.
///
/// The padded length must be a non-zero multiple of 16.
pub fn unpad_m2(padded: &[u8]) -> Result<&[u8], AesError> {
    if padded.is_empty() || !padded.len().is_multiple_of(BLOCK_LEN) {
        return Err(AesError::NotBlockAligned(padded.len()));
    }
    let tail_start = padded.len() - BLOCK_LEN;
    let mut i = padded.len();
    while i > tail_start {
        i -= 1;
        match padded.get(i) {
            Some(0x00) => continue,
            Some(0x80) => return padded.get(..i).ok_or(AesError::BadPadding),
            _ => return Err(AesError::BadPadding),
        }
    }
    Err(AesError::BadPadding)
}

/// AES-ECB encryption of one block with a raw key.
pub fn ecb_encrypt_block(key: &[u8], block: &Block) -> Result<Block, AesError> {
    let mut out = *block;
    AesKey::new(key)?.encrypt_block(&mut out);
    Ok(out)
}

/// AES-ECB decryption of one block with a raw key.
pub fn ecb_decrypt_block(key: &[u8], block: &Block) -> Result<Block, AesError> {
    let mut out = *block;
    AesKey::new(key)?.decrypt_block(&mut out);
    Ok(out)
}

/// AES-CBC encryption without padding with a raw key.
pub fn cbc_encrypt(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, AesError> {
    AesKey::new(key)?.cbc_encrypt(iv, data)
}

/// AES-CBC decryption without padding with a raw key.
pub fn cbc_decrypt(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, AesError> {
    AesKey::new(key)?.cbc_decrypt(iv, data)
}

/// AES-CBC encryption with ISO/IEC 9797-1 method 2 padding with a raw key.
pub fn cbc_encrypt_padded(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, AesError> {
    AesKey::new(key)?.cbc_encrypt_padded(iv, data)
}

/// AES-CBC decryption and method 2 padding removal with a raw key.
pub fn cbc_decrypt_padded(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, AesError> {
    AesKey::new(key)?.cbc_decrypt_padded(iv, data)
}

/// AES-CMAC (16 bytes) with a raw key.
pub fn cmac(key: &[u8], data: &[u8]) -> Result<Block, AesError> {
    Ok(AesKey::new(key)?.cmac(data))
}

/// AES-CMAC truncated to 8 bytes with a raw key.
pub fn cmac8(key: &[u8], data: &[u8]) -> Result<[u8; CMAC8_LEN], AesError> {
    Ok(AesKey::new(key)?.cmac8(data))
}

/// Constant-time equality of two byte strings (length is not secret).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_round_trip_and_errors() {
        for len in 0..40 {
            let mut v = vec![0xAB; len];
            pad_m2(&mut v);
            assert_eq!(v.len(), padded_len(len));
            assert_eq!(v.len() % BLOCK_LEN, 0);
            assert_eq!(unpad_m2(&v).unwrap(), &vec![0xAB; len][..]);
        }
        assert_eq!(unpad_m2(&[0u8; 16]), Err(AesError::BadPadding));
        assert_eq!(unpad_m2(&[]), Err(AesError::NotBlockAligned(0)));
        let mut bad = [0u8; 16];
        bad[15] = 0x01;
        assert_eq!(unpad_m2(&bad), Err(AesError::BadPadding));
        // a `80` more than 15 zero bytes before the end is not padding of the last block
        let mut far = [0u8; 32];
        far[15] = 0x80;
        assert_eq!(unpad_m2(&far), Err(AesError::BadPadding));
    }

    #[test]
    fn typed_errors_for_bad_lengths() {
        assert_eq!(
            AesKey::new(&[0; 15]).unwrap_err(),
            AesError::InvalidKeyLength(15)
        );
        let k = AesKey::new(&[0; 16]).unwrap();
        assert_eq!(
            k.cbc_encrypt(&[0; 8], &[0; 16]),
            Err(AesError::InvalidIvLength(8))
        );
        assert_eq!(
            k.cbc_encrypt(&[0; 16], &[0; 17]),
            Err(AesError::NotBlockAligned(17))
        );
        assert_eq!(
            k.cbc_decrypt(&[0; 16], &[0; 5]),
            Err(AesError::NotBlockAligned(5))
        );
        assert!(format!("{k:?}").contains("AES-128"));
    }

    #[test]
    fn ct_eq_works() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
