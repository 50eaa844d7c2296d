//! A small card for the bridge tests: one application (`TEST_AID`) with a status command and an
//! echo command, volatile state dropped by every reset.
#![allow(dead_code)]

use rsp_gp::{ApduCard, CommandApdu, StatusWord};

/// ATR: TS=3B, T0=81 (TD1, one historical byte), TD1=80 (TD2, T=0), TD2=01 (T=1), historical
/// byte 80 (category indicator, no data), TCK=80. Not the consumer eUICC's ATR, so the test sees
/// which card is in the reader.
pub const ATR: [u8; 6] = [0x3B, 0x81, 0x80, 0x01, 0x80, 0x80];
/// A proprietary AID ("F0" then "rspvpcd").
pub const TEST_AID: [u8; 8] = [0xF0, 0x72, 0x73, 0x70, 0x76, 0x70, 0x63, 0x64];

/// `80 CA 00 00`: returns [commands since the last reset (including this one), resets so far].
pub const INS_STATUS: u8 = 0xCA;
/// `80 EE 00 00 Lc data`: returns the data reversed.
pub const INS_ECHO: u8 = 0xEE;

#[derive(Debug, Default)]
pub struct TestCard {
    pub selected: bool,
    pub since_reset: u8,
    pub resets: u8,
    pub power_offs: u32,
    pub transmitted: u32,
}

impl TestCard {
    fn respond(&mut self, command: &[u8]) -> Result<Vec<u8>, StatusWord> {
        let apdu = CommandApdu::parse(command).map_err(|e| e.status_word())?;
        self.since_reset = self.since_reset.wrapping_add(1);
        match (apdu.cla, apdu.ins, apdu.p1, apdu.p2) {
            (0x00, 0xA4, 0x04, 0x00) => {
                if apdu.data == TEST_AID {
                    self.selected = true;
                    Ok(Vec::new())
                } else {
                    Err(StatusWord::NOT_FOUND)
                }
            }
            (0x80, INS_STATUS, 0x00, 0x00) if self.selected => {
                Ok(vec![self.since_reset, self.resets])
            }
            (0x80, INS_ECHO, 0x00, 0x00) if self.selected => {
                Ok(apdu.data.iter().rev().copied().collect())
            }
            (0x80, INS_STATUS | INS_ECHO, _, _) if !self.selected => {
                Err(StatusWord::CONDITIONS_NOT_SATISFIED)
            }
            (_, INS_STATUS | INS_ECHO, _, _) => Err(StatusWord::INCORRECT_P1_P2),
            _ => Err(StatusWord::INS_NOT_SUPPORTED),
        }
    }
}

impl ApduCard for TestCard {
    fn reset(&mut self) -> Vec<u8> {
        self.selected = false;
        self.since_reset = 0;
        self.resets = self.resets.wrapping_add(1);
        ATR.to_vec()
    }

    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        self.transmitted += 1;
        match self.respond(command) {
            Ok(mut data) => {
                data.extend_from_slice(&StatusWord::SUCCESS.to_bytes());
                data
            }
            Err(sw) => sw.to_bytes().to_vec(),
        }
    }

    fn power_off(&mut self) {
        self.selected = false;
        self.since_reset = 0;
        self.power_offs += 1;
    }
}

pub fn select_test_aid() -> Vec<u8> {
    let mut apdu = vec![0x00, 0xA4, 0x04, 0x00, TEST_AID.len() as u8];
    apdu.extend_from_slice(&TEST_AID);
    apdu.push(0x00);
    apdu
}

pub fn status() -> Vec<u8> {
    vec![0x80, INS_STATUS, 0x00, 0x00, 0x00]
}

pub fn echo(data: &[u8]) -> Vec<u8> {
    let mut apdu = vec![0x80, INS_ECHO, 0x00, 0x00, data.len() as u8];
    apdu.extend_from_slice(data);
    apdu.push(0x00);
    apdu
}

/// A frame as vpcd sends it.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u16).to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}
