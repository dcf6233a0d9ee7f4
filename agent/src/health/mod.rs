//! Health: what moves an instance's priority or puts it in FAULT besides VRRP itself. Checks
//! run in-process on tokio (TCP connect, HTTP(S) GET) or as scripts, tracked files are polled,
//! and each change is reported as a [`HealthEvent`] on one channel; the daemon keeps the
//! current status of everything an instance tracks and asks [`effective_priority`] what the
//! instance's priority is. Tracked interfaces come from the netlink side and only meet this
//! module in [`Tracked::Status`].
//!
//! [`command`] (running a script as the script user with a process-group timeout) is shared
//! with the notify module.
//!
//! How the daemon wires it (the weights come from the instance's `track_script` /
//! `track_file` entries, not from the checks):
//!
//! ```no_run
//! # async fn daemon() -> Result<(), Box<dyn std::error::Error>> {
//! use std::collections::HashMap;
//! use std::time::Duration;
//! use vipd::health::*;
//!
//! let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
//! let apiserver = spawn_check(
//!     CheckSpec {
//!         name: "apiserver".into(),
//!         kind: CheckKind::Http(HttpCheck {
//!             url: "https://127.0.0.1:6443/healthz".into(),
//!             expected_status: Some(200),
//!             verify_tls: false,
//!             ca_file: None,
//!         }),
//!         interval: Duration::from_secs(1),
//!         timeout: Duration::from_secs(2),
//!         rise: 2,
//!         fall: 3,
//!         init_fail: false,
//!     },
//!     events.clone(),
//! )?;
//! let maintenance = spawn_track_file(
//!     TrackFileSpec {
//!         name: "maintenance".into(),
//!         path: "/run/vipd/maintenance".into(),
//!         poll_interval: Duration::from_millis(100),
//!     },
//!     events,
//! );
//! let mut check_status = HashMap::from([(apiserver.name().to_owned(), apiserver.snapshot().status)]);
//! let mut file_value = maintenance.value();
//! while let Some(event) = received.recv().await {
//!     match event {
//!         HealthEvent::Check { name, status } => {
//!             check_status.insert(name.to_string(), status);
//!         }
//!         HealthEvent::File { value, .. } => file_value = value,
//!     }
//!     let tracked = [
//!         Tracked::Status { weight: -50, status: check_status["apiserver"] },
//!         Tracked::File { weight: 0, value: file_value },
//!     ];
//!     match effective_priority(100, tracked) {
//!         Effective::Priority(priority) => { /* hand to the router */ }
//!         Effective::Fault => { /* enter FAULT */ }
//!         Effective::Init => { /* stay in INIT */ }
//!     }
//! }
//! # Ok(())
//! # }
//! ```

pub mod command;
mod failure;
pub mod http;
pub mod priority;
mod probe;
mod rise_fall;
pub mod runner;
pub mod script_security;
mod tcp;
pub mod track_file;

use std::sync::Arc;

pub use command::{CommandError, CommandOutcome, CommandSpec, ScriptUser, UserLookupError};
pub use failure::ProbeFailure;
pub use http::{HttpCheck, HttpSetupError};
pub use priority::{effective_priority, Effective, TrackStatus, Tracked, OWNER_PRIORITY};
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
