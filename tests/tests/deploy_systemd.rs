//! deploy/systemd/vipd.service through `systemd-analyze verify` (systemd's own parser: unknown
//! directives, bad values, commands that do not exist), without booting systemd.
mod deploy_support;

use std::process::Command;

use deploy_support::{repo, run_ok, target_dir, verify_unit, vipd_binary};

/// Where the unit expects the binary (docs/systemd.md installs it there).
const INSTALLED_VIPD: &str = "/usr/local/sbin/vipd";

#[test]
fn the_unit_passes_systemd_analyze_verify() {
    let unit = std::fs::read_to_string(repo().join("deploy/systemd/vipd.service"))
        .expect("deploy/systemd/vipd.service");
    assert!(unit.contains(INSTALLED_VIPD));
    let vipd = vipd_binary();
    let dir = target_dir().join("deploy-test/systemd");
    std::fs::create_dir_all(&dir).expect("create the test directory");
    verify_unit(&unit, INSTALLED_VIPD, &vipd, &dir.join("vipd.service"));

    // ExecStartPre and ExecReload run this; the configuration the docs install must pass it.
    run_ok(
        Command::new(&vipd)
            .arg("check-config")
            .arg(repo().join("agent/conf/vipd.toml")),
    );
}

#[test]
fn the_unit_is_hardened() {
    let unit = repo().join("deploy/systemd/vipd.service");
    let output = run_ok(
        Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--threshold=30"])
            .arg(&unit),
    );
    // The overall exposure is 0.0 (locked down) to 10.0 (none); vipd needs raw sockets, BPF and
    // network administration as root, and measures 2.7 (threshold 3.0, "OK").
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("Overall exposure level"), "{said}");
}
