//! The backup's side of vipd's liveness echo (see `agent_common::ETH_P_VIPD_ECHO`), sans-IO:
//! when to probe the master, and whether the master's silence has been confirmed by a probe
//! it left unanswered. The router owns one [`EchoProber`] while the daemon's dataplane carries
//! echoes (fast mode, the XDP program on the interface, an echo socket).
//!
//! A backup sends the master it follows a probe every [`EchoConfig::interval`]; the master's
//! XDP program reflects it while its node is master and its agent's dead-man heartbeat is
//! fresh, and this node's XDP program stamps the echo at arrival. An echo is as good as an
//! advert for keeping Master_Down_Timer from firing, and it does not depend on the master's
//! scheduler, which on a loaded machine can hold even a realtime advert thread back for over a
//! millisecond.
//!
//! It also makes this backup's own lateness harmless: the master is declared down only once a
//! probe has gone unanswered for [`EchoConfig::timeout`]. A backup that slept through its
//! probes (it was late, not the master) sends one as soon as it runs again and waits for it,
//! and one that wakes much later than it should have does not count the probes it sent
//! before ([`EchoProber::woke`]): its whole node may have been frozen with it.
//!
//! What this buys, as a detection budget per fault, is stated and derived in
//! [`crate::vrrp::budget`].
use std::time::Duration;

use super::time::Instant;

/// The echo timeout never goes below this: above the kernel-to-kernel round trip of an
/// XDP-reflected probe on a loaded machine (ENVIRONMENT.md measured a 54 us maximum).
pub const MIN_DEFAULT_TIMEOUT: Duration = Duration::from_micros(100);

/// The liveness echo's timing, a detection budget the user sets, like BFD's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoConfig {
    /// How often a backup probes the master it follows.
    pub interval: Duration,
    /// How long a probe may go unanswered before the master may be declared down.
    pub timeout: Duration,
}

impl EchoConfig {
    /// Probes every `interval`, with the default timeout for it.
    pub fn every(interval: Duration) -> Self {
        Self {
            interval,
            timeout: Self::default_timeout(interval),
        }
    }

    /// `max(2 x interval, 100 us)`: one lost probe or echo is not a death, and the floor stays
    /// above the reflected round trip.
    pub fn default_timeout(interval: Duration) -> Duration {
        (2 * interval).max(MIN_DEFAULT_TIMEOUT)
    }
}

/// A probe to send now: the engine writes it through its echo socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// The Ethernet address the master advertised from.
    pub master_mac: [u8; 6],
    pub seq: u32,
}

/// One backup's probing of the master it follows.
#[derive(Debug, Clone)]
pub struct EchoProber {
    config: EchoConfig,
    /// Where the master is, learned from its driver-stamped adverts; nobody to probe until then.
    master_mac: Option<[u8; 6]>,
    seq: u32,
    next_probe: Instant,
    /// The send time of the oldest probe not answered yet.
    first_unanswered: Option<Instant>,
}

impl EchoProber {
    pub fn new(config: EchoConfig) -> Self {
        Self {
            config,
            master_mac: None,
            seq: 0,
            next_probe: Instant::ZERO,
            first_unanswered: None,
        }
    }

    /// New timing (a reload); the probes in flight keep their send times.
    pub fn reconfigure(&mut self, config: EchoConfig) {
        self.config = config;
    }

    /// The master this backup follows advertised from `mac`.
    pub fn master_is_at(&mut self, mac: [u8; 6]) {
        if self.master_mac != Some(mac) {
            self.master_mac = Some(mac);
            self.first_unanswered = None;
        }
    }

    /// Where the probes go, once the master's adverts showed it.
    pub fn master_mac(&self) -> Option<[u8; 6]> {
        self.master_mac
    }

    /// The master echoed.
    pub fn echoed(&mut self) {
        self.first_unanswered = None;
    }

    /// No master to probe (the router left Backup).
    pub fn forget(&mut self) {
        self.master_mac = None;
        self.first_unanswered = None;
    }

    /// When the next probe is due, if there is a master to probe.
    pub fn next_probe(&self) -> Option<Instant> {
        self.master_mac.map(|_| self.next_probe)
    }

    /// The router woke at `now` for work due at `due`. Much later than that (over half the
    /// timeout), this node may have been frozen whole, its kernel included (a hypervisor's
    /// pause): the echoes of the probes in flight may be held by the freeze rather than lost,
    /// and come out only after this wake-up. Their silence proves nothing, so the evidence
    /// starts again from a probe sent now. A late agent whose kernel ran has its echoes
    /// stamped in the ring and drained before this; for it the restart only costs a dead
    /// master's detection the time it was late.
    pub fn woke(&mut self, due: Instant, now: Instant) {
        if now.saturating_duration_since(due) > self.config.timeout / 2 {
            self.first_unanswered = None;
            self.next_probe = self.next_probe.min(now);
        }
    }

    /// The probe due at `now`, if one is.
    pub fn poll_probe(&mut self, now: Instant) -> Option<Probe> {
        let master_mac = self.master_mac?;
        if now < self.next_probe {
            return None;
        }
        self.seq = self.seq.wrapping_add(1);
        // A probe the engine cannot send is one the master cannot answer: it stays unanswered.
        self.first_unanswered.get_or_insert(now);
        self.next_probe = now.saturating_add(self.config.interval);
        Some(Probe {
            master_mac,
            seq: self.seq,
        })
    }

    /// The earliest time the echo lets the master be declared down; `None` when it has no
    /// say (nobody is probed). Until a probe is out, it is at least a timeout after the next.
    pub fn down_not_before(&self) -> Option<Instant> {
        self.master_mac?;
        let sent = self.first_unanswered.unwrap_or(self.next_probe);
        Some(sent.saturating_add(self.config.timeout))
    }

    /// Whether the master may be declared down at `now` as far as the echo can tell: it is not
    /// probed, or a probe has gone unanswered for the timeout.
    pub fn allows_down(&self, now: Instant) -> bool {
        match (self.master_mac, self.first_unanswered) {
            (None, _) => true,
            (Some(_), Some(sent)) => now >= sent.saturating_add(self.config.timeout),
            (Some(_), None) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

    fn at(micros: u64) -> Instant {
        Instant::from_micros(micros)
    }

    #[test]
    fn the_default_timeout_is_two_intervals_but_never_below_100us() {
        assert_eq!(
            EchoConfig::every(Duration::from_micros(200)).timeout,
            Duration::from_micros(400)
        );
        assert_eq!(
            EchoConfig::every(Duration::from_micros(30)).timeout,
            Duration::from_micros(100)
        );
    }

    #[test]
    fn nobody_to_probe_means_no_probe_and_no_objection() {
        let mut p = EchoProber::new(EchoConfig::every(Duration::from_micros(200)));
        assert_eq!(p.poll_probe(at(0)), None);
        assert_eq!(p.next_probe(), None);
        assert_eq!(p.down_not_before(), None);
        assert!(p.allows_down(at(0)));
    }

    #[test]
    fn an_unanswered_probe_allows_down_after_the_timeout_and_an_echo_takes_it_back() {
        let mut p = EchoProber::new(EchoConfig::every(Duration::from_micros(200)));
        p.master_is_at(MAC);
        assert!(!p.allows_down(at(0)), "not probed yet: wait for a probe");
        let probe = p.poll_probe(at(1_000)).unwrap();
        assert_eq!((probe.master_mac, probe.seq), (MAC, 1));
        assert_eq!(p.poll_probe(at(1_100)), None, "not due yet");
        assert_eq!(p.next_probe(), Some(at(1_200)));
        // The second probe keeps the first one's send time.
        assert_eq!(p.poll_probe(at(1_200)).unwrap().seq, 2);
        assert_eq!(p.down_not_before(), Some(at(1_400)));
        assert!(!p.allows_down(at(1_399)));
        assert!(p.allows_down(at(1_400)));
        p.echoed();
        assert!(!p.allows_down(at(1_400)));
        assert_eq!(p.down_not_before(), Some(at(1_800)));
    }

    #[test]
    fn a_wake_up_much_later_than_due_restarts_the_evidence_from_a_probe_sent_then() {
        let mut p = EchoProber::new(EchoConfig::every(Duration::from_micros(200)));
        p.master_is_at(MAC);
        p.poll_probe(at(1_000));
        // On time, or late by at most half the timeout: the probe in flight still counts.
        p.woke(at(1_200), at(1_400));
        assert!(p.allows_down(at(1_400)));
        // Frozen from 1_400 to 11_000: the first probe's silence proves nothing.
        p.woke(at(1_400), at(11_000));
        assert!(!p.allows_down(at(11_000)));
        assert_eq!(p.poll_probe(at(11_000)).unwrap().seq, 2, "asks at once");
        assert_eq!(p.down_not_before(), Some(at(11_400)));
        assert!(p.allows_down(at(11_400)));
    }

    #[test]
    fn a_new_master_and_forgetting_reset_the_unanswered_probe() {
        let mut p = EchoProber::new(EchoConfig::every(Duration::from_micros(200)));
        p.master_is_at(MAC);
        p.poll_probe(at(0));
        p.master_is_at(MAC);
        assert!(
            p.allows_down(at(400)),
            "the same master: the probe still counts"
        );
        p.master_is_at([2, 0, 0, 0, 0, 2]);
        assert!(!p.allows_down(at(400)));
        p.forget();
        assert!(p.allows_down(at(400)));
        assert_eq!(p.next_probe(), None);
    }
}
