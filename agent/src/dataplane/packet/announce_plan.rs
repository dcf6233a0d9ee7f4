//! When a master announces its VIPs, sans-IO: keepalived's garp_master_delay,
//! garp_master_repeat, garp_master_refresh, garp_master_refresh_repeat, garp_interval and
//! gna_interval turned into a schedule the daemon drives with CLOCK_MONOTONIC timestamps,
//! quinn-style: `became_master(now)`, then `poll_timeout()` says when to wake and
//! `poll_announcement(now)` hands out each frame to send.
//!
//! Timestamps are `Duration`s since CLOCK_MONOTONIC's zero, the clock of the timing thread's
//! timerfd and of `bpf_ktime_get_ns`.
//!
//! The semantics follow keepalived: on becoming master, every VIP is announced
//! `master_repeat` times (one round over all VIPs, then the next round), and once more
//! `master_delay` later; while master, `master_refresh_repeat` rounds every `master_refresh`.
//! `garp_interval` and `gna_interval` are the least gap between two frames of that kind on the
//! interface, so GARPs and NAs pace independently and a burst that meets one still in progress
//! queues behind it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// One frame to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    GratuitousArp(Ipv4Addr),
    UnsolicitedNa(Ipv6Addr),
}

/// keepalived's announcement settings; `Default` gives keepalived's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceSettings {
    /// garp_master_delay: a second burst this long after becoming master; `None` is keepalived's
    /// 0, no second burst. Default 5 s.
    pub master_delay: Option<Duration>,
    /// garp_master_repeat: rounds over all VIPs in each burst after becoming master. Default 5.
    pub master_repeat: u32,
    /// garp_master_refresh: while master, a refresh burst this often; `None` (keepalived's 0,
    /// the default) never refreshes.
    pub master_refresh: Option<Duration>,
    /// garp_master_refresh_repeat: rounds over all VIPs in each refresh burst. Default 1.
    pub master_refresh_repeat: u32,
    /// garp_interval: least gap between two gratuitous ARPs on the interface. Default 0.
    pub garp_interval: Duration,
    /// gna_interval: least gap between two unsolicited NAs on the interface. Default 0.
    pub gna_interval: Duration,
}

impl Default for AnnounceSettings {
    fn default() -> Self {
        AnnounceSettings {
            master_delay: Some(Duration::from_secs(5)),
            master_repeat: 5,
            master_refresh: None,
            master_refresh_repeat: 1,
            garp_interval: Duration::ZERO,
            gna_interval: Duration::ZERO,
        }
    }
}

/// The announcement schedule of one VRRP instance's VIPs on one interface.
#[derive(Debug, Clone)]
pub struct AnnouncePlan {
    settings: AnnounceSettings,
    garp: Paced<Ipv4Addr>,
    na: Paced<Ipv6Addr>,
    second_burst_at: Option<Duration>,
    next_refresh_at: Option<Duration>,
}

impl AnnouncePlan {
    /// A plan for `vips`, idle until [`AnnouncePlan::became_master`].
    pub fn new(settings: AnnounceSettings, vips: impl IntoIterator<Item = IpAddr>) -> AnnouncePlan {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for vip in vips {
            match vip {
                IpAddr::V4(vip) => v4.push(vip),
                IpAddr::V6(vip) => v6.push(vip),
            }
        }
        AnnouncePlan {
            garp: Paced::new(v4, settings.garp_interval),
            na: Paced::new(v6, settings.gna_interval),
            settings,
            second_burst_at: None,
            next_refresh_at: None,
        }
    }

    /// The instance became master at `now`: announce at once, then as the settings say.
    /// Calling it again restarts the schedule.
    pub fn became_master(&mut self, now: Duration) {
        self.left_master();
        self.burst(now, self.settings.master_repeat);
        self.second_burst_at = self.settings.master_delay.map(|delay| now + delay);
        self.next_refresh_at = self.settings.master_refresh.map(|every| now + every);
    }

    /// The instance is no longer master: nothing more is announced.
    pub fn left_master(&mut self) {
        self.garp.cancel();
        self.na.cancel();
        self.second_burst_at = None;
        self.next_refresh_at = None;
    }

    /// The earliest time [`AnnouncePlan::poll_announcement`] has something to do; `None` when
    /// nothing is scheduled.
    pub fn poll_timeout(&self) -> Option<Duration> {
        [
            self.garp.next_at(),
            self.na.next_at(),
            self.second_burst_at,
            self.next_refresh_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next frame due at `now`, if any. Call until it returns `None`, then sleep until
    /// [`AnnouncePlan::poll_timeout`].
    pub fn poll_announcement(&mut self, now: Duration) -> Option<Announcement> {
        if self.second_burst_at.is_some_and(|at| at <= now) {
            self.second_burst_at = None;
            self.burst(now, self.settings.master_repeat);
        }
        if let (Some(at), Some(every)) = (self.next_refresh_at, self.settings.master_refresh) {
            if at <= now {
                self.next_refresh_at = Some(now + every);
                self.burst(now, self.settings.master_refresh_repeat);
            }
        }
        let garp_due = self.garp.next_at().filter(|at| *at <= now);
        let na_due = self.na.next_at().filter(|at| *at <= now);
        match (garp_due, na_due) {
            (Some(garp), Some(na)) if na < garp => {
                self.na.pop(now).map(Announcement::UnsolicitedNa)
            }
            (Some(_), _) => self.garp.pop(now).map(Announcement::GratuitousArp),
            (None, Some(_)) => self.na.pop(now).map(Announcement::UnsolicitedNa),
            (None, None) => None,
        }
    }

    fn burst(&mut self, now: Duration, rounds: u32) {
        self.garp.queue_rounds(now, rounds);
        self.na.queue_rounds(now, rounds);
    }
}

/// One kind of frame for a list of addresses, in rounds, never closer together than `interval`.
#[derive(Debug, Clone)]
struct Paced<A> {
    addresses: Vec<A>,
    interval: Duration,
    rounds_left: u32,
    next_index: usize,
    next_at: Duration,
    last_sent: Option<Duration>,
}

impl<A: Copy> Paced<A> {
    fn new(addresses: Vec<A>, interval: Duration) -> Paced<A> {
        Paced {
            addresses,
            interval,
            rounds_left: 0,
            next_index: 0,
            next_at: Duration::ZERO,
            last_sent: None,
        }
    }

    fn queue_rounds(&mut self, now: Duration, rounds: u32) {
        if self.addresses.is_empty() || rounds == 0 {
            return;
        }
        if self.rounds_left == 0 {
            let paced = self.last_sent.map_or(now, |last| last + self.interval);
            self.next_at = now.max(paced);
        }
        self.rounds_left = self.rounds_left.saturating_add(rounds);
    }

    fn next_at(&self) -> Option<Duration> {
        (self.rounds_left > 0).then_some(self.next_at)
    }

    fn pop(&mut self, now: Duration) -> Option<A> {
        if self.rounds_left == 0 {
            return None;
        }
        let address = *self.addresses.get(self.next_index)?;
        self.next_index += 1;
        if self.next_index == self.addresses.len() {
            self.next_index = 0;
            self.rounds_left -= 1;
        }
        self.last_sent = Some(now);
        self.next_at = now + self.interval;
        Some(address)
    }

    fn cancel(&mut self) {
        self.rounds_left = 0;
        self.next_index = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
    const V4B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 101);
    const V6A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x64);

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn drain(plan: &mut AnnouncePlan, now: Duration) -> Vec<Announcement> {
        std::iter::from_fn(|| plan.poll_announcement(now)).collect()
    }

    fn garp(vip: Ipv4Addr) -> Announcement {
        Announcement::GratuitousArp(vip)
    }

    fn na(vip: Ipv6Addr) -> Announcement {
        Announcement::UnsolicitedNa(vip)
    }

    #[test]
    fn defaults_are_keepalived_defaults() {
        let settings = AnnounceSettings::default();
        assert_eq!(settings.master_delay, Some(Duration::from_secs(5)));
        assert_eq!(settings.master_repeat, 5);
        assert_eq!(settings.master_refresh, None);
        assert_eq!(settings.master_refresh_repeat, 1);
        assert_eq!(settings.garp_interval, Duration::ZERO);
        assert_eq!(settings.gna_interval, Duration::ZERO);
    }

    #[test]
    fn idle_plan_sends_nothing() {
        let mut plan = AnnouncePlan::new(AnnounceSettings::default(), [IpAddr::V4(V4A)]);
        assert_eq!(plan.poll_timeout(), None);
        assert_eq!(plan.poll_announcement(ms(1_000_000)), None);
    }

    #[test]
    fn becoming_master_sends_rounds_now_and_a_second_burst_after_the_delay() {
        let settings = AnnounceSettings {
            master_repeat: 2,
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V4(V4A), IpAddr::V4(V4B)]);
        let t0 = ms(10_000);
        plan.became_master(t0);
        assert_eq!(plan.poll_timeout(), Some(t0));
        assert_eq!(
            drain(&mut plan, t0),
            [garp(V4A), garp(V4B), garp(V4A), garp(V4B)]
        );
        assert_eq!(plan.poll_timeout(), Some(t0 + ms(5_000)));
        assert_eq!(drain(&mut plan, t0 + ms(4_999)), []);
        assert_eq!(drain(&mut plan, t0 + ms(5_000)).len(), 4);
        // No refresh configured: the schedule is over.
        assert_eq!(plan.poll_timeout(), None);
    }

    #[test]
    fn no_master_delay_means_no_second_burst() {
        let settings = AnnounceSettings {
            master_delay: None,
            master_repeat: 1,
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V4(V4A)]);
        plan.became_master(ms(0));
        assert_eq!(drain(&mut plan, ms(0)), [garp(V4A)]);
        assert_eq!(plan.poll_timeout(), None);
    }

    #[test]
    fn garp_interval_spaces_frames_and_gna_interval_paces_nas_independently() {
        let settings = AnnounceSettings {
            master_delay: None,
            master_repeat: 2,
            garp_interval: ms(10),
            gna_interval: ms(3),
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V4(V4A), IpAddr::V6(V6A)]);
        plan.became_master(ms(100));
        assert_eq!(drain(&mut plan, ms(100)), [garp(V4A), na(V6A)]);
        assert_eq!(plan.poll_timeout(), Some(ms(103)));
        assert_eq!(drain(&mut plan, ms(103)), [na(V6A)]);
        assert_eq!(plan.poll_timeout(), Some(ms(110)));
        assert_eq!(drain(&mut plan, ms(109)), []);
        assert_eq!(drain(&mut plan, ms(110)), [garp(V4A)]);
        assert_eq!(plan.poll_timeout(), None);
    }

    #[test]
    fn a_late_poll_measures_the_interval_from_the_actual_send() {
        let settings = AnnounceSettings {
            master_delay: None,
            master_repeat: 3,
            garp_interval: ms(10),
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V4(V4A)]);
        plan.became_master(ms(0));
        assert_eq!(drain(&mut plan, ms(0)).len(), 1);
        // The daemon woke 25 ms late: one frame now, not a catch-up burst.
        assert_eq!(drain(&mut plan, ms(35)).len(), 1);
        assert_eq!(plan.poll_timeout(), Some(ms(45)));
    }

    #[test]
    fn refresh_repeats_while_master_and_stops_when_leaving() {
        let settings = AnnounceSettings {
            master_delay: None,
            master_repeat: 1,
            master_refresh: Some(ms(60_000)),
            master_refresh_repeat: 2,
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V6(V6A)]);
        plan.became_master(ms(0));
        assert_eq!(drain(&mut plan, ms(0)), [na(V6A)]);
        assert_eq!(plan.poll_timeout(), Some(ms(60_000)));
        assert_eq!(drain(&mut plan, ms(60_000)), [na(V6A), na(V6A)]);
        assert_eq!(plan.poll_timeout(), Some(ms(120_000)));
        plan.left_master();
        assert_eq!(plan.poll_timeout(), None);
        assert_eq!(drain(&mut plan, ms(120_000)), []);
    }

    #[test]
    fn leaving_master_mid_burst_cancels_the_rest() {
        let settings = AnnounceSettings {
            garp_interval: ms(1),
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V4(V4A)]);
        plan.became_master(ms(0));
        assert_eq!(drain(&mut plan, ms(0)).len(), 1);
        plan.left_master();
        assert_eq!(drain(&mut plan, ms(10_000)), []);
        // Becoming master again still honours the gap since the last frame sent.
        plan.became_master(ms(0));
        assert_eq!(plan.poll_timeout(), Some(ms(1)));
    }

    #[test]
    fn a_burst_meeting_one_in_progress_queues_behind_it() {
        let settings = AnnounceSettings {
            master_delay: Some(ms(5)),
            master_repeat: 3,
            garp_interval: ms(4),
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V4(V4A)]);
        plan.became_master(ms(0));
        let mut sent = Vec::new();
        while let Some(at) = plan.poll_timeout() {
            sent.extend(drain(&mut plan, at).into_iter().map(|_| at));
        }
        // Three frames 4 ms apart, then the second burst's three continue at the same pace.
        assert_eq!(sent, [ms(0), ms(4), ms(8), ms(12), ms(16), ms(20)]);
    }

    #[test]
    fn zero_repeat_and_missing_families_send_nothing() {
        let settings = AnnounceSettings {
            master_repeat: 0,
            master_delay: None,
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V4(V4A)]);
        plan.became_master(ms(0));
        assert_eq!(plan.poll_timeout(), None);
        let mut v6_only = AnnouncePlan::new(AnnounceSettings::default(), [IpAddr::V6(V6A)]);
        v6_only.became_master(ms(0));
        assert!(drain(&mut v6_only, ms(0))
            .iter()
            .all(|a| matches!(a, Announcement::UnsolicitedNa(_))));
    }
}
