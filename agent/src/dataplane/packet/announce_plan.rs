//! When one VRRP instance announces its VIPs, sans-IO: keepalived's garp_master_delay,
//! garp_master_repeat, garp_lower_prio_delay, garp_lower_prio_repeat, garp_master_refresh and
//! garp_master_refresh_repeat turned into a schedule the daemon drives with CLOCK_MONOTONIC
//! timestamps, quinn-style: events (`became_master(now)`, ...), then `poll_timeout()` says when
//! to wake and `poll_announcement(now)` hands out each frame that is due.
//!
//! Timestamps are the protocol core's [`Instant`]s, on the engine's one clock (CLOCK_MONOTONIC,
//! that of its `epoll_pwait2` timeouts and of `bpf_ktime_get_ns`), so the engine hands its
//! readings over as they are.
//!
//! The semantics follow keepalived: on becoming master every VIP is announced
//! `master_repeat` times (a round over all VIPs, then the next round), and again
//! `master_delay` later; while master, `master_refresh_repeat` rounds every `master_refresh`;
//! a lower-priority advert seen while master triggers `lower_prio_repeat` rounds at once and
//! again `lower_prio_delay` later. Spacing frames (garp_interval, gna_interval) lives in
//! [`super::AnnouncePacer`], which the daemon feeds with what this plan hands out.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::vrrp::Instant;

/// One frame to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    GratuitousArp(Ipv4Addr),
    UnsolicitedNa(Ipv6Addr),
}

impl Announcement {
    /// The frame that announces `vip`: gratuitous ARP for IPv4, unsolicited NA for IPv6.
    pub fn for_vip(vip: IpAddr) -> Announcement {
        match vip {
            IpAddr::V4(vip) => Announcement::GratuitousArp(vip),
            IpAddr::V6(vip) => Announcement::UnsolicitedNa(vip),
        }
    }

    /// The VIP this frame announces.
    pub fn vip(self) -> IpAddr {
        match self {
            Announcement::GratuitousArp(vip) => IpAddr::V4(vip),
            Announcement::UnsolicitedNa(vip) => IpAddr::V6(vip),
        }
    }
}

/// An instance's announcement settings; `Default` gives keepalived's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceSettings {
    /// garp_master_delay: a second burst this long after becoming master; `None` is keepalived's
    /// 0, no second burst. Default 5 s.
    pub master_delay: Option<Duration>,
    /// garp_master_repeat: rounds over all VIPs in each burst after becoming master. Default 5.
    pub master_repeat: u32,
    /// garp_lower_prio_delay: a second burst this long after a lower-priority advert arrived
    /// while master; `None` for none. keepalived defaults it to garp_master_delay (5 s).
    pub lower_prio_delay: Option<Duration>,
    /// garp_lower_prio_repeat: rounds in each burst caused by a lower-priority advert; 0 turns
    /// the reaction off. keepalived defaults it to garp_master_repeat (5).
    pub lower_prio_repeat: u32,
    /// garp_master_refresh: while master, a refresh burst this often; `None` (keepalived's 0,
    /// the default) never refreshes.
    pub master_refresh: Option<Duration>,
    /// garp_master_refresh_repeat: rounds over all VIPs in each refresh burst. Default 1.
    pub master_refresh_repeat: u32,
}

impl Default for AnnounceSettings {
    fn default() -> Self {
        AnnounceSettings {
            master_delay: Some(Duration::from_secs(5)),
            master_repeat: 5,
            lower_prio_delay: Some(Duration::from_secs(5)),
            lower_prio_repeat: 5,
            master_refresh: None,
            master_refresh_repeat: 1,
        }
    }
}

/// The announcement schedule of one VRRP instance's VIPs.
#[derive(Debug, Clone)]
pub struct AnnouncePlan {
    settings: AnnounceSettings,
    vips: Vec<IpAddr>,
    master: bool,
    /// Rounds over `vips` due now, and where the current round stands.
    rounds_left: u32,
    next_index: usize,
    due_since: Instant,
    second_burst_at: Option<Instant>,
    lower_prio_burst_at: Option<Instant>,
    next_refresh_at: Option<Instant>,
}

impl AnnouncePlan {
    /// A plan for `vips` (in the order they are announced), idle until
    /// [`AnnouncePlan::became_master`].
    pub fn new(settings: AnnounceSettings, vips: impl IntoIterator<Item = IpAddr>) -> AnnouncePlan {
        AnnouncePlan {
            settings,
            vips: vips.into_iter().collect(),
            master: false,
            rounds_left: 0,
            next_index: 0,
            due_since: Instant::ZERO,
            second_burst_at: None,
            lower_prio_burst_at: None,
            next_refresh_at: None,
        }
    }

    /// The VIPs this plan announces; [`super::AnnouncePacer::cancel`] takes them when the
    /// instance stops being master.
    pub fn vips(&self) -> &[IpAddr] {
        &self.vips
    }

    /// The instance became master at `now`: announce at once, then as the settings say.
    /// Calling it again restarts the schedule.
    pub fn became_master(&mut self, now: Instant) {
        self.left_master();
        self.master = true;
        self.burst(now, self.settings.master_repeat);
        self.second_burst_at = self
            .settings
            .master_delay
            .map(|delay| now.saturating_add(delay));
        self.next_refresh_at = self
            .settings
            .master_refresh
            .map(|every| now.saturating_add(every));
    }

    /// While master, an advert with a lower priority arrived: another router may have
    /// claimed the VIPs meanwhile, so announce them again (ignored when not master).
    pub fn lower_priority_advert(&mut self, now: Instant) {
        let repeat = self.settings.lower_prio_repeat;
        if !self.master || repeat == 0 {
            return;
        }
        self.burst(now, repeat);
        if self.lower_prio_burst_at.is_none() {
            self.lower_prio_burst_at = self
                .settings
                .lower_prio_delay
                .map(|delay| now.saturating_add(delay));
        }
    }

    /// The instance is no longer master: nothing more is announced.
    pub fn left_master(&mut self) {
        self.master = false;
        self.rounds_left = 0;
        self.next_index = 0;
        self.second_burst_at = None;
        self.lower_prio_burst_at = None;
        self.next_refresh_at = None;
    }

    /// The earliest time [`AnnouncePlan::poll_announcement`] has something to hand out; a time
    /// in the past means now. `None` when nothing is scheduled.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let pending = (self.rounds_left > 0).then_some(self.due_since);
        [
            pending,
            self.second_burst_at,
            self.lower_prio_burst_at,
            self.next_refresh_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next frame due at `now`, if any. Call until it returns `None`, then sleep until
    /// [`AnnouncePlan::poll_timeout`].
    pub fn poll_announcement(&mut self, now: Instant) -> Option<Announcement> {
        if take_if_due(&mut self.second_burst_at, now) {
            self.burst(now, self.settings.master_repeat);
        }
        if take_if_due(&mut self.lower_prio_burst_at, now) {
            self.burst(now, self.settings.lower_prio_repeat);
        }
        if let (Some(at), Some(every)) = (self.next_refresh_at, self.settings.master_refresh) {
            if at <= now {
                self.next_refresh_at = Some(now.saturating_add(every));
                self.burst(now, self.settings.master_refresh_repeat);
            }
        }
        if self.rounds_left == 0 {
            return None;
        }
        let vip = *self.vips.get(self.next_index)?;
        self.next_index += 1;
        if self.next_index == self.vips.len() {
            self.next_index = 0;
            self.rounds_left -= 1;
        }
        Some(Announcement::for_vip(vip))
    }

    fn burst(&mut self, now: Instant, rounds: u32) {
        if self.vips.is_empty() || rounds == 0 {
            return;
        }
        if self.rounds_left == 0 {
            self.due_since = now;
        }
        self.rounds_left = self.rounds_left.saturating_add(rounds);
    }
}

/// Clears `deadline` and says so when it has come.
fn take_if_due(deadline: &mut Option<Instant>, now: Instant) -> bool {
    let due = deadline.is_some_and(|at| at <= now);
    if due {
        *deadline = None;
    }
    due
}

#[cfg(test)]
mod tests {
    use super::super::announce_fixtures::{garp, ms, na, t, V4A, V4B, V6A};
    use super::*;

    fn drain(plan: &mut AnnouncePlan, now: Instant) -> Vec<Announcement> {
        std::iter::from_fn(|| plan.poll_announcement(now)).collect()
    }

    #[test]
    fn defaults_are_keepalived_defaults() {
        let settings = AnnounceSettings::default();
        assert_eq!(settings.master_delay, Some(Duration::from_secs(5)));
        assert_eq!(settings.master_repeat, 5);
        assert_eq!(settings.lower_prio_delay, settings.master_delay);
        assert_eq!(settings.lower_prio_repeat, settings.master_repeat);
        assert_eq!(settings.master_refresh, None);
        assert_eq!(settings.master_refresh_repeat, 1);
    }

    #[test]
    fn idle_plan_sends_nothing() {
        let mut plan = AnnouncePlan::new(AnnounceSettings::default(), [IpAddr::V4(V4A)]);
        assert_eq!(plan.poll_timeout(), None);
        assert_eq!(plan.poll_announcement(t(1_000_000)), None);
    }

    #[test]
    fn becoming_master_sends_rounds_now_and_a_second_burst_after_the_delay() {
        let settings = AnnounceSettings {
            master_repeat: 2,
            ..AnnounceSettings::default()
        };
        let vips = [IpAddr::V4(V4A), IpAddr::V6(V6A), IpAddr::V4(V4B)];
        let mut plan = AnnouncePlan::new(settings, vips);
        let t0 = t(10_000);
        plan.became_master(t0);
        assert_eq!(plan.poll_timeout(), Some(t0));
        let round = [garp(V4A), na(V6A), garp(V4B)];
        assert_eq!(drain(&mut plan, t0), [round, round].concat());
        assert_eq!(plan.poll_timeout(), Some(t0.saturating_add(ms(5_000))));
        assert_eq!(drain(&mut plan, t0.saturating_add(ms(4_999))), []);
        assert_eq!(
            drain(&mut plan, t0.saturating_add(ms(5_000))),
            [round, round].concat()
        );
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
        plan.became_master(t(0));
        assert_eq!(drain(&mut plan, t(0)), [garp(V4A)]);
        assert_eq!(plan.poll_timeout(), None);
    }

    #[test]
    fn a_late_poll_still_sends_each_burst_once() {
        let settings = AnnounceSettings {
            master_delay: Some(ms(5)),
            master_repeat: 1,
            master_refresh: Some(ms(7)),
            master_refresh_repeat: 1,
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V6(V6A)]);
        plan.became_master(t(0));
        // The daemon only looks again at 100 ms: the first burst, the second burst and one
        // refresh are due, not a refresh for every 7 ms missed.
        assert_eq!(drain(&mut plan, t(100)).len(), 3);
        assert_eq!(plan.poll_timeout(), Some(t(107)));
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
        plan.became_master(t(0));
        assert_eq!(drain(&mut plan, t(0)), [na(V6A)]);
        assert_eq!(plan.poll_timeout(), Some(t(60_000)));
        assert_eq!(drain(&mut plan, t(60_000)), [na(V6A), na(V6A)]);
        assert_eq!(plan.poll_timeout(), Some(t(120_000)));
        plan.left_master();
        assert_eq!(plan.poll_timeout(), None);
        assert_eq!(drain(&mut plan, t(120_000)), []);
    }

    #[test]
    fn leaving_master_mid_burst_cancels_the_rest() {
        let mut plan = AnnouncePlan::new(AnnounceSettings::default(), [IpAddr::V4(V4A)]);
        plan.became_master(t(0));
        assert_eq!(plan.poll_announcement(t(0)), Some(garp(V4A)));
        plan.left_master();
        assert_eq!(plan.poll_timeout(), None);
        assert_eq!(drain(&mut plan, t(10_000)), []);
    }

    #[test]
    fn lower_priority_advert_announces_now_and_after_its_delay() {
        let settings = AnnounceSettings {
            master_delay: None,
            master_repeat: 1,
            lower_prio_delay: Some(ms(2_000)),
            lower_prio_repeat: 2,
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V4(V4A)]);
        plan.lower_priority_advert(t(0));
        assert_eq!(plan.poll_timeout(), None, "a backup does not announce");

        plan.became_master(t(0));
        assert_eq!(drain(&mut plan, t(0)).len(), 1);
        plan.lower_priority_advert(t(100));
        assert_eq!(drain(&mut plan, t(100)), [garp(V4A), garp(V4A)]);
        // A second lower-priority advert before the delayed burst keeps its time.
        plan.lower_priority_advert(t(1_100));
        assert_eq!(drain(&mut plan, t(1_100)).len(), 2);
        assert_eq!(plan.poll_timeout(), Some(t(2_100)));
        assert_eq!(drain(&mut plan, t(2_100)).len(), 2);
        assert_eq!(plan.poll_timeout(), None);
    }

    #[test]
    fn zero_lower_prio_repeat_ignores_lower_priority_adverts() {
        let settings = AnnounceSettings {
            master_delay: None,
            lower_prio_repeat: 0,
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V4(V4A)]);
        plan.became_master(t(0));
        drain(&mut plan, t(0));
        plan.lower_priority_advert(t(1));
        assert_eq!(plan.poll_timeout(), None);
    }

    #[test]
    fn zero_repeat_or_no_vips_sends_nothing() {
        let settings = AnnounceSettings {
            master_repeat: 0,
            master_delay: None,
            ..AnnounceSettings::default()
        };
        let mut plan = AnnouncePlan::new(settings, [IpAddr::V4(V4A)]);
        plan.became_master(t(0));
        assert_eq!(plan.poll_timeout(), None);
        let mut empty = AnnouncePlan::new(AnnounceSettings::default(), []);
        empty.became_master(t(0));
        assert_eq!(drain(&mut empty, t(0)), []);
    }
}
