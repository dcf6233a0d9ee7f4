//! What the deploy tests share: where the repository and its build outputs are, commands that
//! must succeed, and the vipd binary they run.
#![allow(dead_code)] // Each deploy test uses its own part of this.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
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

/// Runs `command`, panicking with its output unless it exits 0.
pub fn run_ok(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

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
