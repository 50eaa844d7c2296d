//! Key material at rest: AES-256-GCM sealing under a master key.
//!
//! Servers keep secrets (SCP03 key sets, ISD-R SCP80/SCP81 keys, one-time private keys of an SGP.22 session)
//! in the store only in sealed form. A sealed blob is `version (1) ‖ key id (8) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`;
//! the caller's associated data (for example `"scp03/<EID>/<ISD-P AID>"`) binds a blob to its place, so a blob
//! copied to another row does not open. The master key lives outside the store (a 0600 file in the data
//! directory by default); the trait boundary is where an HSM would plug in.

use std::fmt;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest;
use zeroize::Zeroizing;

use crate::ecc::fill_random;

const FORMAT_V1: u8 = 1;
const KEY_ID_LEN: usize = 8;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;

/// Errors of sealing and opening.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// The blob is too short or of an unknown format version.
    #[error("sealed blob is malformed")]
    Malformed,
    /// The blob was sealed under another master key.
    #[error("sealed blob belongs to another master key")]
    WrongKey,
    /// Authentication failed: tampered ciphertext, or other associated data.
    #[error("sealed blob failed authentication")]
    Tampered,
    /// The master key file is unusable.
    #[error("master key: {0}")]
    MasterKey(String),
    /// Randomness or the AEAD backend failed.
    #[error("crypto backend failure")]
    Backend,
}

/// Seals and opens secrets under one master key.
pub struct Sealer {
    key: LessSafeKey,
    key_id: [u8; KEY_ID_LEN],
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealer(key id {})", hex::encode(self.key_id))
    }
}

impl Sealer {
    /// A sealer over a 32-byte master key.
    pub fn new(master_key: &[u8; 32]) -> Result<Self, SealError> {
        let unbound = UnboundKey::new(&AES_256_GCM, master_key).map_err(|_| SealError::Backend)?;
        let id_digest = digest::digest(
            &digest::SHA256,
            &[b"rsp-seal-key-id".as_slice(), master_key].concat(),
        );
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(&id_digest.as_ref()[..KEY_ID_LEN]);
        Ok(Self {
            key: LessSafeKey::new(unbound),
            key_id,
        })
    }

    /// Loads the master key from `path`, creating it (32 random bytes, mode 0600) when absent.
    pub fn load_or_create(path: &Path) -> Result<Self, SealError> {
        let err = |e: std::io::Error| SealError::MasterKey(format!("{}: {e}", path.display()));
        if path.exists() {
            let bytes = Zeroizing::new(std::fs::read(path).map_err(err)?);
            let key: Zeroizing<[u8; 32]> =
                Zeroizing::new(bytes.as_slice().try_into().map_err(|_| {
                    SealError::MasterKey(format!("{}: expected 32 bytes", path.display()))
                })?);
            return Self::new(&key);
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        let mut key = Zeroizing::new([0u8; 32]);
        fill_random(key.as_mut()).map_err(|_| SealError::Backend)?;
        write_private_file(path, key.as_ref()).map_err(err)?;
        Self::new(&key)
    }

    /// Seals `plaintext`, bound to `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce).map_err(|_| SealError::Backend)?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(FORMAT_V1);
        out.extend_from_slice(&self.key_id);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .map_err(|_| SealError::Backend)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens a sealed blob bound to `aad`. The plaintext is wiped on drop.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.len() < HEADER_LEN + TAG_LEN || sealed.first() != Some(&FORMAT_V1) {
            return Err(SealError::Malformed);
        }
        let (header, body) = sealed.split_at(HEADER_LEN);
        if header[1..1 + KEY_ID_LEN] != self.key_id {
            return Err(SealError::WrongKey);
        }
        let nonce: [u8; NONCE_LEN] = header[1 + KEY_ID_LEN..]
            .try_into()
            .map_err(|_| SealError::Malformed)?;
        let mut buf = Zeroizing::new(body.to_vec());
        let plain_len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .map_err(|_| SealError::Tampered)?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

/// Writes a file readable only by its owner (mode 0600 on Unix), replacing any previous content.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let s = Sealer::new(&[7u8; 32]).unwrap();
        let blob = s.seal(b"scp03/eid/aid", b"key material").unwrap();
        assert!(!blob.windows(12).any(|w| w == b"key material"));
        assert_eq!(
            s.open(b"scp03/eid/aid", &blob).unwrap().as_slice(),
            b"key material"
        );
        assert_eq!(s.open(b"scp03/other/aid", &blob), Err(SealError::Tampered));
        let mut t = blob.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        assert_eq!(s.open(b"scp03/eid/aid", &t), Err(SealError::Tampered));
        assert_eq!(s.open(b"x", &blob[..10]), Err(SealError::Malformed));
        let other = Sealer::new(&[8u8; 32]).unwrap();
        assert_eq!(
            other.open(b"scp03/eid/aid", &blob),
            Err(SealError::WrongKey)
        );
        // Two seals of the same secret differ (fresh nonce).
        assert_ne!(blob, s.seal(b"scp03/eid/aid", b"key material").unwrap());
    }

    #[test]
    fn master_key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("master.key");
        let a = Sealer::load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let blob = a.seal(b"", b"secret").unwrap();
        let b = Sealer::load_or_create(&path).unwrap();
        assert_eq!(b.open(b"", &blob).unwrap().as_slice(), b"secret");
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            Sealer::load_or_create(&path),
            Err(SealError::MasterKey(_))
        ));
    }
}
