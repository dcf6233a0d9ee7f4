//! The VRRP protocol, sans-IO: wire codec, receive-side validation, timer arithmetic and the
//! per-instance state machine (RFC 9568 VRRPv3, RFC 3768 VRRPv2).
//!
//! Nothing here opens a socket or reads a clock: inputs are `(now, event)`, outputs are
//! actions the daemon carries out. That makes the protocol deterministic and lets the
//! simulator (tests only) run many routers on a virtual clock.

pub mod time;
pub mod wire;
