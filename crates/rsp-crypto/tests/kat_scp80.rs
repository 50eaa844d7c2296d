//! Known-answer tests for SCP80 (ETSI TS 102 225 / 3GPP TS 31.115 SMS form) with AES.
//!
//! Source of every vector: osmocom pySim, `tests/unittests/test_ota.py` (GPL-2.0-or-later; only the
//! test values are used), class `Test_SMS_AES128` and the data set `AES128-SJA5-CIPHERED-CC` of
//! `SmsOtaTestCase`: sysmoISIM-SJA5 sample cards, AES-128 KIc/KID with key version 2, TAR `B00011`,
//! SPI "no counter, ciphering, CC; PoR required, CC, ciphered, via SMS-DELIVER-REPORT" (`06 19`).
//! The response vector is a PoR captured from such a card answering `SELECT 3F00`.
//! No published AES vector exists for the counter modes or for SMS-SUBMIT PoRs; those are covered by
//! the round-trip tests in `scp80_roundtrip.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use rsp_crypto::scp80::{
    ChecksumKind, CommandParams, Counter, CounterMode, MinimumSecurity, PorRequest, PorTransport,
    ResponseStatus, Scp80Keys, Spi, Tar, open_command_with, open_response, peek_command,
    secure_command, secure_response,
};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

// pySim test_ota.py: OTA_KEYSET_SJA5_AES128 (kic_idx=2, kid_idx=2)
const KIC: &str = "200102030405060708090a0b0c0d0e0f";
const KID: &str = "201102030405060708090a0b0c0d0e0f";
// pySim test_ota.py: tar = h2b('B00011')
const TAR: [u8; 3] = [0xB0, 0x00, 0x11];
// pySim test_ota.py: apdu = '00a40004023f00'
const APDU: &str = "00a40004023f00";
// pySim test_ota.py: AES128-SJA5-CIPHERED-CC 'encoded_cmd'
const ENCODED_CMD: &str =
    "00281506192222b00011e87cceebb2d93083011ce294f93fc4d8de80da1abae8c37ca3e72ec4432e5058";
// pySim test_ota.py: AES128-SJA5-CIPHERED-CC 'encoded_resp' (with its UDH 02 71 00)
const ENCODED_RESP: &str =
    "027100002412b00011ebc6b497e2cad7aedf36ace0e3a29b38853f0fe9ccde81913be5702b73abce1f";

fn keys() -> Scp80Keys {
    Scp80Keys::new(2, &h(KIC), &h(KID)).unwrap()
}

// pySim test_ota.py: SPI_CC_POR_CIPHERED_CC
fn spi() -> Spi {
    Spi {
        checksum: ChecksumKind::Cryptographic,
        ciphering: true,
        counter: CounterMode::NoCounter,
        por: PorRequest::Always,
        por_checksum: ChecksumKind::Cryptographic,
        por_ciphered: true,
        por_transport: PorTransport::DeliverReport,
    }
}

fn params() -> CommandParams {
    CommandParams {
        spi: spi(),
        tar: Tar(TAR),
    }
}

#[test]
fn spi_of_the_vector_encodes_as_published() {
    assert_eq!(spi().to_bytes(), [0x06, 0x19]);
    assert_eq!(Spi::from_bytes([0x06, 0x19]).unwrap(), spi());
}

#[test]
fn command_packet_matches_pysim_aes128_vector() {
    let packet = secure_command(&keys(), &params(), Counter::ZERO, &h(APDU)).unwrap();
    assert_eq!(hex::encode(&packet), ENCODED_CMD);
}

#[test]
fn command_packet_vector_opens() {
    let packet = h(ENCODED_CMD);
    let plain = peek_command(&packet).unwrap();
    assert_eq!(plain.tar, Tar(TAR));
    assert_eq!(plain.kic.0, 0x22);
    assert_eq!(plain.kid.0, 0x22);
    let (header, data) =
        open_command_with(&keys(), &packet, Counter::ZERO, MinimumSecurity::CHECKSUM).unwrap();
    assert_eq!(data, h(APDU));
    assert_eq!(header.spi, spi());
    assert_eq!(header.tar, Tar(TAR));
    assert_eq!(header.counter, Counter::ZERO);
    // 6 (CNTR, PCNTR) + 8 (CC) + 7 (APDU) = 21 -> 11 padding bytes to 32
    assert_eq!(header.padding, 11);
}

#[test]
fn response_packet_vector_opens() {
    let full = h(ENCODED_RESP);
    assert_eq!(&full[..3], &[0x02, 0x71, 0x00]);
    let por = open_response(&keys(), &params(), Counter::ZERO, &full[3..]).unwrap();
    assert_eq!(por.status, ResponseStatus::PorOk);
    assert_eq!(por.tar, Tar(TAR));
    // TS 102 226 compact response: 1 command executed, last status word 61 32
    assert_eq!(por.data, vec![0x01, 0x61, 0x32]);
}

#[test]
fn response_packet_matches_pysim_aes128_vector() {
    // The card's PoR, rebuilt from the command header it answers: deterministic (zero padding).
    let (header, _) = open_command_with(
        &keys(),
        &h(ENCODED_CMD),
        Counter::ZERO,
        MinimumSecurity::CHECKSUM,
    )
    .unwrap();
    let por =
        secure_response(&keys(), &header, ResponseStatus::PorOk, &[0x01, 0x61, 0x32]).unwrap();
    assert_eq!(hex::encode(por), &ENCODED_RESP[6..]);
}
