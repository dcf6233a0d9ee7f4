//! `cargo xtask bench ...`: each runs the `vipd-harness` command of the same name (see
//! [`crate::harness`]); the benchmarks live in `tests/src/bench/`.
use anyhow::Result;

use crate::harness;

#[derive(clap::Subcommand)]
pub enum Bench {
    /// Takeover as a client sees it: vipd (XDP), vipd (socket) and keepalived, under cable
    /// pull, kill -9, SIGSTOP and graceful stop; or `--soak 10m` under CPU stress.
    Takeover(Passthrough),
    /// Floods of forged, replayed and malformed adverts and echo frames at a master and a
    /// backup, auth_hmac off and on: CPU, memory, counters, and whether any state moved.
    Flood(Passthrough),
    /// CPU and memory per node for 1, 10 and 100 instances at vipd's fast intervals, beside
    /// keepalived with as many instances at its fastest (10 ms).
    Scale(Passthrough),
    /// ARP answers per second and reply latency: vipd's XDP responder against the kernel
    /// (`--each 1.5s`: the time spent on each of the four measurements).
    Arp(Passthrough),
    /// vipd's and keepalived's BFD side by side (1 ms x 3 by default) under `stress-ng --cpu 2`
    /// for `--duration 10m`, counting each side's flaps.
    Bfd(Passthrough),
}

/// Options handed to `vipd-harness takeover`, `flood`, `scale`, `arp` or `bfd` unchanged (`--help`
/// lists them).
#[derive(clap::Args)]
pub struct Passthrough {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

pub fn run(which: &Bench) -> Result<()> {
    match which {
        Bench::Takeover(passthrough) => harness::run("takeover", &passthrough.args),
        Bench::Flood(passthrough) => harness::run("flood", &passthrough.args),
        Bench::Scale(passthrough) => harness::run("scale", &passthrough.args),
        Bench::Arp(passthrough) => harness::run("arp", &passthrough.args),
        Bench::Bfd(passthrough) => harness::run("bfd", &passthrough.args),
    }
}
