//! The `vipd` command line: one module per subcommand, each a thin layer over the library.
mod check_config;
mod cleanup;
mod import_keepalived;
mod run;
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
    /// Log lines for people (`human`, the default) or for log collectors (`json`, one object
    /// per line); for `vipd run` this overrides the configuration's `log_format`.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon.
    Run(run::Options),
    /// Validate a configuration file without touching the system (like keepalived -t).
    CheckConfig(check_config::Options),
    /// Print a keepalived.conf as vipd.toml; what vipd does not run is listed on stderr.
    ImportKeepalived(import_keepalived::Options),
    /// Show the VRRP adverts arriving on an interface, as vipd's XDP program stamps them.
    Watch(watch::Options),
    /// Show every VRRP instance of the running vipd (state, priorities, master, adverts, drops).
    Status(status::Options),
    /// Remove the VIPs and virtual MAC interfaces a vipd that did not stop cleanly left behind
    /// (the systemd unit runs this in ExecStopPost).
    Cleanup(cleanup::Options),
}

/// Runs the command and turns its error into one readable line and a failing exit code.
pub fn main(cli: Cli) -> ExitCode {
    // `vipd run` starts logging once it has read the configuration's log_format.
    if !matches!(cli.command, Command::Run(_)) {
        init_logging(cli.log_format.unwrap_or(LogFormat::Human));
    }
    let result = match cli.command {
        Command::Run(opts) => run::run(opts, cli.log_format),
        Command::CheckConfig(opts) => check_config::run(opts),
        Command::ImportKeepalived(opts) => import_keepalived::run(opts),
        Command::Watch(opts) => watch::run(opts),
        Command::Status(opts) => status::run(opts),
        Command::Cleanup(opts) => cleanup::run(opts),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vipd: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => builder.json().init(),
    }
}
