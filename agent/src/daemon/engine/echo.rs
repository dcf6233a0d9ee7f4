//! The backup's side of the liveness echo (see `agent_common::ETH_P_VIPD_ECHO`).
//!
//! In fast mode a backup sends the master it follows a probe every advert interval; the
//! master's XDP program reflects it and this node's XDP program stamps the echo. An echo is as
//! good as an advert for keeping Master_Down_Timer from firing, but it does not depend on the
//! master's scheduler, which on a loaded machine can hold a realtime advert thread back for
//! over a millisecond.
//!
//! It also makes this backup's own lateness harmless: the master is declared down only once a
//! probe has gone unanswered for `timeout`. If this engine slept through its probes (it was
//! late, not the master), the first thing it does on waking is send one and wait for it.
use std::time::Duration;

use crate::{
    dataplane::packet::{EchoSocket, IpFamily},
    vrrp::Instant,
};

pub struct EchoProber {
    socket: EchoSocket,
    interval: Duration,
    timeout: Duration,
    master_mac: Option<[u8; 6]>,
    seq: u32,
    next_probe: Instant,
    /// The send time of the oldest probe not answered yet.
    first_unanswered: Option<Instant>,
}

impl EchoProber {
    /// Probes every `interval`; an echo later than twice that (at least 100 us, above the
    /// kernel-to-kernel round trip on a loaded machine) leaves its probe unanswered.
    pub fn new(socket: EchoSocket, interval: Duration) -> Self {
        Self {
            socket,
            interval,
            timeout: (2 * interval).max(Duration::from_micros(100)),
            master_mac: None,
            seq: 0,
            next_probe: Instant::ZERO,
            first_unanswered: None,
        }
    }

    /// The master this backup follows advertised from `mac`.
    pub fn master_is_at(&mut self, mac: [u8; 6]) {
        if self.master_mac != Some(mac) {
            self.master_mac = Some(mac);
            self.first_unanswered = None;
        }
    }

    /// The master echoed.
    pub fn echoed(&mut self) {
        self.first_unanswered = None;
    }

    /// No master to probe (this router left Backup, or follows nobody).
    pub fn forget(&mut self) {
        self.master_mac = None;
        self.first_unanswered = None;
    }

    /// Sends a probe when one is due; returns when the next one is.
    pub fn poll(&mut self, now: Instant, vrid: u8, family: IpFamily) -> Option<Instant> {
        let mac = self.master_mac?;
        if now >= self.next_probe {
            self.seq = self.seq.wrapping_add(1);
            // A probe that cannot be sent is one the master cannot answer; it stays unanswered.
            let _ = self.socket.send_probe(mac, vrid, family, self.seq);
            self.first_unanswered.get_or_insert(now);
            self.next_probe = now.saturating_add(self.interval);
        }
        Some(self.next_probe)
    }

    /// Whether the master may be declared down at `now` as far as the echo can tell: it is not
    /// probed, or a probe has gone unanswered for the timeout. Otherwise, when to ask again.
    pub fn verdict(&self, now: Instant) -> Result<(), Instant> {
        if self.master_mac.is_none() {
            return Ok(());
        }
        match self.first_unanswered {
            Some(sent) if now >= sent.saturating_add(self.timeout) => Ok(()),
            Some(sent) => Err(sent.saturating_add(self.timeout)),
            None => Err(self.next_probe.max(now).saturating_add(self.timeout)),
        }
    }
}
