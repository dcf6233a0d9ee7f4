//! The `vipd` command line: one module per subcommand, each a thin layer over the library.
mod check_config;
mod status;
mod watch;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "vipd",
    version,
    about = "VRRP failover agent with an XDP fast path"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a configuration file without touching the system (like keepalived -t).
    CheckConfig(check_config::Options),
    /// Show the VRRP adverts arriving on an interface, as vipd's XDP program stamps them.
    Watch(watch::Options),
    /// Show every VRRP instance of the running vipd (state, priorities, master, adverts, drops).
    Status(status::Options),
}

/// Runs the command and turns its error into one readable line and a failing exit code.
pub fn main(cli: Cli) -> ExitCode {
    init_logging();
    let result = match cli.command {
        Command::CheckConfig(opts) => check_config::run(opts),
        Command::Watch(opts) => watch::run(opts),
        Command::Status(opts) => status::run(opts),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vipd: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
}
