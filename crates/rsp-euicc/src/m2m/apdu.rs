//! The APDU interface of the card: command bytes in, response bytes (data ‖ SW) out.
//!
//! Every command is parsed by `rsp-gp` ([`CommandApdu::parse`], then [`CardCommand::parse`]),
//! the one parser shared with the servers. Routing:
//!
//! - **SELECT** (`00 A4 04 00`) chooses the ISD-R, the ECASD or an ISD-P; after a reset the ISD-R is
//!   selected. [`M2mCard::select`] does the same for a transport that knows the targeted
//!   application (`X-Admin-Targeted-Application`).
//! - **ISD-R**: INSTALL [for install] (CreateISDP), INSTALL [for personalization] (routes the next
//!   `3A01`/`3A02` to an ISD-P), STORE DATA `3A01`–`3A08`, DELETE (ISD-P, key set), GET STATUS,
//!   GET DATA (`5A`, `BF30`, `FF21`). `3A01`/`3A02` without a personalization target establish
//!   an ISD-R key set (SM-SR change).
//! - **ECASD**: GET DATA `5A` and `BF30`.
//! - **ISD-P** (ES8): STORE DATA `3A01`/`3A02` (key establishment); INITIALIZE UPDATE and EXTERNAL
//!   AUTHENTICATE (SCP03 on the Scenario#3 key set, `i = 70`, handled by `rsp_crypto::scp03`);
//!   SCP03-protected commands (CLA `84`), of which STORE DATA in BER-TLV format (P1 b5-b4 = `10`)
//!   carrying `BF25` profile metadata (U-13); and the SCP03t profile segments: STORE DATA (CLA
//!   `80`, any P1/P2, extended length when needed) whose data is exactly one `86` segment TLV
//!   (U-18). The answer to each segment is its SCP03 R-APDU.
//!
//! Only the basic logical channel is supported (`6881` otherwise). No command answers `61xx`:
//! response data come whole.

use rsp_crypto::scp03::{CardChallenge, CardHandshake, IParameter, KEY_DIVERSIFICATION_DATA_LEN};
use rsp_crypto::scp03t::{Accepted, Scp03tReceiver};
use rsp_gp::command::{
    CardCommand, Delete, GetData, INS_STORE_DATA, StatusScope, StoreDataContent,
};
use rsp_gp::response::{
    CardResources, IsdPProperties, IsdPStatus, LifeCycleState, NotificationConfirmationResponse,
};
use rsp_gp::{Cla, CommandApdu, StatusWord};
use rsp_types::Aid;

use super::card::{IsdPChannel, KeTarget, M2mCard, Selected};
use super::error::CardError;
use super::policy::{ProfileMetadata, TAG_METADATA};
use super::state::{ECASD_AID, ISD_P_LOAD_FILE_AID, ISD_P_MODULE_AID, IsdPState};
use super::time::CardTime;

const INS_INITIALIZE_UPDATE: u8 = rsp_crypto::scp03::INS_INITIALIZE_UPDATE;
const INS_EXTERNAL_AUTHENTICATE: u8 = rsp_crypto::scp03::INS_EXTERNAL_AUTHENTICATE;

/// The result of one command: response data and status word, or an error.
type Outcome = Result<(Vec<u8>, StatusWord), CardError>;

fn ok(data: Vec<u8>) -> Outcome {
    Ok((data, StatusWord::SUCCESS))
}

fn respond(data: Vec<u8>, sw: StatusWord) -> Vec<u8> {
    let mut out = data;
    out.extend_from_slice(&sw.to_bytes());
    out
}

fn internal(e: impl std::fmt::Display) -> CardError {
    CardError::Internal(e.to_string())
}

impl M2mCard {
    /// Processes one command APDU and returns the response APDU (data ‖ SW1 SW2). Never panics;
    /// every refusal is a status word from one table ([`CardError::status_word`]).
    pub fn process_apdu(&mut self, apdu: &[u8]) -> Vec<u8> {
        let cmd = match CommandApdu::parse(apdu) {
            Ok(c) => c,
            Err(e) => return e.status_word().to_bytes().to_vec(),
        };
        if Cla(cmd.cla).channel() != 0 {
            return StatusWord::LOGICAL_CHANNEL_NOT_SUPPORTED
                .to_bytes()
                .to_vec();
        }
        match self.volatile.selected {
            Selected::IsdP(aid) => self.isd_p_apdu(aid, apdu, &cmd),
            Selected::IsdR => {
                let r = self.isd_r_command(&cmd);
                Self::finish(r)
            }
            Selected::Ecasd => {
                let r = self.ecasd_command(&cmd);
                Self::finish(r)
            }
        }
    }

    /// [`Self::process_apdu`] at time `now` (the card's clock moves forward first).
    pub fn process_apdu_at(&mut self, now: CardTime, apdu: &[u8]) -> Vec<u8> {
        self.advance_time(now);
        self.process_apdu(apdu)
    }

    /// Selects the application that receives the next APDUs (ISD-R, ECASD or an existing ISD-P).
    pub fn select(&mut self, aid: &Aid) -> Result<(), CardError> {
        self.volatile.selected = if *aid == self.isd_r.aid {
            Selected::IsdR
        } else if *aid == ECASD_AID {
            Selected::Ecasd
        } else if self.isd_ps.contains_key(aid) {
            Selected::IsdP(*aid)
        } else {
            return Err(CardError::ApplicationNotFound(*aid));
        };
        Ok(())
    }

    /// A card reset (power cycle, REFRESH): the volatile state is lost, the ISD-R is selected.
    pub fn reset(&mut self) {
        self.volatile = Default::default();
    }

    fn finish(outcome: Outcome) -> Vec<u8> {
        match outcome {
            Ok((data, sw)) => respond(data, sw),
            Err(e) => e.status_word().to_bytes().to_vec(),
        }
    }

    fn parse_command(cmd: &CommandApdu) -> Result<CardCommand, CardError> {
        match CardCommand::parse(cmd) {
            Ok(c) => Ok(c),
            Err(rsp_gp::CommandError::InsNotSupported { ins }) => {
                Err(CardError::InsNotSupported(ins))
            }
            Err(e) => Err(CardError::Gp(e)),
        }
    }

    /// SELECT, in any application.
    fn select_command(&mut self, aid: Aid) -> Outcome {
        self.select(&aid)?;
        // FCI: 6F { 84 <DF name> }.
        let mut fci = vec![0x84, aid.as_bytes().len() as u8];
        fci.extend_from_slice(aid.as_bytes());
        let mut out = vec![0x6F, fci.len() as u8];
        out.extend_from_slice(&fci);
        ok(out)
    }

    fn ecasd_command(&mut self, cmd: &CommandApdu) -> Outcome {
        match Self::parse_command(cmd)? {
            CardCommand::Select(s) => self.select_command(s.aid),
            CardCommand::GetData(GetData::Eid) => ok(rsp_gp::response::encode_eid(&self.ecasd.eid)),
            CardCommand::GetData(GetData::EcasdCertificate) => ok(
                rsp_gp::response::encode_ecasd_certificate(self.ecasd.certificate.to_bytes())
                    .map_err(internal)?,
            ),
            _ => Err(CardError::InsNotSupported(cmd.ins)),
        }
    }

    fn isd_r_command(&mut self, cmd: &CommandApdu) -> Outcome {
        let command = Self::parse_command(cmd);
        // INSTALL [for personalization] routes STORE DATA until another command arrives (GP).
        let personalizing = matches!(
            &command,
            Ok(CardCommand::StoreData(sd)) if matches!(
                sd.content,
                StoreDataContent::Certificate { .. } | StoreDataContent::KeyAgreement(_)
            )
        );
        if !personalizing {
            self.volatile.personalization = None;
        }
        match command? {
            CardCommand::Select(s) => self.select_command(s.aid),
            CardCommand::InstallForInstall(i) => {
                if i.load_file_aid != ISD_P_LOAD_FILE_AID || i.module_aid != ISD_P_MODULE_AID {
                    return Err(CardError::Malformed(
                        "unknown executable load file or module".into(),
                    ));
                }
                match i.parameters.scp {
                    Some(s) if s.scp == 0x03 && s.i == IParameter::PSEUDO_RANDOM_RMAC_RENC.0 => {}
                    _ => return Err(CardError::NotSupported("ISD-Ps use SCP03 with i = 70")),
                }
                if !i.token.is_empty() {
                    return Err(CardError::NotSupported("install tokens"));
                }
                self.create_isdp(
                    i.application_aid,
                    i.parameters.non_volatile_quota.map(u64::from),
                )?;
                ok(Vec::new())
            }
            CardCommand::InstallForPersonalization(p) => {
                if !self.isd_ps.contains_key(&p.application_aid) {
                    return Err(CardError::UnknownIsdP(p.application_aid));
                }
                self.volatile.personalization = Some(p.application_aid);
                ok(Vec::new())
            }
            CardCommand::StoreData(sd) => {
                let target = match self.volatile.personalization {
                    Some(aid) => KeTarget::IsdP(aid),
                    None => KeTarget::IsdR,
                };
                match sd.content {
                    StoreDataContent::Certificate { certificate } => {
                        ok(self.key_establishment_certificate(target, &certificate)?)
                    }
                    StoreDataContent::KeyAgreement(_) => {
                        let result = self.key_establishment_keys(target, &cmd.data);
                        if target != KeTarget::IsdR {
                            self.volatile.personalization = None;
                        }
                        ok(result?)
                    }
                    StoreDataContent::EnableProfile { isd_p_aid } => {
                        self.enable_profile(isd_p_aid)?;
                        ok(Vec::new())
                    }
                    StoreDataContent::DisableProfile { isd_p_aid } => {
                        self.disable_profile(isd_p_aid)?;
                        ok(Vec::new())
                    }
                    StoreDataContent::SetFallBackAttribute { isd_p_aid } => {
                        self.set_fall_back_attribute(isd_p_aid)?;
                        ok(Vec::new())
                    }
                    StoreDataContent::SetEmergencyProfileAttribute { isd_p_aid } => {
                        self.set_emergency_attribute(isd_p_aid)?;
                        ok(Vec::new())
                    }
                    StoreDataContent::UpdateConnectivityParameters { parameters } => {
                        self.update_connectivity_parameters(&parameters);
                        ok(Vec::new())
                    }
                    StoreDataContent::NotificationConfirmation { sequence_number } => {
                        let deleted = self.confirm_notification(sequence_number)?;
                        ok(NotificationConfirmationResponse {
                            deleted_isd_p_aids: deleted,
                        }
                        .encode()
                        .map_err(internal)?)
                    }
                }
            }
            CardCommand::Delete(Delete::IsdP { isd_p_aid, .. }) => {
                self.delete_isdp(isd_p_aid)?;
                ok(Vec::new())
            }
            CardCommand::Delete(Delete::KeySet { key_version, .. }) => {
                self.delete_isd_r_key_set(key_version)?;
                ok(Vec::new())
            }
            CardCommand::GetStatus(g) => {
                if g.scope != StatusScope::Applications {
                    // Only ISD-Ps are reported (no load files, the ISD-R is not an ISD here).
                    return Ok((Vec::new(), StatusWord::REFERENCED_DATA_NOT_FOUND));
                }
                let entries: Vec<IsdPStatus> = self
                    .isd_ps
                    .values()
                    .filter(|p| g.aid.is_none_or(|a| a == p.aid))
                    .map(|p| IsdPStatus {
                        aid: p.aid,
                        life_cycle: LifeCycleState(p.state.code()),
                        properties: Some(IsdPProperties::new(
                            self.fall_back == Some(p.aid),
                            self.emergency == Some(p.aid),
                        )),
                        allocated_memory: Some(u32::try_from(p.memory_quota).unwrap_or(u32::MAX)),
                    })
                    .collect();
                if entries.is_empty() {
                    return Ok((Vec::new(), StatusWord::REFERENCED_DATA_NOT_FOUND));
                }
                ok(IsdPStatus::encode_list(&entries).map_err(internal)?)
            }
            CardCommand::GetData(GetData::Eid) => ok(rsp_gp::response::encode_eid(&self.ecasd.eid)),
            CardCommand::GetData(GetData::EcasdCertificate) => ok(
                rsp_gp::response::encode_ecasd_certificate(self.ecasd.certificate.to_bytes())
                    .map_err(internal)?,
            ),
            CardCommand::GetData(GetData::ExtendedCardResources) => {
                let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
                ok(CardResources {
                    installed_applications: clamp(self.isd_ps.len() as u64),
                    free_non_volatile_memory: clamp(self.free_memory()),
                    free_volatile_memory: 8 * 1024,
                }
                .encode()
                .map_err(internal)?)
            }
        }
    }

    /// An APDU for ISD-P `aid`: SCP03 handshake, protected commands, SCP03t segments, or plain
    /// key establishment / SELECT.
    fn isd_p_apdu(&mut self, aid: Aid, raw: &[u8], cmd: &CommandApdu) -> Vec<u8> {
        let cla = Cla(cmd.cla);
        if cla.is_proprietary() && !cla.secure_messaging() {
            match cmd.ins {
                INS_INITIALIZE_UPDATE => {
                    let r = self.initialize_update(aid, raw);
                    return Self::finish(r);
                }
                INS_STORE_DATA if cmd.data.first() == Some(&0x86) => {
                    return self.profile_segment(aid, &cmd.data);
                }
                _ => {}
            }
        }
        if cla.is_proprietary() && cla.secure_messaging() {
            if cmd.ins == INS_EXTERNAL_AUTHENTICATE {
                let r = self.external_authenticate(aid, raw);
                return Self::finish(r);
            }
            return self.secured_command(aid, raw);
        }
        let outcome = match Self::parse_command(cmd) {
            Ok(CardCommand::Select(s)) => self.select_command(s.aid),
            Ok(CardCommand::StoreData(sd)) => match sd.content {
                StoreDataContent::Certificate { certificate } => self
                    .key_establishment_certificate(KeTarget::IsdP(aid), &certificate)
                    .map(|d| (d, StatusWord::SUCCESS)),
                StoreDataContent::KeyAgreement(_) => self
                    .key_establishment_keys(KeTarget::IsdP(aid), &cmd.data)
                    .map(|d| (d, StatusWord::SUCCESS)),
                _ => Err(CardError::NotSupported("ISD-R command sent to an ISD-P")),
            },
            Ok(_) => Err(CardError::NotSupported("command not available in an ISD-P")),
            Err(e) => Err(e),
        };
        Self::finish(outcome)
    }

    fn initialize_update(&mut self, aid: Aid, raw: &[u8]) -> Outcome {
        let isd_p = self.isd_ps.get(&aid).ok_or(CardError::UnknownIsdP(aid))?;
        let keys = isd_p.keys.as_ref().ok_or(CardError::WrongState {
            aid,
            state: isd_p.state,
            expected: "Personalized or later (SCP03 keys)",
        })?;
        // A new handshake ends any earlier session of this card.
        self.volatile.channel = None;
        let mut kdd = [0u8; KEY_DIVERSIFICATION_DATA_LEN];
        let eid = self.ecasd.eid.to_bytes();
        kdd.copy_from_slice(
            eid.get(eid.len() - KEY_DIVERSIFICATION_DATA_LEN..)
                .unwrap_or(&[0; 10]),
        );
        let handshake = CardHandshake::new(
            keys.static_keys()?,
            IParameter::PSEUDO_RANDOM_RMAC_RENC,
            kdd,
        )?;
        let (state, response) = handshake.on_initialize_update(
            raw,
            CardChallenge::PseudoRandom {
                last_sequence_counter: keys.sequence_counter,
                aid: aid.as_bytes(),
            },
        )?;
        if let (Some(counter), Some(k)) = (
            state.sequence_counter(),
            self.isd_ps.get_mut(&aid).and_then(|p| p.keys.as_mut()),
        ) {
            k.sequence_counter = counter;
        }
        self.volatile.channel = Some(IsdPChannel::Authenticating { aid, state });
        ok(response)
    }

    fn external_authenticate(&mut self, aid: Aid, raw: &[u8]) -> Outcome {
        match self.volatile.channel.take() {
            Some(IsdPChannel::Authenticating { aid: a, state }) if a == aid => {
                let session = state.on_external_authenticate(raw)?;
                self.volatile.channel = Some(IsdPChannel::Open { aid, session });
                ok(Vec::new())
            }
            _ => Err(CardError::OutOfSequence(
                "EXTERNAL AUTHENTICATE without INITIALIZE UPDATE",
            )),
        }
    }

    /// A command under the open SCP03 session: unwrap, execute, wrap the response.
    fn secured_command(&mut self, aid: Aid, raw: &[u8]) -> Vec<u8> {
        let Some(IsdPChannel::Open {
            aid: a,
            mut session,
        }) = self.volatile.channel.take()
        else {
            return CardError::SecureChannelRequired
                .status_word()
                .to_bytes()
                .to_vec();
        };
        if a != aid {
            return CardError::SecureChannelRequired
                .status_word()
                .to_bytes()
                .to_vec();
        }
        let plain = match session.unwrap_command(raw) {
            Ok(p) => p,
            // The session closed itself; drop it.
            Err(e) => return StatusWord(e.status_word()).to_bytes().to_vec(),
        };
        let (data, sw) = match self.protected_isd_p_command(aid, &plain) {
            Ok(r) => r,
            Err(e) => (Vec::new(), e.status_word()),
        };
        let response = match session.wrap_response(&data, sw.0) {
            Ok(r) => r,
            Err(e) => StatusWord(e.status_word()).to_bytes().to_vec(),
        };
        self.volatile.channel = Some(IsdPChannel::Open { aid, session });
        response
    }

    /// The plain command carried in the SCP03 session: `ES8.StoreMetadata` (STORE DATA in
    /// BER-TLV format with `BF25`).
    fn protected_isd_p_command(&mut self, aid: Aid, plain: &[u8]) -> Outcome {
        let cmd = CommandApdu::parse(plain).map_err(|e| CardError::Apdu(e.to_string()))?;
        let is_metadata = cmd.ins == INS_STORE_DATA
            && cmd.p1 & 0x18 == 0x10
            && cmd.data.first() == Some(&0xBF)
            && cmd.data.get(1) == Some(&(TAG_METADATA as u8));
        if !is_metadata {
            return Err(CardError::NotSupported(
                "protected command other than StoreMetadata",
            ));
        }
        let metadata = ProfileMetadata::decode(&cmd.data)?;
        self.store_metadata(aid, metadata)?;
        ok(Vec::new())
    }

    /// One SCP03t segment (U-18). The terminator installs the package.
    fn profile_segment(&mut self, aid: Aid, segment: &[u8]) -> Vec<u8> {
        let mut receiver = match self.volatile.channel.take() {
            Some(IsdPChannel::Receiving { aid: a, receiver }) if a == aid => receiver,
            Some(IsdPChannel::Open { aid: a, session }) if a == aid => {
                let state = self.isd_ps.get(&aid).map(|p| p.state);
                if state != Some(IsdPState::Personalized) {
                    let e = CardError::WrongState {
                        aid,
                        state: state.unwrap_or(IsdPState::Selectable),
                        expected: "Personalized",
                    };
                    return e.status_word().to_bytes().to_vec();
                }
                let quota = self.isd_ps.get(&aid).map(|p| p.memory_quota).unwrap_or(0);
                match Scp03tReceiver::new(session) {
                    Ok(r) => Box::new(
                        r.with_max_package_len(usize::try_from(quota).unwrap_or(usize::MAX)),
                    ),
                    Err(e) => return StatusWord(e.status_word()).to_bytes().to_vec(),
                }
            }
            other => {
                self.volatile.channel = other;
                return CardError::SecureChannelRequired
                    .status_word()
                    .to_bytes()
                    .to_vec();
            }
        };
        match receiver.accept(segment) {
            Ok(Accepted::Segment(_)) => {
                let response = receiver
                    .wrap_response(&[], StatusWord::SUCCESS.0)
                    .unwrap_or_else(|e| StatusWord(e.status_word()).to_bytes().to_vec());
                self.volatile.channel = Some(IsdPChannel::Receiving { aid, receiver });
                response
            }
            Ok(Accepted::End) => {
                let package = receiver.received().to_vec();
                let sw = match self.install_package(aid, package) {
                    Ok(_) => StatusWord::SUCCESS,
                    Err(e) => e.status_word(),
                };
                // The package session ends here, successful or not.
                receiver
                    .wrap_response(&[], sw.0)
                    .unwrap_or_else(|e| StatusWord(e.status_word()).to_bytes().to_vec())
            }
            Err(e) => {
                let e = CardError::from(e);
                e.status_word().to_bytes().to_vec()
            }
        }
    }
}
