//! Health: what moves an instance's priority or puts it in FAULT besides VRRP itself. Checks
//! run in-process on tokio (TCP connect, HTTP(S) GET) or as scripts, tracked files are polled,
//! and each change is reported as a [`HealthEvent`] on one channel; the daemon keeps the
//! current status of everything an instance tracks and asks [`effective_priority`] what the
//! instance's priority is. Tracked interfaces come from the netlink side and only meet this
//! module in [`Tracked::Status`].
//!
//! [`command`] (running a script as the script user with a process-group timeout) is shared
//! with the notify module.

pub mod command;
pub mod http;
pub mod priority;
mod probe;
mod rise_fall;
pub mod runner;
mod tcp;
pub mod track_file;

use std::sync::Arc;

pub use command::{CommandError, CommandOutcome, CommandSpec, ScriptUser, UserLookupError};
pub use http::{HttpCheck, HttpSetupError};
pub use priority::{effective_priority, Effective, TrackStatus, Tracked, OWNER_PRIORITY};
pub use probe::ProbeFailure;
pub use runner::{spawn_check, CheckHandle, CheckKind, CheckSetupError, CheckSnapshot, CheckSpec};
pub use track_file::{spawn_track_file, TrackFileHandle, TrackFileSpec};

/// A change in something instances track, sent by check runners and file watchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthEvent {
    /// A check went up or down (after rise / fall).
    Check { name: Arc<str>, status: TrackStatus },
    /// A tracked file now holds this value.
    File { name: Arc<str>, value: i64 },
}

#[cfg(test)]
mod tests;
