//! vipd: a VRRP failover agent whose XDP program makes takeover sub-millisecond.
pub mod health;
pub mod notify;
