//! ES10a/b/c over APDUs (SGP.22 §5.7.2, GlobalPlatform STORE DATA), both ends, pure.
//!
//! An ES10 command is one BER-TLV (`BF38 …`). The LPA sends it to the ISD-R in STORE DATA
//! commands: CLA `80` (with the logical-channel bits), INS `E2`, P1 `11` for "more blocks" and
//! `91` for the last block (b8 last block, b5 BER-TLV, b1 "case 4 command"), P2 the block number
//! from `00`, at most 255 data bytes each, and Le `00`. The eUICC answers the intermediate blocks
//! with `90 00` and the last one with the response TLV; a response that does not fit comes in
//! pieces announced by `61 xx` and fetched with GET RESPONSE (`00 C0 00 00 xx`).
//!
//! Facts checked against public LPAs: lpac sends P1 `11`/`91`, P2 = block number and
//! fetches `61 xx` remainders with GET RESPONSE (its CLA `80` ORed with the channel); pySim sends
//! single-block `80 E2 91 00` without Le. The card side here accepts both forms (Le present or
//! absent, GET RESPONSE with CLA `00` or `80`).
//!
//! - LPA side: [`store_data_apdus`] (split), [`CommandExchange`] (a sans-IO exchange that also
//!   follows `61 xx` and `6C xx`), [`exchange`] (the same driven by a transmit closure).
//! - Card side: [`BlockReassembler`] (order checks, a size limit), [`ResponseSender`] (splits a
//!   long response into `61 xx` pieces), and [`Es10Channel`] combining both for one logical
//!   channel.
//!
//! This module works on APDU fields and bytes only; parsing a full command APDU is the card's
//! job (`rsp_gp::CommandApdu`).

/// INS of STORE DATA.
pub const INS_STORE_DATA: u8 = 0xE2;
/// INS of GET RESPONSE.
pub const INS_GET_RESPONSE: u8 = 0xC0;
/// P1 of a STORE DATA block that more blocks follow.
pub const P1_MORE_BLOCKS: u8 = 0x11;
/// P1 of the last STORE DATA block.
pub const P1_LAST_BLOCK: u8 = 0x91;
/// Largest data field of one STORE DATA block (short APDU).
pub const MAX_BLOCK_DATA: usize = 255;
/// Largest response piece one short APDU carries (Le `00`).
pub const MAX_RESPONSE_PIECE: usize = 256;
/// The CLA of ES10 STORE DATA on the basic channel (GlobalPlatform proprietary class).
pub const CLA_ES10: u8 = 0x80;
/// The CLA of GET RESPONSE on the basic channel (inter-industry class).
pub const CLA_GET_RESPONSE: u8 = 0x00;
/// Largest logical channel number (ISO/IEC 7816-4: 0-3 basic coding, 4-19 further coding).
pub const MAX_LOGICAL_CHANNEL: u8 = 19;
/// Default limit of a reassembled ES10 command (a BPP segment fits easily).
pub const DEFAULT_MAX_COMMAND_LEN: usize = 64 * 1024;

/// Status words this module produces or interprets.
pub mod sw {
    /// Normal processing.
    pub const SUCCESS: u16 = 0x9000;
    /// Wrong length (Lc or Le).
    pub const WRONG_LENGTH: u16 = 0x6700;
    /// Conditions of use not satisfied (e.g. GET RESPONSE with nothing pending).
    pub const CONDITIONS_NOT_SATISFIED: u16 = 0x6985;
    /// Incorrect data in the command.
    pub const INCORRECT_DATA: u16 = 0x6A80;
    /// Not enough memory (command larger than the card accepts).
    pub const NOT_ENOUGH_MEMORY: u16 = 0x6A84;
    /// Incorrect P1 or P2 (unknown P1, block out of order).
    pub const INCORRECT_P1_P2: u16 = 0x6A86;
    /// Wrong P1 P2 (inter-industry form, GET RESPONSE with P1 P2 other than `00 00`).
    pub const WRONG_P1_P2: u16 = 0x6B00;
    /// INS not supported.
    pub const INS_NOT_SUPPORTED: u16 = 0x6D00;
    /// CLA not supported.
    pub const CLA_NOT_SUPPORTED: u16 = 0x6E00;
    /// Logical channel not supported.
    pub const LOGICAL_CHANNEL_NOT_SUPPORTED: u16 = 0x6881;
    /// Secure messaging not supported.
    pub const SECURE_MESSAGING_NOT_SUPPORTED: u16 = 0x6882;
    /// SW1 announcing more response bytes (`61 xx`).
    pub const SW1_MORE_DATA: u8 = 0x61;
    /// SW1 asking to repeat with the exact Le (`6C xx`).
    pub const SW1_WRONG_LE: u8 = 0x6C;
}

/// Why an ES10 exchange failed (LPA side) or a block was refused (card side).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Es10Error {
    /// An empty ES10 command (there is always at least a tag).
    #[error("empty ES10 command")]
    EmptyCommand,
    /// More blocks than P2 can number (256).
    #[error("ES10 command of {len} bytes needs more than 256 STORE DATA blocks")]
    CommandTooLong {
        /// Command length.
        len: usize,
    },
    /// A block size outside 1..=255.
    #[error("STORE DATA block size {0} is outside 1..=255")]
    BadBlockSize(usize),
    /// A logical channel above 19.
    #[error("logical channel {0} is outside 0..=19")]
    BadChannel(u8),
    /// The card answered fewer than two bytes.
    #[error("response APDU of {0} byte(s) has no status word")]
    ShortResponse(usize),
    /// The card refused a block or the command.
    #[error("card answered status word {sw:04X} (STORE DATA block {block:?}, None = GET RESPONSE)")]
    Status {
        /// The status word.
        sw: u16,
        /// Block number (P2) of the STORE DATA it answered; `None` for GET RESPONSE.
        block: Option<u8>,
    },
    /// The response grew beyond the limit the LPA set.
    #[error("response exceeds {limit} bytes")]
    ResponseTooLong {
        /// The limit.
        limit: usize,
    },
    /// The exchange was driven after it ended, or a response came when none was expected.
    #[error("ES10 exchange driven out of order")]
    OutOfOrder,
    /// A card-side refusal, with the status word to answer.
    #[error("block refused: {reason} (SW {sw:04X})")]
    Refused {
        /// Status word for the R-APDU.
        sw: u16,
        /// What is wrong.
        reason: &'static str,
    },
}

impl Es10Error {
    /// The status word the card answers for a card-side refusal (`6F00` for LPA-side errors).
    pub fn status_word(&self) -> u16 {
        match self {
            Es10Error::Refused { sw, .. } => *sw,
            Es10Error::Status { sw, .. } => *sw,
            _ => 0x6F00,
        }
    }
}

/// The CLA byte for `base` (`80` or `00`) on logical channel `channel`, ISO/IEC 7816-4 §5.4.1:
/// channels 0-3 in b2-b1, channels 4-19 as `channel - 4` in b4-b1 with b7 set.
pub fn cla_for_channel(base: u8, channel: u8) -> Result<u8, Es10Error> {
    match channel {
        0..=3 => Ok((base & 0x80) | channel),
        4..=MAX_LOGICAL_CHANNEL => Ok((base & 0x80) | 0x40 | (channel - 4)),
        _ => Err(Es10Error::BadChannel(channel)),
    }
}

/// The logical channel a CLA byte addresses (the inverse of [`cla_for_channel`]).
pub fn channel_of_cla(cla: u8) -> u8 {
    if cla & 0x40 == 0 {
        cla & 0x03
    } else {
        4 + (cla & 0x0F)
    }
}

/// Whether the CLA byte asks for secure messaging (b4-b3 in the first inter-industry coding, b6 in
/// the further coding).
pub fn cla_secure_messaging(cla: u8) -> bool {
    if cla & 0x40 == 0 {
        cla & 0x0C != 0
    } else {
        cla & 0x20 != 0
    }
}

/// Splits an ES10 command into STORE DATA APDUs for `channel`, each carrying at most
/// `block_size` (1..=255) data bytes, in the short form `CLA E2 P1 P2 Lc data 00`.
pub fn store_data_apdus(
    command: &[u8],
    channel: u8,
    block_size: usize,
) -> Result<Vec<Vec<u8>>, Es10Error> {
    if command.is_empty() {
        return Err(Es10Error::EmptyCommand);
    }
    if !(1..=MAX_BLOCK_DATA).contains(&block_size) {
        return Err(Es10Error::BadBlockSize(block_size));
    }
    let cla = cla_for_channel(CLA_ES10, channel)?;
    let blocks: Vec<&[u8]> = command.chunks(block_size).collect();
    if blocks.len() > 256 {
        return Err(Es10Error::CommandTooLong { len: command.len() });
    }
    let last = blocks.len().saturating_sub(1);
    Ok(blocks
        .iter()
        .enumerate()
        .map(|(i, block)| {
            let p1 = if i == last {
                P1_LAST_BLOCK
            } else {
                P1_MORE_BLOCKS
            };
            let mut apdu = Vec::with_capacity(block.len() + 6);
            // `i < 256` and `block.len() <= 255` are checked above.
            apdu.extend_from_slice(&[cla, INS_STORE_DATA, p1, i as u8, block.len() as u8]);
            apdu.extend_from_slice(block);
            apdu.push(0x00);
            apdu
        })
        .collect())
}

/// The GET RESPONSE APDU for `channel` asking for `le` bytes (`00` = 256).
pub fn get_response_apdu(channel: u8, le: u8) -> Result<Vec<u8>, Es10Error> {
    let cla = cla_for_channel(CLA_GET_RESPONSE, channel)?;
    Ok(vec![cla, INS_GET_RESPONSE, 0x00, 0x00, le])
}

/// Splits a response APDU into data and status word.
pub fn split_response(response: &[u8]) -> Result<(&[u8], u16), Es10Error> {
    match response.len().checked_sub(2) {
        Some(n) => {
            let (data, sw) = response.split_at(n);
            let sw = match sw {
                [a, b] => u16::from_be_bytes([*a, *b]),
                _ => return Err(Es10Error::ShortResponse(response.len())),
            };
            Ok((data, sw))
        }
        None => Err(Es10Error::ShortResponse(response.len())),
    }
}

/// What the LPA does next in a [`CommandExchange`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this APDU and feed the response to [`CommandExchange::on_response`].
    Send(Vec<u8>),
    /// The exchange is complete: the ES10 response (one TLV, possibly empty for commands that
    /// answer only a status word).
    Done(Vec<u8>),
}

/// One ES10 command sent to the card and its response collected (LPA side, sans-IO).
///
/// ```
/// use rsp_sgp22::es10::{CommandExchange, Step};
/// let mut ex = CommandExchange::new(&[0xBF, 0x2E, 0x00], 0, 255).unwrap();
/// let Step::Send(apdu) = ex.start().unwrap() else { panic!() };
/// assert_eq!(apdu, [0x80, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x2E, 0x00, 0x00]);
/// // The card answers with 61 05 and the rest comes with GET RESPONSE.
/// let Step::Send(get) = ex.on_response(&[0x61, 0x05]).unwrap() else { panic!() };
/// assert_eq!(get, [0x00, 0xC0, 0x00, 0x00, 0x05]);
/// let done = ex.on_response(&[0xBF, 0x2E, 0x02, 0x80, 0x00, 0x90, 0x00]).unwrap();
/// assert_eq!(done, Step::Done(vec![0xBF, 0x2E, 0x02, 0x80, 0x00]));
/// ```
#[derive(Debug, Clone)]
pub struct CommandExchange {
    channel: u8,
    blocks: Vec<Vec<u8>>,
    next_block: usize,
    /// The last APDU sent (repeated on `6C xx`).
    last_sent: Option<Vec<u8>>,
    /// Block number of the last STORE DATA sent; `None` while fetching with GET RESPONSE.
    last_block: Option<u8>,
    response: Vec<u8>,
    max_response: usize,
    done: bool,
}

/// Default limit of a collected response in [`CommandExchange`].
pub const DEFAULT_MAX_RESPONSE_LEN: usize = 1024 * 1024;

impl CommandExchange {
    /// An exchange for `command` on `channel`, in blocks of `block_size` bytes.
    pub fn new(command: &[u8], channel: u8, block_size: usize) -> Result<Self, Es10Error> {
        Ok(CommandExchange {
            channel,
            blocks: store_data_apdus(command, channel, block_size)?,
            next_block: 0,
            last_sent: None,
            last_block: None,
            response: Vec::new(),
            max_response: DEFAULT_MAX_RESPONSE_LEN,
            done: false,
        })
    }

    /// Limits the collected response to `limit` bytes.
    pub fn with_max_response(mut self, limit: usize) -> Self {
        self.max_response = limit;
        self
    }

    /// The first APDU to send.
    pub fn start(&mut self) -> Result<Step, Es10Error> {
        if self.next_block != 0 || self.done {
            return Err(Es10Error::OutOfOrder);
        }
        self.send_next_block()
    }

    fn send_next_block(&mut self) -> Result<Step, Es10Error> {
        let apdu = self
            .blocks
            .get(self.next_block)
            .cloned()
            .ok_or(Es10Error::OutOfOrder)?;
        self.last_block = u8::try_from(self.next_block).ok();
        self.next_block += 1;
        self.last_sent = Some(apdu.clone());
        Ok(Step::Send(apdu))
    }

    fn collect(&mut self, data: &[u8]) -> Result<(), Es10Error> {
        if self.response.len().saturating_add(data.len()) > self.max_response {
            return Err(Es10Error::ResponseTooLong {
                limit: self.max_response,
            });
        }
        self.response.extend_from_slice(data);
        Ok(())
    }

    /// Feeds the card's response to the APDU last returned; tells what to send next or the
    /// complete ES10 response.
    pub fn on_response(&mut self, response: &[u8]) -> Result<Step, Es10Error> {
        if self.done || self.last_sent.is_none() {
            return Err(Es10Error::OutOfOrder);
        }
        let (data, sw) = split_response(response)?;
        let [sw1, sw2] = sw.to_be_bytes();
        if sw1 == sw::SW1_MORE_DATA {
            self.collect(data)?;
            let get = get_response_apdu(self.channel, sw2)?;
            self.last_sent = Some(get.clone());
            self.last_block = None;
            return Ok(Step::Send(get));
        }
        if sw1 == sw::SW1_WRONG_LE {
            // Repeat the last command with the exact Le the card asked for.
            let mut again = self.last_sent.clone().ok_or(Es10Error::OutOfOrder)?;
            if let Some(le) = again.last_mut() {
                *le = sw2;
            }
            self.last_sent = Some(again.clone());
            return Ok(Step::Send(again));
        }
        // 90 00 and the 62xx/63xx warnings complete the APDU.
        if sw == sw::SUCCESS || sw1 == 0x62 || sw1 == 0x63 {
            self.collect(data)?;
            if self.next_block < self.blocks.len() {
                return self.send_next_block();
            }
            self.done = true;
            return Ok(Step::Done(std::mem::take(&mut self.response)));
        }
        self.done = true;
        Err(Es10Error::Status {
            sw,
            block: self.last_block,
        })
    }
}

/// Runs one ES10 command through `transmit` (one APDU in, the response APDU out) in blocks of
/// [`MAX_BLOCK_DATA`] bytes and returns the ES10 response.
pub fn exchange<E>(
    command: &[u8],
    channel: u8,
    mut transmit: impl FnMut(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<Result<Vec<u8>, Es10Error>, E> {
    let mut ex = match CommandExchange::new(command, channel, MAX_BLOCK_DATA) {
        Ok(e) => e,
        Err(e) => return Ok(Err(e)),
    };
    let mut step = match ex.start() {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    // Bounded: every block and every GET RESPONSE piece is at least one byte of progress, and a
    // card that keeps asking for repeats is stopped.
    let mut budget: usize = 256 + DEFAULT_MAX_RESPONSE_LEN;
    loop {
        match step {
            Step::Done(r) => return Ok(Ok(r)),
            Step::Send(apdu) => {
                budget = match budget.checked_sub(1) {
                    Some(b) => b,
                    None => return Ok(Err(Es10Error::OutOfOrder)),
                };
                let response = transmit(&apdu)?;
                step = match ex.on_response(&response) {
                    Ok(s) => s,
                    Err(e) => return Ok(Err(e)),
                };
            }
        }
    }
}

/// Reassembles the STORE DATA blocks of one ES10 command (card side).
#[derive(Debug, Clone)]
pub struct BlockReassembler {
    buffer: Vec<u8>,
    /// Block number expected next; `None` when no command is in progress.
    expected: Option<u8>,
    max_len: usize,
}

impl Default for BlockReassembler {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_COMMAND_LEN)
    }
}

impl BlockReassembler {
    /// A reassembler accepting commands of at most `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        BlockReassembler {
            buffer: Vec::new(),
            expected: None,
            max_len,
        }
    }

    /// Whether a multi-block command is in progress.
    pub fn in_progress(&self) -> bool {
        self.expected.is_some()
    }

    /// Drops a partial command.
    pub fn clear(&mut self) {
        self.buffer = Vec::new();
        self.expected = None;
    }

    /// Accepts one block (P1, P2 = block number, data). Returns the whole command after the last
    /// block, `None` after an intermediate one. Block `00` always starts a new command (a partial
    /// one is dropped); any other number must follow the previous block. A refused block drops
    /// the partial command.
    pub fn accept(&mut self, p1: u8, p2: u8, data: &[u8]) -> Result<Option<Vec<u8>>, Es10Error> {
        let last = match p1 {
            P1_LAST_BLOCK => true,
            P1_MORE_BLOCKS => false,
            _ => {
                self.clear();
                return Err(Es10Error::Refused {
                    sw: sw::INCORRECT_P1_P2,
                    reason: "STORE DATA P1 is neither 11 nor 91",
                });
            }
        };
        if p2 == 0 {
            self.clear();
        } else if self.expected != Some(p2) {
            self.clear();
            return Err(Es10Error::Refused {
                sw: sw::INCORRECT_P1_P2,
                reason: "STORE DATA block out of sequence",
            });
        }
        if data.is_empty() {
            self.clear();
            return Err(Es10Error::Refused {
                sw: sw::WRONG_LENGTH,
                reason: "STORE DATA block without data",
            });
        }
        if self.buffer.len().saturating_add(data.len()) > self.max_len {
            self.clear();
            return Err(Es10Error::Refused {
                sw: sw::NOT_ENOUGH_MEMORY,
                reason: "ES10 command too long",
            });
        }
        self.buffer.extend_from_slice(data);
        if last {
            self.expected = None;
            return Ok(Some(std::mem::take(&mut self.buffer)));
        }
        match p2.checked_add(1) {
            Some(n) => {
                self.expected = Some(n);
                Ok(None)
            }
            None => {
                self.clear();
                Err(Es10Error::Refused {
                    sw: sw::INCORRECT_P1_P2,
                    reason: "more than 256 STORE DATA blocks",
                })
            }
        }
    }
}

/// Sends a response in `61 xx` pieces (card side).
#[derive(Debug, Clone, Default)]
pub struct ResponseSender {
    pending: Vec<u8>,
    offset: usize,
    final_sw: u16,
}

fn more_data_sw(remaining: usize) -> [u8; 2] {
    // 61 00 announces 256 or more bytes.
    [sw::SW1_MORE_DATA, u8::try_from(remaining).unwrap_or(0)]
}

impl ResponseSender {
    /// Whether response bytes wait for GET RESPONSE.
    pub fn pending(&self) -> bool {
        self.offset < self.pending.len()
    }

    /// Drops pending bytes.
    pub fn clear(&mut self) {
        self.pending = Vec::new();
        self.offset = 0;
    }

    /// The R-APDU for a response `data` with final status `status` to a command with expected
    /// length `le` (`None` when the command had no Le field, as on T=0 where the card announces
    /// `61 xx` and sends nothing yet). The rest waits for GET RESPONSE.
    pub fn respond(&mut self, data: Vec<u8>, status: u16, le: Option<usize>) -> Vec<u8> {
        self.pending = data;
        self.offset = 0;
        self.final_sw = status;
        match le {
            None if !self.pending.is_empty() => {
                let mut out = Vec::with_capacity(2);
                out.extend_from_slice(&more_data_sw(self.pending.len()));
                out
            }
            _ => self.next_piece(le.unwrap_or(MAX_RESPONSE_PIECE)),
        }
    }

    /// The R-APDU for GET RESPONSE with expected length `le` (P1 P2 must be `00 00`).
    pub fn get_response(&mut self, p1: u8, p2: u8, le: Option<usize>) -> Vec<u8> {
        if !self.pending() {
            return sw::CONDITIONS_NOT_SATISFIED.to_be_bytes().to_vec();
        }
        if p1 != 0 || p2 != 0 {
            return sw::WRONG_P1_P2.to_be_bytes().to_vec();
        }
        self.next_piece(le.unwrap_or(MAX_RESPONSE_PIECE))
    }

    fn next_piece(&mut self, le: usize) -> Vec<u8> {
        let le = le.clamp(1, MAX_RESPONSE_PIECE);
        let end = self.offset.saturating_add(le).min(self.pending.len());
        let mut out = self
            .pending
            .get(self.offset..end)
            .unwrap_or_default()
            .to_vec();
        self.offset = end;
        let remaining = self.pending.len().saturating_sub(self.offset);
        if remaining > 0 {
            out.extend_from_slice(&more_data_sw(remaining));
        } else {
            out.extend_from_slice(&self.final_sw.to_be_bytes());
            self.clear();
        }
        out
    }
}

/// The fields of one command APDU, as the card parsed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApduFields<'a> {
    /// CLA.
    pub cla: u8,
    /// INS.
    pub ins: u8,
    /// P1.
    pub p1: u8,
    /// P2.
    pub p2: u8,
    /// Command data.
    pub data: &'a [u8],
    /// Expected response length Ne (`None` when the APDU had no Le field).
    pub le: Option<usize>,
}

/// What the card does with an APDU on an [`Es10Channel`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelEvent {
    /// Answer these bytes (an intermediate block's `90 00`, a GET RESPONSE piece, a refusal).
    Respond(Vec<u8>),
    /// A complete ES10 command: process it, then answer with [`Es10Channel::respond`].
    Command {
        /// The reassembled ES10 command TLV.
        command: Vec<u8>,
        /// Le of the last block.
        le: Option<usize>,
    },
    /// Not an ES10 APDU (not STORE DATA, not GET RESPONSE): the card handles it itself.
    Other,
}

/// The ES10 framing of one logical channel (card side): STORE DATA reassembly and GET RESPONSE.
#[derive(Debug, Clone, Default)]
pub struct Es10Channel {
    reassembler: BlockReassembler,
    sender: ResponseSender,
}

impl Es10Channel {
    /// A channel accepting commands of at most `max_command_len` bytes.
    pub fn new(max_command_len: usize) -> Self {
        Es10Channel {
            reassembler: BlockReassembler::new(max_command_len),
            sender: ResponseSender::default(),
        }
    }

    /// Drops partial commands and pending response bytes.
    pub fn clear(&mut self) {
        self.reassembler.clear();
        self.sender.clear();
    }

    /// Classifies an APDU. Any APDU other than GET RESPONSE drops pending response bytes (ISO
    /// 7816-4: the remainder is only available to the immediately following GET RESPONSE).
    pub fn on_apdu(&mut self, apdu: &ApduFields<'_>) -> ChannelEvent {
        let proprietary = apdu.cla & 0x80 != 0;
        if apdu.ins == INS_GET_RESPONSE {
            return ChannelEvent::Respond(self.sender.get_response(apdu.p1, apdu.p2, apdu.le));
        }
        self.sender.clear();
        if apdu.ins != INS_STORE_DATA {
            return ChannelEvent::Other;
        }
        if !proprietary {
            return ChannelEvent::Respond(sw::CLA_NOT_SUPPORTED.to_be_bytes().to_vec());
        }
        if cla_secure_messaging(apdu.cla) {
            return ChannelEvent::Respond(
                sw::SECURE_MESSAGING_NOT_SUPPORTED.to_be_bytes().to_vec(),
            );
        }
        match self.reassembler.accept(apdu.p1, apdu.p2, apdu.data) {
            Ok(Some(command)) => ChannelEvent::Command {
                command,
                le: apdu.le,
            },
            Ok(None) => ChannelEvent::Respond(sw::SUCCESS.to_be_bytes().to_vec()),
            Err(e) => ChannelEvent::Respond(e.status_word().to_be_bytes().to_vec()),
        }
    }

    /// The R-APDU carrying the ES10 response `data` (status `90 00`) to the command returned by
    /// [`Self::on_apdu`] with expected length `le`.
    pub fn respond(&mut self, data: Vec<u8>, le: Option<usize>) -> Vec<u8> {
        self.sender.respond(data, sw::SUCCESS, le)
    }

    /// The R-APDU for a refused ES10 command (a status word, no data).
    pub fn refuse(&mut self, status: u16) -> Vec<u8> {
        self.sender.clear();
        status.to_be_bytes().to_vec()
    }

    /// Whether a multi-block command is in progress.
    pub fn in_progress(&self) -> bool {
        self.reassembler.in_progress()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    /// Parses a short STORE DATA / GET RESPONSE APDU as built by this module.
    fn fields(apdu: &[u8]) -> ApduFields<'_> {
        let (hdr, body) = apdu.split_at(4);
        let (data, le) = match body {
            [] => (&body[..0], None),
            [le] => (&body[..0], Some(if *le == 0 { 256 } else { *le as usize })),
            [lc, rest @ ..] => {
                let lc = *lc as usize;
                let data = &rest[..lc];
                let le = rest
                    .get(lc)
                    .map(|l| if *l == 0 { 256 } else { *l as usize });
                (data, le)
            }
        };
        ApduFields {
            cla: hdr[0],
            ins: hdr[1],
            p1: hdr[2],
            p2: hdr[3],
            data,
            le,
        }
    }

    /// A card that echoes the command, reversed, as its response.
    fn run(command: &[u8], channel: u8, block: usize, strip_le: bool) -> Vec<u8> {
        let mut card = Es10Channel::default();
        let mut ex = CommandExchange::new(command, channel, block).unwrap();
        let mut step = ex.start().unwrap();
        let mut seen_command = None;
        loop {
            match step {
                Step::Done(r) => {
                    assert_eq!(seen_command.as_deref(), Some(command));
                    return r;
                }
                Step::Send(mut apdu) => {
                    assert_eq!(channel_of_cla(apdu[0]), channel);
                    if strip_le && apdu[1] == INS_STORE_DATA {
                        apdu.pop();
                    }
                    let f = fields(&apdu);
                    let response = match card.on_apdu(&f) {
                        ChannelEvent::Respond(r) => r,
                        ChannelEvent::Command { command, le } => {
                            let mut reply = command.clone();
                            reply.reverse();
                            seen_command = Some(command);
                            card.respond(reply, le)
                        }
                        ChannelEvent::Other => panic!("not ES10"),
                    };
                    step = ex.on_response(&response).unwrap();
                }
            }
        }
    }

    #[test]
    fn single_block_bytes() {
        let apdus = store_data_apdus(&[0xBF, 0x20, 0x00], 1, 255).unwrap();
        assert_eq!(
            apdus,
            vec![vec![0x81, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x20, 0x00, 0x00]]
        );
    }

    #[test]
    fn multi_block_numbering() {
        let cmd: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
        let apdus = store_data_apdus(&cmd, 0, 255).unwrap();
        assert_eq!(apdus.len(), 3);
        assert_eq!(&apdus[0][..5], &[0x80, 0xE2, 0x11, 0x00, 0xFF]);
        assert_eq!(&apdus[1][..5], &[0x80, 0xE2, 0x11, 0x01, 0xFF]);
        assert_eq!(&apdus[2][..5], &[0x80, 0xE2, 0x91, 0x02, 90]);
        assert_eq!(apdus[2].len(), 5 + 90 + 1);
    }

    #[test]
    fn channel_coding() {
        assert_eq!(cla_for_channel(0x80, 0).unwrap(), 0x80);
        assert_eq!(cla_for_channel(0x80, 3).unwrap(), 0x83);
        assert_eq!(cla_for_channel(0x00, 4).unwrap(), 0x40);
        assert_eq!(cla_for_channel(0x80, 19).unwrap(), 0xCF);
        assert!(cla_for_channel(0x80, 20).is_err());
        for c in 0..=19 {
            assert_eq!(channel_of_cla(cla_for_channel(0x80, c).unwrap()), c);
        }
    }

    #[test]
    fn long_response_in_pieces() {
        let cmd: Vec<u8> = (0..700u32).map(|i| (i * 7) as u8).collect();
        let r = run(&cmd, 2, 255, false);
        let mut want = cmd.clone();
        want.reverse();
        assert_eq!(r, want);
        // Without Le (pySim form): the card announces 61 xx first.
        assert_eq!(run(&cmd, 0, 120, true), want);
    }

    #[test]
    fn out_of_order_and_bad_p1_refused() {
        let mut r = BlockReassembler::default();
        assert_eq!(r.accept(P1_MORE_BLOCKS, 0, &[1]).unwrap(), None);
        let e = r.accept(P1_LAST_BLOCK, 2, &[2]).unwrap_err();
        assert_eq!(e.status_word(), sw::INCORRECT_P1_P2);
        assert!(!r.in_progress());
        assert_eq!(
            r.accept(0x80, 0, &[1]).unwrap_err().status_word(),
            sw::INCORRECT_P1_P2
        );
        // Block 0 restarts.
        assert_eq!(r.accept(P1_MORE_BLOCKS, 0, &[1]).unwrap(), None);
        assert_eq!(r.accept(P1_MORE_BLOCKS, 0, &[9]).unwrap(), None);
        assert_eq!(r.accept(P1_LAST_BLOCK, 1, &[8]).unwrap(), Some(vec![9, 8]));
    }

    #[test]
    fn size_limit() {
        let mut r = BlockReassembler::new(300);
        assert_eq!(r.accept(P1_MORE_BLOCKS, 0, &[0; 255]).unwrap(), None);
        assert_eq!(
            r.accept(P1_LAST_BLOCK, 1, &[0; 46])
                .unwrap_err()
                .status_word(),
            sw::NOT_ENOUGH_MEMORY
        );
    }

    #[test]
    fn lpa_reports_card_errors_and_wrong_le() {
        let mut ex = CommandExchange::new(&[0xBF, 0x2E, 0x00], 0, 255).unwrap();
        ex.start().unwrap();
        assert_eq!(
            ex.on_response(&[0x6A, 0x80]).unwrap_err(),
            Es10Error::Status {
                sw: 0x6A80,
                block: Some(0)
            }
        );
        let mut ex = CommandExchange::new(&[0xBF, 0x2E, 0x00], 0, 255).unwrap();
        ex.start().unwrap();
        let Step::Send(get) = ex.on_response(&[0x61, 0x10]).unwrap() else {
            panic!()
        };
        assert_eq!(get, vec![0x00, 0xC0, 0x00, 0x00, 0x10]);
        let Step::Send(again) = ex.on_response(&[0x6C, 0x08]).unwrap() else {
            panic!()
        };
        assert_eq!(again, vec![0x00, 0xC0, 0x00, 0x00, 0x08]);
        assert!(ex.on_response(&[0x90]).is_err());
    }

    #[test]
    fn get_response_without_pending_data() {
        let mut ch = Es10Channel::default();
        let f = ApduFields {
            cla: 0,
            ins: INS_GET_RESPONSE,
            p1: 0,
            p2: 0,
            data: &[],
            le: Some(256),
        };
        assert_eq!(ch.on_apdu(&f), ChannelEvent::Respond(vec![0x69, 0x85]));
    }

    proptest! {
        #[test]
        fn any_command_round_trips(
            cmd in proptest::collection::vec(any::<u8>(), 1..2000),
            channel in 0u8..=19,
            block in 1usize..=255,
            strip_le in any::<bool>(),
        ) {
            let mut cmd = cmd;
            if cmd.len() > block * 256 {
                // More than 256 blocks cannot be numbered.
                prop_assert_eq!(
                    CommandExchange::new(&cmd, channel, block).unwrap_err(),
                    Es10Error::CommandTooLong { len: cmd.len() }
                );
                cmd.truncate(block * 256);
            }
            let mut want = cmd.clone();
            want.reverse();
            prop_assert_eq!(run(&cmd, channel, block, strip_le), want);
        }

        #[test]
        fn arbitrary_apdus_never_panic_the_card_side(
            apdus in proptest::collection::vec(
                (any::<u8>(), prop_oneof![Just(INS_STORE_DATA), Just(INS_GET_RESPONSE), any::<u8>()],
                 prop_oneof![Just(P1_MORE_BLOCKS), Just(P1_LAST_BLOCK), any::<u8>()],
                 0u8..4, proptest::collection::vec(any::<u8>(), 0..300),
                 proptest::option::of(0usize..70000), proptest::collection::vec(any::<u8>(), 0..600)),
                1..30),
        ) {
            let mut ch = Es10Channel::new(1000);
            for (cla, ins, p1, p2, data, le, reply) in &apdus {
                let f = ApduFields { cla: *cla, ins: *ins, p1: *p1, p2: *p2, data, le: *le };
                match ch.on_apdu(&f) {
                    ChannelEvent::Respond(r) => prop_assert!(r.len() >= 2 && r.len() <= 258),
                    ChannelEvent::Command { command, le } => {
                        prop_assert!(command.len() <= 1000);
                        let r = ch.respond(reply.clone(), le);
                        prop_assert!(r.len() >= 2 && r.len() <= 258);
                    }
                    ChannelEvent::Other => {}
                }
            }
        }

        #[test]
        fn arbitrary_responses_never_panic_the_lpa_side(
            responses in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..20),
        ) {
            let mut ex = CommandExchange::new(&[0xBF, 0x22, 0x00], 0, 255).unwrap().with_max_response(100);
            let _ = ex.start();
            for r in &responses {
                if ex.on_response(r).is_err() { break; }
            }
        }
    }
}
