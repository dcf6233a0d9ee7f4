//! `vipd-bench`: the benchmarks behind `cargo xtask bench`.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vipd-bench")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Takeover time as the client sees it, vipd against keepalived.
    Takeover(vipd_tests::bench::Options),
}

fn main() -> ExitCode {
    let result = match Cli::parse().bench {
        Bench::Takeover(opts) => vipd_tests::bench::main(opts),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vipd-bench: {error}");
            ExitCode::FAILURE
        }
    }
}
