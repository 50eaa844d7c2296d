//! Remote command scripts (ETSI TS 102 226 §5): how ES5 carries card commands.
//!
//! **Expanded format** (HTTP bodies of GP RAM over HTTP, GP Amendment B; also SMS/CAT_TP when the
//! SM-SR chooses it), definite length:
//! - command script `AA L { [83 01 <chaining>] 22 L <C-APDU> 22 L <C-APDU> … }` ([`Script`]);
//! - response script `AB L { 80 01 <number of executed C-APDUs> 23 L <R-APDU> … [90 01 <bad
//!   format>] }` ([`ScriptResponse`]).
//!
//! The indefinite-length templates `AE 80 … 00 00` / `AF 80 … 00 00` are accepted on input; the
//! encoders always write the definite `AA` / `AB`. Immediate-action (`81`) and error-action (`82`)
//! TLVs are not supported and are refused with [`ScriptError::UnsupportedTag`].
//!
//! **Compact format** (SMS): the C-APDUs concatenated in TS 102 221 TPDU form
//! `CLA INS P1 P2 P3 [data]` ([`CompactScript`]); the response is the number of executed commands,
//! then the status word and response data of the last one ([`CompactScriptResponse`]).
//!
//! **Execution rule** ([`Script::execute`]): commands run in order and execution stops at the first
//! command whose status word is neither success (`9000`, `61xx`) nor a warning (`62xx`, `63xx`);
//! the response script then holds one R-APDU per executed command, the failing one last.

use rsp_types::tlv::{self, Tag, TlvError};

use crate::apdu::{ApduError, CommandApdu, ResponseApdu};
use crate::command::{CardCommand, CommandError, tag};
use crate::sw::StatusWord;

/// `AA`: command scripting template, definite length.
pub const TAG_COMMAND_SCRIPT: Tag = tag(0xAA);
/// `AB`: response scripting template, definite length.
pub const TAG_RESPONSE_SCRIPT: Tag = tag(0xAB);
/// `AE`: command scripting template, indefinite length.
pub const TAG_COMMAND_SCRIPT_INDEFINITE: u8 = 0xAE;
/// `AF`: response scripting template, indefinite length.
pub const TAG_RESPONSE_SCRIPT_INDEFINITE: u8 = 0xAF;
/// `22`: C-APDU.
pub const TAG_C_APDU: Tag = tag(0x22);
/// `23`: R-APDU.
pub const TAG_R_APDU: Tag = tag(0x23);
/// `80`: number of executed C-APDUs.
pub const TAG_EXECUTED: Tag = tag(0x80);
/// `83`: script chaining.
pub const TAG_SCRIPT_CHAINING: Tag = tag(0x83);
/// `90`: bad format.
pub const TAG_BAD_FORMAT: Tag = tag(0x90);

/// Script chaining value: first script, chained data deleted on reset.
pub const CHAINING_FIRST_DELETE_ON_RESET: u8 = 0x01;
/// Script chaining value: first script, chained data kept on reset.
pub const CHAINING_FIRST_KEEP_ON_RESET: u8 = 0x11;
/// Script chaining value: subsequent script, more to follow.
pub const CHAINING_SUBSEQUENT: u8 = 0x02;
/// Script chaining value: last script.
pub const CHAINING_LAST: u8 = 0x03;

/// Bad format type: unknown tag.
pub const BAD_FORMAT_UNKNOWN_TAG: u8 = 0x01;
/// Bad format type: wrong length.
pub const BAD_FORMAT_WRONG_LENGTH: u8 = 0x02;
/// Bad format type: length missing.
pub const BAD_FORMAT_LENGTH_MISSING: u8 = 0x03;

/// Why a script or a script response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// Malformed BER-TLV.
    #[error("script: {0}")]
    Tlv(#[from] TlvError),
    /// The template tag is not the expected one.
    #[error("script: expected template {expected:02X}, found {found:02X}")]
    UnexpectedTemplate {
        /// The expected (definite) template tag.
        expected: u8,
        /// The first byte found.
        found: u8,
    },
    /// An indefinite-length template that does not end with `00 00`.
    #[error("script: indefinite-length template without end-of-contents")]
    MissingEndOfContents,
    /// A TLV the script codec does not support.
    #[error("script: unsupported tag {tag}")]
    UnsupportedTag {
        /// The tag.
        tag: Tag,
    },
    /// A C-APDU or R-APDU that is not a valid APDU.
    #[error("script: APDU #{index}: {source}")]
    Apdu {
        /// Zero-based position in the script.
        index: usize,
        /// The APDU error.
        source: ApduError,
    },
    /// A field with a value outside its range.
    #[error("script: {0}")]
    Malformed(&'static str),
    /// A compact-format command with more than 255 data bytes.
    #[error("compact script: command #{index} has {len} data bytes (at most 255)")]
    CompactTooLong {
        /// Zero-based position.
        index: usize,
        /// Data length.
        len: usize,
    },
    /// An empty compact script or a truncated compact command.
    #[error("compact script: truncated at byte {offset}")]
    CompactTruncated {
        /// Byte offset.
        offset: usize,
    },
}

impl ScriptError {
    /// The ETSI TS 102 226 bad-format type a card reports for this error.
    pub fn bad_format_type(&self) -> u8 {
        match self {
            ScriptError::UnsupportedTag { .. } | ScriptError::UnexpectedTemplate { .. } => {
                BAD_FORMAT_UNKNOWN_TAG
            }
            ScriptError::Tlv(TlvError::Truncated { part: "length", .. })
            | ScriptError::MissingEndOfContents => BAD_FORMAT_LENGTH_MISSING,
            _ => BAD_FORMAT_WRONG_LENGTH,
        }
    }
}

/// Whether `sw` ends script execution: anything but success (`9000`, `61xx`) or a warning
/// (`62xx`, `63xx`).
pub fn stops_script(sw: StatusWord) -> bool {
    !(sw.is_success() || sw.is_warning())
}

/// Returns the content of a template: `AA/AB L {…}` (definite) or `AE/AF 80 … 00 00`.
fn template_content(data: &[u8], definite: Tag, indefinite: u8) -> Result<&[u8], ScriptError> {
    match data {
        [first, 0x80, rest @ ..] if *first == indefinite => match rest {
            [content @ .., 0x00, 0x00] => Ok(content),
            _ => Err(ScriptError::MissingEndOfContents),
        },
        _ => {
            let t = tlv::parse_single(data)?;
            if t.tag != definite {
                let found = data.first().copied().unwrap_or_default();
                return Err(ScriptError::UnexpectedTemplate {
                    expected: definite.value() as u8,
                    found,
                });
            }
            Ok(t.value)
        }
    }
}

/// An expanded-format command script.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Script {
    /// `83`: script chaining value, when the script is part of a chain (`CHAINING_*`).
    pub chaining: Option<u8>,
    /// The C-APDUs, in execution order.
    pub commands: Vec<CommandApdu>,
}

impl Script {
    /// A script of `commands` without chaining.
    pub fn new(commands: Vec<CommandApdu>) -> Script {
        Script {
            chaining: None,
            commands,
        }
    }

    /// A script of typed card commands ([`CardCommand::to_apdu`] for each).
    pub fn from_commands(commands: &[CardCommand]) -> Result<Script, CommandError> {
        Ok(Script::new(
            commands
                .iter()
                .map(CardCommand::to_apdu)
                .collect::<Result<_, _>>()?,
        ))
    }

    /// Appends a typed card command.
    pub fn push(&mut self, command: &CardCommand) -> Result<(), CommandError> {
        self.commands.push(command.to_apdu()?);
        Ok(())
    }

    /// Number of C-APDUs.
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Whether the script holds no C-APDU.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// Encodes `AA L { [83 01 xx] 22 L C-APDU … }`.
    pub fn encode(&self) -> Result<Vec<u8>, ScriptError> {
        let mut v = Vec::new();
        if let Some(c) = self.chaining {
            tlv::encode_tlv(TAG_SCRIPT_CHAINING, &[c], &mut v)?;
        }
        for (index, c) in self.commands.iter().enumerate() {
            let bytes = c
                .encode()
                .map_err(|source| ScriptError::Apdu { index, source })?;
            tlv::encode_tlv(TAG_C_APDU, &bytes, &mut v)?;
        }
        Ok(tlv::encode_tlv_to_vec(TAG_COMMAND_SCRIPT, &v)?)
    }

    /// Parses a command script (`AA` definite or `AE` indefinite). An `83` must come before the
    /// first `22`; any other tag is refused.
    pub fn parse(data: &[u8]) -> Result<Script, ScriptError> {
        let content = template_content(data, TAG_COMMAND_SCRIPT, TAG_COMMAND_SCRIPT_INDEFINITE)?;
        let mut script = Script::default();
        for item in tlv::iter(content) {
            let t = item?;
            if t.tag == TAG_C_APDU {
                let index = script.commands.len();
                let apdu = CommandApdu::parse(t.value)
                    .map_err(|source| ScriptError::Apdu { index, source })?;
                script.commands.push(apdu);
            } else if t.tag == TAG_SCRIPT_CHAINING
                && script.chaining.is_none()
                && script.commands.is_empty()
            {
                match t.value {
                    [c] => script.chaining = Some(*c),
                    _ => return Err(ScriptError::Malformed("script chaining must be 1 byte")),
                }
            } else {
                return Err(ScriptError::UnsupportedTag { tag: t.tag });
            }
        }
        Ok(script)
    }

    /// Runs the script against `card` with the stop-at-first-error rule and collects the
    /// response script.
    pub fn execute<F>(&self, mut card: F) -> ScriptResponse
    where
        F: FnMut(&CommandApdu) -> ResponseApdu,
    {
        let mut responses = Vec::with_capacity(self.commands.len());
        for c in &self.commands {
            let r = card(c);
            let stop = stops_script(r.sw);
            responses.push(r);
            if stop {
                break;
            }
        }
        ScriptResponse {
            executed: u16::try_from(responses.len()).unwrap_or(u16::MAX),
            responses,
            bad_format: None,
        }
    }
}

/// An expanded-format response script.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ScriptResponse {
    /// `80`: number of executed C-APDUs (1 byte on the wire up to 255, 2 bytes above).
    pub executed: u16,
    /// `23`: the R-APDUs, in order.
    pub responses: Vec<ResponseApdu>,
    /// `90`: bad format type, when the card could not parse the command script.
    pub bad_format: Option<u8>,
}

impl ScriptResponse {
    /// The response of a card that refused the script as badly formatted.
    pub fn bad_format(kind: u8) -> ScriptResponse {
        ScriptResponse {
            executed: 0,
            responses: Vec::new(),
            bad_format: Some(kind),
        }
    }

    /// The last R-APDU.
    pub fn last(&self) -> Option<&ResponseApdu> {
        self.responses.last()
    }

    /// Index of the first R-APDU whose status word stopped the script.
    pub fn first_error(&self) -> Option<usize> {
        self.responses.iter().position(|r| stops_script(r.sw))
    }

    /// Whether the whole script of `command_count` commands ran without error.
    pub fn completed(&self, command_count: usize) -> bool {
        self.bad_format.is_none()
            && usize::from(self.executed) == command_count
            && self.first_error().is_none()
    }

    /// Encodes `AB L { 80 <n> 23 L R-APDU … [90 01 xx] }`.
    pub fn encode(&self) -> Result<Vec<u8>, ScriptError> {
        let mut v = Vec::new();
        let n = self.executed.to_be_bytes();
        let count: &[u8] = if self.executed <= 0xFF { &n[1..] } else { &n };
        tlv::encode_tlv(TAG_EXECUTED, count, &mut v)?;
        for r in &self.responses {
            tlv::encode_tlv(TAG_R_APDU, &r.encode(), &mut v)?;
        }
        if let Some(b) = self.bad_format {
            tlv::encode_tlv(TAG_BAD_FORMAT, &[b], &mut v)?;
        }
        Ok(tlv::encode_tlv_to_vec(TAG_RESPONSE_SCRIPT, &v)?)
    }

    /// Parses a response script (`AB` definite or `AF` indefinite). Without `80` the count is
    /// the number of R-APDUs. Other tags (e.g. immediate-action responses) are ignored.
    pub fn parse(data: &[u8]) -> Result<ScriptResponse, ScriptError> {
        let content = template_content(data, TAG_RESPONSE_SCRIPT, TAG_RESPONSE_SCRIPT_INDEFINITE)?;
        let mut executed = None;
        let mut responses = Vec::new();
        let mut bad_format = None;
        for item in tlv::iter(content) {
            let t = item?;
            if t.tag == TAG_R_APDU {
                let index = responses.len();
                responses.push(
                    ResponseApdu::parse(t.value)
                        .map_err(|source| ScriptError::Apdu { index, source })?,
                );
            } else if t.tag == TAG_EXECUTED && executed.is_none() {
                executed = Some(match t.value {
                    [n] => u16::from(*n),
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => return Err(ScriptError::Malformed("80 must be 1 or 2 bytes")),
                });
            } else if t.tag == TAG_BAD_FORMAT && bad_format.is_none() {
                match t.value {
                    [b] => bad_format = Some(*b),
                    _ => return Err(ScriptError::Malformed("90 must be 1 byte")),
                }
            }
        }
        let executed = match executed {
            Some(n) => n,
            None => u16::try_from(responses.len())
                .map_err(|_| ScriptError::Malformed("too many R-APDUs"))?,
        };
        Ok(ScriptResponse {
            executed,
            responses,
            bad_format,
        })
    }
}

/// A compact-format command script (SMS): C-APDUs in TPDU form `CLA INS P1 P2 P3 [data]`.
///
/// P3 is the data length; a command without data is written with P3 = `00`. The form has no
/// place for Le: `le` is ignored on encode and `None` after parse (the card returns the last
/// command's response data in the PoR anyway).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct CompactScript {
    /// The C-APDUs.
    pub commands: Vec<CommandApdu>,
}

impl CompactScript {
    /// Encodes the concatenation.
    pub fn encode(&self) -> Result<Vec<u8>, ScriptError> {
        let mut out = Vec::new();
        for (index, c) in self.commands.iter().enumerate() {
            let len = u8::try_from(c.data.len()).map_err(|_| ScriptError::CompactTooLong {
                index,
                len: c.data.len(),
            })?;
            out.extend_from_slice(&c.header());
            out.push(len);
            out.extend_from_slice(&c.data);
        }
        Ok(out)
    }

    /// Parses the concatenation; at least one command is required.
    pub fn parse(data: &[u8]) -> Result<CompactScript, ScriptError> {
        if data.is_empty() {
            return Err(ScriptError::CompactTruncated { offset: 0 });
        }
        let mut commands = Vec::new();
        let mut pos = 0;
        while pos < data.len() {
            let truncated = ScriptError::CompactTruncated { offset: pos };
            let (header, rest) = data
                .get(pos..)
                .and_then(|r| r.split_first_chunk::<5>())
                .ok_or(truncated.clone())?;
            let [cla, ins, p1, p2, p3] = *header;
            let body = rest.get(..usize::from(p3)).ok_or(truncated)?;
            commands.push(CommandApdu::new(cla, ins, p1, p2).with_data(body));
            pos += 5 + body.len();
        }
        Ok(CompactScript { commands })
    }
}

/// A compact-format response: number of executed commands, then SW1 SW2 and the response data of
/// the last executed command (absent when none was executed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompactScriptResponse {
    /// Number of commands executed.
    pub executed: u8,
    /// The last executed command's response.
    pub last: Option<ResponseApdu>,
}

impl CompactScriptResponse {
    /// Encodes `n ‖ SW1 SW2 ‖ data`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.executed];
        if let Some(r) = &self.last {
            out.extend_from_slice(&r.sw.to_bytes());
            out.extend_from_slice(&r.data);
        }
        out
    }

    /// Parses `n ‖ SW1 SW2 ‖ data` (or `n` alone).
    pub fn parse(data: &[u8]) -> Result<CompactScriptResponse, ScriptError> {
        match data {
            [] | [_, _] => Err(ScriptError::CompactTruncated { offset: data.len() }),
            [n] => Ok(CompactScriptResponse {
                executed: *n,
                last: None,
            }),
            [n, sw1, sw2, rest @ ..] => Ok(CompactScriptResponse {
                executed: *n,
                last: Some(ResponseApdu::new(
                    rest.to_vec(),
                    StatusWord::from_bytes(*sw1, *sw2),
                )),
            }),
        }
    }

    /// Summarises an expanded [`ScriptResponse`] in compact form (count saturates at 255).
    pub fn from_expanded(r: &ScriptResponse) -> CompactScriptResponse {
        CompactScriptResponse {
            executed: u8::try_from(r.executed).unwrap_or(u8::MAX),
            last: r.last().cloned(),
        }
    }
}
