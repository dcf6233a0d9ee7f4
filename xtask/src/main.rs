//! `cargo xtask`: the project's own commands: build the eBPF object, run every test, run the lab,
//! package the static binary and its image.
//!
//! Each command first makes sure the machine has what it needs (`scripts/bootstrap.sh`, which is
//! idempotent and quick when everything is present), so a newcomer never has to remember it.
mod bench;
mod bootstrap;
mod ebpf;
mod fuzz;
mod harness;
mod lab;
mod package;
mod test;
mod workspace;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "vipd's build, test and lab commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the XDP program for bpfel-unknown-none (nightly, build-std, bpf-linker, BTF).
    BuildEbpf(ebpf::Options),
    /// Run every test: lints, unit tests and the kernel tests in network namespaces (as root).
    Test(test::Options),
    /// The lab: a switch, N vipd nodes and a client in network namespaces, live, with faults
    /// from the keyboard or `--scenario`.
    Lab(lab::Options),
    /// Benchmarks (figures, never asserted): `takeover` (vipd against keepalived) and `arp`
    /// (vipd's XDP ARP responder against the kernel's ARP).
    #[command(subcommand)]
    Bench(bench::Bench),
    /// Build the static vipd binary and its image's build context (and the image, with --image).
    Package(package::Options),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::BuildEbpf(opts) => {
            bootstrap::ensure()?;
            ebpf::build(&opts)
        }
        Command::Test(opts) => test::run(&opts),
        Command::Lab(opts) => lab::run(&opts),
        Command::Bench(which) => bench::run(&which),
        Command::Package(opts) => package::run(&opts),
    }
}
