//! Command and response APDUs (ISO/IEC 7816-3 §12.1, ISO/IEC 7816-4 §5.1).
//!
//! [`CommandApdu::parse`] accepts the four cases in short form and in extended form (cases 2E, 3E,
//! 4E). [`CommandApdu::encode`] writes the short form whenever the data fit (at most 255 bytes and
//! an expected length of at most 256), and the extended form otherwise. `le` is the expected
//! response length Ne, not the wire byte: `Some(256)` is written `00` in short form and
//! `Some(65536)` is written `0000` in extended form.

use crate::sw::StatusWord;

/// Largest Nc of a short APDU.
pub const SHORT_MAX_DATA: usize = 255;
/// Largest Ne of a short APDU (Le byte `00`).
pub const SHORT_MAX_LE: u32 = 256;
/// Largest Nc of an extended APDU.
pub const EXTENDED_MAX_DATA: usize = 65_535;
/// Largest Ne of an extended APDU (Le bytes `0000`).
pub const EXTENDED_MAX_LE: u32 = 65_536;

/// Why APDU bytes or fields were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    /// Fewer than the 4 header bytes of a command, or fewer than 2 status bytes of a response.
    #[error("APDU too short: {actual} byte(s), at least {min} needed")]
    TooShort {
        /// Bytes received.
        actual: usize,
        /// Bytes required.
        min: usize,
    },
    /// The body length does not match any of the cases 1, 2S, 3S, 4S, 2E, 3E, 4E.
    #[error("APDU body of {body_len} byte(s) matches no ISO/IEC 7816-3 case (Lc field {lc})")]
    LengthMismatch {
        /// Bytes after the header.
        body_len: usize,
        /// Lc as read from the body (0 when absent).
        lc: usize,
    },
    /// Extended form with Lc = `000000`... an empty data field must be omitted.
    #[error("extended APDU has Lc = 0")]
    ZeroLc,
    /// More data than an extended APDU can carry.
    #[error("command data of {len} bytes exceeds 65535")]
    DataTooLong {
        /// Data length.
        len: usize,
    },
    /// An expected length of 0 or above 65536.
    #[error("expected response length {le} is outside 1..=65536")]
    BadLe {
        /// The value given.
        le: u32,
    },
}

impl ApduError {
    /// The status word a card answers when it receives such an APDU.
    pub fn status_word(&self) -> StatusWord {
        StatusWord::WRONG_LENGTH
    }
}

/// The ISO/IEC 7816-3 case of a command APDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApduCase {
    /// No data, no response data expected.
    Case1,
    /// No data, response data expected.
    Case2,
    /// Data, no response data expected.
    Case3,
    /// Data and response data expected.
    Case4,
}

/// A command APDU: header, command data (Nc = `data.len()`) and the expected response length Ne.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CommandApdu {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data; empty when absent.
    pub data: Vec<u8>,
    /// Ne, the maximum number of response bytes expected (1..=65536); `None` when Le is absent.
    pub le: Option<u32>,
}

impl CommandApdu {
    /// A case 1 APDU (header only).
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> CommandApdu {
        CommandApdu {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    /// Sets the command data.
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> CommandApdu {
        self.data = data.into();
        self
    }

    /// Sets Ne (`256` for a short `Le = 00`).
    pub fn with_le(mut self, le: u32) -> CommandApdu {
        self.le = Some(le);
        self
    }

    /// The four header bytes.
    pub fn header(&self) -> [u8; 4] {
        [self.cla, self.ins, self.p1, self.p2]
    }

    /// The case of this APDU.
    pub fn case(&self) -> ApduCase {
        match (self.data.is_empty(), self.le.is_some()) {
            (true, false) => ApduCase::Case1,
            (true, true) => ApduCase::Case2,
            (false, false) => ApduCase::Case3,
            (false, true) => ApduCase::Case4,
        }
    }

    /// Whether [`CommandApdu::encode`] uses the extended length form.
    pub fn is_extended(&self) -> bool {
        self.data.len() > SHORT_MAX_DATA || self.le.is_some_and(|le| le > SHORT_MAX_LE)
    }

    /// Parses a command APDU in short or extended form.
    pub fn parse(bytes: &[u8]) -> Result<CommandApdu, ApduError> {
        let (header, body) = match bytes.split_first_chunk::<4>() {
            Some(split) => split,
            None => {
                return Err(ApduError::TooShort {
                    actual: bytes.len(),
                    min: 4,
                });
            }
        };
        let [cla, ins, p1, p2] = *header;
        let (data, le) = parse_body(body)?;
        Ok(CommandApdu {
            cla,
            ins,
            p1,
            p2,
            data: data.to_vec(),
            le,
        })
    }

    /// Encodes the APDU: short form when possible, extended form otherwise.
    pub fn encode(&self) -> Result<Vec<u8>, ApduError> {
        let nc = self.data.len();
        if nc > EXTENDED_MAX_DATA {
            return Err(ApduError::DataTooLong { len: nc });
        }
        if let Some(le) = self.le
            && !(1..=EXTENDED_MAX_LE).contains(&le)
        {
            return Err(ApduError::BadLe { le });
        }
        let mut out = Vec::with_capacity(4 + 3 + nc + 3);
        out.extend_from_slice(&self.header());
        if !self.is_extended() {
            if nc > 0 {
                out.push(nc as u8);
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = self.le {
                // 256 is written as 00.
                out.push((le & 0xFF) as u8);
            }
        } else {
            out.push(0x00);
            if nc > 0 {
                out.extend_from_slice(&(nc as u16).to_be_bytes());
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = self.le {
                // 65536 is written as 0000.
                out.extend_from_slice(&((le & 0xFFFF) as u16).to_be_bytes());
            }
        }
        Ok(out)
    }
}

impl std::fmt::Debug for CommandApdu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CommandApdu({:02X} {:02X} {:02X} {:02X}",
            self.cla, self.ins, self.p1, self.p2
        )?;
        if !self.data.is_empty() {
            write!(f, " data[{}]={}", self.data.len(), hex_upper(&self.data))?;
        }
        if let Some(le) = self.le {
            write!(f, " Ne={le}")?;
        }
        write!(f, ")")
    }
}

fn short_le(b: u8) -> u32 {
    if b == 0 { 256 } else { u32::from(b) }
}

fn extended_le(hi: u8, lo: u8) -> u32 {
    match u16::from_be_bytes([hi, lo]) {
        0 => 65_536,
        n => u32::from(n),
    }
}

/// Splits the body after the header into (data, Ne) following ISO/IEC 7816-3 §12.1.3.
fn parse_body(body: &[u8]) -> Result<(&[u8], Option<u32>), ApduError> {
    let mismatch = |lc: usize| ApduError::LengthMismatch {
        body_len: body.len(),
        lc,
    };
    match body {
        // Case 1.
        [] => Ok((&[], None)),
        // Case 2S.
        [le] => Ok((&[], Some(short_le(*le)))),
        // Case 2E.
        [0, hi, lo] => Ok((&[], Some(extended_le(*hi, *lo)))),
        [0, hi, lo, rest @ ..] => {
            // Extended Lc (cases 3E, 4E); a zero extended Lc is refused.
            let lc = usize::from(u16::from_be_bytes([*hi, *lo]));
            if lc == 0 {
                return Err(ApduError::ZeroLc);
            }
            if rest.len() == lc {
                Ok((rest, None))
            } else if rest.len() == lc + 2 {
                let (data, le) = rest.split_at(lc);
                match le {
                    [a, b] => Ok((data, Some(extended_le(*a, *b)))),
                    _ => Err(mismatch(lc)),
                }
            } else {
                Err(mismatch(lc))
            }
        }
        [lc, rest @ ..] => {
            // Short Lc (cases 3S, 4S); lc != 0 here unless the body is `00 xx` (no case matches).
            let lc = usize::from(*lc);
            if lc == 0 {
                return Err(mismatch(lc));
            }
            if rest.len() == lc {
                Ok((rest, None))
            } else if rest.len() == lc + 1 {
                let (data, le) = rest.split_at(lc);
                match le {
                    [b] => Ok((data, Some(short_le(*b)))),
                    _ => Err(mismatch(lc)),
                }
            } else {
                Err(mismatch(lc))
            }
        }
    }
}

/// A response APDU: response data and the status word.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResponseApdu {
    /// Response data (may be empty).
    pub data: Vec<u8>,
    /// The trailer SW1-SW2.
    pub sw: StatusWord,
}

impl ResponseApdu {
    /// A response with data.
    pub fn new(data: impl Into<Vec<u8>>, sw: StatusWord) -> ResponseApdu {
        ResponseApdu {
            data: data.into(),
            sw,
        }
    }

    /// A response carrying only a status word.
    pub fn status(sw: StatusWord) -> ResponseApdu {
        ResponseApdu {
            data: Vec::new(),
            sw,
        }
    }

    /// `9000` with `data`.
    pub fn success(data: impl Into<Vec<u8>>) -> ResponseApdu {
        ResponseApdu::new(data, StatusWord::SUCCESS)
    }

    /// Whether the status word reports normal processing.
    pub fn is_success(&self) -> bool {
        self.sw.is_success()
    }

    /// Parses `data ‖ SW1 ‖ SW2`.
    pub fn parse(bytes: &[u8]) -> Result<ResponseApdu, ApduError> {
        match bytes.split_last_chunk::<2>() {
            Some((data, [sw1, sw2])) => Ok(ResponseApdu {
                data: data.to_vec(),
                sw: StatusWord::from_bytes(*sw1, *sw2),
            }),
            None => Err(ApduError::TooShort {
                actual: bytes.len(),
                min: 2,
            }),
        }
    }

    /// Encodes `data ‖ SW1 ‖ SW2`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.to_bytes());
        out
    }
}

impl std::fmt::Debug for ResponseApdu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResponseApdu(")?;
        if !self.data.is_empty() {
            write!(f, "data[{}]={} ", self.data.len(), hex_upper(&self.data))?;
        }
        write!(f, "{})", self.sw)
    }
}

/// The CLA byte as ISO/IEC 7816-4 §5.4.1 and GlobalPlatform code it.
///
/// First interindustry values (`000x xxxx`, or with the proprietary bit `100x xxxx` as GP uses
/// them: `80`, `84`): b5 = command chaining, b4-b3 = secure messaging, b2-b1 = logical channel 0-3.
/// Further interindustry values (`01xx xxxx` / `11xx xxxx`): b6 = secure messaging, b5 = chaining,
/// b4-b1 = logical channel 4-19. `FF` is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cla(pub u8);

impl Cla {
    /// `00`: interindustry, channel 0, no secure messaging.
    pub const ISO: Cla = Cla(0x00);
    /// `80`: GlobalPlatform proprietary, channel 0, no secure messaging.
    pub const GP: Cla = Cla(0x80);
    /// `84`: GlobalPlatform proprietary with secure messaging (C-MAC), channel 0.
    pub const GP_SECURE: Cla = Cla(0x84);

    /// Whether the value is valid at all (`FF` is reserved for PPS).
    pub fn is_valid(self) -> bool {
        self.0 != 0xFF
    }

    /// Proprietary class (b8 set): the GlobalPlatform commands.
    pub fn is_proprietary(self) -> bool {
        self.0 & 0x80 != 0
    }

    fn further(self) -> bool {
        self.0 & 0x40 != 0
    }

    /// Logical channel number (0-19).
    pub fn channel(self) -> u8 {
        if self.further() {
            4 + (self.0 & 0x0F)
        } else {
            self.0 & 0x03
        }
    }

    /// Whether a secure messaging indication is present.
    pub fn secure_messaging(self) -> bool {
        if self.further() {
            self.0 & 0x20 != 0
        } else {
            self.0 & 0x0C != 0
        }
    }

    /// Whether the command-chaining bit is set (more commands of the chain follow).
    pub fn chaining(self) -> bool {
        self.0 & 0x10 != 0
    }
}

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &[u8]) -> CommandApdu {
        CommandApdu::parse(b).unwrap()
    }

    #[test]
    fn short_cases() {
        let c1 = parse(&[0x80, 0xCA, 0x00, 0x5A]);
        assert_eq!(c1.case(), ApduCase::Case1);
        let c2 = parse(&[0x80, 0xCA, 0x00, 0x5A, 0x00]);
        assert_eq!((c2.case(), c2.le), (ApduCase::Case2, Some(256)));
        let c3 = parse(&[0x80, 0xE4, 0x00, 0x40, 0x02, 0xAA, 0xBB]);
        assert_eq!(
            (c3.case(), c3.data.as_slice()),
            (ApduCase::Case3, &[0xAA, 0xBB][..])
        );
        let c4 = parse(&[0x00, 0xA4, 0x04, 0x00, 0x01, 0x11, 0x10]);
        assert_eq!((c4.case(), c4.le), (ApduCase::Case4, Some(16)));
        for b in [
            &[0x80, 0xCA, 0x00, 0x5A][..],
            &[0x80, 0xCA, 0x00, 0x5A, 0x00],
            &[0x80, 0xE4, 0x00, 0x40, 0x02, 0xAA, 0xBB],
            &[0x00, 0xA4, 0x04, 0x00, 0x01, 0x11, 0x10],
        ] {
            assert_eq!(parse(b).encode().unwrap(), b);
        }
    }

    #[test]
    fn extended_cases() {
        let c2 = parse(&[0x80, 0xCA, 0x00, 0x5A, 0x00, 0x00, 0x00]);
        assert_eq!(c2.le, Some(65_536));
        assert_eq!(
            c2.encode().unwrap(),
            [0x80, 0xCA, 0x00, 0x5A, 0x00, 0x00, 0x00]
        );
        let data = vec![0x5A; 300];
        let mut b = vec![0x80, 0xE2, 0x88, 0x00, 0x00, 0x01, 0x2C];
        b.extend_from_slice(&data);
        let c3 = parse(&b);
        assert_eq!((c3.data.len(), c3.le), (300, None));
        assert_eq!(c3.encode().unwrap(), b);
        b.extend_from_slice(&[0x01, 0x00]);
        let c4 = parse(&b);
        assert_eq!(c4.le, Some(256));
        assert_eq!(c4.encode().unwrap(), b);
        // Short data with a large Le goes extended.
        let apdu = CommandApdu::new(0x80, 0xCA, 0xBF, 0x30)
            .with_data([0x5C, 0x02, 0x7F, 0x21])
            .with_le(1000);
        assert_eq!(
            apdu.encode().unwrap(),
            [
                0x80, 0xCA, 0xBF, 0x30, 0x00, 0x00, 0x04, 0x5C, 0x02, 0x7F, 0x21, 0x03, 0xE8
            ]
        );
        // A short-coded APDU re-encodes short even when it was received extended.
        let ext = parse(&[0x80, 0xE4, 0x00, 0x40, 0x00, 0x00, 0x01, 0x4F, 0x00, 0x10]);
        assert_eq!(
            ext.encode().unwrap(),
            [0x80, 0xE4, 0x00, 0x40, 0x01, 0x4F, 0x10]
        );
    }

    #[test]
    fn malformed() {
        assert_eq!(
            CommandApdu::parse(&[0x80, 0xCA, 0x00]),
            Err(ApduError::TooShort { actual: 3, min: 4 })
        );
        assert!(matches!(
            CommandApdu::parse(&[0x80, 0xE4, 0x00, 0x40, 0x03, 0xAA]),
            Err(ApduError::LengthMismatch { lc: 3, .. })
        ));
        assert!(matches!(
            CommandApdu::parse(&[0x80, 0xE4, 0x00, 0x40, 0x01, 0xAA, 0x00, 0x00]),
            Err(ApduError::LengthMismatch { .. })
        ));
        assert_eq!(
            CommandApdu::parse(&[0x80, 0xE4, 0x00, 0x40, 0x00, 0x00, 0x00, 0x01]),
            Err(ApduError::ZeroLc)
        );
        assert!(CommandApdu::parse(&[0x80, 0xE4, 0x00, 0x40, 0x00, 0x01]).is_err());
        assert_eq!(
            CommandApdu::new(0, 0, 0, 0).with_le(0).encode(),
            Err(ApduError::BadLe { le: 0 })
        );
        assert_eq!(
            CommandApdu::new(0, 0, 0, 0)
                .with_data(vec![0; 65_536])
                .encode(),
            Err(ApduError::DataTooLong { len: 65_536 })
        );
        assert_eq!(ApduError::ZeroLc.status_word(), StatusWord::WRONG_LENGTH);
    }

    #[test]
    fn response() {
        let r = ResponseApdu::parse(&[0x85, 0x01, 0x42, 0x90, 0x00]).unwrap();
        assert_eq!(r.data, [0x85, 0x01, 0x42]);
        assert!(r.is_success());
        assert_eq!(r.encode(), [0x85, 0x01, 0x42, 0x90, 0x00]);
        assert_eq!(
            ResponseApdu::parse(&[0x6A, 0x88]).unwrap(),
            ResponseApdu::status(StatusWord::REFERENCED_DATA_NOT_FOUND)
        );
        assert_eq!(
            ResponseApdu::parse(&[0x90]),
            Err(ApduError::TooShort { actual: 1, min: 2 })
        );
        assert_eq!(
            format!("{:?}", ResponseApdu::success([0xAB])),
            "ResponseApdu(data[1]=AB 9000 (success))"
        );
    }

    #[test]
    fn cla_bits() {
        assert!(Cla::GP.is_proprietary());
        assert!(!Cla::GP.secure_messaging());
        assert!(Cla::GP_SECURE.secure_messaging());
        assert_eq!(Cla(0x83).channel(), 3);
        assert_eq!(Cla(0xC1).channel(), 5);
        assert!(Cla(0xE0).secure_messaging());
        assert!(Cla(0x90).chaining());
        assert!(!Cla(0xFF).is_valid());
    }
}
