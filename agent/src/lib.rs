//! vipd: a VRRP failover agent whose XDP program makes takeover sub-millisecond.

pub mod cli;
pub mod config;
pub mod control;
pub mod dataplane;
pub mod vrrp;
