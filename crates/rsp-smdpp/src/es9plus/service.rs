//! [`Es9Service`]: the async shell around [`super::procedure`]. Per call it loads the session
//! (and the order) from the store, runs the pure step and saves the new session, the order and
//! the Operator notifications in one atomic batch. Concurrent calls of one session on two nodes
//! are serialised by the row versions: the loser gets `1.2`/`4.4` (busy) and nothing of its
//! work is stored. With [`Es9Service::with_smds_events`] an order that ends (installed, or in
//! Error) also queues the ES12 DeleteEvent of the SM-DS event it held, in the same batch.

use std::fmt;
use std::sync::Arc;

use rsp_sgp22::{
    AuthenticateClientRequest, CancelSessionRequestEs9, GetBoundProfilePackageRequest,
    InitiateAuthenticationRequest, PendingNotification,
};
use rsp_store::{NewAuditRecord, Store, WriteOp};
use rsp_types::{Iccid, StatusCode};
use time::OffsetDateTime;

use super::procedure::{
    self, BppOutcome, CancelOutcome, ClientAccepted, InitiateOutcome, NotificationOutcome,
};
use super::{Es9Config, Es9Error, Function, Randomness, Refusal, SystemRandomness};
use crate::es12::EventRegistrar;
use crate::identity::SmdpIdentity;
use crate::inventory::Inventory;
use crate::order::{OrderError, OrderStoreError, Orders, Outcome, StoredOrder};
use crate::session::{CloseReason, SessionStoreError, Sessions, StoredSession};

/// A download step the Operator may be told about (ES2+.HandleDownloadProgressInfo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressEvent<'a> {
    /// AuthenticateClient: eligibility and retry-limit check (notificationPointId 1).
    Eligibility(Result<(), StatusCode>),
    /// GetBoundProfilePackage: Confirmation Code refused (notificationPointId 2).
    ConfirmationFailed(StatusCode),
    /// The BPP was delivered (notificationPointId 3).
    BppDownloaded,
    /// The Profile Installation Result (notificationPointId 4); `result_data` is its DER.
    Installed {
        /// What the order did with it.
        outcome: Outcome,
        /// The `ProfileInstallationResult` as received.
        result_data: &'a [u8],
    },
    /// The eUICC cancelled the session.
    Cancelled {
        /// `CancelSessionReason`.
        reason: i64,
        /// What the order did with it.
        outcome: Outcome,
    },
}

/// Turns download steps into writes (e.g. outbox messages) stored atomically with the order.
pub trait ProgressSink: Send + Sync {
    /// The writes for `event` on `order` (as it is after the step).
    fn writes(
        &self,
        order: &crate::order::Order,
        event: ProgressEvent<'_>,
        now: OffsetDateTime,
    ) -> Vec<WriteOp>;
}

/// Tells nobody.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn writes(
        &self,
        _order: &crate::order::Order,
        _event: ProgressEvent<'_>,
        _now: OffsetDateTime,
    ) -> Vec<WriteOp> {
        Vec::new()
    }
}

/// The ES9+ service of one SM-DP+ node. Cheap to clone; stateless between calls.
#[derive(Clone)]
pub struct Es9Service {
    cfg: Arc<Es9Config>,
    identity: Arc<SmdpIdentity>,
    inventory: Arc<Inventory>,
    store: Arc<dyn Store>,
    sessions: Sessions,
    orders: Orders,
    rng: Arc<dyn Randomness>,
    progress: Arc<dyn ProgressSink>,
    smds_events: Option<Arc<EventRegistrar>>,
}

impl fmt::Debug for Es9Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es9Service")
            .field("svn", &self.cfg.svn)
            .field("address", &self.identity.address)
            .finish_non_exhaustive()
    }
}

fn store_refusal(e: impl fmt::Display) -> Refusal {
    Refusal::Internal(e.to_string())
}

impl From<SessionStoreError> for Refusal {
    fn from(e: SessionStoreError) -> Refusal {
        match e {
            SessionStoreError::Conflict => Refusal::Busy,
            e => store_refusal(e),
        }
    }
}

impl From<OrderStoreError> for Refusal {
    fn from(e: OrderStoreError) -> Refusal {
        match e {
            OrderStoreError::Conflict => Refusal::Busy,
            OrderStoreError::Order(o) => Refusal::Order(o),
            e => store_refusal(e),
        }
    }
}

impl Es9Service {
    /// A service with system randomness and no Operator notification.
    pub fn new(
        cfg: Es9Config,
        identity: Arc<SmdpIdentity>,
        inventory: Arc<Inventory>,
        store: Arc<dyn Store>,
    ) -> Es9Service {
        Es9Service {
            cfg: Arc::new(cfg),
            identity,
            inventory,
            sessions: Sessions::new(store.clone()),
            orders: Orders::new(store.clone()),
            store,
            rng: Arc::new(SystemRandomness),
            progress: Arc::new(NoProgress),
            smds_events: None,
        }
    }

    /// Uses `progress` to notify Operators.
    pub fn with_progress(mut self, progress: Arc<dyn ProgressSink>) -> Es9Service {
        self.progress = progress;
        self
    }

    /// Registers and deletes SM-DS events (ES12) with the order updates: an order that ends
    /// (installed, or Error) deletes the event it held, in the same batch.
    pub fn with_smds_events(mut self, registrar: Arc<EventRegistrar>) -> Es9Service {
        self.smds_events = Some(registrar);
        self
    }

    /// The ES12 writes of an order change.
    fn event_writes(
        &self,
        before: &crate::order::Order,
        after: &crate::order::Order,
    ) -> Vec<WriteOp> {
        crate::es12::writes_of(self.smds_events.as_deref(), before, after)
    }

    /// Uses `rng` for transactionIds, challenges and hostIds.
    pub fn with_randomness(mut self, rng: Arc<dyn Randomness>) -> Es9Service {
        self.rng = rng;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Es9Config {
        &self.cfg
    }

    /// The identity.
    pub fn identity(&self) -> &SmdpIdentity {
        &self.identity
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// ES9+.InitiateAuthentication.
    pub async fn initiate_authentication(
        &self,
        req: &InitiateAuthenticationRequest,
        now: OffsetDateTime,
    ) -> Result<InitiateOutcome, Es9Error> {
        let out = procedure::initiate_authentication(
            &self.cfg,
            &self.identity,
            req,
            now,
            self.rng.as_ref(),
        )?;
        let stored = StoredSession {
            session: out.session.clone(),
            version: 0,
        };
        self.sessions
            .save(&stored, Vec::new(), now)
            .await
            .map_err(|e| Es9Error::new(Function::InitiateAuthentication, e.into()))?;
        Ok(out)
    }

    async fn load_session(&self, tid: &rsp_sgp22::TransactionId) -> Result<StoredSession, Refusal> {
        self.sessions
            .load(tid)
            .await?
            .ok_or(Refusal::InvalidTransactionId("unknown transactionId"))
    }

    /// Closes a session the eUICC refused; a failing save leaves it to expire.
    async fn close(&self, stored: &StoredSession, reason: CloseReason, now: OffsetDateTime) {
        let mut closed = stored.clone();
        closed.session.state = stored.session.state.close(reason);
        if let Err(e) = self.sessions.save(&closed, Vec::new(), now).await {
            tracing::warn!(error = %e, "could not close the session");
        }
    }

    /// Saves an order changed by a refused step (attempts counted, moved to Error).
    async fn save_refused_order(
        &self,
        before: &StoredOrder,
        after: StoredOrder,
        mut extra: Vec<WriteOp>,
        now: OffsetDateTime,
    ) {
        extra.extend(self.event_writes(&before.order, &after.order));
        if after.order != before.order
            && let Err(e) = self.orders.save(&after, extra, now).await
        {
            tracing::warn!(error = %e, iccid = %after.order.iccid, "could not save the order");
        }
    }

    /// ES9+.AuthenticateClient.
    pub async fn authenticate_client(
        &self,
        req: &AuthenticateClientRequest,
        now: OffsetDateTime,
    ) -> Result<ClientAccepted, Es9Error> {
        self.authenticate_client_inner(req, now)
            .await
            .map_err(|r| Es9Error::new(Function::AuthenticateClient, r))
    }

    async fn authenticate_client_inner(
        &self,
        req: &AuthenticateClientRequest,
        now: OffsetDateTime,
    ) -> Result<ClientAccepted, Refusal> {
        let stored = self.load_session(&req.transaction_id).await?;
        let verified = match procedure::verify_authenticate_client(
            &self.identity,
            &stored.session,
            req,
            now,
        ) {
            Ok(v) => v,
            Err(Refusal::EuiccError(code)) => {
                self.close(&stored, CloseReason::EuiccError(code), now)
                    .await;
                return Err(Refusal::EuiccError(code));
            }
            Err(e) => return Err(e),
        };
        let found = match &verified.matching_id {
            Some(m) => self.orders.by_matching_id(m).await?,
            None => {
                self.orders
                    .by_eid_without_matching_id(&verified.eid)
                    .await?
            }
        };
        let Some(before) = found else {
            return Err(Refusal::Order(OrderError::MatchingIdRefused));
        };
        let mut after = before.clone();
        match procedure::accept_authenticate_client(
            &self.identity,
            &self.inventory,
            &stored.session,
            verified,
            &mut after.order,
            now,
        ) {
            Ok(accepted) => {
                let mut extra = vec![after.write_op()];
                extra.extend(self.event_writes(&before.order, &after.order));
                extra.extend(self.progress.writes(
                    &after.order,
                    ProgressEvent::Eligibility(Ok(())),
                    now,
                ));
                let new = StoredSession {
                    session: accepted.session.clone(),
                    version: stored.version,
                };
                self.sessions.save(&new, extra, now).await?;
                Ok(accepted)
            }
            Err(refusal) => {
                let extra = match &refusal {
                    Refusal::Order(_) | Refusal::NoEligibleProfile => self.progress.writes(
                        &after.order,
                        ProgressEvent::Eligibility(Err(refusal.status())),
                        now,
                    ),
                    _ => Vec::new(),
                };
                self.save_refused_order(&before, after, extra, now).await;
                Err(refusal)
            }
        }
    }

    async fn order_of(&self, iccid: &Iccid) -> Result<StoredOrder, Refusal> {
        self.orders
            .get(iccid)
            .await?
            .ok_or_else(|| Refusal::Internal(format!("no order row for {iccid}")))
    }

    /// ES9+.GetBoundProfilePackage.
    pub async fn get_bound_profile_package(
        &self,
        req: &GetBoundProfilePackageRequest,
        now: OffsetDateTime,
    ) -> Result<BppOutcome, Es9Error> {
        self.get_bpp_inner(req, now)
            .await
            .map_err(|r| Es9Error::new(Function::GetBoundProfilePackage, r))
    }

    async fn get_bpp_inner(
        &self,
        req: &GetBoundProfilePackageRequest,
        now: OffsetDateTime,
    ) -> Result<BppOutcome, Refusal> {
        let stored = self.load_session(&req.transaction_id).await?;
        // The session decides first (state, eUICC error, signature); only then the order.
        let iccid = match procedure::verify_get_bound_profile_package(&stored.session, req, now) {
            Ok((auth, _)) => auth.iccid,
            Err(Refusal::EuiccError(code)) => {
                self.close(&stored, CloseReason::EuiccError(code), now)
                    .await;
                return Err(Refusal::EuiccError(code));
            }
            Err(e) => return Err(e),
        };
        let before = self.order_of(&iccid).await?;
        let mut after = before.clone();
        match procedure::get_bound_profile_package(
            &self.identity,
            &self.inventory,
            &stored.session,
            req,
            &mut after.order,
            now,
            self.rng.as_ref(),
        ) {
            Ok(out) => {
                let mut extra = vec![after.write_op()];
                extra.extend(self.event_writes(&before.order, &after.order));
                extra.extend(
                    self.progress
                        .writes(&after.order, ProgressEvent::BppDownloaded, now),
                );
                let new = StoredSession {
                    session: out.session.clone(),
                    version: stored.version,
                };
                self.sessions.save(&new, extra, now).await?;
                Ok(out)
            }
            Err(refusal) => {
                let extra = match &refusal {
                    Refusal::Order(_) => self.progress.writes(
                        &after.order,
                        ProgressEvent::ConfirmationFailed(refusal.status()),
                        now,
                    ),
                    _ => Vec::new(),
                };
                self.save_refused_order(&before, after, extra, now).await;
                Err(refusal)
            }
        }
    }

    /// ES9+.HandleNotification. The binding answers 204 whatever happens; the result says
    /// what was done (a refusal is logged and audited).
    pub async fn handle_notification(
        &self,
        pending: &PendingNotification,
        raw: &[u8],
        now: OffsetDateTime,
    ) -> Result<NotificationOutcome, Refusal> {
        let result = self.handle_notification_inner(pending, raw, now).await;
        if let Err(e) = &result {
            tracing::info!(refusal = %e, "notification not applied");
            let audit = WriteOp::AppendAudit(NewAuditRecord {
                at: now,
                actor: "smdpp".into(),
                action: "es9plus.handleNotification.refused".into(),
                eid: None,
                iccid: None,
                detail: serde_json::json!({ "refusal": e.to_string() }),
            });
            if let Err(e) = self.store.apply(&[audit], now).await {
                tracing::warn!(error = %e, "could not audit a refused notification");
            }
        }
        result
    }

    async fn handle_notification_inner(
        &self,
        pending: &PendingNotification,
        raw: &[u8],
        now: OffsetDateTime,
    ) -> Result<NotificationOutcome, Refusal> {
        match pending {
            PendingNotification::ProfileInstallationResult(pir) => {
                let tid = &pir.profile_installation_result_data.value().transaction_id;
                let stored = self.load_session(tid).await?;
                let outcome =
                    procedure::verify_installation_result(&self.identity, &stored.session, pir)?;
                let NotificationOutcome::InstallationResult {
                    transaction_id,
                    iccid,
                    outcome: result,
                    session,
                } = &outcome
                else {
                    return Err(Refusal::Internal("unexpected notification outcome".into()));
                };
                let mut order = self.order_of(iccid).await?;
                let before = order.order.clone();
                let applied = order
                    .order
                    .apply_installation_result(transaction_id, *result)
                    .map_err(Refusal::Order)?;
                let mut extra = vec![order.write_op()];
                extra.extend(self.event_writes(&before, &order.order));
                extra.extend(self.progress.writes(
                    &order.order,
                    ProgressEvent::Installed {
                        outcome: applied,
                        result_data: raw,
                    },
                    now,
                ));
                extra.push(WriteOp::AppendAudit(NewAuditRecord {
                    at: now,
                    actor: "smdpp".into(),
                    action: "es9plus.handleNotification.profileInstallationResult".into(),
                    eid: order.order.eid.map(|e| e.to_string()),
                    iccid: Some(iccid.to_string()),
                    detail: serde_json::json!({
                        "transactionId": transaction_id.to_string(),
                        "result": format!("{result:?}"),
                        "state": order.order.state.as_str(),
                    }),
                }));
                let new = StoredSession {
                    session: session.clone(),
                    version: stored.version,
                };
                self.sessions.save(&new, extra, now).await?;
                Ok(outcome)
            }
            PendingNotification::OtherSignedNotification(n) => {
                let outcome = procedure::verify_other_notification(&self.identity, n, now)?;
                if let NotificationOutcome::Other { eid, metadata } = &outcome {
                    let audit = WriteOp::AppendAudit(NewAuditRecord {
                        at: now,
                        actor: "smdpp".into(),
                        action: "es9plus.handleNotification.otherSignedNotification".into(),
                        eid: Some(eid.to_string()),
                        iccid: metadata.iccid.as_ref().map(ToString::to_string),
                        detail: serde_json::json!({
                            "seqNumber": metadata.seq_number,
                            "profileManagementOperation":
                                metadata.profile_management_operation.0.ones().collect::<Vec<_>>(),
                            "notificationAddress": metadata.notification_address,
                        }),
                    });
                    self.store
                        .apply(&[audit], now)
                        .await
                        .map_err(store_refusal)?;
                }
                Ok(outcome)
            }
        }
    }

    /// ES9+.CancelSession.
    pub async fn cancel_session(
        &self,
        req: &CancelSessionRequestEs9,
        now: OffsetDateTime,
    ) -> Result<CancelOutcome, Es9Error> {
        self.cancel_inner(req, now)
            .await
            .map_err(|r| Es9Error::new(Function::CancelSession, r))
    }

    async fn cancel_inner(
        &self,
        req: &CancelSessionRequestEs9,
        now: OffsetDateTime,
    ) -> Result<CancelOutcome, Refusal> {
        let stored = self.load_session(&req.transaction_id).await?;
        let out = procedure::cancel_session(&self.identity, &stored.session, req, now)?;
        let mut extra = Vec::new();
        if let Some(iccid) = &out.iccid {
            let mut order = self.order_of(iccid).await?;
            let before = order.order.clone();
            match order
                .order
                .apply_cancel_session(&stored.session.transaction_id, out.reason)
            {
                Ok(applied) => {
                    extra.push(order.write_op());
                    extra.extend(self.event_writes(&before, &order.order));
                    extra.extend(self.progress.writes(
                        &order.order,
                        ProgressEvent::Cancelled {
                            reason: out.reason,
                            outcome: applied,
                        },
                        now,
                    ));
                }
                // The order moved on (e.g. installed, or another download): the session still ends.
                Err(e) => tracing::info!(error = %e, %iccid, "cancel not applied to the order"),
            }
        }
        let new = StoredSession {
            session: out.session.clone(),
            version: stored.version,
        };
        self.sessions.save(&new, extra, now).await?;
        Ok(out)
    }
}

/// HandleDownloadProgressInfo callbacks through the ES2+ outbox: points 1 (eligibility), 2
/// (confirmation failure), 3 (BPP download; also a CancelSession, with its code: project choice)
/// and 4 (installation, with the Profile Installation Result as `resultData`).
impl ProgressSink for crate::es2plus::ProgressNotifier {
    fn writes(
        &self,
        order: &crate::order::Order,
        event: ProgressEvent<'_>,
        now: OffsetDateTime,
    ) -> Vec<WriteOp> {
        use crate::es2plus::{DownloadProgress, NotificationPoint as P};
        use rsp_types::FunctionExecutionStatus as S;
        let of = |o: Outcome| match o {
            Outcome::Continue => S::success(),
            Outcome::Retryable(c) | Outcome::Ended(c) => c.failed(),
        };
        let (point, status, result_data) = match event {
            ProgressEvent::Eligibility(Ok(())) => (P::EligibilityCheck, S::success(), None),
            ProgressEvent::Eligibility(Err(c)) => (P::EligibilityCheck, c.failed(), None),
            ProgressEvent::ConfirmationFailed(c) => (P::ConfirmationFailure, c.failed(), None),
            ProgressEvent::BppDownloaded => (P::BppDownload, S::success(), None),
            ProgressEvent::Installed {
                outcome,
                result_data,
            } => (
                P::BppInstallation,
                of(outcome),
                (!result_data.is_empty()).then(|| result_data.to_vec()),
            ),
            ProgressEvent::Cancelled { outcome, .. } => (P::BppDownload, of(outcome), None),
        };
        let progress = DownloadProgress {
            point,
            status,
            result_data,
            imei: None,
        };
        match self.op(order, progress, now) {
            Ok(op) => op.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, "could not queue the progress callback");
                Vec::new()
            }
        }
    }
}
