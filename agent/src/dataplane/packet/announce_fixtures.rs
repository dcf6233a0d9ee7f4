//! What the announce plan's and the pacer's tests share: VIPs of both families, the frames
//! announcing them, and millisecond times and durations.
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::Announcement;
use crate::vrrp::Instant;

pub const V4A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
pub const V4B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 101);
pub const V6A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x64);

/// A duration of `millis` milliseconds (a delay or an interval).
pub fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// The time `millis` milliseconds after the clock's origin.
pub fn t(millis: u64) -> Instant {
    Instant::from_micros(millis * 1_000)
}

pub fn garp(vip: Ipv4Addr) -> Announcement {
    Announcement::GratuitousArp(vip)
}

pub fn na(vip: Ipv6Addr) -> Announcement {
    Announcement::UnsolicitedNa(vip)
}
