//! The measurement's clocks. The probe stamps answers on CLOCK_MONOTONIC (immune to the wall
//! clock's steps); faults are recorded on CLOCK_REALTIME, the one clock two processes (or two
//! hosts, within their synchronisation) share; [`Offset`] turns one into the other.
use nix::time::{clock_gettime, ClockId};
use std::time::{Duration, UNIX_EPOCH};

/// Now on CLOCK_MONOTONIC, in nanoseconds.
pub fn monotonic_ns() -> u64 {
    read(ClockId::CLOCK_MONOTONIC)
}

/// Now on CLOCK_REALTIME, in nanoseconds since the epoch.
pub fn realtime_ns() -> u64 {
    read(ClockId::CLOCK_REALTIME)
}

fn read(clock: ClockId) -> u64 {
    let ts = clock_gettime(clock).expect("CLOCK_MONOTONIC and CLOCK_REALTIME are always readable");
    ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64
}

/// A CLOCK_REALTIME time as RFC 3339 UTC with microseconds: `2026-12-06T21:03:04.123456Z`.
pub fn rfc3339(realtime_ns: u64) -> String {
    humantime::format_rfc3339_micros(UNIX_EPOCH + Duration::from_nanos(realtime_ns)).to_string()
}

/// CLOCK_REALTIME minus CLOCK_MONOTONIC, in nanoseconds. It moves only when the wall clock is
/// slewed or stepped, so one sample converts stamps of the next seconds to within microseconds.
#[derive(Clone, Copy, Debug)]
pub struct Offset(i128);

impl Offset {
    /// The offset now: the reading pair with the narrowest realtime window out of a few.
    pub fn sample() -> Self {
        let mut best: Option<(u64, i128)> = None;
        for _ in 0..5 {
            let before = realtime_ns();
            let mono = monotonic_ns();
            let after = realtime_ns();
            let width = after.saturating_sub(before);
            let offset = ((before as i128 + after as i128) / 2) - mono as i128;
            if best.is_none_or(|(w, _)| width < w) {
                best = Some((width, offset));
            }
        }
        Self(best.expect("five samples").1)
    }

    /// A fixed offset, for tests whose stamps must not depend on when the machine booted.
    pub fn of_ns(realtime_minus_monotonic: i128) -> Self {
        Self(realtime_minus_monotonic)
    }

    /// A CLOCK_REALTIME time (ns since the epoch) on CLOCK_MONOTONIC.
    pub fn monotonic_of(self, realtime_ns: u64) -> u64 {
        (realtime_ns as i128 - self.0).max(0) as u64
    }

    /// A CLOCK_MONOTONIC time on CLOCK_REALTIME (ns since the epoch).
    pub fn realtime_of(self, monotonic_ns: u64) -> u64 {
        (monotonic_ns as i128 + self.0).max(0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_round_trips_now() {
        let offset = Offset::sample();
        let mono = monotonic_ns();
        let back = offset.monotonic_of(realtime_ns());
        assert!(
            back >= mono && back - mono < 1_000_000_000,
            "{back} vs {mono}"
        );
        assert_eq!(offset.monotonic_of(offset.realtime_of(mono)), mono);
    }

    #[test]
    fn rfc3339_has_microseconds() {
        // date -u -d 2026-12-01T22:49:05Z +%s = 1796165345
        assert_eq!(
            rfc3339(1_796_165_345_123_456_789),
            "2026-12-01T22:49:05.123456Z"
        );
    }
}
