//! Notify: telling the outside world about state changes, as keepalived does, through
//! per-state commands and the generic `notify` command (run in order per instance, never
//! blocking the state machine; see [`dispatch`]) and an optional notify FIFO in keepalived's
//! line format (see [`fifo`]). Commands run through [`crate::health::command`]: as the script
//! user, with a timeout that kills their process group.

pub mod dispatch;
pub mod fifo;

pub use dispatch::{Notifier, NotifierDone, NotifyCommands, NotifyState, NotifyTarget, Subject};
pub use fifo::{NotifyFifo, NotifyFifoError};

#[cfg(test)]
mod tests;
