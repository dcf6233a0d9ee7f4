//! What the deploy tests share: where the repository and its build outputs are, commands that
//! must succeed, and the vipd binary they run.
#![allow(dead_code)] // Each deploy test uses its own part of this.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

/// The repository's root (the workspace).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// The workspace's target directory, where the tests keep what they build or install.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"))
}

pub use vipd_testkit::run_ok;

/// The `cargo` that runs this test (so the same toolchain builds what the test needs).
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(repo());
    command
}

/// The debug vipd binary, built (or found up to date) by cargo.
pub fn vipd_binary() -> PathBuf {
    run_ok(cargo().args(["build", "--quiet", "-p", "vipd", "--bin", "vipd"]));
    target_dir().join("debug/vipd")
}

/// Runs `systemd-analyze verify` on `unit` (its text) and requires silence: verify exits 0 on
/// some warnings. verify insists that every Exec command exists, and the binary the unit names
/// at `installed` is not installed on this machine, so a copy at `copy` points at `vipd`
/// instead; nothing else changes.
pub fn verify_unit(unit: &str, installed: &str, vipd: &Path, copy: &Path) {
    std::fs::write(copy, unit.replace(installed, vipd.to_str().expect("path")))
        .expect("write the unit's copy");
    let output = run_ok(
        Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(copy),
    );
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.trim().is_empty(), "systemd-analyze verify: {said}");
}

/// The package that ships the Kubernetes JSON schemas (1.25 to 1.37), pinned so that a new
/// release cannot change what passes.
const KUBERNETES_VALIDATE: &str = "kubernetes-validate==1.37.0";
/// A venv with kubernetes-validate, made once under target/ and reused.
fn validate_venv() -> PathBuf {
    // The tests of one binary run on parallel threads; one of them makes the venv.
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(make_validate_venv).clone()
}

fn make_validate_venv() -> PathBuf {
    let venv = target_dir().join("deploy-venv");
    let python = venv.join("bin/python");
    let ready = python.exists()
        && Command::new(&python)
            .args(["-c", "import kubernetes_validate"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        // Debian's python3 (python3-venv) when there, else whichever python3 is first on PATH.
        let system_python = ["/usr/bin/python3", "python3"]
            .into_iter()
            .find(|p| Command::new(p).arg("--version").output().is_ok())
            .expect("python3 is needed to validate the Kubernetes manifests");
        run_ok(
            Command::new(system_python)
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
        );
        run_ok(
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .arg(KUBERNETES_VALIDATE),
        );
    }
    python
}

/// Runs check_manifests.py on deploy/kubernetes/ (schemas, and the rules it states); returns
/// its facts (`capabilities`, `probe_port`, `run_dir`, ...) and the directory it extracted the
/// ConfigMap's vipd.toml into.
pub fn check_manifests() -> (HashMap<String, String>, PathBuf) {
    let out = target_dir().join("deploy-test/kubernetes");
    let output = run_ok(
        Command::new(validate_venv())
            .arg(repo().join("tests/tests/deploy_support/check_manifests.py"))
            .arg(repo().join("deploy/kubernetes"))
            .arg(repo().join("deploy/systemd/vipd.service"))
            .arg(&out),
    );
    let facts = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (facts, out)
}
