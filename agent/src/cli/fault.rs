//! `vipd fault`: injects a fault into a node running vipd (this one, or another over ssh) and
//! records its time for `vipd probe --faults`.
use anyhow::{anyhow, Result};
use std::path::PathBuf;

use crate::measure::fault::{
    local::{LocalNode, Target},
    record,
    remote::{self, Remote},
    FaultKind,
};

#[derive(clap::Args)]
pub struct Options {
    /// The fault: `stop` (SIGTERM), `kill9`, `freeze` (SIGSTOP), `thaw` (SIGCONT), `link-down`,
    /// `link-up`.
    #[arg(value_enum)]
    kind: FaultKind,
    /// The interface of `link-down`/`link-up`; by default the one vipd's instances run on.
    #[arg(long, value_name = "IF")]
    interface: Option<String>,
    /// Inject it on this host instead, through ssh (`vipd fault` must be installed there). The
    /// fault is timed on this host's clock, to within half the ssh session's round trip, which
    /// is printed and recorded.
    #[arg(long, value_name = "USER@HOST")]
    ssh: Option<String>,
    /// The ssh command and its options, with --ssh.
    #[arg(long, value_name = "COMMAND", default_value = "ssh", requires = "ssh")]
    ssh_command: String,
    /// The vipd command on the remote host, with --ssh (`sudo vipd` for a non-root login).
    #[arg(long, value_name = "COMMAND", default_value = "vipd", requires = "ssh")]
    remote_vipd: String,
    /// The local vipd's control socket: where its pid (and default interface) come from.
    #[arg(long, value_name = "PATH", default_value = "/run/vipd/vipd.sock")]
    control_socket: PathBuf,
    /// The local vipd's --pid-file, to take its pid from instead.
    #[arg(long, value_name = "PATH")]
    pid_file: Option<PathBuf>,
    /// Append the fault's record (a JSON line) to this file, for `vipd probe --faults`.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Find the target, print a ready line, inject the fault when a line arrives on stdin and
    /// print its record: the remote side of --ssh.
    #[arg(long, conflicts_with = "ssh")]
    on_stdin: bool,
}

pub fn run(opts: Options) -> Result<()> {
    let record = match &opts.ssh {
        Some(destination) => {
            let split = |text: &str| {
                shlex::split(text).ok_or_else(|| anyhow!("cannot split the command {text:?}"))
            };
            let remote = Remote {
                destination: destination.clone(),
                ssh: split(&opts.ssh_command)?,
                vipd: split(&opts.remote_vipd)?,
            };
            remote.inject(opts.kind, &forwarded(&opts))?
        }
        None => {
            let node = LocalNode {
                control_socket: opts.control_socket.clone(),
                pid_file: opts.pid_file.clone(),
                interface: opts.interface.clone(),
            };
            let target = Target::resolve(opts.kind, &node)?;
            if opts.on_stdin {
                return remote::serve_on_stdin(&target, opts.kind);
            }
            target.inject_recorded(opts.kind)?
        }
    };
    let round_trip = record
        .ssh_round_trip_ns
        .map(|ns| {
            format!(
                " (ssh round trip {}, so ± {})",
                crate::measure::stats::human_us(ns as f64 / 1e3),
                crate::measure::stats::human_us(record.uncertainty_ns as f64 / 1e3)
            )
        })
        .unwrap_or_default();
    println!(
        "{}  {} on {} ({}){round_trip}",
        record.at, record.kind, record.host, record.target
    );
    if let Some(path) = &opts.log {
        record::append(path, &record).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// The options the remote `vipd fault` needs to find its target.
fn forwarded(opts: &Options) -> Vec<String> {
    let mut args = vec![
        "--control-socket".to_string(),
        opts.control_socket.display().to_string(),
    ];
    if let Some(interface) = &opts.interface {
        args.extend(["--interface".to_string(), interface.clone()]);
    }
    if let Some(pid_file) = &opts.pid_file {
        args.extend(["--pid-file".to_string(), pid_file.display().to_string()]);
    }
    args
}
