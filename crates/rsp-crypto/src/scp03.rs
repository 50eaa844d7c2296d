//! GlobalPlatform Secure Channel Protocol '03' (Card Specification Amendment D), sans-IO.
//!
//! - Static keys ([`StaticKeys`]: Key-ENC, Key-MAC, Key-DEK and their key version number).
//! - Session keys S-ENC, S-MAC, S-RMAC from the host and card challenges (context = host ‖ card),
//!   card and host cryptograms, the pseudo-random card challenge (`i` bit `10`, SGP.02 uses
//!   `i = 70`), all through the SCP03 KDF ([`crate::kdf::scp03_kdf`]). S8 mode only (8-byte
//!   challenges, cryptograms and MACs).
//! - Handshake as consuming state types: host [`HostHandshake`] → [`HostAuthenticating`] →
//!   [`Scp03Session`]; card [`CardHandshake`] → [`CardAuthenticating`] → [`Scp03Session`].
//! - Secure messaging on short APDUs at security levels `01`, `03`, `11`, `13`, `33`: C-MAC with MAC
//!   chaining (CLA bit `04`, MAC over the modified header with the logical channel cleared), C-DECRYPTION
//!   (ICV = AES(S-ENC, encryption counter), `80 00..` padding; the counter advances for every command,
//!   also those without data), R-MAC (over MAC chaining value ‖ data ‖ SW, with S-RMAC) and
//!   R-ENCRYPTION (ICV from the counter with its first byte set to `80`). Error status words (other
//!   than `9000`, `62xx`, `63xx`) carry no R-MAC.
//!
//! Any security failure (MAC, cryptogram, padding) closes the session: further calls fail with
//! [`Scp03Error::SessionClosed`], as GlobalPlatform requires the secure channel to be terminated.

use std::fmt;

use thiserror::Error;
use zeroize::Zeroizing;

use crate::aes::{AesError, AesKey, BLOCK_LEN, Block, CMAC8_LEN, ct_eq, pad_m2, unpad_m2};
use crate::kdf::{KdfError, Scenario3Keys, ddc, scp03_kdf};

/// CLA bit indicating GlobalPlatform proprietary secure messaging.
pub const CLA_SECURE_MESSAGING: u8 = 0x04;
/// INS of INITIALIZE UPDATE.
pub const INS_INITIALIZE_UPDATE: u8 = 0x50;
/// INS of EXTERNAL AUTHENTICATE.
pub const INS_EXTERNAL_AUTHENTICATE: u8 = 0x82;
/// SCP identifier of SCP03 in the key information.
pub const SCP03_ID: u8 = 0x03;
/// Length of host and card challenges (S8 mode).
pub const CHALLENGE_LEN: usize = 8;
/// Length of card and host cryptograms (S8 mode).
pub const CRYPTOGRAM_LEN: usize = 8;
/// Length of C-MAC and R-MAC on the wire (S8 mode).
pub const MAC_LEN: usize = CMAC8_LEN;
/// Length of the key diversification data in the INITIALIZE UPDATE response.
pub const KEY_DIVERSIFICATION_DATA_LEN: usize = 10;
/// Largest sequence counter value (3 bytes).
pub const MAX_SEQUENCE_COUNTER: u32 = 0x00FF_FFFF;
/// Status word "success".
pub const SW_SUCCESS: u16 = 0x9000;

/// A host or card challenge.
pub type Challenge = [u8; CHALLENGE_LEN];
/// A card or host cryptogram.
pub type Cryptogram = [u8; CRYPTOGRAM_LEN];

/// Errors of the SCP03 handshake and secure messaging.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum Scp03Error {
    /// An AES operation failed (bad key length, misaligned data).
    #[error("AES: {0}")]
    Aes(AesError),
    /// The KDF refused its input.
    #[error("KDF: {0}")]
    Kdf(#[from] KdfError),
    /// The static keys do not all have the same length.
    #[error("static keys must have equal lengths (ENC {enc}, MAC {mac}, DEK {dek})")]
    KeyLengthMismatch {
        /// Key-ENC length.
        enc: usize,
        /// Key-MAC length.
        mac: usize,
        /// Key-DEK length.
        dek: usize,
    },
    /// The APDU is not a well-formed short command APDU.
    #[error("malformed APDU: {0}")]
    MalformedApdu(&'static str),
    /// Extended-length APDUs are not supported by this implementation.
    #[error("extended-length APDUs are not supported")]
    ExtendedLengthUnsupported,
    /// The CLA byte cannot be protected (further interindustry class or already marked).
    #[error("CLA {0:#04x} cannot be used for GlobalPlatform secure messaging")]
    UnsupportedCla(u8),
    /// The command is not the one the handshake expects.
    #[error("unexpected instruction {got:#04x}, expected {expected:#04x}")]
    UnexpectedInstruction {
        /// INS expected.
        expected: u8,
        /// INS received.
        got: u8,
    },
    /// The key version number does not match the static keys.
    #[error("key version {got:#04x} does not match the key set {expected:#04x}")]
    KeyVersionMismatch {
        /// KVN of the key set.
        expected: u8,
        /// KVN received.
        got: u8,
    },
    /// The card answered for another secure channel protocol.
    #[error("SCP {0:#04x} is not SCP03")]
    UnsupportedScp(u8),
    /// The `i` parameter requests an option not implemented (S16 mode).
    #[error("SCP03 i parameter {0:#04x} is not supported (S16 mode)")]
    UnsupportedIParameter(u8),
    /// The INITIALIZE UPDATE response has a wrong length.
    #[error("INITIALIZE UPDATE response of {0} bytes (29 or 32 expected)")]
    MalformedInitializeUpdateResponse(usize),
    /// The challenge source does not match the `i` parameter (pseudo-random or random).
    #[error("card challenge mode does not match i parameter {0:#04x}")]
    ChallengeModeMismatch(u8),
    /// The card cryptogram does not verify.
    #[error("card cryptogram mismatch")]
    CardCryptogramMismatch,
    /// The host cryptogram does not verify.
    #[error("host cryptogram mismatch")]
    HostCryptogramMismatch,
    /// The security level is not one of `01`, `03`, `11`, `13`, `33`.
    #[error("security level {0:#04x} is not supported")]
    InvalidSecurityLevel(u8),
    /// The security level needs an option the `i` parameter does not offer (R-MAC, R-ENC).
    #[error("security level {level:#04x} needs options missing from i parameter {i:#04x}")]
    SecurityLevelNotAllowed {
        /// Requested level.
        level: u8,
        /// The `i` parameter.
        i: u8,
    },
    /// A C-MAC or R-MAC does not verify.
    #[error("MAC mismatch")]
    MacMismatch,
    /// Decrypted data does not end in `80 00..` padding.
    #[error("bad padding in decrypted data")]
    BadPadding,
    /// A command arrived without the secure messaging indication in CLA.
    #[error("command is not protected by secure messaging")]
    MissingSecureMessaging,
    /// The protected command would not fit a short APDU.
    #[error("protected command data of {0} bytes exceeds 255")]
    CommandTooLong(usize),
    /// The protected response would not fit a short response (256 bytes).
    #[error("protected response data of {0} bytes exceeds 256")]
    ResponseTooLong(usize),
    /// The response is shorter than its status word or R-MAC.
    #[error("response too short")]
    ResponseTooShort,
    /// An error status word came with response data, which SCP03 cannot authenticate.
    #[error("error status {0:#06x} came with unauthenticated data")]
    UnprotectedResponseData(u16),
    /// The encryption counter or the sequence counter has no further value.
    #[error("counter exhausted")]
    CounterExhausted,
    /// A host operation was called on a card session or the reverse.
    #[error("operation not available for this side of the session")]
    WrongRole,
    /// The session was closed (explicitly or after a security failure).
    #[error("secure channel session is closed")]
    SessionClosed,
}

impl From<AesError> for Scp03Error {
    fn from(e: AesError) -> Self {
        match e {
            AesError::BadPadding => Self::BadPadding,
            other => Self::Aes(other),
        }
    }
}

impl Scp03Error {
    /// The status word a card returns for this error (GP Card Specification / Amendment D).
    pub fn status_word(&self) -> u16 {
        match self {
            Self::MalformedApdu(_) | Self::CommandTooLong(_) => 0x6700,
            Self::ExtendedLengthUnsupported => 0x6700,
            Self::UnsupportedCla(_) => 0x6E00,
            Self::UnexpectedInstruction { .. } => 0x6D00,
            Self::KeyVersionMismatch { .. } => 0x6A88,
            Self::InvalidSecurityLevel(_) | Self::SecurityLevelNotAllowed { .. } => 0x6A86,
            Self::ChallengeModeMismatch(_) | Self::CounterExhausted => 0x6985,
            Self::MacMismatch
            | Self::HostCryptogramMismatch
            | Self::CardCryptogramMismatch
            | Self::BadPadding
            | Self::MissingSecureMessaging
            | Self::SessionClosed => 0x6982,
            _ => 0x6F00,
        }
    }
}

/// An SCP03 security level (`P1` of EXTERNAL AUTHENTICATE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SecurityLevel(u8);

impl SecurityLevel {
    /// C-MAC.
    pub const C_MAC: Self = Self(0x01);
    /// C-DECRYPTION and C-MAC.
    pub const C_DEC_C_MAC: Self = Self(0x03);
    /// C-MAC and R-MAC.
    pub const C_MAC_R_MAC: Self = Self(0x11);
    /// C-DECRYPTION, C-MAC and R-MAC.
    pub const C_DEC_C_MAC_R_MAC: Self = Self(0x13);
    /// C-DECRYPTION, C-MAC, R-ENCRYPTION and R-MAC.
    pub const C_DEC_C_MAC_R_ENC_R_MAC: Self = Self(0x33);

    /// Accepts `01`, `03`, `11`, `13` and `33`.
    pub fn from_byte(b: u8) -> Result<Self, Scp03Error> {
        match b {
            0x01 | 0x03 | 0x11 | 0x13 | 0x33 => Ok(Self(b)),
            _ => Err(Scp03Error::InvalidSecurityLevel(b)),
        }
    }

    /// The level byte.
    pub fn byte(self) -> u8 {
        self.0
    }

    /// Commands carry a C-MAC (always true for the supported levels).
    pub fn c_mac(self) -> bool {
        self.0 & 0x01 != 0
    }

    /// Command data is encrypted.
    pub fn c_dec(self) -> bool {
        self.0 & 0x02 != 0
    }

    /// Responses carry an R-MAC.
    pub fn r_mac(self) -> bool {
        self.0 & 0x10 != 0
    }

    /// Response data is encrypted.
    pub fn r_enc(self) -> bool {
        self.0 & 0x20 != 0
    }
}

/// The SCP03 `i` parameter (implementation options).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IParameter(pub u8);

impl IParameter {
    /// `i = 70`: pseudo-random card challenge, R-MAC and R-ENC supported (SGP.02 ISD-P).
    pub const PSEUDO_RANDOM_RMAC_RENC: Self = Self(0x70);
    /// `i = 60`: random card challenge, R-MAC and R-ENC supported.
    pub const RANDOM_RMAC_RENC: Self = Self(0x60);

    /// Card challenge derived from the sequence counter.
    pub fn pseudo_random_challenge(self) -> bool {
        self.0 & 0x10 != 0
    }

    /// R-MAC supported.
    pub fn r_mac_supported(self) -> bool {
        self.0 & 0x20 != 0
    }

    /// R-ENCRYPTION supported.
    pub fn r_enc_supported(self) -> bool {
        self.0 & 0x40 != 0
    }

    /// S16 mode (16-byte challenges and MACs), not implemented here.
    pub fn s16(self) -> bool {
        self.0 & 0x01 != 0
    }

    fn check_level(self, level: SecurityLevel) -> Result<(), Scp03Error> {
        if (level.r_mac() && !self.r_mac_supported()) || (level.r_enc() && !self.r_enc_supported())
        {
            return Err(Scp03Error::SecurityLevelNotAllowed {
                level: level.byte(),
                i: self.0,
            });
        }
        Ok(())
    }
}

/// The static SCP03 key set of a security domain.
#[derive(Clone)]
pub struct StaticKeys {
    kvn: u8,
    enc: AesKey,
    mac: AesKey,
    dek: AesKey,
}

impl fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "StaticKeys(kvn {:#04x}, AES-{}, ..)",
            self.kvn,
            self.enc.bits()
        )
    }
}

impl StaticKeys {
    /// A key set; all three keys 16, 24 or 32 bytes and of equal length. KVN `00` means "any" on
    /// the host side.
    pub fn new(kvn: u8, enc: &[u8], mac: &[u8], dek: &[u8]) -> Result<Self, Scp03Error> {
        if enc.len() != mac.len() || enc.len() != dek.len() {
            return Err(Scp03Error::KeyLengthMismatch {
                enc: enc.len(),
                mac: mac.len(),
                dek: dek.len(),
            });
        }
        Ok(Self {
            kvn,
            enc: AesKey::new(enc)?,
            mac: AesKey::new(mac)?,
            dek: AesKey::new(dek)?,
        })
    }

    /// The key set established by SGP.02 Scenario#3.
    pub fn from_scenario3(kvn: u8, keys: &Scenario3Keys) -> Result<Self, Scp03Error> {
        Self::new(kvn, &keys.enc, &keys.mac, &keys.dek)
    }

    /// Key version number.
    pub fn kvn(&self) -> u8 {
        self.kvn
    }

    /// Key-ENC.
    pub fn enc(&self) -> &AesKey {
        &self.enc
    }

    /// Key-MAC.
    pub fn mac(&self) -> &AesKey {
        &self.mac
    }

    /// Key-DEK (for PUT KEY / STORE DATA key encryption).
    pub fn dek(&self) -> &AesKey {
        &self.dek
    }
}

/// SCP03 session keys.
#[derive(Clone)]
pub struct SessionKeys {
    /// S-ENC.
    pub s_enc: AesKey,
    /// S-MAC.
    pub s_mac: AesKey,
    /// S-RMAC.
    pub s_rmac: AesKey,
}

impl fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKeys(..)")
    }
}

fn derive_key(key: &AesKey, constant: u8, context: &[u8]) -> Result<AesKey, Scp03Error> {
    let mut buf = Zeroizing::new([0u8; 32]);
    let out = buf
        .get_mut(..key.len())
        .ok_or(Scp03Error::Aes(AesError::InvalidKeyLength(key.len())))?;
    scp03_kdf(key, constant, context, out)?;
    Ok(AesKey::new(out)?)
}

fn challenge_context(host: &Challenge, card: &Challenge) -> [u8; 2 * CHALLENGE_LEN] {
    let mut ctx = [0u8; 2 * CHALLENGE_LEN];
    ctx[..CHALLENGE_LEN].copy_from_slice(host);
    ctx[CHALLENGE_LEN..].copy_from_slice(card);
    ctx
}

/// Derives S-ENC (from Key-ENC, constant `04`), S-MAC (Key-MAC, `06`) and S-RMAC (Key-MAC, `07`)
/// with context host challenge ‖ card challenge; each as long as the static keys.
pub fn derive_session_keys(
    keys: &StaticKeys,
    host_challenge: &Challenge,
    card_challenge: &Challenge,
) -> Result<SessionKeys, Scp03Error> {
    let ctx = challenge_context(host_challenge, card_challenge);
    Ok(SessionKeys {
        s_enc: derive_key(&keys.enc, ddc::S_ENC, &ctx)?,
        s_mac: derive_key(&keys.mac, ddc::S_MAC, &ctx)?,
        s_rmac: derive_key(&keys.mac, ddc::S_RMAC, &ctx)?,
    })
}

fn cryptogram(
    s_mac: &AesKey,
    constant: u8,
    host_challenge: &Challenge,
    card_challenge: &Challenge,
) -> Result<Cryptogram, Scp03Error> {
    let mut out = [0u8; CRYPTOGRAM_LEN];
    scp03_kdf(
        s_mac,
        constant,
        &challenge_context(host_challenge, card_challenge),
        &mut out,
    )?;
    Ok(out)
}

/// The card cryptogram: KDF(S-MAC, `00`, L = 64, host ‖ card challenge).
pub fn card_cryptogram(
    s_mac: &AesKey,
    host_challenge: &Challenge,
    card_challenge: &Challenge,
) -> Result<Cryptogram, Scp03Error> {
    cryptogram(s_mac, ddc::CARD_CRYPTOGRAM, host_challenge, card_challenge)
}

/// The host cryptogram: KDF(S-MAC, `01`, L = 64, host ‖ card challenge).
pub fn host_cryptogram(
    s_mac: &AesKey,
    host_challenge: &Challenge,
    card_challenge: &Challenge,
) -> Result<Cryptogram, Scp03Error> {
    cryptogram(s_mac, ddc::HOST_CRYPTOGRAM, host_challenge, card_challenge)
}

/// The pseudo-random card challenge: KDF(Key-ENC, `02`, L = 64, sequence counter (3 bytes) ‖ AID of
/// the security domain).
pub fn pseudo_random_card_challenge(
    key_enc: &AesKey,
    sequence_counter: u32,
    aid: &[u8],
) -> Result<Challenge, Scp03Error> {
    if sequence_counter > MAX_SEQUENCE_COUNTER {
        return Err(Scp03Error::CounterExhausted);
    }
    let counter = sequence_counter.to_be_bytes();
    let mut ctx = Vec::with_capacity(3 + aid.len());
    ctx.extend_from_slice(counter.get(1..).unwrap_or_default());
    ctx.extend_from_slice(aid);
    let mut out = [0u8; CHALLENGE_LEN];
    scp03_kdf(key_enc, ddc::CARD_CHALLENGE, &ctx, &mut out)?;
    Ok(out)
}

/// The key check value of an AES key in GlobalPlatform: the first 3 bytes of AES(key, `01` × 16).
pub fn key_check_value(key: &AesKey) -> [u8; 3] {
    let mut block = [0x01u8; BLOCK_LEN];
    key.encrypt_block(&mut block);
    [block[0], block[1], block[2]]
}

/// A parsed short command APDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandApdu<'a> {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (empty for cases 1 and 2).
    pub data: &'a [u8],
    /// Le (cases 2 and 4).
    pub le: Option<u8>,
}

impl<'a> CommandApdu<'a> {
    /// Parses a short APDU of case 1, 2, 3 or 4.
    pub fn parse(apdu: &'a [u8]) -> Result<Self, Scp03Error> {
        let (header, body) = apdu
            .split_first_chunk::<4>()
            .ok_or(Scp03Error::MalformedApdu("shorter than 4 bytes"))?;
        let [cla, ins, p1, p2] = *header;
        let (data, le) = match body {
            [] => (&body[..0], None),
            [le] => (&body[..0], Some(*le)),
            [0, ..] => return Err(Scp03Error::ExtendedLengthUnsupported),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc) {
                    Some(0) => (rest, None),
                    Some(1) => (rest.get(..lc).unwrap_or_default(), rest.last().copied()),
                    _ => return Err(Scp03Error::MalformedApdu("Lc does not match the length")),
                }
            }
        };
        Ok(Self {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
    }

    /// Encodes the APDU (short form).
    pub fn encode(&self) -> Result<Vec<u8>, Scp03Error> {
        let mut out = Vec::with_capacity(6 + self.data.len());
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if !self.data.is_empty() {
            let lc = u8::try_from(self.data.len())
                .map_err(|_| Scp03Error::CommandTooLong(self.data.len()))?;
            out.push(lc);
            out.extend_from_slice(self.data);
        }
        if let Some(le) = self.le {
            out.push(le);
        }
        Ok(out)
    }
}

/// A response APDU split into data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseApdu {
    /// Response data (decrypted, without R-MAC).
    pub data: Vec<u8>,
    /// SW1 SW2.
    pub sw: u16,
}

/// `9000`, `62xx` and `63xx` are processed with R-MAC; all other status words are errors.
pub fn is_success_status(sw: u16) -> bool {
    sw == SW_SUCCESS || matches!(sw >> 8, 0x62 | 0x63)
}

fn split_status(rapdu: &[u8]) -> Result<(&[u8], u16), Scp03Error> {
    let (data, sw) = rapdu
        .split_last_chunk::<2>()
        .ok_or(Scp03Error::ResponseTooShort)?;
    Ok((data, u16::from_be_bytes(*sw)))
}

/// The INITIALIZE UPDATE response data (without status word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitializeUpdateResponse {
    /// Key diversification data.
    pub key_diversification_data: [u8; KEY_DIVERSIFICATION_DATA_LEN],
    /// Key version number.
    pub kvn: u8,
    /// SCP identifier (`03`).
    pub scp: u8,
    /// The `i` parameter.
    pub i: IParameter,
    /// Card challenge.
    pub card_challenge: Challenge,
    /// Card cryptogram.
    pub card_cryptogram: Cryptogram,
    /// Sequence counter (present with a pseudo-random card challenge).
    pub sequence_counter: Option<u32>,
}

impl InitializeUpdateResponse {
    /// Parses the 29- or 32-byte response data (S8 mode).
    pub fn parse(data: &[u8]) -> Result<Self, Scp03Error> {
        let bad = || Scp03Error::MalformedInitializeUpdateResponse(data.len());
        if data.len() != 29 && data.len() != 32 {
            return Err(bad());
        }
        let take = |from: usize, to: usize| data.get(from..to).ok_or_else(bad);
        let kdd = take(0, 10)?.try_into().map_err(|_| bad())?;
        let info = take(10, 13)?;
        let (kvn, scp, i) = match info {
            [k, s, i] => (*k, *s, IParameter(*i)),
            _ => return Err(bad()),
        };
        let card_challenge = take(13, 21)?.try_into().map_err(|_| bad())?;
        let card_cryptogram = take(21, 29)?.try_into().map_err(|_| bad())?;
        let sequence_counter = match data.get(29..32) {
            Some([a, b, c]) => Some(u32::from_be_bytes([0, *a, *b, *c])),
            _ => None,
        };
        Ok(Self {
            key_diversification_data: kdd,
            kvn,
            scp,
            i,
            card_challenge,
            card_cryptogram,
            sequence_counter,
        })
    }

    /// Encodes the response data.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        out.extend_from_slice(&self.key_diversification_data);
        out.extend_from_slice(&[self.kvn, self.scp, self.i.0]);
        out.extend_from_slice(&self.card_challenge);
        out.extend_from_slice(&self.card_cryptogram);
        if let Some(counter) = self.sequence_counter {
            out.extend_from_slice(counter.to_be_bytes().get(1..).unwrap_or_default());
        }
        out
    }
}

/// Host side, step 1: sends INITIALIZE UPDATE.
#[derive(Debug)]
pub struct HostHandshake {
    keys: StaticKeys,
    host_challenge: Challenge,
}

impl HostHandshake {
    /// Starts a handshake with the static keys and a fresh random host challenge.
    pub fn new(keys: StaticKeys, host_challenge: Challenge) -> Self {
        Self {
            keys,
            host_challenge,
        }
    }

    /// The INITIALIZE UPDATE command on the basic logical channel: `80 50 KVN 00 08 <host challenge> 00`.
    pub fn initialize_update_apdu(&self) -> Vec<u8> {
        let mut out = vec![0x80, INS_INITIALIZE_UPDATE, self.keys.kvn, 0x00, 0x08];
        out.extend_from_slice(&self.host_challenge);
        out.push(0x00);
        out
    }

    /// Processes the INITIALIZE UPDATE response data (without SW) and verifies the card cryptogram.
    pub fn on_initialize_update_response(
        self,
        response_data: &[u8],
    ) -> Result<HostAuthenticating, Scp03Error> {
        let resp = InitializeUpdateResponse::parse(response_data)?;
        if resp.scp != SCP03_ID {
            return Err(Scp03Error::UnsupportedScp(resp.scp));
        }
        if resp.i.s16() {
            return Err(Scp03Error::UnsupportedIParameter(resp.i.0));
        }
        if self.keys.kvn != 0 && resp.kvn != self.keys.kvn {
            return Err(Scp03Error::KeyVersionMismatch {
                expected: self.keys.kvn,
                got: resp.kvn,
            });
        }
        let next = self.authenticating(resp.i, resp.card_challenge, resp.sequence_counter)?;
        if !ct_eq(&next.card_cryptogram, &resp.card_cryptogram) {
            return Err(Scp03Error::CardCryptogramMismatch);
        }
        Ok(next)
    }

    /// Push mode (pseudo-random card challenge): computes the card challenge the card will use with
    /// `sequence_counter` and `aid`, without waiting for the INITIALIZE UPDATE response. The card
    /// cryptogram is then available from [`HostAuthenticating::card_cryptogram`] for a later check.
    pub fn predict(
        self,
        i: IParameter,
        sequence_counter: u32,
        aid: &[u8],
    ) -> Result<HostAuthenticating, Scp03Error> {
        if !i.pseudo_random_challenge() {
            return Err(Scp03Error::ChallengeModeMismatch(i.0));
        }
        if i.s16() {
            return Err(Scp03Error::UnsupportedIParameter(i.0));
        }
        let card_challenge = pseudo_random_card_challenge(&self.keys.enc, sequence_counter, aid)?;
        self.authenticating(i, card_challenge, Some(sequence_counter))
    }

    fn authenticating(
        self,
        i: IParameter,
        card_challenge: Challenge,
        sequence_counter: Option<u32>,
    ) -> Result<HostAuthenticating, Scp03Error> {
        let keys = derive_session_keys(&self.keys, &self.host_challenge, &card_challenge)?;
        let card_cryptogram = card_cryptogram(&keys.s_mac, &self.host_challenge, &card_challenge)?;
        let host_cryptogram = host_cryptogram(&keys.s_mac, &self.host_challenge, &card_challenge)?;
        Ok(HostAuthenticating {
            keys,
            i,
            card_challenge,
            card_cryptogram,
            host_cryptogram,
            sequence_counter,
        })
    }
}

/// Host side, step 2: the card is authenticated; sends EXTERNAL AUTHENTICATE.
#[derive(Debug)]
pub struct HostAuthenticating {
    keys: SessionKeys,
    i: IParameter,
    card_challenge: Challenge,
    card_cryptogram: Cryptogram,
    host_cryptogram: Cryptogram,
    sequence_counter: Option<u32>,
}

impl HostAuthenticating {
    /// The card challenge in use.
    pub fn card_challenge(&self) -> Challenge {
        self.card_challenge
    }

    /// The card cryptogram the card sends (or sent).
    pub fn card_cryptogram(&self) -> Cryptogram {
        self.card_cryptogram
    }

    /// The sequence counter, when the card challenge is pseudo-random.
    pub fn sequence_counter(&self) -> Option<u32> {
        self.sequence_counter
    }

    /// Builds EXTERNAL AUTHENTICATE (`84 82 <level> 00 10 <host cryptogram> <C-MAC>`) and opens the
    /// session at `level`.
    pub fn external_authenticate(
        self,
        level: SecurityLevel,
    ) -> Result<(Scp03Session, Vec<u8>), Scp03Error> {
        self.i.check_level(level)?;
        let header = [
            0x80 | CLA_SECURE_MESSAGING,
            INS_EXTERNAL_AUTHENTICATE,
            level.byte(),
            0x00,
            (CRYPTOGRAM_LEN + MAC_LEN) as u8,
        ];
        let mcv = self
            .keys
            .s_mac
            .cmac_parts(&[&[0u8; BLOCK_LEN], &header, &self.host_cryptogram]);
        let mut apdu = Vec::with_capacity(header.len() + CRYPTOGRAM_LEN + MAC_LEN);
        apdu.extend_from_slice(&header);
        apdu.extend_from_slice(&self.host_cryptogram);
        apdu.extend_from_slice(mcv.get(..MAC_LEN).unwrap_or_default());
        Ok((Scp03Session::new(Role::Host, level, self.keys, mcv), apdu))
    }
}

/// Where the card takes its challenge from.
#[derive(Debug, Clone, Copy)]
pub enum CardChallenge<'a> {
    /// A random challenge (`i` without bit `10`).
    Random(Challenge),
    /// Pseudo-random (`i` with bit `10`): the card increments its sequence counter and derives the
    /// challenge from the new value and the AID of the security domain.
    PseudoRandom {
        /// The last sequence counter value used (0 for a fresh key set).
        last_sequence_counter: u32,
        /// AID of the security domain the session is opened with.
        aid: &'a [u8],
    },
}

/// Card side, step 1: answers INITIALIZE UPDATE.
#[derive(Debug)]
pub struct CardHandshake {
    keys: StaticKeys,
    i: IParameter,
    key_diversification_data: [u8; KEY_DIVERSIFICATION_DATA_LEN],
}

impl CardHandshake {
    /// The security domain's static keys, `i` parameter and key diversification data.
    pub fn new(
        keys: StaticKeys,
        i: IParameter,
        key_diversification_data: [u8; KEY_DIVERSIFICATION_DATA_LEN],
    ) -> Result<Self, Scp03Error> {
        if i.s16() {
            return Err(Scp03Error::UnsupportedIParameter(i.0));
        }
        Ok(Self {
            keys,
            i,
            key_diversification_data,
        })
    }

    /// Processes an INITIALIZE UPDATE command; returns the next state and the response data (to be
    /// sent with SW `9000`). With a pseudo-random challenge the new sequence counter is available from
    /// [`CardAuthenticating::sequence_counter`] and must be persisted.
    pub fn on_initialize_update(
        self,
        apdu: &[u8],
        challenge: CardChallenge<'_>,
    ) -> Result<(CardAuthenticating, Vec<u8>), Scp03Error> {
        let cmd = CommandApdu::parse(apdu)?;
        if cmd.cla & 0xFC != 0x80 {
            return Err(Scp03Error::UnsupportedCla(cmd.cla));
        }
        if cmd.ins != INS_INITIALIZE_UPDATE {
            return Err(Scp03Error::UnexpectedInstruction {
                expected: INS_INITIALIZE_UPDATE,
                got: cmd.ins,
            });
        }
        if cmd.p1 != 0 && cmd.p1 != self.keys.kvn {
            return Err(Scp03Error::KeyVersionMismatch {
                expected: self.keys.kvn,
                got: cmd.p1,
            });
        }
        let host_challenge: Challenge = cmd
            .data
            .try_into()
            .map_err(|_| Scp03Error::MalformedApdu("host challenge must be 8 bytes"))?;
        let (card_challenge, sequence_counter) = match challenge {
            CardChallenge::Random(c) if !self.i.pseudo_random_challenge() => (c, None),
            CardChallenge::PseudoRandom {
                last_sequence_counter,
                aid,
            } if self.i.pseudo_random_challenge() => {
                let counter = last_sequence_counter
                    .checked_add(1)
                    .filter(|c| *c <= MAX_SEQUENCE_COUNTER)
                    .ok_or(Scp03Error::CounterExhausted)?;
                (
                    pseudo_random_card_challenge(&self.keys.enc, counter, aid)?,
                    Some(counter),
                )
            }
            _ => return Err(Scp03Error::ChallengeModeMismatch(self.i.0)),
        };
        let keys = derive_session_keys(&self.keys, &host_challenge, &card_challenge)?;
        let card_cryptogram = card_cryptogram(&keys.s_mac, &host_challenge, &card_challenge)?;
        let host_cryptogram = host_cryptogram(&keys.s_mac, &host_challenge, &card_challenge)?;
        let response = InitializeUpdateResponse {
            key_diversification_data: self.key_diversification_data,
            kvn: self.keys.kvn,
            scp: SCP03_ID,
            i: self.i,
            card_challenge,
            card_cryptogram,
            sequence_counter,
        };
        Ok((
            CardAuthenticating {
                keys,
                i: self.i,
                host_cryptogram,
                sequence_counter,
            },
            response.encode(),
        ))
    }
}

/// Card side, step 2: waits for EXTERNAL AUTHENTICATE.
#[derive(Debug)]
pub struct CardAuthenticating {
    keys: SessionKeys,
    i: IParameter,
    host_cryptogram: Cryptogram,
    sequence_counter: Option<u32>,
}

impl CardAuthenticating {
    /// The sequence counter used for this session (pseudo-random challenge), to persist.
    pub fn sequence_counter(&self) -> Option<u32> {
        self.sequence_counter
    }

    /// Verifies EXTERNAL AUTHENTICATE (C-MAC and host cryptogram) and opens the session. Its
    /// response is a plain `9000` (no R-MAC).
    pub fn on_external_authenticate(self, apdu: &[u8]) -> Result<Scp03Session, Scp03Error> {
        let cmd = CommandApdu::parse(apdu)?;
        if cmd.cla & CLA_SECURE_MESSAGING == 0 {
            return Err(Scp03Error::MissingSecureMessaging);
        }
        if cmd.cla & 0xFC != 0x84 {
            return Err(Scp03Error::UnsupportedCla(cmd.cla));
        }
        if cmd.ins != INS_EXTERNAL_AUTHENTICATE {
            return Err(Scp03Error::UnexpectedInstruction {
                expected: INS_EXTERNAL_AUTHENTICATE,
                got: cmd.ins,
            });
        }
        let level = SecurityLevel::from_byte(cmd.p1)?;
        self.i.check_level(level)?;
        let (cryptogram, mac) = match cmd.data.split_at_checked(CRYPTOGRAM_LEN) {
            Some((c, m)) if m.len() == MAC_LEN => (c, m),
            _ => {
                return Err(Scp03Error::MalformedApdu(
                    "EXTERNAL AUTHENTICATE data must be 16 bytes",
                ));
            }
        };
        let header = [
            (cmd.cla & 0xF0) | CLA_SECURE_MESSAGING,
            cmd.ins,
            cmd.p1,
            cmd.p2,
            (CRYPTOGRAM_LEN + MAC_LEN) as u8,
        ];
        let mcv = self
            .keys
            .s_mac
            .cmac_parts(&[&[0u8; BLOCK_LEN], &header, cryptogram]);
        if !ct_eq(mcv.get(..MAC_LEN).unwrap_or_default(), mac) {
            return Err(Scp03Error::MacMismatch);
        }
        if !ct_eq(cryptogram, &self.host_cryptogram) {
            return Err(Scp03Error::HostCryptogramMismatch);
        }
        Ok(Scp03Session::new(Role::Card, level, self.keys, mcv))
    }
}

/// Which side of the secure channel a session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The off-card entity (SM-DP, SM-SR): wraps commands, unwraps responses.
    Host,
    /// The security domain: unwraps commands, wraps responses.
    Card,
}

/// An open SCP03 secure channel session (either side).
pub struct Scp03Session {
    role: Role,
    level: SecurityLevel,
    keys: SessionKeys,
    mcv: Block,
    counter: u64,
    open: bool,
}

impl fmt::Debug for Scp03Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scp03Session")
            .field("role", &self.role)
            .field("level", &self.level)
            .field("counter", &self.counter)
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl Scp03Session {
    fn new(role: Role, level: SecurityLevel, keys: SessionKeys, mcv: Block) -> Self {
        Self {
            role,
            level,
            keys,
            mcv,
            counter: 0,
            open: true,
        }
    }

    /// Which side this session is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The security level in force.
    pub fn security_level(&self) -> SecurityLevel {
        self.level
    }

    /// Whether the session is still open.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The encryption counter of the last command (0 right after EXTERNAL AUTHENTICATE).
    pub fn encryption_counter(&self) -> u64 {
        self.counter
    }

    /// The current MAC chaining value (the full C-MAC of the last command).
    pub fn mac_chaining_value(&self) -> &Block {
        &self.mcv
    }

    /// Closes the session; every later operation fails with [`Scp03Error::SessionClosed`].
    pub fn close(&mut self) {
        self.open = false;
    }

    pub(crate) fn check(&self, role: Role) -> Result<(), Scp03Error> {
        if self.role != role {
            return Err(Scp03Error::WrongRole);
        }
        if !self.open {
            return Err(Scp03Error::SessionClosed);
        }
        Ok(())
    }

    /// Closes the session and passes the error on.
    pub(crate) fn fail<T>(&mut self, e: Scp03Error) -> Result<T, Scp03Error> {
        self.open = false;
        Err(e)
    }

    pub(crate) fn next_counter(&self) -> Result<u64, Scp03Error> {
        self.counter
            .checked_add(1)
            .ok_or(Scp03Error::CounterExhausted)
    }

    pub(crate) fn keys(&self) -> &SessionKeys {
        &self.keys
    }

    /// Commits the state after a verified or produced command.
    pub(crate) fn advance(&mut self, counter: u64, mcv: Block) {
        self.counter = counter;
        self.mcv = mcv;
    }

    /// ICV for command (`response == false`) or response encryption with `counter`.
    pub(crate) fn icv(&self, counter: u64, response: bool) -> Block {
        let mut block = [0u8; BLOCK_LEN];
        block[8..].copy_from_slice(&counter.to_be_bytes());
        if response {
            block[0] = 0x80;
        }
        self.keys.s_enc.encrypt_block(&mut block);
        block
    }

    /// Host: protects a command APDU at the session's security level.
    pub fn wrap_command(&mut self, apdu: &[u8]) -> Result<Vec<u8>, Scp03Error> {
        self.check(Role::Host)?;
        let cmd = CommandApdu::parse(apdu)?;
        // Bits 08 and the channel bits are not covered by the C-MAC; 40 marks further channels.
        if cmd.cla & 0x4C != 0 || cmd.cla == 0xFF {
            return Err(Scp03Error::UnsupportedCla(cmd.cla));
        }
        let counter = self.next_counter()?;
        let mut data = Vec::with_capacity(cmd.data.len() + BLOCK_LEN + MAC_LEN);
        data.extend_from_slice(cmd.data);
        if self.level.c_dec() && !data.is_empty() {
            pad_m2(&mut data);
            let icv = self.icv(counter, false);
            self.keys.s_enc.cbc_encrypt_in_place(&icv, &mut data)?;
        }
        let lc = u8::try_from(data.len() + MAC_LEN)
            .map_err(|_| Scp03Error::CommandTooLong(data.len() + MAC_LEN))?;
        let mac_header = [
            (cmd.cla & 0xF0) | CLA_SECURE_MESSAGING,
            cmd.ins,
            cmd.p1,
            cmd.p2,
            lc,
        ];
        let mcv = self.keys.s_mac.cmac_parts(&[&self.mcv, &mac_header, &data]);
        self.advance(counter, mcv);
        let mut out = Vec::with_capacity(6 + data.len() + MAC_LEN);
        out.extend_from_slice(&[cmd.cla | CLA_SECURE_MESSAGING, cmd.ins, cmd.p1, cmd.p2, lc]);
        out.extend_from_slice(&data);
        out.extend_from_slice(mcv.get(..MAC_LEN).unwrap_or_default());
        if let Some(le) = cmd.le {
            out.push(le);
        }
        Ok(out)
    }

    /// Host: verifies and decrypts a response APDU (data ‖ [R-MAC] ‖ SW1 SW2).
    pub fn unwrap_response(&mut self, rapdu: &[u8]) -> Result<ResponseApdu, Scp03Error> {
        self.check(Role::Host)?;
        let (data, sw) = split_status(rapdu)?;
        if !self.level.r_mac() {
            return Ok(ResponseApdu {
                data: data.to_vec(),
                sw,
            });
        }
        if !is_success_status(sw) {
            if data.is_empty() {
                return Ok(ResponseApdu {
                    data: Vec::new(),
                    sw,
                });
            }
            return self.fail(Scp03Error::UnprotectedResponseData(sw));
        }
        let Some((body, rmac)) = data.split_at_checked(data.len().wrapping_sub(MAC_LEN)) else {
            return self.fail(Scp03Error::ResponseTooShort);
        };
        let expected = self
            .keys
            .s_rmac
            .cmac_parts(&[&self.mcv, body, &sw.to_be_bytes()]);
        if !ct_eq(expected.get(..MAC_LEN).unwrap_or_default(), rmac) {
            return self.fail(Scp03Error::MacMismatch);
        }
        let mut plain = body.to_vec();
        if self.level.r_enc()
            && !plain.is_empty()
            && let Err(e) = self.decrypt_padded(&mut plain, true)
        {
            return self.fail(e);
        }
        Ok(ResponseApdu { data: plain, sw })
    }

    fn decrypt_padded(&self, data: &mut Vec<u8>, response: bool) -> Result<(), Scp03Error> {
        if !data.len().is_multiple_of(BLOCK_LEN) {
            return Err(Scp03Error::BadPadding);
        }
        let icv = self.icv(self.counter, response);
        self.keys.s_enc.cbc_decrypt_in_place(&icv, data)?;
        let len = unpad_m2(data)?.len();
        data.truncate(len);
        Ok(())
    }

    /// Card: verifies the C-MAC of a protected command, decrypts its data and returns the plain APDU
    /// (CLA without the secure messaging bit, Lc of the plain data, Le kept).
    pub fn unwrap_command(&mut self, apdu: &[u8]) -> Result<Vec<u8>, Scp03Error> {
        self.check(Role::Card)?;
        let cmd = match CommandApdu::parse(apdu) {
            Ok(c) => c,
            Err(e) => return self.fail(e),
        };
        if cmd.cla & CLA_SECURE_MESSAGING == 0 {
            return self.fail(Scp03Error::MissingSecureMessaging);
        }
        if cmd.cla & 0x48 != 0 {
            return self.fail(Scp03Error::UnsupportedCla(cmd.cla));
        }
        let Some((body, mac)) = cmd
            .data
            .split_at_checked(cmd.data.len().wrapping_sub(MAC_LEN))
        else {
            return self.fail(Scp03Error::MalformedApdu("no room for a C-MAC"));
        };
        let mac_header = [
            (cmd.cla & 0xF0) | CLA_SECURE_MESSAGING,
            cmd.ins,
            cmd.p1,
            cmd.p2,
            cmd.data.len() as u8,
        ];
        let mcv = self.keys.s_mac.cmac_parts(&[&self.mcv, &mac_header, body]);
        if !ct_eq(mcv.get(..MAC_LEN).unwrap_or_default(), mac) {
            return self.fail(Scp03Error::MacMismatch);
        }
        let counter = match self.next_counter() {
            Ok(c) => c,
            Err(e) => return self.fail(e),
        };
        self.advance(counter, mcv);
        let mut plain = body.to_vec();
        if self.level.c_dec()
            && !plain.is_empty()
            && let Err(e) = self.decrypt_padded(&mut plain, false)
        {
            return self.fail(e);
        }
        let out = CommandApdu {
            cla: cmd.cla & !CLA_SECURE_MESSAGING,
            ins: cmd.ins,
            p1: cmd.p1,
            p2: cmd.p2,
            data: &plain,
            le: cmd.le,
        };
        out.encode()
    }

    /// Card: protects a response. With R-MAC, a success or warning status gets `data' ‖ R-MAC ‖ SW`
    /// (data encrypted under R-ENC); an error status is returned alone (any data is dropped).
    pub fn wrap_response(&mut self, data: &[u8], sw: u16) -> Result<Vec<u8>, Scp03Error> {
        self.check(Role::Card)?;
        if !self.level.r_mac() {
            let mut out = Vec::with_capacity(data.len() + 2);
            out.extend_from_slice(data);
            out.extend_from_slice(&sw.to_be_bytes());
            return Ok(out);
        }
        if !is_success_status(sw) {
            return Ok(sw.to_be_bytes().to_vec());
        }
        let mut out = Vec::with_capacity(data.len() + BLOCK_LEN + MAC_LEN + 2);
        out.extend_from_slice(data);
        if self.level.r_enc() && !out.is_empty() {
            pad_m2(&mut out);
            let icv = self.icv(self.counter, true);
            self.keys.s_enc.cbc_encrypt_in_place(&icv, &mut out)?;
        }
        if out.len() + MAC_LEN > 256 {
            return Err(Scp03Error::ResponseTooLong(out.len() + MAC_LEN));
        }
        let rmac = self
            .keys
            .s_rmac
            .cmac_parts(&[&self.mcv, &out, &sw.to_be_bytes()]);
        out.extend_from_slice(rmac.get(..MAC_LEN).unwrap_or_default());
        out.extend_from_slice(&sw.to_be_bytes());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apdu_cases() {
        let c1 = CommandApdu::parse(&[0x80, 0xF2, 0x20, 0x02]).unwrap();
        assert!(c1.data.is_empty() && c1.le.is_none());
        let c2 = CommandApdu::parse(&[0x80, 0xCA, 0x00, 0x66, 0x00]).unwrap();
        assert_eq!(c2.le, Some(0));
        let c3 = CommandApdu::parse(&[0x80, 0xE2, 0x00, 0x00, 0x02, 1, 2]).unwrap();
        assert_eq!(c3.data, &[1, 2]);
        assert_eq!(c3.le, None);
        let c4 = CommandApdu::parse(&[0x80, 0xE2, 0x00, 0x00, 0x02, 1, 2, 0]).unwrap();
        assert_eq!(c4.le, Some(0));
        assert_eq!(
            c4.encode().unwrap(),
            [0x80, 0xE2, 0x00, 0x00, 0x02, 1, 2, 0]
        );
        assert!(matches!(
            CommandApdu::parse(&[0x80, 0xE2, 0x00, 0x00, 0x03, 1]),
            Err(Scp03Error::MalformedApdu(_))
        ));
        assert_eq!(
            CommandApdu::parse(&[0x80, 0xE2, 0x00, 0x00, 0x00, 0x00, 0x01, 1]),
            Err(Scp03Error::ExtendedLengthUnsupported)
        );
        assert!(CommandApdu::parse(&[0x80, 0xE2]).is_err());
    }

    #[test]
    fn security_levels() {
        for b in [0x01, 0x03, 0x11, 0x13, 0x33] {
            assert_eq!(SecurityLevel::from_byte(b).unwrap().byte(), b);
        }
        for b in [0x00, 0x02, 0x21, 0x31, 0xFF] {
            assert_eq!(
                SecurityLevel::from_byte(b),
                Err(Scp03Error::InvalidSecurityLevel(b))
            );
        }
        let i = IParameter(0x10);
        assert!(i.check_level(SecurityLevel::C_MAC_R_MAC).is_err());
        assert!(i.check_level(SecurityLevel::C_DEC_C_MAC).is_ok());
    }
}
