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
    for r in arr {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "scenario",
            "device_svn",
            "server_svn",
            "package_version",
            "v3_elements_sent_to_v2_peer",
            "status",
            "duration_ms",
        ] {
            assert!(keys.contains(&k), "{k} missing in {r}");
        }
        assert_eq!(r["status"], "passed", "{r}");
        assert_eq!(r["v3_elements_sent_to_v2_peer"], 0, "{r}");
    }
    let v3 = arr
        .iter()
        .find(|r| r["scenario"] == "v3 device + v3 server")
        .unwrap();
    assert_eq!(v3["package_version"], "3.1.0");
}
