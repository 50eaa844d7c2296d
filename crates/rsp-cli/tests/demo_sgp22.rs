//! `rsp demo sgp22 --json`: six pairings, all passing, a JSON array with the documented keys on
//! stdout and nothing else, exit 0.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn demo_json_reports_six_passing_pairings() {
    let data = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rsp"));
    // The test environment's own RSP_TEST_… variables are not rsp configuration.
    for (k, _) in std::env::vars() {
        if k.starts_with("RSP_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .args(["demo", "sgp22", "--json"])
        .env("RSP_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 6);
    let names: Vec<&str> = rsp_interop::PAIRINGS.iter().map(|p| p.scenario).collect();
    for (r, name) in arr.iter().zip(names) {
        // Exactly the documented keys, nothing else.
        let mut keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "device_svn",
                "duration_ms",
                "package_version",
                "scenario",
                "server_svn",
                "status",
                "v3_elements_sent_to_v2_peer",
            ],
            "{r}"
        );
        assert_eq!(r["scenario"], name);
        assert_eq!(r["status"], "passed", "{r}");
        assert_eq!(r["v3_elements_sent_to_v2_peer"], 0, "{r}");
        assert!(r["duration_ms"].as_u64().unwrap() > 0, "{r}");
        if r["scenario"] != "v3 device + v3 server" {
            assert_eq!(r["package_version"], "2.3.0", "{r}");
        }
    }
    // Progress went to stderr.
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains("[6/6] passed"), "{progress}");
    let v3 = arr
        .iter()
        .find(|r| r["scenario"] == "v3 device + v3 server")
        .unwrap();
    assert_eq!(v3["package_version"], "3.1.0");
}

/// When the demo cannot run at all (no usable temporary directory), it says so on stderr,
/// prints nothing on stdout and exits non-zero.
#[test]
fn demo_exits_non_zero_when_it_cannot_run() {
    let data = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rsp"));
    for (k, _) in std::env::vars() {
        if k.starts_with("RSP_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .args(["demo", "sgp22", "--json"])
        .env("RSP_DATA_DIR", data.path())
        .env("TMPDIR", data.path().join("does-not-exist"))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!out.stderr.is_empty());
}
