//! vipd: a VRRP failover agent whose XDP program makes takeover sub-millisecond.

pub mod cli;
mod clock;
pub mod config;
pub mod control;
pub mod daemon;
pub mod dataplane;
pub mod health;
pub mod notify;
pub mod vrrp;

#[cfg(test)]
mod test_netns;
