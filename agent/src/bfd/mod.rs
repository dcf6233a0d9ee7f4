//! BFD, Bidirectional Forwarding Detection (RFC 5880, single hop over UDP per RFC 5881),
//! sans-IO: the Control packet codec ([`wire`]) and one session's state machine
//! ([`session`]). Nothing here opens a socket or reads a clock; the daemon's BFD thread
//! (`daemon::bfd`) does both and feeds session state changes to `track_bfd`.

pub mod session;
pub mod wire;

pub use session::{DropReason, Event, Session, SessionConfig, SessionStats};
pub use wire::{ControlRepr, Diag, State};
