//! `vipd-harness`: the lab and the takeover, flood, scale and ARP benchmarks, behind
//! `cargo xtask lab` and `cargo xtask bench takeover|flood|scale|arp|bfd`.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vipd-harness")]
struct Cli {
    #[command(subcommand)]
    command: Harness,
}

#[derive(Subcommand)]
enum Harness {
    /// The lab: a live VRRP group in network namespaces, with faults from the keyboard.
    Lab(vipd_tests::lab::Options),
    /// Takeover time as the client sees it, vipd against keepalived.
    Takeover(vipd_tests::bench::Options),
    /// Floods of forged, replayed and malformed adverts and echo frames at a master and a backup.
    Flood(vipd_tests::bench::flood::Options),
    /// CPU and memory for 1, 10 and 100 instances, vipd beside keepalived.
    Scale(vipd_tests::bench::scale::Options),
    /// ARP answers per second and reply latency: vipd's XDP responder against the kernel.
    Arp(vipd_tests::bench::arp::Options),
    /// vipd's and keepalived's BFD side by side at 1 ms x 3 under CPU stress, counting flaps.
    Bfd(vipd_tests::bench::bfd::Options),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Harness::Lab(opts) => vipd_tests::lab::main(opts),
        Harness::Takeover(opts) => vipd_tests::bench::main(opts),
        Harness::Flood(opts) => vipd_tests::bench::flood::main(opts),
        Harness::Scale(opts) => vipd_tests::bench::scale::main(opts),
        Harness::Arp(opts) => vipd_tests::bench::arp::main(opts),
        Harness::Bfd(opts) => vipd_tests::bench::bfd::main(opts),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vipd-harness: {error}");
            ExitCode::FAILURE
        }
    }
}
