#![allow(clippy::unwrap_used, clippy::expect_used, clippy::zombie_processes)] // `terminate` reaps every child
//! The `rsp` binary end to end: first start, health, metrics, bad configuration, shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn rsp() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rsp"));
    // Keep the environment of the machine from leaking into the test.
    for (k, _) in std::env::vars() {
        if k.starts_with("RSP_") {
            c.env_remove(k);
        }
    }
    c
}

fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Starts `rsp serve` and waits for the admin address in its log.
fn start(
    data_dir: &std::path::Path,
    extra_env: &[(&str, &str)],
) -> (Child, SocketAddr, mpsc::Receiver<String>) {
    let mut cmd = rsp();
    cmd.args(["--data-dir"])
        .arg(data_dir)
        .arg("serve")
        .env("RSP_ADMIN__LISTEN", "127.0.0.1:0")
        .env("RSP_PKI__GENERATE_IF_MISSING", "true")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn rsp");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .unwrap_or_else(|_| panic!("rsp serve did not report its admin address"));
        if let Some(rest) = line.split("admin listening on ").nth(1) {
            let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
            return (child, addr.parse().expect("admin address"), rx);
        }
    }
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("rsp did not stop on SIGTERM");
}

#[test]
fn first_start_creates_data_dir_pki_and_store_then_serves_health_and_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("fresh");
    let (child, addr, _logs) = start(&data, &[]);

    assert!(
        data.join("pki").join("pki.json").is_file(),
        "test PKI generated on first start"
    );
    assert!(
        data.join("rsp.sqlite").is_file(),
        "SQLite store created in the data dir"
    );

    let (status, body) = http_get(addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.trim(), "ok");
    let (status, body) = http_get(addr, "/metrics");
    assert_eq!(status, 200);
    assert!(body.contains("rsp_build_info"), "{body}");
    assert!(body.contains("rsp_uptime_seconds"), "{body}");
    assert!(body.contains("rsp_store_ping_seconds"), "{body}");
    assert_eq!(http_get(addr, "/nope").0, 404);

    let status = terminate(child);
    assert!(status.success(), "clean shutdown on SIGTERM: {status:?}");

    // A second start reuses the PKI and the store rather than regenerating them.
    let manifest_before = std::fs::read(data.join("pki").join("pki.json")).unwrap();
    let (child, addr, _logs) = start(&data, &[]);
    assert_eq!(http_get(addr, "/healthz").0, 200);
    assert!(terminate(child).success());
    assert_eq!(
        std::fs::read(data.join("pki").join("pki.json")).unwrap(),
        manifest_before
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (child, _addr, logs) = start(tmp.path(), &[("RSP_LOG__FORMAT", "json")]);
    assert!(terminate(child).success());
    let lines: Vec<String> = logs.try_iter().collect();
    assert!(!lines.is_empty());
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v.get("level").is_some(), "{line}");
    }
}

#[test]
fn bad_configuration_is_one_line_naming_the_key_and_exit_code_2() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("rsp.toml");
    std::fs::write(&cfg, "[admin]\nlisten = \"nowhere\"\n").unwrap();
    let out = rsp()
        .arg("--config")
        .arg(&cfg)
        .arg("--data-dir")
        .arg(tmp.path())
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("admin.listen"), "{err}");

    let out = rsp()
        .env("RSP_STORE__URL", "mysql://nope")
        .arg("--data-dir")
        .arg(tmp.path())
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("store.url"));

    let out = rsp()
        .arg("--config")
        .arg(tmp.path().join("missing.toml"))
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !tmp.path().join("data").exists(),
        "nothing created on a bad config"
    );
}

#[test]
fn config_show_prints_the_merged_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let out = rsp()
        .env("RSP_ADMIN__LISTEN", "127.0.0.1:19999")
        .arg("--data-dir")
        .arg(tmp.path())
        .args(["config", "show"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let parsed: toml::Table = text.parse().unwrap();
    assert_eq!(parsed["admin"]["listen"].as_str(), Some("127.0.0.1:19999"));
    assert_eq!(
        parsed["data_dir"].as_str(),
        Some(tmp.path().to_str().unwrap())
    );
}

#[test]
fn store_migrate_creates_the_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let out = rsp()
        .arg("--data-dir")
        .arg(tmp.path())
        .args(["store", "migrate"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tmp.path().join("rsp.sqlite").is_file());
    // Idempotent.
    let out = rsp()
        .arg("--data-dir")
        .arg(tmp.path())
        .args(["store", "migrate"])
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn pki_init_refuses_to_overwrite_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let run = |force: bool| {
        let mut c = rsp();
        c.args(["pki", "init", "--dir"])
            .arg(&dir)
            .args(["--euiccs", "1"]);
        if force {
            c.arg("--force");
        }
        c.output().unwrap()
    };
    assert!(run(false).status.success());
    assert!(dir.join("pki.json").is_file());
    let second = run(false);
    assert_eq!(second.status.code(), Some(1));
    assert!(run(true).status.success());
}

#[test]
fn help_lists_the_commands() {
    let out = rsp().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in ["serve", "pki", "config", "store"] {
        assert!(text.contains(cmd), "{text}");
    }
}

#[test]
fn catalogue_table_json_wsdl_and_xsd() {
    let out = rsp().arg("catalogue").output().unwrap();
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.lines().next().unwrap().starts_with("INTERFACE"));
    assert!(table.contains("EnableProfile"));
    assert!(table.trim_end().ends_with("85 functions"), "{table}");

    let out = rsp().args(["catalogue", "--json"]).output().unwrap();
    assert!(out.status.success());
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 85);
    for key in ["interface", "function", "pattern", "roles"] {
        assert!(
            rows.iter().all(|r| r.get(key).is_some()),
            "every row has {key}"
        );
    }
    let es4: Vec<_> = rows.iter().filter(|r| r["interface"] == "ES4").collect();
    assert_eq!(es4.len(), 23);

    let out = rsp().args(["catalogue", "--wsdl", "es4"]).output().unwrap();
    assert!(out.status.success());
    let wsdl = String::from_utf8(out.stdout).unwrap();
    assert!(
        wsdl.contains("ES4SmSrService") && wsdl.contains("EnableProfile"),
        "{wsdl}"
    );
    let out = rsp().args(["catalogue", "--xsd", "ES4A"]).output().unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("ES4A-SetPLMARequest")
    );

    let out = rsp().args(["catalogue", "--wsdl", "es9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown interface"));
}
