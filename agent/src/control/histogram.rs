//! A latency histogram with fixed, log-spaced buckets from 10 us to 10 s, cheap enough for the
//! engine to record into (a short search over 19 bounds and three additions, no allocation,
//! no atomics: the loop owns it and publishes copies).
//!
//! The bounds follow a 1-2-5 series so that both sub-millisecond XDP takeovers and keepalived's
//! multi-second defaults land in a bucket that tells them apart. [`HistogramStatus`] is the
//! serialisable, cumulative form (Prometheus semantics: each bucket counts the observations at
//! or below its bound) that the status snapshot and the metrics exposition share.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Upper bounds of the finite buckets, in microseconds; observations above the last bound are
/// counted only in the total (the `+Inf` bucket).
pub const BUCKET_BOUNDS_US: [u64; 19] = [
    10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000,
    500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000,
];

/// Observations per bucket (not cumulative), with their count and sum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// `buckets[i]` counts observations in `(BUCKET_BOUNDS_US[i-1], BUCKET_BOUNDS_US[i]]`; the
    /// last slot counts those above every bound.
    buckets: [u64; BUCKET_BOUNDS_US.len() + 1],
    count: u64,
    sum_us: u64,
}

impl LatencyHistogram {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one observation, rounded down to whole microseconds.
    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let slot = BUCKET_BOUNDS_US.partition_point(|&bound| bound < us);
        self.buckets[slot] = self.buckets[slot].saturating_add(1);
        self.count = self.count.saturating_add(1);
        self.sum_us = self.sum_us.saturating_add(us);
    }

    /// The cumulative form for the snapshot and the metrics.
    pub fn status(&self) -> HistogramStatus {
        let mut cumulative = 0u64;
        let buckets = BUCKET_BOUNDS_US
            .iter()
            .zip(self.buckets.iter())
            .map(|(&le_us, &n)| {
                cumulative = cumulative.saturating_add(n);
                HistogramBucket {
                    le_us,
                    count: cumulative,
                }
            })
            .collect();
        HistogramStatus {
            buckets,
            count: self.count,
            sum_us: self.sum_us,
        }
    }
}

/// A histogram as published: cumulative buckets plus the total count (the `+Inf` bucket) and
/// the sum of all observations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramStatus {
    pub buckets: Vec<HistogramBucket>,
    pub count: u64,
    pub sum_us: u64,
}

/// How many observations were at or below `le_us` microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramBucket {
    pub le_us: u64,
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cumulative(h: &LatencyHistogram) -> Vec<u64> {
        h.status().buckets.iter().map(|b| b.count).collect()
    }

    #[test]
    fn bounds_are_increasing() {
        assert!(BUCKET_BOUNDS_US.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn an_observation_on_a_bound_belongs_to_that_bound() {
        let mut h = LatencyHistogram::new();
        h.record(Duration::from_micros(10));
        h.record(Duration::from_micros(1_000));
        let c = cumulative(&h);
        assert_eq!(c[0], 1, "10 us is <= 10 us");
        assert_eq!(c[5], 1, "500 us bucket holds only the 10 us one");
        assert_eq!(c[6], 2, "1 ms bucket holds both");
    }

    #[test]
    fn just_above_a_bound_goes_to_the_next_bucket() {
        let mut h = LatencyHistogram::new();
        h.record(Duration::from_nanos(10_999)); // rounds down to 10 us
        h.record(Duration::from_micros(11));
        let c = cumulative(&h);
        assert_eq!(c[0], 1);
        assert_eq!(c[1], 2);
    }

    #[test]
    fn zero_lands_in_the_first_bucket_and_huge_values_only_in_the_total() {
        let mut h = LatencyHistogram::new();
        h.record(Duration::ZERO);
        h.record(Duration::from_secs(11));
        h.record(Duration::MAX);
        let status = h.status();
        assert_eq!(status.buckets.first().map(|b| b.count), Some(1));
        assert_eq!(status.buckets.last().map(|b| b.count), Some(1));
        assert_eq!(status.count, 3);
        assert_eq!(
            status.sum_us,
            u64::MAX,
            "the sum saturates instead of wrapping"
        );
    }

    #[test]
    fn count_sum_and_cumulative_buckets_agree() {
        let mut h = LatencyHistogram::new();
        for us in [3u64, 150, 150, 700, 40_000, 3_000_000] {
            h.record(Duration::from_micros(us));
        }
        let status = h.status();
        assert_eq!(status.count, 6);
        assert_eq!(status.sum_us, 3 + 150 + 150 + 700 + 40_000 + 3_000_000);
        let at = |le_us: u64| {
            status
                .buckets
                .iter()
                .find(|b| b.le_us == le_us)
                .map(|b| b.count)
        };
        assert_eq!(at(10), Some(1));
        assert_eq!(at(100), Some(1));
        assert_eq!(at(200), Some(3));
        assert_eq!(at(1_000), Some(4));
        assert_eq!(at(50_000), Some(5));
        assert_eq!(at(2_000_000), Some(5));
        assert_eq!(at(5_000_000), Some(6));
        assert_eq!(at(10_000_000), Some(6));
    }
}
