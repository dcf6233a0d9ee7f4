//! `cargo xtask bench ...`: `takeover` runs `vipd-harness takeover` (see [`crate::harness`]);
//! `arp` is [`crate::bench_arp`].
use anyhow::Result;

use crate::{bench_arp, harness};

#[derive(clap::Subcommand)]
pub enum Bench {
    /// Takeover as a client sees it: vipd (XDP), vipd (socket) and keepalived, under cable
    /// pull, kill -9, SIGSTOP and graceful stop; or `--soak 10m` under CPU stress.
    Takeover(Passthrough),
    /// ARP answers per second and reply latency: vipd's XDP responder against the kernel.
    Arp(bench_arp::Options),
}

/// Options handed to `vipd-harness takeover` unchanged (`--help` lists them).
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
    harness::run("takeover", args)
}
