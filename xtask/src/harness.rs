//! Builds everything in release mode and runs `vipd-harness` (the tests crate's binary for the
//! lab and the benchmark, which shares the namespace kit with the tests) as root.
use anyhow::{bail, Result};
use std::process::Command;

use crate::{bootstrap, ebpf, workspace};

/// Runs `vipd-harness <command> <args>`.
pub fn run(command: &str, args: &[String]) -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!(
            "cargo xtask {command} needs root: it builds network namespaces and loads XDP programs"
        );
    }
    bootstrap::ensure()?;
    ebpf::build(&ebpf::Options { release: true })?;
    workspace::run(workspace::cargo().args([
        "build",
        "--release",
        "--package",
        "vipd",
        "--package",
        "vipd-tests",
        "--bins",
    ]))?;
    vipd_testkit::remove_leftovers()?;
    let harness = workspace::root().join("target/release/vipd-harness");
    workspace::run(
        Command::new(harness)
            .arg(command)
            .args(args)
            .current_dir(workspace::root()),
    )
}
