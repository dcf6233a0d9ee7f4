//! The engine: one thread that runs every VRRP instance's protocol timing.
//!
//! VRRP timers below a millisecond cannot ride tokio's timer wheel (millisecond granularity), so
//! the engine sleeps in its own epoll loop ([`poller`]) with `epoll_pwait2` timed to the next
//! protocol deadline, optionally as a SCHED_FIFO thread ([`realtime`]). Before every decision it drains
//! the XDP advert ring (and, for an instance on sockets alone, its VRRP socket), so a
//! Master_Down_Timer never fires while an advert that arrived in time is still waiting to be
//! read; and it judges adverts by the time the driver or kernel saw them, so its own late
//! wake-ups do not count against the master.
//!
//! What a wake-up costs is paid every advert interval (100-200 us in fast mode), so the loop
//! reads only the sockets the poller reports, sends adverts from bytes kept between adverts
//! ([`adverts`]), and lets the XDP program record a followed master's routine adverts without
//! waking it (they only move a deadline the engine wakes for anyway).
//!
//! The slow parts of the daemon (health checks, link tracking, notify, control) live on tokio
//! and talk to the engine through [`EngineHandle`]; the engine reports transitions back over an
//! unbounded channel, which never blocks it.
mod adverts;
mod drop_log;
mod instance;
mod poller;
mod realtime;
pub(super) mod stop_signals;
mod vips;

pub use instance::{InstanceParts, InstanceRuntime, Transition, XdpBinding};
pub use vips::VipInstaller;
// The BFD thread waits and runs realtime the same way (daemon/bfd).
pub(super) use poller::{Poller, Waker};
pub(super) use realtime::make_current_thread_realtime;

use std::{os::fd::AsFd, sync::mpsc, thread::JoinHandle};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{error, info, warn};

use crate::control::{
    board::{Heartbeat, StatusBoard},
    status::CheckStatus,
};
use crate::{
    clock,
    dataplane::xdp::{AdvertRing, XdpMaps},
    health::Effective,
    vrrp::Instant,
};
use stop_signals::StopSignals;

/// What the rest of the daemon asks of the engine.
pub enum Command {
    /// The health supervisor's verdict for an instance: a priority, FAULT, or still INIT.
    Health {
        instance: usize,
        effective: Effective,
    },
    /// What the instance's checks and tracked interfaces look like now, for its status.
    Tracking {
        instance: usize,
        checks: Vec<CheckStatus>,
        interfaces: Vec<(String, bool)>,
    },
    /// A reloaded configuration: the new instances in order, each with the index of the running
    /// instance it replaces (same interface, VRID and family), whose protocol state it keeps.
    /// Running instances no one replaces resign and go.
    Reload(Vec<(Option<usize>, InstanceRuntime)>),
}

/// What the engine tells the rest of the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Transition(Transition),
    /// The engine has resigned everything and exited.
    Stopped,
}

/// The XDP program's advert ring and maps, when the XDP dataplane is in use. The engine is the
/// one writer of the maps: VRIDs to watch, VIPs to answer ARP / NS for, the heartbeat.
pub struct FastPath {
    pub adverts: AdvertRing,
    pub maps: XdpMaps,
    /// How often the dead-man heartbeat is stamped.
    pub heartbeat_every: std::time::Duration,
}

/// Everything the engine thread owns.
pub struct EngineSetup {
    pub instances: Vec<InstanceRuntime>,
    pub fast_path: Option<FastPath>,
    /// SCHED_FIFO priority for the engine thread, if realtime scheduling is configured.
    pub realtime_priority: Option<u8>,
    pub vips: VipInstaller,
    pub board: StatusBoard,
    /// The engine's liveness stamp for /healthz; retired when the engine stops.
    pub liveness: Option<Heartbeat>,
}

/// How often the XDP counters are copied to the status board.
const COUNTERS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The tokio side's handle on the engine thread.
pub struct EngineHandle {
    commands: mpsc::Sender<Command>,
    waker: Waker,
    thread: Option<JoinHandle<()>>,
}

impl EngineHandle {
    /// Sends `command` and wakes the engine; a stopped engine ignores it.
    pub fn send(&self, command: Command) {
        if self.commands.send(command).is_ok() {
            self.waker.wake();
        }
    }

    /// Waits for the engine thread to finish (after SIGTERM or SIGINT, see [`stop_signals`]).
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                error!("the engine thread panicked");
            }
        }
    }
}

/// Poller tokens: an instance's VRRP socket is registered with the instance's index, so a
/// wake-up reads only the sockets that have something. The ring is drained on every wake-up
/// whatever woke the engine (records of routine adverts do not wake it, see
/// `agent_common::VridConfig`).
const TOKEN_RING: u64 = poller::TOKEN_RESERVED - 1;
/// Acknowledgements of VIP adds.
const TOKEN_NETLINK: u64 = poller::TOKEN_RESERVED - 2;
/// SIGTERM or SIGINT pending.
const TOKEN_STOP: u64 = poller::TOKEN_RESERVED - 3;

fn instance_token(index: usize) -> u64 {
    index as u64
}

/// Starts the engine thread.
pub fn spawn(setup: EngineSetup, events: UnboundedSender<Event>) -> std::io::Result<EngineHandle> {
    let poller = Poller::new()?;
    let waker = poller.waker();
    let (commands, inbox) = mpsc::channel();
    for (index, instance) in setup.instances.iter().enumerate() {
        poller.register(instance.socket_fd(), instance_token(index))?;
    }
    if let Some(fast_path) = &setup.fast_path {
        poller.register(fast_path.adverts.as_fd(), TOKEN_RING)?;
    }
    poller.register(setup.vips.as_fd(), TOKEN_NETLINK)?;
    let stop_signals = StopSignals::open()?;
    poller.register(stop_signals.as_fd(), TOKEN_STOP)?;
    let thread = std::thread::Builder::new()
        .name("vipd-engine".into())
        .spawn(move || {
            let mut engine = Engine {
                setup,
                poller,
                inbox,
                events,
                stop_signals,
                stopping: false,
                next_heartbeat: Instant::ZERO,
                next_counters: Instant::ZERO,
            };
            for index in 0..engine.setup.instances.len() {
                engine.watch_vrid(index);
            }
            engine.run();
        })?;
    Ok(EngineHandle {
        commands,
        waker,
        thread: Some(thread),
    })
}

struct Engine {
    setup: EngineSetup,
    poller: Poller,
    inbox: mpsc::Receiver<Command>,
    events: UnboundedSender<Event>,
    /// SIGTERM and SIGINT: every instance resigns (priority-0 adverts, VIPs removed) and the
    /// engine stops.
    stop_signals: StopSignals,
    stopping: bool,
    /// When the XDP dead-man heartbeat is next due.
    next_heartbeat: Instant,
    /// When the XDP counters are next copied to the status board.
    next_counters: Instant,
}

impl Engine {
    fn run(&mut self) {
        if let Some(priority) = self.setup.realtime_priority {
            match realtime::make_current_thread_realtime(priority) {
                Ok(()) => info!(priority, "engine thread runs SCHED_FIFO"),
                Err(error) => warn!(%error, "cannot make the engine thread realtime"),
            }
        }
        let mut buf = vec![0u8; 2048];
        let mut transitions = Vec::new();
        let mut ready = Vec::new();
        loop {
            self.drain_commands(&mut transitions);
            self.drain_ring();
            for &token in &ready {
                if token == TOKEN_NETLINK {
                    self.setup.vips.acknowledged();
                } else if token == TOKEN_STOP {
                    self.stop_on_signal();
                } else if let Some(instance) = usize::try_from(token)
                    .ok()
                    .and_then(|index| self.setup.instances.get_mut(index))
                {
                    instance.receive(&mut buf);
                }
            }
            let now = clock::now();
            if let Some(liveness) = &self.setup.liveness {
                liveness.beat(now);
            }
            self.publish_counters(now);
            let mut deadline = [
                self.heartbeat(now),
                self.setup.liveness.as_ref().map(Heartbeat::next_due),
                self.setup.fast_path.is_some().then_some(self.next_counters),
            ]
            .into_iter()
            .flatten()
            .min();
            let mut maps = self.setup.fast_path.as_mut().map(|f| &mut f.maps);
            for (index, instance) in self.setup.instances.iter_mut().enumerate() {
                let next = instance.wake(
                    now,
                    &mut buf,
                    ready.contains(&instance_token(index)),
                    &mut self.setup.vips,
                    maps.as_deref_mut(),
                    &mut transitions,
                );
                deadline = [deadline, next].into_iter().flatten().min();
            }
            for transition in transitions.drain(..) {
                let _ = self.events.send(Event::Transition(transition));
            }
            if self.stopping {
                break;
            }
            if let Err(error) = self.poller.wait(deadline, &mut ready) {
                error!(%error, "engine wait failed");
                break;
            }
        }
        if let Some(liveness) = self.setup.liveness.take() {
            liveness.retire();
        }
        let _ = self.events.send(Event::Stopped);
    }

    /// Stamps the XDP dead-man heartbeat when it is due; returns when it is next due. A wake-up
    /// in the second half of the period stamps it early: in fast mode the engine wakes every
    /// advert interval anyway, and a stamp that rides along costs no wake-up of its own, while
    /// stamps stay at most one period apart.
    fn heartbeat(&mut self, now: Instant) -> Option<Instant> {
        let fast_path = self.setup.fast_path.as_mut()?;
        if now.saturating_add(fast_path.heartbeat_every / 2) >= self.next_heartbeat {
            if let Err(error) = fast_path.maps.heartbeat(now.as_micros() * 1_000) {
                warn!(%error, "cannot stamp the XDP heartbeat");
            }
            self.next_heartbeat = now.saturating_add(fast_path.heartbeat_every);
        }
        Some(self.next_heartbeat)
    }

    /// Copies the XDP program's counters to the status board when due.
    fn publish_counters(&mut self, now: Instant) {
        let Some(fast_path) = &self.setup.fast_path else {
            return;
        };
        if now < self.next_counters {
            return;
        }
        self.next_counters = now.saturating_add(COUNTERS_EVERY);
        match fast_path.maps.counters() {
            Ok(counters) => self.setup.board.set_xdp_counters(counters),
            Err(error) => warn!(%error, "cannot read the XDP counters"),
        }
    }

    /// Registers instance `index`'s VRID with the XDP program, so its adverts are recorded.
    fn watch_vrid(&mut self, index: usize) {
        if let (Some(fast_path), Some(instance)) = (
            self.setup.fast_path.as_mut(),
            self.setup.instances.get_mut(index),
        ) {
            instance.watch_vrid(&mut fast_path.maps);
        }
    }

    fn drain_commands(&mut self, transitions: &mut Vec<Transition>) {
        let now = clock::now();
        while let Ok(command) = self.inbox.try_recv() {
            match command {
                Command::Health {
                    instance,
                    effective,
                } => {
                    if let Some(instance) = self.setup.instances.get_mut(instance) {
                        instance.apply_health(now, effective);
                    }
                }
                Command::Tracking {
                    instance,
                    checks,
                    interfaces,
                } => {
                    if let Some(instance) = self.setup.instances.get_mut(instance) {
                        instance.set_tracking(checks, interfaces);
                    }
                }
                Command::Reload(slots) => self.reload(now, slots, transitions),
            }
        }
    }

    /// A pending SIGTERM or SIGINT: every instance resigns when its actions next run, in this
    /// same wake-up, and the engine stops after it.
    fn stop_on_signal(&mut self) {
        let Some(signal) = self.stop_signals.take() else {
            return;
        };
        if !self.stopping {
            info!(signal = signal.as_str(), "stopping: every instance resigns");
            let now = clock::now();
            for instance in &mut self.setup.instances {
                instance.resign(now);
            }
            self.stopping = true;
        }
    }

    /// Swaps in the reloaded instances; see [`Command::Reload`].
    fn reload(
        &mut self,
        now: Instant,
        slots: Vec<(Option<usize>, InstanceRuntime)>,
        transitions: &mut Vec<Transition>,
    ) {
        let mut running: Vec<Option<InstanceRuntime>> = std::mem::take(&mut self.setup.instances)
            .into_iter()
            .map(Some)
            .collect();
        for (replaces, mut fresh) in slots {
            if let Some(previous) = replaces
                .and_then(|i| running.get_mut(i))
                .and_then(Option::take)
            {
                let maps = self.setup.fast_path.as_mut().map(|f| &mut f.maps);
                fresh.adopt(previous, now, &mut self.setup.vips, maps);
            }
            let token = instance_token(self.setup.instances.len());
            if let Err(error) = self.poller.register(fresh.socket_fd(), token) {
                error!(instance = %fresh.name(), %error, "cannot watch the reloaded socket");
            }
            self.setup.instances.push(fresh);
            self.watch_vrid(self.setup.instances.len() - 1);
        }
        let mut maps = self.setup.fast_path.as_mut().map(|f| &mut f.maps);
        for mut gone in running.into_iter().flatten() {
            info!(instance = %gone.name(), "instance removed by reload");
            gone.resign(now);
            gone.run_actions(now, &mut self.setup.vips, maps.as_deref_mut(), transitions);
            if let Some(maps) = maps.as_deref_mut() {
                gone.unwatch_vrid(maps, &self.setup.instances);
            }
        }
    }

    fn drain_ring(&mut self) {
        let Some(FastPath { adverts: ring, .. }) = &mut self.setup.fast_path else {
            return;
        };
        while let Some(advert) = ring.try_next() {
            for instance in &mut self.setup.instances {
                instance.handle_record(&advert);
            }
        }
    }
}
