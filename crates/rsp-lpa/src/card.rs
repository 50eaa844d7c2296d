//! The LPA's side of ES10a/b/c: typed commands to the eUICC's ISD-R.
//!
//! - [`Es10Transport`]: one ES10 command TLV in, its response TLV out. [`ApduTransport`]
//!   implements it over any [`rsp_gp::ApduCard`]: SELECT of the ISD-R by AID (configurable,
//!   sgp22.md §13), then STORE DATA blocks and GET RESPONSE through [`rsp_sgp22::es10`]. Tests
//!   may implement it directly with a fake card.
//! - [`Es10Card`]: the typed ES10 functions (GetEUICCChallenge, GetEUICCInfo, AuthenticateServer,
//!   PrepareDownload, LoadBoundProfilePackage segments, CancelSession, GetRAT, GetProfilesInfo,
//!   notifications, Enable/Disable/Delete, GetEID), each encoded with the one gated encoder for
//!   the card's [`Profile`], and an [`Es10Log`] of every command and response.

use std::sync::{Arc, Mutex};

use rsp_gp::ApduCard;
use rsp_gp::CardCommand;
use rsp_sgp22::der::{DecodeError, EncodeError};
use rsp_sgp22::es10::{self, Es10Error};
use rsp_sgp22::{
    AuthenticateServerRequest, AuthenticateServerResponse, CancelSessionRequest,
    CancelSessionResponse, DeleteProfileRequest, DeleteProfileResponse, DisableProfileRequest,
    DisableProfileResponse, EnableProfileRequest, EnableProfileResponse, EuiccInfo1, EuiccInfo2,
    GetEuiccChallengeRequest, GetEuiccChallengeResponse, GetEuiccDataRequest, GetEuiccDataResponse,
    GetEuiccInfo1Request, GetEuiccInfo2Request, GetRatRequest, GetRatResponse,
    NotificationMetadata, NotificationSearchCriteria, NotificationSentRequest,
    NotificationSentResponse, Octet16, PendingNotification, PrepareDownloadRequest,
    PrepareDownloadResponse, Profile, ProfileIdentifier, ProfileInfo, ProfileInfoListRequest,
    ProfileInfoListResponse, ProfileSearchCriteria, RetrieveNotificationsListRequest,
    RetrieveNotificationsListResponse, TransactionId,
};
use rsp_sgp22::{ListNotificationRequest, ListNotificationResponse};
use rsp_types::{Aid, Eid, Svn};

/// Why an ES10 function failed on the LPA ↔ eUICC link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// SELECT of the ISD-R was refused.
    #[error("SELECT of the ISD-R {aid} answered status word {sw:04X}")]
    Select {
        /// The AID selected.
        aid: String,
        /// The status word.
        sw: u16,
    },
    /// The APDU exchange of an ES10 command failed (a status word, a short response, ...).
    #[error("{function}: {source}")]
    Apdu {
        /// ES10 function.
        function: &'static str,
        /// The exchange error.
        source: Es10Error,
    },
    /// The card's response does not decode.
    #[error("{function}: undecodable response: {source}")]
    Decode {
        /// ES10 function.
        function: &'static str,
        /// The decode error.
        source: DecodeError,
    },
    /// The command could not be encoded for the card.
    #[error("{function}: cannot encode the command: {source}")]
    Encode {
        /// ES10 function.
        function: &'static str,
        /// The encode error.
        source: EncodeError,
    },
    /// The card answered with an error code of the function.
    #[error("{function}: the eUICC answered error {code}")]
    Code {
        /// ES10 function.
        function: &'static str,
        /// The function's error / result code.
        code: i64,
    },
    /// The transport behind [`Es10Transport`] failed (e.g. a reader or a remote card).
    #[error("card transport: {0}")]
    Transport(String),
}

impl CardError {
    /// The eUICC's error code, when the card answered one.
    pub fn card_code(&self) -> Option<i64> {
        match self {
            CardError::Code { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// One ES10 command TLV to the ISD-R, its response TLV back (possibly empty).
pub trait Es10Transport: Send {
    /// Sends `command` (one BER-TLV, e.g. `BF2E 00`) and returns the response TLV.
    fn transmit_es10(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError>;
}

impl<T: Es10Transport + ?Sized> Es10Transport for Box<T> {
    fn transmit_es10(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        (**self).transmit_es10(command)
    }
}

/// [`Es10Transport`] over an APDU card: SELECT the ISD-R by AID once, then STORE DATA.
pub struct ApduTransport<C: ApduCard> {
    card: C,
    isd_r: Aid,
    channel: u8,
    selected: bool,
}

impl<C: ApduCard> ApduTransport<C> {
    /// A transport to the ISD-R `isd_r` of `card` on the basic channel.
    pub fn new(card: C, isd_r: Aid) -> Self {
        ApduTransport {
            card,
            isd_r,
            channel: 0,
            selected: false,
        }
    }

    /// The card.
    pub fn card(&self) -> &C {
        &self.card
    }

    /// The card, mutably (e.g. to snapshot it).
    pub fn card_mut(&mut self) -> &mut C {
        &mut self.card
    }

    /// Gives the card back.
    pub fn into_card(self) -> C {
        self.card
    }

    /// SELECTs the ISD-R (done before the first command anyway).
    pub fn select(&mut self) -> Result<(), CardError> {
        let aid = self.isd_r.to_string();
        let apdu = CardCommand::select(self.isd_r)
            .to_apdu()
            .map_err(|e| CardError::Transport(format!("SELECT: {e}")))?
            .encode()
            .map_err(|e| CardError::Transport(format!("SELECT: {e}")))?;
        let mut response = self.card.transmit(&apdu);
        // Fetch an FCI announced with 61 xx; its content is not needed.
        for _ in 0..16 {
            let (_, sw) = es10::split_response(&response).map_err(|source| CardError::Apdu {
                function: "SELECT",
                source,
            })?;
            let [sw1, sw2] = sw.to_be_bytes();
            if sw1 == es10::sw::SW1_MORE_DATA {
                let get = es10::get_response_apdu(self.channel, sw2).map_err(|source| {
                    CardError::Apdu {
                        function: "SELECT",
                        source,
                    }
                })?;
                response = self.card.transmit(&get);
                continue;
            }
            if sw == es10::sw::SUCCESS || sw1 == 0x62 || sw1 == 0x63 {
                self.selected = true;
                return Ok(());
            }
            return Err(CardError::Select { aid, sw });
        }
        Err(CardError::Select { aid, sw: 0x6F00 })
    }
}

impl<C: ApduCard> Es10Transport for ApduTransport<C> {
    fn transmit_es10(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        if !self.selected {
            self.select()?;
        }
        let card = &mut self.card;
        let result = es10::exchange(command, self.channel, |apdu| {
            Ok::<_, std::convert::Infallible>(card.transmit(apdu))
        });
        match result {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(source)) => Err(CardError::Apdu {
                function: es10_function_name(command),
                source,
            }),
            Err(never) => match never {},
        }
    }
}

/// The ES10 function of a command TLV, by its tag (for logs and errors).
pub fn es10_function_name(command: &[u8]) -> &'static str {
    match command {
        [0xBF, 0x2E, ..] => "GetEUICCChallenge",
        [0xBF, 0x20, ..] => "GetEUICCInfo1",
        [0xBF, 0x22, ..] => "GetEUICCInfo2",
        [0xBF, 0x38, ..] => "AuthenticateServer",
        [0xBF, 0x21, ..] => "PrepareDownload",
        [0xBF, 0x36, ..] | [0xBF, 0x23, ..] | [0xA0..=0xA3, ..] | [0x88, ..] | [0x86, ..] => {
            "LoadBoundProfilePackage"
        }
        [0xBF, 0x41, ..] => "CancelSession",
        [0xBF, 0x43, ..] => "GetRAT",
        [0xBF, 0x2D, ..] => "GetProfilesInfo",
        [0xBF, 0x28, ..] => "ListNotification",
        [0xBF, 0x2B, ..] => "RetrieveNotificationsList",
        [0xBF, 0x30, ..] => "RemoveNotificationFromList",
        [0xBF, 0x31, ..] => "EnableProfile",
        [0xBF, 0x32, ..] => "DisableProfile",
        [0xBF, 0x33, ..] => "DeleteProfile",
        [0xBF, 0x3E, ..] => "GetEID",
        [0xBF, 0x29, ..] => "SetNickname",
        [0xBF, 0x34, ..] => "eUICCMemoryReset",
        [0xBF, 0x3C, ..] => "GetEuiccConfiguredAddresses",
        [0xBF, 0x3F, ..] => "SetDefaultDpAddress",
        [0xBF, 0x45, ..] => "VerifySmdsResponse",
        _ => "ES10",
    }
}

/// One ES10 exchange as the LPA saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Es10Exchange {
    /// ES10 function name (`AuthenticateServer`, ...).
    pub function: &'static str,
    /// The command TLV sent.
    pub command: Vec<u8>,
    /// The response TLV received, or the error.
    pub response: Result<Vec<u8>, String>,
}

/// Every ES10 exchange of an [`Es10Card`], shared (clone the handle to read it in a test).
#[derive(Debug, Clone, Default)]
pub struct Es10Log(Arc<Mutex<Vec<Es10Exchange>>>);

impl Es10Log {
    /// A copy of the exchanges so far.
    pub fn exchanges(&self) -> Vec<Es10Exchange> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The commands sent for `function`.
    pub fn commands(&self, function: &str) -> Vec<Vec<u8>> {
        self.exchanges()
            .into_iter()
            .filter(|e| e.function == function)
            .map(|e| e.command)
            .collect()
    }

    /// The function names in order.
    pub fn functions(&self) -> Vec<&'static str> {
        self.exchanges().iter().map(|e| e.function).collect()
    }

    fn push(&self, e: Es10Exchange) {
        if let Ok(mut v) = self.0.lock() {
            v.push(e);
        }
    }
}

/// What [`Es10Card::load_bpp_segment`] got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentResponse {
    /// The segment was accepted, more are expected.
    Continue,
    /// The card answered the Profile Installation Result (`BF37`, success or error).
    Result(Box<rsp_sgp22::ProfileInstallationResult>),
}

/// The typed ES10 functions over an [`Es10Transport`].
pub struct Es10Card<T: Es10Transport> {
    transport: T,
    profile: Profile,
    log: Es10Log,
}

/// Version assumed for the card before EUICCInfo is read.
const PRE_INFO_SVN: Svn = Svn::new(2, 2, 0);

impl<T: Es10Transport> Es10Card<T> {
    /// A card reached through `transport`; encodes for v2.2.0 until [`Es10Card::set_profile`].
    pub fn new(transport: T) -> Self {
        Es10Card {
            transport,
            profile: Profile::new(PRE_INFO_SVN),
            log: Es10Log::default(),
        }
    }

    /// Encode later commands for `profile` (what the LPA and the card both support).
    pub fn set_profile(&mut self, profile: Profile) {
        self.profile = profile;
    }

    /// The profile commands are encoded for.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// A handle on the ES10 log.
    pub fn log(&self) -> Es10Log {
        self.log.clone()
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Gives the transport back.
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Sends one command TLV and returns the raw response TLV (logged).
    pub fn raw(&mut self, command: Vec<u8>) -> Result<Vec<u8>, CardError> {
        let function = es10_function_name(&command);
        let r = self.transport.transmit_es10(&command);
        tracing::debug!(function, command = command.len(), ok = r.is_ok(), "ES10");
        self.log.push(Es10Exchange {
            function,
            command,
            response: r.clone().map_err(|e| e.to_string()),
        });
        r
    }

    fn call<R>(
        &mut self,
        function: &'static str,
        command: Result<Vec<u8>, EncodeError>,
        decode: impl FnOnce(&[u8]) -> Result<R, DecodeError>,
    ) -> Result<R, CardError> {
        let command = command.map_err(|source| CardError::Encode { function, source })?;
        let response = self.raw(command)?;
        decode(&response).map_err(|source| CardError::Decode { function, source })
    }

    /// ES10b.GetEUICCChallenge.
    pub fn get_euicc_challenge(&mut self) -> Result<Octet16, CardError> {
        let p = self.profile;
        let r = self.call(
            "GetEUICCChallenge",
            GetEuiccChallengeRequest {
                unknown_tags: vec![],
            }
            .encode(&p),
            GetEuiccChallengeResponse::decode,
        )?;
        Ok(r.euicc_challenge)
    }

    /// ES10b.GetEUICCInfo (EUICCInfo1).
    pub fn get_euicc_info1(&mut self) -> Result<EuiccInfo1, CardError> {
        let p = self.profile;
        self.call(
            "GetEUICCInfo1",
            GetEuiccInfo1Request {
                unknown_tags: vec![],
            }
            .encode(&p),
            EuiccInfo1::decode,
        )
    }

    /// ES10b.GetEUICCInfo (EUICCInfo2).
    pub fn get_euicc_info2(&mut self) -> Result<EuiccInfo2, CardError> {
        let p = self.profile;
        self.call(
            "GetEUICCInfo2",
            GetEuiccInfo2Request {
                unknown_tags: vec![],
            }
            .encode(&p),
            EuiccInfo2::decode,
        )
    }

    /// ES10b.AuthenticateServer, encoded for `peer` (what both the card and the server accept).
    pub fn authenticate_server(
        &mut self,
        request: &AuthenticateServerRequest,
        peer: &Profile,
    ) -> Result<AuthenticateServerResponse, CardError> {
        self.call(
            "AuthenticateServer",
            request.encode(peer),
            AuthenticateServerResponse::decode,
        )
    }

    /// ES10b.PrepareDownload.
    pub fn prepare_download(
        &mut self,
        request: &PrepareDownloadRequest,
        peer: &Profile,
    ) -> Result<PrepareDownloadResponse, CardError> {
        self.call(
            "PrepareDownload",
            request.encode(peer),
            PrepareDownloadResponse::decode,
        )
    }

    /// ES10b.LoadBoundProfilePackage: one segment of the BPP.
    pub fn load_bpp_segment(&mut self, segment: &[u8]) -> Result<SegmentResponse, CardError> {
        let response = self.raw(segment.to_vec())?;
        if response.is_empty() {
            return Ok(SegmentResponse::Continue);
        }
        rsp_sgp22::ProfileInstallationResult::decode(&response)
            .map(|r| SegmentResponse::Result(Box::new(r)))
            .map_err(|source| CardError::Decode {
                function: "LoadBoundProfilePackage",
                source,
            })
    }

    /// ES10b.CancelSession.
    pub fn cancel_session(
        &mut self,
        transaction_id: &TransactionId,
        reason: i64,
    ) -> Result<CancelSessionResponse, CardError> {
        let p = self.profile;
        self.call(
            "CancelSession",
            CancelSessionRequest {
                transaction_id: transaction_id.clone(),
                reason,
                unknown_tags: vec![],
            }
            .encode(&p),
            CancelSessionResponse::decode,
        )
    }

    /// ES10a.GetEuiccConfiguredAddresses (defaultDpAddress, rootDsAddress).
    pub fn get_euicc_configured_addresses(
        &mut self,
    ) -> Result<rsp_sgp22::EuiccConfiguredAddressesResponse, CardError> {
        let p = self.profile;
        self.call(
            "GetEuiccConfiguredAddresses",
            rsp_sgp22::EuiccConfiguredAddressesRequest {
                unknown_tags: vec![],
            }
            .encode(&p),
            rsp_sgp22::EuiccConfiguredAddressesResponse::decode,
        )
    }

    /// ES10b.VerifySmdsResponse (v3): the SM-DS's signed answer, checked by the eUICC.
    pub fn verify_smds_response(
        &mut self,
        request: &rsp_sgp22::VerifySmdsResponseRequest,
    ) -> Result<rsp_sgp22::VerifySmdsResponseResponse, CardError> {
        let p = self.profile;
        self.call(
            "VerifySmdsResponse",
            request.encode(&p),
            rsp_sgp22::VerifySmdsResponseResponse::decode,
        )
    }

    /// ES10b.GetRAT.
    pub fn get_rat(&mut self) -> Result<GetRatResponse, CardError> {
        let p = self.profile;
        self.call(
            "GetRAT",
            GetRatRequest {
                unknown_tags: vec![],
            }
            .encode(&p),
            GetRatResponse::decode,
        )
    }

    /// ES10c.GetProfilesInfo, optionally filtered.
    pub fn get_profiles_info(
        &mut self,
        search: Option<ProfileSearchCriteria>,
    ) -> Result<Vec<ProfileInfo>, CardError> {
        let p = self.profile;
        let r = self.call(
            "GetProfilesInfo",
            ProfileInfoListRequest {
                search_criteria: search,
                tag_list: None,
                unknown_tags: vec![],
            }
            .encode(&p),
            ProfileInfoListResponse::decode,
        )?;
        match r {
            ProfileInfoListResponse::Ok(list) => Ok(list.0),
            ProfileInfoListResponse::Error(code) => Err(CardError::Code {
                function: "GetProfilesInfo",
                code,
            }),
        }
    }

    /// ES10b.ListNotification (metadata only).
    pub fn list_notification(&mut self) -> Result<Vec<NotificationMetadata>, CardError> {
        let p = self.profile;
        let r = self.call(
            "ListNotification",
            ListNotificationRequest {
                profile_management_operation: None,
                unknown_tags: vec![],
            }
            .encode(&p),
            ListNotificationResponse::decode,
        )?;
        match r {
            ListNotificationResponse::Ok(list) => Ok(list.0),
            ListNotificationResponse::Error(code) => Err(CardError::Code {
                function: "ListNotification",
                code,
            }),
        }
    }

    /// ES10b.RetrieveNotificationsList. An empty list and `noResultAvailable` (1) both give `[]`.
    pub fn retrieve_notifications_list(
        &mut self,
        search: Option<NotificationSearchCriteria>,
    ) -> Result<Vec<PendingNotification>, CardError> {
        let p = self.profile;
        let r = self.call(
            "RetrieveNotificationsList",
            RetrieveNotificationsListRequest {
                search_criteria: search,
                unknown_tags: vec![],
            }
            .encode(&p),
            RetrieveNotificationsListResponse::decode,
        )?;
        match r {
            RetrieveNotificationsListResponse::Ok(list) => Ok(list.0),
            RetrieveNotificationsListResponse::Error(1) => Ok(vec![]),
            RetrieveNotificationsListResponse::Error(code) => Err(CardError::Code {
                function: "RetrieveNotificationsList",
                code,
            }),
        }
    }

    /// ES10b.RemoveNotificationFromList (NotificationSent); returns deleteNotificationStatus.
    pub fn notification_sent(&mut self, seq_number: i64) -> Result<i64, CardError> {
        let p = self.profile;
        let r = self.call(
            "RemoveNotificationFromList",
            NotificationSentRequest {
                seq_number,
                unknown_tags: vec![],
            }
            .encode(&p),
            NotificationSentResponse::decode,
        )?;
        Ok(r.delete_notification_status)
    }

    /// ES10c.EnableProfile; returns enableResult (0 ok).
    pub fn enable_profile(
        &mut self,
        profile: ProfileIdentifier,
        refresh: bool,
    ) -> Result<i64, CardError> {
        let p = self.profile;
        let r = self.call(
            "EnableProfile",
            EnableProfileRequest {
                profile_identifier: profile,
                refresh_flag: refresh,
                unknown_tags: vec![],
            }
            .encode(&p),
            EnableProfileResponse::decode,
        )?;
        Ok(r.enable_result)
    }

    /// ES10c.DisableProfile; returns disableResult (0 ok).
    pub fn disable_profile(
        &mut self,
        profile: ProfileIdentifier,
        refresh: bool,
    ) -> Result<i64, CardError> {
        let p = self.profile;
        let r = self.call(
            "DisableProfile",
            DisableProfileRequest {
                profile_identifier: profile,
                refresh_flag: refresh,
                unknown_tags: vec![],
            }
            .encode(&p),
            DisableProfileResponse::decode,
        )?;
        Ok(r.disable_result)
    }

    /// ES10c.DeleteProfile; returns deleteResult (0 ok).
    pub fn delete_profile(&mut self, profile: ProfileIdentifier) -> Result<i64, CardError> {
        let p = self.profile;
        let request = match profile {
            ProfileIdentifier::IsdpAid(aid) => DeleteProfileRequest::IsdpAid(aid),
            ProfileIdentifier::Iccid(iccid) => DeleteProfileRequest::Iccid(iccid),
        };
        let r = self.call(
            "DeleteProfile",
            request.encode(&p),
            DeleteProfileResponse::decode,
        )?;
        Ok(r.delete_result)
    }

    /// ES10c.GetEID.
    pub fn get_eid(&mut self) -> Result<Eid, CardError> {
        let p = self.profile;
        let r = self.call(
            "GetEID",
            GetEuiccDataRequest {
                tag_list: vec![0x5A],
                unknown_tags: vec![],
            }
            .encode(&p),
            GetEuiccDataResponse::decode,
        )?;
        Eid::from_bytes(&r.eid_value).map_err(|_| CardError::Decode {
            function: "GetEID",
            source: DecodeError::BadValue {
                in_type: "GetEuiccDataResponse",
                reason: "eidValue is not a valid EID",
            },
        })
    }
}
