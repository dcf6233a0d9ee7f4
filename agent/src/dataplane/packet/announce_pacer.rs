//! Spacing of announcement frames, sans-IO: keepalived's garp_interval and gna_interval (global
//! or per garp_group interface) are the least gap between two gratuitous ARPs, and between two
//! unsolicited NAs. The daemon keeps one pacer per instance, pushes what the instance's
//! [`super::AnnouncePlan`] hands out and sends what the pacer releases; ARP and NA pace
//! independently, each in the order pushed. keepalived spaces the frames of all instances on
//! one interface together; vipd spaces each instance's alone, so several instances on one
//! interface may together send faster than the interval (a known difference).
//!
//! Timestamps are [`Instant`]s, as in the plan.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

use super::announce_plan::Announcement;
use crate::vrrp::Instant;

/// The frames of one instance waiting to go out.
#[derive(Debug, Clone)]
pub struct AnnouncePacer {
    garp: Paced,
    na: Paced,
}

impl AnnouncePacer {
    /// A pacer with keepalived's garp_interval and gna_interval; zero sends without spacing.
    pub fn new(garp_interval: Duration, gna_interval: Duration) -> AnnouncePacer {
        AnnouncePacer {
            garp: Paced::new(garp_interval),
            na: Paced::new(gna_interval),
        }
    }

    /// Queues `announcement`, handed out by a plan at `now`.
    pub fn push(&mut self, now: Instant, announcement: Announcement) {
        match announcement {
            Announcement::GratuitousArp(_) => self.garp.push(now, announcement),
            Announcement::UnsolicitedNa(_) => self.na.push(now, announcement),
        }
    }

    /// Drops every queued frame for `vips`: an instance that stopped being master must not
    /// claim its VIPs any more.
    pub fn cancel(&mut self, vips: &[IpAddr]) {
        self.garp
            .queue
            .retain(|queued| !vips.contains(&queued.vip()));
        self.na.queue.retain(|queued| !vips.contains(&queued.vip()));
    }

    /// When the next frame may go out; `None` when nothing is queued.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.garp.next_at(), self.na.next_at()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next frame that may go out at `now`, if any. Call until it returns `None`.
    pub fn poll_announcement(&mut self, now: Instant) -> Option<Announcement> {
        let garp_due = self.garp.next_at().filter(|at| *at <= now);
        let na_due = self.na.next_at().filter(|at| *at <= now);
        match (garp_due, na_due) {
            (Some(garp), Some(na)) if na < garp => self.na.pop(now),
            (Some(_), _) => self.garp.pop(now),
            (None, Some(_)) => self.na.pop(now),
            (None, None) => None,
        }
    }
}

/// One kind of frame, never closer together than `interval`.
#[derive(Debug, Clone)]
struct Paced {
    queue: VecDeque<Announcement>,
    interval: Duration,
    /// Earliest time the head of `queue` may go, once it is not empty.
    next_at: Instant,
    last_sent: Option<Instant>,
}

impl Paced {
    fn new(interval: Duration) -> Paced {
        Paced {
            queue: VecDeque::new(),
            interval,
            next_at: Instant::ZERO,
            last_sent: None,
        }
    }

    fn push(&mut self, now: Instant, announcement: Announcement) {
        if self.queue.is_empty() {
            let paced = self
                .last_sent
                .map_or(now, |last| last.saturating_add(self.interval));
            self.next_at = now.max(paced);
        }
        self.queue.push_back(announcement);
    }

    fn next_at(&self) -> Option<Instant> {
        (!self.queue.is_empty()).then_some(self.next_at)
    }

    fn pop(&mut self, now: Instant) -> Option<Announcement> {
        let announcement = self.queue.pop_front()?;
        self.last_sent = Some(now);
        self.next_at = now.saturating_add(self.interval);
        Some(announcement)
    }
}

#[cfg(test)]
mod tests {
    use super::super::announce_fixtures::{garp, ms, na, t, V4A, V4B, V6A};
    use super::*;

    fn drain(pacer: &mut AnnouncePacer, now: Instant) -> Vec<Announcement> {
        std::iter::from_fn(|| pacer.poll_announcement(now)).collect()
    }

    #[test]
    fn zero_intervals_release_everything_at_once_in_order() {
        let mut pacer = AnnouncePacer::new(Duration::ZERO, Duration::ZERO);
        for announcement in [garp(V4A), na(V6A), garp(V4B)] {
            pacer.push(t(5), announcement);
        }
        assert_eq!(pacer.poll_timeout(), Some(t(5)));
        assert_eq!(drain(&mut pacer, t(5)), [garp(V4A), garp(V4B), na(V6A)]);
        assert_eq!(pacer.poll_timeout(), None);
    }

    #[test]
    fn garp_interval_and_gna_interval_pace_independently() {
        let mut pacer = AnnouncePacer::new(ms(10), ms(3));
        for announcement in [garp(V4A), garp(V4B), na(V6A), na(V6A)] {
            pacer.push(t(100), announcement);
        }
        assert_eq!(drain(&mut pacer, t(100)), [garp(V4A), na(V6A)]);
        assert_eq!(pacer.poll_timeout(), Some(t(103)));
        assert_eq!(drain(&mut pacer, t(103)), [na(V6A)]);
        assert_eq!(pacer.poll_timeout(), Some(t(110)));
        assert_eq!(drain(&mut pacer, t(109)), []);
        assert_eq!(drain(&mut pacer, t(110)), [garp(V4B)]);
        assert_eq!(pacer.poll_timeout(), None);
    }

    #[test]
    fn the_gap_counts_from_the_last_frame_sent_even_across_an_empty_queue() {
        let mut pacer = AnnouncePacer::new(ms(10), Duration::ZERO);
        pacer.push(t(0), garp(V4A));
        assert_eq!(drain(&mut pacer, t(0)).len(), 1);
        pacer.push(t(4), garp(V4B));
        assert_eq!(pacer.poll_timeout(), Some(t(10)));
    }

    #[test]
    fn a_late_poll_measures_the_gap_from_the_actual_send() {
        let mut pacer = AnnouncePacer::new(ms(10), Duration::ZERO);
        for _ in 0..3 {
            pacer.push(t(0), garp(V4A));
        }
        assert_eq!(drain(&mut pacer, t(0)).len(), 1);
        // The daemon woke 25 ms late: one frame now, not a catch-up burst.
        assert_eq!(drain(&mut pacer, t(35)).len(), 1);
        assert_eq!(pacer.poll_timeout(), Some(t(45)));
    }

    #[test]
    fn cancel_drops_only_the_given_vips() {
        let mut pacer = AnnouncePacer::new(ms(1), ms(1));
        for announcement in [garp(V4A), garp(V4B), na(V6A), garp(V4A)] {
            pacer.push(t(0), announcement);
        }
        pacer.cancel(&[IpAddr::V4(V4A), IpAddr::V6(V6A)]);
        let mut sent = Vec::new();
        while let Some(at) = pacer.poll_timeout() {
            sent.extend(drain(&mut pacer, at));
        }
        assert_eq!(sent, [garp(V4B)]);
    }
}
