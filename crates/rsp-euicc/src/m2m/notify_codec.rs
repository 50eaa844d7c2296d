//! Encoding of the Default Notification through `rsp-gp` (the one `E1` codec).

use rsp_gp::notification::{DefaultNotification, NotificationType as WireType};
use rsp_types::{Aid, Eid};

use super::notification::NotificationType;

/// `E1 { 4C EID, 4D type, 4E seq, 4F ISD-P AID }`.
pub fn encode_default_notification(
    eid: &Eid,
    kind: NotificationType,
    seq: u16,
    isd_p_aid: Option<&Aid>,
) -> Vec<u8> {
    DefaultNotification {
        eid: *eid,
        notification_type: WireType::from(kind.code()),
        sequence_number: seq,
        isd_p_aid: isd_p_aid.copied(),
        imei: None,
        meid: None,
    }
    .encode()
    // Encoding fixed-size fields cannot fail; an empty payload would be refused by the SM-SR.
    .unwrap_or_default()
}
