//! One run of one check: dispatching to the TCP, HTTP or script prober, bounded by the check's
//! timeout.

use std::time::Duration;

use super::command::{self, CommandOutcome, CommandSpec};
use super::failure::ProbeFailure;
use super::http::HttpProber;
use super::tcp;

/// A check ready to run: the parts that are built once (the HTTP client, the command line).
pub(super) enum Prober {
    Tcp(std::net::SocketAddr),
    Http(HttpProber),
    Script(CommandSpec),
}

impl Prober {
    /// Runs the check once. Scripts enforce their own timeout (it must kill the process
    /// group), the built-ins are cut off here.
    pub(super) async fn run(&self, name: &str, timeout: Duration) -> Result<(), ProbeFailure> {
        match self {
            Prober::Script(spec) => match command::run(spec, &[], name).await? {
                outcome if outcome.success() => Ok(()),
                CommandOutcome::TimedOut => Err(ProbeFailure::TimedOut(timeout)),
                outcome => Err(ProbeFailure::Script(outcome)),
            },
            Prober::Tcp(addr) => bounded(timeout, tcp::probe(*addr)).await,
            Prober::Http(http) => bounded(timeout, http.probe()).await,
        }
    }
}

async fn bounded(
    timeout: Duration,
    probe: impl std::future::Future<Output = Result<(), ProbeFailure>>,
) -> Result<(), ProbeFailure> {
    tokio::time::timeout(timeout, probe)
        .await
        .unwrap_or(Err(ProbeFailure::TimedOut(timeout)))
}
