//! `cargo xtask bench ...`: builds everything in release mode and runs `vipd-bench` (the tests
//! crate's benchmark binary, which shares the namespace kit with the tests) as root.
use anyhow::{bail, Result};

use crate::{bootstrap, ebpf, netns, workspace};

#[derive(clap::Args)]
pub struct Options {
    /// The benchmark and its options, e.g. `takeover --trials 50` (see `cargo xtask bench
    /// takeover --help`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    args: Vec<String>,
}

pub fn run(opts: &Options) -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("cargo xtask bench needs root: it builds network namespaces and loads XDP programs");
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
    netns::remove_leftovers(netns::TEST_PREFIX)?;
    let bench = workspace::root().join("target/release/vipd-bench");
    workspace::run(
        std::process::Command::new(bench)
            .args(&opts.args)
            .current_dir(workspace::root()),
    )
}
