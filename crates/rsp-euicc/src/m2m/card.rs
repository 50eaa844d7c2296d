//! The M2M eUICC: state, the typed operations of its security domains, and the autonomous
//! behaviour (notifications, roll-back, fall-back, local test/emergency functions).
//!
//! Every operation either succeeds and changes the state, or fails with a [`CardError`] and leaves
//! the persistent state as it was (the volatile session state, such as a pending key establishment
//! or an SCP03 session, may be consumed by a failure, as on a real card).

use std::collections::{BTreeMap, VecDeque};

use rsp_crypto::ecc::PublicKey;
use rsp_crypto::gpcert::{GpCertRole, GpCertificate};
use rsp_crypto::kdf::{KEY_TYPE_AES, KEY_USAGE_SCP03_KEY_SET};
use rsp_crypto::scp03::{CardAuthenticating, Scp03Session};
use rsp_crypto::scp03t::Scp03tReceiver;
use rsp_gp::command::KeyAgreementCrt;
use rsp_gp::response::KeyAgreementResponse;
use rsp_types::{Aid, Eid, Iccid};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::error::{CardError, CertRefusal, Pol1Rule};
use super::notification::{NotificationType, OutboundNotification, PendingNotification, Rollback};
use super::policy::{Pol1, ProfileMetadata};
use super::rng::CardRng;
use super::saip::ProfilePackage;
use super::scenario3;
use super::state::{
    Ecasd, InstalledProfile, IsdP, IsdPState, IsdR, KeySet, KeySetKind, KeyValue, LocalKind,
    LocalOverride, Scp03KeySet,
};
use super::time::CardTime;

/// Settings of one card (persisted with it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardConfig {
    /// Total non-volatile memory available for ISD-Ps, in bytes.
    pub total_nv_memory: u64,
    /// Quota of an ISD-P created without an `EF { 83 }` install parameter.
    pub default_isdp_quota: u64,
    /// Length of the Scenario#3 random challenge RC (16 or 32).
    pub challenge_len: usize,
    /// Confirmation window per notification attempt, in seconds (U-10 default 60).
    pub notification_wait_secs: u64,
    /// Attempts per notification before roll-back (U-10 default 3).
    pub notification_attempts: u32,
}

impl Default for CardConfig {
    fn default() -> Self {
        Self {
            total_nv_memory: 1024 * 1024,
            default_isdp_quota: 64 * 1024,
            challenge_len: 16,
            notification_wait_secs: 60,
            notification_attempts: 3,
        }
    }
}

impl CardConfig {
    /// Checks the settings: RC of 16 or 32 bytes, 1 to 100 notification attempts, a confirmation
    /// window of at most one day, a default quota within the total memory.
    pub fn check(&self) -> Result<(), String> {
        if !matches!(self.challenge_len, 16 | 32) {
            return Err(format!(
                "challenge length {} (16 or 32)",
                self.challenge_len
            ));
        }
        if !(1..=100).contains(&self.notification_attempts) {
            return Err(format!(
                "{} notification attempts (1..=100)",
                self.notification_attempts
            ));
        }
        if self.notification_wait_secs > 86_400 {
            return Err(format!(
                "confirmation window of {} s",
                self.notification_wait_secs
            ));
        }
        if self.default_isdp_quota > self.total_nv_memory {
            return Err("default ISD-P quota exceeds the memory".into());
        }
        Ok(())
    }
}

/// A serialisable overview of a card (for `rsp euicc show`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSummary {
    /// EID.
    pub eid: Eid,
    /// The enabled ISD-P.
    pub enabled: Option<Aid>,
    /// Holder of the Fall-Back attribute.
    pub fall_back: Option<Aid>,
    /// Holder of the Emergency attribute.
    pub emergency: Option<Aid>,
    /// The local (ESx) override in force.
    pub local_override: Option<LocalOverride>,
    /// Free non-volatile memory.
    pub free_memory: u64,
    /// ISD-R key set versions and kinds.
    pub isd_r_key_sets: Vec<(u8, KeySetKind)>,
    /// ISD-Ps.
    pub profiles: Vec<IsdPView>,
    /// Notifications awaiting confirmation: (sequence number, type, attempt).
    pub pending_notifications: Vec<(u16, NotificationType, u32)>,
    /// Whether the eUICC declaration was confirmed.
    pub declared: bool,
    /// The card's time.
    pub now: CardTime,
}

/// Which security domain a Scenario#3 key establishment is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeTarget {
    /// An ISD-P (`ES8.EstablishISDPKeySet`, CERT.DP, SM-DP role).
    IsdP(Aid),
    /// The ISD-R (`ES5.EstablishISDRKeySet`, CERT.SR, SM-SR role; SM-SR change).
    IsdR,
}

/// The state between `3A01` and `3A02`.
pub(crate) struct PendingKeyEstablishment {
    target: KeTarget,
    off_card_key: PublicKey,
    off_card_id: Vec<u8>,
    rc: Vec<u8>,
}

/// The ES8 channel to one ISD-P: SCP03 handshake, open session, or SCP03t package reception.
pub(crate) enum IsdPChannel {
    Authenticating {
        aid: Aid,
        state: CardAuthenticating,
    },
    Open {
        aid: Aid,
        session: Scp03Session,
    },
    Receiving {
        aid: Aid,
        receiver: Box<Scp03tReceiver>,
    },
}

impl IsdPChannel {
    pub(crate) fn aid(&self) -> Aid {
        match self {
            Self::Authenticating { aid, .. }
            | Self::Open { aid, .. }
            | Self::Receiving { aid, .. } => *aid,
        }
    }
}

/// What an APDU addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Selected {
    /// The ISD-R (default after reset).
    #[default]
    IsdR,
    /// The ECASD.
    Ecasd,
    /// An ISD-P.
    IsdP(Aid),
}

/// Session state lost on reset and not part of snapshots.
#[derive(Default)]
pub(crate) struct Volatile {
    pub(crate) selected: Selected,
    /// INSTALL [for personalization] target of later STORE DATA commands to the ISD-R.
    pub(crate) personalization: Option<Aid>,
    pub(crate) key_establishment: Option<PendingKeyEstablishment>,
    pub(crate) channel: Option<IsdPChannel>,
}

/// What [`M2mCard::connectivity_lost`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectivityOutcome {
    /// A profile change awaiting confirmation was rolled back to this profile (SGP.02 §3.2.2).
    RolledBack {
        /// The profile enabled again.
        to: Option<Aid>,
    },
    /// The fall-back mechanism enabled the Fall-Back profile (SGP.02 §3.16).
    FellBack {
        /// The Fall-Back profile.
        to: Aid,
    },
}

/// A read-only view of one ISD-P (for `rsp euicc show` and tests).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsdPView {
    /// AID.
    pub aid: Aid,
    /// Life-cycle state.
    pub state: IsdPState,
    /// ICCID of the installed profile.
    pub iccid: Option<Iccid>,
    /// Profile type from the ProfileHeader.
    pub profile_type: Option<String>,
    /// Fall-Back attribute.
    pub fall_back: bool,
    /// Emergency attribute.
    pub emergency: bool,
    /// Test profile.
    pub test: bool,
    /// POL1.
    pub pol1: Pol1,
    /// Reserved memory.
    pub memory_quota: u64,
    /// Memory used by the profile.
    pub memory_used: u64,
    /// Owning SM-DP (subject identifier of its CERT.DP, hex).
    pub smdp_id: Option<String>,
}

/// A violated card invariant (reported by [`M2mCard::check_invariants`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("card invariant violated: {0}")]
pub struct InvariantViolation(pub String);

/// The simulated SGP.02 M2M eUICC.
pub struct M2mCard {
    pub(crate) config: CardConfig,
    pub(crate) ecasd: Ecasd,
    pub(crate) isd_r: IsdR,
    pub(crate) isd_ps: BTreeMap<Aid, IsdP>,
    pub(crate) fall_back: Option<Aid>,
    pub(crate) emergency: Option<Aid>,
    /// The profile whose POL1 "disable not allowed" was overridden by fall-back (SGP.02 §3.16).
    pub(crate) fall_back_pin: Option<Aid>,
    pub(crate) local: Option<LocalOverride>,
    pub(crate) pending: Vec<PendingNotification>,
    /// Recently confirmed sequence numbers and the AIDs deleted on their confirmation.
    pub(crate) confirmed: VecDeque<(u16, Vec<Aid>)>,
    pub(crate) next_seq: u16,
    pub(crate) declared: bool,
    pub(crate) rng: CardRng,
    pub(crate) now: CardTime,
    pub(crate) volatile: Volatile,
}

impl std::fmt::Debug for M2mCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("M2mCard")
            .field("eid", &self.ecasd.eid)
            .field("isd_ps", &self.isd_ps.keys().collect::<Vec<_>>())
            .field("fall_back", &self.fall_back)
            .field("emergency", &self.emergency)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

/// How many confirmed sequence numbers the card remembers for duplicate confirmations.
const CONFIRMED_MEMORY: usize = 16;

impl M2mCard {
    pub(crate) fn from_parts(config: CardConfig, ecasd: Ecasd, isd_r: IsdR, rng: CardRng) -> Self {
        Self {
            config,
            ecasd,
            isd_r,
            isd_ps: BTreeMap::new(),
            fall_back: None,
            emergency: None,
            fall_back_pin: None,
            local: None,
            pending: Vec::new(),
            confirmed: VecDeque::new(),
            next_seq: 1,
            declared: false,
            rng,
            now: CardTime::default(),
            volatile: Volatile::default(),
        }
    }

    // ----- read access -------------------------------------------------------------------

    /// EID.
    pub fn eid(&self) -> &Eid {
        &self.ecasd.eid
    }

    /// The ECASD (EID, certificate, PK.CI).
    pub fn ecasd(&self) -> &Ecasd {
        &self.ecasd
    }

    /// The ISD-R (AID, TAR, ES5 key sets for the transports).
    pub fn isd_r(&self) -> &IsdR {
        &self.isd_r
    }

    /// The settings.
    pub fn config(&self) -> &CardConfig {
        &self.config
    }

    /// The ISD-P with this AID.
    pub fn isd_p(&self, aid: &Aid) -> Option<&IsdP> {
        self.isd_ps.get(aid)
    }

    /// All ISD-Ps, by AID.
    pub fn isd_ps(&self) -> impl Iterator<Item = &IsdP> {
        self.isd_ps.values()
    }

    /// Read-only views of all ISD-Ps.
    pub fn profiles(&self) -> Vec<IsdPView> {
        self.isd_ps
            .values()
            .map(|p| IsdPView {
                aid: p.aid,
                state: p.state,
                iccid: p.profile.as_ref().map(|i| i.iccid),
                profile_type: p.profile.as_ref().and_then(|i| i.profile_type.clone()),
                fall_back: self.fall_back == Some(p.aid),
                emergency: self.emergency == Some(p.aid),
                test: p.is_test(),
                pol1: p.pol1(),
                memory_quota: p.memory_quota,
                memory_used: p.used_memory(),
                smdp_id: p.smdp_id.as_ref().map(hex::encode_upper),
            })
            .collect()
    }

    /// An overview of the card.
    pub fn summary(&self) -> CardSummary {
        CardSummary {
            eid: self.ecasd.eid,
            enabled: self.enabled_profile(),
            fall_back: self.fall_back,
            emergency: self.emergency,
            local_override: self.local,
            free_memory: self.free_memory(),
            isd_r_key_sets: self
                .isd_r
                .key_sets
                .iter()
                .map(|k| (k.version, k.kind))
                .collect(),
            profiles: self.profiles(),
            pending_notifications: self
                .pending
                .iter()
                .map(|p| (p.seq, p.kind, p.attempts))
                .collect(),
            declared: self.declared,
            now: self.now,
        }
    }

    /// The ISD-P of the enabled profile.
    pub fn enabled_profile(&self) -> Option<Aid> {
        self.isd_ps
            .values()
            .find(|p| p.state == IsdPState::Enabled)
            .map(|p| p.aid)
    }

    /// The holder of the Fall-Back attribute.
    pub fn fall_back_profile(&self) -> Option<Aid> {
        self.fall_back
    }

    /// The holder of the Emergency attribute.
    pub fn emergency_profile(&self) -> Option<Aid> {
        self.emergency
    }

    /// The local (ESx) override in force.
    pub fn local_override(&self) -> Option<LocalOverride> {
        self.local
    }

    /// The profile whose POL1 pins the card after a fall-back (only that profile may be enabled).
    pub fn fall_back_pin(&self) -> Option<Aid> {
        self.fall_back_pin
    }

    /// Free non-volatile memory.
    pub fn free_memory(&self) -> u64 {
        self.config
            .total_nv_memory
            .saturating_sub(self.isd_ps.values().map(|p| p.memory_quota).sum())
    }

    /// Notifications waiting for their confirmation.
    pub fn pending_notifications(&self) -> &[PendingNotification] {
        &self.pending
    }

    /// Whether the eUICC declaration (first attach, type `01`) has been confirmed.
    pub fn declared(&self) -> bool {
        self.declared
    }

    /// The card's current time (the latest time an input carried).
    pub fn now(&self) -> CardTime {
        self.now
    }

    /// What the next APDU addresses.
    pub fn selected(&self) -> Selected {
        self.volatile.selected
    }

    // ----- time and the driver loop ------------------------------------------------------

    /// Moves the card's clock forward (never back).
    pub fn advance_time(&mut self, now: CardTime) {
        if now > self.now {
            self.now = now;
        }
    }

    /// Takes the next notification the driver must send, if any (each attempt is handed out once).
    pub fn poll_notification(&mut self) -> Option<OutboundNotification> {
        let p = self.pending.iter_mut().find(|p| p.awaiting_send)?;
        p.awaiting_send = false;
        Some(OutboundNotification {
            seq: p.seq,
            kind: p.kind,
            isd_p_aid: p.isd_p_aid,
            iccid: p.iccid,
            attempt: p.attempts,
            payload: p.payload.clone(),
        })
    }

    /// The earliest time [`Self::handle_timeout`] has work to do.
    pub fn next_deadline(&self) -> Option<CardTime> {
        self.pending.iter().map(|p| p.deadline).min()
    }

    /// Processes every confirmation window that closed at or before `now`: a new attempt while
    /// attempts remain, otherwise the roll-back of the change the notification reported.
    pub fn handle_timeout(&mut self, now: CardTime) {
        self.advance_time(now);
        // Each pass handles one expired notification; roll-backs queue new ones with later
        // deadlines, so this terminates.
        while let Some(index) = self.pending.iter().position(|p| p.deadline <= self.now) {
            let Some(p) = self.pending.get_mut(index) else {
                break;
            };
            if p.attempts < self.config.notification_attempts {
                p.attempts += 1;
                p.deadline = self.now.plus_secs(self.config.notification_wait_secs);
                p.awaiting_send = true;
                continue;
            }
            let expired = self.pending.remove(index);
            self.give_up(expired);
        }
    }

    /// The device reports the first (or any) network attachment: the first time ever the card
    /// queues the eUICC declaration (type `01`).
    pub fn network_attached(&mut self, now: CardTime) {
        self.advance_time(now);
        let queued = self
            .pending
            .iter()
            .any(|p| p.kind == NotificationType::EuiccDeclaration);
        if !self.declared && !queued {
            let enabled = self.enabled_profile();
            self.queue_notification(
                NotificationType::EuiccDeclaration,
                enabled,
                Rollback::None,
                Vec::new(),
            );
        }
    }

    /// The device reports loss of connectivity on the enabled profile (U-23: an explicit input).
    ///
    /// A profile change still awaiting confirmation is rolled back (SGP.02 §3.2.2); otherwise, or
    /// when the roll-back itself is unconfirmed, the fall-back mechanism runs (§3.16). Refused while
    /// a local test or emergency profile is enabled, when the Fall-Back profile is the one enabled,
    /// or when there is none.
    pub fn connectivity_lost(&mut self, now: CardTime) -> Result<ConnectivityOutcome, CardError> {
        self.advance_time(now);
        if let Some(o) = self.local {
            return Err(CardError::LocalOverrideActive(o.kind.name()));
        }
        let enabled = self.enabled_profile();
        let change = self.pending.iter().position(|p| {
            matches!(p.rollback, Rollback::ToPrevious { current, .. } if Some(current) == enabled)
        });
        if let Some(index) = change {
            let p = self.pending.remove(index);
            if let Rollback::ToPrevious { current, previous } = p.rollback {
                let to = self.roll_back(current, previous);
                return Ok(ConnectivityOutcome::RolledBack { to });
            }
        }
        let to = self.fall_back_now()?;
        Ok(ConnectivityOutcome::FellBack { to })
    }

    // ----- ISD-R: ES5 profile management --------------------------------------------------

    /// `ES5.CreateISDP` (INSTALL [for install and make selectable]): a new ISD-P in SELECTABLE
    /// with `memory_quota` bytes reserved (the configured default when `None`).
    pub fn create_isdp(&mut self, aid: Aid, memory_quota: Option<u64>) -> Result<(), CardError> {
        let reserved = [
            self.isd_r.aid,
            super::state::ECASD_AID,
            super::state::ISD_P_LOAD_FILE_AID,
            super::state::ISD_P_MODULE_AID,
        ];
        if self.isd_ps.contains_key(&aid) || reserved.contains(&aid) {
            return Err(CardError::AidExists(aid));
        }
        let quota = memory_quota.unwrap_or(self.config.default_isdp_quota);
        let free = self.free_memory();
        if quota > free {
            return Err(CardError::InsufficientMemory {
                requested: quota,
                free,
            });
        }
        self.isd_ps.insert(
            aid,
            IsdP {
                aid,
                state: IsdPState::Selectable,
                memory_quota: quota,
                smdp_id: None,
                keys: None,
                metadata: ProfileMetadata::default(),
                profile: None,
            },
        );
        Ok(())
    }

    /// `ES5.EnableProfile` (`3A03`): disables the enabled profile (its POL1 permitting) and enables
    /// `aid`; queues the Default Notification (type `02`) whose missing confirmation rolls back.
    pub fn enable_profile(&mut self, aid: Aid) -> Result<(), CardError> {
        let target = self.require_state(&aid, IsdPState::Disabled, "Disabled")?;
        if target.is_test() {
            return Err(CardError::Refused(
                "a test profile is enabled only locally (ESx.LocalEnableTestProfile)",
            ));
        }
        if self.emergency == Some(aid) {
            return Err(CardError::Refused(
                "the emergency profile is enabled only locally (ESx.LocalEnableEmergencyProfile)",
            ));
        }
        self.check_no_local()?;
        self.check_no_pending_change()?;
        if let Some(pin) = self.fall_back_pin
            && pin != aid
        {
            return Err(CardError::Pol1Forbids {
                aid: pin,
                rule: Pol1Rule::DisableNotAllowed,
            });
        }
        let current = self.enabled_profile();
        let mut delete_on_confirm = Vec::new();
        if let Some(cur) = current {
            let pol1 = self.pol1_of(&cur);
            if pol1.disable_not_allowed {
                return Err(CardError::Pol1Forbids {
                    aid: cur,
                    rule: Pol1Rule::DisableNotAllowed,
                });
            }
            if pol1.delete_when_disabled && self.fall_back != Some(cur) {
                delete_on_confirm.push(cur);
            }
        }
        self.switch(current, Some(aid));
        if self.fall_back_pin == Some(aid) {
            self.fall_back_pin = None;
        }
        self.queue_notification(
            NotificationType::ProfileChangeSucceeded,
            Some(aid),
            Rollback::ToPrevious {
                current: aid,
                previous: current,
            },
            delete_on_confirm,
        );
        Ok(())
    }

    /// `ES5.DisableProfile` (`3A04`): disables `aid` (its POL1 permitting) and enables the Fall-Back
    /// profile; queues the Default Notification (type `02`, naming the Fall-Back profile).
    pub fn disable_profile(&mut self, aid: Aid) -> Result<(), CardError> {
        let target = self.require_state(&aid, IsdPState::Enabled, "Enabled")?;
        let pol1 = target.pol1();
        self.check_no_local()?;
        self.check_no_pending_change()?;
        let fall_back = self
            .fall_back
            .ok_or(CardError::Refused("no Fall-Back profile to enable"))?;
        if fall_back == aid {
            return Err(CardError::Refused(
                "the Fall-Back profile cannot be disabled: no profile would take over",
            ));
        }
        if pol1.disable_not_allowed {
            return Err(CardError::Pol1Forbids {
                aid,
                rule: Pol1Rule::DisableNotAllowed,
            });
        }
        self.switch(Some(aid), Some(fall_back));
        let delete_on_confirm = if pol1.delete_when_disabled {
            vec![aid]
        } else {
            Vec::new()
        };
        self.queue_notification(
            NotificationType::ProfileChangeSucceeded,
            Some(fall_back),
            Rollback::ToPrevious {
                current: fall_back,
                previous: Some(aid),
            },
            delete_on_confirm,
        );
        Ok(())
    }

    /// `ES5.DeleteProfile` (DELETE `4F <AID>`): deletes a disabled (or never installed) ISD-P and
    /// everything in it, POL1 permitting, and frees its memory.
    pub fn delete_isdp(&mut self, aid: Aid) -> Result<(), CardError> {
        let target = self.require(&aid)?;
        if target.state == IsdPState::Enabled {
            return Err(CardError::WrongState {
                aid,
                state: target.state,
                expected: "not Enabled",
            });
        }
        let pol1 = target.pol1();
        if self.fall_back == Some(aid) {
            return Err(CardError::Refused(
                "the Fall-Back profile cannot be deleted",
            ));
        }
        if self.fall_back_pin == Some(aid) {
            return Err(CardError::Refused(
                "the profile that pins fall-back is removed only by Master Delete",
            ));
        }
        if let Some(o) = self.local
            && (o.previous == Some(aid) || o.profile == aid)
        {
            return Err(CardError::LocalOverrideActive(o.kind.name()));
        }
        if let Some(p) = self.pending.iter().find(|p| match p.rollback {
            Rollback::ToPrevious { current, previous } => current == aid || previous == Some(aid),
            _ => false,
        }) {
            return Err(CardError::ChangePending(p.seq));
        }
        if pol1.delete_not_allowed {
            return Err(CardError::Pol1Forbids {
                aid,
                rule: Pol1Rule::DeleteNotAllowed,
            });
        }
        self.remove_isdp(aid);
        Ok(())
    }

    /// Set Fall-Back attribute (`3A05`, U-12): moves the attribute to `aid`.
    pub fn set_fall_back_attribute(&mut self, aid: Aid) -> Result<(), CardError> {
        let target = self.require(&aid)?;
        if !target.state.has_profile() {
            return Err(CardError::WrongState {
                aid,
                state: target.state,
                expected: "Disabled or Enabled",
            });
        }
        if target.is_test() {
            return Err(CardError::Refused(
                "a test profile cannot be the Fall-Back profile",
            ));
        }
        if self.emergency == Some(aid) {
            return Err(CardError::Refused(
                "the emergency profile cannot hold the Fall-Back attribute",
            ));
        }
        if let Some(pin) = self.fall_back_pin {
            return Err(CardError::Pol1Forbids {
                aid: pin,
                rule: Pol1Rule::DisableNotAllowed,
            });
        }
        self.fall_back = Some(aid);
        Ok(())
    }

    /// Set Emergency attribute (`3A06`, U-12): moves the attribute to the disabled profile `aid`.
    pub fn set_emergency_attribute(&mut self, aid: Aid) -> Result<(), CardError> {
        let target = self.require_state(&aid, IsdPState::Disabled, "Disabled")?;
        if target.is_test() {
            return Err(CardError::Refused(
                "a test profile cannot be the emergency profile",
            ));
        }
        if self.fall_back == Some(aid) {
            return Err(CardError::Refused(
                "the Fall-Back profile cannot hold the Emergency attribute",
            ));
        }
        if let Some(o) = self.local
            && o.kind == LocalKind::Emergency
        {
            return Err(CardError::LocalOverrideActive(o.kind.name()));
        }
        self.emergency = Some(aid);
        Ok(())
    }

    /// `ES5.NotificationConfirmation` (`3A08 { 4E seq }`): ends the notification's confirmation
    /// window, runs the POL1 deletions it was waiting for (C-26) and returns the deleted ISD-Ps. A
    /// repeated confirmation of a recently confirmed notification returns the same answer.
    pub fn confirm_notification(&mut self, seq: u16) -> Result<Vec<Aid>, CardError> {
        let Some(index) = self.pending.iter().position(|p| p.seq == seq) else {
            return self
                .confirmed
                .iter()
                .find(|(s, _)| *s == seq)
                .map(|(_, deleted)| deleted.clone())
                .ok_or(CardError::UnknownNotification(seq));
        };
        let p = self.pending.remove(index);
        if p.kind == NotificationType::EuiccDeclaration {
            self.declared = true;
        }
        let mut deleted = Vec::new();
        for aid in p.delete_on_confirm {
            let deletable = self
                .isd_ps
                .get(&aid)
                .is_some_and(|i| i.state == IsdPState::Disabled)
                && self.fall_back != Some(aid)
                && self.fall_back_pin != Some(aid)
                && self.local.is_none_or(|o| o.previous != Some(aid));
            if deletable {
                self.remove_isdp(aid);
                deleted.push(aid);
            }
        }
        self.confirmed.push_back((seq, deleted.clone()));
        while self.confirmed.len() > CONFIRMED_MEMORY {
            self.confirmed.pop_front();
        }
        Ok(deleted)
    }

    /// Update connectivity parameters of the ISD-R (`3A07`); the content is kept as is.
    pub fn update_connectivity_parameters(&mut self, parameters: &[u8]) {
        self.isd_r.connectivity_parameters = parameters.to_vec();
    }

    /// `ES5.FinaliseISDRhandover`: deletes the ISD-R key set with this version (SM-SR change).
    /// The last key set of the ISD-R cannot be deleted.
    pub fn delete_isd_r_key_set(&mut self, version: u8) -> Result<(), CardError> {
        let index = self
            .isd_r
            .key_sets
            .iter()
            .position(|k| k.version == version)
            .ok_or(CardError::UnknownKeySet(version))?;
        if self.isd_r.key_sets.len() == 1 {
            return Err(CardError::Refused(
                "the ISD-R must keep at least one key set",
            ));
        }
        self.isd_r.key_sets.remove(index);
        Ok(())
    }

    /// The ES6 stand-in (U-13): replaces the POL1 of a profile, as `UpdatePOL1byMNO` would.
    pub fn update_pol1(&mut self, aid: Aid, pol1: Pol1) -> Result<(), CardError> {
        let target = self
            .isd_ps
            .get_mut(&aid)
            .ok_or(CardError::UnknownIsdP(aid))?;
        target.metadata.pol1 = pol1;
        if !pol1.disable_not_allowed && self.fall_back_pin == Some(aid) {
            self.fall_back_pin = None;
        }
        Ok(())
    }

    // ----- Scenario#3 ---------------------------------------------------------------------

    /// Key establishment step 1 (`3A01 { 7F21 }`): checks the certificate's role (SM-DP for an
    /// ISD-P, SM-SR for the ISD-R), that it was issued by the CI in the ECASD and that its
    /// signature verifies with PK.CI; returns the response `85 L RC`.
    pub fn key_establishment_certificate(
        &mut self,
        target: KeTarget,
        certificate: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        let role = match target {
            KeTarget::IsdP(aid) => {
                let isd_p = self.require(&aid)?;
                if isd_p.state != IsdPState::Selectable {
                    return Err(CardError::WrongState {
                        aid,
                        state: isd_p.state,
                        expected: "Selectable",
                    });
                }
                GpCertRole::SmDp
            }
            KeTarget::IsdR => GpCertRole::SmSr,
        };
        // A new attempt discards an unfinished one.
        self.volatile.key_establishment = None;
        let cert = GpCertificate::from_bytes(certificate)
            .map_err(|e| CardError::Certificate(CertRefusal::Malformed(e.to_string())))?;
        cert.check_role(role)
            .map_err(|e| CardError::Certificate(CertRefusal::WrongRole(e.to_string())))?;
        if cert.authority_key_id() != self.ecasd.ci_key_id.as_slice() {
            return Err(CardError::Certificate(CertRefusal::UnknownIssuer));
        }
        cert.verify_signature(&self.ecasd.ci_public_key)
            .map_err(|_| CardError::Certificate(CertRefusal::BadSignature))?;
        let rc = self.rng.bytes(self.config.challenge_len);
        let response = rsp_gp::response::encode_random_challenge(&rc)
            .map_err(|e| CardError::Internal(e.to_string()))?;
        self.volatile.key_establishment = Some(PendingKeyEstablishment {
            target,
            off_card_key: cert.public_key().clone(),
            off_card_id: cert.subject_id().to_vec(),
            rc,
        });
        Ok(response)
    }

    /// Key establishment step 2 (`3A02 { A6 } ‖ 7F49 ‖ 5F37`): verifies the off-card signature
    /// over `3A02 ‖ 7F49 ‖ 85 L RC` (C-18), computes ShS = ECDH(SK.ECASD, ePK), derives the key set
    /// (U-17), stores it and returns `[85 L DR] ‖ 86 10 receipt`. An ISD-P becomes PERSONALIZED; the
    /// ISD-R gains a key set.
    pub fn key_establishment_keys(
        &mut self,
        target: KeTarget,
        data: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        let pending = self
            .volatile
            .key_establishment
            .take()
            .ok_or(CardError::OutOfSequence("3A02 without a verified 3A01"))?;
        if pending.target != target {
            return Err(CardError::OutOfSequence(
                "3A02 for another security domain than 3A01",
            ));
        }
        let curve = self.ecasd.key.curve();
        let received = scenario3::parse(data)?;
        let signature = received.raw.signature.ok_or(CardError::BadSignature)?;
        let input =
            rsp_gp::command::signed_data(received.raw.dgi, received.raw.public_key, &pending.rc)
                .map_err(|e| CardError::Internal(e.to_string()))?;
        pending
            .off_card_key
            .verify_raw(&input, signature)
            .map_err(|_| CardError::BadSignature)?;
        let epk = scenario3::public_key(&received.parsed.ephemeral_public_key, curve)?;
        let crt = &received.parsed.crt;
        let kind = match target {
            KeTarget::IsdP(aid) => {
                let isd_p = self.require(&aid)?;
                if isd_p.state != IsdPState::Selectable {
                    return Err(CardError::WrongState {
                        aid,
                        state: isd_p.state,
                        expected: "Selectable",
                    });
                }
                if crt.key_type != KEY_TYPE_AES || crt.key_usage != KEY_USAGE_SCP03_KEY_SET {
                    return Err(CardError::NotSupported(
                        "an ISD-P key set other than an AES SCP03 key set",
                    ));
                }
                None
            }
            KeTarget::IsdR => {
                if self.isd_r.key_set(crt.key_version).is_some() {
                    return Err(CardError::Refused("the ISD-R already has this key version"));
                }
                match crt.key_type {
                    KeyAgreementCrt::KEY_TYPE_AES => Some(KeySetKind::Scp80),
                    KeyAgreementCrt::KEY_TYPE_PSK_TLS => Some(KeySetKind::Scp81),
                    _ => return Err(CardError::NotSupported("ISD-R key type")),
                }
            }
        };
        let shared = self
            .ecasd
            .key
            .agree(&epk)
            .map_err(|e| CardError::Malformed(format!("ephemeral key: {e}")))?;
        let dr = crt.includes_dr().then(|| self.rng.bytes(scenario3::DR_LEN));
        let keys = scenario3::derive_keys(shared.as_bytes(), crt, dr.as_deref())?;
        let response = KeyAgreementResponse {
            derivation_random: dr.clone(),
            receipt: scenario3::receipt(&keys.receipt_key, received.raw.crt, dr.as_deref())?,
        }
        .encode()
        .map_err(|e| CardError::Internal(e.to_string()))?;
        match (target, kind) {
            (KeTarget::IsdP(aid), _) => {
                let key_set = Scp03KeySet {
                    kvn: crt.key_version,
                    enc: keys.enc.clone(),
                    mac: keys.mac.clone(),
                    dek: keys.dek.clone(),
                    sequence_counter: 0,
                };
                // Checked by `static_keys` before the state changes.
                key_set.static_keys()?;
                if let Some(isd_p) = self.isd_ps.get_mut(&aid) {
                    isd_p.keys = Some(key_set);
                    isd_p.smdp_id = Some(pending.off_card_id);
                    isd_p.state = IsdPState::Personalized;
                }
            }
            (KeTarget::IsdR, Some(kind)) => {
                let value = |v: &Zeroizing<Vec<u8>>, id: u8| KeyValue {
                    id,
                    value: v.clone(),
                };
                // Key usage `5C` (one key, e.g. an SCP81 PSK) keeps Key-ENC only.
                let first = crt.key_id;
                let keys = if crt.key_usage == KeyAgreementCrt::KEY_USAGE_ONE_KEY {
                    vec![value(&keys.enc, first)]
                } else {
                    vec![
                        value(&keys.enc, first),
                        value(&keys.mac, first.wrapping_add(1)),
                        value(&keys.dek, first.wrapping_add(2)),
                    ]
                };
                self.isd_r.key_sets.push(KeySet {
                    kind,
                    version: crt.key_version,
                    keys,
                });
            }
            (KeTarget::IsdR, None) => {}
        }
        Ok(response)
    }

    /// Stores profile metadata (POL1, class) on a personalized ISD-P (`ES8.StoreMetadata`, U-13).
    pub fn store_metadata(&mut self, aid: Aid, metadata: ProfileMetadata) -> Result<(), CardError> {
        self.require_state(&aid, IsdPState::Personalized, "Personalized")?;
        if let Some(isd_p) = self.isd_ps.get_mut(&aid) {
            isd_p.metadata = metadata;
        }
        Ok(())
    }

    /// Installs a reassembled profile package into a personalized ISD-P: the package must parse,
    /// fit the ISD-P's quota, carry an ICCID not installed elsewhere and match the metadata's
    /// ICCID. The ISD-P becomes DISABLED.
    pub fn install_package(&mut self, aid: Aid, package: Vec<u8>) -> Result<Iccid, CardError> {
        let isd_p = self.require_state(&aid, IsdPState::Personalized, "Personalized")?;
        let parsed = ProfilePackage::parse(&package)?;
        if parsed.memory_size() > isd_p.memory_quota {
            return Err(CardError::InsufficientMemory {
                requested: parsed.memory_size(),
                free: isd_p.memory_quota,
            });
        }
        if let Some(expected) = isd_p.metadata.iccid
            && expected != parsed.iccid
        {
            return Err(CardError::Malformed(format!(
                "package ICCID {} differs from the metadata's {expected}",
                parsed.iccid
            )));
        }
        let duplicate = self
            .isd_ps
            .values()
            .any(|p| p.profile.as_ref().is_some_and(|i| i.iccid == parsed.iccid));
        if duplicate {
            return Err(CardError::DuplicateIccid(parsed.iccid.to_string()));
        }
        if let Some(isd_p) = self.isd_ps.get_mut(&aid) {
            isd_p.profile = Some(InstalledProfile {
                iccid: parsed.iccid,
                profile_type: parsed.profile_type,
                package,
            });
            isd_p.state = IsdPState::Disabled;
        }
        Ok(parsed.iccid)
    }

    // ----- ESx local functions --------------------------------------------------------------

    /// `ESx.LocalEnableTestProfile` (SGP.02 §3.22): enables the test profile `aid`, ignoring the
    /// current profile's POL1; refused over the enabled emergency profile. No notification, no
    /// roll-back.
    pub fn local_enable_test_profile(&mut self, aid: Aid) -> Result<(), CardError> {
        let target = self.require(&aid)?;
        if !target.is_test() || !target.state.has_profile() {
            return Err(CardError::Refused("not an installed test profile"));
        }
        if target.state == IsdPState::Enabled {
            return Err(CardError::Refused("the test profile is already enabled"));
        }
        let current = self.enabled_profile();
        let previous = match self.local {
            Some(o) if o.kind == LocalKind::Emergency => {
                return Err(CardError::LocalOverrideActive(o.kind.name()));
            }
            Some(o) => o.previous,
            None => current,
        };
        if current.is_some() && current == self.emergency {
            return Err(CardError::Refused("the emergency profile is enabled"));
        }
        self.switch(current, Some(aid));
        self.supersede_pending();
        self.local = Some(LocalOverride {
            kind: LocalKind::Test,
            profile: aid,
            previous,
        });
        Ok(())
    }

    /// `ESx.LocalDisableTestProfile` (SGP.02 §3.23): disables the test profile and re-enables the
    /// profile enabled before it.
    pub fn local_disable_test_profile(&mut self) -> Result<(), CardError> {
        self.end_local(LocalKind::Test)
    }

    /// `ESx.LocalEnableEmergencyProfile` (SGP.02 §3.30): enables the holder of the Emergency
    /// attribute, ignoring the current profile's POL1 (also over a local test profile).
    pub fn local_enable_emergency_profile(&mut self) -> Result<(), CardError> {
        let aid = self.emergency.ok_or(CardError::Refused(
            "no profile holds the Emergency attribute",
        ))?;
        let current = self.enabled_profile();
        if current == Some(aid) {
            return Err(CardError::Refused(
                "the emergency profile is already enabled",
            ));
        }
        let previous = match self.local {
            Some(o) => o.previous,
            None => current,
        };
        self.switch(current, Some(aid));
        self.supersede_pending();
        self.local = Some(LocalOverride {
            kind: LocalKind::Emergency,
            profile: aid,
            previous,
        });
        Ok(())
    }

    /// `ESx.LocalDisableEmergencyProfile` (SGP.02 §3.31): disables the emergency profile and
    /// re-enables the profile enabled before it.
    pub fn local_disable_emergency_profile(&mut self) -> Result<(), CardError> {
        self.end_local(LocalKind::Emergency)
    }

    // ----- invariants -----------------------------------------------------------------------

    /// Checks the card's invariants: at most one enabled profile; the Fall-Back and Emergency
    /// attributes on installed profiles, never on the same one; memory within bounds; unique
    /// ICCIDs; a consistent local override; at most one profile change awaiting confirmation.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        let fail = |m: String| Err(InvariantViolation(m));
        let enabled = self
            .isd_ps
            .values()
            .filter(|p| p.state == IsdPState::Enabled)
            .count();
        if enabled > 1 {
            return fail(format!("{enabled} profiles enabled"));
        }
        for (attr, holder) in [("Fall-Back", self.fall_back), ("Emergency", self.emergency)] {
            if let Some(aid) = holder
                && !self.isd_ps.get(&aid).is_some_and(|p| p.state.has_profile())
            {
                return fail(format!("{attr} attribute on {aid}, which holds no profile"));
            }
        }
        if self.fall_back.is_some() && self.fall_back == self.emergency {
            return fail("Fall-Back and Emergency on the same profile".into());
        }
        let quotas: u64 = self.isd_ps.values().map(|p| p.memory_quota).sum();
        if quotas > self.config.total_nv_memory {
            return fail(format!("quotas {quotas} exceed the memory"));
        }
        if let Some(p) = self
            .isd_ps
            .values()
            .find(|p| p.used_memory() > p.memory_quota)
        {
            return fail(format!("{} uses more than its quota", p.aid));
        }
        let mut iccids: Vec<_> = self
            .isd_ps
            .values()
            .filter_map(|p| p.profile.as_ref().map(|i| i.iccid))
            .collect();
        let total = iccids.len();
        iccids.sort();
        iccids.dedup();
        if iccids.len() != total {
            return fail("duplicate ICCID".into());
        }
        for p in self.isd_ps.values() {
            if p.state.has_profile() != p.profile.is_some() {
                return fail(format!(
                    "{} state {:?} and its profile disagree",
                    p.aid, p.state
                ));
            }
            if (p.state != IsdPState::Selectable) != p.keys.is_some() {
                return fail(format!(
                    "{} state {:?} and its keys disagree",
                    p.aid, p.state
                ));
            }
        }
        if let Some(o) = self.local
            && self.enabled_profile() != Some(o.profile)
        {
            return fail("local override profile is not the enabled one".into());
        }
        if self.pending.iter().filter(|p| p.is_change()).count() > 1 {
            return fail("more than one profile change awaiting confirmation".into());
        }
        Ok(())
    }

    // ----- internals ------------------------------------------------------------------------

    fn require(&self, aid: &Aid) -> Result<&IsdP, CardError> {
        self.isd_ps.get(aid).ok_or(CardError::UnknownIsdP(*aid))
    }

    /// The ISD-P `aid`, which must be in `state` (`expected` names it in the error).
    fn require_state(
        &self,
        aid: &Aid,
        state: IsdPState,
        expected: &'static str,
    ) -> Result<&IsdP, CardError> {
        let isd_p = self.require(aid)?;
        if isd_p.state != state {
            return Err(CardError::WrongState {
                aid: *aid,
                state: isd_p.state,
                expected,
            });
        }
        Ok(isd_p)
    }

    fn pol1_of(&self, aid: &Aid) -> Pol1 {
        self.isd_ps.get(aid).map(IsdP::pol1).unwrap_or_default()
    }

    fn check_no_local(&self) -> Result<(), CardError> {
        match self.local {
            Some(o) => Err(CardError::LocalOverrideActive(o.kind.name())),
            None => Ok(()),
        }
    }

    fn check_no_pending_change(&self) -> Result<(), CardError> {
        match self.pending.iter().find(|p| p.is_change()) {
            Some(p) => Err(CardError::ChangePending(p.seq)),
            None => Ok(()),
        }
    }

    /// Disables `from` and enables `to` (no checks).
    fn switch(&mut self, from: Option<Aid>, to: Option<Aid>) {
        if let Some(p) = from.and_then(|a| self.isd_ps.get_mut(&a)) {
            p.state = IsdPState::Disabled;
        }
        if let Some(p) = to.and_then(|a| self.isd_ps.get_mut(&a)) {
            p.state = IsdPState::Enabled;
        }
    }

    fn remove_isdp(&mut self, aid: Aid) {
        self.isd_ps.remove(&aid);
        if self.emergency == Some(aid) {
            self.emergency = None;
        }
        for p in &mut self.pending {
            p.delete_on_confirm.retain(|a| *a != aid);
        }
        if self.volatile.personalization == Some(aid) {
            self.volatile.personalization = None;
        }
        if self.volatile.selected == Selected::IsdP(aid) {
            self.volatile.selected = Selected::IsdR;
        }
        if self
            .volatile
            .channel
            .as_ref()
            .is_some_and(|c| c.aid() == aid)
        {
            self.volatile.channel = None;
        }
        if matches!(self.volatile.key_establishment, Some(ref k) if k.target == KeTarget::IsdP(aid))
        {
            self.volatile.key_establishment = None;
        }
    }

    /// Earlier notifications keep waiting for confirmation but can no longer roll back or delete:
    /// a later autonomous change (roll-back, fall-back, local function) replaced their outcome.
    fn supersede_pending(&mut self) {
        for p in &mut self.pending {
            p.rollback = Rollback::None;
            p.delete_on_confirm.clear();
        }
    }

    fn queue_notification(
        &mut self,
        kind: NotificationType,
        isd_p_aid: Option<Aid>,
        rollback: Rollback,
        delete_on_confirm: Vec<Aid>,
    ) {
        let seq = self.next_seq;
        self.next_seq = match self.next_seq.wrapping_add(1) {
            0 => 1,
            n => n,
        };
        let iccid = isd_p_aid
            .and_then(|a| self.isd_ps.get(&a))
            .and_then(|p| p.profile.as_ref())
            .map(|i| i.iccid);
        let payload = super::notify_codec::encode_default_notification(
            &self.ecasd.eid,
            kind,
            seq,
            isd_p_aid.as_ref(),
        );
        self.pending.push(PendingNotification {
            seq,
            kind,
            isd_p_aid,
            iccid,
            payload,
            attempts: 1,
            deadline: self.now.plus_secs(self.config.notification_wait_secs),
            awaiting_send: true,
            rollback,
            delete_on_confirm,
        });
    }

    /// The last confirmation window of `expired` closed.
    fn give_up(&mut self, expired: PendingNotification) {
        match expired.rollback {
            Rollback::None => {}
            Rollback::ToPrevious { current, previous } => {
                if self.local.is_none() && self.enabled_profile() == Some(current) {
                    self.roll_back(current, previous);
                }
            }
            Rollback::FallBack => {
                // The roll-back was not confirmed either: the previous profile failed too.
                let _ = self.fall_back_now();
            }
        }
    }

    /// Re-enables `previous` (or the Fall-Back profile when there was none) instead of `current`
    /// and queues notification `03`; returns what is enabled afterwards.
    fn roll_back(&mut self, current: Aid, previous: Option<Aid>) -> Option<Aid> {
        let usable = |aid: &Aid| {
            self.isd_ps
                .get(aid)
                .is_some_and(|p| p.state == IsdPState::Disabled)
        };
        let to = previous
            .filter(usable)
            .or_else(|| self.fall_back.filter(|f| *f != current).filter(usable));
        self.supersede_pending();
        self.switch(Some(current), to);
        let rollback = if to.is_some() {
            Rollback::FallBack
        } else {
            Rollback::None
        };
        self.queue_notification(
            NotificationType::ProfileChangeRolledBack,
            to,
            rollback,
            Vec::new(),
        );
        to
    }

    /// The fall-back mechanism (SGP.02 §3.16): disables the enabled profile ignoring its POL1 (and
    /// never deleting it), enables the Fall-Back profile, queues notification `05`.
    fn fall_back_now(&mut self) -> Result<Aid, CardError> {
        if let Some(o) = self.local {
            return Err(CardError::LocalOverrideActive(o.kind.name()));
        }
        let fall_back = self
            .fall_back
            .ok_or(CardError::Refused("no Fall-Back profile"))?;
        let current = self.enabled_profile();
        if current == Some(fall_back) {
            return Err(CardError::Refused(
                "the Fall-Back profile is already enabled",
            ));
        }
        if let Some(cur) = current
            && self.pol1_of(&cur).disable_not_allowed
        {
            self.fall_back_pin = Some(cur);
        }
        self.supersede_pending();
        self.switch(current, Some(fall_back));
        self.queue_notification(
            NotificationType::FallBack,
            Some(fall_back),
            Rollback::None,
            Vec::new(),
        );
        Ok(fall_back)
    }

    fn end_local(&mut self, kind: LocalKind) -> Result<(), CardError> {
        let o = match self.local {
            Some(o) if o.kind == kind => o,
            _ => {
                return Err(CardError::Refused(match kind {
                    LocalKind::Test => "no test profile is enabled locally",
                    LocalKind::Emergency => "the emergency profile is not enabled locally",
                }));
            }
        };
        let previous = o.previous.filter(|aid| {
            self.isd_ps
                .get(aid)
                .is_some_and(|p| p.state == IsdPState::Disabled)
        });
        self.switch(Some(o.profile), previous);
        self.local = None;
        Ok(())
    }
}
