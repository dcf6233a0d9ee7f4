//! A counter's rate per second, read from a daemon that publishes it in steps: vipd copies its
//! XDP program's counters to its status once a second, so two answers half a second apart may
//! show no change and the next one two seconds' worth. The rate is taken between the answers
//! at which the counter moved, over a few seconds, and is zero once it stands still.
use std::collections::VecDeque;

/// Changes older than this (before the newest) are forgotten.
const WINDOW_NS: u64 = 3_000_000_000;
/// Changes must span this much for a rate: about one publishing period.
const MIN_SPAN_NS: u64 = 900_000_000;
/// A counter unchanged for this long (two publishing periods and more) counts nothing.
const STILL_NS: u64 = 2_500_000_000;

#[derive(Clone, Debug, Default)]
pub struct Rate {
    /// (CLOCK_MONOTONIC ns, value) of each answer at which the value changed, oldest first.
    changes: VecDeque<(u64, u64)>,
    /// When the counter was last read.
    last_read_ns: u64,
}

impl Rate {
    /// The counter read `value` at `at_ns`.
    pub fn observe(&mut self, at_ns: u64, value: u64) {
        self.last_read_ns = at_ns;
        match self.changes.back() {
            Some(&(_, last)) if last == value => return,
            // A counter that went back belongs to a restarted daemon.
            Some(&(_, last)) if value < last => self.changes.clear(),
            _ => {}
        }
        self.changes.push_back((at_ns, value));
        while self
            .changes
            .front()
            .is_some_and(|&(t, _)| at_ns.saturating_sub(t) > WINDOW_NS)
        {
            self.changes.pop_front();
        }
    }

    /// Per second, once known.
    pub fn per_second(&self) -> Option<f64> {
        let &(last_ns, last) = self.changes.back()?;
        if self.last_read_ns.saturating_sub(last_ns) > STILL_NS {
            return Some(0.0);
        }
        let &(first_ns, first) = self.changes.front()?;
        let span = last_ns - first_ns;
        (span >= MIN_SPAN_NS).then(|| (last - first) as f64 / (span as f64 / 1e9))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn steps_published_once_a_second_read_every_half_second_give_the_true_rate() {
        let mut rate = Rate::default();
        // 5000 a second, published at whole seconds, read at every half second.
        for half in 0..10u64 {
            let at = half * S / 2 + 1;
            rate.observe(at, at / S * 5_000);
        }
        assert_eq!(rate.per_second(), Some(5_000.0));
    }

    #[test]
    fn unknown_until_changes_span_a_second() {
        let mut rate = Rate::default();
        assert_eq!(rate.per_second(), None);
        rate.observe(0, 10);
        rate.observe(S / 2, 20);
        assert_eq!(rate.per_second(), None);
        rate.observe(S, 30);
        assert_eq!(rate.per_second(), Some(20.0));
    }

    #[test]
    fn a_counter_standing_still_counts_nothing() {
        let mut rate = Rate::default();
        rate.observe(0, 0);
        rate.observe(S, 5_000);
        rate.observe(3 * S, 5_000);
        assert_eq!(rate.per_second(), Some(5_000.0), "within two periods");
        rate.observe(4 * S, 5_000);
        assert_eq!(rate.per_second(), Some(0.0));
    }

    #[test]
    fn a_restart_starts_over() {
        let mut rate = Rate::default();
        rate.observe(0, 0);
        rate.observe(S, 5_000);
        rate.observe(2 * S, 3);
        assert_eq!(rate.per_second(), None);
        rate.observe(3 * S, 5_003);
        assert_eq!(rate.per_second(), Some(5_000.0));
    }
}
