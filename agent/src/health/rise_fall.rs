//! The rise/fall hysteresis of one check: turning a stream of single results into an up/down
//! state, exactly as keepalived's script result counter does.
//!
//! keepalived (keepalived/vrrp/vrrp_scheduler.c, `vrrp_script_child_thread`) keeps one counter
//! `result` in `0 ..= rise + fall - 1` and calls the script good while `result >= rise`:
//! - a success below `rise - 1` counts up by one; otherwise the counter jumps to the top
//!   (`rise + fall - 1`), so a good script needs `fall` failures in a row to go bad;
//! - a failure above `rise` counts down by one; otherwise the counter drops to 0, so a bad
//!   script needs `rise` successes in a row to go good;
//! - a timeout counts as a failure.
//!
//! It starts at `rise - 1` ("one success is enough") unless `init_fail` is set, which starts
//! it at 0, failed (`vrrp_init_script` in the same file). Without `init_fail` the check is
//! reported as not yet known until its first result, which then decides either way.

use super::priority::TrackStatus;

/// keepalived's result counter for one check.
#[derive(Debug, Clone)]
pub struct RiseFall {
    rise: u32,
    fall: u32,
    result: u32,
    status: TrackStatus,
}

impl RiseFall {
    /// `rise` and `fall` below 1 are taken as 1 (keepalived rejects 0 at config time).
    pub fn new(rise: u32, fall: u32, init_fail: bool) -> Self {
        let rise = rise.max(1);
        let fall = fall.max(1);
        if init_fail {
            Self {
                rise,
                fall,
                result: 0,
                status: TrackStatus::Down,
            }
        } else {
            Self {
                rise,
                fall,
                result: rise - 1,
                status: TrackStatus::Init,
            }
        }
    }

    pub fn status(&self) -> TrackStatus {
        self.status
    }

    /// Records one result; returns the new status if this result changed it.
    pub fn record(&mut self, success: bool) -> Option<TrackStatus> {
        let top = self.rise + self.fall - 1;
        if success {
            self.result = if self.result < self.rise - 1 {
                self.result + 1
            } else {
                top
            };
        } else {
            self.result = if self.result > self.rise {
                self.result - 1
            } else {
                0
            };
        }
        // From INIT (result = rise - 1) the first result always lands on the top or on 0,
        // so the status is never INIT again after a result.
        let status = if self.result >= self.rise {
            TrackStatus::Up
        } else {
            TrackStatus::Down
        };
        (status != self.status).then(|| {
            self.status = status;
            status
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TrackStatus::{Down, Init, Up};

    fn feed(counter: &mut RiseFall, results: &[bool]) -> Vec<Option<TrackStatus>> {
        results.iter().map(|&ok| counter.record(ok)).collect()
    }

    #[test]
    fn first_result_decides_without_init_fail() {
        let mut counter = RiseFall::new(3, 2, false);
        assert_eq!(counter.status(), Init);
        assert_eq!(counter.record(true), Some(Up), "one success is enough");

        let mut counter = RiseFall::new(3, 2, false);
        assert_eq!(counter.record(false), Some(Down));
    }

    #[test]
    fn init_fail_starts_down_and_needs_rise_successes() {
        let mut counter = RiseFall::new(3, 2, true);
        assert_eq!(counter.status(), Down);
        assert_eq!(
            feed(&mut counter, &[true, true, true]),
            [None, None, Some(Up)]
        );
    }

    #[test]
    fn fall_consecutive_failures_go_down() {
        let mut counter = RiseFall::new(2, 3, false);
        counter.record(true);
        assert_eq!(
            feed(&mut counter, &[false, false, false]),
            [None, None, Some(Down)]
        );
    }

    #[test]
    fn a_success_between_failures_resets_the_fall_count() {
        let mut counter = RiseFall::new(2, 3, false);
        counter.record(true);
        assert_eq!(
            feed(&mut counter, &[false, false, true, false, false, false]),
            [None, None, None, None, None, Some(Down)]
        );
    }

    #[test]
    fn a_failure_between_successes_resets_the_rise_count() {
        let mut counter = RiseFall::new(3, 1, true);
        assert_eq!(
            feed(&mut counter, &[true, true, false, true, true, true]),
            [None, None, None, None, None, Some(Up)]
        );
    }

    #[test]
    fn rise_and_fall_of_one_follow_every_result() {
        let mut counter = RiseFall::new(1, 1, false);
        assert_eq!(
            feed(&mut counter, &[true, false, false, true]),
            [Some(Up), Some(Down), None, Some(Up)]
        );
    }
}
