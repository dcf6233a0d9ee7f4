//! Notify: telling the outside world about state changes, as keepalived does, through
//! per-state commands and the generic `notify` command (run in order per instance, never
//! blocking the state machine; see [`dispatch`]) and an optional notify FIFO in keepalived's
//! line format (see [`fifo`]). Commands run through [`crate::health::command`]: as the script
//! user, with a timeout that kills their process group.
//!
//! ```no_run
//! # async fn daemon() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use vipd::health::{CommandSpec, ScriptUser};
//! use vipd::notify::*;
//!
//! let (notifier, done) = Notifier::start(Some("/run/vipd/notify.fifo".into()))?;
//! let user = ScriptUser::lookup("keepalived_script", None)?;
//! let vi_1 = Arc::new(NotifyTarget {
//!     subject: Subject::Instance,
//!     name: "VI_1".into(),
//!     commands: NotifyCommands {
//!         master: Some(CommandSpec {
//!             argv: vec!["/etc/vipd/to-master.sh".into()],
//!             user: Some(user),
//!             timeout: Duration::from_secs(10),
//!         }),
//!         ..NotifyCommands::default()
//!     },
//! });
//! // From the state machine's thread: returns at once.
//! notifier.notify(&vi_1, NotifyState::Master, 100);
//! // At shutdown, after the STOP notifications:
//! drop(notifier);
//! done.wait().await;
//! # Ok(())
//! # }
//! ```

pub mod dispatch;
pub mod fifo;

pub use dispatch::{Notifier, NotifierDone, NotifyCommands, NotifyState, NotifyTarget, Subject};
pub use fifo::NotifyFifoError;

#[cfg(test)]
mod tests;
