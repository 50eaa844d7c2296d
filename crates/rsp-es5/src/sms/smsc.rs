//! The SMSC abstraction and an in-process SMSC.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

use thiserror::Error;

use super::{DCS_8BIT_CLASS2, MAX_USER_DATA, PID_SIM_DATA_DOWNLOAD, SmsAddress};

/// Default bound of each in-process queue.
pub const DEFAULT_QUEUE_LIMIT: usize = 4096;

/// Why the SMSC did not take or give a message.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SmscError {
    /// TP-User-Data longer than 140 octets.
    #[error("user data of {0} octets exceeds the 140 octets of one short message")]
    UserDataTooLong(usize),
    /// The queue for the destination is full.
    #[error("SMSC queue for {0} is full")]
    QueueFull(SmsAddress),
    /// The SMSC cannot be used (link down, internal failure).
    #[error("SMSC unavailable: {0}")]
    Unavailable(String),
}

/// Direction and TPDU type of a short message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmKind {
    /// Mobile terminated: delivered to the device as SMS-DELIVER (SM-SR → card).
    MobileTerminated,
    /// Mobile originated: sent by the device as SMS-SUBMIT (card → SM-SR).
    MobileOriginated,
    /// Mobile originated inside the RP-ACK of an SMS-DELIVER-REPORT (a PoR when SPI2 b6 = 0).
    DeliverReport,
}

/// One short message as an SMSC handles it. `user_data` is the TP-User-Data (8-bit data),
/// including the user data header when `udhi` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortMessage {
    /// Sender address.
    pub originator: SmsAddress,
    /// Recipient address.
    pub destination: SmsAddress,
    /// Direction.
    pub kind: SmKind,
    /// TP-PID (`7F` for secured packets).
    pub protocol_id: u8,
    /// TP-DCS (`F6` for secured packets).
    pub data_coding: u8,
    /// TP-UDHI: `user_data` starts with a user data header.
    pub udhi: bool,
    /// TP-User-Data, at most 140 octets.
    pub user_data: Vec<u8>,
}

impl ShortMessage {
    /// A message carrying (part of) a secured packet: PID `7F`, DCS `F6`, UDHI set.
    pub fn secured(
        originator: SmsAddress,
        destination: SmsAddress,
        kind: SmKind,
        user_data: Vec<u8>,
    ) -> ShortMessage {
        ShortMessage {
            originator,
            destination,
            kind,
            protocol_id: PID_SIM_DATA_DOWNLOAD,
            data_coding: DCS_8BIT_CLASS2,
            udhi: true,
            user_data,
        }
    }
}

/// The identifier an SMSC gives a submitted message (SMPP `message_id`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MessageId(pub String);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.0)
    }
}

/// An SMSC as the ES5 SMS transport sees it: hand over one short message, take the next one waiting
/// for an address. Both calls are non-blocking; both ends (SM-SR and simulated card) use the same
/// trait, each receiving on its own address.
///
/// # Mapping to SMPP 3.4 (for a future client)
/// An SMPP implementation keeps a transceiver bind in a background task and exchanges messages with
/// these methods through bounded channels:
/// - [`Smsc::submit`] of a [`SmKind::MobileTerminated`] message → `submit_sm` with `source_addr` =
///   originator, `destination_addr` = destination (TON/NPI international/ISDN when the address
///   starts with `+`, else unknown/ISDN), `esm_class` `0x40` (UDHI) when `udhi`, `protocol_id` =
///   TP-PID (`0x7F`), `data_coding` = TP-DCS (`0xF6`), `short_message` = `user_data`; the
///   `message_id` of `submit_sm_resp` is the returned [`MessageId`]. A `submit_sm_resp` error maps
///   to [`SmscError::Unavailable`] (or [`SmscError::QueueFull`] for throttling, `ESME_RTHROTTLED`).
/// - `deliver_sm` PDUs received on the bind (not delivery receipts, `esm_class` bits 2-5 = 0) become
///   [`SmKind::MobileOriginated`] messages addressed to `destination_addr`; the client answers
///   `deliver_sm_resp` only once the message is in its inbound buffer, and [`Smsc::receive`] pops
///   from that buffer.
/// - [`SmKind::DeliverReport`] has no SMPP equivalent: a PoR inside the RP-ACK never reaches an
///   ESME. Cards reached through SMPP must be asked for PoRs by SMS-SUBMIT (SPI2 b6 = 1, as in
///   `39`). The in-process SMSC delivers such reports like MO messages.
pub trait Smsc: Send + Sync {
    /// Hands one short message over for delivery to `message.destination`.
    fn submit(&self, message: ShortMessage) -> Result<MessageId, SmscError>;

    /// Takes the next message waiting for `address`, if any.
    fn receive(&self, address: &SmsAddress) -> Result<Option<ShortMessage>, SmscError>;
}

impl<T: Smsc + ?Sized> Smsc for Arc<T> {
    fn submit(&self, message: ShortMessage) -> Result<MessageId, SmscError> {
        (**self).submit(message)
    }
    fn receive(&self, address: &SmsAddress) -> Result<Option<ShortMessage>, SmscError> {
        (**self).receive(address)
    }
}

impl<T: Smsc + ?Sized> Smsc for &T {
    fn submit(&self, message: ShortMessage) -> Result<MessageId, SmscError> {
        (**self).submit(message)
    }
    fn receive(&self, address: &SmsAddress) -> Result<Option<ShortMessage>, SmscError> {
        (**self).receive(address)
    }
}

#[derive(Debug, Default)]
struct State {
    queues: HashMap<SmsAddress, VecDeque<ShortMessage>>,
    next_id: u64,
}

/// An SMSC in memory: one FIFO queue per destination address, bounded. Cloning shares the queues,
/// so the SM-SR and any number of simulated cards can hold the same SMSC.
#[derive(Debug, Clone)]
pub struct InProcessSmsc {
    state: Arc<Mutex<State>>,
    limit: usize,
}

impl Default for InProcessSmsc {
    fn default() -> Self {
        InProcessSmsc::new()
    }
}

impl InProcessSmsc {
    /// An empty SMSC with queues of [`DEFAULT_QUEUE_LIMIT`] messages.
    pub fn new() -> InProcessSmsc {
        InProcessSmsc::with_queue_limit(DEFAULT_QUEUE_LIMIT)
    }

    /// An empty SMSC with queues of at most `limit` messages.
    pub fn with_queue_limit(limit: usize) -> InProcessSmsc {
        InProcessSmsc {
            state: Arc::new(Mutex::new(State::default())),
            limit,
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, SmscError> {
        self.state
            .lock()
            .map_err(|_| SmscError::Unavailable("in-process SMSC lock poisoned".into()))
    }

    /// Number of messages waiting for `address`.
    pub fn pending(&self, address: &SmsAddress) -> Result<usize, SmscError> {
        Ok(self.lock()?.queues.get(address).map_or(0, VecDeque::len))
    }

    /// Removes and returns every message waiting for `address` (tests use it to tamper with,
    /// reorder or drop messages before re-submitting them).
    pub fn take_all(&self, address: &SmsAddress) -> Result<Vec<ShortMessage>, SmscError> {
        Ok(self
            .lock()?
            .queues
            .remove(address)
            .map(Vec::from)
            .unwrap_or_default())
    }
}

impl Smsc for InProcessSmsc {
    fn submit(&self, message: ShortMessage) -> Result<MessageId, SmscError> {
        if message.user_data.len() > MAX_USER_DATA {
            return Err(SmscError::UserDataTooLong(message.user_data.len()));
        }
        let mut state = self.lock()?;
        let queue = state.queues.entry(message.destination.clone()).or_default();
        if queue.len() >= self.limit {
            return Err(SmscError::QueueFull(message.destination));
        }
        queue.push_back(message);
        state.next_id += 1;
        Ok(MessageId(format!("{:010}", state.next_id)))
    }

    fn receive(&self, address: &SmsAddress) -> Result<Option<ShortMessage>, SmscError> {
        let mut state = self.lock()?;
        let Some(queue) = state.queues.get_mut(address) else {
            return Ok(None);
        };
        let next = queue.pop_front();
        if queue.is_empty() {
            state.queues.remove(address);
        }
        Ok(next)
    }
}
