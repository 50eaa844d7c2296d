//! TP-User-Data headers (3GPP TS 23.040 §9.2.3.24) for secured packets: the command / response
//! packet identifiers of 3GPP TS 31.115 and concatenation.

use std::collections::{HashMap, VecDeque};

use super::{MAX_USER_DATA, SmsAddress, SmsError};

/// IEI of "concatenated short messages, 8-bit reference number".
pub const IEI_CONCAT_8: u8 = 0x00;
/// IEI of "concatenated short messages, 16-bit reference number".
pub const IEI_CONCAT_16: u8 = 0x08;
/// IEI of the command packet identifier (CPI) of 3GPP TS 31.115.
pub const IEI_COMMAND_PACKET: u8 = 0x70;
/// IEI of the response packet identifier (RPI) of 3GPP TS 31.115.
pub const IEI_RESPONSE_PACKET: u8 = 0x71;
/// Default number of incomplete concatenated sets a [`Reassembler`] keeps.
pub const DEFAULT_MAX_PENDING_SETS: usize = 256;

/// Which secured packet a short message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// A command packet (IEI `70`).
    Command,
    /// A response packet, i.e. a PoR (IEI `71`).
    Response,
}

impl PacketKind {
    /// The identifying IEI.
    pub fn iei(self) -> u8 {
        match self {
            PacketKind::Command => IEI_COMMAND_PACKET,
            PacketKind::Response => IEI_RESPONSE_PACKET,
        }
    }
}

/// One information element of a user data header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformationElement {
    /// Identifier.
    pub iei: u8,
    /// Data (at most 255 bytes).
    pub data: Vec<u8>,
}

/// Splits user data (TP-UDHI set) into its header elements and the rest.
pub fn parse_user_data(user_data: &[u8]) -> Result<(Vec<InformationElement>, &[u8]), SmsError> {
    let (&udhl, rest) = user_data
        .split_first()
        .ok_or(SmsError::BadUserDataHeader("empty user data"))?;
    let udhl = usize::from(udhl);
    if rest.len() < udhl {
        return Err(SmsError::BadUserDataHeader("UDHL exceeds the user data"));
    }
    let (mut header, body) = rest.split_at(udhl);
    let mut elements = Vec::new();
    while let Some((&iei, after)) = header.split_first() {
        let (&len, after) = after
            .split_first()
            .ok_or(SmsError::BadUserDataHeader("element length missing"))?;
        let len = usize::from(len);
        if after.len() < len {
            return Err(SmsError::BadUserDataHeader("element exceeds the header"));
        }
        let (data, after) = after.split_at(len);
        elements.push(InformationElement {
            iei,
            data: data.to_vec(),
        });
        header = after;
    }
    Ok((elements, body))
}

/// Encodes a user data header (UDHL and elements).
pub fn encode_udh(elements: &[InformationElement]) -> Result<Vec<u8>, SmsError> {
    let mut out = vec![0u8];
    for e in elements {
        let len = u8::try_from(e.data.len())
            .map_err(|_| SmsError::BadUserDataHeader("element longer than 255 bytes"))?;
        out.push(e.iei);
        out.push(len);
        out.extend_from_slice(&e.data);
    }
    let udhl = u8::try_from(out.len() - 1)
        .map_err(|_| SmsError::BadUserDataHeader("header longer than 255 bytes"))?;
    if let Some(first) = out.first_mut() {
        *first = udhl;
    }
    Ok(out)
}

/// Splits a secured packet into the TP-User-Data of one or more short messages (TP-UDHI set).
///
/// A packet of at most 137 bytes goes in one SMS behind `02 70 00` / `02 71 00`. A longer one is
/// concatenated with the 8-bit `reference`: the first segment carries 132 packet bytes behind
/// `07 00 03 ref n 01 70 00`, every other one 134 bytes behind `05 00 03 ref n i`.
pub fn segment(kind: PacketKind, packet: &[u8], reference: u8) -> Result<Vec<Vec<u8>>, SmsError> {
    let single_room = MAX_USER_DATA - 3;
    if packet.len() <= single_room {
        let mut ud = vec![0x02, kind.iei(), 0x00];
        ud.extend_from_slice(packet);
        return Ok(vec![ud]);
    }
    let first_room = MAX_USER_DATA - 8;
    let other_room = MAX_USER_DATA - 6;
    let rest = packet.len() - first_room;
    let count = 1 + rest.div_ceil(other_room);
    let total = u8::try_from(count).map_err(|_| SmsError::TooLong(packet.len()))?;
    let (first, mut remaining) = packet.split_at(first_room);
    let mut out = Vec::with_capacity(count);
    let mut ud = vec![
        0x07,
        IEI_CONCAT_8,
        0x03,
        reference,
        total,
        1,
        kind.iei(),
        0x00,
    ];
    ud.extend_from_slice(first);
    out.push(ud);
    for seq in 2..=total {
        let take = remaining.len().min(other_room);
        let (chunk, after) = remaining.split_at(take);
        let mut ud = vec![0x05, IEI_CONCAT_8, 0x03, reference, total, seq];
        ud.extend_from_slice(chunk);
        out.push(ud);
        remaining = after;
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Concat {
    reference: u16,
    wide: bool,
    total: u8,
    seq: u8,
}

fn concat_of(elements: &[InformationElement]) -> Result<Option<Concat>, SmsError> {
    let mut found = None;
    for e in elements {
        let c = match (e.iei, e.data.as_slice()) {
            (IEI_CONCAT_8, &[r, total, seq]) => Concat {
                reference: u16::from(r),
                wide: false,
                total,
                seq,
            },
            (IEI_CONCAT_16, &[r1, r2, total, seq]) => Concat {
                reference: u16::from_be_bytes([r1, r2]),
                wide: true,
                total,
                seq,
            },
            (IEI_CONCAT_8 | IEI_CONCAT_16, _) => {
                return Err(SmsError::BadConcatenation("wrong element length"));
            }
            _ => continue,
        };
        if found.is_some() {
            return Err(SmsError::BadConcatenation("two concatenation elements"));
        }
        if c.total == 0 || c.seq == 0 || c.seq > c.total {
            return Err(SmsError::BadConcatenation(
                "sequence number outside 1..=total",
            ));
        }
        found = Some(c);
    }
    Ok(found)
}

fn kind_of(elements: &[InformationElement]) -> Result<Option<PacketKind>, SmsError> {
    let command = elements.iter().any(|e| e.iei == IEI_COMMAND_PACKET);
    let response = elements.iter().any(|e| e.iei == IEI_RESPONSE_PACKET);
    match (command, response) {
        (true, true) => Err(SmsError::BadUserDataHeader(
            "both command and response packet identifiers",
        )),
        (true, false) => Ok(Some(PacketKind::Command)),
        (false, true) => Ok(Some(PacketKind::Response)),
        (false, false) => Ok(None),
    }
}

type SetKey = (SmsAddress, u16, bool, u8);

#[derive(Debug)]
struct Partial {
    parts: Vec<Option<Vec<u8>>>,
    kind: Option<PacketKind>,
}

/// Reassembles secured packets from short messages, per originator, in any arrival order.
///
/// Incomplete sets are kept up to a limit; beyond it the oldest set is dropped. A repeated segment
/// replaces the earlier copy.
#[derive(Debug)]
pub struct Reassembler {
    pending: HashMap<SetKey, Partial>,
    order: VecDeque<SetKey>,
    max_sets: usize,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new(DEFAULT_MAX_PENDING_SETS)
    }
}

impl Reassembler {
    /// A reassembler keeping at most `max_sets` incomplete sets (at least 1).
    pub fn new(max_sets: usize) -> Reassembler {
        Reassembler {
            pending: HashMap::new(),
            order: VecDeque::new(),
            max_sets: max_sets.max(1),
        }
    }

    /// Number of incomplete sets held.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Adds the TP-User-Data (with header) of one short message from `from`. Returns the packet
    /// once complete.
    pub fn push(
        &mut self,
        from: &SmsAddress,
        user_data: &[u8],
    ) -> Result<Option<(PacketKind, Vec<u8>)>, SmsError> {
        let (elements, body) = parse_user_data(user_data)?;
        let kind = kind_of(&elements)?;
        let Some(concat) = concat_of(&elements)? else {
            return match kind {
                Some(kind) => Ok(Some((kind, body.to_vec()))),
                None => Err(SmsError::NotSecuredPacket(from.clone())),
            };
        };
        if concat.total == 1 {
            return match kind {
                Some(kind) => Ok(Some((kind, body.to_vec()))),
                None => Err(SmsError::NotSecuredPacket(from.clone())),
            };
        }
        let key: SetKey = (from.clone(), concat.reference, concat.wide, concat.total);
        if !self.pending.contains_key(&key) {
            while self.pending.len() >= self.max_sets {
                match self.order.pop_front() {
                    Some(old) => {
                        self.pending.remove(&old);
                    }
                    None => break,
                }
            }
            self.pending.insert(
                key.clone(),
                Partial {
                    parts: vec![None; usize::from(concat.total)],
                    kind: None,
                },
            );
            self.order.push_back(key.clone());
        }
        let Some(partial) = self.pending.get_mut(&key) else {
            return Ok(None);
        };
        if let Some(k) = kind {
            if partial.kind.is_some_and(|p| p != k) {
                return Err(SmsError::BadUserDataHeader(
                    "segments disagree on the packet kind",
                ));
            }
            partial.kind = Some(k);
        }
        if let Some(slot) = partial.parts.get_mut(usize::from(concat.seq) - 1) {
            *slot = Some(body.to_vec());
        }
        if partial.parts.iter().any(Option::is_none) {
            return Ok(None);
        }
        let Some(done) = self.pending.remove(&key) else {
            return Ok(None);
        };
        self.order.retain(|k| k != &key);
        let kind = done
            .kind
            .ok_or_else(|| SmsError::NotSecuredPacket(from.clone()))?;
        let packet = done.parts.into_iter().flatten().flatten().collect();
        Ok(Some((kind, packet)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SmsAddress {
        SmsAddress::new("+491700000001").unwrap()
    }

    #[test]
    fn udh_round_trip() {
        let ies = vec![
            InformationElement {
                iei: 0x00,
                data: vec![1, 2, 1],
            },
            InformationElement {
                iei: 0x71,
                data: vec![],
            },
        ];
        let udh = encode_udh(&ies).unwrap();
        // observed on a real card (pySim tests/unittests/test_sms.py, test_ground_truth_udh)
        assert_eq!(udh, [0x07, 0x00, 0x03, 0x01, 0x02, 0x01, 0x71, 0x00]);
        let mut ud = udh.clone();
        ud.extend_from_slice(b"tail");
        let (parsed, body) = parse_user_data(&ud).unwrap();
        assert_eq!(parsed, ies);
        assert_eq!(body, b"tail");
    }

    #[test]
    fn malformed_headers() {
        assert!(parse_user_data(&[]).is_err());
        assert!(parse_user_data(&[0x05, 0x00, 0x03]).is_err());
        assert!(parse_user_data(&[0x02, 0x70]).is_err());
        assert!(parse_user_data(&[0x02, 0x70, 0x01]).is_err());
        let mut r = Reassembler::default();
        assert_eq!(
            r.push(&addr(), &[0x00, 1, 2, 3]),
            Err(SmsError::NotSecuredPacket(addr()))
        );
        assert!(
            r.push(&addr(), &[0x07, 0x00, 0x03, 1, 2, 3, 0x70, 0x00])
                .is_err()
        );
        assert!(r.push(&addr(), &[0x04, 0x70, 0x00, 0x71, 0x00]).is_err());
    }

    #[test]
    fn segment_sizes() {
        for len in [0usize, 1, 137, 138, 132 + 134, 132 + 134 + 1, 1000] {
            let packet: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let parts = segment(PacketKind::Command, &packet, 9).unwrap();
            assert!(parts.iter().all(|p| p.len() <= MAX_USER_DATA), "{len}");
            let expect = if len <= 137 {
                1
            } else {
                1 + (len - 132).div_ceil(134)
            };
            assert_eq!(parts.len(), expect, "{len}");
            let mut r = Reassembler::default();
            let mut out = None;
            for p in parts.iter().rev() {
                out = r.push(&addr(), p).unwrap();
            }
            assert_eq!(out, Some((PacketKind::Command, packet)));
            assert_eq!(r.pending(), 0);
        }
        assert_eq!(
            segment(PacketKind::Command, &vec![0; 132 + 254 * 134 + 1], 0),
            Err(SmsError::TooLong(132 + 254 * 134 + 1))
        );
        assert_eq!(
            segment(PacketKind::Command, &vec![0; 132 + 254 * 134], 0)
                .unwrap()
                .len(),
            255
        );
    }

    #[test]
    fn interleaved_sets_and_eviction() {
        let a: Vec<u8> = vec![0xAA; 300];
        let b: Vec<u8> = vec![0xBB; 300];
        let pa = segment(PacketKind::Response, &a, 1).unwrap();
        let pb = segment(PacketKind::Response, &b, 2).unwrap();
        let mut r = Reassembler::new(1);
        assert_eq!(r.push(&addr(), &pa[0]).unwrap(), None);
        // a second set evicts the first
        assert_eq!(r.push(&addr(), &pb[0]).unwrap(), None);
        assert_eq!(r.pending(), 1);
        assert_eq!(r.push(&addr(), &pa[1]).unwrap(), None);
        let mut r = Reassembler::default();
        let mut done = Vec::new();
        for (x, y) in pa.iter().zip(&pb) {
            done.extend(r.push(&addr(), x).unwrap());
            done.extend(r.push(&addr(), y).unwrap());
        }
        assert_eq!(
            done,
            vec![(PacketKind::Response, a), (PacketKind::Response, b)]
        );
        assert_eq!(r.pending(), 0);
    }
}
