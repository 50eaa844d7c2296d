//! [`Session`]: the card side of one vpcd connection as a state machine. Bytes received from the
//! reader go in ([`Session::receive`]), [`Action`]s come out (bytes to send back, or drop the
//! connection). No IO: the loop in [`crate::serve`] or a test feeds it.

use rsp_gp::{ApduCard, StatusWord};

use crate::codec::{FrameDecoder, FrameError, Message, encode_frame};

/// What the IO side must do after [`Session::receive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes (one complete frame) to the reader.
    Send(Vec<u8>),
    /// The reader broke the framing: close the connection, then call [`Session::disconnected`].
    Disconnect(FrameError),
}

/// Counters over the life of a session (all connections).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Power on and reset controls executed (each one reset the card).
    pub resets: u64,
    /// Command APDUs answered.
    pub apdus: u64,
    /// Controls this implementation does not know, ignored.
    pub unknown_controls: u64,
}

/// The card behind one reader slot: power state, the ATR of the last reset and the frame decoder.
#[derive(Debug)]
pub struct Session<C> {
    card: C,
    decoder: FrameDecoder,
    powered: bool,
    atr: Option<Vec<u8>>,
    stats: Stats,
}

impl<C: ApduCard> Session<C> {
    /// A session with the card unpowered.
    pub fn new(card: C) -> Session<C> {
        Session {
            card,
            decoder: FrameDecoder::new(),
            powered: false,
            atr: None,
            stats: Stats::default(),
        }
    }

    /// Processes received bytes (any split: partial frames wait for the rest) and returns what to
    /// send back, in order. After an [`Action::Disconnect`] the rest of the bytes are discarded.
    pub fn receive(&mut self, bytes: &[u8]) -> Vec<Action> {
        self.decoder.push(bytes);
        let mut actions = Vec::new();
        loop {
            let message = match self.decoder.next_frame().and_then(|frame| match frame {
                Some(payload) => Message::from_payload(&payload).map(Some),
                None => Ok(None),
            }) {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(e) => {
                    self.decoder.clear();
                    actions.push(Action::Disconnect(e));
                    break;
                }
            };
            if let Some(reply) = self.handle(message) {
                actions.push(Action::Send(reply));
            }
        }
        actions
    }

    /// Executes one message; returns the framed answer, if the message has one.
    pub fn handle(&mut self, message: Message) -> Option<Vec<u8>> {
        match message {
            Message::PowerOff => {
                tracing::debug!("vpcd: power off");
                self.card.power_off();
                self.powered = false;
                self.atr = None;
                None
            }
            Message::PowerOn | Message::Reset => {
                tracing::debug!(?message, "vpcd: reset");
                self.atr = Some(self.card.reset());
                self.powered = true;
                self.stats.resets += 1;
                None
            }
            Message::GetAtr => {
                // vpcd asks for the ATR to see whether a card is present, powered or not: an
                // unpowered card answers with the ATR it would give, without being reset now.
                let atr = match &self.atr {
                    Some(atr) => atr.clone(),
                    None => {
                        let atr = self.card.reset();
                        self.card.power_off();
                        self.atr = Some(atr.clone());
                        atr
                    }
                };
                Some(frame_or_error(&atr))
            }
            Message::UnknownControl(byte) => {
                tracing::debug!(byte, "vpcd: unknown control ignored");
                self.stats.unknown_controls += 1;
                None
            }
            Message::Apdu(command) => {
                let response = if self.powered {
                    self.stats.apdus += 1;
                    self.card.transmit(&command)
                } else {
                    tracing::debug!("vpcd: APDU to an unpowered card");
                    StatusWord::NO_PRECISE_DIAGNOSIS.to_bytes().to_vec()
                };
                Some(frame_or_error(&response))
            }
        }
    }

    /// The connection is gone: the card is removed from the reader (powered off) and buffered
    /// bytes are dropped.
    pub fn disconnected(&mut self) {
        self.decoder.clear();
        if self.powered {
            self.card.power_off();
        }
        self.powered = false;
        self.atr = None;
    }

    /// Whether the reader powered the card (and has not powered it off since).
    pub fn is_powered(&self) -> bool {
        self.powered
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The card.
    pub fn card(&self) -> &C {
        &self.card
    }

    /// The card, mutably.
    pub fn card_mut(&mut self) -> &mut C {
        &mut self.card
    }

    /// Ends the session and gives the card back.
    pub fn into_card(self) -> C {
        self.card
    }
}

/// Frames a card answer; one that does not fit a frame (an ATR or response over 65535 bytes, or an
/// empty one, both card bugs) becomes the status word `6F00`.
fn frame_or_error(payload: &[u8]) -> Vec<u8> {
    encode_frame(payload).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "vpcd: card answer cannot be framed, sending 6F00");
        let sw = StatusWord::NO_PRECISE_DIAGNOSIS.to_bytes();
        vec![0x00, 0x02, sw[0], sw[1]]
    })
}
