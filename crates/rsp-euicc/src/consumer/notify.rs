//! Notifications: one global sequence number, signed at creation, stored until the LPA removes
//! them (ES10b.ListNotification, RetrieveNotificationsList, RemoveNotificationFromList).

use rsp_sgp22::{
    Certificate as CertDer, ListNotificationRequest, ListNotificationResponse, NotificationEvent,
    NotificationMetadata, NotificationSearchCriteria, NotificationSentRequest,
    NotificationSentResponse, OtherSignedNotification, PendingNotification,
    RetrieveNotificationsListRequest, RetrieveNotificationsListResponse, SeqOf, Signed,
};
use rsp_types::Iccid;

use super::card::{ConsumerEuicc, StoredNotification};
use super::error::Refusal;

/// `5F37 <len> <signature>`.
pub(crate) fn signature_tlv(signature: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut out = vec![0x5F, 0x37];
    rsp_types::tlv::encode_length(signature.len(), &mut out).map_err(|_| Refusal::Internal)?;
    out.extend_from_slice(signature);
    Ok(out)
}

impl ConsumerEuicc {
    /// Signs `message` with credential `index` (raw r‖s).
    pub(crate) fn sign(&self, index: usize, message: &[u8]) -> Result<Vec<u8>, Refusal> {
        let c = self
            .identity
            .credentials
            .get(index)
            .ok_or(Refusal::Internal)?;
        c.key
            .sign_raw(message)
            .map(|s| s.to_vec())
            .map_err(|_| Refusal::Internal)
    }

    /// Takes the next sequence number.
    pub(crate) fn take_seq(&mut self) -> i64 {
        let seq = self.state.next_seq;
        self.state.next_seq = seq.checked_add(1).unwrap_or(1);
        seq
    }

    /// Stores a notification, dropping the oldest when the list is full.
    pub(crate) fn store_notification(&mut self, n: StoredNotification) {
        while self.state.notifications.len() >= self.config.max_notifications.max(1) {
            self.state.notifications.pop_front();
        }
        self.state.notifications.push_back(n);
    }

    /// The NotificationMetadata for the next sequence number.
    pub(crate) fn next_metadata(
        &mut self,
        event: usize,
        address: &str,
        iccid: Option<Iccid>,
    ) -> NotificationMetadata {
        NotificationMetadata {
            seq_number: self.take_seq(),
            profile_management_operation: NotificationEvent::with_bits(&[event]),
            notification_address: address.to_string(),
            iccid,
            unknown_tags: vec![],
        }
    }

    /// An OtherSignedNotification for `event` to `address`, signed and stored.
    pub(crate) fn notify_other(
        &mut self,
        event: usize,
        address: &str,
        iccid: Option<Iccid>,
    ) -> Result<(), Refusal> {
        let profile = self.own_profile();
        let metadata = self.next_metadata(event, address, iccid);
        let seq = metadata.seq_number;
        let tbs = Signed::new(metadata, &profile)?;
        let signature = self.sign(0, tbs.raw())?;
        let c = self.identity.credentials.first().ok_or(Refusal::Internal)?;
        let pending = PendingNotification::OtherSignedNotification(OtherSignedNotification {
            tbs_other_notification: tbs,
            euicc_notification_signature: signature,
            euicc_certificate: CertDer(c.euicc_certificate.der().to_vec()),
            next_cert_in_chain: CertDer(c.eum_certificate.der().to_vec()),
            other_certs_in_chain: if c.other_certificates.is_empty() {
                None
            } else {
                Some(SeqOf(
                    c.other_certificates
                        .iter()
                        .map(|o| CertDer(o.der().to_vec()))
                        .collect(),
                ))
            },
            unknown_tags: vec![],
        })
        .encode(&profile)?;
        self.store_notification(StoredNotification {
            seq_number: seq,
            event,
            address: address.to_string(),
            iccid,
            pending,
        });
        Ok(())
    }

    /// The notifications of the profile's configuration for `event`, one per configured address.
    pub(crate) fn notify_profile_event(
        &mut self,
        profile_index: usize,
        event: usize,
    ) -> Result<(), Refusal> {
        let Some(p) = self.state.profiles.get(profile_index) else {
            return Ok(());
        };
        let iccid = p.iccid;
        let addresses: Vec<String> = p
            .metadata
            .notification_configuration_info
            .as_ref()
            .map(|list| {
                list.iter()
                    .filter(|c| c.profile_management_operation.has(event))
                    .map(|c| c.notification_address.clone())
                    .collect()
            })
            .unwrap_or_default();
        for address in addresses {
            self.notify_other(event, &address, Some(iccid))?;
        }
        Ok(())
    }

    fn metadata_of(n: &StoredNotification) -> NotificationMetadata {
        NotificationMetadata {
            seq_number: n.seq_number,
            profile_management_operation: NotificationEvent::with_bits(&[n.event]),
            notification_address: n.address.clone(),
            iccid: n.iccid,
            unknown_tags: vec![],
        }
    }

    /// ES10b.ListNotification.
    pub(crate) fn list_notification(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = ListNotificationRequest::decode(cmd)?;
        let list: Vec<NotificationMetadata> = self
            .state
            .notifications
            .iter()
            .filter(|n| {
                req.profile_management_operation
                    .as_ref()
                    .is_none_or(|f| f.has(n.event))
            })
            .map(Self::metadata_of)
            .collect();
        Ok(ListNotificationResponse::Ok(SeqOf(list)).encode(&self.own_profile())?)
    }

    /// ES10b.RetrieveNotificationsList.
    pub(crate) fn retrieve_notifications(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = RetrieveNotificationsListRequest::decode(cmd)?;
        let profile = self.own_profile();
        let selected: Vec<&StoredNotification> = self
            .state
            .notifications
            .iter()
            .filter(|n| match &req.search_criteria {
                None => true,
                Some(NotificationSearchCriteria::SeqNumber(s)) => n.seq_number == *s,
                Some(NotificationSearchCriteria::ProfileManagementOperation(e)) => e.has(n.event),
            })
            .collect();
        if selected.is_empty() && req.search_criteria.is_some() {
            // noResultAvailable
            return Ok(RetrieveNotificationsListResponse::Error(1).encode(&profile)?);
        }
        let mut list = Vec::with_capacity(selected.len());
        for n in selected {
            list.push(PendingNotification::decode(&n.pending).map_err(|_| Refusal::Internal)?);
        }
        Ok(RetrieveNotificationsListResponse::Ok(SeqOf(list)).encode(&profile)?)
    }

    /// ES10b.RemoveNotificationFromList (NotificationSent).
    pub(crate) fn notification_sent(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = NotificationSentRequest::decode(cmd)?;
        let before = self.state.notifications.len();
        self.state
            .notifications
            .retain(|n| n.seq_number != req.seq_number);
        let status = if self.state.notifications.len() < before {
            0
        } else {
            1
        };
        Ok(NotificationSentResponse {
            delete_notification_status: status,
            unknown_tags: vec![],
        }
        .encode(&self.own_profile())?)
    }
}
