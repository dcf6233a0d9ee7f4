//! The `vipd` command line: one module per subcommand, each a thin layer over the library.
mod check_config;
mod cleanup;
mod echo;
mod fault;
mod generate;
mod import_keepalived;
mod import_openshift_ipfailover;
mod imported;
mod probe;
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
    /// Print as vipd.toml what OpenShift's ipfailover image would run from this environment
    /// (`OPENSHIFT_HA_*`); what vipd does not run is listed on stderr.
    ImportOpenshiftIpfailover(import_openshift_ipfailover::Options),
    /// Show the VRRP adverts arriving on an interface, as vipd's XDP program stamps them.
    Watch(watch::Options),
    /// Show every VRRP instance of the running vipd (state, priorities, master, adverts, drops).
    Status(status::Options),
    /// Remove the VIPs and virtual MAC interfaces a vipd that did not stop cleanly left behind
    /// (the systemd unit runs this in ExecStopPost).
    Cleanup(cleanup::Options),
    /// Probe the VIP as a client does and report each outage and takeover
    /// (docs/measure-takeover.md).
    Probe(probe::Options),
    /// Answer `vipd probe` with this node's name (run it on every node).
    Echo(echo::Options),
    /// Inject a fault into vipd or its link, here or on another host over ssh, and record its
    /// time for `vipd probe --faults`.
    Fault(fault::Options),
    /// Write vipd's man pages into a directory (for packagers: `cargo xtask package --deb`).
    #[command(hide = true)]
    Man(generate::ManOptions),
    /// Print a shell completion script (for packagers: `cargo xtask package --deb`).
    #[command(hide = true)]
    Completions(generate::CompletionsOptions),
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
        Command::ImportOpenshiftIpfailover(opts) => import_openshift_ipfailover::run(opts),
        Command::Watch(opts) => watch::run(opts),
        Command::Status(opts) => status::run(opts),
        Command::Cleanup(opts) => cleanup::run(opts),
        Command::Probe(opts) => probe::run(opts),
        Command::Echo(opts) => echo::run(opts),
        Command::Fault(opts) => fault::run(opts),
        Command::Man(opts) => generate::man(opts),
        Command::Completions(opts) => generate::completions(opts),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vipd: {}", describe(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each once. Most of vipd's errors quote their source in
/// their own message already, and anyhow's `{:#}` would print it a second time.
pub fn describe(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
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

#[cfg(test)]
mod tests {
    use super::describe;
    use anyhow::Context;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot listen on {path}: {source}")]
    struct Quoting {
        path: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn a_quoted_cause_is_printed_once_and_context_is_kept() {
        let error = Err::<(), _>(Quoting {
            path: "/run/vipd/vipd.sock",
            source: std::io::Error::from_raw_os_error(libc::EADDRINUSE),
        })
        .context("starting")
        .unwrap_err();
        assert_eq!(
            describe(&error),
            "starting: cannot listen on /run/vipd/vipd.sock: Address already in use (os error 98)"
        );
    }
}
