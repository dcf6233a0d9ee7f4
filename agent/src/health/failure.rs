//! Why one run of a check failed (logged when the check changes state). Its own module, so the
//! probers (`tcp`, `http`) and the dispatcher (`probe`) that all return it do not import each
//! other.
use std::time::Duration;

use super::command::{CommandError, CommandOutcome};

/// Why one run of a check failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeFailure {
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    #[error("connect failed: {0}")]
    Connect(#[source] std::io::Error),
    #[error("HTTP status {got}, expected {expected}")]
    Status { got: u16, expected: String },
    #[error("HTTP request failed: {0}")]
    Http(#[source] reqwest::Error),
    #[error("script ended with {0:?}")]
    Script(CommandOutcome),
    #[error(transparent)]
    Command(#[from] CommandError),
}
