//! The two clocks the status shows: CLOCK_MONOTONIC (the clock of the engine's
//! [`Instant`]s and of the XDP driver timestamps) for ages, and the wall clock for people.

use std::time::SystemTime;

use crate::vrrp::Instant;

/// The wall-clock time of a monotonic instant in the past (or now, if `at` is not in the past).
pub fn wall_clock_of(at: Instant) -> SystemTime {
    let age = crate::clock::now().saturating_duration_since(at);
    SystemTime::now()
        .checked_sub(age)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-21T21:04:05.123Z`.
pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// Seconds from `earlier` to `now` on the monotonic clock, zero if `earlier` is not earlier.
pub fn seconds_between(earlier: Instant, now: Instant) -> f64 {
    now.saturating_duration_since(earlier).as_secs_f64()
}
