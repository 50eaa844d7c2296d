//! The in-process SMSC: per-address FIFO queues, limits, and use through the `Smsc` trait object.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::sync::Arc;

use rsp_es5::sms::{InProcessSmsc, ShortMessage, SmKind, SmsAddress, SmsError, Smsc, SmscError};

fn a(s: &str) -> SmsAddress {
    SmsAddress::new(s).unwrap()
}

fn msg(to: &str, body: &[u8]) -> ShortMessage {
    ShortMessage::secured(a("100"), a(to), SmKind::MobileTerminated, body.to_vec())
}

#[test]
fn queues_are_per_address_and_fifo() {
    let smsc = InProcessSmsc::new();
    let id1 = smsc.submit(msg("+111", b"1")).unwrap();
    let id2 = smsc.submit(msg("+222", b"2")).unwrap();
    let id3 = smsc.submit(msg("+111", b"3")).unwrap();
    assert!(id1 != id2 && id2 != id3 && id1 != id3);
    assert_eq!(smsc.pending(&a("+111")).unwrap(), 2);
    assert_eq!(smsc.receive(&a("+111")).unwrap().unwrap().user_data, b"1");
    assert_eq!(smsc.receive(&a("+111")).unwrap().unwrap().user_data, b"3");
    assert_eq!(smsc.receive(&a("+111")).unwrap(), None);
    assert_eq!(smsc.receive(&a("+222")).unwrap().unwrap().user_data, b"2");
    assert_eq!(smsc.receive(&a("+333")).unwrap(), None);
}

#[test]
fn limits() {
    let smsc = InProcessSmsc::with_queue_limit(2);
    smsc.submit(msg("+1", b"a")).unwrap();
    smsc.submit(msg("+1", b"b")).unwrap();
    assert_eq!(
        smsc.submit(msg("+1", b"c")),
        Err(SmscError::QueueFull(a("+1")))
    );
    assert_eq!(
        smsc.submit(msg("+2", &[0; 141])),
        Err(SmscError::UserDataTooLong(141))
    );
    assert!(smsc.submit(msg("+2", &[0; 140])).is_ok());
}

#[test]
fn clones_and_trait_objects_share_queues() {
    let smsc = InProcessSmsc::new();
    let shared: Arc<dyn Smsc> = Arc::new(smsc.clone());
    shared.submit(msg("+9", b"x")).unwrap();
    assert_eq!(smsc.pending(&a("+9")).unwrap(), 1);
    assert_eq!(shared.receive(&a("+9")).unwrap().unwrap().user_data, b"x");
    assert_eq!(smsc.take_all(&a("+9")).unwrap(), Vec::new());
}

#[test]
fn addresses() {
    assert!(SmsAddress::new("+491701234567").is_ok());
    assert!(SmsAddress::new("4455").is_ok());
    for bad in ["", "+", "12a4", "++1", "123456789012345678901"] {
        assert!(
            matches!(SmsAddress::new(bad), Err(SmsError::BadAddress(_))),
            "{bad}"
        );
    }
    assert_eq!(a("+44").to_string(), "+44");
}
