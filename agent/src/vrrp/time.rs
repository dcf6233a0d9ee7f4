//! Time as the protocol core sees it: an [`Instant`] on CLOCK_MONOTONIC in microseconds,
//! always supplied by the caller.
//!
//! Nothing in `vrrp/` reads a clock. The daemon passes CLOCK_MONOTONIC readings (the clock
//! `bpf_ktime_get_ns` stamps adverts with, so driver timestamps and timer wake-ups compare
//! directly); tests and the simulator pass virtual time. Microseconds are fine enough for the
//! fast mode's 10 us wire unit and a u64 of them lasts longer than any uptime.

use std::fmt;
use std::time::Duration;

/// A point on the caller's monotonic clock, in microseconds since an arbitrary origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The clock's origin (useful for tests and simulations that start at zero).
    pub const ZERO: Instant = Instant(0);

    /// An instant `micros` microseconds after the clock's origin.
    pub const fn from_micros(micros: u64) -> Self {
        Instant(micros)
    }

    /// An instant from a nanosecond reading (CLOCK_MONOTONIC, `bpf_ktime_get_ns`), truncated
    /// to microseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        Instant(nanos / 1_000)
    }

    /// Microseconds since the clock's origin.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at the end of time rather than wrapping.
    pub fn saturating_add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(duration_micros(d)))
    }

    /// How long after `earlier` this instant is; zero if it is not after it (the caller's
    /// timestamps may be slightly out of order, see the router's docs).
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// A duration in whole microseconds, saturating at `u64::MAX`.
pub(crate) fn duration_micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        let late = Instant::from_micros(u64::MAX - 1);
        assert_eq!(
            late.saturating_add(Duration::from_secs(1)).as_micros(),
            u64::MAX
        );
        let early = Instant::from_micros(5);
        assert_eq!(early.saturating_duration_since(late), Duration::ZERO);
        assert_eq!(
            Instant::from_micros(1_500).saturating_duration_since(Instant::from_micros(500)),
            Duration::from_millis(1)
        );
    }

    #[test]
    fn nanos_truncate_to_micros_and_display_is_seconds() {
        assert_eq!(Instant::from_nanos(1_234_999).as_micros(), 1_234);
        assert_eq!(Instant::from_micros(3_000_042).to_string(), "3.000042s");
    }
}
