//! Both ends of ES5 over SMS: the SM-SR ([`SmSrSms`]) and the simulated card ([`CardSms`]).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use rsp_crypto::scp80::{
    self, CommandHeader, CommandParams, Counter, MinimumSecurity, OpenedResponse, PorRequest,
    PorTransport, ResponseStatus, Scp80Keys, Spi, Tar,
};

use super::smsc::{MessageId, ShortMessage, SmKind, Smsc, SmscError};
use super::trigger::HttpsTrigger;
use super::udh::{PacketKind, Reassembler, segment};
use super::{SmsAddress, SmsError};

/// A complete secured packet received over SMS (reassembled if it was concatenated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundPacket {
    /// Originator address (the card's MSISDN on the SM-SR side).
    pub from: SmsAddress,
    /// How the last segment arrived.
    pub transport: SmKind,
    /// Command or response packet.
    pub kind: PacketKind,
    /// The packet from CPL / RPL on.
    pub packet: Vec<u8>,
}

impl InboundPacket {
    /// The TAR in the plain header (to pick the keys before opening).
    pub fn tar(&self) -> Result<Tar, SmsError> {
        Ok(match self.kind {
            PacketKind::Command => scp80::peek_command(&self.packet)?.tar,
            PacketKind::Response => scp80::peek_response_tar(&self.packet)?,
        })
    }

    fn expect(&self, expected: PacketKind) -> Result<(), SmsError> {
        if self.kind == expected {
            Ok(())
        } else {
            Err(SmsError::UnexpectedPacket {
                expected,
                received: self.kind,
            })
        }
    }
}

/// What the SM-SR remembers of a command packet it sent, to check the PoR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCommand {
    /// The card's address.
    pub to: SmsAddress,
    /// SPI and TAR used.
    pub params: CommandParams,
    /// Counter used.
    pub counter: Counter,
    /// SMSC identifiers, one per short message (concatenated segments in order).
    pub message_ids: Vec<MessageId>,
}

impl SentCommand {
    /// Whether the card answers with a PoR whatever the outcome (SPI2 "PoR required").
    pub fn expects_por(&self) -> bool {
        self.params.spi.por == PorRequest::Always
    }
}

struct Inbox {
    address: SmsAddress,
    next_reference: AtomicU8,
    reassembler: Mutex<Reassembler>,
}

impl Inbox {
    fn new(address: SmsAddress) -> Inbox {
        Inbox {
            address,
            next_reference: AtomicU8::new(0),
            reassembler: Mutex::new(Reassembler::default()),
        }
    }

    fn send<S: Smsc>(
        &self,
        smsc: &S,
        to: &SmsAddress,
        sm_kind: SmKind,
        kind: PacketKind,
        packet: &[u8],
    ) -> Result<Vec<MessageId>, SmsError> {
        let reference = self.next_reference.fetch_add(1, Ordering::Relaxed);
        let parts = segment(kind, packet, reference)?;
        let mut ids = Vec::with_capacity(parts.len());
        for ud in parts {
            ids.push(smsc.submit(ShortMessage::secured(
                self.address.clone(),
                to.clone(),
                sm_kind,
                ud,
            ))?);
        }
        Ok(ids)
    }

    /// Pulls messages until one completes a packet or the queue is empty. A message that cannot be
    /// used is consumed and its error returned; call again for the next.
    fn receive<S: Smsc>(&self, smsc: &S) -> Result<Option<InboundPacket>, SmsError> {
        while let Some(sm) = smsc.receive(&self.address)? {
            if !sm.udhi {
                return Err(SmsError::NotSecuredPacket(sm.originator));
            }
            let done = self
                .reassembler
                .lock()
                .map_err(|_| SmscError::Unavailable("reassembly lock poisoned".into()))?
                .push(&sm.originator, &sm.user_data)?;
            if let Some((kind, packet)) = done {
                return Ok(Some(InboundPacket {
                    from: sm.originator,
                    transport: sm.kind,
                    kind,
                    packet,
                }));
            }
        }
        Ok(None)
    }
}

/// The SM-SR end of ES5 over SMS. Holds no keys and no counters: the caller passes the ISD-R's
/// SCP80 keys of the eUICC and the counter it allocated (and persisted) for each packet.
pub struct SmSrSms<S: Smsc> {
    smsc: S,
    inbox: Inbox,
}

impl<S: Smsc> SmSrSms<S> {
    /// An SM-SR reachable at `address` (its service number: originator of MT messages, destination
    /// of the cards' MO messages).
    pub fn new(smsc: S, address: SmsAddress) -> SmSrSms<S> {
        SmSrSms {
            smsc,
            inbox: Inbox::new(address),
        }
    }

    /// The SM-SR's address.
    pub fn address(&self) -> &SmsAddress {
        &self.inbox.address
    }

    /// The SMSC used.
    pub fn smsc(&self) -> &S {
        &self.smsc
    }

    /// Secures `script` (the remote command script for the TAR's application; opaque here) as one
    /// SCP80 command packet and sends it to the card at `to`, concatenated if needed.
    pub fn send_command_packet(
        &self,
        to: &SmsAddress,
        keys: &Scp80Keys,
        params: &CommandParams,
        counter: Counter,
        script: &[u8],
    ) -> Result<SentCommand, SmsError> {
        let packet = scp80::secure_command(keys, params, counter, script)?;
        let message_ids = self.inbox.send(
            &self.smsc,
            to,
            SmKind::MobileTerminated,
            PacketKind::Command,
            &packet,
        )?;
        Ok(SentCommand {
            to: to.clone(),
            params: *params,
            counter,
            message_ids,
        })
    }

    /// Sends the HTTPS administration session trigger to the ISD-R (`params.tar`).
    pub fn send_https_trigger(
        &self,
        to: &SmsAddress,
        keys: &Scp80Keys,
        params: &CommandParams,
        counter: Counter,
        trigger: &HttpsTrigger,
    ) -> Result<SentCommand, SmsError> {
        self.send_command_packet(to, keys, params, counter, &trigger.to_bytes()?)
    }

    /// The next complete packet from any card: a PoR ([`open_por`]) or a command packet such as the
    /// Default Notification ([`open_default_notification`]). `Ok(None)` when nothing is waiting.
    pub fn receive(&self) -> Result<Option<InboundPacket>, SmsError> {
        self.inbox.receive(&self.smsc)
    }
}

/// Verifies the PoR answering `sent` (SM-SR side): from the card it was sent to, secured as the
/// command's SPI2 asks, same TAR and same counter.
pub fn open_por(
    keys: &Scp80Keys,
    sent: &SentCommand,
    inbound: &InboundPacket,
) -> Result<OpenedResponse, SmsError> {
    inbound.expect(PacketKind::Response)?;
    if inbound.from != sent.to {
        return Err(SmsError::UnexpectedSender {
            expected: sent.to.clone(),
            received: inbound.from.clone(),
        });
    }
    Ok(scp80::open_response(
        keys,
        &sent.params,
        sent.counter,
        &inbound.packet,
    )?)
}

/// Opens a Default Notification (or any other MO command packet) from a card (SM-SR side), with
/// the ISD-R keys found for the sender and [`InboundPacket::tar`].
///
/// SGP.02 §3.15.1 sends it with counter `0` and "no counter available": the counter is then not
/// replay-checked (de-duplication is by the notification's sequence number, U-10). A packet whose
/// SPI asks for a checked counter is judged against a last counter of 0. A cryptographic checksum
/// is required.
pub fn open_default_notification(
    keys: &Scp80Keys,
    inbound: &InboundPacket,
) -> Result<(CommandHeader, Vec<u8>), SmsError> {
    inbound.expect(PacketKind::Command)?;
    Ok(scp80::open_command_with(
        keys,
        &inbound.packet,
        Counter::ZERO,
        MinimumSecurity::CHECKSUM,
    )?)
}

/// Opens a command packet on the card: the TAR must be one of `served_tars`
/// ([`SmsError::UnknownTar`]), then [`scp80::open_command_with`] with the card's `last_counter`
/// and `minimum` security level. On success the card stores
/// [`CommandHeader::updated_counter`].
pub fn open_received_command(
    keys: &Scp80Keys,
    served_tars: &[Tar],
    inbound: &InboundPacket,
    last_counter: Counter,
    minimum: MinimumSecurity,
) -> Result<(CommandHeader, Vec<u8>), SmsError> {
    inbound.expect(PacketKind::Command)?;
    let tar = inbound.tar()?;
    if !served_tars.contains(&tar) {
        return Err(SmsError::UnknownTar(tar));
    }
    Ok(scp80::open_command_with(
        keys,
        &inbound.packet,
        last_counter,
        minimum,
    )?)
}

/// What the secured data of a command packet asks the card to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecuredData {
    /// Open the HTTPS administration session.
    HttpsTrigger(HttpsTrigger),
    /// Run a remote command script (TS 102 226 compact or expanded format; parsed by `rsp-gp`).
    Script(Vec<u8>),
}

impl SecuredData {
    /// Classifies opened secured data: a complete `81` object is a trigger, anything else a script.
    pub fn classify(data: Vec<u8>) -> Result<SecuredData, SmsError> {
        if HttpsTrigger::is_trigger(&data) {
            Ok(SecuredData::HttpsTrigger(HttpsTrigger::from_bytes(&data)?))
        } else {
            Ok(SecuredData::Script(data))
        }
    }
}

/// The card end of ES5 over SMS, for the simulated eUICC: receives MT packets on its MSISDN and
/// sends PoRs and the Default Notification to the SM-SR.
pub struct CardSms<S: Smsc> {
    smsc: S,
    inbox: Inbox,
    sm_sr: SmsAddress,
}

impl<S: Smsc> CardSms<S> {
    /// A card reachable at `msisdn` whose SM-SR is at `sm_sr`.
    pub fn new(smsc: S, msisdn: SmsAddress, sm_sr: SmsAddress) -> CardSms<S> {
        CardSms {
            smsc,
            inbox: Inbox::new(msisdn),
            sm_sr,
        }
    }

    /// The card's MSISDN.
    pub fn msisdn(&self) -> &SmsAddress {
        &self.inbox.address
    }

    /// The next complete packet for the card, `Ok(None)` when nothing is waiting.
    pub fn receive(&self) -> Result<Option<InboundPacket>, SmsError> {
        self.inbox.receive(&self.smsc)
    }

    /// Sends the PoR for an accepted (or refused) command as its SPI2 asks: nothing when no PoR is
    /// requested, or on success when only errors are reported; by SMS-SUBMIT or in the
    /// SMS-DELIVER-REPORT. Returns the SMSC identifiers (empty when nothing was sent).
    pub fn send_por(
        &self,
        keys: &Scp80Keys,
        command: &CommandHeader,
        status: ResponseStatus,
        data: &[u8],
    ) -> Result<Vec<MessageId>, SmsError> {
        let send = match command.spi.por {
            PorRequest::None => false,
            PorRequest::Always => true,
            PorRequest::OnError => status != ResponseStatus::PorOk,
        };
        if !send {
            return Ok(Vec::new());
        }
        let packet = scp80::secure_response(keys, command, status, data)?;
        let sm_kind = match command.spi.por_transport {
            PorTransport::Submit => SmKind::MobileOriginated,
            PorTransport::DeliverReport => SmKind::DeliverReport,
        };
        self.inbox.send(
            &self.smsc,
            &self.sm_sr,
            sm_kind,
            PacketKind::Response,
            &packet,
        )
    }

    /// Sends the Default Notification (SGP.02 §3.15.1) as an MO command packet under the ISD-R's
    /// SCP80 keys to the ISD-R TAR `tar`: counter `0`, SPI [`Spi::DEFAULT_NOTIFICATION`] ("no
    /// counter available", CC, ciphering, no PoR). `notification` is the encoded `E1` object.
    pub fn send_default_notification(
        &self,
        keys: &Scp80Keys,
        tar: Tar,
        notification: &[u8],
    ) -> Result<Vec<MessageId>, SmsError> {
        let params = CommandParams {
            spi: Spi::DEFAULT_NOTIFICATION,
            tar,
        };
        let packet = scp80::secure_command(keys, &params, Counter::ZERO, notification)?;
        self.inbox.send(
            &self.smsc,
            &self.sm_sr,
            SmKind::MobileOriginated,
            PacketKind::Command,
            &packet,
        )
    }
}
