//! Dropped adverts in the log. keepalived logs every refused advert with its reason, which is
//! what an operator looks for when two routers disagree (a wrong key, a VRRP version or an
//! interval mismatch); but a flood would then write a line per packet. So the first drop is
//! logged at once and then at most one line per [`QUIET`], saying how many went unlogged; the
//! drop counters (`vipd status`, the metrics) count every one.
use std::time::Duration;

use crate::vrrp::Instant;

/// The least time between two drop lines of one instance.
pub const QUIET: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub struct DropLog {
    /// When the last line was written; `None` before the first drop.
    last_line: Option<Instant>,
    /// Drops since that line that were not logged.
    unlogged: u64,
}

impl DropLog {
    /// An advert was dropped at `now`. `Some(n)` when a line is due, `n` being the drops that
    /// went unlogged before this one.
    pub fn note(&mut self, now: Instant) -> Option<u64> {
        let due = self
            .last_line
            .is_none_or(|last| now.saturating_duration_since(last) >= QUIET);
        if !due {
            self.unlogged += 1;
            return None;
        }
        self.last_line = Some(now);
        Some(std::mem::take(&mut self.unlogged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_writes_one_line_per_quiet_period_and_counts_the_rest() {
        let mut log = DropLog::default();
        assert_eq!(
            log.note(Instant::from_micros(5)),
            Some(0),
            "the first at once"
        );
        for i in 0..1_000 {
            assert_eq!(log.note(Instant::from_micros(10 + i)), None);
        }
        let later = Instant::from_micros(5).saturating_add(QUIET);
        assert_eq!(log.note(later), Some(1_000));
        assert_eq!(log.note(later.saturating_add(QUIET)), Some(0));
    }
}
