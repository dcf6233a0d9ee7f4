//! `cargo xtask bench ...`. `takeover` builds everything in release mode and runs `vipd-bench`
//! (the tests crate's benchmark binary, which shares the namespace kit with the tests);
//! `arp` is [`crate::bench_arp`].
use anyhow::{bail, Result};

use crate::{bench_arp, bootstrap, ebpf, netns, workspace};

#[derive(clap::Subcommand)]
pub enum Bench {
    /// Takeover as a client sees it: vipd (XDP), vipd (socket) and keepalived, under cable
    /// pull, kill -9, SIGSTOP and graceful stop; or `--soak 10m` under CPU stress.
    Takeover(Passthrough),
    /// ARP answers per second and reply latency: vipd's XDP responder against the kernel.
    Arp(bench_arp::Options),
}

/// Options handed to `vipd-bench takeover` unchanged (`--help` lists them).
#[derive(clap::Args)]
pub struct Passthrough {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

pub fn run(which: &Bench) -> Result<()> {
    match which {
        Bench::Takeover(passthrough) => takeover(&passthrough.args),
        Bench::Arp(opts) => bench_arp::run(opts),
    }
}

fn takeover(args: &[String]) -> Result<()> {
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
            .arg("takeover")
            .args(args)
            .current_dir(workspace::root()),
    )
}
