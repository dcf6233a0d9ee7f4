//! The status board: where the daemon's loops publish what they know and where the control
//! socket and the metrics read it.
//!
//! The engine must never wait for a reader. Each instance therefore has its own
//! [`InstanceFeed`], owned by the loop that drives the instance: the loop records into it
//! without any lock (transitions, detection latencies, check results) and publishes an immutable
//! copy ([`Arc<InstanceStatus>`]) into a `tokio::sync::watch` channel at most every
//! [`PUBLISH_INTERVAL`], and at once on a state change. A publish holds the channel's lock only
//! to swap one pointer; a reader holds it only to clone one pointer, then serialises at
//! leisure. So a slow `vipd status` or a slow scrape costs the engine nothing, and thousands
//! of events per second cost it one comparison each.
//!
//! Liveness for `/healthz` is a set of [`Heartbeat`]s, one per loop: an atomic timestamp the loop
//! stores into as it goes round.
//!
//! How the daemon uses it (all `now` values are CLOCK_MONOTONIC [`Instant`]s, as the router's):
//!
//! ```text
//! let board = StatusBoard::new(DaemonInfo { router_id, dataplane: "xdp".into() });
//! // per instance, moved into the thread that drives its router:
//! let mut feed = board.add_instance(InstanceIdentity { name, interface, dataplane }, &router);
//! let heartbeat = board.heartbeat("engine", Duration::from_secs(1));
//! loop {
//!     // ... router.handle_advert / handle_timeout(now) ...
//!     while let Some(action) = router.poll_action() {
//!         // carry the action out first, then:
//!         if let Action::StateChanged { from, to, reason } = action {
//!             feed.record_transition(from, to, reason, now);
//!         }
//!     }
//!     feed.offer(now, &router);
//!     heartbeat.beat(now);
//!     // sleep until the earliest of router.poll_timeout(), feed.deadline() and
//!     // heartbeat.next_due()
//! }
//! heartbeat.retire();
//! // on tokio: ControlServer::bind(path)?.serve(board.clone(), shutdown)
//! //           MetricsServer::bind(addr).await?.serve(board.clone(), shutdown)
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::clock;
use super::histogram::LatencyHistogram;
use super::status::{
    AuthHmacStatus, BfdSessionStatus, CheckStatus, DaemonStatus, InstanceStatus, Snapshot,
    StateName, TrackedInterfaceStatus, TransitionStatus,
};
use crate::dataplane::xdp::XdpCounters;
use crate::vrrp::{wire::V2Auth, Instant, Router, State, TransitionReason};

/// The longest a counter change waits before readers can see it; state changes are published
/// at once.
pub const PUBLISH_INTERVAL: Duration = Duration::from_millis(10);

/// What the daemon says about itself when it creates the board.
#[derive(Debug, Clone)]
pub struct DaemonInfo {
    pub router_id: String,
    /// "xdp" or "socket".
    pub dataplane: String,
}

/// A cheap, cloneable handle on the daemon's status.
#[derive(Clone)]
pub struct StatusBoard {
    inner: Arc<Inner>,
}

struct Inner {
    info: DaemonInfo,
    started_wall: String,
    started: Instant,
    instances: Mutex<Vec<watch::Receiver<Arc<InstanceStatus>>>>,
    xdp: Mutex<Option<XdpCounters>>,
    bfd: Mutex<Vec<BfdSessionStatus>>,
    heartbeats: Mutex<Vec<Arc<HeartbeatSlot>>>,
}

impl StatusBoard {
    pub fn new(info: DaemonInfo) -> StatusBoard {
        let started = crate::clock::now();
        StatusBoard {
            inner: Arc::new(Inner {
                info,
                started_wall: clock::rfc3339(clock::wall_clock_of(started)),
                started,
                instances: Mutex::new(Vec::new()),
                xdp: Mutex::new(None),
                bfd: Mutex::new(Vec::new()),
                heartbeats: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Registers an instance and publishes its first status from `router`. The instance
    /// disappears from the board when the returned feed is dropped (it was stopped or removed
    /// by a reload).
    pub fn add_instance(&self, identity: InstanceIdentity, router: &Router) -> InstanceFeed {
        let recorded = Recorded {
            identity,
            last_transition: None,
            transitions: 0,
            detection: LatencyHistogram::new(),
            checks: Vec::new(),
            tracked: Vec::new(),
            socket_overflow: 0,
        };
        let (tx, rx) = watch::channel(Arc::new(recorded.build(router)));
        lock(&self.inner.instances).push(rx);
        InstanceFeed {
            recorded,
            tx,
            last_published: crate::clock::now(),
            published_state: router.state(),
            urgent: false,
            pending: false,
        }
    }

    /// The XDP program's counters as last read from its maps.
    pub fn set_xdp_counters(&self, counters: XdpCounters) {
        *lock(&self.inner.xdp) = Some(counters);
    }

    /// The BFD sessions as the BFD thread last published them.
    pub fn set_bfd(&self, sessions: Vec<BfdSessionStatus>) {
        *lock(&self.inner.bfd) = sessions;
    }

    /// A heartbeat for one of the daemon's loops: `/healthz` fails once it has been silent for
    /// longer than `max_silence`, and stays failed if it is dropped without
    /// [`Heartbeat::retire`] (the loop died, perhaps by a panic).
    pub fn heartbeat(&self, name: impl Into<String>, max_silence: Duration) -> Heartbeat {
        let slot = Arc::new(HeartbeatSlot {
            name: name.into(),
            max_silence,
            last_beat_us: AtomicU64::new(crate::clock::now().as_micros()),
            retired: AtomicBool::new(false),
        });
        lock(&self.inner.heartbeats).push(Arc::clone(&slot));
        Heartbeat { slot }
    }

    /// Loops whose heartbeat is older than they promised, as of `now`.
    pub fn liveness(&self, now: Instant) -> Liveness {
        let mut heartbeats = lock(&self.inner.heartbeats);
        heartbeats.retain(|slot| !slot.retired.load(Ordering::Relaxed));
        let stale = heartbeats
            .iter()
            .filter_map(|slot| {
                let last = Instant::from_micros(slot.last_beat_us.load(Ordering::Relaxed));
                let silent_for = now.saturating_duration_since(last);
                (silent_for > slot.max_silence).then(|| StaleLoop {
                    name: slot.name.clone(),
                    silent_for,
                })
            })
            .collect();
        Liveness {
            loops: heartbeats.len(),
            stale,
        }
    }

    /// Everything, with ages as of now.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_at(crate::clock::now())
    }

    /// Everything, with ages as of `now` (CLOCK_MONOTONIC).
    pub fn snapshot_at(&self, now: Instant) -> Snapshot {
        let published: Vec<Arc<InstanceStatus>> = {
            let mut instances = lock(&self.inner.instances);
            // A closed channel is an instance whose feed was dropped.
            instances.retain(|rx| rx.has_changed().is_ok());
            instances
                .iter()
                .map(|rx| Arc::clone(&rx.borrow()))
                .collect()
        };
        let mut instances: Vec<InstanceStatus> = published
            .iter()
            .map(|status| {
                let mut status = InstanceStatus::clone(status);
                if let Some(t) = status.last_transition.as_mut() {
                    t.seconds_ago =
                        clock::seconds_between(Instant::from_micros(t.at_monotonic_us), now);
                }
                status
            })
            .collect();
        instances.sort_by(|a, b| a.name.cmp(&b.name));
        let info = &self.inner.info;
        Snapshot {
            daemon: DaemonStatus {
                version: env!("CARGO_PKG_VERSION").to_string(),
                pid: std::process::id(),
                router_id: info.router_id.clone(),
                dataplane: info.dataplane.clone(),
                started_at: self.inner.started_wall.clone(),
                uptime_seconds: clock::seconds_between(self.inner.started, now),
                xdp: *lock(&self.inner.xdp),
            },
            instances,
            bfd: lock(&self.inner.bfd).clone(),
        }
    }
}

/// The parts of an instance's status that its router does not know.
#[derive(Debug, Clone)]
pub struct InstanceIdentity {
    pub name: String,
    pub interface: String,
    /// How adverts are received: "xdp-driver", "xdp-generic" or "socket".
    pub dataplane: String,
}

/// One instance's publisher, owned by the loop that drives its [`Router`].
///
/// The loop records events as they happen and calls [`InstanceFeed::offer`] after handling
/// each batch of events (after draining the router's actions). `offer` publishes when the last
/// publish is [`PUBLISH_INTERVAL`] old or the state changed; otherwise it remembers that an
/// update is pending, and [`InstanceFeed::deadline`] says when the loop should wake to offer
/// again so that the last change is never left unpublished.
pub struct InstanceFeed {
    recorded: Recorded,
    tx: watch::Sender<Arc<InstanceStatus>>,
    last_published: Instant,
    published_state: State,
    urgent: bool,
    pending: bool,
}

/// What the loop recorded that the router does not keep.
struct Recorded {
    identity: InstanceIdentity,
    last_transition: Option<Transition>,
    transitions: u64,
    detection: LatencyHistogram,
    checks: Vec<CheckStatus>,
    tracked: Vec<TrackedInterfaceStatus>,
    /// The VRRP socket's receive-queue drops, as the kernel last reported them.
    socket_overflow: u64,
}

impl InstanceFeed {
    /// A state change (from the router's `Action::StateChanged`) that happened at `at`; the
    /// next [`InstanceFeed::offer`] publishes.
    pub fn record_transition(
        &mut self,
        from: State,
        to: State,
        reason: TransitionReason,
        at: Instant,
    ) {
        self.recorded.last_transition = Some(Transition {
            from,
            to,
            reason,
            at,
            // Read now, formatted at publish: the takeover path pays two clock reads, no
            // formatting.
            wall: clock::wall_clock_of(at),
        });
        self.recorded.transitions = self.recorded.transitions.saturating_add(1);
        self.urgent = true;
    }

    /// How long this backup took to decide the master was gone: from the last advert seen to
    /// the master-down decision.
    pub fn record_detection_latency(&mut self, latency: Duration) {
        self.recorded.detection.record(latency);
        self.pending = true;
    }

    /// A check's latest result (replaces the entry with the same name).
    pub fn set_check(&mut self, check: CheckStatus) {
        match self
            .recorded
            .checks
            .iter_mut()
            .find(|c| c.name == check.name)
        {
            Some(entry) => *entry = check,
            None => self.recorded.checks.push(check),
        }
        self.pending = true;
    }

    /// The kernel reported the instance's VRRP socket had dropped `drops` packets so far for a
    /// full receive queue (see `RecvMeta::queue_drops`).
    pub fn set_socket_overflow(&mut self, drops: u32) {
        let drops = u64::from(drops);
        if drops != self.recorded.socket_overflow {
            self.recorded.socket_overflow = drops;
            self.pending = true;
        }
    }

    /// A tracked interface went up or down.
    pub fn set_tracked_interface(&mut self, name: &str, up: bool) {
        match self.recorded.tracked.iter_mut().find(|t| t.name == name) {
            Some(entry) => entry.up = up,
            None => self.recorded.tracked.push(TrackedInterfaceStatus {
                name: name.to_string(),
                up,
            }),
        }
        self.pending = true;
    }

    /// After the XDP program was attached, detached or fell back to sockets.
    pub fn set_dataplane(&mut self, dataplane: impl Into<String>) {
        self.recorded.identity.dataplane = dataplane.into();
        self.urgent = true;
    }

    /// Something changed at `now`: publish if due (see the type's docs), else remember.
    pub fn offer(&mut self, now: Instant, router: &Router) {
        let due = self.urgent
            || router.state() != self.published_state
            || now.saturating_duration_since(self.last_published) >= PUBLISH_INTERVAL;
        if due {
            self.publish(now, router);
        } else {
            self.pending = true;
        }
    }

    /// When an unpublished change becomes due, if there is one: the loop should wake then and
    /// call [`InstanceFeed::offer`].
    pub fn deadline(&self) -> Option<Instant> {
        self.pending
            .then(|| self.last_published.saturating_add(PUBLISH_INTERVAL))
    }

    fn publish(&mut self, now: Instant, router: &Router) {
        // send_replace stores even when no reader holds a receiver at the moment.
        self.tx.send_replace(Arc::new(self.recorded.build(router)));
        self.last_published = now;
        self.published_state = router.state();
        self.urgent = false;
        self.pending = false;
    }
}

#[derive(Clone, Copy)]
struct Transition {
    from: State,
    to: State,
    reason: TransitionReason,
    at: Instant,
    wall: SystemTime,
}

impl Recorded {
    fn build(&self, router: &Router) -> InstanceStatus {
        let config = router.config();
        let stats = router.stats();
        InstanceStatus {
            name: self.identity.name.clone(),
            interface: self.identity.interface.clone(),
            vrid: config.vrid,
            family: config.family(),
            version: match config.version {
                crate::vrrp::Version::V2 => 2,
                crate::vrrp::Version::V3 => 3,
            },
            dataplane: self.identity.dataplane.clone(),
            state: StateName::from(router.state()),
            base_priority: config.priority,
            effective_priority: router.effective_priority(),
            master: router.current_master(),
            master_adver_interval_us: micros(router.master_adver_interval()),
            master_down_interval_us: micros(router.master_down_interval()),
            last_transition: self.last_transition.map(|t| TransitionStatus {
                from: t.from.into(),
                to: t.to.into(),
                reason: t.reason.into(),
                at: clock::rfc3339(t.wall),
                at_monotonic_us: t.at.as_micros(),
                seconds_ago: 0.0,
            }),
            transitions: self.transitions,
            adverts_in: stats.adverts_received,
            adverts_out: stats.adverts_sent,
            priority_zero_in: stats.priority_zero_received,
            priority_zero_out: stats.priority_zero_sent,
            lower_priority_claims: stats.lower_priority_claims,
            socket_overflow: self.socket_overflow,
            drops: router
                .drop_counters()
                .iter()
                .map(|(reason, n)| (reason.name().to_string(), n))
                .collect(),
            auth_type: match config.v2_auth {
                V2Auth::None => None,
                V2Auth::SimplePassword(_) => Some("PASS".to_string()),
                V2Auth::IpsecAh => Some("AH".to_string()),
            },
            auth_hmac: config.auth_hmac.as_ref().map(AuthHmacStatus::from),
            checks: self.checks.clone(),
            tracked_interfaces: self.tracked.clone(),
            detection_latency: self.detection.status(),
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// One loop's liveness stamp.
pub struct Heartbeat {
    slot: Arc<HeartbeatSlot>,
}

struct HeartbeatSlot {
    name: String,
    max_silence: Duration,
    last_beat_us: AtomicU64,
    retired: AtomicBool,
}

impl Heartbeat {
    /// The loop is alive at `now` (CLOCK_MONOTONIC); one relaxed atomic store.
    pub fn beat(&self, now: Instant) {
        self.slot
            .last_beat_us
            .fetch_max(now.as_micros(), Ordering::Relaxed);
    }

    /// When the loop should beat next at the latest: a quarter of its allowed silence after the
    /// last beat, so that a loop with nothing else to do (every instance idle in FAULT) wakes
    /// for it and a late wake-up still has slack before `/healthz` fails.
    pub fn next_due(&self) -> Instant {
        let last = Instant::from_micros(self.slot.last_beat_us.load(Ordering::Relaxed));
        last.saturating_add(self.slot.max_silence / 4)
    }

    /// The loop ended on purpose (shutdown, instance removed by a reload): stop watching it.
    pub fn retire(self) {
        self.slot.retired.store(true, Ordering::Relaxed);
    }
}

/// What `/healthz` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Liveness {
    /// Loops being watched.
    pub loops: usize,
    pub stale: Vec<StaleLoop>,
}

impl Liveness {
    pub fn is_alive(&self) -> bool {
        self.stale.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StaleLoop {
    pub name: String,
    pub silent_for: Duration,
}

/// The board's mutexes guard plain data that a panicking holder cannot leave half-written in a
/// way that matters for a status display, so a poisoned lock is used as is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vrrp::{RouterConfig, RxMeta};
    use std::net::{IpAddr, Ipv4Addr};

    const ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    fn router() -> Router {
        let vip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));
        Router::new(RouterConfig::v3(51, 100, ADDR, vec![vip])).unwrap()
    }

    fn board() -> StatusBoard {
        StatusBoard::new(DaemonInfo {
            router_id: "node-a".to_string(),
            dataplane: "socket".to_string(),
        })
    }

    fn identity(name: &str) -> InstanceIdentity {
        InstanceIdentity {
            name: name.to_string(),
            interface: "eth0".to_string(),
            dataplane: "socket".to_string(),
        }
    }

    /// Counts one dropped (truncated) message in the router.
    fn drop_one(router: &mut Router) {
        let meta = RxMeta {
            src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
            dst: IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)),
            ttl: 255,
        };
        assert!(router
            .validate(&meta, &[0x31, 51], std::time::UNIX_EPOCH)
            .is_err());
    }

    fn truncated(board: &StatusBoard) -> u64 {
        board.snapshot().instances[0].drops["truncated"]
    }

    #[test]
    fn a_new_instance_is_on_the_board_at_once() {
        let board = board();
        let router = router();
        let _feed = board.add_instance(identity("vi_1"), &router);
        let snapshot = board.snapshot();
        assert_eq!(snapshot.daemon.router_id, "node-a");
        let i = &snapshot.instances[0];
        assert_eq!((i.name.as_str(), i.vrid, i.version), ("vi_1", 51, 3));
        assert_eq!(i.state, StateName::Initialize);
        assert_eq!((i.base_priority, i.effective_priority), (100, 100));
        assert_eq!(i.drops.len(), crate::vrrp::DropReason::ALL.len());
        assert_eq!(i.master_adver_interval_us, 1_000_000);
    }

    #[test]
    fn counter_changes_wait_for_the_publish_interval_and_the_deadline_says_when() {
        let board = board();
        let mut router = router();
        let mut feed = board.add_instance(identity("vi_1"), &router);
        let t0 = feed.last_published;

        drop_one(&mut router);
        feed.offer(t0.saturating_add(Duration::from_millis(1)), &router);
        assert_eq!(truncated(&board), 0, "held back within the interval");
        let due = t0.saturating_add(PUBLISH_INTERVAL);
        assert_eq!(feed.deadline(), Some(due));

        feed.offer(due, &router);
        assert_eq!(truncated(&board), 1);
        assert_eq!(feed.deadline(), None, "nothing pending after a publish");
    }

    #[test]
    fn a_state_change_is_published_at_once() {
        let board = board();
        let mut router = router();
        let mut feed = board.add_instance(identity("vi_1"), &router);
        let now = feed.last_published.saturating_add(Duration::from_micros(1));
        router.handle_startup(now);
        while let Some(action) = router.poll_action() {
            if let crate::vrrp::Action::StateChanged { from, to, reason } = action {
                feed.record_transition(from, to, reason, now);
            }
        }
        feed.offer(now, &router);
        let snapshot = board.snapshot_at(now.saturating_add(Duration::from_millis(1500)));
        let i = &snapshot.instances[0];
        assert_eq!(i.state, StateName::Backup);
        assert_eq!(i.transitions, 1);
        let t = i.last_transition.as_ref().expect("a transition");
        assert_eq!((t.from, t.to), (StateName::Initialize, StateName::Backup));
        assert_eq!(t.reason, crate::control::status::ReasonName::Startup);
        assert_eq!(t.at_monotonic_us, now.as_micros());
        assert!((t.seconds_ago - 1.5).abs() < 1e-9, "{}", t.seconds_ago);
        assert!(humantime::parse_rfc3339(&t.at).is_ok(), "{}", t.at);
    }

    #[test]
    fn checks_tracked_interfaces_and_latencies_are_published() {
        let board = board();
        let router = router();
        let mut feed = board.add_instance(identity("vi_1"), &router);
        let check = |up, runs| CheckStatus {
            name: "api".to_string(),
            up,
            runs,
            failures: 0,
            last_latency_us: Some(800),
        };
        feed.set_check(check(true, 1));
        feed.set_check(check(false, 2));
        feed.set_tracked_interface("eth1", true);
        feed.set_tracked_interface("eth1", false);
        feed.record_detection_latency(Duration::from_micros(700));
        let later = feed.last_published.saturating_add(PUBLISH_INTERVAL);
        feed.offer(later, &router);
        let i = &board.snapshot().instances[0];
        assert_eq!(i.checks, vec![check(false, 2)], "replaced by name");
        assert_eq!(
            i.tracked_interfaces,
            vec![TrackedInterfaceStatus {
                name: "eth1".to_string(),
                up: false
            }]
        );
        assert_eq!(i.detection_latency.count, 1);
        assert_eq!(i.detection_latency.sum_us, 700);
    }

    #[test]
    fn instances_are_sorted_and_leave_with_their_feed() {
        let board = board();
        let router = router();
        let b = board.add_instance(identity("vi_b"), &router);
        let a = board.add_instance(identity("vi_a"), &router);
        let names = |board: &StatusBoard| -> Vec<String> {
            board
                .snapshot()
                .instances
                .into_iter()
                .map(|i| i.name)
                .collect()
        };
        assert_eq!(names(&board), ["vi_a", "vi_b"]);
        drop(b);
        assert_eq!(names(&board), ["vi_a"]);
        drop(a);
        assert!(names(&board).is_empty());
    }

    #[test]
    fn heartbeats_go_stale_when_silent_or_dropped_but_not_when_retired() {
        let board = board();
        // Limits far above any scheduling stall between creating the heartbeats and `now`.
        let fast = board.heartbeat("eth0 loop", Duration::from_secs(10));
        let dead = board.heartbeat("eth1 loop", Duration::from_secs(10));
        let done = board.heartbeat("reload", Duration::from_secs(10));
        let now = crate::clock::now();
        assert!(board.liveness(now).is_alive());

        let later = now.saturating_add(Duration::from_secs(20));
        fast.beat(later);
        assert_eq!(
            fast.next_due(),
            later.saturating_add(Duration::from_millis(2500))
        );
        drop(dead);
        done.retire();
        let liveness = board.liveness(later);
        assert_eq!(liveness.loops, 2, "the retired loop is no longer watched");
        let stale: Vec<&str> = liveness.stale.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(stale, ["eth1 loop"], "a dropped heartbeat is a dead loop");
        assert!(!liveness.is_alive());
    }

    /// The feed and heartbeat move into the engine's thread; the board is shared everywhere.
    #[test]
    fn handles_cross_threads() {
        fn send<T: Send>() {}
        fn shared<T: Send + Sync>() {}
        send::<InstanceFeed>();
        shared::<Heartbeat>();
        shared::<StatusBoard>();
    }

    #[test]
    fn xdp_counters_appear_once_set() {
        let board = board();
        assert_eq!(board.snapshot().daemon.xdp, None);
        let mut values = [0; agent_common::counter::COUNT as usize];
        values[agent_common::counter::ADVERTS_RECORDED as usize] = 5;
        let counters = XdpCounters::from(values);
        board.set_xdp_counters(counters);
        assert_eq!(board.snapshot().daemon.xdp, Some(counters));
    }
}
