//! Profile discovery through the SM-DS (sgp22.md §5.2 option b, §14): [`Lpa::discover`] runs
//! Common Mutual Authentication against the SM-DS through the card (the same steps as the
//! ES9+ download, with CERT.DSauth on the server side), sends `ctxParamsForCommonAuthentication`
//! without a MatchingID, and returns the events of this eUICC:
//!
//! - v2 SM-DS: the unsigned `eventEntries` list;
//! - v3 SM-DS: `smdsSigned2` + `smdsSignature2`, trusted only after the card's
//!   ES10b.VerifySmdsResponse accepted them (a v3 answer to a v2 card is refused: the card cannot
//!   vouch for it).
//!
//! [`Lpa::download_discovered`] then downloads from the SM-DP+ of an event, the EventID as
//! MatchingID. ES11 has no CancelSession: on a failure the SM-DS session is dropped (the card's
//! DSauth session can never reach PrepareDownload and is replaced by the next CMA).

use rsp_sgp22::{
    AuthenticateClientRequest, AuthenticateServerResponse, SmdsResponse, TransactionId,
    VerifySmdsResponseRequest, VerifySmdsResponseResponse,
};

use crate::card::{CardError, Es10Transport};
use crate::download::{
    DownloadError, DownloadOutcome, DownloadRequest, DownloadStep, FailureKind, Lpa, Progress,
};
use crate::es9::{Es9Client, Es9Error};
use crate::es11::Es11Client;
use crate::negotiation::SessionSide;

/// One event for this eUICC.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DiscoveredEvent {
    /// EventID (the MatchingID to present to the RSP server).
    pub event_id: String,
    /// The RSP server (SM-DP+, or in a cascade another SM-DS) address.
    pub rsp_server_address: String,
    /// v3 `eventType` (`None` from a v2 list).
    pub event_type: Option<i64>,
    /// Whether the eUICC verified the list it came in (v3).
    pub verified_by_euicc: bool,
}

/// A discovery step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum DiscoveryStep {
    /// GetEuiccConfiguredAddresses (the root SM-DS address).
    RootSmdsAddress,
    /// A CMA step shared with the download.
    Cma(DownloadStep),
    /// ES10b.VerifySmdsResponse.
    VerifySmdsResponse,
}

impl std::fmt::Display for DiscoveryStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiscoveryStep::Cma(s) => write!(f, "{s}"),
            other => std::fmt::Debug::fmt(other, f),
        }
    }
}

/// A failed discovery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("discovery failed at {step}: {kind}")]
pub struct DiscoveryError {
    /// The failing step.
    pub step: DiscoveryStep,
    /// What went wrong (a VerifySmdsResponse error code is [`FailureKind::CardRefused`]).
    pub kind: FailureKind,
    /// The ES11 session's transactionId, once known.
    pub transaction_id: Option<TransactionId>,
}

impl DiscoveryError {
    fn new(step: DiscoveryStep, kind: FailureKind, tid: Option<&TransactionId>) -> Self {
        DiscoveryError {
            step,
            kind,
            transaction_id: tid.cloned(),
        }
    }
}

impl From<DownloadError> for DiscoveryError {
    fn from(e: DownloadError) -> Self {
        DiscoveryError {
            step: DiscoveryStep::Cma(e.step),
            kind: e.kind,
            transaction_id: e.transaction_id,
        }
    }
}

impl<T: Es10Transport, S: Es9Client> Lpa<T, S> {
    /// Asks the SM-DS at `smds_address` (default: the card's rootDsAddress) for this eUICC's
    /// events over `smds`.
    pub async fn discover<E: Es11Client>(
        &mut self,
        smds: &mut E,
        smds_address: Option<&str>,
    ) -> Result<Vec<DiscoveredEvent>, DiscoveryError> {
        use DownloadStep as St;
        let address = match smds_address {
            Some(a) => a.to_string(),
            None => {
                self.card
                    .get_euicc_configured_addresses()
                    .map_err(|e| {
                        DiscoveryError::new(
                            DiscoveryStep::RootSmdsAddress,
                            FailureKind::Card(e),
                            None,
                        )
                    })?
                    .root_ds_address
            }
        };
        let (init, device) = self.cma_initiate_request(&address)?;
        let server_err = |step, tid: Option<TransactionId>| {
            move |e: Es9Error| DiscoveryError {
                step: DiscoveryStep::Cma(step),
                kind: FailureKind::Server(e),
                transaction_id: tid,
            }
        };
        let ok = smds
            .initiate_authentication(&address, &init, &device.profile)
            .await
            .map_err(server_err(St::InitiateAuthentication, None))?;
        let tid = ok.transaction_id.clone();
        if ok.server_signed1.value().transaction_id != tid {
            return Err(DiscoveryError::new(
                DiscoveryStep::Cma(St::InitiateAuthentication),
                FailureKind::Protocol(
                    "serverSigned1.transactionId differs from transactionId".into(),
                ),
                Some(&tid),
            ));
        }
        let session_side = SessionSide::new(
            &device,
            ok.server_signed1.value(),
            smds.last_admin_protocol(),
        );
        self.emit(Progress::Negotiated {
            device: device.profile.svn,
            server: session_side.server_svn,
            server_is_v3: session_side.server_is_v3,
        });
        let ctx = self.common_ctx(None, &device);
        let card_err = |step, tid: &TransactionId| {
            let tid = tid.clone();
            move |e: CardError| DiscoveryError::new(step, FailureKind::Card(e), Some(&tid))
        };
        let auth_resp = self
            .cma_authenticate_server(ok, ctx, &device, &session_side)
            .map_err(card_err(DiscoveryStep::Cma(St::AuthenticateServer), &tid))?;
        let card_error = match &auth_resp {
            AuthenticateServerResponse::Error(e) => Some(e.authenticate_error_code),
            AuthenticateServerResponse::Ok(_) => None,
        };
        self.emit(Progress::Step(St::AuthenticateClient));
        let peer = session_side.profile;
        let result = smds
            .authenticate_client(
                &address,
                &AuthenticateClientRequest {
                    transaction_id: tid.clone(),
                    authenticate_server_response: auth_resp,
                    delete_notification_for_dc: None,
                    unknown_tags: vec![],
                },
                &peer,
            )
            .await;
        if let Some(code) = card_error {
            return Err(DiscoveryError::new(
                DiscoveryStep::Cma(St::AuthenticateServer),
                FailureKind::CardRefused { code },
                Some(&tid),
            ));
        }
        let list = result.map_err(server_err(St::AuthenticateClient, Some(tid.clone())))?;
        if list.transaction_id != tid {
            return Err(DiscoveryError::new(
                DiscoveryStep::Cma(St::AuthenticateClient),
                FailureKind::Protocol("AuthenticateClient answered another transactionId".into()),
                Some(&tid),
            ));
        }
        match (list.smds_signed2, list.smds_signature2, list.event_entries) {
            (Some(signed), Some(signature), _) => {
                if !device.is_v3() {
                    return Err(DiscoveryError::new(
                        DiscoveryStep::VerifySmdsResponse,
                        FailureKind::Protocol(
                            "a signed (v3) event list for a v2 eUICC, which cannot verify it"
                                .into(),
                        ),
                        Some(&tid),
                    ));
                }
                let request = VerifySmdsResponseRequest {
                    smds_signed2: signed.0,
                    smds_signature2: signature,
                    unknown_tags: vec![],
                };
                let verified = self
                    .card
                    .verify_smds_response(&request)
                    .map_err(card_err(DiscoveryStep::VerifySmdsResponse, &tid))?;
                if let VerifySmdsResponseResponse::Error(code) = verified {
                    return Err(DiscoveryError::new(
                        DiscoveryStep::VerifySmdsResponse,
                        FailureKind::CardRefused { code },
                        Some(&tid),
                    ));
                }
                match &request.smds_signed2.value().response {
                    SmdsResponse::EventList(l) => Ok(l
                        .event_entries
                        .iter()
                        .map(|e| DiscoveredEvent {
                            event_id: e.event_id.clone(),
                            rsp_server_address: e.rsp_server_address.clone(),
                            event_type: Some(e.event_type),
                            verified_by_euicc: true,
                        })
                        .collect()),
                    SmdsResponse::PushServiceRegistrationResult(_) => Err(DiscoveryError::new(
                        DiscoveryStep::Cma(St::AuthenticateClient),
                        FailureKind::Protocol(
                            "a push registration result, not an event list".into(),
                        ),
                        Some(&tid),
                    )),
                }
            }
            (None, None, Some(entries)) if !session_side.server_is_v3 => Ok(entries
                .iter()
                .map(|e| DiscoveredEvent {
                    event_id: e.event_id.clone(),
                    rsp_server_address: e.rsp_server_address.clone(),
                    event_type: None,
                    verified_by_euicc: false,
                })
                .collect()),
            _ => Err(DiscoveryError::new(
                DiscoveryStep::Cma(St::AuthenticateClient),
                FailureKind::Protocol(if session_side.server_is_v3 {
                    "a v3 SM-DS answered without a signed event list".into()
                } else {
                    "the SM-DS answered neither an event list nor a signed one".into()
                }),
                Some(&tid),
            )),
        }
    }

    /// Downloads the profile of a discovered event: the event's SM-DP+ with the EventID as
    /// MatchingID (the ES9+ download, cancellation included).
    pub async fn download_discovered(
        &mut self,
        event: &DiscoveredEvent,
    ) -> Result<DownloadOutcome, DownloadError> {
        self.download(&DownloadRequest::new(
            event.rsp_server_address.clone(),
            Some(event.event_id.clone()),
        ))
        .await
    }
}
