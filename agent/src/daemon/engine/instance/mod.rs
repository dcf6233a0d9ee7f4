//! One VRRP instance at run time: its protocol state machine and the kernel objects it drives
//! (its VRRP socket, its announcement socket and plan, its VIPs). What its router asks for is
//! carried out in [`actions`]; what the XDP program is told about it, and reports of it, is in
//! [`xdp`].
use std::{
    net::IpAddr,
    os::fd::{AsFd, BorrowedFd},
    time::{Duration, SystemTime},
};
use tracing::{debug, warn};

mod actions;
mod xdp;

use super::{adverts::AdvertBytes, drop_log::DropLog, vips::VipInstaller};
use crate::{
    clock,
    control::{board::InstanceFeed, status::CheckStatus},
    dataplane::{
        netlink::Vip,
        packet::{
            AdvertProtocol, AnnouncePacer, AnnouncePlan, AnnounceSocket, EchoSocket, VrrpSocket,
        },
        xdp::{FollowedMaster, XdpMaps},
    },
    health::Effective,
    vrrp::{wire::ah::AhPacket, Instant, Router, RxMeta, State, TransitionReason},
};

/// What the engine reports to the rest of the daemon about an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The instance's name (indices change on reload; names are unique).
    pub instance: String,
    pub from: State,
    pub to: State,
    pub reason: TransitionReason,
    pub priority: u8,
    /// For a takeover after master loss: from the last advert seen to the decision.
    pub detection: Option<Duration>,
}

/// What setup builds for an instance before the XDP program is attached: the configuration's
/// part of an [`InstanceRuntime`]. A new configuration key reaches the engine through the
/// router's configuration, not through here.
pub struct InstanceParts {
    pub name: String,
    /// Publishes this instance's status to the control socket and metrics.
    pub feed: InstanceFeed,
    pub router: Router,
    pub socket: VrrpSocket,
    pub destinations: Vec<IpAddr>,
    pub announcer: AnnounceSocket,
    pub plan: AnnouncePlan,
    pub pacer: AnnouncePacer,
    /// Everything vipd installs for this instance while master (the VIPs and the excluded ones).
    pub vips: Vec<Vip>,
    /// Where the VIPs live unless configured on another device: the VRRP interface, or its
    /// virtual MAC interface. Only these VIPs are answered for by the XDP program.
    pub vip_ifindex: u32,
}

/// How an instance runs on the XDP program attached to its VRRP interface.
pub struct XdpBinding {
    /// The ifindex whose program reports the instance's adverts and answers ARP / NS for its
    /// VIPs.
    pub ifindex: u32,
    /// Where the router's liveness probes go out, for a fast-mode instance (the router's echo
    /// is on exactly when this is set).
    pub echo: Option<EchoSocket>,
    /// The dataplane the status reports: "xdp-driver" or "xdp-generic".
    pub dataplane: &'static str,
}

pub struct InstanceRuntime {
    name: String,
    feed: InstanceFeed,
    router: Router,
    socket: VrrpSocket,
    destinations: Vec<IpAddr>,
    announcer: AnnounceSocket,
    plan: AnnouncePlan,
    pacer: AnnouncePacer,
    vips: Vec<Vip>,
    /// The ifindex whose XDP program reports this instance's adverts and answers ARP / NS for
    /// its VIPs, if any ([`XdpBinding::ifindex`], cleared when the VRID cannot be watched).
    xdp_ifindex: Option<u32>,
    vip_ifindex: u32,
    echo: Option<EchoSocket>,
    /// False until the health supervisor has said the instance may start (keepalived stays in
    /// INIT while a weight-0 check has not reported).
    started: bool,
    /// When the newest advert from another router was seen, for the detection latency.
    last_advert_seen: Option<Instant>,
    /// The adverts this instance sends, as bytes.
    adverts: AdvertBytes,
    /// The master the XDP program was last told this instance follows (see
    /// [`XdpMaps::set_vrid_following`]).
    xdp_following: Option<FollowedMaster>,
    /// Paces the log lines of refused adverts.
    drop_log: DropLog,
}

impl InstanceRuntime {
    /// An instance not yet started, on sockets alone without `xdp`.
    pub fn new(parts: InstanceParts, xdp: Option<XdpBinding>) -> Self {
        let mut runtime = Self {
            name: parts.name,
            feed: parts.feed,
            router: parts.router,
            socket: parts.socket,
            destinations: parts.destinations,
            announcer: parts.announcer,
            plan: parts.plan,
            pacer: parts.pacer,
            vips: parts.vips,
            xdp_ifindex: None,
            vip_ifindex: parts.vip_ifindex,
            echo: None,
            started: false,
            last_advert_seen: None,
            adverts: AdvertBytes::default(),
            xdp_following: None,
            drop_log: DropLog::default(),
        };
        if let Some(binding) = xdp {
            runtime.feed.set_dataplane(binding.dataplane);
            runtime.router.set_echo(binding.echo.is_some());
            runtime.xdp_ifindex = Some(binding.ifindex);
            runtime.echo = binding.echo;
        }
        runtime
    }

    /// The instance's name, for the engine's logs.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The VRRP socket, for the engine's poller.
    pub fn socket_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// One wake-up of the engine at `now`: the protocol timeout if it is due, the router's
    /// actions, what the XDP program and the status are told, the announcements that are due.
    /// `socket_read` says whether this wake-up already read the VRRP socket. Returns when the
    /// instance next needs the engine.
    pub fn wake(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        socket_read: bool,
        vips: &mut VipInstaller,
        mut maps: Option<&mut XdpMaps>,
        transitions: &mut Vec<Transition>,
    ) -> Option<Instant> {
        if self.router.poll_timeout().is_some_and(|at| at <= now) {
            // A backup on sockets alone judges its master only after reading what its socket
            // holds, even if that arrived after the wake-up's ready list (with XDP the drained
            // ring has every advert, stamped at the driver).
            if self.xdp_ifindex.is_none() && self.router.state() == State::Backup && !socket_read {
                self.receive(buf);
            }
            self.router.handle_timeout(now);
        }
        self.run_actions(now, vips, maps.as_deref_mut(), transitions);
        self.publish_following(maps);
        self.feed.offer(now, &self.router);
        [
            self.router.poll_timeout().filter(|at| *at > now),
            self.announce(now),
            self.feed.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Starts the instance once its health allows, and keeps its priority and fault state
    /// current.
    pub fn apply_health(&mut self, now: Instant, effective: Effective) {
        match effective {
            Effective::Init => {}
            Effective::Priority(priority) => {
                self.router.set_priority(now, priority);
                self.router.set_fault(now, false);
                self.start(now);
            }
            Effective::Fault => {
                self.start(now);
                self.router.set_fault(now, true);
            }
        }
    }

    fn start(&mut self, now: Instant) {
        if !self.started {
            self.started = true;
            self.router.handle_startup(now);
        }
    }

    /// What the instance's checks and tracked interfaces look like now, for its status.
    pub fn set_tracking(&mut self, checks: Vec<CheckStatus>, interfaces: Vec<(String, bool)>) {
        for check in checks {
            self.feed.set_check(check);
        }
        for (name, up) in interfaces {
            self.feed.set_tracked_interface(&name, up);
        }
    }

    /// Gives the instance up (priority-0 adverts, VIPs removed) when its actions next run; an
    /// instance that never started holds nothing to give up.
    pub fn resign(&mut self, now: Instant) {
        if self.started {
            self.router.handle_shutdown(now);
        }
    }

    /// Reads every waiting packet, validates it and hands the good ones to the router, each
    /// with the time the kernel received it (or, when the kernel gave no stamp, the time we read
    /// it).
    pub fn receive(&mut self, buf: &mut [u8]) {
        let vrid = self.router.config().vrid;
        loop {
            let received = match self.socket.recv(buf) {
                Ok(received) => received,
                Err(e) if e.is_would_block() => return,
                Err(error) => {
                    debug!(instance = %self.name, %error, "unreadable VRRP packet");
                    continue;
                }
            };
            // Several instances can share an interface; another VRID is another instance's.
            // A malformed AH packet names no VRID: every AH instance counts it.
            let ours = match self.socket.protocol() {
                AdvertProtocol::Vrrp => received.payload.get(1) == Some(&vrid),
                AdvertProtocol::IpsecAh => AhPacket::split(received.payload)
                    .map_or(true, |packet| packet.message.get(1) == Some(&vrid)),
            };
            if !ours {
                continue;
            }
            let meta = received.meta;
            if let Some(drops) = meta.queue_drops {
                self.feed.set_socket_overflow(drops);
            }
            let at = clock::instant_of(meta.kernel_rx.unwrap_or(meta.recv_at));
            let rx = RxMeta {
                src: meta.source,
                dst: meta.destination,
                ttl: meta.ttl,
            };
            match self
                .router
                .validate(&rx, received.payload, SystemTime::now())
            {
                Ok(advert) => {
                    if self.started {
                        self.note_advert(at);
                        self.router.handle_advert(at, &advert);
                    }
                }
                Err(reason) => {
                    if let Some(unlogged) = self.drop_log.note(at) {
                        warn!(
                            instance = %self.name,
                            src = %meta.source,
                            %reason,
                            unlogged,
                            "advert dropped (one line per 10 s at most, the drop counters count every one)"
                        );
                    }
                }
            }
        }
    }

    /// An advert from `src` (Ethernet source `mac`) with `priority` seen by the XDP program at
    /// `at`: a liveness signal that is as early as any the kernel can give.
    /// With auth_hmac the record proves nothing (it carries no MAC): the router ignores it,
    /// and it is not taken as the last advert seen either; the verified copy from the socket
    /// is. With auth_type AH no record comes (the program matches protocol 112 only).
    fn master_seen(&mut self, at: Instant, src: IpAddr, priority: u8, mac: [u8; 6]) {
        if !self.started {
            return;
        }
        // Only a record the router counted as the followed master's is an advert seen: junk
        // records from anyone else must not move the detection-latency origin.
        if self.router.handle_master_seen(at, src, priority, mac) {
            self.note_advert(at);
        }
    }

    /// The master echoed one of our probes at `at` (see [`Router::handle_echo`]).
    fn echoed(&mut self, at: Instant) {
        if self.started && self.router.handle_echo(at) {
            self.note_advert(at);
        }
    }

    fn note_advert(&mut self, at: Instant) {
        if self.last_advert_seen.is_none_or(|seen| seen < at) {
            self.last_advert_seen = Some(at);
        }
    }

    /// Takes over the protocol state of the instance this one replaces on reload: the router
    /// keeps its state under the new configuration (a master stays master), and a master's
    /// addresses follow the new list at once.
    pub fn adopt(
        &mut self,
        previous: InstanceRuntime,
        now: Instant,
        vips: &mut VipInstaller,
        mut maps: Option<&mut XdpMaps>,
    ) {
        let config = self.router.config().clone();
        let mut router = previous.router;
        if let Err(error) = router.reconfigure(now, config) {
            warn!(instance = %self.name, %error, "reload: keeping the previous settings");
        }
        // A running prober keeps its probes in flight.
        router.set_echo(self.router.echo_carried());
        if router.state() == State::Master && previous.vips != self.vips {
            let dropped: Vec<_> = previous
                .vips
                .iter()
                .filter(|v| !self.vips.contains(v))
                .cloned()
                .collect();
            self.own_in_xdp(maps.as_deref_mut(), &dropped, false);
            vips.remove(&self.name, &dropped);
            vips.install(&self.name, &self.vips);
            self.own_in_xdp(maps, &self.vips, true);
            self.plan.became_master(now);
        }
        self.router = router;
        // Counters, the last transition and the latency histogram carry over.
        self.feed = previous.feed;
        self.started = previous.started;
        self.last_advert_seen = previous.last_advert_seen;
    }

    /// Sends the gratuitous ARPs / unsolicited NAs that are due; returns when the next one is.
    fn announce(&mut self, now: Instant) -> Option<Instant> {
        while let Some(announcement) = self.plan.poll_announcement(now) {
            self.pacer.push(now, announcement);
        }
        while let Some(announcement) = self.pacer.poll_announcement(now) {
            if let Err(error) = self.announcer.send(announcement) {
                warn!(instance = %self.name, %error, "cannot send announcement");
            }
        }
        [self.plan.poll_timeout(), self.pacer.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }
}
