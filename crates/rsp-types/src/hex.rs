//! Minimal hexadecimal text helpers used by the identifier types (crate-private).

/// Why a hex string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HexError {
    /// The text has an odd number of hex digits.
    OddLength,
    /// A character that is not a hex digit, at this character position.
    InvalidChar { position: usize, ch: char },
}

/// Upper-case hex of `bytes`, no separators.
pub(crate) fn encode_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    s
}

/// Value of one hex digit (either case).
pub(crate) const fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes hex text (either case, no separators).
pub(crate) fn decode(s: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(s.len() / 2);
    let mut high: Option<u8> = None;
    for (position, ch) in s.chars().enumerate() {
        let v = u8::try_from(ch)
            .ok()
            .and_then(nibble)
            .ok_or(HexError::InvalidChar { position, ch })?;
        match high.take() {
            None => high = Some(v),
            Some(h) => out.push((h << 4) | v),
        }
    }
    if high.is_some() {
        return Err(HexError::OddLength);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        assert_eq!(encode_upper(&[0x00, 0xAB, 0x7f]), "00AB7F");
        assert_eq!(decode("00ab7F"), Ok(vec![0x00, 0xAB, 0x7F]));
        assert_eq!(decode(""), Ok(vec![]));
        assert_eq!(decode("ABC"), Err(HexError::OddLength));
        assert_eq!(
            decode("0G"),
            Err(HexError::InvalidChar {
                position: 1,
                ch: 'G'
            })
        );
        assert_eq!(
            decode("é0"),
            Err(HexError::InvalidChar {
                position: 0,
                ch: 'é'
            })
        );
    }
}
