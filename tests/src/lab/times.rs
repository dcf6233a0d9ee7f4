//! Times as a person reads them: the wall clock (HH:MM:SS), ages ("3.2 s ago") and durations
//! (`stats::human_us`). The lab keeps every instant on CLOCK_MONOTONIC, the clock the probe and
//! vipd's log stamp with; only here does one become something to read.
use chrono::{DateTime, FixedOffset, Local, TimeDelta};

use crate::{bench::stats::human_us, clock::monotonic_ns};

/// One instant on both clocks, taken once per screen so that every time on it agrees.
#[derive(Clone, Copy, Debug)]
pub struct Now {
    pub mono_ns: u64,
    pub wall: DateTime<FixedOffset>,
}

impl Now {
    pub fn sample() -> Self {
        Self {
            mono_ns: monotonic_ns(),
            wall: Local::now().fixed_offset(),
        }
    }

    /// The wall-clock time of the monotonic instant `at_ns`, HH:MM:SS in local time.
    pub fn clock_of(&self, at_ns: u64) -> String {
        let back = TimeDelta::nanoseconds(self.mono_ns as i64 - at_ns as i64);
        (self.wall - back).format("%H:%M:%S").to_string()
    }

    /// How long ago `at_ns` was: "0.4 s ago", "12 s ago", "3 min ago".
    pub fn ago(&self, at_ns: u64) -> String {
        let seconds = self.mono_ns.saturating_sub(at_ns) as f64 / 1e9;
        if seconds < 10.0 {
            format!("{seconds:.1} s ago")
        } else if seconds < 120.0 {
            format!("{seconds:.0} s ago")
        } else {
            format!("{:.0} min ago", seconds / 60.0)
        }
    }
}

/// The span from `from_ns` to `to_ns` as `stats::human_us` writes it ("682 us", "1.30 ms").
pub fn span(from_ns: u64, to_ns: u64) -> String {
    human_us((to_ns as f64 - from_ns as f64) / 1e3)
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use chrono::TimeZone;

    /// 12:00:00 (UTC) at monotonic 100 s.
    pub fn noon() -> Now {
        Now {
            mono_ns: 100_000_000_000,
            wall: FixedOffset::east_opt(0)
                .expect("UTC")
                .with_ymd_and_hms(2026, 12, 6, 12, 0, 0)
                .single()
                .expect("a valid time"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{fixtures::noon, *};

    #[test]
    fn monotonic_instants_read_as_wall_clock_and_ages() {
        let mut now = noon();
        now.mono_ns *= 10;
        assert_eq!(now.clock_of(now.mono_ns), "12:00:00");
        assert_eq!(now.clock_of(now.mono_ns - 65_500_000_000), "11:58:54");
        assert_eq!(now.ago(now.mono_ns - 3_200_000_000), "3.2 s ago");
        assert_eq!(now.ago(now.mono_ns - 42_000_000_000), "42 s ago");
        assert_eq!(now.ago(now.mono_ns - 300_000_000_000), "5 min ago");
        assert_eq!(now.ago(now.mono_ns + 1), "0.0 s ago");
    }

    #[test]
    fn spans_read_as_durations() {
        assert_eq!(span(1_000, 683_000), "682 us");
        assert_eq!(span(0, 1_300_000), "1.30 ms");
        assert_eq!(span(0, 3_300_000_000), "3.30 s");
    }
}
