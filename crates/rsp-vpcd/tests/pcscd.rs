#![allow(clippy::unwrap_used, clippy::expect_used)]
//! End to end through PC/SC: a private `pcscd` (foreground, loading only the vsmartcard vpcd
//! driver), the bridge connected to vpcd on 127.0.0.1:35963, and pyscard as the PC/SC application,
//! run as a child process whose output the test asserts on.
//!
//! Needs the Debian packages `pcscd`, `vsmartcard-vpcd` and `python3-pyscard` (`scripts/test`
//! installs them) and root (pcscd creates `/run/pcscd`). A pcscd that is already running (systemd
//! socket activation after the package install) is used instead, with its default vpcd
//! configuration. Without them the test prints a skip line, or fails when `CI` is set.
//!
//! There is one pcscd and one vpcd port per machine: the whole session is this one test function.

mod support;

use std::fs;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rsp_vpcd::{Config, DEFAULT_PORT, spawn};
use support::{ATR, TestCard, echo, select_test_aid, status};

/// pcscd's client socket (pcsc-lite's default; the daemon has no option to move it).
const PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";
/// Where the Debian package installs the driver, when its reader.conf.d file cannot be read.
const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
const VPCD_CONF: &str = "/etc/reader.conf.d/vpcd";
/// vpcd names its first reader (port 35963) "<FRIENDLYNAME> 00 00".
const READER: &str = "Virtual PCD 00 00";

/// Where the PC/SC service comes from.
enum Service {
    /// A pcscd that was already running (e.g. socket-activated by systemd after the package was
    /// installed): used as it is; its vpcd configuration must be the default one.
    Running,
    /// A private foreground pcscd this test starts.
    Own { pcscd: PathBuf, driver: PathBuf },
}

struct Env {
    python: String,
    service: Service,
}

/// What the test needs, or why it cannot run.
fn environment() -> Result<Env, String> {
    // python3-pyscard installs for Debian's interpreter, which may not be the first python3 on PATH.
    let python = [
        std::env::var("RSP_TEST_PYTHON").ok(),
        Some("python3".into()),
        Some("/usr/bin/python3".into()),
    ]
    .into_iter()
    .flatten()
    .filter(|p| !p.is_empty())
    .find(|p| {
        Command::new(p)
            .args(["-c", "import smartcard.System"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
    .ok_or("pyscard not importable by python3 (Debian package python3-pyscard)")?;
    if pcscd_running() {
        return Ok(Env {
            python,
            service: Service::Running,
        });
    }
    let pcscd = ["/usr/sbin/pcscd", "/usr/local/sbin/pcscd", "/sbin/pcscd"]
        .iter()
        .map(PathBuf::from)
        .chain(std::env::var_os("PATH").into_iter().flat_map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("pcscd"))
                .collect::<Vec<_>>()
        }))
        .find(|p| p.is_file())
        .ok_or("pcscd not installed (Debian package pcscd)")?;
    let driver =
        vpcd_driver().ok_or("the vpcd driver is not installed (Debian package vsmartcard-vpcd)")?;
    if !is_root() {
        return Err("not root: pcscd must create /run/pcscd".into());
    }
    Ok(Env {
        python,
        service: Service::Own { pcscd, driver },
    })
}

/// Whether a pcscd serves [`PCSCD_SOCKET`]. Files left by a pcscd that was killed (socket not
/// accepting, pid file naming no live process) would stop a new one from starting: removed.
fn pcscd_running() -> bool {
    if UnixStream::connect(PCSCD_SOCKET).is_ok() {
        return true;
    }
    let pid_file = Path::new(PCSCD_SOCKET).with_file_name("pcscd.pid");
    let pid = fs::read_to_string(&pid_file).unwrap_or_default();
    let pid = pid.trim_matches(|c: char| !c.is_ascii_digit());
    if !pid.is_empty() && Path::new("/proc").join(pid).exists() {
        // A pcscd process that does not accept connections (yet): do not touch it.
        return true;
    }
    let _ = fs::remove_file(PCSCD_SOCKET);
    let _ = fs::remove_file(pid_file);
    false
}

/// The driver named by the installed vpcd reader configuration, else the Debian path.
fn vpcd_driver() -> Option<PathBuf> {
    let from_conf = fs::read_to_string(VPCD_CONF).ok().and_then(|conf| {
        conf.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("LIBPATH"))
                .then(|| words.next().map(PathBuf::from))
                .flatten()
        })
    });
    from_conf
        .into_iter()
        .chain([PathBuf::from(VPCD_DRIVER)])
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

/// A foreground pcscd; terminated (SIGTERM, then SIGKILL) when dropped, on every exit path.
struct Pcscd {
    child: Child,
    log: PathBuf,
}

impl Pcscd {
    fn start(pcscd: &Path, driver: &Path, dir: &Path) -> Pcscd {
        let conf = dir.join("reader.conf.d");
        fs::create_dir_all(&conf).unwrap();
        fs::write(
            conf.join("vpcd"),
            format!(
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:0x{DEFAULT_PORT:04X}\nLIBPATH {}\nCHANNELID 0x{DEFAULT_PORT:04X}\n",
                driver.display()
            ),
        )
        .unwrap();
        let log = dir.join("pcscd.log");
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(pcscd)
            .args(["--foreground", "--apdu", "--debug", "--config"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut pcscd = Pcscd { child, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(PCSCD_SOCKET).is_err() {
            if let Some(status) = pcscd.child.try_wait().unwrap() {
                panic!("pcscd exited ({status}):\n{}", pcscd.log());
            }
            assert!(
                Instant::now() < deadline,
                "pcscd did not open {PCSCD_SOCKET}:\n{}",
                pcscd.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        pcscd
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        // SIGTERM lets pcscd remove its socket and pid file.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the pyscard client with `steps`; returns its stdout lines. Bounded: killed after 40 s.
fn pyscard(env: &Env, pcscd: Option<&Pcscd>, steps: &[String]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyscard_client.py");
    let mut child = Command::new(&env.python)
        .arg(&script)
        .arg(READER)
        .args(steps)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    match status {
        Some(s) if s.success() => out.lines().map(str::to_owned).collect(),
        _ => panic!(
            "pyscard client failed ({status:?})\n--- stdout\n{out}--- stderr\n{err}--- pcscd log\n{}",
            pcscd_log(pcscd)
        ),
    }
}

fn pcscd_log(pcscd: Option<&Pcscd>) -> String {
    pcscd.map_or_else(|| "(pcscd was already running: no log)".into(), Pcscd::log)
}

fn hex_up(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

#[test]
fn pyscard_reaches_the_card_through_pcscd_and_vpcd() {
    let env = match environment() {
        Ok(env) => env,
        Err(reason) if std::env::var("CI").is_ok_and(|v| !v.is_empty()) => {
            panic!("the PC/SC test cannot run: {reason}")
        }
        Err(reason) => {
            eprintln!("SKIP pcscd/vpcd/pyscard test: {reason}");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let pcscd = match &env.service {
        Service::Own { pcscd, driver } => Some(Pcscd::start(pcscd, driver, dir.path())),
        Service::Running => {
            eprintln!("using the pcscd that is already running");
            None
        }
    };

    let mut config = Config::local();
    config.retry_interval = Duration::from_millis(100);
    let bridge = spawn(TestCard::default(), config).unwrap();

    let payload: Vec<u8> = (0u8..200).map(|i| i.wrapping_mul(7)).collect();
    let steps = [
        hex_up(&status()),
        hex_up(&select_test_aid()),
        hex_up(&status()),
        hex_up(&echo(&payload)),
        "reset".to_owned(),
        hex_up(&status()),
        hex_up(&select_test_aid()),
        hex_up(&status()),
        "80500000 00".replace(' ', ""),
    ];
    let lines = pyscard(&env, pcscd.as_ref(), &steps);
    eprintln!("pyscard client:\n{}", lines.join("\n"));
    let served = bridge.stop().unwrap();
    let log = || format!("{lines:#?}\n--- pcscd log\n{}", pcscd_log(pcscd.as_ref()));

    let readers = lines[0]
        .strip_prefix("READERS ")
        .unwrap_or_else(|| panic!("{}", log()));
    assert!(readers.split('|').any(|r| r == READER), "{}", log());
    assert_eq!(lines[1], format!("ATR {}", hex_up(&ATR)), "{}", log());
    let responses: Vec<&str> = lines[2..]
        .iter()
        .map(|l| l.strip_prefix("R ").or(l.strip_prefix("RESET ")).unwrap())
        .collect();
    assert_eq!(responses.len(), steps.len(), "{}", log());
    assert_eq!(responses[0], "6985", "not selected yet; {}", log());
    assert_eq!(responses[1], "9000", "{}", log());
    // [commands since reset, resets]: the card's own counters.
    let before = hex::decode(responses[2]).unwrap();
    assert_eq!(
        (before.len(), before[0], &before[2..]),
        (4, 3, &[0x90, 0x00][..])
    );
    let mut reversed: Vec<u8> = payload.iter().rev().copied().collect();
    reversed.extend_from_slice(&[0x90, 0x00]);
    assert_eq!(responses[3], hex_up(&reversed), "{}", log());
    assert!(lines[6].starts_with("RESET "), "{}", log());
    assert_eq!(
        responses[4],
        hex_up(&ATR),
        "ATR after the warm reset; {}",
        log()
    );
    assert_eq!(
        responses[5],
        "6985",
        "the reset dropped the selection; {}",
        log()
    );
    assert_eq!(responses[6], "9000");
    let after = hex::decode(responses[7]).unwrap();
    assert_eq!(after[0], 3);
    assert_eq!(after[1], before[1] + 1, "one more reset; {}", log());
    assert_eq!(responses[8], "6D00");

    assert!(served.connections >= 1);
    assert_eq!(served.protocol_errors, 0);
    assert_eq!(served.stats.apdus, 8, "{}", log());
    assert_eq!(served.card.transmitted, 8);

    // The same reader, the card removed and the consumer eUICC inserted: a PC/SC LPA's first
    // steps, SELECT ISD-R and ES10c.GetEID. pcscd polls for removal: a card swapped faster than
    // that would look like the old one, talked to over the closed connection.
    let absent = pyscard(&env, pcscd.as_ref(), &["--absent".to_owned()]);
    assert_eq!(
        absent.last().map(String::as_str),
        Some("ABSENT"),
        "{absent:?}"
    );
    consumer_euicc_answers_get_eid(&env, pcscd.as_ref());
}

fn consumer_euicc_answers_get_eid(env: &Env, pcscd: Option<&Pcscd>) {
    use rsp_euicc::consumer::{ATR as EUICC_ATR, ConsumerConfig, ConsumerEuicc, DEFAULT_ISD_R_AID};

    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sgp26");
    let card =
        ConsumerEuicc::sgp26(&fixtures, ConsumerConfig::new("2.3.0".parse().unwrap())).unwrap();
    let eid = card.eid().to_bytes().to_vec();
    let mut config = Config::local();
    config.retry_interval = Duration::from_millis(100);
    let bridge = spawn(card, config).unwrap();

    let aid = hex::decode(DEFAULT_ISD_R_AID).unwrap();
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, aid.len() as u8];
    select.extend_from_slice(&aid);
    select.push(0x00);
    // GetEuiccDataRequest ::= [62] SEQUENCE { tagList [APPLICATION 28] OCTET STRING } asking for
    // the EID (tag 5A), in the workspace's STORE DATA framing.
    let get_eid =
        rsp_sgp22::es10::store_data_apdus(&[0xBF, 0x3E, 0x03, 0x5C, 0x01, 0x5A], 0, 255).unwrap();
    assert_eq!(get_eid.len(), 1);
    let lines = pyscard(env, pcscd, &[hex_up(&select), hex_up(&get_eid[0])]);
    eprintln!("pyscard client (consumer eUICC):\n{}", lines.join("\n"));
    let served = bridge.stop().unwrap();
    let log = || format!("{lines:#?}\n--- pcscd log\n{}", pcscd_log(pcscd));

    assert_eq!(lines.len(), 4, "{}", log());
    assert_ne!(EUICC_ATR[..], ATR[..]);
    assert_eq!(lines[1], format!("ATR {}", hex_up(&EUICC_ATR)), "{}", log());
    assert!(
        lines[2].starts_with("R ") && lines[2].ends_with("9000"),
        "SELECT ISD-R: {}",
        log()
    );
    // GetEuiccDataResponse ::= [62] SEQUENCE { eidValue [APPLICATION 26] Octet16 }.
    let mut expected = vec![0xBF, 0x3E, 0x12, 0x5A, 0x10];
    expected.extend_from_slice(&eid);
    expected.extend_from_slice(&[0x90, 0x00]);
    assert_eq!(lines[3], format!("R {}", hex_up(&expected)), "{}", log());
    assert_eq!(
        hex_up(&eid),
        "89049032123451234512345678901235",
        "the SGP.26 EID"
    );
    assert_eq!(served.protocol_errors, 0);
    assert!(served.stats.apdus >= 2);
}
