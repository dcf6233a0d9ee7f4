//! Carrying out what an instance's router asks for: adverts, probes, the VIPs, announcements
//! and the transitions the engine reports, in the router's order.
use std::time::{Duration, SystemTime};
use tracing::{debug, info, warn};

use super::{InstanceRuntime, Transition};
use crate::{
    clock,
    daemon::engine::vips::VipInstaller,
    dataplane::xdp::XdpMaps,
    vrrp::{Action, Instant, State, TransitionReason},
};

/// When the hops of a takeover happened, logged once the takeover's work is done: a log line is
/// a write(2), which would otherwise stand between the map update, the address and the first
/// announcement. `cargo xtask bench takeover` reads the `at_mono_ns` fields.
#[derive(Default)]
struct TakeoverHops {
    xdp_owned: Option<Instant>,
    announced: Option<Instant>,
}

impl TakeoverHops {
    fn log(&self, instance: &str) {
        if let Some(at) = self.xdp_owned {
            info!(
                instance,
                own = true,
                at_mono_ns = nanos(at),
                "XDP owned-VIP map updated"
            );
        }
        if let Some(at) = self.announced {
            info!(instance, at_mono_ns = nanos(at), "first announcement sent");
        }
    }
}

fn nanos(at: Instant) -> u64 {
    at.as_micros() * 1_000
}

impl InstanceRuntime {
    /// Carries out what the router asked for, in its order; returns the transitions. Taking
    /// over, that is: the addresses (in the kernel when `install` returns), the XDP map, the
    /// first announcement, the advert, and only then the logs.
    pub fn run_actions(
        &mut self,
        now: Instant,
        vips: &mut VipInstaller,
        mut maps: Option<&mut XdpMaps>,
        transitions: &mut Vec<Transition>,
    ) {
        let mut hops = TakeoverHops::default();
        while let Some(action) = self.router.poll_action() {
            match action {
                Action::SendAdvert { priority } => self.send_advert(priority),
                Action::SendProbe { master_mac, seq } => self.send_probe(master_mac, seq),
                Action::AddVips(_) => {
                    // The kernel holds the addresses when `install` returns; the driver answers
                    // ARP / NS for them from then on, never before.
                    vips.install(&self.name, &self.vips);
                    if self.own_in_xdp(maps.as_deref_mut(), &self.vips, true) {
                        hops.xdp_owned = Some(clock::now());
                    }
                }
                Action::RemoveVips(_) => {
                    // Stop answering before the address goes, never after.
                    if self.own_in_xdp(maps.as_deref_mut(), &self.vips, false) {
                        info!(instance = %self.name, own = false, "XDP owned-VIP map updated");
                    }
                    vips.remove(&self.name, &self.vips);
                }
                Action::AnnounceVips(_) => {
                    self.plan.became_master(now);
                    // What is due at once goes now, not after the advert and the logs.
                    self.announce(clock::now());
                    hops.announced = Some(clock::now());
                }
                Action::ReannounceVips(_) => {
                    self.plan.lower_priority_advert(now);
                }
                Action::StateChanged { from, to, reason } => {
                    self.feed.record_transition(from, to, reason, now);
                    if from == State::Master {
                        self.plan.left_master();
                        self.pacer.cancel(self.plan.vips());
                    }
                    let detection = (reason == TransitionReason::MasterDown)
                        .then_some(self.last_advert_seen)
                        .flatten()
                        .map(|seen| {
                            Duration::from_micros(now.as_micros().saturating_sub(seen.as_micros()))
                        });
                    if let Some(latency) = detection {
                        self.feed.record_detection_latency(latency);
                    }
                    info!(
                        instance = %self.name,
                        ?from,
                        ?to,
                        ?reason,
                        priority = self.router.effective_priority(),
                        detection_us = detection.map(|d| d.as_micros() as u64),
                        at_mono_ns = nanos(now),
                        "state changed"
                    );
                    transitions.push(Transition {
                        instance: self.name.clone(),
                        from,
                        to,
                        reason,
                        priority: self.router.effective_priority(),
                        detection,
                    });
                }
            }
        }
        hops.log(&self.name);
    }

    fn send_advert(&mut self, priority: u8) {
        let packets = match self.adverts.get(
            &mut self.router,
            &self.destinations,
            priority,
            SystemTime::now(),
        ) {
            Ok(packets) => packets,
            Err(error) => {
                warn!(instance = %self.name, %error, "cannot build advert");
                return;
            }
        };
        for (bytes, &destination) in packets.iter().zip(&self.destinations) {
            if let Err(error) = self.socket.send_advert(bytes, destination) {
                warn!(instance = %self.name, %destination, %error, "cannot send advert");
            }
        }
    }

    /// A probe that cannot be sent is one the master cannot answer: the router counts it as
    /// unanswered all the same.
    fn send_probe(&self, master_mac: [u8; 6], seq: u32) {
        let Some(socket) = &self.echo else {
            return;
        };
        let config = self.router.config();
        let family = config.family();
        if let Err(error) = socket.send_probe(master_mac, config.vrid, family, seq) {
            debug!(instance = %self.name, %error, "cannot send echo probe");
        }
    }
}
