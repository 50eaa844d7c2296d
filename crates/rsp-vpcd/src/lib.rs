//! A simulated card as a PC/SC card, through the virtual smart card reader of the vsmartcard
//! project: `vpcd` is a pcscd reader driver (Debian `vsmartcard-vpcd`, configured in
//! `/etc/reader.conf.d/vpcd`) that listens on TCP ([`DEFAULT_PORT`] for its first reader, the next
//! port for the second); the card connects to it as a client, and every PC/SC application (an LPA,
//! pyscard, `pcsc_scan`) then sees it in reader "Virtual PCD 00 00".
//!
//! - [`codec`]: the length-prefixed frames and the reader's messages;
//! - [`session`]: the card side of a connection as a sans-IO state machine over any
//!   [`rsp_gp::ApduCard`];
//! - [`serve`] / [`spawn`]: the blocking TCP client loop, which reconnects when the connection drops
//!   (pcscd restarted, vpcd not loaded yet) and returns the card when asked to stop.

pub mod codec;
pub mod session;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rsp_gp::ApduCard;

pub use codec::{DEFAULT_PORT, FrameDecoder, FrameError, Message};
pub use session::{Action, Session, Stats};

/// How [`serve`] connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// vpcd's address: `127.0.0.1:35963` for the first reader of a local pcscd.
    pub addr: SocketAddr,
    /// Pause between connection attempts while vpcd is not listening.
    pub retry_interval: Duration,
    /// Bound on one connection attempt.
    pub connect_timeout: Duration,
    /// How often a connected loop wakes up to look at the stop flag.
    pub poll_interval: Duration,
    /// Bound on writing one answer; a reader that does not read is dropped.
    pub write_timeout: Duration,
}

impl Config {
    /// Defaults for `addr`: retry every 500 ms, 2 s to connect, stop seen within 100 ms.
    pub fn new(addr: SocketAddr) -> Config {
        Config {
            addr,
            retry_interval: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(2),
            poll_interval: Duration::from_millis(100),
            write_timeout: Duration::from_secs(5),
        }
    }

    /// The first reader of a pcscd on this machine: `127.0.0.1:35963`.
    pub fn local() -> Config {
        Config::new(SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)))
    }
}

/// What [`serve`] returns once stopped.
#[derive(Debug)]
pub struct Served<C> {
    /// The card, in the state the reader left it (powered off).
    pub card: C,
    /// Connections established to vpcd.
    pub connections: u64,
    /// Connections dropped because the reader broke the framing.
    pub protocol_errors: u64,
    /// Counters of the session.
    pub stats: Stats,
}

/// Connects `card` to vpcd at `config.addr` and serves it until `stop` becomes true, reconnecting
/// whenever the connection cannot be made or drops. Blocking; returns within about
/// `poll_interval` (or `connect_timeout` while connecting) of the stop request.
pub fn serve<C: ApduCard>(card: C, config: &Config, stop: &AtomicBool) -> Served<C> {
    let mut session = Session::new(card);
    let mut connections = 0;
    let mut protocol_errors = 0;
    let mut logged_refusal = false;
    while !stop.load(Ordering::Relaxed) {
        let stream = match TcpStream::connect_timeout(&config.addr, config.connect_timeout) {
            Ok(stream) => stream,
            Err(e) => {
                if !logged_refusal {
                    tracing::info!(addr = %config.addr, error = %e, "vpcd not reachable, retrying");
                    logged_refusal = true;
                }
                sleep_unless_stopped(config.retry_interval, config.poll_interval, stop);
                continue;
            }
        };
        logged_refusal = false;
        connections += 1;
        tracing::info!(addr = %config.addr, "connected to vpcd");
        match run_connection(&mut session, stream, config, stop) {
            Ok(Ended::Closed) => tracing::info!("vpcd closed the connection"),
            Ok(Ended::Stopped) => tracing::debug!("stop requested"),
            Ok(Ended::Protocol(e)) => {
                protocol_errors += 1;
                tracing::warn!(error = %e, "dropping the vpcd connection");
            }
            Err(e) => tracing::warn!(error = %e, "vpcd connection failed"),
        }
        session.disconnected();
        if !stop.load(Ordering::Relaxed) {
            sleep_unless_stopped(config.retry_interval, config.poll_interval, stop);
        }
    }
    let stats = session.stats();
    Served {
        card: session.into_card(),
        connections,
        protocol_errors,
        stats,
    }
}

enum Ended {
    Closed,
    Stopped,
    Protocol(FrameError),
}

fn run_connection<C: ApduCard>(
    session: &mut Session<C>,
    mut stream: TcpStream,
    config: &Config,
    stop: &AtomicBool,
) -> std::io::Result<Ended> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(config.poll_interval.max(Duration::from_millis(1))))?;
    stream.set_write_timeout(Some(config.write_timeout.max(Duration::from_millis(1))))?;
    let mut buf = vec![0u8; 8192];
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(Ended::Stopped);
        }
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(Ended::Closed),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        for action in session.receive(buf.get(..n).unwrap_or_default()) {
            match action {
                Action::Send(bytes) => stream.write_all(&bytes)?,
                Action::Disconnect(e) => return Ok(Ended::Protocol(e)),
            }
        }
    }
}

fn sleep_unless_stopped(total: Duration, slice: Duration, stop: &AtomicBool) {
    let deadline = Instant::now() + total;
    let slice = slice.max(Duration::from_millis(1));
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep(slice.min(deadline - now));
    }
}

/// The bridge thread panicked (a card bug): the card is lost.
#[derive(Debug, thiserror::Error)]
#[error("the vpcd bridge thread panicked")]
pub struct BridgePanicked;

/// A [`serve`] loop on its own thread. Dropping it stops the loop and waits for it.
#[derive(Debug)]
pub struct Bridge<C> {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Served<C>>>,
}

/// Starts [`serve`] on a new thread.
pub fn spawn<C: ApduCard + 'static>(card: C, config: Config) -> std::io::Result<Bridge<C>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("rsp-vpcd".into())
        .spawn(move || serve(card, &config, &flag))?;
    Ok(Bridge {
        stop,
        thread: Some(thread),
    })
}

impl<C> Bridge<C> {
    /// The flag that stops the loop (for a signal handler).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Stops the loop and returns the card and the counters.
    pub fn stop(mut self) -> Result<Served<C>, BridgePanicked> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| BridgePanicked),
            None => Err(BridgePanicked),
        }
    }
}

impl<C> Drop for Bridge<C> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
