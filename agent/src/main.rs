//! The `vipd` command line.
use clap::Parser;

fn main() -> std::process::ExitCode {
    vipd::cli::main(vipd::cli::Cli::parse())
}
