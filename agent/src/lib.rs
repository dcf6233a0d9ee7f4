//! vipd: a VRRP failover agent whose XDP program makes takeover sub-millisecond.

pub mod bfd;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod daemon;
pub mod dataplane;
pub mod family;
pub mod health;
mod lock_file;
pub mod measure;
pub mod notify;
pub mod vrrp;
