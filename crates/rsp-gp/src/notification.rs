//! The Default Notification the card sends after a state change (SGP.02 §3.15, §4.1.1.11;
//! `sgp02.md` §8.14), over MO-SMS or as the `?msg=` of an HTTPS POST:
//!
//! `E1 { 4C <EID>, 4D <type>, 4E <sequence number, 2 bytes>, 4F <ISD-P AID>, 14 <IMEI>, 6D <MEID> }`
//!
//! On input the ETSI TS 102 223 comprehension-required variants are accepted too: `2F` for the
//! AID, `94` for the IMEI, `ED` for the MEID; a one-byte sequence number is accepted. The encoder
//! writes `4F`, `14`, `6D` and two sequence-number bytes. Unknown children are ignored.

use rsp_types::tlv::{self, Tag, TlvError};
use rsp_types::{Aid, Eid};

use crate::command::{TAG_AID, TAG_SEQUENCE_NUMBER, tag};
use crate::response::ResponseError;

/// `E1`: Default Notification template.
pub const TAG_NOTIFICATION: Tag = tag(0xE1);
/// `4C`: EID in the notification.
pub const TAG_NOTIFICATION_EID: Tag = tag(0x4C);
/// `4D`: notification type.
pub const TAG_NOTIFICATION_TYPE: Tag = tag(0x4D);
const TAG_AID_CR: Tag = tag(0x2F);
const TAG_IMEI: Tag = tag(0x14);
const TAG_IMEI_CR: Tag = tag(0x94);
const TAG_MEID: Tag = tag(0x6D);
const TAG_MEID_CR: Tag = tag(0xED);

/// Notification type (`4D`), `sgp02.md` §8.14.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationType {
    /// `01`: eUICC declaration (first network attachment ever).
    EuiccDeclaration,
    /// `02`: profile change succeeded (enable, or disable with fall-back to the Fall-Back profile).
    ProfileChangeSucceeded,
    /// `03`: profile change failed and the card rolled back.
    ProfileChangeFailedAndRolledBack,
    /// `04`: void.
    Void,
    /// `05`: profile change after the Fall-Back mechanism.
    ProfileChangeAfterFallBack,
    /// Any other value, kept as received.
    Other(u8),
}

impl NotificationType {
    /// The wire value.
    pub fn to_u8(self) -> u8 {
        match self {
            NotificationType::EuiccDeclaration => 0x01,
            NotificationType::ProfileChangeSucceeded => 0x02,
            NotificationType::ProfileChangeFailedAndRolledBack => 0x03,
            NotificationType::Void => 0x04,
            NotificationType::ProfileChangeAfterFallBack => 0x05,
            NotificationType::Other(v) => v,
        }
    }
}

impl From<u8> for NotificationType {
    fn from(v: u8) -> NotificationType {
        match v {
            0x01 => NotificationType::EuiccDeclaration,
            0x02 => NotificationType::ProfileChangeSucceeded,
            0x03 => NotificationType::ProfileChangeFailedAndRolledBack,
            0x04 => NotificationType::Void,
            0x05 => NotificationType::ProfileChangeAfterFallBack,
            other => NotificationType::Other(other),
        }
    }
}

/// The Default Notification (`E1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DefaultNotification {
    /// `4C`: the EID.
    pub eid: Eid,
    /// `4D`: what happened.
    pub notification_type: NotificationType,
    /// `4E`: sequence number, echoed by ES5.NotificationConfirmation (`3A08`).
    pub sequence_number: u16,
    /// `4F` / `2F`: AID of the ISD-P now enabled.
    pub isd_p_aid: Option<Aid>,
    /// `14` / `94`: IMEI of the device (ETSI TS 102 223 coding, kept as bytes).
    pub imei: Option<Vec<u8>>,
    /// `6D` / `ED`: MEID of the device (kept as bytes).
    pub meid: Option<Vec<u8>>,
}

impl DefaultNotification {
    /// Encodes the `E1` TLV.
    pub fn encode(&self) -> Result<Vec<u8>, TlvError> {
        let mut v = Vec::new();
        tlv::encode_tlv(TAG_NOTIFICATION_EID, &self.eid.to_bytes(), &mut v)?;
        tlv::encode_tlv(
            TAG_NOTIFICATION_TYPE,
            &[self.notification_type.to_u8()],
            &mut v,
        )?;
        tlv::encode_tlv(
            TAG_SEQUENCE_NUMBER,
            &self.sequence_number.to_be_bytes(),
            &mut v,
        )?;
        if let Some(aid) = &self.isd_p_aid {
            tlv::encode_tlv(TAG_AID, aid.as_bytes(), &mut v)?;
        }
        if let Some(imei) = &self.imei {
            tlv::encode_tlv(TAG_IMEI, imei, &mut v)?;
        }
        if let Some(meid) = &self.meid {
            tlv::encode_tlv(TAG_MEID, meid, &mut v)?;
        }
        tlv::encode_tlv_to_vec(TAG_NOTIFICATION, &v)
    }

    /// Parses an `E1` TLV that fills `data`. EID, type and sequence number are required.
    pub fn parse(data: &[u8]) -> Result<DefaultNotification, ResponseError> {
        const W: &str = "Default Notification";
        let err = |source| ResponseError::Tlv { what: W, source };
        let bad = |reason| ResponseError::Malformed { what: W, reason };
        let outer = tlv::parse_single(data)
            .and_then(|t| t.expect_tag(TAG_NOTIFICATION))
            .map_err(err)?;
        let mut eid = None;
        let mut notification_type = None;
        let mut sequence_number = None;
        let mut isd_p_aid = None;
        let mut imei = None;
        let mut meid = None;
        for item in outer.children() {
            let t = item.map_err(err)?;
            if t.tag == TAG_NOTIFICATION_EID && eid.is_none() {
                eid = Some(Eid::from_bytes(t.value)?);
            } else if t.tag == TAG_NOTIFICATION_TYPE && notification_type.is_none() {
                match t.value {
                    [n] => notification_type = Some(NotificationType::from(*n)),
                    _ => return Err(bad("4D must be 1 byte")),
                }
            } else if t.tag == TAG_SEQUENCE_NUMBER && sequence_number.is_none() {
                sequence_number = Some(match t.value {
                    [lo] => u16::from(*lo),
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => return Err(bad("4E must be 1 or 2 bytes")),
                });
            } else if (t.tag == TAG_AID || t.tag == TAG_AID_CR) && isd_p_aid.is_none() {
                isd_p_aid = Some(
                    Aid::from_bytes(t.value)
                        .map_err(|source| ResponseError::Aid { what: W, source })?,
                );
            } else if (t.tag == TAG_IMEI || t.tag == TAG_IMEI_CR) && imei.is_none() {
                imei = Some(t.value.to_vec());
            } else if (t.tag == TAG_MEID || t.tag == TAG_MEID_CR) && meid.is_none() {
                meid = Some(t.value.to_vec());
            }
        }
        Ok(DefaultNotification {
            eid: eid.ok_or(bad("no 4C (EID)"))?,
            notification_type: notification_type.ok_or(bad("no 4D (notification type)"))?,
            sequence_number: sequence_number.ok_or(bad("no 4E (sequence number)"))?,
            isd_p_aid,
            imei,
            meid,
        })
    }
}
