//! The vpcd wire format: every message, in both directions, is a 2-byte big-endian length followed by
//! that many payload bytes. From the reader (vpcd) to the card, a 1-byte payload is a control message
//! ([`Message::PowerOff`], [`Message::PowerOn`], [`Message::Reset`], [`Message::GetAtr`]) and anything
//! longer is a command APDU. From the card, the payload is the ATR (answer to Get ATR) or the response
//! APDU (answer to a command); power off, power on and reset get no answer.

/// The TCP port vpcd listens on for its first reader (`0x8C7B`); the card connects to it.
pub const DEFAULT_PORT: u16 = 35963;

/// The largest payload a frame can carry (its length field is 16 bits).
pub const MAX_PAYLOAD: usize = u16::MAX as usize;

/// Control byte: remove power from the card.
pub const CTRL_POWER_OFF: u8 = 0x00;
/// Control byte: power the card up (cold reset).
pub const CTRL_POWER_ON: u8 = 0x01;
/// Control byte: warm reset.
pub const CTRL_RESET: u8 = 0x02;
/// Control byte: send the ATR.
pub const CTRL_GET_ATR: u8 = 0x04;

/// A framing error: the peer does not speak vpcd, the connection should be dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A frame announced a zero-length payload, which no vpcd message has.
    #[error("empty vpcd frame (length 0)")]
    Empty,
    /// A payload does not fit the 16-bit length field.
    #[error("payload of {0} bytes exceeds the vpcd frame limit of {MAX_PAYLOAD} bytes")]
    TooLong(usize),
}

/// A message from the reader (vpcd) to the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `0x00`: power off. No answer.
    PowerOff,
    /// `0x01`: power on. No answer.
    PowerOn,
    /// `0x02`: reset. No answer.
    Reset,
    /// `0x04`: get ATR. Answered by the ATR.
    GetAtr,
    /// Any other 1-byte payload: a control this implementation does not know.
    UnknownControl(u8),
    /// A payload of two bytes or more: a command APDU, answered by the response APDU.
    Apdu(Vec<u8>),
}

impl Message {
    /// Interprets a frame payload.
    pub fn from_payload(payload: &[u8]) -> Result<Message, FrameError> {
        match payload {
            [] => Err(FrameError::Empty),
            [CTRL_POWER_OFF] => Ok(Message::PowerOff),
            [CTRL_POWER_ON] => Ok(Message::PowerOn),
            [CTRL_RESET] => Ok(Message::Reset),
            [CTRL_GET_ATR] => Ok(Message::GetAtr),
            [other] => Ok(Message::UnknownControl(*other)),
            apdu => Ok(Message::Apdu(apdu.to_vec())),
        }
    }

    /// The frame payload of this message (the reader side; used by tests and fake readers).
    pub fn to_payload(&self) -> Vec<u8> {
        match self {
            Message::PowerOff => vec![CTRL_POWER_OFF],
            Message::PowerOn => vec![CTRL_POWER_ON],
            Message::Reset => vec![CTRL_RESET],
            Message::GetAtr => vec![CTRL_GET_ATR],
            Message::UnknownControl(b) => vec![*b],
            Message::Apdu(apdu) => apdu.clone(),
        }
    }
}

/// Frames `payload`: its length as 2 bytes big-endian, then the payload.
pub fn encode_frame(payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    if payload.is_empty() {
        return Err(FrameError::Empty);
    }
    let len = u16::try_from(payload.len()).map_err(|_| FrameError::TooLong(payload.len()))?;
    let mut frame = Vec::with_capacity(2 + payload.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// Reassembles frames from a byte stream that arrives in arbitrary pieces. It buffers at most one
/// frame plus whatever the last [`FrameDecoder::push`] brought.
#[derive(Debug, Default, Clone)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete payload, `Ok(None)` when more bytes are needed. After an error the
    /// stream cannot be resynchronised: drop the connection (and [`FrameDecoder::clear`]).
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let Some(&[hi, lo]) = self.buf.first_chunk::<2>() else {
            return Ok(None);
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if len == 0 {
            return Err(FrameError::Empty);
        }
        let Some(payload) = self.buf.get(2..2 + len) else {
            return Ok(None);
        };
        let payload = payload.to_vec();
        self.buf.drain(..2 + len);
        Ok(Some(payload))
    }

    /// Bytes received and not yet returned as a frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Forgets buffered bytes (the connection was dropped).
    pub fn clear(&mut self) {
        self.buf.clear();
    }
}
