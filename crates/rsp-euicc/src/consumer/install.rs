//! ES10b.LoadBoundProfilePackage: the segments go through [`rsp_sgp22::bpp::BppLoader`]; the
//! card checks the metadata (ICCID unique, profile class supported, PPRs allowed by the RAT) at
//! StoreMetadata, the UPP at the end (well-formed SAIP, ICCID as in the metadata), installs only
//! on full success and answers the last segment (or the first failing one) with the signed
//! Profile Installation Result, stored as a notification before it is returned.

use rsp_sgp22::bpp::{
    self, BppCommandId, BppEvent, BppFailure, BppLoader, ErrorReason, LoaderConfig,
};
use rsp_sgp22::{
    ErrorResult, FinalResult, NotificationEvent, OperatorId, PendingNotification, PprIds,
    ProfileInstallationResult, ProfileInstallationResultData, ProfilePolicyAuthorisationRule,
    Signed, StoreMetadataRequest, SuccessResult,
};
use rsp_types::{Aid, Iccid};

use super::card::{ConsumerEuicc, InstalledProfile, StoredNotification};
use super::error::Refusal;
use crate::m2m::saip::ProfilePackage;

/// A BPP being loaded.
#[derive(Debug)]
pub(crate) struct BppInstall {
    loader: BppLoader,
    metadata: Option<(Vec<u8>, StoreMetadataRequest)>,
    isdp_aid: Option<Aid>,
}

/// Tags that continue a BPP after its first segment.
pub(crate) fn is_bpp_continuation(tag: u32) -> bool {
    matches!(
        tag,
        bpp::TAG_FIRST_SEQUENCE_OF_87
            | bpp::TAG_SEQUENCE_OF_88
            | bpp::TAG_SECOND_SEQUENCE_OF_87
            | bpp::TAG_SEQUENCE_OF_86
            | 0x86
            | 0x87
            | 0x88
    )
}

/// The `EUICCResponse` (SAIP) of a successful installation: one PEStatus `ok`.
const EUICC_RESPONSE_OK: [u8; 9] = [0x30, 0x07, 0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00];

/// Whether `mcc_mnc` (3 bytes, `E` nibbles are wildcards) of a RAT entry matches the owner's.
fn mcc_mnc_matches(rule: &[u8], owner: &[u8]) -> bool {
    rule.len() == owner.len()
        && rule.iter().zip(owner).all(|(r, o)| {
            let hi = (r >> 4) == 0xE || (r >> 4) == (o >> 4);
            let lo = (r & 0x0F) == 0xE || (r & 0x0F) == (o & 0x0F);
            hi && lo
        })
}

fn operator_matches(rule: &OperatorId, owner: &OperatorId) -> bool {
    let gid = |r: &Option<Vec<u8>>, o: &Option<Vec<u8>>| match r {
        None => true,
        Some(r) if r.is_empty() => true,
        Some(r) => o.as_ref() == Some(r),
    };
    mcc_mnc_matches(&rule.mcc_mnc, &owner.mcc_mnc)
        && gid(&rule.gid1, &owner.gid1)
        && gid(&rule.gid2, &owner.gid2)
}

/// Whether the RAT allows every PPR of `metadata` for its profile owner (sgp22.md §16.5: per
/// PPR the first PPAR naming it and matching the owner allows it; an empty RAT allows none; the
/// consent flag is the LPA's business).
pub fn pprs_allowed(
    metadata: &StoreMetadataRequest,
    rat: &[ProfilePolicyAuthorisationRule],
) -> bool {
    let Some(pprs) = metadata.profile_policy_rules.as_ref() else {
        return true;
    };
    for ppr in [PprIds::PPR1, PprIds::PPR2] {
        if !pprs.has(ppr) {
            continue;
        }
        let Some(owner) = metadata.profile_owner.as_ref() else {
            return false;
        };
        let allowed = rat.iter().any(|rule| {
            rule.ppr_ids.has(ppr)
                && rule
                    .allowed_operators
                    .iter()
                    .any(|op| operator_matches(op, owner))
        });
        if !allowed {
            return false;
        }
    }
    true
}

impl ConsumerEuicc {
    fn next_isdp_aid(&self) -> Option<Aid> {
        let base = crate::m2m::state::ISD_R_AID;
        (0x10u8..=0xFF).find_map(|n| {
            let mut bytes = base.as_bytes().to_vec();
            if let Some(b) = bytes.get_mut(14) {
                *b = n;
            }
            let aid = Aid::try_from(bytes.as_slice()).ok()?;
            (!self.state.profiles.iter().any(|p| p.isdp_aid == aid)).then_some(aid)
        })
    }

    /// One LoadBoundProfilePackage segment.
    pub(crate) fn load_bpp_segment(&mut self, segment: &[u8]) -> Result<Vec<u8>, Refusal> {
        let first = segment.starts_with(&[0xBF, 0x36]);
        if first {
            let session = self.volatile.session.as_ref().ok_or(Refusal::Conditions)?;
            let prepared = session.prepared.as_ref().ok_or(Refusal::Conditions)?;
            let dp_pb = prepared
                .smdp_certificate
                .public_key()
                .map_err(|_| Refusal::Internal)?
                .clone();
            let mut cfg = LoaderConfig::new(
                session.transaction_id.clone(),
                self.identity.eid.to_bytes(),
                prepared.otsk.try_clone().map_err(|_| Refusal::Internal)?,
                dp_pb,
            );
            cfg.max_upp_len = usize::try_from(self.free_memory()).unwrap_or(usize::MAX);
            self.volatile.bpp = Some(BppInstall {
                loader: BppLoader::new(cfg),
                metadata: None,
                isdp_aid: None,
            });
        }
        let Some(mut install) = self.volatile.bpp.take() else {
            return Err(Refusal::Conditions);
        };
        let events = match install.loader.load_segment(segment) {
            Ok(e) => e,
            Err(f) => return self.finish_install(install, Err(f)),
        };
        for event in events {
            match event {
                BppEvent::ConfigureIsdp(_) => {
                    let Some(aid) = self.next_isdp_aid() else {
                        let f = install
                            .loader
                            .abort(ErrorReason::InstallFailedDueToInsufficientMemoryForProfile);
                        return self.finish_install(install, Err(f));
                    };
                    install.isdp_aid = Some(aid);
                }
                BppEvent::StoreMetadata(der) => {
                    if let Err(reason) = self.check_metadata(&der, &mut install) {
                        let f = install.loader.abort(reason);
                        return self.finish_install(install, Err(f));
                    }
                }
                BppEvent::Complete(upp) => {
                    return self.finish_install(install, Ok(upp.to_vec()));
                }
                BppEvent::SecureChannelOpened { .. }
                | BppEvent::SessionKeysReplaced
                | BppEvent::ProfileElements(_) => {}
            }
        }
        self.volatile.bpp = Some(install);
        Ok(Vec::new())
    }

    fn check_metadata(&self, der: &[u8], install: &mut BppInstall) -> Result<(), ErrorReason> {
        let metadata =
            StoreMetadataRequest::decode(der).map_err(|_| ErrorReason::IncorrectInputValues)?;
        if self
            .state
            .profiles
            .iter()
            .any(|p| p.iccid == metadata.iccid)
        {
            return Err(ErrorReason::InstallFailedDueToIccidAlreadyExistsOnEuicc);
        }
        let class = metadata
            .profile_class
            .unwrap_or(rsp_sgp22::profile_class::OPERATIONAL);
        let test_ok = self
            .config
            .capability
            .has(rsp_sgp22::EuiccRspCapability::TEST_PROFILE_SUPPORT);
        if !(0..=2).contains(&class) || (class == rsp_sgp22::profile_class::TEST && !test_ok) {
            return Err(ErrorReason::UnsupportedProfileClass);
        }
        if !pprs_allowed(&metadata, &self.config.rat) {
            return Err(ErrorReason::PprNotAllowed);
        }
        install.metadata = Some((der.to_vec(), metadata));
        Ok(())
    }

    /// Ends a BPP: installs on success, signs and stores the Profile Installation Result,
    /// closes the session.
    fn finish_install(
        &mut self,
        install: BppInstall,
        outcome: Result<Vec<u8>, BppFailure>,
    ) -> Result<Vec<u8>, Refusal> {
        self.volatile.bpp = None;
        let session = self.volatile.session.take().ok_or(Refusal::Conditions)?;
        let iccid: Option<Iccid> = install.metadata.as_ref().map(|(_, m)| m.iccid);
        // The UPP must be a profile package whose header names the metadata's ICCID.
        let outcome = outcome.and_then(|upp| {
            let failure = |reason| BppFailure {
                command: BppCommandId::LoadProfileElements,
                reason,
                detail: "profile package refused by the eUICC",
            };
            let package = ProfilePackage::parse(&upp)
                .map_err(|_| failure(ErrorReason::InstallFailedDueToPeProcessingError))?;
            match (&install.metadata, install.isdp_aid) {
                (Some((_, m)), Some(_)) if m.iccid == package.iccid => Ok(upp),
                (Some(_), Some(_)) => Err(failure(ErrorReason::InstallFailedDueToDataMismatch)),
                _ => Err(failure(ErrorReason::BspStructureError)),
            }
        });
        let final_result = match &outcome {
            Ok(_) => FinalResult::Success(SuccessResult {
                aid: install
                    .isdp_aid
                    .map(|a| a.as_bytes().to_vec())
                    .unwrap_or_default(),
                sima_response: EUICC_RESPONSE_OK.to_vec(),
                unknown_tags: vec![],
            }),
            Err(f) => FinalResult::Error(ErrorResult {
                bpp_command_id: f.command.code(),
                error_reason: f.reason.code(),
                sima_response: None,
                unknown_tags: vec![],
            }),
        };
        if let (Ok(upp), Some((metadata_der, metadata)), Some(aid)) =
            (&outcome, install.metadata, install.isdp_aid)
        {
            self.state.profiles.push(InstalledProfile {
                isdp_aid: aid,
                iccid: metadata.iccid,
                enabled: false,
                nickname: None,
                metadata_der,
                metadata,
                upp: upp.clone(),
                smdp_address: session.server_address.clone(),
            });
            self.state.retained_otk = None;
        }
        let profile = self.own_profile();
        let notification_metadata =
            self.next_metadata(NotificationEvent::INSTALL, &session.server_address, iccid);
        let seq = notification_metadata.seq_number;
        let data = Signed::new(
            ProfileInstallationResultData {
                transaction_id: session.transaction_id.clone(),
                notification_metadata,
                smdp_oid: session.smdp_oid.clone(),
                final_result,
                unknown_tags: vec![],
            },
            &profile,
        )?;
        let signature = self.sign(session.credential, data.raw())?;
        let pir = ProfileInstallationResult {
            profile_installation_result_data: data,
            euicc_sign_pir: signature,
            unknown_tags: vec![],
        };
        let der = pir.encode(&profile)?;
        let pending = PendingNotification::ProfileInstallationResult(pir).encode(&profile)?;
        // Written to the card's state before it is returned.
        self.store_notification(StoredNotification {
            seq_number: seq,
            event: NotificationEvent::INSTALL,
            address: session.server_address.clone(),
            iccid,
            pending,
        });
        Ok(der)
    }
}
