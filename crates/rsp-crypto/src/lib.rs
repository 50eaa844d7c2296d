//! Cryptography for rsp.
//!
//! Everything here is pure (no IO): keys come in as bytes, results go out as bytes.
//! P-256 runs on aws-lc-rs (the fast path); brainpoolP256r1 on RustCrypto `bp256`.

pub mod aes;
pub mod bsp;
pub mod ecc;
pub mod gpcert;
pub mod kdf;
pub mod pki;
pub mod scp03;
pub mod scp03t;
pub mod scp80;
pub mod seal;
pub mod sgp26;
pub mod x509;
