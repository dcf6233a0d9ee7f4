//! The VRRP protocol, sans-IO: wire codec, receive-side validation, timer arithmetic and the
//! per-instance state machine (RFC 9568 VRRPv3, RFC 3768 VRRPv2).
//!
//! Nothing here opens a socket or reads a clock: inputs are `(now, event)`, outputs are
//! actions the daemon carries out. That makes the protocol deterministic and lets the
//! simulator (tests only, `sim`) run many routers on a virtual clock.
//!
//! The daemon's receive path for one instance:
//! ```text
//! match router.validate(&RxMeta { src, dst, ttl }, payload, wall_clock_now) {
//!     Ok(advert) => router.handle_advert(seen_at, &advert),
//!     Err(reason) => { /* already counted in router.drop_counters() */ }
//! }
//! while let Some(action) = router.poll_action() { /* carry it out */ }
//! // sleep until router.poll_timeout(), then router.handle_timeout(now)
//! ```

pub mod auth_ah;
pub mod auth_hmac;
pub mod budget;
pub mod config;
pub mod fast_mode;
pub mod liveness;
pub mod router;
pub mod time;
pub mod timers;
pub mod validate;
pub mod wire;

#[cfg(test)]
mod keepalived_interop;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod test_support;

pub use config::{ConfigError, Preempt, RouterConfig, Version};
pub use liveness::EchoConfig;
pub use router::{Action, PeerInfo, Router, RouterStats, State, TransitionReason, OWNER_PRIORITY};
pub use time::Instant;
pub use validate::{DropCounters, DropReason, RxMeta, ValidAdvert};
