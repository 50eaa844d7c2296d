//! `StatusWord`: the two trailer bytes SW1-SW2 of a response APDU (ISO/IEC 7816-4 §5.6 and the
//! GlobalPlatform Card Specification, "Response messages"), with the values cards actually return.

use std::fmt;

/// A status word `SW1 SW2` as a big-endian `u16` (`0x6A88`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusWord(pub u16);

impl StatusWord {
    /// `9000`: normal processing, no further qualification.
    pub const SUCCESS: StatusWord = StatusWord(0x9000);
    /// `6282`: end of data reached before Le bytes (warning).
    pub const END_OF_DATA: StatusWord = StatusWord(0x6282);
    /// `6283`: selected file or application invalidated / locked (warning; GP: card locked).
    pub const SELECTED_FILE_INVALIDATED: StatusWord = StatusWord(0x6283);
    /// `6310`: more data available (GET STATUS: send the command again with P2 "next occurrence").
    pub const MORE_DATA_AVAILABLE: StatusWord = StatusWord(0x6310);
    /// `6400`: execution error, no precise diagnosis (state of non-volatile memory unchanged).
    pub const EXECUTION_ERROR: StatusWord = StatusWord(0x6400);
    /// `6581`: memory failure.
    pub const MEMORY_FAILURE: StatusWord = StatusWord(0x6581);
    /// `6700`: wrong length (Lc or Le).
    pub const WRONG_LENGTH: StatusWord = StatusWord(0x6700);
    /// `6881`: logical channel not supported.
    pub const LOGICAL_CHANNEL_NOT_SUPPORTED: StatusWord = StatusWord(0x6881);
    /// `6882`: secure messaging not supported.
    pub const SECURE_MESSAGING_NOT_SUPPORTED: StatusWord = StatusWord(0x6882);
    /// `6883`: last command of the chain expected.
    pub const LAST_COMMAND_OF_CHAIN_EXPECTED: StatusWord = StatusWord(0x6883);
    /// `6884`: command chaining not supported.
    pub const COMMAND_CHAINING_NOT_SUPPORTED: StatusWord = StatusWord(0x6884);
    /// `6982`: security status not satisfied.
    pub const SECURITY_STATUS_NOT_SATISFIED: StatusWord = StatusWord(0x6982);
    /// `6983`: authentication method blocked.
    pub const AUTHENTICATION_METHOD_BLOCKED: StatusWord = StatusWord(0x6983);
    /// `6984`: referenced data invalidated.
    pub const REFERENCED_DATA_INVALIDATED: StatusWord = StatusWord(0x6984);
    /// `6985`: conditions of use not satisfied (e.g. POL1 forbids the action, wrong life-cycle state).
    pub const CONDITIONS_NOT_SATISFIED: StatusWord = StatusWord(0x6985);
    /// `6A80`: incorrect values in the command data.
    pub const INCORRECT_DATA: StatusWord = StatusWord(0x6A80);
    /// `6A81`: function not supported.
    pub const FUNCTION_NOT_SUPPORTED: StatusWord = StatusWord(0x6A81);
    /// `6A82`: application or file not found.
    pub const NOT_FOUND: StatusWord = StatusWord(0x6A82);
    /// `6A84`: not enough memory space.
    pub const NOT_ENOUGH_MEMORY: StatusWord = StatusWord(0x6A84);
    /// `6A86`: incorrect parameters P1-P2.
    pub const INCORRECT_P1_P2: StatusWord = StatusWord(0x6A86);
    /// `6A87`: Lc inconsistent with P1-P2.
    pub const LC_INCONSISTENT_WITH_P1_P2: StatusWord = StatusWord(0x6A87);
    /// `6A88`: referenced data not found.
    pub const REFERENCED_DATA_NOT_FOUND: StatusWord = StatusWord(0x6A88);
    /// `6B00`: wrong parameters P1-P2.
    pub const WRONG_P1_P2: StatusWord = StatusWord(0x6B00);
    /// `6D00`: instruction code not supported or invalid.
    pub const INS_NOT_SUPPORTED: StatusWord = StatusWord(0x6D00);
    /// `6E00`: class not supported.
    pub const CLA_NOT_SUPPORTED: StatusWord = StatusWord(0x6E00);
    /// `6F00`: no precise diagnosis.
    pub const NO_PRECISE_DIAGNOSIS: StatusWord = StatusWord(0x6F00);

    /// Builds a status word from its two bytes.
    pub const fn from_bytes(sw1: u8, sw2: u8) -> StatusWord {
        StatusWord(u16::from_be_bytes([sw1, sw2]))
    }

    /// `61xx`: normal processing, `available` more response bytes (`00` means 256 or more).
    pub const fn bytes_available(available: u8) -> StatusWord {
        StatusWord::from_bytes(0x61, available)
    }

    /// `6Cxx`: wrong Le; `exact` is the number of bytes available.
    pub const fn wrong_le(exact: u8) -> StatusWord {
        StatusWord::from_bytes(0x6C, exact)
    }

    /// SW1.
    pub const fn sw1(self) -> u8 {
        self.0.to_be_bytes()[0]
    }

    /// SW2.
    pub const fn sw2(self) -> u8 {
        self.0.to_be_bytes()[1]
    }

    /// The two bytes `[SW1, SW2]`.
    pub const fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }

    /// Normal processing: `9000` or `61xx` (more response bytes to fetch with GET RESPONSE).
    pub const fn is_success(self) -> bool {
        self.0 == 0x9000 || self.sw1() == 0x61
    }

    /// A warning: `62xx` or `63xx` (processing completed, possibly with a qualification such as
    /// `6310` "more data available").
    pub const fn is_warning(self) -> bool {
        matches!(self.sw1(), 0x62 | 0x63)
    }

    /// Neither success nor warning: the command was not executed (or failed).
    pub const fn is_error(self) -> bool {
        !self.is_success() && !self.is_warning()
    }

    /// A short English description, when the value is known.
    pub fn description(self) -> Option<&'static str> {
        let text = match self.0 {
            0x9000 => "success",
            0x6282 => "end of data reached before Le bytes",
            0x6283 => "selected file or application invalidated",
            0x6310 => "more data available",
            0x6400 => "execution error",
            0x6581 => "memory failure",
            0x6700 => "wrong length",
            0x6881 => "logical channel not supported",
            0x6882 => "secure messaging not supported",
            0x6883 => "last command of the chain expected",
            0x6884 => "command chaining not supported",
            0x6982 => "security status not satisfied",
            0x6983 => "authentication method blocked",
            0x6984 => "referenced data invalidated",
            0x6985 => "conditions of use not satisfied",
            0x6A80 => "incorrect values in command data",
            0x6A81 => "function not supported",
            0x6A82 => "application or file not found",
            0x6A84 => "not enough memory space",
            0x6A86 => "incorrect P1 P2",
            0x6A87 => "Lc inconsistent with P1 P2",
            0x6A88 => "referenced data not found",
            0x6B00 => "wrong P1 P2",
            0x6D00 => "instruction not supported",
            0x6E00 => "class not supported",
            0x6F00 => "no precise diagnosis",
            _ => match self.sw1() {
                0x61 => "more response bytes available",
                0x6C => "wrong Le",
                0x63 if self.sw2() & 0xF0 == 0xC0 => "verification failed, counter in SW2",
                0x62 | 0x63 => "warning",
                0x64 | 0x65 => "execution error",
                _ => return None,
            },
        };
        Some(text)
    }
}

impl From<u16> for StatusWord {
    fn from(v: u16) -> StatusWord {
        StatusWord(v)
    }
}

impl From<StatusWord> for u16 {
    fn from(sw: StatusWord) -> u16 {
        sw.0
    }
}

impl fmt::Display for StatusWord {
    /// `6A88 (referenced data not found)`, or just `6Fxx` hex when the value is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.description() {
            Some(d) => write!(f, "{:04X} ({d})", self.0),
            None => write!(f, "{:04X}", self.0),
        }
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusWord({:04X})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_classes() {
        assert_eq!(
            StatusWord::REFERENCED_DATA_NOT_FOUND.to_string(),
            "6A88 (referenced data not found)"
        );
        assert_eq!(StatusWord::SUCCESS.to_string(), "9000 (success)");
        assert_eq!(StatusWord(0x1234).to_string(), "1234");
        assert_eq!(
            StatusWord::bytes_available(0x10).to_string(),
            "6110 (more response bytes available)"
        );
        assert!(StatusWord::SUCCESS.is_success());
        assert!(StatusWord::bytes_available(0).is_success());
        assert!(StatusWord::MORE_DATA_AVAILABLE.is_warning());
        assert!(!StatusWord::MORE_DATA_AVAILABLE.is_success());
        assert!(StatusWord::CONDITIONS_NOT_SATISFIED.is_error());
        assert_eq!(
            StatusWord::from_bytes(0x6A, 0x80),
            StatusWord::INCORRECT_DATA
        );
        assert_eq!(StatusWord::wrong_le(0x12).to_bytes(), [0x6C, 0x12]);
        assert_eq!(StatusWord::INCORRECT_P1_P2.sw1(), 0x6A);
        assert_eq!(StatusWord::INCORRECT_P1_P2.sw2(), 0x86);
    }
}
