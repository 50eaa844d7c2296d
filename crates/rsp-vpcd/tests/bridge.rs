#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The TCP loop against a fake vpcd (a listener on 127.0.0.1 speaking the reader side): partial
//! writes, reconnection after the reader drops the connection, a framing error, stop.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use rsp_vpcd::{Config, spawn};
use support::{ATR, TestCard, frame, select_test_aid, status};

const TIMEOUT: Duration = Duration::from_secs(5);

fn accept(listener: &TcpListener) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(TIMEOUT)).unwrap();
                return stream;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "the bridge did not connect");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).unwrap();
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut payload).unwrap();
    payload
}

fn exchange(stream: &mut TcpStream, payload: &[u8]) -> Vec<u8> {
    stream.write_all(&frame(payload)).unwrap();
    read_frame(stream)
}

/// The bridge closed the connection: the next read sees end of stream.
fn assert_closed(stream: &mut TcpStream) {
    let mut b = [0u8; 1];
    assert_eq!(
        stream.read(&mut b).unwrap(),
        0,
        "the bridge kept the connection"
    );
}

#[test]
fn serves_reconnects_and_stops() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = Config::new(listener.local_addr().unwrap());
    config.retry_interval = Duration::from_millis(20);
    config.poll_interval = Duration::from_millis(20);
    let bridge = spawn(TestCard::default(), config).unwrap();

    // First connection: power on, ATR, a SELECT written in pieces, two frames in one write.
    let mut c = accept(&listener);
    c.write_all(&frame(&[0x01])).unwrap();
    assert_eq!(exchange(&mut c, &[0x04]), ATR);
    let select = frame(&select_test_aid());
    for piece in select.chunks(3) {
        c.write_all(piece).unwrap();
        c.flush().unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(read_frame(&mut c), [0x90, 0x00]);
    c.write_all(&[frame(&status()), frame(&status())].concat())
        .unwrap();
    assert_eq!(read_frame(&mut c), [2, 1, 0x90, 0x00]);
    assert_eq!(read_frame(&mut c), [3, 1, 0x90, 0x00]);
    drop(c);

    // The reader went away; the bridge connects again, the card was removed in between.
    let mut c = accept(&listener);
    assert_eq!(exchange(&mut c, &status()), [0x6F, 0x00], "unpowered card");
    c.write_all(&frame(&[0x01])).unwrap();
    assert_eq!(exchange(&mut c, &status()), [0x69, 0x85], "selection lost");
    // A zero-length frame is not vpcd: the bridge drops the connection, then comes back.
    c.write_all(&[0x00, 0x00]).unwrap();
    assert_closed(&mut c);

    let mut c = accept(&listener);
    assert_eq!(exchange(&mut c, &[0x04]), ATR);

    let served = bridge.stop().unwrap();
    assert_eq!(served.connections, 3);
    assert_eq!(served.protocol_errors, 1);
    assert_eq!(served.stats.apdus, 4);
    // Power on twice, plus the ATR asked for an unpowered card on the third connection.
    assert_eq!(served.card.resets, 3);
    assert_eq!(served.card.transmitted, 4);
    assert!(served.card.power_offs >= 2);
    assert_closed(&mut c);
}

#[test]
fn stops_while_the_reader_is_not_listening() {
    // A port nobody listens on: bind, note it, close.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = Config::new(addr);
    config.retry_interval = Duration::from_millis(50);
    let bridge = spawn(TestCard::default(), config).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    let started = Instant::now();
    let served = bridge.stop().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(served.connections, 0);
    assert_eq!(served.card.transmitted, 0);
}
