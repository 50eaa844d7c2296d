//! The ES10 dispatcher and the ES10a / ES10c functions (and the small ES10b ones: GetRAT,
//! LoadCRL).

use rsp_sgp22::profile_operation_result as por;
use rsp_sgp22::{
    DeleteProfileRequest, DeleteProfileResponse, DisableProfileRequest, DisableProfileResponse,
    EnableProfileRequest, EnableProfileResponse, EuiccConfiguredAddressesResponse,
    EuiccMemoryResetRequest, EuiccMemoryResetResponse, GetEuiccDataRequest, GetEuiccDataResponse,
    GetRatResponse, NotificationEvent, ProfileIdentifier, ProfileInfo, ProfileInfoListRequest,
    ProfileInfoListResponse, ProfileSearchCriteria, SeqOf, SetDefaultDpAddressRequest,
    SetDefaultDpAddressResponse, SetNicknameRequest, SetNicknameResponse,
};
use rsp_types::tlv;

use super::card::{ConsumerEuicc, InstalledProfile};
use super::error::Refusal;

/// The first tag of an ES10 command.
fn first_tag(cmd: &[u8]) -> Result<u32, Refusal> {
    let (tag, _) = tlv::read_tag(cmd).map_err(|_| Refusal::Malformed)?;
    Ok(u32::from(tag))
}

/// Tags of a `tagList` (`5C`): concatenated BER tags.
fn tag_list(bytes: &[u8]) -> Result<Vec<u32>, Refusal> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (tag, used) = tlv::read_tag(rest).map_err(|_| Refusal::Malformed)?;
        out.push(u32::from(tag));
        rest = rest.get(used..).ok_or(Refusal::Malformed)?;
    }
    Ok(out)
}

impl ConsumerEuicc {
    /// One complete ES10 command TLV → the response TLV, or a status word.
    pub(crate) fn es10_command(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let tag = first_tag(cmd)?;
        // A BPP in progress takes its segments (and ends at anything else but the always
        // handled GetEUICCChallenge / CancelSession / info functions).
        if self.volatile.bpp.is_some() && super::install::is_bpp_continuation(tag) {
            return self.load_bpp_segment(cmd);
        }
        let profile = self.own_profile();
        match tag {
            0xBF2E => self.get_challenge(),
            0xBF20 => Ok(self.euicc_info1().encode(&profile)?),
            0xBF22 => Ok(self.euicc_info2().encode(&profile)?),
            0xBF38 => self.authenticate_server(cmd),
            0xBF21 => self.prepare_download(cmd),
            0xBF36 => self.load_bpp_segment(cmd),
            0xBF41 => self.cancel_session(cmd),
            0xBF45 => self.verify_smds_response(cmd),
            0xBF28 => self.list_notification(cmd),
            0xBF2B => self.retrieve_notifications(cmd),
            0xBF30 => self.notification_sent(cmd),
            0xBF43 => Ok(GetRatResponse {
                rat: SeqOf(self.config.rat.clone()),
                unknown_tags: vec![],
            }
            .encode(&profile)?),
            // LoadCRL: loadCRLResponseError [1] undefinedError (CRLs are not supported).
            0xBF35 => {
                tlv::parse_single(cmd).map_err(|_| Refusal::Malformed)?;
                Ok(vec![0xBF, 0x35, 0x03, 0x81, 0x01, 0x7F])
            }
            0xBF2D => self.get_profiles_info(cmd),
            0xBF31 => self.enable_profile(cmd),
            0xBF32 => self.disable_profile(cmd),
            0xBF33 => self.delete_profile(cmd),
            0xBF3E => self.get_eid(cmd),
            0xBF29 => self.set_nickname(cmd),
            0xBF34 => self.memory_reset(cmd),
            0xBF3C => {
                tlv::parse_single(cmd).map_err(|_| Refusal::Malformed)?;
                Ok(EuiccConfiguredAddressesResponse {
                    default_dp_address: self.state.default_dp_address.clone(),
                    root_ds_address: self.config.root_smds_address.clone(),
                    unknown_tags: vec![],
                }
                .encode(&profile)?)
            }
            0xBF3F => {
                let req = SetDefaultDpAddressRequest::decode(cmd)?;
                self.state.default_dp_address = if req.default_dp_address.is_empty() {
                    None
                } else {
                    Some(req.default_dp_address)
                };
                Ok(SetDefaultDpAddressResponse {
                    set_default_dp_address_result: 0,
                    unknown_tags: vec![],
                }
                .encode(&profile)?)
            }
            _ => Err(Refusal::Unknown),
        }
    }

    fn find_profile(&self, id: &ProfileIdentifier) -> Option<usize> {
        self.state.profiles.iter().position(|p| match id {
            ProfileIdentifier::IsdpAid(a) => p.isdp_aid.as_bytes() == a.as_slice(),
            ProfileIdentifier::Iccid(i) => &p.iccid == i,
        })
    }

    fn profile_info(p: &InstalledProfile, tags: Option<&[u32]>) -> ProfileInfo {
        let want = |t: u32| tags.is_none_or(|l| l.contains(&t));
        let m = &p.metadata;
        ProfileInfo {
            iccid: want(0x5A).then_some(p.iccid),
            isdp_aid: want(0x4F).then(|| p.isdp_aid.as_bytes().to_vec()),
            profile_state: want(0x9F70).then_some(i64::from(p.enabled)),
            profile_nickname: if want(0x90) { p.nickname.clone() } else { None },
            service_provider_name: want(0x91).then(|| m.service_provider_name.clone()),
            profile_name: want(0x92).then(|| m.profile_name.clone()),
            icon_type: if want(0x93) { m.icon_type } else { None },
            icon: if want(0x94) { m.icon.clone() } else { None },
            profile_class: want(0x95).then(|| p.profile_class()),
            notification_configuration_info: if want(0xB6) {
                m.notification_configuration_info.clone()
            } else {
                None
            },
            profile_owner: if want(0xB7) {
                m.profile_owner.clone()
            } else {
                None
            },
            dp_proprietary_data: None,
            profile_policy_rules: if want(0x99) {
                m.profile_policy_rules.clone()
            } else {
                None
            },
            unknown_tags: vec![],
        }
    }

    /// ES10c.GetProfilesInfo.
    fn get_profiles_info(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = ProfileInfoListRequest::decode(cmd)?;
        let profile = self.own_profile();
        let tags = match &req.tag_list {
            Some(t) => match tag_list(t) {
                Ok(l) => Some(l),
                // incorrectInputValues
                Err(_) => return Ok(ProfileInfoListResponse::Error(1).encode(&profile)?),
            },
            None => None,
        };
        let list: Vec<ProfileInfo> = self
            .state
            .profiles
            .iter()
            .filter(|p| match &req.search_criteria {
                None => true,
                Some(ProfileSearchCriteria::IsdpAid(a)) => p.isdp_aid.as_bytes() == a.as_slice(),
                Some(ProfileSearchCriteria::Iccid(i)) => &p.iccid == i,
                Some(ProfileSearchCriteria::ProfileClass(c)) => p.profile_class() == *c,
            })
            .map(|p| Self::profile_info(p, tags.as_deref()))
            .collect();
        Ok(ProfileInfoListResponse::Ok(SeqOf(list)).encode(&profile)?)
    }

    fn enable_result(&mut self, id: &ProfileIdentifier) -> Result<i64, Refusal> {
        let Some(target) = self.find_profile(id) else {
            return Ok(por::ICCID_OR_AID_NOT_FOUND);
        };
        let Some(t) = self.state.profiles.get(target) else {
            return Ok(por::ICCID_OR_AID_NOT_FOUND);
        };
        if t.enabled {
            return Ok(por::WRONG_PROFILE_STATE);
        }
        let target_class = t.profile_class();
        let current = self.state.profiles.iter().position(|p| p.enabled);
        if let Some(c) = current.and_then(|i| self.state.profiles.get(i)) {
            // PPR1 forbids disabling the enabled profile, except to enable a test or
            // provisioning profile (sgp22.md §16.5).
            if c.has_ppr(rsp_sgp22::PprIds::PPR1)
                && target_class == rsp_sgp22::profile_class::OPERATIONAL
            {
                return Ok(por::DISALLOWED_BY_POLICY);
            }
        }
        // Single enabled profile: the enabled one is disabled first (two notifications).
        if let Some(c) = current {
            if let Some(p) = self.state.profiles.get_mut(c) {
                p.enabled = false;
            }
            self.notify_profile_event(c, NotificationEvent::LOCAL_DISABLE)?;
        }
        if let Some(p) = self.state.profiles.get_mut(target) {
            p.enabled = true;
        }
        self.notify_profile_event(target, NotificationEvent::LOCAL_ENABLE)?;
        Ok(por::OK)
    }

    /// ES10c.EnableProfile.
    fn enable_profile(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = EnableProfileRequest::decode(cmd)?;
        let result = self.enable_result(&req.profile_identifier)?;
        Ok(EnableProfileResponse {
            enable_result: result,
            unknown_tags: vec![],
        }
        .encode(&self.own_profile())?)
    }

    fn disable_result(&mut self, id: &ProfileIdentifier) -> Result<i64, Refusal> {
        let Some(target) = self.find_profile(id) else {
            return Ok(por::ICCID_OR_AID_NOT_FOUND);
        };
        let Some(t) = self.state.profiles.get_mut(target) else {
            return Ok(por::ICCID_OR_AID_NOT_FOUND);
        };
        if !t.enabled {
            return Ok(por::WRONG_PROFILE_STATE);
        }
        if t.has_ppr(rsp_sgp22::PprIds::PPR1) {
            return Ok(por::DISALLOWED_BY_POLICY);
        }
        t.enabled = false;
        self.notify_profile_event(target, NotificationEvent::LOCAL_DISABLE)?;
        Ok(por::OK)
    }

    /// ES10c.DisableProfile.
    fn disable_profile(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = DisableProfileRequest::decode(cmd)?;
        let result = self.disable_result(&req.profile_identifier)?;
        Ok(DisableProfileResponse {
            disable_result: result,
            unknown_tags: vec![],
        }
        .encode(&self.own_profile())?)
    }

    /// ES10c.DeleteProfile.
    fn delete_profile(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let id = match DeleteProfileRequest::decode(cmd)? {
            DeleteProfileRequest::IsdpAid(a) => ProfileIdentifier::IsdpAid(a),
            DeleteProfileRequest::Iccid(i) => ProfileIdentifier::Iccid(i),
        };
        let result = match self.find_profile(&id) {
            None => por::ICCID_OR_AID_NOT_FOUND,
            Some(i) => match self.state.profiles.get(i) {
                None => por::ICCID_OR_AID_NOT_FOUND,
                Some(p) if p.enabled => por::WRONG_PROFILE_STATE,
                Some(p) if p.has_ppr(rsp_sgp22::PprIds::PPR2) => por::DISALLOWED_BY_POLICY,
                Some(_) => {
                    // The notification names the profile, so it is built before removal.
                    self.notify_profile_event(i, NotificationEvent::LOCAL_DELETE)?;
                    self.state.profiles.remove(i);
                    por::OK
                }
            },
        };
        Ok(DeleteProfileResponse {
            delete_result: result,
            unknown_tags: vec![],
        }
        .encode(&self.own_profile())?)
    }

    /// ES10c.GetEID.
    fn get_eid(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = GetEuiccDataRequest::decode(cmd)?;
        if !tag_list(&req.tag_list)?.contains(&0x5A) {
            return Err(Refusal::Malformed);
        }
        Ok(GetEuiccDataResponse {
            eid_value: self.identity.eid.to_bytes().to_vec(),
            unknown_tags: vec![],
        }
        .encode(&self.own_profile())?)
    }

    /// ES10c.SetNickname.
    fn set_nickname(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = SetNicknameRequest::decode(cmd)?;
        let result = match self
            .state
            .profiles
            .iter_mut()
            .find(|p| p.iccid == req.iccid)
        {
            Some(p) if req.profile_nickname.len() <= 64 => {
                p.nickname = if req.profile_nickname.is_empty() {
                    None
                } else {
                    Some(req.profile_nickname)
                };
                0
            }
            Some(_) => 127,
            None => 1,
        };
        Ok(SetNicknameResponse {
            set_nickname_result: result,
            unknown_tags: vec![],
        }
        .encode(&self.own_profile())?)
    }

    /// ES10c.eUICCMemoryReset: deleteOperationalProfiles(0), deleteFieldLoadedTestProfiles(1),
    /// resetDefaultSmdpAddress(2). PPRs do not apply; no notification is generated; the
    /// sequence number, the RAT and the pending notifications survive.
    fn memory_reset(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = EuiccMemoryResetRequest::decode(cmd)?;
        let options = &req.reset_options;
        let before = self.state.profiles.len();
        let delete_operational = options.get(0);
        let delete_test = options.get(1);
        self.state.profiles.retain(|p| {
            let class = p.profile_class();
            !((delete_operational && class == rsp_sgp22::profile_class::OPERATIONAL)
                || (delete_test && class == rsp_sgp22::profile_class::TEST))
        });
        let mut changed = self.state.profiles.len() < before;
        if options.get(2) {
            let default = self.config.default_smdp_address.clone();
            changed |= self.state.default_dp_address != default;
            self.state.default_dp_address = default;
        }
        if changed {
            self.volatile.session = None;
            self.volatile.bpp = None;
        }
        Ok(EuiccMemoryResetResponse {
            reset_result: if changed { 0 } else { 1 },
            unknown_tags: vec![],
        }
        .encode(&self.own_profile())?)
    }
}
