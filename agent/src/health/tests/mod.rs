//! Tests of the health runners against real things: listeners on 127.0.0.1, a TLS server
//! with a certificate made on the spot, real scripts. No wall-clock assertions: every wait is
//! "until it happens", bounded only by a generous [`PATIENCE`].

mod command;
mod http_check;
mod script_check;
mod script_security;
mod tcp_check;
mod track_file_watch;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

use super::{HealthEvent, TrackStatus};

/// Long enough for anything that should happen on a loaded 2-core machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// The next check event, or a test failure after [`PATIENCE`].
async fn next_check_event(events: &mut UnboundedReceiver<HealthEvent>) -> (Arc<str>, TrackStatus) {
    match tokio::time::timeout(PATIENCE, events.recv()).await {
        Ok(Some(HealthEvent::Check { name, status })) => (name, status),
        Ok(other) => panic!("expected a check event, got {other:?}"),
        Err(_) => panic!("no check event within {PATIENCE:?}"),
    }
}

/// Polls `condition` every 10 ms until it holds, failing after [`PATIENCE`].
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// True while `pid` is a live process; a zombie (killed, not yet reaped by its new parent)
/// counts as dead.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        // The state follows the parenthesised command name: "pid (comm) S ...".
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}
